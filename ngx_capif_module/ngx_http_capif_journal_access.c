/*
 * Copyright (C) ngx_capif_module authors
 *
 * The configuration-time check that the worker user can keep the
 * journal: search the directories on the way, write the directory (a
 * compaction renames a new file over the journal), write the file.  A
 * refusal here names the directive at "nginx -t", not a 503 on every
 * push later.
 */

#include <grp.h>
#include <pwd.h>

#include "ngx_http_capif_journal.h"
#include "ngx_http_capif_journal_access.h"


/* what the worker user is: uid, groups, name */

typedef struct {
    ngx_uid_t       uid;
    const char     *name;
    int             ngroups;
    gid_t           groups[64];
} ngx_http_capif_journal_user_t;


static ngx_uint_t
ngx_http_capif_journal_may(ngx_http_capif_journal_user_t *u, struct stat *st,
    mode_t want)
{
    int     i;
    mode_t  bits;

    if (u->uid == 0) {
        return 1;
    }

    if (st->st_uid == u->uid) {
        bits = (st->st_mode >> 6) & 7;

    } else {
        bits = st->st_mode & 7;

        for (i = 0; i < u->ngroups; i++) {
            if (u->groups[i] == st->st_gid) {
                bits = (st->st_mode >> 3) & 7;
                break;
            }
        }
    }

    return (bits & want) == want;
}


/* the permission bits in octal, as ls -n and chmod know them */
static u_char *
ngx_http_capif_journal_mode(struct stat *st, u_char *out)
{
    ngx_uint_t  i, m;

    m = st->st_mode & 07777;

    for (i = 0; i < 4; i++) {
        out[3 - i] = (u_char) ('0' + (m & 7));
        m >>= 3;
    }

    out[4] = '\0';

    return out;
}


/*
 * Can the worker user append to the journal and replace it (compaction:
 * create a file in its directory and rename it over the journal)?  Runs
 * at configuration time, for "nginx -t" as for a start or reload.
 */
ngx_int_t
ngx_http_capif_journal_check_access(ngx_str_t *path, ngx_cycle_t *cycle,
    ngx_log_t *log)
{
    u_char                         *p, dir[NGX_MAX_PATH], part[NGX_MAX_PATH];
    u_char                          mode[8];
    struct stat                     st;
    struct passwd                  *pw;
    ngx_core_conf_t                *ccf;
    ngx_http_capif_journal_user_t   u;

    if (path->len == 0) {
        return NGX_OK;
    }

    ngx_memzero(&u, sizeof(ngx_http_capif_journal_user_t));

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx,
                                           ngx_core_module);

    if (geteuid() == 0) {
        if (ccf == NULL || ccf->user == (ngx_uid_t) NGX_CONF_UNSET_UINT
            || ccf->user == 0)
        {
            return NGX_OK;
        }

        u.uid = ccf->user;
        u.name = ccf->username;
        u.ngroups = sizeof(u.groups) / sizeof(gid_t);

        if (getgrouplist(u.name, ccf->group, u.groups, &u.ngroups) == -1) {
            /* more than we keep: the primary group only */
            u.groups[0] = ccf->group;
            u.ngroups = 1;
        }

    } else {
        u.uid = geteuid();
        pw = getpwuid(u.uid);
        u.name = pw ? pw->pw_name : "(this user)";
        u.groups[0] = getegid();
        u.ngroups = getgroups(sizeof(u.groups) / sizeof(gid_t) - 1,
                              u.groups + 1);
        u.ngroups = (u.ngroups < 0) ? 1 : u.ngroups + 1;
    }

    if (ngx_http_capif_journal_dir(path, dir, sizeof(dir))
        != NGX_OK)
    {
        return NGX_OK;
    }

    /* every directory on the way must be searchable */
    for (p = dir + 1; *p; p++) {
        if (*p != '/' || p[1] == '\0') {
            continue;
        }

        ngx_memcpy(part, dir, p - dir);
        part[p - dir] = '\0';

        if (stat((char *) part, &st) == 0 && S_ISDIR(st.st_mode)
            && !ngx_http_capif_journal_may(&u, &st, 1))
        {
            ngx_log_error(NGX_LOG_EMERG, log, 0,
                          "capif_journal \"%V\": the worker user \"%s\" "
                          "cannot search the directory \"%s\" (owner %d, "
                          "mode %s)", path, u.name, part,
                          (int) st.st_uid,
                          ngx_http_capif_journal_mode(&st, mode));
            return NGX_ERROR;
        }
    }

    if (stat((char *) dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "capif_journal \"%V\": the directory \"%s\" the "
                      "journal and its compaction need is missing",
                      path, dir);
        return NGX_ERROR;
    }

    if (!ngx_http_capif_journal_may(&u, &st, 3)) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "capif_journal \"%V\": the worker user \"%s\" cannot "
                      "write the directory \"%s\" (owner %d, mode %s), "
                      "which compaction needs to replace the journal",
                      path, u.name, dir, (int) st.st_uid,
                      ngx_http_capif_journal_mode(&st, mode));
        return NGX_ERROR;
    }

    if (stat((char *) path->data, &st) == -1) {
        /* none yet: the directory lets the workers create it */
        return NGX_OK;
    }

    if (S_ISREG(st.st_mode) && !ngx_http_capif_journal_may(&u, &st, 2)
        && geteuid() != 0)
    {
        /* as root, the master hands the file to the worker user */
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "capif_journal \"%V\": the worker user \"%s\" cannot "
                      "write the journal file (owner %d, mode %s)",
                      path, u.name, (int) st.st_uid,
                      ngx_http_capif_journal_mode(&st, mode));
        return NGX_ERROR;
    }

    return NGX_OK;
}

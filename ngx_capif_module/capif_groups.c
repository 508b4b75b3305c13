/*
 * Copyright (C) ngx_capif_module authors
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <jansson.h>
#include "capif_gpsi.h"
#include "capif_groups.h"


/* any total order will do for lookups: by length, then bytes */
static int
capif_id_cmp(const void *a, const void *b)
{
    const capif_id_t  *x = a, *y = b;

    if (x->len != y->len) {
        return x->len < y->len ? -1 : 1;
    }

    return memcmp(x->data, y->data, x->len);
}


static int
capif_group_cmp(const void *a, const void *b)
{
    return capif_id_cmp(&((const capif_group_t *) a)->id,
                        &((const capif_group_t *) b)->id);
}


/* printable, bounded copy of an identifier for a message */
static const char *
capif_groups_quote(char *buf, size_t size, const char *s, size_t len)
{
    size_t  i, n;

    for (i = 0, n = 0; i < len && n + 5 < size; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\') {
            buf[n++] = s[i];
        } else {
            n += snprintf(buf + n, size - n, "\\x%02x",
                          (unsigned char) s[i]);
        }
    }

    if (i < len && n + 4 <= size) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }

    buf[n] = '\0';

    return buf;
}


static int
capif_groups_err(char *errbuf, size_t errlen, const char *fmt,
    const char *a, size_t alen, const char *b, size_t blen)
{
    char  qa[96], qb[96];

    snprintf(errbuf, errlen, fmt,
             a ? capif_groups_quote(qa, sizeof(qa), a, alen) : "",
             b ? capif_groups_quote(qb, sizeof(qb), b, blen) : "");

    return -1;
}


static unsigned char *
capif_groups_copy(unsigned char **p, const char *s, size_t len)
{
    unsigned char  *r = *p;

    memcpy(r, s, len);
    *p += len;

    return r;
}


int
capif_groups_parse(capif_groups_t *reg, const unsigned char *data,
    size_t len, char *errbuf, size_t errlen)
{
    size_t           i, j, ngroups, nmembers, strbytes;
    json_t          *root, *arr, *m;
    const char      *key, *s;
    unsigned char   *p;
    json_error_t     jerr;
    capif_group_t   *g;
    capif_id_t      *mem;

    memset(reg, 0, sizeof(capif_groups_t));

    if (len > CAPIF_GROUPS_MAX_FILE) {
        snprintf(errbuf, errlen, "larger than %d bytes",
                 CAPIF_GROUPS_MAX_FILE);
        return -1;
    }

    root = json_loadb((const char *) data, len, JSON_REJECT_DUPLICATES,
                      &jerr);
    if (root == NULL) {
        snprintf(errbuf, errlen, "invalid JSON at line %d, column %d: %s",
                 jerr.line, jerr.column, jerr.text);
        return -1;
    }

    if (!json_is_object(root)) {
        json_decref(root);
        snprintf(errbuf, errlen, "not a JSON object of group id -> members");
        return -1;
    }

    /* first pass: check everything and count */

    nmembers = 0;
    strbytes = 0;

    json_object_foreach(root, key, arr) {
        if (!capif_extgroupid_valid((const unsigned char *) key,
                                    strlen(key)))
        {
            capif_groups_err(errbuf, errlen,
                "group id \"%s\" is not extgroupid-<local>@<domain>%s",
                key, strlen(key), NULL, 0);
            json_decref(root);
            return -1;
        }

        if (!json_is_array(arr)) {
            capif_groups_err(errbuf, errlen,
                "members of group \"%s\" are not an array%s",
                key, strlen(key), NULL, 0);
            json_decref(root);
            return -1;
        }

        json_array_foreach(arr, i, m) {
            if (!json_is_string(m)) {
                capif_groups_err(errbuf, errlen,
                    "group \"%s\" has a member that is not "
                    "a string%s", key, strlen(key), NULL, 0);
                json_decref(root);
                return -1;
            }

            s = json_string_value(m);

            if (!capif_gpsi_valid((const unsigned char *) s,
                                  json_string_length(m)))
            {
                capif_groups_err(errbuf, errlen,
                    "group \"%s\": member \"%s\" is not a GPSI",
                    key, strlen(key), s, json_string_length(m));
                json_decref(root);
                return -1;
            }

            strbytes += json_string_length(m);
        }

        nmembers += json_array_size(arr);
        strbytes += strlen(key);

        if (nmembers > CAPIF_GROUPS_MAX_MEMBERS) {
            json_decref(root);
            snprintf(errbuf, errlen, "more than %d members in all",
                     CAPIF_GROUPS_MAX_MEMBERS);
            return -1;
        }
    }

    ngroups = json_object_size(root);

    /* calloc(0) may return NULL: always ask for at least one element */
    reg->groups = calloc(ngroups + 1, sizeof(capif_group_t));
    reg->member_mem = calloc(nmembers + 1, sizeof(capif_id_t));
    reg->strings = malloc(strbytes + 1);

    if (reg->groups == NULL || reg->member_mem == NULL
        || reg->strings == NULL)
    {
        json_decref(root);
        capif_groups_free(reg);
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }

    /* second pass: copy into flat blocks, sort, reject duplicates */

    p = reg->strings;
    mem = reg->member_mem;
    g = reg->groups;

    json_object_foreach(root, key, arr) {
        g->id.len = strlen(key);
        g->id.data = capif_groups_copy(&p, key, g->id.len);
        g->members = mem;
        g->nmembers = json_array_size(arr);

        json_array_foreach(arr, i, m) {
            mem[i].len = json_string_length(m);
            mem[i].data = capif_groups_copy(&p, json_string_value(m),
                                            mem[i].len);
        }

        qsort(g->members, g->nmembers, sizeof(capif_id_t), capif_id_cmp);

        for (j = 1; j < g->nmembers; j++) {
            if (capif_id_cmp(&g->members[j - 1], &g->members[j]) == 0) {
                capif_groups_err(errbuf, errlen,
                    "group \"%s\" lists member \"%s\" twice",
                    (const char *) g->id.data, g->id.len,
                    (const char *) g->members[j].data, g->members[j].len);
                json_decref(root);
                capif_groups_free(reg);
                return -1;
            }
        }

        mem += g->nmembers;
        g++;
    }

    json_decref(root);

    /* JSON_REJECT_DUPLICATES already refused a repeated group id */
    qsort(reg->groups, ngroups, sizeof(capif_group_t), capif_group_cmp);

    reg->ngroups = ngroups;
    reg->nmembers = nmembers;

    return 0;
}


int
capif_groups_load_file(capif_groups_t *reg, const char *path,
    char *errbuf, size_t errlen)
{
    int             rc;
    FILE           *f;
    size_t          n;
    struct stat     st;
    unsigned char  *buf;

    memset(reg, 0, sizeof(capif_groups_t));

    f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(errbuf, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }

    if (fstat(fileno(f), &st) != 0) {
        snprintf(errbuf, errlen, "cannot stat: %s", strerror(errno));
        fclose(f);
        return -1;
    }

    if (!S_ISREG(st.st_mode)) {
        snprintf(errbuf, errlen, "not a regular file");
        fclose(f);
        return -1;
    }

    if (st.st_size > CAPIF_GROUPS_MAX_FILE) {
        snprintf(errbuf, errlen, "larger than %d bytes",
                 CAPIF_GROUPS_MAX_FILE);
        fclose(f);
        return -1;
    }

    buf = malloc((size_t) st.st_size + 1);
    if (buf == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        fclose(f);
        return -1;
    }

    /* read one byte more than expected: the file may grow meanwhile */
    n = fread(buf, 1, (size_t) st.st_size + 1, f);

    if (ferror(f) || n != (size_t) st.st_size) {
        snprintf(errbuf, errlen, "cannot read, or changed while read");
        free(buf);
        fclose(f);
        return -1;
    }

    fclose(f);

    rc = capif_groups_parse(reg, buf, n, errbuf, errlen);

    free(buf);

    return rc;
}


void
capif_groups_free(capif_groups_t *reg)
{
    free(reg->groups);
    free(reg->member_mem);
    free(reg->strings);
    memset(reg, 0, sizeof(capif_groups_t));
}


const capif_group_t *
capif_groups_find(const capif_groups_t *reg, const unsigned char *id,
    size_t len)
{
    capif_group_t  key;

    if (reg == NULL || reg->ngroups == 0) {
        return NULL;
    }

    key.id.data = id;
    key.id.len = len;

    return bsearch(&key, reg->groups, reg->ngroups, sizeof(capif_group_t),
                   capif_group_cmp);
}


int
capif_group_has(const capif_group_t *grp, const unsigned char *gpsi,
    size_t len)
{
    capif_id_t  key;

    if (grp == NULL || grp->nmembers == 0) {
        return 0;
    }

    key.data = gpsi;
    key.len = len;

    return bsearch(&key, grp->members, grp->nmembers, sizeof(capif_id_t),
                   capif_id_cmp) != NULL;
}

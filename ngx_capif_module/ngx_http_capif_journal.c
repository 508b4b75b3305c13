/*
 * Copyright (C) ngx_capif_module authors
 *
 * The revocation journal on disk: replay at start-up (in the master, when
 * the zone is fresh), append + fsync of a push before it is acknowledged
 * (on a thread of the pool), and rewrites of the live entries to a
 * temporary file that is fsync'd and renamed over the journal.  Decoding
 * and framing are capif_journal.c; this file does the I/O.
 *
 * What it keeps true: the journal on disk always ends at the end of a
 * whole push (a failed append is truncated away), the only durable copy
 * is never moved aside before its replacement is fsync'd, and an append
 * goes to the file at the path (a deleted or replaced journal is
 * rewritten from the zone first).
 *
 * It sees records and bytes only: the live set is walked and filled
 * through the callbacks of ngx_http_capif_journal_t.  Whether the worker
 * user may keep the file is ngx_http_capif_journal_access.c.
 */

#include "ngx_http_capif_journal.h"
#include "ngx_http_capif_metrics.h"


/* this process's append descriptor, and the journal generation it is of */
static ngx_fd_t    ngx_http_capif_journal_fd = NGX_INVALID_FILE;
static ngx_uint_t  ngx_http_capif_journal_fd_gen;

/* the payload of a push frame written by a rewrite */
#define NGX_HTTP_CAPIF_JOURNAL_CHUNK  65536


void
ngx_http_capif_jlog(ngx_http_capif_jlog_t *jl, ngx_uint_t level,
    ngx_err_t err, const char *fmt, ...)
{
    u_char                 *p;
    va_list                 args;
    ngx_http_capif_jmsg_t  *m;

    if (jl->n == NGX_HTTP_CAPIF_JLOG_MAX) {
        /* the first messages say why: keep them */
        return;
    }

    m = &jl->msg[jl->n++];
    m->level = level;
    m->err = err;

    va_start(args, fmt);
    p = ngx_vslprintf(m->text, m->text + sizeof(m->text), fmt, args);
    va_end(args);

    m->len = p - m->text;

    if (jl->log) {
        ngx_http_capif_jlog_flush(jl, jl->log);
    }
}


void
ngx_http_capif_jlog_flush(ngx_http_capif_jlog_t *jl, ngx_log_t *log)
{
    ngx_uint_t              i;
    ngx_http_capif_jmsg_t  *m;

    for (i = 0; i < jl->n; i++) {
        m = &jl->msg[i];
        ngx_log_error(m->level, log, m->err, "%*s", m->len, m->text);
    }

    jl->n = 0;
}


static ngx_int_t
ngx_http_capif_journal_write_all(ngx_fd_t fd, u_char *buf, size_t len)
{
    ssize_t  n;

    while (len) {
        n = write(fd, buf, len);

        if (n == -1) {
            if (ngx_errno == NGX_EINTR) {
                continue;
            }

            return NGX_ERROR;
        }

        buf += n;
        len -= n;
    }

    return NGX_OK;
}


static void
ngx_http_capif_journal_close(void)
{
    if (ngx_http_capif_journal_fd != NGX_INVALID_FILE) {
        (void) ngx_close_file(ngx_http_capif_journal_fd);
        ngx_http_capif_journal_fd = NGX_INVALID_FILE;
    }
}


/* the worker user owns the journal, so workers can append after a start */
static void
ngx_http_capif_journal_chown(ngx_http_capif_journal_t *jn, ngx_fd_t fd,
    char *path)
{
    ngx_core_conf_t  *ccf;

    if (geteuid() != 0) {
        return;
    }

    ccf = (ngx_core_conf_t *) ngx_get_conf(jn->cycle->conf_ctx,
                                           ngx_core_module);

    if (ccf == NULL || ccf->user == (ngx_uid_t) NGX_CONF_UNSET_UINT) {
        return;
    }

    if (fd != NGX_INVALID_FILE) {
        (void) fchown(fd, ccf->user, ccf->group);

    } else {
        (void) chown(path, ccf->user, ccf->group);
    }
}


ngx_int_t
ngx_http_capif_journal_dir(ngx_str_t *path, u_char *dir, size_t size)
{
    size_t  len;

    for (len = path->len; len > 0 && path->data[len - 1] != '/'; len--) {
        /* void */
    }

    if (len == 0 || len >= size) {
        return NGX_ERROR;
    }

    ngx_memcpy(dir, path->data, len);
    dir[len] = '\0';

    return NGX_OK;
}


static ngx_int_t
ngx_http_capif_journal_sync_dir(ngx_str_t *path, ngx_http_capif_jlog_t *jl)
{
    u_char    dir[NGX_MAX_PATH];
    ngx_fd_t  fd;

    if (ngx_http_capif_journal_dir(path, dir, sizeof(dir)) != NGX_OK) {
        return NGX_OK;
    }

    fd = open((char *) dir, O_RDONLY|O_DIRECTORY);
    if (fd == -1) {
        ngx_http_capif_jlog(jl, NGX_LOG_ERR, ngx_errno,
                            "capif journal: open(\"%s\") failed", dir);
        return NGX_ERROR;
    }

    if (fsync(fd) == -1) {
        ngx_http_capif_jlog(jl, NGX_LOG_ERR, ngx_errno,
                            "capif journal: fsync(\"%s\") failed", dir);
        (void) close(fd);
        return NGX_ERROR;
    }

    (void) close(fd);

    return NGX_OK;
}


size_t
ngx_http_capif_journal_push_frame(u_char *out, size_t size,
    capif_rev_record_t *recs, ngx_uint_t n)
{
    u_char      *payload, enc[CAPIF_REV_RECORD_MAX];
    size_t       len, plen, add;
    ngx_uint_t   i;

    if (size < CAPIF_JOURNAL_FRAME_OVERHEAD) {
        return 0;
    }

    /* the payload is built in place, then framed over itself */
    payload = out + CAPIF_JOURNAL_FRAME_OVERHEAD;
    size -= CAPIF_JOURNAL_FRAME_OVERHEAD;
    plen = 0;

    for (i = 0; i < n; i++) {
        len = capif_rev_encode(&recs[i], enc, sizeof(enc));
        if (len == 0) {
            return 0;
        }

        add = capif_journal_push_add(payload + plen, size - plen, enc, len);
        if (add == 0) {
            return 0;
        }

        plen += add;
    }

    return capif_journal_frame(out, plen + CAPIF_JOURNAL_FRAME_OVERHEAD,
                               payload, plen);
}


/*
 * The live records as push frames after a header, in malloc()ed memory.
 * The caller holds the owner's writer lock, under which alone records
 * are added, changed and swept: the walk needs no other lock, so the
 * request path never waits for it.
 */
static u_char *
ngx_http_capif_journal_snapshot(ngx_http_capif_journal_t *jn,
    int64_t now, size_t *out_len)
{
    u_char              *buf, *pos, *frame, enc[CAPIF_REV_RECORD_MAX];
    void                *cursor;
    size_t               size, len, plen, add;
    ngx_uint_t           n;
    capif_rev_record_t   rec;

    /* records, their length prefixes, and a frame per chunk at most */
    size = jn->bound(jn->data, &n);
    size += CAPIF_JOURNAL_HEADER_LEN + CAPIF_JOURNAL_FRAME_OVERHEAD
            + n * (CAPIF_JOURNAL_FRAME_OVERHEAD
                   + CAPIF_JOURNAL_RECORD_OVERHEAD);

    buf = malloc(size);
    if (buf == NULL) {
        return NULL;
    }

    capif_journal_header(buf);
    pos = buf + CAPIF_JOURNAL_HEADER_LEN;
    frame = NULL;
    plen = 0;

    cursor = NULL;

    while (jn->next(jn->data, &cursor, now, &rec) == NGX_OK) {

        len = capif_rev_encode(&rec, enc, sizeof(enc));
        if (len == 0) {
            continue;
        }

        if (frame && plen + len + CAPIF_JOURNAL_RECORD_OVERHEAD
                     > NGX_HTTP_CAPIF_JOURNAL_CHUNK)
        {
            pos += capif_journal_frame(frame, buf + size - frame,
                                       frame + CAPIF_JOURNAL_FRAME_OVERHEAD,
                                       plen);
            frame = NULL;
        }

        if (frame == NULL) {
            frame = pos;
            plen = 0;
        }

        add = capif_journal_push_add(frame + CAPIF_JOURNAL_FRAME_OVERHEAD
                                     + plen,
                                     buf + size - frame
                                     - CAPIF_JOURNAL_FRAME_OVERHEAD - plen,
                                     enc, len);
        plen += add;
    }

    if (frame) {
        pos += capif_journal_frame(frame, buf + size - frame,
                                   frame + CAPIF_JOURNAL_FRAME_OVERHEAD,
                                   plen);
    }

    *out_len = pos - buf;

    return buf;
}


/*
 * Rewrites the journal from the live records: a temporary file, fsync'd, then
 * renamed over the journal.  Until the rename the journal on disk is
 * untouched, so a failure anywhere (a full disk) loses nothing.  With
 * keep_damaged the old file stays reachable as <journal>.corrupt (a
 * second link: no data is copied, nothing is moved aside).
 */
ngx_int_t
ngx_http_capif_journal_rewrite(ngx_http_capif_journal_t *jn,
    ngx_http_capif_jlog_t *jl, ngx_uint_t keep_damaged)
{
    u_char     *buf, *tmp, *saved;
    size_t      len;
    ngx_fd_t    fd;
    ngx_err_t   err;

    if (jn->path.len == 0) {
        /* no capif_journal: nothing to keep */
        jn->sh->dirty = 0;
        return NGX_OK;
    }

    tmp = malloc(2 * jn->path.len + sizeof(".tmp") + sizeof(".corrupt"));
    if (tmp == NULL) {
        goto nomem;
    }

    saved = tmp + jn->path.len + sizeof(".tmp");
    ngx_sprintf(tmp, "%V.tmp%Z", &jn->path);
    ngx_sprintf(saved, "%V.corrupt%Z", &jn->path);

    buf = ngx_http_capif_journal_snapshot(jn, ngx_time(), &len);
    if (buf == NULL) {
        free(tmp);
        goto nomem;
    }

    fd = open((char *) tmp, O_WRONLY|O_CREAT|O_TRUNC, 0600);
    if (fd == -1) {
        ngx_http_capif_jlog(jl, NGX_LOG_ERR, ngx_errno,
                            "capif journal: open(\"%s\") failed", tmp);
        goto failed;
    }

    ngx_http_capif_journal_chown(jn, fd, NULL);

    if (ngx_http_capif_journal_write_all(fd, buf, len) != NGX_OK
        || ngx_http_capif_metrics_fsync(fd) == -1)
    {
        err = ngx_errno;
        (void) close(fd);
        (void) unlink((char *) tmp);
        ngx_http_capif_jlog(jl, NGX_LOG_ERR, err,
                            "capif journal: write or fsync(\"%s\") failed",
                            tmp);
        goto failed;
    }

    if (close(fd) == -1) {
        err = ngx_errno;
        (void) unlink((char *) tmp);
        ngx_http_capif_jlog(jl, NGX_LOG_ERR, err,
                            "capif journal: close(\"%s\") failed", tmp);
        goto failed;
    }

    if (keep_damaged) {
        /* best effort: the inspection copy is no reason to fail */
        (void) unlink((char *) saved);

        if (link((char *) jn->path.data, (char *) saved) == -1
            && ngx_errno != NGX_ENOENT)
        {
            ngx_http_capif_jlog(jl, NGX_LOG_ERR, ngx_errno,
                                "capif journal: link(\"%V\", \"%s\") failed",
                                &jn->path, saved);
        }
    }

    if (rename((char *) tmp, (char *) jn->path.data) == -1) {
        err = ngx_errno;
        (void) unlink((char *) tmp);
        ngx_http_capif_jlog(jl, NGX_LOG_ERR, err,
                            "capif journal: rename(\"%s\", \"%V\") failed",
                            tmp, &jn->path);
        goto failed;
    }

    (void) ngx_http_capif_journal_sync_dir(&jn->path, jl);

    jn->sh->size = len;
    jn->sh->gen++;
    jn->sh->dirty = 0;
    ngx_http_capif_journal_close();

    ngx_http_capif_jlog(jl, NGX_LOG_INFO, 0,
                        "capif journal \"%V\" rewritten: %uz bytes",
                        &jn->path, len);

    free(buf);
    free(tmp);

    return NGX_OK;

failed:

    jn->sh->dirty = 1;
    free(buf);
    free(tmp);

    return NGX_ERROR;

nomem:

    ngx_http_capif_jlog(jl, NGX_LOG_ERR, 0,
                        "capif journal: out of memory for a rewrite");
    jn->sh->dirty = 1;

    return NGX_ERROR;
}


static ngx_int_t
ngx_http_capif_journal_open(ngx_http_capif_journal_t *jn,
    ngx_http_capif_jlog_t *jl)
{
    if (ngx_http_capif_journal_fd != NGX_INVALID_FILE
        && ngx_http_capif_journal_fd_gen != jn->sh->gen)
    {
        /* rewritten by another process: ours is the old inode */
        ngx_http_capif_journal_close();
    }

    if (ngx_http_capif_journal_fd != NGX_INVALID_FILE) {
        return NGX_OK;
    }

    /* no O_CREAT: a missing journal is rewritten from the zone instead */
    ngx_http_capif_journal_fd = open((char *) jn->path.data,
                                     O_WRONLY|O_APPEND);

    if (ngx_http_capif_journal_fd == -1) {
        ngx_http_capif_journal_fd = NGX_INVALID_FILE;
        return NGX_DECLINED;
    }

    ngx_http_capif_journal_fd_gen = jn->sh->gen;

    return NGX_OK;
}


/*
 * Is the open descriptor the journal at the path, as long as we wrote
 * it?  NGX_DECLINED says why not in jl.
 */
static ngx_int_t
ngx_http_capif_journal_same(ngx_http_capif_journal_t *jn,
    ngx_http_capif_jlog_t *jl, off_t *size)
{
    struct stat  fi, pi;

    if (fstat(ngx_http_capif_journal_fd, &fi) == -1) {
        ngx_http_capif_jlog(jl, NGX_LOG_ALERT, ngx_errno,
                            "capif journal: fstat(\"%V\") failed",
                            &jn->path);
        return NGX_DECLINED;
    }

    if (stat((char *) jn->path.data, &pi) == -1
        || fi.st_dev != pi.st_dev || fi.st_ino != pi.st_ino
        || fi.st_nlink == 0)
    {
        ngx_http_capif_jlog(jl, NGX_LOG_ALERT, 0,
                            "capif journal \"%V\" was deleted or replaced "
                            "while in use: rewriting it from the zone "
                            "before the next acknowledgement",
                            &jn->path);
        return NGX_DECLINED;
    }

    if (!S_ISREG(fi.st_mode)) {
        ngx_http_capif_jlog(jl, NGX_LOG_ALERT, 0,
                            "capif journal \"%V\" is not a regular file",
                            &jn->path);
        return NGX_DECLINED;
    }

    if (fi.st_size != jn->sh->size) {
        ngx_http_capif_jlog(jl, NGX_LOG_ALERT, 0,
                            "capif journal \"%V\" is %O bytes where %O "
                            "were written: rewriting it from the zone",
                            &jn->path, (off_t) fi.st_size,
                            jn->sh->size);
        return NGX_DECLINED;
    }

    *size = fi.st_size;

    return NGX_OK;
}


/*
 * Appends one push frame and fsyncs it.  On any failure the file is cut
 * back to where it ended, so that nothing of a push answered 503 is ever
 * replayed.
 */
ngx_int_t
ngx_http_capif_journal_append(ngx_http_capif_journal_t *jn, u_char *buf,
    size_t len, ngx_http_capif_jlog_t *jl)
{
    off_t        size;
    ngx_err_t    err;
    ngx_str_t   *path;
    ngx_uint_t   tries;
    const char  *op;

    path = &jn->path;

    if (path->len == 0) {
        return NGX_ERROR;
    }

    for (tries = 0; /* void */; tries++) {

        if (jn->sh->dirty || tries) {
            if (tries > 1
                || ngx_http_capif_journal_rewrite(jn, jl, 0) != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        if (ngx_http_capif_journal_open(jn, jl) != NGX_OK) {
            err = ngx_errno;

            if (err == NGX_ENOENT && tries == 0) {
                ngx_http_capif_jlog(jl, NGX_LOG_ALERT, 0,
                                    "capif journal \"%V\" was deleted "
                                    "while in use: rewriting it from the "
                                    "zone before the next acknowledgement",
                                    path);
                continue;
            }

            ngx_http_capif_jlog(jl, NGX_LOG_ERR, err,
                                "capif journal: open(\"%V\") failed", path);
            jn->sh->dirty = 1;
            return NGX_ERROR;
        }

        if (ngx_http_capif_journal_same(jn, jl, &size) == NGX_OK) {
            break;
        }

        ngx_http_capif_journal_close();
    }

    if (ngx_http_capif_journal_write_all(ngx_http_capif_journal_fd, buf, len)
        != NGX_OK)
    {
        op = "write";
        goto undo;
    }

    if (ngx_http_capif_metrics_fsync(ngx_http_capif_journal_fd) == -1) {
        op = "fsync";
        goto undo;
    }

    jn->sh->size = size + len;

    return NGX_OK;

undo:

    err = ngx_errno;

    if (ftruncate(ngx_http_capif_journal_fd, size) == 0) {
        /* the size is what a restart reads: its fsync is best effort */
        (void) fsync(ngx_http_capif_journal_fd);

        ngx_http_capif_jlog(jl, NGX_LOG_ERR, err,
                            "capif journal: %s(\"%V\") failed: the push of "
                            "%uz bytes was cut off again, nothing of it is "
                            "kept", op, path, len);

        if (op[0] == 'f') {
            /* after a failed fsync the page cache cannot be trusted */
            jn->sh->dirty = 1;
            ngx_http_capif_journal_close();
        }

        return NGX_ERROR;
    }

    ngx_http_capif_jlog(jl, NGX_LOG_ALERT, ngx_errno,
                        "capif journal: %s(\"%V\") failed and the push "
                        "cannot be cut off again: rewriting the journal "
                        "from the zone", op, path);

    ngx_http_capif_journal_close();

    if (ngx_http_capif_journal_rewrite(jn, jl, 0) != NGX_OK) {
        ngx_http_capif_jlog(jl, NGX_LOG_ALERT, 0,
                            "capif journal \"%V\" keeps a refused push "
                            "until it can be rewritten", path);
    }

    return NGX_ERROR;
}


static ngx_int_t
ngx_http_capif_journal_read(ngx_str_t *path, u_char **buf, size_t *len,
    ngx_log_t *log)
{
    u_char           *p;
    size_t            size, got;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_file_info_t   fi;

    *buf = NULL;
    *len = 0;

    fd = open((char *) path->data, O_RDONLY);
    if (fd == -1) {
        if (ngx_errno == NGX_ENOENT) {
            return NGX_OK;
        }

        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "capif journal: open(\"%V\") failed", path);
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR || !ngx_is_file(&fi)) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "capif journal: \"%V\" is not a readable regular file",
                      path);
        (void) close(fd);
        return NGX_ERROR;
    }

    size = (size_t) ngx_file_size(&fi);

    if (size == 0) {
        (void) close(fd);
        return NGX_OK;
    }

    p = ngx_alloc(size, log);
    if (p == NULL) {
        (void) close(fd);
        return NGX_ERROR;
    }

    for (got = 0; got < size; got += n) {
        n = read(fd, p + got, size - got);

        if (n == -1 && ngx_errno == NGX_EINTR) {
            n = 0;
            continue;
        }

        if (n <= 0) {
            break;
        }
    }

    if (got < size) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "capif journal: read(\"%V\") failed", path);
        ngx_free(p);
        (void) close(fd);
        return NGX_ERROR;
    }

    (void) close(fd);

    *buf = p;
    *len = size;

    return NGX_OK;
}


static int
ngx_http_capif_journal_apply(void *data, const capif_rev_record_t *rec)
{
    ngx_int_t                  rc;
    ngx_http_capif_journal_t  *jn = data;

    rc = jn->add(jn->data, rec);

    if (rc == NGX_DECLINED) {
        return 1;
    }

    return rc == NGX_OK ? 0 : -1;
}


ngx_int_t
ngx_http_capif_journal_replay(ngx_http_capif_journal_t *jn,
    ngx_log_t *log)
{
    int                      rc;
    u_char                  *buf;
    size_t                   len;
    ngx_uint_t               old;
    capif_journal_replay_t   res;
    ngx_http_capif_jlog_t    jl;

    if (jn->path.len == 0) {
        return NGX_OK;
    }

    if (ngx_http_capif_journal_read(&jn->path, &buf, &len, log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = capif_journal_replay(buf, len, ngx_time(),
                              ngx_http_capif_journal_apply, jn, &res);

    ngx_free(buf);

    if (rc != 0) {
        if (res.status == CAPIF_JOURNAL_OK) {
            /* no room: the owner of the records says how many it holds */
            return NGX_DECLINED;
        }

        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "capif journal \"%V\" is not a capif journal of "
                      "version %d to %d: refusing to touch it",
                      &jn->path, CAPIF_JOURNAL_VERSION_MIN,
                      CAPIF_JOURNAL_VERSION);

        return NGX_ERROR;
    }

    if (res.status == CAPIF_JOURNAL_TORN_HEADER) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "capif journal \"%V\" has a torn header (%uz bytes): "
                      "starting empty", &jn->path, len);

    } else if (res.damaged) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "capif journal \"%V\": %s at offset %uz; the valid "
                      "prefix of %uz bytes (%uz whole pushes) is kept, "
                      "%uz bytes are dropped",
                      &jn->path, res.error, res.valid_end,
                      res.valid_end, res.pushes, len - res.valid_end);
    }

    if (res.skipped) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "capif journal \"%V\": %uz records not understood, "
                      "skipped", &jn->path, res.skipped);
    }

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "capif journal \"%V\" replayed: %uz live, %uz expired",
                  &jn->path, res.live, res.expired);

    jn->sh->size = len;

    if (ngx_test_config) {
        /* "nginx -t" only reads: the running nginx owns the file */
        return NGX_OK;
    }

    /* start from a clean, compact journal of this version */
    ngx_memzero(&jl, sizeof(ngx_http_capif_jlog_t));
    jl.log = log;

    if (ngx_http_capif_journal_rewrite(jn, &jl, res.damaged) == NGX_OK) {
        return NGX_OK;
    }

    old = (len > 0 && res.version != CAPIF_JOURNAL_VERSION);

    if (res.damaged || old || len == 0) {
        /*
         * Appends after a damaged tail, to an older version, or to no
         * file would not be replayed: the file stays as it is (its valid
         * prefix is replayed at the next start) and pushes are refused
         * until a rewrite succeeds.
         */
        jn->sh->dirty = 1;

        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "capif journal \"%V\" cannot be rewritten: it is "
                      "left as it is, and revocations are answered 503 "
                      "until it can be", &jn->path);
        return NGX_OK;
    }

    /* a sound journal: appends go on at its end */
    jn->sh->dirty = 0;
    ngx_http_capif_journal_chown(jn, NGX_INVALID_FILE,
                                 (char *) jn->path.data);

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "capif journal \"%V\" cannot be compacted at start-up: "
                  "appending to it as it is", &jn->path);

    return NGX_OK;
}

/*
 * Copyright (C) ngx_capif_module authors
 *
 * The revocation journal on disk: replay at start-up (in the master, when
 * the zone is fresh), append + fsync before a revocation is acknowledged,
 * and compaction by rewriting the live entries to a temporary file that
 * is fsync'd and renamed over the journal.  Framing is capif_journal.c.
 */

#include "ngx_http_capif_revocation.h"
#include "ngx_http_capif_metrics.h"


/* this process's append descriptor, and the journal generation it is of */
static ngx_fd_t    ngx_http_capif_journal_fd = NGX_INVALID_FILE;
static ngx_uint_t  ngx_http_capif_journal_fd_gen;


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
ngx_http_capif_journal_chown(ngx_http_capif_rev_zone_t *zone, ngx_fd_t fd)
{
    ngx_core_conf_t  *ccf;

    if (geteuid() != 0) {
        return;
    }

    ccf = (ngx_core_conf_t *) ngx_get_conf(zone->cycle->conf_ctx,
                                           ngx_core_module);

    if (ccf == NULL || ccf->user == (ngx_uid_t) NGX_CONF_UNSET_UINT) {
        return;
    }

    (void) fchown(fd, ccf->user, ccf->group);
}


static ngx_int_t
ngx_http_capif_journal_sync_dir(ngx_str_t *path, ngx_log_t *log)
{
    u_char    *p, dir[NGX_MAX_PATH];
    size_t     len;
    ngx_fd_t   fd;

    p = ngx_strlchr(path->data, path->data + path->len, '/');
    if (p == NULL) {
        return NGX_OK;
    }

    for (len = path->len; len > 0 && path->data[len - 1] != '/'; len--) {
        /* void */
    }

    if (len == 0 || len >= NGX_MAX_PATH) {
        return NGX_OK;
    }

    ngx_memcpy(dir, path->data, len);
    dir[len] = '\0';

    fd = open((char *) dir, O_RDONLY|O_DIRECTORY);
    if (fd == -1) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "capif journal: open(\"%s\") failed", dir);
        return NGX_ERROR;
    }

    if (fsync(fd) == -1) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "capif journal: fsync(\"%s\") failed", dir);
        (void) close(fd);
        return NGX_ERROR;
    }

    (void) close(fd);

    return NGX_OK;
}


ngx_int_t
ngx_http_capif_journal_append(ngx_http_capif_rev_zone_t *zone, u_char *buf,
    size_t len, ngx_log_t *log)
{
    u_char           hdr[CAPIF_JOURNAL_HEADER_LEN];
    ngx_str_t       *path;
    ngx_file_info_t  fi;

    path = &zone->journal;

    if (path->len == 0) {
        return NGX_ERROR;
    }

    if (ngx_http_capif_journal_fd != NGX_INVALID_FILE
        && ngx_http_capif_journal_fd_gen != zone->sh->journal_gen)
    {
        /* compacted by another process: ours is the old inode */
        ngx_http_capif_journal_close();
    }

    if (ngx_http_capif_journal_fd == NGX_INVALID_FILE) {
        ngx_http_capif_journal_fd = open((char *) path->data,
                                         O_WRONLY|O_APPEND|O_CREAT, 0600);
        if (ngx_http_capif_journal_fd == -1) {
            ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                          "capif journal: open(\"%V\") failed", path);
            ngx_http_capif_journal_fd = NGX_INVALID_FILE;
            zone->sh->journal_dirty = 1;
            return NGX_ERROR;
        }

        ngx_http_capif_journal_fd_gen = zone->sh->journal_gen;
    }

    if (ngx_fd_info(ngx_http_capif_journal_fd, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "capif journal: fstat(\"%V\") failed", path);
        goto failed;
    }

    if (!ngx_is_file(&fi)) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "capif journal: \"%V\" is not a regular file", path);
        goto failed;
    }

    if (ngx_file_size(&fi) == 0) {
        capif_journal_header(hdr);

        if (ngx_http_capif_journal_write_all(ngx_http_capif_journal_fd, hdr,
                                             sizeof(hdr))
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                          "capif journal: write(\"%V\") failed", path);
            goto failed;
        }
    }

    if (ngx_http_capif_journal_write_all(ngx_http_capif_journal_fd, buf, len)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "capif journal: write(\"%V\") failed", path);
        goto failed;
    }

    if (ngx_http_capif_metrics_fsync(ngx_http_capif_journal_fd) == -1) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "capif journal: fsync(\"%V\") failed", path);
        goto failed;
    }

    return NGX_OK;

failed:

    /*
     * A partial frame may be on disk: the next writer rewrites the whole
     * journal from the zone before appending again.
     */
    ngx_http_capif_journal_close();
    zone->sh->journal_dirty = 1;

    return NGX_ERROR;
}


ngx_int_t
ngx_http_capif_journal_rewrite(ngx_http_capif_rev_zone_t *zone,
    ngx_log_t *log)
{
    u_char                     *buf, *pos, *tmp, enc[CAPIF_REV_RECORD_MAX];
    size_t                      size, len;
    int64_t                     now;
    ngx_fd_t                    fd;
    ngx_err_t                   err;
    ngx_queue_t                *q;
    capif_rev_record_t          rec;
    ngx_http_capif_rev_node_t  *node;

    if (zone->journal.len == 0) {
        /* no capif_journal: nothing to keep */
        zone->sh->journal_dirty = 0;
        return NGX_OK;
    }

    now = ngx_time();

    tmp = ngx_alloc(zone->journal.len + sizeof(".tmp"), log);
    if (tmp == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(tmp, "%V.tmp%Z", &zone->journal);

    size = CAPIF_JOURNAL_HEADER_LEN;

    for (q = ngx_queue_head(&zone->sh->queue);
         q != ngx_queue_sentinel(&zone->sh->queue);
         q = ngx_queue_next(q))
    {
        node = ngx_queue_data(q, ngx_http_capif_rev_node_t, queue);
        size += capif_journal_frame_size(
                    ngx_http_capif_rev_node_enc_len(node));
    }

    buf = ngx_alloc(size, log);
    if (buf == NULL) {
        ngx_free(tmp);
        return NGX_ERROR;
    }

    capif_journal_header(buf);
    pos = buf + CAPIF_JOURNAL_HEADER_LEN;

    for (q = ngx_queue_head(&zone->sh->queue);
         q != ngx_queue_sentinel(&zone->sh->queue);
         q = ngx_queue_next(q))
    {
        node = ngx_queue_data(q, ngx_http_capif_rev_node_t, queue);

        if (node->expires <= now
            || ngx_http_capif_rev_node_record(node, &rec) == 0)
        {
            continue;
        }

        len = capif_rev_encode(&rec, enc, sizeof(enc));
        if (len == 0) {
            continue;
        }

        pos += capif_journal_frame(pos, buf + size - pos, enc, len);
    }

    fd = open((char *) tmp, O_WRONLY|O_CREAT|O_TRUNC, 0600);
    if (fd == -1) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "capif journal: open(\"%s\") failed", tmp);
        goto failed;
    }

    ngx_http_capif_journal_chown(zone, fd);

    if (ngx_http_capif_journal_write_all(fd, buf, pos - buf) != NGX_OK
        || ngx_http_capif_metrics_fsync(fd) == -1)
    {
        err = ngx_errno;
        (void) close(fd);
        (void) unlink((char *) tmp);
        ngx_log_error(NGX_LOG_ERR, log, err,
                      "capif journal: write or fsync(\"%s\") failed", tmp);
        goto failed;
    }

    if (close(fd) == -1) {
        (void) unlink((char *) tmp);
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "capif journal: close(\"%s\") failed", tmp);
        goto failed;
    }

    if (rename((char *) tmp, (char *) zone->journal.data) == -1) {
        err = ngx_errno;
        (void) unlink((char *) tmp);
        ngx_log_error(NGX_LOG_ERR, log, err,
                      "capif journal: rename(\"%s\", \"%V\") failed",
                      tmp, &zone->journal);
        goto failed;
    }

    (void) ngx_http_capif_journal_sync_dir(&zone->journal, log);

    zone->sh->journal_size = pos - buf;
    zone->sh->journal_gen++;
    zone->sh->journal_dirty = 0;
    ngx_http_capif_journal_close();

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "capif journal \"%V\" compacted to %uz bytes",
                  &zone->journal, (size_t) (pos - buf));

    ngx_free(buf);
    ngx_free(tmp);

    return NGX_OK;

failed:

    zone->sh->journal_dirty = 1;
    ngx_free(buf);
    ngx_free(tmp);

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


ngx_int_t
ngx_http_capif_journal_replay(ngx_http_capif_rev_zone_t *zone,
    ngx_log_t *log)
{
    int                      rc;
    u_char                  *buf, *saved;
    size_t                   len, plen;
    int64_t                  now;
    ngx_int_t                irc;
    ngx_uint_t               live, expired, skipped, corrupt;
    const u_char            *payload;
    capif_rev_record_t       rec;
    capif_journal_reader_t   rd;

    if (zone->journal.len == 0) {
        return NGX_OK;
    }

    if (ngx_http_capif_journal_read(&zone->journal, &buf, &len, log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    now = ngx_time();
    live = 0;
    expired = 0;
    skipped = 0;
    corrupt = 0;

    switch (capif_journal_open(&rd, buf, len)) {

    case CAPIF_JOURNAL_OK:
        break;

    case CAPIF_JOURNAL_EMPTY:
        goto done;

    case CAPIF_JOURNAL_TORN_HEADER:
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "capif journal \"%V\" has a torn header (%uz bytes): "
                      "starting empty", &zone->journal, len);
        corrupt = 1;
        goto done;

    default:
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "capif journal \"%V\" is not a capif journal of "
                      "version %d: refusing to touch it",
                      &zone->journal, CAPIF_JOURNAL_VERSION);
        ngx_free(buf);
        return NGX_ERROR;
    }

    ngx_shmtx_lock(&zone->shpool->mutex);

    while ((rc = capif_journal_next(&rd, &payload, &plen)) == 1) {

        if (capif_rev_decode(&rec, payload, plen) != 0) {
            skipped++;
            continue;
        }

        if (rec.expires <= now) {
            expired++;
            continue;
        }

        irc = ngx_http_capif_rev_insert_locked(zone, &rec);

        if (irc == NGX_DECLINED) {
            ngx_shmtx_unlock(&zone->shpool->mutex);
            ngx_log_error(NGX_LOG_EMERG, log, 0,
                          "capif journal \"%V\": capif_zone is too small "
                          "for its live entries (%ui stored so far)",
                          &zone->journal, zone->sh->count);
            ngx_free(buf);
            return NGX_ERROR;
        }

        if (irc != NGX_OK) {
            skipped++;
            continue;
        }

        live++;
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    if (rc == -1) {
        corrupt = 1;
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "capif journal \"%V\": %s at offset %uz; the valid "
                      "prefix of %uz bytes is kept, %uz bytes are dropped",
                      &zone->journal, rd.error, rd.valid_end,
                      rd.valid_end, len - rd.valid_end);
    }

    if (skipped) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "capif journal \"%V\": %ui records not understood, "
                      "skipped", &zone->journal, skipped);
    }

done:

    ngx_free(buf);

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "capif journal \"%V\" replayed: %ui live, %ui expired",
                  &zone->journal, live, expired);

    zone->sh->journal_size = len;

    if (ngx_test_config) {
        /* "nginx -t" only reads: the running nginx owns the file */
        return NGX_OK;
    }

    if (corrupt) {
        /* keep the damaged file for inspection before it is rewritten */
        saved = ngx_alloc(zone->journal.len + sizeof(".corrupt"), log);

        if (saved) {
            ngx_sprintf(saved, "%V.corrupt%Z", &zone->journal);

            if (rename((char *) zone->journal.data, (char *) saved) == -1) {
                ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                              "capif journal: rename(\"%V\", \"%s\") failed",
                              &zone->journal, saved);
            }

            ngx_free(saved);
        }
    }

    /* start from a clean, compact journal; workers retry if this fails */
    if (ngx_http_capif_journal_rewrite(zone, log) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "capif journal \"%V\" cannot be rewritten: "
                      "revocations are answered 503 until it can",
                      &zone->journal);
    }

    return NGX_OK;
}

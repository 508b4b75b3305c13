/*
 * Copyright (C) ngx_capif_module authors
 *
 * The cache= file of capif_key_request: the last good answer, written
 * (on a thread pool when there is one) with its time, and read at start
 * when the shared zone has no keys yet.
 */

#include "ngx_http_capif_keys_source.h"


/*
 * Writes <path>.tmp, fsyncs it and renames it over path.  Plain system
 * calls only: it runs on a thread pool.  Returns 0 or the errno.
 */
static ngx_err_t
ngx_http_capif_keys_write_cache(u_char *path, u_char *tmp, u_char *data,
    size_t len, time_t ok)
{
    u_char     *p, head[64];
    ngx_fd_t    fd;
    ngx_err_t   err;

    fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE, 0600);

    if (fd == NGX_INVALID_FILE) {
        return ngx_errno;
    }

    p = ngx_sprintf(head, "capif-keys %T %uz\n", ok, len);

    if (write(fd, head, p - head) != p - head
        || write(fd, data, len) != (ssize_t) len
        || fsync(fd) == -1)
    {
        err = ngx_errno ? ngx_errno : NGX_ENOSPC;
        (void) ngx_close_file(fd);
        (void) ngx_delete_file(tmp);
        return err;
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        err = ngx_errno;
        (void) ngx_delete_file(tmp);
        return err;
    }

    if (ngx_rename_file(tmp, path) == NGX_FILE_ERROR) {
        err = ngx_errno;
        (void) ngx_delete_file(tmp);
        return err;
    }

    return 0;
}


typedef struct {
    u_char               *path;        /* NUL-terminated, heap */
    u_char               *tmp;
    u_char               *data;
    size_t                len;
    time_t                ok;
    ngx_err_t             err;
    ngx_str_t             full;        /* for the log line */
    ngx_log_t            *log;
} ngx_http_capif_keys_persist_t;


static void
ngx_http_capif_keys_persist_done(ngx_http_capif_keys_persist_t *pe)
{
    if (pe->err) {
        ngx_log_error(NGX_LOG_ERR, pe->log, pe->err,
                      "capif_key_request \"%V\": cannot write the key cache "
                      "\"%s\"; a restart while the CCF is down will have no "
                      "keys", &pe->full, pe->path);
    }
}


#if (NGX_THREADS)

static void
ngx_http_capif_keys_persist_thread(void *data, ngx_log_t *log)
{
    ngx_http_capif_keys_persist_t *pe = data;

    pe->err = ngx_http_capif_keys_write_cache(pe->path, pe->tmp, pe->data,
                                              pe->len, pe->ok);
}


static void
ngx_http_capif_keys_persist_event(ngx_event_t *ev)
{
    ngx_thread_task_t  *task = ev->data;

    ngx_http_capif_keys_persist_done(task->ctx);
    ngx_free(task);
}


#endif


/* the good answer, to cache= (on the thread pool when there is one) */
void
ngx_http_capif_keys_persist(ngx_http_capif_keysrc_t *src, u_char *data,
    size_t len, time_t ok, ngx_log_t *log)
{
    u_char                         *p;
    size_t                          size;
    ngx_http_capif_keys_persist_t  *pe;
#if (NGX_THREADS)
    ngx_thread_task_t              *task;
#endif

    if (src->cache.len == 0) {
        return;
    }

    size = sizeof(ngx_http_capif_keys_persist_t)
           + 2 * src->cache.len + sizeof(".tmp") + 1 + len + src->full.len;

#if (NGX_THREADS)
    size += sizeof(ngx_thread_task_t);

    task = ngx_calloc(size, log);
    if (task == NULL) {
        return;
    }

    pe = (ngx_http_capif_keys_persist_t *) (task + 1);
#else
    pe = ngx_calloc(size, log);
    if (pe == NULL) {
        return;
    }
#endif

    p = (u_char *) (pe + 1);

    pe->path = p;
    p = ngx_cpymem(p, src->cache.data, src->cache.len);
    *p++ = '\0';

    pe->tmp = p;
    p = ngx_sprintf(p, "%V.tmp%Z", &src->cache);

    pe->data = p;
    p = ngx_cpymem(p, data, len);
    pe->len = len;

    pe->full.data = p;
    pe->full.len = src->full.len;
    ngx_memcpy(p, src->full.data, src->full.len);

    pe->ok = ok;
    pe->log = ngx_cycle->log;

#if (NGX_THREADS)
    if (src->thread_pool != NULL) {
        task->ctx = pe;
        task->handler = ngx_http_capif_keys_persist_thread;
        task->event.handler = ngx_http_capif_keys_persist_event;
        task->event.data = task;

        if (ngx_thread_task_post(src->thread_pool, task) == NGX_OK) {
            return;
        }
    }
#endif

    pe->err = ngx_http_capif_keys_write_cache(pe->path, pe->tmp, pe->data,
                                              pe->len, pe->ok);
    ngx_http_capif_keys_persist_done(pe);

#if (NGX_THREADS)
    ngx_free(task);
#else
    ngx_free(pe);
#endif
}


/* reads a cache= file written by ngx_http_capif_keys_persist() */
void
ngx_http_capif_keys_load_cache(ngx_http_capif_keysrc_t *src,
    ngx_http_capif_keys_entry_t *e, ngx_log_t *log)
{
    u_char                    *buf, *p, *nl;
    size_t                     len;
    time_t                     ok;
    ngx_int_t                  n;
    struct stat                st;
    ngx_http_capif_keyfile_t   f;
    char                       errbuf[512];

    if (src->cache.len == 0) {
        return;
    }

    if (stat((char *) src->cache.data, &st) == -1) {
        ngx_log_error(NGX_LOG_NOTICE, log, ngx_errno,
                      "capif_key_request \"%V\": no key cache \"%V\" yet",
                      &src->full, &src->cache);
        return;
    }

    ngx_memzero(&f, sizeof(ngx_http_capif_keyfile_t));
    f.path = src->cache;

    if (ngx_http_capif_keys_read(&f, &buf, &len, &st, NULL, log) != NGX_OK) {
        return;
    }

    nl = ngx_strlchr(buf, buf + ngx_min(len, 64), '\n');

    if (nl == NULL || len < sizeof("capif-keys ") - 1
        || ngx_strncmp(buf, "capif-keys ", sizeof("capif-keys ") - 1) != 0)
    {
        goto invalid;
    }

    p = buf + sizeof("capif-keys ") - 1;

    for (n = 0; p + n < nl && p[n] != ' '; n++) { /* void */ }

    ok = ngx_atotm(p, n);
    if (ok <= 0 || p + n == nl) {
        goto invalid;
    }

    p += n + 1;
    n = ngx_atosz(p, nl - p);

    if (n <= 0 || (size_t) n != (size_t) (buf + len - nl - 1)
        || (size_t) n > e->cap)
    {
        goto invalid;
    }

    if (ngx_http_capif_keys_build(src, nl + 1, n, 0, errbuf, sizeof(errbuf))
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "capif_key_request \"%V\": key cache \"%V\" "
                      "ignored: %s", &src->full, &src->cache, errbuf);
        ngx_free(buf);
        return;
    }

    ngx_memcpy(e->data, nl + 1, n);
    e->len = n;
    e->ok_time = ok;
    e->generation++;

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "capif_key_request \"%V\": keys of %T s ago read from "
                  "\"%V\"", &src->full, ngx_time() - ok, &src->cache);

    ngx_free(buf);
    return;

invalid:

    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "capif_key_request \"%V\": key cache \"%V\" is not one "
                  "the gateway wrote; ignored", &src->full, &src->cache);
    ngx_free(buf);
}

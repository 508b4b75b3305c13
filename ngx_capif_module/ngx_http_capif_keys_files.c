/*
 * Copyright (C) ngx_capif_module authors
 *
 * capif_key_file files that change: each worker checks them every
 * capif_key_refresh (mtime, size, inode).  A changed file is parsed again
 * and, if the whole set builds, swapped in; a file that does not parse
 * keeps its last good bytes, and the worker logs at alert.
 */

#include "ngx_http_capif_keys_source.h"


#define NGX_HTTP_CAPIF_KEYS_MAX_FILE  (1024 * 1024)


char *
ngx_http_capif_keys_file_added(ngx_conf_t *cf, capif_keyset_t *ks,
    ngx_str_t *path, char *alg, char *kid)
{
    struct stat                st;
    ngx_http_capif_keysrc_t   *src;
    ngx_http_capif_keyfile_t  *f;

    src = ngx_http_capif_keys_add_source(cf, ks);
    if (src == NULL) {
        return NGX_CONF_ERROR;
    }

    f = ngx_array_push(&src->files);
    if (f == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(f, sizeof(ngx_http_capif_keyfile_t));
    f->path = *path;
    f->alg = alg;
    f->kid = kid;

    /* the bytes a later rebuild starts from: the file as it is now */
    if (ngx_http_capif_keys_read(f, &f->buf, &f->len, &st, cf->pool,
                                 cf->log)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->size = st.st_size;
    f->mtime = st.st_mtim;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_capif_keys_stat(ngx_http_capif_keyfile_t *f, struct stat *st,
    ngx_log_t *log)
{
    if (stat((char *) f->path.data, st) == -1) {
        if (!f->missing) {
            ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                          "capif_key_file: cannot stat \"%V\"; the last "
                          "good key stays in use", &f->path);
            f->missing = 1;
        }

        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_http_capif_keys_changed(ngx_http_capif_keyfile_t *f, struct stat *st)
{
    return f->dev != st->st_dev || f->ino != st->st_ino
           || f->size != st->st_size
           || f->mtime.tv_sec != st->st_mtim.tv_sec
           || f->mtime.tv_nsec != st->st_mtim.tv_nsec;
}


/* reads the whole file; pool NULL: ngx_alloc(), freed by the caller */
ngx_int_t
ngx_http_capif_keys_read(ngx_http_capif_keyfile_t *f, u_char **buf,
    size_t *len, struct stat *st, ngx_pool_t *pool, ngx_log_t *log)
{
    u_char    *p;
    ssize_t    n;
    ngx_fd_t   fd;

    fd = ngx_open_file(f->path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      "capif_key_file: cannot open \"%V\"", &f->path);
        return NGX_ERROR;
    }

    if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode)
        || st->st_size <= 0 || st->st_size > NGX_HTTP_CAPIF_KEYS_MAX_FILE)
    {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "capif_key_file: \"%V\" is not a regular file of "
                      "1 to %d bytes", &f->path,
                      NGX_HTTP_CAPIF_KEYS_MAX_FILE);
        (void) ngx_close_file(fd);
        return NGX_ERROR;
    }

    /* one spare byte: reading it means the file grew meanwhile */
    p = pool ? ngx_pnalloc(pool, st->st_size + 1)
             : ngx_alloc(st->st_size + 1, log);

    if (p == NULL) {
        (void) ngx_close_file(fd);
        return NGX_ERROR;
    }

    n = read(fd, p, st->st_size + 1);

    (void) ngx_close_file(fd);

    if (n != st->st_size) {
        ngx_log_error(NGX_LOG_ALERT, log, n == -1 ? ngx_errno : 0,
                      "capif_key_file: \"%V\" changed while being read",
                      &f->path);
        if (pool == NULL) {
            ngx_free(p);
        }
        return NGX_ERROR;
    }

    *buf = p;
    *len = (size_t) n;

    return NGX_OK;
}


static void
ngx_http_capif_keys_check_files(ngx_http_capif_keysrc_t *src,
    ngx_log_t *log)
{
    u_char                    *buf, *oldbuf;
    size_t                     len, oldlen;
    ngx_uint_t                 i, oldheap;
    struct stat                st;
    ngx_http_capif_keyfile_t  *f;
    char                       errbuf[512];

    f = src->files.elts;

    for (i = 0; i < src->files.nelts; i++) {

        if (ngx_http_capif_keys_stat(&f[i], &st, log) != NGX_OK) {
            continue;
        }

        if (!ngx_http_capif_keys_changed(&f[i], &st)) {
            f[i].missing = 0;
            continue;
        }

        if (ngx_http_capif_keys_read(&f[i], &buf, &len, &st, NULL, log)
            != NGX_OK)
        {
            /* an unreadable file is tried again at the next check */
            f[i].missing = 1;
            continue;
        }

        f[i].missing = 0;
        f[i].dev = st.st_dev;
        f[i].ino = st.st_ino;
        f[i].size = st.st_size;
        f[i].mtime = st.st_mtim;

        oldbuf = f[i].buf;
        oldlen = f[i].len;
        oldheap = f[i].heap;

        f[i].buf = buf;
        f[i].len = len;
        f[i].heap = 1;

        if (ngx_http_capif_keys_rebuild(src, errbuf, sizeof(errbuf))
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ALERT, log, 0,
                          "capif_key_file: \"%V\" changed but is refused, "
                          "the last good key stays in use: %s",
                          &f[i].path, errbuf);

            f[i].buf = oldbuf;
            f[i].len = oldlen;
            f[i].heap = oldheap;
            ngx_free(buf);
            continue;
        }

        if (oldheap) {
            ngx_free(oldbuf);
        }

        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "capif_key_file: \"%V\" changed; %uz keys in use",
                      &f[i].path, src->ks->nkeys);
    }
}


void
ngx_http_capif_keys_timer(ngx_event_t *ev)
{
    time_t                             now;
    ngx_uint_t                         i;
    ngx_http_capif_keysrc_t          **src;
    ngx_http_capif_keys_main_conf_t   *kmcf;

    kmcf = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    now = ngx_time();
    src = kmcf->sources.elts;

    for (i = 0; i < kmcf->sources.nelts; i++) {
        if (src[i]->files.nelts == 0 || now < src[i]->next_check) {
            continue;
        }

        src[i]->next_check = now + src[i]->refresh;
        ngx_http_capif_keys_check_files(src[i], ev->log);
    }

    ngx_add_timer(ev, kmcf->tick);
}

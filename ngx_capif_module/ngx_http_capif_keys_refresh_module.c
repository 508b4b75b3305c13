/*
 * Copyright (C) ngx_capif_module authors
 *
 * Keys that rotate without a reload.  Every key set of the configuration
 * is a "source": the capif_key_file files it came from, with the bytes
 * that last parsed well.  Each worker checks its files every
 * capif_key_refresh (mtime, size, inode); a changed file is parsed again
 * and, if the whole set builds, swapped in.  A file that does not parse
 * keeps its last good bytes, and the worker logs at alert.
 */

#include <sys/stat.h>

#include "ngx_http_capif_keys.h"


#define NGX_HTTP_CAPIF_KEYS_MAX_FILE  (1024 * 1024)


typedef struct {
    ngx_str_t             path;        /* NUL-terminated */
    char                 *alg;         /* NULL or NUL-terminated */
    char                 *kid;
    u_char               *buf;         /* last good bytes */
    size_t                len;
    unsigned              heap:1;      /* buf is ngx_alloc()'d */
    unsigned              missing:1;   /* logged: cannot stat or read */

    /* what was last seen at path, good or bad */
    dev_t                 dev;
    ino_t                 ino;
    off_t                 size;
    struct timespec       mtime;
} ngx_http_capif_keyfile_t;


typedef struct {
    capif_keyset_t       *ks;          /* the location's set, never moves */
    ngx_array_t           files;       /* of ngx_http_capif_keyfile_t */
    time_t                refresh;     /* smallest of its locations */
    time_t                next_check;
} ngx_http_capif_keysrc_t;


typedef struct {
    ngx_array_t           sources;     /* of ngx_http_capif_keysrc_t * */
    ngx_event_t           timer;
    ngx_msec_t            tick;
} ngx_http_capif_keys_main_conf_t;


typedef struct {
    time_t                refresh;
} ngx_http_capif_keys_loc_conf_t;


static ngx_int_t ngx_http_capif_keys_stat(ngx_http_capif_keyfile_t *f,
    struct stat *st, ngx_log_t *log);
static ngx_int_t ngx_http_capif_keys_read(ngx_http_capif_keyfile_t *f,
    u_char **buf, size_t *len, struct stat *st, ngx_pool_t *pool,
    ngx_log_t *log);
static ngx_int_t ngx_http_capif_keys_rebuild(ngx_http_capif_keysrc_t *src,
    char *errbuf, size_t errlen);
static void ngx_http_capif_keys_check_files(ngx_http_capif_keysrc_t *src,
    ngx_log_t *log);
static void ngx_http_capif_keys_timer(ngx_event_t *ev);
static void *ngx_http_capif_keys_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_capif_keys_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_capif_keys_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_capif_keys_check_refresh(ngx_conf_t *cf, void *post,
    void *data);
static ngx_int_t ngx_http_capif_keys_init_process(ngx_cycle_t *cycle);


static ngx_conf_post_handler_pt  ngx_http_capif_keys_refresh_post =
    ngx_http_capif_keys_check_refresh;


static ngx_command_t  ngx_http_capif_keys_commands[] = {

    { ngx_string("capif_key_refresh"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_keys_loc_conf_t, refresh),
      &ngx_http_capif_keys_refresh_post },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_capif_keys_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_capif_keys_create_main_conf,  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_capif_keys_create_loc_conf,   /* create location configuration */
    ngx_http_capif_keys_merge_loc_conf     /* merge location configuration */
};


ngx_module_t  ngx_http_capif_keys_refresh_module = {
    NGX_MODULE_V1,
    &ngx_http_capif_keys_module_ctx,       /* module context */
    ngx_http_capif_keys_commands,          /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_capif_keys_init_process,      /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_capif_keysrc_t *
ngx_http_capif_keys_source(ngx_http_capif_keys_main_conf_t *kmcf,
    capif_keyset_t *ks)
{
    ngx_uint_t                 i;
    ngx_http_capif_keysrc_t  **src;

    src = kmcf->sources.elts;

    for (i = 0; i < kmcf->sources.nelts; i++) {
        if (src[i]->ks == ks) {
            return src[i];
        }
    }

    return NULL;
}


static ngx_http_capif_keysrc_t *
ngx_http_capif_keys_add_source(ngx_conf_t *cf, capif_keyset_t *ks)
{
    ngx_http_capif_keysrc_t          *src, **p;
    ngx_http_capif_keys_main_conf_t  *kmcf;

    kmcf = ngx_http_conf_get_module_main_conf(cf,
                                          ngx_http_capif_keys_refresh_module);

    src = ngx_http_capif_keys_source(kmcf, ks);
    if (src != NULL) {
        return src;
    }

    src = ngx_pcalloc(cf->pool, sizeof(ngx_http_capif_keysrc_t));
    if (src == NULL) {
        return NULL;
    }

    if (ngx_array_init(&src->files, cf->pool, 1,
                       sizeof(ngx_http_capif_keyfile_t))
        != NGX_OK)
    {
        return NULL;
    }

    src->ks = ks;
    src->refresh = NGX_CONF_UNSET;

    p = ngx_array_push(&kmcf->sources);
    if (p == NULL) {
        return NULL;
    }

    *p = src;

    return src;
}


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
static ngx_int_t
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


/* a whole new set from the sources' bytes, swapped in only if it builds */
static ngx_int_t
ngx_http_capif_keys_rebuild(ngx_http_capif_keysrc_t *src, char *errbuf,
    size_t errlen)
{
    ngx_uint_t                 i;
    capif_keyset_t             ks, old;
    ngx_http_capif_keyfile_t  *f;

    ngx_memzero(&ks, sizeof(capif_keyset_t));

    f = src->files.elts;

    for (i = 0; i < src->files.nelts; i++) {
        if (capif_keyset_load_buf(&ks, (char *) f[i].path.data, f[i].buf,
                                  f[i].len, f[i].alg, f[i].kid, errbuf,
                                  errlen)
            != 0)
        {
            capif_keyset_free(&ks);
            return NGX_ERROR;
        }
    }

    /* between two requests of this worker: nobody holds a key pointer */
    old = *src->ks;
    *src->ks = ks;
    capif_keyset_free(&old);

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


static void
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


ngx_int_t
ngx_http_capif_keys_check(ngx_http_request_t *r, capif_keyset_t *ks,
    capif_error_t *err)
{
    return NGX_OK;
}


ngx_int_t
ngx_http_capif_keys_unknown_kid(ngx_http_request_t *r, capif_keyset_t *ks)
{
    return NGX_DECLINED;
}


static void *
ngx_http_capif_keys_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_capif_keys_main_conf_t  *kmcf;

    kmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_capif_keys_main_conf_t));
    if (kmcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&kmcf->sources, cf->pool, 2,
                       sizeof(ngx_http_capif_keysrc_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return kmcf;
}


static void *
ngx_http_capif_keys_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_capif_keys_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_capif_keys_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->refresh = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_capif_keys_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_capif_keys_loc_conf_t *prev = parent;
    ngx_http_capif_keys_loc_conf_t *conf = child;

    ngx_http_capif_keysrc_t          *src;
    ngx_http_capif_loc_conf_t        *lcf;
    ngx_http_capif_keys_main_conf_t  *kmcf;

    ngx_conf_merge_sec_value(conf->refresh, prev->refresh, 60);

    /* the token gate merged first: its key set is this location's */
    lcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_capif_module);

    if (lcf->keys == NULL || lcf->keys == NGX_CONF_UNSET_PTR) {
        return NGX_CONF_OK;
    }

    kmcf = ngx_http_conf_get_module_main_conf(cf,
                                          ngx_http_capif_keys_refresh_module);

    src = ngx_http_capif_keys_source(kmcf, lcf->keys);

    if (src != NULL
        && (src->refresh == NGX_CONF_UNSET || conf->refresh < src->refresh))
    {
        src->refresh = conf->refresh;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_capif_keys_check_refresh(ngx_conf_t *cf, void *post, void *data)
{
    time_t  *sp = data;

    if (*sp < 1) {
        return "must be at least 1s";
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_capif_keys_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                         i;
    ngx_http_capif_keysrc_t          **src;
    ngx_http_capif_keys_main_conf_t   *kmcf;

    kmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                          ngx_http_capif_keys_refresh_module);

    if (kmcf == NULL || kmcf->sources.nelts == 0) {
        return NGX_OK;
    }

    /* one tick a second; each source has its own next check */
    kmcf->tick = 1000;
    src = kmcf->sources.elts;

    for (i = 0; i < kmcf->sources.nelts; i++) {
        if (src[i]->refresh == NGX_CONF_UNSET) {
            src[i]->refresh = 60;
        }

        src[i]->next_check = ngx_time() + src[i]->refresh;
    }

    kmcf->timer.handler = ngx_http_capif_keys_timer;
    kmcf->timer.data = kmcf;
    kmcf->timer.log = cycle->log;
    kmcf->timer.cancelable = 1;

    ngx_add_timer(&kmcf->timer, kmcf->tick);

    return NGX_OK;
}

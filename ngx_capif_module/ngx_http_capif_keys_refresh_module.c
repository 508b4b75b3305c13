/*
 * Copyright (C) ngx_capif_module authors
 *
 * Keys that rotate without a reload.  Every key set of the configuration
 * is a "source": the capif_key_file files it came from, with the bytes
 * that last parsed well.  Each worker checks its files every
 * capif_key_refresh (mtime, size, inode); a changed file is parsed again
 * and, if the whole set builds, swapped in.  A file that does not parse
 * keeps its last good bytes, and the worker logs at alert.
 *
 * capif_key_request adds keys fetched from the CCF.  The last good answer
 * lives in a shared zone ("capif_keys": every worker, and a reload, see
 * it) and, with cache=, in a file that a restart reads.  Fetches start
 * from live calls, as nginx has no request-less subrequest: the first
 * call of a location without keys waits for one, later calls trigger a
 * background refetch once capif_key_refresh has passed and go on with the
 * current keys.  One worker fetches at a time: it holds a lease in the
 * zone that expires after NGX_HTTP_CAPIF_KEYS_LEASE, or at once when the
 * worker is gone.
 */

#include <sys/stat.h>
#include <signal.h>

#include "ngx_http_capif_keys.h"
#include "ngx_http_capif_ccf.h"


#define NGX_HTTP_CAPIF_KEYS_MAX_FILE  (1024 * 1024)

/* a fetch lease outlives no fetch: proxy timeouts are shorter */
#define NGX_HTTP_CAPIF_KEYS_LEASE     30

/* a call that waits for another worker's fetch looks every 50ms, 10s */
#define NGX_HTTP_CAPIF_KEYS_POLL      50
#define NGX_HTTP_CAPIF_KEYS_POLLS     200


typedef struct {
    ngx_queue_t           queue;
    ngx_str_t             uri;         /* uri?args, in the zone */
    time_t                ok_time;     /* of the bytes below; 0: none */
    time_t                attempt_time;
    time_t                refetch_time;  /* last unknown-kid refetch */
    time_t                lease_until;
    ngx_pid_t             lease_pid;
    ngx_uint_t            generation;
    size_t                cap;
    size_t                len;
    u_char               *data;
} ngx_http_capif_keys_entry_t;


typedef struct {
    ngx_queue_t           entries;
} ngx_http_capif_keys_shctx_t;


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

    /* capif_key_request */
    ngx_str_t             uri;         /* empty: none */
    ngx_str_t             args;
    ngx_str_t             full;        /* uri?args: names the zone entry */
    ngx_str_t             cache;       /* NUL-terminated, or empty */
#if (NGX_THREADS)
    ngx_thread_pool_t    *thread_pool; /* writes the cache file */
#endif
    time_t                min_refetch;
    time_t                max_stale;
    size_t                max_size;
    ngx_http_capif_keys_entry_t  *entry;

    /* this worker's copy of the entry's bytes */
    ngx_uint_t            generation;
    u_char               *fetched;
    size_t                fetched_len;
} ngx_http_capif_keysrc_t;


typedef struct {
    ngx_array_t           sources;     /* of ngx_http_capif_keysrc_t * */
    ngx_event_t           timer;
    ngx_msec_t            tick;
    ngx_shm_zone_t       *shm_zone;
    ngx_slab_pool_t      *shpool;
    ngx_http_capif_keys_shctx_t  *sh;
} ngx_http_capif_keys_main_conf_t;


typedef struct {
    time_t                refresh;
    time_t                min_refetch;
    time_t                max_stale;
    size_t                max_size;
    ngx_str_t             uri;         /* capif_key_request of this level */
    ngx_http_capif_keysrc_t  *src;
} ngx_http_capif_keys_loc_conf_t;


typedef struct {
    ngx_uint_t            polls;
    unsigned              fetched:1;   /* this call waited for a fetch */
} ngx_http_capif_keys_ctx_t;


typedef struct {
    ngx_http_capif_keysrc_t    *src;
    ngx_http_capif_keys_ctx_t  *ctx;   /* NULL: a background fetch */
} ngx_http_capif_keys_fetch_t;


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
static char *ngx_http_capif_key_request(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_capif_keys_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_capif_keys_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_capif_keys_sync(ngx_http_capif_keysrc_t *src,
    ngx_log_t *log);
static void ngx_http_capif_keys_fetched(ngx_http_request_t *sr, void *data,
    ngx_http_capif_ccf_answer_t *answer);


static ngx_conf_post_handler_pt  ngx_http_capif_keys_refresh_post =
    ngx_http_capif_keys_check_refresh;


static ngx_command_t  ngx_http_capif_keys_commands[] = {

    { ngx_string("capif_key_refresh"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_keys_loc_conf_t, refresh),
      &ngx_http_capif_keys_refresh_post },

    { ngx_string("capif_key_request"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_capif_key_request,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("capif_key_min_refetch"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_keys_loc_conf_t, min_refetch),
      &ngx_http_capif_keys_refresh_post },

    { ngx_string("capif_key_max_stale"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_keys_loc_conf_t, max_stale),
      &ngx_http_capif_keys_refresh_post },

    { ngx_string("capif_key_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_keys_loc_conf_t, max_size),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_capif_keys_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_capif_keys_postconfiguration, /* postconfiguration */

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


/*
 * A whole new set from the source's bytes: its files and fetched (NULL:
 * none).  With swap, it replaces the location's set; else it is only
 * checked and dropped.
 */
static ngx_int_t
ngx_http_capif_keys_build(ngx_http_capif_keysrc_t *src, u_char *fetched,
    size_t len, ngx_uint_t swap, char *errbuf, size_t errlen)
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

    if (fetched != NULL
        && capif_keyset_load_buf(&ks, (char *) src->full.data, fetched, len,
                                 NULL, NULL, errbuf, errlen)
           != 0)
    {
        capif_keyset_free(&ks);
        return NGX_ERROR;
    }

    if (!swap) {
        capif_keyset_free(&ks);
        return NGX_OK;
    }

    /* between two requests of this worker: nobody holds a key pointer */
    old = *src->ks;
    *src->ks = ks;
    capif_keyset_free(&old);

    return NGX_OK;
}


static ngx_int_t
ngx_http_capif_keys_rebuild(ngx_http_capif_keysrc_t *src, char *errbuf,
    size_t errlen)
{
    return ngx_http_capif_keys_build(src, src->fetched, src->fetched_len, 1,
                                     errbuf, errlen);
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


/* the worker's set follows the zone's bytes */
static void
ngx_http_capif_keys_sync(ngx_http_capif_keysrc_t *src, ngx_log_t *log)
{
    u_char                           *buf, *oldbuf;
    size_t                            len, oldlen;
    ngx_uint_t                        gen;
    ngx_http_capif_keys_entry_t      *e;
    ngx_http_capif_keys_main_conf_t  *kmcf;
    char                              errbuf[512];

    e = src->entry;

    if (e == NULL || e->generation == src->generation) {
        return;
    }

    kmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                          ngx_http_capif_keys_refresh_module);

    buf = NULL;

    ngx_shmtx_lock(&kmcf->shpool->mutex);

    gen = e->generation;
    len = e->len;

    if (len) {
        buf = ngx_alloc(len, log);
        if (buf != NULL) {
            ngx_memcpy(buf, e->data, len);
        }
    }

    ngx_shmtx_unlock(&kmcf->shpool->mutex);

    if (len && buf == NULL) {
        return;
    }

    oldbuf = src->fetched;
    oldlen = src->fetched_len;

    src->fetched = buf;
    src->fetched_len = len;
    src->generation = gen;

    if (ngx_http_capif_keys_rebuild(src, errbuf, sizeof(errbuf)) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "capif_key_request \"%V\": the fetched keys do not "
                      "fit this worker's set, the last good set stays in "
                      "use: %s", &src->full, errbuf);

        /* src->generation stays: not again until the next fetch */
        src->fetched = oldbuf;
        src->fetched_len = oldlen;
        ngx_free(buf);
        return;
    }

    if (oldbuf) {
        ngx_free(oldbuf);
    }
}


static ngx_uint_t
ngx_http_capif_keys_leased(ngx_http_capif_keys_entry_t *e, time_t now)
{
    if (e->lease_pid == 0 || e->lease_until <= now) {
        return 0;
    }

    /* a worker that died mid-fetch leaves its lease behind */
    if (e->lease_pid != ngx_pid && kill(e->lease_pid, 0) == -1
        && ngx_errno == NGX_ESRCH)
    {
        return 0;
    }

    return 1;
}


static void
ngx_http_capif_keys_take_lease(ngx_http_capif_keys_entry_t *e, time_t now)
{
    e->lease_pid = ngx_pid;
    e->lease_until = now + NGX_HTTP_CAPIF_KEYS_LEASE;
    e->attempt_time = now;
}


static ngx_int_t
ngx_http_capif_keys_fetch(ngx_http_request_t *r,
    ngx_http_capif_keysrc_t *src, ngx_http_capif_keys_ctx_t *ctx)
{
    ngx_http_capif_keys_fetch_t      *fetch;
    ngx_http_capif_keys_main_conf_t  *kmcf;

    fetch = ngx_palloc(r->pool, sizeof(ngx_http_capif_keys_fetch_t));

    if (fetch != NULL) {
        fetch->src = src;
        fetch->ctx = ctx;

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "capif_key_request \"%V\": fetching keys%s",
                      &src->full, ctx ? "" : " in the background");

        if (ngx_http_capif_ccf_get(r, &src->uri, &src->args, src->max_size,
                                   ctx == NULL, ngx_http_capif_keys_fetched,
                                   fetch, NULL)
            == NGX_OK)
        {
            return NGX_OK;
        }
    }

    /* give the lease back: another call may try */
    kmcf = ngx_http_get_module_main_conf(r,
                                          ngx_http_capif_keys_refresh_module);

    ngx_shmtx_lock(&kmcf->shpool->mutex);

    if (src->entry->lease_pid == ngx_pid) {
        src->entry->lease_pid = 0;
    }

    ngx_shmtx_unlock(&kmcf->shpool->mutex);

    return NGX_ERROR;
}


static ngx_http_capif_keys_ctx_t *
ngx_http_capif_keys_get_ctx(ngx_http_request_t *r)
{
    ngx_http_capif_keys_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_capif_keys_refresh_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_capif_keys_ctx_t));
        if (ctx == NULL) {
            return NULL;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_capif_keys_refresh_module);
    }

    return ctx;
}


static ngx_int_t
ngx_http_capif_keys_unavailable(ngx_http_request_t *r,
    ngx_http_capif_keysrc_t *src)
{
    ngx_int_t         rc;
    ngx_table_elt_t  *h;

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "capif_key_request \"%V\": no keys fetched yet, the CCF "
                  "did not answer with keys", &src->full);

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Retry-After");

    h->value.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (h->value.data == NULL) {
        return NGX_ERROR;
    }

    h->value.len = ngx_sprintf(h->value.data, "%T", src->min_refetch)
                   - h->value.data;

    rc = ngx_http_capif_send_problem(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     "Service Unavailable",
                                     "KEYS_UNAVAILABLE",
                                     "the gateway has no keys from the CCF "
                                     "yet");

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


ngx_int_t
ngx_http_capif_keys_check(ngx_http_request_t *r, capif_keyset_t *ks,
    capif_error_t *err)
{
    enum { GO, FETCH, BACKGROUND, WAIT, FAIL }  action;

    time_t                            now, ok;
    ngx_http_capif_keysrc_t          *src;
    ngx_http_capif_keys_ctx_t        *ctx;
    ngx_http_capif_keys_entry_t      *e;
    ngx_http_capif_keys_loc_conf_t   *klcf;
    ngx_http_capif_keys_main_conf_t  *kmcf;

    klcf = ngx_http_get_module_loc_conf(r,
                                        ngx_http_capif_keys_refresh_module);
    src = klcf->src;

    if (src == NULL || src->entry == NULL || src->ks != ks) {
        return NGX_OK;
    }

    ngx_http_capif_keys_sync(src, r->connection->log);

    ctx = ngx_http_capif_keys_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    kmcf = ngx_http_get_module_main_conf(r,
                                          ngx_http_capif_keys_refresh_module);
    e = src->entry;
    now = ngx_time();

    ngx_shmtx_lock(&kmcf->shpool->mutex);

    ok = e->ok_time;

    if ((ok == 0 && ks->nkeys == 0) || (ok && now > ok + src->max_stale)) {

        /* nothing usable: this call waits for a fetch */
        if (ctx->fetched) {
            action = FAIL;

        } else if (ngx_http_capif_keys_leased(e, now)) {
            action = (ctx->polls < NGX_HTTP_CAPIF_KEYS_POLLS) ? WAIT : FAIL;

        } else if (now >= e->attempt_time + src->min_refetch
                   || e->lease_pid)
        {
            /*
             * A lease left behind means that attempt never ended.  A call
             * that waited for a fetch that failed does not try again: the
             * CCF is not asked once per waiting call.
             */
            ngx_http_capif_keys_take_lease(e, now);
            action = FETCH;

        } else {
            action = FAIL;
        }

    } else if (now >= ngx_max(ok, e->attempt_time) + src->refresh
               && !ngx_http_capif_keys_leased(e, now))
    {
        ngx_http_capif_keys_take_lease(e, now);
        action = BACKGROUND;

    } else {
        action = GO;
    }

    ngx_shmtx_unlock(&kmcf->shpool->mutex);

    switch (action) {

    case GO:
        return NGX_OK;

    case BACKGROUND:
        /* the call goes on with the current keys whatever happens */
        (void) ngx_http_capif_keys_fetch(r, src, NULL);
        return NGX_OK;

    case FETCH:
        if (ngx_http_capif_keys_fetch(r, src, ctx) != NGX_OK) {
            return NGX_ERROR;
        }

        ctx->fetched = 1;
        return NGX_AGAIN;

    case WAIT:
        ctx->polls++;
        return ngx_http_capif_ccf_wait(r, NGX_HTTP_CAPIF_KEYS_POLL);

    default: /* FAIL */
        break;
    }

    if (ok == 0) {
        return ngx_http_capif_keys_unavailable(r, src);
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "capif_key_request \"%V\": the last keys fetched are "
                  "%T s old, more than capif_key_max_stale", &src->full,
                  now - ok);

    (void) capif_fail(err, CAPIF_INVALID_TOKEN, "KEYS_STALE",
                      "the gateway's keys from the CCF are out of date");

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_capif_keys_unknown_kid(ngx_http_request_t *r, capif_keyset_t *ks)
{
    time_t                            now;
    ngx_uint_t                        go;
    ngx_http_capif_keysrc_t          *src;
    ngx_http_capif_keys_ctx_t        *ctx;
    ngx_http_capif_keys_entry_t      *e;
    ngx_http_capif_keys_loc_conf_t   *klcf;
    ngx_http_capif_keys_main_conf_t  *kmcf;

    klcf = ngx_http_get_module_loc_conf(r,
                                        ngx_http_capif_keys_refresh_module);
    src = klcf->src;

    if (src == NULL || src->entry == NULL || src->ks != ks) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_capif_keys_get_ctx(r);
    if (ctx == NULL || ctx->fetched) {
        return NGX_DECLINED;
    }

    kmcf = ngx_http_get_module_main_conf(r,
                                          ngx_http_capif_keys_refresh_module);
    e = src->entry;
    now = ngx_time();
    go = 0;

    /* at most one refetch per capif_key_min_refetch, across workers */
    ngx_shmtx_lock(&kmcf->shpool->mutex);

    if (now >= e->refetch_time + src->min_refetch
        && !ngx_http_capif_keys_leased(e, now))
    {
        e->refetch_time = now;
        ngx_http_capif_keys_take_lease(e, now);
        go = 1;
    }

    ngx_shmtx_unlock(&kmcf->shpool->mutex);

    if (!go) {
        return NGX_DECLINED;
    }

    if (ngx_http_capif_keys_fetch(r, src, ctx) != NGX_OK) {
        return NGX_DECLINED;
    }

    ctx->fetched = 1;

    return NGX_AGAIN;
}


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
static void
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


static void
ngx_http_capif_keys_fetched(ngx_http_request_t *sr, void *data,
    ngx_http_capif_ccf_answer_t *answer)
{
    ngx_http_capif_keys_fetch_t *fetch = data;

    time_t                            now;
    ngx_uint_t                        ok, i;
    capif_key_t                      *key;
    ngx_http_capif_keysrc_t          *src;
    ngx_http_capif_keys_entry_t      *e;
    ngx_http_capif_keys_main_conf_t  *kmcf;
    char                              why[600];

    src = fetch->src;
    e = src->entry;
    now = ngx_time();
    why[0] = '\0';

    if (fetch->ctx) {
        fetch->ctx->fetched = 1;
    }

    if (answer->status == 0) {
        ngx_sprintf((u_char *) why, "no answer from the CCF (see the lines "
                    "above)%Z");

    } else if (answer->status != NGX_HTTP_OK) {
        ngx_sprintf((u_char *) why, "status %ui%Z", answer->status);

    } else if (answer->content_encoding.len
               && !(answer->content_encoding.len == 8
                    && ngx_strncasecmp(answer->content_encoding.data,
                                       (u_char *) "identity", 8) == 0))
    {
        ngx_sprintf((u_char *) why, "compressed (Content-Encoding: %V)%Z",
                    &answer->content_encoding);

    } else if (answer->too_big) {
        ngx_sprintf((u_char *) why, "larger than capif_key_max_size %uz%Z",
                    src->max_size);

    } else if (answer->body.len == 0) {
        ngx_sprintf((u_char *) why, "an empty body%Z");

    } else if (ngx_http_capif_keys_build(src, answer->body.data,
                                         answer->body.len, 0, why,
                                         sizeof(why))
               != NGX_OK)
    {
        /* why holds the parser's reason */
    }

    ok = (why[0] == '\0');

    kmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                          ngx_http_capif_keys_refresh_module);

    ngx_shmtx_lock(&kmcf->shpool->mutex);

    if (ok) {
        ngx_memcpy(e->data, answer->body.data, answer->body.len);
        e->len = answer->body.len;
        e->ok_time = now;
        e->generation++;
    }

    if (e->lease_pid == ngx_pid) {
        e->lease_pid = 0;
    }

    ngx_shmtx_unlock(&kmcf->shpool->mutex);

    if (!ok) {
        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "capif_key_request \"%V\": answer ignored, the last "
                      "good keys stay in use: %s", &src->full, why);
        return;
    }

    ngx_http_capif_keys_sync(src, sr->connection->log);

    ngx_log_error(NGX_LOG_NOTICE, sr->connection->log, 0,
                  "capif_key_request \"%V\": keys fetched, %uz in use",
                  &src->full, src->ks->nkeys);

    for (i = 0; i < src->ks->nkeys; i++) {
        key = &src->ks->keys[i];

        if (key->bundle_certs > 1 && key->source
            && ngx_strcmp(key->source, src->full.data) == 0)
        {
            ngx_log_error(NGX_LOG_NOTICE, sr->connection->log, 0,
                          "capif_key_request \"%V\": the answer is a "
                          "bundle of %uz certificates; only the key of the "
                          "first, the leaf, is used", &src->full,
                          key->bundle_certs);
        }
    }

    ngx_http_capif_keys_persist(src, answer->body.data, answer->body.len,
                                now, sr->connection->log);
}


/* capif_key_request <uri> [cache=<path>]; */
static char *
ngx_http_capif_key_request(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_capif_keys_loc_conf_t *klcf = conf;

    u_char                     *q;
    ngx_str_t                  *value, cache;
    ngx_pool_cleanup_t         *cln;
    ngx_http_capif_keysrc_t    *src;
    ngx_http_capif_loc_conf_t  *lcf;

    if (klcf->uri.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].data[0] != '/') {
        return "needs a URI that starts with \"/\"";
    }

    ngx_str_null(&cache);

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "cache=", 6) != 0
            || value[2].len == 6)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" in "
                               "capif_key_request", &value[2]);
            return NGX_CONF_ERROR;
        }

        cache.data = value[2].data + 6;
        cache.len = value[2].len - 6;

        if (ngx_conf_full_name(cf->cycle, &cache, 1) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    klcf->uri = value[1];

    /* the keys join this level's key set, as capif_key_file's do */
    lcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_capif_module);

    if (lcf->keys == NGX_CONF_UNSET_PTR) {
        lcf->keys = ngx_pcalloc(cf->pool, sizeof(capif_keyset_t));
        if (lcf->keys == NULL) {
            return NGX_CONF_ERROR;
        }

        cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == NULL) {
            return NGX_CONF_ERROR;
        }

        cln->handler = (ngx_pool_cleanup_pt) capif_keyset_free;
        cln->data = lcf->keys;
    }

    src = ngx_http_capif_keys_add_source(cf, lcf->keys);
    if (src == NULL) {
        return NGX_CONF_ERROR;
    }

    if (src->uri.len) {
        return "is duplicate for this key set";
    }

    src->full = value[1];
    src->cache = cache;

#if (NGX_THREADS)
    /* nginx's "default" pool: the cache file's fsync never stalls calls */
    if (cache.len) {
        src->thread_pool = ngx_thread_pool_add(cf, NULL);
        if (src->thread_pool == NULL) {
            return NGX_CONF_ERROR;
        }
    }
#endif

    q = ngx_strlchr(value[1].data, value[1].data + value[1].len, '?');

    if (q) {
        src->uri.data = value[1].data;
        src->uri.len = q - value[1].data;
        src->args.data = q + 1;
        src->args.len = value[1].data + value[1].len - q - 1;

    } else {
        src->uri = value[1];
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_capif_keys_postconfiguration(ngx_conf_t *cf)
{
    size_t                             size;
    ngx_uint_t                         i, n;
    ngx_http_capif_keysrc_t          **src;
    ngx_http_capif_keys_main_conf_t   *kmcf;

    static ngx_str_t  name = ngx_string("capif_keys");

    kmcf = ngx_http_conf_get_module_main_conf(cf,
                                          ngx_http_capif_keys_refresh_module);

    size = 0;
    n = 0;
    src = kmcf->sources.elts;

    for (i = 0; i < kmcf->sources.nelts; i++) {
        if (src[i]->uri.len) {
            if (src[i]->max_size == 0) {
                src[i]->max_size = 64 * 1024;
            }

            size += src[i]->max_size + src[i]->full.len + 2 * ngx_pagesize;
            n++;
        }
    }

    if (n == 0) {
        return NGX_OK;
    }

    /* the same size on a reload: the zone and its keys are kept */
    size = ngx_align(size + 8 * ngx_pagesize, 256 * 1024);

    kmcf->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                          &ngx_http_capif_keys_refresh_module);
    if (kmcf->shm_zone == NULL) {
        return NGX_ERROR;
    }

    kmcf->shm_zone->init = ngx_http_capif_keys_init_zone;
    kmcf->shm_zone->data = kmcf;

    return NGX_OK;
}


/* reads a cache= file written by ngx_http_capif_keys_persist() */
static void
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


static ngx_int_t
ngx_http_capif_keys_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_capif_keys_main_conf_t  *okmcf = data;

    u_char                            *p;
    ngx_uint_t                         i;
    ngx_queue_t                       *q;
    ngx_slab_pool_t                   *shpool;
    ngx_http_capif_keysrc_t          **src;
    ngx_http_capif_keys_entry_t       *e;
    ngx_http_capif_keys_main_conf_t   *kmcf;

    kmcf = shm_zone->data;

    if (okmcf) {
        kmcf->sh = okmcf->sh;
        kmcf->shpool = okmcf->shpool;

    } else {
        kmcf->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

        kmcf->sh = ngx_slab_calloc(kmcf->shpool,
                                   sizeof(ngx_http_capif_keys_shctx_t));
        if (kmcf->sh == NULL) {
            return NGX_ERROR;
        }

        ngx_queue_init(&kmcf->sh->entries);
        kmcf->shpool->data = kmcf->sh;
    }

    shpool = kmcf->shpool;
    src = kmcf->sources.elts;

    for (i = 0; i < kmcf->sources.nelts; i++) {
        if (src[i]->uri.len == 0) {
            continue;
        }

        e = NULL;

        for (q = ngx_queue_head(&kmcf->sh->entries);
             q != ngx_queue_sentinel(&kmcf->sh->entries);
             q = ngx_queue_next(q))
        {
            e = ngx_queue_data(q, ngx_http_capif_keys_entry_t, queue);

            if (e->uri.len == src[i]->full.len
                && ngx_strncmp(e->uri.data, src[i]->full.data, e->uri.len)
                   == 0)
            {
                break;
            }

            e = NULL;
        }

        if (e != NULL && e->cap < src[i]->max_size) {
            /* a bigger capif_key_max_size: keep the bytes, grow */
            p = ngx_slab_alloc(shpool, src[i]->max_size);
            if (p == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(p, e->data, e->len);
            ngx_slab_free(shpool, e->data);
            e->data = p;
            e->cap = src[i]->max_size;
        }

        if (e == NULL) {
            e = ngx_slab_calloc(shpool, sizeof(ngx_http_capif_keys_entry_t));
            if (e == NULL) {
                return NGX_ERROR;
            }

            e->uri.data = ngx_slab_alloc(shpool, src[i]->full.len);
            e->data = ngx_slab_alloc(shpool, src[i]->max_size);

            if (e->uri.data == NULL || e->data == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(e->uri.data, src[i]->full.data, src[i]->full.len);
            e->uri.len = src[i]->full.len;
            e->cap = src[i]->max_size;

            ngx_queue_insert_tail(&kmcf->sh->entries, &e->queue);
        }

        /* a lease of the old cycle's workers ends with them */
        e->lease_pid = 0;

        src[i]->entry = e;

        if (e->ok_time == 0) {
            ngx_http_capif_keys_load_cache(src[i], e, shm_zone->shm.log);
        }
    }

    return NGX_OK;
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

    /*
     * set by ngx_pcalloc():
     *
     *     conf->uri = { 0, NULL };
     *     conf->src = NULL;
     */

    conf->refresh = NGX_CONF_UNSET;
    conf->min_refetch = NGX_CONF_UNSET;
    conf->max_stale = NGX_CONF_UNSET;
    conf->max_size = NGX_CONF_UNSET_SIZE;

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
    ngx_conf_merge_sec_value(conf->min_refetch, prev->min_refetch, 30);
    ngx_conf_merge_sec_value(conf->max_stale, prev->max_stale, 86400);
    ngx_conf_merge_size_value(conf->max_size, prev->max_size, 64 * 1024);

    if (conf->uri.data == NULL) {
        conf->uri = prev->uri;
    }

    /* the token gate merged first: its key set is this location's */
    lcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_capif_module);

    if (lcf->keys == NULL || lcf->keys == NGX_CONF_UNSET_PTR) {
        return NGX_CONF_OK;
    }

    kmcf = ngx_http_conf_get_module_main_conf(cf,
                                          ngx_http_capif_keys_refresh_module);

    src = ngx_http_capif_keys_source(kmcf, lcf->keys);
    conf->src = src;

    if (src == NULL) {
        return NGX_CONF_OK;
    }

    if (src->refresh == NGX_CONF_UNSET || conf->refresh < src->refresh) {
        src->refresh = conf->refresh;
    }

    if (src->uri.len == 0) {
        return NGX_CONF_OK;
    }

    if (src->min_refetch == 0 || conf->min_refetch < src->min_refetch) {
        src->min_refetch = conf->min_refetch;
    }

    if (src->max_stale == 0 || conf->max_stale < src->max_stale) {
        src->max_stale = conf->max_stale;
    }

    if (conf->max_size > src->max_size) {
        src->max_size = conf->max_size;
    }

    /* a protected location: the fetch goes through this server */
    if (lcf->enable == 1) {
        return ngx_http_capif_ccf_check_uri(cf, &src->uri, src->max_size,
                                            "capif_key_request");
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

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
 * zone that expires after NGX_HTTP_CAPIF_CCF_LEASE, or at once when the
 * worker is gone.
 *
 * This file: the directives and the module; the parts are in
 * ngx_http_capif_keys_{source,files,fetch,cache,zone}.c.
 */

#include "ngx_http_capif_keys_source.h"


static void *ngx_http_capif_keys_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_capif_keys_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_capif_keys_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_capif_keys_check_refresh(ngx_conf_t *cf, void *post,
    void *data);
static ngx_int_t ngx_http_capif_keys_init_process(ngx_cycle_t *cycle);
static char *ngx_http_capif_key_request(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


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

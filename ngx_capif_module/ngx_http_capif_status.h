/*
 * Copyright (C) ngx_capif_module authors
 *
 * What the parts of capif_invoker_status share: the shared zone's
 * entries, the configuration and the request context.
 */

#ifndef NGX_HTTP_CAPIF_STATUS_H
#define NGX_HTTP_CAPIF_STATUS_H

#include "ngx_http_capif_invoker_status.h"
#include "ngx_http_capif_ccf.h"


#define NGX_HTTP_CAPIF_STATUS_ZONE_SIZE  (2 * 1024 * 1024)
#define NGX_HTTP_CAPIF_STATUS_MAX_BODY   (64 * 1024)
#define NGX_HTTP_CAPIF_STATUS_POLL       20     /* ms */
#define NGX_HTTP_CAPIF_STATUS_POLLS      500    /* 10s */
#define NGX_HTTP_CAPIF_STATUS_RETRY      5      /* s, at most */

#define NGX_HTTP_CAPIF_STATUS_UNKNOWN    0
#define NGX_HTTP_CAPIF_STATUS_GRANTED    1
#define NGX_HTTP_CAPIF_STATUS_WITHDRAWN  2


typedef struct {
    ngx_str_node_t        sn;          /* key: uri, invoker, AEF, API */
    ngx_queue_t           queue;       /* least recently used last */
    time_t                checked;     /* of the last answer; 0: none */
    time_t                failed;      /* last fetch without an answer */
    ngx_http_capif_ccf_lease_t  lease;
    ngx_uint_t            state;
} ngx_http_capif_status_node_t;


typedef struct {
    ngx_rbtree_t          rbtree;
    ngx_rbtree_node_t     sentinel;
    ngx_queue_t           lru;
    time_t                epoch;       /* expire_all(): older is expired */
} ngx_http_capif_status_shctx_t;


typedef struct {
    ngx_str_t             name;        /* location, for messages */
    ngx_str_t            *api_id;      /* the revocation module's */
} ngx_http_capif_status_use_t;


typedef struct {
    ngx_shm_zone_t                 *shm_zone;
    ngx_slab_pool_t                *shpool;
    ngx_http_capif_status_shctx_t  *sh;
    ngx_array_t                     uses;   /* ngx_http_capif_status_use_t */
    ngx_flag_t                      used;
} ngx_http_capif_status_main_conf_t;


typedef struct {
    ngx_str_t             uri;         /* empty: off */
    time_t                ttl;
    time_t                max_stale;
    ngx_flag_t            fail_open;
} ngx_http_capif_status_loc_conf_t;


typedef struct {
    ngx_str_t             key;
    ngx_str_t             path;        /* $capif_invoker_status_uri */
    ngx_uint_t            polls;
    unsigned              fetched:1;
} ngx_http_capif_status_ctx_t;


typedef struct {
    ngx_str_t             key;         /* in the parent's pool */
    ngx_str_t             aef_id;
    ngx_str_t             api_id;
    ngx_str_t             invoker;
    ngx_http_capif_status_ctx_t  *ctx; /* NULL: a background refresh */
} ngx_http_capif_status_fetch_t;


/* ngx_http_capif_invoker_status_zone.c: the zone "capif_status" */
ngx_int_t ngx_http_capif_status_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
ngx_http_capif_status_node_t *ngx_http_capif_status_lookup(
    ngx_http_capif_status_main_conf_t *smcf, ngx_str_t *key);
ngx_http_capif_status_node_t *ngx_http_capif_status_create(
    ngx_http_capif_status_main_conf_t *smcf, ngx_str_t *key, time_t now);

/* ngx_http_capif_invoker_status_fetch.c: asks the CCF */
ngx_int_t ngx_http_capif_status_fetch(ngx_http_request_t *r,
    ngx_http_capif_status_loc_conf_t *slcf, ngx_http_capif_ctx_t *ctx,
    ngx_str_t *aef_id, ngx_str_t *api_id, ngx_http_capif_status_ctx_t *sctx,
    ngx_uint_t background);


#endif /* NGX_HTTP_CAPIF_STATUS_H */

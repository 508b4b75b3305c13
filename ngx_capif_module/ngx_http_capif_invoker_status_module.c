/*
 * Copyright (C) ngx_capif_module authors
 *
 * capif_invoker_status: asks the CCF whether an invoker is still
 * authorized (TS 29.222 Obtain_API_Invoker_Info), once its token verified
 * and every other check passed.  The reference CCF revokes by deleting
 * the invoker's security context and tells no AEF; this is how the
 * gateway learns of it.
 *
 * Answers are cached in the shared zone "capif_status" per invoker, AEF
 * and API for ttl.  A warm entry decides at once and, once ttl has passed,
 * one call starts a background refresh.  A cold invoker's calls wait for
 * one fetch: one of them holds the fetch lease, the others poll the zone.
 */

#include <signal.h>

#include "ngx_http_capif_invoker_status.h"
#include "ngx_http_capif_ccf.h"
#include "ngx_http_capif_revocation.h"
#include "capif_ccf_status.h"


#define NGX_HTTP_CAPIF_STATUS_ZONE_SIZE  (2 * 1024 * 1024)
#define NGX_HTTP_CAPIF_STATUS_MAX_BODY   (64 * 1024)
#define NGX_HTTP_CAPIF_STATUS_LEASE      30
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
    time_t                attempt;
    time_t                failed;      /* last fetch without an answer */
    time_t                lease_until;
    ngx_pid_t             lease_pid;
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


static ngx_int_t ngx_http_capif_status_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_capif_status_fetched(ngx_http_request_t *sr,
    void *data, ngx_http_capif_ccf_answer_t *answer);
static ngx_int_t ngx_http_capif_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static char *ngx_http_capif_invoker_status(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_capif_status_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_capif_status_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_capif_status_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_capif_status_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_capif_status_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);


static ngx_command_t  ngx_http_capif_status_commands[] = {

    { ngx_string("capif_invoker_status"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_capif_invoker_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_capif_status_module_ctx = {
    ngx_http_capif_status_preconfiguration,  /* preconfiguration */
    ngx_http_capif_status_postconfiguration, /* postconfiguration */

    ngx_http_capif_status_create_main_conf,  /* create main configuration */
    NULL,                                    /* init main configuration */

    NULL,                                    /* create server configuration */
    NULL,                                    /* merge server configuration */

    ngx_http_capif_status_create_loc_conf,   /* create location configuration */
    ngx_http_capif_status_merge_loc_conf     /* merge location configuration */
};


ngx_module_t  ngx_http_capif_invoker_status_module = {
    NGX_MODULE_V1,
    &ngx_http_capif_status_module_ctx,     /* module context */
    ngx_http_capif_status_commands,        /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_capif_status_query =
    ngx_string("authenticationInfo=false&authorizationInfo=true");


static ngx_http_capif_status_node_t *
ngx_http_capif_status_lookup(ngx_http_capif_status_main_conf_t *smcf,
    ngx_str_t *key)
{
    ngx_str_node_t  *sn;

    sn = ngx_str_rbtree_lookup(&smcf->sh->rbtree, key,
                               ngx_crc32_short(key->data, key->len));

    return (ngx_http_capif_status_node_t *) sn;
}


/* a new entry; the least recently used ones make room (zone locked) */
static ngx_http_capif_status_node_t *
ngx_http_capif_status_create(ngx_http_capif_status_main_conf_t *smcf,
    ngx_str_t *key, time_t now)
{
    u_char                        *p;
    ngx_uint_t                     n;
    ngx_queue_t                   *q;
    ngx_http_capif_status_node_t  *node, *old;

    for (n = 0; n < 16; n++) {
        node = ngx_slab_alloc_locked(smcf->shpool,
                                     sizeof(ngx_http_capif_status_node_t)
                                     + key->len);
        if (node != NULL) {
            break;
        }

        if (ngx_queue_empty(&smcf->sh->lru)) {
            return NULL;
        }

        q = ngx_queue_last(&smcf->sh->lru);
        old = ngx_queue_data(q, ngx_http_capif_status_node_t, queue);

        ngx_queue_remove(q);
        ngx_rbtree_delete(&smcf->sh->rbtree, &old->sn.node);
        ngx_slab_free_locked(smcf->shpool, old);
    }

    if (node == NULL) {
        return NULL;
    }

    ngx_memzero(node, sizeof(ngx_http_capif_status_node_t));

    p = (u_char *) (node + 1);
    ngx_memcpy(p, key->data, key->len);

    node->sn.str.data = p;
    node->sn.str.len = key->len;
    node->sn.node.key = ngx_crc32_short(key->data, key->len);

    ngx_rbtree_insert(&smcf->sh->rbtree, &node->sn.node);
    ngx_queue_insert_head(&smcf->sh->lru, &node->queue);

    return node;
}


static ngx_uint_t
ngx_http_capif_status_leased(ngx_http_capif_status_node_t *node, time_t now)
{
    if (node->lease_pid == 0 || node->lease_until <= now) {
        return 0;
    }

    /* a worker that died mid-fetch leaves its lease behind */
    if (node->lease_pid != ngx_pid && kill(node->lease_pid, 0) == -1
        && ngx_errno == NGX_ESRCH)
    {
        return 0;
    }

    return 1;
}


static ngx_int_t
ngx_http_capif_status_fetch(ngx_http_request_t *r,
    ngx_http_capif_status_loc_conf_t *slcf, ngx_http_capif_ctx_t *ctx,
    ngx_str_t *aef_id, ngx_str_t *api_id, ngx_http_capif_status_ctx_t *sctx,
    ngx_uint_t background)
{
    u_char                         *p;
    size_t                          len;
    ngx_str_t                       uri, path;
    ngx_http_request_t             *sr;
    ngx_http_capif_status_ctx_t    *srctx;
    ngx_http_capif_status_fetch_t  *fetch;

    fetch = ngx_pcalloc(r->pool, sizeof(ngx_http_capif_status_fetch_t));
    if (fetch == NULL) {
        return NGX_ERROR;
    }

    fetch->key = sctx->key;
    fetch->aef_id = *aef_id;
    fetch->api_id = *api_id;
    fetch->invoker = ctx->invoker_id;
    fetch->ctx = background ? NULL : sctx;

    /* <uri>/<apiInvokerId>, the id percent-encoded as one path segment */
    len = 3 * ctx->invoker_id.len;

    p = ngx_pnalloc(r->pool, slcf->uri.len + 1 + len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    uri.data = p;
    p = ngx_cpymem(p, slcf->uri.data, slcf->uri.len);
    *p++ = '/';
    p += capif_pct_encode_segment(ctx->invoker_id.data, ctx->invoker_id.len,
                                  p);
    uri.len = p - uri.data;

    /* the same, for proxy_pass ...trustedInvokers/$capif_invoker_status_uri */
    path.data = uri.data + slcf->uri.len + 1;
    path.len = uri.len - slcf->uri.len - 1;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "capif_invoker_status: asking the CCF about invoker "
                  "\"%V\"%s", &ctx->invoker_id,
                  background ? " in the background" : "");

    if (ngx_http_capif_ccf_get(r, &uri, &ngx_http_capif_status_query,
                               NGX_HTTP_CAPIF_STATUS_MAX_BODY, background,
                               ngx_http_capif_status_fetched, fetch, &sr)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    srctx = ngx_pcalloc(r->pool, sizeof(ngx_http_capif_status_ctx_t));
    if (srctx == NULL) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, path.len + 1 + ngx_http_capif_status_query.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    srctx->path.data = p;
    p = ngx_cpymem(p, path.data, path.len);
    *p++ = '?';
    p = ngx_cpymem(p, ngx_http_capif_status_query.data,
                   ngx_http_capif_status_query.len);
    srctx->path.len = p - srctx->path.data;

    ngx_http_set_ctx(sr, srctx, ngx_http_capif_invoker_status_module);

    return NGX_OK;
}


static void
ngx_http_capif_status_fetched(ngx_http_request_t *sr, void *data,
    ngx_http_capif_ccf_answer_t *answer)
{
    ngx_http_capif_status_fetch_t *fetch = data;

    int                                 rc;
    time_t                              now;
    ngx_uint_t                          state;
    ngx_http_capif_status_node_t       *node;
    ngx_http_capif_status_main_conf_t  *smcf;
    char                                why[128];

    if (fetch->ctx) {
        fetch->ctx->fetched = 1;
    }

    now = ngx_time();
    state = NGX_HTTP_CAPIF_STATUS_UNKNOWN;
    why[0] = '\0';

    if (answer->status == NGX_HTTP_OK) {
        rc = capif_service_security_grants(answer->body.data,
                                           answer->body.len,
                                           (char *) fetch->aef_id.data,
                                           fetch->aef_id.len,
                                           (char *) fetch->api_id.data,
                                           fetch->api_id.len, why,
                                           sizeof(why));
        if (rc == 1) {
            state = NGX_HTTP_CAPIF_STATUS_GRANTED;

        } else if (rc == 0) {
            state = NGX_HTTP_CAPIF_STATUS_WITHDRAWN;
        }

        if (answer->too_big) {
            ngx_sprintf((u_char *) why, "answer too large%Z");
        }

    } else if (answer->status == NGX_HTTP_NOT_FOUND) {
        /* the invoker is offboarded, or its security context deleted */
        state = NGX_HTTP_CAPIF_STATUS_WITHDRAWN;

    } else if (answer->status) {
        ngx_sprintf((u_char *) why, "status %ui%Z", answer->status);

    } else {
        ngx_sprintf((u_char *) why, "no answer (see the lines above)%Z");
    }

    smcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                        ngx_http_capif_invoker_status_module);

    ngx_shmtx_lock(&smcf->shpool->mutex);

    node = ngx_http_capif_status_lookup(smcf, &fetch->key);

    if (node != NULL) {
        if (state != NGX_HTTP_CAPIF_STATUS_UNKNOWN) {
            node->state = state;
            node->checked = now;
            node->failed = 0;

        } else {
            node->failed = now;
        }

        if (node->lease_pid == ngx_pid) {
            node->lease_pid = 0;
        }
    }

    ngx_shmtx_unlock(&smcf->shpool->mutex);

    if (state == NGX_HTTP_CAPIF_STATUS_UNKNOWN) {
        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "capif_invoker_status: no usable answer from the CCF "
                      "for invoker \"%V\": %s", &fetch->invoker, why);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, sr->connection->log, 0,
                  "capif_invoker_status: the CCF %s invoker \"%V\" for "
                  "\"%V\" \"%V\"",
                  state == NGX_HTTP_CAPIF_STATUS_GRANTED
                  ? "authorizes" : "no longer authorizes",
                  &fetch->invoker, &fetch->aef_id, &fetch->api_id);
}


static ngx_int_t
ngx_http_capif_status_unavailable(ngx_http_request_t *r,
    ngx_http_capif_ctx_t *ctx, time_t retry)
{
    ngx_int_t         rc;
    ngx_table_elt_t  *h;

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "capif_invoker_status: the CCF's status of invoker \"%V\" "
                  "is unknown or older than max_stale; refused "
                  "(fail=closed)", &ctx->invoker_id);

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

    h->value.len = ngx_sprintf(h->value.data, "%T", retry) - h->value.data;

    rc = ngx_http_capif_send_problem(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     "Service Unavailable", "CCF_UNAVAILABLE",
                                     "the CCF cannot confirm the invoker's "
                                     "authorization now");

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


ngx_int_t
ngx_http_capif_invoker_status_check(ngx_http_request_t *r,
    ngx_http_capif_ctx_t *ctx, capif_error_t *err)
{
    enum { DECIDE, BACKGROUND, FETCH, WAIT, FALLBACK }  action;

    u_char                             *p;
    time_t                              now, retry, checked;
    ngx_str_t                          *api_id;
    ngx_uint_t                          state, fresh, known;
    ngx_http_capif_loc_conf_t          *lcf;
    ngx_http_capif_status_ctx_t        *sctx;
    ngx_http_capif_rev_loc_conf_t      *rlcf;
    ngx_http_capif_status_node_t       *node;
    ngx_http_capif_status_loc_conf_t   *slcf;
    ngx_http_capif_status_main_conf_t  *smcf;

    slcf = ngx_http_get_module_loc_conf(r,
                                        ngx_http_capif_invoker_status_module);

    if (slcf->uri.len == 0) {
        return NGX_OK;
    }

    smcf = ngx_http_get_module_main_conf(r,
                                        ngx_http_capif_invoker_status_module);
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_capif_module);
    rlcf = ngx_http_get_module_loc_conf(r, ngx_http_capif_revocation_module);
    api_id = &rlcf->api_id;

    if (smcf->sh == NULL || api_id->len == 0) {
        return NGX_ERROR;
    }

    sctx = ngx_http_get_module_ctx(r, ngx_http_capif_invoker_status_module);

    if (sctx == NULL) {
        sctx = ngx_pcalloc(r->pool, sizeof(ngx_http_capif_status_ctx_t));
        if (sctx == NULL) {
            return NGX_ERROR;
        }

        ngx_http_set_ctx(r, sctx, ngx_http_capif_invoker_status_module);
    }

    /* uri, invoker, AEF and API, NUL-separated: none may hold a NUL */
    if (sctx->key.len == 0) {
        sctx->key.len = slcf->uri.len + ctx->invoker_id.len
                        + lcf->aef_id.len + api_id->len + 3;
        p = ngx_pnalloc(r->pool, sctx->key.len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        sctx->key.data = p;
        p = ngx_cpymem(p, slcf->uri.data, slcf->uri.len);
        *p++ = '\0';
        p = ngx_cpymem(p, ctx->invoker_id.data, ctx->invoker_id.len);
        *p++ = '\0';
        p = ngx_cpymem(p, lcf->aef_id.data, lcf->aef_id.len);
        *p++ = '\0';
        ngx_memcpy(p, api_id->data, api_id->len);
    }

    now = ngx_time();
    retry = ngx_min(slcf->ttl, NGX_HTTP_CAPIF_STATUS_RETRY);

    ngx_shmtx_lock(&smcf->shpool->mutex);

    node = ngx_http_capif_status_lookup(smcf, &sctx->key);

    if (node == NULL) {
        node = ngx_http_capif_status_create(smcf, &sctx->key, now);

    } else {
        ngx_queue_remove(&node->queue);
        ngx_queue_insert_head(&smcf->sh->lru, &node->queue);
    }

    if (node == NULL) {
        ngx_shmtx_unlock(&smcf->shpool->mutex);
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "capif_invoker_status: zone \"capif_status\" is full");
        return NGX_ERROR;
    }

    state = node->state;
    checked = node->checked;

    known = (state != NGX_HTTP_CAPIF_STATUS_UNKNOWN
             && now < checked + slcf->ttl + slcf->max_stale);
    fresh = (known && checked > smcf->sh->epoch);

    if (fresh && now < checked + slcf->ttl) {
        action = DECIDE;

    } else if (fresh) {
        /* warm: decide now, one call refreshes in the background */
        action = DECIDE;

        if (now >= node->attempt + retry
            && !ngx_http_capif_status_leased(node, now))
        {
            node->lease_pid = ngx_pid;
            node->lease_until = now + NGX_HTTP_CAPIF_STATUS_LEASE;
            node->attempt = now;
            action = BACKGROUND;
        }

    } else if (sctx->fetched) {
        action = FALLBACK;

    } else if (ngx_http_capif_status_leased(node, now)) {
        action = (sctx->polls < NGX_HTTP_CAPIF_STATUS_POLLS) ? WAIT
                                                             : FALLBACK;

    } else if (node->failed && now < node->failed + retry
               && node->lease_pid == 0)
    {
        /* the CCF failed a moment ago: do not hammer it */
        action = FALLBACK;

    } else {
        node->lease_pid = ngx_pid;
        node->lease_until = now + NGX_HTTP_CAPIF_STATUS_LEASE;
        node->attempt = now;
        action = FETCH;
    }

    ngx_shmtx_unlock(&smcf->shpool->mutex);

    switch (action) {

    case BACKGROUND:
        (void) ngx_http_capif_status_fetch(r, slcf, ctx, &lcf->aef_id,
                                           api_id, sctx, 1);
        break;

    case FETCH:
        if (ngx_http_capif_status_fetch(r, slcf, ctx, &lcf->aef_id, api_id,
                                        sctx, 0)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        sctx->fetched = 1;
        return NGX_AGAIN;

    case WAIT:
        sctx->polls++;
        return ngx_http_capif_ccf_wait(r, NGX_HTTP_CAPIF_STATUS_POLL);

    case FALLBACK:
        /* the last known status holds for max_stale */
        if (known) {
            break;
        }

        if (!slcf->fail_open) {
            return ngx_http_capif_status_unavailable(r, ctx, retry);
        }

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "capif_invoker_status: the CCF's status of invoker "
                      "\"%V\" is unknown; fail=open lets the token decide",
                      &ctx->invoker_id);
        return NGX_OK;

    default: /* DECIDE */
        break;
    }

    if (state == NGX_HTTP_CAPIF_STATUS_GRANTED) {
        return NGX_OK;
    }

    (void) capif_fail(err, CAPIF_INVALID_TOKEN, "CCF_AUTHORIZATION_WITHDRAWN",
                      "the CCF no longer authorizes this invoker for this "
                      "API");

    return NGX_DECLINED;
}


void
ngx_http_capif_invoker_status_expire_all(ngx_cycle_t *cycle)
{
    ngx_http_capif_status_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(cycle,
                                        ngx_http_capif_invoker_status_module);

    if (smcf == NULL || smcf->sh == NULL) {
        return;
    }

    ngx_shmtx_lock(&smcf->shpool->mutex);
    smcf->sh->epoch = ngx_time();
    ngx_shmtx_unlock(&smcf->shpool->mutex);

    ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                  "capif_invoker_status: every cached status expired");
}


static ngx_int_t
ngx_http_capif_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_capif_status_ctx_t  *sctx;

    sctx = ngx_http_get_module_ctx(r, ngx_http_capif_invoker_status_module);

    if (sctx == NULL || sctx->path.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = sctx->path.data;
    v->len = sctx->path.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


/* capif_invoker_status <uri> [ttl=] [max_stale=] [fail=closed|open]; */
static char *
ngx_http_capif_invoker_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_capif_status_loc_conf_t *slcf = conf;

    ngx_str_t                          *value, s;
    ngx_uint_t                          i;
    ngx_http_capif_status_main_conf_t  *smcf;

    if (slcf->uri.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts > 5) {
        return "takes at most 4 parameters";
    }

    if (value[1].len < 2 || value[1].data[0] != '/'
        || ngx_strlchr(value[1].data, value[1].data + value[1].len, '?'))
    {
        return "needs a URI that starts with \"/\", without arguments";
    }

    slcf->uri = value[1];

    /* "/" is added before the invoker id */
    if (slcf->uri.data[slcf->uri.len - 1] == '/') {
        slcf->uri.len--;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "ttl=", 4) == 0) {
            s.data = value[i].data + 4;
            s.len = value[i].len - 4;
            slcf->ttl = ngx_parse_time(&s, 1);

            if (slcf->ttl == (time_t) NGX_ERROR || slcf->ttl < 1) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "max_stale=", 10) == 0) {
            s.data = value[i].data + 10;
            s.len = value[i].len - 10;
            slcf->max_stale = ngx_parse_time(&s, 1);

            if (slcf->max_stale == (time_t) NGX_ERROR) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strcmp(value[i].data, "fail=closed") == 0) {
            slcf->fail_open = 0;
            continue;
        }

        if (ngx_strcmp(value[i].data, "fail=open") == 0) {
            slcf->fail_open = 1;
            continue;
        }

        goto invalid;
    }

    smcf = ngx_http_conf_get_module_main_conf(cf,
                                        ngx_http_capif_invoker_status_module);
    smcf->used = 1;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in capif_invoker_status",
                       &value[i]);
    return NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_capif_status_preconfiguration(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var;

    static ngx_str_t  name = ngx_string("capif_invoker_status_uri");

    var = ngx_http_add_variable(cf, &name, NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_capif_status_variable;

    return NGX_OK;
}


static ngx_int_t
ngx_http_capif_status_postconfiguration(ngx_conf_t *cf)
{
    ngx_uint_t                          i;
    ngx_http_capif_status_use_t        *use;
    ngx_http_capif_status_main_conf_t  *smcf;

    static ngx_str_t  name = ngx_string("capif_status");

    smcf = ngx_http_conf_get_module_main_conf(cf,
                                        ngx_http_capif_invoker_status_module);

    if (!smcf->used) {
        return NGX_OK;
    }

    /* every merge is done: capif_api_id is known where the check runs */
    use = smcf->uses.elts;

    for (i = 0; i < smcf->uses.nelts; i++) {
        if (use[i].api_id->len == 0) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "capif_invoker_status in location \"%V\" needs "
                          "capif_api_id: the CCF lists authorizations per "
                          "AEF and API", &use[i].name);
            return NGX_ERROR;
        }
    }

    smcf->shm_zone = ngx_shared_memory_add(cf, &name,
                                        NGX_HTTP_CAPIF_STATUS_ZONE_SIZE,
                                        &ngx_http_capif_invoker_status_module);
    if (smcf->shm_zone == NULL) {
        return NGX_ERROR;
    }

    smcf->shm_zone->init = ngx_http_capif_status_init_zone;
    smcf->shm_zone->data = smcf;

    return NGX_OK;
}


static ngx_int_t
ngx_http_capif_status_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_capif_status_main_conf_t  *osmcf = data;

    ngx_http_capif_status_main_conf_t  *smcf;

    smcf = shm_zone->data;

    if (osmcf) {
        /* a reload keeps what the CCF said */
        smcf->sh = osmcf->sh;
        smcf->shpool = osmcf->shpool;
        return NGX_OK;
    }

    smcf->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    smcf->sh = ngx_slab_calloc(smcf->shpool,
                               sizeof(ngx_http_capif_status_shctx_t));
    if (smcf->sh == NULL) {
        return NGX_ERROR;
    }

    smcf->shpool->data = smcf->sh;

    ngx_rbtree_init(&smcf->sh->rbtree, &smcf->sh->sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_queue_init(&smcf->sh->lru);

    return NGX_OK;
}


static void *
ngx_http_capif_status_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_capif_status_main_conf_t  *smcf;

    smcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_capif_status_main_conf_t));
    if (smcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&smcf->uses, cf->pool, 4,
                       sizeof(ngx_http_capif_status_use_t))
        != NGX_OK)
    {
        return NULL;
    }

    return smcf;
}


static void *
ngx_http_capif_status_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_capif_status_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_capif_status_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->uri = { 0, NULL };
     */

    conf->ttl = NGX_CONF_UNSET;
    conf->max_stale = NGX_CONF_UNSET;
    conf->fail_open = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_capif_status_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_capif_status_loc_conf_t *prev = parent;
    ngx_http_capif_status_loc_conf_t *conf = child;

    ngx_str_t                           probe;
    ngx_http_capif_loc_conf_t          *lcf;
    ngx_http_core_loc_conf_t           *clcf;
    ngx_http_capif_status_use_t        *use;
    ngx_http_capif_rev_loc_conf_t      *rlcf;
    ngx_http_capif_status_main_conf_t  *smcf;

    if (conf->uri.data == NULL) {
        conf->uri = prev->uri;
    }

    ngx_conf_merge_sec_value(conf->ttl, prev->ttl, 30);
    ngx_conf_merge_sec_value(conf->max_stale, prev->max_stale, 300);
    ngx_conf_merge_value(conf->fail_open, prev->fail_open, 0);

    if (conf->uri.len == 0) {
        return NGX_CONF_OK;
    }

    lcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_capif_module);
    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    /* where calls are decided: a protected location */
    if (lcf->enable != 1 || clcf->name.len == 0) {
        return NGX_CONF_OK;
    }

    /* checked once every module has merged its part */
    smcf = ngx_http_conf_get_module_main_conf(cf,
                                        ngx_http_capif_invoker_status_module);
    rlcf = ngx_http_conf_get_module_loc_conf(cf,
                                             ngx_http_capif_revocation_module);

    use = ngx_array_push(&smcf->uses);
    if (use == NULL) {
        return NGX_CONF_ERROR;
    }

    use->name = clcf->name;
    use->api_id = &rlcf->api_id;

    /* the location that serves <uri>/<apiInvokerId> */
    probe.len = conf->uri.len + 1;
    probe.data = ngx_pnalloc(cf->pool, probe.len);
    if (probe.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(probe.data, conf->uri.data, conf->uri.len);
    probe.data[conf->uri.len] = '/';

    return ngx_http_capif_ccf_check_uri(cf, &probe,
                                        NGX_HTTP_CAPIF_STATUS_MAX_BODY,
                                        "capif_invoker_status");
}

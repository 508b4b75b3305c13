/*
 * Copyright (C) ngx_capif_module authors
 *
 * The token gate's last check: what the zone knows of the invoker decides
 * at once; a cold invoker's calls wait for one fetch, a warm entry past
 * its ttl is refreshed in the background.
 */

#include "ngx_http_capif_status.h"
#include "ngx_http_capif_revocation.h"


static ngx_int_t
ngx_http_capif_status_unavailable(ngx_http_request_t *r,
    ngx_http_capif_ctx_t *ctx, time_t retry)
{
    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "capif_invoker_status: the CCF's status of invoker \"%V\" "
                  "is unknown or older than max_stale; refused "
                  "(fail=closed)", &ctx->invoker_id);

    return ngx_http_capif_ccf_unavailable(r, retry, "CCF_UNAVAILABLE",
                                          "the CCF cannot confirm the "
                                          "invoker's authorization now");
}


/* the call's context, with the zone key of its invoker, AEF and API */
static ngx_http_capif_status_ctx_t *
ngx_http_capif_status_get_ctx(ngx_http_request_t *r,
    ngx_http_capif_status_loc_conf_t *slcf, ngx_str_t *invoker,
    ngx_str_t *aef_id, ngx_str_t *api_id)
{
    u_char                       *p;
    ngx_http_capif_status_ctx_t  *sctx;

    sctx = ngx_http_get_module_ctx(r, ngx_http_capif_invoker_status_module);

    if (sctx == NULL) {
        sctx = ngx_pcalloc(r->pool, sizeof(ngx_http_capif_status_ctx_t));
        if (sctx == NULL) {
            return NULL;
        }

        ngx_http_set_ctx(r, sctx, ngx_http_capif_invoker_status_module);
    }

    if (sctx->key.len) {
        return sctx;
    }

    /* uri, invoker, AEF and API, NUL-separated: none may hold a NUL */
    sctx->key.len = slcf->uri.len + invoker->len + aef_id->len + api_id->len
                    + 3;
    p = ngx_pnalloc(r->pool, sctx->key.len);
    if (p == NULL) {
        return NULL;
    }

    sctx->key.data = p;
    p = ngx_cpymem(p, slcf->uri.data, slcf->uri.len);
    *p++ = '\0';
    p = ngx_cpymem(p, invoker->data, invoker->len);
    *p++ = '\0';
    p = ngx_cpymem(p, aef_id->data, aef_id->len);
    *p++ = '\0';
    ngx_memcpy(p, api_id->data, api_id->len);

    return sctx;
}


ngx_int_t
ngx_http_capif_invoker_status_check(ngx_http_request_t *r,
    ngx_http_capif_ctx_t *ctx, capif_error_t *err)
{
    enum { DECIDE, BACKGROUND, FETCH, WAIT, FALLBACK }  action;

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

    sctx = ngx_http_capif_status_get_ctx(r, slcf, &ctx->invoker_id,
                                         &lcf->aef_id, api_id);
    if (sctx == NULL) {
        return NGX_ERROR;
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

        if (now >= node->lease.attempt + retry
            && !ngx_http_capif_ccf_leased(&node->lease, now))
        {
            ngx_http_capif_ccf_take_lease(&node->lease, now);
            action = BACKGROUND;
        }

    } else if (sctx->fetched) {
        action = FALLBACK;

    } else if (ngx_http_capif_ccf_leased(&node->lease, now)) {
        action = (sctx->polls < NGX_HTTP_CAPIF_STATUS_POLLS) ? WAIT
                                                             : FALLBACK;

    } else if (node->failed && now < node->failed + retry
               && node->lease.pid == 0)
    {
        /* the CCF failed a moment ago: do not hammer it */
        action = FALLBACK;

    } else {
        ngx_http_capif_ccf_take_lease(&node->lease, now);
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

/*
 * Copyright (C) ngx_capif_module authors
 *
 * Asks the CCF about an invoker (TS 29.222 Obtain_API_Invoker_Info:
 * GET <uri>/<apiInvokerId>) and records its answer in the zone.
 */

#include "ngx_http_capif_status.h"
#include "capif_ccf_status.h"


static void ngx_http_capif_status_fetched(ngx_http_request_t *sr,
    void *data, ngx_http_capif_ccf_answer_t *answer);


static ngx_str_t  ngx_http_capif_status_query =
    ngx_string("authenticationInfo=false&authorizationInfo=true");


ngx_int_t
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

        ngx_http_capif_ccf_end_lease(&node->lease);
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

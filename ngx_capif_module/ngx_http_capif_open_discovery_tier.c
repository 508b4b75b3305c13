/*
 * Copyright (C) ngx_capif_module authors
 *
 * The open discovery requestor's tier: authorized by a bearer token with
 * the discovery scope or by a verified client certificate, else
 * anonymous.
 */

#include "ngx_http_capif.h"
#include "ngx_http_capif_revocation.h"
#include "ngx_http_capif_open_discovery.h"


typedef struct {
    capif_token_t                    token;
    ngx_uint_t                       used;
} ngx_http_capif_od_token_t;


static void
ngx_http_capif_od_token_cleanup(void *data)
{
    ngx_http_capif_od_token_t  *t = data;

    if (t->used) {
        capif_token_free(&t->token);
    }
}


/*
 * The tier: a bearer token that verifies against the location's keys and
 * whose scope holds capif_open_discovery_scope, or a client certificate
 * nginx verified; anonymous if neither is offered.  An Authorization
 * header that does not carry a valid token is refused, never anonymous.
 */
ngx_int_t
ngx_http_capif_od_tier(ngx_http_request_t *r,
    ngx_http_capif_od_loc_conf_t *odcf, ngx_http_capif_od_ctx_t *ctx,
    capif_error_t *err)
{
    u_char                         *p, *end, *scratch;
    ngx_str_t                       token;
    ngx_int_t                       rc;
    ngx_pool_cleanup_t             *cln;
    ngx_http_capif_ctx_t           *cctx;
    capif_claims_conf_t             claims_conf;
    ngx_http_variable_value_t      *vv;
    ngx_http_capif_od_token_t      *t;
    ngx_http_capif_loc_conf_t      *ccf;
    ngx_http_capif_od_main_conf_t  *mcf;

    static ngx_str_t                none = ngx_string("-");
    static const capif_error_t      not_bearer = {
        CAPIF_INVALID_TOKEN, "TOKEN_SCHEME",
        "open discovery takes a Bearer token or none"
    };

    ctx->invoker_id = none;

    if (r->headers_in.authorization == NULL) {

        mcf = ngx_http_get_module_main_conf(r,
                                        ngx_http_capif_open_discovery_module);

        vv = (mcf->verify_index == NGX_ERROR) ? NULL
             : ngx_http_get_indexed_variable(r, mcf->verify_index);

        if (vv != NULL && !vv->not_found && vv->len == sizeof("SUCCESS") - 1
            && ngx_strncmp(vv->data, "SUCCESS", vv->len) == 0)
        {
            ctx->tier = NGX_HTTP_CAPIF_OD_AUTHORIZED;

            /* the certificate's subject stands for the requestor */
            vv = ngx_http_get_indexed_variable(r, mcf->dn_index);

            if (vv != NULL && !vv->not_found && vv->len) {
                ctx->invoker_id.data = vv->data;
                ctx->invoker_id.len = vv->len;
            }

            return NGX_OK;
        }

        ctx->tier = NGX_HTTP_CAPIF_OD_ANONYMOUS;
        return NGX_OK;
    }

    if (ngx_http_capif_bearer(r->headers_in.authorization, &token,
                              &not_bearer, err)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    p = token.data;
    end = token.data + token.len;

    ccf = ngx_http_get_module_loc_conf(r, ngx_http_capif_module);

    if (ccf->keys == NULL) {
        (void) capif_fail(err, CAPIF_INVALID_TOKEN, "TOKEN_UNVERIFIABLE",
                          "no capif_key_file here to verify tokens with");
        return NGX_DECLINED;
    }

    t = ngx_pcalloc(r->pool, sizeof(ngx_http_capif_od_token_t));
    scratch = ngx_pnalloc(r->pool, capif_jws_scratch_size(
                              ngx_min((size_t) (end - p),
                                      CAPIF_TOKEN_MAX_LEN)));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (t == NULL || scratch == NULL || cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_capif_od_token_cleanup;
    cln->data = t;

    ngx_http_capif_claims_conf(ccf, &claims_conf);

    if (capif_token_verify(&t->token, ccf->keys, p, end - p, scratch,
                           &claims_conf, ngx_time(), err)
        != 0)
    {
        return NGX_DECLINED;
    }

    t->used = 1;

    ctx->invoker_id.len = t->token.claims.invoker_id_len;
    ctx->invoker_id.data = ngx_pnalloc(r->pool, ctx->invoker_id.len);
    if (ctx->invoker_id.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ctx->invoker_id.data, t->token.claims.invoker_id,
               ctx->invoker_id.len);

    /* a revoked token (by jti or digest) or a too long-lived one */
    if (ngx_http_capif_revocation_check) {
        cctx = ngx_pcalloc(r->pool, sizeof(ngx_http_capif_ctx_t));
        if (cctx == NULL) {
            return NGX_ERROR;
        }

        cctx->token = t->token;
        cctx->invoker_id = ctx->invoker_id;
        cctx->scope.data = (u_char *) t->token.claims.scope;
        cctx->scope.len = t->token.claims.scope_len;
        cctx->verified = 1;

        rc = ngx_http_capif_revocation_check(r, cctx, err);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    if (!capif_od_scope_has(t->token.claims.scope, t->token.claims.scope_len,
                            (const char *) odcf->scope.data, odcf->scope.len))
    {
        (void) capif_fail(err, CAPIF_INSUFFICIENT_SCOPE,
                          "OPEN_DISCOVERY_SCOPE_MISSING",
                          "the token's scope does not grant open discovery");
        return NGX_DECLINED;
    }

    ctx->tier = NGX_HTTP_CAPIF_OD_AUTHORIZED;

    return NGX_OK;
}

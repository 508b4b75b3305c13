/*
 * Copyright (C) ngx_capif_module authors
 *
 * Variables describing a call: who was allowed (for proxy_set_header and
 * logs) and what was decided (for logs: log_format ... escape=json).
 */

#include "ngx_http_capif.h"
#include "ngx_http_capif_metrics.h"


static ngx_int_t ngx_http_capif_ctx_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_capif_decided_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_capif_token_invoker_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_capif_decision_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_capif_cause_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_capif_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static void ngx_http_capif_decision_mark(void *data);


static ngx_http_variable_t  ngx_http_capif_vars[] = {

    { ngx_string("capif_invoker_id"), NULL, ngx_http_capif_ctx_variable,
      offsetof(ngx_http_capif_ctx_t, invoker_id), NGX_HTTP_VAR_NOCACHEABLE,
      0 },

    { ngx_string("capif_scope"), NULL, ngx_http_capif_ctx_variable,
      offsetof(ngx_http_capif_ctx_t, scope), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("capif_resource_owner"), NULL, ngx_http_capif_ctx_variable,
      offsetof(ngx_http_capif_ctx_t, resource_owner),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("capif_group_id"), NULL, ngx_http_capif_ctx_variable,
      offsetof(ngx_http_capif_ctx_t, group_id), NGX_HTTP_VAR_NOCACHEABLE,
      0 },

    { ngx_string("capif_invoker_ue"), NULL, ngx_http_capif_ctx_variable,
      offsetof(ngx_http_capif_ctx_t, invoker_ue), NGX_HTTP_VAR_NOCACHEABLE,
      0 },

    { ngx_string("capif_purpose"), NULL, ngx_http_capif_ctx_variable,
      offsetof(ngx_http_capif_ctx_t, purpose), NGX_HTTP_VAR_NOCACHEABLE,
      0 },

    { ngx_string("capif_aef_id"), NULL, ngx_http_capif_decided_variable,
      offsetof(ngx_http_capif_ctx_t, aef_id), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("capif_api_name"), NULL, ngx_http_capif_decided_variable,
      offsetof(ngx_http_capif_ctx_t, api_name), NGX_HTTP_VAR_NOCACHEABLE,
      0 },

    { ngx_string("capif_token_invoker"), NULL,
      ngx_http_capif_token_invoker_variable, 0, NGX_HTTP_VAR_NOCACHEABLE,
      0 },

    { ngx_string("capif_decision"), NULL, ngx_http_capif_decision_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("capif_cause"), NULL, ngx_http_capif_cause_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("capif_status"), NULL, ngx_http_capif_status_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


/*
 * An internal redirect (error_page after an allowed call) clears the
 * request's module ctx; a subrequest has none.  Both share the main
 * request's pool, where ngx_http_capif_decided() leaves a marker.
 */
ngx_http_capif_ctx_t *
ngx_http_capif_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t    *cln;
    ngx_http_capif_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_capif_module);

    if (ctx != NULL && ctx->status) {
        return ctx;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_capif_decision_mark) {
            return cln->data;
        }
    }

    return ctx;
}


ngx_int_t
ngx_http_capif_decided(ngx_http_request_t *r, ngx_uint_t status,
    const char *cause)
{
    ngx_pool_cleanup_t         *cln;
    ngx_http_capif_ctx_t       *ctx;
    ngx_http_capif_loc_conf_t  *lcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_capif_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_capif_ctx_t));
        if (ctx == NULL) {
            return NGX_ERROR;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_capif_module);
    }

    if (ctx->status == 0) {
        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            return NGX_ERROR;
        }

        cln->handler = ngx_http_capif_decision_mark;
        cln->data = ctx;

        ngx_http_capif_metrics_request(cause);
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_capif_module);

    ctx->status = status;
    ctx->cause = cause;
    ctx->aef_id = lcf->aef_id;
    ctx->api_name = lcf->api_name;

    return NGX_OK;
}


static void
ngx_http_capif_decision_mark(void *data)
{
    /* only a marker: the ctx is freed with the pool */
}


static ngx_int_t
ngx_http_capif_set_value(ngx_http_variable_value_t *v, u_char *data,
    size_t len)
{
    if (len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = data;
    v->len = len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


/*
 * Not found until the access phase has allowed the call, and for a part
 * (owner, group, purpose) that was not part of the decision: no header.
 * A subrequest may go to another location and backend than the call
 * that was allowed: it sends no identity of the main request.
 */
static ngx_int_t
ngx_http_capif_ctx_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t             *s;
    ngx_http_capif_ctx_t  *ctx;

    if (r == r->main) {
        ctx = ngx_http_capif_get_ctx(r);

    } else {
        ctx = ngx_http_get_module_ctx(r, ngx_http_capif_module);
    }

    if (ctx == NULL || !ctx->allowed) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = (ngx_str_t *) ((char *) ctx + data);

    return ngx_http_capif_set_value(v, s->data, s->len);
}


/* the location's AEF and API, once a call there was decided either way */
static ngx_int_t
ngx_http_capif_decided_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t             *s;
    ngx_http_capif_ctx_t  *ctx;

    ctx = ngx_http_capif_get_ctx(r);

    if (ctx == NULL || ctx->status == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = (ngx_str_t *) ((char *) ctx + data);

    return ngx_http_capif_set_value(v, s->data, s->len);
}


/*
 * The invoker of a token whose signature and claims verified, also when
 * the call was then refused (scope, policy, revocation): for logs only.
 */
static ngx_int_t
ngx_http_capif_token_invoker_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_capif_ctx_t  *ctx;

    ctx = ngx_http_capif_get_ctx(r);

    if (ctx == NULL || !ctx->verified) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_capif_set_value(v, ctx->invoker_id.data,
                                    ctx->invoker_id.len);
}


static ngx_int_t
ngx_http_capif_decision_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_capif_ctx_t  *ctx;

    ctx = ngx_http_capif_get_ctx(r);

    if (ctx == NULL || ctx->status == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    if (ctx->cause == NULL) {
        return ngx_http_capif_set_value(v, (u_char *) "allowed",
                                        sizeof("allowed") - 1);
    }

    return ngx_http_capif_set_value(v, (u_char *) "refused",
                                    sizeof("refused") - 1);
}


static ngx_int_t
ngx_http_capif_cause_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_capif_ctx_t  *ctx;

    ctx = ngx_http_capif_get_ctx(r);

    if (ctx == NULL || ctx->cause == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_capif_set_value(v, (u_char *) ctx->cause,
                                    ngx_strlen(ctx->cause));
}


static ngx_int_t
ngx_http_capif_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                *p;
    ngx_http_capif_ctx_t  *ctx;

    ctx = ngx_http_capif_get_ctx(r);

    if (ctx == NULL || ctx->status == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_capif_set_value(v, p,
                                    ngx_sprintf(p, "%ui", ctx->status) - p);
}


ngx_int_t
ngx_http_capif_add_variables(ngx_conf_t *cf)
{
    return ngx_http_capif_register_variables(cf, ngx_http_capif_vars);
}


ngx_int_t
ngx_http_capif_register_variables(ngx_conf_t *cf, ngx_http_variable_t *vars)
{
    ngx_http_variable_t  *var, *v;

    for (v = vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}

/*
 * Copyright (C) ngx_capif_module authors
 *
 * Variables describing an allowed call, for logs and proxy_set_header.
 */

#include "ngx_http_capif.h"


static ngx_int_t ngx_http_capif_ctx_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


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

      ngx_http_null_variable
};


/*
 * Not found until the access phase has allowed the call, and for a part
 * (owner, group, purpose) that was not part of the decision: no header.
 */
static ngx_int_t
ngx_http_capif_ctx_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t             *s;
    ngx_http_capif_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_capif_module);

    s = (ctx && ctx->allowed) ? (ngx_str_t *) ((char *) ctx + data) : NULL;

    if (s == NULL || s->len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = s->data;
    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


ngx_int_t
ngx_http_capif_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_capif_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}

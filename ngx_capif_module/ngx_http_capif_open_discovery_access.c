/*
 * Copyright (C) ngx_capif_module authors
 *
 * The open discovery guard in the access phase: TLS, method, no body,
 * the query's length and parameters, and the requestor's tier; and
 * $capif_discovery_tier.  What passes goes to the CCF, whose answer the
 * response filter trims to the tier.
 */

#include "ngx_http_capif.h"
#include "ngx_http_capif_revocation.h"
#include "ngx_http_capif_open_discovery.h"


static void ngx_http_capif_od_ctx_cleanup(void *data);
static ngx_uint_t ngx_http_capif_od_secure(ngx_http_request_t *r);
static u_char *ngx_http_capif_od_printable(ngx_http_request_t *r,
    ngx_str_t *s);


static const char  *ngx_http_capif_od_tiers[] = {
    "", "anonymous", "authorized"
};


static ngx_str_t  ngx_http_capif_od_problem_type =
    ngx_string("application/problem+json");


ngx_int_t
ngx_http_capif_od_handler(ngx_http_request_t *r)
{
    char                          *json;
    size_t                         len;
    u_char                        *args, *invoker;
    ngx_str_t                      body;
    ngx_int_t                      rc;
    capif_error_t                  err;
    ngx_pool_cleanup_t            *cln;
    capif_od_query_err_t           qerr;
    ngx_http_capif_od_ctx_t       *ctx;
    ngx_http_capif_od_loc_conf_t  *odcf;

    odcf = ngx_http_get_module_loc_conf(r,
                                        ngx_http_capif_open_discovery_module);

    if (!odcf->enable || r != r->main) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_capif_open_discovery_module);
    if (ctx != NULL) {
        return NGX_DECLINED;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_capif_od_ctx_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (ctx == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_capif_od_ctx_cleanup;
    cln->data = ctx;
    ctx->conf = odcf;

    ngx_http_set_ctx(r, ctx, ngx_http_capif_open_discovery_module);

    if (ngx_http_capif_od_no_store(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!ngx_http_capif_od_secure(r)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "capif: open discovery refused 403: plain HTTP from "
                      "%V", &r->connection->addr_text);

        rc = ngx_http_capif_send_problem(r, NGX_HTTP_FORBIDDEN, "Forbidden",
                 "TLS_REQUIRED", "open discovery is served over TLS only");
        goto done;
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        if (ngx_http_capif_add_header(r, "Allow", (u_char *) "GET, HEAD",
                                      sizeof("GET, HEAD") - 1)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "capif: open discovery refused 405: method \"%V\"",
                      &r->method_name);

        rc = ngx_http_capif_send_problem(r, NGX_HTTP_NOT_ALLOWED,
                 "Method Not Allowed", "METHOD_NOT_ALLOWED",
                 "open discovery allows GET and HEAD only");
        goto done;
    }

    /* the operation has no request body: none is carried to the CCF */
    if (r->headers_in.content_length_n > 0 || r->headers_in.chunked) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "capif: open discovery refused 400: request body");

        rc = ngx_http_capif_send_problem(r, NGX_HTTP_BAD_REQUEST,
                 "Bad Request", "REQUEST_BODY_NOT_ALLOWED",
                 "open discovery takes no request body");
        goto done;
    }

    if (r->args.len > odcf->max_query) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "capif: open discovery refused 414: query of %uz "
                      "bytes exceeds capif_open_discovery_max_query",
                      r->args.len);

        rc = ngx_http_capif_send_problem(r, NGX_HTTP_REQUEST_URI_TOO_LARGE,
                 "URI Too Long", "QUERY_TOO_LONG",
                 "the query exceeds what open discovery accepts");
        goto done;
    }

    switch (ngx_http_capif_od_tier(r, odcf, ctx, &err)) {
    case NGX_OK:
        break;
    case NGX_DECLINED:
        rc = ngx_http_capif_deny(r, &err);
        goto done;
    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (capif_od_query_check((const char *) r->args.data, r->args.len, &qerr)
        != 0)
    {
        body.data = (u_char *) qerr.name;
        body.len = ngx_min(qerr.name_len, 64);

        args = ngx_http_capif_od_printable(r, &body);
        if (args == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "capif: open discovery refused 400: query parameter "
                      "\"%s\": %s", args, qerr.reason);

        json = capif_od_problem(NGX_HTTP_BAD_REQUEST, "Bad Request",
                                "INVALID_QUERY_PARAM",
                                "a query parameter is unknown, repeated or "
                                "malformed", qerr.name, qerr.name_len,
                                qerr.reason, &len);
        if (json == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        body.data = ngx_http_capif_adopt(r->pool, json, len);
        if (body.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        body.len = len;

        rc = ngx_http_capif_send_body(r, NGX_HTTP_BAD_REQUEST,
                                      &ngx_http_capif_od_problem_type, &body);
        goto done;
    }

    args = ngx_http_capif_od_printable(r, &r->args);
    invoker = ngx_http_capif_od_printable(r, &ctx->invoker_id);

    if (args == NULL || invoker == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "capif: open discovery tier %s, client %V, invoker \"%s\", "
                  "query \"%s\"", ngx_http_capif_od_tiers[ctx->tier],
                  &r->connection->addr_text, invoker, args);

    /* from here on the answer is the CCF's, through the filter */
    ctx->phase = NGX_HTTP_CAPIF_OD_READ;

    /* the CCF's validators never turn the answer into a bare 304 */
    r->disable_not_modified = 1;

    return NGX_DECLINED;

done:

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


/* nothing to release: the cleanup marks the context (see the header) */
static void
ngx_http_capif_od_ctx_cleanup(void *data)
{
}


ngx_http_capif_od_ctx_t *
ngx_http_capif_od_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t       *cln;
    ngx_http_capif_od_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_capif_open_discovery_module);

    if (ctx != NULL || !(r->internal || r->filter_finalize)) {
        return ctx;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_capif_od_ctx_cleanup) {
            return cln->data;
        }
    }

    return NULL;
}


/*
 * TLS, or plain HTTP from a loopback address where
 * capif_admin_allow_plain_loopback is on (a server may listen both ways)
 */
static ngx_uint_t
ngx_http_capif_od_secure(ngx_http_request_t *r)
{
    struct sockaddr_in             *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6            *sin6;
#endif
    ngx_http_capif_rev_loc_conf_t  *rcf;

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        return 1;
    }
#endif

    rcf = ngx_http_get_module_loc_conf(r, ngx_http_capif_revocation_module);

    if (!rcf->allow_plain_loopback) {
        return 0;
    }

    switch (r->connection->sockaddr->sa_family) {

    case AF_INET:
        sin = (struct sockaddr_in *) r->connection->sockaddr;
        return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) r->connection->sockaddr;
        return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)
               || (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)
                   && sin6->sin6_addr.s6_addr[12] == 127);
#endif

    default:
        return 0;
    }
}


/* answers of the discovery location are never stored */
ngx_int_t
ngx_http_capif_od_no_store(ngx_http_request_t *r)
{
    return ngx_http_capif_add_header(r, "Cache-Control",
                                     (u_char *) "no-store",
                                     sizeof("no-store") - 1);
}


/* a NUL-terminated copy for the log, anything unusual replaced by '?' */
static u_char *
ngx_http_capif_od_printable(ngx_http_request_t *r, ngx_str_t *s)
{
    u_char      *p;
    ngx_uint_t   i;

    p = ngx_pnalloc(r->pool, s->len + 1);
    if (p == NULL) {
        return NULL;
    }

    for (i = 0; i < s->len; i++) {
        p[i] = (s->data[i] >= 0x20 && s->data[i] < 0x7f && s->data[i] != '"'
                && s->data[i] != '\\') ? s->data[i] : '?';
    }

    p[s->len] = '\0';

    return p;
}


ngx_int_t
ngx_http_capif_od_tier_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_capif_od_ctx_t  *ctx;

    ctx = ngx_http_capif_od_get_ctx(r);

    if (ctx == NULL || ctx->tier == NGX_HTTP_CAPIF_OD_NONE) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = (u_char *) ngx_http_capif_od_tiers[ctx->tier];
    v->len = ngx_strlen(v->data);
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}

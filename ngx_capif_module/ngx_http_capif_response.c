/*
 * Copyright (C) ngx_capif_module authors
 *
 * Refusals: RFC 6750 challenges and 3GPP ProblemDetails bodies.
 */

#include "ngx_http_capif.h"


typedef struct {
    ngx_uint_t    status;
    const char   *title;
    const char   *error;     /* RFC 6750 error code, NULL for none */
} ngx_http_capif_outcome_t;


/* indexed by capif_outcome_t */
static ngx_http_capif_outcome_t  ngx_http_capif_outcomes[] = {
    { NGX_HTTP_OK, "OK", NULL },
    { NGX_HTTP_BAD_REQUEST, "Bad Request", "invalid_request" },
    { NGX_HTTP_UNAUTHORIZED, "Unauthorized", "invalid_token" },
    { NGX_HTTP_FORBIDDEN, "Forbidden", "insufficient_scope" },
    { NGX_HTTP_INTERNAL_SERVER_ERROR, "Internal Server Error", NULL },
    { NGX_HTTP_UNAUTHORIZED, "Unauthorized", NULL }
};


static ngx_str_t  ngx_http_capif_problem_type =
    ngx_string("application/problem+json");


ngx_int_t
ngx_http_capif_send_body(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *content_type, ngx_str_t *body)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    r->headers_out.status = status;
    r->headers_out.content_type = *content_type;
    r->headers_out.content_type_len = content_type->len;
    r->headers_out.content_length_n = body->len;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = body->data;
    b->last = body->data + body->len;
    b->memory = body->len ? 1 : 0;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    if (r->method == NGX_HTTP_HEAD || body->len == 0) {
        r->header_only = 1;
    }

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_capif_send_problem(ngx_http_request_t *r, ngx_uint_t status,
    const char *title, const char *cause, const char *detail)
{
    size_t     tlen, clen, dlen;
    u_char    *p;
    ngx_str_t  body;

    tlen = ngx_strlen(title);
    clen = ngx_strlen(cause);
    dlen = ngx_strlen(detail);

    body.len = sizeof("{\"status\":,\"title\":\"\",\"cause\":\"\","
                      "\"detail\":\"\"}") - 1
               + NGX_INT_T_LEN
               + ngx_escape_json(NULL, (u_char *) title, tlen) + tlen
               + ngx_escape_json(NULL, (u_char *) cause, clen) + clen
               + ngx_escape_json(NULL, (u_char *) detail, dlen) + dlen;

    body.data = ngx_pnalloc(r->pool, body.len);
    if (body.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(body.data, "{\"status\":%ui,\"title\":\"", status);
    p = (u_char *) ngx_escape_json(p, (u_char *) title, tlen);
    p = ngx_cpymem(p, "\",\"cause\":\"", sizeof("\",\"cause\":\"") - 1);
    p = (u_char *) ngx_escape_json(p, (u_char *) cause, clen);
    p = ngx_cpymem(p, "\",\"detail\":\"", sizeof("\",\"detail\":\"") - 1);
    p = (u_char *) ngx_escape_json(p, (u_char *) detail, dlen);
    p = ngx_cpymem(p, "\"}", 2);

    body.len = p - body.data;

    return ngx_http_capif_send_body(r, status, &ngx_http_capif_problem_type,
                                    &body);
}


static ngx_int_t
ngx_http_capif_challenge(ngx_http_request_t *r, ngx_str_t *realm,
    const char *error)
{
    size_t   len;
    u_char  *p, *start;

    len = sizeof("Bearer realm=\"\"") - 1 + realm->len;

    if (error) {
        len += sizeof(", error=\"\"") - 1 + ngx_strlen(error);
    }

    start = ngx_pnalloc(r->pool, len);
    if (start == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(start, "Bearer realm=\"%V\"", realm);

    if (error) {
        p = ngx_sprintf(p, ", error=\"%s\"", error);
    }

    return ngx_http_capif_add_header(r, "WWW-Authenticate", start,
                                     p - start);
}


ngx_int_t
ngx_http_capif_add_header(ngx_http_request_t *r, const char *key,
    u_char *value, size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) key;
    h->key.len = ngx_strlen(key);
    h->value.data = value;
    h->value.len = len;

    return NGX_OK;
}


ngx_int_t
ngx_http_capif_deny(ngx_http_request_t *r, const capif_error_t *err)
{
    ngx_str_t                  *invoker;
    ngx_http_capif_ctx_t       *ctx;
    ngx_http_capif_outcome_t   *o;
    ngx_http_capif_loc_conf_t  *lcf;

    static ngx_str_t            none = ngx_string("-");

    o = &ngx_http_capif_outcomes[err->outcome];

    if (ngx_http_capif_decided(r, o->status, err->cause) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_capif_module);
    invoker = (ctx && ctx->invoker_id.len) ? &ctx->invoker_id : &none;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "capif: refused %ui %s: %s (invoker \"%V\")",
                  o->status, err->cause, err->detail, invoker);

    /* RFC 6750 challenges belong to 400, 401 and 403 only */
    if (o->status != NGX_HTTP_INTERNAL_SERVER_ERROR) {
        lcf = ngx_http_get_module_loc_conf(r, ngx_http_capif_module);

        if (ngx_http_capif_challenge(r, &lcf->realm, o->error) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return ngx_http_capif_send_problem(r, o->status, o->title, err->cause,
                                       err->detail);
}


u_char *
ngx_http_capif_adopt(ngx_pool_t *pool, char *data, size_t len)
{
    u_char  *p;

    p = ngx_pnalloc(pool, len);

    if (p != NULL) {
        ngx_memcpy(p, data, len);
    }

    free(data);

    return p;
}

/*
 * Copyright (C) ngx_capif_module authors
 *
 * nginx refuses a request with two Authorization headers while it reads
 * the headers, before any location is chosen, with its own HTML 400.  This
 * filter turns that answer into the gateway's: an RFC 6750 invalid_request
 * challenge and a ProblemDetails body.
 */

#include "ngx_http_capif.h"


typedef struct {
    ngx_str_t   body;
    unsigned    sent:1;
} ngx_http_capif_duplicate_auth_ctx_t;


static ngx_int_t ngx_http_capif_duplicate_auth_init(ngx_conf_t *cf);


static ngx_http_module_t  ngx_http_capif_duplicate_auth_filter_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_capif_duplicate_auth_init,    /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_capif_duplicate_auth_filter_module = {
    NGX_MODULE_V1,
    &ngx_http_capif_duplicate_auth_filter_module_ctx, /* module context */
    NULL,                                  /* module directives */
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


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;

static ngx_str_t  ngx_http_capif_duplicate_auth_body = ngx_string(
    "{\"status\":400,\"title\":\"Bad Request\","
    "\"cause\":\"AUTHORIZATION_DUPLICATED\","
    "\"detail\":\"more than one Authorization header\"}");


static ngx_uint_t
ngx_http_capif_count_authorization(ngx_http_request_t *r)
{
    ngx_uint_t        i, n;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    n = 0;
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("Authorization") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Authorization",
                               sizeof("Authorization") - 1) == 0)
        {
            n++;
        }
    }

    return n;
}


static ngx_int_t
ngx_http_capif_duplicate_auth_header_filter(ngx_http_request_t *r)
{
    u_char                               *p;
    ngx_table_elt_t                      *h;
    ngx_http_capif_loc_conf_t            *lcf;
    ngx_http_capif_duplicate_auth_ctx_t  *ctx;

    if (r->headers_out.status != NGX_HTTP_BAD_REQUEST
        || r->headers_in.authorization == NULL
        || r != r->main
        || ngx_http_capif_count_authorization(r) < 2)
    {
        return ngx_http_next_header_filter(r);
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_capif_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_capif_duplicate_auth_ctx_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ctx->body = ngx_http_capif_duplicate_auth_body;
    ngx_http_set_ctx(r, ctx, ngx_http_capif_duplicate_auth_filter_module);

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, sizeof("Bearer realm=\"\", "
                                    "error=\"invalid_request\"") - 1
                             + lcf->realm.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "WWW-Authenticate");
    h->value.data = p;
    p = ngx_sprintf(p, "Bearer realm=\"%V\", error=\"invalid_request\"",
                    &lcf->realm);
    h->value.len = p - h->value.data;

    ngx_str_set(&r->headers_out.content_type, "application/problem+json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_length_n = ctx->body.len;

    if (ngx_http_capif_decided(r, NGX_HTTP_BAD_REQUEST,
                               "AUTHORIZATION_DUPLICATED") != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "capif: refused 400 AUTHORIZATION_DUPLICATED: more than "
                  "one Authorization header");

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_capif_duplicate_auth_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in)
{
    ngx_buf_t                            *b;
    ngx_chain_t                           out, *cl;
    ngx_http_capif_duplicate_auth_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r,
                                  ngx_http_capif_duplicate_auth_filter_module);

    if (ctx == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    /* nginx's own HTML body is dropped */
    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;
    }

    if (ctx->sent) {
        return NGX_OK;
    }

    ctx->sent = 1;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = ctx->body.data;
    b->last = ctx->body.data + ctx->body.len;
    b->memory = 1;
    b->last_buf = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_next_body_filter(r, &out);
}


static ngx_int_t
ngx_http_capif_duplicate_auth_init(ngx_conf_t *cf)
{
    ngx_http_capif_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_capif_module);

    if (!cmcf->used) {
        return NGX_OK;
    }

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_capif_duplicate_auth_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_capif_duplicate_auth_body_filter;

    return NGX_OK;
}

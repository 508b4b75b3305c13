/*
 * Copyright (C) ngx_capif_module authors
 *
 * The open discovery response filter: collects the CCF's answer up to
 * capif_open_discovery_max_size, has the core filter it for the
 * requestor's tier, and sends the result with its own Content-Length.
 * Whatever cannot be passed safely becomes a 502 ProblemDetails.
 */

#include "ngx_http_capif.h"
#include "ngx_http_capif_open_discovery.h"


static ngx_int_t ngx_http_capif_od_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_capif_od_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static void ngx_http_capif_od_consume(ngx_chain_t *in);
static ngx_int_t ngx_http_capif_od_finish(ngx_http_request_t *r,
    ngx_http_capif_od_ctx_t *ctx);
static ngx_int_t ngx_http_capif_od_refuse(ngx_http_request_t *r,
    ngx_http_capif_od_ctx_t *ctx, const char *why);
static ngx_int_t ngx_http_capif_od_emit(ngx_http_request_t *r,
    ngx_http_capif_od_ctx_t *ctx, ngx_uint_t status, ngx_str_t *type,
    u_char *data, size_t len);
static ngx_int_t ngx_http_capif_od_filter_init(ngx_conf_t *cf);


static ngx_http_module_t  ngx_http_capif_od_filter_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_capif_od_filter_init,         /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_capif_open_discovery_filter_module = {
    NGX_MODULE_V1,
    &ngx_http_capif_od_filter_module_ctx,  /* module context */
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


static ngx_str_t  ngx_http_capif_od_json_type =
    ngx_string("application/json");
static ngx_str_t  ngx_http_capif_od_problem_type =
    ngx_string("application/problem+json");


static ngx_int_t
ngx_http_capif_od_header_filter(ngx_http_request_t *r)
{
    ngx_table_elt_t               *ce;
    ngx_http_capif_od_ctx_t       *ctx;
    ngx_http_capif_od_loc_conf_t  *odcf;

    ctx = ngx_http_capif_od_get_ctx(r);

    if (ctx == NULL || ctx->phase != NGX_HTTP_CAPIF_OD_READ
        || r != r->main)
    {
        return ngx_http_next_header_filter(r);
    }

    /* after an internal redirect too: the guard's location decides */
    odcf = ctx->conf;

    ctx->status = r->headers_out.status;

    ce = r->headers_out.content_encoding;

    if (ce != NULL && ce->hash != 0 && ce->value.len
        && !(ce->value.len == sizeof("identity") - 1
             && ngx_strncasecmp(ce->value.data, (u_char *) "identity",
                                ce->value.len) == 0))
    {
        ctx->refuse = "the CCF's answer is compressed (Content-Encoding)";

    } else if (r->headers_out.content_length_n > (off_t) odcf->max_size) {
        ctx->refuse = "the CCF's answer exceeds "
                      "capif_open_discovery_max_size";

    } else if (r->headers_out.content_length_n > 0) {
        ctx->cap = (size_t) r->headers_out.content_length_n;
    }

    /* no body comes with a HEAD: say what a GET would, without one */
    if (r->header_only || r->method == NGX_HTTP_HEAD) {
        if (ctx->refuse == NULL && ctx->status != NGX_HTTP_OK) {
            ctx->refuse = "the CCF's answer to HEAD is not 200";
        }

        if (ctx->refuse) {
            return ngx_http_capif_od_refuse(r, ctx, ctx->refuse);
        }

        return ngx_http_capif_od_emit(r, ctx, NGX_HTTP_OK,
                                      &ngx_http_capif_od_json_type, NULL, 0);
    }

    r->main_filter_need_in_memory = 1;
    r->allow_ranges = 0;

    /* the header goes out with the filtered body */
    return NGX_OK;
}


static ngx_int_t
ngx_http_capif_od_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    size_t                         size, cap;
    u_char                        *p;
    ngx_buf_t                     *b;
    ngx_uint_t                     last, flush;
    ngx_chain_t                   *cl;
    ngx_event_pipe_t              *pipe;
    ngx_http_capif_od_ctx_t       *ctx;
    ngx_http_capif_od_loc_conf_t  *odcf;

    ctx = ngx_http_capif_od_get_ctx(r);

    if (ctx == NULL || r != r->main
        || ctx->phase == NGX_HTTP_CAPIF_OD_PASS)
    {
        return ngx_http_next_body_filter(r, in);
    }

    last = 0;
    flush = 0;

    if (ctx->phase == NGX_HTTP_CAPIF_OD_SENT) {
        /* the rest of an answer already replaced: dropped */
        ngx_http_capif_od_consume(in);
        return NGX_OK;
    }

    if (ctx->refuse) {
        ngx_http_capif_od_consume(in);
        return ngx_http_capif_od_refuse(r, ctx, ctx->refuse);
    }

    /* after an internal redirect too: the guard's location decides */
    odcf = ctx->conf;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        if (b->last_buf) {
            last = 1;
        }

        if (b->flush) {
            flush = 1;
        }

        if (b->in_file && !ngx_buf_in_memory(b)) {
            ngx_http_capif_od_consume(in);
            return ngx_http_capif_od_refuse(r, ctx,
                       "the CCF's answer was buffered to a temporary file "
                       "(set proxy_max_temp_file_size 0)");
        }

        size = ngx_buf_in_memory(b) ? (size_t) (b->last - b->pos) : 0;

        if (size == 0) {
            continue;
        }

        if (size > odcf->max_size - ctx->len) {
            ngx_http_capif_od_consume(in);
            return ngx_http_capif_od_refuse(r, ctx,
                       "the CCF's answer exceeds "
                       "capif_open_discovery_max_size");
        }

        if (ctx->buf == NULL || ctx->len + size > ctx->cap) {

            if (ctx->buf == NULL && size <= ctx->cap) {
                cap = ctx->cap;             /* as the Content-Length says */

            } else {
                cap = ngx_max(ngx_max(ctx->len + size, ctx->cap * 2), 4096);
                cap = ngx_min(cap, odcf->max_size);
            }

            p = ngx_pnalloc(r->pool, cap);
            if (p == NULL) {
                return NGX_ERROR;
            }

            if (ctx->len) {
                ngx_memcpy(p, ctx->buf, ctx->len);
            }

            if (ctx->buf) {
                ngx_pfree(r->pool, ctx->buf);
            }

            ctx->buf = p;
            ctx->cap = cap;
        }

        ngx_memcpy(ctx->buf + ctx->len, b->pos, size);
        ctx->len += size;
        b->pos = b->last;
    }

    if (last) {
        return ngx_http_capif_od_finish(r, ctx);
    }

    /*
     * The upstream module flushes, then finalizes with an error, when the
     * CCF's answer ends early: say so rather than close silently.
     */
    if (flush && r->upstream && r->upstream->pipe) {
        pipe = r->upstream->pipe;

        if (!pipe->upstream_done
            && (pipe->upstream_error
                || (pipe->upstream_eof && pipe->length != -1)))
        {
            return ngx_http_capif_od_refuse(r, ctx,
                                            "the CCF's answer was cut short");
        }
    }

    return NGX_OK;
}


/* the upstream module reuses a buffer once it is consumed */
static void
ngx_http_capif_od_consume(ngx_chain_t *in)
{
    ngx_chain_t  *cl;

    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;
    }
}


static ngx_int_t
ngx_http_capif_od_finish(ngx_http_request_t *r, ngx_http_capif_od_ctx_t *ctx)
{
    int                            rc;
    char                          *json;
    size_t                         len;
    u_char                        *data;
    ngx_str_t                     *type;
    const char                    *why;
    ngx_http_capif_od_loc_conf_t  *odcf;

    /* after an internal redirect too: the guard's location decides */
    odcf = ctx->conf;

    json = NULL;
    len = 0;
    why = NULL;

    if (ctx->status == NGX_HTTP_OK) {
        rc = capif_od_filter((const char *) ctx->buf, ctx->len,
                             odcf->fields[ctx->tier], odcf->apis, &json,
                             &len, &why);
        type = &ngx_http_capif_od_json_type;

    } else if (ctx->status >= 400 && ctx->status <= 599) {
        rc = capif_od_reduce_problem((const char *) ctx->buf, ctx->len,
                                     &json, &len, &why);
        type = &ngx_http_capif_od_problem_type;

    } else {
        rc = -1;
        why = "the CCF answered with a status open discovery does not pass";
        type = NULL;
    }

    if (rc != 0) {
        return ngx_http_capif_od_refuse(r, ctx, why);
    }

    data = ngx_http_capif_adopt(r->pool, json, len);
    if (data == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_capif_od_emit(r, ctx, ctx->status, type, data, len);
}


static ngx_int_t
ngx_http_capif_od_refuse(ngx_http_request_t *r, ngx_http_capif_od_ctx_t *ctx,
    const char *why)
{
    char    *json;
    size_t   len;
    u_char  *data;

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "capif: open discovery answer refused (CCF status %ui): "
                  "%s", ctx->status, why);

    json = capif_od_problem(NGX_HTTP_BAD_GATEWAY, "Bad Gateway",
                            "CCF_ANSWER_REFUSED",
                            "the CCF's answer could not be passed on safely",
                            NULL, 0, NULL, &len);
    if (json == NULL) {
        return NGX_ERROR;
    }

    data = ngx_http_capif_adopt(r->pool, json, len);
    if (data == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_capif_od_emit(r, ctx, NGX_HTTP_BAD_GATEWAY,
                                  &ngx_http_capif_od_problem_type, data, len);
}


/*
 * Sends our answer in place of the CCF's: none of the CCF's headers pass,
 * only what nginx and later filters (add_header) set.
 */
static ngx_int_t
ngx_http_capif_od_emit(ngx_http_request_t *r, ngx_http_capif_od_ctx_t *ctx,
    ngx_uint_t status, ngx_str_t *type, u_char *data, size_t len)
{
    ngx_int_t         rc;
    ngx_buf_t        *b;
    ngx_uint_t        i;
    ngx_chain_t       out;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    ctx->phase = NGX_HTTP_CAPIF_OD_SENT;

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        h[i].hash = 0;
    }

    r->headers_out.content_encoding = NULL;
    r->headers_out.location = NULL;
    r->headers_out.refresh = NULL;
    r->headers_out.expires = NULL;
    r->headers_out.cache_control.nelts = 0;
    r->headers_out.last_modified_time = -1;
    r->headers_out.last_modified = NULL;
    r->headers_out.etag = NULL;
    r->headers_out.accept_ranges = NULL;
    r->headers_out.content_range = NULL;
    r->headers_out.content_length = NULL;
    r->headers_out.status_line.len = 0;
    r->headers_out.charset.len = 0;
    r->headers_out.content_type_lowcase = NULL;

    if (ngx_http_capif_od_no_store(r) != NGX_OK) {
        return NGX_ERROR;
    }

    r->headers_out.status = status;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_length_n = (r->method == NGX_HTTP_HEAD && !len)
                                      ? -1 : (off_t) len;
    r->allow_ranges = 0;

    if (r->method == NGX_HTTP_HEAD) {
        r->header_only = 1;
    }

    rc = ngx_http_next_header_filter(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = data;
    b->last = data + len;
    b->memory = len ? 1 : 0;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_next_body_filter(r, &out);
}


static ngx_int_t
ngx_http_capif_od_filter_init(ngx_conf_t *cf)
{
    ngx_http_capif_od_main_conf_t  *mcf;

    /*
     * Built as a plain HTTP module into a static nginx, this runs before
     * the core filters, which then replace the chain: the CCF's answers
     * would pass unfiltered.  config must declare this file HTTP_FILTER.
     */
    if (ngx_http_top_header_filter == NULL
        || ngx_http_top_body_filter == NULL)
    {
        mcf = ngx_http_conf_get_module_main_conf(cf,
                                        ngx_http_capif_open_discovery_module);

        if (mcf->sites.nelts) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "capif_open_discovery: the response filter is "
                          "linked before nginx's core filters and would not "
                          "run; build %s as an HTTP_FILTER module",
                          "ngx_http_capif_open_discovery_filter_module");
            return NGX_ERROR;
        }
    }

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_capif_od_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_capif_od_body_filter;

    return NGX_OK;
}

/*
 * Copyright (C) ngx_capif_module authors
 *
 * Calls to the CCF through the operator's internal location: nginx's own
 * upstream machinery (proxy_pass, proxy_ssl_*) does the connection.
 */

#include <signal.h>

#include "ngx_http_capif_ccf.h"


typedef struct {
    ngx_http_capif_ccf_done_pt   done;
    void                        *data;
    size_t                       max_size;
} ngx_http_capif_ccf_ctx_t;


static ngx_int_t ngx_http_capif_ccf_finished(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static void ngx_http_capif_ccf_wait_handler(ngx_http_request_t *r);


ngx_int_t
ngx_http_capif_ccf_get(ngx_http_request_t *r, ngx_str_t *uri,
    ngx_str_t *args, size_t max_size, ngx_uint_t background,
    ngx_http_capif_ccf_done_pt done, void *data, ngx_http_request_t **psr)
{
    ngx_uint_t                   flags;
    ngx_http_request_t          *sr;
    ngx_http_capif_ccf_ctx_t    *cctx;
    ngx_http_post_subrequest_t  *ps;

    cctx = ngx_pcalloc(r->pool, sizeof(ngx_http_capif_ccf_ctx_t));
    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));

    if (cctx == NULL || ps == NULL) {
        return NGX_ERROR;
    }

    cctx->done = done;
    cctx->data = data;
    cctx->max_size = max_size;

    ps->handler = ngx_http_capif_ccf_finished;
    ps->data = cctx;

    flags = NGX_HTTP_SUBREQUEST_IN_MEMORY
            | (background ? NGX_HTTP_SUBREQUEST_BACKGROUND
                          : NGX_HTTP_SUBREQUEST_WAITED);

    if (ngx_http_subrequest(r, uri, (args && args->len) ? args : NULL, &sr,
                            ps, flags)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* a plain GET: the caller's token, cookies and body stay here */
    sr->method = NGX_HTTP_GET;
    ngx_str_set(&sr->method_name, "GET");
    sr->header_only = 0;
    sr->request_body = NULL;

    ngx_memzero(&sr->headers_in, sizeof(ngx_http_headers_in_t));

    if (ngx_list_init(&sr->headers_in.headers, r->pool, 1,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sr->headers_in.content_length_n = -1;
    sr->headers_in.keep_alive_n = -1;
    sr->headers_in.server = r->headers_in.server;

    if (psr) {
        *psr = sr;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_capif_ccf_finished(ngx_http_request_t *sr, void *data,
    ngx_int_t rc)
{
    ngx_http_capif_ccf_ctx_t *cctx = data;

    u_char                       *p;
    size_t                        len;
    ngx_chain_t                  *cl, *chain, buf;
    ngx_http_upstream_t          *u;
    ngx_http_capif_ccf_answer_t   answer;

    ngx_memzero(&answer, sizeof(ngx_http_capif_ccf_answer_t));

    u = sr->upstream;

    if (rc == NGX_OK || rc == NGX_DONE || rc < NGX_HTTP_SPECIAL_RESPONSE) {
        answer.status = sr->headers_out.status;
    }

    if (u != NULL && u->headers_in.status_n && answer.status == 0
        && rc != NGX_ERROR && rc < NGX_HTTP_BAD_GATEWAY)
    {
        answer.status = u->headers_in.status_n;
    }

    answer.content_type = sr->headers_out.content_type;

    if (sr->headers_out.content_encoding) {
        answer.content_encoding = sr->headers_out.content_encoding->value;
    }

    /*
     * The answer: nginx collects an in-memory subrequest's body in sr->out
     * (its postpone filter); older versions left it in u->buffer.
     */
    len = 0;
    chain = NULL;

    if (answer.status == NGX_HTTP_OK) {
        chain = sr->out;

        if (chain == NULL && u != NULL && u->buffer.start) {
            buf.buf = &u->buffer;
            buf.next = NULL;
            chain = &buf;
        }
    }

    for (cl = chain; cl; cl = cl->next) {
        len += cl->buf->last - cl->buf->pos;
    }

    if (len > cctx->max_size) {
        answer.too_big = 1;

    } else if (len) {
        p = ngx_pnalloc(sr->pool, len);
        if (p == NULL) {
            answer.status = 0;

        } else {
            answer.body.data = p;
            answer.body.len = len;

            for (cl = chain; cl; cl = cl->next) {
                p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
            }
        }
    }

    cctx->done(sr, cctx->data, &answer);

    return rc;
}


static ngx_http_core_loc_conf_t *
ngx_http_capif_ccf_find(ngx_queue_t *locations, ngx_str_t *uri)
{
    ngx_queue_t                *q;
    ngx_http_core_loc_conf_t   *clcf, *best, *nested;
    ngx_http_location_queue_t  *lq;

    if (locations == NULL) {
        return NULL;
    }

    best = NULL;

    for (q = ngx_queue_head(locations);
         q != ngx_queue_sentinel(locations);
         q = ngx_queue_next(q))
    {
        lq = (ngx_http_location_queue_t *) q;
        clcf = lq->exact ? lq->exact : lq->inclusive;

        if (clcf == NULL || clcf->named || clcf->noname) {
            continue;
        }

#if (NGX_PCRE)
        if (clcf->regex) {
            if (best == NULL
                && ngx_regex_exec(clcf->regex->regex, uri, NULL, 0) >= 0)
            {
                best = clcf;
            }

            continue;
        }
#endif

        if (clcf->exact_match) {
            if (uri->len == clcf->name.len
                && ngx_strncmp(uri->data, clcf->name.data, uri->len) == 0)
            {
                return clcf;
            }

            continue;
        }

        if (uri->len >= clcf->name.len
            && ngx_strncmp(uri->data, clcf->name.data, clcf->name.len) == 0
            && (best == NULL || best->regex
                || clcf->name.len > best->name.len))
        {
            best = clcf;
        }
    }

    if (best != NULL) {
        nested = ngx_http_capif_ccf_find(best->locations, uri);
        if (nested != NULL) {
            return nested;
        }
    }

    return best;
}


char *
ngx_http_capif_ccf_check_uri(ngx_conf_t *cf, ngx_str_t *uri,
    size_t max_size, const char *name)
{
    ngx_http_core_srv_conf_t  *cscf;
    ngx_http_core_loc_conf_t  *clcf, *root;

    cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_core_module);
    root = cscf->ctx->loc_conf[ngx_http_core_module.ctx_index];

    clcf = ngx_http_capif_ccf_find(root->locations, uri);

    if (clcf == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%s \"%V\": no location of server \"%V\" serves "
                           "it; add an internal location that proxies to "
                           "the CCF", name, uri, &cscf->server_name);
        return NGX_CONF_ERROR;
    }

    if (clcf->subrequest_output_buffer_size < max_size) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%s \"%V\": location \"%V\" keeps %uz bytes of "
                           "an answer; set subrequest_output_buffer_size "
                           "and proxy_buffer_size to at least %uz there",
                           name, uri, &clcf->name,
                           clcf->subrequest_output_buffer_size, max_size);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_capif_ccf_wait(ngx_http_request_t *r, ngx_msec_t msec)
{
    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_capif_ccf_wait_handler;
    r->connection->write->delayed = 1;

    ngx_add_timer(r->connection->write, msec);

    return NGX_AGAIN;
}


static void
ngx_http_capif_ccf_wait_handler(ngx_http_request_t *r)
{
    ngx_event_t  *wev;

    wev = r->connection->write;

    if (wev->delayed && !wev->timedout) {
        if (ngx_handle_write_event(wev, 0) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        }

        return;
    }

    wev->delayed = 0;
    wev->timedout = 0;

    if (ngx_handle_read_event(r->connection->read, 0) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    r->read_event_handler = ngx_http_block_reading;
    r->write_event_handler = ngx_http_core_run_phases;

    ngx_http_core_run_phases(r);
}


ngx_uint_t
ngx_http_capif_ccf_leased(ngx_http_capif_ccf_lease_t *lease, time_t now)
{
    if (lease->pid == 0 || lease->until <= now) {
        return 0;
    }

    /* a worker that died mid-fetch leaves its lease behind */
    if (lease->pid != ngx_pid && kill(lease->pid, 0) == -1
        && ngx_errno == NGX_ESRCH)
    {
        return 0;
    }

    return 1;
}


void
ngx_http_capif_ccf_take_lease(ngx_http_capif_ccf_lease_t *lease,
    time_t now)
{
    lease->pid = ngx_pid;
    lease->until = now + NGX_HTTP_CAPIF_CCF_LEASE;
    lease->attempt = now;
}


void
ngx_http_capif_ccf_end_lease(ngx_http_capif_ccf_lease_t *lease)
{
    if (lease->pid == ngx_pid) {
        lease->pid = 0;
    }
}


ngx_int_t
ngx_http_capif_ccf_unavailable(ngx_http_request_t *r, time_t retry,
    const char *cause, const char *detail)
{
    u_char     *p;
    ngx_int_t   rc;

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_capif_add_header(r, "Retry-After", p,
                                  ngx_sprintf(p, "%T", retry) - p)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_capif_send_problem(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     "Service Unavailable", cause, detail);

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}

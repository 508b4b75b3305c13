/*
 * Copyright (C) ngx_capif_module authors
 *
 * Calls to the CCF: a GET subrequest to an internal location that the
 * operator configured with proxy_pass https://ccf... and proxy_ssl_*.
 * The module never opens sockets or does TLS itself.
 */

#ifndef NGX_HTTP_CAPIF_CCF_H
#define NGX_HTTP_CAPIF_CCF_H

#include "ngx_http_capif.h"


/* a fetch lease outlives no fetch: proxy timeouts are shorter */
#define NGX_HTTP_CAPIF_CCF_LEASE  30

typedef struct {
    ngx_uint_t            status;        /* 0: no answer at all */
    ngx_str_t             content_type;
    ngx_str_t             content_encoding;
    ngx_str_t             body;          /* in the subrequest's pool */
    unsigned              too_big:1;     /* body over max_size: empty */
} ngx_http_capif_ccf_answer_t;


/* called in the subrequest's context once its answer is complete */
typedef void (*ngx_http_capif_ccf_done_pt)(ngx_http_request_t *sr,
    void *data, ngx_http_capif_ccf_answer_t *answer);


/*
 * Starts GET uri?args as an in-memory subrequest of r without r's headers
 * or body.  background: r goes on at once; else r waits and its current
 * phase runs again when the answer is in.  *psr (if psr is not NULL) is
 * the subrequest.  Returns NGX_OK or NGX_ERROR.
 */
ngx_int_t ngx_http_capif_ccf_get(ngx_http_request_t *r, ngx_str_t *uri,
    ngx_str_t *args, size_t max_size, ngx_uint_t background,
    ngx_http_capif_ccf_done_pt done, void *data, ngx_http_request_t **psr);

/*
 * nginx -t: refuses a uri that no location of the current server serves,
 * or whose location keeps less than max_size of a subrequest's answer.
 * name is the directive, for the message.
 */
char *ngx_http_capif_ccf_check_uri(ngx_conf_t *cf, ngx_str_t *uri,
    size_t max_size, const char *name);

/*
 * Parks r for msec and then runs its phases again (as limit_req's delay
 * does): for a call that waits for another worker's fetch.
 */
ngx_int_t ngx_http_capif_ccf_wait(ngx_http_request_t *r, ngx_msec_t msec);


/*
 * One worker asks the CCF at a time about a thing kept in a shared zone:
 * it holds the thing's lease (under the zone's mutex) until the answer is
 * in, or NGX_HTTP_CAPIF_CCF_LEASE has passed, or the worker is gone.
 */
typedef struct {
    time_t                until;
    ngx_pid_t             pid;         /* 0: nobody fetches */
    time_t                attempt;     /* when the last fetch started */
} ngx_http_capif_ccf_lease_t;

/* whether another fetch is under way, zone locked */
ngx_uint_t ngx_http_capif_ccf_leased(ngx_http_capif_ccf_lease_t *lease,
    time_t now);

/* this worker fetches now, zone locked */
void ngx_http_capif_ccf_take_lease(ngx_http_capif_ccf_lease_t *lease,
    time_t now);

/* this worker's fetch ended (or never started), zone locked */
void ngx_http_capif_ccf_end_lease(ngx_http_capif_ccf_lease_t *lease);

/*
 * Answers r with 503, Retry-After: retry and a ProblemDetails body of
 * cause and detail, and finalizes it.  Returns NGX_DONE or NGX_ERROR.
 */
ngx_int_t ngx_http_capif_ccf_unavailable(ngx_http_request_t *r,
    time_t retry, const char *cause, const char *detail);


#endif /* NGX_HTTP_CAPIF_CCF_H */

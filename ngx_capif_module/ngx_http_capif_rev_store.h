/*
 * Copyright (C) ngx_capif_module authors
 *
 * Storing revocations in capif_zone and listing them
 * (ngx_http_capif_rev_store.c): what the AEF_Security_API handler calls.
 */

#ifndef NGX_HTTP_CAPIF_REV_STORE_H
#define NGX_HTTP_CAPIF_REV_STORE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "capif_revocation.h"


/* called from the event loop when a store that said NGX_AGAIN is done */
typedef void (*ngx_http_capif_rev_done_pt)(ngx_http_request_t *r,
    ngx_int_t rc);

/*
 * Stores records atomically: all fit in the zone and reach the journal
 * (fsync'd), or nothing changes.  Returns NGX_OK, NGX_HTTP_INSUFFICIENT_
 * STORAGE (zone full), NGX_HTTP_SERVICE_UNAVAILABLE (journal) or
 * NGX_ERROR at once, or NGX_AGAIN: then the store holds a reference on
 * the request (r->main->count), the caller returns NGX_DONE, and done()
 * gets one of the other codes later, once the entries are durable and
 * visible to every worker (NGX_OK) or nothing changed.  done() ends with
 * ngx_http_finalize_request().
 */
ngx_int_t ngx_http_capif_rev_store(ngx_http_request_t *r,
    capif_rev_record_t *recs, ngx_uint_t n, ngx_http_capif_rev_done_pt done);

/* the live entries, copied out of the zone into r->pool */
ngx_int_t ngx_http_capif_rev_list(ngx_http_request_t *r,
    ngx_array_t **entries);

/* the expiry time of a revocation made now */
int64_t ngx_http_capif_rev_expiry(ngx_http_request_t *r, int64_t now,
    int64_t token_exp);


#endif /* NGX_HTTP_CAPIF_REV_STORE_H */

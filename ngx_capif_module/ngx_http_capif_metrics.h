/*
 * Copyright (C) ngx_capif_module authors
 *
 * What the other glue files call to count: lock-free additions to this
 * worker's row in the metrics zone (ngx_http_capif_metrics_module.c).
 * Each is a no-op before the zone exists (nginx -t, no http block).
 */

#ifndef NGX_HTTP_CAPIF_METRICS_H
#define NGX_HTTP_CAPIF_METRICS_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "capif_metrics.h"


/* a decided call: cause NULL when allowed */
void ngx_http_capif_metrics_request(const char *cause);

/*
 * A push to the AEF_Security_API answered with status: the operation
 * comes from the URI's last segment, only POSTs count.
 */
void ngx_http_capif_metrics_revocation(ngx_http_request_t *r,
    ngx_uint_t status);

/* the number of entries in the revocation zone (a gauge) */
void ngx_http_capif_metrics_entries(ngx_uint_t n);

/* fsync(fd), timed into capif_journal_fsync_seconds */
int ngx_http_capif_metrics_fsync(int fd);

/* a monotonic clock in nanoseconds, for the start of an observation */
uint64_t ngx_http_capif_metrics_clock(void);

/* one token verification of alg (capif_alg_t) that began at start */
void ngx_http_capif_metrics_verify(int alg, uint64_t start);


#endif /* NGX_HTTP_CAPIF_METRICS_H */

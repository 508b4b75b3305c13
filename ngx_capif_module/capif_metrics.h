/*
 * Copyright (C) ngx_capif_module authors
 *
 * The gateway's Prometheus metrics: the fixed label sets, where each
 * counter sits in a row of 64-bit counters, and the text exposition
 * (format 0.0.4) of a summed row.  Labels come only from these tables,
 * never from a client or a token.
 */

#ifndef CAPIF_METRICS_H
#define CAPIF_METRICS_H

#include <stddef.h>
#include <stdint.h>


/* values of the api label of capif_revocations_received_total */
typedef enum {
    CAPIF_METRICS_API_REVOKE = 0,        /* revoke-authorization */
    CAPIF_METRICS_API_OWNER,
    CAPIF_METRICS_API_GROUP,
    CAPIF_METRICS_API_EVENT,
    CAPIF_METRICS_API_CREDENTIAL,
    CAPIF_METRICS_API_N
} capif_metrics_api_t;

/* values of its result label */
typedef enum {
    CAPIF_METRICS_STORED = 0,
    CAPIF_METRICS_REFUSED,
    CAPIF_METRICS_UNAVAILABLE,
    CAPIF_METRICS_RESULT_N
} capif_metrics_result_t;

/* the histograms */
typedef enum {
    CAPIF_METRICS_FSYNC = 0,             /* capif_journal_fsync_seconds */
    CAPIF_METRICS_VERIFY                 /* capif_token_verify_seconds */
} capif_metrics_hist_t;


/* counters in one row */
size_t capif_metrics_row_size(void);

/*
 * The counter of a decided call: cause NULL for an allowed call; a cause
 * outside the fixed set counts as "OTHER".
 */
size_t capif_metrics_request_slot(const char *cause);

size_t capif_metrics_revocation_slot(capif_metrics_api_t api,
    capif_metrics_result_t result);

/*
 * The three counters one observation of ns nanoseconds adds to: its
 * bucket, then _count (add 1) and _sum (add ns).  For CAPIF_METRICS_VERIFY
 * alg is a capif_alg_t; returns -1 for an algorithm outside the set.
 */
int capif_metrics_observe_slots(capif_metrics_hist_t hist, int alg,
    uint64_t ns, size_t slots[3]);

/* an upper bound of the exposition's length */
size_t capif_metrics_text_max(void);

/*
 * Writes the exposition of row (the counters summed over the workers) and
 * the gauge to buf; returns the length, or 0 if size is too small.
 */
size_t capif_metrics_render(char *buf, size_t size, const uint64_t *row,
    uint64_t revocation_entries);


#endif /* CAPIF_METRICS_H */

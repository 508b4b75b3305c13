/*
 * Copyright (C) ngx_capif_module authors
 *
 * Fixed label sets and the Prometheus text exposition (format 0.0.4).
 * A row is an array of 64-bit counters: each worker adds to its own row,
 * the scrape sums the rows and renders the sum.  Histogram buckets are
 * kept per bucket and made cumulative only when rendered.
 *
 * A new metric: its counters go at the end of the row (a new
 * CAPIF_METRICS_*_AT), its label values in a fixed table here, a slot
 * function in capif_metrics.h, an increment in ngx_http_capif_metrics.h,
 * and its lines in capif_metrics_render().  The row grows, so the zone is
 * sized anew: counters restart at 0 with the new binary, never on reload.
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "capif_keys.h"
#include "capif_metrics.h"


/* every cause a refusal can carry; anything else counts as OTHER */
static const char  *capif_metrics_causes[] = {
    "ALG_NOT_ALLOWED", "ALG_NOT_CONFIGURED", "AUTHORIZATION_DUPLICATED",
    "BEARER_EMPTY", "CLAIMS_INVALID", "CONFIGURATION_INCOMPLETE",
    "GROUP_CLAIM_INVALID", "GROUP_INVOKER_NOT_MEMBER",
    "GROUP_INVOKER_UE_MISSING", "GROUP_MEMBERS_CLAIM_INVALID",
    "GROUP_TARGET_NOT_MEMBER", "GROUP_UNKNOWN", "HEADER_PARAM_FORBIDDEN",
    "INTERNAL_ERROR", "INVOKER_ID_INVALID", "INVOKER_ID_MISSING",
    "INVOKER_UE_CLAIM_INVALID", "KEY_ALG_MISMATCH", "KID_UNKNOWN",
    "PURPOSE_CLAIM_INVALID", "PURPOSE_MISSING", "PURPOSE_NOT_AUTHORIZED",
    "PURPOSE_NOT_SERVED", "RESOURCE_OWNER_CLAIM_INVALID",
    "RESOURCE_OWNER_INVALID", "RESOURCE_OWNER_MISSING",
    "RESOURCE_OWNER_NOT_AUTHORIZED", "SCOPE_AEF_NOT_GRANTED",
    "SCOPE_API_NOT_GRANTED", "SCOPE_MALFORMED", "SCOPE_MISSING",
    "SIGNATURE_INVALID", "TIME_CLAIM_INVALID", "TOKEN_EXPIRED",
    "TOKEN_HEADER_INVALID", "TOKEN_ISSUED_IN_FUTURE",
    "TOKEN_LIFETIME_EXCEEDED", "TOKEN_MALFORMED", "TOKEN_MISSING",
    "TOKEN_NOT_YET_VALID", "TOKEN_REVOKED", "TOKEN_TOO_LARGE",
    "TOKEN_TYPE_MISMATCH",
    "OTHER"                              /* must stay last */
};

#define CAPIF_METRICS_NCAUSES                                              \
    (sizeof(capif_metrics_causes) / sizeof(capif_metrics_causes[0]))


static const char  *capif_metrics_apis[] = {
    "revoke-authorization", "owner", "group", "event", "credential"
};

static const char  *capif_metrics_results[] = {
    "stored", "refused", "unavailable"
};


typedef struct {
    const char   *le;
    uint64_t      ns;                    /* upper bound; 0 for +Inf */
} capif_metrics_bucket_t;


/* an fsync: 100 us (tmpfs, cache) to seconds (a struggling disk) */
static const capif_metrics_bucket_t  capif_metrics_fsync_buckets[] = {
    { "0.0001", 100000 }, { "0.00025", 250000 }, { "0.0005", 500000 },
    { "0.001", 1000000 }, { "0.0025", 2500000 }, { "0.005", 5000000 },
    { "0.01", 10000000 }, { "0.025", 25000000 }, { "0.05", 50000000 },
    { "0.1", 100000000 }, { "0.25", 250000000 }, { "0.5", 500000000 },
    { "1", 1000000000 }, { "2.5", 2500000000ULL }, { "+Inf", 0 }
};

/* a signature check: ~10 us (EdDSA) to ~1 ms (RSA-4096) */
static const capif_metrics_bucket_t  capif_metrics_verify_buckets[] = {
    { "0.00001", 10000 }, { "0.000025", 25000 }, { "0.00005", 50000 },
    { "0.0001", 100000 }, { "0.00025", 250000 }, { "0.0005", 500000 },
    { "0.001", 1000000 }, { "0.0025", 2500000 }, { "0.005", 5000000 },
    { "0.01", 10000000 }, { "0.025", 25000000 }, { "+Inf", 0 }
};

#define capif_metrics_nelts(a)  (sizeof(a) / sizeof((a)[0]))

#define CAPIF_METRICS_NFSYNC                                               \
    capif_metrics_nelts(capif_metrics_fsync_buckets)
#define CAPIF_METRICS_NVERIFY                                              \
    capif_metrics_nelts(capif_metrics_verify_buckets)

/* RS256 .. EdDSA: capif_alg_t 1 .. 10 */
#define CAPIF_METRICS_NALGS  (CAPIF_ALG_EDDSA - CAPIF_ALG_RS256 + 1)


/* the row: requests, revocations, fsync histogram, verify histograms */
#define CAPIF_METRICS_REQ       0
#define CAPIF_METRICS_REV                                                  \
    (CAPIF_METRICS_REQ + 1 + CAPIF_METRICS_NCAUSES)
#define CAPIF_METRICS_FSYNC_AT                                             \
    (CAPIF_METRICS_REV + CAPIF_METRICS_API_N * CAPIF_METRICS_RESULT_N)
#define CAPIF_METRICS_VERIFY_AT                                            \
    (CAPIF_METRICS_FSYNC_AT + CAPIF_METRICS_NFSYNC + 2)
#define CAPIF_METRICS_ROW                                                  \
    (CAPIF_METRICS_VERIFY_AT                                               \
     + CAPIF_METRICS_NALGS * (CAPIF_METRICS_NVERIFY + 2))


size_t
capif_metrics_row_size(void)
{
    return CAPIF_METRICS_ROW;
}


size_t
capif_metrics_request_slot(const char *cause)
{
    size_t  i;

    if (cause == NULL) {
        return CAPIF_METRICS_REQ;
    }

    for (i = 0; i < CAPIF_METRICS_NCAUSES - 1; i++) {
        if (strcmp(cause, capif_metrics_causes[i]) == 0) {
            break;
        }
    }

    return CAPIF_METRICS_REQ + 1 + i;
}


size_t
capif_metrics_revocation_slot(capif_metrics_api_t api,
    capif_metrics_result_t result)
{
    if ((unsigned) api >= CAPIF_METRICS_API_N) {
        api = CAPIF_METRICS_API_REVOKE;
    }

    if ((unsigned) result >= CAPIF_METRICS_RESULT_N) {
        result = CAPIF_METRICS_REFUSED;
    }

    return CAPIF_METRICS_REV + api * CAPIF_METRICS_RESULT_N + result;
}


int
capif_metrics_observe_slots(capif_metrics_hist_t hist, int alg, uint64_t ns,
    size_t slots[3])
{
    size_t                         i, n, base;
    const capif_metrics_bucket_t  *b;

    if (hist == CAPIF_METRICS_FSYNC) {
        b = capif_metrics_fsync_buckets;
        n = CAPIF_METRICS_NFSYNC;
        base = CAPIF_METRICS_FSYNC_AT;

    } else {
        if (alg < CAPIF_ALG_RS256 || alg > CAPIF_ALG_EDDSA) {
            return -1;
        }

        b = capif_metrics_verify_buckets;
        n = CAPIF_METRICS_NVERIFY;
        base = CAPIF_METRICS_VERIFY_AT
               + (size_t) (alg - CAPIF_ALG_RS256) * (n + 2);
    }

    for (i = 0; i < n - 1; i++) {
        if (ns <= b[i].ns) {
            break;
        }
    }

    slots[0] = base + i;
    slots[1] = base + n;
    slots[2] = base + n + 1;

    return 0;
}


size_t
capif_metrics_text_max(void)
{
    /* no line of the exposition is longer than 160 bytes */
    return (CAPIF_METRICS_ROW + 32) * 160;
}


typedef struct {
    char     *p;
    char     *end;
    int       full;
} capif_metrics_out_t;


static void
capif_metrics_printf(capif_metrics_out_t *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
capif_metrics_printf(capif_metrics_out_t *o, const char *fmt, ...)
{
    int      n;
    va_list  ap;

    if (o->full) {
        return;
    }

    va_start(ap, fmt);
    n = vsnprintf(o->p, o->end - o->p, fmt, ap);
    va_end(ap);

    if (n < 0 || n >= o->end - o->p) {
        o->full = 1;
        return;
    }

    o->p += n;
}


static void
capif_metrics_head(capif_metrics_out_t *o, const char *name,
    const char *type, const char *help)
{
    capif_metrics_printf(o, "# HELP %s %s\n# TYPE %s %s\n",
                         name, help, name, type);
}


static void
capif_metrics_histogram(capif_metrics_out_t *o, const char *name,
    const char *label, const capif_metrics_bucket_t *b, size_t n,
    const uint64_t *row)
{
    size_t       i;
    uint64_t     acc;
    const char  *sep, *open, *close;

    /* label: one fixed label such as alg="RS256", or "" for none */
    sep = *label ? "," : "";
    open = *label ? "{" : "";
    close = *label ? "}" : "";

    acc = 0;

    for (i = 0; i < n; i++) {
        acc += row[i];
        capif_metrics_printf(o, "%s_bucket{%s%sle=\"%s\"} %" PRIu64 "\n",
                             name, label, sep, b[i].le, acc);
    }

    capif_metrics_printf(o, "%s_sum%s%s%s %" PRIu64 ".%09" PRIu64 "\n",
                         name, open, label, close,
                         row[n + 1] / 1000000000, row[n + 1] % 1000000000);
    capif_metrics_printf(o, "%s_count%s%s%s %" PRIu64 "\n",
                         name, open, label, close, row[n]);
}


size_t
capif_metrics_render(char *buf, size_t size, const uint64_t *row,
    uint64_t revocation_entries)
{
    int                  alg;
    char                 labels[32];
    size_t               i, j;
    capif_metrics_out_t  o;

    o.p = buf;
    o.end = buf + size;
    o.full = 0;

    capif_metrics_head(&o, "capif_requests_total", "counter",
                       "Calls the capif access check decided.");
    capif_metrics_printf(&o, "capif_requests_total{decision=\"allowed\","
                         "cause=\"\"} %" PRIu64 "\n", row[CAPIF_METRICS_REQ]);

    for (i = 0; i < CAPIF_METRICS_NCAUSES; i++) {
        capif_metrics_printf(&o, "capif_requests_total{decision=\"refused\","
                             "cause=\"%s\"} %" PRIu64 "\n",
                             capif_metrics_causes[i],
                             row[CAPIF_METRICS_REQ + 1 + i]);
    }

    capif_metrics_head(&o, "capif_revocations_received_total", "counter",
                       "Revocation pushes received on the "
                       "AEF_Security_API, by operation and result.");

    for (i = 0; i < CAPIF_METRICS_API_N; i++) {
        for (j = 0; j < CAPIF_METRICS_RESULT_N; j++) {
            capif_metrics_printf(&o, "capif_revocations_received_total{"
                                 "api=\"%s\",result=\"%s\"} %" PRIu64 "\n",
                                 capif_metrics_apis[i],
                                 capif_metrics_results[j],
                                 row[capif_metrics_revocation_slot(i, j)]);
        }
    }

    capif_metrics_head(&o, "capif_revocation_entries", "gauge",
                       "Revocation entries in the shared zone.");
    capif_metrics_printf(&o, "capif_revocation_entries %" PRIu64 "\n",
                         revocation_entries);

    capif_metrics_head(&o, "capif_journal_fsync_seconds", "histogram",
                       "Time fsync of the revocation journal took.");
    capif_metrics_histogram(&o, "capif_journal_fsync_seconds", "",
                            capif_metrics_fsync_buckets,
                            CAPIF_METRICS_NFSYNC,
                            row + CAPIF_METRICS_FSYNC_AT);

    capif_metrics_head(&o, "capif_token_verify_seconds", "histogram",
                       "Time to verify a token's signature and claims, "
                       "by algorithm.");

    for (alg = CAPIF_ALG_RS256; alg <= CAPIF_ALG_EDDSA; alg++) {
        snprintf(labels, sizeof(labels), "alg=\"%s\"",
                 capif_alg_name((capif_alg_t) alg));
        capif_metrics_histogram(&o, "capif_token_verify_seconds", labels,
                                capif_metrics_verify_buckets,
                                CAPIF_METRICS_NVERIFY,
                                row + CAPIF_METRICS_VERIFY_AT
                                + (size_t) (alg - CAPIF_ALG_RS256)
                                  * (CAPIF_METRICS_NVERIFY + 2));
    }

    return o.full ? 0 : (size_t) (o.p - buf);
}

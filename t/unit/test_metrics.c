/*
 * Copyright (C) ngx_capif_module authors
 *
 * Fixed label sets, slots and the exposition of capif_metrics.c.
 */

#include <stdint.h>
#include <stdlib.h>

#include "unit.h"
#include "capif_keys.h"
#include "capif_metrics.h"


static int
has(const char *text, const char *line)
{
    return strstr(text, line) != NULL;
}


int
main(void)
{
    char      *buf;
    size_t     n, len, i, s[3], t[3], seen;
    uint64_t  *row;

    n = capif_metrics_row_size();
    CHECK(n > 100);

    row = calloc(n, sizeof(uint64_t));
    buf = malloc(capif_metrics_text_max());
    if (row == NULL || buf == NULL) {
        return 1;
    }

    /* every slot is inside the row, and distinct label sets differ */
    CHECK(capif_metrics_request_slot(NULL) < n);
    CHECK(capif_metrics_request_slot("TOKEN_MISSING")
          != capif_metrics_request_slot(NULL));
    CHECK(capif_metrics_request_slot("TOKEN_MISSING")
          != capif_metrics_request_slot("TOKEN_EXPIRED"));

    /* a cause outside the set, even a hostile one, is OTHER */
    CHECK(capif_metrics_request_slot("\"} 1\nevil 1")
          == capif_metrics_request_slot("SOMETHING_NEW"));
    CHECK(capif_metrics_request_slot("OTHER")
          == capif_metrics_request_slot("SOMETHING_NEW"));
    CHECK(capif_metrics_request_slot("SOMETHING_NEW") < n);

    CHECK(capif_metrics_revocation_slot(CAPIF_METRICS_API_CREDENTIAL,
                                        CAPIF_METRICS_UNAVAILABLE) < n);
    CHECK(capif_metrics_revocation_slot(99, 99) < n);

    /* buckets: bound inclusive, beyond the last bound is +Inf */
    CHECK(capif_metrics_observe_slots(CAPIF_METRICS_FSYNC, 0, 100000, s)
          == 0);
    CHECK(capif_metrics_observe_slots(CAPIF_METRICS_FSYNC, 0, 100001, t)
          == 0);
    CHECK(t[0] == s[0] + 1 && t[1] == s[1] && t[2] == s[2]);
    CHECK(capif_metrics_observe_slots(CAPIF_METRICS_FSYNC, 0,
                                      UINT64_C(1) << 40, t) == 0);
    CHECK(t[0] == s[1] - 1);
    CHECK(capif_metrics_observe_slots(CAPIF_METRICS_VERIFY, CAPIF_ALG_UNKNOWN,
                                      1000, s) == -1);
    CHECK(capif_metrics_observe_slots(CAPIF_METRICS_VERIFY, 999, 1000, s)
          == -1);

    /* every alg has its own counters, all inside the row */
    seen = 0;
    for (i = CAPIF_ALG_RS256; i <= CAPIF_ALG_EDDSA; i++) {
        CHECK(capif_metrics_observe_slots(CAPIF_METRICS_VERIFY, (int) i,
                                          1000, s) == 0);
        CHECK(s[2] < n);
        seen += s[2];
    }
    CHECK(seen > 0);

    /* rendering */
    row[capif_metrics_request_slot(NULL)] = 7;
    row[capif_metrics_request_slot("TOKEN_REVOKED")] = 3;
    row[capif_metrics_request_slot("NOT_A_CAUSE")] = 2;
    row[capif_metrics_revocation_slot(CAPIF_METRICS_API_OWNER,
                                      CAPIF_METRICS_STORED)] = 4;

    /* 1.5 ms and 3 ms fsyncs */
    (void) capif_metrics_observe_slots(CAPIF_METRICS_FSYNC, 0, 1500000, s);
    row[s[0]]++; row[s[1]]++; row[s[2]] += 1500000;
    (void) capif_metrics_observe_slots(CAPIF_METRICS_FSYNC, 0, 3000000, s);
    row[s[0]]++; row[s[1]]++; row[s[2]] += 3000000;

    (void) capif_metrics_observe_slots(CAPIF_METRICS_VERIFY, CAPIF_ALG_ES256,
                                       40000, s);
    row[s[0]]++; row[s[1]]++; row[s[2]] += 40000;

    len = capif_metrics_render(buf, capif_metrics_text_max(), row, 12);
    CHECK(len > 0 && len < capif_metrics_text_max());
    buf[len] = '\0';

    CHECK(has(buf, "# TYPE capif_requests_total counter\n"));
    CHECK(has(buf, "\ncapif_requests_total{decision=\"allowed\",cause=\"\"}"
                   " 7\n"));
    CHECK(has(buf, "\ncapif_requests_total{decision=\"refused\","
                   "cause=\"TOKEN_REVOKED\"} 3\n"));
    CHECK(has(buf, "\ncapif_requests_total{decision=\"refused\","
                   "cause=\"OTHER\"} 2\n"));
    CHECK(has(buf, "\ncapif_requests_total{decision=\"refused\","
                   "cause=\"TOKEN_MISSING\"} 0\n"));
    CHECK(has(buf, "\ncapif_revocations_received_total{api=\"owner\","
                   "result=\"stored\"} 4\n"));
    CHECK(has(buf, "\ncapif_revocations_received_total{"
                   "api=\"credential\",result=\"unavailable\"} 0\n"));
    CHECK(has(buf, "# TYPE capif_revocation_entries gauge\n"
                   "capif_revocation_entries 12\n"));

    /* cumulative buckets */
    CHECK(has(buf, "\ncapif_journal_fsync_seconds_bucket{le=\"0.001\"} 0\n"));
    CHECK(has(buf, "\ncapif_journal_fsync_seconds_bucket{le=\"0.0025\"} 1\n"));
    CHECK(has(buf, "\ncapif_journal_fsync_seconds_bucket{le=\"0.005\"} 2\n"));
    CHECK(has(buf, "\ncapif_journal_fsync_seconds_bucket{le=\"+Inf\"} 2\n"));
    CHECK(has(buf, "\ncapif_journal_fsync_seconds_sum 0.004500000\n"));
    CHECK(has(buf, "\ncapif_journal_fsync_seconds_count 2\n"));

    CHECK(has(buf, "\ncapif_token_verify_seconds_bucket{alg=\"ES256\","
                   "le=\"0.00005\"} 1\n"));
    CHECK(has(buf, "\ncapif_token_verify_seconds_bucket{alg=\"ES256\","
                   "le=\"0.000025\"} 0\n"));
    CHECK(has(buf, "\ncapif_token_verify_seconds_sum{alg=\"ES256\"} "
                   "0.000040000\n"));
    CHECK(has(buf, "\ncapif_token_verify_seconds_count{alg=\"EdDSA\"} 0\n"));
    CHECK(has(buf, "\ncapif_token_verify_seconds_count{alg=\"PS512\"} 0\n"));

    /* every line ends with a newline, the text ends with one */
    CHECK(buf[len - 1] == '\n');
    CHECK(strstr(buf, "unknown") == NULL);

    /* too small a buffer: 0, never a cut exposition */
    CHECK(capif_metrics_render(buf, 100, row, 12) == 0);
    CHECK(capif_metrics_render(buf, len, row, 12) == 0);
    CHECK(capif_metrics_render(buf, len + 1, row, 12) == len);

    free(row);
    free(buf);

    return UNIT_DONE();
}

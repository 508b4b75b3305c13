/*
 * Copyright (C) ngx_capif_module authors
 *
 * For scripts/bench: the heap a verified-token cache takes per entry,
 * measured with mallinfo2() while N entries with claim sets of the
 * reference CCF's shape are added, as the gateway adds them.
 *
 * Usage: capif-cache-bytes [N]; prints
 *   "entries N own B claims C total T" (bytes per entry).
 */

#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "capif_token_cache.h"


static size_t
heap(void)
{
    struct mallinfo2  mi;

    mi = mallinfo2();

    return mi.uordblks + mi.hblkhd;
}


int
main(int argc, char **argv)
{
    int                   i, n;
    char                  claims[512];
    size_t                h0, h1, h2, own;
    json_t              **payloads;
    capif_tc_value_t      v;
    capif_token_cache_t  *tc;
    unsigned char         fp[CAPIF_KEY_FP_LEN], d[CAPIF_TC_DIGEST_LEN];

    n = argc > 1 ? atoi(argv[1]) : 10000;
    if (n < 1) {
        return 2;
    }

    payloads = calloc((size_t) n, sizeof(json_t *));
    tc = capif_token_cache_create((size_t) n);
    if (payloads == NULL || tc == NULL) {
        return 1;
    }

    memset(fp, 0x5a, sizeof(fp));

    h0 = heap();

    /* the claim sets alone, as capif_json_object() parses them */
    for (i = 0; i < n; i++) {
        snprintf(claims, sizeof(claims),
                 "{\"fresh\":false,\"iat\":1764900000,"
                 "\"jti\":\"%08x-5a1c-4f3e-9b7d-2c6e8a0f4b11\","
                 "\"type\":\"access\",\"sub\":\"INV-bench-%d\","
                 "\"nbf\":1764900000,"
                 "\"csrf\":\"%08x-77aa-4c1d-8e2f-90b1c3d5e7f9\","
                 "\"exp\":1764900600,\"iss\":\"INV-bench-%d\","
                 "\"scope\":\"3gpp#aef-bench-1:3gpp-monitoring-event\","
                 "\"res_owner_id\":null}", i, i, i * 7, i);

        payloads[i] = json_loadb(claims, strlen(claims),
                                 JSON_REJECT_DUPLICATES, NULL);
        if (payloads[i] == NULL) {
            return 1;
        }
    }

    h1 = heap();

    for (i = 0; i < n; i++) {
        memset(d, 0, sizeof(d));
        memcpy(d, &i, sizeof(i));
        d[5] = 0x77;

        memset(&v, 0, sizeof(v));
        v.payload = payloads[i];
        v.expires = 1764900600;
        v.signing_input_len = 600;
        v.alg = CAPIF_ALG_RS256;
        v.key_fp = fp;

        if (capif_token_cache_put(tc, d, &v) != 0) {
            return 1;
        }
    }

    h2 = heap();

    /* the table was allocated with the cache: count its share too */
    own = (h2 - h1) / (size_t) n + capif_token_cache_entry_size(tc, 0)
          - sizeof(capif_tc_entry_t);

    printf("entries %d own %zu claims %zu total %zu\n", n, own,
           (h1 - h0) / (size_t) n, own + (h1 - h0) / (size_t) n);

    for (i = 0; i < n; i++) {
        json_decref(payloads[i]);
    }

    capif_token_cache_destroy(tc);
    free(payloads);

    return 0;
}

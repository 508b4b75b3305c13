/*
 * Copyright (C) ngx_capif_module authors
 *
 * libFuzzer target: everything the core does with an unauthenticated
 * bearer string before and after the signature check — JWS split, strict
 * base64url, JOSE header rules, claim set parsing, claims and scope.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "capif_jws.h"
#include "capif_claims.h"
#include "capif_scope.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char        *scratch;
    capif_jws_t           jws;
    capif_error_t         err;
    capif_claims_t        claims;
    capif_claims_conf_t   conf = { 5, "iss", "access" };

    scratch = malloc(capif_jws_scratch_size(size));
    if (scratch == NULL) {
        return 0;
    }

    if (capif_jws_parse(&jws, data, size, scratch, &err) == 0) {

        if (capif_jws_parse_payload(&jws, &err) == 0
            && capif_claims_check(jws.payload, &conf, 1800000000, &claims,
                                  &err) == 0)
        {
            (void) capif_scope_check(claims.scope, claims.scope_len,
                                     "aef-1", 5, "api-1", 5, &err);
        }

        capif_jws_free(&jws);
    }

    /* the scope grammar on its own, with arbitrary bytes */
    (void) capif_scope_check((const char *) data, size, "aef-1", 5, "api-1",
                             5, &err);

    free(scratch);

    return 0;
}

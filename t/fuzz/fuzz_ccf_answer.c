/*
 * Copyright (C) ngx_capif_module authors
 *
 * libFuzzer target: what the CCF answers through capif_key_request (a
 * JWKS, a PEM certificate, key or bundle) and capif_invoker_status (a
 * ServiceSecurity).  The first byte picks the parser.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "capif_keys.h"
#include "capif_ccf_status.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char             err[256];
    unsigned char   *enc;
    capif_keyset_t   ks;

    if (size == 0) {
        return 0;
    }

    if (data[0] & 1) {
        memset(&ks, 0, sizeof(ks));
        (void) capif_keyset_load_buf(&ks, "fuzz", data + 1, size - 1, NULL,
                                     NULL, err, sizeof(err));
        capif_keyset_free(&ks);
        ERR_clear_error();
        return 0;
    }

    (void) capif_service_security_grants(data + 1, size - 1, "aef-1", 5,
                                         "api-1", 5, err, sizeof(err));

    enc = malloc(3 * size);
    if (enc != NULL) {
        (void) capif_pct_encode_segment(data, size, enc);
        free(enc);
    }

    return 0;
}

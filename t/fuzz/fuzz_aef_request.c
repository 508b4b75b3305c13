/*
 * Copyright (C) ngx_capif_module authors
 *
 * libFuzzer target: every AEF_Security_API body a caller holding the
 * CCF's certificate (or a compromised CCF) can send — the operation is
 * chosen by the first byte, the rest is the body — and every record it
 * yields through the journal codec and the key it is stored under.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "capif_aef_request.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t               i, len;
    capif_aef_op_t       op;
    capif_aef_conf_t     conf = { 1800000000, 3600, 60, 86400 };
    capif_rev_record_t   d;
    capif_aef_request_t  req;
    unsigned char        enc[CAPIF_REV_RECORD_MAX], key[CAPIF_REV_KEY_MAX];
    unsigned char       *fixed;

    if (size == 0) {
        return 0;
    }

    op = (capif_aef_op_t) (data[0] % 7);

    if (capif_aef_request_parse(&req, op, data + 1, size - 1, &conf) == 0) {

        for (i = 0; i < req.nrecs; i++) {
            /* what is accepted is stored and read back unchanged */
            len = capif_rev_encode(&req.recs[i], enc, sizeof(enc));
            if (len == 0 || capif_rev_decode(&d, enc, len) != 0
                || d.cause.len != req.recs[i].cause.len
                || capif_rev_key(&req.recs[i], key, sizeof(key)) == 0)
            {
                abort();
            }
        }

    } else if (req.status == 0 || req.cause == NULL || req.detail == NULL) {
        abort();
    }

    capif_aef_request_free(&req);

    /* the journal decoder and the listing's repair on arbitrary bytes */
    (void) capif_rev_decode(&d, data, size);

    fixed = malloc(3 * size);
    if (fixed) {
        len = capif_rev_utf8_repair(data, size, fixed);
        if (!capif_rev_utf8_valid(fixed, len)) {
            abort();
        }
        free(fixed);
    }

    (void) capif_aef_media_json(data, size);

    return 0;
}

/*
 * Copyright (C) ngx_capif_module authors
 *
 * libFuzzer target: the bytes of a capif_crl file (PEM or DER, whatever
 * the CA's publisher left there), and the cnf claim of a token.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "capif_cnf.h"
#include "capif_crl.h"
#include "capif_jws.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char               errbuf[256];
    json_t            *j;
    capif_crl_t       *crl;
    capif_error_t      err;
    capif_cnf_cert_t   cert;

    crl = capif_crl_parse(data, size, NULL, errbuf, sizeof(errbuf));
    capif_crl_free(crl);

    /* the same bytes as a claim set with a cnf claim */
    j = capif_json_object(data, size);
    if (j != NULL) {
        memset(&cert, 0, sizeof(cert));
        cert.present = 1;
        cert.verified = 1;
        (void) capif_cnf_check(CAPIF_CNF_STRICT, 0, j, &cert, &err);
        json_decref(j);
    }

    return 0;
}

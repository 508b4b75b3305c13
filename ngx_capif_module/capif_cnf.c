/*
 * Copyright (C) ngx_capif_module authors
 */

#include <string.h>
#include <openssl/crypto.h>
#include "capif_b64url.h"
#include "capif_cnf.h"


int
capif_cnf_parse(json_t *payload, int *bound,
    unsigned char thumb[CAPIF_CNF_THUMB_LEN], capif_error_t *err)
{
    json_t         *cnf, *x5t;
    const char     *s;
    unsigned char   buf[capif_b64url_decoded_max(CAPIF_CNF_THUMB_B64_LEN)];

    *bound = 0;

    /* a verified token always has a claim set: never read none as unbound */
    if (!json_is_object(payload)) {
        return capif_fail(err, CAPIF_SERVER_ERROR, "INTERNAL_ERROR",
                          "no claim set to read cnf from");
    }

    cnf = json_object_get(payload, "cnf");

    if (cnf == NULL) {
        return 0;
    }

    if (!json_is_object(cnf)) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "CNF_INVALID",
                          "the cnf claim is not a JSON object");
    }

    x5t = json_object_get(cnf, "x5t#S256");

    if (x5t == NULL) {
        /* e.g. a DPoP "jkt": not a certificate binding */
        return 0;
    }

    if (!json_is_string(x5t)) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "CNF_INVALID",
                          "cnf.x5t#S256 is not a string");
    }

    s = json_string_value(x5t);

    /* 43 characters, strict base64url, 32 bytes */
    if (json_string_length(x5t) != CAPIF_CNF_THUMB_B64_LEN
        || capif_b64url_decode((const unsigned char *) s,
                               CAPIF_CNF_THUMB_B64_LEN, buf)
           != CAPIF_CNF_THUMB_LEN)
    {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "CNF_INVALID",
                          "cnf.x5t#S256 is not the 43 base64url "
                          "characters of a SHA-256 thumbprint");
    }

    memcpy(thumb, buf, CAPIF_CNF_THUMB_LEN);
    *bound = 1;

    return 0;
}


int
capif_cnf_decide(capif_cnf_mode_t mode, int no_ca, int bound,
    const unsigned char thumb[CAPIF_CNF_THUMB_LEN],
    const capif_cnf_cert_t *cert, capif_error_t *err)
{
    if (mode == CAPIF_CNF_OFF) {
        return 0;
    }

    if (!bound) {
        if (mode == CAPIF_CNF_STRICT) {
            return capif_fail(err, CAPIF_INVALID_TOKEN,
                              "CERT_BINDING_REQUIRED",
                              "the token is not bound to a certificate "
                              "(no cnf.x5t#S256)");
        }

        return 0;
    }

    if (cert == NULL || !cert->present) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "CLIENT_CERT_MISSING",
                          "the token is bound to a certificate, but the "
                          "connection has no TLS client certificate");
    }

    if (!cert->verified && !no_ca) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "CLIENT_CERT_UNVERIFIED",
                          "the token is bound to a certificate, but the "
                          "client certificate did not verify");
    }

    if (CRYPTO_memcmp(thumb, cert->sha256, CAPIF_CNF_THUMB_LEN) != 0) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "CERT_BINDING_MISMATCH",
                          "the client certificate is not the one the "
                          "token is bound to");
    }

    return 0;
}


int
capif_cnf_check(capif_cnf_mode_t mode, int no_ca, json_t *payload,
    const capif_cnf_cert_t *cert, capif_error_t *err)
{
    int            bound;
    unsigned char  thumb[CAPIF_CNF_THUMB_LEN];

    if (mode == CAPIF_CNF_OFF) {
        return 0;
    }

    if (capif_cnf_parse(payload, &bound, thumb, err) != 0) {
        return -1;
    }

    return capif_cnf_decide(mode, no_ca, bound, thumb, cert, err);
}

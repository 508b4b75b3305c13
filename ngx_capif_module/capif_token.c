/*
 * Copyright (C) ngx_capif_module authors
 */

#include <string.h>
#include "capif_token.h"


/*
 * A "kid" names exactly one key.  Without one, every key bound to the
 * token's algorithm is tried: the CCF's certificate carries no kid.
 */
static int
capif_token_check_signature(const capif_jws_t *jws, const capif_keyset_t *ks,
    capif_error_t *err)
{
    size_t              i;
    int                 candidates;
    const capif_key_t  *key;

    if (jws->kid != NULL) {
        for (i = 0; i < ks->nkeys; i++) {
            key = &ks->keys[i];

            if (key->kid != NULL && key->kid_len == jws->kid_len
                && memcmp(key->kid, jws->kid, jws->kid_len) == 0)
            {
                break;
            }
        }

        if (i == ks->nkeys) {
            return capif_fail(err, CAPIF_INVALID_TOKEN, "KID_UNKNOWN",
                              "no configured key has the token's kid");
        }

        if (key->alg != jws->alg) {
            return capif_fail(err, CAPIF_INVALID_TOKEN, "KEY_ALG_MISMATCH",
                              "the key of this kid is bound to another alg");
        }

        if (!capif_key_verify(key, jws->signing_input,
                              jws->signing_input_len, jws->signature,
                              jws->signature_len))
        {
            return capif_fail(err, CAPIF_INVALID_TOKEN, "SIGNATURE_INVALID",
                              "signature does not verify");
        }

        return 0;
    }

    candidates = 0;

    for (i = 0; i < ks->nkeys; i++) {
        key = &ks->keys[i];

        if (key->alg != jws->alg) {
            continue;
        }

        candidates++;

        if (capif_key_verify(key, jws->signing_input,
                             jws->signing_input_len, jws->signature,
                             jws->signature_len))
        {
            return 0;
        }
    }

    if (candidates == 0) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "ALG_NOT_CONFIGURED",
                          "no configured key is bound to the token's alg");
    }

    return capif_fail(err, CAPIF_INVALID_TOKEN, "SIGNATURE_INVALID",
                      "signature does not verify");
}


int
capif_token_verify(capif_token_t *tok, const capif_keyset_t *ks,
    const unsigned char *token, size_t len, unsigned char *scratch,
    const capif_claims_conf_t *conf, time_t now, capif_error_t *err)
{
    memset(tok, 0, sizeof(capif_token_t));

    if (capif_jws_parse(&tok->jws, token, len, scratch, err) != 0) {
        return -1;
    }

    /* the claim set is parsed only once the signature is known good */
    if (capif_token_check_signature(&tok->jws, ks, err) != 0
        || capif_jws_parse_payload(&tok->jws, err) != 0
        || capif_claims_check(tok->jws.payload, conf, now, &tok->claims,
                              err) != 0)
    {
        capif_jws_free(&tok->jws);
        return -1;
    }

    return 0;
}


void
capif_token_free(capif_token_t *tok)
{
    capif_jws_free(&tok->jws);
}

/*
 * Copyright (C) ngx_capif_module authors
 */

#include <string.h>
#include "capif_token.h"


static const capif_key_t *
capif_token_key_by_kid(const capif_keyset_t *ks, const unsigned char *kid,
    size_t kid_len)
{
    size_t              i;
    const capif_key_t  *key;

    for (i = 0; i < ks->nkeys; i++) {
        key = &ks->keys[i];

        if (key->kid != NULL && key->kid_len == kid_len
            && memcmp(key->kid, kid, kid_len) == 0)
        {
            return key;
        }
    }

    return NULL;
}


/*
 * A "kid" names exactly one key.  Without one, every key bound to the
 * token's algorithm is tried: the CCF's certificate carries no kid.
 * On success *used is the key that verified the signature.
 */
static int
capif_token_check_signature(const capif_jws_t *jws, const capif_keyset_t *ks,
    const capif_key_t **used, capif_error_t *err)
{
    size_t              i;
    int                 candidates;
    const capif_key_t  *key;

    if (jws->kid != NULL) {
        key = capif_token_key_by_kid(ks, jws->kid, jws->kid_len);

        if (key == NULL) {
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

        *used = key;
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
            *used = key;
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
    if (capif_token_check_signature(&tok->jws, ks, &tok->key, err) != 0
        || capif_jws_parse_payload(&tok->jws, err) != 0
        || capif_claims_check(tok->jws.payload, conf, now, &tok->claims,
                              err) != 0)
    {
        capif_jws_free(&tok->jws);
        tok->key = NULL;
        return -1;
    }

    return 0;
}


/*
 * A hit stands for parsing and the signature only: the key must still be
 * one that this key set would verify the token with, and the claims are
 * checked again with this caller's conf and clock.
 */
static int
capif_token_from_cache(capif_token_t *tok, const capif_tc_entry_t *e,
    const capif_keyset_t *ks, const unsigned char *token,
    const capif_claims_conf_t *conf, time_t now, capif_error_t *err)
{
    const capif_key_t  *key;

    key = capif_keyset_find_fingerprint(ks, e->key_fp, e->alg,
                                        e->kid_len ? e->kid : NULL,
                                        e->kid_len);
    if (key == NULL) {
        return 0;
    }

    memset(tok, 0, sizeof(capif_token_t));

    tok->key = key;
    tok->cached = 1;
    tok->jws.alg = e->alg;
    tok->jws.signing_input = token;
    tok->jws.signing_input_len = e->signing_input_len;
    tok->jws.payload = json_incref(e->payload);

    if (capif_claims_check(tok->jws.payload, conf, now, &tok->claims, err)
        != 0)
    {
        capif_jws_free(&tok->jws);
        tok->key = NULL;
        return -1;
    }

    return 1;
}


int
capif_token_verify_cached(capif_token_t *tok, capif_token_cache_t *tc,
    const capif_keyset_t *ks, const unsigned char *token, size_t len,
    unsigned char *scratch, const capif_claims_conf_t *conf, time_t now,
    capif_error_t *err)
{
    int                    rc;
    long long              expires;
    capif_tc_value_t       v;
    const unsigned char   *fp;
    const capif_tc_entry_t *e;
    unsigned char          digest[CAPIF_TC_DIGEST_LEN];

    if (tc == NULL || len > CAPIF_TC_MAX_TOKEN
        || capif_token_cache_digest(tc, token, len, digest) != 0)
    {
        return capif_token_verify(tok, ks, token, len, scratch, conf, now,
                                  err);
    }

    e = capif_token_cache_get(tc, digest, (long long) now);

    if (e != NULL) {
        rc = capif_token_from_cache(tok, e, ks, token, conf, now, err);
        if (rc != 0) {
            return rc < 0 ? -1 : 0;
        }

        /* the key went away or changed: verify afresh */
    }

    if (capif_token_verify(tok, ks, token, len, scratch, conf, now, err)
        != 0)
    {
        return -1;
    }

    fp = capif_key_fingerprint(tok->key);
    if (fp == NULL) {
        return 0;
    }

    /* until exp with this caller's leeway, and never long */
    expires = (long long) now + CAPIF_TC_MAX_TTL;

    /* exp may be as large as LLONG_MAX: compare without adding to it */
    if (tok->claims.exp < expires - conf->leeway) {
        expires = tok->claims.exp + conf->leeway;
    }

    v.payload = tok->jws.payload;
    v.expires = expires;
    v.signing_input_len = tok->jws.signing_input_len;
    v.alg = tok->jws.alg;
    v.key_fp = fp;
    v.kid = tok->jws.kid;
    v.kid_len = tok->jws.kid_len;

    /* out of memory only costs the next call a verification */
    (void) capif_token_cache_put(tc, digest, &v);

    return 0;
}


void
capif_token_free(capif_token_t *tok)
{
    capif_jws_free(&tok->jws);
}

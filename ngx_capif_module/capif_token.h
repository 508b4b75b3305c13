/*
 * Copyright (C) ngx_capif_module authors
 *
 * From bearer string to verified claims: parse, pick the key, verify the
 * signature, check the claims.  Nothing here trusts the token before its
 * signature has been checked, except to find the key.
 */

#ifndef CAPIF_TOKEN_H
#define CAPIF_TOKEN_H

#include "capif_error.h"
#include "capif_keys.h"
#include "capif_jws.h"
#include "capif_claims.h"
#include "capif_token_cache.h"


typedef struct {
    capif_jws_t           jws;
    capif_claims_t        claims;
    const capif_key_t    *key;             /* verified it; until ks changes */
    unsigned              cached:1;        /* from the cache: no signature
                                              check, header fields unset */
} capif_token_t;


/*
 * On success the token owns JSON objects: release with capif_token_free().
 * On failure nothing needs freeing.
 */
int capif_token_verify(capif_token_t *tok, const capif_keyset_t *ks,
    const unsigned char *token, size_t len, unsigned char *scratch,
    const capif_claims_conf_t *conf, time_t now, capif_error_t *err);

/*
 * capif_token_verify() behind a cache of verified tokens (tc may be NULL).
 * A hit skips parsing and the signature check, as long as a key of ks with
 * the fingerprint, alg and kid that verified the token is still there; the
 * claims are checked again with conf and now.  On a hit tok->cached is set
 * and tok->jws has only signing_input, alg and payload, the payload shared
 * with the cache (read only).  Tokens that verify are added; a failure is
 * never cached.  Release tok with capif_token_free() as after a verify.
 */
int capif_token_verify_cached(capif_token_t *tok, capif_token_cache_t *tc,
    const capif_keyset_t *ks, const unsigned char *token, size_t len,
    unsigned char *scratch, const capif_claims_conf_t *conf, time_t now,
    capif_error_t *err);

void capif_token_free(capif_token_t *tok);


#endif /* CAPIF_TOKEN_H */

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


typedef struct {
    capif_jws_t           jws;
    capif_claims_t        claims;
} capif_token_t;


/*
 * On success the token owns JSON objects: release with capif_token_free().
 * On failure nothing needs freeing.
 */
int capif_token_verify(capif_token_t *tok, const capif_keyset_t *ks,
    const unsigned char *token, size_t len, unsigned char *scratch,
    const capif_claims_conf_t *conf, time_t now, capif_error_t *err);

void capif_token_free(capif_token_t *tok);


#endif /* CAPIF_TOKEN_H */

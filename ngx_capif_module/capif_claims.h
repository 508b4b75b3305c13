/*
 * Copyright (C) ngx_capif_module authors
 *
 * The registered claims of a CAPIF access token (TS 29.222
 * AccessTokenClaims): time window, invoker id and scope.
 */

#ifndef CAPIF_CLAIMS_H
#define CAPIF_CLAIMS_H

#include <stddef.h>
#include <time.h>
#include <jansson.h>
#include "capif_error.h"


typedef struct {
    long long             leeway;          /* seconds */
    const char           *invoker_claim;   /* "iss", "client_id" or "sub" */
    const char           *expected_type;   /* "type" claim, NULL: no check */
} capif_claims_conf_t;


typedef struct {
    const char           *invoker_id;      /* in the payload json */
    size_t                invoker_id_len;
    const char           *scope;
    size_t                scope_len;
    long long             exp;             /* seconds, clamped */
    long long             iat;             /* valid when has_iat */
    int                   has_iat;
    const char           *jti;             /* NULL if absent */
    size_t                jti_len;
} capif_claims_t;


int capif_claims_check(json_t *payload, const capif_claims_conf_t *conf,
    time_t now, capif_claims_t *out, capif_error_t *err);


#endif /* CAPIF_CLAIMS_H */

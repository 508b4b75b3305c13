/*
 * Copyright (C) ngx_capif_module authors
 *
 * Certificate-bound access tokens (RFC 8705): the "cnf" claim's
 * "x5t#S256" member, and the decision whether the TLS client certificate
 * of the connection is the one the token is bound to.
 */

#ifndef CAPIF_CNF_H
#define CAPIF_CNF_H

#include <stddef.h>
#include <jansson.h>
#include "capif_error.h"


#define CAPIF_CNF_THUMB_LEN      32    /* SHA-256 */
#define CAPIF_CNF_THUMB_B64_LEN  43    /* its base64url, no padding */


typedef enum {
    CAPIF_CNF_OFF = 0,
    CAPIF_CNF_OPTIONAL,         /* a bound token must match */
    CAPIF_CNF_STRICT            /* every token must be bound, and match */
} capif_cnf_mode_t;


/* the connection's client certificate, as the glue sees it */
typedef struct {
    int                   present;
    int                   verified;   /* nginx verified its chain */
    unsigned char         sha256[CAPIF_CNF_THUMB_LEN];  /* of the DER */
} capif_cnf_cert_t;


/*
 * Reads cnf.x5t#S256 from a verified claim set.  Returns 0 with
 * *bound = 0 when the token carries no certificate thumbprint (no "cnf",
 * or a "cnf" object with other confirmation methods only), 0 with
 * *bound = 1 and thumb set, or -1 with CNF_INVALID (or INTERNAL_ERROR
 * when payload is not a claim set, which a verified token always has).
 */
int capif_cnf_parse(json_t *payload, int *bound,
    unsigned char thumb[CAPIF_CNF_THUMB_LEN], capif_error_t *err);

/*
 * The binding decision.  no_ca: a certificate nginx did not verify is
 * good enough (RFC 8705 section 2.2, self-signed certificates).  Returns
 * 0 to allow or -1 with *err set.
 */
int capif_cnf_decide(capif_cnf_mode_t mode, int no_ca, int bound,
    const unsigned char thumb[CAPIF_CNF_THUMB_LEN],
    const capif_cnf_cert_t *cert, capif_error_t *err);

/* parse and decide in one call */
int capif_cnf_check(capif_cnf_mode_t mode, int no_ca, json_t *payload,
    const capif_cnf_cert_t *cert, capif_error_t *err);


#endif /* CAPIF_CNF_H */

/*
 * Copyright (C) ngx_capif_module authors
 *
 * Compact JWS parsing (RFC 7515) with the checks of RFC 8725: strict
 * base64url, JSON objects without duplicate members, and no header that
 * would let the token choose its own key.
 */

#ifndef CAPIF_JWS_H
#define CAPIF_JWS_H

#include <stddef.h>
#include <jansson.h>
#include "capif_error.h"
#include "capif_b64url.h"
#include "capif_keys.h"


/* tokens longer than this are refused before any decoding */
#define CAPIF_TOKEN_MAX_LEN   8192

/* deepest JSON nesting accepted in a JOSE header or a claim set */
#define CAPIF_JSON_MAX_DEPTH  8


typedef struct {
    const unsigned char  *signing_input;   /* "header.payload", in token */
    size_t                signing_input_len;
    unsigned char        *signature;       /* decoded, in scratch */
    size_t                signature_len;
    unsigned char        *payload_raw;     /* decoded, in scratch */
    size_t                payload_raw_len;
    json_t               *header;          /* owned: capif_jws_free();
                                              NULL for the common
                                              {"alg","typ":"JWT"} */
    json_t               *payload;         /* owned, set by parse_payload */
    capif_alg_t           alg;
    const unsigned char  *kid;             /* in header, NULL if absent */
    size_t                kid_len;
} capif_jws_t;


/* the scratch buffer capif_jws_parse() needs for a token of len bytes */
#define capif_jws_scratch_size(len)  (capif_b64url_decoded_max(len) + 8)

/*
 * Splits and decodes a compact JWS and checks its JOSE header.  The claim
 * set is only decoded: parse it with capif_jws_parse_payload() once the
 * signature has been verified.  scratch holds the decoded parts and must
 * be capif_jws_scratch_size(len) bytes; it must outlive jws.  On failure
 * nothing needs freeing.
 */
int capif_jws_parse(capif_jws_t *jws, const unsigned char *token,
    size_t len, unsigned char *scratch, capif_error_t *err);

int capif_jws_parse_payload(capif_jws_t *jws, capif_error_t *err);

void capif_jws_free(capif_jws_t *jws);

/* parses a JSON object strictly: explicit length, no duplicates, depth */
json_t *capif_json_object(const unsigned char *data, size_t len);


#endif /* CAPIF_JWS_H */

/*
 * Copyright (C) ngx_capif_module authors
 */

#include <string.h>
#include "capif_jws.h"


/* JOSE header members that would let the token choose or bend its key */
static const char  *capif_jws_forbidden[] = {
    "crit", "jku", "jwk", "x5u", "x5c", NULL
};


static int
capif_json_depth_ok(json_t *json, int depth)
{
    size_t       i;
    json_t      *v;
    const char  *k;

    if (!json_is_object(json) && !json_is_array(json)) {
        return 1;
    }

    if (depth >= CAPIF_JSON_MAX_DEPTH) {
        return 0;
    }

    if (json_is_array(json)) {
        json_array_foreach(json, i, v) {
            if (!capif_json_depth_ok(v, depth + 1)) {
                return 0;
            }
        }

        return 1;
    }

    json_object_foreach(json, k, v) {
        if (!capif_json_depth_ok(v, depth + 1)) {
            return 0;
        }
    }

    return 1;
}


json_t *
capif_json_object(const unsigned char *data, size_t len)
{
    json_t  *json;

    /* no JSON_ALLOW_NUL: a "\u0000" inside a string is refused */
    json = json_loadb((const char *) data, len, JSON_REJECT_DUPLICATES,
                      NULL);
    if (json == NULL) {
        return NULL;
    }

    if (!json_is_object(json) || !capif_json_depth_ok(json, 0)) {
        json_decref(json);
        return NULL;
    }

    return json;
}


/*
 * The header nearly every signer writes, {"alg":"RS256","typ":"JWT"} or
 * with typ first, byte for byte: its alg is read without building a JSON
 * object.  Anything else, an unknown alg included, takes the full path.
 */
static int
capif_jws_common_header(capif_jws_t *jws, const unsigned char *p, size_t n)
{
    capif_alg_t  alg;

    static const char  alg_first[] = "{\"alg\":\"";
    static const char  alg_tail[] = "\",\"typ\":\"JWT\"}";
    static const char  typ_first[] = "{\"typ\":\"JWT\",\"alg\":\"";

#define CAPIF_JWS_LIT(s)  (sizeof(s) - 1)

    if (n == CAPIF_JWS_LIT(alg_first) + 5 + CAPIF_JWS_LIT(alg_tail)
        && memcmp(p, alg_first, CAPIF_JWS_LIT(alg_first)) == 0
        && memcmp(p + CAPIF_JWS_LIT(alg_first) + 5, alg_tail,
                  CAPIF_JWS_LIT(alg_tail)) == 0)
    {
        p += CAPIF_JWS_LIT(alg_first);

    } else if (n == CAPIF_JWS_LIT(typ_first) + 5 + 2
               && memcmp(p, typ_first, CAPIF_JWS_LIT(typ_first)) == 0
               && memcmp(p + CAPIF_JWS_LIT(typ_first) + 5, "\"}", 2) == 0)
    {
        p += CAPIF_JWS_LIT(typ_first);

    } else {
        return 0;
    }

#undef CAPIF_JWS_LIT

    alg = capif_alg_from_name((const char *) p, 5);
    if (alg == CAPIF_ALG_UNKNOWN) {
        return 0;
    }

    jws->alg = alg;
    jws->kid = NULL;
    jws->kid_len = 0;

    return 1;
}


static int
capif_jws_check_header(capif_jws_t *jws, capif_error_t *err)
{
    json_t       *alg, *kid;
    const char  **name;

    for (name = capif_jws_forbidden; *name; name++) {
        if (json_object_get(jws->header, *name) != NULL) {
            return capif_fail(err, CAPIF_INVALID_TOKEN,
                              "HEADER_PARAM_FORBIDDEN",
                              "JOSE header has crit, jku, jwk, x5u or x5c");
        }
    }

    alg = json_object_get(jws->header, "alg");
    if (!json_is_string(alg)) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "TOKEN_HEADER_INVALID",
                          "JOSE header \"alg\" is missing or not a string");
    }

    jws->alg = capif_alg_from_name(json_string_value(alg),
                                   json_string_length(alg));
    if (jws->alg == CAPIF_ALG_UNKNOWN) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "ALG_NOT_ALLOWED",
                          "JOSE \"alg\" is none, an HMAC or unsupported");
    }

    kid = json_object_get(jws->header, "kid");
    if (kid == NULL) {
        jws->kid = NULL;
        jws->kid_len = 0;
        return 0;
    }

    if (!json_is_string(kid)) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "TOKEN_HEADER_INVALID",
                          "JOSE header \"kid\" is not a string");
    }

    jws->kid = (const unsigned char *) json_string_value(kid);
    jws->kid_len = json_string_length(kid);

    return 0;
}


int
capif_jws_parse(capif_jws_t *jws, const unsigned char *token, size_t len,
    unsigned char *scratch, capif_error_t *err)
{
    int                   common;
    long                  n;
    size_t                i, dots[2], ndots;
    unsigned char        *p;
    const unsigned char  *seg[3];
    size_t                seglen[3];

    memset(jws, 0, sizeof(capif_jws_t));

    if (len > CAPIF_TOKEN_MAX_LEN) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "TOKEN_TOO_LARGE",
                          "token is longer than 8192 bytes");
    }

    ndots = 0;

    for (i = 0; i < len; i++) {
        if (token[i] == '.') {
            if (ndots == 2) {
                return capif_fail(err, CAPIF_INVALID_TOKEN,
                                  "TOKEN_MALFORMED",
                                  "token has more than three segments");
            }

            dots[ndots++] = i;
        }
    }

    if (ndots != 2) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "TOKEN_MALFORMED",
                          "token does not have three segments");
    }

    seg[0] = token;
    seglen[0] = dots[0];
    seg[1] = token + dots[0] + 1;
    seglen[1] = dots[1] - dots[0] - 1;
    seg[2] = token + dots[1] + 1;
    seglen[2] = len - dots[1] - 1;

    if (seglen[0] == 0 || seglen[1] == 0 || seglen[2] == 0) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "TOKEN_MALFORMED",
                          "token has an empty segment");
    }

    p = scratch;

    n = capif_b64url_decode(seg[0], seglen[0], p);
    if (n < 0) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "TOKEN_MALFORMED",
                          "JOSE header is not strict base64url");
    }

    common = capif_jws_common_header(jws, p, (size_t) n);

    if (!common) {
        jws->header = capif_json_object(p, (size_t) n);
        if (jws->header == NULL) {
            return capif_fail(err, CAPIF_INVALID_TOKEN,
                              "TOKEN_HEADER_INVALID",
                              "JOSE header is not a valid JSON object");
        }
    }

    p += n;

    n = capif_b64url_decode(seg[1], seglen[1], p);
    if (n < 0) {
        capif_jws_free(jws);
        return capif_fail(err, CAPIF_INVALID_TOKEN, "TOKEN_MALFORMED",
                          "claim set is not strict base64url");
    }

    jws->payload_raw = p;
    jws->payload_raw_len = (size_t) n;
    p += n;

    n = capif_b64url_decode(seg[2], seglen[2], p);
    if (n < 0) {
        capif_jws_free(jws);
        return capif_fail(err, CAPIF_INVALID_TOKEN, "TOKEN_MALFORMED",
                          "signature is not strict base64url");
    }

    jws->signature = p;
    jws->signature_len = (size_t) n;

    jws->signing_input = token;
    jws->signing_input_len = dots[1];

    if (!common && capif_jws_check_header(jws, err) != 0) {
        capif_jws_free(jws);
        return -1;
    }

    return 0;
}


int
capif_jws_parse_payload(capif_jws_t *jws, capif_error_t *err)
{
    jws->payload = capif_json_object(jws->payload_raw, jws->payload_raw_len);
    if (jws->payload == NULL) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "CLAIMS_INVALID",
                          "claim set is not a valid JSON object");
    }

    return 0;
}


void
capif_jws_free(capif_jws_t *jws)
{
    if (jws->header) {
        json_decref(jws->header);
        jws->header = NULL;
    }

    if (jws->payload) {
        json_decref(jws->payload);
        jws->payload = NULL;
    }
}

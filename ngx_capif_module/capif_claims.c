/*
 * Copyright (C) ngx_capif_module authors
 */

#include <limits.h>
#include <string.h>
#include "capif_claims.h"


/*
 * A NumericDate as whole seconds.  Reals outside the range of long long
 * are clamped, so later comparisons cannot overflow.  Returns -1 if the
 * value is not a number.
 */
static int
capif_numeric_date(json_t *v, long long *out)
{
    double  d;

    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 0;
    }

    if (!json_is_real(v)) {
        return -1;
    }

    d = json_real_value(v);

    if (d >= 9.2e18) {
        *out = LLONG_MAX;

    } else if (d <= -9.2e18) {
        *out = LLONG_MIN;

    } else {
        *out = (long long) d;
    }

    return 0;
}


/* an optional NumericDate: 0 absent, 1 present, -1 not a number */
static int
capif_optional_date(json_t *payload, const char *name, long long *out)
{
    json_t  *v;

    v = json_object_get(payload, name);
    if (v == NULL) {
        return 0;
    }

    return capif_numeric_date(v, out) == 0 ? 1 : -1;
}


static int
capif_check_times(json_t *payload, const capif_claims_conf_t *conf,
    long long now, capif_claims_t *out, capif_error_t *err)
{
    int        rc;
    long long  nbf;

    /* now is a sane time and leeway is at most 30 s: no overflow here */
    if (json_object_get(payload, "exp") == NULL) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "TIME_CLAIM_INVALID",
                          "claim \"exp\" is missing");
    }

    if (capif_optional_date(payload, "exp", &out->exp) != 1) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "TIME_CLAIM_INVALID",
                          "claim \"exp\" is not a number");
    }

    rc = capif_optional_date(payload, "nbf", &nbf);
    if (rc < 0) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "TIME_CLAIM_INVALID",
                          "claim \"nbf\" is not a number");
    }

    if (rc == 1 && nbf > now + conf->leeway) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "TOKEN_NOT_YET_VALID",
                          "claim \"nbf\" is in the future");
    }

    rc = capif_optional_date(payload, "iat", &out->iat);
    if (rc < 0) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "TIME_CLAIM_INVALID",
                          "claim \"iat\" is not a number");
    }

    out->has_iat = rc;

    if (rc == 1 && out->iat > now + conf->leeway) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "TOKEN_ISSUED_IN_FUTURE",
                          "claim \"iat\" is in the future");
    }

    /* RFC 7519: the token must not be accepted on or after "exp" */
    if (out->exp <= now - conf->leeway) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "TOKEN_EXPIRED",
                          "token has expired");
    }

    return 0;
}


int
capif_claims_check(json_t *payload, const capif_claims_conf_t *conf,
    time_t now, capif_claims_t *out, capif_error_t *err)
{
    size_t          i;
    json_t         *v;
    unsigned char   c;

    memset(out, 0, sizeof(capif_claims_t));

    if (capif_check_times(payload, conf, (long long) now, out, err) != 0) {
        return -1;
    }

    v = json_object_get(payload, conf->invoker_claim);
    if (!json_is_string(v) || json_string_length(v) == 0) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "INVOKER_ID_MISSING",
                          "invoker id claim is missing, empty or "
                          "not a string");
    }

    out->invoker_id = json_string_value(v);
    out->invoker_id_len = json_string_length(v);

    /* the id reaches logs and upstream headers: no control bytes */
    for (i = 0; i < out->invoker_id_len; i++) {
        c = (unsigned char) out->invoker_id[i];

        if (c < 0x20 || c == 0x7f) {
            return capif_fail(err, CAPIF_INVALID_TOKEN, "INVOKER_ID_INVALID",
                              "invoker id has a control character");
        }
    }

    if (conf->expected_type) {
        v = json_object_get(payload, "type");

        if (!json_is_string(v)
            || json_string_length(v) != strlen(conf->expected_type)
            || memcmp(json_string_value(v), conf->expected_type,
                      json_string_length(v)) != 0)
        {
            return capif_fail(err, CAPIF_INVALID_TOKEN,
                              "TOKEN_TYPE_MISMATCH",
                              "claim \"type\" is not the expected type");
        }
    }

    v = json_object_get(payload, "jti");
    if (v != NULL) {
        if (!json_is_string(v) || json_string_length(v) == 0) {
            return capif_fail(err, CAPIF_INVALID_TOKEN, "CLAIMS_INVALID",
                              "claim \"jti\" is not a non-empty string");
        }

        out->jti = json_string_value(v);
        out->jti_len = json_string_length(v);
    }

    v = json_object_get(payload, "scope");
    if (v == NULL) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "SCOPE_MISSING",
                          "claim \"scope\" is missing");
    }

    if (!json_is_string(v)) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "SCOPE_MALFORMED",
                          "claim \"scope\" is not a string");
    }

    out->scope = json_string_value(v);
    out->scope_len = json_string_length(v);

    return 0;
}

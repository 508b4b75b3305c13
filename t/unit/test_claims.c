/*
 * Copyright (C) ngx_capif_module authors
 */

#include "unit.h"
#include "capif_claims.h"


#define NOW  1800000000LL

static capif_error_t   err;
static capif_claims_t  claims;


/* the claims point into the last claim set, kept until the next call */
static json_t         *last;


static int
check(const char *json, long long leeway, const char *type)
{
    int                  rc;
    json_t              *j;
    capif_claims_conf_t  conf;

    if (last) {
        json_decref(last);
        last = NULL;
    }

    conf.leeway = leeway;
    conf.invoker_claim = "iss";
    conf.expected_type = type;
    err.cause = "none";

    j = json_loads(json, 0, NULL);
    if (j == NULL) {
        fprintf(stderr, "bad test json: %s\n", json);
        return -2;
    }

    rc = capif_claims_check(j, &conf, NOW, &claims, &err);
    last = j;

    return rc;
}


#define CAUSE(c)  (strcmp(err.cause, c) == 0)
#define S         "\"iss\":\"INV-1\",\"scope\":\"3gpp#a:b\""


int
main(void)
{
    CHECK(check("{" S ",\"exp\":1800000600}", 0, NULL) == 0);
    CHECK(claims.invoker_id_len == 5
          && memcmp(claims.invoker_id, "INV-1", 5) == 0);
    CHECK(claims.scope_len == 8 && !claims.has_iat);

    CHECK(check("{" S ",\"exp\":1800000600,\"iat\":1800000000,"
                "\"nbf\":1800000000,\"jti\":\"j1\"}", 0, NULL) == 0);
    CHECK(claims.has_iat && claims.iat == NOW && claims.jti_len == 2);

    /* exp: missing, wrong types, past, on the second, leeway */
    CHECK(check("{" S "}", 0, NULL) != 0 && CAUSE("TIME_CLAIM_INVALID"));
    CHECK(check("{" S ",\"exp\":\"1900000000\"}", 0, NULL) != 0
          && CAUSE("TIME_CLAIM_INVALID"));
    CHECK(check("{" S ",\"exp\":null}", 0, NULL) != 0
          && CAUSE("TIME_CLAIM_INVALID"));
    CHECK(check("{" S ",\"exp\":true}", 0, NULL) != 0
          && CAUSE("TIME_CLAIM_INVALID"));
    CHECK(check("{" S ",\"exp\":[1900000000]}", 0, NULL) != 0
          && CAUSE("TIME_CLAIM_INVALID"));
    CHECK(check("{" S ",\"exp\":{}}", 0, NULL) != 0
          && CAUSE("TIME_CLAIM_INVALID"));
    CHECK(check("{" S ",\"exp\":1799999999}", 0, NULL) != 0
          && CAUSE("TOKEN_EXPIRED"));
    CHECK(check("{" S ",\"exp\":1800000000}", 0, NULL) != 0
          && CAUSE("TOKEN_EXPIRED"));
    CHECK(check("{" S ",\"exp\":1799999995}", 10, NULL) == 0);
    CHECK(check("{" S ",\"exp\":1799999990}", 10, NULL) != 0);
    CHECK(check("{" S ",\"exp\":1e300}", 0, NULL) == 0);
    CHECK(check("{" S ",\"exp\":-1e300}", 0, NULL) != 0
          && CAUSE("TOKEN_EXPIRED"));
    CHECK(check("{" S ",\"exp\":9223372036854775807}", 30, NULL) == 0);
    CHECK(check("{" S ",\"exp\":-9223372036854775807}", 30, NULL) != 0);
    CHECK(check("{" S ",\"exp\":1800000600.5}", 0, NULL) == 0);

    /* nbf and iat */
    CHECK(check("{" S ",\"exp\":1800000600,\"nbf\":1800000001}", 0, NULL)
          != 0 && CAUSE("TOKEN_NOT_YET_VALID"));
    CHECK(check("{" S ",\"exp\":1800000600,\"nbf\":1800000005}", 5, NULL)
          == 0);
    CHECK(check("{" S ",\"exp\":1800000600,\"nbf\":\"0\"}", 0, NULL) != 0
          && CAUSE("TIME_CLAIM_INVALID"));
    CHECK(check("{" S ",\"exp\":1800000600,\"iat\":1800000001}", 0, NULL)
          != 0 && CAUSE("TOKEN_ISSUED_IN_FUTURE"));
    CHECK(check("{" S ",\"exp\":1800000600,\"iat\":null}", 0, NULL) != 0
          && CAUSE("TIME_CLAIM_INVALID"));
    CHECK(check("{" S ",\"exp\":1800000600,\"iat\":false}", 0, NULL) != 0
          && CAUSE("TIME_CLAIM_INVALID"));

    /* invoker id */
    CHECK(check("{\"scope\":\"3gpp#a:b\",\"exp\":1800000600}", 0, NULL)
          != 0 && CAUSE("INVOKER_ID_MISSING"));
    CHECK(check("{\"iss\":\"\",\"scope\":\"3gpp#a:b\",\"exp\":1800000600}",
                0, NULL) != 0 && CAUSE("INVOKER_ID_MISSING"));
    CHECK(check("{\"iss\":7,\"scope\":\"3gpp#a:b\",\"exp\":1800000600}",
                0, NULL) != 0 && CAUSE("INVOKER_ID_MISSING"));

    /* type */
    CHECK(check("{" S ",\"exp\":1800000600,\"type\":\"access\"}", 0,
                "access") == 0);
    CHECK(check("{" S ",\"exp\":1800000600,\"type\":\"refresh\"}", 0,
                "access") != 0 && CAUSE("TOKEN_TYPE_MISMATCH"));
    CHECK(check("{" S ",\"exp\":1800000600,\"type\":\"accessx\"}", 0,
                "access") != 0 && CAUSE("TOKEN_TYPE_MISMATCH"));
    CHECK(check("{" S ",\"exp\":1800000600}", 0, "access") != 0
          && CAUSE("TOKEN_TYPE_MISMATCH"));

    /* scope and jti shapes */
    CHECK(check("{\"iss\":\"I\",\"exp\":1800000600}", 0, NULL) != 0
          && CAUSE("SCOPE_MISSING"));
    CHECK(check("{\"iss\":\"I\",\"scope\":[\"3gpp#a:b\"],"
                "\"exp\":1800000600}", 0, NULL) != 0
          && CAUSE("SCOPE_MALFORMED"));
    CHECK(check("{" S ",\"exp\":1800000600,\"jti\":5}", 0, NULL) != 0
          && CAUSE("CLAIMS_INVALID"));

    json_decref(last);

    return UNIT_DONE();
}

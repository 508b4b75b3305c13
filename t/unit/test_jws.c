/*
 * Copyright (C) ngx_capif_module authors
 */

#include <stdlib.h>
#include "unit.h"
#include "capif_jws.h"


static capif_error_t  err;
static capif_jws_t    jws;


/* "b64(header).b64(payload).sig" where sig is taken as it is */
static char *
token(const char *header, const char *payload, const char *sig)
{
    size_t   hl, pl;
    char    *t, *p;

    hl = strlen(header);
    pl = strlen(payload);

    t = malloc(capif_b64url_encoded_len(hl) + capif_b64url_encoded_len(pl)
               + strlen(sig) + 3);
    if (t == NULL) {
        abort();
    }

    p = t;
    p += capif_b64url_encode((const unsigned char *) header, hl,
                             (unsigned char *) p);
    *p++ = '.';
    p += capif_b64url_encode((const unsigned char *) payload, pl,
                             (unsigned char *) p);
    *p++ = '.';
    strcpy(p, sig);

    return t;
}


/* 0 parsed (and claim set parsed), -1 refused; err.cause says why */
static int
parse_raw(const char *t, size_t len)
{
    int             rc;
    unsigned char  *scratch;

    err.cause = "none";
    scratch = malloc(capif_jws_scratch_size(len));
    if (scratch == NULL) {
        abort();
    }

    rc = capif_jws_parse(&jws, (const unsigned char *) t, len, scratch,
                         &err);
    if (rc == 0) {
        rc = capif_jws_parse_payload(&jws, &err);
        capif_jws_free(&jws);
    }

    free(scratch);

    return rc;
}


static int
parse(const char *header, const char *payload, const char *sig)
{
    int    rc;
    char  *t;

    t = token(header, payload, sig);
    rc = parse_raw(t, strlen(t));
    free(t);

    return rc;
}


#define CAUSE(c)  (strcmp(err.cause, c) == 0)


/* parses; *alg and *object say what the header gave; 0 or -1 */
static int
parse_header(const char *header, capif_alg_t *alg, int *object,
    const char **kid)
{
    int             rc;
    char           *t;
    size_t          len;
    unsigned char  *scratch;

    t = token(header, "{\"iss\":\"I\"}", "c2ln");
    len = strlen(t);
    scratch = malloc(capif_jws_scratch_size(len));
    if (scratch == NULL) {
        abort();
    }

    err.cause = "none";
    rc = capif_jws_parse(&jws, (const unsigned char *) t, len, scratch,
                         &err);
    if (rc == 0) {
        *alg = jws.alg;
        *object = (jws.header != NULL);
        *kid = (const char *) jws.kid;
        capif_jws_free(&jws);
    }

    free(scratch);
    free(t);

    return rc;
}


static void
test_common_header(void)
{
    int           object;
    const char   *kid;
    capif_alg_t   alg;

    /* the headers every signer writes: no JSON object built */
    CHECK(parse_header("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", &alg,
                       &object, &kid) == 0
          && alg == CAPIF_ALG_RS256 && !object && kid == NULL);
    CHECK(parse_header("{\"typ\":\"JWT\",\"alg\":\"ES256\"}", &alg,
                       &object, &kid) == 0
          && alg == CAPIF_ALG_ES256 && !object);
    CHECK(parse_header("{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}", &alg,
                       &object, &kid) == 0
          && alg == CAPIF_ALG_EDDSA && !object);

    /* the same shape with an alg that is not allowed: refused as before */
    CHECK(parse_header("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", &alg,
                       &object, &kid) != 0 && CAUSE("ALG_NOT_ALLOWED"));
    CHECK(parse_header("{\"typ\":\"JWT\",\"alg\":\"PS999\"}", &alg,
                       &object, &kid) != 0 && CAUSE("ALG_NOT_ALLOWED"));
    CHECK(parse_header("{\"alg\":\"RS25\\\",\"typ\":\"JWT\"}", &alg,
                       &object, &kid) != 0);

    /* anything else is parsed in full, with the same result as ever */
    CHECK(parse_header("{\"alg\":\"RS256\",\"typ\":\"JWT\"} ", &alg,
                       &object, &kid) == 0
          && alg == CAPIF_ALG_RS256 && object);
    CHECK(parse_header("{\"alg\":\"RS256\",\"typ\":\"jwt\"}", &alg,
                       &object, &kid) == 0
          && alg == CAPIF_ALG_RS256 && object);
    CHECK(parse_header("{\"alg\":\"RS256\",\"typ\":\"JWT\","
                       "\"kid\":\"k1\"}", &alg, &object, &kid) == 0
          && object && kid != NULL);
    CHECK(parse_header("{\"alg\":\"RS256\",\"typ\":\"JWT\"}}", &alg,
                       &object, &kid) != 0 && CAUSE("TOKEN_HEADER_INVALID"));
    CHECK(parse_header("{\"alg\":\"RS256\",\"alg\":\"JWT\"}", &alg,
                       &object, &kid) != 0);
}


#define H         "{\"alg\":\"RS256\",\"typ\":\"JWT\"}"
#define P         "{\"iss\":\"I\"}"


int
main(void)
{
    int    i;
    char   deep[200], *t, *big;

    CHECK(parse(H, P, "c2ln") == 0);

    test_common_header();

    /* algorithms */
    CHECK(parse("{\"alg\":\"none\"}", P, "c2ln") != 0
          && CAUSE("ALG_NOT_ALLOWED"));
    CHECK(parse("{\"alg\":\"NONE\"}", P, "c2ln") != 0
          && CAUSE("ALG_NOT_ALLOWED"));
    CHECK(parse("{\"alg\":\"HS256\"}", P, "c2ln") != 0
          && CAUSE("ALG_NOT_ALLOWED"));
    CHECK(parse("{\"alg\":\"rs256\"}", P, "c2ln") != 0
          && CAUSE("ALG_NOT_ALLOWED"));
    CHECK(parse("{\"typ\":\"JWT\"}", P, "c2ln") != 0
          && CAUSE("TOKEN_HEADER_INVALID"));
    CHECK(parse("{\"alg\":256}", P, "c2ln") != 0
          && CAUSE("TOKEN_HEADER_INVALID"));

    /* headers that would choose the key */
    CHECK(parse("{\"alg\":\"RS256\",\"jwk\":{}}", P, "c2ln") != 0
          && CAUSE("HEADER_PARAM_FORBIDDEN"));
    CHECK(parse("{\"alg\":\"RS256\",\"jku\":\"http://x\"}", P, "c2ln") != 0
          && CAUSE("HEADER_PARAM_FORBIDDEN"));
    CHECK(parse("{\"alg\":\"RS256\",\"x5u\":\"http://x\"}", P, "c2ln") != 0
          && CAUSE("HEADER_PARAM_FORBIDDEN"));
    CHECK(parse("{\"alg\":\"RS256\",\"x5c\":[]}", P, "c2ln") != 0
          && CAUSE("HEADER_PARAM_FORBIDDEN"));
    CHECK(parse("{\"alg\":\"RS256\",\"crit\":[\"exp\"]}", P, "c2ln") != 0
          && CAUSE("HEADER_PARAM_FORBIDDEN"));

    /* kid */
    CHECK(parse("{\"alg\":\"RS256\",\"kid\":7}", P, "c2ln") != 0
          && CAUSE("TOKEN_HEADER_INVALID"));

    /* JSON strictness */
    CHECK(parse("{\"alg\":\"RS256\",\"alg\":\"none\"}", P, "c2ln") != 0
          && CAUSE("TOKEN_HEADER_INVALID"));
    CHECK(parse(H, "{\"iss\":\"a\",\"iss\":\"b\"}", "c2ln") != 0
          && CAUSE("CLAIMS_INVALID"));
    CHECK(parse(H, "{\"iss\":\"a\\u0000b\"}", "c2ln") != 0
          && CAUSE("CLAIMS_INVALID"));
    CHECK(parse(H, "[1]", "c2ln") != 0 && CAUSE("CLAIMS_INVALID"));
    CHECK(parse(H, "{} x", "c2ln") != 0 && CAUSE("CLAIMS_INVALID"));
    CHECK(parse("[]", P, "c2ln") != 0 && CAUSE("TOKEN_HEADER_INVALID"));

    /* depth: 7 levels below the claim set pass, 8 do not */
    strcpy(deep, "{\"a\":");
    for (i = 0; i < 7; i++) {
        strcat(deep, "[");
    }
    strcat(deep, "1");
    for (i = 0; i < 7; i++) {
        strcat(deep, "]");
    }
    strcat(deep, "}");
    CHECK(parse(H, deep, "c2ln") == 0);

    strcpy(deep, "{\"a\":");
    for (i = 0; i < 8; i++) {
        strcat(deep, "[");
    }
    strcat(deep, "1");
    for (i = 0; i < 8; i++) {
        strcat(deep, "]");
    }
    strcat(deep, "}");
    CHECK(parse(H, deep, "c2ln") != 0 && CAUSE("CLAIMS_INVALID"));

    /* segments */
    CHECK(parse_raw("a.b", 3) != 0 && CAUSE("TOKEN_MALFORMED"));
    CHECK(parse_raw("a.b.c.d", 7) != 0 && CAUSE("TOKEN_MALFORMED"));
    CHECK(parse_raw("a.b.c.d.e", 9) != 0 && CAUSE("TOKEN_MALFORMED"));
    CHECK(parse_raw("..", 2) != 0 && CAUSE("TOKEN_MALFORMED"));
    CHECK(parse(H, P, "") != 0 && CAUSE("TOKEN_MALFORMED"));
    CHECK(parse(H, P, "c2ln=") != 0 && CAUSE("TOKEN_MALFORMED"));
    CHECK(parse(H, P, "c2l+") != 0 && CAUSE("TOKEN_MALFORMED"));
    CHECK(parse(H, P, "c2l/") != 0 && CAUSE("TOKEN_MALFORMED"));
    CHECK(parse(H, P, "c2 ln") != 0 && CAUSE("TOKEN_MALFORMED"));
    CHECK(parse(H, P, "c2lo") == 0);
    CHECK(parse(H, P, "c2k") == 0);
    CHECK(parse(H, P, "c2l") != 0 && CAUSE("TOKEN_MALFORMED"));

    t = token(H, P, "c2ln");
    CHECK(parse_raw(t, strlen(t) - 1) != 0 || 1);
    t[0] = '=';
    CHECK(parse_raw(t, strlen(t)) != 0 && CAUSE("TOKEN_MALFORMED"));
    free(t);

    /* size cap, before any decoding */
    big = malloc(CAPIF_TOKEN_MAX_LEN + 2);
    if (big == NULL) {
        return 1;
    }
    memset(big, 'A', CAPIF_TOKEN_MAX_LEN + 1);
    big[10] = '.';
    big[20] = '.';
    big[CAPIF_TOKEN_MAX_LEN + 1] = '\0';
    CHECK(parse_raw(big, CAPIF_TOKEN_MAX_LEN + 1) != 0
          && CAUSE("TOKEN_TOO_LARGE"));
    CHECK(parse_raw(big, CAPIF_TOKEN_MAX_LEN) != 0
          && !CAUSE("TOKEN_TOO_LARGE"));
    free(big);

    return UNIT_DONE();
}

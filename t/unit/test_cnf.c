/*
 * Copyright (C) ngx_capif_module authors
 */

#include "unit.h"
#include "capif_b64url.h"
#include "capif_cnf.h"


static json_t *
claims(const char *text)
{
    json_t  *j;

    j = json_loadb(text, strlen(text), JSON_REJECT_DUPLICATES, NULL);
    if (j == NULL) {
        fprintf(stderr, "bad test JSON: %s\n", text);
        abort();
    }

    return j;
}


/* runs capif_cnf_check; returns the cause, or "" when allowed */
static const char *
check(capif_cnf_mode_t mode, int no_ca, const char *text,
    const capif_cnf_cert_t *cert)
{
    int            rc;
    json_t        *j;
    capif_error_t  err;

    j = claims(text);
    err.cause = NULL;
    rc = capif_cnf_check(mode, no_ca, j, cert, &err);
    json_decref(j);

    if (rc == 0) {
        return "";
    }

    CHECK(err.outcome == CAPIF_INVALID_TOKEN);
    return err.cause;
}


int
main(void)
{
    int               bound;
    char              text[256], b64[64];
    unsigned char     thumb[32];
    capif_error_t     err;
    capif_cnf_cert_t  cert, other, unverified, none;
    json_t           *j;

    memset(&cert, 0, sizeof(cert));
    cert.present = 1;
    cert.verified = 1;
    memset(cert.sha256, 0xa5, 32);
    cert.sha256[31] = 0x01;

    other = cert;
    other.sha256[31] = 0x02;

    unverified = cert;
    unverified.verified = 0;

    memset(&none, 0, sizeof(none));

    b64[capif_b64url_encode(cert.sha256, 32, (unsigned char *) b64)] = '\0';
    CHECK(strlen(b64) == 43);

    snprintf(text, sizeof(text), "{\"cnf\":{\"x5t#S256\":\"%s\"}}", b64);

    /* parse */
    j = claims(text);
    CHECK(capif_cnf_parse(j, &bound, thumb, &err) == 0 && bound == 1
          && memcmp(thumb, cert.sha256, 32) == 0);
    json_decref(j);

    j = claims("{\"iss\":\"x\"}");
    CHECK(capif_cnf_parse(j, &bound, thumb, &err) == 0 && bound == 0);
    json_decref(j);

    j = claims("{\"cnf\":{\"jkt\":\"abc\"}}");
    CHECK(capif_cnf_parse(j, &bound, thumb, &err) == 0 && bound == 0);
    json_decref(j);

    /* no claim set at all (e.g. a cache that kept none): never unbound */
    CHECK(capif_cnf_check(CAPIF_CNF_OPTIONAL, 0, NULL, &cert, &err) == -1
          && err.outcome == CAPIF_SERVER_ERROR);
    j = json_array();
    CHECK(capif_cnf_check(CAPIF_CNF_OPTIONAL, 0, j, &cert, &err) == -1
          && err.outcome == CAPIF_SERVER_ERROR);
    json_decref(j);
    CHECK(capif_cnf_check(CAPIF_CNF_OFF, 0, NULL, &cert, &err) == 0);

    /* off: nothing is looked at, not even a broken cnf */
    CHECK(strcmp(check(CAPIF_CNF_OFF, 0, "{\"cnf\":1}", NULL), "") == 0);

    /* optional */
    CHECK(strcmp(check(CAPIF_CNF_OPTIONAL, 0, text, &cert), "") == 0);
    CHECK(strcmp(check(CAPIF_CNF_OPTIONAL, 0, "{}", &none), "") == 0);
    CHECK(strcmp(check(CAPIF_CNF_OPTIONAL, 0, "{}", &cert), "") == 0);
    CHECK(strcmp(check(CAPIF_CNF_OPTIONAL, 0, text, &other),
                 "CERT_BINDING_MISMATCH") == 0);
    CHECK(strcmp(check(CAPIF_CNF_OPTIONAL, 0, text, &none),
                 "CLIENT_CERT_MISSING") == 0);
    CHECK(strcmp(check(CAPIF_CNF_OPTIONAL, 0, text, NULL),
                 "CLIENT_CERT_MISSING") == 0);
    CHECK(strcmp(check(CAPIF_CNF_OPTIONAL, 0, text, &unverified),
                 "CLIENT_CERT_UNVERIFIED") == 0);

    /* no_ca: an unverified certificate is compared all the same */
    CHECK(strcmp(check(CAPIF_CNF_OPTIONAL, 1, text, &unverified), "") == 0);
    other.verified = 0;
    CHECK(strcmp(check(CAPIF_CNF_OPTIONAL, 1, text, &other),
                 "CERT_BINDING_MISMATCH") == 0);
    CHECK(strcmp(check(CAPIF_CNF_STRICT, 1, text, &none),
                 "CLIENT_CERT_MISSING") == 0);

    /* strict */
    CHECK(strcmp(check(CAPIF_CNF_STRICT, 0, text, &cert), "") == 0);
    CHECK(strcmp(check(CAPIF_CNF_STRICT, 0, "{}", &cert),
                 "CERT_BINDING_REQUIRED") == 0);
    CHECK(strcmp(check(CAPIF_CNF_STRICT, 0, "{\"cnf\":{\"jkt\":\"a\"}}",
                       &cert), "CERT_BINDING_REQUIRED") == 0);

    /* malformed cnf, in every mode that looks */
    CHECK(strcmp(check(CAPIF_CNF_OPTIONAL, 0, "{\"cnf\":\"abc\"}", &cert),
                 "CNF_INVALID") == 0);
    CHECK(strcmp(check(CAPIF_CNF_STRICT, 0, "{\"cnf\":[1]}", &cert),
                 "CNF_INVALID") == 0);
    CHECK(strcmp(check(CAPIF_CNF_OPTIONAL, 0, "{\"cnf\":null}", &cert),
                 "CNF_INVALID") == 0);
    CHECK(strcmp(check(CAPIF_CNF_OPTIONAL, 0,
                       "{\"cnf\":{\"x5t#S256\":42}}", &cert),
                 "CNF_INVALID") == 0);
    CHECK(strcmp(check(CAPIF_CNF_OPTIONAL, 0,
                       "{\"cnf\":{\"x5t#S256\":\"\"}}", &cert),
                 "CNF_INVALID") == 0);

    /* 42 and 44 characters, padding, standard alphabet, hex */
    snprintf(text, sizeof(text), "{\"cnf\":{\"x5t#S256\":\"%.42s\"}}", b64);
    CHECK(strcmp(check(CAPIF_CNF_OPTIONAL, 0, text, &cert),
                 "CNF_INVALID") == 0);
    snprintf(text, sizeof(text), "{\"cnf\":{\"x5t#S256\":\"%sA\"}}", b64);
    CHECK(strcmp(check(CAPIF_CNF_OPTIONAL, 0, text, &cert),
                 "CNF_INVALID") == 0);
    snprintf(text, sizeof(text), "{\"cnf\":{\"x5t#S256\":\"%s=\"}}", b64);
    CHECK(strcmp(check(CAPIF_CNF_OPTIONAL, 0, text, &cert),
                 "CNF_INVALID") == 0);
    snprintf(text, sizeof(text),
             "{\"cnf\":{\"x5t#S256\":\"%.42s+\"}}", b64);
    CHECK(strcmp(check(CAPIF_CNF_OPTIONAL, 0, text, &cert),
                 "CNF_INVALID") == 0);
    CHECK(strcmp(check(CAPIF_CNF_OPTIONAL, 0,
                       "{\"cnf\":{\"x5t#S256\":\"a5a5a5a5a5a5a5a5a5a5a5a5a5a5"
                       "a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5\"}}", &cert),
                 "CNF_INVALID") == 0);

    /* non-canonical last character: same bytes, other spelling */
    snprintf(text, sizeof(text), "{\"cnf\":{\"x5t#S256\":\"%.42s%c\"}}",
             b64, b64[42] == 'E' ? 'F' : b64[42] + 1);
    CHECK(strcmp(check(CAPIF_CNF_OPTIONAL, 0, text, &cert),
                 "CNF_INVALID") == 0);

    return UNIT_DONE();
}

/*
 * Copyright (C) ngx_capif_module authors
 *
 * The AEF_Security_API request bodies: RevokeAuthorizationReq, the owner
 * and group withdrawals, CAPIF EventNotification.
 */

#include <stdlib.h>
#include "capif_aef_request.h"
#include "capif_b64url.h"
#include "unit.h"


static capif_aef_conf_t  conf = { 1000000, 3600, 60, 86400 };


/* parses a NUL-terminated body; returns the parse's result */
static int
parse(capif_aef_request_t *req, capif_aef_op_t op, const char *body)
{
    return capif_aef_request_parse(req, op, (const unsigned char *) body,
                                   strlen(body), &conf);
}


static int
refused(capif_aef_op_t op, const char *body, int status, const char *cause)
{
    int                  ok;
    capif_aef_request_t  req;

    ok = parse(&req, op, body) == -1 && req.status == status
         && strcmp(req.cause, cause) == 0 && req.nrecs == 0;

    if (!ok) {
        fprintf(stderr, "body %s: status %d cause %s\n", body, req.status,
                req.cause ? req.cause : "(none)");
    }

    capif_aef_request_free(&req);

    return ok;
}


static int
is(const capif_rev_str_t *s, const char *lit)
{
    return s->len == strlen(lit) && memcmp(s->data, lit, s->len) == 0;
}


/* an unsigned compact JWS with the given claim set */
static char *
jws(const char *claims)
{
    char          *out;
    size_t         n, h;
    const char    *hdr = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";

    out = malloc(4096);
    h = capif_b64url_encode((const unsigned char *) hdr, strlen(hdr),
                            (unsigned char *) out);
    out[h] = '.';
    n = capif_b64url_encode((const unsigned char *) claims, strlen(claims),
                            (unsigned char *) out + h + 1);
    memcpy(out + h + 1 + n, ".c2ln", 6);

    return out;
}


int
main(void)
{
    int                  i;
    char                 body[8192], hex[65], *tok;
    capif_aef_request_t  req;

    /* operations and media types */
    CHECK(capif_aef_op((const unsigned char *) "/a/revoke-authorization",
                       23) == CAPIF_AEF_REVOKE);
    CHECK(capif_aef_op((const unsigned char *)
                       "/x/capif-events/notifications", 29)
          == CAPIF_AEF_EVENT);
    CHECK(capif_aef_op((const unsigned char *)
                       "/x/capif-events/notifications/", 30)
          == CAPIF_AEF_UNKNOWN);
    CHECK(capif_aef_op((const unsigned char *) "/a/revoke", 9)
          == CAPIF_AEF_UNKNOWN);
    CHECK(capif_aef_op((const unsigned char *) "", 0) == CAPIF_AEF_UNKNOWN);
    CHECK(capif_aef_media_json((const unsigned char *) "application/json",
                               16));
    CHECK(capif_aef_media_json((const unsigned char *)
                               "APPLICATION/Json ; charset=utf-8", 32));
    CHECK(!capif_aef_media_json((const unsigned char *) "application/jso",
                                15));
    CHECK(!capif_aef_media_json((const unsigned char *)
                                "application/json-seq", 20));
    CHECK(!capif_aef_media_json((const unsigned char *) "text/plain", 10));
    CHECK(!capif_aef_media_json((const unsigned char *) "", 0));

    /* an empty buffer appends nothing, and never reads its source */
    {
        unsigned char  dst[4], *p;

        p = capif_aef_body_append(dst, NULL, 0);
        CHECK(p == dst);
        p = capif_aef_body_append(p, (const unsigned char *) "ab", 2);
        CHECK(p == dst + 2 && memcmp(dst, "ab", 2) == 0);
    }

    /* RevokeAuthorizationReq: one invoker record per apiId */
    CHECK(parse(&req, CAPIF_AEF_REVOKE,
                "{\"revokeInfo\":{\"apiInvokerId\":\"INV1\",\"aefId\":\"aef1\","
                "\"apiIds\":[\"api-1\",\"api-2\"],\"cause\":\"OTHER_REASON\"},"
                "\"supportedFeatures\":\"3\"}") == 0);
    CHECK(req.nrecs == 2 && !req.no_content && !req.unknown_cause);
    CHECK(strcmp(req.features, "1") == 0);
    CHECK(req.recs[0].type == CAPIF_REV_INVOKER
          && is(&req.recs[0].a, "INV1") && is(&req.recs[0].b, "aef1")
          && is(&req.recs[0].c, "api-1") && is(&req.recs[1].c, "api-2"));
    CHECK(is(&req.recs[1].cause, "OTHER_REASON"));
    CHECK(req.recs[0].revoked_at == 1000000
          && req.recs[0].expires == 1000000 + 3600 + 60);
    capif_aef_request_free(&req);

    /* features: the last digit holds features 1-4 */
    CHECK(parse(&req, CAPIF_AEF_REVOKE,
                "{\"revokeInfo\":{\"apiInvokerId\":\"I\",\"apiIds\":[\"a\"],"
                "\"cause\":\"x\"},\"supportedFeatures\":\"1E\"}") == 0);
    CHECK(strcmp(req.features, "0") == 0 && req.unknown_cause);
    CHECK(req.recs[0].b.len == 0);
    capif_aef_request_free(&req);

    CHECK(parse(&req, CAPIF_AEF_REVOKE,
                "{\"revokeInfo\":{\"apiInvokerId\":\"I\",\"apiIds\":[\"a\"],"
                "\"cause\":\"x\"},\"supportedFeatures\":\"\"}") == 0);
    CHECK(strcmp(req.features, "0") == 0);
    capif_aef_request_free(&req);

    /* refusals */
    CHECK(refused(CAPIF_AEF_REVOKE, "", 400, "INVALID_MSG_FORMAT"));
    CHECK(refused(CAPIF_AEF_REVOKE, "[]", 400, "INVALID_MSG_FORMAT"));
    CHECK(refused(CAPIF_AEF_REVOKE, "{\"supportedFeatures\":\"0\"}", 400,
                  "MANDATORY_IE_MISSING"));
    CHECK(refused(CAPIF_AEF_REVOKE,
                  "{\"revokeInfo\":{\"apiInvokerId\":\"I\",\"apiIds\":[\"a\"],"
                  "\"cause\":\"x\"}}", 400, "MANDATORY_IE_MISSING"));
    CHECK(refused(CAPIF_AEF_REVOKE,
                  "{\"revokeInfo\":{\"apiInvokerId\":\"I\",\"apiIds\":[\"a\"],"
                  "\"cause\":\"x\"},\"supportedFeatures\":\"g\"}", 400,
                  "MANDATORY_IE_INCORRECT"));
    CHECK(refused(CAPIF_AEF_REVOKE,
                  "{\"revokeInfo\":{\"apiInvokerId\":\"I\",\"apiIds\":[\"a\"],"
                  "\"cause\":\"\"},\"supportedFeatures\":\"0\"}", 400,
                  "MANDATORY_IE_INCORRECT"));
    CHECK(refused(CAPIF_AEF_REVOKE,
                  "{\"revokeInfo\":{\"apiInvokerId\":\"I\",\"apiIds\":[\"a\"]},"
                  "\"supportedFeatures\":\"0\"}", 400,
                  "MANDATORY_IE_MISSING"));
    CHECK(refused(CAPIF_AEF_REVOKE,
                  "{\"revokeInfo\":{\"apiInvokerId\":\"I\",\"apiIds\":[],"
                  "\"cause\":\"x\"},\"supportedFeatures\":\"0\"}", 400,
                  "MANDATORY_IE_INCORRECT"));
    CHECK(refused(CAPIF_AEF_REVOKE,
                  "{\"revokeInfo\":{\"apiInvokerId\":\"a\\u0001\","
                  "\"apiIds\":[\"a\"],\"cause\":\"x\"},"
                  "\"supportedFeatures\":\"0\"}", 400,
                  "MANDATORY_IE_INCORRECT"));
    CHECK(refused(CAPIF_AEF_REVOKE,
                  "{\"revokeInfo\":{\"apiInvokerId\":\"I\",\"apiIds\":[\"a\"],"
                  "\"cause\":\"x\",\"access_token\":\"a.b\"},"
                  "\"supportedFeatures\":\"0\"}", 400,
                  "OPTIONAL_IE_INCORRECT"));
    CHECK(refused(CAPIF_AEF_UNKNOWN, "{}", 404,
                  "RESOURCE_NOT_FOUND"));

    /* 64 apiIds pass, 65 do not */
    for (i = 65; i >= 64; i--) {
        char  *p;
        int    k;

        p = body + sprintf(body, "{\"supportedFeatures\":\"0\",\"revokeInfo\":"
                           "{\"apiInvokerId\":\"I\",\"cause\":\"x\","
                           "\"apiIds\":[");
        for (k = 0; k < i; k++) {
            p += sprintf(p, "%s\"a%d\"", k ? "," : "", k);
        }
        sprintf(p, "]}}");

        if (i == 65) {
            CHECK(refused(CAPIF_AEF_REVOKE, body, 400,
                          "MANDATORY_IE_INCORRECT"));
        } else {
            CHECK(parse(&req, CAPIF_AEF_REVOKE, body) == 0
                  && req.nrecs == 64);
            capif_aef_request_free(&req);
        }
    }

    /*
     * An access token: the token itself under the key the request path
     * probes, and the invoker for the apiIds; both spellings.
     */
    tok = jws("{\"iss\":\"I\",\"jti\":\"J1\",\"exp\":2000000}");
    sprintf(body, "{\"supportedFeatures\":\"1\",\"revokeInfo\":"
            "{\"apiInvokerId\":\"I\",\"cause\":\"OVERLIMIT_USAGE\","
            "\"apiIds\":[\"a\"],\"access_token\":\"%s\"}}", tok);
    CHECK(parse(&req, CAPIF_AEF_REVOKE, body) == 0);
    CHECK(req.nrecs == 2 && req.recs[0].type == CAPIF_REV_TOKEN
          && is(&req.recs[0].a, "jti") && is(&req.recs[0].b, "J1")
          && req.recs[1].type == CAPIF_REV_INVOKER);
    /* kept until the token expires */
    CHECK(req.recs[0].expires == 2000000 + 60);
    capif_aef_request_free(&req);

    sprintf(body, "{\"supportedFeatures\":\"1\",\"revokeInfo\":"
            "{\"apiInvokerId\":\"I\",\"cause\":\"OVERLIMIT_USAGE\","
            "\"apiIds\":[\"a\"],\"accessToken\":\"%s\"}}", tok);
    CHECK(parse(&req, CAPIF_AEF_REVOKE, body) == 0);
    CHECK(req.nrecs == 2 && is(&req.recs[0].b, "J1"));
    capif_aef_request_free(&req);
    free(tok);

    /* a jti with a control byte, or too long: by digest */
    tok = jws("{\"iss\":\"I\",\"jti\":\"a\\nb\"}");
    sprintf(body, "{\"supportedFeatures\":\"1\",\"revokeInfo\":"
            "{\"apiInvokerId\":\"I\",\"cause\":\"c\","
            "\"apiIds\":[\"a\"],\"access_token\":\"%s\"}}", tok);
    CHECK(parse(&req, CAPIF_AEF_REVOKE, body) == 0);
    CHECK(is(&req.recs[0].a, "sha256") && req.recs[0].b.len == 64);
    CHECK(capif_rev_sha256_hex((const unsigned char *) tok,
                               strchr(strchr(tok, '.') + 1, '.') - tok,
                               hex) == 0);
    CHECK(memcmp(req.recs[0].b.data, hex, 64) == 0);
    capif_aef_request_free(&req);
    free(tok);

    {
        char  claims[700];

        sprintf(claims, "{\"jti\":\"%0600d\"}", 7);
        tok = jws(claims);
        sprintf(body, "{\"supportedFeatures\":\"1\",\"revokeInfo\":"
                "{\"apiInvokerId\":\"I\",\"cause\":\"c\","
                "\"apiIds\":[\"a\"],\"access_token\":\"%s\"}}", tok);
        CHECK(parse(&req, CAPIF_AEF_REVOKE, body) == 0);
        CHECK(is(&req.recs[0].a, "sha256"));
        capif_aef_request_free(&req);
        free(tok);
    }

    /* owner and group: one record each, the same member rules */
    CHECK(parse(&req, CAPIF_AEF_REVOKE_OWNER,
                "{\"supportedFeatures\":\"0\",\"revokeInfo\":"
                "{\"apiInvokerId\":\"I\",\"resOwnerId\":"
                "{\"gpsi\":\"msisdn-491700000001\"},\"purpose\":\"billing\","
                "\"cause\":\"AUTHORIZATION_ISSUE\"}}") == 0);
    CHECK(req.nrecs == 1 && req.recs[0].type == CAPIF_REV_OWNER
          && is(&req.recs[0].b, "msisdn-491700000001")
          && is(&req.recs[0].c, "billing"));
    capif_aef_request_free(&req);

    CHECK(refused(CAPIF_AEF_REVOKE_OWNER,
                  "{\"supportedFeatures\":\"0\",\"revokeInfo\":"
                  "{\"apiInvokerId\":\"I\",\"resOwnerId\":\"alice\","
                  "\"cause\":\"x\"}}", 400, "MANDATORY_IE_INCORRECT"));
    CHECK(refused(CAPIF_AEF_REVOKE_OWNER,
                  "{\"supportedFeatures\":\"0\",\"revokeInfo\":"
                  "{\"apiInvokerId\":\"I\",\"cause\":\"x\"}}", 400,
                  "MANDATORY_IE_MISSING"));
    CHECK(refused(CAPIF_AEF_REVOKE_OWNER,
                  "{\"supportedFeatures\":\"0\",\"revokeInfo\":"
                  "{\"apiInvokerId\":\"I\",\"resOwnerId\":"
                  "\"msisdn-491700000001\",\"purpose\":\"\",\"cause\":\"x\"}}",
                  400, "OPTIONAL_IE_INCORRECT"));

    CHECK(parse(&req, CAPIF_AEF_REVOKE_GROUP,
                "{\"supportedFeatures\":\"0\",\"revokeInfo\":"
                "{\"groupId\":\"extgroupid-g@example.com\","
                "\"cause\":\"OTHER_REASON\"}}") == 0);
    CHECK(req.nrecs == 1 && req.recs[0].type == CAPIF_REV_GROUP
          && req.recs[0].b.len == 0 && req.recs[0].c.len == 0);
    capif_aef_request_free(&req);

    CHECK(refused(CAPIF_AEF_REVOKE_GROUP,
                  "{\"supportedFeatures\":\"0\",\"revokeInfo\":"
                  "{\"groupId\":\"g\",\"cause\":\"x\"}}", 400,
                  "MANDATORY_IE_INCORRECT"));
    CHECK(refused(CAPIF_AEF_REVOKE_GROUP,
                  "{\"supportedFeatures\":\"0\",\"revokeInfo\":"
                  "{\"groupId\":\"extgroupid-g@example.com\","
                  "\"apiInvokerId\":5,\"cause\":\"x\"}}", 400,
                  "OPTIONAL_IE_INCORRECT"));

    /* events */
    CHECK(parse(&req, CAPIF_AEF_EVENT,
                "{\"subscriptionId\":\"s\",\"events\":"
                "\"API_INVOKER_AUTHORIZATION_REVOKED\",\"eventDetail\":"
                "{\"apiInvokerIds\":[\"I1\",\"I2\"],\"apiIds\":[\"a\",\"b\","
                "\"c\"]}}") == 0);
    CHECK(req.nrecs == 6 && req.no_content && req.warn == NULL);
    CHECK(is(&req.recs[5].a, "I2") && is(&req.recs[5].c, "c")
          && req.recs[5].b.len == 0
          && is(&req.recs[5].cause, "API_INVOKER_AUTHORIZATION_REVOKED"));
    capif_aef_request_free(&req);

    CHECK(parse(&req, CAPIF_AEF_EVENT,
                "{\"subscriptionId\":\"s\",\"events\":"
                "\"API_INVOKER_AUTHORIZATION_REVOKED\"}") == 0);
    CHECK(req.nrecs == 0 && req.no_content && req.warn != NULL);
    capif_aef_request_free(&req);

    CHECK(parse(&req, CAPIF_AEF_EVENT,
                "{\"subscriptionId\":\"s\",\"events\":\"NEW_EVENT\","
                "\"eventDetail\":{\"apiInvokerIds\":[\"I\"],"
                "\"apiIds\":[\"a\"]}}") == 0);
    CHECK(req.nrecs == 0 && req.no_content && req.warn == NULL
          && strcmp(req.event, "NEW_EVENT") == 0);
    capif_aef_request_free(&req);

    CHECK(refused(CAPIF_AEF_EVENT, "{\"events\":\"X\"}", 400,
                  "MANDATORY_IE_MISSING"));
    CHECK(refused(CAPIF_AEF_EVENT, "{\"subscriptionId\":\"s\"}", 400,
                  "MANDATORY_IE_MISSING"));
    CHECK(refused(CAPIF_AEF_EVENT,
                  "{\"subscriptionId\":\"s\",\"events\":[\"X\"]}", 400,
                  "MANDATORY_IE_INCORRECT"));
    CHECK(refused(CAPIF_AEF_EVENT,
                  "{\"subscriptionId\":\"s\",\"events\":"
                  "\"API_INVOKER_AUTHORIZATION_REVOKED\","
                  "\"eventDetail\":{\"apiInvokerIds\":[\"\"],"
                  "\"apiIds\":[\"a\"]}}", 400, "OPTIONAL_IE_INCORRECT"));

    /* revoke-credential */
    CHECK(capif_aef_op((const unsigned char *) "/v1/revoke-credential", 21)
          == CAPIF_AEF_REVOKE_CREDENTIAL);
    CHECK(capif_aef_op((const unsigned char *) "/v1/check-authentication",
                       24) == CAPIF_AEF_CHECK_AUTH);

#define X5T  "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
#define CRED(info)                                                        \
    "{\"supportedFeatures\":\"0\",\"revokeInfo\":{\"apiInvokerId\":"     \
    "\"INV-1\",\"cause\":\"OTHER_REASON\"" info "}}"

    CHECK(parse(&req, CAPIF_AEF_REVOKE_CREDENTIAL,
                CRED(",\"certSha256\":\"" X5T "\"")) == 0);
    CHECK(req.nrecs == 2);
    CHECK(req.recs[0].type == CAPIF_REV_CERT && is(&req.recs[0].a, "x5t#S256")
          && is(&req.recs[0].b, X5T) && req.recs[0].c.len == 0
          && req.recs[0].revoked_at == 1000000
          && req.recs[0].expires == 1000000 + 86400 + 3600 + 60);
    CHECK(req.recs[1].type == CAPIF_REV_INVOKER_ALL
          && is(&req.recs[1].a, "INV-1") && req.recs[1].b.len == 0
          && req.recs[1].expires == 1000000 + 3600 + 60
          && is(&req.recs[1].cause, "OTHER_REASON"));
    capif_aef_request_free(&req);

    /* serial and issuer, made canonical; notAfter bounds the entry */
    CHECK(parse(&req, CAPIF_AEF_REVOKE_CREDENTIAL,
                CRED(",\"serialNumber\":\"00:4F:3A\",\"issuer\":"
                     "\"cn=CAPIF CA, O=Example\",\"notAfter\":"
                     "\"1970-01-12T14:46:40+01:00\"")) == 0);
    CHECK(req.nrecs == 2 && req.recs[0].type == CAPIF_REV_CERT
          && is(&req.recs[0].a, "serial") && is(&req.recs[0].b, "4f3a")
          && is(&req.recs[0].c, "CN=capif ca,O=example")
          && req.recs[0].expires == 1000000 + 3600 + 60);
    capif_aef_request_free(&req);

    /* a notAfter long past: kept as long as the tokens */
    CHECK(parse(&req, CAPIF_AEF_REVOKE_CREDENTIAL,
                CRED(",\"certSha256\":\"" X5T "\",\"notAfter\":"
                     "\"1970-01-01T00:00:00Z\"")) == 0);
    CHECK(req.recs[0].expires == 1000000 + 3600 + 60);
    capif_aef_request_free(&req);

    /* both names at once: two certificate entries */
    CHECK(parse(&req, CAPIF_AEF_REVOKE_CREDENTIAL,
                CRED(",\"certSha256\":\"" X5T "\",\"serialNumber\":\"1\","
                     "\"issuer\":\"CN=x\"")) == 0);
    CHECK(req.nrecs == 3 && req.recs[2].type == CAPIF_REV_INVOKER_ALL);
    capif_aef_request_free(&req);

    CHECK(refused(CAPIF_AEF_REVOKE_CREDENTIAL, CRED(""), 400,
                  "MANDATORY_IE_MISSING"));
    CHECK(refused(CAPIF_AEF_REVOKE_CREDENTIAL,
                  CRED(",\"serialNumber\":\"1\""), 400,
                  "MANDATORY_IE_MISSING"));
    CHECK(refused(CAPIF_AEF_REVOKE_CREDENTIAL,
                  CRED(",\"issuer\":\"CN=x\""), 400,
                  "MANDATORY_IE_MISSING"));
    CHECK(refused(CAPIF_AEF_REVOKE_CREDENTIAL,
                  CRED(",\"certSha256\":\"abc\""), 400,
                  "MANDATORY_IE_INCORRECT"));
    CHECK(refused(CAPIF_AEF_REVOKE_CREDENTIAL,
                  CRED(",\"certSha256\":null"), 400,
                  "MANDATORY_IE_INCORRECT"));
    CHECK(refused(CAPIF_AEF_REVOKE_CREDENTIAL,
                  CRED(",\"serialNumber\":\"g\",\"issuer\":\"CN=x\""),
                  400, "MANDATORY_IE_INCORRECT"));
    CHECK(refused(CAPIF_AEF_REVOKE_CREDENTIAL,
                  CRED(",\"serialNumber\":\"1\",\"issuer\":\"x\""),
                  400, "MANDATORY_IE_INCORRECT"));
    CHECK(refused(CAPIF_AEF_REVOKE_CREDENTIAL,
                  CRED(",\"certSha256\":\"" X5T "\",\"notAfter\":\"soon\""),
                  400, "OPTIONAL_IE_INCORRECT"));
    CHECK(refused(CAPIF_AEF_REVOKE_CREDENTIAL,
                  "{\"supportedFeatures\":\"0\",\"revokeInfo\":"
                  "{\"certSha256\":\"" X5T "\",\"cause\":\"x\"}}", 400,
                  "MANDATORY_IE_MISSING"));
    CHECK(refused(CAPIF_AEF_REVOKE_CREDENTIAL,
                  "{\"revokeInfo\":{\"apiInvokerId\":\"I\",\"cause\":\"x\","
                  "\"certSha256\":\"" X5T "\"}}", 400,
                  "MANDATORY_IE_MISSING"));

    /* check-authentication: CheckAuthenticationReq */
    CHECK(parse(&req, CAPIF_AEF_CHECK_AUTH,
                "{\"apiInvokerId\":\"INV-1\",\"supportedFeatures\":\"1\"}")
          == 0);
    CHECK(req.nrecs == 0 && is(&req.invoker, "INV-1")
          && strcmp(req.features, "1") == 0);
    capif_aef_request_free(&req);
    CHECK(refused(CAPIF_AEF_CHECK_AUTH, "{\"supportedFeatures\":\"1\"}",
                  400, "MANDATORY_IE_MISSING"));
    CHECK(refused(CAPIF_AEF_CHECK_AUTH, "{\"apiInvokerId\":\"INV-1\"}",
                  400, "MANDATORY_IE_MISSING"));
    CHECK(refused(CAPIF_AEF_CHECK_AUTH,
                  "{\"apiInvokerId\":7,\"supportedFeatures\":\"1\"}",
                  400, "MANDATORY_IE_INCORRECT"));

    /* RFC 3339 date-times (notAfter) */
    {
        long long  v;

#define DT(s)  capif_aef_datetime((const unsigned char *) (s),           \
                                  strlen(s), &v)

        CHECK(DT("1970-01-01T00:00:00Z") == 0 && v == 0);
        CHECK(DT("2031-01-02T03:04:05Z") == 0 && v == 1925089445);
        CHECK(DT("2031-01-02t03:04:05.123z") == 0 && v == 1925089445);
        CHECK(DT("2031-01-02T05:04:05+02:00") == 0 && v == 1925089445);
        CHECK(DT("2031-01-02T01:04:05-02:00") == 0 && v == 1925089445);
        CHECK(DT("2024-02-29T00:00:00Z") == 0 && v == 1709164800);
        CHECK(DT("2023-02-29T00:00:00Z") == -1);
        CHECK(DT("2100-02-29T00:00:00Z") == -1);
        CHECK(DT("2031-13-02T03:04:05Z") == -1);
        CHECK(DT("2031-01-02T24:04:05Z") == -1);
        CHECK(DT("2031-01-02T03:04:05") == -1);
        CHECK(DT("2031-01-02T03:04:05.Z") == -1);
        CHECK(DT("2031-01-02T03:04:05+0200") == -1);
        CHECK(DT("2031-01-02 03:04:05Z") == -1);
        CHECK(DT("1969-12-31T23:59:59Z") == -1);
        CHECK(DT("2031-01-02T03:04:05Zx") == -1);
    }

    return UNIT_DONE();
}

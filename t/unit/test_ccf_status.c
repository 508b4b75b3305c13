/*
 * Copyright (C) ngx_capif_module authors
 *
 * ServiceSecurity answers (TS 29.222 Obtain_API_Invoker_Info) and the
 * encoding of an invoker id in the request path.
 */

#include <stdlib.h>

#include "capif_ccf_status.h"
#include "unit.h"


static int
grants(const char *body, const char *aef, const char *api)
{
    char  err[128];

    return capif_service_security_grants((const unsigned char *) body,
                                         strlen(body), aef, strlen(aef), api,
                                         strlen(api), err, sizeof(err));
}


static void
test_grants(void)
{
    /* the reference CCF's shape */
    const char  *ok =
        "{\"securityInfo\": [{\"aefId\": \"aef-1\", \"apiId\": \"api-9\","
        " \"prefSecurityMethods\": [\"OAUTH\"], \"selSecurityMethod\":"
        " \"OAUTH\", \"authorizationInfo\": \"x\"},"
        " {\"interfaceDetails\": {\"ipv4Addr\": \"10.0.0.1\"},"
        " \"prefSecurityMethods\": [\"PKI\"]},"
        " {\"aefId\": \"aef-2\", \"apiId\": \"api-1\","
        " \"prefSecurityMethods\": [\"PKI\"], \"newMember\": 1}],"
        " \"notificationDestination\": \"https://inv/n\","
        " \"supportedFeatures\": \"0\"}";

    CHECK(grants(ok, "aef-1", "api-9") == 1);
    CHECK(grants(ok, "aef-2", "api-1") == 1);
    CHECK(grants(ok, "aef-1", "api-1") == 0);     /* another pair */
    CHECK(grants(ok, "aef-1", "api-") == 0);      /* exact, not prefix */
    CHECK(grants(ok, "AEF-1", "api-9") == 0);
    CHECK(grants("{\"securityInfo\": []}", "a", "b") == 0);

    CHECK(grants("", "a", "b") == -1);
    CHECK(grants("[]", "a", "b") == -1);
    CHECK(grants("{}", "a", "b") == -1);
    CHECK(grants("{\"securityInfo\": {}}", "a", "b") == -1);
    CHECK(grants("{\"securityInfo\": [1]}", "a", "b") == -1);
    CHECK(grants("{\"securityInfo\": [{\"aefId\": 1}]}", "a", "b") == -1);
    CHECK(grants("{\"securityInfo\": [], \"securityInfo\": []}", "a", "b")
          == -1);
    CHECK(grants("{\"securityInfo\": [{\"aefId\": \"a\", \"apiId\": \"b\""
                 "}]", "a", "b") == -1);
    /* an embedded NUL is refused, never matched against a shorter id */
    CHECK(grants("{\"securityInfo\": [{\"aefId\": \"a\\u0000x\", "
                 "\"apiId\": \"b\"}]}", "a", "b") == -1);
}


static void
test_encode(void)
{
    size_t          n;
    unsigned char   out[64];

    n = capif_pct_encode_segment((const unsigned char *) "INV/1%2F a~b", 12,
                                 out);
    CHECK(n == 18);
    out[n] = '\0';
    CHECK(strcmp((char *) out, "INV%2F1%252F%20a~b") == 0);

    n = capif_pct_encode_segment((const unsigned char *) "\xff?#", 3, out);
    out[n] = '\0';
    CHECK(strcmp((char *) out, "%FF%3F%23") == 0);
    CHECK(capif_pct_encode_segment((const unsigned char *) "", 0, out) == 0);
}


int
main(void)
{
    test_grants();
    test_encode();

    return UNIT_DONE();
}

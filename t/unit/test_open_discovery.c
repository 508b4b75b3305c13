/*
 * Copyright (C) ngx_capif_module authors
 */

#include <stdlib.h>
#include "unit.h"
#include "capif_open_discovery.h"


static capif_od_query_err_t  qerr;


static int
query_ok(const char *q)
{
    qerr.name = NULL;
    qerr.reason = NULL;

    return capif_od_query_check(q, strlen(q), &qerr) == 0;
}


/* refused, naming param */
static int
query_bad(const char *q, const char *param)
{
    if (query_ok(q)) {
        return 0;
    }

    return qerr.name_len == strlen(param)
           && memcmp(qerr.name, param, qerr.name_len) == 0
           && qerr.reason != NULL;
}


static capif_od_apis_t  apis;
static char            *out;
static size_t           outlen;
static const char      *why;


static int
filter(const char *body, const capif_od_fields_t *f, const char *expect)
{
    int  ok;

    free(out);
    out = NULL;
    why = NULL;

    if (capif_od_filter(body, strlen(body), f, &apis, &out, &outlen, &why)
        != 0)
    {
        return expect == NULL;
    }

    ok = expect != NULL && strcmp(out, expect) == 0;

    if (!ok) {
        fprintf(stderr, "got: %s\n", out);
    }

    return ok;
}


static int
problem(const char *body, const char *expect)
{
    free(out);
    out = NULL;

    if (capif_od_reduce_problem(body, strlen(body), &out, &outlen, &why)
        != 0)
    {
        return expect == NULL;
    }

    return expect != NULL && strcmp(out, expect) == 0;
}


#define LEAKY                                                              \
    "{\"discApis\":[{\"apiName\":\"api-1\",\"apiId\":\"id1\","             \
    "\"description\":\"d\",\"vendorSpecific-x\":{\"k\":1},"               \
    "\"aefProfiles\":[{\"aefId\":\"aef-1\",\"interfaceDescriptions\":"     \
    "[{\"ipv4Addr\":\"10.0.0.1\",\"port\":8080}],\"protocol\":"            \
    "\"HTTP_2\",\"securityMethods\":[\"PKI\"],\"versions\":"               \
    "[{\"apiVersion\":\"v1\",\"extra\":1,\"resources\":[{\"uri\":\"/x\","  \
    "\"secret\":\"s\"}]}]}]},"                                            \
    "{\"apiName\":\"hidden\",\"apiId\":\"id2\"},"                          \
    "{\"apiName\":\"other\",\"apiId\":\"id3\",\"description\":\"o\"}],"    \
    "\"suppFeat\":\"0\",\"ccfInternal\":true}"


int
main(void)
{
    char                errbuf[256];
    const char         *list;
    const char         *sel[2];
    capif_od_fields_t   fields;

    /* every parameter of the operation, well formed */
    CHECK(query_ok(""));
    CHECK(query_ok("api-names=3gpp-monitoring-event,api-2"));
    CHECK(query_ok("api-names=a&api-versions=%7B%22a%22%3A%5B%22v1%22%5D%7D"));
    CHECK(query_ok("comm-type=REQUEST_RESPONSE&protocols=HTTP_1_1,HTTP_2"));
    CHECK(query_ok("data-format=JSON&api-cats=Location+API,QoS"));
    CHECK(query_ok("preferred-aef-loc=%7B%22dcId%22%3A%22dc1%22%7D"));
    CHECK(query_ok("api-prov-names=Operator%20A&api-ids=abc123"));
    CHECK(query_ok("api-names=a&api-supported-features=%7B%22a%22%3A%22"
                   "0F%22%7D"));
    CHECK(query_ok("service-kpis=%7B%22maxReqRate%22%3A10%7D"));
    CHECK(query_ok("api-names=a&res-ops=%5B%7B%22resource%22%3A%22%2Fx%22"
                   "%7D%5D"));
    CHECK(query_ok("supported-features=0aF&&api-ids=x&"));
    CHECK(query_ok("api-cats=%C3%A9t%C3%A9"));

    /* refused, naming the parameter */
    CHECK(query_bad("foo=1", "foo"));
    CHECK(query_bad("api-names=a&api-names=b", "api-names"));
    CHECK(query_bad("api-names", "api-names"));
    CHECK(query_bad("api-names=", "api-names"));
    CHECK(query_bad("api-names=a,,b", "api-names"));
    CHECK(query_bad("api-names=a%2", "api-names"));
    CHECK(query_bad("api-names=a%zz", "api-names"));
    CHECK(query_bad("api-names=a%0a", "api-names"));
    CHECK(query_bad("api-names=a%2Fb", "api-names"));
    CHECK(query_bad("api-names=a%00", "api-names"));
    CHECK(query_bad("api%2Dnames=a", "api%2Dnames"));
    CHECK(query_bad("API-NAMES=a", "API-NAMES"));
    CHECK(query_bad("api-names=a+b", "api-names"));
    CHECK(query_bad("comm-type=A,B", "comm-type"));
    CHECK(query_bad("protocols=HTTP-2", "protocols"));
    CHECK(query_bad("supported-features=xyz", "supported-features"));
    CHECK(query_bad("api-versions=%5B%5D", "api-versions"));
    CHECK(query_bad("api-versions=%7B%7D", "api-versions"));
    CHECK(query_bad("api-versions=%7B%22a%22%3A%5B%5D%7D", "api-versions"));
    CHECK(query_bad("api-versions=%7B%22a%22%3A1,%22a%22%3A2%7D",
                    "api-versions"));
    CHECK(query_bad("api-versions={", "api-versions"));
    CHECK(query_bad("preferred-aef-loc=%7B%22x%22%3A1%7D",
                    "preferred-aef-loc"));
    CHECK(query_bad("service-kpis=%7B%22maxReqRate%22%3A-1%7D",
                    "service-kpis"));
    CHECK(query_bad("service-kpis=%7B%22maxReqRate%22%3A1.5%7D",
                    "service-kpis"));
    CHECK(query_bad("res-ops=%5B%7B%22resource%22%3A%22x%22%7D%5D",
                    "res-ops"));
    CHECK(query_bad("api-supported-features=%7B%22a%22%3A%220%22%7D",
                    "api-supported-features"));
    CHECK(query_bad("api-cats=%FF", "api-cats"));
    CHECK(query_bad("api-cats=%C0%80", "api-cats"));
    CHECK(query_bad("comm-type=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                    "comm-type"));

    {
        char  big[3000];

        strcpy(big, "api-ids=");
        memset(big + 8, 'a', 1025);
        big[8 + 1025] = '\0';
        CHECK(query_bad(big, "api-ids"));

        /* 33 items */
        strcpy(big, "api-ids=");
        for (int i = 0; i < 33; i++) {
            strcat(big, i ? ",a" : "a");
        }
        CHECK(query_bad(big, "api-ids"));
    }

    /* schema paths */
    CHECK(capif_od_path_valid("discApis"));
    CHECK(capif_od_path_valid("suppFeat"));
    CHECK(capif_od_path_valid("discApis.aefProfiles.aefId"));
    CHECK(capif_od_path_valid("discApis.aefProfiles.versions.resources.uri"));
    CHECK(capif_od_path_valid("discApis.aefProfiles.serviceKpis.conBand"));
    CHECK(capif_od_path_valid("discApis.apiStatus.aefIds"));
    CHECK(!capif_od_path_valid("discApis.aefProfiles.interfaceDescriptions"));
    CHECK(!capif_od_path_valid("discApis.aefProfiles.securityMethods"));
    CHECK(!capif_od_path_valid("discApis.apiName.x"));
    CHECK(!capif_od_path_valid("discApis."));
    CHECK(!capif_od_path_valid(""));
    CHECK(!capif_od_path_valid("discApis..apiName"));
    CHECK(!capif_od_path_valid("discApis.aefProfiles.aefLocation.civicAddr.x"));

    /* dissemination list */
    list = "{\"apiNames\":[\"api-1\"],\"apiIds\":[\"id3\"]}";
    CHECK(capif_od_apis_load(&apis, list, strlen(list), errbuf,
                             sizeof(errbuf)) == 0);

    CHECK(filter(LEAKY, &capif_od_anonymous_default,
                 "{\"discApis\":[{\"apiName\":\"api-1\",\"apiId\":\"id1\","
                 "\"description\":\"d\"},{\"apiName\":\"other\",\"apiId\":"
                 "\"id3\",\"description\":\"o\"}]}"));

    CHECK(filter(LEAKY, &capif_od_authorized_default,
                 "{\"discApis\":[{\"apiName\":\"api-1\",\"apiId\":\"id1\","
                 "\"description\":\"d\",\"aefProfiles\":[{\"aefId\":"
                 "\"aef-1\",\"protocol\":\"HTTP_2\",\"versions\":[{"
                 "\"apiVersion\":\"v1\",\"resources\":[{\"uri\":\"/x\"}]}]}]"
                 "},{\"apiName\":\"other\",\"apiId\":\"id3\","
                 "\"description\":\"o\"}],\"suppFeat\":\"0\"}"));

    sel[0] = "discApis.aefProfiles.aefId";
    fields.paths = sel;
    fields.npaths = 1;
    CHECK(filter(LEAKY, &fields,
                 "{\"discApis\":[{\"aefProfiles\":[{\"aefId\":\"aef-1\"}]}"
                 "]}"));

    fields.npaths = 0;
    CHECK(filter(LEAKY, &fields, "{\"discApis\":[]}"));

    /* a selection below a member that is absent leaves nothing */
    sel[0] = "discApis.aefProfiles.serviceKpis.conBand";
    fields.npaths = 1;
    CHECK(filter(LEAKY, &fields, "{\"discApis\":[]}"));

    sel[1] = "suppFeat";
    fields.npaths = 2;
    CHECK(filter(LEAKY, &fields, "{\"discApis\":[],\"suppFeat\":\"0\"}"));

    /* no dissemination list: no API at all */
    free(out);
    out = NULL;
    CHECK(capif_od_filter(LEAKY, strlen(LEAKY), &capif_od_authorized_default,
                          NULL, &out, &outlen, &why) == 0
          && strcmp(out, "{\"discApis\":[],\"suppFeat\":\"0\"}") == 0);

    /* not an OpenDiscoveryResp, or not strict JSON */
    CHECK(filter("", &capif_od_anonymous_default, NULL));
    CHECK(filter("[]", &capif_od_anonymous_default, NULL));
    CHECK(filter("{}", &capif_od_anonymous_default, NULL));
    CHECK(filter("{\"discApis\":{}}", &capif_od_anonymous_default, NULL));
    CHECK(filter("{\"discApis\":[1]}", &capif_od_anonymous_default, NULL));
    CHECK(filter("{\"discApis\":[{\"apiId\":\"x\"}]}",
                 &capif_od_anonymous_default, NULL));
    CHECK(filter("{\"discApis\":[{\"apiName\":\"api-1\",\"apiName\":\"x\"}]}",
                 &capif_od_anonymous_default, NULL));
    CHECK(filter("{\"discApis\":[{\"apiName\":\"api-1\",\"apiId\":7}]}",
                 &capif_od_anonymous_default, NULL));
    CHECK(filter("{\"discApis\":[]} x", &capif_od_anonymous_default, NULL));
    CHECK(filter("{\"discApis\":[],\"suppFeat\":1}",
                 &capif_od_authorized_default, NULL));
    CHECK(filter("{\"discApis\":[{\"apiName\":\"api-1\",\"aefProfiles\":"
                 "[{\"serviceKpis\":{\"maxReqRate\":-3}}]}]}",
                 &capif_od_authorized_default, NULL));
    CHECK(filter("{\"discApis\":[{\"apiName\":\"a\\u0000\"}]}",
                 &capif_od_anonymous_default, NULL));

    /* an undefined member of the wrong type is dropped, not checked */
    CHECK(filter("{\"discApis\":[{\"apiName\":\"api-1\",\"x\":[{}]}]}",
                 &capif_od_authorized_default,
                 "{\"discApis\":[{\"apiName\":\"api-1\"}]}"));

    capif_od_apis_free(&apis);

    CHECK(capif_od_apis_load(&apis, "[]", 2, errbuf, sizeof(errbuf)) != 0);
    CHECK(capif_od_apis_load(&apis, "{\"apiNamez\":[]}", 15, errbuf,
                             sizeof(errbuf)) != 0);
    CHECK(capif_od_apis_load(&apis, "{\"apiNames\":[1]}", 16, errbuf,
                             sizeof(errbuf)) != 0);
    list = "{\"apiNames\":[\"a\"],\"apiNames\":[\"b\"]}";
    CHECK(capif_od_apis_load(&apis, list, strlen(list), errbuf,
                             sizeof(errbuf)) != 0);

    /* ProblemDetails from the CCF */
    CHECK(problem("{\"status\":404,\"title\":\"Not Found\",\"cause\":\"X\","
                  "\"detail\":\"db host 10.0.0.7\",\"instance\":\"/i\"}",
                  "{\"status\":404,\"title\":\"Not Found\",\"cause\":\"X\"}"));
    CHECK(problem("{}", "{}"));
    CHECK(problem("<html>", NULL));
    CHECK(problem("{\"status\":\"404\"}", NULL));
    CHECK(problem("{\"title\":1}", NULL));
    CHECK(problem("{\"cause\":\"a\",\"cause\":\"b\"}", NULL));

    free(out);
    out = capif_od_problem(400, "Bad Request", "INVALID_QUERY_PARAM", "d",
                           "a\"b\x01", 4, "unknown query parameter",
                           &outlen);
    CHECK(out != NULL && strstr(out, "\"invalidParams\":[{\"param\":"
                                "\"a\\\"b?\",\"reason\":\"unknown query "
                                "parameter\"}]") != NULL);

    CHECK(capif_od_scope_has("a open-discovery b", 18, "open-discovery", 14));
    CHECK(capif_od_scope_has("open-discovery", 14, "open-discovery", 14));
    CHECK(!capif_od_scope_has("open-discoveryx", 15, "open-discovery", 14));
    CHECK(!capif_od_scope_has("3gpp#aef:open-discovery", 23,
                              "open-discovery", 14));
    CHECK(!capif_od_scope_has("", 0, "open-discovery", 14));

    free(out);

    return UNIT_DONE();
}

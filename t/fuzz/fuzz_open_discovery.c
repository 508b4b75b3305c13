/*
 * Copyright (C) ngx_capif_module authors
 *
 * libFuzzer target: the open discovery core on untrusted bytes — the
 * requestor's query string, the CCF's OpenDiscoveryResp for each tier,
 * the CCF's ProblemDetails, and the dissemination list file.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "capif_open_discovery.h"


static const char  *capif_fuzz_paths[] = {
    "discApis.aefProfiles.versions.resources.uri",
    "discApis.apiName",
    "suppFeat"
};


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                  *out;
    size_t                 outlen;
    const char            *why, *list;
    capif_od_apis_t        apis;
    capif_od_fields_t      fields;
    capif_od_query_err_t   qerr;

    (void) capif_od_query_check((const char *) data, size, &qerr);

    list = "{\"apiNames\":[\"api-pub\",\"a\"],\"apiIds\":[\"id-byid\"]}";

    if (capif_od_apis_load(&apis, list, strlen(list), NULL, 0) != 0) {
        return 0;
    }

    fields.paths = capif_fuzz_paths;
    fields.npaths = 3;

    if (capif_od_filter((const char *) data, size,
                        &capif_od_anonymous_default, &apis, &out, &outlen,
                        &why)
        == 0)
    {
        free(out);
    }

    if (capif_od_filter((const char *) data, size,
                        &capif_od_authorized_default, &apis, &out, &outlen,
                        &why)
        == 0)
    {
        free(out);
    }

    if (capif_od_filter((const char *) data, size, &fields, &apis, &out,
                        &outlen, &why)
        == 0)
    {
        free(out);
    }

    capif_od_apis_free(&apis);

    if (capif_od_reduce_problem((const char *) data, size, &out, &outlen,
                                &why)
        == 0)
    {
        free(out);
    }

    {
        char  errbuf[128];

        if (capif_od_apis_load(&apis, (const char *) data, size, errbuf,
                               sizeof(errbuf))
            == 0)
        {
            capif_od_apis_free(&apis);
        }
    }

    return 0;
}

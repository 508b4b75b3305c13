/*
 * Copyright (C) ngx_capif_module authors
 */

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "capif_ccf_status.h"


/* a ServiceSecurity is small; a huge one is not what was asked for */
#define CAPIF_CCF_MAX_DEPTH  16


static int
capif_ccf_fail(char *errbuf, size_t errlen, const char *msg)
{
    if (errbuf != NULL && errlen > 0) {
        (void) snprintf(errbuf, errlen, "%s", msg);
    }

    return -1;
}


static int
capif_ccf_str_eq(json_t *v, const char *s, size_t len)
{
    return json_is_string(v) && json_string_length(v) == len
           && memcmp(json_string_value(v), s, len) == 0;
}


int
capif_service_security_grants(const unsigned char *body, size_t len,
    const char *aef_id, size_t aef_len, const char *api_id, size_t api_len,
    char *errbuf, size_t errlen)
{
    int            rc;
    size_t         i, n;
    json_t        *root, *info, *e, *aef, *api;
    json_error_t   jerr;

    if (body == NULL || len == 0) {
        return capif_ccf_fail(errbuf, errlen, "empty body");
    }

    root = json_loadb((const char *) body, len, JSON_REJECT_DUPLICATES,
                      &jerr);
    if (root == NULL) {
        return capif_ccf_fail(errbuf, errlen, "not JSON");
    }

    rc = -1;

    if (!json_is_object(root)) {
        (void) capif_ccf_fail(errbuf, errlen, "not a JSON object");
        goto done;
    }

    info = json_object_get(root, "securityInfo");

    if (!json_is_array(info)) {
        (void) capif_ccf_fail(errbuf, errlen, "\"securityInfo\" is missing "
                              "or not an array");
        goto done;
    }

    n = json_array_size(info);
    rc = 0;

    for (i = 0; i < n; i++) {
        e = json_array_get(info, i);

        if (!json_is_object(e)) {
            rc = capif_ccf_fail(errbuf, errlen, "a \"securityInfo\" entry "
                                "is not an object");
            goto done;
        }

        aef = json_object_get(e, "aefId");
        api = json_object_get(e, "apiId");

        if ((aef != NULL && !json_is_string(aef))
            || (api != NULL && !json_is_string(api)))
        {
            rc = capif_ccf_fail(errbuf, errlen, "\"aefId\" or \"apiId\" is "
                                "not a string");
            goto done;
        }

        if (capif_ccf_str_eq(aef, aef_id, aef_len)
            && capif_ccf_str_eq(api, api_id, api_len))
        {
            rc = 1;
        }
    }

done:

    json_decref(root);

    return rc;
}


size_t
capif_pct_encode_segment(const unsigned char *in, size_t len,
    unsigned char *out)
{
    size_t         i;
    unsigned char  *p, c;

    static const char  hex[] = "0123456789ABCDEF";

    p = out;

    for (i = 0; i < len; i++) {
        c = in[i];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
            || c == '~')
        {
            *p++ = c;
            continue;
        }

        *p++ = '%';
        *p++ = hex[c >> 4];
        *p++ = hex[c & 0x0f];
    }

    return (size_t) (p - out);
}

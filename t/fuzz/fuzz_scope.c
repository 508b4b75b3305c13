/*
 * Copyright (C) ngx_capif_module authors
 *
 * libFuzzer target: the scope claim grammar (capif_scope_check), with the
 * configured AEF id and API name taken from the input too.  Input: one
 * byte each for the lengths of the AEF id and API name (mod 32), those
 * two strings, then the scope.
 * Properties: an allowed scope holds "3gpp#", the AEF id and the API name;
 * a refusal has an outcome and a cause; the answer does not depend on
 * anything but the bytes.
 */

#define _GNU_SOURCE
#include "capif_scope.h"
#include "fuzz.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int             rc, again;
    char           *aef, *api, *scope;
    size_t          aef_len, api_len, len;
    capif_error_t   err, err2;

    if (size < 2) {
        return 0;
    }

    aef_len = data[0] % 32;
    api_len = data[1] % 32;
    data += 2;
    size -= 2;

    aef = fuzz_take(&data, &size, aef_len);
    api = fuzz_take(&data, &size, api_len);
    aef_len = strlen(aef);
    api_len = strlen(api);
    len = size;
    scope = fuzz_take(&data, &size, len);

    rc = capif_scope_check(scope, len, aef, aef_len, api, api_len, &err);
    again = capif_scope_check(scope, len, aef, aef_len, api, api_len, &err2);
    FUZZ_CHECK(rc == again);

    if (rc == 0) {
        FUZZ_CHECK(memmem(scope, len, "3gpp#", 5) != NULL);
        FUZZ_CHECK(aef_len > 0 && memmem(scope, len, aef, aef_len) != NULL);
        FUZZ_CHECK(api_len > 0 && memmem(scope, len, api, api_len) != NULL);

    } else {
        FUZZ_CHECK(err.outcome != CAPIF_ALLOW && err.cause != NULL);
        FUZZ_CHECK(err.cause == err2.cause);
    }

    free(aef);
    free(api);
    free(scope);

    return 0;
}

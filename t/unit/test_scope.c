/*
 * Copyright (C) ngx_capif_module authors
 */

#include "unit.h"
#include "capif_scope.h"


static capif_error_t  err;


static int
scope(const char *s)
{
    err.cause = "none";

    if (capif_scope_check(s, strlen(s), "aef-1", 5, "api-1", 5, &err) == 0)
    {
        return 1;
    }

    return 0;
}


#define CAUSE(c)  (strcmp(err.cause, c) == 0)


int
main(void)
{
    CHECK(scope("3gpp#aef-1:api-1"));
    CHECK(scope("3gpp#aef-1:api-0,api-1"));
    CHECK(scope("3gpp#aef-0:api-1;aef-1:api-1"));
    CHECK(scope("3gpp#aef-0:x;aef-1:y,api-1"));
    CHECK(scope("openid 3gpp#aef-1:api-1"));
    CHECK(scope("3gpp#aef-1:api-1 openid"));

    CHECK(!scope("3gpp#aef-1:api-10") && CAUSE("SCOPE_API_NOT_GRANTED"));
    CHECK(!scope("3gpp#aef-1:API-1") && CAUSE("SCOPE_API_NOT_GRANTED"));
    CHECK(!scope("3gpp#aef-10:api-1") && CAUSE("SCOPE_AEF_NOT_GRANTED"));
    CHECK(!scope("3gpp#AEF-1:api-1") && CAUSE("SCOPE_AEF_NOT_GRANTED"));
    CHECK(err.outcome == CAPIF_INSUFFICIENT_SCOPE);

    CHECK(!scope("") && CAUSE("SCOPE_MISSING"));
    CHECK(!scope("openid") && CAUSE("SCOPE_MISSING"));
    CHECK(!scope("3GPP#aef-1:api-1") && CAUSE("SCOPE_MISSING"));
    CHECK(err.outcome == CAPIF_INVALID_TOKEN);

    CHECK(!scope("3gpp#aef-1: api-1") && CAUSE("SCOPE_MALFORMED"));
    CHECK(!scope("3gpp#aef-1:api-1 ") && CAUSE("SCOPE_MALFORMED"));
    CHECK(!scope(" 3gpp#aef-1:api-1") && CAUSE("SCOPE_MALFORMED"));
    CHECK(!scope("openid  3gpp#aef-1:api-1") && CAUSE("SCOPE_MALFORMED"));
    CHECK(!scope("3gpp#aef-1\xef\xbc\x9a" "api-1")
          && CAUSE("SCOPE_MALFORMED"));
    CHECK(!scope("3gpp#aef-1:api-1\"") && CAUSE("SCOPE_MALFORMED"));
    CHECK(!scope("3gpp#aef-1:api-1\\") && CAUSE("SCOPE_MALFORMED"));
    CHECK(!scope("3gpp#aef-1:api-1\t") && CAUSE("SCOPE_MALFORMED"));
    CHECK(!scope("3gpp#aef-1:") && CAUSE("SCOPE_MALFORMED"));
    CHECK(!scope("3gpp#:api-1") && CAUSE("SCOPE_MALFORMED"));
    CHECK(!scope("3gpp#") && CAUSE("SCOPE_MALFORMED"));
    CHECK(!scope("3gpp#aef-1:api-1,") && CAUSE("SCOPE_MALFORMED"));
    CHECK(!scope("3gpp#aef-1:api-1;") && CAUSE("SCOPE_MALFORMED"));
    CHECK(!scope("3gpp#aef-1:api-1;;aef-2:x") && CAUSE("SCOPE_MALFORMED"));
    CHECK(!scope("3gpp#aef-1:api-1:api-2") && CAUSE("SCOPE_MALFORMED"));
    CHECK(!scope("3gpp#aef-1,x:api-1") && CAUSE("SCOPE_MALFORMED"));
    CHECK(!scope("3gpp#aef-1:api-1 3gpp#aef-2:x")
          && CAUSE("SCOPE_MALFORMED"));

    /* a malformed tail is refused even after a match */
    CHECK(!scope("3gpp#aef-1:api-1;junk") && CAUSE("SCOPE_MALFORMED"));

    /* a NUL byte inside the claim */
    CHECK(capif_scope_check("3gpp#aef-1:api-1\0", 17, "aef-1", 5, "api-1",
                            5, &err) != 0);

    return UNIT_DONE();
}

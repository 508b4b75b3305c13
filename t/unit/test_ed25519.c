/*
 * Copyright (C) ngx_capif_module authors
 */

#include <stdlib.h>
#include "unit.h"
#include "capif_ed25519.h"


static const char *
check(const char *hex)
{
    size_t         i;
    unsigned int   b;
    unsigned char  pub[32];

    for (i = 0; i < 32; i++) {
        if (sscanf(hex + 2 * i, "%2x", &b) != 1) {
            abort();
        }
        pub[i] = (unsigned char) b;
    }

    return capif_ed25519_check(pub);
}


static int
says(const char *hex, const char *why)
{
    const char  *got;

    got = check(hex);
    return got != NULL && strstr(got, why) != NULL;
}


int
main(void)
{
    /* RFC 8032 7.1, tests 1 to 3: honest keys */
    CHECK(check("d75a980182b10ab7d54bfed3c964073a"
                "0ee172f3daa62325af021a68f707511a") == NULL);
    CHECK(check("3d4017c3e843895a92b70aa74d1b7ebc"
                "9c982ccf2ec4968cc0cd55f12af4660c") == NULL);
    CHECK(check("fc51cd8e6218a1a38da47ed00230f058"
                "0816ed13ba3303ac5deb911548908025") == NULL);

    /* test_keys.c has every small-order and non-canonical key */
    CHECK(says("01000000000000000000000000000000"
               "00000000000000000000000000000080", "small order"));
    CHECK(says("edffffffffffffffffffffffffffffff"
               "ffffffffffffffffffffffffffffff7f", "not canonically"));

    /* y = 2 has no x */
    CHECK(says("02000000000000000000000000000000"
               "00000000000000000000000000000000", "not a point"));

    /* RFC 8032 test 1's key plus a point of order 8, and of order 4 */
    CHECK(says("3b5b475c4b82dd1572799fc546f4c6c0"
               "3e478c6654aa4c7f945b347ea32af60d", "prime-order"));
    CHECK(says("40c7570f4dd54835b9131184410ed4a0"
               "cc93e7d9ad053cbc6d07a62426999582", "prime-order"));

    return UNIT_DONE();
}

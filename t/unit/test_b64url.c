/*
 * Copyright (C) ngx_capif_module authors
 */

#include "unit.h"
#include "capif_b64url.h"


static long
dec(const char *s, unsigned char *out)
{
    return capif_b64url_decode((const unsigned char *) s, strlen(s), out);
}


int
main(void)
{
    size_t          i, n;
    unsigned char   out[64], in[64], enc[128];

    CHECK(dec("", out) == 0);
    CHECK(dec("Zg", out) == 1 && out[0] == 'f');
    CHECK(dec("Zm8", out) == 2 && memcmp(out, "fo", 2) == 0);
    CHECK(dec("Zm9v", out) == 3 && memcmp(out, "foo", 3) == 0);
    CHECK(dec("_-8", out) == 2 && out[0] == 0xff && out[1] == 0xef);

    /* padding, standard alphabet, whitespace, stray bytes */
    CHECK(dec("Zg==", out) == -1);
    CHECK(dec("Zm8=", out) == -1);
    CHECK(dec("+/8", out) == -1);
    CHECK(dec("Zm 9v", out) == -1);
    CHECK(dec("Zm9v\n", out) == -1);
    CHECK(dec("Z", out) == -1);
    CHECK(dec("Zm9v.", out) == -1);

    /* non-canonical trailing bits: "Zh" and "Zm9" with extra bits set */
    CHECK(dec("Zh", out) == -1);
    CHECK(dec("Zm9w", out) == 3);
    CHECK(dec("Zm-", out) == -1);

    /* every byte value: only the 64 of the alphabet decode */
    for (i = 0; i < 256; i++) {
        in[0] = 'Q';
        in[1] = 'Q';
        in[2] = (unsigned char) i;
        in[3] = 'A';
        n = (i >= 'A' && i <= 'Z') || (i >= 'a' && i <= 'z')
            || (i >= '0' && i <= '9') || i == '-' || i == '_';
        CHECK((capif_b64url_decode(in, 4, out) == 3) == (n == 1));
    }

    /* round trip over every length and byte value */
    for (n = 0; n < sizeof(in); n++) {
        for (i = 0; i < n; i++) {
            in[i] = (unsigned char) (i * 37 + n * 11);
        }

        i = capif_b64url_encode(in, n, enc);
        CHECK(i == capif_b64url_encoded_len(n));
        CHECK(capif_b64url_decode(enc, i, out) == (long) n);
        CHECK(memcmp(in, out, n) == 0);
        CHECK((size_t) capif_b64url_decoded_max(i) >= n);
    }

    return UNIT_DONE();
}

/*
 * Copyright (C) ngx_capif_module authors
 *
 * libFuzzer target: the identifier grammars of TS 29.571, GPSI
 * ("msisdn-<5..15 digits>", "extid-<local>@<domain>") and External Group
 * ID ("extgroupid-<local>@<domain>"), and the purpose token.
 * Properties: a valid id starts with its kind's prefix, holds no byte
 * outside printable ASCII, is at most CAPIF_ID_MAX_LEN long; a valid
 * MSISDN is all digits after its prefix; no id is both a GPSI and an
 * External Group ID.
 */

#include "capif_gpsi.h"
#include "capif_groups.h"
#include "capif_policy.h"
#include "fuzz.h"


static int
printable(const uint8_t *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (s[i] <= 0x20 || s[i] >= 0x7f) {
            return 0;
        }
    }

    return 1;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t             i;
    unsigned char     *copy;
    capif_gpsi_kind_t  kind;

    /* an exact-size copy: ASan sees any read past the length */
    copy = malloc(size ? size : 1);
    FUZZ_CHECK(copy != NULL);
    memcpy(copy, data, size);

    kind = capif_gpsi_kind(copy, size);

    switch (kind) {

    case CAPIF_GPSI_MSISDN:
        FUZZ_CHECK(size >= 7 + 5 && size <= 7 + 15);
        FUZZ_CHECK(memcmp(copy, "msisdn-", 7) == 0);
        for (i = 7; i < size; i++) {
            FUZZ_CHECK(copy[i] >= '0' && copy[i] <= '9');
        }
        break;

    case CAPIF_GPSI_EXTID:
        FUZZ_CHECK(size > 6 && memcmp(copy, "extid-", 6) == 0);
        FUZZ_CHECK(memchr(copy, '@', size) != NULL);
        FUZZ_CHECK(size <= CAPIF_ID_MAX_LEN && printable(copy, size));
        break;

    default:
        FUZZ_CHECK(kind == CAPIF_GPSI_INVALID);
    }

    if (capif_extgroupid_valid(copy, size)) {
        FUZZ_CHECK(kind == CAPIF_GPSI_INVALID);
        FUZZ_CHECK(size > 11 && memcmp(copy, "extgroupid-", 11) == 0);
        FUZZ_CHECK(memchr(copy, '@', size) != NULL);
        FUZZ_CHECK(size <= CAPIF_ID_MAX_LEN && printable(copy, size));
    }

    if (capif_purpose_valid(copy, size)) {
        FUZZ_CHECK(size > 0);
    }

    FUZZ_CHECK(capif_gpsi_kind(NULL, 0) == CAPIF_GPSI_INVALID);

    free(copy);

    return 0;
}

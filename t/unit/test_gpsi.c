/*
 * Copyright (C) ngx_capif_module authors
 *
 * GPSI and External Group ID syntax, look-alikes included.
 */

#include "unit.h"
#include "capif_gpsi.h"


#define KIND(s)   capif_gpsi_kind((const unsigned char *) s, sizeof(s) - 1)
#define GROUP(s)  capif_extgroupid_valid((const unsigned char *) s,       \
                                         sizeof(s) - 1)


int
main(void)
{
    char  buf[400];

    CHECK(KIND("msisdn-12345") == CAPIF_GPSI_MSISDN);
    CHECK(KIND("msisdn-123456789012345") == CAPIF_GPSI_MSISDN);
    CHECK(KIND("msisdn-00000") == CAPIF_GPSI_MSISDN);
    CHECK(KIND("msisdn-1234") == CAPIF_GPSI_INVALID);
    CHECK(KIND("msisdn-1234567890123456") == CAPIF_GPSI_INVALID);
    CHECK(KIND("msisdn-") == CAPIF_GPSI_INVALID);
    CHECK(KIND("MSISDN-12345") == CAPIF_GPSI_INVALID);
    CHECK(KIND("Msisdn-12345") == CAPIF_GPSI_INVALID);
    CHECK(KIND(" msisdn-12345") == CAPIF_GPSI_INVALID);
    CHECK(KIND("msisdn-12345 ") == CAPIF_GPSI_INVALID);
    CHECK(KIND("msisdn-+12345") == CAPIF_GPSI_INVALID);
    CHECK(KIND("msisdn- 12345") == CAPIF_GPSI_INVALID);
    CHECK(KIND("msisdn-1234\0005") == CAPIF_GPSI_INVALID);
    CHECK(KIND("msisdn-12345\n") == CAPIF_GPSI_INVALID);
    /* fullwidth and Arabic-Indic digits */
    CHECK(KIND("msisdn-1234\xef\xbc\x95") == CAPIF_GPSI_INVALID);
    CHECK(KIND("msisdn-1234\xd9\xa5") == CAPIF_GPSI_INVALID);
    /* Cyrillic "і" (U+0456) in the prefix */
    CHECK(KIND("ms\xd1\x96sdn-12345") == CAPIF_GPSI_INVALID);
    CHECK(KIND("msisdn12345") == CAPIF_GPSI_INVALID);
    CHECK(KIND("") == CAPIF_GPSI_INVALID);
    CHECK(capif_gpsi_kind(NULL, 0) == CAPIF_GPSI_INVALID);

    CHECK(KIND("extid-alice@example.com") == CAPIF_GPSI_EXTID);
    CHECK(KIND("extid-Alice.B_c-1@mno-1.example.org") == CAPIF_GPSI_EXTID);
    CHECK(KIND("extid-a@b.c") == CAPIF_GPSI_EXTID);
    CHECK(KIND("EXTID-alice@example.com") == CAPIF_GPSI_INVALID);
    CHECK(KIND("extid-alice@Example.com") == CAPIF_GPSI_INVALID);
    CHECK(KIND("extid-alice@example") == CAPIF_GPSI_INVALID);
    CHECK(KIND("extid-alice@example.com.") == CAPIF_GPSI_INVALID);
    CHECK(KIND("extid-alice@.example.com") == CAPIF_GPSI_INVALID);
    CHECK(KIND("extid-alice@example..com") == CAPIF_GPSI_INVALID);
    CHECK(KIND("extid-alice@-example.com") == CAPIF_GPSI_INVALID);
    CHECK(KIND("extid-alice@example-.com") == CAPIF_GPSI_INVALID);
    CHECK(KIND("extid-alice@ex_ample.com") == CAPIF_GPSI_INVALID);
    CHECK(KIND("extid-@example.com") == CAPIF_GPSI_INVALID);
    CHECK(KIND("extid-alice") == CAPIF_GPSI_INVALID);
    CHECK(KIND("extid-a@b@example.com") == CAPIF_GPSI_INVALID);
    CHECK(KIND("extid-.alice@example.com") == CAPIF_GPSI_INVALID);
    CHECK(KIND("extid-alice.@example.com") == CAPIF_GPSI_INVALID);
    CHECK(KIND("extid-al..ice@example.com") == CAPIF_GPSI_INVALID);
    CHECK(KIND("extid-al ice@example.com") == CAPIF_GPSI_INVALID);
    CHECK(KIND("extid-al+ice@example.com") == CAPIF_GPSI_INVALID);
    CHECK(KIND("extid-alice@example.com ") == CAPIF_GPSI_INVALID);
    /* Cyrillic "а" (U+0430) in the local part and in the domain */
    CHECK(KIND("extid-\xd0\xb0lice@example.com") == CAPIF_GPSI_INVALID);
    CHECK(KIND("extid-alice@ex\xd0\xb0mple.com") == CAPIF_GPSI_INVALID);

    /* lengths: local 64, label 63, domain 253 */
    memset(buf, 0, sizeof(buf));
    memcpy(buf, "extid-", 6);
    memset(buf + 6, 'a', 64);
    memcpy(buf + 70, "@example.com", 12);
    CHECK(capif_gpsi_kind((unsigned char *) buf, 82) == CAPIF_GPSI_EXTID);
    memset(buf + 6, 'a', 65);
    memcpy(buf + 71, "@example.com", 12);
    CHECK(capif_gpsi_kind((unsigned char *) buf, 83) == CAPIF_GPSI_INVALID);

    memcpy(buf, "extid-a@", 8);
    memset(buf + 8, 'b', 63);
    memcpy(buf + 71, ".com", 4);
    CHECK(capif_gpsi_kind((unsigned char *) buf, 75) == CAPIF_GPSI_EXTID);
    memset(buf + 8, 'b', 64);
    memcpy(buf + 72, ".com", 4);
    CHECK(capif_gpsi_kind((unsigned char *) buf, 76) == CAPIF_GPSI_INVALID);

    /* a domain of 4 x 63-byte labels is 255 bytes: too long */
    memcpy(buf, "extid-a@", 8);
    memset(buf + 8, 'c', 255);
    buf[8 + 63] = buf[8 + 127] = buf[8 + 191] = '.';
    CHECK(capif_gpsi_kind((unsigned char *) buf, 8 + 255)
          == CAPIF_GPSI_INVALID);
    CHECK(capif_gpsi_kind((unsigned char *) buf, 8 + 253)
          == CAPIF_GPSI_EXTID);

    CHECK(GROUP("extgroupid-team1@example.com"));
    CHECK(GROUP("extgroupid-a@b.c"));
    CHECK(!GROUP("extgroupid-team1@Example.com"));
    CHECK(!GROUP("ExtGroupId-team1@example.com"));
    CHECK(!GROUP("extgroupid-@example.com"));
    CHECK(!GROUP("extgroupid-team1"));
    CHECK(!GROUP("extgroupid-team1@example.com "));
    CHECK(!GROUP(" extgroupid-team1@example.com"));
    CHECK(!GROUP("extid-team1@example.com"));
    CHECK(!GROUP("msisdn-12345"));
    CHECK(!GROUP(""));
    CHECK(!capif_extgroupid_valid(NULL, 0));
    CHECK(KIND("extgroupid-team1@example.com") == CAPIF_GPSI_INVALID);

    return UNIT_DONE();
}

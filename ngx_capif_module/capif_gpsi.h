/*
 * Copyright (C) ngx_capif_module authors
 *
 * Identifier syntax of TS 23.003: GPSIs (an MSISDN or an External
 * Identifier) and External Group IDs.  The checks are strict on purpose:
 * every identity has exactly one spelling, so a byte-exact comparison is
 * also an identity comparison.
 */

#ifndef CAPIF_GPSI_H
#define CAPIF_GPSI_H

#include <stddef.h>


typedef enum {
    CAPIF_GPSI_INVALID = 0,
    CAPIF_GPSI_MSISDN,          /* "msisdn-" 5..15 ASCII digits */
    CAPIF_GPSI_EXTID            /* "extid-" <local> "@" <domain> */
} capif_gpsi_kind_t;


/* local part: 1..64 of [A-Za-z0-9._-], no leading, trailing or double dot */
#define CAPIF_ID_LOCAL_MAX    64

/* domain: lower-case LDH labels of 1..63, at least two, 253 in all */
#define CAPIF_ID_DOMAIN_MAX   253

/* no valid identifier is longer: "extgroupid-" + local + "@" + domain */
#define CAPIF_ID_MAX_LEN      (11 + CAPIF_ID_LOCAL_MAX + 1              \
                               + CAPIF_ID_DOMAIN_MAX)


capif_gpsi_kind_t capif_gpsi_kind(const unsigned char *s, size_t len);

/* 1 if s is a syntactically valid GPSI, else 0 */
#define capif_gpsi_valid(s, len)                                          \
    (capif_gpsi_kind(s, len) != CAPIF_GPSI_INVALID)

/* 1 if s is "extgroupid-" <local> "@" <domain>, else 0 */
int capif_extgroupid_valid(const unsigned char *s, size_t len);


#endif /* CAPIF_GPSI_H */

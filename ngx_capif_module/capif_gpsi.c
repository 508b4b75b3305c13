/*
 * Copyright (C) ngx_capif_module authors
 */

#include <string.h>
#include "capif_gpsi.h"


#define CAPIF_MSISDN_MIN   5
#define CAPIF_MSISDN_MAX   15


static int
capif_id_prefix(const unsigned char *s, size_t len, const char *prefix,
    size_t plen)
{
    return len >= plen && memcmp(s, prefix, plen) == 0;
}


static int
capif_id_local_valid(const unsigned char *s, size_t len)
{
    size_t         i;
    unsigned char  c;

    if (len == 0 || len > CAPIF_ID_LOCAL_MAX
        || s[0] == '.' || s[len - 1] == '.')
    {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = s[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '_' || c == '-')
        {
            continue;
        }

        if (c == '.' && s[i - 1] != '.') {
            continue;
        }

        return 0;
    }

    return 1;
}


/*
 * Lower case only: DNS names are case-insensitive, so accepting both
 * cases would give one domain several spellings that compare unequal.
 */
static int
capif_id_domain_valid(const unsigned char *s, size_t len)
{
    size_t         i, label, labels;
    unsigned char  c;

    if (len == 0 || len > CAPIF_ID_DOMAIN_MAX) {
        return 0;
    }

    label = 0;
    labels = 1;

    for (i = 0; i < len; i++) {
        c = s[i];

        if (c == '.') {
            if (label == 0 || s[i - 1] == '-') {
                return 0;
            }

            label = 0;
            labels++;
            continue;
        }

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
              || (c == '-' && label > 0)))
        {
            return 0;
        }

        if (++label > 63) {
            return 0;
        }
    }

    return label > 0 && s[len - 1] != '-' && labels >= 2;
}


/* <local> "@" <domain>, with exactly one "@" */
static int
capif_id_at_valid(const unsigned char *s, size_t len)
{
    const unsigned char  *at;

    at = memchr(s, '@', len);
    if (at == NULL) {
        return 0;
    }

    return capif_id_local_valid(s, at - s)
           && capif_id_domain_valid(at + 1, len - (at - s) - 1);
}


capif_gpsi_kind_t
capif_gpsi_kind(const unsigned char *s, size_t len)
{
    size_t  i;

    if (s == NULL) {
        return CAPIF_GPSI_INVALID;
    }

    if (capif_id_prefix(s, len, "msisdn-", 7)) {
        len -= 7;
        s += 7;

        if (len < CAPIF_MSISDN_MIN || len > CAPIF_MSISDN_MAX) {
            return CAPIF_GPSI_INVALID;
        }

        for (i = 0; i < len; i++) {
            if (s[i] < '0' || s[i] > '9') {
                return CAPIF_GPSI_INVALID;
            }
        }

        return CAPIF_GPSI_MSISDN;
    }

    if (capif_id_prefix(s, len, "extid-", 6)
        && capif_id_at_valid(s + 6, len - 6))
    {
        return CAPIF_GPSI_EXTID;
    }

    return CAPIF_GPSI_INVALID;
}


int
capif_extgroupid_valid(const unsigned char *s, size_t len)
{
    if (s == NULL || !capif_id_prefix(s, len, "extgroupid-", 11)) {
        return 0;
    }

    return capif_id_at_valid(s + 11, len - 11);
}

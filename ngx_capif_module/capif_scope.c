/*
 * Copyright (C) ngx_capif_module authors
 */

#include <string.h>
#include "capif_scope.h"


#define CAPIF_SCOPE_PREFIX      "3gpp#"
#define CAPIF_SCOPE_PREFIX_LEN  (sizeof(CAPIF_SCOPE_PREFIX) - 1)


/* RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) */
static int
capif_scope_char(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}


static int
capif_bytes_eq(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}


/*
 * Parses "<aef>:<api>,<api>;<aef>:<api>" (the part after "3gpp#") in full,
 * so a malformed tail is refused even after a match.  Sets *aef_seen and
 * *granted.
 */
static int
capif_scope_parse_3gpp(const char *p, const char *end, const char *aef,
    size_t aef_len, const char *api, size_t api_len, int *aef_seen,
    int *granted)
{
    int          this_aef;
    const char  *entry, *entry_end, *colon, *name, *name_end;

    for (entry = p; ; entry = entry_end + 1) {
        entry_end = memchr(entry, ';', end - entry);
        if (entry_end == NULL) {
            entry_end = end;
        }

        colon = memchr(entry, ':', entry_end - entry);
        if (colon == NULL || colon == entry
            || memchr(entry, ',', colon - entry) != NULL)
        {
            return -1;
        }

        this_aef = capif_bytes_eq(entry, colon - entry, aef, aef_len);
        *aef_seen |= this_aef;

        for (name = colon + 1; ; name = name_end + 1) {
            name_end = memchr(name, ',', entry_end - name);
            if (name_end == NULL) {
                name_end = entry_end;
            }

            if (name_end == name
                || memchr(name, ':', name_end - name) != NULL)
            {
                return -1;
            }

            if (this_aef && capif_bytes_eq(name, name_end - name, api,
                                           api_len))
            {
                *granted = 1;
            }

            if (name_end == entry_end) {
                break;
            }
        }

        if (entry_end == end) {
            return 0;
        }
    }
}


int
capif_scope_check(const char *scope, size_t len, const char *aef,
    size_t aef_len, const char *api, size_t api_len, capif_error_t *err)
{
    int          aef_seen, granted;
    size_t       i, n3gpp;
    const char  *tok, *tok_end, *end, *capif, *capif_end;

    for (i = 0; i < len; i++) {
        if (capif_scope_char((unsigned char) scope[i])) {
            continue;
        }

        /* a space separates scope tokens: never leading, trailing, double */
        if (scope[i] == ' ' && i > 0 && i + 1 < len && scope[i + 1] != ' ')
        {
            continue;
        }

        return capif_fail(err, CAPIF_INVALID_TOKEN, "SCOPE_MALFORMED",
                          "scope has a character outside RFC 6749's set");
    }

    end = scope + len;
    n3gpp = 0;
    capif = NULL;
    capif_end = NULL;

    for (tok = scope; tok < end; tok = tok_end + 1) {
        tok_end = memchr(tok, ' ', end - tok);
        if (tok_end == NULL) {
            tok_end = end;
        }

        if ((size_t) (tok_end - tok) >= CAPIF_SCOPE_PREFIX_LEN
            && memcmp(tok, CAPIF_SCOPE_PREFIX, CAPIF_SCOPE_PREFIX_LEN) == 0)
        {
            n3gpp++;
            capif = tok + CAPIF_SCOPE_PREFIX_LEN;
            capif_end = tok_end;
        }
    }

    if (n3gpp == 0) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "SCOPE_MISSING",
                          "scope has no \"3gpp#\" entry");
    }

    aef_seen = 0;
    granted = 0;

    if (n3gpp > 1
        || capif_scope_parse_3gpp(capif, capif_end, aef, aef_len, api,
                                  api_len, &aef_seen, &granted) != 0)
    {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "SCOPE_MALFORMED",
                          "scope is not 3gpp#<aefId>:<api>[,<api>][;...]");
    }

    if (!aef_seen) {
        return capif_fail(err, CAPIF_INSUFFICIENT_SCOPE,
                          "SCOPE_AEF_NOT_GRANTED",
                          "scope grants nothing at this AEF");
    }

    if (!granted) {
        return capif_fail(err, CAPIF_INSUFFICIENT_SCOPE,
                          "SCOPE_API_NOT_GRANTED",
                          "scope does not grant this API at this AEF");
    }

    return 0;
}

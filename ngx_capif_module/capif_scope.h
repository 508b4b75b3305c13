/*
 * Copyright (C) ngx_capif_module authors
 *
 * CAPIF scope: "3gpp#<aefId>:<api>,<api>;<aefId>:<api>", compared byte
 * for byte, never folded or normalized.
 */

#ifndef CAPIF_SCOPE_H
#define CAPIF_SCOPE_H

#include <stddef.h>
#include "capif_error.h"


/*
 * Checks the scope claim (an RFC 6749 space-separated list that must hold
 * exactly one "3gpp#" entry) and whether it grants api at aef.
 * A malformed scope is CAPIF_INVALID_TOKEN; a well-formed one that does not
 * cover the call is CAPIF_INSUFFICIENT_SCOPE.
 */
int capif_scope_check(const char *scope, size_t len, const char *aef,
    size_t aef_len, const char *api, size_t api_len, capif_error_t *err);


#endif /* CAPIF_SCOPE_H */

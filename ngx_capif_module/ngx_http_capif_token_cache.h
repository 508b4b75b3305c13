/*
 * Copyright (C) ngx_capif_module authors
 *
 * The worker's verified-token cache (capif_token_cache) as the access
 * handler uses it.
 */

#ifndef NGX_HTTP_CAPIF_TOKEN_CACHE_H
#define NGX_HTTP_CAPIF_TOKEN_CACHE_H

#include "ngx_http_capif.h"


/*
 * capif_token_verify() behind this worker's cache, which is consulted
 * and filled unless "capif_token_cache off"; records HIT or MISS for
 * $capif_token_cache.  Returns 0 or -1 with *err set.
 */
ngx_int_t ngx_http_capif_token_cache_verify(ngx_http_request_t *r,
    capif_token_t *tok, const capif_keyset_t *ks, ngx_str_t *token,
    u_char *scratch, const capif_claims_conf_t *conf, capif_error_t *err);


#endif /* NGX_HTTP_CAPIF_TOKEN_CACHE_H */

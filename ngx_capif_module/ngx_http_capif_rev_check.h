/*
 * Copyright (C) ngx_capif_module authors
 *
 * The revocation check on the request path (ngx_http_capif_rev_check.c):
 * a verified token's probes, and a client certificate's.
 */

#ifndef NGX_HTTP_CAPIF_REV_CHECK_H
#define NGX_HTTP_CAPIF_REV_CHECK_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/x509.h>

#include "ngx_http_capif.h"


/* ngx_http_capif_revocation_check: NGX_OK, or NGX_DECLINED with err set */
ngx_int_t ngx_http_capif_rev_check(ngx_http_request_t *r,
    ngx_http_capif_ctx_t *ctx, capif_error_t *err);

/* 1 if the zone holds any revoke-credential certificate entry */
ngx_uint_t ngx_http_capif_rev_has_certs(ngx_http_request_t *r);

/*
 * Whether a revoke-credential entry lists the client certificate x, whose
 * base64url SHA-256 thumbprint is x5t (43 bytes): 1, 0, or NGX_ERROR.
 */
ngx_int_t ngx_http_capif_rev_cert_withdrawn(ngx_http_request_t *r, X509 *x,
    const u_char *x5t);


#endif /* NGX_HTTP_CAPIF_REV_CHECK_H */

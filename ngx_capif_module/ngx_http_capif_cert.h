/*
 * Copyright (C) ngx_capif_module authors
 *
 * What ngx_http_capif_cert_module offers the other glue files: whether a
 * connection's client certificate is withdrawn, and the decision of
 * check-authentication on it.
 */

#ifndef NGX_HTTP_CAPIF_CERT_H
#define NGX_HTTP_CAPIF_CERT_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "capif_error.h"


/* default capif_cert_max_lifetime: 398 days */
#define NGX_HTTP_CAPIF_CERT_DEFAULT_LIFETIME  (398 * 86400)


/*
 * The connection's certificate for check-authentication: with invoker
 * NULL, whether it is present, verified, not withdrawn and the location
 * names invokers by certificates; with invoker, also whether it names
 * that invoker.  NGX_OK, NGX_DECLINED with *err (answered 403), or
 * NGX_ERROR.
 */
ngx_int_t ngx_http_capif_cert_authenticate(ngx_http_request_t *r,
    const u_char *invoker, size_t len, capif_error_t *err);

/* capif_cert_max_lifetime: how long a withdrawn certificate may live */
time_t ngx_http_capif_cert_max_lifetime(ngx_http_request_t *r);


#endif /* NGX_HTTP_CAPIF_CERT_H */

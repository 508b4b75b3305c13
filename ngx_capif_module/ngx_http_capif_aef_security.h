/*
 * Copyright (C) ngx_capif_module authors
 *
 * The AEF_Security_API content handler (ngx_http_capif_aef_security.c),
 * which the capif_aef_security directive installs.
 */

#ifndef NGX_HTTP_CAPIF_AEF_SECURITY_H
#define NGX_HTTP_CAPIF_AEF_SECURITY_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_int_t ngx_http_capif_aef_security_handler(ngx_http_request_t *r);


#endif /* NGX_HTTP_CAPIF_AEF_SECURITY_H */

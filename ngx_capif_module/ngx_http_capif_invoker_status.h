/*
 * Copyright (C) ngx_capif_module authors
 *
 * Invoker status from the CCF (capif_invoker_status): the token gate's
 * last check, and the hook for the CAPIF event receiver.
 */

#ifndef NGX_HTTP_CAPIF_INVOKER_STATUS_H
#define NGX_HTTP_CAPIF_INVOKER_STATUS_H

#include "ngx_http_capif.h"


/*
 * Run by the access handler once the token verified and every other check
 * passed.  Returns NGX_OK to allow, NGX_DECLINED with *err set to refuse
 * (CCF_AUTHORIZATION_WITHDRAWN), NGX_AGAIN while the call waits for the
 * CCF (the access phase runs again), NGX_DONE when the call has been
 * answered (503 CCF_UNAVAILABLE), or NGX_ERROR.
 */
ngx_int_t ngx_http_capif_invoker_status_check(ngx_http_request_t *r,
    ngx_http_capif_ctx_t *ctx, capif_error_t *err);

/*
 * Expires every cached status at once: the next call of each invoker asks
 * the CCF again (and waits for it).  For an event that names no invoker,
 * as the reference CCF sends API_INVOKER_AUTHORIZATION_REVOKED.  Safe to
 * call from any worker at any time; a no-op without capif_invoker_status.
 */
void ngx_http_capif_invoker_status_expire_all(ngx_cycle_t *cycle);


extern ngx_module_t  ngx_http_capif_invoker_status_module;


#endif /* NGX_HTTP_CAPIF_INVOKER_STATUS_H */

/*
 * Copyright (C) ngx_capif_module authors
 *
 * What the open discovery guard (access phase) and its response filter
 * share: the location's configuration and the request context.
 */

#ifndef NGX_HTTP_CAPIF_OPEN_DISCOVERY_H
#define NGX_HTTP_CAPIF_OPEN_DISCOVERY_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "capif_error.h"
#include "capif_open_discovery.h"


#define NGX_HTTP_CAPIF_OD_NONE        0
#define NGX_HTTP_CAPIF_OD_ANONYMOUS   1
#define NGX_HTTP_CAPIF_OD_AUTHORIZED  2


typedef struct {
    ngx_flag_t                    enable;
    capif_od_fields_t            *fields[3];    /* indexed by tier */
    capif_od_apis_t              *apis;
    ngx_str_t                     scope;
    size_t                        max_query;
    size_t                        max_size;
} ngx_http_capif_od_loc_conf_t;


/* where "capif_open_discovery on" stands, checked once all is merged */
typedef struct {
    ngx_http_capif_od_loc_conf_t    *odcf;
    void                            *ccf;    /* ngx_http_capif_module's */
    void                            *rcf;    /* the revocation module's */
    ngx_http_core_srv_conf_t        *cscf;
    ngx_str_t                        file;
    ngx_uint_t                       line;
} ngx_http_capif_od_site_t;


typedef struct {
    ngx_array_t                      sites;
    ngx_int_t                        verify_index;   /* $ssl_client_verify */
    ngx_int_t                        dn_index;       /* $ssl_client_s_dn */
} ngx_http_capif_od_main_conf_t;


/* the response filter's progress */
#define NGX_HTTP_CAPIF_OD_PASS        0     /* not ours: pass through */
#define NGX_HTTP_CAPIF_OD_READ        1     /* collecting the CCF's body */
#define NGX_HTTP_CAPIF_OD_SENT        2     /* answered: swallow the rest */


typedef struct {
    ngx_http_capif_od_loc_conf_t *conf;         /* where the guard passed */
    ngx_uint_t                    tier;
    ngx_uint_t                    phase;
    ngx_uint_t                    status;       /* the CCF's */
    const char                   *refuse;       /* why, set early */
    u_char                       *buf;
    size_t                        len;
    size_t                        cap;
    ngx_str_t                     invoker_id;
} ngx_http_capif_od_ctx_t;


extern ngx_module_t  ngx_http_capif_open_discovery_module;


/*
 * The request's context, also after an internal redirect (X-Accel-Redirect
 * from the CCF, error_page, ...), which clears module contexts: the answer
 * of a request the guard passed is filtered wherever it comes from.
 */
ngx_http_capif_od_ctx_t *ngx_http_capif_od_get_ctx(ngx_http_request_t *r);

/* ngx_http_capif_open_discovery_access.c: the access-phase guard */
ngx_int_t ngx_http_capif_od_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_capif_od_no_store(ngx_http_request_t *r);
ngx_int_t ngx_http_capif_od_tier_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

/*
 * ngx_http_capif_open_discovery_tier.c: sets ctx->tier and invoker_id.
 * Returns NGX_OK, NGX_DECLINED with *err set to refuse, or NGX_ERROR.
 */
ngx_int_t ngx_http_capif_od_tier(ngx_http_request_t *r,
    ngx_http_capif_od_loc_conf_t *odcf, ngx_http_capif_od_ctx_t *ctx,
    capif_error_t *err);


#endif /* NGX_HTTP_CAPIF_OPEN_DISCOVERY_H */

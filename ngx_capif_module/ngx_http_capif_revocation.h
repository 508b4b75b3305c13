/*
 * Copyright (C) ngx_capif_module authors
 *
 * The configuration of ngx_http_capif_revocation_module (its directives
 * are in ngx_http_capif_revocation_module.c), for the modules that read
 * it.  The zone, storing, the check and the journal have their own
 * headers.
 */

#ifndef NGX_HTTP_CAPIF_REVOCATION_H
#define NGX_HTTP_CAPIF_REVOCATION_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#if (NGX_THREADS)
#include <ngx_thread_pool.h>
#endif

#include "capif_revocation.h"


/* default capif_token_max_lifetime where a capif_zone is configured */
#define NGX_HTTP_CAPIF_REV_DEFAULT_LIFETIME  3600

/*
 * Kept past the longest lifetime: covers the 30 s clock skew TS 33.122
 * allows on exp, nbf and iat, with margin.
 */
#define NGX_HTTP_CAPIF_REV_SLACK             60


typedef struct {
    ngx_shm_zone_t               *shm_zone;
    ngx_str_t                     journal;
    time_t                        max_lifetime;  /* 0: no check */
#if (NGX_THREADS)
    ngx_thread_pool_t            *thread_pool;
#endif
} ngx_http_capif_rev_main_conf_t;


typedef struct {
    ngx_flag_t                    aef_security;
    ngx_str_t                     ccf_cert;      /* DER, empty if unset */
    ngx_flag_t                    allow_plain_loopback;
    ngx_str_t                     api_id;
    size_t                        body_max;
} ngx_http_capif_rev_loc_conf_t;


extern ngx_module_t  ngx_http_capif_revocation_module;


#endif /* NGX_HTTP_CAPIF_REVOCATION_H */

/*
 * Copyright (C) ngx_capif_module authors
 *
 * What the nginx glue files share: the token module's configuration and
 * request context, the hooks the access handler calls after the token has
 * been verified, and the ProblemDetails responses.
 */

#ifndef NGX_HTTP_CAPIF_H
#define NGX_HTTP_CAPIF_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "capif_error.h"
#include "capif_token.h"
#include "capif_scope.h"


typedef struct {
    ngx_flag_t            used;            /* "capif on" appears somewhere */
} ngx_http_capif_main_conf_t;


typedef struct {
    ngx_flag_t            enable;
    capif_keyset_t       *keys;
    ngx_str_t             aef_id;
    ngx_str_t             api_name;
    time_t                leeway;
    ngx_uint_t            invoker_claim;
    ngx_str_t             realm;
    ngx_str_t             token_type;      /* empty: no "type" check */
} ngx_http_capif_loc_conf_t;


/* set once the token is verified and covers the call */
typedef struct {
    capif_token_t         token;
    ngx_str_t             invoker_id;
    ngx_str_t             scope;

    /* set by the policy check: what this call touches, validated */
    ngx_str_t             resource_owner;  /* GPSI, empty if none */
    ngx_str_t             group_id;        /* External Group ID or empty */
    ngx_str_t             invoker_ue;      /* invoker's own GPSI or empty */
    ngx_str_t             purpose;         /* empty if none */

    /* the decision, for $capif_decision, $capif_cause, $capif_status */
    ngx_uint_t            status;        /* 0: not decided yet */
    const char           *cause;         /* NULL when allowed */
    ngx_str_t             aef_id;        /* the location's, when decided */
    ngx_str_t             api_name;

    unsigned              verified:1;
    unsigned              allowed:1;     /* every check passed */
} ngx_http_capif_ctx_t;


extern ngx_module_t  ngx_http_capif_module;

/*
 * The token of an Authorization header (h may be NULL) of the Bearer
 * scheme.  Returns NGX_OK, or NGX_DECLINED with *err set: to *none when
 * h is not of the Bearer scheme.
 */
ngx_int_t ngx_http_capif_bearer(ngx_table_elt_t *h, ngx_str_t *token,
    const capif_error_t *none, capif_error_t *err);

/* what a location's capif_leeway, capif_invoker_claim, ... ask of claims */
void ngx_http_capif_claims_conf(ngx_http_capif_loc_conf_t *lcf,
    capif_claims_conf_t *cc);


/*
 * Checks run by the access handler, certificate first, then policy, then
 * revocation, once the token's signature, claims and scope have passed.
 * A feature module installs its check in its postconfiguration handler.
 * Each returns NGX_OK to go on, NGX_DECLINED with *err set to refuse, or
 * NGX_ERROR.
 */
typedef ngx_int_t (*ngx_http_capif_check_pt)(ngx_http_request_t *r,
    ngx_http_capif_ctx_t *ctx, capif_error_t *err);

extern ngx_http_capif_check_pt  ngx_http_capif_cert_check;
extern ngx_http_capif_check_pt  ngx_http_capif_policy_check;
extern ngx_http_capif_check_pt  ngx_http_capif_revocation_check;


/* registers the $capif_* variables */
ngx_int_t ngx_http_capif_add_variables(ngx_conf_t *cf);

/* registers each variable of vars, up to ngx_http_null_variable */
ngx_int_t ngx_http_capif_register_variables(ngx_conf_t *cf,
    ngx_http_variable_t *vars);

/*
 * Records the decision on a call (status 200 and cause NULL: allowed) for
 * the decision variables and the metrics.  The record outlives internal
 * redirects (error_page) and is seen by subrequests.
 */
ngx_int_t ngx_http_capif_decided(ngx_http_request_t *r, ngx_uint_t status,
    const char *cause);

/* the request's ctx, or the one its decision was recorded in */
ngx_http_capif_ctx_t *ngx_http_capif_get_ctx(ngx_http_request_t *r);


/*
 * Refuses the request with err's status, an RFC 6750 challenge and a
 * ProblemDetails body; logs the reason at info.  Returns what an access
 * phase handler returns.
 */
ngx_int_t ngx_http_capif_deny(ngx_http_request_t *r,
    const capif_error_t *err);

/* sends a ProblemDetails (application/problem+json) response */
ngx_int_t ngx_http_capif_send_problem(ngx_http_request_t *r,
    ngx_uint_t status, const char *title, const char *cause,
    const char *detail);

/* a copy in pool of len bytes the core malloc()ed; data is freed */
u_char *ngx_http_capif_adopt(ngx_pool_t *pool, char *data, size_t len);

/* adds a response header; key and value must outlive r */
ngx_int_t ngx_http_capif_add_header(ngx_http_request_t *r, const char *key,
    u_char *value, size_t len);

/* sends body with status and content type; body must live in r->pool */
ngx_int_t ngx_http_capif_send_body(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *content_type, ngx_str_t *body);


#endif /* NGX_HTTP_CAPIF_H */

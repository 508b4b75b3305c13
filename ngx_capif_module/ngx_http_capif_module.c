/*
 * Copyright (C) ngx_capif_module authors
 *
 * The token gate: directives, and the access-phase handler that verifies
 * the CCF's access token and its CAPIF scope before a call reaches the AEF.
 */

#include "ngx_http_capif.h"
#include "ngx_http_capif_metrics.h"
#include "ngx_http_capif_keys.h"
#include "ngx_http_capif_invoker_status.h"
#include "ngx_http_capif_token_cache.h"


#define NGX_HTTP_CAPIF_MAX_LEEWAY  30   /* seconds, TS 33.122 Annex C */


static ngx_int_t ngx_http_capif_handler(ngx_http_request_t *r);
static void ngx_http_capif_cleanup(void *data);
static void *ngx_http_capif_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_capif_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_capif_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_capif(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_capif_key_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_capif_invoker_claim(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_capif_check_leeway(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_capif_check_realm(ngx_conf_t *cf, void *post,
    void *data);
static ngx_int_t ngx_http_capif_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_capif_init(ngx_conf_t *cf);


ngx_http_capif_check_pt  ngx_http_capif_cert_check;
ngx_http_capif_check_pt  ngx_http_capif_policy_check;
ngx_http_capif_check_pt  ngx_http_capif_revocation_check;


static const capif_error_t  ngx_http_capif_no_token = {
    CAPIF_NO_TOKEN, "TOKEN_MISSING",
    "no Bearer token in the Authorization header"
};


/* indexed by capif_invoker_claim's value */
static const char  *ngx_http_capif_invoker_claims[] = {
    "iss", "client_id", "sub"
};




static ngx_conf_post_handler_pt  ngx_http_capif_leeway_post =
    ngx_http_capif_check_leeway;

static ngx_conf_post_handler_pt  ngx_http_capif_realm_post =
    ngx_http_capif_check_realm;


static ngx_command_t  ngx_http_capif_commands[] = {

    { ngx_string("capif"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_http_capif,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_loc_conf_t, enable),
      NULL },

    { ngx_string("capif_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE123,
      ngx_http_capif_key_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("capif_aef_id"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_loc_conf_t, aef_id),
      NULL },

    { ngx_string("capif_api_name"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_loc_conf_t, api_name),
      NULL },

    { ngx_string("capif_leeway"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_loc_conf_t, leeway),
      &ngx_http_capif_leeway_post },

    { ngx_string("capif_invoker_claim"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_capif_invoker_claim,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_loc_conf_t, invoker_claim),
      NULL },

    { ngx_string("capif_realm"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_loc_conf_t, realm),
      &ngx_http_capif_realm_post },

    { ngx_string("capif_token_type"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_loc_conf_t, token_type),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_capif_module_ctx = {
    ngx_http_capif_preconfiguration,       /* preconfiguration */
    ngx_http_capif_init,                   /* postconfiguration */

    ngx_http_capif_create_main_conf,       /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_capif_create_loc_conf,        /* create location configuration */
    ngx_http_capif_merge_loc_conf          /* merge location configuration */
};


ngx_module_t  ngx_http_capif_module = {
    NGX_MODULE_V1,
    &ngx_http_capif_module_ctx,            /* module context */
    ngx_http_capif_commands,               /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


void
ngx_http_capif_claims_conf(ngx_http_capif_loc_conf_t *lcf,
    capif_claims_conf_t *cc)
{
    cc->leeway = lcf->leeway;
    cc->invoker_claim = ngx_http_capif_invoker_claims[lcf->invoker_claim];
    cc->expected_type = lcf->token_type.len
                        ? (const char *) lcf->token_type.data : NULL;
}


static ngx_int_t
ngx_http_capif_handler(ngx_http_request_t *r)
{
    u_char                     *scratch;
    uint64_t                    start;
    ngx_int_t                   rc;
    ngx_str_t                   token;
    capif_error_t               err;
    ngx_pool_cleanup_t         *cln;
    capif_claims_conf_t         claims_conf;
    ngx_http_capif_ctx_t       *ctx;
    ngx_http_capif_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_capif_module);

    if (!lcf->enable) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_capif_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_capif_ctx_t));
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_capif_module);
    }

    if (ctx->allowed) {
        return NGX_DECLINED;
    }

    /* a server-level "capif on" may lack what only locations give */
    if (lcf->keys == NULL || lcf->aef_id.len == 0 || lcf->api_name.len == 0)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "capif: \"capif on\" here, but capif_key_file, "
                      "capif_aef_id or capif_api_name is missing");

        err.outcome = CAPIF_SERVER_ERROR;
        err.cause = "CONFIGURATION_INCOMPLETE";
        err.detail = "the gateway is not configured for this location";
        goto deny;
    }

    if (ngx_http_capif_bearer(r->headers_in.authorization, &token,
                              &ngx_http_capif_no_token, &err)
        != NGX_OK)
    {
        goto deny;
    }

    /* keys fetched from the CCF may have to arrive first */
    rc = ngx_http_capif_keys_check(r, lcf->keys, &err);

    if (rc == NGX_DECLINED) {
        goto deny;
    }

    if (rc != NGX_OK) {
        return rc == NGX_ERROR ? NGX_HTTP_INTERNAL_SERVER_ERROR : rc;
    }

    scratch = ngx_pnalloc(r->pool, capif_jws_scratch_size(
                              ngx_min(token.len, CAPIF_TOKEN_MAX_LEN)));
    if (scratch == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* registered first: the token's JSON must be freed with the request */
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_capif_cleanup;
    cln->data = ctx;

    ngx_http_capif_claims_conf(lcf, &claims_conf);

    /* a call that waited for the CCF runs this again */
    capif_token_free(&ctx->token);

    start = ngx_http_capif_metrics_clock();

    /* a token this worker verified before skips parse and signature */
    rc = ngx_http_capif_token_cache_verify(r, &ctx->token, lcf->keys,
                                           &token, scratch, &claims_conf,
                                           &err);

    if (!ctx->token.cached) {
        ngx_http_capif_metrics_verify(ctx->token.jws.alg, start);
    }

    if (rc != 0) {
        /* the CCF may have rotated: refetch its keys, then try again */
        if (ngx_strcmp(err.cause, "KID_UNKNOWN") == 0
            && ngx_http_capif_keys_unknown_kid(r, lcf->keys) == NGX_AGAIN)
        {
            return NGX_AGAIN;
        }

        goto deny;
    }

    ctx->verified = 1;
    ctx->invoker_id.data = (u_char *) ctx->token.claims.invoker_id;
    ctx->invoker_id.len = ctx->token.claims.invoker_id_len;
    ctx->scope.data = (u_char *) ctx->token.claims.scope;
    ctx->scope.len = ctx->token.claims.scope_len;

    if (capif_scope_check(ctx->token.claims.scope,
                          ctx->token.claims.scope_len,
                          (const char *) lcf->aef_id.data, lcf->aef_id.len,
                          (const char *) lcf->api_name.data,
                          lcf->api_name.len, &err)
        != 0)
    {
        goto deny;
    }

    if (ngx_http_capif_cert_check) {
        switch (ngx_http_capif_cert_check(r, ctx, &err)) {
        case NGX_OK:
            break;
        case NGX_DECLINED:
            goto deny;
        default:
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ngx_http_capif_policy_check) {
        switch (ngx_http_capif_policy_check(r, ctx, &err)) {
        case NGX_OK:
            break;
        case NGX_DECLINED:
            goto deny;
        default:
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ngx_http_capif_revocation_check) {
        switch (ngx_http_capif_revocation_check(r, ctx, &err)) {
        case NGX_OK:
            break;
        case NGX_DECLINED:
            goto deny;
        default:
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    /* last, and only for a call that passed: ask the CCF */
    rc = ngx_http_capif_invoker_status_check(r, ctx, &err);

    if (rc == NGX_DECLINED) {
        goto deny;
    }

    if (rc != NGX_OK) {
        return rc == NGX_ERROR ? NGX_HTTP_INTERNAL_SERVER_ERROR : rc;
    }

    ctx->allowed = 1;

    if (ngx_http_capif_decided(r, NGX_HTTP_OK, NULL) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "capif: allowed invoker \"%V\" scope \"%V\"",
                   &ctx->invoker_id, &ctx->scope);

    return NGX_OK;

deny:

    ngx_http_finalize_request(r, ngx_http_capif_deny(r, &err));

    return NGX_DONE;
}


/*
 * RFC 6750 section 2.1: "Bearer" (any case), one or more spaces, the token;
 * nginx has trimmed trailing spaces.  Tokens in the query string or in
 * cookies are never read.
 */
ngx_int_t
ngx_http_capif_bearer(ngx_table_elt_t *h, ngx_str_t *token,
    const capif_error_t *none, capif_error_t *err)
{
    u_char  *p, *end;

    if (h == NULL
        || h->value.len < sizeof("Bearer") - 1
        || ngx_strncasecmp(h->value.data, (u_char *) "Bearer",
                           sizeof("Bearer") - 1) != 0
        || (h->value.len > sizeof("Bearer") - 1
            && h->value.data[sizeof("Bearer") - 1] != ' '))
    {
        *err = *none;
        return NGX_DECLINED;
    }

    p = h->value.data + sizeof("Bearer") - 1;
    end = h->value.data + h->value.len;

    while (p < end && *p == ' ') {
        p++;
    }

    if (p == end) {
        (void) capif_fail(err, CAPIF_INVALID_REQUEST, "BEARER_EMPTY",
                   "Authorization header has the Bearer scheme but "
                   "no token");
        return NGX_DECLINED;
    }

    token->data = p;
    token->len = end - p;

    return NGX_OK;
}


static void
ngx_http_capif_cleanup(void *data)
{
    ngx_http_capif_ctx_t  *ctx = data;

    capif_token_free(&ctx->token);
}


static void *
ngx_http_capif_create_main_conf(ngx_conf_t *cf)
{
    return ngx_pcalloc(cf->pool, sizeof(ngx_http_capif_main_conf_t));
}


static void *
ngx_http_capif_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_capif_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_capif_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->aef_id = { 0, NULL };
     *     conf->api_name = { 0, NULL };
     *     conf->realm = { 0, NULL };
     *     conf->token_type = { 0, NULL };
     */

    conf->enable = NGX_CONF_UNSET;
    conf->keys = NGX_CONF_UNSET_PTR;
    conf->leeway = NGX_CONF_UNSET;
    conf->invoker_claim = NGX_CONF_UNSET_UINT;

    return conf;
}


static char *
ngx_http_capif_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_capif_loc_conf_t *prev = parent;
    ngx_http_capif_loc_conf_t *conf = child;

    ngx_http_core_loc_conf_t  *clcf;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_ptr_value(conf->keys, prev->keys, NULL);
    ngx_conf_merge_str_value(conf->aef_id, prev->aef_id, "");
    ngx_conf_merge_str_value(conf->api_name, prev->api_name, "");
    ngx_conf_merge_value(conf->leeway, prev->leeway, 0);
    ngx_conf_merge_uint_value(conf->invoker_claim, prev->invoker_claim, 0);
    ngx_conf_merge_str_value(conf->realm, prev->realm, "capif");
    ngx_conf_merge_str_value(conf->token_type, prev->token_type, "");

    /*
     * A location is where a call is decided, so that is where a missing
     * piece is refused; "capif on" at server level may leave the AEF and
     * API to its locations.
     */
    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (!conf->enable || clcf->name.len == 0) {
        return NGX_CONF_OK;
    }

    if (conf->keys == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"capif on\" in location \"%V\" needs "
                           "capif_key_file", &clcf->name);
        return NGX_CONF_ERROR;
    }

    if (conf->aef_id.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"capif on\" in location \"%V\" needs "
                           "capif_aef_id", &clcf->name);
        return NGX_CONF_ERROR;
    }

    if (conf->api_name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"capif on\" in location \"%V\" needs "
                           "capif_api_name", &clcf->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_capif(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char                        *rv;
    ngx_http_capif_loc_conf_t   *lcf = conf;
    ngx_http_capif_main_conf_t  *cmcf;

    rv = ngx_conf_set_flag_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (lcf->enable) {
        cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_capif_module);
        cmcf->used = 1;
    }

    return NGX_CONF_OK;
}


static void
ngx_http_capif_keyset_cleanup(void *data)
{
    capif_keyset_t  *ks = data;

    capif_keyset_free(ks);
}


/* capif_key_file <path> [alg=<ALG>] [kid=<kid>]; */
static char *
ngx_http_capif_key_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_capif_loc_conf_t *lcf = conf;

    char                *alg, *kid;
    char                 errbuf[512];
    size_t               n;
    ngx_str_t           *value, path;
    ngx_uint_t           i;
    ngx_pool_cleanup_t  *cln;

    value = cf->args->elts;
    alg = NULL;
    kid = NULL;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "alg=", 4) == 0 && alg == NULL) {
            alg = (char *) value[i].data + 4;
            continue;
        }

        if (ngx_strncmp(value[i].data, "kid=", 4) == 0 && kid == NULL
            && value[i].len > 4)
        {
            kid = (char *) value[i].data + 4;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in capif_key_file",
                           &value[i]);
        return NGX_CONF_ERROR;
    }

    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (lcf->keys == NGX_CONF_UNSET_PTR) {
        lcf->keys = ngx_pcalloc(cf->pool, sizeof(capif_keyset_t));
        if (lcf->keys == NULL) {
            return NGX_CONF_ERROR;
        }

        cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == NULL) {
            return NGX_CONF_ERROR;
        }

        cln->handler = ngx_http_capif_keyset_cleanup;
        cln->data = lcf->keys;
    }

    n = lcf->keys->nkeys;

    if (capif_keyset_load_file(lcf->keys, (char *) path.data, alg, kid,
                               errbuf, sizeof(errbuf))
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "capif_key_file: %s",
                           errbuf);
        return NGX_CONF_ERROR;
    }

    if (n < lcf->keys->nkeys && lcf->keys->keys[n].bundle_certs > 1) {
        ngx_conf_log_error(NGX_LOG_NOTICE, cf, 0,
                           "capif_key_file: \"%V\" is a bundle of %uz "
                           "certificates; only the key of the first, the "
                           "leaf, is used", &path,
                           lcf->keys->keys[n].bundle_certs);
    }

    return ngx_http_capif_keys_file_added(cf, lcf->keys, &path, alg, kid);
}


/* capif_invoker_claim iss | client_id | sub; byte-exact, like claims */
static char *
ngx_http_capif_invoker_claim(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_capif_loc_conf_t *lcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (lcf->invoker_claim != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 0; i < sizeof(ngx_http_capif_invoker_claims)
                    / sizeof(ngx_http_capif_invoker_claims[0]); i++)
    {
        if (value[1].len == ngx_strlen(ngx_http_capif_invoker_claims[i])
            && ngx_strcmp(value[1].data, ngx_http_capif_invoker_claims[i])
               == 0)
        {
            lcf->invoker_claim = i;
            return NGX_CONF_OK;
        }
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value \"%V\" in \"capif_invoker_claim\", "
                       "it must be \"iss\", \"client_id\" or \"sub\"",
                       &value[1]);
    return NGX_CONF_ERROR;
}


static char *
ngx_http_capif_check_leeway(ngx_conf_t *cf, void *post, void *data)
{
    time_t  *sp = data;

    if (*sp > NGX_HTTP_CAPIF_MAX_LEEWAY) {
        return "must not exceed 30s (TS 33.122 Annex C)";
    }

    return NGX_CONF_OK;
}


/* the realm is sent inside a quoted-string: keep it plain */
static char *
ngx_http_capif_check_realm(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *realm = data;

    ngx_uint_t  i;

    for (i = 0; i < realm->len; i++) {
        if (realm->data[i] < 0x20 || realm->data[i] >= 0x7f
            || realm->data[i] == '"' || realm->data[i] == '\\')
        {
            return "must be printable ASCII without '\"' or '\\'";
        }
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_capif_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_capif_add_variables(cf);
}


static ngx_int_t
ngx_http_capif_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_capif_handler;

    return NGX_OK;
}

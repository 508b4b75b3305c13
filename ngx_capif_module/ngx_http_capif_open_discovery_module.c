/*
 * Copyright (C) ngx_capif_module authors
 *
 * Key issue 2, open discovery: the guard in front of the CCF's
 * CAPIF_Open_Discover_Service_API.  Directives, the access-phase check of
 * method, query and requestor tier, and $capif_discovery_tier.  The
 * CCF's answer is filtered by ngx_http_capif_open_discovery_filter_module.
 */

#include "ngx_http_capif.h"
#include "ngx_http_capif_revocation.h"
#include "ngx_http_capif_open_discovery.h"




typedef struct {
    capif_token_t                    token;
    ngx_uint_t                       used;
} ngx_http_capif_od_token_t;


static ngx_int_t ngx_http_capif_od_handler(ngx_http_request_t *r);
static void ngx_http_capif_od_ctx_cleanup(void *data);
static ngx_int_t ngx_http_capif_od_tier(ngx_http_request_t *r,
    ngx_http_capif_od_loc_conf_t *odcf, ngx_http_capif_od_ctx_t *ctx,
    capif_error_t *err);
static ngx_uint_t ngx_http_capif_od_secure(ngx_http_request_t *r);
static ngx_int_t ngx_http_capif_od_no_store(ngx_http_request_t *r);
static u_char *ngx_http_capif_od_printable(ngx_http_request_t *r,
    ngx_str_t *s);
static ngx_int_t ngx_http_capif_od_tier_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static void *ngx_http_capif_od_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_capif_od_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_capif_od_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_capif_od_enable(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_capif_od_fields(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_capif_od_apis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_capif_od_check_scope(ngx_conf_t *cf, void *post,
    void *data);
static ngx_int_t ngx_http_capif_od_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_capif_od_init(ngx_conf_t *cf);


static const char  *ngx_http_capif_od_tiers[] = {
    "", "anonymous", "authorized"
};

/* as capif_invoker_claim's values in ngx_http_capif_module.c */
static const char  *ngx_http_capif_od_invoker_claims[] = {
    "iss", "client_id", "sub"
};


static ngx_conf_post_handler_pt  ngx_http_capif_od_scope_post =
    ngx_http_capif_od_check_scope;


static ngx_command_t  ngx_http_capif_od_commands[] = {

    { ngx_string("capif_open_discovery"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_http_capif_od_enable,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_od_loc_conf_t, enable),
      NULL },

    { ngx_string("capif_open_discovery_fields"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_capif_od_fields,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("capif_open_discovery_apis"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_capif_od_apis,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("capif_open_discovery_scope"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_od_loc_conf_t, scope),
      &ngx_http_capif_od_scope_post },

    { ngx_string("capif_open_discovery_max_query"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_od_loc_conf_t, max_query),
      NULL },

    { ngx_string("capif_open_discovery_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_od_loc_conf_t, max_size),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_capif_od_module_ctx = {
    ngx_http_capif_od_preconfiguration,    /* preconfiguration */
    ngx_http_capif_od_init,                /* postconfiguration */

    ngx_http_capif_od_create_main_conf,    /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_capif_od_create_loc_conf,     /* create location configuration */
    ngx_http_capif_od_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_capif_open_discovery_module = {
    NGX_MODULE_V1,
    &ngx_http_capif_od_module_ctx,         /* module context */
    ngx_http_capif_od_commands,            /* module directives */
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


static ngx_str_t  ngx_http_capif_od_problem_type =
    ngx_string("application/problem+json");


static ngx_int_t
ngx_http_capif_od_handler(ngx_http_request_t *r)
{
    char                          *json;
    size_t                         len;
    u_char                        *args, *invoker;
    ngx_str_t                      body;
    ngx_int_t                      rc;
    capif_error_t                  err;
    ngx_table_elt_t               *h;
    ngx_pool_cleanup_t            *cln;
    capif_od_query_err_t           qerr;
    ngx_http_capif_od_ctx_t       *ctx;
    ngx_http_capif_od_loc_conf_t  *odcf;

    odcf = ngx_http_get_module_loc_conf(r,
                                        ngx_http_capif_open_discovery_module);

    if (!odcf->enable || r != r->main) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_capif_open_discovery_module);
    if (ctx != NULL) {
        return NGX_DECLINED;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_capif_od_ctx_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (ctx == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_capif_od_ctx_cleanup;
    cln->data = ctx;
    ctx->conf = odcf;

    ngx_http_set_ctx(r, ctx, ngx_http_capif_open_discovery_module);

    if (ngx_http_capif_od_no_store(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!ngx_http_capif_od_secure(r)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "capif: open discovery refused 403: plain HTTP from "
                      "%V", &r->connection->addr_text);

        rc = ngx_http_capif_send_problem(r, NGX_HTTP_FORBIDDEN, "Forbidden",
                 "TLS_REQUIRED", "open discovery is served over TLS only");
        goto done;
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Allow");
        ngx_str_set(&h->value, "GET, HEAD");

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "capif: open discovery refused 405: method \"%V\"",
                      &r->method_name);

        rc = ngx_http_capif_send_problem(r, NGX_HTTP_NOT_ALLOWED,
                 "Method Not Allowed", "METHOD_NOT_ALLOWED",
                 "open discovery allows GET and HEAD only");
        goto done;
    }

    /* the operation has no request body: none is carried to the CCF */
    if (r->headers_in.content_length_n > 0 || r->headers_in.chunked) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "capif: open discovery refused 400: request body");

        rc = ngx_http_capif_send_problem(r, NGX_HTTP_BAD_REQUEST,
                 "Bad Request", "REQUEST_BODY_NOT_ALLOWED",
                 "open discovery takes no request body");
        goto done;
    }

    if (r->args.len > odcf->max_query) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "capif: open discovery refused 414: query of %uz "
                      "bytes exceeds capif_open_discovery_max_query",
                      r->args.len);

        rc = ngx_http_capif_send_problem(r, NGX_HTTP_REQUEST_URI_TOO_LARGE,
                 "URI Too Long", "QUERY_TOO_LONG",
                 "the query exceeds what open discovery accepts");
        goto done;
    }

    switch (ngx_http_capif_od_tier(r, odcf, ctx, &err)) {
    case NGX_OK:
        break;
    case NGX_DECLINED:
        rc = ngx_http_capif_deny(r, &err);
        goto done;
    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (capif_od_query_check((const char *) r->args.data, r->args.len, &qerr)
        != 0)
    {
        body.data = (u_char *) qerr.name;
        body.len = ngx_min(qerr.name_len, 64);

        args = ngx_http_capif_od_printable(r, &body);
        if (args == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "capif: open discovery refused 400: query parameter "
                      "\"%s\": %s", args, qerr.reason);

        json = capif_od_problem(NGX_HTTP_BAD_REQUEST, "Bad Request",
                                "INVALID_QUERY_PARAM",
                                "a query parameter is unknown, repeated or "
                                "malformed", qerr.name, qerr.name_len,
                                qerr.reason, &len);
        if (json == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        body.data = ngx_pnalloc(r->pool, len);
        if (body.data == NULL) {
            free(json);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        body.len = len;
        ngx_memcpy(body.data, json, len);
        free(json);

        rc = ngx_http_capif_send_body(r, NGX_HTTP_BAD_REQUEST,
                                      &ngx_http_capif_od_problem_type, &body);
        goto done;
    }

    args = ngx_http_capif_od_printable(r, &r->args);
    invoker = ngx_http_capif_od_printable(r, &ctx->invoker_id);

    if (args == NULL || invoker == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "capif: open discovery tier %s, client %V, invoker \"%s\", "
                  "query \"%s\"", ngx_http_capif_od_tiers[ctx->tier],
                  &r->connection->addr_text, invoker, args);

    /* from here on the answer is the CCF's, through the filter */
    ctx->phase = NGX_HTTP_CAPIF_OD_READ;

    /* the CCF's validators never turn the answer into a bare 304 */
    r->disable_not_modified = 1;

    return NGX_DECLINED;

done:

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


/* nothing to release: the cleanup marks the context (see the header) */
static void
ngx_http_capif_od_ctx_cleanup(void *data)
{
}


ngx_http_capif_od_ctx_t *
ngx_http_capif_od_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t       *cln;
    ngx_http_capif_od_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_capif_open_discovery_module);

    if (ctx != NULL || !(r->internal || r->filter_finalize)) {
        return ctx;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_capif_od_ctx_cleanup) {
            return cln->data;
        }
    }

    return NULL;
}


static void
ngx_http_capif_od_token_cleanup(void *data)
{
    ngx_http_capif_od_token_t  *t = data;

    if (t->used) {
        capif_token_free(&t->token);
    }
}


/*
 * The tier: a bearer token that verifies against the location's keys and
 * whose scope holds capif_open_discovery_scope, or a client certificate
 * nginx verified; anonymous if neither is offered.  An Authorization
 * header that does not carry a valid token is refused, never anonymous.
 */
static ngx_int_t
ngx_http_capif_od_tier(ngx_http_request_t *r,
    ngx_http_capif_od_loc_conf_t *odcf, ngx_http_capif_od_ctx_t *ctx,
    capif_error_t *err)
{
    u_char                         *p, *end, *scratch;
    ngx_int_t                       rc;
    ngx_pool_cleanup_t             *cln;
    ngx_http_capif_ctx_t           *cctx;
    capif_claims_conf_t             claims_conf;
    ngx_http_variable_value_t      *vv;
    ngx_http_capif_od_token_t      *t;
    ngx_http_capif_loc_conf_t      *ccf;
    ngx_http_capif_od_main_conf_t  *mcf;

    static ngx_str_t                none = ngx_string("-");

    ctx->invoker_id = none;

    if (r->headers_in.authorization == NULL) {

        mcf = ngx_http_get_module_main_conf(r,
                                        ngx_http_capif_open_discovery_module);

        vv = (mcf->verify_index == NGX_ERROR) ? NULL
             : ngx_http_get_indexed_variable(r, mcf->verify_index);

        if (vv != NULL && !vv->not_found && vv->len == sizeof("SUCCESS") - 1
            && ngx_strncmp(vv->data, "SUCCESS", vv->len) == 0)
        {
            ctx->tier = NGX_HTTP_CAPIF_OD_AUTHORIZED;

            /* the certificate's subject stands for the requestor */
            vv = ngx_http_get_indexed_variable(r, mcf->dn_index);

            if (vv != NULL && !vv->not_found && vv->len) {
                ctx->invoker_id.data = vv->data;
                ctx->invoker_id.len = vv->len;
            }

            return NGX_OK;
        }

        ctx->tier = NGX_HTTP_CAPIF_OD_ANONYMOUS;
        return NGX_OK;
    }

    p = r->headers_in.authorization->value.data;
    end = p + r->headers_in.authorization->value.len;

    /* RFC 6750 section 2.1; nginx has trimmed trailing spaces */
    if (end - p < (ssize_t) sizeof("Bearer") - 1
        || ngx_strncasecmp(p, (u_char *) "Bearer", sizeof("Bearer") - 1)
           != 0
        || (end - p > (ssize_t) sizeof("Bearer") - 1
            && p[sizeof("Bearer") - 1] != ' '))
    {
        (void) capif_fail(err, CAPIF_INVALID_TOKEN, "TOKEN_SCHEME",
                          "open discovery takes a Bearer token or none");
        return NGX_DECLINED;
    }

    p += sizeof("Bearer") - 1;

    while (p < end && *p == ' ') {
        p++;
    }

    if (p == end) {
        (void) capif_fail(err, CAPIF_INVALID_REQUEST, "BEARER_EMPTY",
                          "Authorization header has the Bearer scheme but "
                          "no token");
        return NGX_DECLINED;
    }

    ccf = ngx_http_get_module_loc_conf(r, ngx_http_capif_module);

    if (ccf->keys == NULL) {
        (void) capif_fail(err, CAPIF_INVALID_TOKEN, "TOKEN_UNVERIFIABLE",
                          "no capif_key_file here to verify tokens with");
        return NGX_DECLINED;
    }

    t = ngx_pcalloc(r->pool, sizeof(ngx_http_capif_od_token_t));
    scratch = ngx_pnalloc(r->pool, capif_jws_scratch_size(
                              ngx_min((size_t) (end - p),
                                      CAPIF_TOKEN_MAX_LEN)));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (t == NULL || scratch == NULL || cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_capif_od_token_cleanup;
    cln->data = t;

    claims_conf.leeway = ccf->leeway;
    claims_conf.invoker_claim =
                     ngx_http_capif_od_invoker_claims[ccf->invoker_claim];
    claims_conf.expected_type = ccf->token_type.len
                                ? (const char *) ccf->token_type.data : NULL;

    if (capif_token_verify(&t->token, ccf->keys, p, end - p, scratch,
                           &claims_conf, ngx_time(), err)
        != 0)
    {
        return NGX_DECLINED;
    }

    t->used = 1;

    ctx->invoker_id.len = t->token.claims.invoker_id_len;
    ctx->invoker_id.data = ngx_pnalloc(r->pool, ctx->invoker_id.len);
    if (ctx->invoker_id.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ctx->invoker_id.data, t->token.claims.invoker_id,
               ctx->invoker_id.len);

    /* a revoked token (by jti or digest) or a too long-lived one */
    if (ngx_http_capif_revocation_check) {
        cctx = ngx_pcalloc(r->pool, sizeof(ngx_http_capif_ctx_t));
        if (cctx == NULL) {
            return NGX_ERROR;
        }

        cctx->token = t->token;
        cctx->invoker_id = ctx->invoker_id;
        cctx->scope.data = (u_char *) t->token.claims.scope;
        cctx->scope.len = t->token.claims.scope_len;
        cctx->verified = 1;

        rc = ngx_http_capif_revocation_check(r, cctx, err);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    if (!capif_od_scope_has(t->token.claims.scope, t->token.claims.scope_len,
                            (const char *) odcf->scope.data, odcf->scope.len))
    {
        (void) capif_fail(err, CAPIF_INSUFFICIENT_SCOPE,
                          "OPEN_DISCOVERY_SCOPE_MISSING",
                          "the token's scope does not grant open discovery");
        return NGX_DECLINED;
    }

    ctx->tier = NGX_HTTP_CAPIF_OD_AUTHORIZED;

    return NGX_OK;
}


/*
 * TLS, or plain HTTP from a loopback address where
 * capif_admin_allow_plain_loopback is on (a server may listen both ways)
 */
static ngx_uint_t
ngx_http_capif_od_secure(ngx_http_request_t *r)
{
    struct sockaddr_in             *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6            *sin6;
#endif
    ngx_http_capif_rev_loc_conf_t  *rcf;

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        return 1;
    }
#endif

    rcf = ngx_http_get_module_loc_conf(r, ngx_http_capif_revocation_module);

    if (!rcf->allow_plain_loopback) {
        return 0;
    }

    switch (r->connection->sockaddr->sa_family) {

    case AF_INET:
        sin = (struct sockaddr_in *) r->connection->sockaddr;
        return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) r->connection->sockaddr;
        return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)
               || (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)
                   && sin6->sin6_addr.s6_addr[12] == 127);
#endif

    default:
        return 0;
    }
}


/* answers of the discovery location are never stored */
static ngx_int_t
ngx_http_capif_od_no_store(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-store");

    return NGX_OK;
}


/* a NUL-terminated copy for the log, anything unusual replaced by '?' */
static u_char *
ngx_http_capif_od_printable(ngx_http_request_t *r, ngx_str_t *s)
{
    u_char      *p;
    ngx_uint_t   i;

    p = ngx_pnalloc(r->pool, s->len + 1);
    if (p == NULL) {
        return NULL;
    }

    for (i = 0; i < s->len; i++) {
        p[i] = (s->data[i] >= 0x20 && s->data[i] < 0x7f && s->data[i] != '"'
                && s->data[i] != '\\') ? s->data[i] : '?';
    }

    p[s->len] = '\0';

    return p;
}


static ngx_int_t
ngx_http_capif_od_tier_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_capif_od_ctx_t  *ctx;

    ctx = ngx_http_capif_od_get_ctx(r);

    if (ctx == NULL || ctx->tier == NGX_HTTP_CAPIF_OD_NONE) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = (u_char *) ngx_http_capif_od_tiers[ctx->tier];
    v->len = ngx_strlen(v->data);
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static void *
ngx_http_capif_od_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_capif_od_main_conf_t  *mcf;

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_capif_od_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&mcf->sites, cf->pool, 4,
                       sizeof(ngx_http_capif_od_site_t))
        != NGX_OK)
    {
        return NULL;
    }

    mcf->verify_index = NGX_ERROR;
    mcf->dn_index = NGX_ERROR;

    return mcf;
}


static void *
ngx_http_capif_od_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_capif_od_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_capif_od_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->fields[] = NULL;
     *     conf->apis = NULL;
     *     conf->scope = { 0, NULL };
     */

    conf->enable = NGX_CONF_UNSET;
    conf->max_query = NGX_CONF_UNSET_SIZE;
    conf->max_size = NGX_CONF_UNSET_SIZE;

    return conf;
}


static char *
ngx_http_capif_od_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_capif_od_loc_conf_t *prev = parent;
    ngx_http_capif_od_loc_conf_t *conf = child;

    ngx_uint_t  i;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_str_value(conf->scope, prev->scope, "open-discovery");
    ngx_conf_merge_size_value(conf->max_query, prev->max_query, 2048);
    ngx_conf_merge_size_value(conf->max_size, prev->max_size, 1024 * 1024);

    if (conf->apis == NULL) {
        conf->apis = prev->apis;
    }

    for (i = 1; i < 3; i++) {
        if (conf->fields[i] == NULL) {
            conf->fields[i] = prev->fields[i];
        }
    }

    if (conf->fields[NGX_HTTP_CAPIF_OD_ANONYMOUS] == NULL) {
        conf->fields[NGX_HTTP_CAPIF_OD_ANONYMOUS] =
                   (capif_od_fields_t *) &capif_od_anonymous_default;
    }

    if (conf->fields[NGX_HTTP_CAPIF_OD_AUTHORIZED] == NULL) {
        conf->fields[NGX_HTTP_CAPIF_OD_AUTHORIZED] =
                   (capif_od_fields_t *) &capif_od_authorized_default;
    }

    if (conf->max_size == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "capif_open_discovery_max_size must not be 0");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_capif_od_enable(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_capif_od_loc_conf_t *odcf = conf;

    char                           *rv;
    ngx_http_capif_od_site_t       *site;
    ngx_http_capif_od_main_conf_t  *mcf;

    rv = ngx_conf_set_flag_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK || !odcf->enable) {
        return rv;
    }

    mcf = ngx_http_conf_get_module_main_conf(cf,
                                        ngx_http_capif_open_discovery_module);

    site = ngx_array_push(&mcf->sites);
    if (site == NULL) {
        return NGX_CONF_ERROR;
    }

    site->odcf = odcf;
    site->ccf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_capif_module);
    site->rcf = ngx_http_conf_get_module_loc_conf(cf,
                                            ngx_http_capif_revocation_module);
    site->cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_core_module);
    site->file = cf->conf_file->file.name;
    site->line = cf->conf_file->line;

    return NGX_CONF_OK;
}


/* capif_open_discovery_fields anonymous | authorized <path> ... | none */
static char *
ngx_http_capif_od_fields(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_capif_od_loc_conf_t *odcf = conf;

    ngx_str_t          *value;
    ngx_uint_t          i, tier;
    capif_od_fields_t  *f;

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "anonymous") == 0) {
        tier = NGX_HTTP_CAPIF_OD_ANONYMOUS;

    } else if (ngx_strcmp(value[1].data, "authorized") == 0) {
        tier = NGX_HTTP_CAPIF_OD_AUTHORIZED;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid tier \"%V\" in capif_open_discovery_fields"
                           ", it must be \"anonymous\" or \"authorized\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (odcf->fields[tier] != NULL) {
        return "is duplicate for this tier";
    }

    f = ngx_pcalloc(cf->pool, sizeof(capif_od_fields_t));
    if (f == NULL) {
        return NGX_CONF_ERROR;
    }

    f->paths = ngx_pcalloc(cf->pool, sizeof(char *) * cf->args->nelts);
    if (f->paths == NULL) {
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 3 && ngx_strcmp(value[2].data, "none") == 0) {
        odcf->fields[tier] = f;
        return NGX_CONF_OK;
    }

    for (i = 2; i < cf->args->nelts; i++) {
        if (!capif_od_path_valid((const char *) value[i].data)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "capif_open_discovery_fields: \"%V\" is not "
                               "a member of OpenDiscoveryResp (TS 29.222)",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        f->paths[f->npaths++] = (const char *) value[i].data;
    }

    odcf->fields[tier] = f;

    return NGX_CONF_OK;
}


static void
ngx_http_capif_od_apis_cleanup(void *data)
{
    capif_od_apis_free(data);
}


/* capif_open_discovery_apis <file>; the dissemination list, JSON */
static char *
ngx_http_capif_od_apis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_capif_od_loc_conf_t *odcf = conf;

    char                 errbuf[256];
    u_char              *buf;
    ssize_t              n;
    ngx_fd_t             fd;
    ngx_str_t           *value, path;
    ngx_file_info_t      fi;
    ngx_pool_cleanup_t  *cln;

    if (odcf->apis != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "capif_open_discovery_apis: cannot open \"%V\"",
                           &path);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > 16 * 1024 * 1024)
    {
        ngx_close_file(fd);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "capif_open_discovery_apis: \"%V\" is unreadable "
                           "or larger than 16m", &path);
        return NGX_CONF_ERROR;
    }

    buf = ngx_pnalloc(cf->temp_pool, ngx_file_size(&fi) + 1);
    if (buf == NULL) {
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_fd(fd, buf, ngx_file_size(&fi) + 1);
    ngx_close_file(fd);

    if (n != ngx_file_size(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "capif_open_discovery_apis: short read of \"%V\"",
                           &path);
        return NGX_CONF_ERROR;
    }

    odcf->apis = ngx_pcalloc(cf->pool, sizeof(capif_od_apis_t));
    cln = ngx_pool_cleanup_add(cf->pool, 0);

    if (odcf->apis == NULL || cln == NULL) {
        return NGX_CONF_ERROR;
    }

    if (capif_od_apis_load(odcf->apis, (const char *) buf, n, errbuf,
                           sizeof(errbuf))
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "capif_open_discovery_apis: \"%V\": %s", &path,
                           errbuf);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_capif_od_apis_cleanup;
    cln->data = odcf->apis;

    return NGX_CONF_OK;
}


static char *
ngx_http_capif_od_check_scope(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *scope = data;

    ngx_uint_t  i;

    if (scope->len == 0) {
        return "must not be empty";
    }

    for (i = 0; i < scope->len; i++) {
        if (scope->data[i] <= 0x20 || scope->data[i] >= 0x7f) {
            return "must be one scope entry: printable ASCII without spaces";
        }
    }

    return NGX_CONF_OK;
}


static ngx_http_variable_t  ngx_http_capif_od_vars[] = {

    { ngx_string("capif_discovery_tier"), NULL,
      ngx_http_capif_od_tier_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_int_t
ngx_http_capif_od_preconfiguration(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_capif_od_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/* 1 if the server has a "listen ... ssl" */
static ngx_uint_t
ngx_http_capif_od_server_tls(ngx_conf_t *cf, ngx_http_core_srv_conf_t *cscf)
{
#if (NGX_HTTP_SSL)
    ngx_uint_t                  p, a, s;
    ngx_http_conf_port_t       *port;
    ngx_http_conf_addr_t       *addr;
    ngx_http_core_srv_conf_t  **servers;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    if (cmcf->ports == NULL) {
        return 0;
    }

    port = cmcf->ports->elts;

    for (p = 0; p < cmcf->ports->nelts; p++) {
        addr = port[p].addrs.elts;

        for (a = 0; a < port[p].addrs.nelts; a++) {
            if (!addr[a].opt.ssl) {
                continue;
            }

            servers = addr[a].servers.elts;

            for (s = 0; s < addr[a].servers.nelts; s++) {
                if (servers[s] == cscf) {
                    return 1;
                }
            }
        }
    }
#endif

    return 0;
}


static ngx_int_t
ngx_http_capif_od_init(ngx_conf_t *cf)
{
    ngx_str_t                       verify = ngx_string("ssl_client_verify");
    ngx_str_t                       dn = ngx_string("ssl_client_s_dn");
    ngx_uint_t                      i;
    ngx_http_capif_loc_conf_t      *ccf;
    ngx_http_capif_rev_loc_conf_t  *rcf;
    ngx_http_handler_pt            *h;
    ngx_http_core_main_conf_t      *cmcf;
    ngx_http_capif_od_site_t       *site;
    ngx_http_capif_od_main_conf_t  *mcf;

    mcf = ngx_http_conf_get_module_main_conf(cf,
                                        ngx_http_capif_open_discovery_module);

    /* every value is merged by now */
    site = mcf->sites.elts;

    for (i = 0; i < mcf->sites.nelts; i++) {

        rcf = site[i].rcf;
        ccf = site[i].ccf;

        if (!rcf->allow_plain_loopback
            && !ngx_http_capif_od_server_tls(cf, site[i].cscf))
        {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"capif_open_discovery\" in %V:%ui needs a server "
                          "that listens with TLS (\"listen ... ssl\"), or "
                          "capif_admin_allow_plain_loopback on",
                          &site[i].file, site[i].line);
            return NGX_ERROR;
        }

        if (site[i].odcf->apis == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"capif_open_discovery\" in %V:%ui needs "
                          "capif_open_discovery_apis (the dissemination list)",
                          &site[i].file, site[i].line);
            return NGX_ERROR;
        }

        if (ccf->enable == 1) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"capif_open_discovery\" in %V:%ui cannot share "
                          "its location with \"capif on\"",
                          &site[i].file, site[i].line);
            return NGX_ERROR;
        }
    }

    if (mcf->sites.nelts == 0) {
        return NGX_OK;
    }

#if (NGX_HTTP_SSL)
    mcf->verify_index = ngx_http_get_variable_index(cf, &verify);
    mcf->dn_index = ngx_http_get_variable_index(cf, &dn);

    if (mcf->verify_index == NGX_ERROR || mcf->dn_index == NGX_ERROR) {
        return NGX_ERROR;
    }
#else
    (void) verify;
    (void) dn;
#endif

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_capif_od_handler;

    return NGX_OK;
}

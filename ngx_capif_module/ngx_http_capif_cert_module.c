/*
 * Copyright (C) ngx_capif_module authors
 *
 * The TLS client certificate side of key issue 4 (credential
 * unavailability): certificate-bound tokens (RFC 8705), the invoker named
 * by its certificate, and a CRL from the CCF's CA that is read again when
 * it changes.  Decisions are in capif_cnf.c, capif_x509.c and capif_crl.c.
 */

#include "ngx_http_capif.h"
#include "ngx_http_capif_cert.h"
#include "ngx_http_capif_revocation.h"
#include "ngx_http_capif_rev_check.h"
#include "capif_aef_request.h"
#include "capif_b64url.h"
#include "capif_cnf.h"
#include "capif_credential.h"
#include "capif_crl.h"
#include "capif_x509.h"


typedef struct {
    ngx_str_t                  crl_path;     /* NUL-terminated */
    ngx_str_t                  issuer_path;
    X509                      *issuer;
    capif_crl_t               *crl;          /* the last good one */
    capif_crl_file_t           seen;         /* the file last looked at */
    time_t                     checked;      /* when, in seconds */
    time_t                     max_lifetime; /* capif_cert_max_lifetime */
    unsigned                   missing:1;    /* already logged */
    unsigned                   stale:1;      /* already logged */
} ngx_http_capif_cert_main_conf_t;


/* at nginx -t and in each worker, once per stale CRL */
#define NGX_HTTP_CAPIF_CRL_STALE                                          \
    "capif_crl: \"%V\" is past its nextUpdate: it still refuses what it " \
    "lists, but newer withdrawals are missing; publish a current CRL"


typedef struct {
    ngx_uint_t                 binding;      /* capif_cnf_mode_t */
    ngx_flag_t                 no_ca;
    ngx_uint_t                 invoker;      /* capif_x509_id_t */
} ngx_http_capif_cert_loc_conf_t;


/* the connection's certificate, looked at once per request */
typedef struct {
    capif_cnf_cert_t           cert;
    u_char                     b64[CAPIF_CNF_THUMB_B64_LEN];
    unsigned                   looked:1;
} ngx_http_capif_cert_ctx_t;


static ngx_int_t ngx_http_capif_cert_check_handler(ngx_http_request_t *r,
    ngx_http_capif_ctx_t *ctx, capif_error_t *err);
static ngx_int_t ngx_http_capif_cert_withdrawn_handler(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_capif_cert_withdrawn(ngx_http_request_t *r,
    X509 *x);
static void ngx_http_capif_cert_crl_refresh(
    ngx_http_capif_cert_main_conf_t *mcf, ngx_log_t *log);
static void ngx_http_capif_cert_crl_reload(
    ngx_http_capif_cert_main_conf_t *mcf, ngx_log_t *log);
static X509 *ngx_http_capif_cert_peer(ngx_http_request_t *r);
static ngx_http_capif_cert_ctx_t *ngx_http_capif_cert_look(
    ngx_http_request_t *r, X509 *x);
static ngx_int_t ngx_http_capif_cert_sha256_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_capif_cert_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_capif_cert_init(ngx_conf_t *cf);
static void *ngx_http_capif_cert_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_capif_cert_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_capif_cert_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_capif_cert_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_capif_cert_binding(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void ngx_http_capif_cert_cleanup(void *data);


static ngx_conf_enum_t  ngx_http_capif_cert_invoker_kinds[] = {
    { ngx_string("off"), CAPIF_X509_ID_OFF },
    { ngx_string("cn"), CAPIF_X509_ID_CN },
    { ngx_string("san_uri"), CAPIF_X509_ID_SAN_URI },
    { ngx_string("san_dns"), CAPIF_X509_ID_SAN_DNS },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_capif_cert_commands[] = {

    { ngx_string("capif_cert_binding"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_capif_cert_binding,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("capif_cert_invoker"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_cert_loc_conf_t, invoker),
      &ngx_http_capif_cert_invoker_kinds },

    { ngx_string("capif_crl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_capif_cert_main_conf_t, crl_path),
      NULL },

    { ngx_string("capif_cert_max_lifetime"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_capif_cert_main_conf_t, max_lifetime),
      NULL },

    { ngx_string("capif_crl_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_capif_cert_main_conf_t, issuer_path),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_capif_cert_module_ctx = {
    ngx_http_capif_cert_add_variables,     /* preconfiguration */
    ngx_http_capif_cert_init,              /* postconfiguration */

    ngx_http_capif_cert_create_main_conf,  /* create main configuration */
    ngx_http_capif_cert_init_main_conf,    /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_capif_cert_create_loc_conf,   /* create location configuration */
    ngx_http_capif_cert_merge_loc_conf     /* merge location configuration */
};


ngx_module_t  ngx_http_capif_cert_module = {
    NGX_MODULE_V1,
    &ngx_http_capif_cert_module_ctx,       /* module context */
    ngx_http_capif_cert_commands,          /* module directives */
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


static ngx_str_t  ngx_http_capif_cert_sha256_name =
    ngx_string("capif_client_cert_sha256");


/*
 * Called by the token gate once the token is verified: the token's
 * certificate binding, then the invoker its certificate names.
 */
static ngx_int_t
ngx_http_capif_cert_check_handler(ngx_http_request_t *r,
    ngx_http_capif_ctx_t *ctx, capif_error_t *err)
{
    X509                            *x;
    ngx_int_t                        rc;
    ngx_http_capif_cert_ctx_t       *cc;
    ngx_http_capif_cert_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_capif_cert_module);

    if (lcf->binding == CAPIF_CNF_OFF && lcf->invoker == CAPIF_X509_ID_OFF)
    {
        return NGX_OK;
    }

    x = ngx_http_capif_cert_peer(r);

    cc = ngx_http_capif_cert_look(r, x);
    if (cc == NULL) {
        rc = NGX_ERROR;
        goto done;
    }

    rc = NGX_DECLINED;

    if (capif_cnf_check(lcf->binding, lcf->no_ca, ctx->token.jws.payload,
                        &cc->cert, err)
        != 0)
    {
        goto done;
    }

    if (lcf->invoker != CAPIF_X509_ID_OFF) {

        if (!cc->cert.present) {
            (void) capif_fail(err, CAPIF_INVALID_TOKEN,
                              "CLIENT_CERT_MISSING",
                              "the invoker must be named by a TLS client "
                              "certificate, and there is none");
            goto done;
        }

        if (!cc->cert.verified) {
            (void) capif_fail(err, CAPIF_INVALID_TOKEN,
                              "CLIENT_CERT_UNVERIFIED",
                              "the invoker must be named by a verified "
                              "TLS client certificate");
            goto done;
        }

        if (capif_x509_invoker_check(x, lcf->invoker,
                                     (const char *) ctx->invoker_id.data,
                                     ctx->invoker_id.len, err)
            != 0)
        {
            goto done;
        }
    }

    rc = NGX_OK;

done:

    if (x != NULL) {
        X509_free(x);
    }

    return rc;
}


/*
 * Whether the connection's certificate is withdrawn: 1 by capif_crl, 2 by
 * a revoke-credential entry, 0 if not, or NGX_ERROR.  Logs why at info.
 */
static ngx_int_t
ngx_http_capif_cert_withdrawn(ngx_http_request_t *r, X509 *x)
{
    char                              serial[80];
    ngx_int_t                         rc;
    ngx_http_capif_cert_ctx_t        *cc;
    ngx_http_capif_cert_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_capif_cert_module);

    if (mcf->crl_path.len) {
        ngx_http_capif_cert_crl_refresh(mcf, r->connection->log);

        if (mcf->crl != NULL && capif_crl_revoked(mcf->crl, x)) {
            if (capif_x509_serial_hex(x, serial, sizeof(serial)) != 0) {
                ngx_cpystrn((u_char *) serial, (u_char *) "?",
                            sizeof(serial));
            }

            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "capif: client certificate serial %s is revoked "
                          "by \"%V\"", serial, &mcf->crl_path);
            return 1;
        }
    }

    if (!ngx_http_capif_rev_has_certs(r)) {
        return 0;
    }

    cc = ngx_http_capif_cert_look(r, x);
    if (cc == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_capif_rev_cert_withdrawn(r, x, cc->b64);

    if (rc == 1) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "capif: client certificate %*s is withdrawn by "
                      "revoke-credential", (size_t) CAPIF_CNF_THUMB_B64_LEN,
                      cc->b64);
        return 2;
    }

    return rc;
}


/*
 * Access phase, wherever capif_crl or capif_zone is set, with or without
 * "capif on": a connection whose client certificate the CRL or a
 * revoke-credential entry lists gets no answer, checked for every
 * request, so that keep-alive connections opened before are refused too.
 * check-authentication answers 403 with the reason instead.
 */
static ngx_int_t
ngx_http_capif_cert_withdrawn_handler(ngx_http_request_t *r)
{
    X509                             *x;
    ngx_int_t                         rc;
    capif_error_t                     err;
    ngx_http_capif_rev_loc_conf_t    *rlcf;
    ngx_http_capif_cert_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_capif_cert_module);

    if (mcf->crl_path.len == 0 && !ngx_http_capif_rev_has_certs(r)) {
        return NGX_DECLINED;
    }

    rlcf = ngx_http_get_module_loc_conf(r, ngx_http_capif_revocation_module);

    if (rlcf->aef_security == 1 && (r->method & NGX_HTTP_POST)
        && capif_aef_op(r->uri.data, r->uri.len) == CAPIF_AEF_CHECK_AUTH)
    {
        return NGX_DECLINED;
    }

    x = ngx_http_capif_cert_peer(r);
    if (x == NULL) {
        return NGX_DECLINED;
    }

    rc = ngx_http_capif_cert_withdrawn(r, x);

    X509_free(x);

    if (rc == 0) {
        return NGX_DECLINED;
    }

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    err.outcome = CAPIF_INVALID_TOKEN;
    err.cause = "CLIENT_CERT_REVOKED";
    err.detail = (rc == 1)
                 ? "the CCF's CA has revoked the TLS client certificate"
                 : "the CCF has withdrawn the TLS client certificate";

    ngx_http_finalize_request(r, ngx_http_capif_deny(r, &err));

    return NGX_DONE;
}


ngx_int_t
ngx_http_capif_cert_authenticate(ngx_http_request_t *r, const u_char *invoker,
    size_t len, capif_error_t *err)
{
    X509                            *x;
    size_t                           id_len;
    ngx_int_t                        rc;
    capif_cred_auth_t                a;
    ngx_http_capif_cert_ctx_t       *cc;
    ngx_http_capif_cert_loc_conf_t  *lcf;
    u_char                           id[CAPIF_X509_ID_MAX];

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_capif_cert_module);

    ngx_memzero(&a, sizeof(capif_cred_auth_t));
    a.id_kind = lcf->invoker;

    x = ngx_http_capif_cert_peer(r);

    if (x != NULL) {
        cc = ngx_http_capif_cert_look(r, x);

        if (cc == NULL) {
            X509_free(x);
            return NGX_ERROR;
        }

        a.present = 1;
        a.verified = cc->cert.verified;

        rc = ngx_http_capif_cert_withdrawn(r, x);

        if (rc == NGX_ERROR) {
            X509_free(x);
            return NGX_ERROR;
        }

        a.withdrawn = (int) rc;

        if (a.id_kind != CAPIF_X509_ID_OFF
            && capif_x509_identity(x, a.id_kind, id, &id_len) == 0)
        {
            a.id = id;
            a.id_len = id_len;
        }

        X509_free(x);
    }

    if (capif_cred_authenticate(&a, invoker, len, err) != 0) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


time_t
ngx_http_capif_cert_max_lifetime(ngx_http_request_t *r)
{
    ngx_http_capif_cert_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_capif_cert_module);

    return mcf->max_lifetime;
}


/*
 * Each worker looks at the file at most once a second; a new CRL is
 * loaded when the file's identity (device, inode, size, mtime) changed.
 * A file that is missing or fails keeps the last good CRL, loudly.  A
 * CRL past its nextUpdate still refuses what it lists; that it may miss
 * newer withdrawals is said once per CRL.
 */
static void
ngx_http_capif_cert_crl_refresh(ngx_http_capif_cert_main_conf_t *mcf,
    ngx_log_t *log)
{
    time_t  now;

    now = ngx_time();

    if (now == mcf->checked) {
        return;
    }

    mcf->checked = now;

    ngx_http_capif_cert_crl_reload(mcf, log);

    if (!mcf->stale && capif_crl_stale(mcf->crl, now)) {
        ngx_log_error(NGX_LOG_WARN, log, 0, NGX_HTTP_CAPIF_CRL_STALE,
                      &mcf->crl_path);
        mcf->stale = 1;
    }
}


/* loads the file again if its identity changed */
static void
ngx_http_capif_cert_crl_reload(ngx_http_capif_cert_main_conf_t *mcf,
    ngx_log_t *log)
{
    char               errbuf[256];
    capif_crl_t       *crl;
    capif_crl_file_t   id;

    if (capif_crl_file_id((char *) mcf->crl_path.data, &id) != 0) {
        if (!mcf->missing) {
            ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                          "capif_crl: stat(\"%V\") failed; keeping the "
                          "last good CRL", &mcf->crl_path);
            mcf->missing = 1;
            ngx_memzero(&mcf->seen, sizeof(capif_crl_file_t));
        }

        return;
    }

    mcf->missing = 0;

    if (capif_crl_file_eq(&id, &mcf->seen)) {
        return;
    }

    mcf->seen = id;

    crl = capif_crl_load_file((char *) mcf->crl_path.data, mcf->issuer,
                              errbuf, sizeof(errbuf));
    if (crl == NULL) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "capif_crl: \"%V\": %s; keeping the last good CRL",
                      &mcf->crl_path, errbuf);
        return;
    }

    /* replaced between stat() and open(): remember what was read */
    mcf->seen = crl->id;

    capif_crl_free(mcf->crl);
    mcf->crl = crl;
    mcf->stale = 0;

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "capif_crl: loaded \"%V\", %d revoked certificates",
                  &mcf->crl_path, crl->entries);
}


/* the client certificate of the connection, to X509_free(), or NULL */
static X509 *
ngx_http_capif_cert_peer(ngx_http_request_t *r)
{
    if (r->connection->ssl == NULL) {
        return NULL;
    }

    return SSL_get_peer_certificate(r->connection->ssl->connection);
}


static ngx_http_capif_cert_ctx_t *
ngx_http_capif_cert_look(ngx_http_request_t *r, X509 *x)
{
    ngx_http_capif_cert_ctx_t  *cc;

    cc = ngx_http_get_module_ctx(r, ngx_http_capif_cert_module);

    if (cc == NULL) {
        cc = ngx_pcalloc(r->pool, sizeof(ngx_http_capif_cert_ctx_t));
        if (cc == NULL) {
            return NULL;
        }

        ngx_http_set_ctx(r, cc, ngx_http_capif_cert_module);
    }

    if (cc->looked || x == NULL) {
        return cc;
    }

    if (capif_x509_sha256(x, cc->cert.sha256) != 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "capif: cannot hash the client certificate");
        return NULL;
    }

    /* what $ssl_client_verify calls SUCCESS */
    cc->cert.verified = (SSL_get_verify_result(r->connection->ssl->connection)
                         == X509_V_OK);
    cc->cert.present = 1;
    cc->looked = 1;

    (void) capif_b64url_encode(cc->cert.sha256, CAPIF_CNF_THUMB_LEN, cc->b64);

    return cc;
}


/* base64url SHA-256 of the DER certificate, as in cnf.x5t#S256 */
static ngx_int_t
ngx_http_capif_cert_sha256_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    X509                       *x;
    ngx_http_capif_ctx_t       *ctx;
    ngx_http_capif_cert_ctx_t  *cc;

    ctx = ngx_http_get_module_ctx(r, ngx_http_capif_module);

    if (ctx == NULL || !ctx->allowed) {
        v->not_found = 1;
        return NGX_OK;
    }

    x = ngx_http_capif_cert_peer(r);
    if (x == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    cc = ngx_http_capif_cert_look(r, x);
    X509_free(x);

    if (cc == NULL) {
        return NGX_ERROR;
    }

    v->data = cc->b64;
    v->len = CAPIF_CNF_THUMB_B64_LEN;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_capif_cert_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var;

    var = ngx_http_add_variable(cf, &ngx_http_capif_cert_sha256_name,
                                NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_capif_cert_sha256_variable;

    return NGX_OK;
}


static ngx_int_t
ngx_http_capif_cert_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt              *h;
    ngx_http_core_main_conf_t        *cmcf;
    ngx_http_capif_rev_main_conf_t   *rmcf;
    ngx_http_capif_cert_main_conf_t  *mcf;

    ngx_http_capif_cert_check = ngx_http_capif_cert_check_handler;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_capif_cert_module);
    rmcf = ngx_http_conf_get_module_main_conf(cf,
                                            ngx_http_capif_revocation_module);

    /* withdrawn certificates: the CRL, or revoke-credential entries */
    if (mcf->crl_path.len == 0 && rmcf->shm_zone == NULL) {
        return NGX_OK;
    }

    /* registered after the token gate's, so it runs before it */
    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_capif_cert_withdrawn_handler;

    return NGX_OK;
}


static void *
ngx_http_capif_cert_create_main_conf(ngx_conf_t *cf)
{
    ngx_pool_cleanup_t               *cln;
    ngx_http_capif_cert_main_conf_t  *mcf;

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_capif_cert_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_capif_cert_cleanup;
    cln->data = mcf;

    mcf->max_lifetime = NGX_CONF_UNSET;

    return mcf;
}


/* loads the CRL at start-up: a missing or broken one fails "nginx -t" */
static char *
ngx_http_capif_cert_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_capif_cert_main_conf_t  *mcf = conf;

    char  errbuf[256];

    if (mcf->max_lifetime == NGX_CONF_UNSET) {
        mcf->max_lifetime = NGX_HTTP_CAPIF_CERT_DEFAULT_LIFETIME;

    } else if (mcf->max_lifetime <= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "capif_cert_max_lifetime must be positive");
        return NGX_CONF_ERROR;
    }

    if (mcf->crl_path.len == 0) {
        if (mcf->issuer_path.len) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"capif_crl_issuer\" needs \"capif_crl\"");
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (ngx_conf_full_name(cf->cycle, &mcf->crl_path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (mcf->issuer_path.len) {
        if (ngx_conf_full_name(cf->cycle, &mcf->issuer_path, 1) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        mcf->issuer = capif_crl_issuer_load_file(
                          (char *) mcf->issuer_path.data, errbuf,
                          sizeof(errbuf));
        if (mcf->issuer == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "capif_crl_issuer: %s",
                               errbuf);
            return NGX_CONF_ERROR;
        }
    }

    mcf->crl = capif_crl_load_file((char *) mcf->crl_path.data, mcf->issuer,
                                   errbuf, sizeof(errbuf));
    if (mcf->crl == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "capif_crl: \"%V\": %s",
                           &mcf->crl_path, errbuf);
        return NGX_CONF_ERROR;
    }

    mcf->seen = mcf->crl->id;

    if (capif_crl_stale(mcf->crl, ngx_time())) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0, NGX_HTTP_CAPIF_CRL_STALE,
                           &mcf->crl_path);
        mcf->stale = 1;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_capif_cert_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_capif_cert_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_capif_cert_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->binding = NGX_CONF_UNSET_UINT;
    conf->no_ca = NGX_CONF_UNSET;
    conf->invoker = NGX_CONF_UNSET_UINT;

    return conf;
}


static char *
ngx_http_capif_cert_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_capif_cert_loc_conf_t *prev = parent;
    ngx_http_capif_cert_loc_conf_t *conf = child;

    /* no_ca belongs to the binding it was given with */
    if (conf->binding == NGX_CONF_UNSET_UINT) {
        conf->binding = prev->binding;
        conf->no_ca = prev->no_ca;
    }

    if (conf->binding == NGX_CONF_UNSET_UINT) {
        conf->binding = CAPIF_CNF_OFF;
        conf->no_ca = 0;
    }
    ngx_conf_merge_uint_value(conf->invoker, prev->invoker,
                              CAPIF_X509_ID_OFF);

    return NGX_CONF_OK;
}


/* capif_cert_binding off | optional | strict [no_ca]; */
static char *
ngx_http_capif_cert_binding(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_capif_cert_loc_conf_t *lcf = conf;

    ngx_str_t  *value;

    if (lcf->binding != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        lcf->binding = CAPIF_CNF_OFF;

    } else if (ngx_strcmp(value[1].data, "optional") == 0) {
        lcf->binding = CAPIF_CNF_OPTIONAL;

    } else if (ngx_strcmp(value[1].data, "strict") == 0) {
        lcf->binding = CAPIF_CNF_STRICT;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"capif_cert_binding\", "
                           "it must be \"off\", \"optional\" or \"strict\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    lcf->no_ca = 0;

    if (cf->args->nelts == 3) {
        if (ngx_strcmp(value[2].data, "no_ca") != 0
            || lcf->binding == CAPIF_CNF_OFF)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" in "
                               "\"capif_cert_binding\", only \"optional\" "
                               "and \"strict\" take \"no_ca\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        lcf->no_ca = 1;
    }

    return NGX_CONF_OK;
}


static void
ngx_http_capif_cert_cleanup(void *data)
{
    ngx_http_capif_cert_main_conf_t  *mcf = data;

    capif_crl_free(mcf->crl);
    mcf->crl = NULL;

    if (mcf->issuer) {
        X509_free(mcf->issuer);
        mcf->issuer = NULL;
    }
}

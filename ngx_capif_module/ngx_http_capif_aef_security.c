/*
 * Copyright (C) ngx_capif_module authors
 *
 * The AEF side of TS 29.222 AEF_Security_API where capif_aef_security is
 * set: POST .../revoke-authorization from the CCF, the resource owner's
 * and the group owner's withdrawals (POST .../revoke-owner-authorization,
 * POST .../revoke-group-authorization, this module's own extension), the
 * CAPIF_Events_API notifications the CCF sends a subscribed AEF (POST
 * .../capif-events/notifications), the withdrawal of an invoker's lost
 * certificate (POST .../revoke-credential, this module's extension), and
 * GET for the operator's listing.  Only the CCF's client certificate (or,
 * when allowed, plain loopback) gets in.  POST .../check-authentication
 * (TS 29.222 clause 9.1.2A.2) is the invoker's: its own certificate
 * authenticates it.  The bodies are parsed in capif_aef_request.c.
 */

#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "ngx_http_capif.h"
#include "ngx_http_capif_cert.h"
#include "ngx_http_capif_revocation.h"
#include "ngx_http_capif_rev_store.h"
#include "ngx_http_capif_aef_security.h"
#include "ngx_http_capif_metrics.h"
#include "ngx_http_capif_invoker_status.h"
#include "capif_aef_request.h"


/* a POST's state: its parse, kept until the store's completion answers */
typedef struct {
    capif_aef_request_t          req;
} ngx_http_capif_aef_ctx_t;


static ngx_str_t  ngx_http_capif_aef_json = ngx_string("application/json");


static const char *
ngx_http_capif_aef_title(ngx_uint_t status)
{
    switch (status) {
    case NGX_HTTP_BAD_REQUEST:
        return "Bad Request";
    case NGX_HTTP_FORBIDDEN:
        return "Forbidden";
    case NGX_HTTP_NOT_FOUND:
        return "Not Found";
    case NGX_HTTP_NOT_ALLOWED:
        return "Method Not Allowed";
    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
        return "Payload Too Large";
    case NGX_HTTP_UNSUPPORTED_MEDIA_TYPE:
        return "Unsupported Media Type";
    case NGX_HTTP_SERVICE_UNAVAILABLE:
        return "Service Unavailable";
    case NGX_HTTP_INSUFFICIENT_STORAGE:
        return "Insufficient Storage";
    default:
        return "Internal Server Error";
    }
}


static ngx_int_t
ngx_http_capif_aef_problem(ngx_http_request_t *r, ngx_uint_t status,
    const char *cause, const char *detail)
{
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "capif aef-security: %ui %s: %s", status, cause, detail);

    ngx_http_capif_metrics_revocation(r, status);

    return ngx_http_capif_send_problem(r, status,
                                       ngx_http_capif_aef_title(status),
                                       cause, detail);
}


/* authentication of the pusher */

static ngx_uint_t
ngx_http_capif_aef_loopback(ngx_connection_t *c)
{
    struct sockaddr_in   *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6  *sin6;
#endif

    switch (c->sockaddr->sa_family) {

    case AF_INET:
        sin = (struct sockaddr_in *) c->sockaddr;
        return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) c->sockaddr;

        if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) {
            return 1;
        }

        return IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)
               && sin6->sin6_addr.s6_addr[12] == 127;
#endif

    default:
        return 0;
    }
}


static ngx_uint_t
ngx_http_capif_aef_authenticated(ngx_http_request_t *r,
    ngx_http_capif_rev_loc_conf_t *rlcf)
{
#if (NGX_HTTP_SSL)
    int             len;
    X509           *cert;
    u_char         *der, *p;

    if (r->connection->ssl) {
        if (rlcf->ccf_cert.len == 0) {
            return 0;
        }

#if (OPENSSL_VERSION_NUMBER >= 0x30000000L)
        cert = SSL_get1_peer_certificate(r->connection->ssl->connection);
#else
        cert = SSL_get_peer_certificate(r->connection->ssl->connection);
#endif
        if (cert == NULL) {
            return 0;
        }

        len = i2d_X509(cert, NULL);

        if (len <= 0 || (size_t) len != rlcf->ccf_cert.len) {
            X509_free(cert);
            return 0;
        }

        der = ngx_pnalloc(r->pool, len);
        if (der == NULL) {
            X509_free(cert);
            return 0;
        }

        p = der;
        len = i2d_X509(cert, &p);
        X509_free(cert);

        return (size_t) len == rlcf->ccf_cert.len
               && CRYPTO_memcmp(der, rlcf->ccf_cert.data, len) == 0;
    }
#endif

    return rlcf->allow_plain_loopback
           && ngx_http_capif_aef_loopback(r->connection);
}


/* JSON helpers */

static void
ngx_http_capif_aef_json_cleanup(void *data)
{
    json_decref((json_t *) data);
}


static ngx_int_t
ngx_http_capif_aef_own(ngx_http_request_t *r, json_t *json)
{
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        json_decref(json);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_capif_aef_json_cleanup;
    cln->data = json;

    return NGX_OK;
}


/* POST: the request body, parsed in the core, then stored */

static void
ngx_http_capif_aef_request_cleanup(void *data)
{
    capif_aef_request_free(data);
}


/* the request body as one buffer; NGX_DECLINED if over max */
static ngx_int_t
ngx_http_capif_aef_read_body(ngx_http_request_t *r, size_t max,
    ngx_str_t *body)
{
    u_char       *p;
    size_t        len, size;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    body->len = 0;
    body->data = (u_char *) "";

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        len += b->in_file ? (size_t) (b->file_last - b->file_pos)
                          : (size_t) (b->last - b->pos);
    }

    if (len > max) {
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;
    body->len = len;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            size = (size_t) (b->file_last - b->file_pos);

            if (size == 0) {
                continue;
            }

            n = ngx_read_file(b->file, p, size, b->file_pos);

            if (n != (ssize_t) size) {
                return NGX_ERROR;
            }

            p += size;
            continue;
        }

        /* an empty body ("Content-Length: 0", chunked "0") has no bytes */
        p = capif_aef_body_append(p, b->pos, (size_t) (b->last - b->pos));
    }

    return NGX_OK;
}


/* the answer to a POST once its records are stored (or not) */
static ngx_int_t
ngx_http_capif_aef_answer(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_str_t                   body;
    capif_rev_record_t         *rec;
    ngx_http_capif_aef_ctx_t   *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_capif_revocation_module);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    switch (rc) {

    case NGX_OK:
        break;

    case NGX_HTTP_INSUFFICIENT_STORAGE:
        return ngx_http_capif_aef_problem(r, rc, "INSUFFICIENT_STORAGE",
                                          "capif_zone is full: the "
                                          "revocation was not stored");

    case NGX_HTTP_SERVICE_UNAVAILABLE:
        return ngx_http_capif_aef_problem(r, rc, "JOURNAL_UNAVAILABLE",
                                          "the revocation could not be "
                                          "made durable: retry");

    default:
        return ngx_http_capif_aef_problem(r,
                                          NGX_HTTP_INTERNAL_SERVER_ERROR,
                                          "INTERNAL_ERROR",
                                          "the revocation was not stored");
    }

    if (ctx->req.nrecs) {
        rec = ctx->req.recs;

        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "capif aef-security: %uz revocation entries stored "
                      "(%s, cause \"%*s\")", ctx->req.nrecs,
                      capif_rev_type_name(rec[0].type), rec[0].cause.len,
                      rec[0].cause.data);
    }

    ngx_http_capif_metrics_revocation(r, NGX_HTTP_OK);

    if (ctx->req.no_content) {
        /* a notification's acknowledgement (TS 29.222 CAPIF_Events_API) */
        r->headers_out.status = NGX_HTTP_NO_CONTENT;
        r->headers_out.content_length_n = 0;
        r->header_only = 1;

        return ngx_http_send_header(r);
    }

    /* RevokeAuthorizationRsp: the features both sides support */
    body.data = ngx_pnalloc(r->pool, sizeof("{\"supportedFeatures\":\"\"}"));
    if (body.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.len = ngx_sprintf(body.data, "{\"supportedFeatures\":\"%s\"}",
                           ctx->req.features)
               - body.data;

    return ngx_http_capif_send_body(r, NGX_HTTP_OK, &ngx_http_capif_aef_json,
                                    &body);
}


/* the store's completion when it finished off the event loop */
static void
ngx_http_capif_aef_stored(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_http_finalize_request(r, ngx_http_capif_aef_answer(r, rc));
}


/*
 * check-authentication once the body is read: the certificate must name
 * apiInvokerId.  200 CheckAuthenticationRsp, or 403 with the reason.
 */
static ngx_int_t
ngx_http_capif_aef_check_auth(ngx_http_request_t *r,
    ngx_http_capif_aef_ctx_t *ctx)
{
    ngx_int_t      rc;
    ngx_str_t      body;
    capif_error_t  err;

    rc = ngx_http_capif_cert_authenticate(r, ctx->req.invoker.data,
                                          ctx->req.invoker.len, &err);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_capif_aef_problem(r, NGX_HTTP_FORBIDDEN, err.cause,
                                          err.detail);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "capif aef-security: check-authentication of invoker "
                  "\"%*s\": authenticated by its certificate",
                  ctx->req.invoker.len, ctx->req.invoker.data);

    body.data = ngx_pnalloc(r->pool, sizeof("{\"supportedFeatures\":\"\"}"));
    if (body.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.len = ngx_sprintf(body.data, "{\"supportedFeatures\":\"%s\"}",
                           ctx->req.features)
               - body.data;

    return ngx_http_capif_send_body(r, NGX_HTTP_OK, &ngx_http_capif_aef_json,
                                    &body);
}


static ngx_int_t
ngx_http_capif_aef_post(ngx_http_request_t *r)
{
    ngx_int_t                        rc;
    capif_aef_op_t                   op;
    ngx_str_t                        body;
    capif_aef_conf_t                 conf;
    ngx_pool_cleanup_t              *cln;
    ngx_http_capif_aef_ctx_t        *ctx;
    ngx_http_capif_rev_loc_conf_t   *rlcf;
    ngx_http_capif_rev_main_conf_t  *rmcf;

    rlcf = ngx_http_get_module_loc_conf(r, ngx_http_capif_revocation_module);
    rmcf = ngx_http_get_module_main_conf(r,
                                         ngx_http_capif_revocation_module);

    rc = ngx_http_capif_aef_read_body(r, rlcf->body_max, &body);

    if (rc == NGX_DECLINED) {
        return ngx_http_capif_aef_problem(r,
                                          NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                          "BODY_TOO_LARGE",
                                          "the body exceeds "
                                          "capif_admin_body_max");
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_capif_aef_ctx_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (ctx == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_capif_revocation_module);

    conf.now = ngx_time();
    conf.max_lifetime = rmcf->max_lifetime;
    conf.slack = NGX_HTTP_CAPIF_REV_SLACK;
    conf.credential_lifetime = ngx_http_capif_cert_max_lifetime(r);

    op = capif_aef_op(r->uri.data, r->uri.len);

    rc = capif_aef_request_parse(&ctx->req, op, body.data, body.len, &conf);

    /* the parse's JSON and copies live as long as the request */
    cln->handler = ngx_http_capif_aef_request_cleanup;
    cln->data = &ctx->req;

    if (rc != 0) {
        return ngx_http_capif_aef_problem(r, ctx->req.status,
                                          ctx->req.cause, ctx->req.detail);
    }

    if (op == CAPIF_AEF_CHECK_AUTH) {
        return ngx_http_capif_aef_check_auth(r, ctx);
    }

    if (ctx->req.unknown_cause) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "capif aef-security: cause \"%*s\" is not one "
                      "TS 29.222 defines: stored as sent",
                      ctx->req.recs[0].cause.len,
                      ctx->req.recs[0].cause.data);
    }

    if (ctx->req.warn) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "capif aef-security: %s", ctx->req.warn);
    }

    if (ctx->req.unnamed) {
        /* capif_invoker_status asks the CCF again about every invoker */
        ngx_http_capif_invoker_status_expire_all((ngx_cycle_t *) ngx_cycle);
    }

    if (ctx->req.nrecs == 0) {
        if (ctx->req.event && ctx->req.warn == NULL) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "capif aef-security: CAPIF event \"%s\" "
                          "acknowledged and ignored", ctx->req.event);
        }

        return ngx_http_capif_aef_answer(r, NGX_OK);
    }

    rc = ngx_http_capif_rev_store(r, ctx->req.recs, ctx->req.nrecs,
                                  ngx_http_capif_aef_stored);

    if (rc == NGX_AGAIN) {
        /* the store holds a reference and answers through _stored() */
        return NGX_DONE;
    }

    return ngx_http_capif_aef_answer(r, rc);
}


static void
ngx_http_capif_aef_body_handler(ngx_http_request_t *r)
{
    ngx_http_finalize_request(r, ngx_http_capif_aef_post(r));
}


/* GET: the listing */

/*
 * A stored field as a JSON string.  Bytes that are not UTF-8 (a journal
 * written by hand or by an older version) are shown as U+FFFD: the
 * listing never fails on a stored value.
 */
static ngx_int_t
ngx_http_capif_aef_put(ngx_http_request_t *r, json_t *obj, const char *name,
    const capif_rev_str_t *s)
{
    u_char  *fixed;
    size_t   len;
    json_t  *v;

    if (capif_rev_utf8_valid(s->data, s->len)) {
        v = json_stringn((const char *) s->data, s->len);

    } else {
        fixed = ngx_pnalloc(r->pool, 3 * s->len);
        if (fixed == NULL) {
            return NGX_ERROR;
        }

        len = capif_rev_utf8_repair(s->data, s->len, fixed);
        v = json_stringn((const char *) fixed, len);
    }

    if (v == NULL) {
        return NGX_ERROR;
    }

    return json_object_set_new(obj, name, v) == 0 ? NGX_OK : NGX_ERROR;
}


static json_t *
ngx_http_capif_aef_entry(ngx_http_request_t *r, const capif_rev_record_t *rec)
{
    ngx_int_t  rc;
    json_t    *o;

    o = json_object();
    if (o == NULL) {
        return NULL;
    }

    rc = NGX_OK;

    switch (rec->type) {

    case CAPIF_REV_INVOKER:
        rc = ngx_http_capif_aef_put(r, o, "apiInvokerId", &rec->a);
        if (rc == NGX_OK && rec->b.len) {
            rc = ngx_http_capif_aef_put(r, o, "aefId", &rec->b);
        }
        if (rc == NGX_OK) {
            rc = ngx_http_capif_aef_put(r, o, "apiId", &rec->c);
        }
        break;

    case CAPIF_REV_TOKEN:
        rc = ngx_http_capif_aef_put(r, o,
                                    (rec->a.len == 3) ? "jti" : "sha256",
                                    &rec->b);
        break;

    case CAPIF_REV_OWNER:
        rc = ngx_http_capif_aef_put(r, o, "apiInvokerId", &rec->a);
        if (rc == NGX_OK) {
            rc = ngx_http_capif_aef_put(r, o, "resOwnerId", &rec->b);
        }
        if (rc == NGX_OK && rec->c.len) {
            rc = ngx_http_capif_aef_put(r, o, "purpose", &rec->c);
        }
        break;

    case CAPIF_REV_CERT:
        if (rec->c.len == 0) {
            rc = ngx_http_capif_aef_put(r, o, "certSha256", &rec->b);
            break;
        }

        rc = ngx_http_capif_aef_put(r, o, "serialNumber", &rec->b);
        if (rc == NGX_OK) {
            rc = ngx_http_capif_aef_put(r, o, "issuer", &rec->c);
        }
        break;

    case CAPIF_REV_INVOKER_ALL:
        rc = ngx_http_capif_aef_put(r, o, "apiInvokerId", &rec->a);
        break;

    default:
        rc = ngx_http_capif_aef_put(r, o, "groupId", &rec->a);
        if (rc == NGX_OK && rec->b.len) {
            rc = ngx_http_capif_aef_put(r, o, "apiInvokerId", &rec->b);
        }
        break;
    }

    if (rc == NGX_OK) {
        rc = ngx_http_capif_aef_put(r, o, "cause", &rec->cause);
    }

    if (rc != NGX_OK
        || json_object_set_new(o, "type",
                               json_string(capif_rev_type_name(rec->type)))
        || json_object_set_new(o, "revokedAt",
                               json_integer(rec->revoked_at))
        || json_object_set_new(o, "expiresAt", json_integer(rec->expires)))
    {
        json_decref(o);
        return NULL;
    }

    return o;
}


static ngx_int_t
ngx_http_capif_aef_list(ngx_http_request_t *r)
{
    char                *dump;
    json_t              *root, *list, *o;
    ngx_str_t            body;
    ngx_uint_t           i;
    ngx_array_t         *entries;
    capif_rev_record_t  *rec;

    if (ngx_http_capif_rev_list(r, &entries) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    root = json_object();
    if (root == NULL || ngx_http_capif_aef_own(r, root) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    list = json_array();
    if (list == NULL || json_object_set_new(root, "revocations", list)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rec = entries->elts;

    for (i = 0; i < entries->nelts; i++) {
        o = ngx_http_capif_aef_entry(r, &rec[i]);

        if (o == NULL || json_array_append_new(list, o)) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (json_object_set_new(root, "count",
                            json_integer((json_int_t) entries->nelts)))
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    dump = json_dumps(root, JSON_COMPACT);
    if (dump == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.len = ngx_strlen(dump);
    body.data = ngx_pnalloc(r->pool, body.len);

    if (body.data == NULL) {
        free(dump);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(body.data, dump, body.len);
    free(dump);

    return ngx_http_capif_send_body(r, NGX_HTTP_OK, &ngx_http_capif_aef_json,
                                    &body);
}


/* 405 with the methods this API has (RFC 9110 requires Allow) */
static ngx_int_t
ngx_http_capif_aef_not_allowed(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Allow");
    ngx_str_set(&h->value, "GET, HEAD, POST");

    return ngx_http_capif_aef_problem(r, NGX_HTTP_NOT_ALLOWED,
                                      "METHOD_NOT_ALLOWED",
                                      "use POST to revoke, GET to list");
}


ngx_int_t
ngx_http_capif_aef_security_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    capif_error_t                   err;
    capif_aef_op_t                  op;
    ngx_table_elt_t                *ct;
    ngx_http_capif_rev_loc_conf_t  *rlcf;

    rlcf = ngx_http_get_module_loc_conf(r, ngx_http_capif_revocation_module);

    op = (r->method & NGX_HTTP_POST) ? capif_aef_op(r->uri.data, r->uri.len)
                                     : CAPIF_AEF_UNKNOWN;

    if (op == CAPIF_AEF_CHECK_AUTH) {
        /* the invoker's own certificate, before the body is read */
        rc = ngx_http_capif_cert_authenticate(r, NULL, 0, &err);

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc == NGX_DECLINED) {
            return ngx_http_capif_aef_problem(r, NGX_HTTP_FORBIDDEN,
                                              err.cause, err.detail);
        }

    } else if (!ngx_http_capif_aef_authenticated(r, rlcf)) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "capif aef-security: refused a caller without the "
                      "CCF's client certificate");

        ngx_http_capif_metrics_revocation(r, NGX_HTTP_FORBIDDEN);

        return ngx_http_capif_send_problem(r, NGX_HTTP_FORBIDDEN,
                                           "Forbidden", "CCF_NOT_AUTHENTICATED",
                                           "only the CCF, authenticated by "
                                           "its client certificate, may "
                                           "call this API");
    }

    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        return ngx_http_capif_aef_list(r);
    }

    if (!(r->method & NGX_HTTP_POST)) {
        return ngx_http_capif_aef_not_allowed(r);
    }

    if (op == CAPIF_AEF_UNKNOWN) {
        return ngx_http_capif_aef_problem(r, NGX_HTTP_NOT_FOUND,
                                          "RESOURCE_NOT_FOUND",
                                          "no such AEF_Security_API "
                                          "operation");
    }

    ct = r->headers_in.content_type;

    if (ct == NULL || !capif_aef_media_json(ct->value.data, ct->value.len)) {
        return ngx_http_capif_aef_problem(r, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                          "UNSUPPORTED_MEDIA_TYPE",
                                          "the body must be "
                                          "application/json");
    }

    if (r->headers_in.content_length_n > (off_t) rlcf->body_max) {
        return ngx_http_capif_aef_problem(r,
                                          NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                          "BODY_TOO_LARGE",
                                          "the body exceeds "
                                          "capif_admin_body_max");
    }

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_capif_aef_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}

/*
 * Copyright (C) ngx_capif_module authors
 *
 * The AEF side of TS 29.222 AEF_Security_API where capif_aef_security is
 * set: POST .../revoke-authorization from the CCF, the resource owner's
 * and the group owner's withdrawals (POST .../revoke-owner-authorization,
 * POST .../revoke-group-authorization, this module's own extension), and
 * GET for the operator's listing.  Only the CCF's client certificate (or,
 * when allowed, plain loopback) gets in.
 */

#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "ngx_http_capif.h"
#include "ngx_http_capif_revocation.h"
#include "capif_gpsi.h"


/* at most this many apiIds in one RevokeAuthorizationReq */
#define NGX_HTTP_CAPIF_AEF_MAX_APIS  64


typedef enum {
    NGX_HTTP_CAPIF_AEF_UNKNOWN = 0,
    NGX_HTTP_CAPIF_AEF_REVOKE,
    NGX_HTTP_CAPIF_AEF_REVOKE_OWNER,
    NGX_HTTP_CAPIF_AEF_REVOKE_GROUP
} ngx_http_capif_aef_op_t;


/* a refusal of the body: status, cause and detail, all static */
typedef struct {
    ngx_uint_t                   status;
    const char                  *cause;
    const char                  *detail;
} ngx_http_capif_aef_err_t;


static ngx_str_t  ngx_http_capif_aef_json = ngx_string("application/json");


#define ngx_http_capif_aef_bad(e, c, d)                                    \
    ((e)->status = NGX_HTTP_BAD_REQUEST, (e)->cause = (c),                \
     (e)->detail = (d), NGX_ERROR)


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


/*
 * A string member: 1 found and valid, 0 absent, -1 present but not a
 * valid string (not a string, empty, too long, control characters).
 */
static int
ngx_http_capif_aef_string(json_t *obj, const char *name, capif_rev_str_t *s)
{
    json_t  *v;

    v = json_object_get(obj, name);
    if (v == NULL) {
        return 0;
    }

    if (!json_is_string(v)) {
        return -1;
    }

    s->data = (const u_char *) json_string_value(v);
    s->len = json_string_length(v);

    return capif_rev_field_ok(s->data, s->len, 0) ? 1 : -1;
}


static ngx_int_t
ngx_http_capif_aef_required(json_t *obj, const char *name,
    capif_rev_str_t *s, ngx_http_capif_aef_err_t *e, const char *missing,
    const char *bad)
{
    switch (ngx_http_capif_aef_string(obj, name, s)) {
    case 1:
        return NGX_OK;
    case 0:
        return ngx_http_capif_aef_bad(e, "MANDATORY_IE_MISSING", missing);
    default:
        return ngx_http_capif_aef_bad(e, "MANDATORY_IE_INCORRECT", bad);
    }
}


static ngx_int_t
ngx_http_capif_aef_cause(json_t *obj, capif_rev_cause_t *cause,
    ngx_http_capif_aef_err_t *e)
{
    capif_rev_str_t  s;

    if (ngx_http_capif_aef_required(obj, "cause", &s, e,
                                    "\"cause\" is missing",
                                    "\"cause\" is not a string")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (capif_rev_cause_parse((const char *) s.data, s.len, cause) != 0) {
        return ngx_http_capif_aef_bad(e, "MANDATORY_IE_INCORRECT",
                                      "\"cause\" is not a "
                                      "SecurityNotification cause");
    }

    return NGX_OK;
}


/* the envelope shared by every request: {revokeInfo, supportedFeatures} */
static json_t *
ngx_http_capif_aef_envelope(json_t *json, ngx_http_capif_aef_err_t *e)
{
    size_t       i, len;
    json_t      *info, *sf;
    const char  *p;

    info = json_object_get(json, "revokeInfo");
    if (info == NULL) {
        (void) ngx_http_capif_aef_bad(e, "MANDATORY_IE_MISSING",
                                      "\"revokeInfo\" is missing");
        return NULL;
    }

    if (!json_is_object(info)) {
        (void) ngx_http_capif_aef_bad(e, "MANDATORY_IE_INCORRECT",
                                      "\"revokeInfo\" is not an object");
        return NULL;
    }

    sf = json_object_get(json, "supportedFeatures");
    if (sf) {
        if (!json_is_string(sf)) {
            (void) ngx_http_capif_aef_bad(e, "OPTIONAL_IE_INCORRECT",
                                          "\"supportedFeatures\" is not "
                                          "a string");
            return NULL;
        }

        p = json_string_value(sf);
        len = json_string_length(sf);

        for (i = 0; i < len; i++) {
            if (!((p[i] >= '0' && p[i] <= '9')
                  || ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f')))
            {
                (void) ngx_http_capif_aef_bad(e, "OPTIONAL_IE_INCORRECT",
                                              "\"supportedFeatures\" is "
                                              "not hexadecimal");
                return NULL;
            }
        }
    }

    return info;
}


static ngx_int_t
ngx_http_capif_aef_token_record(ngx_http_request_t *r, capif_rev_str_t *tok,
    capif_rev_record_t *rec, ngx_http_capif_aef_err_t *e)
{
    u_char          *scratch, *hex, *jti;
    json_t          *v;
    int64_t          exp;
    capif_jws_t      jws;
    capif_error_t    err;

    if (tok->len > CAPIF_TOKEN_MAX_LEN) {
        return ngx_http_capif_aef_bad(e, "OPTIONAL_IE_INCORRECT",
                                      "\"access_token\" is too long");
    }

    scratch = ngx_pnalloc(r->pool, capif_jws_scratch_size(tok->len));
    hex = ngx_pnalloc(r->pool, 65);
    if (scratch == NULL || hex == NULL) {
        e->status = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_ERROR;
    }

    /* no signature check: the CCF names a token, it does not present it */
    if (capif_jws_parse(&jws, tok->data, tok->len, scratch, &err) != 0) {
        return ngx_http_capif_aef_bad(e, "OPTIONAL_IE_INCORRECT",
                                      "\"access_token\" is not a compact "
                                      "JWS");
    }

    if (capif_jws_parse_payload(&jws, &err) != 0) {
        capif_jws_free(&jws);
        return ngx_http_capif_aef_bad(e, "OPTIONAL_IE_INCORRECT",
                                      "\"access_token\" has no valid "
                                      "claim set");
    }

    exp = 0;
    v = json_object_get(jws.payload, "exp");

    if (json_is_integer(v)) {
        exp = json_integer_value(v);

    } else if (json_is_real(v) && json_real_value(v) > 0
               && json_real_value(v) < 1e15)
    {
        exp = (int64_t) json_real_value(v);
    }

    rec->type = CAPIF_REV_TOKEN;
    rec->expires = exp;   /* the caller turns this into the entry's expiry */

    /* the same key the check derives: jti, else the signed part's digest */
    v = json_object_get(jws.payload, "jti");

    if (json_is_string(v) && json_string_length(v) > 0
        && json_string_length(v) <= CAPIF_REV_FIELD_MAX)
    {
        jti = ngx_pnalloc(r->pool, json_string_length(v));
        if (jti == NULL) {
            capif_jws_free(&jws);
            e->status = NGX_HTTP_INTERNAL_SERVER_ERROR;
            return NGX_ERROR;
        }

        ngx_memcpy(jti, json_string_value(v), json_string_length(v));

        rec->a.data = (const u_char *) "jti";
        rec->a.len = 3;
        rec->b.data = jti;
        rec->b.len = json_string_length(v);

    } else {
        if (capif_rev_sha256_hex(jws.signing_input, jws.signing_input_len,
                                 (char *) hex)
            != 0)
        {
            capif_jws_free(&jws);
            e->status = NGX_HTTP_INTERNAL_SERVER_ERROR;
            return NGX_ERROR;
        }

        rec->a.data = (const u_char *) "sha256";
        rec->a.len = 6;
        rec->b.data = hex;
        rec->b.len = 64;
    }

    capif_jws_free(&jws);

    return NGX_OK;
}


/* RevokeAuthorizationReq (TS 29.222) */
static ngx_int_t
ngx_http_capif_aef_parse_revoke(ngx_http_request_t *r, json_t *info,
    ngx_array_t *recs, ngx_http_capif_aef_err_t *e)
{
    int                  rc;
    size_t               i, n;
    json_t              *ids, *v;
    capif_rev_str_t      invoker, aef, tok, api;
    capif_rev_cause_t    cause;
    capif_rev_record_t  *rec;

    if (ngx_http_capif_aef_required(info, "apiInvokerId", &invoker, e,
                                    "\"apiInvokerId\" is missing",
                                    "\"apiInvokerId\" is not a valid "
                                    "string")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    aef.data = (const u_char *) "";
    aef.len = 0;

    if (ngx_http_capif_aef_string(info, "aefId", &aef) < 0) {
        return ngx_http_capif_aef_bad(e, "OPTIONAL_IE_INCORRECT",
                                      "\"aefId\" is not a valid string");
    }

    ids = json_object_get(info, "apiIds");
    if (ids == NULL) {
        return ngx_http_capif_aef_bad(e, "MANDATORY_IE_MISSING",
                                      "\"apiIds\" is missing");
    }

    n = json_is_array(ids) ? json_array_size(ids) : 0;

    if (n == 0 || n > NGX_HTTP_CAPIF_AEF_MAX_APIS) {
        return ngx_http_capif_aef_bad(e, "MANDATORY_IE_INCORRECT",
                                      "\"apiIds\" is not an array of 1 to "
                                      "64 API ids");
    }

    for (i = 0; i < n; i++) {
        v = json_array_get(ids, i);

        if (!json_is_string(v)
            || !capif_rev_field_ok((const u_char *) json_string_value(v),
                                   json_string_length(v), 0))
        {
            return ngx_http_capif_aef_bad(e, "MANDATORY_IE_INCORRECT",
                                          "an \"apiIds\" item is not a "
                                          "valid string");
        }
    }

    if (ngx_http_capif_aef_cause(info, &cause, e) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = 0;
    v = json_object_get(info, "access_token");

    if (v) {
        if (!json_is_string(v) || json_string_length(v) == 0) {
            return ngx_http_capif_aef_bad(e, "OPTIONAL_IE_INCORRECT",
                                          "\"access_token\" is not a "
                                          "non-empty string");
        }

        tok.data = (const u_char *) json_string_value(v);
        tok.len = json_string_length(v);
        rc = 1;
    }

    if (rc == 1) {
        /* only this token */
        rec = ngx_array_push(recs);
        if (rec == NULL) {
            e->status = NGX_HTTP_INTERNAL_SERVER_ERROR;
            return NGX_ERROR;
        }

        ngx_memzero(rec, sizeof(capif_rev_record_t));
        rec->cause = cause;

        return ngx_http_capif_aef_token_record(r, &tok, rec, e);
    }

    /* every token of this invoker for these APIs */
    for (i = 0; i < n; i++) {
        v = json_array_get(ids, i);
        api.data = (const u_char *) json_string_value(v);
        api.len = json_string_length(v);

        rec = ngx_array_push(recs);
        if (rec == NULL) {
            e->status = NGX_HTTP_INTERNAL_SERVER_ERROR;
            return NGX_ERROR;
        }

        ngx_memzero(rec, sizeof(capif_rev_record_t));
        rec->type = CAPIF_REV_INVOKER;
        rec->cause = cause;
        rec->a = invoker;
        rec->b = aef;
        rec->c = api;
    }

    return NGX_OK;
}


/*
 * Resource owner withdrawal (this module's extension):
 * {"revokeInfo": {"apiInvokerId", "resOwnerId", "purpose"?, "cause"}}
 */
static ngx_int_t
ngx_http_capif_aef_parse_owner(ngx_http_request_t *r, json_t *info,
    ngx_array_t *recs, ngx_http_capif_aef_err_t *e)
{
    json_t              *v;
    capif_rev_str_t      invoker, owner, purpose;
    capif_rev_cause_t    cause;
    capif_rev_record_t  *rec;

    if (ngx_http_capif_aef_required(info, "apiInvokerId", &invoker, e,
                                    "\"apiInvokerId\" is missing",
                                    "\"apiInvokerId\" is not a valid "
                                    "string")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* a GPSI string (Rel-18), or {"gpsi": ...} (Rel-19) */
    v = json_object_get(info, "resOwnerId");
    if (json_is_object(v)) {
        v = json_object_get(v, "gpsi");
    }

    if (json_object_get(info, "resOwnerId") == NULL) {
        return ngx_http_capif_aef_bad(e, "MANDATORY_IE_MISSING",
                                      "\"resOwnerId\" is missing");
    }

    if (!json_is_string(v)
        || !capif_gpsi_valid((const u_char *) json_string_value(v),
                             json_string_length(v)))
    {
        return ngx_http_capif_aef_bad(e, "MANDATORY_IE_INCORRECT",
                                      "\"resOwnerId\" is not a GPSI");
    }

    owner.data = (const u_char *) json_string_value(v);
    owner.len = json_string_length(v);

    purpose.data = (const u_char *) "";
    purpose.len = 0;

    if (ngx_http_capif_aef_string(info, "purpose", &purpose) < 0) {
        return ngx_http_capif_aef_bad(e, "OPTIONAL_IE_INCORRECT",
                                      "\"purpose\" is not a valid string");
    }

    if (ngx_http_capif_aef_cause(info, &cause, e) != NGX_OK) {
        return NGX_ERROR;
    }

    rec = ngx_array_push(recs);
    if (rec == NULL) {
        e->status = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_ERROR;
    }

    ngx_memzero(rec, sizeof(capif_rev_record_t));
    rec->type = CAPIF_REV_OWNER;
    rec->cause = cause;
    rec->a = invoker;
    rec->b = owner;
    rec->c = purpose;

    return NGX_OK;
}


/*
 * Group grant withdrawal (this module's extension):
 * {"revokeInfo": {"groupId", "apiInvokerId"?, "cause"}}
 */
static ngx_int_t
ngx_http_capif_aef_parse_group(ngx_http_request_t *r, json_t *info,
    ngx_array_t *recs, ngx_http_capif_aef_err_t *e)
{
    json_t              *v;
    capif_rev_str_t      group, invoker;
    capif_rev_cause_t    cause;
    capif_rev_record_t  *rec;

    v = json_object_get(info, "groupId");
    if (v == NULL) {
        return ngx_http_capif_aef_bad(e, "MANDATORY_IE_MISSING",
                                      "\"groupId\" is missing");
    }

    if (!json_is_string(v)
        || !capif_extgroupid_valid((const u_char *) json_string_value(v),
                                   json_string_length(v)))
    {
        return ngx_http_capif_aef_bad(e, "MANDATORY_IE_INCORRECT",
                                      "\"groupId\" is not an External "
                                      "Group ID");
    }

    group.data = (const u_char *) json_string_value(v);
    group.len = json_string_length(v);

    invoker.data = (const u_char *) "";
    invoker.len = 0;

    if (ngx_http_capif_aef_string(info, "apiInvokerId", &invoker) < 0) {
        return ngx_http_capif_aef_bad(e, "OPTIONAL_IE_INCORRECT",
                                      "\"apiInvokerId\" is not a valid "
                                      "string");
    }

    if (ngx_http_capif_aef_cause(info, &cause, e) != NGX_OK) {
        return NGX_ERROR;
    }

    rec = ngx_array_push(recs);
    if (rec == NULL) {
        e->status = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_ERROR;
    }

    ngx_memzero(rec, sizeof(capif_rev_record_t));
    rec->type = CAPIF_REV_GROUP;
    rec->cause = cause;
    rec->a = group;
    rec->b = invoker;

    return NGX_OK;
}


static ngx_http_capif_aef_op_t
ngx_http_capif_aef_op(ngx_http_request_t *r)
{
    ngx_uint_t  i;

    static struct {
        ngx_str_t                 suffix;
        ngx_http_capif_aef_op_t   op;
    } ops[] = {
        { ngx_string("/revoke-authorization"), NGX_HTTP_CAPIF_AEF_REVOKE },
        { ngx_string("/revoke-owner-authorization"),
          NGX_HTTP_CAPIF_AEF_REVOKE_OWNER },
        { ngx_string("/revoke-group-authorization"),
          NGX_HTTP_CAPIF_AEF_REVOKE_GROUP }
    };

    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (r->uri.len >= ops[i].suffix.len
            && ngx_strncmp(r->uri.data + r->uri.len - ops[i].suffix.len,
                           ops[i].suffix.data, ops[i].suffix.len)
               == 0)
        {
            return ops[i].op;
        }
    }

    return NGX_HTTP_CAPIF_AEF_UNKNOWN;
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
            n = ngx_read_file(b->file, p, size, b->file_pos);

            if (n != (ssize_t) size) {
                return NGX_ERROR;
            }

            p += size;
            continue;
        }

        /* an empty buffer may have no memory: no memcpy from NULL */
        if (b->last != b->pos) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_capif_aef_post(ngx_http_request_t *r)
{
    int64_t                         now;
    json_t                         *json, *info;
    ngx_int_t                       rc;
    ngx_str_t                       body;
    ngx_uint_t                      i;
    ngx_array_t                    *recs;
    capif_rev_record_t             *rec;
    ngx_http_capif_aef_op_t         op;
    ngx_http_capif_aef_err_t        e;
    ngx_http_capif_rev_loc_conf_t  *rlcf;

    rlcf = ngx_http_get_module_loc_conf(r, ngx_http_capif_revocation_module);

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

    json = capif_json_object(body.data, body.len);
    if (json == NULL) {
        return ngx_http_capif_aef_problem(r, NGX_HTTP_BAD_REQUEST,
                                          "INVALID_MSG_FORMAT",
                                          "the body is not a JSON object");
    }

    if (ngx_http_capif_aef_own(r, json) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    e.status = NGX_HTTP_INTERNAL_SERVER_ERROR;
    e.cause = "INTERNAL_ERROR";
    e.detail = "out of memory";

    recs = ngx_array_create(r->pool, 4, sizeof(capif_rev_record_t));
    if (recs == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    info = ngx_http_capif_aef_envelope(json, &e);

    if (info == NULL) {
        rc = NGX_ERROR;

    } else {
        op = ngx_http_capif_aef_op(r);

        switch (op) {
        case NGX_HTTP_CAPIF_AEF_REVOKE:
            rc = ngx_http_capif_aef_parse_revoke(r, info, recs, &e);
            break;
        case NGX_HTTP_CAPIF_AEF_REVOKE_OWNER:
            rc = ngx_http_capif_aef_parse_owner(r, info, recs, &e);
            break;
        default:
            rc = ngx_http_capif_aef_parse_group(r, info, recs, &e);
            break;
        }
    }

    if (rc != NGX_OK) {
        return ngx_http_capif_aef_problem(r, e.status, e.cause, e.detail);
    }

    now = ngx_time();
    rec = recs->elts;

    for (i = 0; i < recs->nelts; i++) {
        rec[i].revoked_at = now;
        rec[i].expires = ngx_http_capif_rev_expiry(r, now,
                                                   rec[i].type
                                                   == CAPIF_REV_TOKEN
                                                   ? rec[i].expires : 0);

        if (!capif_rev_record_valid(&rec[i])) {
            return ngx_http_capif_aef_problem(r, NGX_HTTP_BAD_REQUEST,
                                              "MANDATORY_IE_INCORRECT",
                                              "the revocation has an "
                                              "invalid field");
        }
    }

    rc = ngx_http_capif_rev_store(r, rec, recs->nelts);

    switch (rc) {

    case NGX_OK:
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "capif aef-security: %ui revocation entries stored "
                      "(%s, cause %s)", recs->nelts,
                      capif_rev_type_name(rec[0].type),
                      capif_rev_cause_name(rec[0].cause));

        r->headers_out.status = NGX_HTTP_NO_CONTENT;
        r->headers_out.content_length_n = 0;
        r->header_only = 1;

        return ngx_http_send_header(r);

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
}


static void
ngx_http_capif_aef_body_handler(ngx_http_request_t *r)
{
    ngx_http_finalize_request(r, ngx_http_capif_aef_post(r));
}


/* GET: the listing */

static ngx_int_t
ngx_http_capif_aef_put(json_t *obj, const char *name,
    const capif_rev_str_t *s)
{
    json_t  *v;

    v = json_stringn((const char *) s->data, s->len);
    if (v == NULL) {
        return NGX_ERROR;
    }

    return json_object_set_new(obj, name, v) == 0 ? NGX_OK : NGX_ERROR;
}


static json_t *
ngx_http_capif_aef_entry(const capif_rev_record_t *rec)
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
        rc = ngx_http_capif_aef_put(o, "apiInvokerId", &rec->a);
        if (rc == NGX_OK && rec->b.len) {
            rc = ngx_http_capif_aef_put(o, "aefId", &rec->b);
        }
        if (rc == NGX_OK) {
            rc = ngx_http_capif_aef_put(o, "apiId", &rec->c);
        }
        break;

    case CAPIF_REV_TOKEN:
        rc = ngx_http_capif_aef_put(o, (rec->a.len == 3) ? "jti" : "sha256",
                                    &rec->b);
        break;

    case CAPIF_REV_OWNER:
        rc = ngx_http_capif_aef_put(o, "apiInvokerId", &rec->a);
        if (rc == NGX_OK) {
            rc = ngx_http_capif_aef_put(o, "resOwnerId", &rec->b);
        }
        if (rc == NGX_OK && rec->c.len) {
            rc = ngx_http_capif_aef_put(o, "purpose", &rec->c);
        }
        break;

    default:
        rc = ngx_http_capif_aef_put(o, "groupId", &rec->a);
        if (rc == NGX_OK && rec->b.len) {
            rc = ngx_http_capif_aef_put(o, "apiInvokerId", &rec->b);
        }
        break;
    }

    if (rc != NGX_OK
        || json_object_set_new(o, "type",
                               json_string(capif_rev_type_name(rec->type)))
        || json_object_set_new(o, "cause",
                               json_string(capif_rev_cause_name(rec->cause)))
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
        o = ngx_http_capif_aef_entry(&rec[i]);

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


ngx_int_t
ngx_http_capif_aef_security_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_http_capif_rev_loc_conf_t  *rlcf;

    rlcf = ngx_http_get_module_loc_conf(r, ngx_http_capif_revocation_module);

    if (!ngx_http_capif_aef_authenticated(r, rlcf)) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "capif aef-security: refused a caller without the "
                      "CCF's client certificate");

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
        return ngx_http_capif_aef_problem(r, NGX_HTTP_NOT_ALLOWED,
                                          "METHOD_NOT_ALLOWED",
                                          "use POST to revoke, GET to list");
    }

    if (ngx_http_capif_aef_op(r) == NGX_HTTP_CAPIF_AEF_UNKNOWN) {
        return ngx_http_capif_aef_problem(r, NGX_HTTP_NOT_FOUND,
                                          "RESOURCE_NOT_FOUND",
                                          "no such AEF_Security_API "
                                          "operation");
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

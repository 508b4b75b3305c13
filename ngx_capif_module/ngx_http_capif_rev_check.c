/*
 * Copyright (C) ngx_capif_module authors
 *
 * The revocation check on the request path, once a token is verified:
 * capif_token_max_lifetime, then the token's probes (capif_revocation.c
 * makes them and says which entry refuses what) looked up in the zone.
 * Also the probes of a client certificate, for revoke-credential.
 */

#include <openssl/x509.h>

#include "ngx_http_capif.h"
#include "ngx_http_capif_rev_check.h"
#include "ngx_http_capif_rev_zone.h"
#include "ngx_http_capif_rev_tree.h"
#include "ngx_http_capif_revocation.h"
#include "capif_b64url.h"
#include "capif_cnf.h"
#include "capif_credential.h"


static void
ngx_http_capif_rev_str(capif_rev_str_t *dst, const u_char *data, size_t len)
{
    dst->data = data;
    dst->len = len;
}


/*
 * Looks the probes up; t is the token (NULL for a connection's
 * certificate, whose probes refuse whatever the token).  1 if an entry
 * refuses.
 */
static ngx_uint_t
ngx_http_capif_rev_match(ngx_http_capif_rev_zone_t *zone,
    capif_rev_probe_t *probes, int n, const capif_rev_token_t *t,
    int64_t now)
{
    int                         i;
    uint32_t                    hash[CAPIF_REV_PROBES_MAX];
    ngx_uint_t                  refused;
    ngx_http_capif_rev_node_t  *node;

    for (i = 0; i < n; i++) {
        hash[i] = ngx_http_capif_rev_hash(probes[i].key, probes[i].len);
    }

    refused = 0;

    ngx_shmtx_lock(&zone->shpool->mutex);

    for (i = 0; i < n; i++) {
        if (zone->sh->ntype[probes[i].key[0]] == 0
            || !ngx_http_capif_rev_bloom_test(zone->sh, hash[i]))
        {
            continue;
        }

        node = ngx_http_capif_rev_lookup(zone->sh, probes[i].key,
                                         probes[i].len, hash[i]);

        if (node && node->expires > now
            && (t == NULL || capif_rev_refuses(&probes[i], node->revoked_at,
                                               t)))
        {
            refused = 1;
            break;
        }
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return refused;
}


ngx_uint_t
ngx_http_capif_rev_has_certs(ngx_http_request_t *r)
{
    ngx_http_capif_rev_zone_t       *zone;
    ngx_http_capif_rev_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_capif_revocation_module);

    if (rmcf == NULL || rmcf->shm_zone == NULL) {
        return 0;
    }

    zone = rmcf->shm_zone->data;

    /* read without the lock: a store is acknowledged after it is set */
    return zone->sh->ntype[CAPIF_REV_CERT] != 0;
}


ngx_int_t
ngx_http_capif_rev_cert_withdrawn(ngx_http_request_t *r, X509 *x,
    const u_char *x5t)
{
    int                              n;
    char                             serial_buf[CAPIF_CRED_SERIAL_MAX + 1];
    u_char                           issuer_buf[CAPIF_CRED_ISSUER_MAX];
    capif_rev_str_t                  thumb, serial, issuer;
    capif_rev_probe_t               *probes;
    ngx_http_capif_rev_zone_t       *zone;
    ngx_http_capif_rev_main_conf_t  *rmcf;

    if (!ngx_http_capif_rev_has_certs(r)) {
        return 0;
    }

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_capif_revocation_module);
    zone = rmcf->shm_zone->data;

    probes = ngx_palloc(r->pool, 2 * sizeof(capif_rev_probe_t));
    if (probes == NULL) {
        return NGX_ERROR;
    }

    ngx_http_capif_rev_str(&thumb, x5t, CAPIF_CNF_THUMB_B64_LEN);

    /* a certificate whose serial or issuer has no canonical form: none */
    serial.data = (u_char *) serial_buf;
    serial.len = capif_cred_serial_of(x, serial_buf);
    issuer.data = issuer_buf;
    issuer.len = serial.len ? capif_cred_issuer_of(x, issuer_buf) : 0;

    n = capif_rev_cert_probes(&thumb, &serial, &issuer, probes);

    return ngx_http_capif_rev_match(zone, probes, n, NULL, ngx_time());
}


ngx_int_t
ngx_http_capif_rev_check(ngx_http_request_t *r, ngx_http_capif_ctx_t *ctx,
    capif_error_t *err)
{
    int                              n, bound;
    int64_t                          now;
    u_char                           thumb[CAPIF_CNF_THUMB_LEN];
    u_char                           x5t[CAPIF_CNF_THUMB_B64_LEN];
    static capif_rev_probe_t         probes[CAPIF_REV_PROBES_MAX];
    capif_error_t                    cnf_err;
    capif_claims_t                  *claims;
    capif_rev_token_t                t;
    ngx_http_capif_rev_zone_t       *zone;
    ngx_http_capif_loc_conf_t       *clcf;
    ngx_http_capif_rev_loc_conf_t   *rlcf;
    ngx_http_capif_rev_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_capif_revocation_module);
    claims = &ctx->token.claims;
    now = ngx_time();

    if (!capif_rev_lifetime_ok(claims->exp, claims->iat, claims->has_iat,
                               now, rmcf->max_lifetime))
    {
        (void) capif_fail(err, CAPIF_INVALID_TOKEN,
                          "TOKEN_LIFETIME_EXCEEDED",
                          "token lifetime exceeds capif_token_max_lifetime");
        return NGX_DECLINED;
    }

    if (rmcf->shm_zone == NULL) {
        return NGX_OK;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_capif_module);
    rlcf = ngx_http_get_module_loc_conf(r, ngx_http_capif_revocation_module);

    ngx_memzero(&t, sizeof(capif_rev_token_t));

    ngx_http_capif_rev_str(&t.invoker_id, ctx->invoker_id.data,
                           ctx->invoker_id.len);
    ngx_http_capif_rev_str(&t.aef_id, clcf->aef_id.data, clcf->aef_id.len);
    ngx_http_capif_rev_str(&t.api_name, clcf->api_name.data,
                           clcf->api_name.len);
    ngx_http_capif_rev_str(&t.api_id, rlcf->api_id.data, rlcf->api_id.len);
    ngx_http_capif_rev_str(&t.resource_owner, ctx->resource_owner.data,
                           ctx->resource_owner.len);
    ngx_http_capif_rev_str(&t.group_id, ctx->group_id.data,
                           ctx->group_id.len);
    ngx_http_capif_rev_str(&t.purpose, ctx->purpose.data, ctx->purpose.len);

    if (claims->jti) {
        ngx_http_capif_rev_str(&t.jti, (const u_char *) claims->jti,
                               claims->jti_len);
    }

    t.signing_input = ctx->token.jws.signing_input;
    t.signing_input_len = ctx->token.jws.signing_input_len;
    t.iat = claims->iat;
    t.has_iat = claims->has_iat;
    t.leeway = clcf->leeway;

    zone = rmcf->shm_zone->data;

    /* no whole-token entry: spare the digest of the signed part */
    t.no_token_probe = (zone->sh->ntype[CAPIF_REV_TOKEN] == 0);

    /*
     * The certificate the token is bound to, when a withdrawn certificate
     * is listed; a malformed cnf is the binding check's to refuse.
     */
    if (zone->sh->ntype[CAPIF_REV_CERT]
        && capif_cnf_parse(ctx->token.jws.payload, &bound, thumb, &cnf_err)
           == 0
        && bound)
    {
        (void) capif_b64url_encode(thumb, CAPIF_CNF_THUMB_LEN, x5t);
        ngx_http_capif_rev_str(&t.cnf_x5t, x5t, CAPIF_CNF_THUMB_B64_LEN);
    }

    n = capif_rev_probes(&t, probes);

    if (ngx_http_capif_rev_match(zone, probes, n, &t, now)) {
        (void) capif_fail(err, CAPIF_INVALID_TOKEN, "TOKEN_REVOKED",
                          "the authorization behind this token has been "
                          "revoked");
        return NGX_DECLINED;
    }

    return NGX_OK;
}

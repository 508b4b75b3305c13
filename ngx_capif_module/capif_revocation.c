/*
 * Copyright (C) ngx_capif_module authors
 */

#include <string.h>
#include <openssl/evp.h>
#include "capif_credential.h"
#include "capif_revocation.h"


/* the values TS 29.222 knows; index = the version 1 code */
static const char  *capif_rev_causes[] = {
    NULL,
    "OVERLIMIT_USAGE",
    "UNEXPECTED_REASON",
    "AUTHORIZATION_ISSUE",
    "OTHER_REASON"
};

#define CAPIF_REV_NCAUSES                                                  \
    (sizeof(capif_rev_causes) / sizeof(capif_rev_causes[0]))


static const char  *capif_rev_types[] = {
    NULL, "invoker", "token", "owner", "group", "certificate", "invoker-all"
};


int
capif_rev_cause_known(const unsigned char *cause, size_t len)
{
    size_t  i;

    for (i = 1; i < CAPIF_REV_NCAUSES; i++) {
        if (strlen(capif_rev_causes[i]) == len
            && memcmp(capif_rev_causes[i], cause, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


const char *
capif_rev_cause_v1_name(unsigned code)
{
    if (code == 0 || code >= CAPIF_REV_NCAUSES) {
        return NULL;
    }

    return capif_rev_causes[code];
}


const char *
capif_rev_type_name(capif_rev_type_t type)
{
    if (type < CAPIF_REV_INVOKER || type > CAPIF_REV_TYPE_MAX) {
        return "unknown";
    }

    return capif_rev_types[type];
}


int
capif_rev_field_ok(const unsigned char *s, size_t len, int allow_empty)
{
    size_t  i;

    if (len > CAPIF_REV_FIELD_MAX || (len == 0 && !allow_empty)) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f) {
            return 0;
        }
    }

    return 1;
}


static int
capif_rev_is(const capif_rev_str_t *s, const char *lit)
{
    size_t  n;

    n = strlen(lit);

    return s->len == n && memcmp(s->data, lit, n) == 0;
}


int
capif_rev_record_valid(const capif_rev_record_t *r)
{
    if (!capif_rev_field_ok(r->cause.data, r->cause.len, 0)) {
        return 0;
    }

    switch (r->type) {

    case CAPIF_REV_INVOKER:
        return capif_rev_field_ok(r->a.data, r->a.len, 0)
               && capif_rev_field_ok(r->b.data, r->b.len, 1)
               && capif_rev_field_ok(r->c.data, r->c.len, 0);

    case CAPIF_REV_TOKEN:
        return (capif_rev_is(&r->a, "jti") || capif_rev_is(&r->a, "sha256"))
               && capif_rev_field_ok(r->b.data, r->b.len, 0)
               && r->c.len == 0;

    case CAPIF_REV_OWNER:
        return capif_rev_field_ok(r->a.data, r->a.len, 0)
               && capif_rev_field_ok(r->b.data, r->b.len, 0)
               && capif_rev_field_ok(r->c.data, r->c.len, 1);

    case CAPIF_REV_GROUP:
        return capif_rev_field_ok(r->a.data, r->a.len, 0)
               && capif_rev_field_ok(r->b.data, r->b.len, 1)
               && r->c.len == 0;

    case CAPIF_REV_CERT:
        if (capif_rev_is(&r->a, CAPIF_REV_CERT_X5T)) {
            return capif_cred_thumb_valid(r->b.data, r->b.len)
                   && r->c.len == 0;
        }

        return capif_rev_is(&r->a, CAPIF_REV_CERT_SERIAL)
               && capif_rev_field_ok(r->b.data, r->b.len, 0)
               && capif_rev_field_ok(r->c.data, r->c.len, 0);

    case CAPIF_REV_INVOKER_ALL:
        return capif_rev_field_ok(r->a.data, r->a.len, 0)
               && r->b.len == 0 && r->c.len == 0;

    default:
        return 0;
    }
}


static unsigned char *
capif_rev_put_str(unsigned char *p, const capif_rev_str_t *s)
{
    *p++ = (unsigned char) (s->len >> 8);
    *p++ = (unsigned char) s->len;

    if (s->len) {
        memcpy(p, s->data, s->len);
    }

    return p + s->len;
}


static unsigned char *
capif_rev_put_i64(unsigned char *p, long long v)
{
    int                 i;
    unsigned long long  u;

    u = (unsigned long long) v;

    for (i = 7; i >= 0; i--) {
        p[i] = (unsigned char) u;
        u >>= 8;
    }

    return p + 8;
}


static long long
capif_rev_get_i64(const unsigned char *p)
{
    int                 i;
    unsigned long long  u;

    u = 0;

    for (i = 0; i < 8; i++) {
        u = (u << 8) | p[i];
    }

    return (long long) u;
}


/* reads one length-prefixed string; returns the bytes used or 0 */
static size_t
capif_rev_get_str(capif_rev_str_t *s, const unsigned char *p, size_t left)
{
    size_t  n;

    if (left < 2) {
        return 0;
    }

    n = ((size_t) p[0] << 8) | p[1];

    if (n > CAPIF_REV_FIELD_MAX || n > left - 2) {
        return 0;
    }

    s->data = p + 2;
    s->len = n;

    return n + 2;
}


size_t
capif_rev_encode(const capif_rev_record_t *r, unsigned char *out,
    size_t size)
{
    size_t          need;
    unsigned char  *p;

    if (!capif_rev_record_valid(r)) {
        return 0;
    }

    need = CAPIF_REV_FIXED_LEN + 8 + r->a.len + r->b.len + r->c.len
           + r->cause.len;
    if (need > size) {
        return 0;
    }

    p = out;
    *p++ = CAPIF_REV_VERSION;
    *p++ = (unsigned char) r->type;
    *p++ = 0;
    *p++ = 0;
    p = capif_rev_put_i64(p, r->revoked_at);
    p = capif_rev_put_i64(p, r->expires);
    p = capif_rev_put_str(p, &r->a);
    p = capif_rev_put_str(p, &r->b);
    p = capif_rev_put_str(p, &r->c);
    p = capif_rev_put_str(p, &r->cause);

    return (size_t) (p - out);
}


/* the three fields, then the cause if want_cause; nothing may follow */
static int
capif_rev_get_fields(capif_rev_record_t *r, const unsigned char *p,
    size_t left, int want_cause)
{
    size_t  n;

    n = capif_rev_get_str(&r->a, p, left);
    if (n == 0) {
        return -1;
    }

    p += n;
    left -= n;

    n = capif_rev_get_str(&r->b, p, left);
    if (n == 0) {
        return -1;
    }

    p += n;
    left -= n;

    n = capif_rev_get_str(&r->c, p, left);
    if (n == 0) {
        return -1;
    }

    if (want_cause) {
        p += n;
        left -= n;

        n = capif_rev_get_str(&r->cause, p, left);
        if (n == 0) {
            return -1;
        }
    }

    return n == left ? 0 : -1;
}


int
capif_rev_decode(capif_rev_record_t *r, const unsigned char *buf,
    size_t len)
{
    const char  *name;

    memset(r, 0, sizeof(capif_rev_record_t));

    if (len < CAPIF_REV_FIXED_LEN || buf[3] != 0) {
        return -1;
    }

    switch (buf[0]) {

    case CAPIF_REV_VERSION_1:
        /* the cause was a code of the four values known then */
        name = capif_rev_cause_v1_name(buf[2]);
        if (name == NULL) {
            return -1;
        }

        r->cause.data = (const unsigned char *) name;
        r->cause.len = strlen(name);
        break;

    case CAPIF_REV_VERSION:
        if (buf[2] != 0) {
            return -1;
        }
        break;

    default:
        return -1;
    }

    r->type = (capif_rev_type_t) buf[1];
    r->revoked_at = capif_rev_get_i64(buf + 4);
    r->expires = capif_rev_get_i64(buf + 12);

    if (capif_rev_get_fields(r, buf + CAPIF_REV_FIXED_LEN,
                             len - CAPIF_REV_FIXED_LEN,
                             buf[0] == CAPIF_REV_VERSION)
        != 0)
    {
        return -1;
    }

    return capif_rev_record_valid(r) ? 0 : -1;
}


static size_t
capif_rev_key_raw(capif_rev_type_t type, const capif_rev_str_t *a,
    const capif_rev_str_t *b, const capif_rev_str_t *c, unsigned char *out,
    size_t size)
{
    unsigned char  *p;

    if (a->len > CAPIF_REV_FIELD_MAX || b->len > CAPIF_REV_FIELD_MAX
        || c->len > CAPIF_REV_FIELD_MAX
        || 7 + a->len + b->len + c->len > size)
    {
        return 0;
    }

    p = out;
    *p++ = (unsigned char) type;
    p = capif_rev_put_str(p, a);
    p = capif_rev_put_str(p, b);
    p = capif_rev_put_str(p, c);

    return (size_t) (p - out);
}


size_t
capif_rev_key(const capif_rev_record_t *r, unsigned char *out, size_t size)
{
    if (!capif_rev_record_valid(r)) {
        return 0;
    }

    return capif_rev_key_raw(r->type, &r->a, &r->b, &r->c, out, size);
}


int
capif_rev_key_decode(capif_rev_record_t *r, const unsigned char *key,
    size_t len)
{
    memset(r, 0, sizeof(capif_rev_record_t));

    if (len < 1 || key[0] < CAPIF_REV_INVOKER
        || key[0] > CAPIF_REV_TYPE_MAX)
    {
        return -1;
    }

    r->type = (capif_rev_type_t) key[0];

    return capif_rev_get_fields(r, key + 1, len - 1, 0);
}


static int
capif_rev_probe(capif_rev_probe_t *probe, capif_rev_type_t type,
    const capif_rev_str_t *a, const capif_rev_str_t *b,
    const capif_rev_str_t *c)
{
    probe->len = capif_rev_key_raw(type, a, b, c, probe->key,
                                   sizeof(probe->key));
    /* a token or a certificate: refused whatever the token's iat */
    probe->whole_token = (type == CAPIF_REV_TOKEN || type == CAPIF_REV_CERT);

    /* a field longer than any record's cannot match: no probe */
    return probe->len ? 1 : 0;
}


int
capif_rev_probes(const capif_rev_token_t *t, capif_rev_probe_t *probes)
{
    int               n;
    char              hex[65];
    capif_rev_str_t   kind, value, none;

    n = 0;
    none.data = (const unsigned char *) "";
    none.len = 0;

    /* the token itself, under the key a push that names it stores */
    if (!t->no_token_probe
        && capif_rev_token_key(t->jti.data, t->jti.len, t->signing_input,
                               t->signing_input_len, &kind, &value, hex)
           == 0)
    {
        n += capif_rev_probe(&probes[n], CAPIF_REV_TOKEN, &kind, &value,
                             &none);
    }

    /* the certificate the token is bound to (revoke-credential) */
    if (t->cnf_x5t.len) {
        kind.data = (const unsigned char *) CAPIF_REV_CERT_X5T;
        kind.len = sizeof(CAPIF_REV_CERT_X5T) - 1;
        n += capif_rev_probe(&probes[n], CAPIF_REV_CERT, &kind, &t->cnf_x5t,
                             &none);
    }

    /* every token of the invoker (its credential was withdrawn) */
    n += capif_rev_probe(&probes[n], CAPIF_REV_INVOKER_ALL, &t->invoker_id,
                         &none, &none);

    /* the invoker, at this AEF or at every AEF, by API name and id */
    n += capif_rev_probe(&probes[n], CAPIF_REV_INVOKER, &t->invoker_id,
                         &t->aef_id, &t->api_name);
    n += capif_rev_probe(&probes[n], CAPIF_REV_INVOKER, &t->invoker_id,
                         &none, &t->api_name);

    if (t->api_id.len
        && (t->api_id.len != t->api_name.len
            || memcmp(t->api_id.data, t->api_name.data, t->api_id.len) != 0))
    {
        n += capif_rev_probe(&probes[n], CAPIF_REV_INVOKER, &t->invoker_id,
                             &t->aef_id, &t->api_id);
        n += capif_rev_probe(&probes[n], CAPIF_REV_INVOKER, &t->invoker_id,
                             &none, &t->api_id);
    }

    /* the resource owner's withdrawal, for every purpose or this one */
    if (t->resource_owner.len) {
        n += capif_rev_probe(&probes[n], CAPIF_REV_OWNER, &t->invoker_id,
                             &t->resource_owner, &none);

        if (t->purpose.len) {
            n += capif_rev_probe(&probes[n], CAPIF_REV_OWNER,
                                 &t->invoker_id, &t->resource_owner,
                                 &t->purpose);
        }
    }

    /* the group grant, for everyone or this invoker */
    if (t->group_id.len) {
        n += capif_rev_probe(&probes[n], CAPIF_REV_GROUP, &t->group_id,
                             &none, &none);
        n += capif_rev_probe(&probes[n], CAPIF_REV_GROUP, &t->group_id,
                             &t->invoker_id, &none);
    }

    return n;
}


int
capif_rev_cert_probes(const capif_rev_str_t *x5t,
    const capif_rev_str_t *serial, const capif_rev_str_t *issuer,
    capif_rev_probe_t *probes)
{
    int              n;
    capif_rev_str_t  kind, none;

    n = 0;
    none.data = (const unsigned char *) "";
    none.len = 0;

    if (x5t->len) {
        kind.data = (const unsigned char *) CAPIF_REV_CERT_X5T;
        kind.len = sizeof(CAPIF_REV_CERT_X5T) - 1;
        n += capif_rev_probe(&probes[n], CAPIF_REV_CERT, &kind, x5t, &none);
    }

    if (serial->len && issuer->len) {
        kind.data = (const unsigned char *) CAPIF_REV_CERT_SERIAL;
        kind.len = sizeof(CAPIF_REV_CERT_SERIAL) - 1;
        n += capif_rev_probe(&probes[n], CAPIF_REV_CERT, &kind, serial,
                             issuer);
    }

    return n;
}


int
capif_rev_refuses(const capif_rev_probe_t *probe, long long revoked_at,
    const capif_rev_token_t *t)
{
    if (probe->whole_token || !t->has_iat) {
        return 1;
    }

    /*
     * Issued at or before the revocation; a later token re-authorizes.
     * The leeway (at most 30 s, checked by the directive) is the skew
     * allowed between the CCF's clock and ours.
     */
    return t->iat <= revoked_at + t->leeway;
}


int
capif_rev_lifetime_ok(long long exp, long long iat, int has_iat,
    long long now, long long max_lifetime)
{
    if (max_lifetime <= 0) {
        return 1;
    }

    if (has_iat) {
        /* claims are clamped, so exp - iat cannot overflow if ordered */
        if (exp <= iat) {
            return 1;
        }

        if (iat < 0 && exp > iat + (long long) 0x7fffffffffffffffLL) {
            return 0;
        }

        return exp - iat <= max_lifetime;
    }

    return exp <= now || exp - now <= max_lifetime;
}


int
capif_rev_sha256_hex(const unsigned char *data, size_t len, char out[65])
{
    unsigned int          i, n;
    unsigned char         md[EVP_MAX_MD_SIZE];
    static const char     hex[] = "0123456789abcdef";

    if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0xf];
    }

    out[64] = '\0';

    return 0;
}


int
capif_rev_token_key(const unsigned char *jti, size_t jti_len,
    const unsigned char *signing_input, size_t signing_input_len,
    capif_rev_str_t *kind, capif_rev_str_t *value, char hex[65])
{
    if (jti_len && capif_rev_field_ok(jti, jti_len, 0)) {
        kind->data = (const unsigned char *) "jti";
        kind->len = 3;
        value->data = jti;
        value->len = jti_len;
        return 0;
    }

    if (capif_rev_sha256_hex(signing_input, signing_input_len, hex) != 0) {
        return -1;
    }

    kind->data = (const unsigned char *) "sha256";
    kind->len = 6;
    value->data = (const unsigned char *) hex;
    value->len = 64;

    return 0;
}


/* the length of the well-formed sequence at s, 0 if there is none */
static size_t
capif_rev_utf8_seq(const unsigned char *s, size_t len)
{
    size_t         n, i;
    unsigned long  c, min;

    if (s[0] < 0x80) {
        return 1;
    }

    if ((s[0] & 0xe0) == 0xc0) {
        n = 2;
        c = s[0] & 0x1f;
        min = 0x80;

    } else if ((s[0] & 0xf0) == 0xe0) {
        n = 3;
        c = s[0] & 0x0f;
        min = 0x800;

    } else if ((s[0] & 0xf8) == 0xf0) {
        n = 4;
        c = s[0] & 0x07;
        min = 0x10000;

    } else {
        return 0;
    }

    if (n > len) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }

        c = (c << 6) | (s[i] & 0x3f);
    }

    /* overlong forms, surrogates and code points past U+10FFFF */
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
        return 0;
    }

    return n;
}


int
capif_rev_utf8_valid(const unsigned char *s, size_t len)
{
    size_t  i, n;

    for (i = 0; i < len; i += n) {
        n = capif_rev_utf8_seq(s + i, len - i);
        if (n == 0) {
            return 0;
        }
    }

    return 1;
}


size_t
capif_rev_utf8_repair(const unsigned char *s, size_t len,
    unsigned char *out)
{
    size_t          i, n;
    unsigned char  *p;

    p = out;

    for (i = 0; i < len; i += n) {
        n = capif_rev_utf8_seq(s + i, len - i);

        if (n == 0) {
            *p++ = 0xef;
            *p++ = 0xbf;
            *p++ = 0xbd;
            n = 1;
            continue;
        }

        memcpy(p, s + i, n);
        p += n;
    }

    return (size_t) (p - out);
}

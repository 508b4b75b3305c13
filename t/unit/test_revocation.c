/*
 * Copyright (C) ngx_capif_module authors
 *
 * Revocation records and matching rules.
 */

#include "capif_revocation.h"
#include "unit.h"


#define S(lit)  { (const unsigned char *) (lit), sizeof(lit) - 1 }


static capif_rev_record_t
rec(capif_rev_type_t type, capif_rev_str_t a, capif_rev_str_t b,
    capif_rev_str_t c)
{
    capif_rev_record_t  r;

    memset(&r, 0, sizeof(r));
    r.type = type;
    r.cause.data = (const unsigned char *) "AUTHORIZATION_ISSUE";
    r.cause.len = 19;
    r.revoked_at = 1000;
    r.expires = 5000;
    r.a = a;
    r.b = b;
    r.c = c;

    return r;
}


/* 1 if any probe of t equals the key of r and refuses t */
static int
refused(const capif_rev_record_t *r, const capif_rev_token_t *t)
{
    int                i, n;
    size_t             klen;
    unsigned char      key[CAPIF_REV_KEY_MAX];
    capif_rev_probe_t  probes[CAPIF_REV_PROBES_MAX];

    klen = capif_rev_key(r, key, sizeof(key));
    CHECK(klen > 0);

    n = capif_rev_probes(t, probes);
    CHECK(n > 0 && n <= CAPIF_REV_PROBES_MAX);

    for (i = 0; i < n; i++) {
        if (probes[i].len == klen && memcmp(probes[i].key, key, klen) == 0
            && capif_rev_refuses(&probes[i], r->revoked_at, t))
        {
            return 1;
        }
    }

    return 0;
}


static capif_rev_token_t
token(void)
{
    capif_rev_token_t  t;
    capif_rev_str_t    inv = S("INV1"), aef = S("aef1"),
                       api = S("3gpp-monitoring-event");

    memset(&t, 0, sizeof(t));
    t.invoker_id = inv;
    t.aef_id = aef;
    t.api_name = api;
    t.signing_input = (const unsigned char *) "eyJhbGciOiJSUzI1NiJ9.e30";
    t.signing_input_len = 24;
    t.iat = 900;
    t.has_iat = 1;

    return t;
}


int
main(void)
{
    size_t              len, klen;
    char                hex[65];
    unsigned char       buf[CAPIF_REV_RECORD_MAX], key[CAPIF_REV_KEY_MAX];
    capif_rev_token_t   t;
    capif_rev_record_t  r, d;
    capif_rev_str_t     none = S(""), inv = S("INV1"), inv2 = S("INV2"),
                        aef = S("aef1"), aef2 = S("aef2"),
                        api = S("3gpp-monitoring-event"), apiid = S("id42"),
                        owner = S("msisdn-491700000001"),
                        owner2 = S("msisdn-491700000002"),
                        purpose = S("marketing"), purpose2 = S("billing"),
                        group = S("extgroupid-g1@example.com"),
                        jti = S("jti-1"), kjti = S("jti"),
                        ksha = S("sha256");

    /* causes: the known ones; any other string is stored as sent */
    CHECK(capif_rev_cause_known((const unsigned char *) "OTHER_REASON",
                                12));
    CHECK(!capif_rev_cause_known((const unsigned char *) "OTHER_REASONX",
                                 13));
    CHECK(!capif_rev_cause_known((const unsigned char *) "other_reason",
                                 12));
    CHECK(strcmp(capif_rev_cause_v1_name(1), "OVERLIMIT_USAGE") == 0);
    CHECK(capif_rev_cause_v1_name(0) == NULL);
    CHECK(capif_rev_cause_v1_name(5) == NULL);

    /* encode / decode round trip (version 2: the cause as a string) */
    r = rec(CAPIF_REV_INVOKER, inv, aef, api);
    r.revoked_at = -5;
    r.expires = 0x7fffffffffffffffLL;
    len = capif_rev_encode(&r, buf, sizeof(buf));
    CHECK(len == CAPIF_REV_FIXED_LEN + 8 + 4 + 4 + 21 + 19);
    CHECK(buf[0] == 2);
    CHECK(capif_rev_decode(&d, buf, len) == 0);
    CHECK(d.type == CAPIF_REV_INVOKER && d.cause.len == 19
          && memcmp(d.cause.data, "AUTHORIZATION_ISSUE", 19) == 0);
    CHECK(d.revoked_at == -5 && d.expires == r.expires);
    CHECK(d.a.len == 4 && memcmp(d.a.data, "INV1", 4) == 0);
    CHECK(d.c.len == 21);

    /* every truncation and every extension is refused */
    for (klen = 0; klen < len; klen++) {
        CHECK(capif_rev_decode(&d, buf, klen) == -1);
    }
    buf[len] = 0;
    CHECK(capif_rev_decode(&d, buf, len + 1) == -1);
    buf[0] = 3;
    CHECK(capif_rev_decode(&d, buf, len) == -1);
    buf[0] = CAPIF_REV_VERSION;
    buf[2] = 1;
    CHECK(capif_rev_decode(&d, buf, len) == -1);
    buf[2] = 0;
    buf[1] = 9;
    CHECK(capif_rev_decode(&d, buf, len) == -1);
    buf[1] = CAPIF_REV_INVOKER;

    /* an unknown cause, sent by a newer CCF, round-trips as sent */
    r = rec(CAPIF_REV_INVOKER, inv, aef, api);
    r.cause.data = (const unsigned char *) "REMOVED_ENROLLED_APIS \"x\"";
    r.cause.len = 25;
    len = capif_rev_encode(&r, buf, sizeof(buf));
    CHECK(len > 0 && capif_rev_decode(&d, buf, len) == 0);
    CHECK(d.cause.len == 25 && memcmp(d.cause.data, r.cause.data, 25) == 0);

    /* a version 1 record (a journal written before) is still read */
    {
        static const unsigned char  v1[] = {
            1, CAPIF_REV_INVOKER, 3, 0,
            0, 0, 0, 0, 0, 0, 0x03, 0xe8,
            0, 0, 0, 0, 0, 0, 0x13, 0x88,
            0, 4, 'I', 'N', 'V', '1',
            0, 0,
            0, 4, 'a', 'p', 'i', '1'
        };

        CHECK(capif_rev_decode(&d, v1, sizeof(v1)) == 0);
        CHECK(d.type == CAPIF_REV_INVOKER && d.revoked_at == 1000
              && d.expires == 5000 && d.c.len == 4);
        CHECK(d.cause.len == 19
              && memcmp(d.cause.data, "AUTHORIZATION_ISSUE", 19) == 0);

        memcpy(buf, v1, sizeof(v1));
        buf[2] = 0;
        CHECK(capif_rev_decode(&d, buf, sizeof(v1)) == -1);
        buf[2] = 5;
        CHECK(capif_rev_decode(&d, buf, sizeof(v1)) == -1);
    }

    /* invalid records are not encoded */
    r = rec(CAPIF_REV_INVOKER, none, aef, api);
    CHECK(capif_rev_encode(&r, buf, sizeof(buf)) == 0);
    r = rec(CAPIF_REV_TOKEN, inv, jti, none);
    CHECK(capif_rev_encode(&r, buf, sizeof(buf)) == 0);
    r = rec(CAPIF_REV_INVOKER, inv, aef, api);
    r.cause = none;
    CHECK(capif_rev_encode(&r, buf, sizeof(buf)) == 0);
    r.cause.data = (const unsigned char *) "A\nB";
    r.cause.len = 3;
    CHECK(capif_rev_encode(&r, buf, sizeof(buf)) == 0);
    r = rec(CAPIF_REV_INVOKER, inv, aef, api);
    CHECK(capif_rev_encode(&r, buf, 10) == 0);
    CHECK(!capif_rev_field_ok((const unsigned char *) "a\nb", 3, 0));
    CHECK(capif_rev_field_ok((const unsigned char *) "", 0, 1));
    CHECK(!capif_rev_field_ok((const unsigned char *) "", 0, 0));

    /* key round trip; times and cause are not part of the key */
    r = rec(CAPIF_REV_OWNER, inv, owner, purpose);
    klen = capif_rev_key(&r, key, sizeof(key));
    CHECK(klen > 0 && capif_rev_key_decode(&d, key, klen) == 0);
    CHECK(d.type == CAPIF_REV_OWNER && d.c.len == 9);
    r.revoked_at = 7;
    CHECK(capif_rev_key(&r, buf, sizeof(buf)) == klen
          && memcmp(buf, key, klen) == 0);
    CHECK(capif_rev_key_decode(&d, key, klen - 1) == -1);

    /* invoker revocation: this AEF, every AEF, not another AEF */
    t = token();
    r = rec(CAPIF_REV_INVOKER, inv, aef, api);
    CHECK(refused(&r, &t));
    r = rec(CAPIF_REV_INVOKER, inv, none, api);
    CHECK(refused(&r, &t));
    r = rec(CAPIF_REV_INVOKER, inv, aef2, api);
    CHECK(!refused(&r, &t));
    r = rec(CAPIF_REV_INVOKER, inv2, aef, api);
    CHECK(!refused(&r, &t));
    r = rec(CAPIF_REV_INVOKER, inv, aef, apiid);
    CHECK(!refused(&r, &t));
    t.api_id = apiid;
    CHECK(refused(&r, &t));

    /* re-authorization: a later iat passes, same second is refused */
    t = token();
    r = rec(CAPIF_REV_INVOKER, inv, aef, api);
    t.iat = 1000;
    CHECK(refused(&r, &t));
    t.iat = 1001;
    CHECK(!refused(&r, &t));
    t.has_iat = 0;
    CHECK(refused(&r, &t));

    /* clock skew: with leeway L, iat up to the revocation + L is refused */
    t = token();
    t.leeway = 5;
    t.iat = 1005;
    CHECK(refused(&r, &t));
    t.iat = 1006;
    CHECK(!refused(&r, &t));

    /* single token by jti: any iat; other jti passes */
    t = token();
    t.jti = jti;
    t.iat = 5000;
    r = rec(CAPIF_REV_TOKEN, kjti, jti, none);
    CHECK(refused(&r, &t));
    t.jti = inv;
    CHECK(!refused(&r, &t));

    /* single token by digest of the signing input */
    t = token();
    CHECK(capif_rev_sha256_hex(t.signing_input, t.signing_input_len, hex)
          == 0);
    {
        capif_rev_str_t  h = { (const unsigned char *) hex, 64 };

        r = rec(CAPIF_REV_TOKEN, ksha, h, none);
        CHECK(refused(&r, &t));
        t.signing_input_len--;
        CHECK(!refused(&r, &t));
    }
    CHECK(capif_rev_sha256_hex((const unsigned char *) "abc", 3, hex) == 0);
    CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223"
                      "b00361a396177a9cb410ff61f20015ad") == 0);

    /*
     * The push and the request path key a token alike: a jti too long
     * for a record, or with a control byte, goes by the digest.
     */
    {
        char                  hex2[65];
        capif_rev_str_t       kind, value, h;
        static unsigned char  longjti[CAPIF_REV_FIELD_MAX + 1];

        CHECK(capif_rev_token_key(jti.data, jti.len, NULL, 0, &kind,
                                  &value, hex2) == 0);
        CHECK(kind.len == 3 && value.data == jti.data);

        memset(longjti, 'j', sizeof(longjti));
        t = token();
        t.jti.data = longjti;
        t.jti.len = sizeof(longjti);
        CHECK(capif_rev_token_key(t.jti.data, t.jti.len, t.signing_input,
                                  t.signing_input_len, &kind, &value, hex2)
              == 0);
        CHECK(kind.len == 6 && value.len == 64);
        CHECK(capif_rev_sha256_hex(t.signing_input, t.signing_input_len,
                                   hex) == 0);
        CHECK(memcmp(value.data, hex, 64) == 0);
        h.data = (const unsigned char *) hex;
        h.len = 64;
        r = rec(CAPIF_REV_TOKEN, ksha, h, none);
        CHECK(refused(&r, &t));

        t.jti.data = (const unsigned char *) "a\nb";
        t.jti.len = 3;
        CHECK(refused(&r, &t));

        /* a valid jti is probed by jti, not by digest */
        t.jti = jti;
        CHECK(!refused(&r, &t));
    }

    /* UTF-8: checked, and repaired for the listing */
    {
        size_t         n;
        unsigned char  out[3 * 8];

        CHECK(capif_rev_utf8_valid((const unsigned char *) "a\"\\b", 4));
        CHECK(capif_rev_utf8_valid((const unsigned char *)
                                   "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
                                   9));
        CHECK(!capif_rev_utf8_valid((const unsigned char *) "\xff", 1));
        CHECK(!capif_rev_utf8_valid((const unsigned char *) "\xc3", 1));
        CHECK(!capif_rev_utf8_valid((const unsigned char *) "\xc0\xaf", 2));
        CHECK(!capif_rev_utf8_valid((const unsigned char *) "\xed\xa0\x80",
                                    3));
        CHECK(!capif_rev_utf8_valid((const unsigned char *)
                                    "\xf4\x90\x80\x80", 4));

        n = capif_rev_utf8_repair((const unsigned char *) "a\xff" "b\xc3", 4,
                                  out);
        CHECK(n == 8 && memcmp(out, "a\xef\xbf\xbd" "b\xef\xbf\xbd", 8) == 0);
        CHECK(capif_rev_utf8_valid(out, n));
    }

    /* owner: every purpose, one purpose */
    t = token();
    t.resource_owner = owner;
    t.purpose = purpose;
    r = rec(CAPIF_REV_OWNER, inv, owner, none);
    CHECK(refused(&r, &t));
    r = rec(CAPIF_REV_OWNER, inv, owner, purpose);
    CHECK(refused(&r, &t));
    r = rec(CAPIF_REV_OWNER, inv, owner, purpose2);
    CHECK(!refused(&r, &t));
    r = rec(CAPIF_REV_OWNER, inv, owner2, none);
    CHECK(!refused(&r, &t));
    r = rec(CAPIF_REV_OWNER, inv2, owner, none);
    CHECK(!refused(&r, &t));
    t.purpose = none;
    r = rec(CAPIF_REV_OWNER, inv, owner, purpose);
    CHECK(!refused(&r, &t));
    t.resource_owner = none;
    r = rec(CAPIF_REV_OWNER, inv, owner, none);
    CHECK(!refused(&r, &t));

    /* group: everyone, one invoker */
    t = token();
    t.group_id = group;
    r = rec(CAPIF_REV_GROUP, group, none, none);
    CHECK(refused(&r, &t));
    r = rec(CAPIF_REV_GROUP, group, inv, none);
    CHECK(refused(&r, &t));
    r = rec(CAPIF_REV_GROUP, group, inv2, none);
    CHECK(!refused(&r, &t));
    t.iat = 1001;
    r = rec(CAPIF_REV_GROUP, group, none, none);
    CHECK(!refused(&r, &t));

    /* fields too long for any record produce no probe, no overflow */
    {
        static unsigned char  big[CAPIF_REV_FIELD_MAX + 1];
        capif_rev_probe_t     probes[CAPIF_REV_PROBES_MAX];

        memset(big, 'x', sizeof(big));
        t = token();
        t.invoker_id.data = big;
        t.invoker_id.len = sizeof(big);
        t.group_id = group;
        t.resource_owner = owner;
        t.purpose = purpose;
        t.api_id = apiid;
        CHECK(capif_rev_probes(&t, probes) == 2);  /* digest, group */
    }

    /* revoke-credential: CERT and INVOKER_ALL records */
    {
#define T43 "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuF"
        capif_rev_str_t     x5t = S(T43 "U"), bad = S(T43 "V"),
                            kx5t = S("x5t#S256"), kser = S("serial"),
                            serial = S("a0b"), issuer = S("CN=ca,O=x");
        capif_rev_probe_t   probes[CAPIF_REV_PROBES_MAX];

        r = rec(CAPIF_REV_CERT, kx5t, x5t, none);
        CHECK(capif_rev_record_valid(&r));
        len = capif_rev_encode(&r, buf, sizeof(buf));
        CHECK(len > 0 && capif_rev_decode(&d, buf, len) == 0
              && d.type == CAPIF_REV_CERT && d.b.len == 43);
        klen = capif_rev_key(&r, key, sizeof(key));
        CHECK(klen > 0 && capif_rev_key_decode(&d, key, klen) == 0
              && d.type == CAPIF_REV_CERT);
        CHECK(strcmp(capif_rev_type_name(CAPIF_REV_CERT), "certificate")
              == 0);
        CHECK(strcmp(capif_rev_type_name(CAPIF_REV_INVOKER_ALL),
                     "invoker-all") == 0);
        CHECK(strcmp(capif_rev_type_name(7), "unknown") == 0);

        /* a thumbprint that is not canonical base64url, an issuer too */
        r = rec(CAPIF_REV_CERT, kx5t, bad, none);
        CHECK(!capif_rev_record_valid(&r));
        r = rec(CAPIF_REV_CERT, kx5t, x5t, issuer);
        CHECK(!capif_rev_record_valid(&r));
        r = rec(CAPIF_REV_CERT, kser, serial, none);
        CHECK(!capif_rev_record_valid(&r));
        r = rec(CAPIF_REV_CERT, kjti, serial, issuer);
        CHECK(!capif_rev_record_valid(&r));
        r = rec(CAPIF_REV_CERT, kser, serial, issuer);
        CHECK(capif_rev_record_valid(&r));
        r = rec(CAPIF_REV_INVOKER_ALL, inv, none, none);
        CHECK(capif_rev_record_valid(&r));
        r = rec(CAPIF_REV_INVOKER_ALL, inv, aef, none);
        CHECK(!capif_rev_record_valid(&r));
        r = rec(CAPIF_REV_INVOKER_ALL, none, none, none);
        CHECK(!capif_rev_record_valid(&r));

        /* a type this version does not know is not read */
        r = rec(CAPIF_REV_INVOKER_ALL, inv, none, none);
        len = capif_rev_encode(&r, buf, sizeof(buf));
        buf[1] = 7;
        CHECK(capif_rev_decode(&d, buf, len) == -1);

        /* every token of the invoker issued until the revocation */
        r = rec(CAPIF_REV_INVOKER_ALL, inv, none, none);
        t = token();
        CHECK(refused(&r, &t));
        t.api_name = apiid;
        t.aef_id = aef2;
        CHECK(refused(&r, &t));
        t.iat = 1001;
        CHECK(!refused(&r, &t));
        t.has_iat = 0;
        CHECK(refused(&r, &t));
        t = token();
        t.invoker_id = inv2;
        CHECK(!refused(&r, &t));

        /* a token bound to a withdrawn certificate, whatever its iat */
        r = rec(CAPIF_REV_CERT, kx5t, x5t, none);
        t = token();
        CHECK(!refused(&r, &t));
        t.cnf_x5t = x5t;
        t.iat = 999999;
        CHECK(refused(&r, &t));
        t.cnf_x5t = bad;
        CHECK(!refused(&r, &t));

        /* the connection's certificate */
        CHECK(capif_rev_cert_probes(&x5t, &serial, &issuer, probes) == 2);
        CHECK(probes[0].whole_token && probes[1].whole_token);
        klen = capif_rev_key(&r, key, sizeof(key));
        CHECK(probes[0].len == klen
              && memcmp(probes[0].key, key, klen) == 0);
        r = rec(CAPIF_REV_CERT, kser, serial, issuer);
        klen = capif_rev_key(&r, key, sizeof(key));
        CHECK(probes[1].len == klen
              && memcmp(probes[1].key, key, klen) == 0);
        CHECK(capif_rev_cert_probes(&x5t, &none, &issuer, probes) == 1);
        CHECK(capif_rev_cert_probes(&none, &none, &none, probes) == 0);

        /* the most probes a token can need */
        t = token();
        t.cnf_x5t = x5t;
        t.api_id = apiid;
        t.resource_owner = owner;
        t.purpose = purpose;
        t.group_id = group;
        CHECK(capif_rev_probes(&t, probes) == CAPIF_REV_PROBES_MAX);
    }

    /* lifetime */
    CHECK(capif_rev_lifetime_ok(1600, 1000, 1, 1100, 600));
    CHECK(!capif_rev_lifetime_ok(1601, 1000, 1, 1100, 600));
    CHECK(capif_rev_lifetime_ok(1601, 1000, 1, 1100, 0));
    CHECK(capif_rev_lifetime_ok(1700, 0, 0, 1100, 600));
    CHECK(!capif_rev_lifetime_ok(1701, 0, 0, 1100, 600));
    CHECK(!capif_rev_lifetime_ok(0x7fffffffffffffffLL,
                                 -0x7fffffffffffffffLL - 1, 1, 1100, 600));
    CHECK(capif_rev_lifetime_ok(500, 1000, 1, 1100, 600));

    return UNIT_DONE();
}

/*
 * Copyright (C) ngx_capif_module authors
 *
 * The verified-token cache: LRU order, eviction, expiry, replacement; and
 * capif_token_verify_cached() with real keys: a hit skips the signature
 * only, and is refused once its key is gone.
 */

#include <stdlib.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "unit.h"
#include "capif_token.h"


static unsigned char  fp_a[CAPIF_KEY_FP_LEN];


static void
digest_of(int n, unsigned char *d)
{
    memset(d, 0, CAPIF_TC_DIGEST_LEN);
    d[0] = (unsigned char) n;
    d[1] = (unsigned char) (n >> 8);
    /* same bucket for n and n + 65536 in small tables: chains too */
    d[31] = (unsigned char) (n >> 16);
}


static int
put(capif_token_cache_t *tc, int n, long long expires)
{
    int                rc;
    json_t            *payload;
    unsigned char      d[CAPIF_TC_DIGEST_LEN];
    capif_tc_value_t   v;

    digest_of(n, d);
    payload = json_pack("{s:i}", "n", n);
    if (payload == NULL) {
        abort();
    }

    memset(&v, 0, sizeof(v));
    v.payload = payload;
    v.expires = expires;
    v.signing_input_len = (size_t) n;
    v.alg = CAPIF_ALG_RS256;
    v.key_fp = fp_a;
    v.kid = (const unsigned char *) "kid-1";
    v.kid_len = 5;

    rc = capif_token_cache_put(tc, d, &v);
    json_decref(payload);

    return rc;
}


static int
has(capif_token_cache_t *tc, int n, long long now)
{
    unsigned char            d[CAPIF_TC_DIGEST_LEN];
    const capif_tc_entry_t  *e;

    digest_of(n, d);
    e = capif_token_cache_get(tc, d, now);

    return e != NULL
           && json_integer_value(json_object_get(e->payload, "n")) == n
           && e->signing_input_len == (size_t) n
           && e->kid_len == 5 && memcmp(e->kid, "kid-1", 5) == 0;
}


static void
test_lru(void)
{
    int                       i;
    capif_token_cache_t      *tc;
    const capif_tc_stats_t   *st;
    unsigned char             d[CAPIF_TC_DIGEST_LEN];

    CHECK(capif_token_cache_create(0) == NULL);
    CHECK(capif_token_cache_create(CAPIF_TC_MAX_ENTRIES + 1) == NULL);

    tc = capif_token_cache_create(3);
    if (tc == NULL) {
        abort();
    }

    st = capif_token_cache_stats(tc);

    CHECK(put(tc, 1, 1000) == 0);
    CHECK(put(tc, 2, 1000) == 0);
    CHECK(put(tc, 3, 1000) == 0);
    CHECK(capif_token_cache_count(tc) == 3);

    /* 1 used again: 2 is now the least recently used and goes first */
    CHECK(has(tc, 1, 100));
    CHECK(put(tc, 4, 1000) == 0);
    CHECK(capif_token_cache_count(tc) == 3);
    CHECK(st->evictions == 1);
    CHECK(!has(tc, 2, 100));
    CHECK(has(tc, 1, 100));
    CHECK(has(tc, 3, 100));
    CHECK(has(tc, 4, 100));

    /* order now 4 3 1 (most recent first): 1 goes, then 3 */
    CHECK(put(tc, 5, 1000) == 0);
    CHECK(!has(tc, 1, 100));
    CHECK(put(tc, 6, 1000) == 0);
    CHECK(!has(tc, 3, 100));
    CHECK(has(tc, 4, 100) && has(tc, 5, 100) && has(tc, 6, 100));

    /* replacing an entry keeps one entry for the digest */
    CHECK(put(tc, 5, 2000) == 0);
    CHECK(capif_token_cache_count(tc) == 3);
    CHECK(has(tc, 5, 1500));

    /* expiry: at "expires" an entry is gone, and dropped */
    CHECK(has(tc, 4, 999));
    CHECK(!has(tc, 4, 1000));
    CHECK(capif_token_cache_count(tc) == 2);
    CHECK(st->expired == 1);

    digest_of(6, d);
    capif_token_cache_remove(tc, d);
    CHECK(!has(tc, 6, 100));
    CHECK(capif_token_cache_count(tc) == 1);
    capif_token_cache_remove(tc, d);

    /* what the bench reports: the cache's own bytes, claims aside */
    CHECK(capif_token_cache_entry_size(tc, 0) <= 512);

    capif_token_cache_destroy(tc);

    /* many entries in a small table: chains, and the LRU bound holds */
    tc = capif_token_cache_create(100);
    if (tc == NULL) {
        abort();
    }

    for (i = 0; i < 1000; i++) {
        CHECK(put(tc, i * 65536 + i % 7, 10) == 0);
    }

    CHECK(capif_token_cache_count(tc) == 100);

    for (i = 900; i < 1000; i++) {
        CHECK(has(tc, i * 65536 + i % 7, 1));
    }

    CHECK(!has(tc, 899 * 65536 + 899 % 7, 1));

    capif_token_cache_destroy(tc);
}


/*
 * Random puts, gets and removes against a reference LRU kept as an array
 * (most recent first), with expiry: both must agree on every get.
 */
static void
test_lru_model(void)
{
    int                   i, j, k, op, n, found, model[4], nmodel;
    long long             exp[64], now;
    unsigned int          seed;
    capif_token_cache_t  *tc;

    tc = capif_token_cache_create(4);
    if (tc == NULL) {
        abort();
    }

    seed = 12345;
    nmodel = 0;
    now = 100;

#define RAND()  (seed = seed * 1103515245u + 12345u, (seed >> 16) & 0x7fff)

    for (i = 0; i < 20000; i++) {
        op = RAND() % 10;
        n = RAND() % 12;

        if (op == 0) {
            now++;
        }

        /* drop what expired from the model, as a get would */
        for (j = 0; j < nmodel; j++) {
            if (model[j] == n && exp[n] <= now) {
                memmove(&model[j], &model[j + 1],
                        (nmodel - j - 1) * sizeof(int));
                nmodel--;
                break;
            }
        }

        if (op <= 3) {
            exp[n] = now + 1 + RAND() % 5;
            CHECK(put(tc, n, exp[n]) == 0);

            for (j = 0; j < nmodel && model[j] != n; j++) { /* void */ }

            if (j == nmodel) {
                if (nmodel == 4) {
                    nmodel--;
                }

                j = nmodel++;
            }

            memmove(&model[1], &model[0], j * sizeof(int));
            model[0] = n;

        } else if (op <= 8) {
            found = has(tc, n, now);

            for (j = 0; j < nmodel && model[j] != n; j++) { /* void */ }

            if (found != (j < nmodel)) {
                CHECK(found == (j < nmodel));
                break;
            }

            if (found) {
                k = model[j];
                memmove(&model[1], &model[0], j * sizeof(int));
                model[0] = k;
            }

        } else {
            unsigned char  d[CAPIF_TC_DIGEST_LEN];

            digest_of(n, d);
            capif_token_cache_remove(tc, d);

            for (j = 0; j < nmodel; j++) {
                if (model[j] == n) {
                    memmove(&model[j], &model[j + 1],
                            (nmodel - j - 1) * sizeof(int));
                    nmodel--;
                    break;
                }
            }
        }

        /* the cache may still hold expired entries the model dropped */
        CHECK(capif_token_cache_count(tc) >= (size_t) nmodel
              && capif_token_cache_count(tc) <= 4);
    }

#undef RAND

    capif_token_cache_destroy(tc);
}


/* ---------------------------------------------------------------- tokens */

static char *
write_pub(EVP_PKEY *pkey)
{
    int    fd;
    char  *path;
    FILE  *f;

    path = strdup("/tmp/capif_test_tc_XXXXXX");
    if (path == NULL || (fd = mkstemp(path)) < 0) {
        abort();
    }

    f = fdopen(fd, "w");
    if (f == NULL || PEM_write_PUBKEY(f, pkey) != 1) {
        abort();
    }

    fclose(f);

    return path;
}


static char *
mint(EVP_PKEY *pkey, const char *header, const char *claims)
{
    size_t          hl, cl, n, siglen;
    char           *t;
    EVP_MD_CTX     *mctx;
    unsigned char   sig[512];

    hl = strlen(header);
    cl = strlen(claims);

    t = malloc(capif_b64url_encoded_len(hl) + capif_b64url_encoded_len(cl)
               + capif_b64url_encoded_len(sizeof(sig)) + 3);
    if (t == NULL) {
        abort();
    }

    n = capif_b64url_encode((const unsigned char *) header, hl,
                            (unsigned char *) t);
    t[n++] = '.';
    n += capif_b64url_encode((const unsigned char *) claims, cl,
                             (unsigned char *) t + n);

    siglen = sizeof(sig);
    mctx = EVP_MD_CTX_new();

    if (mctx == NULL
        || EVP_DigestSignInit(mctx, NULL, EVP_sha256(), NULL, pkey) != 1
        || EVP_DigestSign(mctx, sig, &siglen, (unsigned char *) t, n) != 1)
    {
        abort();
    }

    EVP_MD_CTX_free(mctx);

    t[n++] = '.';
    n += capif_b64url_encode(sig, siglen, (unsigned char *) t + n);
    t[n] = '\0';

    return t;
}


static capif_error_t  err;


static int
verify(capif_token_cache_t *tc, const capif_keyset_t *ks, const char *t,
    const capif_claims_conf_t *conf, time_t now, int *cached)
{
    int             rc;
    size_t          len;
    unsigned char  *scratch;
    capif_token_t   tok;

    len = strlen(t);
    scratch = malloc(capif_jws_scratch_size(len));
    if (scratch == NULL) {
        abort();
    }

    err.cause = "none";
    rc = capif_token_verify_cached(&tok, tc, ks, (const unsigned char *) t,
                                   len, scratch, conf, now, &err);
    *cached = 0;

    if (rc == 0) {
        *cached = tok.cached;

        /* what the later checks read is there on a hit as on a miss */
        if (tok.claims.invoker_id_len != 5
            || memcmp(tok.claims.invoker_id, "INV-1", 5) != 0
            || tok.claims.exp != 2000
            || tok.jws.signing_input != (const unsigned char *) t
            || tok.jws.signing_input_len != (size_t) (strrchr(t, '.') - t)
            || tok.key == NULL)
        {
            rc = -2;
        }

        capif_token_free(&tok);
    }

    free(scratch);

    return rc;
}


/* verify() without the checks on the claims' values */
static int
verify_any(capif_token_cache_t *tc, const capif_keyset_t *ks,
    const char *t, const capif_claims_conf_t *conf, time_t now, int *cached)
{
    int             rc;
    size_t          len;
    unsigned char  *scratch;
    capif_token_t   tok;

    len = strlen(t);
    scratch = malloc(capif_jws_scratch_size(len));
    if (scratch == NULL) {
        abort();
    }

    rc = capif_token_verify_cached(&tok, tc, ks, (const unsigned char *) t,
                                   len, scratch, conf, now, &err);
    *cached = (rc == 0) ? tok.cached : 0;

    if (rc == 0) {
        capif_token_free(&tok);
    }

    free(scratch);

    return rc;
}


static void
test_verify_cached(void)
{
    int                    hit;
    char                  *pa, *pb, *t, *tk, *tbad;
    char                   errbuf[256];
    EVP_PKEY              *ka, *kb;
    capif_keyset_t         ks_a, ks_b, ks_ab, ks_a_kid;
    capif_claims_conf_t    conf, conf_type;
    capif_token_cache_t   *tc;

    ka = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
    kb = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
    if (ka == NULL || kb == NULL) {
        abort();
    }

    pa = write_pub(ka);
    pb = write_pub(kb);

    memset(&ks_a, 0, sizeof(ks_a));
    memset(&ks_b, 0, sizeof(ks_b));
    memset(&ks_ab, 0, sizeof(ks_ab));
    memset(&ks_a_kid, 0, sizeof(ks_a_kid));

    CHECK(capif_keyset_load_file(&ks_a, pa, "RS256", NULL, errbuf,
                                 sizeof(errbuf)) == 0);
    CHECK(capif_keyset_load_file(&ks_b, pb, "RS256", NULL, errbuf,
                                 sizeof(errbuf)) == 0);
    CHECK(capif_keyset_load_file(&ks_ab, pb, "RS256", NULL, errbuf,
                                 sizeof(errbuf)) == 0);
    CHECK(capif_keyset_load_file(&ks_ab, pa, "RS256", NULL, errbuf,
                                 sizeof(errbuf)) == 0);
    CHECK(capif_keyset_load_file(&ks_a_kid, pa, "RS256", "other", errbuf,
                                 sizeof(errbuf)) == 0);

    /* the fingerprint is the key's, whatever file or set it came from */
    CHECK(capif_key_fingerprint(&ks_a.keys[0]) != NULL);
    CHECK(memcmp(capif_key_fingerprint(&ks_a.keys[0]),
                 capif_key_fingerprint(&ks_ab.keys[1]),
                 CAPIF_KEY_FP_LEN) == 0);
    CHECK(memcmp(capif_key_fingerprint(&ks_a.keys[0]),
                 capif_key_fingerprint(&ks_b.keys[0]),
                 CAPIF_KEY_FP_LEN) != 0);

    t = mint(ka, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}",
             "{\"iss\":\"INV-1\",\"scope\":\"3gpp#aef:api\",\"exp\":2000,"
             "\"type\":\"access\"}");
    tk = mint(ka, "{\"alg\":\"RS256\",\"kid\":\"k1\"}",
              "{\"iss\":\"INV-1\",\"scope\":\"3gpp#aef:api\",\"exp\":2000}");
    tbad = strdup(t);
    if (tbad == NULL) {
        abort();
    }
    /* another valid base64url character inside the signature */
    tbad[strlen(tbad) - 10] = tbad[strlen(tbad) - 10] == 'A' ? 'B' : 'A';

    memset(&conf, 0, sizeof(conf));
    conf.invoker_claim = "iss";
    conf_type = conf;
    conf_type.expected_type = "refresh";

    tc = capif_token_cache_create(10);
    if (tc == NULL) {
        abort();
    }

    /* miss, then hit */
    CHECK(verify(tc, &ks_a, t, &conf, 1000, &hit) == 0 && !hit);
    CHECK(verify(tc, &ks_a, t, &conf, 1001, &hit) == 0 && hit);
    CHECK(capif_token_cache_count(tc) == 1);

    /* another set with the same key among others: still a hit */
    CHECK(verify(tc, &ks_ab, t, &conf, 1002, &hit) == 0 && hit);

    /* the key is gone: no hit, and verification refuses */
    CHECK(verify(tc, &ks_b, t, &conf, 1003, &hit) == -1);
    CHECK(strcmp(err.cause, "SIGNATURE_INVALID") == 0);

    /* a hit still checks the claims with this caller's conf and clock */
    CHECK(verify(tc, &ks_a, t, &conf_type, 1004, &hit) == -1);
    CHECK(strcmp(err.cause, "TOKEN_TYPE_MISMATCH") == 0);

    /* a failure is never cached; a tampered token misses, every time */
    CHECK(verify(tc, &ks_a, tbad, &conf, 1005, &hit) == -1);
    CHECK(verify(tc, &ks_a, tbad, &conf, 1005, &hit) == -1);
    CHECK(strcmp(err.cause, "SIGNATURE_INVALID") == 0);
    CHECK(capif_token_cache_count(tc) == 1);

    /* a kid must still name the key: another kid, no hit, KID_UNKNOWN */
    CHECK(verify(tc, &ks_a, tk, &conf, 1006, &hit) == -1);
    CHECK(strcmp(err.cause, "KID_UNKNOWN") == 0);

    /* entries end 300 s after insertion ... */
    CHECK(verify(tc, &ks_a, t, &conf, 1299, &hit) == 0 && hit);
    CHECK(verify(tc, &ks_a, t, &conf, 1300, &hit) == 0 && !hit);

    /* ... or at exp + leeway, and exp is checked on every hit anyway */
    CHECK(verify(tc, &ks_a, t, &conf, 1599, &hit) == 0 && hit);
    CHECK(verify(tc, &ks_a, t, &conf, 1700, &hit) == 0 && !hit);
    CHECK(verify(tc, &ks_a, t, &conf, 1999, &hit) == 0 && hit);
    CHECK(verify(tc, &ks_a, t, &conf, 2000, &hit) == -1);
    CHECK(strcmp(err.cause, "TOKEN_EXPIRED") == 0);

    conf.leeway = 30;
    CHECK(verify(tc, &ks_a, t, &conf, 1990, &hit) == 0 && !hit);
    CHECK(verify(tc, &ks_a, t, &conf, 2010, &hit) == 0 && hit);
    conf.leeway = 0;
    CHECK(verify(tc, &ks_a, t, &conf, 2010, &hit) == -1);
    CHECK(strcmp(err.cause, "TOKEN_EXPIRED") == 0);

    /* the largest exp there is: the entry still ends 300 s on */
    {
        char  *tmax;

        tmax = mint(ka, "{\"alg\":\"RS256\"}",
                    "{\"iss\":\"INV-1\",\"scope\":\"3gpp#aef:api\","
                    "\"exp\":9223372036854775807}");
        conf.leeway = 30;
        CHECK(verify_any(tc, &ks_a, tmax, &conf, 3000, &hit) == 0 && !hit);
        CHECK(verify_any(tc, &ks_a, tmax, &conf, 3299, &hit) == 0 && hit);
        CHECK(verify_any(tc, &ks_a, tmax, &conf, 3300, &hit) == 0 && !hit);
        conf.leeway = 0;
        free(tmax);
    }

    /* no cache at all */
    CHECK(verify(NULL, &ks_a, t, &conf, 1000, &hit) == 0 && !hit);

    capif_token_cache_destroy(tc);
    capif_keyset_free(&ks_a);
    capif_keyset_free(&ks_b);
    capif_keyset_free(&ks_ab);
    capif_keyset_free(&ks_a_kid);
    EVP_PKEY_free(ka);
    EVP_PKEY_free(kb);
    unlink(pa);
    unlink(pb);
    free(pa);
    free(pb);
    free(t);
    free(tk);
    free(tbad);
}


int
main(void)
{
    memset(fp_a, 0xa5, sizeof(fp_a));

    test_lru();
    test_lru_model();
    test_verify_cached();

    return UNIT_DONE();
}

/*
 * Copyright (C) ngx_capif_module authors
 *
 * Verification with prepared keys: ECDSA signatures are turned into DER
 * by hand, so many signatures are checked, enough that some R or S start
 * with a zero byte or with the high bit set; and a prepared context is
 * used again and again, after failures too.
 */

#include <stdlib.h>
#include <unistd.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "unit.h"
#include "capif_keys.h"


static char *
write_pub(EVP_PKEY *pkey)
{
    int    fd;
    char  *path;
    FILE  *f;

    path = strdup("/tmp/capif_test_kv_XXXXXX");
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


/* raw R || S of clen bytes each; *lead says if R or S began with 0 */
static size_t
sign_raw(EVP_PKEY *pkey, const EVP_MD *md, const unsigned char *data,
    size_t len, size_t clen, unsigned char *out, int *lead)
{
    size_t          siglen;
    EVP_MD_CTX     *mctx;
    ECDSA_SIG      *esig;
    const BIGNUM   *r, *s;
    unsigned char   der[256];
    const unsigned char  *p;

    siglen = sizeof(der);
    mctx = EVP_MD_CTX_new();

    if (mctx == NULL
        || EVP_DigestSignInit(mctx, NULL, md, NULL, pkey) != 1
        || EVP_DigestSign(mctx, der, &siglen, data, len) != 1)
    {
        abort();
    }

    EVP_MD_CTX_free(mctx);

    p = der;
    esig = d2i_ECDSA_SIG(NULL, &p, (long) siglen);
    if (esig == NULL) {
        abort();
    }

    ECDSA_SIG_get0(esig, &r, &s);

    if (BN_bn2binpad(r, out, (int) clen) != (int) clen
        || BN_bn2binpad(s, out + clen, (int) clen) != (int) clen)
    {
        abort();
    }

    ECDSA_SIG_free(esig);

    *lead = (out[0] == 0 || out[clen] == 0);

    return 2 * clen;
}


static void
test_ecdsa(const char *curve, const char *alg, const EVP_MD *md,
    size_t clen, int rounds)
{
    int             i, ok, bad, leads, lead;
    char           *path, errbuf[256];
    size_t          siglen;
    EVP_PKEY       *pkey;
    capif_keyset_t  ks;
    unsigned char   data[64], sig[200];

    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
    if (pkey == NULL) {
        abort();
    }

    path = write_pub(pkey);
    memset(&ks, 0, sizeof(ks));
    CHECK(capif_keyset_load_file(&ks, path, alg, NULL, errbuf,
                                 sizeof(errbuf)) == 0);
    CHECK(capif_key_fingerprint(&ks.keys[0]) != NULL);

    ok = 0;
    bad = 0;
    leads = 0;

    for (i = 0; i < rounds; i++) {
        memset(data, 0, sizeof(data));
        memcpy(data, &i, sizeof(i));

        siglen = sign_raw(pkey, md, data, sizeof(data), clen, sig, &lead);
        leads += lead;

        ok += capif_key_verify(&ks.keys[0], data, sizeof(data), sig,
                               siglen);

        /* the same signature over other data fails, and does not stick */
        data[63] ^= 1;
        bad += capif_key_verify(&ks.keys[0], data, sizeof(data), sig,
                                siglen);
    }

    CHECK(ok == rounds);
    CHECK(bad == 0);

    /* a zero byte at the start of R or S: expected once in 128 */
    if (rounds >= 1000) {
        CHECK(leads > 0);
    }

    capif_keyset_free(&ks);
    EVP_PKEY_free(pkey);
    unlink(path);
    free(path);
}


int
main(void)
{
    test_ecdsa("P-256", "ES256", EVP_sha256(), 32, 1200);
    test_ecdsa("P-384", "ES384", EVP_sha384(), 48, 300);
    test_ecdsa("P-521", "ES512", EVP_sha512(), 66, 300);

    return UNIT_DONE();
}

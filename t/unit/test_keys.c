/*
 * Copyright (C) ngx_capif_module authors
 *
 * Keys are generated here, at test time, and written to temporary files.
 */

#include <stdlib.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "capif_b64url.h"
#include "capif_keys.h"
#include "unit.h"


#define MAX_FILES  128

static char   *files[MAX_FILES];
static size_t  nfiles;

static const unsigned char  msg[] = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0";
#define MSG_LEN  (sizeof(msg) - 1)


static char *
write_file(const void *data, size_t len)
{
    int    fd;
    char  *path;

    path = strdup("/tmp/capif_test_keys_XXXXXX");
    if (path == NULL || nfiles == MAX_FILES) {
        abort();
    }

    fd = mkstemp(path);
    if (fd < 0) {
        abort();
    }

    if (len > 0 && write(fd, data, len) != (ssize_t) len) {
        abort();
    }

    close(fd);
    files[nfiles++] = path;

    return path;
}


static char *
write_str(const char *s)
{
    return write_file(s, strlen(s));
}


static char *
write_bio(BIO *bio)
{
    char  *data;
    long   len;
    char  *path;

    len = BIO_get_mem_data(bio, &data);
    path = write_file(data, (size_t) len);
    BIO_free(bio);

    return path;
}


static char *
pem_public(EVP_PKEY *pkey)
{
    BIO  *bio;

    bio = BIO_new(BIO_s_mem());
    if (bio == NULL || PEM_write_bio_PUBKEY(bio, pkey) != 1) {
        abort();
    }

    return write_bio(bio);
}


static EVP_PKEY *
gen_rsa(unsigned bits)
{
    EVP_PKEY  *pkey;

    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) bits);
    if (pkey == NULL) {
        abort();
    }

    return pkey;
}


static EVP_PKEY *
gen_ec(const char *curve)
{
    EVP_PKEY  *pkey;

    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
    if (pkey == NULL) {
        abort();
    }

    return pkey;
}


static EVP_PKEY *
gen_ed(const char *type)
{
    EVP_PKEY  *pkey;

    pkey = EVP_PKEY_Q_keygen(NULL, NULL, type);
    if (pkey == NULL) {
        abort();
    }

    return pkey;
}


static EVP_PKEY *
gen_pss(void)
{
    EVP_PKEY      *pkey;
    EVP_PKEY_CTX  *ctx;

    pkey = NULL;
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);

    if (ctx == NULL
        || EVP_PKEY_keygen_init(ctx) != 1
        || EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) != 1
        || EVP_PKEY_generate(ctx, &pkey) != 1)
    {
        abort();
    }

    EVP_PKEY_CTX_free(ctx);

    return pkey;
}


static const EVP_MD *
md_of(capif_alg_t alg)
{
    switch (alg) {
    case CAPIF_ALG_RS256:
    case CAPIF_ALG_PS256:
    case CAPIF_ALG_ES256:
        return EVP_sha256();
    case CAPIF_ALG_RS384:
    case CAPIF_ALG_PS384:
    case CAPIF_ALG_ES384:
        return EVP_sha384();
    case CAPIF_ALG_RS512:
    case CAPIF_ALG_PS512:
    case CAPIF_ALG_ES512:
        return EVP_sha512();
    default:
        return NULL;
    }
}


/* an RSA-PSS signature with another salt length than RFC 7518's */
static size_t
sign_pss_salt(EVP_PKEY *pkey, int saltlen, unsigned char *out)
{
    size_t         siglen;
    EVP_MD_CTX    *mctx;
    EVP_PKEY_CTX  *pctx;

    mctx = EVP_MD_CTX_new();
    siglen = 1024;

    if (mctx == NULL
        || EVP_DigestSignInit(mctx, &pctx, EVP_sha256(), NULL, pkey) != 1
        || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0
        || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, saltlen) <= 0
        || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) <= 0
        || EVP_DigestSign(mctx, out, &siglen, msg, MSG_LEN) != 1)
    {
        abort();
    }

    EVP_MD_CTX_free(mctx);

    return siglen;
}


/* signs as a JWS signer would; ES* as raw R || S, or DER if der is set */
static size_t
sign(EVP_PKEY *pkey, capif_alg_t alg, int der, const unsigned char *data,
    size_t len, unsigned char *out)
{
    size_t          siglen, clen;
    EVP_MD_CTX     *mctx;
    EVP_PKEY_CTX   *pctx;
    ECDSA_SIG      *esig;
    const BIGNUM   *r, *s;
    unsigned char   buf[1024];
    const unsigned char  *p;

    mctx = EVP_MD_CTX_new();
    if (mctx == NULL
        || EVP_DigestSignInit(mctx, &pctx, md_of(alg), NULL, pkey) != 1)
    {
        abort();
    }

    if (alg >= CAPIF_ALG_PS256 && alg <= CAPIF_ALG_PS512) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0
            || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST)
               <= 0
            || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md_of(alg)) <= 0)
        {
            abort();
        }

    } else if (alg >= CAPIF_ALG_RS256 && alg <= CAPIF_ALG_RS512) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0) {
            abort();
        }
    }

    siglen = sizeof(buf);
    if (EVP_DigestSign(mctx, buf, &siglen, data, len) != 1) {
        abort();
    }

    EVP_MD_CTX_free(mctx);

    if (der || alg < CAPIF_ALG_ES256 || alg > CAPIF_ALG_ES512) {
        memcpy(out, buf, siglen);
        return siglen;
    }

    clen = alg == CAPIF_ALG_ES256 ? 32 : alg == CAPIF_ALG_ES384 ? 48 : 66;
    p = buf;
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

    return 2 * clen;
}


static int
load(capif_keyset_t *ks, const char *path, const char *alg, const char *kid,
    char *err, size_t errlen)
{
    return capif_keyset_load_file(ks, path, alg, kid, err, errlen);
}


/* loads one file into a fresh set and checks the sign/verify round trip */
static void
check_roundtrip(EVP_PKEY *pkey, const char *path, const char *alg,
    capif_alg_t expect)
{
    size_t          siglen;
    capif_keyset_t  ks;
    unsigned char   sig[1024];
    char            err[512];

    memset(&ks, 0, sizeof(ks));

    CHECK(load(&ks, path, alg, "k1", err, sizeof(err)) == 0);
    CHECK(ks.nkeys == 1);

    if (ks.nkeys != 1) {
        fprintf(stderr, "  %s\n", err);
        capif_keyset_free(&ks);
        return;
    }

    CHECK(ks.keys[0].alg == expect);
    CHECK(ks.keys[0].kid_len == 2 && memcmp(ks.keys[0].kid, "k1", 2) == 0);
    CHECK(strcmp(ks.keys[0].source, path) == 0);

    siglen = sign(pkey, expect, 0, msg, MSG_LEN, sig);

    CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen) == 1);

    /* another message */
    CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN - 1, sig, siglen)
          == 0);

    /* a flipped bit, first and last byte */
    sig[0] ^= 0x01;
    CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen) == 0);
    sig[0] ^= 0x01;
    sig[siglen - 1] ^= 0x80;
    CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen) == 0);
    sig[siglen - 1] ^= 0x80;

    /* wrong lengths */
    CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen - 1) == 0);
    sig[siglen] = 0;
    CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen + 1) == 0);
    CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, 0) == 0);

    /* still good after all those failures */
    CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen) == 1);
    CHECK(ERR_peek_error() == 0);

    capif_keyset_free(&ks);
}


static void
test_alg_names(void)
{
    size_t  i;

    static const char  *good[] = {
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512", "EdDSA"
    };

    static const char  *bad[] = {
        "none", "None", "NONE", "HS256", "HS384", "HS512", "ES256K",
        "Ed25519", "rs256", "EDDSA", "eddsa", "RS256 ", " RS256", "RS2560",
        "", "RSA", "PS256\n"
    };

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        CHECK(capif_alg_from_name(good[i], 5)
              == (capif_alg_t) (CAPIF_ALG_RS256 + i));
        CHECK(strcmp(capif_alg_name(capif_alg_from_name(good[i], 5)),
                     good[i]) == 0);
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(capif_alg_from_name(bad[i], strlen(bad[i]))
              == CAPIF_ALG_UNKNOWN);
    }

    CHECK(capif_alg_from_name("RS256\0x", 7) == CAPIF_ALG_UNKNOWN);
    CHECK(capif_alg_from_name("RS256\0", 6) == CAPIF_ALG_UNKNOWN);
    CHECK(capif_alg_from_name("RS256", 4) == CAPIF_ALG_UNKNOWN);
    CHECK(capif_alg_from_name("ES256K", 5) == CAPIF_ALG_ES256);
    CHECK(capif_alg_from_name(NULL, 0) == CAPIF_ALG_UNKNOWN);
    CHECK(strcmp(capif_alg_name(CAPIF_ALG_UNKNOWN), "unknown") == 0);
    CHECK(strcmp(capif_alg_name(CAPIF_ALG_EDDSA), "EdDSA") == 0);
}


static void
test_rsa(EVP_PKEY *rsa)
{
    size_t          siglen;
    char           *path;
    capif_keyset_t  ks;
    unsigned char   sig[1024];
    char            err[512];

    path = pem_public(rsa);

    check_roundtrip(rsa, path, NULL, CAPIF_ALG_RS256);
    check_roundtrip(rsa, path, "RS256", CAPIF_ALG_RS256);
    check_roundtrip(rsa, path, "RS384", CAPIF_ALG_RS384);
    check_roundtrip(rsa, path, "RS512", CAPIF_ALG_RS512);
    check_roundtrip(rsa, path, "PS256", CAPIF_ALG_PS256);
    check_roundtrip(rsa, path, "PS384", CAPIF_ALG_PS384);
    check_roundtrip(rsa, path, "PS512", CAPIF_ALG_PS512);

    /* a key pinned to PS256 does not take an RS256 signature, nor back */
    memset(&ks, 0, sizeof(ks));
    CHECK(load(&ks, path, "PS256", NULL, err, sizeof(err)) == 0);
    CHECK(load(&ks, path, "RS256", "rs", err, sizeof(err)) == 0);
    CHECK(ks.nkeys == 2);

    if (ks.nkeys == 2) {
        CHECK(ks.keys[0].kid == NULL && ks.keys[0].kid_len == 0);

        siglen = sign(rsa, CAPIF_ALG_RS256, 0, msg, MSG_LEN, sig);
        CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen) == 0);
        CHECK(capif_key_verify(&ks.keys[1], msg, MSG_LEN, sig, siglen) == 1);

        siglen = sign(rsa, CAPIF_ALG_PS256, 0, msg, MSG_LEN, sig);
        CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen) == 1);
        CHECK(capif_key_verify(&ks.keys[1], msg, MSG_LEN, sig, siglen) == 0);

        /* the salt is exactly as long as the hash */
        siglen = sign_pss_salt(rsa, 32, sig);
        CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen) == 1);
        siglen = sign_pss_salt(rsa, 0, sig);
        CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen) == 0);
        siglen = sign_pss_salt(rsa, 20, sig);
        CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen) == 0);
        siglen = sign_pss_salt(rsa, RSA_PSS_SALTLEN_MAX, sig);
        CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen) == 0);

        /* a PS384 signature is not a PS256 one */
        siglen = sign(rsa, CAPIF_ALG_PS384, 0, msg, MSG_LEN, sig);
        CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen) == 0);

        /* an RS384 signature is not an RS256 one */
        siglen = sign(rsa, CAPIF_ALG_RS384, 0, msg, MSG_LEN, sig);
        CHECK(capif_key_verify(&ks.keys[1], msg, MSG_LEN, sig, siglen) == 0);
    }

    /* a key bound to an alg of another family is refused */
    CHECK(load(&ks, path, "ES256", NULL, err, sizeof(err)) == -1);
    CHECK(strstr(err, "an RSA key cannot be used with ES256") != NULL);
    CHECK(load(&ks, path, "EdDSA", NULL, err, sizeof(err)) == -1);
    CHECK(load(&ks, path, "HS256", NULL, err, sizeof(err)) == -1);
    CHECK(strstr(err, "alg=\"HS256\" is not one of") != NULL);
    CHECK(load(&ks, path, "none", NULL, err, sizeof(err)) == -1);
    CHECK(load(&ks, path, "", NULL, err, sizeof(err)) == -1);
    CHECK(load(&ks, path, NULL, "", err, sizeof(err)) == -1);

    /* the same kid again */
    CHECK(load(&ks, path, NULL, "rs", err, sizeof(err)) == -1);
    CHECK(strstr(err, "kid \"rs\" is already used") != NULL);
    CHECK(ks.nkeys == 2);

    capif_keyset_free(&ks);
    CHECK(ks.keys == NULL && ks.nkeys == 0 && ks.nalloc == 0);
    capif_keyset_free(&ks);
}


static void
test_rsa_weak(void)
{
    char            *path;
    EVP_PKEY        *rsa;
    capif_keyset_t   ks;
    char             err[512], expect[512];

    rsa = gen_rsa(1024);
    path = pem_public(rsa);

    memset(&ks, 0, sizeof(ks));
    CHECK(load(&ks, path, NULL, NULL, err, sizeof(err)) == -1);
    snprintf(expect, sizeof(expect), "\"%s\": RSA key of 1024 bits is "
             "weaker than the 2048 bits required", path);
    CHECK(strcmp(err, expect) == 0);
    CHECK(ks.nkeys == 0 && ks.keys == NULL);

    /* the message is cut, never overflowed */
    memset(err, 'x', sizeof(err));
    CHECK(load(&ks, path, NULL, NULL, err, 10) == -1);
    CHECK(strlen(err) == 9 && err[10] == 'x');

    EVP_PKEY_free(rsa);
}


static void
test_ec(void)
{
    size_t          i, siglen, clen;
    char           *path;
    EVP_PKEY       *ec, *p384;
    capif_keyset_t  ks;
    unsigned char   sig[1024];
    char            err[512];

    static const struct {
        const char   *curve;
        const char   *alg;
        capif_alg_t   expect;
        size_t        clen;
    } curves[] = {
        { "P-256", "ES256", CAPIF_ALG_ES256, 32 },
        { "P-384", "ES384", CAPIF_ALG_ES384, 48 },
        { "P-521", "ES512", CAPIF_ALG_ES512, 66 }
    };

    /* P-256 order: r = n must be refused without asking OpenSSL */
    static const unsigned char  n256[] = {
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
        0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51
    };

    for (i = 0; i < 3; i++) {
        ec = gen_ec(curves[i].curve);
        path = pem_public(ec);
        clen = curves[i].clen;

        check_roundtrip(ec, path, NULL, curves[i].expect);
        check_roundtrip(ec, path, curves[i].alg, curves[i].expect);

        memset(&ks, 0, sizeof(ks));
        CHECK(load(&ks, path, NULL, NULL, err, sizeof(err)) == 0);

        if (ks.nkeys == 1) {
            /* the DER form of a valid signature is refused */
            siglen = sign(ec, curves[i].expect, 1, msg, MSG_LEN, sig);
            CHECK(siglen != 2 * clen);
            CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen)
                  == 0);

            /* even padded to the raw length */
            if (siglen < 2 * clen) {
                memset(sig + siglen, 0, 2 * clen - siglen);
                CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig,
                                       2 * clen) == 0);
            }

            /* r = s = 0, and either one alone */
            siglen = sign(ec, curves[i].expect, 0, msg, MSG_LEN, sig);
            CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen)
                  == 1);
            memset(sig, 0, clen);
            CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen)
                  == 0);
            memset(sig + clen, 0, clen);
            CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen)
                  == 0);

            siglen = sign(ec, curves[i].expect, 0, msg, MSG_LEN, sig);
            memset(sig + clen, 0, clen);
            CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen)
                  == 0);

            /* all ones: above the order */
            siglen = sign(ec, curves[i].expect, 0, msg, MSG_LEN, sig);
            memset(sig, 0xff, clen);
            CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen)
                  == 0);
        }

        if (i == 0 && ks.nkeys == 1) {
            siglen = sign(ec, CAPIF_ALG_ES256, 0, msg, MSG_LEN, sig);
            memcpy(sig, n256, 32);
            CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen)
                  == 0);
        }

        capif_keyset_free(&ks);
        EVP_PKEY_free(ec);
    }

    /* a curve that does not fit the alg */
    p384 = gen_ec("P-384");
    path = pem_public(p384);
    memset(&ks, 0, sizeof(ks));
    CHECK(load(&ks, path, "ES256", NULL, err, sizeof(err)) == -1);
    CHECK(strstr(err, "curve P-384 does not match ES256") != NULL);
    CHECK(strncmp(err, "\"/tmp/capif_test_keys_", 22) == 0);
    CHECK(load(&ks, path, "ES512", NULL, err, sizeof(err)) == -1);
    CHECK(strstr(err, "curve P-384 does not match ES512") != NULL);
    CHECK(load(&ks, path, "RS256", NULL, err, sizeof(err)) == -1);
    CHECK(load(&ks, path, "PS384", NULL, err, sizeof(err)) == -1);
    CHECK(ks.nkeys == 0);
    EVP_PKEY_free(p384);

    /* secp256k1 (ES256K) is not offered */
    ec = gen_ec("secp256k1");
    path = pem_public(ec);
    CHECK(load(&ks, path, NULL, NULL, err, sizeof(err)) == -1);
    CHECK(strstr(err, "secp256k1 is not supported") != NULL);
    CHECK(load(&ks, path, "ES256", NULL, err, sizeof(err)) == -1);
    CHECK(ks.nkeys == 0);
    EVP_PKEY_free(ec);
}


static void
test_eddsa(void)
{
    size_t          siglen;
    char           *path;
    EVP_PKEY       *ed, *ed448;
    capif_keyset_t  ks;
    unsigned char   sig[128];
    char            err[512];

    ed = gen_ed("ED25519");
    path = pem_public(ed);

    check_roundtrip(ed, path, NULL, CAPIF_ALG_EDDSA);
    check_roundtrip(ed, path, "EdDSA", CAPIF_ALG_EDDSA);

    memset(&ks, 0, sizeof(ks));
    CHECK(load(&ks, path, "ES256", NULL, err, sizeof(err)) == -1);
    CHECK(strstr(err, "Ed25519 key cannot be used with ES256") != NULL);
    CHECK(load(&ks, path, "RS256", NULL, err, sizeof(err)) == -1);

    CHECK(load(&ks, path, NULL, NULL, err, sizeof(err)) == 0);

    if (ks.nkeys == 1) {
        siglen = sign(ed, CAPIF_ALG_EDDSA, 0, msg, MSG_LEN, sig);
        CHECK(siglen == 64);
        CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, 64) == 1);
        CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, 63) == 0);
        sig[64] = 0;
        CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, 65) == 0);

        /* the empty message, data NULL */
        siglen = sign(ed, CAPIF_ALG_EDDSA, 0, msg, 0, sig);
        CHECK(capif_key_verify(&ks.keys[0], NULL, 0, sig, siglen) == 1);
        CHECK(capif_key_verify(&ks.keys[0], NULL, 1, sig, siglen) == 0);
    }

    capif_keyset_free(&ks);
    EVP_PKEY_free(ed);

    ed448 = gen_ed("ED448");
    path = pem_public(ed448);
    CHECK(load(&ks, path, NULL, NULL, err, sizeof(err)) == -1);
    CHECK(strstr(err, "Ed448 keys are not supported") != NULL);
    CHECK(load(&ks, path, "EdDSA", NULL, err, sizeof(err)) == -1);
    EVP_PKEY_free(ed448);
}


static void
test_pem_kinds(EVP_PKEY *rsa)
{
    BIO                *bio;
    char               *path, *cert_path;
    X509               *x509;
    size_t              siglen;
    EVP_PKEY           *ec;
    X509_NAME          *name;
    capif_key_t         bare;
    capif_keyset_t      ks;
    OSSL_ENCODER_CTX   *ectx;
    unsigned char       sig[1024];
    char                err[512], *s;

    memset(&ks, 0, sizeof(ks));

    /* a self-signed certificate */
    ec = gen_ec("P-256");
    x509 = X509_new();
    name = X509_NAME_new();

    if (x509 == NULL || name == NULL
        || X509_set_version(x509, 2) != 1
        || ASN1_INTEGER_set(X509_get_serialNumber(x509), 1) != 1
        || X509_gmtime_adj(X509_getm_notBefore(x509), 0) == NULL
        || X509_gmtime_adj(X509_getm_notAfter(x509), 3600) == NULL
        || X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                      (unsigned char *) "ccf", -1, -1, 0)
           != 1
        || X509_set_subject_name(x509, name) != 1
        || X509_set_issuer_name(x509, name) != 1
        || X509_set_pubkey(x509, ec) != 1
        || X509_sign(x509, ec, EVP_sha256()) == 0)
    {
        abort();
    }

    bio = BIO_new(BIO_s_mem());
    if (bio == NULL || PEM_write_bio_X509(bio, x509) != 1) {
        abort();
    }

    path = write_bio(bio);
    cert_path = path;
    CHECK(load(&ks, path, NULL, "ccf", err, sizeof(err)) == 0);
    CHECK(ks.nkeys == 1);

    if (ks.nkeys == 1) {
        CHECK(ks.keys[0].alg == CAPIF_ALG_ES256);
        CHECK(strcmp((char *) ks.keys[0].kid, "ccf") == 0);
        siglen = sign(ec, CAPIF_ALG_ES256, 0, msg, MSG_LEN, sig);
        CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen) == 1);
        sig[5] ^= 0x10;
        CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen) == 0);
    }

    CHECK(load(&ks, path, "ES384", NULL, err, sizeof(err)) == -1);
    CHECK(strstr(err, "curve P-256 does not match ES384") != NULL);

    /* two PEM blocks */
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL || PEM_write_bio_X509(bio, x509) != 1
        || PEM_write_bio_X509(bio, x509) != 1)
    {
        abort();
    }

    /* leaf then CA, as the reference CCF stores server.crt: the leaf */
    path = write_bio(bio);
    capif_keyset_free(&ks);
    CHECK(load(&ks, path, NULL, NULL, err, sizeof(err)) == 0);
    CHECK(ks.nkeys == 1);

    if (ks.nkeys == 1) {
        CHECK(ks.keys[0].bundle_certs == 2);
        CHECK(ks.keys[0].alg == CAPIF_ALG_ES256);
        siglen = sign(ec, CAPIF_ALG_ES256, 0, msg, MSG_LEN, sig);
        CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen) == 1);
    }

    capif_keyset_free(&ks);

    /* the same from memory, with the CA's key not used */
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL || PEM_write_bio_X509(bio, x509) != 1
        || PEM_write_bio_PUBKEY(bio, rsa) != 1)
    {
        abort();
    }

    {
        char  *data;
        long   len;

        len = BIO_get_mem_data(bio, &data);

        /* a certificate then a bare key is no bundle */
        CHECK(capif_keyset_load_buf(&ks, "mem", (unsigned char *) data,
                                    (size_t) len, NULL, NULL, err,
                                    sizeof(err)) == -1);
        CHECK(strstr(err, "holds 2 PEM blocks") != NULL);
        CHECK(strstr(err, "\"mem\"") != NULL);
        BIO_free(bio);

        bio = BIO_new(BIO_s_mem());
        if (bio == NULL || PEM_write_bio_PUBKEY(bio, rsa) != 1
            || PEM_write_bio_X509(bio, x509) != 1)
        {
            abort();
        }

        /* a key first is no bundle either */
        len = BIO_get_mem_data(bio, &data);
        CHECK(capif_keyset_load_buf(&ks, "mem", (unsigned char *) data,
                                    (size_t) len, NULL, NULL, err,
                                    sizeof(err)) == -1);
        CHECK(strstr(err, "holds 2 PEM blocks") != NULL);
        BIO_free(bio);

        bio = BIO_new(BIO_s_mem());
        if (bio == NULL || PEM_write_bio_X509(bio, x509) != 1) {
            abort();
        }

        len = BIO_get_mem_data(bio, &data);
        CHECK(capif_keyset_load_buf(&ks, "mem", (unsigned char *) data,
                                    (size_t) len, NULL, "k1", err,
                                    sizeof(err)) == 0);
        CHECK(ks.nkeys == 1 && ks.keys[0].bundle_certs == 1);
        CHECK(ks.nkeys == 1 && strcmp(ks.keys[0].source, "mem") == 0);
        CHECK(capif_keyset_load_buf(&ks, "mem", (unsigned char *) "  \n",
                                    3, NULL, NULL, err, sizeof(err)) == -1);
        CHECK(strstr(err, "holds no key") != NULL);
        CHECK(capif_keyset_load_buf(&ks, "mem", NULL, 0, NULL, NULL, err,
                                    sizeof(err)) == -1);
        CHECK(ks.nkeys == 1);
        BIO_free(bio);
    }

    /* what follows expects the one certificate's key */
    capif_keyset_free(&ks);
    CHECK(load(&ks, cert_path, NULL, "ccf", err, sizeof(err)) == 0);

    X509_NAME_free(name);
    X509_free(x509);

    /* private keys: PKCS#8, traditional RSA and EC, encrypted PKCS#8 */
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL
        || PEM_write_bio_PrivateKey(bio, rsa, NULL, NULL, 0, NULL, NULL)
           != 1)
    {
        abort();
    }

    path = write_bio(bio);
    CHECK(load(&ks, path, NULL, NULL, err, sizeof(err)) == -1);
    CHECK(strstr(err, "holds a private key (PRIVATE KEY)") != NULL);

    bio = BIO_new(BIO_s_mem());
    if (bio == NULL
        || PEM_write_bio_PrivateKey_traditional(bio, rsa, NULL, NULL, 0,
                                                NULL, NULL) != 1)
    {
        abort();
    }

    path = write_bio(bio);
    CHECK(load(&ks, path, NULL, NULL, err, sizeof(err)) == -1);
    CHECK(strstr(err, "holds a private key (RSA PRIVATE KEY)") != NULL);

    bio = BIO_new(BIO_s_mem());
    if (bio == NULL
        || PEM_write_bio_PrivateKey_traditional(bio, ec, NULL, NULL, 0,
                                                NULL, NULL) != 1)
    {
        abort();
    }

    path = write_bio(bio);
    CHECK(load(&ks, path, NULL, NULL, err, sizeof(err)) == -1);
    CHECK(strstr(err, "holds a private key (EC PRIVATE KEY)") != NULL);

    /* a public key followed by its private key: still refused */
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL || PEM_write_bio_PUBKEY(bio, ec) != 1
        || PEM_write_bio_PrivateKey(bio, ec, NULL, NULL, 0, NULL, NULL) != 1)
    {
        abort();
    }

    path = write_bio(bio);
    CHECK(load(&ks, path, NULL, NULL, err, sizeof(err)) == -1);
    CHECK(strstr(err, "holds a private key") != NULL);
    CHECK(ks.nkeys == 1);

    EVP_PKEY_free(ec);

    /* PKCS#1 "RSA PUBLIC KEY" */
    bio = BIO_new(BIO_s_mem());
    ectx = OSSL_ENCODER_CTX_new_for_pkey(rsa, EVP_PKEY_PUBLIC_KEY, "PEM",
                                         "type-specific", NULL);
    if (bio == NULL || ectx == NULL || OSSL_ENCODER_to_bio(ectx, bio) != 1) {
        abort();
    }

    OSSL_ENCODER_CTX_free(ectx);
    (void) BIO_get_mem_data(bio, &s);
    CHECK(strncmp(s, "-----BEGIN RSA PUBLIC KEY-----", 30) == 0);
    path = write_bio(bio);
    CHECK(load(&ks, path, "PS512", "pkcs1", err, sizeof(err)) == 0);
    CHECK(ks.nkeys == 2);

    if (ks.nkeys == 2) {
        CHECK(ks.keys[1].alg == CAPIF_ALG_PS512);
        siglen = sign(rsa, CAPIF_ALG_PS512, 0, msg, MSG_LEN, sig);
        CHECK(capif_key_verify(&ks.keys[1], msg, MSG_LEN, sig, siglen) == 1);
    }

    /* RSA-PSS restricted keys */
    ec = gen_pss();
    path = pem_public(ec);
    CHECK(load(&ks, path, "PS256", NULL, err, sizeof(err)) == -1);
    CHECK(strstr(err, "RSA-PSS restricted keys are not supported") != NULL);
    EVP_PKEY_free(ec);

    /* neither PEM nor JSON, broken PEM, empty, missing, too big */
    path = write_str("hello\n");
    CHECK(load(&ks, path, NULL, NULL, err, sizeof(err)) == -1);
    CHECK(strstr(err, "neither a JWKS nor a PEM") != NULL);

    path = write_str("-----BEGIN PUBLIC KEY-----\nAAAA\n"
                     "-----END PUBLIC KEY-----\n");
    CHECK(load(&ks, path, NULL, NULL, err, sizeof(err)) == -1);
    CHECK(strstr(err, "cannot parse the PEM PUBLIC KEY") != NULL);

    path = write_str("-----BEGIN X509 CRL-----\nAAAA\n"
                     "-----END X509 CRL-----\n");
    CHECK(load(&ks, path, NULL, NULL, err, sizeof(err)) == -1);
    CHECK(strstr(err, "\"X509 CRL\" is neither") != NULL);

    path = write_file("", 0);
    CHECK(load(&ks, path, NULL, NULL, err, sizeof(err)) == -1);
    CHECK(strstr(err, "file is empty") != NULL);

    CHECK(load(&ks, "/nonexistent/k.pem", NULL, NULL, err, sizeof(err))
          == -1);
    CHECK(strcmp(err, "\"/nonexistent/k.pem\": cannot open: "
                 "No such file or directory") == 0);

    CHECK(load(&ks, "/tmp", NULL, NULL, err, sizeof(err)) == -1);
    CHECK(strstr(err, "not a regular file") != NULL);

    s = malloc(1024 * 1024 + 1);
    if (s == NULL) {
        abort();
    }

    memset(s, ' ', 1024 * 1024 + 1);
    s[0] = '{';
    path = write_file(s, 1024 * 1024 + 1);
    free(s);
    CHECK(load(&ks, path, NULL, NULL, err, sizeof(err)) == -1);
    CHECK(strstr(err, "larger than the 1048576 bytes") != NULL);

    CHECK(ks.nkeys == 2);

    /* verify refuses what has no key */
    CHECK(capif_key_verify(NULL, msg, MSG_LEN, sig, 256) == 0);
    memset(&bare, 0, sizeof(bare));
    bare.alg = CAPIF_ALG_RS256;
    CHECK(capif_key_verify(&bare, msg, MSG_LEN, sig, 256) == 0);

    /* a key whose alg was changed after loading does not verify */
    if (ks.nkeys == 2) {
        bare = ks.keys[1];
        bare.alg = CAPIF_ALG_ES256;
        CHECK(capif_key_verify(&bare, msg, MSG_LEN, sig, 64) == 0);
        bare.alg = CAPIF_ALG_UNKNOWN;
        CHECK(capif_key_verify(&bare, msg, MSG_LEN, sig, 512) == 0);
    }

    capif_keyset_free(&ks);
}


/* the base64url of a BIGNUM parameter, or of an octet string */
static char *
b64(const unsigned char *data, size_t len)
{
    char  *out;

    out = malloc(capif_b64url_encoded_len(len) + 1);
    if (out == NULL) {
        abort();
    }

    out[capif_b64url_encode(data, len, (unsigned char *) out)] = '\0';

    return out;
}


static char *
b64_bn(EVP_PKEY *pkey, const char *param)
{
    int             n;
    char           *out;
    BIGNUM         *bn;
    unsigned char   buf[1024];

    bn = NULL;
    if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1) {
        abort();
    }

    n = BN_bn2bin(bn, buf);
    BN_free(bn);
    out = b64(buf, (size_t) n);

    return out;
}


/* x and y of an EC key, base64url */
static void
b64_xy(EVP_PKEY *pkey, size_t clen, char **x, char **y)
{
    size_t          len;
    unsigned char   buf[256];

    if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, buf,
                                        sizeof(buf), &len) != 1
        || len != 1 + 2 * clen || buf[0] != 0x04)
    {
        abort();
    }

    *x = b64(buf + 1, clen);
    *y = b64(buf + 1 + clen, clen);
}


static void
test_jwks(EVP_PKEY *rsa)
{
    size_t          i, siglen, len;
    char           *path, *n, *e, *x, *y, *okx, *x384, *y384, *json;
    EVP_PKEY       *ec, *ed, *ec384;
    capif_keyset_t  ks;
    unsigned char   sig[1024], raw[64];
    char            err[512];

    n = b64_bn(rsa, OSSL_PKEY_PARAM_RSA_N);
    e = b64_bn(rsa, OSSL_PKEY_PARAM_RSA_E);

    ec = gen_ec("P-256");
    b64_xy(ec, 32, &x, &y);

    ec384 = gen_ec("P-384");
    b64_xy(ec384, 48, &x384, &y384);

    ed = gen_ed("ED25519");
    len = sizeof(raw);
    if (EVP_PKEY_get_raw_public_key(ed, raw, &len) != 1 || len != 32) {
        abort();
    }

    okx = b64(raw, 32);

    json = malloc(16384);
    if (json == NULL) {
        abort();
    }

    snprintf(json, 16384,
             " \n{\"keys\": [\n"
             "  {\"kty\": \"RSA\", \"kid\": \"r1\", \"alg\": \"PS384\","
             " \"use\": \"sig\", \"n\": \"%s\", \"e\": \"%s\"},\n"
             "  {\"kty\": \"EC\", \"kid\": \"e1\", \"crv\": \"P-256\","
             " \"x\": \"%s\", \"y\": \"%s\", \"key_ops\": [\"verify\"]},\n"
             "  {\"kty\": \"OKP\", \"kid\": \"o1\", \"alg\": \"EdDSA\","
             " \"crv\": \"Ed25519\", \"x\": \"%s\"},\n"
             "  {\"kty\": \"RSA\", \"n\": \"%s\", \"e\": \"%s\"}\n"
             "], \"other\": 1}\n", n, e, x, y, okx, n, e);

    path = write_str(json);

    memset(&ks, 0, sizeof(ks));
    CHECK(load(&ks, path, NULL, NULL, err, sizeof(err)) == 0);
    CHECK(ks.nkeys == 4);

    if (ks.nkeys == 4) {
        CHECK(ks.keys[0].alg == CAPIF_ALG_PS384);
        CHECK(ks.keys[0].kid_len == 2
              && memcmp(ks.keys[0].kid, "r1", 2) == 0);
        CHECK(ks.keys[1].alg == CAPIF_ALG_ES256);
        CHECK(ks.keys[1].kid_len == 2
              && memcmp(ks.keys[1].kid, "e1", 2) == 0);
        CHECK(ks.keys[2].alg == CAPIF_ALG_EDDSA);
        CHECK(ks.keys[2].kid_len == 2
              && memcmp(ks.keys[2].kid, "o1", 2) == 0);
        CHECK(ks.keys[3].alg == CAPIF_ALG_RS256);
        CHECK(ks.keys[3].kid == NULL);

        for (i = 0; i < 4; i++) {
            CHECK(strcmp(ks.keys[i].source, path) == 0);
        }

        siglen = sign(rsa, CAPIF_ALG_PS384, 0, msg, MSG_LEN, sig);
        CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen) == 1);
        CHECK(capif_key_verify(&ks.keys[3], msg, MSG_LEN, sig, siglen) == 0);

        siglen = sign(rsa, CAPIF_ALG_RS256, 0, msg, MSG_LEN, sig);
        CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen) == 0);
        CHECK(capif_key_verify(&ks.keys[3], msg, MSG_LEN, sig, siglen) == 1);

        siglen = sign(ec, CAPIF_ALG_ES256, 0, msg, MSG_LEN, sig);
        CHECK(capif_key_verify(&ks.keys[1], msg, MSG_LEN, sig, siglen) == 1);

        siglen = sign(ed, CAPIF_ALG_EDDSA, 0, msg, MSG_LEN, sig);
        CHECK(capif_key_verify(&ks.keys[2], msg, MSG_LEN, sig, siglen) == 1);
        CHECK(capif_key_verify(&ks.keys[1], msg, MSG_LEN, sig, siglen) == 0);
    }

    /* the same file again: every kid is taken, nothing is added */
    CHECK(load(&ks, path, NULL, NULL, err, sizeof(err)) == -1);
    CHECK(strstr(err, "kid \"r1\" is already used by a key from") != NULL);
    CHECK(ks.nkeys == 4);

    /* kid= cannot name the keys of a multi-key JWKS */
    CHECK(load(&ks, path, NULL, "x", err, sizeof(err)) == -1);
    CHECK(strstr(err, "kid= cannot name the 4 keys") != NULL);

    /* alg= must fit every key, and agree with a JWK's "alg" */
    CHECK(load(&ks, path, "PS384", NULL, err, sizeof(err)) == -1);
    CHECK(ks.nkeys == 4);

    capif_keyset_free(&ks);

    /* a single JWK, kid= overrides its "kid" */
    snprintf(json, 16384, "{\"kty\": \"EC\", \"kid\": \"e1\", \"crv\":"
             " \"P-384\", \"x\": \"%s\", \"y\": \"%s\"}", x384, y384);
    path = write_str(json);
    CHECK(load(&ks, path, NULL, "over", err, sizeof(err)) == 0);
    CHECK(ks.nkeys == 1);

    if (ks.nkeys == 1) {
        CHECK(ks.keys[0].alg == CAPIF_ALG_ES384);
        CHECK(ks.keys[0].kid_len == 4
              && memcmp(ks.keys[0].kid, "over", 4) == 0);
        siglen = sign(ec384, CAPIF_ALG_ES384, 0, msg, MSG_LEN, sig);
        CHECK(capif_key_verify(&ks.keys[0], msg, MSG_LEN, sig, siglen) == 1);
    }

    CHECK(load(&ks, path, "ES256", "k2", err, sizeof(err)) == -1);
    CHECK(strstr(err, "curve P-384 does not match ES256") != NULL);
    capif_keyset_free(&ks);

#define REFUSED(fmt, a1, a2, what)                                        \
    do {                                                                  \
        snprintf(json, 16384, fmt, a1, a2);                               \
        path = write_str(json);                                           \
        CHECK(load(&ks, path, NULL, NULL, err, sizeof(err)) == -1);       \
        CHECK(strstr(err, what) != NULL);                                 \
        if (strstr(err, what) == NULL) {                                  \
            fprintf(stderr, "  got: %s\n", err);                          \
        }                                                                 \
        CHECK(ks.nkeys == 0);                                             \
    } while (0)

    REFUSED("{\"keys\": [{\"kty\": \"oct\", \"k\": \"%s%s\"}]}", n, "",
            "JWK #1: \"kty\" \"oct\" is a symmetric key");
    REFUSED("{\"kty\": \"RSA\", \"n\": \"%s\", \"e\": \"%s\", \"d\": \"AQ\"}",
            n, e, "holds the private member \"d\"");
    REFUSED("{\"kty\": \"RSA\", \"n\": \"%s\", \"e\": \"%s\", \"p\": \"AQ\"}",
            n, e, "holds the private member \"p\"");
    REFUSED("{\"kty\": \"EC\", \"crv\": \"P-256\", \"x\": \"%s\", \"y\":"
            " \"%s\", \"d\": \"AQ\"}", x, y, "private member \"d\"");
    REFUSED("{\"kty\": \"RSA\", \"n\": \"%s\", \"e\": \"%s\", \"use\":"
            " \"enc\"}", n, e, "\"use\" is \"enc\", not \"sig\"");
    REFUSED("{\"kty\": \"RSA\", \"n\": \"%s\", \"e\": \"%s\", \"key_ops\":"
            " [\"encrypt\"]}", n, e, "does not allow \"verify\"");
    REFUSED("{\"kty\": \"RSA\", \"n\": \"%s\", \"e\": \"%s\", \"alg\":"
            " \"HS256\"}", n, e, "\"alg\" \"HS256\" is not accepted");
    REFUSED("{\"kty\": \"RSA\", \"n\": \"%s\", \"e\": \"%s\", \"alg\":"
            " \"none\"}", n, e, "\"alg\" \"none\" is not accepted");
    REFUSED("{\"kty\": \"RSA\", \"n\": \"%s\", \"e\": \"%s\", \"alg\":"
            " \"ES256\"}", n, e, "an RSA key cannot be used with ES256");
    REFUSED("{\"kty\": \"RSA\", \"n\": \"%s\", \"e\": %s}", n, "65537",
            "member \"e\" is not a string");
    REFUSED("{\"kty\": \"RSA\", \"n\": \"%s\", \"e\": \"%s\", \"kid\": 7}",
            n, e, "member \"kid\" is not a string");
    REFUSED("{\"kty\": \"RSA\", \"n\": \"%s\", \"e\": \"%s\", \"kid\": \"\"}",
            n, e, "\"kid\" is empty");
    REFUSED("{\"kty\": \"RSA\", \"n\": \"%s=\", \"e\": \"%s\"}", n, e,
            "member \"n\" is not canonical unpadded base64url");
    REFUSED("{\"kty\": \"RSA\", \"n\": \"%s\", \"f\": \"%s\"}", n, e,
            "member \"e\" is missing");
    REFUSED("{\"kty\": \"RSA\", \"n\": \"%s\", \"e\": \"%s\"}", "AQAB", e,
            "RSA key of 17 bits is weaker");
    REFUSED("{\"kty\": \"RSA\", \"n\": \"%s\", \"e\": \"%s\"}", n, "AQ",
            "public exponent must be odd");
    REFUSED("{\"kty\": 1, \"n\": \"%s\", \"e\": \"%s\"}", n, e,
            "member \"kty\" is not a string");
    REFUSED("{\"kty\": \"DSA\", \"n\": \"%s\", \"e\": \"%s\"}", n, e,
            "\"kty\" \"DSA\" is not supported");
    REFUSED("{\"kty\": \"RSA\", \"n\": \"%s\", \"n\": \"%s\"}", n, e,
            "invalid JSON");
    REFUSED("{\"kty\": \"RSA\", \"n\": \"%s\", \"e\": \"%s\"", n, e,
            "invalid JSON");
    REFUSED("{\"keys\": {\"kty\": \"RSA\", \"n\": \"%s\", \"e\": \"%s\"}}",
            n, e, "member \"keys\" is not an array");
    REFUSED("{\"keys\": []%s%s}", "", "", "JWKS has no keys");
    REFUSED("{\"keys\": [\"%s%s\"]}", "", "", "JWK #1: not a JSON object");
    REFUSED("{\"kid\": \"%s%s\"}", "", "", "neither a JWKS");
    REFUSED("{\"kty\": \"EC\", \"crv\": \"P-384\", \"x\": \"%s\", \"y\":"
            " \"%s\"}", x, y, "P-384 coordinates must be 48 bytes");
    REFUSED("{\"kty\": \"EC\", \"crv\": \"secp256k1\", \"x\": \"%s\", \"y\":"
            " \"%s\"}", x, y, "\"secp256k1\" is not supported");
    REFUSED("{\"kty\": \"EC\", \"crv\": \"P-256\", \"x\": \"%s\", \"y\":"
            " \"%s\"}", x, x, "cannot build the P-256 key");
    REFUSED("{\"kty\": \"EC\", \"crv\": \"P-256\", \"x\": \"%s\", \"y\":"
            " \"%s\", \"alg\": \"ES384\"}", x, y,
            "curve P-256 does not match ES384");
    REFUSED("{\"kty\": \"OKP\", \"crv\": \"Ed448\", \"x\": \"%s%s\"}", okx, "",
            "\"Ed448\" is not supported");
    REFUSED("{\"kty\": \"OKP\", \"crv\": \"Ed25519\", \"x\": \"%s%s\"}", x384,
            "", "\"x\" must be 32 bytes, not 48");
    REFUSED("{\"keys\": [{\"kty\": \"RSA\", \"kid\": \"a\", \"n\": \"%s\","
            " \"e\": \"%s\"}, {\"kty\": \"RSA\", \"kid\": \"a\", \"n\":"
            " \"AQAB\", \"e\": \"AQAB\"}]}", n, e, "RSA key of 17 bits");

    /* duplicate kid inside one JWKS */
    snprintf(json, 16384,
             "{\"keys\": [{\"kty\": \"RSA\", \"kid\": \"a\", \"n\": \"%s\","
             " \"e\": \"%s\"}, {\"kty\": \"OKP\", \"kid\": \"a\", \"crv\":"
             " \"Ed25519\", \"x\": \"%s\"}]}", n, e, okx);
    path = write_str(json);
    CHECK(load(&ks, path, NULL, NULL, err, sizeof(err)) == -1);
    CHECK(strstr(err, "two keys have kid \"a\"") != NULL);
    CHECK(ks.nkeys == 0);

    /* JWK "alg" and alg= disagree */
    snprintf(json, 16384, "{\"kty\": \"RSA\", \"alg\": \"RS512\", \"n\":"
             " \"%s\", \"e\": \"%s\"}", n, e);
    path = write_str(json);
    CHECK(load(&ks, path, "PS256", NULL, err, sizeof(err)) == -1);
    CHECK(strstr(err, "\"alg\" \"RS512\" differs from alg=PS256") != NULL);
    CHECK(load(&ks, path, "RS512", NULL, err, sizeof(err)) == 0);
    CHECK(ks.nkeys == 1 && ks.keys[0].alg == CAPIF_ALG_RS512);

    capif_keyset_free(&ks);

    free(json);
    free(n);
    free(e);
    free(x);
    free(y);
    free(x384);
    free(y384);
    free(okx);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ec384);
    EVP_PKEY_free(ed);
}


/*
 * Ed25519 keys of small order, off the curve, with a small-order
 * component or in a non-canonical encoding are refused at load, as JWK and as PEM; an honest key still loads.  Each weak key is
 * a y coordinate (little-endian) with the sign bit as given.
 */
static void
test_eddsa_weak(void)
{
    char            *path, err[256], json[256], *x;
    size_t           i, len;
    EVP_PKEY        *pk, *ed;
    EVP_MD_CTX      *md;
    unsigned char    raw[32], sig[64];
    capif_keyset_t   ks;

    static const struct {
        const char  *hex;
        const char  *why;
    } weak[] = {
        { "0100000000000000000000000000000000000000000000000000000000000000",
          "small order" },
        { "0100000000000000000000000000000000000000000000000000000000000080",
          "small order" },
        { "0000000000000000000000000000000000000000000000000000000000000000",
          "small order" },
        { "0000000000000000000000000000000000000000000000000000000000000080",
          "small order" },
        { "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
          "small order" },
        { "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
          "small order" },
        { "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
          "small order" },
        { "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
          "small order" },
        { "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
          "small order" },
        /* y = p, p + 1, 2^255 - 1: non-canonical */
        { "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
          "not canonically encoded" },
        { "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
          "not canonically encoded" },
        { "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
          "not canonically encoded" },
        /* y = 2 has no x */
        { "0200000000000000000000000000000000000000000000000000000000000000",
          "not a point of the curve" },
        /* RFC 8032 7.1 test 1's key plus a point of order 8 */
        { "3b5b475c4b82dd1572799fc546f4c6c03e478c6654aa4c7f945b347ea32af60d",
          "prime-order subgroup" }
    };

    memset(&ks, 0, sizeof(ks));

    for (i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
        for (len = 0; len < 32; len++) {
            CHECK(sscanf(weak[i].hex + 2 * len, "%2hhx", &raw[len]) == 1);
        }

        /* JWK */
        x = b64(raw, 32);
        snprintf(json, sizeof(json), "{\"kty\": \"OKP\", \"crv\":"
                 " \"Ed25519\", \"x\": \"%s\"}", x);
        free(x);
        path = write_str(json);
        CHECK(load(&ks, path, NULL, NULL, err, sizeof(err)) == -1);
        CHECK(strstr(err, weak[i].why) != NULL);
        CHECK(ks.nkeys == 0);

        /* PEM, with alg= too */
        pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, 32);
        CHECK(pk != NULL);
        path = pem_public(pk);
        CHECK(load(&ks, path, "EdDSA", NULL, err, sizeof(err)) == -1);
        CHECK(strstr(err, weak[i].why) != NULL);
        CHECK(ks.nkeys == 0);

        if (i == 0) {
            /*
             * Why: OpenSSL verifies the signature 0x01 || 0^63 of any
             * message against the neutral point.
             */
            memset(sig, 0, sizeof(sig));
            sig[0] = 0x01;
            md = EVP_MD_CTX_new();
            CHECK(md != NULL);
            CHECK(EVP_DigestVerifyInit(md, NULL, NULL, NULL, pk) == 1);
            CHECK(EVP_DigestVerify(md, sig, 64, msg, MSG_LEN) == 1);
            EVP_MD_CTX_free(md);
        }

        EVP_PKEY_free(pk);
    }

    /* an honest key loads, as PEM and as JWK */
    ed = gen_ed("ED25519");
    path = pem_public(ed);
    CHECK(load(&ks, path, NULL, NULL, err, sizeof(err)) == 0);
    len = sizeof(raw);
    CHECK(EVP_PKEY_get_raw_public_key(ed, raw, &len) == 1 && len == 32);
    x = b64(raw, 32);
    snprintf(json, sizeof(json), "{\"kty\": \"OKP\", \"crv\": \"Ed25519\","
             " \"x\": \"%s\"}", x);
    free(x);
    path = write_str(json);
    CHECK(load(&ks, path, NULL, NULL, err, sizeof(err)) == 0);
    CHECK(ks.nkeys == 2);

    capif_keyset_free(&ks);
    EVP_PKEY_free(ed);
}


int
main(void)
{
    size_t     i;
    EVP_PKEY  *rsa;

    rsa = gen_rsa(2048);

    test_alg_names();
    test_rsa(rsa);
    test_rsa_weak();
    test_ec();
    test_eddsa();
    test_eddsa_weak();
    test_pem_kinds(rsa);
    test_jwks(rsa);

    EVP_PKEY_free(rsa);

    for (i = 0; i < nfiles; i++) {
        unlink(files[i]);
        free(files[i]);
    }

    return UNIT_DONE();
}

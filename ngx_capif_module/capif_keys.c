/*
 * Copyright (C) ngx_capif_module authors
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "capif_b64url.h"
#include "capif_ed25519.h"
#include "capif_keys.h"


/* key files are small; a bigger one is a configuration mistake */
#define CAPIF_KEYS_MAX_FILE  (1024 * 1024)

#define CAPIF_KEYS_RSA_MIN_BITS  2048

/* OpenSSL refuses to verify with larger moduli: say so at load time */
#define CAPIF_KEYS_RSA_MAX_BITS  16384


typedef struct {
    const char       *path;
    char             *errbuf;
    size_t            errlen;
    char              where[32];    /* "JWK #2: " inside a JWKS */
    capif_alg_t       alg;          /* alg=, or CAPIF_ALG_UNKNOWN */
    const char       *kid;          /* kid=, or NULL */
    capif_key_t      *keys;         /* new keys, not yet in the set */
    size_t            nkeys;
} capif_keys_load_t;


typedef struct {
    const char       *jwk;          /* JWK "crv" */
    const char       *ossl;         /* OpenSSL group name */
    size_t            len;          /* coordinate and scalar bytes */
    capif_alg_t       alg;
    const unsigned char  *order;
} capif_keys_curve_t;


static const struct {
    const char       *name;
    size_t            len;
    capif_alg_t       alg;
} capif_keys_algs[] = {
    { "RS256", 5, CAPIF_ALG_RS256 },
    { "RS384", 5, CAPIF_ALG_RS384 },
    { "RS512", 5, CAPIF_ALG_RS512 },
    { "PS256", 5, CAPIF_ALG_PS256 },
    { "PS384", 5, CAPIF_ALG_PS384 },
    { "PS512", 5, CAPIF_ALG_PS512 },
    { "ES256", 5, CAPIF_ALG_ES256 },
    { "ES384", 5, CAPIF_ALG_ES384 },
    { "ES512", 5, CAPIF_ALG_ES512 },
    { "EdDSA", 5, CAPIF_ALG_EDDSA }
};

#define CAPIF_KEYS_NALGS  (sizeof(capif_keys_algs) / sizeof(capif_keys_algs[0]))


/* group orders: r and s of a signature must be below them */

static const unsigned char  capif_keys_order_p256[] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
    0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51
};

static const unsigned char  capif_keys_order_p384[] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
    0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a,
    0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73
};

static const unsigned char  capif_keys_order_p521[] = {
    0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xfa, 0x51, 0x86, 0x87, 0x83, 0xbf, 0x2f,
    0x96, 0x6b, 0x7f, 0xcc, 0x01, 0x48, 0xf7, 0x09,
    0xa5, 0xd0, 0x3b, 0xb5, 0xc9, 0xb8, 0x89, 0x9c,
    0x47, 0xae, 0xbb, 0x6f, 0xb7, 0x1e, 0x91, 0x38,
    0x64, 0x09
};


static const capif_keys_curve_t  capif_keys_curves[] = {
    { "P-256", "prime256v1", 32, CAPIF_ALG_ES256, capif_keys_order_p256 },
    { "P-384", "secp384r1", 48, CAPIF_ALG_ES384, capif_keys_order_p384 },
    { "P-521", "secp521r1", 66, CAPIF_ALG_ES512, capif_keys_order_p521 }
};

#define CAPIF_KEYS_NCURVES                                                 \
    (sizeof(capif_keys_curves) / sizeof(capif_keys_curves[0]))


/* members that only a private (or symmetric) JWK has */
static const char  *capif_keys_private_members[] = {
    "d", "p", "q", "dp", "dq", "qi", "oth", "k", NULL
};


capif_alg_t
capif_alg_from_name(const char *name, size_t len)
{
    size_t  i;

    if (name == NULL) {
        return CAPIF_ALG_UNKNOWN;
    }

    for (i = 0; i < CAPIF_KEYS_NALGS; i++) {
        if (len == capif_keys_algs[i].len
            && memcmp(name, capif_keys_algs[i].name, len) == 0)
        {
            return capif_keys_algs[i].alg;
        }
    }

    return CAPIF_ALG_UNKNOWN;
}


const char *
capif_alg_name(capif_alg_t alg)
{
    size_t  i;

    for (i = 0; i < CAPIF_KEYS_NALGS; i++) {
        if (capif_keys_algs[i].alg == alg) {
            return capif_keys_algs[i].name;
        }
    }

    return "unknown";
}


static int
capif_keys_fail(capif_keys_load_t *ld, const char *fmt, ...)
{
    int      n;
    va_list  args;

    if (ld->errbuf == NULL || ld->errlen == 0) {
        return -1;
    }

    n = snprintf(ld->errbuf, ld->errlen, "\"%s\": %s", ld->path, ld->where);

    if (n < 0 || (size_t) n >= ld->errlen) {
        return -1;
    }

    va_start(args, fmt);
    (void) vsnprintf(ld->errbuf + n, ld->errlen - n, fmt, args);
    va_end(args);

    return -1;
}


/* OpenSSL's own reason, so that a parse error is not a guessing game */
static const char *
capif_keys_ossl_reason(char *buf, size_t len)
{
    unsigned long  e;

    e = ERR_peek_last_error();

    if (e == 0) {
        return "no details";
    }

    ERR_error_string_n(e, buf, len);

    return buf;
}


static void capif_keys_vfy_free(capif_key_vfy_t *vfy);


static void
capif_keys_free_key(capif_key_t *key)
{
    capif_keys_vfy_free(key->vfy);
    EVP_PKEY_free(key->pkey);
    free(key->kid);
    free(key->source);
    memset(key, 0, sizeof(capif_key_t));
}


void
capif_keyset_free(capif_keyset_t *ks)
{
    size_t  i;

    if (ks == NULL) {
        return;
    }

    for (i = 0; i < ks->nkeys; i++) {
        capif_keys_free_key(&ks->keys[i]);
    }

    free(ks->keys);
    memset(ks, 0, sizeof(capif_keyset_t));
}


static const unsigned char *
capif_keys_find(const unsigned char *p, const unsigned char *end,
    const char *s)
{
    size_t  n;

    n = strlen(s);

    for ( /* void */ ; (size_t) (end - p) >= n; p++) {
        if (memcmp(p, s, n) == 0) {
            return p;
        }
    }

    return NULL;
}


static int
capif_keys_read(capif_keys_load_t *ld, unsigned char **out, size_t *outlen)
{
    int             err;
    FILE           *f;
    size_t          n, size;
    struct stat     st;
    unsigned char  *buf;

    *out = NULL;
    *outlen = 0;

    f = fopen(ld->path, "rb");
    if (f == NULL) {
        return capif_keys_fail(ld, "cannot open: %s", strerror(errno));
    }

    if (fstat(fileno(f), &st) != 0) {
        err = errno;
        fclose(f);
        return capif_keys_fail(ld, "cannot stat: %s", strerror(err));
    }

    if (!S_ISREG(st.st_mode)) {
        fclose(f);
        return capif_keys_fail(ld, "not a regular file");
    }

    if (st.st_size > CAPIF_KEYS_MAX_FILE) {
        fclose(f);
        return capif_keys_fail(ld, "file of %lld bytes is larger than the "
                               "%d bytes allowed for a key file",
                               (long long) st.st_size, CAPIF_KEYS_MAX_FILE);
    }

    if (st.st_size == 0) {
        fclose(f);
        return capif_keys_fail(ld, "file is empty");
    }

    size = (size_t) st.st_size;

    /* one spare byte: reading it means the file grew meanwhile */
    buf = malloc(size + 1);
    if (buf == NULL) {
        fclose(f);
        return capif_keys_fail(ld, "out of memory");
    }

    n = fread(buf, 1, size + 1, f);

    if (ferror(f)) {
        err = errno;
        fclose(f);
        free(buf);
        return capif_keys_fail(ld, "read error: %s", strerror(err));
    }

    fclose(f);

    if (n != size) {
        free(buf);
        return capif_keys_fail(ld, "file changed while being read");
    }

    *out = buf;
    *outlen = size;

    return 0;
}


static const capif_keys_curve_t *
capif_keys_curve_by_ossl(const char *name)
{
    size_t  i;

    for (i = 0; i < CAPIF_KEYS_NCURVES; i++) {
        if (strcmp(name, capif_keys_curves[i].ossl) == 0
            || strcmp(name, capif_keys_curves[i].jwk) == 0)
        {
            return &capif_keys_curves[i];
        }
    }

    return NULL;
}


static const capif_keys_curve_t *
capif_keys_curve_by_alg(capif_alg_t alg)
{
    size_t  i;

    for (i = 0; i < CAPIF_KEYS_NCURVES; i++) {
        if (capif_keys_curves[i].alg == alg) {
            return &capif_keys_curves[i];
        }
    }

    return NULL;
}


static int
capif_keys_is_rsa_alg(capif_alg_t alg)
{
    return alg >= CAPIF_ALG_RS256 && alg <= CAPIF_ALG_PS512;
}


static int
capif_keys_bind_rsa(capif_keys_load_t *ld, EVP_PKEY *pkey, capif_alg_t want,
    capif_alg_t *alg)
{
    int      bits, ok;
    BIGNUM  *e;

    bits = EVP_PKEY_get_bits(pkey);

    if (bits < CAPIF_KEYS_RSA_MIN_BITS) {
        return capif_keys_fail(ld, "RSA key of %d bits is weaker than the "
                               "%d bits required", bits,
                               CAPIF_KEYS_RSA_MIN_BITS);
    }

    if (bits > CAPIF_KEYS_RSA_MAX_BITS) {
        return capif_keys_fail(ld, "RSA key of %d bits is larger than the "
                               "%d bits OpenSSL verifies with", bits,
                               CAPIF_KEYS_RSA_MAX_BITS);
    }

    /* e = 1 (or even) would make signatures trivial to forge */
    e = NULL;

    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
        return capif_keys_fail(ld, "RSA key without a public exponent");
    }

    ok = BN_is_odd(e) && !BN_is_one(e);
    BN_free(e);

    if (!ok) {
        return capif_keys_fail(ld, "RSA public exponent must be odd and "
                               "greater than 1");
    }

    if (want == CAPIF_ALG_UNKNOWN) {
        *alg = CAPIF_ALG_RS256;
        return 0;
    }

    if (!capif_keys_is_rsa_alg(want)) {
        return capif_keys_fail(ld, "an RSA key cannot be used with %s",
                               capif_alg_name(want));
    }

    *alg = want;

    return 0;
}


static int
capif_keys_bind_ec(capif_keys_load_t *ld, EVP_PKEY *pkey, capif_alg_t want,
    capif_alg_t *alg)
{
    int                        ok;
    char                       name[64];
    size_t                     len;
    EVP_PKEY_CTX              *ctx;
    const capif_keys_curve_t  *curve;

    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                       name, sizeof(name), &len)
        != 1)
    {
        return capif_keys_fail(ld, "EC key without a named curve is not "
                               "supported; use P-256, P-384 or P-521");
    }

    curve = capif_keys_curve_by_ossl(name);
    if (curve == NULL) {
        return capif_keys_fail(ld, "EC curve %s is not supported; use "
                               "P-256, P-384 or P-521", name);
    }

    if (want != CAPIF_ALG_UNKNOWN && want != curve->alg) {
        if (capif_keys_curve_by_alg(want) != NULL) {
            return capif_keys_fail(ld, "curve %s does not match %s",
                                   curve->jwk, capif_alg_name(want));
        }

        return capif_keys_fail(ld, "an EC key cannot be used with %s",
                               capif_alg_name(want));
    }

    /* a point off the curve must never reach a verification */
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (ctx == NULL) {
        return capif_keys_fail(ld, "out of memory");
    }

    ok = EVP_PKEY_public_check(ctx);
    EVP_PKEY_CTX_free(ctx);

    if (ok != 1) {
        return capif_keys_fail(ld, "EC public key is not a valid point "
                               "of curve %s", curve->jwk);
    }

    *alg = curve->alg;

    return 0;
}


/* an Ed25519 key must be one an honest signer can have */
static int
capif_keys_ed25519_check(capif_keys_load_t *ld, EVP_PKEY *pkey)
{
    size_t          len;
    const char     *why;
    unsigned char   pub[32];

    len = sizeof(pub);
    if (EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1 || len != 32) {
        return capif_keys_fail(ld, "Ed25519 public key is not 32 bytes");
    }

    why = capif_ed25519_check(pub);
    if (why != NULL) {
        return capif_keys_fail(ld, "Ed25519 public key %s", why);
    }

    return 0;
}


/* binds pkey to one algorithm: the one asked for, or its type's default */
static int
capif_keys_bind(capif_keys_load_t *ld, EVP_PKEY *pkey, capif_alg_t want,
    capif_alg_t *alg)
{
    const char  *type;

    if (EVP_PKEY_is_a(pkey, "RSA-PSS")) {
        return capif_keys_fail(ld, "RSA-PSS restricted keys are not "
                               "supported; use a plain RSA key with "
                               "alg=PS256, PS384 or PS512");
    }

    if (EVP_PKEY_is_a(pkey, "RSA")) {
        return capif_keys_bind_rsa(ld, pkey, want, alg);
    }

    if (EVP_PKEY_is_a(pkey, "EC")) {
        return capif_keys_bind_ec(ld, pkey, want, alg);
    }

    if (EVP_PKEY_is_a(pkey, "ED25519")) {
        if (want != CAPIF_ALG_UNKNOWN && want != CAPIF_ALG_EDDSA) {
            return capif_keys_fail(ld, "an Ed25519 key cannot be used "
                                   "with %s", capif_alg_name(want));
        }

        *alg = CAPIF_ALG_EDDSA;
        return capif_keys_ed25519_check(ld, pkey);
    }

    if (EVP_PKEY_is_a(pkey, "ED448")) {
        return capif_keys_fail(ld, "Ed448 keys are not supported; EdDSA "
                               "here means Ed25519");
    }

    type = EVP_PKEY_get0_type_name(pkey);

    return capif_keys_fail(ld, "%s keys are not supported",
                           type ? type : "these");
}


static int
capif_keys_set_kid(capif_keys_load_t *ld, capif_key_t *key, const char *kid,
    size_t len)
{
    if (kid == NULL) {
        return 0;
    }

    /* NUL-terminated as well, so that log lines can print it */
    key->kid = malloc(len + 1);
    if (key->kid == NULL) {
        return capif_keys_fail(ld, "out of memory");
    }

    memcpy(key->kid, kid, len);
    key->kid[len] = '\0';
    key->kid_len = len;

    return 0;
}


static int
capif_keys_nopass(char *buf, int size, int rwflag, void *u)
{
    (void) buf;
    (void) size;
    (void) rwflag;
    (void) u;

    /* never prompt on a terminal for an encrypted PEM */
    return -1;
}


static EVP_PKEY *
capif_keys_read_rsa_public(BIO *bio)
{
    EVP_PKEY          *pkey;
    OSSL_DECODER_CTX  *dctx;

    pkey = NULL;

    dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", "type-specific",
                                         "RSA", EVP_PKEY_PUBLIC_KEY,
                                         NULL, NULL);
    if (dctx == NULL) {
        return NULL;
    }

    if (OSSL_DECODER_from_bio(dctx, bio) != 1) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }

    OSSL_DECODER_CTX_free(dctx);

    return pkey;
}


static int
capif_keys_load_pem(capif_keys_load_t *ld, const unsigned char *buf,
    size_t len)
{
    int                   nblocks, ncerts;
    BIO                  *bio;
    X509                 *x509;
    size_t                llen, first_len;
    EVP_PKEY             *pkey;
    capif_alg_t           alg;
    const unsigned char  *p, *end, *label, *lend, *first;
    char                  reason[256];

    static const char     begin[] = "-----BEGIN ";

    end = buf + len;
    first = NULL;
    first_len = 0;
    nblocks = 0;
    ncerts = 0;

    for (p = capif_keys_find(buf, end, begin);
         p != NULL;
         p = capif_keys_find(lend, end, begin))
    {
        label = p + sizeof(begin) - 1;
        lend = capif_keys_find(label, end, "-----");

        if (lend == NULL || lend - label > 64) {
            return capif_keys_fail(ld, "malformed PEM header");
        }

        llen = lend - label;

        if (capif_keys_find(label, lend, "PRIVATE KEY") != NULL) {
            return capif_keys_fail(ld, "holds a private key (%.*s); give "
                                   "the gateway only the public key or "
                                   "the certificate", (int) llen, label);
        }

        if (llen == 11 && memcmp(label, "CERTIFICATE", 11) == 0) {
            ncerts++;
        }

        if (nblocks++ == 0) {
            first = label;
            first_len = llen;
        }
    }

    if (nblocks == 0) {
        return capif_keys_fail(ld, "neither a JWKS nor a PEM public key "
                               "or certificate");
    }

    /*
     * The reference CCF stores its server certificate as the leaf and then
     * its issuing CA: the leaf signs, the CA is not a signing key here.
     */
    if (nblocks > 1
        && (ncerts != nblocks || first_len != 11
            || memcmp(first, "CERTIFICATE", 11) != 0))
    {
        return capif_keys_fail(ld, "holds %d PEM blocks; put exactly one "
                               "public key or certificate in a file, or "
                               "a certificate bundle with the leaf first",
                               nblocks);
    }

    bio = BIO_new_mem_buf(buf, (int) len);
    if (bio == NULL) {
        return capif_keys_fail(ld, "out of memory");
    }

    pkey = NULL;

    if (first_len == 10 && memcmp(first, "PUBLIC KEY", 10) == 0) {
        pkey = PEM_read_bio_PUBKEY(bio, NULL, capif_keys_nopass, NULL);

    } else if (first_len == 14 && memcmp(first, "RSA PUBLIC KEY", 14) == 0) {
        pkey = capif_keys_read_rsa_public(bio);

    } else if (first_len == 11 && memcmp(first, "CERTIFICATE", 11) == 0) {
        x509 = PEM_read_bio_X509(bio, NULL, capif_keys_nopass, NULL);

        if (x509 != NULL) {
            pkey = X509_get_pubkey(x509);
            X509_free(x509);
        }

    } else {
        BIO_free(bio);
        return capif_keys_fail(ld, "PEM block \"%.*s\" is neither a public "
                               "key nor a certificate",
                               (int) first_len, first);
    }

    BIO_free(bio);

    if (pkey == NULL) {
        return capif_keys_fail(ld, "cannot parse the PEM %.*s: %s",
                               (int) first_len, first,
                               capif_keys_ossl_reason(reason,
                                                      sizeof(reason)));
    }

    if (capif_keys_bind(ld, pkey, ld->alg, &alg) != 0) {
        EVP_PKEY_free(pkey);
        return -1;
    }

    ld->keys = calloc(1, sizeof(capif_key_t));
    if (ld->keys == NULL) {
        EVP_PKEY_free(pkey);
        return capif_keys_fail(ld, "out of memory");
    }

    ld->keys[0].pkey = pkey;
    ld->keys[0].alg = alg;
    ld->keys[0].bundle_certs = (size_t) ncerts;
    ld->nkeys = 1;

    return capif_keys_set_kid(ld, &ld->keys[0], ld->kid,
                              ld->kid ? strlen(ld->kid) : 0);
}


/* 1 if present (a string), 0 if absent, -1 if of another type */
static int
capif_keys_string(capif_keys_load_t *ld, json_t *jwk, const char *name,
    const char **value, size_t *len)
{
    json_t  *v;

    *value = NULL;
    *len = 0;

    v = json_object_get(jwk, name);
    if (v == NULL) {
        return 0;
    }

    if (!json_is_string(v)) {
        return capif_keys_fail(ld, "member \"%s\" is not a string", name);
    }

    *value = json_string_value(v);
    *len = json_string_length(v);

    return 1;
}


/* a required base64url member, decoded into malloc'd bytes */
static int
capif_keys_b64(capif_keys_load_t *ld, json_t *jwk, const char *name,
    unsigned char **out, size_t *outlen)
{
    int             rc;
    long            n;
    size_t          len;
    const char     *s;
    unsigned char  *buf;

    *out = NULL;
    *outlen = 0;

    rc = capif_keys_string(ld, jwk, name, &s, &len);

    if (rc < 0) {
        return -1;
    }

    if (rc == 0) {
        return capif_keys_fail(ld, "member \"%s\" is missing", name);
    }

    if (len == 0) {
        return capif_keys_fail(ld, "member \"%s\" is empty", name);
    }

    buf = malloc(capif_b64url_decoded_max(len));
    if (buf == NULL) {
        return capif_keys_fail(ld, "out of memory");
    }

    n = capif_b64url_decode((const unsigned char *) s, len, buf);

    if (n <= 0) {
        free(buf);
        return capif_keys_fail(ld, "member \"%s\" is not canonical "
                               "unpadded base64url", name);
    }

    *out = buf;
    *outlen = (size_t) n;

    return 0;
}


static EVP_PKEY *
capif_keys_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
    EVP_PKEY      *pkey;
    OSSL_PARAM    *params;
    EVP_PKEY_CTX  *ctx;

    pkey = NULL;

    params = OSSL_PARAM_BLD_to_param(bld);
    if (params == NULL) {
        return NULL;
    }

    ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);

    if (ctx != NULL
        && EVP_PKEY_fromdata_init(ctx) == 1
        && EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    {
        pkey = NULL;
    }

    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);

    return pkey;
}


static EVP_PKEY *
capif_keys_jwk_rsa(capif_keys_load_t *ld, json_t *jwk)
{
    BIGNUM          *n, *e;
    size_t           nlen, elen;
    EVP_PKEY        *pkey;
    unsigned char   *nb, *eb;
    OSSL_PARAM_BLD  *bld;
    char             reason[256];

    if (capif_keys_b64(ld, jwk, "n", &nb, &nlen) != 0) {
        return NULL;
    }

    if (capif_keys_b64(ld, jwk, "e", &eb, &elen) != 0) {
        free(nb);
        return NULL;
    }

    pkey = NULL;
    n = BN_bin2bn(nb, (int) nlen, NULL);
    e = BN_bin2bn(eb, (int) elen, NULL);
    bld = OSSL_PARAM_BLD_new();

    if (n != NULL && e != NULL && bld != NULL
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) == 1
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) == 1)
    {
        pkey = capif_keys_fromdata("RSA", bld);
    }

    if (pkey == NULL) {
        (void) capif_keys_fail(ld, "cannot build the RSA key: %s",
                               capif_keys_ossl_reason(reason,
                                                      sizeof(reason)));
    }

    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    free(nb);
    free(eb);

    return pkey;
}


static EVP_PKEY *
capif_keys_jwk_ec(capif_keys_load_t *ld, json_t *jwk)
{
    int                        rc;
    size_t                     i, len, xlen, ylen;
    EVP_PKEY                  *pkey;
    const char                *crv;
    unsigned char             *x, *y, *point;
    OSSL_PARAM_BLD            *bld;
    const capif_keys_curve_t  *curve;
    char                       reason[256];

    rc = capif_keys_string(ld, jwk, "crv", &crv, &len);

    if (rc < 0) {
        return NULL;
    }

    if (rc == 0) {
        (void) capif_keys_fail(ld, "EC key without \"crv\"");
        return NULL;
    }

    curve = NULL;

    for (i = 0; i < CAPIF_KEYS_NCURVES; i++) {
        if (len == strlen(capif_keys_curves[i].jwk)
            && memcmp(crv, capif_keys_curves[i].jwk, len) == 0)
        {
            curve = &capif_keys_curves[i];
            break;
        }
    }

    if (curve == NULL) {
        (void) capif_keys_fail(ld, "EC curve \"%.*s\" is not supported; "
                               "use P-256, P-384 or P-521",
                               (int) (len > 32 ? 32 : len), crv);
        return NULL;
    }

    if (capif_keys_b64(ld, jwk, "x", &x, &xlen) != 0) {
        return NULL;
    }

    if (capif_keys_b64(ld, jwk, "y", &y, &ylen) != 0) {
        free(x);
        return NULL;
    }

    pkey = NULL;
    point = NULL;
    bld = NULL;

    /* RFC 7518 6.2.1.2: coordinates are exactly the field size */
    if (xlen != curve->len || ylen != curve->len) {
        (void) capif_keys_fail(ld, "%s coordinates must be %zu bytes, "
                               "not %zu and %zu", curve->jwk, curve->len,
                               xlen, ylen);
        goto done;
    }

    point = malloc(1 + 2 * curve->len);
    bld = OSSL_PARAM_BLD_new();

    if (point == NULL || bld == NULL) {
        (void) capif_keys_fail(ld, "out of memory");
        goto done;
    }

    point[0] = 0x04;
    memcpy(point + 1, x, curve->len);
    memcpy(point + 1 + curve->len, y, curve->len);

    if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                        curve->ossl, 0) == 1
        && OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                            point, 1 + 2 * curve->len) == 1)
    {
        pkey = capif_keys_fromdata("EC", bld);
    }

    if (pkey == NULL) {
        (void) capif_keys_fail(ld, "cannot build the %s key (a point off "
                               "the curve?): %s", curve->jwk,
                               capif_keys_ossl_reason(reason,
                                                      sizeof(reason)));
    }

done:

    OSSL_PARAM_BLD_free(bld);
    free(point);
    free(x);
    free(y);

    return pkey;
}


static EVP_PKEY *
capif_keys_jwk_okp(capif_keys_load_t *ld, json_t *jwk)
{
    int             rc;
    size_t          len, xlen;
    EVP_PKEY       *pkey;
    const char     *crv;
    unsigned char  *x;
    char            reason[256];

    rc = capif_keys_string(ld, jwk, "crv", &crv, &len);

    if (rc < 0) {
        return NULL;
    }

    if (rc == 0) {
        (void) capif_keys_fail(ld, "OKP key without \"crv\"");
        return NULL;
    }

    if (len != 7 || memcmp(crv, "Ed25519", 7) != 0) {
        (void) capif_keys_fail(ld, "OKP curve \"%.*s\" is not supported; "
                               "EdDSA here means Ed25519",
                               (int) (len > 32 ? 32 : len), crv);
        return NULL;
    }

    if (capif_keys_b64(ld, jwk, "x", &x, &xlen) != 0) {
        return NULL;
    }

    if (xlen != 32) {
        free(x);
        (void) capif_keys_fail(ld, "Ed25519 \"x\" must be 32 bytes, not %zu",
                               xlen);
        return NULL;
    }

    pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xlen);
    free(x);

    if (pkey == NULL) {
        (void) capif_keys_fail(ld, "cannot build the Ed25519 key: %s",
                               capif_keys_ossl_reason(reason,
                                                      sizeof(reason)));
    }

    return pkey;
}


static int
capif_keys_check_jwk_use(capif_keys_load_t *ld, json_t *jwk)
{
    int          rc, verify;
    size_t       i, len;
    json_t      *ops, *op;
    const char  *use;

    rc = capif_keys_string(ld, jwk, "use", &use, &len);

    if (rc < 0) {
        return -1;
    }

    if (rc > 0 && (len != 3 || memcmp(use, "sig", 3) != 0)) {
        return capif_keys_fail(ld, "\"use\" is \"%.*s\", not \"sig\"",
                               (int) (len > 32 ? 32 : len), use);
    }

    ops = json_object_get(jwk, "key_ops");
    if (ops == NULL) {
        return 0;
    }

    if (!json_is_array(ops)) {
        return capif_keys_fail(ld, "member \"key_ops\" is not an array");
    }

    verify = 0;

    json_array_foreach(ops, i, op) {
        if (!json_is_string(op)) {
            return capif_keys_fail(ld, "\"key_ops\" holds a non-string");
        }

        if (strcmp(json_string_value(op), "verify") == 0) {
            verify = 1;
        }
    }

    if (!verify) {
        return capif_keys_fail(ld, "\"key_ops\" does not allow \"verify\"");
    }

    return 0;
}


static int
capif_keys_load_jwk(capif_keys_load_t *ld, json_t *jwk, capif_key_t *key)
{
    int           rc;
    size_t        i, len, kid_len, alg_len;
    EVP_PKEY     *pkey;
    const char   *kty, *kid, *algname;
    capif_alg_t   want, alg;

    if (!json_is_object(jwk)) {
        return capif_keys_fail(ld, "not a JSON object");
    }

    rc = capif_keys_string(ld, jwk, "kty", &kty, &len);

    if (rc < 0) {
        return -1;
    }

    if (rc == 0) {
        return capif_keys_fail(ld, "member \"kty\" is missing");
    }

    if (len == 3 && memcmp(kty, "oct", 3) == 0) {
        return capif_keys_fail(ld, "\"kty\" \"oct\" is a symmetric key; "
                               "HMAC-signed tokens are not accepted");
    }

    for (i = 0; capif_keys_private_members[i] != NULL; i++) {
        if (json_object_get(jwk, capif_keys_private_members[i]) != NULL) {
            return capif_keys_fail(ld, "holds the private member \"%s\"; "
                                   "give the gateway public keys only",
                                   capif_keys_private_members[i]);
        }
    }

    if (capif_keys_check_jwk_use(ld, jwk) != 0) {
        return -1;
    }

    kid = NULL;
    kid_len = 0;

    rc = capif_keys_string(ld, jwk, "kid", &kid, &kid_len);

    if (rc < 0) {
        return -1;
    }

    if (rc > 0 && kid_len == 0) {
        return capif_keys_fail(ld, "\"kid\" is empty");
    }

    want = ld->alg;

    rc = capif_keys_string(ld, jwk, "alg", &algname, &alg_len);

    if (rc < 0) {
        return -1;
    }

    if (rc > 0) {
        alg = capif_alg_from_name(algname, alg_len);

        if (alg == CAPIF_ALG_UNKNOWN) {
            return capif_keys_fail(ld, "\"alg\" \"%.*s\" is not accepted",
                                   (int) (alg_len > 32 ? 32 : alg_len),
                                   algname);
        }

        if (ld->alg != CAPIF_ALG_UNKNOWN && ld->alg != alg) {
            return capif_keys_fail(ld, "\"alg\" \"%s\" differs from alg=%s",
                                   capif_alg_name(alg),
                                   capif_alg_name(ld->alg));
        }

        want = alg;
    }

    if (len == 3 && memcmp(kty, "RSA", 3) == 0) {
        pkey = capif_keys_jwk_rsa(ld, jwk);

    } else if (len == 2 && memcmp(kty, "EC", 2) == 0) {
        pkey = capif_keys_jwk_ec(ld, jwk);

    } else if (len == 3 && memcmp(kty, "OKP", 3) == 0) {
        pkey = capif_keys_jwk_okp(ld, jwk);

    } else {
        return capif_keys_fail(ld, "\"kty\" \"%.*s\" is not supported",
                               (int) (len > 32 ? 32 : len), kty);
    }

    if (pkey == NULL) {
        return -1;
    }

    if (capif_keys_bind(ld, pkey, want, &alg) != 0) {
        EVP_PKEY_free(pkey);
        return -1;
    }

    key->pkey = pkey;
    key->alg = alg;

    /* kid= was refused unless this is the file's only key */
    if (ld->kid != NULL) {
        return capif_keys_set_kid(ld, key, ld->kid, strlen(ld->kid));
    }

    return capif_keys_set_kid(ld, key, kid, kid_len);
}


static int
capif_keys_load_jwks(capif_keys_load_t *ld, const unsigned char *buf,
    size_t len)
{
    int            rc;
    size_t         i, n;
    json_t        *root, *keys;
    json_error_t   jerr;

    root = json_loadb((const char *) buf, len, JSON_REJECT_DUPLICATES,
                      &jerr);
    if (root == NULL) {
        return capif_keys_fail(ld, "invalid JSON at line %d: %s",
                               jerr.line, jerr.text);
    }

    rc = -1;

    if (!json_is_object(root)) {
        (void) capif_keys_fail(ld, "JSON is not an object");
        goto done;
    }

    keys = json_object_get(root, "keys");

    if (keys != NULL) {
        if (!json_is_array(keys)) {
            (void) capif_keys_fail(ld, "member \"keys\" is not an array");
            goto done;
        }

        n = json_array_size(keys);

        if (n == 0) {
            (void) capif_keys_fail(ld, "JWKS has no keys");
            goto done;
        }

    } else if (json_object_get(root, "kty") != NULL) {
        n = 1;

    } else {
        (void) capif_keys_fail(ld, "JSON is neither a JWKS (no \"keys\") "
                               "nor a JWK (no \"kty\")");
        goto done;
    }

    if (n > 1 && ld->kid != NULL) {
        (void) capif_keys_fail(ld, "kid= cannot name the %zu keys of a "
                               "JWKS; give each JWK its own \"kid\"", n);
        goto done;
    }

    ld->keys = calloc(n, sizeof(capif_key_t));
    if (ld->keys == NULL) {
        (void) capif_keys_fail(ld, "out of memory");
        goto done;
    }

    for (i = 0; i < n; i++) {
        if (keys != NULL) {
            snprintf(ld->where, sizeof(ld->where), "JWK #%zu: ", i + 1);
        }

        if (capif_keys_load_jwk(ld, keys ? json_array_get(keys, i) : root,
                                &ld->keys[i])
            != 0)
        {
            /* the key may hold a pkey already: the caller frees it */
            ld->nkeys = i + 1;
            goto done;
        }

        ld->nkeys = i + 1;
    }

    ld->where[0] = '\0';
    rc = 0;

done:

    json_decref(root);

    return rc;
}


static int
capif_keys_same_kid(const capif_key_t *a, const capif_key_t *b)
{
    return a->kid != NULL && b->kid != NULL && a->kid_len == b->kid_len
           && memcmp(a->kid, b->kid, a->kid_len) == 0;
}


/* a kid selects one key: two keys with one kid would be ambiguous */
static int
capif_keys_check_kids(capif_keys_load_t *ld, const capif_keyset_t *ks)
{
    size_t              i, j;
    const capif_key_t  *key;

    for (i = 0; i < ld->nkeys; i++) {
        key = &ld->keys[i];

        if (key->kid == NULL) {
            continue;
        }

        for (j = 0; j < ks->nkeys; j++) {
            if (capif_keys_same_kid(key, &ks->keys[j])) {
                return capif_keys_fail(ld, "kid \"%.*s\" is already used "
                                       "by a key from \"%s\"",
                                       (int) (key->kid_len > 64
                                              ? 64 : key->kid_len),
                                       key->kid, ks->keys[j].source);
            }
        }

        for (j = 0; j < i; j++) {
            if (capif_keys_same_kid(key, &ld->keys[j])) {
                return capif_keys_fail(ld, "two keys have kid \"%.*s\"",
                                       (int) (key->kid_len > 64
                                              ? 64 : key->kid_len),
                                       key->kid);
            }
        }
    }

    return 0;
}


static int
capif_keys_append(capif_keys_load_t *ld, capif_keyset_t *ks)
{
    size_t        i, nalloc;
    capif_key_t  *keys;

    for (i = 0; i < ld->nkeys; i++) {
        ld->keys[i].source = strdup(ld->path);
        if (ld->keys[i].source == NULL) {
            return capif_keys_fail(ld, "out of memory");
        }

        /* fetch and set up everything verification needs, once */
        if (capif_key_prepare(&ld->keys[i]) != 0) {
            return capif_keys_fail(ld, "OpenSSL cannot set up "
                                   "verification with this key");
        }
    }

    if (ks->nkeys + ld->nkeys > ks->nalloc) {
        nalloc = ks->nalloc ? ks->nalloc * 2 : 4;

        if (nalloc < ks->nkeys + ld->nkeys) {
            nalloc = ks->nkeys + ld->nkeys;
        }

        if (nalloc > (size_t) -1 / sizeof(capif_key_t)) {
            return capif_keys_fail(ld, "too many keys");
        }

        keys = realloc(ks->keys, nalloc * sizeof(capif_key_t));
        if (keys == NULL) {
            return capif_keys_fail(ld, "out of memory");
        }

        ks->keys = keys;
        ks->nalloc = nalloc;
    }

    memcpy(&ks->keys[ks->nkeys], ld->keys, ld->nkeys * sizeof(capif_key_t));
    ks->nkeys += ld->nkeys;

    /* the set owns them now */
    free(ld->keys);
    ld->keys = NULL;
    ld->nkeys = 0;

    return 0;
}


static int
capif_keys_load_init(capif_keys_load_t *ld, capif_keyset_t *ks,
    const char *path, const char *alg, const char *kid, char *errbuf,
    size_t errlen)
{
    memset(ld, 0, sizeof(capif_keys_load_t));
    ld->path = path ? path : "(null)";
    ld->errbuf = errbuf;
    ld->errlen = errlen;
    ld->kid = kid;

    if (errbuf != NULL && errlen > 0) {
        errbuf[0] = '\0';
    }

    if (ks == NULL || path == NULL) {
        return capif_keys_fail(ld, "no key set or no file name");
    }

    if (alg != NULL) {
        ld->alg = capif_alg_from_name(alg, strlen(alg));

        if (ld->alg == CAPIF_ALG_UNKNOWN) {
            return capif_keys_fail(ld, "alg=\"%.32s\" is not one of RS256, "
                                   "RS384, RS512, PS256, PS384, PS512, "
                                   "ES256, ES384, ES512, EdDSA", alg);
        }
    }

    if (kid != NULL && kid[0] == '\0') {
        return capif_keys_fail(ld, "kid= is empty");
    }

    return 0;
}


static int
capif_keys_load_bytes(capif_keys_load_t *ld, capif_keyset_t *ks,
    const unsigned char *buf, size_t len)
{
    int     rc;
    size_t  i;

    for (i = 0; i < len; i++) {
        if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r'
            && buf[i] != '\n')
        {
            break;
        }
    }

    if (i == len) {
        rc = capif_keys_fail(ld, "holds no key");

    } else if (buf[i] == '{') {
        rc = capif_keys_load_jwks(ld, buf, len);

    } else {
        rc = capif_keys_load_pem(ld, buf, len);
    }

    if (rc == 0) {
        rc = capif_keys_check_kids(ld, ks);
    }

    if (rc == 0) {
        rc = capif_keys_append(ld, ks);
    }

    /* on failure nothing was added: drop what was built */
    for (i = 0; i < ld->nkeys; i++) {
        capif_keys_free_key(&ld->keys[i]);
    }

    free(ld->keys);
    ld->keys = NULL;
    ld->nkeys = 0;

    /* a refused file must not leave errors for later OpenSSL calls */
    ERR_clear_error();

    return rc;
}


int
capif_keyset_load_buf(capif_keyset_t *ks, const char *name,
    const unsigned char *buf, size_t len, const char *alg, const char *kid,
    char *errbuf, size_t errlen)
{
    capif_keys_load_t  ld;

    if (capif_keys_load_init(&ld, ks, name, alg, kid, errbuf, errlen) != 0)
    {
        return -1;
    }

    if (buf == NULL || len == 0) {
        return capif_keys_fail(&ld, "holds no key");
    }

    if (len > CAPIF_KEYS_MAX_FILE) {
        return capif_keys_fail(&ld, "%zu bytes are more than the %d bytes "
                               "allowed for keys", len, CAPIF_KEYS_MAX_FILE);
    }

    return capif_keys_load_bytes(&ld, ks, buf, len);
}


int
capif_keyset_load_file(capif_keyset_t *ks, const char *path,
    const char *alg, const char *kid, char *errbuf, size_t errlen)
{
    int                 rc;
    size_t              len;
    unsigned char      *buf;
    capif_keys_load_t   ld;

    if (capif_keys_load_init(&ld, ks, path, alg, kid, errbuf, errlen) != 0)
    {
        return -1;
    }

    if (capif_keys_read(&ld, &buf, &len) != 0) {
        return -1;
    }

    rc = capif_keys_load_bytes(&ld, ks, buf, len);

    free(buf);

    return rc;
}


static const EVP_MD *
capif_keys_md(capif_alg_t alg)
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


/*
 * Verification.  OpenSSL 3 fetches algorithms from its providers, under
 * locks, whenever a context is made from names or legacy EVP_MD objects.
 * All of that happens once per key in capif_key_prepare(); a verification
 * then hashes with the fetched digest and verifies with a copy of the
 * prepared context: no fetch, no provider lookup on the request path.
 */

struct capif_key_vfy_s {
    EVP_MD                    *md;      /* fetched; NULL for EdDSA */
    EVP_PKEY_CTX              *pctx;    /* verify_init, padding, md set */
    EVP_MD_CTX                *mctx;    /* EdDSA: DigestVerifyInit done */
    const capif_keys_curve_t  *curve;   /* ECDSA */
    size_t                     siglen;  /* the one length accepted */
    unsigned char              fp[CAPIF_KEY_FP_LEN];
};


static void
capif_keys_vfy_free(capif_key_vfy_t *vfy)
{
    if (vfy == NULL) {
        return;
    }

    EVP_PKEY_CTX_free(vfy->pctx);
    EVP_MD_CTX_free(vfy->mctx);
    EVP_MD_free(vfy->md);
    free(vfy);
}


/* RSA and ECDSA: a verify context with the digest and padding set */
static int
capif_keys_vfy_pctx(capif_key_vfy_t *vfy, const capif_key_t *key)
{
    int  pss;

    /* an explicit fetch: the legacy EVP_sha256() is fetched per use */
    vfy->md = EVP_MD_fetch(NULL, EVP_MD_get0_name(capif_keys_md(key->alg)),
                           NULL);
    if (vfy->md == NULL) {
        return -1;
    }

    vfy->pctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);

    if (vfy->pctx == NULL
        || EVP_PKEY_verify_init(vfy->pctx) != 1
        || EVP_PKEY_CTX_set_signature_md(vfy->pctx, vfy->md) <= 0)
    {
        return -1;
    }

    if (!capif_keys_is_rsa_alg(key->alg)) {
        return 0;
    }

    pss = (key->alg >= CAPIF_ALG_PS256 && key->alg <= CAPIF_ALG_PS512);

    if (!pss) {
        return EVP_PKEY_CTX_set_rsa_padding(vfy->pctx, RSA_PKCS1_PADDING)
               > 0 ? 0 : -1;
    }

    /* RFC 7518 3.5: MGF1 with the same hash, salt as long as it */
    if (EVP_PKEY_CTX_set_rsa_padding(vfy->pctx, RSA_PKCS1_PSS_PADDING) <= 0
        || EVP_PKEY_CTX_set_rsa_pss_saltlen(vfy->pctx, RSA_PSS_SALTLEN_DIGEST)
           <= 0
        || EVP_PKEY_CTX_set_rsa_mgf1_md(vfy->pctx, vfy->md) <= 0)
    {
        return -1;
    }

    return 0;
}


static capif_key_vfy_t *
capif_keys_vfy_new(const capif_key_t *key)
{
    int               size, derlen, rc;
    unsigned char    *der;
    capif_key_vfy_t  *vfy;

    if (key->pkey == NULL) {
        return NULL;
    }

    vfy = calloc(1, sizeof(capif_key_vfy_t));
    if (vfy == NULL) {
        return NULL;
    }

    /* the key's identity: SHA-256 of its SubjectPublicKeyInfo */
    der = NULL;
    derlen = i2d_PUBKEY(key->pkey, &der);

    rc = (derlen > 0
          && EVP_Digest(der, (size_t) derlen, vfy->fp, NULL, EVP_sha256(),
                        NULL) == 1) ? 0 : -1;

    OPENSSL_free(der);

    if (rc != 0) {
        goto failed;
    }

    switch (key->alg) {

    case CAPIF_ALG_RS256:
    case CAPIF_ALG_RS384:
    case CAPIF_ALG_RS512:
    case CAPIF_ALG_PS256:
    case CAPIF_ALG_PS384:
    case CAPIF_ALG_PS512:
        size = EVP_PKEY_get_size(key->pkey);

        if (!EVP_PKEY_is_a(key->pkey, "RSA") || size <= 0
            || capif_keys_vfy_pctx(vfy, key) != 0)
        {
            goto failed;
        }

        vfy->siglen = (size_t) size;
        break;

    case CAPIF_ALG_ES256:
    case CAPIF_ALG_ES384:
    case CAPIF_ALG_ES512:
        vfy->curve = capif_keys_curve_by_alg(key->alg);

        if (vfy->curve == NULL
            || !EVP_PKEY_is_a(key->pkey, "EC")
            || EVP_PKEY_get_bits(key->pkey)
               != (vfy->curve->len == 66 ? 521 : (int) vfy->curve->len * 8)
            || capif_keys_vfy_pctx(vfy, key) != 0)
        {
            goto failed;
        }

        /* JWS ECDSA signatures are raw R || S, never DER (RFC 7518 3.4) */
        vfy->siglen = 2 * vfy->curve->len;
        break;

    case CAPIF_ALG_EDDSA:
        if (!EVP_PKEY_is_a(key->pkey, "ED25519")) {
            goto failed;
        }

        /* Ed25519 hashes internally: no digest, one-shot only */
        vfy->mctx = EVP_MD_CTX_new();

        if (vfy->mctx == NULL
            || EVP_DigestVerifyInit_ex(vfy->mctx, NULL, NULL, NULL, NULL,
                                       key->pkey, NULL) != 1)
        {
            goto failed;
        }

        vfy->siglen = 64;
        break;

    default:
        goto failed;
    }

    return vfy;

failed:

    capif_keys_vfy_free(vfy);
    ERR_clear_error();

    return NULL;
}


int
capif_key_prepare(capif_key_t *key)
{
    if (key->vfy != NULL) {
        return 0;
    }

    key->vfy = capif_keys_vfy_new(key);

    return key->vfy != NULL ? 0 : -1;
}


const unsigned char *
capif_key_fingerprint(const capif_key_t *key)
{
    return key->vfy != NULL ? key->vfy->fp : NULL;
}


const capif_key_t *
capif_keyset_find_fingerprint(const capif_keyset_t *ks,
    const unsigned char *fp, capif_alg_t alg, const unsigned char *kid,
    size_t kid_len)
{
    size_t              i;
    const capif_key_t  *key;

    for (i = 0; i < ks->nkeys; i++) {
        key = &ks->keys[i];

        if (key->vfy == NULL || key->alg != alg
            || memcmp(key->vfy->fp, fp, CAPIF_KEY_FP_LEN) != 0)
        {
            continue;
        }

        /* a kid names its key: it must still be this key's */
        if (kid != NULL
            && (key->kid == NULL || key->kid_len != kid_len
                || memcmp(key->kid, kid, kid_len) != 0))
        {
            continue;
        }

        return key;
    }

    return NULL;
}


/* 1 if 0 < v < order, both big-endian of len bytes */
static int
capif_keys_scalar_ok(const unsigned char *v, const unsigned char *order,
    size_t len)
{
    size_t         i;
    unsigned char  any;

    any = 0;

    for (i = 0; i < len; i++) {
        any |= v[i];
    }

    return any != 0 && memcmp(v, order, len) < 0;
}


/* a DER INTEGER of a positive big-endian value; v is not all zero */
static size_t
capif_keys_der_int(unsigned char *out, const unsigned char *v, size_t len)
{
    size_t  n, pad;

    while (len > 1 && v[0] == 0) {
        v++;
        len--;
    }

    pad = (v[0] & 0x80) ? 1 : 0;
    n = 0;

    out[n++] = 0x02;
    out[n++] = (unsigned char) (len + pad);

    if (pad) {
        out[n++] = 0;
    }

    memcpy(out + n, v, len);

    return n + len;
}


/*
 * ECDSA-Sig-Value (RFC 3279) from R || S, by hand: no BIGNUM allocations.
 * Each INTEGER takes at most 2 + 67 bytes (P-521), so the SEQUENCE needs
 * the long length form above 127 bytes.  out holds CAPIF_KEYS_DER_MAX.
 */
#define CAPIF_KEYS_DER_MAX  (3 + 2 * (3 + 66))

static size_t
capif_keys_ecdsa_der(unsigned char *out, const unsigned char *sig,
    size_t half)
{
    size_t         n, hdr;
    unsigned char  body[2 * (3 + 66)];

    n = capif_keys_der_int(body, sig, half);
    n += capif_keys_der_int(body + n, sig + half, half);

    out[0] = 0x30;

    if (n < 128) {
        out[1] = (unsigned char) n;
        hdr = 2;

    } else {
        out[1] = 0x81;
        out[2] = (unsigned char) n;
        hdr = 3;
    }

    memcpy(out + hdr, body, n);

    return hdr + n;
}


/* hash with the fetched digest, verify with a copy of the prepared ctx */
static int
capif_keys_verify_digest(const capif_key_vfy_t *vfy,
    const unsigned char *data, size_t len, const unsigned char *sig,
    size_t siglen)
{
    int            rc;
    unsigned int   dlen;
    EVP_PKEY_CTX  *pctx;
    unsigned char  digest[EVP_MAX_MD_SIZE];

    if (EVP_Digest(data, len, digest, &dlen, vfy->md, NULL) != 1) {
        return 0;
    }

    /* a copy keeps the prepared context untouched: about 0.2 us */
    pctx = EVP_PKEY_CTX_dup(vfy->pctx);
    if (pctx == NULL) {
        return 0;
    }

    rc = EVP_PKEY_verify(pctx, sig, siglen, digest, dlen);

    EVP_PKEY_CTX_free(pctx);

    return rc == 1;
}


static int
capif_keys_verify_vfy(const capif_key_t *key, const capif_key_vfy_t *vfy,
    const unsigned char *data, size_t len, const unsigned char *sig,
    size_t siglen)
{
    int            rc;
    size_t         derlen;
    EVP_MD_CTX    *mctx;
    unsigned char  der[CAPIF_KEYS_DER_MAX];

    if (siglen != vfy->siglen) {
        return 0;
    }

    switch (key->alg) {

    case CAPIF_ALG_RS256:
    case CAPIF_ALG_RS384:
    case CAPIF_ALG_RS512:
    case CAPIF_ALG_PS256:
    case CAPIF_ALG_PS384:
    case CAPIF_ALG_PS512:
        return capif_keys_verify_digest(vfy, data, len, sig, siglen);

    case CAPIF_ALG_ES256:
    case CAPIF_ALG_ES384:
    case CAPIF_ALG_ES512:
        if (!capif_keys_scalar_ok(sig, vfy->curve->order, vfy->curve->len)
            || !capif_keys_scalar_ok(sig + vfy->curve->len,
                                     vfy->curve->order, vfy->curve->len))
        {
            return 0;
        }

        derlen = capif_keys_ecdsa_der(der, sig, vfy->curve->len);

        return capif_keys_verify_digest(vfy, data, len, der, derlen);

    case CAPIF_ALG_EDDSA:
        mctx = EVP_MD_CTX_new();
        if (mctx == NULL) {
            return 0;
        }

        rc = (EVP_MD_CTX_copy_ex(mctx, vfy->mctx) == 1
              && EVP_DigestVerify(mctx, sig, siglen, data, len) == 1);

        EVP_MD_CTX_free(mctx);

        return rc;

    default:
        return 0;
    }
}


int
capif_key_verify(const capif_key_t *key, const unsigned char *data,
    size_t len, const unsigned char *sig, size_t siglen)
{
    int               rc;
    capif_key_vfy_t  *tmp;

    if (key == NULL || key->pkey == NULL || sig == NULL
        || (data == NULL && len != 0))
    {
        return 0;
    }

    if (data == NULL) {
        data = (const unsigned char *) "";
    }

    tmp = NULL;

    /* a key built outside the loaders: prepare it for this call only */
    if (key->vfy == NULL) {
        tmp = capif_keys_vfy_new(key);
        if (tmp == NULL) {
            ERR_clear_error();
            return 0;
        }
    }

    rc = capif_keys_verify_vfy(key, key->vfy ? key->vfy : tmp, data, len,
                               sig, siglen);

    capif_keys_vfy_free(tmp);

    /* a failed verification leaves errors that must not reach later calls */
    ERR_clear_error();

    return rc == 1;
}

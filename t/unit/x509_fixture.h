/*
 * Copyright (C) ngx_capif_module authors
 *
 * Test certificates and CRLs built in memory with OpenSSL: a CA, leaf
 * certificates with a CN and subjectAltNames, and signed CRLs.
 */

#ifndef X509_FIXTURE_H
#define X509_FIXTURE_H

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>


static inline EVP_PKEY *
fx_key(void)
{
    EVP_PKEY      *k = NULL;
    EVP_PKEY_CTX  *c;

    c = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
    if (c == NULL || EVP_PKEY_keygen_init(c) != 1
        || EVP_PKEY_CTX_set_ec_paramgen_curve_nid(c, NID_X9_62_prime256v1)
           != 1
        || EVP_PKEY_keygen(c, &k) != 1)
    {
        abort();
    }

    EVP_PKEY_CTX_free(c);
    return k;
}


/* cn may be NULL; san like "URI:capif:inv-1,DNS:inv.example" or NULL */
static inline X509 *
fx_cert(const char *cn, const char *san, long serial, EVP_PKEY *key,
    X509 *ca, EVP_PKEY *ca_key)
{
    X509            *x;
    X509_NAME       *name;
    X509_EXTENSION  *ext;
    X509V3_CTX       ctx;

    x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);

    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               (const unsigned char *) "capif test", -1,
                               -1, 0);
    if (cn) {
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   (const unsigned char *) cn, -1, -1, 0);
    }

    X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : name);

    if (san) {
        X509V3_set_ctx(&ctx, ca ? ca : x, x, NULL, NULL, 0);
        ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name,
                                  (char *) san);
        if (ext == NULL) {
            abort();
        }
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }

    if (X509_sign(x, ca_key ? ca_key : key, EVP_sha256()) == 0) {
        abort();
    }

    return x;
}


/* a CRL by ca listing serials[0..n-1] */
static inline X509_CRL *
fx_crl(X509 *ca, EVP_PKEY *ca_key, const long *serials, int n)
{
    int            i;
    X509_CRL      *crl;
    ASN1_TIME     *t;
    ASN1_INTEGER  *sn;
    X509_REVOKED  *rev;

    crl = X509_CRL_new();
    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca));

    t = X509_gmtime_adj(NULL, 0);
    X509_CRL_set1_lastUpdate(crl, t);
    X509_gmtime_adj(t, 86400);
    X509_CRL_set1_nextUpdate(crl, t);

    for (i = 0; i < n; i++) {
        rev = X509_REVOKED_new();
        sn = ASN1_INTEGER_new();
        ASN1_INTEGER_set(sn, serials[i]);
        X509_REVOKED_set_serialNumber(rev, sn);
        X509_REVOKED_set_revocationDate(rev, t);
        X509_CRL_add0_revoked(crl, rev);
        ASN1_INTEGER_free(sn);
    }

    ASN1_TIME_free(t);
    X509_CRL_sort(crl);

    if (X509_CRL_sign(crl, ca_key, EVP_sha256()) == 0) {
        abort();
    }

    return crl;
}


#endif /* X509_FIXTURE_H */

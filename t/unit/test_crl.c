/*
 * Copyright (C) ngx_capif_module authors
 */

#include <stdlib.h>
#include <unistd.h>
#include "unit.h"
#include "x509_fixture.h"
#include "capif_crl.h"


static unsigned char *
crl_der(X509_CRL *crl, size_t *len)
{
    int             n;
    unsigned char  *der, *p;

    n = i2d_X509_CRL(crl, NULL);
    der = malloc(n);
    p = der;
    i2d_X509_CRL(crl, &p);
    *len = (size_t) n;

    return der;
}


static unsigned char *
crl_pem(X509_CRL *crl, size_t *len)
{
    BIO            *bio;
    char           *data;
    long            n;
    unsigned char  *out;

    bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509_CRL(bio, crl);
    n = BIO_get_mem_data(bio, &data);
    out = malloc(n);
    memcpy(out, data, n);
    BIO_free(bio);
    *len = (size_t) n;

    return out;
}


static void
write_file(const char *path, const unsigned char *data, size_t len)
{
    FILE  *f;

    f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len) {
        abort();
    }
    fclose(f);
}


int
main(void)
{
    char              err[256], path[] = "/tmp/capif-unit-crl-XXXXXX";
    int               fd;
    long              serials[] = { 20, 22 };
    long              more[] = { 20, 21, 22 };
    size_t            len;
    X509             *ca, *ca2, *c20, *c21, *c22, *other20;
    X509_CRL         *x, *x2, *xo;
    EVP_PKEY         *ca_key, *ca2_key, *k;
    capif_crl_t      *crl;
    unsigned char    *der, *pem;
    capif_crl_file_t   id1, id2;

    ca_key = fx_key();
    ca2_key = fx_key();
    k = fx_key();
    ca = fx_cert("capif CA", NULL, 1, ca_key, NULL, NULL);
    ca2 = fx_cert("other CA", NULL, 1, ca2_key, NULL, NULL);
    c20 = fx_cert("INV-20", NULL, 20, k, ca, ca_key);
    c21 = fx_cert("INV-21", NULL, 21, k, ca, ca_key);
    c22 = fx_cert("INV-22", NULL, 22, k, ca, ca_key);
    other20 = fx_cert("INV-20", NULL, 20, k, ca2, ca2_key);

    x = fx_crl(ca, ca_key, serials, 2);
    x2 = fx_crl(ca, ca_key, more, 3);
    xo = fx_crl(ca2, ca2_key, serials, 2);

    /* DER, verified */
    der = crl_der(x, &len);
    crl = capif_crl_parse(der, len, ca, err, sizeof(err));
    CHECK(crl != NULL);
    if (crl) {
        CHECK(crl->entries == 2);
        CHECK(capif_crl_revoked(crl, c20) == 1);
        CHECK(capif_crl_revoked(crl, c21) == 0);
        CHECK(capif_crl_revoked(crl, c22) == 1);
        /* same serial, another issuer: not this CRL's business */
        CHECK(capif_crl_revoked(crl, other20) == 0);
        /* nextUpdate is a day from now */
        CHECK(capif_crl_stale(crl, time(NULL)) == 0);
        CHECK(capif_crl_stale(crl, time(NULL) + 2 * 86400) == 1);
        capif_crl_free(crl);
    }

    /* trailing bytes, truncation, a flipped signature byte */
    der = realloc(der, len + 1);
    der[len] = 0;
    CHECK(capif_crl_parse(der, len + 1, ca, err, sizeof(err)) == NULL);
    CHECK(capif_crl_parse(der, len - 1, ca, err, sizeof(err)) == NULL);
    der[len - 3] ^= 0x01;
    CHECK(capif_crl_parse(der, len, ca, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "signature") != NULL);
    /* without an issuer nothing is verified */
    crl = capif_crl_parse(der, len, NULL, err, sizeof(err));
    CHECK(crl != NULL);
    capif_crl_free(crl);
    free(der);

    CHECK(capif_crl_parse((const unsigned char *) "", 0, NULL, err,
                          sizeof(err)) == NULL);
    CHECK(capif_crl_parse((const unsigned char *) "garbage", 7, NULL, err,
                          sizeof(err)) == NULL);

    /* another CA's CRL against ours: wrong issuer name */
    der = crl_der(xo, &len);
    CHECK(capif_crl_parse(der, len, ca, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "issuer") != NULL);
    free(der);

    /* PEM */
    pem = crl_pem(x2, &len);
    crl = capif_crl_parse(pem, len, ca, err, sizeof(err));
    CHECK(crl != NULL && crl->entries == 3);
    if (crl) {
        CHECK(capif_crl_revoked(crl, c21) == 1);
        capif_crl_free(crl);
    }
    CHECK(capif_crl_parse(pem, len / 2, ca, err, sizeof(err)) == NULL);

    /* files and their identity */
    fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK(capif_crl_load_file(path, ca, err, sizeof(err)) == NULL);

    write_file(path, pem, len);
    crl = capif_crl_load_file(path, ca, err, sizeof(err));
    CHECK(crl != NULL);
    CHECK(capif_crl_file_id(path, &id1) == 0);
    if (crl) {
        CHECK(capif_crl_file_eq(&crl->id, &id1));
        capif_crl_free(crl);
    }
    free(pem);

    der = crl_der(x, &len);
    write_file(path, der, len);
    CHECK(capif_crl_file_id(path, &id2) == 0);
    CHECK(!capif_crl_file_eq(&id1, &id2));
    crl = capif_crl_load_file(path, ca, err, sizeof(err));
    CHECK(crl != NULL && crl->entries == 2);
    capif_crl_free(crl);
    free(der);

    unlink(path);
    CHECK(capif_crl_file_id(path, &id2) == -1);
    CHECK(capif_crl_load_file(path, ca, err, sizeof(err)) == NULL);
    CHECK(capif_crl_issuer_load_file(path, err, sizeof(err)) == NULL);

    X509_CRL_free(x);
    X509_CRL_free(x2);
    X509_CRL_free(xo);
    X509_free(ca);
    X509_free(ca2);
    X509_free(c20);
    X509_free(c21);
    X509_free(c22);
    X509_free(other20);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(ca2_key);
    EVP_PKEY_free(k);

    return UNIT_DONE();
}

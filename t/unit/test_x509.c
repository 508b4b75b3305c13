/*
 * Copyright (C) ngx_capif_module authors
 */

#include <stdlib.h>
#include "unit.h"
#include "x509_fixture.h"
#include "capif_x509.h"


static int
id_is(X509 *x, capif_x509_id_t kind, const char *want)
{
    size_t         len;
    unsigned char  buf[CAPIF_X509_ID_MAX];

    if (capif_x509_identity(x, kind, buf, &len) != 0) {
        return want == NULL;
    }

    return want != NULL && len == strlen(want)
           && memcmp(buf, want, len) == 0;
}


static const char *
inv(X509 *x, capif_x509_id_t kind, const char *invoker, size_t len)
{
    capif_error_t  err;

    if (capif_x509_invoker_check(x, kind, invoker, len, &err) == 0) {
        return "";
    }

    CHECK(err.outcome == CAPIF_INVALID_TOKEN);
    return err.cause;
}


int
main(void)
{
    char            longname[400];
    X509           *ca, *a, *b, *bare, *ctl, *big;
    EVP_PKEY       *ca_key, *k;
    unsigned char   d1[32], d2[32], *der, *p;
    unsigned char   md[32];
    int             n;

    ca_key = fx_key();
    k = fx_key();
    ca = fx_cert("capif test CA", NULL, 1, ca_key, NULL, NULL);

    a = fx_cert("INV-1234", "DNS:inv1234.example,URI:urn:capif:INV-1234,"
                "URI:urn:other", 10, k, ca, ca_key);
    b = fx_cert("INV-9", "email:x@example,DNS:b.example", 11, k, ca, ca_key);
    bare = fx_cert(NULL, NULL, 12, k, ca, ca_key);
    ctl = fx_cert("INV\x01" "1", NULL, 13, k, ca, ca_key);

    /* a DNS name over CAPIF_X509_ID_MAX (a CN that long cannot be made) */
    memcpy(longname, "DNS:", 4);
    memset(longname + 4, 'x', sizeof(longname) - 5);
    longname[sizeof(longname) - 1] = '\0';
    big = fx_cert("short", longname, 14, k, ca, ca_key);

    /* the thumbprint is SHA-256 of the DER */
    CHECK(capif_x509_sha256(a, d1) == 0);
    n = i2d_X509(a, NULL);
    der = malloc(n);
    p = der;
    i2d_X509(a, &p);
    EVP_Digest(der, n, md, NULL, EVP_sha256(), NULL);
    CHECK(memcmp(md, d1, 32) == 0);
    free(der);
    CHECK(capif_x509_sha256(b, d2) == 0 && memcmp(d1, d2, 32) != 0);

    /* serials for the log */
    {
        char  hex[64];

        CHECK(capif_x509_serial_hex(a, hex, sizeof(hex)) == 0
              && strcmp(hex, "0A") == 0);
        CHECK(capif_x509_serial_hex(a, hex, 2) == -1);
    }

    /* identities */
    CHECK(id_is(a, CAPIF_X509_ID_CN, "INV-1234"));
    CHECK(id_is(a, CAPIF_X509_ID_SAN_URI, "urn:capif:INV-1234"));
    CHECK(id_is(a, CAPIF_X509_ID_SAN_DNS, "inv1234.example"));
    CHECK(id_is(b, CAPIF_X509_ID_SAN_URI, NULL));
    CHECK(id_is(b, CAPIF_X509_ID_SAN_DNS, "b.example"));
    CHECK(id_is(bare, CAPIF_X509_ID_CN, NULL));
    CHECK(id_is(bare, CAPIF_X509_ID_SAN_DNS, NULL));
    CHECK(id_is(ctl, CAPIF_X509_ID_CN, NULL));
    CHECK(id_is(big, CAPIF_X509_ID_SAN_DNS, NULL));
    CHECK(id_is(big, CAPIF_X509_ID_CN, "short"));
    CHECK(id_is(a, CAPIF_X509_ID_OFF, NULL));

    /* the invoker check */
    CHECK(strcmp(inv(a, CAPIF_X509_ID_OFF, "zzz", 3), "") == 0);
    CHECK(strcmp(inv(a, CAPIF_X509_ID_CN, "INV-1234", 8), "") == 0);
    CHECK(strcmp(inv(a, CAPIF_X509_ID_CN, "INV-123", 7),
                 "CERT_INVOKER_MISMATCH") == 0);
    CHECK(strcmp(inv(a, CAPIF_X509_ID_CN, "INV-12345", 9),
                 "CERT_INVOKER_MISMATCH") == 0);
    CHECK(strcmp(inv(a, CAPIF_X509_ID_CN, "inv-1234", 8),
                 "CERT_INVOKER_MISMATCH") == 0);
    CHECK(strcmp(inv(a, CAPIF_X509_ID_SAN_URI, "urn:capif:INV-1234", 18),
                 "") == 0);
    CHECK(strcmp(inv(a, CAPIF_X509_ID_SAN_URI, "urn:other", 9),
                 "CERT_INVOKER_MISMATCH") == 0);
    CHECK(strcmp(inv(a, CAPIF_X509_ID_SAN_DNS, "inv1234.example", 15),
                 "") == 0);
    CHECK(strcmp(inv(bare, CAPIF_X509_ID_CN, "", 0),
                 "CERT_INVOKER_MISMATCH") == 0);
    CHECK(strcmp(inv(ctl, CAPIF_X509_ID_CN, "INV\x01" "1", 5),
                 "CERT_INVOKER_MISMATCH") == 0);

    X509_free(ca);
    X509_free(a);
    X509_free(b);
    X509_free(bare);
    X509_free(ctl);
    X509_free(big);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(k);

    return UNIT_DONE();
}

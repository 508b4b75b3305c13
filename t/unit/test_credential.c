/*
 * Copyright (C) ngx_capif_module authors
 *
 * revoke-credential's names of a certificate (canonical serial and
 * issuer, from a push and from the certificate alike) and the
 * check-authentication decision.
 */

#include <stdlib.h>
#include "unit.h"
#include "x509_fixture.h"
#include "capif_credential.h"


static const char *
serial(const char *s)
{
    static char  out[CAPIF_CRED_SERIAL_MAX + 1];

    if (capif_cred_serial_parse((const unsigned char *) s, strlen(s), out)
        == 0)
    {
        return NULL;
    }

    return out;
}


static const char *
issuer(const char *s)
{
    size_t                n;
    static unsigned char  out[CAPIF_CRED_ISSUER_MAX + 1];

    n = capif_cred_issuer_parse((const unsigned char *) s, strlen(s), out);
    if (n == 0) {
        return NULL;
    }

    out[n] = '\0';
    return (const char *) out;
}


static int
eq(const char *got, const char *want)
{
    if (got == NULL || want == NULL) {
        if (got != want) {
            fprintf(stderr, "got %s, want %s\n", got ? got : "(null)",
                    want ? want : "(null)");
        }
        return got == want;
    }

    if (strcmp(got, want) != 0) {
        fprintf(stderr, "got \"%s\", want \"%s\"\n", got, want);
        return 0;
    }

    return 1;
}


static const char *
decide(const capif_cred_auth_t *a, const char *invoker)
{
    capif_error_t  err;

    if (capif_cred_authenticate(a, (const unsigned char *) invoker,
                                invoker ? strlen(invoker) : 0, &err)
        == 0)
    {
        return "";
    }

    CHECK(err.outcome == CAPIF_INSUFFICIENT_SCOPE && err.detail != NULL);
    return err.cause;
}


int
main(void)
{
    int                i;
    char               s[CAPIF_CRED_SERIAL_MAX + 1], big[200];
    size_t             n;
    X509              *ca, *a, *multi;
    EVP_PKEY          *ca_key, *k;
    X509_NAME         *name;
    unsigned char      out[CAPIF_CRED_ISSUER_MAX + 1];
    capif_cred_auth_t  au;

    /* serial numbers: hex, either case, colon pairs; canonical form */
    CHECK(eq(serial("4F3A01"), "4f3a01"));
    CHECK(eq(serial("4f:3a:01"), "4f3a01"));
    CHECK(eq(serial("00:0A"), "a"));
    CHECK(eq(serial("0000"), "0"));
    CHECK(eq(serial("0"), "0"));
    CHECK(serial("") == NULL);
    CHECK(serial("4f:3a:1") == NULL);
    CHECK(serial("4f3:a01") == NULL);
    CHECK(serial("4f:3a:") == NULL);
    CHECK(serial(":4f") == NULL);
    CHECK(serial("0x4f") == NULL);
    CHECK(serial("4f 3a") == NULL);
    CHECK(serial("-1") == NULL);
    memset(big, '1', 64);
    big[64] = '\0';
    CHECK(serial(big) != NULL);
    big[64] = '1';
    big[65] = '\0';
    CHECK(serial(big) == NULL);
    /* leading zeros do not count towards the limit */
    memset(big, '0', 100);
    strcpy(big + 100, "ab");
    CHECK(eq(serial(big), "ab"));

    /* issuers: RFC 4514 in, canonical out */
    CHECK(eq(issuer("CN=CAPIF CA,O=Example"), "CN=capif ca,O=example"));
    CHECK(eq(issuer("cn=capif ca, o=example"), "CN=capif ca,O=example"));
    CHECK(eq(issuer("CN = Capif  CA ,O=Example"),
             "CN=capif ca,O=example"));
    CHECK(eq(issuer("2.5.4.3=ca,2.5.4.10=x"), "CN=ca,O=x"));
    CHECK(eq(issuer("commonName=ca"), "CN=ca"));
    CHECK(eq(issuer("CN=a\\,b,O=x\\2By"), "CN=a\\2cb,O=x\\2by"));
    CHECK(eq(issuer("CN=\\ lead"), "CN=lead"));
    CHECK(eq(issuer("CN=caf\\C3\\A9"), "CN=caf\xc3\xa9"));
    /* a multi-valued RDN: the order it is written in does not matter */
    CHECK(eq(issuer("OU=b+CN=a,O=x"), "CN=a+OU=b,O=x"));
    CHECK(eq(issuer("CN=a+OU=b,O=x"), "CN=a+OU=b,O=x"));
    CHECK(eq(issuer("emailAddress=ca@example.com,DC=example,DC=com"),
             "emailAddress=ca@example.com,DC=example,DC=com"));
    CHECK(issuer("") == NULL);
    CHECK(issuer("capif ca") == NULL);
    CHECK(issuer("CN=x,") == NULL);
    CHECK(issuer(",CN=x") == NULL);
    CHECK(issuer("CN=x+") == NULL);
    CHECK(issuer("=x") == NULL);
    CHECK(issuer("NOPE=x") == NULL);
    CHECK(issuer("CN=#0c0178") == NULL);
    CHECK(issuer("CN=a\"b") == NULL);
    CHECK(issuer("CN=a;b") == NULL);
    CHECK(issuer("CN=a\\") == NULL);
    CHECK(issuer("CN=a\\q") == NULL);
    CHECK(issuer("CN=a\\0") == NULL);
    CHECK(issuer("C N=x") == NULL);
    CHECK(capif_cred_issuer_parse((const unsigned char *) "CN=a\\\0b", 7,
                                  out) == 0);
    CHECK(capif_cred_issuer_parse((const unsigned char *) "CN=a\0b", 6,
                                  out) == 0);
    /* control bytes are escaped, never stored raw */
    CHECK(eq(issuer("CN=a\\0Ab"), "CN=a\\0ab"));
    /* too many attributes, too long */
    big[0] = '\0';
    for (i = 0; i < 33; i++) {
        strcat(big, i ? ",C=x" : "C=x");
    }
    CHECK(issuer(big) == NULL);
    {
        char  huge[700];

        memcpy(huge, "CN=", 3);
        memset(huge + 3, 'a', 600);
        huge[603] = '\0';
        CHECK(issuer(huge) == NULL);
    }

    /* thumbprints */
    CHECK(capif_cred_thumb_valid((const unsigned char *)
              "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU", 43));
    CHECK(!capif_cred_thumb_valid((const unsigned char *)
              "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFV", 43));
    CHECK(!capif_cred_thumb_valid((const unsigned char *)
              "47DEQpj8HBSa+/TImW-5JCeuQeRkm5NMpJWZG3hSuFU", 43));
    CHECK(!capif_cred_thumb_valid((const unsigned char *)
              "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuF", 42));

    /* the certificate side: the same canonical forms */
    ca_key = fx_key();
    k = fx_key();
    ca = fx_cert("CAPIF  Test CA", NULL, 1, ca_key, NULL, NULL);
    a = fx_cert("INV-1", NULL, 0x0a0b, k, ca, ca_key);

    CHECK(capif_cred_serial_of(a, s) == 3 && eq(s, "a0b"));
    n = capif_cred_issuer_of(a, out);
    out[n] = '\0';
    CHECK(eq((char *) out, "CN=capif test ca,O=capif test"));
    CHECK(eq(issuer("CN=CAPIF  Test CA,O=capif test"), (char *) out));

    /* a multi-valued RDN in a certificate */
    multi = fx_cert("x", NULL, 7, k, NULL, NULL);
    name = X509_get_issuer_name(multi);
    X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_ASC,
                               (const unsigned char *) "Unit", -1, -1, -1);
    n = capif_cred_issuer_of(multi, out);
    out[n] = '\0';
    CHECK(eq((char *) out, "CN=x+OU=unit,O=capif test"));
    CHECK(eq(issuer("OU=Unit+CN=x,O=capif test"), (char *) out));

    /* check-authentication */
    memset(&au, 0, sizeof(au));
    CHECK(eq(decide(&au, NULL), "CERT_INVOKER_NOT_CONFIGURED"));
    au.id_kind = CAPIF_X509_ID_CN;
    CHECK(eq(decide(&au, NULL), "CLIENT_CERT_MISSING"));
    au.present = 1;
    CHECK(eq(decide(&au, NULL), "CLIENT_CERT_UNVERIFIED"));
    au.verified = 1;
    au.withdrawn = 1;
    CHECK(eq(decide(&au, NULL), "CLIENT_CERT_REVOKED"));
    au.withdrawn = 2;
    CHECK(eq(decide(&au, "INV-1"), "CLIENT_CERT_REVOKED"));
    au.withdrawn = 0;
    CHECK(eq(decide(&au, NULL), ""));
    CHECK(eq(decide(&au, "INV-1"), "CERT_INVOKER_MISMATCH"));
    au.id = (const unsigned char *) "INV-1";
    au.id_len = 5;
    CHECK(eq(decide(&au, "INV-1"), ""));
    CHECK(eq(decide(&au, "INV-12"), "CERT_INVOKER_MISMATCH"));
    CHECK(eq(decide(&au, "inv-1"), "CERT_INVOKER_MISMATCH"));

    X509_free(a);
    X509_free(multi);
    X509_free(ca);
    EVP_PKEY_free(k);
    EVP_PKEY_free(ca_key);

    return UNIT_DONE();
}

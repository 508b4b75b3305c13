/*
 * Copyright (C) ngx_capif_module authors
 */

#include <string.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include "capif_x509.h"


static int capif_x509_copy(const ASN1_STRING *s, unsigned char *buf,
    size_t *len);


int
capif_x509_sha256(X509 *x, unsigned char out[32])
{
    unsigned int  n;

    n = 0;

    if (X509_digest(x, EVP_sha256(), out, &n) != 1 || n != 32) {
        return -1;
    }

    return 0;
}


int
capif_x509_identity(X509 *x, capif_x509_id_t kind, unsigned char *buf,
    size_t *len)
{
    int                i, n, idx, rc;
    X509_NAME         *name;
    ASN1_STRING       *s;
    GENERAL_NAME      *gn;
    GENERAL_NAMES     *sans;

    if (kind == CAPIF_X509_ID_CN) {
        name = X509_get_subject_name(x);

        /* the most specific CN is the last one */
        idx = -1;
        for ( ;; ) {
            i = X509_NAME_get_index_by_NID(name, NID_commonName, idx);
            if (i < 0) {
                break;
            }
            idx = i;
        }

        if (idx < 0) {
            return -1;
        }

        s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));

        /* UTF8String, PrintableString, IA5String: compared as bytes */
        if (s == NULL
            || (ASN1_STRING_type(s) != V_ASN1_UTF8STRING
                && ASN1_STRING_type(s) != V_ASN1_PRINTABLESTRING
                && ASN1_STRING_type(s) != V_ASN1_IA5STRING))
        {
            return -1;
        }

        return capif_x509_copy(s, buf, len);
    }

    if (kind != CAPIF_X509_ID_SAN_URI && kind != CAPIF_X509_ID_SAN_DNS) {
        return -1;
    }

    sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    if (sans == NULL) {
        return -1;
    }

    rc = -1;
    n = sk_GENERAL_NAME_num(sans);

    for (i = 0; i < n; i++) {
        gn = sk_GENERAL_NAME_value(sans, i);

        if (kind == CAPIF_X509_ID_SAN_URI && gn->type == GEN_URI) {
            rc = capif_x509_copy(gn->d.uniformResourceIdentifier, buf, len);
            break;
        }

        if (kind == CAPIF_X509_ID_SAN_DNS && gn->type == GEN_DNS) {
            rc = capif_x509_copy(gn->d.dNSName, buf, len);
            break;
        }
    }

    GENERAL_NAMES_free(sans);

    return rc;
}


int
capif_x509_serial_hex(X509 *x, char *buf, size_t size)
{
    int      rc;
    char    *hex;
    BIGNUM  *bn;

    bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    if (bn == NULL) {
        return -1;
    }

    hex = BN_bn2hex(bn);
    BN_free(bn);

    if (hex == NULL) {
        return -1;
    }

    rc = (strlen(hex) < size) ? 0 : -1;

    if (rc == 0) {
        memcpy(buf, hex, strlen(hex) + 1);
    }

    OPENSSL_free(hex);

    return rc;
}


int
capif_x509_invoker_check(X509 *x, capif_x509_id_t kind,
    const char *invoker, size_t invoker_len, capif_error_t *err)
{
    size_t         len;
    unsigned char  id[CAPIF_X509_ID_MAX];

    if (kind == CAPIF_X509_ID_OFF) {
        return 0;
    }

    if (capif_x509_identity(x, kind, id, &len) != 0) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "CERT_INVOKER_MISMATCH",
                          "the client certificate names no invoker "
                          "(no usable CN or subjectAltName of the "
                          "configured kind)");
    }

    if (len != invoker_len || memcmp(id, invoker, len) != 0) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "CERT_INVOKER_MISMATCH",
                          "the client certificate names another invoker "
                          "than the token");
    }

    return 0;
}


/* an identity ends up in logs and headers: no NUL, no control bytes */
static int
capif_x509_copy(const ASN1_STRING *s, unsigned char *buf, size_t *len)
{
    int                   n, i;
    const unsigned char  *p;

    n = ASN1_STRING_length(s);
    p = ASN1_STRING_get0_data(s);

    if (n <= 0 || n > CAPIF_X509_ID_MAX || p == NULL) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f) {
            return -1;
        }
    }

    memcpy(buf, p, n);
    *len = (size_t) n;

    return 0;
}

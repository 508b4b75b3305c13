/*
 * Copyright (C) ngx_capif_module authors
 *
 * What the gateway reads from an invoker's X.509 client certificate: its
 * SHA-256 thumbprint (RFC 8705) and the identity that names the invoker
 * (subject CN, or the first URI or DNS subjectAltName).
 */

#ifndef CAPIF_X509_H
#define CAPIF_X509_H

#include <stddef.h>
#include <openssl/x509.h>
#include "capif_error.h"


typedef enum {
    CAPIF_X509_ID_OFF = 0,
    CAPIF_X509_ID_CN,
    CAPIF_X509_ID_SAN_URI,
    CAPIF_X509_ID_SAN_DNS
} capif_x509_id_t;


/* SHA-256 of the certificate's DER encoding; 0 or -1 */
int capif_x509_sha256(X509 *x, unsigned char out[32]);

/* the longest identity read from a certificate */
#define CAPIF_X509_ID_MAX  256

/*
 * Copies the certificate's identity of the given kind into buf (at least
 * CAPIF_X509_ID_MAX bytes, not NUL-terminated).  Returns 0, or -1 when
 * the certificate has none, or one that is longer or has a NUL or a
 * control character.
 */
int capif_x509_identity(X509 *x, capif_x509_id_t kind, unsigned char *buf,
    size_t *len);

/* the serial number in hex, NUL-terminated, for logs; 0 or -1 */
int capif_x509_serial_hex(X509 *x, char *buf, size_t size);

/*
 * The identity must equal the token's invoker id, byte for byte.
 * Returns 0, or -1 with CERT_INVOKER_MISMATCH.
 */
int capif_x509_invoker_check(X509 *x, capif_x509_id_t kind,
    const char *invoker, size_t invoker_len, capif_error_t *err);


#endif /* CAPIF_X509_H */

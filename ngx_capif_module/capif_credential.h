/*
 * Copyright (C) ngx_capif_module authors
 *
 * An invoker's credential, its TLS client certificate, as revoke-credential
 * names it and check-authentication judges it: the canonical serial number
 * and issuer that a push and a connection's certificate must both produce
 * byte for byte, and the check-authentication decision.  Pure C with
 * OpenSSL's X509 types: no nginx, no I/O.
 */

#ifndef CAPIF_CREDENTIAL_H
#define CAPIF_CREDENTIAL_H

#include <stddef.h>
#include <openssl/x509.h>
#include "capif_error.h"
#include "capif_x509.h"


/* the most hex digits of a serial number (RFC 5280 allows 20 octets) */
#define CAPIF_CRED_SERIAL_MAX   64

/* the longest canonical issuer: a record field */
#define CAPIF_CRED_ISSUER_MAX   512

/* the most attributes an issuer name may have */
#define CAPIF_CRED_AVAS_MAX     32


/*
 * A serial number as the CCF writes it: hex digits, either case, or
 * colon-separated pairs ("4f:3a:01").  Canonical: lower case, no leading
 * zeros ("0" for zero).  out holds CAPIF_CRED_SERIAL_MAX + 1 bytes.
 * Returns the length, or 0 if s is not such a serial.
 */
size_t capif_cred_serial_parse(const unsigned char *s, size_t len,
    char *out);

/* the certificate's serial in the same form; 0 if it has none usable */
size_t capif_cred_serial_of(X509 *x, char *out);

/*
 * An RFC 4514 distinguished name ("CN=CAPIF CA,O=Example") turned into
 * the canonical issuer: RDNs in RFC 4514 order joined by ",", the
 * attributes of one RDN sorted and joined by "+", each "<type>=<value>"
 * with the type as OpenSSL's short name (else the dotted OID) and the
 * value with ASCII case folded, runs of spaces made one and trimmed
 * (RFC 4518's caseIgnoreMatch, as far as ASCII goes), and ",+=\\\"<>;"
 * and control bytes escaped as "\\xx".  Attribute types are read without
 * regard to case; "#<hex>" values are not read.  out holds
 * CAPIF_CRED_ISSUER_MAX bytes.  Returns the length, or 0.
 */
size_t capif_cred_issuer_parse(const unsigned char *s, size_t len,
    unsigned char *out);

/* the certificate's issuer in the same form; 0 if it cannot be made */
size_t capif_cred_issuer_of(X509 *x, unsigned char *out);

/* 1 if s is 43 strict base64url characters of a SHA-256 thumbprint */
int capif_cred_thumb_valid(const unsigned char *s, size_t len);


/* what check-authentication knows of the connection's certificate */
typedef struct {
    int                   present;
    int                   verified;     /* nginx verified its chain */
    int                   withdrawn;    /* 1: the CRL, 2: revoke-credential */
    capif_x509_id_t       id_kind;      /* capif_cert_invoker */
    const unsigned char  *id;           /* the identity it names, or NULL */
    size_t                id_len;
} capif_cred_auth_t;


/*
 * check-authentication (TS 29.222 clause 9.1.2A.2): may the connection's
 * certificate act as the invoker?  invoker NULL decides only what does
 * not depend on the request body.  Returns 0, or -1 with err's cause (the
 * glue answers 403).
 */
int capif_cred_authenticate(const capif_cred_auth_t *a,
    const unsigned char *invoker, size_t invoker_len, capif_error_t *err);


#endif /* CAPIF_CREDENTIAL_H */

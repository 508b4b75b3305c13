/*
 * Copyright (C) ngx_capif_module authors
 *
 * Certificate revocation lists from the CCF's CA (RFC 5280): loading a
 * PEM or DER CRL, verifying it against the CA certificate, and asking
 * whether a client certificate is listed.  The file's identity (device,
 * inode, size, mtime) tells a caller when to load it again.
 */

#ifndef CAPIF_CRL_H
#define CAPIF_CRL_H

#include <stddef.h>
#include <time.h>
#include <sys/types.h>
#include <openssl/x509.h>


/* larger CRL files are refused */
#define CAPIF_CRL_MAX_FILE  (64 * 1024 * 1024)


typedef struct {
    dev_t                 dev;
    ino_t                 ino;
    off_t                 size;
    time_t                mtime;
    long                  mtime_nsec;
} capif_crl_file_t;


typedef struct {
    X509_CRL             *crl;
    capif_crl_file_t       id;        /* of the file it was read from */
    int                   entries;
} capif_crl_t;


/* stats path; 0, or -1 with errno */
int capif_crl_file_id(const char *path, capif_crl_file_t *id);

int capif_crl_file_eq(const capif_crl_file_t *a, const capif_crl_file_t *b);

/*
 * Parses a CRL in PEM or DER and, when issuer is not NULL, checks that the
 * issuer's subject names it and the issuer's key signed it.  Returns a
 * capif_crl_t to free with capif_crl_free(), or NULL with errbuf set.
 */
capif_crl_t *capif_crl_parse(const unsigned char *data, size_t len,
    X509 *issuer, char *errbuf, size_t size);

/* reads and parses a file; sets crl->id from the opened file */
capif_crl_t *capif_crl_load_file(const char *path, X509 *issuer,
    char *errbuf, size_t size);

/*
 * 1 if the CRL's nextUpdate is before now: the CA has published a newer
 * one that may list more.  0 if not, or if the CRL names no nextUpdate.
 */
int capif_crl_stale(const capif_crl_t *crl, time_t now);

/* 1 if the certificate (its issuer and serial) is listed, else 0 */
int capif_crl_revoked(const capif_crl_t *crl, X509 *cert);

void capif_crl_free(capif_crl_t *crl);

/* the CA certificate a CRL must be signed by, from a PEM file */
X509 *capif_crl_issuer_load_file(const char *path, char *errbuf,
    size_t size);


#endif /* CAPIF_CRL_H */

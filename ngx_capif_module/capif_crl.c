/*
 * Copyright (C) ngx_capif_module authors
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include "capif_crl.h"


static void capif_crl_err(char *errbuf, size_t size, const char *fmt, ...);
static unsigned char *capif_crl_read(const char *path, size_t *len,
    capif_crl_file_t *id, char *errbuf, size_t size);


static void
capif_crl_file_set(capif_crl_file_t *id, const struct stat *st)
{
    memset(id, 0, sizeof(capif_crl_file_t));
    id->dev = st->st_dev;
    id->ino = st->st_ino;
    id->size = st->st_size;
    id->mtime = st->st_mtim.tv_sec;
    id->mtime_nsec = st->st_mtim.tv_nsec;
}


int
capif_crl_file_id(const char *path, capif_crl_file_t *id)
{
    struct stat  st;

    if (stat(path, &st) != 0) {
        return -1;
    }

    capif_crl_file_set(id, &st);

    return 0;
}


int
capif_crl_file_eq(const capif_crl_file_t *a, const capif_crl_file_t *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size
           && a->mtime == b->mtime && a->mtime_nsec == b->mtime_nsec;
}


capif_crl_t *
capif_crl_parse(const unsigned char *data, size_t len, X509 *issuer,
    char *errbuf, size_t size)
{
    int                   n;
    BIO                  *bio;
    EVP_PKEY             *pkey;
    X509_CRL             *x;
    capif_crl_t          *crl;
    const unsigned char  *p;

    if (len == 0 || len > CAPIF_CRL_MAX_FILE) {
        capif_crl_err(errbuf, size, "empty or too large");
        return NULL;
    }

    ERR_clear_error();

    /* DER begins with a SEQUENCE tag; anything else is read as PEM */
    if (data[0] != 0x30) {
        bio = BIO_new_mem_buf(data, (int) len);
        if (bio == NULL) {
            capif_crl_err(errbuf, size, "out of memory");
            return NULL;
        }

        x = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
        BIO_free(bio);

    } else {
        p = data;
        x = d2i_X509_CRL(NULL, &p, (long) len);

        /* DER: one CRL, nothing after it */
        if (x != NULL && p != data + len) {
            X509_CRL_free(x);
            capif_crl_err(errbuf, size, "trailing bytes after the DER CRL");
            return NULL;
        }
    }

    if (x == NULL) {
        capif_crl_err(errbuf, size, "not a PEM or DER X.509 CRL");
        ERR_clear_error();
        return NULL;
    }

    if (issuer != NULL) {
        if (X509_NAME_cmp(X509_CRL_get_issuer(x),
                          X509_get_subject_name(issuer))
            != 0)
        {
            X509_CRL_free(x);
            capif_crl_err(errbuf, size, "the CRL's issuer is not the "
                          "subject of capif_crl_issuer");
            return NULL;
        }

        pkey = X509_get0_pubkey(issuer);

        if (pkey == NULL || X509_CRL_verify(x, pkey) != 1) {
            X509_CRL_free(x);
            ERR_clear_error();
            capif_crl_err(errbuf, size, "the CRL's signature does not "
                          "verify with capif_crl_issuer's key");
            return NULL;
        }
    }

    crl = calloc(1, sizeof(capif_crl_t));
    if (crl == NULL) {
        X509_CRL_free(x);
        capif_crl_err(errbuf, size, "out of memory");
        return NULL;
    }

    n = sk_X509_REVOKED_num(X509_CRL_get_REVOKED(x));

    crl->crl = x;
    crl->entries = n < 0 ? 0 : n;

    return crl;
}


capif_crl_t *
capif_crl_load_file(const char *path, X509 *issuer, char *errbuf,
    size_t size)
{
    size_t            len;
    capif_crl_t      *crl;
    unsigned char    *data;
    capif_crl_file_t   id;

    data = capif_crl_read(path, &len, &id, errbuf, size);
    if (data == NULL) {
        return NULL;
    }

    crl = capif_crl_parse(data, len, issuer, errbuf, size);
    free(data);

    if (crl != NULL) {
        crl->id = id;
    }

    return crl;
}


int
capif_crl_stale(const capif_crl_t *crl, time_t now)
{
    const ASN1_TIME  *next;

    next = X509_CRL_get0_nextUpdate(crl->crl);

    return next != NULL && X509_cmp_time(next, &now) < 0;
}


int
capif_crl_revoked(const capif_crl_t *crl, X509 *cert)
{
    X509_REVOKED  *rev;

    /* matches the certificate's issuer and serial; sorts once, lazily */
    return X509_CRL_get0_by_cert(crl->crl, &rev, cert) == 1;
}


void
capif_crl_free(capif_crl_t *crl)
{
    if (crl == NULL) {
        return;
    }

    X509_CRL_free(crl->crl);
    free(crl);
}


X509 *
capif_crl_issuer_load_file(const char *path, char *errbuf, size_t size)
{
    X509  *x;
    FILE  *f;

    f = fopen(path, "r");
    if (f == NULL) {
        capif_crl_err(errbuf, size, "cannot open \"%s\": %s", path,
                      strerror(errno));
        return NULL;
    }

    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);

    if (x == NULL) {
        ERR_clear_error();
        capif_crl_err(errbuf, size, "\"%s\" is not a PEM X.509 "
                      "certificate", path);
        return NULL;
    }

    return x;
}


static unsigned char *
capif_crl_read(const char *path, size_t *len, capif_crl_file_t *id,
    char *errbuf, size_t size)
{
    int             err;
    FILE           *f;
    size_t          n, want;
    struct stat     st;
    unsigned char  *buf;

    f = fopen(path, "rb");
    if (f == NULL) {
        capif_crl_err(errbuf, size, "cannot open \"%s\": %s", path,
                      strerror(errno));
        return NULL;
    }

    if (fstat(fileno(f), &st) != 0) {
        err = errno;
        fclose(f);
        capif_crl_err(errbuf, size, "cannot stat \"%s\": %s", path,
                      strerror(err));
        return NULL;
    }

    if (!S_ISREG(st.st_mode) || st.st_size <= 0
        || st.st_size > CAPIF_CRL_MAX_FILE)
    {
        fclose(f);
        capif_crl_err(errbuf, size, "\"%s\" is not a regular file of 1 to "
                      "%d bytes", path, CAPIF_CRL_MAX_FILE);
        return NULL;
    }

    want = (size_t) st.st_size;

    /* one spare byte: reading it means the file grew meanwhile */
    buf = malloc(want + 1);
    if (buf == NULL) {
        fclose(f);
        capif_crl_err(errbuf, size, "out of memory");
        return NULL;
    }

    n = fread(buf, 1, want + 1, f);
    err = ferror(f);
    fclose(f);

    if (err || n != want) {
        free(buf);
        capif_crl_err(errbuf, size, "\"%s\" changed or failed while being "
                      "read", path);
        return NULL;
    }

    capif_crl_file_set(id, &st);
    *len = n;

    return buf;
}


static void
capif_crl_err(char *errbuf, size_t size, const char *fmt, ...)
{
    va_list  args;

    if (errbuf == NULL || size == 0) {
        return;
    }

    va_start(args, fmt);
    vsnprintf(errbuf, size, fmt, args);
    va_end(args);
}

/*
 * Copyright (C) ngx_capif_module authors
 *
 * Verification keys: loaded once at configuration time, each bound to
 * exactly one JWS algorithm, and used with OpenSSL EVP.
 */

#ifndef CAPIF_KEYS_H
#define CAPIF_KEYS_H

#include <stddef.h>
#include <openssl/evp.h>


typedef enum {
    CAPIF_ALG_UNKNOWN = 0,      /* also: "none", every HMAC, anything else */
    CAPIF_ALG_RS256,
    CAPIF_ALG_RS384,
    CAPIF_ALG_RS512,
    CAPIF_ALG_PS256,
    CAPIF_ALG_PS384,
    CAPIF_ALG_PS512,
    CAPIF_ALG_ES256,
    CAPIF_ALG_ES384,
    CAPIF_ALG_ES512,
    CAPIF_ALG_EDDSA
} capif_alg_t;


/* SHA-256 of a key's SubjectPublicKeyInfo DER: its identity */
#define CAPIF_KEY_FP_LEN  32

/* what verification needs, fetched once per key: see capif_key_prepare() */
typedef struct capif_key_vfy_s  capif_key_vfy_t;


typedef struct {
    EVP_PKEY         *pkey;
    capif_key_vfy_t  *vfy;      /* NULL until prepared; owned */
    capif_alg_t       alg;
    unsigned char    *kid;      /* NULL when the key has no kid */
    size_t            kid_len;
    char             *source;   /* file name, for log lines */
    size_t            bundle_certs; /* >1: the leaf of a PEM bundle */
} capif_key_t;


typedef struct {
    capif_key_t      *keys;
    size_t            nkeys;
    size_t            nalloc;
} capif_keyset_t;


/* exact, case-sensitive JOSE names; CAPIF_ALG_UNKNOWN for anything else */
capif_alg_t capif_alg_from_name(const char *name, size_t len);
const char *capif_alg_name(capif_alg_t alg);

/*
 * Adds the keys of one file: a PEM public key, a PEM X.509 certificate, a
 * PEM bundle whose first certificate is the leaf, or a JWKS (JSON).  alg
 * and kid are the directive's "alg=" and "kid=" values or NULL.  Returns
 * 0, or -1 with a message in errbuf that says why: weak RSA, a curve that
 * does not fit the algorithm, an unreadable file...
 */
int capif_keyset_load_file(capif_keyset_t *ks, const char *path,
    const char *alg, const char *kid, char *errbuf, size_t errlen);

/*
 * The same from bytes in memory (a key file read by the caller, a CCF
 * response): name stands for the file in messages and in key->source.
 * A PEM bundle of certificates yields the key of its first, the leaf.
 */
int capif_keyset_load_buf(capif_keyset_t *ks, const char *name,
    const unsigned char *buf, size_t len, const char *alg, const char *kid,
    char *errbuf, size_t errlen);

void capif_keyset_free(capif_keyset_t *ks);

/* returns 1 if sig is a valid signature of data by key, else 0 */
int capif_key_verify(const capif_key_t *key, const unsigned char *data,
    size_t len, const unsigned char *sig, size_t siglen);

/*
 * Fetches the digest, builds the verify context (padding, PSS parameters)
 * and the key's fingerprint.  The loaders call it for every key they add;
 * a key that was not prepared still verifies, with all the set-up per
 * call, and has no fingerprint.  Returns 0, or -1 if OpenSSL refuses.
 */
int capif_key_prepare(capif_key_t *key);

/* the key's CAPIF_KEY_FP_LEN-byte fingerprint, NULL if not prepared */
const unsigned char *capif_key_fingerprint(const capif_key_t *key);

/*
 * The key of ks with this fingerprint, bound to alg, that a token with
 * this kid (NULL: none) would still select; NULL if there is none.  A
 * verified-token cache checks with it that the key is still configured.
 */
const capif_key_t *capif_keyset_find_fingerprint(const capif_keyset_t *ks,
    const unsigned char *fp, capif_alg_t alg, const unsigned char *kid,
    size_t kid_len);


#endif /* CAPIF_KEYS_H */

/*
 * Copyright (C) ngx_capif_module authors
 *
 * A cache of verified tokens, one per worker process: no lock.  It maps
 * the SHA-256 of a whole token to what its verification established (the
 * claim set, the key that verified it) so that a token presented again
 * skips parsing and the signature check, and nothing else.  Entries are
 * kept in a hash table of chains and in a list from most to least
 * recently used; when the cache is full the least recently used goes.
 */

#ifndef CAPIF_TOKEN_CACHE_H
#define CAPIF_TOKEN_CACHE_H

#include <stddef.h>
#include <jansson.h>
#include "capif_keys.h"


#define CAPIF_TC_DIGEST_LEN   32

/* an entry lives at most this long, whatever the token's "exp" */
#define CAPIF_TC_MAX_TTL      300

/* bigger tokens are not kept */
#define CAPIF_TC_MAX_TOKEN    8192

#define CAPIF_TC_MAX_ENTRIES  10000000


typedef struct capif_tc_entry_s  capif_tc_entry_t;

struct capif_tc_entry_s {
    capif_tc_entry_t     *hnext;       /* hash chain */
    capif_tc_entry_t     *prev;        /* towards most recently used */
    capif_tc_entry_t     *next;        /* towards least recently used */
    json_t               *payload;     /* verified claim set: one ref */
    long long             expires;     /* not valid at or after this */
    size_t                signing_input_len;
    capif_alg_t           alg;
    unsigned              kid_len;     /* 0: the token had no kid */
    unsigned char         digest[CAPIF_TC_DIGEST_LEN];
    unsigned char         key_fp[CAPIF_KEY_FP_LEN];
    unsigned char         kid[];       /* the JOSE header's kid */
};


/* what the caller stores: copied, except payload that gets a reference */
typedef struct {
    json_t               *payload;
    long long             expires;
    size_t                signing_input_len;
    capif_alg_t           alg;
    const unsigned char  *key_fp;
    const unsigned char  *kid;         /* NULL: none */
    size_t                kid_len;
} capif_tc_value_t;


typedef struct {
    unsigned long long    hits;
    unsigned long long    misses;
    unsigned long long    inserts;
    unsigned long long    evictions;   /* full: least recently used went */
    unsigned long long    expired;
} capif_tc_stats_t;


typedef struct capif_token_cache_s  capif_token_cache_t;


/* max_entries >= 1; NULL if out of memory or OpenSSL has no SHA-256 */
capif_token_cache_t *capif_token_cache_create(size_t max_entries);

void capif_token_cache_destroy(capif_token_cache_t *tc);

/* the cache key: SHA-256 of the whole token; 0 or -1 */
int capif_token_cache_digest(capif_token_cache_t *tc,
    const unsigned char *token, size_t len,
    unsigned char digest[CAPIF_TC_DIGEST_LEN]);

/*
 * The entry for digest, made most recently used; NULL if there is none or
 * it has expired at now (an expired entry is dropped).  The entry stays
 * valid until the next put or destroy: take a reference to its payload to
 * keep the claims longer.
 */
const capif_tc_entry_t *capif_token_cache_get(capif_token_cache_t *tc,
    const unsigned char *digest, long long now);

/*
 * Adds or replaces the entry for digest, evicting the least recently used
 * one if the cache is full.  Returns 0, or -1 if out of memory (nothing
 * was kept; the cache is still sound).
 */
int capif_token_cache_put(capif_token_cache_t *tc,
    const unsigned char *digest, const capif_tc_value_t *value);

/* removes the entry for digest if there is one */
void capif_token_cache_remove(capif_token_cache_t *tc,
    const unsigned char *digest);

size_t capif_token_cache_count(const capif_token_cache_t *tc);

const capif_tc_stats_t *capif_token_cache_stats(
    const capif_token_cache_t *tc);

/*
 * The cache's own bytes per entry for a kid of kid_len bytes: the entry
 * and its share of the hash table; the claim set comes on top of it.
 */
size_t capif_token_cache_entry_size(const capif_token_cache_t *tc,
    size_t kid_len);


#endif /* CAPIF_TOKEN_CACHE_H */

/*
 * Copyright (C) ngx_capif_module authors
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "capif_token_cache.h"


struct capif_token_cache_s {
    capif_tc_entry_t    **buckets;
    size_t                mask;        /* buckets - 1, a power of two */
    size_t                max;
    size_t                count;
    capif_tc_entry_t     *head;        /* most recently used */
    capif_tc_entry_t     *tail;        /* least recently used */
    EVP_MD               *sha256;      /* fetched once */
    capif_tc_stats_t      stats;
};


capif_token_cache_t *
capif_token_cache_create(size_t max_entries)
{
    size_t                n;
    capif_token_cache_t  *tc;

    if (max_entries == 0 || max_entries > CAPIF_TC_MAX_ENTRIES) {
        return NULL;
    }

    tc = calloc(1, sizeof(capif_token_cache_t));
    if (tc == NULL) {
        return NULL;
    }

    /* about one entry per bucket when full */
    for (n = 16; n < max_entries; n <<= 1) { /* void */ }

    tc->buckets = calloc(n, sizeof(capif_tc_entry_t *));
    tc->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);

    if (tc->buckets == NULL || tc->sha256 == NULL) {
        capif_token_cache_destroy(tc);
        return NULL;
    }

    tc->mask = n - 1;
    tc->max = max_entries;

    return tc;
}


static void
capif_tc_free_entry(capif_tc_entry_t *e)
{
    json_decref(e->payload);
    free(e);
}


void
capif_token_cache_destroy(capif_token_cache_t *tc)
{
    capif_tc_entry_t  *e, *next;

    if (tc == NULL) {
        return;
    }

    for (e = tc->head; e; e = next) {
        next = e->next;
        capif_tc_free_entry(e);
    }

    free(tc->buckets);
    EVP_MD_free(tc->sha256);
    free(tc);
}


int
capif_token_cache_digest(capif_token_cache_t *tc,
    const unsigned char *token, size_t len,
    unsigned char digest[CAPIF_TC_DIGEST_LEN])
{
    unsigned int  n;

    if (EVP_Digest(token, len, digest, &n, tc->sha256, NULL) != 1
        || n != CAPIF_TC_DIGEST_LEN)
    {
        return -1;
    }

    return 0;
}


/* the digest is uniform: its first bytes are as good as any hash */
static capif_tc_entry_t **
capif_tc_bucket(capif_token_cache_t *tc, const unsigned char *digest)
{
    size_t  h;

    h = (size_t) digest[0] | (size_t) digest[1] << 8
        | (size_t) digest[2] << 16 | (size_t) digest[3] << 24;

    return &tc->buckets[h & tc->mask];
}


static void
capif_tc_unlink_lru(capif_token_cache_t *tc, capif_tc_entry_t *e)
{
    if (e->prev) {
        e->prev->next = e->next;

    } else {
        tc->head = e->next;
    }

    if (e->next) {
        e->next->prev = e->prev;

    } else {
        tc->tail = e->prev;
    }

    e->prev = NULL;
    e->next = NULL;
}


static void
capif_tc_push_front(capif_token_cache_t *tc, capif_tc_entry_t *e)
{
    e->prev = NULL;
    e->next = tc->head;

    if (tc->head) {
        tc->head->prev = e;

    } else {
        tc->tail = e;
    }

    tc->head = e;
}


/* the slot that points at the entry for digest, or at the chain's end */
static capif_tc_entry_t **
capif_tc_find(capif_token_cache_t *tc, const unsigned char *digest)
{
    capif_tc_entry_t  **pp;

    for (pp = capif_tc_bucket(tc, digest); *pp; pp = &(*pp)->hnext) {
        if (memcmp((*pp)->digest, digest, CAPIF_TC_DIGEST_LEN) == 0) {
            break;
        }
    }

    return pp;
}


static void
capif_tc_delete(capif_token_cache_t *tc, capif_tc_entry_t **pp)
{
    capif_tc_entry_t  *e;

    e = *pp;
    *pp = e->hnext;
    capif_tc_unlink_lru(tc, e);
    capif_tc_free_entry(e);
    tc->count--;
}


const capif_tc_entry_t *
capif_token_cache_get(capif_token_cache_t *tc, const unsigned char *digest,
    long long now)
{
    capif_tc_entry_t  **pp, *e;

    pp = capif_tc_find(tc, digest);
    e = *pp;

    if (e == NULL) {
        tc->stats.misses++;
        return NULL;
    }

    if (e->expires <= now) {
        capif_tc_delete(tc, pp);
        tc->stats.expired++;
        tc->stats.misses++;
        return NULL;
    }

    if (tc->head != e) {
        capif_tc_unlink_lru(tc, e);
        capif_tc_push_front(tc, e);
    }

    tc->stats.hits++;

    return e;
}


int
capif_token_cache_put(capif_token_cache_t *tc, const unsigned char *digest,
    const capif_tc_value_t *value)
{
    capif_tc_entry_t  **pp, *e;

    if (value->payload == NULL || value->key_fp == NULL
        || value->kid_len > CAPIF_TC_MAX_TOKEN)
    {
        return -1;
    }

    /* a token presented again after its entry expired: replace it */
    pp = capif_tc_find(tc, digest);
    if (*pp) {
        capif_tc_delete(tc, pp);
    }

    e = malloc(sizeof(capif_tc_entry_t) + value->kid_len);
    if (e == NULL) {
        return -1;
    }

    if (tc->count >= tc->max) {
        pp = capif_tc_find(tc, tc->tail->digest);
        capif_tc_delete(tc, pp);
        tc->stats.evictions++;
    }

    memcpy(e->digest, digest, CAPIF_TC_DIGEST_LEN);
    memcpy(e->key_fp, value->key_fp, CAPIF_KEY_FP_LEN);
    e->payload = json_incref(value->payload);
    e->expires = value->expires;
    e->signing_input_len = value->signing_input_len;
    e->alg = value->alg;
    e->kid_len = (unsigned) value->kid_len;

    if (value->kid_len) {
        memcpy(e->kid, value->kid, value->kid_len);
    }

    pp = capif_tc_bucket(tc, digest);
    e->hnext = *pp;
    *pp = e;

    capif_tc_push_front(tc, e);
    tc->count++;
    tc->stats.inserts++;

    return 0;
}


void
capif_token_cache_remove(capif_token_cache_t *tc,
    const unsigned char *digest)
{
    capif_tc_entry_t  **pp;

    pp = capif_tc_find(tc, digest);

    if (*pp) {
        capif_tc_delete(tc, pp);
    }
}


size_t
capif_token_cache_count(const capif_token_cache_t *tc)
{
    return tc->count;
}


const capif_tc_stats_t *
capif_token_cache_stats(const capif_token_cache_t *tc)
{
    return &tc->stats;
}


size_t
capif_token_cache_entry_size(const capif_token_cache_t *tc, size_t kid_len)
{
    return sizeof(capif_tc_entry_t) + kid_len
           + (tc->mask + 1) * sizeof(capif_tc_entry_t *) / tc->max;
}

/*
 * Copyright (C) ngx_capif_module authors
 *
 * The entries of the revocation zone (ngx_http_capif_rev_tree.c): an
 * rbtree keyed by the CRC-32 of the record's key, a Bloom filter over
 * the same hashes, a queue of every entry and counts per type.  The
 * *_locked functions want the zone's mutex held, and the writer lock for
 * any change.
 */

#ifndef NGX_HTTP_CAPIF_REV_TREE_H
#define NGX_HTTP_CAPIF_REV_TREE_H

#include "ngx_http_capif_rev_zone.h"


/* the rbtree's insert, for ngx_rbtree_init() */
void ngx_http_capif_rev_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);

uint32_t ngx_http_capif_rev_hash(const u_char *key, size_t len);

/* 0 if no entry has this hash, surely */
ngx_uint_t ngx_http_capif_rev_bloom_test(ngx_http_capif_rev_shctx_t *sh,
    uint32_t hash);

ngx_http_capif_rev_node_t *ngx_http_capif_rev_lookup(
    ngx_http_capif_rev_shctx_t *sh, const u_char *key, size_t len,
    uint32_t hash);

/* a later revocation of what node holds */
void ngx_http_capif_rev_merge(ngx_http_capif_rev_node_t *node,
    const capif_rev_record_t *rec);

/* makes a node allocated for the record an entry */
void ngx_http_capif_rev_link(ngx_http_capif_rev_zone_t *zone,
    ngx_http_capif_rev_node_t *node, const capif_rev_record_t *rec,
    const u_char *key, size_t len, uint32_t hash);

/* frees the entries expired at now */
void ngx_http_capif_rev_sweep_locked(ngx_http_capif_rev_zone_t *zone,
    int64_t now);

/* inserts or merges; NGX_DECLINED if the zone is full */
ngx_int_t ngx_http_capif_rev_insert_locked(ngx_http_capif_rev_zone_t *zone,
    const capif_rev_record_t *rec);

/* the node's record, pointing into the node; its encoded length or 0 */
size_t ngx_http_capif_rev_node_record(ngx_http_capif_rev_node_t *node,
    capif_rev_record_t *rec);


#endif /* NGX_HTTP_CAPIF_REV_TREE_H */

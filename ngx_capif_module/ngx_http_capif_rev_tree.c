/*
 * Copyright (C) ngx_capif_module authors
 *
 * The entries of the revocation zone: an rbtree keyed by CRC-32 (hash
 * collisions told apart by the key), a Bloom filter over the hashes, the
 * queue of every entry and the counts per type that let the request path
 * skip whole kinds of probe.
 */

#include "ngx_http_capif_rev_tree.h"
#include "ngx_http_capif_metrics.h"


void
ngx_http_capif_rev_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t          **p;
    ngx_http_capif_rev_node_t   *rn, *rt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            rn = (ngx_http_capif_rev_node_t *) node;
            rt = (ngx_http_capif_rev_node_t *) temp;

            p = (ngx_memn2cmp(rn->key, rt->key, rn->len, rt->len) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


ngx_http_capif_rev_node_t *
ngx_http_capif_rev_lookup(ngx_http_capif_rev_shctx_t *sh, const u_char *key,
    size_t len, uint32_t hash)
{
    ngx_int_t                   rc;
    ngx_rbtree_node_t          *node, *sentinel;
    ngx_http_capif_rev_node_t  *rn;

    node = sh->rbtree.root;
    sentinel = sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        rn = (ngx_http_capif_rev_node_t *) node;

        rc = ngx_memn2cmp((u_char *) key, rn->key, len, rn->len);

        if (rc == 0) {
            return rn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


uint32_t
ngx_http_capif_rev_hash(const u_char *key, size_t len)
{
    return capif_crc32(0, key, len);
}


static void
ngx_http_capif_rev_bloom_set(ngx_http_capif_rev_shctx_t *sh, uint32_t hash)
{
    uint32_t  bit;

    bit = hash & sh->bloom_mask;
    sh->bloom[bit >> 3] |= (u_char) (1 << (bit & 7));
}


ngx_uint_t
ngx_http_capif_rev_bloom_test(ngx_http_capif_rev_shctx_t *sh, uint32_t hash)
{
    uint32_t  bit;

    bit = hash & sh->bloom_mask;
    return sh->bloom[bit >> 3] & (1 << (bit & 7));
}


static void
ngx_http_capif_rev_bloom_rebuild(ngx_http_capif_rev_shctx_t *sh)
{
    ngx_queue_t                *q;
    ngx_http_capif_rev_node_t  *node;

    ngx_memzero(sh->bloom, (sh->bloom_mask >> 3) + 1);

    for (q = ngx_queue_head(&sh->queue);
         q != ngx_queue_sentinel(&sh->queue);
         q = ngx_queue_next(q))
    {
        node = ngx_queue_data(q, ngx_http_capif_rev_node_t, queue);
        ngx_http_capif_rev_bloom_set(sh, (uint32_t) node->node.key);
    }
}


size_t
ngx_http_capif_rev_node_record(ngx_http_capif_rev_node_t *node,
    capif_rev_record_t *rec)
{
    if (capif_rev_key_decode(rec, node->key, node->len) != 0) {
        return 0;
    }

    rec->revoked_at = node->revoked_at;
    rec->expires = node->expires;
    rec->cause.data = node->key + node->len;
    rec->cause.len = node->cause_len;

    /* the encoded record: the fixed part, the key without its type, cause */
    return ngx_http_capif_rev_node_enc_len(node);
}


void
ngx_http_capif_rev_merge(ngx_http_capif_rev_node_t *node,
    const capif_rev_record_t *rec)
{
    /* a later revocation of the same thing moves the cut-off forward */
    if (rec->revoked_at > node->revoked_at) {
        node->revoked_at = rec->revoked_at;
    }

    if (rec->expires > node->expires) {
        node->expires = rec->expires;
    }

    /* the latest cause, if it fits the node (see CAUSE_ROOM) */
    if (rec->cause.len <= node->cause_room) {
        node->cause_len = (u_short) rec->cause.len;
        ngx_memcpy(node->key + node->len, rec->cause.data, rec->cause.len);
    }
}


void
ngx_http_capif_rev_link(ngx_http_capif_rev_zone_t *zone,
    ngx_http_capif_rev_node_t *node, const capif_rev_record_t *rec,
    const u_char *key, size_t len, uint32_t hash)
{
    node->node.key = hash;
    node->revoked_at = rec->revoked_at;
    node->expires = rec->expires;
    node->len = (u_short) len;
    ngx_memcpy(node->key, key, len);
    node->cause_len = (u_short) rec->cause.len;
    node->cause_room = (u_short) ngx_max(rec->cause.len,
                                         NGX_HTTP_CAPIF_REV_CAUSE_ROOM);
    ngx_memcpy(node->key + len, rec->cause.data, rec->cause.len);

    ngx_rbtree_insert(&zone->sh->rbtree, &node->node);
    ngx_queue_insert_tail(&zone->sh->queue, &node->queue);
    ngx_http_capif_rev_bloom_set(zone->sh, hash);

    zone->sh->count++;
    ngx_http_capif_metrics_entries(zone->sh->count);
    zone->sh->ntype[key[0]]++;
    zone->sh->live_bytes += capif_journal_frame_size(
                                ngx_http_capif_rev_node_enc_len(node));
}


static void
ngx_http_capif_rev_unlink_locked(ngx_http_capif_rev_zone_t *zone,
    ngx_http_capif_rev_node_t *node)
{
    ngx_queue_remove(&node->queue);
    ngx_rbtree_delete(&zone->sh->rbtree, &node->node);

    zone->sh->count--;
    ngx_http_capif_metrics_entries(zone->sh->count);
    zone->sh->ntype[node->key[0]]--;
    zone->sh->live_bytes -= capif_journal_frame_size(
                                ngx_http_capif_rev_node_enc_len(node));

    ngx_slab_free_locked(zone->shpool, node);
}


void
ngx_http_capif_rev_sweep_locked(ngx_http_capif_rev_zone_t *zone,
    int64_t now)
{
    ngx_uint_t                  removed;
    ngx_queue_t                *q, *next;
    ngx_http_capif_rev_node_t  *node;

    removed = 0;

    for (q = ngx_queue_head(&zone->sh->queue);
         q != ngx_queue_sentinel(&zone->sh->queue);
         q = next)
    {
        next = ngx_queue_next(q);
        node = ngx_queue_data(q, ngx_http_capif_rev_node_t, queue);

        if (node->expires <= now) {
            ngx_http_capif_rev_unlink_locked(zone, node);
            removed++;
        }
    }

    if (removed) {
        ngx_http_capif_rev_bloom_rebuild(zone->sh);
    }
}


ngx_int_t
ngx_http_capif_rev_insert_locked(ngx_http_capif_rev_zone_t *zone,
    const capif_rev_record_t *rec)
{
    size_t                      len;
    uint32_t                    hash;
    u_char                      key[CAPIF_REV_KEY_MAX];
    ngx_http_capif_rev_node_t  *node;

    len = capif_rev_key(rec, key, sizeof(key));
    if (len == 0) {
        return NGX_ERROR;
    }

    hash = ngx_http_capif_rev_hash(key, len);

    node = ngx_http_capif_rev_lookup(zone->sh, key, len, hash);
    if (node) {
        ngx_http_capif_rev_merge(node, rec);
        return NGX_OK;
    }

    node = ngx_slab_alloc_locked(zone->shpool,
                                 ngx_http_capif_rev_node_size(len,
                                                         rec->cause.len));
    if (node == NULL) {
        return NGX_DECLINED;
    }

    ngx_http_capif_rev_link(zone, node, rec, key, len, hash);

    return NGX_OK;
}

/*
 * Copyright (C) ngx_capif_module authors
 *
 * The revocation zone (capif_zone): its layout in shared memory, its set
 * up at start and reload (ngx_http_capif_rev_zone.c), and the writer lock
 * that serializes pushes, compaction and reloads.  The entries in it are
 * ngx_http_capif_rev_tree.h's.
 */

#ifndef NGX_HTTP_CAPIF_REV_ZONE_H
#define NGX_HTTP_CAPIF_REV_ZONE_H

#include <ngx_config.h>
#include <ngx_core.h>
#if (NGX_THREADS)
#include <ngx_thread_pool.h>
#endif

#include "capif_revocation.h"
#include "ngx_http_capif_journal.h"


/*
 * Room for the cause after the key: a later revocation of the same thing
 * replaces the cause if it fits (every cause TS 29.222 defines does).
 */
#define NGX_HTTP_CAPIF_REV_CAUSE_ROOM        32

/* one revocation in the shared zone; node must come first */
typedef struct {
    ngx_rbtree_node_t             node;      /* key: CRC-32 of key[] */
    ngx_queue_t                   queue;
    int64_t                       revoked_at;
    int64_t                       expires;
    u_short                       cause_len;
    u_short                       cause_room;
    u_short                       len;
    u_char                        key[1];    /* then the cause */
} ngx_http_capif_rev_node_t;

/* the size of a node for a key of len bytes and a cause */
#define ngx_http_capif_rev_node_size(len, cause_len)                       \
    (offsetof(ngx_http_capif_rev_node_t, key) + (len)                      \
     + ngx_max((size_t) (cause_len), NGX_HTTP_CAPIF_REV_CAUSE_ROOM))

/* the length of the node's record, encoded (as in the journal) */
#define ngx_http_capif_rev_node_enc_len(node)                              \
    (CAPIF_REV_FIXED_LEN + (node)->len - 1 + 2 + (node)->cause_len)


typedef struct {
    ngx_rbtree_t                  rbtree;
    ngx_rbtree_node_t             sentinel;
    ngx_queue_t                   queue;     /* every entry */
    ngx_uint_t                    count;
    ngx_uint_t                    ntype[CAPIF_REV_TYPE_MAX + 1];

    /*
     * A one-hash Bloom filter over the keys: most lookups on the request
     * path miss, and a clear bit answers them without walking the tree.
     * Bits are set on insert and rebuilt when entries are swept.
     */
    u_char                       *bloom;
    uint32_t                      bloom_mask;    /* bits - 1 */
    off_t                         live_bytes;    /* their journal frames */
    ngx_http_capif_journal_sh_t   journal;

    /*
     * Serializes writers (pushes, compaction, reload): held from the
     * start of a push until its thread task is done.  Workers only ever
     * try it: a push that finds it taken is parked, never waits.  The
     * entries (queue, tree) change only under it, and under the zone's
     * mutex as well, for the readers on the request path.
     */
    ngx_shmtx_sh_t                wlock;
    ngx_shmtx_t                   wmutex;
} ngx_http_capif_rev_shctx_t;


typedef struct {
    ngx_http_capif_rev_shctx_t   *sh;
    ngx_slab_pool_t              *shpool;
    ngx_http_capif_journal_t      journal;   /* its path may be empty */
    time_t                        max_lifetime;
#if (NGX_THREADS)
    ngx_thread_pool_t            *thread_pool;   /* journal append + fsync */
#endif
} ngx_http_capif_rev_zone_t;


/* the shm_zone init of capif_zone: zone is shm_zone->data */
ngx_int_t ngx_http_capif_rev_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);

/* the writer lock: a try (workers), or a wait (the master only) */
ngx_uint_t ngx_http_capif_rev_trylock(ngx_http_capif_rev_shctx_t *sh);
void ngx_http_capif_rev_wlock(ngx_http_capif_rev_shctx_t *sh);


#endif /* NGX_HTTP_CAPIF_REV_ZONE_H */

/*
 * Copyright (C) ngx_capif_module authors
 *
 * What the revocation glue files share: the configuration of
 * ngx_http_capif_revocation_module, the shared zone's layout, the journal
 * and the store/list operations the AEF_Security_API handler calls.
 */

#ifndef NGX_HTTP_CAPIF_REVOCATION_H
#define NGX_HTTP_CAPIF_REVOCATION_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#if (NGX_THREADS)
#include <ngx_thread_pool.h>
#endif

#include <openssl/x509.h>

#include "capif_revocation.h"
#include "capif_journal.h"


/* default capif_token_max_lifetime where a capif_zone is configured */
#define NGX_HTTP_CAPIF_REV_DEFAULT_LIFETIME  3600

/*
 * Kept past the longest lifetime: covers the 30 s clock skew TS 33.122
 * allows on exp, nbf and iat, with margin.
 */
#define NGX_HTTP_CAPIF_REV_SLACK             60

/* compaction: when the journal exceeds this many times its live size */
#define NGX_HTTP_CAPIF_JOURNAL_FACTOR        4
#define NGX_HTTP_CAPIF_JOURNAL_MIN_COMPACT   (64 * 1024)


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
    off_t                         journal_size;  /* its durable end */
    ngx_uint_t                    journal_gen;   /* bumped on rewrite */
    ngx_uint_t                    journal_dirty; /* rewrite before append */

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
    ngx_str_t                     journal;   /* full path, may be empty */
    ngx_cycle_t                  *cycle;
    time_t                        max_lifetime;
#if (NGX_THREADS)
    ngx_thread_pool_t            *thread_pool;   /* journal append + fsync */
#endif
} ngx_http_capif_rev_zone_t;


typedef struct {
    ngx_shm_zone_t               *shm_zone;
    ngx_str_t                     journal;
    time_t                        max_lifetime;  /* 0: no check */
#if (NGX_THREADS)
    ngx_thread_pool_t            *thread_pool;
#endif
} ngx_http_capif_rev_main_conf_t;


/*
 * What the journal code has to say when it runs on a thread: kept and
 * logged by the event loop once the task is done (or at once where log
 * is set: the master).
 */
#define NGX_HTTP_CAPIF_JLOG_MAX  4

typedef struct {
    ngx_uint_t                    level;
    ngx_err_t                     err;
    size_t                        len;
    u_char                        text[400];
} ngx_http_capif_jmsg_t;


typedef struct {
    ngx_log_t                    *log;
    ngx_uint_t                    n;
    ngx_http_capif_jmsg_t         msg[NGX_HTTP_CAPIF_JLOG_MAX];
} ngx_http_capif_jlog_t;


typedef struct {
    ngx_flag_t                    aef_security;
    ngx_str_t                     ccf_cert;      /* DER, empty if unset */
    ngx_flag_t                    allow_plain_loopback;
    ngx_str_t                     api_id;
    size_t                        body_max;
} ngx_http_capif_rev_loc_conf_t;


extern ngx_module_t  ngx_http_capif_revocation_module;


/* called from the event loop when a store that said NGX_AGAIN is done */
typedef void (*ngx_http_capif_rev_done_pt)(ngx_http_request_t *r,
    ngx_int_t rc);

/*
 * Stores records atomically: all fit in the zone and reach the journal
 * (fsync'd), or nothing changes.  Returns NGX_OK, NGX_HTTP_INSUFFICIENT_
 * STORAGE (zone full), NGX_HTTP_SERVICE_UNAVAILABLE (journal) or
 * NGX_ERROR at once, or NGX_AGAIN: then the store holds a reference on
 * the request (r->main->count), the caller returns NGX_DONE, and done()
 * gets one of the other codes later, once the entries are durable and
 * visible to every worker (NGX_OK) or nothing changed.  done() ends with
 * ngx_http_finalize_request().
 */
ngx_int_t ngx_http_capif_rev_store(ngx_http_request_t *r,
    capif_rev_record_t *recs, ngx_uint_t n, ngx_http_capif_rev_done_pt done);

/* the live entries, copied out of the zone into r->pool */
ngx_int_t ngx_http_capif_rev_list(ngx_http_request_t *r,
    ngx_array_t **entries);

/* the expiry time of a revocation made now */
int64_t ngx_http_capif_rev_expiry(ngx_http_request_t *r, int64_t now,
    int64_t token_exp);

/* 1 if the zone holds any revoke-credential certificate entry */
ngx_uint_t ngx_http_capif_rev_has_certs(ngx_http_request_t *r);

/*
 * Whether a revoke-credential entry lists the client certificate x, whose
 * base64url SHA-256 thumbprint is x5t (43 bytes): 1, 0, or NGX_ERROR.
 */
ngx_int_t ngx_http_capif_rev_cert_withdrawn(ngx_http_request_t *r, X509 *x,
    const u_char *x5t);

/* the AEF_Security_API content handler (ngx_http_capif_aef_security.c) */
ngx_int_t ngx_http_capif_aef_security_handler(ngx_http_request_t *r);


/*
 * The journal (ngx_http_capif_journal.c).  Append and rewrite run on a
 * thread (or in the master) and hold the writer lock; replay runs in the
 * master on a fresh zone; the access check at configuration time.
 */
ngx_int_t ngx_http_capif_journal_replay(ngx_http_capif_rev_zone_t *zone,
    ngx_log_t *log);
ngx_int_t ngx_http_capif_journal_append(ngx_http_capif_rev_zone_t *zone,
    u_char *buf, size_t len, ngx_http_capif_jlog_t *jl);
ngx_int_t ngx_http_capif_journal_rewrite(ngx_http_capif_rev_zone_t *zone,
    ngx_http_capif_jlog_t *jl, ngx_uint_t keep_damaged);
ngx_int_t ngx_http_capif_journal_check_access(
    ngx_http_capif_rev_zone_t *zone, ngx_log_t *log);
void ngx_http_capif_jlog(ngx_http_capif_jlog_t *jl, ngx_uint_t level,
    ngx_err_t err, const char *fmt, ...);
void ngx_http_capif_jlog_flush(ngx_http_capif_jlog_t *jl, ngx_log_t *log);

/* a push frame of records; returns its length or 0 */
size_t ngx_http_capif_journal_push_frame(u_char *out, size_t size,
    capif_rev_record_t *recs, ngx_uint_t n);

/* zone helpers shared with the journal replay */
ngx_http_capif_rev_node_t *ngx_http_capif_rev_lookup(
    ngx_http_capif_rev_shctx_t *sh, const u_char *key, size_t len,
    uint32_t hash);
ngx_int_t ngx_http_capif_rev_insert_locked(ngx_http_capif_rev_zone_t *zone,
    const capif_rev_record_t *rec);
void ngx_http_capif_rev_sweep_locked(ngx_http_capif_rev_zone_t *zone,
    int64_t now);
size_t ngx_http_capif_rev_node_record(ngx_http_capif_rev_node_t *node,
    capif_rev_record_t *rec);


#endif /* NGX_HTTP_CAPIF_REVOCATION_H */

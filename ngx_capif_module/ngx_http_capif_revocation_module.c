/*
 * Copyright (C) ngx_capif_module authors
 *
 * Revocation: the shared zone (capif_zone) every worker reads, the
 * directives, and the check the access handler calls once a token is
 * verified.  Matching rules live in capif_revocation.c, the journal in
 * ngx_http_capif_journal.c, the CCF's API in ngx_http_capif_aef_security.c.
 */

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ngx_http_capif.h"
#include "ngx_http_capif_revocation.h"
#include "ngx_http_capif_metrics.h"
#include "capif_b64url.h"
#include "capif_cnf.h"
#include "capif_credential.h"


static ngx_int_t ngx_http_capif_rev_check(ngx_http_request_t *r,
    ngx_http_capif_ctx_t *ctx, capif_error_t *err);
static ngx_int_t ngx_http_capif_rev_postconf(ngx_conf_t *cf);
static void *ngx_http_capif_rev_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_capif_rev_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_capif_rev_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_capif_rev_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_capif_rev_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_capif_rev_journal(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_capif_rev_aef_security(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_capif_rev_ccf_cert(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_capif_rev_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_capif_rev_reuse_zone(
    ngx_http_capif_rev_zone_t *zone, ngx_http_capif_rev_zone_t *ozone,
    ngx_log_t *log);
static void ngx_http_capif_rev_wlock(ngx_http_capif_rev_shctx_t *sh);


/* set when a location has capif_aef_security: needs zone and journal */
static ngx_uint_t  ngx_http_capif_rev_admin_used;


static ngx_command_t  ngx_http_capif_rev_commands[] = {

    { ngx_string("capif_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_capif_rev_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("capif_journal"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_capif_rev_journal,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("capif_token_max_lifetime"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_capif_rev_main_conf_t, max_lifetime),
      NULL },

    { ngx_string("capif_aef_security"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_capif_rev_aef_security,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("capif_ccf_certificate"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_capif_rev_ccf_cert,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("capif_admin_allow_plain_loopback"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_rev_loc_conf_t, allow_plain_loopback),
      NULL },

    { ngx_string("capif_api_id"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_rev_loc_conf_t, api_id),
      NULL },

    { ngx_string("capif_admin_body_max"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_rev_loc_conf_t, body_max),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_capif_rev_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_capif_rev_postconf,           /* postconfiguration */

    ngx_http_capif_rev_create_main_conf,   /* create main configuration */
    ngx_http_capif_rev_init_main_conf,     /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_capif_rev_create_loc_conf,    /* create location configuration */
    ngx_http_capif_rev_merge_loc_conf      /* merge location configuration */
};


ngx_module_t  ngx_http_capif_revocation_module = {
    NGX_MODULE_V1,
    &ngx_http_capif_rev_module_ctx,        /* module context */
    ngx_http_capif_rev_commands,           /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* the zone: an rbtree keyed by CRC-32, collisions told apart by key */

static void
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


static uint32_t
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


static ngx_uint_t
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


static void
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


static void
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


/* used by the replay: inserts or merges; NGX_DECLINED if the zone is full */
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


/* the writer lock; a holder that died is detected and the lock freed */

static ngx_uint_t
ngx_http_capif_rev_trylock(ngx_http_capif_rev_shctx_t *sh)
{
    ngx_pid_t  pid;

    if (ngx_shmtx_trylock(&sh->wmutex)) {
        return 1;
    }

    pid = (ngx_pid_t) *sh->wmutex.lock;

    if (pid > 0 && kill(pid, 0) == -1 && ngx_errno == NGX_ESRCH) {
        (void) ngx_shmtx_force_unlock(&sh->wmutex, pid);
        return ngx_shmtx_trylock(&sh->wmutex);
    }

    return 0;
}


/* the master only (a reload): it serves no requests and may wait */
static void
ngx_http_capif_rev_wlock(ngx_http_capif_rev_shctx_t *sh)
{
    while (!ngx_http_capif_rev_trylock(sh)) {
        ngx_msleep(1);
    }
}


typedef struct {
    u_char                     *key;
    size_t                      len;
    size_t                      size;      /* of its node */
    uint32_t                    hash;
    ngx_http_capif_rev_node_t  *node;      /* preallocated, or NULL */
} ngx_http_capif_rev_pending_t;


/* one push on its way: parked, or on the thread pool */
typedef struct {
    ngx_http_request_t             *request;
    ngx_http_capif_rev_zone_t      *zone;
    ngx_http_capif_rev_done_pt      done;
    capif_rev_record_t             *recs;
    ngx_uint_t                      n;
    ngx_http_capif_rev_pending_t   *p;
    u_char                         *buf;
    size_t                          len;
    ngx_int_t                       rc;
    off_t                           compacted;     /* to this size */
    ngx_queue_t                     queue;
    ngx_http_capif_jlog_t           jl;
} ngx_http_capif_rev_push_t;


/* pushes of this worker waiting for the writer lock, oldest first */
static ngx_queue_t  ngx_http_capif_rev_parked;
static ngx_event_t  ngx_http_capif_rev_park_ev;

/* how often a parked push tries the writer lock again, in ms */
#define NGX_HTTP_CAPIF_REV_PARK_RETRY  5


static void
ngx_http_capif_rev_release(ngx_http_capif_rev_zone_t *zone,
    ngx_http_capif_rev_pending_t *p, ngx_uint_t n)
{
    ngx_uint_t  i;

    ngx_shmtx_lock(&zone->shpool->mutex);

    for (i = 0; i < n; i++) {
        if (p[i].node) {
            ngx_slab_free_locked(zone->shpool, p[i].node);
            p[i].node = NULL;
        }
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);
}


/* reserves a node for every record that is not in the zone yet */
static ngx_int_t
ngx_http_capif_rev_reserve(ngx_http_capif_rev_zone_t *zone,
    ngx_http_capif_rev_pending_t *p, ngx_uint_t n, int64_t now)
{
    ngx_uint_t  i, swept;

    swept = 0;

    ngx_shmtx_lock(&zone->shpool->mutex);

again:

    for (i = 0; i < n; i++) {
        if (p[i].node
            || ngx_http_capif_rev_lookup(zone->sh, p[i].key, p[i].len,
                                         p[i].hash))
        {
            continue;
        }

        p[i].node = ngx_slab_alloc_locked(zone->shpool, p[i].size);

        if (p[i].node) {
            continue;
        }

        if (!swept) {
            /*
             * Expired entries go first; the sweep may also remove an
             * entry an earlier record was found under: look again.
             */
            ngx_http_capif_rev_sweep_locked(zone, now);
            swept = 1;
            goto again;
        }

        ngx_shmtx_unlock(&zone->shpool->mutex);
        ngx_http_capif_rev_release(zone, p, n);

        return NGX_DECLINED;
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return NGX_OK;
}


/* makes the reserved entries visible to every worker */
static void
ngx_http_capif_rev_commit(ngx_http_capif_rev_push_t *ps)
{
    ngx_uint_t                     i;
    ngx_http_capif_rev_zone_t     *zone;
    ngx_http_capif_rev_node_t     *node;
    ngx_http_capif_rev_pending_t  *p;

    zone = ps->zone;
    p = ps->p;

    ngx_shmtx_lock(&zone->shpool->mutex);

    for (i = 0; i < ps->n; i++) {
        node = ngx_http_capif_rev_lookup(zone->sh, p[i].key, p[i].len,
                                         p[i].hash);
        if (node) {
            /* already there, or twice in this push */
            ngx_http_capif_rev_merge(node, &ps->recs[i]);

            if (p[i].node) {
                ngx_slab_free_locked(zone->shpool, p[i].node);
                p[i].node = NULL;
            }

            continue;
        }

        if (p[i].node == NULL) {
            /* cannot happen: reserved under the same writer lock */
            ngx_http_capif_jlog(&ps->jl, NGX_LOG_ALERT, 0,
                                "capif revocation: no node reserved");
            continue;
        }

        ngx_http_capif_rev_link(zone, p[i].node, &ps->recs[i], p[i].key,
                                p[i].len, p[i].hash);
        p[i].node = NULL;
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);
}


/*
 * On a thread of the pool, with the writer lock held: durable (appended
 * and fsync'd), then visible, then compaction if the journal grew too
 * long.  Messages wait in ps->jl for the event loop.
 */
static void
ngx_http_capif_rev_push_thread(void *data, ngx_log_t *log)
{
    ngx_http_capif_rev_push_t  *ps = data;

    ngx_uint_t                  dirty;
    ngx_http_capif_rev_zone_t  *zone;

    zone = ps->zone;

    if (ngx_http_capif_journal_append(zone, ps->buf, ps->len, &ps->jl)
        != NGX_OK)
    {
        ps->rc = NGX_HTTP_SERVICE_UNAVAILABLE;
        return;
    }

    ngx_http_capif_rev_commit(ps);
    ps->rc = NGX_OK;

    if (zone->sh->journal_size > NGX_HTTP_CAPIF_JOURNAL_MIN_COMPACT
        && zone->sh->journal_size
           > NGX_HTTP_CAPIF_JOURNAL_FACTOR * zone->sh->live_bytes)
    {
        ngx_shmtx_lock(&zone->shpool->mutex);
        ngx_http_capif_rev_sweep_locked(zone, ngx_time());
        ngx_shmtx_unlock(&zone->shpool->mutex);

        /* the old journal is complete and stays valid if this fails */
        dirty = zone->sh->journal_dirty;

        if (ngx_http_capif_journal_rewrite(zone, &ps->jl, 0) == NGX_OK) {
            ps->compacted = zone->sh->journal_size;

        } else {
            zone->sh->journal_dirty = dirty;
        }
    }
}


static void ngx_http_capif_rev_kick(void);


/* the event loop, once the thread is done: answer, then the next push */
static void
ngx_http_capif_rev_push_done(ngx_event_t *ev)
{
    ngx_http_capif_rev_push_t  *ps = ev->data;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ps->request;
    c = r->connection;

    if (ps->rc != NGX_OK) {
        ngx_http_capif_rev_release(ps->zone, ps->p, ps->n);
    }

    ngx_shmtx_unlock(&ps->zone->sh->wmutex);

    ngx_http_capif_jlog_flush(&ps->jl, c->log);

    if (ps->compacted) {
        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "capif journal \"%V\" compacted to %O bytes",
                      &ps->zone->journal, ps->compacted);
    }

    r->main->blocked--;
    ps->done(r, ps->rc);
    ngx_http_run_posted_requests(c);

    ngx_http_capif_rev_kick();
}


/*
 * With the writer lock held: reserves room and hands the push to the
 * thread pool.  NGX_AGAIN when it is on its way; otherwise the lock is
 * free again and the answer is final.
 */
static ngx_int_t
ngx_http_capif_rev_push_start(ngx_http_capif_rev_push_t *ps)
{
    ngx_http_request_t  *r;
#if (NGX_THREADS)
    ngx_thread_task_t   *task;
#endif

    r = ps->request;

    /* 1. room in the zone for all of them, or 507 and nothing changes */
    if (ngx_http_capif_rev_reserve(ps->zone, ps->p, ps->n, ngx_time())
        != NGX_OK)
    {
        ngx_shmtx_unlock(&ps->zone->sh->wmutex);

        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "capif_zone is full (%ui entries): revocation "
                      "refused with 507", ps->zone->sh->count);

        return NGX_HTTP_INSUFFICIENT_STORAGE;
    }

#if (NGX_THREADS)

    /* 2. durable and visible, off the event loop */
    task = ngx_thread_task_alloc(r->pool, 0);
    if (task == NULL) {
        goto failed;
    }

    task->ctx = ps;
    task->handler = ngx_http_capif_rev_push_thread;
    task->event.data = ps;
    task->event.handler = ngx_http_capif_rev_push_done;
    task->event.log = r->connection->log;

    if (ngx_thread_task_post(ps->zone->thread_pool, task) != NGX_OK) {
        goto failed;
    }

    r->main->blocked++;

    return NGX_AGAIN;

failed:

#endif

    ngx_http_capif_rev_release(ps->zone, ps->p, ps->n);
    ngx_shmtx_unlock(&ps->zone->sh->wmutex);

    return NGX_HTTP_SERVICE_UNAVAILABLE;
}


/* parked pushes of this worker take the writer lock in turn */
static void
ngx_http_capif_rev_kick(void)
{
    ngx_int_t                   rc;
    ngx_queue_t                *q;
    ngx_connection_t           *c;
    ngx_http_request_t         *r;
    ngx_http_capif_rev_push_t  *ps;

    while (!ngx_queue_empty(&ngx_http_capif_rev_parked)) {

        q = ngx_queue_head(&ngx_http_capif_rev_parked);
        ps = ngx_queue_data(q, ngx_http_capif_rev_push_t, queue);

        if (!ngx_http_capif_rev_trylock(ps->zone->sh)) {
            /* another worker writes: look again shortly */
            if (!ngx_http_capif_rev_park_ev.timer_set) {
                ngx_add_timer(&ngx_http_capif_rev_park_ev,
                              NGX_HTTP_CAPIF_REV_PARK_RETRY);
            }

            return;
        }

        ngx_queue_remove(q);

        r = ps->request;
        r->main->blocked--;

        rc = ngx_http_capif_rev_push_start(ps);

        if (rc == NGX_AGAIN) {
            /* its completion kicks the next one */
            return;
        }

        c = r->connection;
        ps->done(r, rc);
        ngx_http_run_posted_requests(c);
    }
}


static void
ngx_http_capif_rev_park_handler(ngx_event_t *ev)
{
    ngx_http_capif_rev_kick();
}


ngx_int_t
ngx_http_capif_rev_store(ngx_http_request_t *r, capif_rev_record_t *recs,
    ngx_uint_t n, ngx_http_capif_rev_done_pt done)
{
    size_t                           flen;
    ngx_int_t                        rc;
    ngx_uint_t                       i;
    ngx_http_capif_rev_push_t       *ps;
    ngx_http_capif_rev_pending_t    *p;
    ngx_http_capif_rev_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_capif_revocation_module);

    if (rmcf->shm_zone == NULL || n == 0) {
        return NGX_ERROR;
    }

    ps = ngx_pcalloc(r->pool, sizeof(ngx_http_capif_rev_push_t));
    p = ngx_pcalloc(r->pool, n * sizeof(ngx_http_capif_rev_pending_t));
    if (ps == NULL || p == NULL) {
        return NGX_ERROR;
    }

    ps->request = r;
    ps->zone = rmcf->shm_zone->data;
    ps->done = done;
    ps->recs = recs;
    ps->n = n;
    ps->p = p;

    /* the whole push is one frame: replayed whole or not at all */
    flen = CAPIF_JOURNAL_FRAME_OVERHEAD
           + n * (CAPIF_JOURNAL_RECORD_OVERHEAD + CAPIF_REV_RECORD_MAX);

    ps->buf = ngx_pnalloc(r->pool, flen);
    if (ps->buf == NULL) {
        return NGX_ERROR;
    }

    ps->len = ngx_http_capif_journal_push_frame(ps->buf, flen, recs, n);
    if (ps->len == 0) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        p[i].key = ngx_pnalloc(r->pool, CAPIF_REV_KEY_MAX);
        if (p[i].key == NULL) {
            return NGX_ERROR;
        }

        p[i].len = capif_rev_key(&recs[i], p[i].key, CAPIF_REV_KEY_MAX);
        if (p[i].len == 0) {
            return NGX_ERROR;
        }

        p[i].hash = ngx_http_capif_rev_hash(p[i].key, p[i].len);
        p[i].size = ngx_http_capif_rev_node_size(p[i].len,
                                                 recs[i].cause.len);
    }

    if (ngx_http_capif_rev_park_ev.handler == NULL) {
        ngx_queue_init(&ngx_http_capif_rev_parked);
        ngx_http_capif_rev_park_ev.handler = ngx_http_capif_rev_park_handler;
        ngx_http_capif_rev_park_ev.log = ngx_cycle->log;
    }

    r->main->count++;

    if (ngx_queue_empty(&ngx_http_capif_rev_parked)
        && ngx_http_capif_rev_trylock(ps->zone->sh))
    {
        rc = ngx_http_capif_rev_push_start(ps);

        if (rc != NGX_AGAIN) {
            r->main->count--;
        }

        return rc;
    }

    /* the writer is busy: park, in order, and let the event loop run */
    ngx_queue_insert_tail(&ngx_http_capif_rev_parked, &ps->queue);
    r->main->blocked++;

    if (!ngx_http_capif_rev_park_ev.timer_set) {
        ngx_add_timer(&ngx_http_capif_rev_park_ev,
                      NGX_HTTP_CAPIF_REV_PARK_RETRY);
    }

    return NGX_AGAIN;
}


ngx_int_t
ngx_http_capif_rev_list(ngx_http_request_t *r, ngx_array_t **entries)
{
    u_char                          *copy;
    int64_t                          now;
    ngx_queue_t                     *q;
    ngx_array_t                     *a;
    capif_rev_record_t              *rec;
    ngx_http_capif_rev_zone_t       *zone;
    ngx_http_capif_rev_node_t       *node;
    ngx_http_capif_rev_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_capif_revocation_module);

    if (rmcf->shm_zone == NULL) {
        return NGX_ERROR;
    }

    zone = rmcf->shm_zone->data;
    now = ngx_time();

    ngx_shmtx_lock(&zone->shpool->mutex);

    a = ngx_array_create(r->pool, zone->sh->count ? zone->sh->count : 1,
                         sizeof(capif_rev_record_t));
    if (a == NULL) {
        goto failed;
    }

    for (q = ngx_queue_head(&zone->sh->queue);
         q != ngx_queue_sentinel(&zone->sh->queue);
         q = ngx_queue_next(q))
    {
        node = ngx_queue_data(q, ngx_http_capif_rev_node_t, queue);

        if (node->expires <= now) {
            continue;
        }

        copy = ngx_pnalloc(r->pool, node->len + node->cause_len);
        rec = ngx_array_push(a);
        if (copy == NULL || rec == NULL) {
            goto failed;
        }

        ngx_memcpy(copy, node->key, node->len + node->cause_len);

        if (capif_rev_key_decode(rec, copy, node->len) != 0) {
            a->nelts--;
            continue;
        }

        rec->revoked_at = node->revoked_at;
        rec->expires = node->expires;
        rec->cause.data = copy + node->len;
        rec->cause.len = node->cause_len;
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    *entries = a;
    return NGX_OK;

failed:

    ngx_shmtx_unlock(&zone->shpool->mutex);
    return NGX_ERROR;
}


int64_t
ngx_http_capif_rev_expiry(ngx_http_request_t *r, int64_t now,
    int64_t token_exp)
{
    int64_t                          e;
    ngx_http_capif_rev_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_capif_revocation_module);

    e = now + rmcf->max_lifetime + NGX_HTTP_CAPIF_REV_SLACK;

    /* a single token is kept until it expires, whatever its lifetime */
    if (token_exp > 0 && token_exp < NGX_MAX_INT_T_VALUE / 2
        && token_exp + NGX_HTTP_CAPIF_REV_SLACK > e)
    {
        e = token_exp + NGX_HTTP_CAPIF_REV_SLACK;
    }

    return e;
}


/* the check on the request path */

static void
ngx_http_capif_rev_str(capif_rev_str_t *dst, const u_char *data, size_t len)
{
    dst->data = data;
    dst->len = len;
}


/*
 * Looks the probes up; t is the token (NULL for a connection's
 * certificate, whose probes refuse whatever the token).  1 if an entry
 * refuses.
 */
static ngx_uint_t
ngx_http_capif_rev_match(ngx_http_capif_rev_zone_t *zone,
    capif_rev_probe_t *probes, int n, const capif_rev_token_t *t,
    int64_t now)
{
    int                         i;
    uint32_t                    hash[CAPIF_REV_PROBES_MAX];
    ngx_uint_t                  refused;
    ngx_http_capif_rev_node_t  *node;

    for (i = 0; i < n; i++) {
        hash[i] = ngx_http_capif_rev_hash(probes[i].key, probes[i].len);
    }

    refused = 0;

    ngx_shmtx_lock(&zone->shpool->mutex);

    for (i = 0; i < n; i++) {
        if (zone->sh->ntype[probes[i].key[0]] == 0
            || !ngx_http_capif_rev_bloom_test(zone->sh, hash[i]))
        {
            continue;
        }

        node = ngx_http_capif_rev_lookup(zone->sh, probes[i].key,
                                         probes[i].len, hash[i]);

        if (node && node->expires > now
            && (t == NULL || capif_rev_refuses(&probes[i], node->revoked_at,
                                               t)))
        {
            refused = 1;
            break;
        }
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return refused;
}


ngx_uint_t
ngx_http_capif_rev_has_certs(ngx_http_request_t *r)
{
    ngx_http_capif_rev_zone_t       *zone;
    ngx_http_capif_rev_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_capif_revocation_module);

    if (rmcf == NULL || rmcf->shm_zone == NULL) {
        return 0;
    }

    zone = rmcf->shm_zone->data;

    /* read without the lock: a store is acknowledged after it is set */
    return zone->sh->ntype[CAPIF_REV_CERT] != 0;
}


ngx_int_t
ngx_http_capif_rev_cert_withdrawn(ngx_http_request_t *r, X509 *x,
    const u_char *x5t)
{
    int                              n;
    char                             serial_buf[CAPIF_CRED_SERIAL_MAX + 1];
    u_char                           issuer_buf[CAPIF_CRED_ISSUER_MAX];
    capif_rev_str_t                  thumb, serial, issuer;
    capif_rev_probe_t               *probes;
    ngx_http_capif_rev_zone_t       *zone;
    ngx_http_capif_rev_main_conf_t  *rmcf;

    if (!ngx_http_capif_rev_has_certs(r)) {
        return 0;
    }

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_capif_revocation_module);
    zone = rmcf->shm_zone->data;

    probes = ngx_palloc(r->pool, 2 * sizeof(capif_rev_probe_t));
    if (probes == NULL) {
        return NGX_ERROR;
    }

    ngx_http_capif_rev_str(&thumb, x5t, CAPIF_CNF_THUMB_B64_LEN);

    /* a certificate whose serial or issuer has no canonical form: none */
    serial.data = (u_char *) serial_buf;
    serial.len = capif_cred_serial_of(x, serial_buf);
    issuer.data = issuer_buf;
    issuer.len = serial.len ? capif_cred_issuer_of(x, issuer_buf) : 0;

    n = capif_rev_cert_probes(&thumb, &serial, &issuer, probes);

    return ngx_http_capif_rev_match(zone, probes, n, NULL, ngx_time());
}


static ngx_int_t
ngx_http_capif_rev_check(ngx_http_request_t *r, ngx_http_capif_ctx_t *ctx,
    capif_error_t *err)
{
    int                              n, bound;
    int64_t                          now;
    u_char                           thumb[CAPIF_CNF_THUMB_LEN];
    u_char                           x5t[CAPIF_CNF_THUMB_B64_LEN];
    static capif_rev_probe_t         probes[CAPIF_REV_PROBES_MAX];
    capif_error_t                    cnf_err;
    capif_claims_t                  *claims;
    capif_rev_token_t                t;
    ngx_http_capif_rev_zone_t       *zone;
    ngx_http_capif_loc_conf_t       *clcf;
    ngx_http_capif_rev_loc_conf_t   *rlcf;
    ngx_http_capif_rev_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_capif_revocation_module);
    claims = &ctx->token.claims;
    now = ngx_time();

    if (!capif_rev_lifetime_ok(claims->exp, claims->iat, claims->has_iat,
                               now, rmcf->max_lifetime))
    {
        (void) capif_fail(err, CAPIF_INVALID_TOKEN,
                          "TOKEN_LIFETIME_EXCEEDED",
                          "token lifetime exceeds capif_token_max_lifetime");
        return NGX_DECLINED;
    }

    if (rmcf->shm_zone == NULL) {
        return NGX_OK;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_capif_module);
    rlcf = ngx_http_get_module_loc_conf(r, ngx_http_capif_revocation_module);

    ngx_memzero(&t, sizeof(capif_rev_token_t));

    ngx_http_capif_rev_str(&t.invoker_id, ctx->invoker_id.data,
                           ctx->invoker_id.len);
    ngx_http_capif_rev_str(&t.aef_id, clcf->aef_id.data, clcf->aef_id.len);
    ngx_http_capif_rev_str(&t.api_name, clcf->api_name.data,
                           clcf->api_name.len);
    ngx_http_capif_rev_str(&t.api_id, rlcf->api_id.data, rlcf->api_id.len);
    ngx_http_capif_rev_str(&t.resource_owner, ctx->resource_owner.data,
                           ctx->resource_owner.len);
    ngx_http_capif_rev_str(&t.group_id, ctx->group_id.data,
                           ctx->group_id.len);
    ngx_http_capif_rev_str(&t.purpose, ctx->purpose.data, ctx->purpose.len);

    if (claims->jti) {
        ngx_http_capif_rev_str(&t.jti, (const u_char *) claims->jti,
                               claims->jti_len);
    }

    t.signing_input = ctx->token.jws.signing_input;
    t.signing_input_len = ctx->token.jws.signing_input_len;
    t.iat = claims->iat;
    t.has_iat = claims->has_iat;
    t.leeway = clcf->leeway;

    zone = rmcf->shm_zone->data;

    /* no whole-token entry: spare the digest of the signed part */
    t.no_token_probe = (zone->sh->ntype[CAPIF_REV_TOKEN] == 0);

    /*
     * The certificate the token is bound to, when a withdrawn certificate
     * is listed; a malformed cnf is the binding check's to refuse.
     */
    if (zone->sh->ntype[CAPIF_REV_CERT]
        && capif_cnf_parse(ctx->token.jws.payload, &bound, thumb, &cnf_err)
           == 0
        && bound)
    {
        (void) capif_b64url_encode(thumb, CAPIF_CNF_THUMB_LEN, x5t);
        ngx_http_capif_rev_str(&t.cnf_x5t, x5t, CAPIF_CNF_THUMB_B64_LEN);
    }

    n = capif_rev_probes(&t, probes);

    if (ngx_http_capif_rev_match(zone, probes, n, &t, now)) {
        (void) capif_fail(err, CAPIF_INVALID_TOKEN, "TOKEN_REVOKED",
                          "the authorization behind this token has been "
                          "revoked");
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* the zone */

static ngx_int_t
ngx_http_capif_rev_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_capif_rev_zone_t  *ozone = data;

    size_t                      len, bloom;
    ngx_http_capif_rev_zone_t  *zone;

    zone = shm_zone->data;

    /* refused here, not with a 503 on every push later */
    if (ngx_http_capif_journal_check_access(zone, shm_zone->shm.log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ozone) {
        /* a reload: the entries stay, nothing is replayed */
        zone->sh = ozone->sh;
        zone->shpool = ozone->shpool;

        return ngx_http_capif_rev_reuse_zone(zone, ozone,
                                             shm_zone->shm.log);
    }

    zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        zone->sh = zone->shpool->data;
        return NGX_OK;
    }

    zone->sh = ngx_slab_calloc(zone->shpool,
                               sizeof(ngx_http_capif_rev_shctx_t));
    if (zone->sh == NULL) {
        return NGX_ERROR;
    }

    zone->shpool->data = zone->sh;

    ngx_rbtree_init(&zone->sh->rbtree, &zone->sh->sentinel,
                    ngx_http_capif_rev_rbtree_insert_value);
    ngx_queue_init(&zone->sh->queue);

    if (ngx_shmtx_create(&zone->sh->wmutex, &zone->sh->wlock, NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the filter: 1/32 of the zone, a power of two, at least 512 bytes */
    for (bloom = 512; bloom * 2 <= shm_zone->shm.size / 32; bloom *= 2) {
        /* void */
    }

    zone->sh->bloom = ngx_slab_calloc(zone->shpool, bloom);
    if (zone->sh->bloom == NULL) {
        return NGX_ERROR;
    }

    zone->sh->bloom_mask = (uint32_t) (bloom * 8 - 1);

    len = sizeof(" in capif_zone \"\"") + shm_zone->shm.name.len;

    zone->shpool->log_ctx = ngx_slab_alloc(zone->shpool, len);
    if (zone->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(zone->shpool->log_ctx, " in capif_zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* no failure message from the slab allocator: we log our own alert */
    zone->shpool->log_nomem = 0;

    /* a fresh zone: the journal is replayed here, once, in the master */
    return ngx_http_capif_journal_replay(zone, shm_zone->shm.log);
}


/*
 * A reload that keeps the zone: a longer capif_token_max_lifetime extends
 * every entry to the new bound, and a new capif_journal path gets the
 * whole live set at once, so that a restart from it loses nothing.
 */
static ngx_int_t
ngx_http_capif_rev_reuse_zone(ngx_http_capif_rev_zone_t *zone,
    ngx_http_capif_rev_zone_t *ozone, ngx_log_t *log)
{
    int64_t                     e;
    ngx_uint_t                  moved;
    ngx_queue_t                *q;
    ngx_http_capif_jlog_t       jl;
    ngx_http_capif_rev_node_t  *node;

    moved = (zone->journal.len != ozone->journal.len
             || ngx_strncmp(zone->journal.data, ozone->journal.data,
                            zone->journal.len)
                != 0);

    if (zone->max_lifetime <= ozone->max_lifetime && !moved) {
        return NGX_OK;
    }

    ngx_http_capif_rev_wlock(zone->sh);
    ngx_shmtx_lock(&zone->shpool->mutex);

    for (q = ngx_queue_head(&zone->sh->queue);
         q != ngx_queue_sentinel(&zone->sh->queue);
         q = ngx_queue_next(q))
    {
        node = ngx_queue_data(q, ngx_http_capif_rev_node_t, queue);
        e = node->revoked_at + zone->max_lifetime
            + NGX_HTTP_CAPIF_REV_SLACK;

        if (node->expires < e) {
            node->expires = e;
        }
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    ngx_memzero(&jl, sizeof(ngx_http_capif_jlog_t));
    jl.log = log;

    if (ngx_http_capif_journal_rewrite(zone, &jl, 0) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "capif journal \"%V\" cannot be written: "
                      "revocations are answered 503 until it can",
                      &zone->journal);
    }

    ngx_shmtx_unlock(&zone->sh->wmutex);

    return NGX_OK;
}


/* directives */

static char *
ngx_http_capif_rev_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_capif_rev_main_conf_t  *rmcf = conf;

    u_char                     *p;
    ssize_t                     size;
    ngx_str_t                  *value, name, s;
    ngx_http_capif_rev_zone_t  *zone;

    if (rmcf->shm_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    p = (u_char *) ngx_strchr(value[1].data, ':');
    if (p == NULL || p == value[1].data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid capif_zone \"%V\": expected name:size",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data;
    name.len = p - value[1].data;

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);
    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid capif_zone size \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "capif_zone \"%V\" is too small", &value[1]);
        return NGX_CONF_ERROR;
    }

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_capif_rev_zone_t));
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    zone->cycle = cf->cycle;

    rmcf->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                           &ngx_http_capif_revocation_module);
    if (rmcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (rmcf->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "capif_zone \"%V\" is already defined", &name);
        return NGX_CONF_ERROR;
    }

    rmcf->shm_zone->init = ngx_http_capif_rev_init_zone;
    rmcf->shm_zone->data = zone;

    return NGX_CONF_OK;
}


static char *
ngx_http_capif_rev_journal(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_capif_rev_main_conf_t  *rmcf = conf;

    ngx_str_t  *value;
#if (NGX_THREADS)
    ngx_str_t   name;
#endif

    if (rmcf->journal.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        return "has an empty path";
    }

    rmcf->journal = value[1];

    if (ngx_conf_full_name(cf->cycle, &rmcf->journal, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

#if (NGX_THREADS)

    /* appends and fsyncs run on this pool, off the event loop */
    ngx_str_set(&name, "default");

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "thread_pool=", 12) != 0
            || value[2].len == 12)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid capif_journal parameter \"%V\": "
                               "expected thread_pool=<name>", &value[2]);
            return NGX_CONF_ERROR;
        }

        name.data = value[2].data + 12;
        name.len = value[2].len - 12;
    }

    rmcf->thread_pool = ngx_thread_pool_add(cf, &name);
    if (rmcf->thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

#else

    return "requires nginx built with --with-threads: the journal's "
           "fsync must not block the event loop";

#endif
}


static char *
ngx_http_capif_rev_aef_security(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_capif_rev_loc_conf_t  *rlcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (rlcf->aef_security != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    rlcf->aef_security = 1;
    ngx_http_capif_rev_admin_used = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_capif_aef_security_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_capif_rev_ccf_cert(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_capif_rev_loc_conf_t  *rlcf = conf;

    int         len;
    BIO        *bio;
    X509       *x509, *ca;
    u_char     *p;
    ngx_str_t  *value, path;

    if (rlcf->ccf_cert.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    bio = BIO_new_file((char *) path.data, "r");
    if (bio == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "capif_ccf_certificate: cannot read \"%V\"",
                           &path);
        return NGX_CONF_ERROR;
    }

    x509 = PEM_read_bio_X509(bio, NULL, NULL, NULL);

    /* a leaf-plus-CA bundle: the leaf is the CCF, as capif_key_file does */
    if (x509 != NULL) {
        ca = PEM_read_bio_X509(bio, NULL, NULL, NULL);

        if (ca != NULL) {
            ngx_conf_log_error(NGX_LOG_NOTICE, cf, 0,
                               "capif_ccf_certificate: \"%V\" is a bundle; "
                               "only the first certificate, the leaf, is "
                               "used", &path);
            X509_free(ca);
        }
    }

    BIO_free(bio);
    ERR_clear_error();

    if (x509 == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "capif_ccf_certificate: \"%V\" holds no PEM "
                           "X.509 certificate", &path);
        return NGX_CONF_ERROR;
    }

    len = i2d_X509(x509, NULL);
    if (len <= 0) {
        X509_free(x509);
        return "cannot encode the certificate";
    }

    rlcf->ccf_cert.data = ngx_pnalloc(cf->pool, len);
    if (rlcf->ccf_cert.data == NULL) {
        X509_free(x509);
        return NGX_CONF_ERROR;
    }

    p = rlcf->ccf_cert.data;
    rlcf->ccf_cert.len = i2d_X509(x509, &p);
    X509_free(x509);

    if ((int) rlcf->ccf_cert.len != len) {
        return "cannot encode the certificate";
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_capif_rev_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_capif_rev_main_conf_t  *rmcf;

    rmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_capif_rev_main_conf_t));
    if (rmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     rmcf->shm_zone = NULL;
     *     rmcf->journal = { 0, NULL };
     */

    rmcf->max_lifetime = NGX_CONF_UNSET;

    ngx_http_capif_rev_admin_used = 0;

    return rmcf;
}


static char *
ngx_http_capif_rev_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_capif_rev_main_conf_t  *rmcf = conf;

    ngx_http_capif_rev_zone_t  *zone;

    if (rmcf->max_lifetime == NGX_CONF_UNSET) {
        rmcf->max_lifetime = rmcf->shm_zone
                             ? NGX_HTTP_CAPIF_REV_DEFAULT_LIFETIME : 0;

    } else if (rmcf->max_lifetime <= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "capif_token_max_lifetime must be positive");
        return NGX_CONF_ERROR;
    }

    if (rmcf->journal.data && rmcf->shm_zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "capif_journal requires capif_zone");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_capif_rev_admin_used
        && (rmcf->shm_zone == NULL || rmcf->journal.data == NULL))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "capif_aef_security requires capif_zone and "
                           "capif_journal in the http block");
        return NGX_CONF_ERROR;
    }

    if (rmcf->shm_zone) {
        zone = rmcf->shm_zone->data;
        zone->journal = rmcf->journal;
        zone->max_lifetime = rmcf->max_lifetime;
#if (NGX_THREADS)
        zone->thread_pool = rmcf->thread_pool;
#endif
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_capif_rev_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_capif_rev_loc_conf_t  *rlcf;

    rlcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_capif_rev_loc_conf_t));
    if (rlcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     rlcf->ccf_cert = { 0, NULL };
     *     rlcf->api_id = { 0, NULL };
     */

    rlcf->aef_security = NGX_CONF_UNSET;
    rlcf->allow_plain_loopback = NGX_CONF_UNSET;
    rlcf->body_max = NGX_CONF_UNSET_SIZE;

    return rlcf;
}


static char *
ngx_http_capif_rev_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_capif_rev_loc_conf_t  *prev = parent;
    ngx_http_capif_rev_loc_conf_t  *conf = child;

    if (conf->ccf_cert.data == NULL) {
        conf->ccf_cert = prev->ccf_cert;
    }

    ngx_conf_merge_value(conf->allow_plain_loopback,
                         prev->allow_plain_loopback, 0);
    ngx_conf_merge_str_value(conf->api_id, prev->api_id, "");
    ngx_conf_merge_size_value(conf->body_max, prev->body_max, 64 * 1024);

    if (conf->aef_security == 1 && conf->ccf_cert.data == NULL
        && !conf->allow_plain_loopback)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "capif_aef_security needs capif_ccf_certificate "
                           "(or capif_admin_allow_plain_loopback on)");
        return NGX_CONF_ERROR;
    }

    if (conf->api_id.len > CAPIF_REV_FIELD_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "capif_api_id is too long");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_capif_rev_postconf(ngx_conf_t *cf)
{
    ngx_http_capif_revocation_check = ngx_http_capif_rev_check;

    return NGX_OK;
}

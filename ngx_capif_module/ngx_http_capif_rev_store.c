/*
 * Copyright (C) ngx_capif_module authors
 *
 * Storing revocations: a push reserves its nodes in the zone, is
 * appended to the journal and fsync'd on a thread of the pool, and only
 * then becomes visible; pushes that find the writer lock taken are parked
 * in order.  Listing copies the live entries out of the zone.
 */

#include "ngx_http_capif_rev_store.h"
#include "ngx_http_capif_rev_zone.h"
#include "ngx_http_capif_rev_tree.h"
#include "ngx_http_capif_revocation.h"


/* compaction: when the journal exceeds this many times its live size */
#define NGX_HTTP_CAPIF_JOURNAL_FACTOR        4
#define NGX_HTTP_CAPIF_JOURNAL_MIN_COMPACT   (64 * 1024)


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

    if (ngx_http_capif_journal_append(&zone->journal, ps->buf, ps->len, &ps->jl)
        != NGX_OK)
    {
        ps->rc = NGX_HTTP_SERVICE_UNAVAILABLE;
        return;
    }

    ngx_http_capif_rev_commit(ps);
    ps->rc = NGX_OK;

    if (zone->sh->journal.size > NGX_HTTP_CAPIF_JOURNAL_MIN_COMPACT
        && zone->sh->journal.size
           > NGX_HTTP_CAPIF_JOURNAL_FACTOR * zone->sh->live_bytes)
    {
        ngx_shmtx_lock(&zone->shpool->mutex);
        ngx_http_capif_rev_sweep_locked(zone, ngx_time());
        ngx_shmtx_unlock(&zone->shpool->mutex);

        /* the old journal is complete and stays valid if this fails */
        dirty = zone->sh->journal.dirty;

        if (ngx_http_capif_journal_rewrite(&zone->journal, &ps->jl, 0)
            == NGX_OK)
        {
            ps->compacted = zone->sh->journal.size;

        } else {
            zone->sh->journal.dirty = dirty;
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
                      &ps->zone->journal.path, ps->compacted);
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

/*
 * Copyright (C) ngx_capif_module authors
 *
 * The revocation zone: its set up in shared memory (the slab, the
 * rbtree, the Bloom filter sized to the zone), the journal replay into a
 * fresh zone and the extension of a kept one at a reload, and the writer
 * lock.  The journal sees the entries as records through the callbacks
 * set here.
 */

#include "ngx_http_capif_rev_zone.h"
#include "ngx_http_capif_rev_tree.h"
#include "ngx_http_capif_journal_access.h"
#include "ngx_http_capif_revocation.h"


static ngx_int_t ngx_http_capif_rev_reuse_zone(
    ngx_http_capif_rev_zone_t *zone, ngx_http_capif_rev_zone_t *ozone,
    ngx_log_t *log);


/* the writer lock; a holder that died is detected and the lock freed */

ngx_uint_t
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
void
ngx_http_capif_rev_wlock(ngx_http_capif_rev_shctx_t *sh)
{
    while (!ngx_http_capif_rev_trylock(sh)) {
        ngx_msleep(1);
    }
}


/* the live entries as records, for the journal */

static size_t
ngx_http_capif_rev_zone_bound(void *data, ngx_uint_t *n)
{
    ngx_http_capif_rev_zone_t  *zone = data;

    size_t                      size;
    ngx_queue_t                *q;
    ngx_http_capif_rev_node_t  *node;

    size = 0;
    *n = 0;

    for (q = ngx_queue_head(&zone->sh->queue);
         q != ngx_queue_sentinel(&zone->sh->queue);
         q = ngx_queue_next(q))
    {
        node = ngx_queue_data(q, ngx_http_capif_rev_node_t, queue);
        size += ngx_http_capif_rev_node_enc_len(node);
        (*n)++;
    }

    return size;
}


/* the writer lock is held: entries change only under it */
static ngx_int_t
ngx_http_capif_rev_zone_next(void *data, void **cursor, int64_t now,
    capif_rev_record_t *rec)
{
    ngx_http_capif_rev_zone_t  *zone = data;

    ngx_queue_t                *q;
    ngx_http_capif_rev_node_t  *node;

    q = (*cursor == NULL) ? ngx_queue_head(&zone->sh->queue)
                          : ngx_queue_next((ngx_queue_t *) *cursor);

    for ( /* void */ ; q != ngx_queue_sentinel(&zone->sh->queue);
         q = ngx_queue_next(q))
    {
        node = ngx_queue_data(q, ngx_http_capif_rev_node_t, queue);

        if (node->expires > now
            && ngx_http_capif_rev_node_record(node, rec) != 0)
        {
            *cursor = q;
            return NGX_OK;
        }
    }

    return NGX_DONE;
}


static ngx_int_t
ngx_http_capif_rev_zone_add(void *data, const capif_rev_record_t *rec)
{
    ngx_http_capif_rev_zone_t  *zone = data;

    ngx_int_t  rc;

    ngx_shmtx_lock(&zone->shpool->mutex);
    rc = ngx_http_capif_rev_insert_locked(zone, rec);
    ngx_shmtx_unlock(&zone->shpool->mutex);

    return rc;
}


ngx_int_t
ngx_http_capif_rev_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_capif_rev_zone_t  *ozone = data;

    size_t                      len, bloom;
    ngx_int_t                   rc;
    ngx_http_capif_rev_zone_t  *zone;

    zone = shm_zone->data;

    /* refused here, not with a 503 on every push later */
    if (ngx_http_capif_journal_check_access(&zone->journal.path,
                                            zone->journal.cycle,
                                            shm_zone->shm.log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the journal sees the entries as records, through these */
    zone->journal.bound = ngx_http_capif_rev_zone_bound;
    zone->journal.next = ngx_http_capif_rev_zone_next;
    zone->journal.add = ngx_http_capif_rev_zone_add;
    zone->journal.data = zone;

    if (ozone) {
        /* a reload: the entries stay, nothing is replayed */
        zone->sh = ozone->sh;
        zone->shpool = ozone->shpool;
        zone->journal.sh = &zone->sh->journal;

        return ngx_http_capif_rev_reuse_zone(zone, ozone,
                                             shm_zone->shm.log);
    }

    zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        zone->sh = zone->shpool->data;
        zone->journal.sh = &zone->sh->journal;
        return NGX_OK;
    }

    zone->sh = ngx_slab_calloc(zone->shpool,
                               sizeof(ngx_http_capif_rev_shctx_t));
    if (zone->sh == NULL) {
        return NGX_ERROR;
    }

    zone->shpool->data = zone->sh;
    zone->journal.sh = &zone->sh->journal;

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
    rc = ngx_http_capif_journal_replay(&zone->journal, shm_zone->shm.log);

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "capif journal \"%V\": capif_zone is too small "
                      "for its live entries (%ui stored so far)",
                      &zone->journal.path, zone->sh->count);
        return NGX_ERROR;
    }

    return rc;
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

    moved = (zone->journal.path.len != ozone->journal.path.len
             || ngx_strncmp(zone->journal.path.data,
                            ozone->journal.path.data, zone->journal.path.len)
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

    if (ngx_http_capif_journal_rewrite(&zone->journal, &jl, 0) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "capif journal \"%V\" cannot be written: "
                      "revocations are answered 503 until it can",
                      &zone->journal.path);
    }

    ngx_shmtx_unlock(&zone->sh->wmutex);

    return NGX_OK;
}

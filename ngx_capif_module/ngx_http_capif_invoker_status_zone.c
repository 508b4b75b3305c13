/*
 * Copyright (C) ngx_capif_module authors
 *
 * The shared zone "capif_status": what the CCF last said per invoker,
 * AEF and API, with the fetch lease; the least recently used entries make
 * room.  A reload keeps it.
 */

#include "ngx_http_capif_status.h"


ngx_http_capif_status_node_t *
ngx_http_capif_status_lookup(ngx_http_capif_status_main_conf_t *smcf,
    ngx_str_t *key)
{
    ngx_str_node_t  *sn;

    sn = ngx_str_rbtree_lookup(&smcf->sh->rbtree, key,
                               ngx_crc32_short(key->data, key->len));

    return (ngx_http_capif_status_node_t *) sn;
}


/* a new entry; the least recently used ones make room (zone locked) */
ngx_http_capif_status_node_t *
ngx_http_capif_status_create(ngx_http_capif_status_main_conf_t *smcf,
    ngx_str_t *key, time_t now)
{
    u_char                        *p;
    ngx_uint_t                     n;
    ngx_queue_t                   *q;
    ngx_http_capif_status_node_t  *node, *old;

    for (n = 0; n < 16; n++) {
        node = ngx_slab_alloc_locked(smcf->shpool,
                                     sizeof(ngx_http_capif_status_node_t)
                                     + key->len);
        if (node != NULL) {
            break;
        }

        if (ngx_queue_empty(&smcf->sh->lru)) {
            return NULL;
        }

        q = ngx_queue_last(&smcf->sh->lru);
        old = ngx_queue_data(q, ngx_http_capif_status_node_t, queue);

        ngx_queue_remove(q);
        ngx_rbtree_delete(&smcf->sh->rbtree, &old->sn.node);
        ngx_slab_free_locked(smcf->shpool, old);
    }

    if (node == NULL) {
        return NULL;
    }

    ngx_memzero(node, sizeof(ngx_http_capif_status_node_t));

    p = (u_char *) (node + 1);
    ngx_memcpy(p, key->data, key->len);

    node->sn.str.data = p;
    node->sn.str.len = key->len;
    node->sn.node.key = ngx_crc32_short(key->data, key->len);

    ngx_rbtree_insert(&smcf->sh->rbtree, &node->sn.node);
    ngx_queue_insert_head(&smcf->sh->lru, &node->queue);

    return node;
}


ngx_int_t
ngx_http_capif_status_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_capif_status_main_conf_t  *osmcf = data;

    ngx_http_capif_status_main_conf_t  *smcf;

    smcf = shm_zone->data;

    if (osmcf) {
        /* a reload keeps what the CCF said */
        smcf->sh = osmcf->sh;
        smcf->shpool = osmcf->shpool;
        return NGX_OK;
    }

    smcf->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    smcf->sh = ngx_slab_calloc(smcf->shpool,
                               sizeof(ngx_http_capif_status_shctx_t));
    if (smcf->sh == NULL) {
        return NGX_ERROR;
    }

    smcf->shpool->data = smcf->sh;

    ngx_rbtree_init(&smcf->sh->rbtree, &smcf->sh->sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_queue_init(&smcf->sh->lru);

    return NGX_OK;
}


void
ngx_http_capif_invoker_status_expire_all(ngx_cycle_t *cycle)
{
    ngx_http_capif_status_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(cycle,
                                        ngx_http_capif_invoker_status_module);

    if (smcf == NULL || smcf->sh == NULL) {
        return;
    }

    ngx_shmtx_lock(&smcf->shpool->mutex);
    smcf->sh->epoch = ngx_time();
    ngx_shmtx_unlock(&smcf->shpool->mutex);

    ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                  "capif_invoker_status: every cached status expired");
}

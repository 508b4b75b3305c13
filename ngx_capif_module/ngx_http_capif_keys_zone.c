/*
 * Copyright (C) ngx_capif_module authors
 *
 * The shared zone "capif_keys": one entry per capif_key_request URI with
 * the last good answer, its time and the fetch lease.  Every worker, and
 * a reload, see it.
 */

#include "ngx_http_capif_keys_source.h"


static ngx_int_t ngx_http_capif_keys_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);


ngx_int_t
ngx_http_capif_keys_postconfiguration(ngx_conf_t *cf)
{
    size_t                             size;
    ngx_uint_t                         i, n;
    ngx_http_capif_keysrc_t          **src;
    ngx_http_capif_keys_main_conf_t   *kmcf;

    static ngx_str_t  name = ngx_string("capif_keys");

    kmcf = ngx_http_conf_get_module_main_conf(cf,
                                          ngx_http_capif_keys_refresh_module);

    size = 0;
    n = 0;
    src = kmcf->sources.elts;

    for (i = 0; i < kmcf->sources.nelts; i++) {
        if (src[i]->uri.len) {
            if (src[i]->max_size == 0) {
                src[i]->max_size = 64 * 1024;
            }

            size += src[i]->max_size + src[i]->full.len + 2 * ngx_pagesize;
            n++;
        }
    }

    if (n == 0) {
        return NGX_OK;
    }

    /* the same size on a reload: the zone and its keys are kept */
    size = ngx_align(size + 8 * ngx_pagesize, 256 * 1024);

    kmcf->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                          &ngx_http_capif_keys_refresh_module);
    if (kmcf->shm_zone == NULL) {
        return NGX_ERROR;
    }

    kmcf->shm_zone->init = ngx_http_capif_keys_init_zone;
    kmcf->shm_zone->data = kmcf;

    return NGX_OK;
}


static ngx_int_t
ngx_http_capif_keys_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_capif_keys_main_conf_t  *okmcf = data;

    u_char                            *p;
    ngx_uint_t                         i;
    ngx_queue_t                       *q;
    ngx_slab_pool_t                   *shpool;
    ngx_http_capif_keysrc_t          **src;
    ngx_http_capif_keys_entry_t       *e;
    ngx_http_capif_keys_main_conf_t   *kmcf;

    kmcf = shm_zone->data;

    if (okmcf) {
        kmcf->sh = okmcf->sh;
        kmcf->shpool = okmcf->shpool;

    } else {
        kmcf->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

        kmcf->sh = ngx_slab_calloc(kmcf->shpool,
                                   sizeof(ngx_http_capif_keys_shctx_t));
        if (kmcf->sh == NULL) {
            return NGX_ERROR;
        }

        ngx_queue_init(&kmcf->sh->entries);
        kmcf->shpool->data = kmcf->sh;
    }

    shpool = kmcf->shpool;
    src = kmcf->sources.elts;

    for (i = 0; i < kmcf->sources.nelts; i++) {
        if (src[i]->uri.len == 0) {
            continue;
        }

        e = NULL;

        for (q = ngx_queue_head(&kmcf->sh->entries);
             q != ngx_queue_sentinel(&kmcf->sh->entries);
             q = ngx_queue_next(q))
        {
            e = ngx_queue_data(q, ngx_http_capif_keys_entry_t, queue);

            if (e->uri.len == src[i]->full.len
                && ngx_strncmp(e->uri.data, src[i]->full.data, e->uri.len)
                   == 0)
            {
                break;
            }

            e = NULL;
        }

        if (e != NULL && e->cap < src[i]->max_size) {
            /* a bigger capif_key_max_size: keep the bytes, grow */
            p = ngx_slab_alloc(shpool, src[i]->max_size);
            if (p == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(p, e->data, e->len);
            ngx_slab_free(shpool, e->data);
            e->data = p;
            e->cap = src[i]->max_size;
        }

        if (e == NULL) {
            e = ngx_slab_calloc(shpool, sizeof(ngx_http_capif_keys_entry_t));
            if (e == NULL) {
                return NGX_ERROR;
            }

            e->uri.data = ngx_slab_alloc(shpool, src[i]->full.len);
            e->data = ngx_slab_alloc(shpool, src[i]->max_size);

            if (e->uri.data == NULL || e->data == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(e->uri.data, src[i]->full.data, src[i]->full.len);
            e->uri.len = src[i]->full.len;
            e->cap = src[i]->max_size;

            ngx_queue_insert_tail(&kmcf->sh->entries, &e->queue);
        }

        /* a lease of the old cycle's workers ends with them */
        e->lease.pid = 0;

        src[i]->entry = e;

        if (e->ok_time == 0) {
            ngx_http_capif_keys_load_cache(src[i], e, shm_zone->shm.log);
        }
    }

    return NGX_OK;
}

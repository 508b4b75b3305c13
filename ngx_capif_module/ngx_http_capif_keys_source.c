/*
 * Copyright (C) ngx_capif_module authors
 *
 * A key source: the capif_key_file files of one key set and the keys
 * fetched for it.  A whole new set is built of their last good bytes and
 * swapped in between two requests of the worker.
 */

#include "ngx_http_capif_keys_source.h"


ngx_http_capif_keysrc_t *
ngx_http_capif_keys_source(ngx_http_capif_keys_main_conf_t *kmcf,
    capif_keyset_t *ks)
{
    ngx_uint_t                 i;
    ngx_http_capif_keysrc_t  **src;

    src = kmcf->sources.elts;

    for (i = 0; i < kmcf->sources.nelts; i++) {
        if (src[i]->ks == ks) {
            return src[i];
        }
    }

    return NULL;
}


ngx_http_capif_keysrc_t *
ngx_http_capif_keys_add_source(ngx_conf_t *cf, capif_keyset_t *ks)
{
    ngx_http_capif_keysrc_t          *src, **p;
    ngx_http_capif_keys_main_conf_t  *kmcf;

    kmcf = ngx_http_conf_get_module_main_conf(cf,
                                          ngx_http_capif_keys_refresh_module);

    src = ngx_http_capif_keys_source(kmcf, ks);
    if (src != NULL) {
        return src;
    }

    src = ngx_pcalloc(cf->pool, sizeof(ngx_http_capif_keysrc_t));
    if (src == NULL) {
        return NULL;
    }

    if (ngx_array_init(&src->files, cf->pool, 1,
                       sizeof(ngx_http_capif_keyfile_t))
        != NGX_OK)
    {
        return NULL;
    }

    src->ks = ks;
    src->refresh = NGX_CONF_UNSET;

    p = ngx_array_push(&kmcf->sources);
    if (p == NULL) {
        return NULL;
    }

    *p = src;

    return src;
}


/*
 * A whole new set from the source's bytes: its files and fetched (NULL:
 * none).  With swap, it replaces the location's set; else it is only
 * checked and dropped.
 */
ngx_int_t
ngx_http_capif_keys_build(ngx_http_capif_keysrc_t *src, u_char *fetched,
    size_t len, ngx_uint_t swap, char *errbuf, size_t errlen)
{
    ngx_uint_t                 i;
    capif_keyset_t             ks, old;
    ngx_http_capif_keyfile_t  *f;

    ngx_memzero(&ks, sizeof(capif_keyset_t));

    f = src->files.elts;

    for (i = 0; i < src->files.nelts; i++) {
        if (capif_keyset_load_buf(&ks, (char *) f[i].path.data, f[i].buf,
                                  f[i].len, f[i].alg, f[i].kid, errbuf,
                                  errlen)
            != 0)
        {
            capif_keyset_free(&ks);
            return NGX_ERROR;
        }
    }

    if (fetched != NULL
        && capif_keyset_load_buf(&ks, (char *) src->full.data, fetched, len,
                                 NULL, NULL, errbuf, errlen)
           != 0)
    {
        capif_keyset_free(&ks);
        return NGX_ERROR;
    }

    if (!swap) {
        capif_keyset_free(&ks);
        return NGX_OK;
    }

    /* between two requests of this worker: nobody holds a key pointer */
    old = *src->ks;
    *src->ks = ks;
    capif_keyset_free(&old);

    return NGX_OK;
}


ngx_int_t
ngx_http_capif_keys_rebuild(ngx_http_capif_keysrc_t *src, char *errbuf,
    size_t errlen)
{
    return ngx_http_capif_keys_build(src, src->fetched, src->fetched_len, 1,
                                     errbuf, errlen);
}


/* the worker's set follows the zone's bytes */
void
ngx_http_capif_keys_sync(ngx_http_capif_keysrc_t *src, ngx_log_t *log)
{
    u_char                           *buf, *oldbuf;
    size_t                            len, oldlen;
    ngx_uint_t                        gen;
    ngx_http_capif_keys_entry_t      *e;
    ngx_http_capif_keys_main_conf_t  *kmcf;
    char                              errbuf[512];

    e = src->entry;

    if (e == NULL || e->generation == src->generation) {
        return;
    }

    kmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                          ngx_http_capif_keys_refresh_module);

    buf = NULL;

    ngx_shmtx_lock(&kmcf->shpool->mutex);

    gen = e->generation;
    len = e->len;

    if (len) {
        buf = ngx_alloc(len, log);
        if (buf != NULL) {
            ngx_memcpy(buf, e->data, len);
        }
    }

    ngx_shmtx_unlock(&kmcf->shpool->mutex);

    if (len && buf == NULL) {
        return;
    }

    oldbuf = src->fetched;
    oldlen = src->fetched_len;

    src->fetched = buf;
    src->fetched_len = len;
    src->generation = gen;

    if (ngx_http_capif_keys_rebuild(src, errbuf, sizeof(errbuf)) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "capif_key_request \"%V\": the fetched keys do not "
                      "fit this worker's set, the last good set stays in "
                      "use: %s", &src->full, errbuf);

        /* src->generation stays: not again until the next fetch */
        src->fetched = oldbuf;
        src->fetched_len = oldlen;
        ngx_free(buf);
        return;
    }

    if (oldbuf) {
        ngx_free(oldbuf);
    }
}

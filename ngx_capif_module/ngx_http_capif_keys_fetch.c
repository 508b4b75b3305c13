/*
 * Copyright (C) ngx_capif_module authors
 *
 * Keys fetched from the CCF (capif_key_request).  Fetches start from
 * live calls, as nginx has no request-less subrequest: the first call of
 * a location without keys waits for one, later calls trigger a
 * background refetch once capif_key_refresh has passed and go on with
 * the current keys.  One worker fetches at a time: it holds the entry's
 * lease in the zone.
 */

#include "ngx_http_capif_keys_source.h"


/* a call that waits for another worker's fetch looks every 50ms, 10s */
#define NGX_HTTP_CAPIF_KEYS_POLL      50
#define NGX_HTTP_CAPIF_KEYS_POLLS     200


typedef struct {
    ngx_uint_t            polls;
    unsigned              fetched:1;   /* this call waited for a fetch */
} ngx_http_capif_keys_ctx_t;


typedef struct {
    ngx_http_capif_keysrc_t    *src;
    ngx_http_capif_keys_ctx_t  *ctx;   /* NULL: a background fetch */
} ngx_http_capif_keys_fetch_t;


static void ngx_http_capif_keys_fetched(ngx_http_request_t *sr, void *data,
    ngx_http_capif_ccf_answer_t *answer);


static ngx_int_t
ngx_http_capif_keys_fetch(ngx_http_request_t *r,
    ngx_http_capif_keysrc_t *src, ngx_http_capif_keys_ctx_t *ctx)
{
    ngx_http_capif_keys_fetch_t      *fetch;
    ngx_http_capif_keys_main_conf_t  *kmcf;

    fetch = ngx_palloc(r->pool, sizeof(ngx_http_capif_keys_fetch_t));

    if (fetch != NULL) {
        fetch->src = src;
        fetch->ctx = ctx;

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "capif_key_request \"%V\": fetching keys%s",
                      &src->full, ctx ? "" : " in the background");

        if (ngx_http_capif_ccf_get(r, &src->uri, &src->args, src->max_size,
                                   ctx == NULL, ngx_http_capif_keys_fetched,
                                   fetch, NULL)
            == NGX_OK)
        {
            return NGX_OK;
        }
    }

    /* give the lease back: another call may try */
    kmcf = ngx_http_get_module_main_conf(r,
                                          ngx_http_capif_keys_refresh_module);

    ngx_shmtx_lock(&kmcf->shpool->mutex);

    ngx_http_capif_ccf_end_lease(&src->entry->lease);

    ngx_shmtx_unlock(&kmcf->shpool->mutex);

    return NGX_ERROR;
}


static ngx_http_capif_keys_ctx_t *
ngx_http_capif_keys_get_ctx(ngx_http_request_t *r)
{
    ngx_http_capif_keys_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_capif_keys_refresh_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_capif_keys_ctx_t));
        if (ctx == NULL) {
            return NULL;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_capif_keys_refresh_module);
    }

    return ctx;
}


static ngx_int_t
ngx_http_capif_keys_unavailable(ngx_http_request_t *r,
    ngx_http_capif_keysrc_t *src)
{
    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "capif_key_request \"%V\": no keys fetched yet, the CCF "
                  "did not answer with keys", &src->full);

    return ngx_http_capif_ccf_unavailable(r, src->min_refetch,
                                          "KEYS_UNAVAILABLE",
                                          "the gateway has no keys from the "
                                          "CCF yet");
}


/* the location's source of ks if capif_key_request fetches its keys */
static ngx_http_capif_keysrc_t *
ngx_http_capif_keys_requested(ngx_http_request_t *r, capif_keyset_t *ks)
{
    ngx_http_capif_keysrc_t         *src;
    ngx_http_capif_keys_loc_conf_t  *klcf;

    klcf = ngx_http_get_module_loc_conf(r,
                                        ngx_http_capif_keys_refresh_module);
    src = klcf->src;

    if (src == NULL || src->entry == NULL || src->ks != ks) {
        return NULL;
    }

    return src;
}


ngx_int_t
ngx_http_capif_keys_check(ngx_http_request_t *r, capif_keyset_t *ks,
    capif_error_t *err)
{
    enum { GO, FETCH, BACKGROUND, WAIT, FAIL }  action;

    time_t                            now, ok;
    ngx_http_capif_keysrc_t          *src;
    ngx_http_capif_keys_ctx_t        *ctx;
    ngx_http_capif_keys_entry_t      *e;
    ngx_http_capif_keys_main_conf_t  *kmcf;

    src = ngx_http_capif_keys_requested(r, ks);
    if (src == NULL) {
        return NGX_OK;
    }

    ngx_http_capif_keys_sync(src, r->connection->log);

    ctx = ngx_http_capif_keys_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    kmcf = ngx_http_get_module_main_conf(r,
                                          ngx_http_capif_keys_refresh_module);
    e = src->entry;
    now = ngx_time();

    ngx_shmtx_lock(&kmcf->shpool->mutex);

    ok = e->ok_time;

    if ((ok == 0 && ks->nkeys == 0) || (ok && now > ok + src->max_stale)) {

        /* nothing usable: this call waits for a fetch */
        if (ctx->fetched) {
            action = FAIL;

        } else if (ngx_http_capif_ccf_leased(&e->lease, now)) {
            action = (ctx->polls < NGX_HTTP_CAPIF_KEYS_POLLS) ? WAIT : FAIL;

        } else if (now >= e->lease.attempt + src->min_refetch
                   || e->lease.pid)
        {
            /*
             * A lease left behind means that attempt never ended.  A call
             * that waited for a fetch that failed does not try again: the
             * CCF is not asked once per waiting call.
             */
            ngx_http_capif_ccf_take_lease(&e->lease, now);
            action = FETCH;

        } else {
            action = FAIL;
        }

    } else if (now >= ngx_max(ok, e->lease.attempt) + src->refresh
               && !ngx_http_capif_ccf_leased(&e->lease, now))
    {
        ngx_http_capif_ccf_take_lease(&e->lease, now);
        action = BACKGROUND;

    } else {
        action = GO;
    }

    ngx_shmtx_unlock(&kmcf->shpool->mutex);

    switch (action) {

    case GO:
        return NGX_OK;

    case BACKGROUND:
        /* the call goes on with the current keys whatever happens */
        (void) ngx_http_capif_keys_fetch(r, src, NULL);
        return NGX_OK;

    case FETCH:
        if (ngx_http_capif_keys_fetch(r, src, ctx) != NGX_OK) {
            return NGX_ERROR;
        }

        ctx->fetched = 1;
        return NGX_AGAIN;

    case WAIT:
        ctx->polls++;
        return ngx_http_capif_ccf_wait(r, NGX_HTTP_CAPIF_KEYS_POLL);

    default: /* FAIL */
        break;
    }

    if (ok == 0) {
        return ngx_http_capif_keys_unavailable(r, src);
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "capif_key_request \"%V\": the last keys fetched are "
                  "%T s old, more than capif_key_max_stale", &src->full,
                  now - ok);

    (void) capif_fail(err, CAPIF_INVALID_TOKEN, "KEYS_STALE",
                      "the gateway's keys from the CCF are out of date");

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_capif_keys_unknown_kid(ngx_http_request_t *r, capif_keyset_t *ks)
{
    time_t                            now;
    ngx_uint_t                        go;
    ngx_http_capif_keysrc_t          *src;
    ngx_http_capif_keys_ctx_t        *ctx;
    ngx_http_capif_keys_entry_t      *e;
    ngx_http_capif_keys_main_conf_t  *kmcf;

    src = ngx_http_capif_keys_requested(r, ks);
    if (src == NULL) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_capif_keys_get_ctx(r);
    if (ctx == NULL || ctx->fetched) {
        return NGX_DECLINED;
    }

    kmcf = ngx_http_get_module_main_conf(r,
                                          ngx_http_capif_keys_refresh_module);
    e = src->entry;
    now = ngx_time();
    go = 0;

    /* at most one refetch per capif_key_min_refetch, across workers */
    ngx_shmtx_lock(&kmcf->shpool->mutex);

    if (now >= e->refetch_time + src->min_refetch
        && !ngx_http_capif_ccf_leased(&e->lease, now))
    {
        e->refetch_time = now;
        ngx_http_capif_ccf_take_lease(&e->lease, now);
        go = 1;
    }

    ngx_shmtx_unlock(&kmcf->shpool->mutex);

    if (!go) {
        return NGX_DECLINED;
    }

    if (ngx_http_capif_keys_fetch(r, src, ctx) != NGX_OK) {
        return NGX_DECLINED;
    }

    ctx->fetched = 1;

    return NGX_AGAIN;
}


static void
ngx_http_capif_keys_fetched(ngx_http_request_t *sr, void *data,
    ngx_http_capif_ccf_answer_t *answer)
{
    ngx_http_capif_keys_fetch_t *fetch = data;

    time_t                            now;
    ngx_uint_t                        ok, i;
    capif_key_t                      *key;
    ngx_http_capif_keysrc_t          *src;
    ngx_http_capif_keys_entry_t      *e;
    ngx_http_capif_keys_main_conf_t  *kmcf;
    char                              why[600];

    src = fetch->src;
    e = src->entry;
    now = ngx_time();
    why[0] = '\0';

    if (fetch->ctx) {
        fetch->ctx->fetched = 1;
    }

    if (answer->status == 0) {
        ngx_sprintf((u_char *) why, "no answer from the CCF (see the lines "
                    "above)%Z");

    } else if (answer->status != NGX_HTTP_OK) {
        ngx_sprintf((u_char *) why, "status %ui%Z", answer->status);

    } else if (answer->content_encoding.len
               && !(answer->content_encoding.len == 8
                    && ngx_strncasecmp(answer->content_encoding.data,
                                       (u_char *) "identity", 8) == 0))
    {
        ngx_sprintf((u_char *) why, "compressed (Content-Encoding: %V)%Z",
                    &answer->content_encoding);

    } else if (answer->too_big) {
        ngx_sprintf((u_char *) why, "larger than capif_key_max_size %uz%Z",
                    src->max_size);

    } else if (answer->body.len == 0) {
        ngx_sprintf((u_char *) why, "an empty body%Z");

    } else if (ngx_http_capif_keys_build(src, answer->body.data,
                                         answer->body.len, 0, why,
                                         sizeof(why))
               != NGX_OK)
    {
        /* why holds the parser's reason */
    }

    ok = (why[0] == '\0');

    kmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                          ngx_http_capif_keys_refresh_module);

    ngx_shmtx_lock(&kmcf->shpool->mutex);

    if (ok) {
        ngx_memcpy(e->data, answer->body.data, answer->body.len);
        e->len = answer->body.len;
        e->ok_time = now;
        e->generation++;
    }

    ngx_http_capif_ccf_end_lease(&e->lease);

    ngx_shmtx_unlock(&kmcf->shpool->mutex);

    if (!ok) {
        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "capif_key_request \"%V\": answer ignored, the last "
                      "good keys stay in use: %s", &src->full, why);
        return;
    }

    ngx_http_capif_keys_sync(src, sr->connection->log);

    ngx_log_error(NGX_LOG_NOTICE, sr->connection->log, 0,
                  "capif_key_request \"%V\": keys fetched, %uz in use",
                  &src->full, src->ks->nkeys);

    for (i = 0; i < src->ks->nkeys; i++) {
        key = &src->ks->keys[i];

        if (key->bundle_certs > 1 && key->source
            && ngx_strcmp(key->source, src->full.data) == 0)
        {
            ngx_log_error(NGX_LOG_NOTICE, sr->connection->log, 0,
                          "capif_key_request \"%V\": the answer is a "
                          "bundle of %uz certificates; only the key of the "
                          "first, the leaf, is used", &src->full,
                          key->bundle_certs);
        }
    }

    ngx_http_capif_keys_persist(src, answer->body.data, answer->body.len,
                                now, sr->connection->log);
}

/*
 * Copyright (C) ngx_capif_module authors
 *
 * What the parts of capif_key_file/capif_key_request refresh share: the
 * key sources, their shared-zone entries and the module's configuration.
 * ngx_http_capif_keys.h holds the hooks the token gate calls.
 */

#ifndef NGX_HTTP_CAPIF_KEYS_SOURCE_H
#define NGX_HTTP_CAPIF_KEYS_SOURCE_H

#include <sys/stat.h>

#include "ngx_http_capif_keys.h"
#include "ngx_http_capif_ccf.h"


typedef struct {
    ngx_queue_t           queue;
    ngx_str_t             uri;         /* uri?args, in the zone */
    time_t                ok_time;     /* of the bytes below; 0: none */
    time_t                refetch_time;  /* last unknown-kid refetch */
    ngx_http_capif_ccf_lease_t  lease;
    ngx_uint_t            generation;
    size_t                cap;
    size_t                len;
    u_char               *data;
} ngx_http_capif_keys_entry_t;


typedef struct {
    ngx_queue_t           entries;
} ngx_http_capif_keys_shctx_t;


typedef struct {
    ngx_str_t             path;        /* NUL-terminated */
    char                 *alg;         /* NULL or NUL-terminated */
    char                 *kid;
    u_char               *buf;         /* last good bytes */
    size_t                len;
    unsigned              heap:1;      /* buf is ngx_alloc()'d */
    unsigned              missing:1;   /* logged: cannot stat or read */

    /* what was last seen at path, good or bad */
    dev_t                 dev;
    ino_t                 ino;
    off_t                 size;
    struct timespec       mtime;
} ngx_http_capif_keyfile_t;


typedef struct {
    capif_keyset_t       *ks;          /* the location's set, never moves */
    ngx_array_t           files;       /* of ngx_http_capif_keyfile_t */
    time_t                refresh;     /* smallest of its locations */
    time_t                next_check;

    /* capif_key_request */
    ngx_str_t             uri;         /* empty: none */
    ngx_str_t             args;
    ngx_str_t             full;        /* uri?args: names the zone entry */
    ngx_str_t             cache;       /* NUL-terminated, or empty */
#if (NGX_THREADS)
    ngx_thread_pool_t    *thread_pool; /* writes the cache file */
#endif
    time_t                min_refetch;
    time_t                max_stale;
    size_t                max_size;
    ngx_http_capif_keys_entry_t  *entry;

    /* this worker's copy of the entry's bytes */
    ngx_uint_t            generation;
    u_char               *fetched;
    size_t                fetched_len;
} ngx_http_capif_keysrc_t;


typedef struct {
    ngx_array_t           sources;     /* of ngx_http_capif_keysrc_t * */
    ngx_event_t           timer;
    ngx_msec_t            tick;
    ngx_shm_zone_t       *shm_zone;
    ngx_slab_pool_t      *shpool;
    ngx_http_capif_keys_shctx_t  *sh;
} ngx_http_capif_keys_main_conf_t;


typedef struct {
    time_t                refresh;
    time_t                min_refetch;
    time_t                max_stale;
    size_t                max_size;
    ngx_str_t             uri;         /* capif_key_request of this level */
    ngx_http_capif_keysrc_t  *src;
} ngx_http_capif_keys_loc_conf_t;


/* ngx_http_capif_keys_source.c: the sources and the sets built of them */
ngx_http_capif_keysrc_t *ngx_http_capif_keys_source(
    ngx_http_capif_keys_main_conf_t *kmcf, capif_keyset_t *ks);
ngx_http_capif_keysrc_t *ngx_http_capif_keys_add_source(ngx_conf_t *cf,
    capif_keyset_t *ks);
ngx_int_t ngx_http_capif_keys_build(ngx_http_capif_keysrc_t *src,
    u_char *fetched, size_t len, ngx_uint_t swap, char *errbuf,
    size_t errlen);
ngx_int_t ngx_http_capif_keys_rebuild(ngx_http_capif_keysrc_t *src,
    char *errbuf, size_t errlen);
void ngx_http_capif_keys_sync(ngx_http_capif_keysrc_t *src, ngx_log_t *log);

/* ngx_http_capif_keys_files.c: capif_key_file files that change */
ngx_int_t ngx_http_capif_keys_read(ngx_http_capif_keyfile_t *f,
    u_char **buf, size_t *len, struct stat *st, ngx_pool_t *pool,
    ngx_log_t *log);
void ngx_http_capif_keys_timer(ngx_event_t *ev);

/* ngx_http_capif_keys_cache.c: the cache= file */
void ngx_http_capif_keys_persist(ngx_http_capif_keysrc_t *src,
    u_char *data, size_t len, time_t ok, ngx_log_t *log);
void ngx_http_capif_keys_load_cache(ngx_http_capif_keysrc_t *src,
    ngx_http_capif_keys_entry_t *e, ngx_log_t *log);

/* ngx_http_capif_keys_zone.c: the shared zone "capif_keys" */
ngx_int_t ngx_http_capif_keys_postconfiguration(ngx_conf_t *cf);


#endif /* NGX_HTTP_CAPIF_KEYS_SOURCE_H */

/*
 * Copyright (C) ngx_capif_module authors
 *
 * Keys that follow the CCF: key files watched for changes, keys fetched
 * from the CCF through an internal location.  The token gate calls these
 * hooks; ngx_http_capif_keys_refresh_module.c implements them.
 *
 * Lifetime: a location's capif_keyset_t never moves.  A refresh builds a
 * complete new set and swaps the contents of that struct between two
 * requests of the worker (verification is synchronous), then frees the
 * old keys.  Nobody may keep a capif_key_t pointer across an event: keep
 * a fingerprint and look it up in the location's set instead.
 */

#ifndef NGX_HTTP_CAPIF_KEYS_H
#define NGX_HTTP_CAPIF_KEYS_H

#include "ngx_http_capif.h"


/* capif_key_file calls this once the file has loaded at config time */
char *ngx_http_capif_keys_file_added(ngx_conf_t *cf, capif_keyset_t *ks,
    ngx_str_t *path, char *alg, char *kid);

/*
 * Before a token is verified with ks.  Returns NGX_OK to verify now,
 * NGX_AGAIN when the request waits for keys (the access phase runs
 * again), NGX_DECLINED with *err set to refuse (KEYS_STALE), NGX_DONE
 * when the request has been answered, or NGX_ERROR.
 */
ngx_int_t ngx_http_capif_keys_check(ngx_http_request_t *r,
    capif_keyset_t *ks, capif_error_t *err);

/*
 * After a verification failed with KID_UNKNOWN.  Returns NGX_AGAIN when a
 * refetch was started that the request waits for, else NGX_DECLINED.
 */
ngx_int_t ngx_http_capif_keys_unknown_kid(ngx_http_request_t *r,
    capif_keyset_t *ks);


extern ngx_module_t  ngx_http_capif_keys_refresh_module;


#endif /* NGX_HTTP_CAPIF_KEYS_H */

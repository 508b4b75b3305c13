/*
 * Copyright (C) ngx_capif_module authors
 *
 * The revocation journal on disk (ngx_http_capif_journal.c).  It sees
 * records (capif_rev_record_t) and bytes, never the zone that keeps
 * them: the owner of the live records hands it callbacks to walk them
 * (a rewrite) and to add to them (the replay).
 */

#ifndef NGX_HTTP_CAPIF_JOURNAL_H
#define NGX_HTTP_CAPIF_JOURNAL_H

#include <ngx_config.h>
#include <ngx_core.h>

#include "capif_revocation.h"
#include "capif_journal.h"


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


/* the journal's state every process shares: kept in shared memory */
typedef struct {
    off_t                         size;      /* its durable end */
    ngx_uint_t                    gen;       /* bumped on rewrite */
    ngx_uint_t                    dirty;     /* rewrite before append */
} ngx_http_capif_journal_sh_t;


/*
 * The live records.  bound: the total encoded length of every record
 * and, in *n, their number (what a rewrite allocates).  next: the next
 * live record at now after *cursor (NULL: from the first), NGX_OK, or
 * NGX_DONE at the end; rec points into the owner's memory.  add: a
 * replayed record, NGX_OK, NGX_DECLINED when there is no room, or
 * NGX_ERROR.
 */
typedef size_t (*ngx_http_capif_journal_bound_pt)(void *data,
    ngx_uint_t *n);
typedef ngx_int_t (*ngx_http_capif_journal_next_pt)(void *data,
    void **cursor, int64_t now, capif_rev_record_t *rec);
typedef ngx_int_t (*ngx_http_capif_journal_add_pt)(void *data,
    const capif_rev_record_t *rec);


typedef struct {
    ngx_str_t                         path;  /* full path, may be empty */
    ngx_cycle_t                      *cycle;
    ngx_http_capif_journal_sh_t      *sh;
    ngx_http_capif_journal_bound_pt   bound;
    ngx_http_capif_journal_next_pt    next;
    ngx_http_capif_journal_add_pt     add;
    void                             *data;
} ngx_http_capif_journal_t;


/*
 * Append and rewrite run on a thread (or in the master) and hold the
 * owner's writer lock; replay runs in the master on a fresh zone, and
 * returns NGX_DECLINED when add found no room (the caller says so).
 */
ngx_int_t ngx_http_capif_journal_replay(ngx_http_capif_journal_t *jn,
    ngx_log_t *log);
ngx_int_t ngx_http_capif_journal_append(ngx_http_capif_journal_t *jn,
    u_char *buf, size_t len, ngx_http_capif_jlog_t *jl);
ngx_int_t ngx_http_capif_journal_rewrite(ngx_http_capif_journal_t *jn,
    ngx_http_capif_jlog_t *jl, ngx_uint_t keep_damaged);

/* a push frame of records; returns its length or 0 */
size_t ngx_http_capif_journal_push_frame(u_char *out, size_t size,
    capif_rev_record_t *recs, ngx_uint_t n);

/* the directory of path, with its trailing slash, into dir */
ngx_int_t ngx_http_capif_journal_dir(ngx_str_t *path, u_char *dir,
    size_t size);

void ngx_http_capif_jlog(ngx_http_capif_jlog_t *jl, ngx_uint_t level,
    ngx_err_t err, const char *fmt, ...);
void ngx_http_capif_jlog_flush(ngx_http_capif_jlog_t *jl, ngx_log_t *log);


#endif /* NGX_HTTP_CAPIF_JOURNAL_H */

/*
 * Copyright (C) ngx_capif_module authors
 *
 * Whether the worker user can keep the journal at path: append to it and
 * replace it (ngx_http_capif_journal_access.c).  Runs at configuration
 * time, for "nginx -t" as for a start or reload; NGX_ERROR has logged
 * why.
 */

#ifndef NGX_HTTP_CAPIF_JOURNAL_ACCESS_H
#define NGX_HTTP_CAPIF_JOURNAL_ACCESS_H

#include <ngx_config.h>
#include <ngx_core.h>


ngx_int_t ngx_http_capif_journal_check_access(ngx_str_t *path,
    ngx_cycle_t *cycle, ngx_log_t *log);


#endif /* NGX_HTTP_CAPIF_JOURNAL_ACCESS_H */

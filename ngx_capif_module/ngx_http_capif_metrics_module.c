/*
 * Copyright (C) ngx_capif_module authors
 *
 * Prometheus metrics: "capif_metrics;" serves the text exposition of
 * counters kept in a shared zone that nginx creates on its own
 * ("capif_metrics", one row per worker slot).  A worker adds to its own
 * cache-line aligned row with an atomic add, so no lock is taken and no
 * line is shared between workers; a scrape sums the rows.  The zone is
 * reused on reload, so the counters survive it.
 */

#include "ngx_http_capif.h"
#include "ngx_http_capif_metrics.h"

#include <time.h>


/* worker slots; workers beyond share a slot (the adds stay atomic) */
#define NGX_HTTP_CAPIF_METRICS_SLOTS  64
#define NGX_HTTP_CAPIF_METRICS_LINE   64


typedef struct {
    ngx_atomic_t          entries;       /* capif_revocation_entries */
    size_t                stride;        /* counters per row, padded */
    ngx_atomic_t         *rows;
} ngx_http_capif_metrics_sh_t;


static ngx_int_t ngx_http_capif_metrics_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_capif_metrics_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static char *ngx_http_capif_metrics(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_capif_metrics_handler(ngx_http_request_t *r);


static ngx_http_capif_metrics_sh_t  *ngx_http_capif_metrics_sh;


static ngx_command_t  ngx_http_capif_metrics_commands[] = {

    { ngx_string("capif_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_capif_metrics,
      0,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_capif_metrics_module_ctx = {
    ngx_http_capif_metrics_preconfiguration, /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_capif_metrics_module = {
    NGX_MODULE_V1,
    &ngx_http_capif_metrics_module_ctx,    /* module context */
    ngx_http_capif_metrics_commands,       /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static size_t
ngx_http_capif_metrics_stride(void)
{
    size_t  per_line;

    per_line = NGX_HTTP_CAPIF_METRICS_LINE / sizeof(ngx_atomic_t);

    return ngx_align(capif_metrics_row_size(), per_line);
}


/*
 * Added before the http block is parsed, so the zone is initialized
 * before any other capif zone: the revocation zone's start-up replay can
 * already count its entries.  Its size depends only on this code, so a
 * reload finds and keeps it.
 */
static ngx_int_t
ngx_http_capif_metrics_preconfiguration(ngx_conf_t *cf)
{
    size_t           size;
    ngx_str_t        name = ngx_string("capif_metrics");
    ngx_shm_zone_t  *shm_zone;

    size = NGX_HTTP_CAPIF_METRICS_SLOTS * ngx_http_capif_metrics_stride()
           * sizeof(ngx_atomic_t);
    size = ngx_align(size, ngx_pagesize) + 8 * ngx_pagesize;

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_capif_metrics_module);
    if (shm_zone == NULL) {
        return NGX_ERROR;
    }

    shm_zone->init = ngx_http_capif_metrics_init_zone;

    return NGX_OK;
}


static ngx_int_t
ngx_http_capif_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    size_t                        len;
    ngx_slab_pool_t              *shpool;
    ngx_http_capif_metrics_sh_t  *sh;

    if (data) {
        /* a reload: the counters go on */
        shm_zone->data = data;
        ngx_http_capif_metrics_sh = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    sh = ngx_slab_calloc(shpool, sizeof(ngx_http_capif_metrics_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    sh->stride = ngx_http_capif_metrics_stride();
    len = NGX_HTTP_CAPIF_METRICS_SLOTS * sh->stride * sizeof(ngx_atomic_t);

    /* a multi-page allocation is page aligned: rows start on a line */
    sh->rows = ngx_slab_calloc(shpool, len);
    if (sh->rows == NULL) {
        return NGX_ERROR;
    }

    shm_zone->data = sh;
    ngx_http_capif_metrics_sh = sh;

    return NGX_OK;
}


static ngx_inline ngx_atomic_t *
ngx_http_capif_metrics_row(void)
{
    ngx_http_capif_metrics_sh_t  *sh = ngx_http_capif_metrics_sh;

    return sh->rows + (ngx_worker % NGX_HTTP_CAPIF_METRICS_SLOTS)
                      * sh->stride;
}


void
ngx_http_capif_metrics_request(const char *cause)
{
    if (ngx_http_capif_metrics_sh == NULL) {
        return;
    }

    (void) ngx_atomic_fetch_add(ngx_http_capif_metrics_row()
                                + capif_metrics_request_slot(cause), 1);
}


static ngx_int_t
ngx_http_capif_metrics_api(ngx_str_t *uri)
{
    u_char     *p, *last;
    ngx_str_t   op;

    last = uri->data + uri->len;

    for (p = last; p > uri->data && p[-1] != '/'; p--) { /* void */ }

    op.data = p;
    op.len = last - p;

    if (op.len == sizeof("revoke-authorization") - 1
        && ngx_strncmp(op.data, "revoke-authorization", op.len) == 0)
    {
        return CAPIF_METRICS_API_REVOKE;
    }

    if (ngx_strlcasestrn(op.data, last, (u_char *) "owner", 5 - 1)) {
        return CAPIF_METRICS_API_OWNER;
    }

    if (ngx_strlcasestrn(op.data, last, (u_char *) "group", 5 - 1)) {
        return CAPIF_METRICS_API_GROUP;
    }

    if (ngx_strlcasestrn(op.data, last, (u_char *) "event", 5 - 1)
        || ngx_strlcasestrn(op.data, last, (u_char *) "notification",
                            12 - 1))
    {
        return CAPIF_METRICS_API_EVENT;
    }

    if (ngx_strlcasestrn(op.data, last, (u_char *) "credential", 10 - 1)) {
        return CAPIF_METRICS_API_CREDENTIAL;
    }

    return NGX_ERROR;
}


void
ngx_http_capif_metrics_revocation(ngx_http_request_t *r, ngx_uint_t status)
{
    ngx_int_t               api;
    capif_metrics_result_t  result;

    if (ngx_http_capif_metrics_sh == NULL
        || r->method != NGX_HTTP_POST)
    {
        return;
    }

    api = ngx_http_capif_metrics_api(&r->uri);
    if (api == NGX_ERROR) {
        return;
    }

    if (status < NGX_HTTP_SPECIAL_RESPONSE) {
        result = CAPIF_METRICS_STORED;

    } else if (status >= NGX_HTTP_INTERNAL_SERVER_ERROR) {
        result = CAPIF_METRICS_UNAVAILABLE;

    } else {
        result = CAPIF_METRICS_REFUSED;
    }

    (void) ngx_atomic_fetch_add(ngx_http_capif_metrics_row()
                                + capif_metrics_revocation_slot(api, result),
                                1);
}


void
ngx_http_capif_metrics_entries(ngx_uint_t n)
{
    if (ngx_http_capif_metrics_sh) {
        ngx_http_capif_metrics_sh->entries = n;
    }
}


uint64_t
ngx_http_capif_metrics_clock(void)
{
    struct timespec  ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0;
    }

    return (uint64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}


static void
ngx_http_capif_metrics_observe(capif_metrics_hist_t hist, int alg,
    uint64_t start)
{
    size_t         slots[3];
    uint64_t       now, ns;
    ngx_atomic_t  *row;

    if (ngx_http_capif_metrics_sh == NULL || start == 0) {
        return;
    }

    now = ngx_http_capif_metrics_clock();
    ns = (now > start) ? now - start : 0;

    if (capif_metrics_observe_slots(hist, alg, ns, slots) != 0) {
        return;
    }

    row = ngx_http_capif_metrics_row();

    (void) ngx_atomic_fetch_add(row + slots[0], 1);
    (void) ngx_atomic_fetch_add(row + slots[1], 1);
    (void) ngx_atomic_fetch_add(row + slots[2], ns);
}


int
ngx_http_capif_metrics_fsync(int fd)
{
    int       rc;
    uint64_t  start;

    start = ngx_http_capif_metrics_clock();

    rc = fsync(fd);

    if (rc == 0) {
        ngx_http_capif_metrics_observe(CAPIF_METRICS_FSYNC, 0, start);
    }

    return rc;
}


void
ngx_http_capif_metrics_verify(int alg, uint64_t start)
{
    ngx_http_capif_metrics_observe(CAPIF_METRICS_VERIFY, alg, start);
}


static char *
ngx_http_capif_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler) {
        return "is duplicate or conflicts with another content handler";
    }

    clcf->handler = ngx_http_capif_metrics_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_capif_metrics_handler(ngx_http_request_t *r)
{
    size_t                        i, j, n, len;
    uint64_t                     *sum;
    ngx_str_t                     body;
    ngx_atomic_t                 *row;
    ngx_http_capif_metrics_sh_t  *sh;

    static ngx_str_t  type = ngx_string("text/plain; version=0.0.4; "
                                        "charset=utf-8");

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    sh = ngx_http_capif_metrics_sh;
    if (sh == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    n = capif_metrics_row_size();

    sum = ngx_pcalloc(r->pool, n * sizeof(uint64_t));
    if (sum == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < NGX_HTTP_CAPIF_METRICS_SLOTS; i++) {
        row = sh->rows + i * sh->stride;

        for (j = 0; j < n; j++) {
            sum[j] += row[j];
        }
    }

    len = capif_metrics_text_max();

    body.data = ngx_pnalloc(r->pool, len);
    if (body.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.len = capif_metrics_render((char *) body.data, len, sum,
                                    sh->entries);
    if (body.len == 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "capif_metrics: exposition larger than %uz bytes",
                      len);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_capif_send_body(r, NGX_HTTP_OK, &type, &body);
}

/*
 * Copyright (C) ngx_capif_module authors
 *
 * Revocation: the module, its directives and their configuration.  The
 * zone is ngx_http_capif_rev_zone.c (its entries ngx_http_capif_rev_tree.c),
 * storing and listing ngx_http_capif_rev_store.c, the check on the request
 * path ngx_http_capif_rev_check.c, the journal ngx_http_capif_journal.c,
 * matching rules capif_revocation.c, the CCF's API
 * ngx_http_capif_aef_security.c.
 */

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ngx_http_capif.h"
#include "ngx_http_capif_revocation.h"
#include "ngx_http_capif_rev_zone.h"
#include "ngx_http_capif_rev_check.h"
#include "ngx_http_capif_aef_security.h"


static ngx_int_t ngx_http_capif_rev_postconf(ngx_conf_t *cf);
static void *ngx_http_capif_rev_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_capif_rev_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_capif_rev_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_capif_rev_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_capif_rev_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_capif_rev_journal(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_capif_rev_aef_security(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_capif_rev_ccf_cert(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


/* set when a location has capif_aef_security: needs zone and journal */
static ngx_uint_t  ngx_http_capif_rev_admin_used;


static ngx_command_t  ngx_http_capif_rev_commands[] = {

    { ngx_string("capif_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_capif_rev_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("capif_journal"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_capif_rev_journal,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("capif_token_max_lifetime"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_capif_rev_main_conf_t, max_lifetime),
      NULL },

    { ngx_string("capif_aef_security"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_capif_rev_aef_security,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("capif_ccf_certificate"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_capif_rev_ccf_cert,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("capif_admin_allow_plain_loopback"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_rev_loc_conf_t, allow_plain_loopback),
      NULL },

    { ngx_string("capif_api_id"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_rev_loc_conf_t, api_id),
      NULL },

    { ngx_string("capif_admin_body_max"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_rev_loc_conf_t, body_max),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_capif_rev_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_capif_rev_postconf,           /* postconfiguration */

    ngx_http_capif_rev_create_main_conf,   /* create main configuration */
    ngx_http_capif_rev_init_main_conf,     /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_capif_rev_create_loc_conf,    /* create location configuration */
    ngx_http_capif_rev_merge_loc_conf      /* merge location configuration */
};


ngx_module_t  ngx_http_capif_revocation_module = {
    NGX_MODULE_V1,
    &ngx_http_capif_rev_module_ctx,        /* module context */
    ngx_http_capif_rev_commands,           /* module directives */
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


/* directives */

static char *
ngx_http_capif_rev_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_capif_rev_main_conf_t  *rmcf = conf;

    u_char                     *p;
    ssize_t                     size;
    ngx_str_t                  *value, name, s;
    ngx_http_capif_rev_zone_t  *zone;

    if (rmcf->shm_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    p = (u_char *) ngx_strchr(value[1].data, ':');
    if (p == NULL || p == value[1].data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid capif_zone \"%V\": expected name:size",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data;
    name.len = p - value[1].data;

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);
    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid capif_zone size \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "capif_zone \"%V\" is too small", &value[1]);
        return NGX_CONF_ERROR;
    }

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_capif_rev_zone_t));
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    zone->journal.cycle = cf->cycle;

    rmcf->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                           &ngx_http_capif_revocation_module);
    if (rmcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (rmcf->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "capif_zone \"%V\" is already defined", &name);
        return NGX_CONF_ERROR;
    }

    rmcf->shm_zone->init = ngx_http_capif_rev_init_zone;
    rmcf->shm_zone->data = zone;

    return NGX_CONF_OK;
}


static char *
ngx_http_capif_rev_journal(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_capif_rev_main_conf_t  *rmcf = conf;

    ngx_str_t  *value;
#if (NGX_THREADS)
    ngx_str_t   name;
#endif

    if (rmcf->journal.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        return "has an empty path";
    }

    rmcf->journal = value[1];

    if (ngx_conf_full_name(cf->cycle, &rmcf->journal, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

#if (NGX_THREADS)

    /* appends and fsyncs run on this pool, off the event loop */
    ngx_str_set(&name, "default");

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "thread_pool=", 12) != 0
            || value[2].len == 12)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid capif_journal parameter \"%V\": "
                               "expected thread_pool=<name>", &value[2]);
            return NGX_CONF_ERROR;
        }

        name.data = value[2].data + 12;
        name.len = value[2].len - 12;
    }

    rmcf->thread_pool = ngx_thread_pool_add(cf, &name);
    if (rmcf->thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

#else

    return "requires nginx built with --with-threads: the journal's "
           "fsync must not block the event loop";

#endif
}


static char *
ngx_http_capif_rev_aef_security(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_capif_rev_loc_conf_t  *rlcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (rlcf->aef_security != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    rlcf->aef_security = 1;
    ngx_http_capif_rev_admin_used = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_capif_aef_security_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_capif_rev_ccf_cert(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_capif_rev_loc_conf_t  *rlcf = conf;

    int         len;
    BIO        *bio;
    X509       *x509, *ca;
    u_char     *p;
    ngx_str_t  *value, path;

    if (rlcf->ccf_cert.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    bio = BIO_new_file((char *) path.data, "r");
    if (bio == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "capif_ccf_certificate: cannot read \"%V\"",
                           &path);
        return NGX_CONF_ERROR;
    }

    x509 = PEM_read_bio_X509(bio, NULL, NULL, NULL);

    /* a leaf-plus-CA bundle: the leaf is the CCF, as capif_key_file does */
    if (x509 != NULL) {
        ca = PEM_read_bio_X509(bio, NULL, NULL, NULL);

        if (ca != NULL) {
            ngx_conf_log_error(NGX_LOG_NOTICE, cf, 0,
                               "capif_ccf_certificate: \"%V\" is a bundle; "
                               "only the first certificate, the leaf, is "
                               "used", &path);
            X509_free(ca);
        }
    }

    BIO_free(bio);
    ERR_clear_error();

    if (x509 == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "capif_ccf_certificate: \"%V\" holds no PEM "
                           "X.509 certificate", &path);
        return NGX_CONF_ERROR;
    }

    len = i2d_X509(x509, NULL);
    if (len <= 0) {
        X509_free(x509);
        return "cannot encode the certificate";
    }

    rlcf->ccf_cert.data = ngx_pnalloc(cf->pool, len);
    if (rlcf->ccf_cert.data == NULL) {
        X509_free(x509);
        return NGX_CONF_ERROR;
    }

    p = rlcf->ccf_cert.data;
    rlcf->ccf_cert.len = i2d_X509(x509, &p);
    X509_free(x509);

    if ((int) rlcf->ccf_cert.len != len) {
        return "cannot encode the certificate";
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_capif_rev_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_capif_rev_main_conf_t  *rmcf;

    rmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_capif_rev_main_conf_t));
    if (rmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     rmcf->shm_zone = NULL;
     *     rmcf->journal = { 0, NULL };
     */

    rmcf->max_lifetime = NGX_CONF_UNSET;

    ngx_http_capif_rev_admin_used = 0;

    return rmcf;
}


static char *
ngx_http_capif_rev_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_capif_rev_main_conf_t  *rmcf = conf;

    ngx_http_capif_rev_zone_t  *zone;

    if (rmcf->max_lifetime == NGX_CONF_UNSET) {
        rmcf->max_lifetime = rmcf->shm_zone
                             ? NGX_HTTP_CAPIF_REV_DEFAULT_LIFETIME : 0;

    } else if (rmcf->max_lifetime <= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "capif_token_max_lifetime must be positive");
        return NGX_CONF_ERROR;
    }

    if (rmcf->journal.data && rmcf->shm_zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "capif_journal requires capif_zone");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_capif_rev_admin_used
        && (rmcf->shm_zone == NULL || rmcf->journal.data == NULL))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "capif_aef_security requires capif_zone and "
                           "capif_journal in the http block");
        return NGX_CONF_ERROR;
    }

    if (rmcf->shm_zone) {
        zone = rmcf->shm_zone->data;
        zone->journal.path = rmcf->journal;
        zone->max_lifetime = rmcf->max_lifetime;
#if (NGX_THREADS)
        zone->thread_pool = rmcf->thread_pool;
#endif
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_capif_rev_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_capif_rev_loc_conf_t  *rlcf;

    rlcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_capif_rev_loc_conf_t));
    if (rlcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     rlcf->ccf_cert = { 0, NULL };
     *     rlcf->api_id = { 0, NULL };
     */

    rlcf->aef_security = NGX_CONF_UNSET;
    rlcf->allow_plain_loopback = NGX_CONF_UNSET;
    rlcf->body_max = NGX_CONF_UNSET_SIZE;

    return rlcf;
}


static char *
ngx_http_capif_rev_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_capif_rev_loc_conf_t  *prev = parent;
    ngx_http_capif_rev_loc_conf_t  *conf = child;

    if (conf->ccf_cert.data == NULL) {
        conf->ccf_cert = prev->ccf_cert;
    }

    ngx_conf_merge_value(conf->allow_plain_loopback,
                         prev->allow_plain_loopback, 0);
    ngx_conf_merge_str_value(conf->api_id, prev->api_id, "");
    ngx_conf_merge_size_value(conf->body_max, prev->body_max, 64 * 1024);

    if (conf->aef_security == 1 && conf->ccf_cert.data == NULL
        && !conf->allow_plain_loopback)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "capif_aef_security needs capif_ccf_certificate "
                           "(or capif_admin_allow_plain_loopback on)");
        return NGX_CONF_ERROR;
    }

    if (conf->api_id.len > CAPIF_REV_FIELD_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "capif_api_id is too long");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_capif_rev_postconf(ngx_conf_t *cf)
{
    ngx_http_capif_revocation_check = ngx_http_capif_rev_check;

    return NGX_OK;
}

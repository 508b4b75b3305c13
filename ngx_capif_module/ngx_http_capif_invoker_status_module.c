/*
 * Copyright (C) ngx_capif_module authors
 *
 * capif_invoker_status: asks the CCF whether an invoker is still
 * authorized (TS 29.222 Obtain_API_Invoker_Info), once its token verified
 * and every other check passed.  The reference CCF revokes by deleting
 * the invoker's security context and tells no AEF; this is how the
 * gateway learns of it.
 *
 * Answers are cached in the shared zone "capif_status" per invoker, AEF
 * and API for ttl.  A warm entry decides at once and, once ttl has passed,
 * one call starts a background refresh.  A cold invoker's calls wait for
 * one fetch: one of them holds the fetch lease, the others poll the zone.
 *
 * This file: the directive, $capif_invoker_status_uri and the module;
 * the parts are in ngx_http_capif_invoker_status_{check,fetch,zone}.c.
 */

#include "ngx_http_capif_status.h"
#include "ngx_http_capif_revocation.h"


static ngx_int_t ngx_http_capif_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static char *ngx_http_capif_invoker_status(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_capif_status_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_capif_status_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_capif_status_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_capif_status_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_capif_status_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);


static ngx_command_t  ngx_http_capif_status_commands[] = {

    { ngx_string("capif_invoker_status"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_capif_invoker_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_capif_status_module_ctx = {
    ngx_http_capif_status_preconfiguration,  /* preconfiguration */
    ngx_http_capif_status_postconfiguration, /* postconfiguration */

    ngx_http_capif_status_create_main_conf,  /* create main configuration */
    NULL,                                    /* init main configuration */

    NULL,                                    /* create server configuration */
    NULL,                                    /* merge server configuration */

    ngx_http_capif_status_create_loc_conf,   /* create location configuration */
    ngx_http_capif_status_merge_loc_conf     /* merge location configuration */
};


ngx_module_t  ngx_http_capif_invoker_status_module = {
    NGX_MODULE_V1,
    &ngx_http_capif_status_module_ctx,     /* module context */
    ngx_http_capif_status_commands,        /* module directives */
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


static ngx_int_t
ngx_http_capif_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_capif_status_ctx_t  *sctx;

    sctx = ngx_http_get_module_ctx(r, ngx_http_capif_invoker_status_module);

    if (sctx == NULL || sctx->path.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = sctx->path.data;
    v->len = sctx->path.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


/* capif_invoker_status <uri> [ttl=] [max_stale=] [fail=closed|open]; */
static char *
ngx_http_capif_invoker_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_capif_status_loc_conf_t *slcf = conf;

    ngx_str_t                          *value, s;
    ngx_uint_t                          i;
    ngx_http_capif_status_main_conf_t  *smcf;

    if (slcf->uri.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts > 5) {
        return "takes at most 4 parameters";
    }

    if (value[1].len < 2 || value[1].data[0] != '/'
        || ngx_strlchr(value[1].data, value[1].data + value[1].len, '?'))
    {
        return "needs a URI that starts with \"/\", without arguments";
    }

    slcf->uri = value[1];

    /* "/" is added before the invoker id */
    if (slcf->uri.data[slcf->uri.len - 1] == '/') {
        slcf->uri.len--;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "ttl=", 4) == 0) {
            s.data = value[i].data + 4;
            s.len = value[i].len - 4;
            slcf->ttl = ngx_parse_time(&s, 1);

            if (slcf->ttl == (time_t) NGX_ERROR || slcf->ttl < 1) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "max_stale=", 10) == 0) {
            s.data = value[i].data + 10;
            s.len = value[i].len - 10;
            slcf->max_stale = ngx_parse_time(&s, 1);

            if (slcf->max_stale == (time_t) NGX_ERROR) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strcmp(value[i].data, "fail=closed") == 0) {
            slcf->fail_open = 0;
            continue;
        }

        if (ngx_strcmp(value[i].data, "fail=open") == 0) {
            slcf->fail_open = 1;
            continue;
        }

        goto invalid;
    }

    smcf = ngx_http_conf_get_module_main_conf(cf,
                                        ngx_http_capif_invoker_status_module);
    smcf->used = 1;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in capif_invoker_status",
                       &value[i]);
    return NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_capif_status_preconfiguration(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var;

    static ngx_str_t  name = ngx_string("capif_invoker_status_uri");

    var = ngx_http_add_variable(cf, &name, NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_capif_status_variable;

    return NGX_OK;
}


static ngx_int_t
ngx_http_capif_status_postconfiguration(ngx_conf_t *cf)
{
    ngx_uint_t                          i;
    ngx_http_capif_status_use_t        *use;
    ngx_http_capif_status_main_conf_t  *smcf;

    static ngx_str_t  name = ngx_string("capif_status");

    smcf = ngx_http_conf_get_module_main_conf(cf,
                                        ngx_http_capif_invoker_status_module);

    if (!smcf->used) {
        return NGX_OK;
    }

    /* every merge is done: capif_api_id is known where the check runs */
    use = smcf->uses.elts;

    for (i = 0; i < smcf->uses.nelts; i++) {
        if (use[i].api_id->len == 0) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "capif_invoker_status in location \"%V\" needs "
                          "capif_api_id: the CCF lists authorizations per "
                          "AEF and API", &use[i].name);
            return NGX_ERROR;
        }
    }

    smcf->shm_zone = ngx_shared_memory_add(cf, &name,
                                        NGX_HTTP_CAPIF_STATUS_ZONE_SIZE,
                                        &ngx_http_capif_invoker_status_module);
    if (smcf->shm_zone == NULL) {
        return NGX_ERROR;
    }

    smcf->shm_zone->init = ngx_http_capif_status_init_zone;
    smcf->shm_zone->data = smcf;

    return NGX_OK;
}


static void *
ngx_http_capif_status_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_capif_status_main_conf_t  *smcf;

    smcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_capif_status_main_conf_t));
    if (smcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&smcf->uses, cf->pool, 4,
                       sizeof(ngx_http_capif_status_use_t))
        != NGX_OK)
    {
        return NULL;
    }

    return smcf;
}


static void *
ngx_http_capif_status_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_capif_status_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_capif_status_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->uri = { 0, NULL };
     */

    conf->ttl = NGX_CONF_UNSET;
    conf->max_stale = NGX_CONF_UNSET;
    conf->fail_open = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_capif_status_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_capif_status_loc_conf_t *prev = parent;
    ngx_http_capif_status_loc_conf_t *conf = child;

    ngx_str_t                           probe;
    ngx_http_capif_loc_conf_t          *lcf;
    ngx_http_core_loc_conf_t           *clcf;
    ngx_http_capif_status_use_t        *use;
    ngx_http_capif_rev_loc_conf_t      *rlcf;
    ngx_http_capif_status_main_conf_t  *smcf;

    if (conf->uri.data == NULL) {
        conf->uri = prev->uri;
    }

    ngx_conf_merge_sec_value(conf->ttl, prev->ttl, 30);
    ngx_conf_merge_sec_value(conf->max_stale, prev->max_stale, 300);
    ngx_conf_merge_value(conf->fail_open, prev->fail_open, 0);

    if (conf->uri.len == 0) {
        return NGX_CONF_OK;
    }

    lcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_capif_module);
    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    /* where calls are decided: a protected location */
    if (lcf->enable != 1 || clcf->name.len == 0) {
        return NGX_CONF_OK;
    }

    /* checked once every module has merged its part */
    smcf = ngx_http_conf_get_module_main_conf(cf,
                                        ngx_http_capif_invoker_status_module);
    rlcf = ngx_http_conf_get_module_loc_conf(cf,
                                             ngx_http_capif_revocation_module);

    use = ngx_array_push(&smcf->uses);
    if (use == NULL) {
        return NGX_CONF_ERROR;
    }

    use->name = clcf->name;
    use->api_id = &rlcf->api_id;

    /* the location that serves <uri>/<apiInvokerId> */
    probe.len = conf->uri.len + 1;
    probe.data = ngx_pnalloc(cf->pool, probe.len);
    if (probe.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(probe.data, conf->uri.data, conf->uri.len);
    probe.data[conf->uri.len] = '/';

    return ngx_http_capif_ccf_check_uri(cf, &probe,
                                        NGX_HTTP_CAPIF_STATUS_MAX_BODY,
                                        "capif_invoker_status");
}

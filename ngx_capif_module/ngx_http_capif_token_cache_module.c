/*
 * Copyright (C) ngx_capif_module authors
 *
 * capif_token_cache <entries> | off: each worker keeps the tokens it has
 * verified (capif_token_cache.c), so that a token used again skips the
 * parsing and the signature check.  Per worker: no lock, no shared memory.
 * $capif_token_cache says HIT or MISS.
 */

#include "ngx_http_capif.h"
#include "ngx_http_capif_token_cache.h"


#define NGX_HTTP_CAPIF_TOKEN_CACHE_DEFAULT  10000


typedef struct {
    ngx_int_t             entries;         /* 0: off */
} ngx_http_capif_token_cache_main_conf_t;


/* what $capif_token_cache reports */
typedef struct {
    unsigned              hit:1;
} ngx_http_capif_token_cache_ctx_t;


static ngx_int_t ngx_http_capif_token_cache_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_capif_token_cache_add_variables(ngx_conf_t *cf);
static void *ngx_http_capif_token_cache_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_capif_token_cache_init_main_conf(ngx_conf_t *cf,
    void *conf);
static char *ngx_http_capif_token_cache_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_capif_token_cache_init_process(ngx_cycle_t *cycle);
static void ngx_http_capif_token_cache_exit_process(ngx_cycle_t *cycle);


/* this worker's cache; NULL in the master and when off */
static capif_token_cache_t  *ngx_http_capif_token_cache_instance;


static ngx_command_t  ngx_http_capif_token_cache_commands[] = {

    { ngx_string("capif_token_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_capif_token_cache_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_capif_token_cache_module_ctx = {
    ngx_http_capif_token_cache_add_variables, /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_capif_token_cache_create_main_conf, /* create main conf */
    ngx_http_capif_token_cache_init_main_conf, /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_capif_token_cache_module = {
    NGX_MODULE_V1,
    &ngx_http_capif_token_cache_module_ctx, /* module context */
    ngx_http_capif_token_cache_commands,   /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_capif_token_cache_init_process, /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_capif_token_cache_exit_process, /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_capif_token_cache_name =
    ngx_string("capif_token_cache");


ngx_int_t
ngx_http_capif_token_cache_verify(ngx_http_request_t *r, capif_token_t *tok,
    const capif_keyset_t *ks, ngx_str_t *token, u_char *scratch,
    const capif_claims_conf_t *conf, capif_error_t *err)
{
    int                                rc;
    ngx_http_capif_token_cache_ctx_t  *ctx;

    rc = capif_token_verify_cached(tok, ngx_http_capif_token_cache_instance,
                                   ks, token->data, token->len, scratch,
                                   conf, ngx_time(), err);

    if (ngx_http_capif_token_cache_instance == NULL) {
        return rc;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_capif_token_cache_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_capif_token_cache_ctx_t));
        if (ctx == NULL) {
            /* only the variable would miss it: the decision stands */
            return rc;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_capif_token_cache_module);
    }

    ctx->hit = tok->cached;

    return rc;
}


/* HIT or MISS once a token was checked here; not found if the cache is off */
static ngx_int_t
ngx_http_capif_token_cache_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_capif_token_cache_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_capif_token_cache_module);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    if (ctx->hit) {
        v->data = (u_char *) "HIT";
        v->len = sizeof("HIT") - 1;

    } else {
        v->data = (u_char *) "MISS";
        v->len = sizeof("MISS") - 1;
    }

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_capif_token_cache_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var;

    var = ngx_http_add_variable(cf, &ngx_http_capif_token_cache_name,
                                NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_capif_token_cache_variable;

    return NGX_OK;
}


static void *
ngx_http_capif_token_cache_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_capif_token_cache_main_conf_t  *tcf;

    tcf = ngx_pcalloc(cf->pool,
                      sizeof(ngx_http_capif_token_cache_main_conf_t));
    if (tcf == NULL) {
        return NULL;
    }

    tcf->entries = NGX_CONF_UNSET;

    return tcf;
}


static char *
ngx_http_capif_token_cache_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_capif_token_cache_main_conf_t  *tcf = conf;

    ngx_conf_init_value(tcf->entries, NGX_HTTP_CAPIF_TOKEN_CACHE_DEFAULT);

    return NGX_CONF_OK;
}


/* capif_token_cache <entries> | off; */
static char *
ngx_http_capif_token_cache_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_capif_token_cache_main_conf_t  *tcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (tcf->entries != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0) {
        tcf->entries = 0;
        return NGX_CONF_OK;
    }

    n = ngx_atoi(value[1].data, value[1].len);

    if (n == NGX_ERROR || n < 1 || n > CAPIF_TC_MAX_ENTRIES) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"capif_token_cache\", "
                           "it must be \"off\" or a number of entries "
                           "from 1 to %d", &value[1],
                           (int) CAPIF_TC_MAX_ENTRIES);
        return NGX_CONF_ERROR;
    }

    tcf->entries = n;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_capif_token_cache_init_process(ngx_cycle_t *cycle)
{
    ngx_http_capif_main_conf_t              *cmcf;
    ngx_http_capif_token_cache_main_conf_t  *tcf;

    cmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_capif_module);
    tcf = ngx_http_cycle_get_module_main_conf(cycle,
                                          ngx_http_capif_token_cache_module);

    /* no http block, no "capif on" anywhere, or off */
    if (cmcf == NULL || tcf == NULL || !cmcf->used || tcf->entries == 0) {
        return NGX_OK;
    }

    ngx_http_capif_token_cache_instance =
                          capif_token_cache_create((size_t) tcf->entries);

    if (ngx_http_capif_token_cache_instance == NULL) {
        /* every call is verified in full: slower, never less safe */
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "capif_token_cache: cannot create a cache of %i "
                      "entries, tokens are verified on every call",
                      tcf->entries);
    }

    return NGX_OK;
}


static void
ngx_http_capif_token_cache_exit_process(ngx_cycle_t *cycle)
{
    capif_token_cache_destroy(ngx_http_capif_token_cache_instance);
    ngx_http_capif_token_cache_instance = NULL;
}

/*
 * Copyright (C) ngx_capif_module authors
 *
 * Key issue 2, open discovery: the guard in front of the CCF's
 * CAPIF_Open_Discover_Service_API.  Directives, the access-phase check of
 * method, query and requestor tier, and $capif_discovery_tier.  The
 * CCF's answer is filtered by ngx_http_capif_open_discovery_filter_module.
 *
 * This file: the directives, their checks and the module; the guard is
 * ngx_http_capif_open_discovery_{access,tier}.c.
 */

#include "ngx_http_capif.h"
#include "ngx_http_capif_revocation.h"
#include "ngx_http_capif_open_discovery.h"


static void *ngx_http_capif_od_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_capif_od_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_capif_od_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_capif_od_enable(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_capif_od_fields(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_capif_od_apis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_capif_od_check_scope(ngx_conf_t *cf, void *post,
    void *data);
static ngx_int_t ngx_http_capif_od_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_capif_od_init(ngx_conf_t *cf);


static ngx_conf_post_handler_pt  ngx_http_capif_od_scope_post =
    ngx_http_capif_od_check_scope;


static ngx_command_t  ngx_http_capif_od_commands[] = {

    { ngx_string("capif_open_discovery"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_http_capif_od_enable,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_od_loc_conf_t, enable),
      NULL },

    { ngx_string("capif_open_discovery_fields"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_capif_od_fields,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("capif_open_discovery_apis"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_capif_od_apis,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("capif_open_discovery_scope"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_od_loc_conf_t, scope),
      &ngx_http_capif_od_scope_post },

    { ngx_string("capif_open_discovery_max_query"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_od_loc_conf_t, max_query),
      NULL },

    { ngx_string("capif_open_discovery_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_od_loc_conf_t, max_size),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_capif_od_module_ctx = {
    ngx_http_capif_od_preconfiguration,    /* preconfiguration */
    ngx_http_capif_od_init,                /* postconfiguration */

    ngx_http_capif_od_create_main_conf,    /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_capif_od_create_loc_conf,     /* create location configuration */
    ngx_http_capif_od_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_capif_open_discovery_module = {
    NGX_MODULE_V1,
    &ngx_http_capif_od_module_ctx,         /* module context */
    ngx_http_capif_od_commands,            /* module directives */
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


static void *
ngx_http_capif_od_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_capif_od_main_conf_t  *mcf;

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_capif_od_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&mcf->sites, cf->pool, 4,
                       sizeof(ngx_http_capif_od_site_t))
        != NGX_OK)
    {
        return NULL;
    }

    mcf->verify_index = NGX_ERROR;
    mcf->dn_index = NGX_ERROR;

    return mcf;
}


static void *
ngx_http_capif_od_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_capif_od_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_capif_od_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->fields[] = NULL;
     *     conf->apis = NULL;
     *     conf->scope = { 0, NULL };
     */

    conf->enable = NGX_CONF_UNSET;
    conf->max_query = NGX_CONF_UNSET_SIZE;
    conf->max_size = NGX_CONF_UNSET_SIZE;

    return conf;
}


static char *
ngx_http_capif_od_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_capif_od_loc_conf_t *prev = parent;
    ngx_http_capif_od_loc_conf_t *conf = child;

    ngx_uint_t  i;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_str_value(conf->scope, prev->scope, "open-discovery");
    ngx_conf_merge_size_value(conf->max_query, prev->max_query, 2048);
    ngx_conf_merge_size_value(conf->max_size, prev->max_size, 1024 * 1024);

    if (conf->apis == NULL) {
        conf->apis = prev->apis;
    }

    for (i = 1; i < 3; i++) {
        if (conf->fields[i] == NULL) {
            conf->fields[i] = prev->fields[i];
        }
    }

    if (conf->fields[NGX_HTTP_CAPIF_OD_ANONYMOUS] == NULL) {
        conf->fields[NGX_HTTP_CAPIF_OD_ANONYMOUS] =
                   (capif_od_fields_t *) &capif_od_anonymous_default;
    }

    if (conf->fields[NGX_HTTP_CAPIF_OD_AUTHORIZED] == NULL) {
        conf->fields[NGX_HTTP_CAPIF_OD_AUTHORIZED] =
                   (capif_od_fields_t *) &capif_od_authorized_default;
    }

    if (conf->max_size == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "capif_open_discovery_max_size must not be 0");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_capif_od_enable(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_capif_od_loc_conf_t *odcf = conf;

    char                           *rv;
    ngx_http_capif_od_site_t       *site;
    ngx_http_capif_od_main_conf_t  *mcf;

    rv = ngx_conf_set_flag_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK || !odcf->enable) {
        return rv;
    }

    mcf = ngx_http_conf_get_module_main_conf(cf,
                                        ngx_http_capif_open_discovery_module);

    site = ngx_array_push(&mcf->sites);
    if (site == NULL) {
        return NGX_CONF_ERROR;
    }

    site->odcf = odcf;
    site->ccf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_capif_module);
    site->rcf = ngx_http_conf_get_module_loc_conf(cf,
                                            ngx_http_capif_revocation_module);
    site->cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_core_module);
    site->file = cf->conf_file->file.name;
    site->line = cf->conf_file->line;

    return NGX_CONF_OK;
}


/* capif_open_discovery_fields anonymous | authorized <path> ... | none */
static char *
ngx_http_capif_od_fields(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_capif_od_loc_conf_t *odcf = conf;

    ngx_str_t          *value;
    ngx_uint_t          i, tier;
    capif_od_fields_t  *f;

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "anonymous") == 0) {
        tier = NGX_HTTP_CAPIF_OD_ANONYMOUS;

    } else if (ngx_strcmp(value[1].data, "authorized") == 0) {
        tier = NGX_HTTP_CAPIF_OD_AUTHORIZED;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid tier \"%V\" in capif_open_discovery_fields"
                           ", it must be \"anonymous\" or \"authorized\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (odcf->fields[tier] != NULL) {
        return "is duplicate for this tier";
    }

    f = ngx_pcalloc(cf->pool, sizeof(capif_od_fields_t));
    if (f == NULL) {
        return NGX_CONF_ERROR;
    }

    f->paths = ngx_pcalloc(cf->pool, sizeof(char *) * cf->args->nelts);
    if (f->paths == NULL) {
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 3 && ngx_strcmp(value[2].data, "none") == 0) {
        odcf->fields[tier] = f;
        return NGX_CONF_OK;
    }

    for (i = 2; i < cf->args->nelts; i++) {
        if (!capif_od_path_valid((const char *) value[i].data)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "capif_open_discovery_fields: \"%V\" is not "
                               "a member of OpenDiscoveryResp (TS 29.222)",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        f->paths[f->npaths++] = (const char *) value[i].data;
    }

    odcf->fields[tier] = f;

    return NGX_CONF_OK;
}


static void
ngx_http_capif_od_apis_cleanup(void *data)
{
    capif_od_apis_free(data);
}


/* capif_open_discovery_apis <file>; the dissemination list, JSON */
static char *
ngx_http_capif_od_apis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_capif_od_loc_conf_t *odcf = conf;

    char                 errbuf[256];
    u_char              *buf;
    ssize_t              n;
    ngx_fd_t             fd;
    ngx_str_t           *value, path;
    ngx_file_info_t      fi;
    ngx_pool_cleanup_t  *cln;

    if (odcf->apis != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "capif_open_discovery_apis: cannot open \"%V\"",
                           &path);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > 16 * 1024 * 1024)
    {
        ngx_close_file(fd);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "capif_open_discovery_apis: \"%V\" is unreadable "
                           "or larger than 16m", &path);
        return NGX_CONF_ERROR;
    }

    buf = ngx_pnalloc(cf->temp_pool, ngx_file_size(&fi) + 1);
    if (buf == NULL) {
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_fd(fd, buf, ngx_file_size(&fi) + 1);
    ngx_close_file(fd);

    if (n != ngx_file_size(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "capif_open_discovery_apis: short read of \"%V\"",
                           &path);
        return NGX_CONF_ERROR;
    }

    odcf->apis = ngx_pcalloc(cf->pool, sizeof(capif_od_apis_t));
    cln = ngx_pool_cleanup_add(cf->pool, 0);

    if (odcf->apis == NULL || cln == NULL) {
        return NGX_CONF_ERROR;
    }

    if (capif_od_apis_load(odcf->apis, (const char *) buf, n, errbuf,
                           sizeof(errbuf))
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "capif_open_discovery_apis: \"%V\": %s", &path,
                           errbuf);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_capif_od_apis_cleanup;
    cln->data = odcf->apis;

    return NGX_CONF_OK;
}


static char *
ngx_http_capif_od_check_scope(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *scope = data;

    ngx_uint_t  i;

    if (scope->len == 0) {
        return "must not be empty";
    }

    for (i = 0; i < scope->len; i++) {
        if (scope->data[i] <= 0x20 || scope->data[i] >= 0x7f) {
            return "must be one scope entry: printable ASCII without spaces";
        }
    }

    return NGX_CONF_OK;
}


static ngx_http_variable_t  ngx_http_capif_od_vars[] = {

    { ngx_string("capif_discovery_tier"), NULL,
      ngx_http_capif_od_tier_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_int_t
ngx_http_capif_od_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_capif_register_variables(cf, ngx_http_capif_od_vars);
}


/* 1 if the server has a "listen ... ssl" */
static ngx_uint_t
ngx_http_capif_od_server_tls(ngx_conf_t *cf, ngx_http_core_srv_conf_t *cscf)
{
#if (NGX_HTTP_SSL)
    ngx_uint_t                  p, a, s;
    ngx_http_conf_port_t       *port;
    ngx_http_conf_addr_t       *addr;
    ngx_http_core_srv_conf_t  **servers;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    if (cmcf->ports == NULL) {
        return 0;
    }

    port = cmcf->ports->elts;

    for (p = 0; p < cmcf->ports->nelts; p++) {
        addr = port[p].addrs.elts;

        for (a = 0; a < port[p].addrs.nelts; a++) {
            if (!addr[a].opt.ssl) {
                continue;
            }

            servers = addr[a].servers.elts;

            for (s = 0; s < addr[a].servers.nelts; s++) {
                if (servers[s] == cscf) {
                    return 1;
                }
            }
        }
    }
#endif

    return 0;
}


static ngx_int_t
ngx_http_capif_od_init(ngx_conf_t *cf)
{
    ngx_str_t                       verify = ngx_string("ssl_client_verify");
    ngx_str_t                       dn = ngx_string("ssl_client_s_dn");
    ngx_uint_t                      i;
    ngx_http_capif_loc_conf_t      *ccf;
    ngx_http_capif_rev_loc_conf_t  *rcf;
    ngx_http_handler_pt            *h;
    ngx_http_core_main_conf_t      *cmcf;
    ngx_http_capif_od_site_t       *site;
    ngx_http_capif_od_main_conf_t  *mcf;

    mcf = ngx_http_conf_get_module_main_conf(cf,
                                        ngx_http_capif_open_discovery_module);

    /* every value is merged by now */
    site = mcf->sites.elts;

    for (i = 0; i < mcf->sites.nelts; i++) {

        rcf = site[i].rcf;
        ccf = site[i].ccf;

        if (!rcf->allow_plain_loopback
            && !ngx_http_capif_od_server_tls(cf, site[i].cscf))
        {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"capif_open_discovery\" in %V:%ui needs a server "
                          "that listens with TLS (\"listen ... ssl\"), or "
                          "capif_admin_allow_plain_loopback on",
                          &site[i].file, site[i].line);
            return NGX_ERROR;
        }

        if (site[i].odcf->apis == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"capif_open_discovery\" in %V:%ui needs "
                          "capif_open_discovery_apis (the dissemination list)",
                          &site[i].file, site[i].line);
            return NGX_ERROR;
        }

        if (ccf->enable == 1) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"capif_open_discovery\" in %V:%ui cannot share "
                          "its location with \"capif on\"",
                          &site[i].file, site[i].line);
            return NGX_ERROR;
        }
    }

    if (mcf->sites.nelts == 0) {
        return NGX_OK;
    }

#if (NGX_HTTP_SSL)
    mcf->verify_index = ngx_http_get_variable_index(cf, &verify);
    mcf->dn_index = ngx_http_get_variable_index(cf, &dn);

    if (mcf->verify_index == NGX_ERROR || mcf->dn_index == NGX_ERROR) {
        return NGX_ERROR;
    }
#else
    (void) verify;
    (void) dn;
#endif

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_capif_od_handler;

    return NGX_OK;
}

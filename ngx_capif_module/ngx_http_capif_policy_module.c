/*
 * Copyright (C) ngx_capif_module authors
 *
 * The authorization policy after a verified token: resource owner (RNAA),
 * group access of UE-hosted invokers (KI#1) and purpose (KI#3).  The
 * decision itself is capif_policy_decide(); this file reads the
 * directives, evaluates the request's values and exports the result.
 */

#include "ngx_http_capif.h"
#include "capif_gpsi.h"
#include "capif_groups.h"
#include "capif_policy.h"


typedef struct {
    capif_groups_t            *groups;     /* NULL: no capif_groups */
} ngx_http_capif_policy_main_conf_t;


typedef struct {
    ngx_http_complex_value_t  *resource_owner;
    ngx_str_t                  owner_claim;
    ngx_str_t                  group_claim;
    ngx_str_t                  invoker_ue_claim;
    ngx_str_t                  members_claim;  /* len 0: off */
    ngx_array_t               *purposes;       /* of capif_str_t */
    ngx_http_complex_value_t  *purpose_from;
    ngx_str_t                  purpose_claim;
} ngx_http_capif_policy_loc_conf_t;


/* what ngx_http_capif_ctx_t has no field for */
typedef struct {
    capif_owner_via_t          via;
} ngx_http_capif_policy_ctx_t;


static ngx_int_t ngx_http_capif_policy_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_capif_policy_init(ngx_conf_t *cf);
static void *ngx_http_capif_policy_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_capif_policy_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_capif_policy_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_capif_policy_value(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_capif_policy_claim(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_capif_policy_groups(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_capif_policy_purpose(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_capif_policy_check_handler(ngx_http_request_t *r,
    ngx_http_capif_ctx_t *ctx, capif_error_t *err);


static ngx_command_t  ngx_http_capif_policy_commands[] = {

    { ngx_string("capif_resource_owner"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_capif_policy_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_policy_loc_conf_t, resource_owner),
      NULL },

    { ngx_string("capif_owner_claim"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_capif_policy_claim,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_policy_loc_conf_t, owner_claim),
      NULL },

    { ngx_string("capif_group_claim"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_capif_policy_claim,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_policy_loc_conf_t, group_claim),
      NULL },

    { ngx_string("capif_invoker_ue_claim"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_capif_policy_claim,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_policy_loc_conf_t, invoker_ue_claim),
      NULL },

    /* "off" is accepted here only: it disables the token member list */
    { ngx_string("capif_group_members_claim"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_capif_policy_claim,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_policy_loc_conf_t, members_claim),
      (void *) 1 },

    { ngx_string("capif_groups"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_capif_policy_groups,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("capif_purpose"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_capif_policy_purpose,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("capif_purpose_from"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_capif_policy_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_policy_loc_conf_t, purpose_from),
      NULL },

    { ngx_string("capif_purpose_claim"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_capif_policy_claim,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_capif_policy_loc_conf_t, purpose_claim),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_capif_policy_module_ctx = {
    ngx_http_capif_policy_add_variables,   /* preconfiguration */
    ngx_http_capif_policy_init,            /* postconfiguration */

    ngx_http_capif_policy_create_main_conf, /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_capif_policy_create_loc_conf, /* create location configuration */
    ngx_http_capif_policy_merge_loc_conf   /* merge location configuration */
};


ngx_module_t  ngx_http_capif_policy_module = {
    NGX_MODULE_V1,
    &ngx_http_capif_policy_module_ctx,     /* module context */
    ngx_http_capif_policy_commands,        /* module directives */
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


static ngx_int_t ngx_http_capif_policy_via_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_capif_policy_vars[] = {

    { ngx_string("capif_owner_via"), NULL,
      ngx_http_capif_policy_via_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_str_t  ngx_http_capif_policy_via_names[] = {
    ngx_null_string,
    ngx_string("claim"),
    ngx_string("group")
};


/* the main module's ctx, but only once every check has passed */
static ngx_http_capif_ctx_t *
ngx_http_capif_policy_allowed(ngx_http_request_t *r)
{
    ngx_http_capif_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_capif_module);

    if (ctx == NULL || !ctx->allowed) {
        return NULL;
    }

    return ctx;
}


static ngx_int_t
ngx_http_capif_policy_via_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                    *s;
    ngx_http_capif_policy_ctx_t  *pctx;

    pctx = ngx_http_get_module_ctx(r, ngx_http_capif_policy_module);

    if (pctx == NULL || pctx->via == CAPIF_OWNER_VIA_NONE
        || ngx_http_capif_policy_allowed(r) == NULL)
    {
        v->not_found = 1;
        return NGX_OK;
    }

    s = &ngx_http_capif_policy_via_names[pctx->via];

    v->data = s->data;
    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_capif_policy_add_variables(ngx_conf_t *cf)
{
    return ngx_http_capif_register_variables(cf,
                                             ngx_http_capif_policy_vars);
}


static ngx_int_t
ngx_http_capif_policy_init(ngx_conf_t *cf)
{
    ngx_http_capif_policy_check = ngx_http_capif_policy_check_handler;

    return NGX_OK;
}


static void *
ngx_http_capif_policy_create_main_conf(ngx_conf_t *cf)
{
    return ngx_pcalloc(cf->pool, sizeof(ngx_http_capif_policy_main_conf_t));
}


static void *
ngx_http_capif_policy_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_capif_policy_loc_conf_t  *conf;

    /* the ngx_str_t claim names are { 0, NULL } until set */
    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_capif_policy_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->resource_owner = NGX_CONF_UNSET_PTR;
    conf->purposes = NGX_CONF_UNSET_PTR;
    conf->purpose_from = NGX_CONF_UNSET_PTR;

    return conf;
}


static char *
ngx_http_capif_policy_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_capif_policy_loc_conf_t  *prev = parent;
    ngx_http_capif_policy_loc_conf_t  *conf = child;

    ngx_conf_merge_ptr_value(conf->resource_owner, prev->resource_owner,
                             NULL);
    ngx_conf_merge_ptr_value(conf->purposes, prev->purposes, NULL);
    ngx_conf_merge_ptr_value(conf->purpose_from, prev->purpose_from, NULL);

    /* the defaults are literals: NUL-terminated, as jansson wants */
    ngx_conf_merge_str_value(conf->owner_claim, prev->owner_claim,
                             "resOwnerId");
    ngx_conf_merge_str_value(conf->group_claim, prev->group_claim,
                             "externalGroupId");
    ngx_conf_merge_str_value(conf->invoker_ue_claim, prev->invoker_ue_claim,
                             "invokerGpsi");
    ngx_conf_merge_str_value(conf->members_claim, prev->members_claim, "");
    ngx_conf_merge_str_value(conf->purpose_claim, prev->purpose_claim,
                             "purpose");

    if (conf->purpose_from != NULL && conf->purposes == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"capif_purpose_from\" needs \"capif_purpose\" "
                           "to list the purposes the location serves");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* a complex value that must not be empty as written */
static char *
ngx_http_capif_policy_value(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t  *value;

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs a non-empty value", &cmd->name);
        return NGX_CONF_ERROR;
    }

    return ngx_http_set_complex_value_slot(cf, cmd, conf);
}


static char *
ngx_http_capif_policy_claim(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t   *field, *value;
    ngx_uint_t   i;

    field = (ngx_str_t *) (p + cmd->offset);
    value = cf->args->elts;

    if (field->data != NULL) {
        return "is duplicate";
    }

    /* the members claim's "off" is kept as "": the merge default */
    if (cmd->post != NULL && ngx_strcmp(value[1].data, "off") == 0) {
        field->data = (u_char *) "";
        field->len = 0;
        return NGX_CONF_OK;
    }

    if (value[1].len == 0 || value[1].len > 64) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs a claim name of 1 to 64 bytes",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < value[1].len; i++) {
        if (value[1].data[i] <= 0x20 || value[1].data[i] >= 0x7f) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": invalid claim name \"%V\"",
                               &cmd->name, &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    /* configuration tokens are NUL-terminated */
    *field = value[1];

    return NGX_CONF_OK;
}


static void
ngx_http_capif_policy_groups_cleanup(void *data)
{
    capif_groups_free(data);
}


static char *
ngx_http_capif_policy_groups(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_capif_policy_main_conf_t *pmcf = conf;

    char                 errbuf[512];
    ngx_str_t           *value, path;
    capif_groups_t      *reg;
    ngx_pool_cleanup_t  *cln;

    if (pmcf->groups != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    path = value[1];

    if (path.len == 0) {
        return "needs a file name";
    }

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* the cleanup is added first, so that it owns the registry at once */
    cln = ngx_pool_cleanup_add(cf->pool, sizeof(capif_groups_t));
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    reg = cln->data;
    ngx_memzero(reg, sizeof(capif_groups_t));
    cln->handler = ngx_http_capif_policy_groups_cleanup;

    if (capif_groups_load_file(reg, (const char *) path.data, errbuf,
                               sizeof(errbuf))
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"capif_groups\": \"%V\": %s", &path, errbuf);
        return NGX_CONF_ERROR;
    }

    ngx_conf_log_error(NGX_LOG_DEBUG, cf, 0,
                       "capif_groups: %uz groups, %uz members",
                       reg->ngroups, reg->nmembers);

    pmcf->groups = reg;

    return NGX_CONF_OK;
}


static char *
ngx_http_capif_policy_purpose(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_capif_policy_loc_conf_t *plcf = conf;

    ngx_str_t    *value;
    ngx_uint_t    i, j;
    capif_str_t  *p, *all;

    if (plcf->purposes != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    plcf->purposes = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                      sizeof(capif_str_t));
    if (plcf->purposes == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        if (!capif_purpose_valid(value[i].data, value[i].len)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"capif_purpose\": invalid purpose \"%V\": "
                               "1 to 256 printable ASCII bytes, no spaces",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        all = plcf->purposes->elts;

        for (j = 0; j < plcf->purposes->nelts; j++) {
            if (all[j].len == value[i].len
                && ngx_memcmp(all[j].data, value[i].data, value[i].len) == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"capif_purpose\": \"%V\" is listed "
                                   "twice", &value[i]);
                return NGX_CONF_ERROR;
            }
        }

        p = ngx_array_push(plcf->purposes);
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        p->data = value[i].data;
        p->len = value[i].len;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_capif_policy_copy(ngx_http_request_t *r, ngx_str_t *dst,
    capif_str_t *src)
{
    if (src->len == 0) {
        ngx_str_null(dst);
        return NGX_OK;
    }

    dst->data = ngx_pnalloc(r->pool, src->len);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(dst->data, src->data, src->len);
    dst->len = src->len;

    return NGX_OK;
}


/* a bounded, printable copy of a value that may come from the client */
static u_char *
ngx_http_capif_policy_safe(u_char *buf, size_t size, const u_char *s,
    size_t len)
{
    size_t  i, n;

    for (i = 0, n = 0; i < len && n + 5 < size; i++) {
        if (s[i] > 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\') {
            buf[n++] = s[i];
        } else {
            n = ngx_sprintf(buf + n, "\\x%02xd", s[i]) - buf;
        }
    }

    if (i < len && n + 4 <= size) {
        ngx_memcpy(buf + n, "...", 3);
        n += 3;
    }

    buf[n] = '\0';

    return buf;
}


static void
ngx_http_capif_policy_log_refusal(ngx_http_request_t *r,
    ngx_http_capif_ctx_t *ctx, capif_policy_result_t *res,
    const capif_error_t *err)
{
    u_char  inv[100], own[100], grp[100], ue[100], pur[100];

    if (r->connection->log->log_level < NGX_LOG_INFO) {
        return;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "capif policy: refused, cause %s: invoker \"%s\" "
                  "owner \"%s\" group \"%s\" invoker_ue \"%s\" "
                  "purpose \"%s\"",
                  err->cause,
                  ngx_http_capif_policy_safe(inv, sizeof(inv),
                                             ctx->invoker_id.data,
                                             ctx->invoker_id.len),
                  ngx_http_capif_policy_safe(own, sizeof(own),
                                             res->owner.data,
                                             res->owner.len),
                  ngx_http_capif_policy_safe(grp, sizeof(grp),
                                             res->group_id.data,
                                             res->group_id.len),
                  ngx_http_capif_policy_safe(ue, sizeof(ue),
                                             res->invoker_ue.data,
                                             res->invoker_ue.len),
                  ngx_http_capif_policy_safe(pur, sizeof(pur),
                                             res->purpose.data,
                                             res->purpose.len));
}


static ngx_int_t
ngx_http_capif_policy_check_handler(ngx_http_request_t *r,
    ngx_http_capif_ctx_t *ctx, capif_error_t *err)
{
    ngx_str_t                           owner, purpose;
    capif_policy_t                      pol;
    capif_policy_req_t                  req;
    capif_policy_result_t               res;
    ngx_http_capif_policy_ctx_t        *pctx;
    ngx_http_capif_policy_loc_conf_t   *plcf;
    ngx_http_capif_policy_main_conf_t  *pmcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_capif_policy_module);

    if (plcf->resource_owner == NULL && plcf->purposes == NULL) {
        return NGX_OK;
    }

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_capif_policy_module);

    ngx_memzero(&pol, sizeof(capif_policy_t));
    ngx_memzero(&req, sizeof(capif_policy_req_t));

    pol.owner_claim = (const char *) plcf->owner_claim.data;
    pol.group_claim = (const char *) plcf->group_claim.data;
    pol.invoker_ue_claim = (const char *) plcf->invoker_ue_claim.data;
    pol.members_claim = plcf->members_claim.len
                        ? (const char *) plcf->members_claim.data : NULL;
    pol.purpose_claim = (const char *) plcf->purpose_claim.data;
    pol.groups = pmcf->groups;

    if (plcf->resource_owner) {
        if (ngx_http_complex_value(r, plcf->resource_owner, &owner)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        pol.owner_required = 1;
        req.owner.data = owner.data;
        req.owner.len = owner.len;
    }

    if (plcf->purposes) {
        pol.purposes = plcf->purposes->elts;
        pol.npurposes = plcf->purposes->nelts;
    }

    if (plcf->purpose_from) {
        if (ngx_http_complex_value(r, plcf->purpose_from, &purpose)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        pol.purpose_from = 1;
        req.purpose.data = purpose.data;
        req.purpose.len = purpose.len;
    }

    if (capif_policy_decide(&pol, &req, ctx->token.jws.payload, &res, err)
        != 0)
    {
        ngx_http_capif_policy_log_refusal(r, ctx, &res, err);
        return NGX_DECLINED;
    }

    /* copies: the claims' JSON is freed by a cleanup of its own */
    if (ngx_http_capif_policy_copy(r, &ctx->resource_owner, &res.owner)
        != NGX_OK
        || ngx_http_capif_policy_copy(r, &ctx->group_id, &res.group_id)
           != NGX_OK
        || ngx_http_capif_policy_copy(r, &ctx->invoker_ue, &res.invoker_ue)
           != NGX_OK
        || ngx_http_capif_policy_copy(r, &ctx->purpose, &res.purpose)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    pctx = ngx_http_get_module_ctx(r, ngx_http_capif_policy_module);

    if (pctx == NULL) {
        pctx = ngx_pcalloc(r->pool, sizeof(ngx_http_capif_policy_ctx_t));
        if (pctx == NULL) {
            return NGX_ERROR;
        }

        ngx_http_set_ctx(r, pctx, ngx_http_capif_policy_module);
    }

    pctx->via = res.via;

    return NGX_OK;
}

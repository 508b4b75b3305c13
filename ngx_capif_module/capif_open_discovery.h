/*
 * Copyright (C) ngx_capif_module authors
 *
 * Key issue 2, open discovery (TS 23.222 clause 8.38): the checks on
 * GET {apiRoot}/open-api-disc/v1/service-apis and the filter on the CCF's
 * OpenDiscoveryResp.  The query parameters and the schema follow
 * TS 29.222 V19.5.0 (Rel-19), TS29222_CAPIF_Open_Discover_Service_API.yaml
 * version 1.0.0, with Version, Resource, CustomOperation, AefLocation,
 * ServiceKpis and ApiStatus from TS29222_CAPIF_Publish_Service_API.yaml
 * 1.4.0 and ResOperInfo from TS29222_CAPIF_Discover_Service_API.yaml.
 */

#ifndef CAPIF_OPEN_DISCOVERY_H
#define CAPIF_OPEN_DISCOVERY_H

#include <stddef.h>
#include <jansson.h>


/* the longest dotted path the schema defines, with room to spare */
#define CAPIF_OD_PATH_MAX  128


/* a query refusal: the parameter at fault and why */
typedef struct {
    const char           *name;      /* as received, not NUL-terminated */
    size_t                name_len;
    const char           *reason;    /* static */
} capif_od_query_err_t;


/* what one tier may see: dotted paths into OpenDiscoveryResp */
typedef struct {
    const char          **paths;     /* each NUL-terminated */
    size_t                npaths;
} capif_od_fields_t;


/* the dissemination list (TS 23.222 Annex E) */
typedef struct {
    json_t               *names;     /* object used as a set of apiName */
    json_t               *ids;       /* object used as a set of apiId */
} capif_od_apis_t;


/*
 * Checks a raw query string (without '?') against the operation's
 * parameters: each known at most once, its value of the right type and
 * within its length limit.  Returns 0, or -1 with *err set.
 */
int capif_od_query_check(const char *query, size_t len,
    capif_od_query_err_t *err);

/* 1 if path is a member the schema defines, as "a.b.c" */
int capif_od_path_valid(const char *path);

/* the default fields of each tier */
extern const capif_od_fields_t  capif_od_anonymous_default;
extern const capif_od_fields_t  capif_od_authorized_default;

/*
 * Loads the dissemination list: {"apiNames": [...], "apiIds": [...]},
 * both optional, strings only.  Returns 0, or -1 with errbuf filled.
 * Release with capif_od_apis_free().
 */
int capif_od_apis_load(capif_od_apis_t *apis, const char *buf, size_t len,
    char *errbuf, size_t errlen);
void capif_od_apis_free(capif_od_apis_t *apis);

/*
 * Filters a 200 body: parses it strictly, keeps the APIs of the
 * dissemination list and, of them, the members the schema defines and
 * fields allows.  On success *out is malloc()ed JSON (free()), 0 is
 * returned.  On failure -1 and *why (static).
 */
int capif_od_filter(const char *body, size_t len,
    const capif_od_fields_t *fields, const capif_od_apis_t *apis,
    char **out, size_t *outlen, const char **why);

/* reduces a ProblemDetails to status, title and cause; as above */
int capif_od_reduce_problem(const char *body, size_t len, char **out,
    size_t *outlen, const char **why);

/*
 * A ProblemDetails body, malloc()ed; param (may be NULL) gives an
 * invalidParams entry.  Bytes that are not printable ASCII in param are
 * replaced.  NULL on allocation failure.
 */
char *capif_od_problem(int status, const char *title, const char *cause,
    const char *detail, const char *param, size_t param_len,
    const char *reason, size_t *outlen);

/* 1 if the space-separated scope holds the entry want */
int capif_od_scope_has(const char *scope, size_t len, const char *want,
    size_t wlen);


#endif /* CAPIF_OPEN_DISCOVERY_H */

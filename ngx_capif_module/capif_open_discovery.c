/*
 * Copyright (C) ngx_capif_module authors
 *
 * Open discovery: the request's query parameters and the CCF's
 * OpenDiscoveryResp, both untrusted.  See capif_open_discovery.h for the
 * release of TS 29.222 the tables below follow.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capif_open_discovery.h"


/* ------------------------------------------------------------------ query */


#define CAPIF_OD_VALUE_MAX   1024    /* the longest decoded value */
#define CAPIF_OD_ITEMS_MAX   32      /* items of a comma list */
#define CAPIF_OD_ITEM_MAX    128     /* bytes of one list item */
#define CAPIF_OD_JSON_STR    256     /* bytes of a string inside JSON */


typedef enum {
    CAPIF_OD_P_IDS = 0,        /* comma list of identifiers */
    CAPIF_OD_P_TOKENS,         /* comma list of enumeration values */
    CAPIF_OD_P_TEXTS,          /* comma list of free text */
    CAPIF_OD_P_TOKEN,          /* one enumeration value */
    CAPIF_OD_P_HEX,            /* SupportedFeatures */
    CAPIF_OD_P_VERSIONS,       /* JSON map apiName -> [version] */
    CAPIF_OD_P_FEATURES,       /* JSON map apiName -> SupportedFeatures */
    CAPIF_OD_P_AEF_LOC,        /* JSON AefLocation */
    CAPIF_OD_P_KPIS,           /* JSON ServiceKpis */
    CAPIF_OD_P_RES_OPS         /* JSON array of ResOperInfo */
} capif_od_ptype_t;


typedef struct {
    const char           *name;
    capif_od_ptype_t      type;
    size_t                max;          /* decoded bytes */
    int                   needs_names;  /* only with api-names */
} capif_od_param_t;


/* the operation's own list (TS 29.222 clause 8.11.2.2.3.1) */
static const capif_od_param_t  capif_od_params[] = {
    { "api-names", CAPIF_OD_P_IDS, 1024, 0 },
    { "api-versions", CAPIF_OD_P_VERSIONS, 1024, 0 },
    { "comm-type", CAPIF_OD_P_TOKEN, 32, 0 },
    { "protocols", CAPIF_OD_P_TOKENS, 128, 0 },
    { "data-format", CAPIF_OD_P_TOKEN, 32, 0 },
    { "api-cats", CAPIF_OD_P_TEXTS, 1024, 0 },
    { "preferred-aef-loc", CAPIF_OD_P_AEF_LOC, 1024, 0 },
    { "api-prov-names", CAPIF_OD_P_TEXTS, 1024, 0 },
    { "api-supported-features", CAPIF_OD_P_FEATURES, 1024, 1 },
    { "api-ids", CAPIF_OD_P_IDS, 1024, 0 },
    { "service-kpis", CAPIF_OD_P_KPIS, 512, 0 },
    { "res-ops", CAPIF_OD_P_RES_OPS, 1024, 1 },
    { "supported-features", CAPIF_OD_P_HEX, 64, 0 }
};

#define CAPIF_OD_NPARAMS  (sizeof(capif_od_params) / sizeof(capif_od_params[0]))


static int
capif_od_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


/* percent-decodes (and '+' as space) into out; -1 if malformed or long */
static int
capif_od_decode(const char *in, size_t len, char *out, size_t max,
    size_t *outlen, const char **why)
{
    int            hi, lo;
    size_t         i, n;
    unsigned char  c;

    n = 0;

    for (i = 0; i < len; i++) {
        c = (unsigned char) in[i];

        if (c == '%') {
            if (len - i < 3) {
                *why = "bad percent-encoding";
                return -1;
            }

            hi = capif_od_hexval((unsigned char) in[i + 1]);
            lo = capif_od_hexval((unsigned char) in[i + 2]);

            if (hi < 0 || lo < 0) {
                *why = "bad percent-encoding";
                return -1;
            }

            c = (unsigned char) (hi << 4 | lo);
            i += 2;

        } else if (c == '+') {
            c = ' ';
        }

        if (c < 0x20 || c == 0x7f) {
            *why = "control character";
            return -1;
        }

        if (n == max) {
            *why = "too long";
            return -1;
        }

        out[n++] = (char) c;
    }

    *outlen = n;

    return 0;
}


static int
capif_od_is_id(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
           || c == '~' || c == ':';
}


static int
capif_od_is_token(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '_';
}


/* printable ASCII or well-formed UTF-8 beyond it; no commas */
static int
capif_od_text_ok(const unsigned char *p, size_t len)
{
    size_t  i, k, need;

    for (i = 0; i < len; i++) {

        if (p[i] < 0x80) {
            if (p[i] < 0x20 || p[i] == 0x7f || p[i] == ',') {
                return 0;
            }
            continue;
        }

        if (p[i] >= 0xc2 && p[i] <= 0xdf) {
            need = 1;

        } else if (p[i] >= 0xe0 && p[i] <= 0xef) {
            need = 2;

        } else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
            need = 3;

        } else {
            return 0;
        }

        if (len - i - 1 < need) {
            return 0;
        }

        for (k = 1; k <= need; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return 0;
            }
        }

        /* overlongs and surrogates */
        if ((p[i] == 0xe0 && p[i + 1] < 0xa0)
            || (p[i] == 0xed && p[i + 1] >= 0xa0)
            || (p[i] == 0xf0 && p[i + 1] < 0x90)
            || (p[i] == 0xf4 && p[i + 1] >= 0x90))
        {
            return 0;
        }

        i += need;
    }

    return 1;
}


static int
capif_od_all(const char *p, size_t len, int (*ok)(unsigned char))
{
    size_t  i;

    if (len == 0) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!ok((unsigned char) p[i])) {
            return 0;
        }
    }

    return 1;
}


static int
capif_od_is_hex(unsigned char c)
{
    return capif_od_hexval(c) >= 0;
}


static int
capif_od_list(const char *v, size_t len, capif_od_ptype_t type,
    const char **why)
{
    size_t       n, ilen;
    const char  *p, *end, *comma;

    p = v;
    end = v + len;
    n = 0;

    for ( ;; ) {
        comma = memchr(p, ',', end - p);
        ilen = (comma ? comma : end) - p;

        if (ilen == 0) {
            *why = "empty list item";
            return -1;
        }

        if (ilen > CAPIF_OD_ITEM_MAX) {
            *why = "list item too long";
            return -1;
        }

        if (++n > CAPIF_OD_ITEMS_MAX) {
            *why = "too many list items";
            return -1;
        }

        switch (type) {

        case CAPIF_OD_P_IDS:
            if (!capif_od_all(p, ilen, capif_od_is_id)) {
                *why = "not an identifier";
                return -1;
            }
            break;

        case CAPIF_OD_P_TOKENS:
            if (!capif_od_all(p, ilen, capif_od_is_token)) {
                *why = "not an enumeration value";
                return -1;
            }
            break;

        default: /* CAPIF_OD_P_TEXTS */
            if (!capif_od_text_ok((const unsigned char *) p, ilen)) {
                *why = "not printable text";
                return -1;
            }
            break;
        }

        if (comma == NULL) {
            return 0;
        }

        p = comma + 1;
    }
}


/* jansson has checked UTF-8: refuse empty strings and control bytes */
static int
capif_od_json_text(const char *p, size_t len)
{
    size_t  i;

    if (len == 0) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if ((unsigned char) p[i] < 0x20 || p[i] == 0x7f) {
            return 0;
        }
    }

    return 1;
}


static int
capif_od_json_str(json_t *v, int (*ok)(unsigned char))
{
    if (!json_is_string(v) || json_string_length(v) > CAPIF_OD_JSON_STR) {
        return 0;
    }

    if (ok == NULL) {
        return capif_od_json_text(json_string_value(v),
                                  json_string_length(v));
    }

    return capif_od_all(json_string_value(v), json_string_length(v), ok);
}


/* an array (minItems 1) of strings */
static int
capif_od_json_strs(json_t *v, int (*ok)(unsigned char))
{
    size_t   i;
    json_t  *e;

    if (!json_is_array(v) || json_array_size(v) == 0
        || json_array_size(v) > CAPIF_OD_ITEMS_MAX)
    {
        return 0;
    }

    json_array_foreach(v, i, e) {
        if (!capif_od_json_str(e, ok)) {
            return 0;
        }
    }

    return 1;
}


static int
capif_od_json_uint(json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) >= 0;
}


static int
capif_od_check_json(json_t *j, capif_od_ptype_t type)
{
    size_t       i;
    json_t      *v, *e;
    const char  *k;

    switch (type) {

    case CAPIF_OD_P_VERSIONS:
    case CAPIF_OD_P_FEATURES:
        if (!json_is_object(j) || json_object_size(j) == 0) {
            return 0;
        }

        json_object_foreach(j, k, v) {
            if (!capif_od_all(k, strlen(k), capif_od_is_id)) {
                return 0;
            }

            if (type == CAPIF_OD_P_VERSIONS
                ? !capif_od_json_strs(v, capif_od_is_id)
                : !capif_od_json_str(v, capif_od_is_hex))
            {
                return 0;
            }
        }

        return 1;

    case CAPIF_OD_P_AEF_LOC:
        if (!json_is_object(j) || json_object_size(j) == 0) {
            return 0;
        }

        json_object_foreach(j, k, v) {
            if (strcmp(k, "civicAddr") == 0 || strcmp(k, "geoArea") == 0) {
                if (!json_is_object(v)) {
                    return 0;
                }

            } else if (strcmp(k, "dcId") == 0) {
                if (!capif_od_json_str(v, NULL)) {
                    return 0;
                }

            } else {
                return 0;
            }
        }

        return 1;

    case CAPIF_OD_P_KPIS:
        if (!json_is_object(j) || json_object_size(j) == 0) {
            return 0;
        }

        json_object_foreach(j, k, v) {
            if (strcmp(k, "maxReqRate") == 0 || strcmp(k, "maxRestime") == 0
                || strcmp(k, "availability") == 0
                || strcmp(k, "conBand") == 0)
            {
                if (!capif_od_json_uint(v)) {
                    return 0;
                }

            } else if (strcmp(k, "avalComp") == 0
                       || strcmp(k, "avalGraComp") == 0
                       || strcmp(k, "avalMem") == 0
                       || strcmp(k, "avalStor") == 0)
            {
                if (!capif_od_json_str(v, NULL)) {
                    return 0;
                }

            } else {
                return 0;
            }
        }

        return 1;

    default: /* CAPIF_OD_P_RES_OPS */
        if (!json_is_array(j) || json_array_size(j) == 0
            || json_array_size(j) > CAPIF_OD_ITEMS_MAX)
        {
            return 0;
        }

        json_array_foreach(j, i, e) {
            if (!json_is_object(e) || json_object_size(e) == 0) {
                return 0;
            }

            json_object_foreach(e, k, v) {
                if (strcmp(k, "resource") == 0) {
                    if (!capif_od_json_str(v, NULL)) {
                        return 0;
                    }

                } else if (strcmp(k, "operations") == 0) {
                    if (!capif_od_json_strs(v, capif_od_is_token)) {
                        return 0;
                    }

                } else if (strcmp(k, "customServOpers") == 0) {
                    if (!capif_od_json_strs(v, NULL)) {
                        return 0;
                    }

                } else {
                    return 0;
                }
            }
        }

        return 1;
    }
}


static int
capif_od_value(const capif_od_param_t *p, const char *v, size_t len,
    const char **why)
{
    int           ok;
    json_t       *j;
    json_error_t  jerr;

    switch (p->type) {

    case CAPIF_OD_P_IDS:
    case CAPIF_OD_P_TOKENS:
    case CAPIF_OD_P_TEXTS:
        return capif_od_list(v, len, p->type, why);

    case CAPIF_OD_P_TOKEN:
        if (!capif_od_all(v, len, capif_od_is_token)) {
            *why = "not an enumeration value";
            return -1;
        }
        return 0;

    case CAPIF_OD_P_HEX:
        if (!capif_od_all(v, len, capif_od_is_hex)) {
            *why = "not hexadecimal SupportedFeatures";
            return -1;
        }
        return 0;

    default:
        j = json_loadb(v, len, JSON_REJECT_DUPLICATES, &jerr);
        if (j == NULL) {
            *why = "not JSON";
            return -1;
        }

        ok = capif_od_check_json(j, p->type);
        json_decref(j);

        if (!ok) {
            *why = "JSON of the wrong shape";
            return -1;
        }

        return 0;
    }
}


int
capif_od_query_check(const char *query, size_t len,
    capif_od_query_err_t *err)
{
    char                     buf[CAPIF_OD_VALUE_MAX];
    size_t                   i, nlen, vlen, dlen;
    unsigned                 seen;
    const char              *p, *end, *amp, *eq, *why;
    const capif_od_param_t  *param;

    seen = 0;
    p = query;
    end = query + len;

    while (p < end) {
        amp = memchr(p, '&', end - p);
        if (amp == NULL) {
            amp = end;
        }

        if (amp == p) {
            p++;
            continue;
        }

        eq = memchr(p, '=', amp - p);
        nlen = (eq ? eq : amp) - p;

        err->name = p;
        err->name_len = nlen;

        param = NULL;

        for (i = 0; i < CAPIF_OD_NPARAMS; i++) {
            if (strlen(capif_od_params[i].name) == nlen
                && memcmp(capif_od_params[i].name, p, nlen) == 0)
            {
                param = &capif_od_params[i];
                break;
            }
        }

        if (param == NULL) {
            err->reason = "unknown query parameter";
            return -1;
        }

        if (seen & (1u << i)) {
            err->reason = "repeated query parameter";
            return -1;
        }

        seen |= 1u << i;

        if (eq == NULL || eq + 1 == amp) {
            err->reason = "empty value";
            return -1;
        }

        vlen = amp - (eq + 1);

        if (capif_od_decode(eq + 1, vlen, buf, param->max, &dlen, &why)
            != 0
            || capif_od_value(param, buf, dlen, &why) != 0)
        {
            err->reason = why;
            return -1;
        }

        p = amp;
    }

    /* api-supported-features and res-ops refine api-names */
    for (i = 0; i < CAPIF_OD_NPARAMS; i++) {
        if ((seen & (1u << i)) && capif_od_params[i].needs_names
            && !(seen & 1u))
        {
            err->name = capif_od_params[i].name;
            err->name_len = strlen(err->name);
            err->reason = "only allowed with api-names";
            return -1;
        }
    }

    return 0;
}


/* ----------------------------------------------------------------- schema */


typedef enum {
    CAPIF_OD_T_STRING = 0,
    CAPIF_OD_T_UINT,
    CAPIF_OD_T_STRINGS,        /* array of strings */
    CAPIF_OD_T_OBJECT,         /* object with the members listed */
    CAPIF_OD_T_OBJECTS,        /* array of such objects */
    CAPIF_OD_T_FOREIGN         /* an object another spec defines */
} capif_od_type_t;


typedef struct capif_od_def_s  capif_od_def_t;

struct capif_od_def_s {
    const char              *name;
    capif_od_type_t          type;
    const capif_od_def_t    *members;
};


/* TS29222_CAPIF_Publish_Service_API.yaml: CustomOperation */
static const capif_od_def_t  capif_od_cust_op[] = {
    { "commType", CAPIF_OD_T_STRING, NULL },
    { "custOpName", CAPIF_OD_T_STRING, NULL },
    { "operations", CAPIF_OD_T_STRINGS, NULL },
    { "description", CAPIF_OD_T_STRING, NULL },
    { NULL, 0, NULL }
};

/* Resource */
static const capif_od_def_t  capif_od_resource[] = {
    { "resourceName", CAPIF_OD_T_STRING, NULL },
    { "commType", CAPIF_OD_T_STRING, NULL },
    { "uri", CAPIF_OD_T_STRING, NULL },
    { "custOpName", CAPIF_OD_T_STRING, NULL },
    { "custOperations", CAPIF_OD_T_OBJECTS, capif_od_cust_op },
    { "operations", CAPIF_OD_T_STRINGS, NULL },
    { "description", CAPIF_OD_T_STRING, NULL },
    { NULL, 0, NULL }
};

/* Version */
static const capif_od_def_t  capif_od_version[] = {
    { "apiVersion", CAPIF_OD_T_STRING, NULL },
    { "expiry", CAPIF_OD_T_STRING, NULL },
    { "resources", CAPIF_OD_T_OBJECTS, capif_od_resource },
    { "custOperations", CAPIF_OD_T_OBJECTS, capif_od_cust_op },
    { NULL, 0, NULL }
};

/* AefLocation: civicAddr and geoArea are TS 29.572 types */
static const capif_od_def_t  capif_od_aef_loc[] = {
    { "civicAddr", CAPIF_OD_T_FOREIGN, NULL },
    { "geoArea", CAPIF_OD_T_FOREIGN, NULL },
    { "dcId", CAPIF_OD_T_STRING, NULL },
    { NULL, 0, NULL }
};

/* ServiceKpis */
static const capif_od_def_t  capif_od_kpis[] = {
    { "maxReqRate", CAPIF_OD_T_UINT, NULL },
    { "maxRestime", CAPIF_OD_T_UINT, NULL },
    { "availability", CAPIF_OD_T_UINT, NULL },
    { "avalComp", CAPIF_OD_T_STRING, NULL },
    { "avalGraComp", CAPIF_OD_T_STRING, NULL },
    { "avalMem", CAPIF_OD_T_STRING, NULL },
    { "avalStor", CAPIF_OD_T_STRING, NULL },
    { "conBand", CAPIF_OD_T_UINT, NULL },
    { NULL, 0, NULL }
};

/* OpenAefProfile: no interfaceDescriptions, no securityMethods */
static const capif_od_def_t  capif_od_aef_profile[] = {
    { "aefId", CAPIF_OD_T_STRING, NULL },
    { "versions", CAPIF_OD_T_OBJECTS, capif_od_version },
    { "protocol", CAPIF_OD_T_STRING, NULL },
    { "dataFormat", CAPIF_OD_T_STRING, NULL },
    { "aefLocation", CAPIF_OD_T_OBJECT, capif_od_aef_loc },
    { "serviceKpis", CAPIF_OD_T_OBJECT, capif_od_kpis },
    { NULL, 0, NULL }
};

/* ApiStatus */
static const capif_od_def_t  capif_od_api_status[] = {
    { "aefIds", CAPIF_OD_T_STRINGS, NULL },
    { NULL, 0, NULL }
};

/* OpenAPIDetails */
static const capif_od_def_t  capif_od_api_details[] = {
    { "apiName", CAPIF_OD_T_STRING, NULL },
    { "apiId", CAPIF_OD_T_STRING, NULL },
    { "apiStatus", CAPIF_OD_T_OBJECT, capif_od_api_status },
    { "description", CAPIF_OD_T_STRING, NULL },
    { "serviceAPICategory", CAPIF_OD_T_STRING, NULL },
    { "apiSuppFeats", CAPIF_OD_T_STRING, NULL },
    { "apiProvName", CAPIF_OD_T_STRING, NULL },
    { "aefProfiles", CAPIF_OD_T_OBJECTS, capif_od_aef_profile },
    { NULL, 0, NULL }
};

/* OpenDiscoveryResp */
static const capif_od_def_t  capif_od_resp[] = {
    { "discApis", CAPIF_OD_T_OBJECTS, capif_od_api_details },
    { "suppFeat", CAPIF_OD_T_STRING, NULL },
    { NULL, 0, NULL }
};


static const char  *capif_od_anonymous_paths[] = {
    "discApis.apiName",
    "discApis.apiId",
    "discApis.description",
    "discApis.serviceAPICategory"
};

static const char  *capif_od_authorized_paths[] = {
    "discApis",
    "suppFeat"
};

const capif_od_fields_t  capif_od_anonymous_default = {
    capif_od_anonymous_paths, 4
};

const capif_od_fields_t  capif_od_authorized_default = {
    capif_od_authorized_paths, 2
};


static const capif_od_def_t *
capif_od_member(const capif_od_def_t *members, const char *name, size_t len)
{
    const capif_od_def_t  *d;

    if (members == NULL) {
        return NULL;
    }

    for (d = members; d->name; d++) {
        if (strlen(d->name) == len && memcmp(d->name, name, len) == 0) {
            return d;
        }
    }

    return NULL;
}


int
capif_od_path_valid(const char *path)
{
    size_t                 len;
    const char            *p, *dot;
    const capif_od_def_t  *members, *d;

    if (strlen(path) >= CAPIF_OD_PATH_MAX) {
        return 0;
    }

    members = capif_od_resp;
    p = path;

    for ( ;; ) {
        dot = strchr(p, '.');
        len = dot ? (size_t) (dot - p) : strlen(p);

        d = capif_od_member(members, p, len);
        if (d == NULL) {
            return 0;
        }

        if (dot == NULL) {
            return 1;
        }

        members = d->members;
        p = dot + 1;
    }
}


/* 2: path lies inside an allowed path, 1: leads to one, 0: neither */
static int
capif_od_match(const capif_od_fields_t *f, const char *path, size_t plen)
{
    int          r;
    size_t       i, alen;
    const char  *a;

    r = 0;

    for (i = 0; i < f->npaths; i++) {
        a = f->paths[i];
        alen = strlen(a);

        if (alen <= plen && memcmp(a, path, alen) == 0
            && (alen == plen || path[alen] == '.'))
        {
            return 2;
        }

        if (alen > plen && memcmp(a, path, plen) == 0 && a[plen] == '.') {
            r = 1;
        }
    }

    return r;
}


#define CAPIF_OD_BAD  "not an OpenDiscoveryResp: a member has the wrong type"


static int capif_od_copy(const capif_od_def_t *d, json_t *in, char *path,
    size_t plen, int whole, const capif_od_fields_t *f, json_t **out,
    const char **why);


static int
capif_od_copy_object(const capif_od_def_t *members, json_t *in, char *path,
    size_t plen, int whole, const capif_od_fields_t *f, json_t **out,
    const char **why)
{
    int                    cls;
    size_t                 klen;
    json_t                *res, *v, *c;
    const char            *k;
    const capif_od_def_t  *d;

    *out = NULL;

    if (!json_is_object(in)) {
        *why = CAPIF_OD_BAD;
        return -1;
    }

    res = json_object();
    if (res == NULL) {
        *why = "out of memory";
        return -1;
    }

    json_object_foreach(in, k, v) {
        klen = strlen(k);

        /* a member the schema does not define never passes */
        d = capif_od_member(members, k, klen);
        if (d == NULL) {
            continue;
        }

        /* defined names are short: this always fits */
        path[plen] = '.';
        memcpy(path + plen + 1, k, klen + 1);

        cls = whole ? 2 : capif_od_match(f, path, plen + 1 + klen);

        if (cls == 0
            || (cls == 1 && d->type != CAPIF_OD_T_OBJECT
                && d->type != CAPIF_OD_T_OBJECTS))
        {
            path[plen] = '\0';
            continue;
        }

        if (capif_od_copy(d, v, path, plen + 1 + klen, cls == 2, f, &c, why)
            != 0)
        {
            path[plen] = '\0';
            json_decref(res);
            return -1;
        }

        path[plen] = '\0';

        if (c != NULL && json_object_set_new(res, k, c) != 0) {
            json_decref(res);
            *why = "out of memory";
            return -1;
        }
    }

    /* a selection that found nothing leaves nothing behind */
    if (!whole && json_object_size(res) == 0) {
        json_decref(res);
        return 0;
    }

    *out = res;

    return 0;
}


static int
capif_od_copy(const capif_od_def_t *d, json_t *in, char *path, size_t plen,
    int whole, const capif_od_fields_t *f, json_t **out, const char **why)
{
    size_t   i;
    json_t  *res, *e, *c;

    *out = NULL;

    switch (d->type) {

    case CAPIF_OD_T_STRING:
        if (!json_is_string(in)) {
            goto bad;
        }
        break;

    case CAPIF_OD_T_UINT:
        if (!json_is_integer(in) || json_integer_value(in) < 0) {
            goto bad;
        }
        break;

    case CAPIF_OD_T_FOREIGN:
        if (!json_is_object(in)) {
            goto bad;
        }
        break;

    case CAPIF_OD_T_STRINGS:
        if (!json_is_array(in)) {
            goto bad;
        }

        json_array_foreach(in, i, e) {
            if (!json_is_string(e)) {
                goto bad;
            }
        }
        break;

    case CAPIF_OD_T_OBJECT:
        return capif_od_copy_object(d->members, in, path, plen, whole, f,
                                    out, why);

    default: /* CAPIF_OD_T_OBJECTS */
        if (!json_is_array(in)) {
            goto bad;
        }

        res = json_array();
        if (res == NULL) {
            *why = "out of memory";
            return -1;
        }

        json_array_foreach(in, i, e) {
            if (capif_od_copy_object(d->members, e, path, plen, whole, f, &c,
                                     why)
                != 0)
            {
                json_decref(res);
                return -1;
            }

            if (c != NULL && json_array_append_new(res, c) != 0) {
                json_decref(res);
                *why = "out of memory";
                return -1;
            }
        }

        if (!whole && json_array_size(res) == 0) {
            json_decref(res);
            return 0;
        }

        *out = res;
        return 0;
    }

    /* leaves are immutable here: share them */
    *out = json_incref(in);

    return 0;

bad:

    *why = CAPIF_OD_BAD;

    return -1;
}


static int
capif_od_disseminated(const capif_od_apis_t *apis, json_t *api)
{
    json_t  *v;

    if (apis == NULL) {
        return 0;
    }

    v = json_object_get(api, "apiName");

    if (apis->names && json_is_string(v)
        && json_object_getn(apis->names, json_string_value(v),
                            json_string_length(v)))
    {
        return 1;
    }

    v = json_object_get(api, "apiId");

    if (apis->ids && json_is_string(v)
        && json_object_getn(apis->ids, json_string_value(v),
                            json_string_length(v)))
    {
        return 1;
    }

    return 0;
}


static int
capif_od_dump(json_t *res, char **out, size_t *outlen, const char **why)
{
    *out = json_dumps(res, JSON_COMPACT);
    json_decref(res);

    if (*out == NULL) {
        *why = "out of memory";
        return -1;
    }

    *outlen = strlen(*out);

    return 0;
}


int
capif_od_filter(const char *body, size_t len,
    const capif_od_fields_t *fields, const capif_od_apis_t *apis,
    char **out, size_t *outlen, const char **why)
{
    int            cls;
    char           path[CAPIF_OD_PATH_MAX + 64];
    size_t         i;
    json_t        *root, *res, *apis_in, *apis_out, *api, *c, *v;
    json_error_t   jerr;

    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        *why = "not JSON, or a member appears twice";
        return -1;
    }

    res = json_object();
    apis_out = json_array();

    if (res == NULL || apis_out == NULL) {
        json_decref(root);
        json_decref(res);
        json_decref(apis_out);
        *why = "out of memory";
        return -1;
    }

    /* set_new takes apis_out even when it fails */
    if (json_object_set_new(res, "discApis", apis_out) != 0) {
        json_decref(root);
        json_decref(res);
        *why = "out of memory";
        return -1;
    }

    apis_in = json_object_get(root, "discApis");

    if (!json_is_object(root) || !json_is_array(apis_in)) {
        *why = "not an OpenDiscoveryResp: no discApis array";
        goto failed;
    }

    memcpy(path, "discApis", sizeof("discApis"));
    cls = capif_od_match(fields, path, sizeof("discApis") - 1);

    json_array_foreach(apis_in, i, api) {

        if (!json_is_object(api)
            || !json_is_string(json_object_get(api, "apiName")))
        {
            *why = "not an OpenDiscoveryResp: an API without apiName";
            goto failed;
        }

        /* Annex E: only what the operator lets open discovery reveal */
        if (!capif_od_disseminated(apis, api) || cls == 0) {
            continue;
        }

        if (capif_od_copy_object(capif_od_api_details, api, path,
                                 sizeof("discApis") - 1, cls == 2, fields,
                                 &c, why)
            != 0)
        {
            goto failed;
        }

        if (c != NULL && json_array_append_new(apis_out, c) != 0) {
            *why = "out of memory";
            goto failed;
        }
    }

    v = json_object_get(root, "suppFeat");

    if (v != NULL) {
        if (!json_is_string(v)) {
            *why = CAPIF_OD_BAD;
            goto failed;
        }

        if (capif_od_match(fields, "suppFeat", sizeof("suppFeat") - 1) == 2
            && json_object_set(res, "suppFeat", v) != 0)
        {
            *why = "out of memory";
            goto failed;
        }
    }

    json_decref(root);

    return capif_od_dump(res, out, outlen, why);

failed:

    json_decref(root);
    json_decref(res);

    return -1;
}


int
capif_od_reduce_problem(const char *body, size_t len, char **out,
    size_t *outlen, const char **why)
{
    json_t        *root, *res, *v;
    json_error_t   jerr;

    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        *why = "error answer is not JSON, or a member appears twice";
        return -1;
    }

    if (!json_is_object(root)) {
        json_decref(root);
        *why = "error answer is not a ProblemDetails";
        return -1;
    }

    res = json_object();
    if (res == NULL) {
        json_decref(root);
        *why = "out of memory";
        return -1;
    }

    v = json_object_get(root, "status");
    if (v != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) < 100
            || json_integer_value(v) > 599)
        {
            goto bad;
        }

        if (json_object_set(res, "status", v) != 0) {
            goto nomem;
        }
    }

    v = json_object_get(root, "title");
    if (v != NULL) {
        if (!json_is_string(v) || json_string_length(v) > CAPIF_OD_JSON_STR)
        {
            goto bad;
        }

        if (json_object_set(res, "title", v) != 0) {
            goto nomem;
        }
    }

    v = json_object_get(root, "cause");
    if (v != NULL) {
        if (!json_is_string(v) || json_string_length(v) > CAPIF_OD_JSON_STR)
        {
            goto bad;
        }

        if (json_object_set(res, "cause", v) != 0) {
            goto nomem;
        }
    }

    json_decref(root);

    return capif_od_dump(res, out, outlen, why);

bad:

    *why = "error answer is not a ProblemDetails: a member has the wrong "
           "type or size";
    goto failed;

nomem:

    *why = "out of memory";

failed:

    json_decref(root);
    json_decref(res);

    return -1;
}


/* -------------------------------------------------- dissemination list */


static int
capif_od_apis_set(json_t *root, const char *key, json_t **set,
    char *errbuf, size_t errlen)
{
    size_t   i;
    json_t  *arr, *e;

    *set = NULL;

    arr = json_object_get(root, key);
    if (arr == NULL) {
        return 0;
    }

    if (!json_is_array(arr)) {
        snprintf(errbuf, errlen, "\"%s\" is not an array", key);
        return -1;
    }

    *set = json_object();
    if (*set == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }

    json_array_foreach(arr, i, e) {
        if (!json_is_string(e) || json_string_length(e) == 0) {
            snprintf(errbuf, errlen, "\"%s\" holds a value that is not a "
                     "non-empty string", key);
            return -1;
        }

        if (json_object_setn(*set, json_string_value(e),
                             json_string_length(e), json_true())
            != 0)
        {
            snprintf(errbuf, errlen, "\"%s\": a value could not be stored",
                     key);
            return -1;
        }
    }

    return 0;
}


int
capif_od_apis_load(capif_od_apis_t *apis, const char *buf, size_t len,
    char *errbuf, size_t errlen)
{
    json_t        *root, *v;
    const char    *k;
    json_error_t   jerr;

    apis->names = NULL;
    apis->ids = NULL;

    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        snprintf(errbuf, errlen, "line %d: %s", jerr.line, jerr.text);
        return -1;
    }

    if (!json_is_object(root)) {
        snprintf(errbuf, errlen, "not a JSON object");
        goto failed;
    }

    json_object_foreach(root, k, v) {
        if (strcmp(k, "apiNames") != 0 && strcmp(k, "apiIds") != 0) {
            snprintf(errbuf, errlen, "unknown member \"%.64s\" (only "
                     "\"apiNames\" and \"apiIds\")", k);
            goto failed;
        }
    }

    if (capif_od_apis_set(root, "apiNames", &apis->names, errbuf, errlen)
        != 0
        || capif_od_apis_set(root, "apiIds", &apis->ids, errbuf, errlen)
           != 0)
    {
        goto failed;
    }

    json_decref(root);

    return 0;

failed:

    json_decref(root);
    capif_od_apis_free(apis);

    return -1;
}


void
capif_od_apis_free(capif_od_apis_t *apis)
{
    json_decref(apis->names);
    json_decref(apis->ids);
    apis->names = NULL;
    apis->ids = NULL;
}


/* ---------------------------------------------------------------- misc */


char *
capif_od_problem(int status, const char *title, const char *cause,
    const char *detail, const char *param, size_t param_len,
    const char *reason, size_t *outlen)
{
    char    *s, name[65];
    size_t   i, n;
    json_t  *res, *ip;

    res = json_pack("{s:i, s:s, s:s, s:s}", "status", status, "title", title,
                    "cause", cause, "detail", detail);
    if (res == NULL) {
        return NULL;
    }

    if (param != NULL) {
        n = param_len < sizeof(name) - 1 ? param_len : sizeof(name) - 1;

        for (i = 0; i < n; i++) {
            name[i] = (param[i] >= 0x20 && param[i] < 0x7f) ? param[i] : '?';
        }

        name[n] = '\0';

        ip = json_pack("[{s:s, s:s}]", "param", name, "reason", reason);

        if (ip == NULL
            || json_object_set_new(res, "invalidParams", ip) != 0)
        {
            json_decref(res);
            return NULL;
        }
    }

    s = json_dumps(res, JSON_COMPACT);
    json_decref(res);

    if (s != NULL) {
        *outlen = strlen(s);
    }

    return s;
}


int
capif_od_scope_has(const char *scope, size_t len, const char *want,
    size_t wlen)
{
    size_t       n;
    const char  *p, *end, *sp;

    if (wlen == 0) {
        return 0;
    }

    p = scope;
    end = scope + len;

    while (p < end) {
        sp = memchr(p, ' ', end - p);
        n = (sp ? sp : end) - p;

        if (n == wlen && memcmp(p, want, wlen) == 0) {
            return 1;
        }

        if (sp == NULL) {
            break;
        }

        p = sp + 1;
    }

    return 0;
}

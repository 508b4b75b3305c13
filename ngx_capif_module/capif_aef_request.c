/*
 * Copyright (C) ngx_capif_module authors
 */

#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "capif_aef_request.h"
#include "capif_gpsi.h"
#include "capif_jws.h"


#define capif_aef_refuse(req, s, c, d)                                     \
    ((req)->status = (s), (req)->cause = (c), (req)->detail = (d), -1)

#define capif_aef_bad(req, c, d)  capif_aef_refuse(req, 400, c, d)

#define capif_aef_oom(req)                                                 \
    capif_aef_refuse(req, 500, "INTERNAL_ERROR", "out of memory")


/* how a member of revokeInfo is checked */
typedef enum {
    CAPIF_AEF_STRING = 0,       /* a record field */
    CAPIF_AEF_GPSI,             /* a string, or {"gpsi": ...} (Rel-19) */
    CAPIF_AEF_GROUP_ID,         /* an External Group ID */
    CAPIF_AEF_THUMB,            /* 43 base64url characters (x5t#S256) */
    CAPIF_AEF_SERIAL,           /* a hex serial number, made canonical */
    CAPIF_AEF_ISSUER            /* an RFC 4514 name, made canonical */
} capif_aef_kind_t;


/* a member one of a set of which is required: incorrect is mandatory */
#define CAPIF_AEF_ONE_OF  2


typedef struct {
    const char               *name;
    capif_aef_kind_t          kind;
    int                       required;     /* 0, 1 or CAPIF_AEF_ONE_OF */
    const char               *missing;
    const char               *incorrect;
} capif_aef_member_t;


/* a withdrawal of one record: its type and members for a, b, c */
typedef struct {
    capif_rev_type_t          type;
    capif_aef_member_t        member[3];
} capif_aef_single_t;


static const capif_aef_single_t  capif_aef_owner = {
    CAPIF_REV_OWNER, {
        { "apiInvokerId", CAPIF_AEF_STRING, 1,
          "\"apiInvokerId\" is missing",
          "\"apiInvokerId\" is not a valid string" },
        { "resOwnerId", CAPIF_AEF_GPSI, 1,
          "\"resOwnerId\" is missing",
          "\"resOwnerId\" is not a GPSI" },
        { "purpose", CAPIF_AEF_STRING, 0, NULL,
          "\"purpose\" is not a valid string" }
    }
};


static const capif_aef_single_t  capif_aef_group = {
    CAPIF_REV_GROUP, {
        { "groupId", CAPIF_AEF_GROUP_ID, 1,
          "\"groupId\" is missing",
          "\"groupId\" is not an External Group ID" },
        { "apiInvokerId", CAPIF_AEF_STRING, 0, NULL,
          "\"apiInvokerId\" is not a valid string" },
        { NULL, CAPIF_AEF_STRING, 0, NULL, NULL }
    }
};


/*
 * revoke-credential (this module's extension): the invoker's lost
 * certificate, by thumbprint, or by serial number and issuer, or both.
 */
static const capif_aef_member_t  capif_aef_credential[] = {
    { "apiInvokerId", CAPIF_AEF_STRING, 1,
      "\"apiInvokerId\" is missing",
      "\"apiInvokerId\" is not a valid string" },
    { "certSha256", CAPIF_AEF_THUMB, CAPIF_AEF_ONE_OF, NULL,
      "\"certSha256\" is not the 43 base64url characters of a SHA-256 "
      "thumbprint" },
    { "serialNumber", CAPIF_AEF_SERIAL, CAPIF_AEF_ONE_OF, NULL,
      "\"serialNumber\" is not a hexadecimal serial number of at most "
      "64 digits" },
    { "issuer", CAPIF_AEF_ISSUER, CAPIF_AEF_ONE_OF, NULL,
      "\"issuer\" is not an RFC 4514 distinguished name this gateway "
      "reads (see the README)" }
};

#define CAPIF_AEF_CRED_INVOKER  0
#define CAPIF_AEF_CRED_X5T      1
#define CAPIF_AEF_CRED_SERIAL   2
#define CAPIF_AEF_CRED_ISSUER   3
#define CAPIF_AEF_CRED_N        4


capif_aef_op_t
capif_aef_op(const unsigned char *uri, size_t len)
{
    size_t  i, n;

    static const struct {
        const char      *suffix;
        capif_aef_op_t   op;
    } ops[] = {
        { "/revoke-authorization", CAPIF_AEF_REVOKE },
        { "/revoke-owner-authorization", CAPIF_AEF_REVOKE_OWNER },
        { "/revoke-group-authorization", CAPIF_AEF_REVOKE_GROUP },
        { "/capif-events/notifications", CAPIF_AEF_EVENT },
        { "/revoke-credential", CAPIF_AEF_REVOKE_CREDENTIAL },
        { "/check-authentication", CAPIF_AEF_CHECK_AUTH }
    };

    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        n = strlen(ops[i].suffix);

        if (len >= n && memcmp(uri + len - n, ops[i].suffix, n) == 0) {
            return ops[i].op;
        }
    }

    return CAPIF_AEF_UNKNOWN;
}


int
capif_aef_media_json(const unsigned char *ct, size_t len)
{
    size_t                i;
    static const char     json[] = "application/json";

    while (len && (*ct == ' ' || *ct == '\t')) {
        ct++;
        len--;
    }

    if (len < sizeof(json) - 1) {
        return 0;
    }

    for (i = 0; i < sizeof(json) - 1; i++) {
        if ((ct[i] | 0x20) != json[i] && ct[i] != json[i]) {
            return 0;
        }
    }

    /* then the end, or parameters ("; charset=utf-8") */
    for ( /* void */ ; i < len; i++) {
        if (ct[i] == ';') {
            return 1;
        }

        if (ct[i] != ' ' && ct[i] != '\t') {
            return 0;
        }
    }

    return 1;
}


unsigned char *
capif_aef_body_append(unsigned char *dst, const unsigned char *src,
    size_t len)
{
    if (len == 0) {
        /* memcpy() with a NULL source is undefined even for 0 bytes */
        return dst;
    }

    memcpy(dst, src, len);

    return dst + len;
}


/*
 * A string member: 1 found and a valid record field, 0 absent, -1
 * present but not (not a string, empty, too long, control characters).
 */
static int
capif_aef_string(json_t *obj, const char *name, capif_rev_str_t *s)
{
    json_t  *v;

    v = json_object_get(obj, name);
    if (v == NULL) {
        return 0;
    }

    if (!json_is_string(v)) {
        return -1;
    }

    s->data = (const unsigned char *) json_string_value(v);
    s->len = json_string_length(v);

    return capif_rev_field_ok(s->data, s->len, 0) ? 1 : -1;
}


static int
capif_aef_member(capif_aef_request_t *req, json_t *info,
    const capif_aef_member_t *m, capif_rev_str_t *s)
{
    int      rc;
    json_t  *v;

    s->data = (const unsigned char *) "";
    s->len = 0;

    if (m->name == NULL) {
        return 0;
    }

    v = json_object_get(info, m->name);

    if (v == NULL) {
        return (m->required == 1)
               ? capif_aef_bad(req, "MANDATORY_IE_MISSING", m->missing)
               : 0;
    }

    if (m->kind == CAPIF_AEF_GPSI && json_is_object(v)) {
        v = json_object_get(v, "gpsi");
    }

    if (!json_is_string(v)) {
        rc = 0;

    } else {
        s->data = (const unsigned char *) json_string_value(v);
        s->len = json_string_length(v);

        switch (m->kind) {
        case CAPIF_AEF_GPSI:
            rc = capif_gpsi_valid(s->data, s->len);
            break;
        case CAPIF_AEF_GROUP_ID:
            rc = capif_extgroupid_valid(s->data, s->len);
            break;
        case CAPIF_AEF_THUMB:
            rc = capif_cred_thumb_valid(s->data, s->len);
            break;
        case CAPIF_AEF_SERIAL:
            s->len = capif_cred_serial_parse(s->data, s->len, req->serial);
            s->data = (const unsigned char *) req->serial;
            rc = (s->len != 0);
            break;
        case CAPIF_AEF_ISSUER:
            s->len = capif_cred_issuer_parse(s->data, s->len, req->issuer);
            s->data = req->issuer;
            rc = (s->len != 0);
            break;
        default:
            rc = capif_rev_field_ok(s->data, s->len, 0);
            break;
        }
    }

    if (!rc) {
        return capif_aef_bad(req, m->required ? "MANDATORY_IE_INCORRECT"
                                              : "OPTIONAL_IE_INCORRECT",
                             m->incorrect);
    }

    return 0;
}


static int
capif_aef_digits(const unsigned char *p, int n, int *out)
{
    int  i;

    *out = 0;

    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }

        *out = *out * 10 + (p[i] - '0');
    }

    return 0;
}


/*
 * A TS 29.571 DateTime (RFC 3339 date-time: "2027-03-01T12:00:00Z",
 * fractions and offsets allowed) as seconds since the epoch.  0 or -1.
 */
int
capif_aef_datetime(const unsigned char *s, size_t len, long long *out)
{
    int        y, mo, d, h, mi, sec, oh, om, sign;
    size_t     i;
    long long  days, yy, era, yoe, doy, doe;

    static const int  mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
                                  30, 31 };

    if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] | 0x20) != 't'
        || s[13] != ':' || s[16] != ':'
        || capif_aef_digits(s, 4, &y) || capif_aef_digits(s + 5, 2, &mo)
        || capif_aef_digits(s + 8, 2, &d) || capif_aef_digits(s + 11, 2, &h)
        || capif_aef_digits(s + 14, 2, &mi)
        || capif_aef_digits(s + 17, 2, &sec))
    {
        return -1;
    }

    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1]
        || h > 23 || mi > 59 || sec > 60)
    {
        return -1;
    }

    if (mo == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 && y % 400)))
    {
        return -1;
    }

    i = 19;

    if (s[i] == '.') {
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            /* a fraction of a second: ignored */
        }

        if (i == 20) {
            return -1;
        }
    }

    if (i == len) {
        return -1;
    }

    oh = 0;
    om = 0;
    sign = 0;

    if ((s[i] | 0x20) == 'z' && i + 1 == len) {
        /* UTC */

    } else if ((s[i] == '+' || s[i] == '-') && i + 6 == len
               && s[i + 3] == ':'
               && capif_aef_digits(s + i + 1, 2, &oh) == 0
               && capif_aef_digits(s + i + 4, 2, &om) == 0
               && oh <= 23 && om <= 59)
    {
        sign = (s[i] == '+') ? 1 : -1;

    } else {
        return -1;
    }

    /* days since 1970-01-01 of a proleptic Gregorian date */
    yy = y - (mo <= 2);
    era = yy / 400;
    yoe = yy - era * 400;
    doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    days = era * 146097 + doe - 719468;

    *out = days * 86400 + h * 3600 + mi * 60 + sec
           - sign * (oh * 3600 + om * 60);

    return 0;
}


/* the cause: any non-empty string (3GPP enumerations are extensible) */
static int
capif_aef_cause(capif_aef_request_t *req, json_t *info, capif_rev_str_t *s)
{
    switch (capif_aef_string(info, "cause", s)) {

    case 1:
        req->unknown_cause = !capif_rev_cause_known(s->data, s->len);
        return 0;

    case 0:
        return capif_aef_bad(req, "MANDATORY_IE_MISSING",
                             "\"cause\" is missing");

    default:
        return capif_aef_bad(req, "MANDATORY_IE_INCORRECT",
                             "\"cause\" is not a non-empty string of at "
                             "most 512 bytes without control characters");
    }
}


/*
 * An array of 1 to CAPIF_AEF_MAX_IDS valid strings: its size, 0 if it
 * is absent, -1 if it is not such an array.
 */
static int
capif_aef_ids(json_t *obj, const char *name, json_t **out)
{
    size_t   i, n;
    json_t  *a, *v;

    a = json_object_get(obj, name);
    *out = a;

    if (a == NULL) {
        return 0;
    }

    n = json_is_array(a) ? json_array_size(a) : 0;

    if (n == 0 || n > CAPIF_AEF_MAX_IDS) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        v = json_array_get(a, i);

        if (!json_is_string(v)
            || !capif_rev_field_ok((const unsigned char *)
                                   json_string_value(v),
                                   json_string_length(v), 0))
        {
            return -1;
        }
    }

    return (int) n;
}


static void
capif_aef_item(json_t *a, size_t i, capif_rev_str_t *s)
{
    json_t  *v;

    v = json_array_get(a, i);
    s->data = (const unsigned char *) json_string_value(v);
    s->len = json_string_length(v);
}


static capif_rev_record_t *
capif_aef_push(capif_aef_request_t *req, capif_rev_type_t type,
    const capif_rev_str_t *cause)
{
    capif_rev_record_t  *rec;

    if (req->nrecs >= CAPIF_AEF_MAX_RECORDS) {
        return NULL;
    }

    rec = &req->recs[req->nrecs++];
    memset(rec, 0, sizeof(capif_rev_record_t));
    rec->type = type;
    rec->cause = *cause;
    rec->a.data = (const unsigned char *) "";
    rec->b.data = (const unsigned char *) "";
    rec->c.data = (const unsigned char *) "";

    return rec;
}


static int
capif_aef_alloc(capif_aef_request_t *req, size_t n)
{
    req->recs = calloc(n, sizeof(capif_rev_record_t));

    return req->recs ? 0 : capif_aef_oom(req);
}


/* supportedFeatures (mandatory): the answer has those both sides know */
static int
capif_aef_features(capif_aef_request_t *req, json_t *json)
{
    size_t         i, len;
    json_t        *sf;
    const char    *p;
    unsigned int   last;

    sf = json_object_get(json, "supportedFeatures");
    if (sf == NULL) {
        return capif_aef_bad(req, "MANDATORY_IE_MISSING",
                             "\"supportedFeatures\" is missing");
    }

    if (!json_is_string(sf)) {
        return capif_aef_bad(req, "MANDATORY_IE_INCORRECT",
                             "\"supportedFeatures\" is not a string");
    }

    p = json_string_value(sf);
    len = json_string_length(sf);
    last = 0;

    for (i = 0; i < len; i++) {
        if (p[i] >= '0' && p[i] <= '9') {
            last = (unsigned int) (p[i] - '0');

        } else if ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f') {
            last = (unsigned int) ((p[i] | 0x20) - 'a' + 10);

        } else {
            return capif_aef_bad(req, "MANDATORY_IE_INCORRECT",
                                 "\"supportedFeatures\" is not "
                                 "hexadecimal");
        }
    }

    /* features 1 to 4 are the last digit (TS 29.571 SupportedFeatures) */
    req->features[0] = (last & CAPIF_AEF_FEATURES) ? '1' : '0';
    req->features[1] = '\0';

    return 0;
}


static json_t *
capif_aef_envelope(capif_aef_request_t *req, json_t *json)
{
    json_t  *info;

    info = json_object_get(json, "revokeInfo");
    if (info == NULL) {
        (void) capif_aef_bad(req, "MANDATORY_IE_MISSING",
                             "\"revokeInfo\" is missing");
        return NULL;
    }

    if (!json_is_object(info)) {
        (void) capif_aef_bad(req, "MANDATORY_IE_INCORRECT",
                             "\"revokeInfo\" is not an object");
        return NULL;
    }

    if (capif_aef_features(req, json) != 0) {
        return NULL;
    }

    return info;
}


/* a token the CCF names: refused under the key the request path probes */
static int
capif_aef_token(capif_aef_request_t *req, const capif_rev_str_t *tok,
    const capif_rev_str_t *cause, const char *incorrect)
{
    int                  rc;
    char                 hex[65];
    json_t              *v;
    long long            exp;
    unsigned char       *scratch, *p;
    capif_jws_t          jws;
    capif_error_t        err;
    capif_rev_str_t      kind, value, jti;
    capif_rev_record_t  *rec;

    if (tok->len > CAPIF_TOKEN_MAX_LEN) {
        return capif_aef_bad(req, "OPTIONAL_IE_INCORRECT", incorrect);
    }

    scratch = malloc(capif_jws_scratch_size(tok->len));
    if (scratch == NULL) {
        return capif_aef_oom(req);
    }

    /* no signature check: the CCF names a token, it does not present it */
    if (capif_jws_parse(&jws, tok->data, tok->len, scratch, &err) != 0) {
        free(scratch);
        return capif_aef_bad(req, "OPTIONAL_IE_INCORRECT", incorrect);
    }

    if (capif_jws_parse_payload(&jws, &err) != 0) {
        capif_jws_free(&jws);
        free(scratch);
        return capif_aef_bad(req, "OPTIONAL_IE_INCORRECT", incorrect);
    }

    exp = 0;
    v = json_object_get(jws.payload, "exp");

    if (json_is_integer(v)) {
        exp = json_integer_value(v);

    } else if (json_is_real(v) && json_real_value(v) > 0
               && json_real_value(v) < 1e15)
    {
        exp = (long long) json_real_value(v);
    }

    /* the jti as the claims check reads it: a string, else none */
    v = json_object_get(jws.payload, "jti");
    jti.data = NULL;
    jti.len = 0;

    if (json_is_string(v)) {
        jti.data = (const unsigned char *) json_string_value(v);
        jti.len = json_string_length(v);
    }

    rc = capif_rev_token_key(jti.data, jti.len, jws.signing_input,
                             jws.signing_input_len, &kind, &value, hex);

    rec = NULL;
    p = NULL;

    if (rc == 0 && req->nowned < 2) {
        /* the value outlives the claim set: keep a copy */
        p = malloc(value.len);
        rec = p ? capif_aef_push(req, CAPIF_REV_TOKEN, cause) : NULL;
    }

    if (rec) {
        memcpy(p, value.data, value.len);
        req->owned[req->nowned++] = p;

        rec->a = kind;
        rec->b.data = p;
        rec->b.len = value.len;
        rec->expires = exp;   /* made the entry's expiry later */

    } else {
        free(p);
    }

    capif_jws_free(&jws);
    free(scratch);

    return rec ? 0 : capif_aef_oom(req);
}


/*
 * RevokeAuthorizationReq (TS 29.222 clause 9): the invoker's
 * authorization for apiIds, and with an access token (CAPIF_Ext1) that
 * token too, wherever it is presented.
 */
static int
capif_aef_revoke(capif_aef_request_t *req, json_t *info)
{
    int                  n, i, k;
    json_t              *ids, *v;
    capif_rev_str_t      invoker, aef, cause, api, tok;
    capif_rev_record_t  *rec;

    static const char   *spellings[] = { "access_token", "accessToken" };

    if (capif_aef_member(req, info, &capif_aef_owner.member[0], &invoker)
        != 0)
    {
        return -1;
    }

    aef.data = (const unsigned char *) "";
    aef.len = 0;

    if (capif_aef_string(info, "aefId", &aef) < 0) {
        return capif_aef_bad(req, "OPTIONAL_IE_INCORRECT",
                             "\"aefId\" is not a valid string");
    }

    n = capif_aef_ids(info, "apiIds", &ids);

    if (n == 0 && ids == NULL) {
        return capif_aef_bad(req, "MANDATORY_IE_MISSING",
                             "\"apiIds\" is missing");
    }

    if (n <= 0) {
        return capif_aef_bad(req, "MANDATORY_IE_INCORRECT",
                             "\"apiIds\" is not an array of 1 to 64 valid "
                             "strings");
    }

    if (capif_aef_cause(req, info, &cause) != 0) {
        return -1;
    }

    if (capif_aef_alloc(req, n + 2) != 0) {
        return -1;
    }

    /* the token, under either spelling */
    for (k = 0; k < 2; k++) {
        v = json_object_get(info, spellings[k]);
        if (v == NULL) {
            continue;
        }

        if (!json_is_string(v) || json_string_length(v) == 0) {
            return capif_aef_bad(req, "OPTIONAL_IE_INCORRECT",
                                 k == 0 ? "\"access_token\" is not a "
                                          "non-empty string"
                                        : "\"accessToken\" is not a "
                                          "non-empty string");
        }

        tok.data = (const unsigned char *) json_string_value(v);
        tok.len = json_string_length(v);

        if (capif_aef_token(req, &tok, &cause,
                            k == 0 ? "\"access_token\" is not a compact "
                                     "JWS with a claim set"
                                   : "\"accessToken\" is not a compact "
                                     "JWS with a claim set")
            != 0)
        {
            return -1;
        }
    }

    /* and the invoker's authorization for these APIs (clause 6.2.2.3.2) */
    for (i = 0; i < n; i++) {
        capif_aef_item(ids, i, &api);

        rec = capif_aef_push(req, CAPIF_REV_INVOKER, &cause);
        if (rec == NULL) {
            return capif_aef_oom(req);
        }

        rec->a = invoker;
        rec->b = aef;
        rec->c = api;
    }

    return 0;
}


/*
 * revoke-credential: a CERT entry for each way the certificate is named
 * (every connection presenting it, every token bound to it) and an
 * INVOKER_ALL entry (every token of the invoker issued until now).
 */
static int
capif_aef_revoke_credential(capif_aef_request_t *req, json_t *info,
    const capif_aef_conf_t *conf)
{
    int                  i;
    json_t              *v;
    long long            keep;
    capif_rev_str_t      f[CAPIF_AEF_CRED_N], cause, none;
    capif_rev_record_t  *rec;

    for (i = 0; i < CAPIF_AEF_CRED_N; i++) {
        if (capif_aef_member(req, info, &capif_aef_credential[i], &f[i])
            != 0)
        {
            return -1;
        }
    }

    if (f[CAPIF_AEF_CRED_X5T].len == 0 && f[CAPIF_AEF_CRED_SERIAL].len == 0
        && f[CAPIF_AEF_CRED_ISSUER].len == 0)
    {
        return capif_aef_bad(req, "MANDATORY_IE_MISSING",
                             "\"certSha256\", or \"serialNumber\" and "
                             "\"issuer\", is missing");
    }

    if ((f[CAPIF_AEF_CRED_SERIAL].len == 0)
        != (f[CAPIF_AEF_CRED_ISSUER].len == 0))
    {
        return capif_aef_bad(req, "MANDATORY_IE_MISSING",
                             f[CAPIF_AEF_CRED_SERIAL].len
                             ? "\"serialNumber\" without \"issuer\""
                             : "\"issuer\" without \"serialNumber\"");
    }

    if (capif_aef_cause(req, info, &cause) != 0) {
        return -1;
    }

    /* kept until the certificate expires, then as long as its tokens */
    keep = conf->now + conf->credential_lifetime;
    v = json_object_get(info, "notAfter");

    if (v != NULL
        && (!json_is_string(v)
            || capif_aef_datetime((const unsigned char *)
                                  json_string_value(v),
                                  json_string_length(v), &keep)
               != 0))
    {
        return capif_aef_bad(req, "OPTIONAL_IE_INCORRECT",
                             "\"notAfter\" is not an RFC 3339 date-time "
                             "(TS 29.571 DateTime)");
    }

    keep += conf->max_lifetime;

    if (capif_aef_alloc(req, 3) != 0) {
        return -1;
    }

    none.data = (const unsigned char *) "";
    none.len = 0;

    if (f[CAPIF_AEF_CRED_X5T].len) {
        rec = capif_aef_push(req, CAPIF_REV_CERT, &cause);
        rec->a.data = (const unsigned char *) CAPIF_REV_CERT_X5T;
        rec->a.len = sizeof(CAPIF_REV_CERT_X5T) - 1;
        rec->b = f[CAPIF_AEF_CRED_X5T];
        rec->c = none;
        rec->expires = keep;
    }

    if (f[CAPIF_AEF_CRED_SERIAL].len) {
        rec = capif_aef_push(req, CAPIF_REV_CERT, &cause);
        rec->a.data = (const unsigned char *) CAPIF_REV_CERT_SERIAL;
        rec->a.len = sizeof(CAPIF_REV_CERT_SERIAL) - 1;
        rec->b = f[CAPIF_AEF_CRED_SERIAL];
        rec->c = f[CAPIF_AEF_CRED_ISSUER];
        rec->expires = keep;
    }

    rec = capif_aef_push(req, CAPIF_REV_INVOKER_ALL, &cause);
    rec->a = f[CAPIF_AEF_CRED_INVOKER];

    return 0;
}


/* CheckAuthenticationReq {apiInvokerId, supportedFeatures} */
static int
capif_aef_check_auth(capif_aef_request_t *req, json_t *json)
{
    if (capif_aef_member(req, json,
                         &capif_aef_credential[CAPIF_AEF_CRED_INVOKER],
                         &req->invoker)
        != 0)
    {
        return -1;
    }

    return capif_aef_features(req, json);
}


/* the owner's or the group's withdrawal: one record */
static int
capif_aef_single(capif_aef_request_t *req, json_t *info,
    const capif_aef_single_t *spec)
{
    capif_rev_str_t      f[3], cause;
    capif_rev_record_t  *rec;

    if (capif_aef_member(req, info, &spec->member[0], &f[0]) != 0
        || capif_aef_member(req, info, &spec->member[1], &f[1]) != 0
        || capif_aef_member(req, info, &spec->member[2], &f[2]) != 0
        || capif_aef_cause(req, info, &cause) != 0
        || capif_aef_alloc(req, 1) != 0)
    {
        return -1;
    }

    rec = capif_aef_push(req, spec->type, &cause);
    rec->a = f[0];
    rec->b = f[1];
    rec->c = f[2];

    return 0;
}


/*
 * CAPIF_Events_API EventNotification {subscriptionId, events,
 * eventDetail}.  API_INVOKER_AUTHORIZATION_REVOKED with apiInvokerIds and
 * apiIds revokes each invoker for each API at every AEF; anything else
 * is acknowledged and changes nothing.
 */
static int
capif_aef_event(capif_aef_request_t *req, json_t *json)
{
    int                  ni, na, i, j;
    json_t              *detail, *invokers, *apis;
    capif_rev_str_t      sub, ev, cause;
    capif_rev_record_t  *rec;

    req->no_content = 1;

    switch (capif_aef_string(json, "subscriptionId", &sub)) {
    case 1:
        break;
    case 0:
        return capif_aef_bad(req, "MANDATORY_IE_MISSING",
                             "\"subscriptionId\" is missing");
    default:
        return capif_aef_bad(req, "MANDATORY_IE_INCORRECT",
                             "\"subscriptionId\" is not a valid string");
    }

    /* a valid field: it is logged, so no control characters */
    switch (capif_aef_string(json, "events", &ev)) {
    case 1:
        break;
    case 0:
        return capif_aef_bad(req, "MANDATORY_IE_MISSING",
                             "\"events\" is missing");
    default:
        return capif_aef_bad(req, "MANDATORY_IE_INCORRECT",
                             "\"events\" is not a CAPIFEvent string");
    }

    req->event = (const char *) ev.data;    /* NUL-terminated by jansson */

    detail = json_object_get(json, "eventDetail");

    if (detail && !json_is_object(detail)) {
        return capif_aef_bad(req, "OPTIONAL_IE_INCORRECT",
                             "\"eventDetail\" is not an object");
    }

    if (ev.len != sizeof(CAPIF_AEF_EVENT_REVOKED) - 1
        || memcmp(ev.data, CAPIF_AEF_EVENT_REVOKED, ev.len) != 0)
    {
        /* an event this gateway does not act on (CAPIFEvent extends) */
        return 0;
    }

    if (detail == NULL) {
        req->warn = "the CCF's API_INVOKER_AUTHORIZATION_REVOKED event "
                    "carried no eventDetail: nothing to act on";
        req->unnamed = 1;
        return 0;
    }

    ni = capif_aef_ids(detail, "apiInvokerIds", &invokers);
    na = capif_aef_ids(detail, "apiIds", &apis);

    if (ni < 0) {
        return capif_aef_bad(req, "OPTIONAL_IE_INCORRECT",
                             "\"eventDetail.apiInvokerIds\" is not an "
                             "array of 1 to 64 valid strings");
    }

    if (na < 0) {
        return capif_aef_bad(req, "OPTIONAL_IE_INCORRECT",
                             "\"eventDetail.apiIds\" is not an array of 1 "
                             "to 64 valid strings");
    }

    if (ni == 0 || na == 0) {
        req->warn = "the CCF's API_INVOKER_AUTHORIZATION_REVOKED event "
                    "lacked eventDetail.apiInvokerIds or apiIds: nothing "
                    "to act on";
        req->unnamed = 1;
        return 0;
    }

    if ((size_t) ni * (size_t) na > CAPIF_AEF_MAX_RECORDS) {
        return capif_aef_bad(req, "OPTIONAL_IE_INCORRECT",
                             "\"eventDetail\" names more than 1024 "
                             "invoker and API pairs");
    }

    if (capif_aef_alloc(req, (size_t) ni * (size_t) na) != 0) {
        return -1;
    }

    /* the event has no cause: its name stands for one in the listing */
    cause.data = (const unsigned char *) CAPIF_AEF_EVENT_REVOKED;
    cause.len = sizeof(CAPIF_AEF_EVENT_REVOKED) - 1;

    for (i = 0; i < ni; i++) {
        for (j = 0; j < na; j++) {
            rec = capif_aef_push(req, CAPIF_REV_INVOKER, &cause);
            capif_aef_item(invokers, i, &rec->a);
            capif_aef_item(apis, j, &rec->c);
        }
    }

    return 0;
}


/* the entry's expiry: past any token it may refuse, plus the slack */
static long long
capif_aef_expiry(const capif_aef_conf_t *conf, long long token_exp)
{
    long long  e;

    e = conf->now + conf->max_lifetime + conf->slack;

    /*
     * a single token is kept until it expires, whatever its lifetime; a
     * certificate until it expires and its tokens after it
     */
    if (token_exp > 0 && token_exp < (1LL << 53)
        && token_exp + conf->slack > e)
    {
        e = token_exp + conf->slack;
    }

    return e;
}


int
capif_aef_request_parse(capif_aef_request_t *req, capif_aef_op_t op,
    const unsigned char *body, size_t len, const capif_aef_conf_t *conf)
{
    int      rc;
    size_t   i;
    json_t  *json, *info;

    memset(req, 0, sizeof(capif_aef_request_t));
    req->features[0] = '0';

    json = capif_json_object(body, len);
    if (json == NULL) {
        return capif_aef_bad(req, "INVALID_MSG_FORMAT",
                             "the body is not a JSON object");
    }

    req->json = json;

    switch (op) {

    case CAPIF_AEF_EVENT:
        rc = capif_aef_event(req, json);
        break;

    case CAPIF_AEF_CHECK_AUTH:
        rc = capif_aef_check_auth(req, json);
        break;

    case CAPIF_AEF_REVOKE:
    case CAPIF_AEF_REVOKE_OWNER:
    case CAPIF_AEF_REVOKE_GROUP:
    case CAPIF_AEF_REVOKE_CREDENTIAL:
        info = capif_aef_envelope(req, json);

        if (info == NULL) {
            rc = -1;

        } else if (op == CAPIF_AEF_REVOKE) {
            rc = capif_aef_revoke(req, info);

        } else if (op == CAPIF_AEF_REVOKE_CREDENTIAL) {
            rc = capif_aef_revoke_credential(req, info, conf);

        } else {
            rc = capif_aef_single(req, info,
                                  op == CAPIF_AEF_REVOKE_OWNER
                                  ? &capif_aef_owner : &capif_aef_group);
        }

        break;

    default:
        return capif_aef_refuse(req, 404, "RESOURCE_NOT_FOUND",
                                "no such AEF_Security_API operation");
    }

    if (rc != 0) {
        return -1;
    }

    for (i = 0; i < req->nrecs; i++) {
        req->recs[i].revoked_at = conf->now;
        req->recs[i].expires = capif_aef_expiry(conf,
                                   (req->recs[i].type == CAPIF_REV_TOKEN
                                    || req->recs[i].type == CAPIF_REV_CERT)
                                   ? req->recs[i].expires : 0);

        if (!capif_rev_record_valid(&req->recs[i])) {
            return capif_aef_bad(req, "MANDATORY_IE_INCORRECT",
                                 "the revocation has an invalid field");
        }
    }

    return 0;
}


void
capif_aef_request_free(capif_aef_request_t *req)
{
    size_t  i;

    for (i = 0; i < req->nowned; i++) {
        free(req->owned[i]);
    }

    req->nowned = 0;

    free(req->recs);
    req->recs = NULL;
    req->nrecs = 0;

    if (req->json) {
        json_decref((json_t *) req->json);
        req->json = NULL;
    }
}

/*
 * Copyright (C) ngx_capif_module authors
 *
 * The request bodies of the AEF side of TS 29.222 AEF_Security_API, as
 * the CCF sends them: RevokeAuthorizationReq, this module's owner and
 * group withdrawals, and the CAPIF_Events_API EventNotification.  Each is
 * turned into the revocation records to store, or into the ProblemDetails
 * that refuses it.  Pure C: no nginx, no I/O.
 */

#ifndef CAPIF_AEF_REQUEST_H
#define CAPIF_AEF_REQUEST_H

#include <stddef.h>
#include "capif_credential.h"
#include "capif_revocation.h"


typedef enum {
    CAPIF_AEF_UNKNOWN = 0,
    CAPIF_AEF_REVOKE,           /* POST .../revoke-authorization */
    CAPIF_AEF_REVOKE_OWNER,     /* POST .../revoke-owner-authorization */
    CAPIF_AEF_REVOKE_GROUP,     /* POST .../revoke-group-authorization */
    CAPIF_AEF_EVENT,            /* POST .../capif-events/notifications */
    CAPIF_AEF_REVOKE_CREDENTIAL, /* POST .../revoke-credential */
    CAPIF_AEF_CHECK_AUTH        /* POST .../check-authentication */
} capif_aef_op_t;


/* the features of AEF_Security_API this gateway supports: CAPIF_Ext1 */
#define CAPIF_AEF_FEATURES          0x1

/* at most this many apiIds (or apiInvokerIds) in one request */
#define CAPIF_AEF_MAX_IDS           64

/* at most this many records from one request (invokers x APIs) */
#define CAPIF_AEF_MAX_RECORDS       1024

/* the event this gateway acts on */
#define CAPIF_AEF_EVENT_REVOKED     "API_INVOKER_AUTHORIZATION_REVOKED"


typedef struct {
    long long                 now;           /* the revocation time */
    long long                 max_lifetime;  /* capif_token_max_lifetime */
    long long                 slack;         /* kept this long past it */
    long long                 credential_lifetime;
                                /* a withdrawn certificate without notAfter
                                   is kept this long */
} capif_aef_conf_t;


typedef struct {
    /* a refusal: HTTP status (400, 404, 500), its cause and detail */
    int                       status;
    const char               *cause;
    const char               *detail;

    /* an acceptance */
    capif_rev_record_t       *recs;          /* nrecs of them, may be 0 */
    size_t                    nrecs;
    char                      features[2];   /* RevokeAuthorizationRsp */
    int                       no_content;    /* answer 204 (an event) */
    int                       unknown_cause; /* a cause TS 29.222 lacks */
    const char               *warn;          /* log at warn, static */
    const char               *event;         /* the event, NUL-ended */
    int                       unnamed;       /* a revocation that names
                                                no invoker: ask the CCF */

    /* check-authentication: CheckAuthenticationReq's apiInvokerId */
    capif_rev_str_t           invoker;

    /* revoke-credential: the canonical serial and issuer of a CERT entry */
    char                      serial[CAPIF_CRED_SERIAL_MAX + 1];
    unsigned char             issuer[CAPIF_CRED_ISSUER_MAX];

    /* owned: released by capif_aef_request_free() */
    void                     *json;
    unsigned char            *owned[2];      /* token keys */
    size_t                    nowned;
} capif_aef_request_t;


/* the operation a request URI ends in */
capif_aef_op_t capif_aef_op(const unsigned char *uri, size_t len);

/* 1 if a Content-Type value is application/json (any parameters) */
int capif_aef_media_json(const unsigned char *ct, size_t len);

/*
 * Parses body for op.  Returns 0 with req's records (times and expiry
 * set, every record valid), or -1 with status, cause and detail set.
 * Either way, call capif_aef_request_free() after the records' last use.
 */
int capif_aef_request_parse(capif_aef_request_t *req, capif_aef_op_t op,
    const unsigned char *body, size_t len, const capif_aef_conf_t *conf);

void capif_aef_request_free(capif_aef_request_t *req);

/* a TS 29.571 DateTime (RFC 3339) as seconds since the epoch; 0 or -1 */
int capif_aef_datetime(const unsigned char *s, size_t len, long long *out);

/*
 * Appends one buffer of a request body: copies len bytes of src to dst
 * and returns dst + len.  An empty buffer (src may then be NULL, as for
 * "Content-Length: 0") copies nothing.
 */
unsigned char *capif_aef_body_append(unsigned char *dst,
    const unsigned char *src, size_t len);


#endif /* CAPIF_AEF_REQUEST_H */

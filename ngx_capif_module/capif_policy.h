/*
 * Copyright (C) ngx_capif_module authors
 *
 * The authorization decision that follows a verified token: may this
 * invoker touch the resources of this owner (RNAA), directly or through a
 * group (KI#1), for this purpose (KI#3)?  Claims come only from the
 * verified claim set; membership only from the claim set or the registry.
 *
 * A claim that this location reads but that has the wrong type or a
 * malformed identifier makes the token invalid (401, "..._CLAIM_INVALID"):
 * the CCF signed something no rule can interpret, so it never matches.
 * Claims the location does not use are not looked at.
 */

#ifndef CAPIF_POLICY_H
#define CAPIF_POLICY_H

#include <stddef.h>
#include <jansson.h>
#include "capif_error.h"
#include "capif_groups.h"


typedef struct {
    const unsigned char  *data;
    size_t                len;
} capif_str_t;


typedef struct {
    /* claim names, NUL-terminated; members_claim NULL when off */
    const char           *owner_claim;
    const char           *group_claim;
    const char           *invoker_ue_claim;
    const char           *members_claim;
    const char           *purpose_claim;

    const capif_groups_t *groups;          /* NULL: no registry */

    unsigned              owner_required:1;  /* capif_resource_owner */
    unsigned              purpose_from:1;    /* capif_purpose_from */

    const capif_str_t    *purposes;          /* capif_purpose, or NULL */
    size_t                npurposes;
} capif_policy_t;


/* what the request names, from the location's complex values */
typedef struct {
    capif_str_t           owner;
    capif_str_t           purpose;
} capif_policy_req_t;


typedef enum {
    CAPIF_OWNER_VIA_NONE = 0,
    CAPIF_OWNER_VIA_CLAIM,                 /* the owner claim covers it */
    CAPIF_OWNER_VIA_GROUP                  /* a group grant covers it */
} capif_owner_via_t;


/* what an allowed call touches; strings point into the request or claims */
typedef struct {
    capif_str_t           owner;
    capif_str_t           group_id;        /* set when via group */
    capif_str_t           invoker_ue;
    capif_str_t           purpose;
    capif_owner_via_t     via;
} capif_policy_result_t;


/*
 * Returns 0 to allow, or -1 with *err set.  *res is filled as far as the
 * decision got, also on refusal, so that the caller can log it.
 */
int capif_policy_decide(const capif_policy_t *pol,
    const capif_policy_req_t *req, json_t *claims,
    capif_policy_result_t *res, capif_error_t *err);


/* the building blocks, exposed for tests */

/* 1 covered, 0 not covered or claim absent, -1 claim invalid */
int capif_policy_owner_covered(json_t *claim, const unsigned char *owner,
    size_t len);

/* 1 authorized, 0 not authorized, -1 claim invalid */
int capif_policy_purpose_covered(json_t *claim, const unsigned char *p,
    size_t len);

/* 1 member, 0 not, -1 claim invalid; claim is the token's member list */
int capif_policy_members_has(json_t *claim, const unsigned char *gpsi,
    size_t len);

/* 1 if s is a purpose a location may declare: printable, no space */
int capif_purpose_valid(const unsigned char *s, size_t len);


#endif /* CAPIF_POLICY_H */

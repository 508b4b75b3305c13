/*
 * Copyright (C) ngx_capif_module authors
 */

#include <string.h>
#include "capif_gpsi.h"
#include "capif_policy.h"


static int
capif_str_eq(const unsigned char *a, size_t alen, const char *b,
    size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}


/*
 * One owner of the claim: a GPSI string (Rel-18) or {"gpsi": "..."}
 * (Rel-19) with no other member, so that nothing we do not understand
 * can ride along.  Returns 1 match, 0 no match, -1 invalid.
 */
static int
capif_policy_owner_one(json_t *v, const unsigned char *owner, size_t len)
{
    json_t  *gpsi;

    if (json_is_object(v)) {
        gpsi = json_object_get(v, "gpsi");
        if (gpsi == NULL || json_object_size(v) != 1) {
            return -1;
        }

        v = gpsi;
    }

    if (!json_is_string(v)
        || !capif_gpsi_valid((const unsigned char *) json_string_value(v),
                             json_string_length(v)))
    {
        return -1;
    }

    return capif_str_eq(owner, len, json_string_value(v),
                        json_string_length(v));
}


int
capif_policy_owner_covered(json_t *claim, const unsigned char *owner,
    size_t len)
{
    int      rc, found;
    size_t   i;
    json_t  *v;

    if (claim == NULL) {
        return 0;
    }

    if (!json_is_array(claim)) {
        return capif_policy_owner_one(claim, owner, len);
    }

    /* look at every element: one bad element spoils the whole claim */
    found = 0;

    json_array_foreach(claim, i, v) {
        rc = capif_policy_owner_one(v, owner, len);
        if (rc < 0) {
            return -1;
        }

        found |= rc;
    }

    return found;
}


int
capif_policy_purpose_covered(json_t *claim, const unsigned char *p,
    size_t len)
{
    int      found;
    size_t   i;
    json_t  *v;

    if (claim == NULL) {
        return 0;
    }

    if (json_is_string(claim)) {
        return capif_str_eq(p, len, json_string_value(claim),
                            json_string_length(claim));
    }

    if (!json_is_array(claim)) {
        return -1;
    }

    found = 0;

    json_array_foreach(claim, i, v) {
        if (!json_is_string(v)) {
            return -1;
        }

        found |= capif_str_eq(p, len, json_string_value(v),
                              json_string_length(v));
    }

    return found;
}


int
capif_policy_members_has(json_t *claim, const unsigned char *gpsi,
    size_t len)
{
    int          found;
    size_t       i;
    json_t      *v;
    const char  *s;

    if (!json_is_array(claim)) {
        return -1;
    }

    found = 0;

    json_array_foreach(claim, i, v) {
        if (!json_is_string(v)) {
            return -1;
        }

        s = json_string_value(v);

        if (!capif_gpsi_valid((const unsigned char *) s,
                              json_string_length(v)))
        {
            return -1;
        }

        found |= capif_str_eq(gpsi, len, s, json_string_length(v));
    }

    return found;
}


int
capif_purpose_valid(const unsigned char *s, size_t len)
{
    size_t  i;

    if (len == 0 || len > 256) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (s[i] <= 0x20 || s[i] >= 0x7f) {
            return 0;
        }
    }

    return 1;
}


static void
capif_str_set(capif_str_t *dst, json_t *s)
{
    dst->data = (const unsigned char *) json_string_value(s);
    dst->len = json_string_length(s);
}


/* the group grant (KI#1): both the target and the invoker's UE are in it */
static int
capif_policy_group(const capif_policy_t *pol, json_t *claims,
    capif_policy_result_t *res, capif_error_t *err)
{
    int                   in_ue, in_owner;
    json_t               *grant, *members;
    const capif_group_t  *grp;

    grant = json_object_get(claims, pol->group_claim);
    if (grant == NULL) {
        return capif_fail(err, CAPIF_INSUFFICIENT_SCOPE,
                          "RESOURCE_OWNER_NOT_AUTHORIZED",
                          "token does not cover the resource owner");
    }

    if (!json_is_string(grant)
        || !capif_extgroupid_valid(
               (const unsigned char *) json_string_value(grant),
               json_string_length(grant)))
    {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "GROUP_CLAIM_INVALID",
                          "group claim is not an External Group ID");
    }

    capif_str_set(&res->group_id, grant);

    if (res->invoker_ue.len == 0) {
        return capif_fail(err, CAPIF_INSUFFICIENT_SCOPE,
                          "GROUP_INVOKER_UE_MISSING",
                          "group grant without the invoker's UE claim");
    }

    /* the CCF-signed member list, where enabled, else the registry */
    members = NULL;
    if (pol->members_claim != NULL) {
        members = json_object_get(claims, pol->members_claim);
    }

    if (members != NULL) {
        in_ue = capif_policy_members_has(members, res->invoker_ue.data,
                                         res->invoker_ue.len);
        in_owner = capif_policy_members_has(members, res->owner.data,
                                            res->owner.len);

        if (in_ue < 0 || in_owner < 0) {
            return capif_fail(err, CAPIF_INVALID_TOKEN,
                              "GROUP_MEMBERS_CLAIM_INVALID",
                              "group members claim is not an array "
                              "of GPSIs");
        }

    } else {
        grp = capif_groups_find(pol->groups, res->group_id.data,
                                res->group_id.len);
        if (grp == NULL) {
            return capif_fail(err, CAPIF_INSUFFICIENT_SCOPE,
                              "GROUP_UNKNOWN",
                              "the token's group is not known");
        }

        in_ue = capif_group_has(grp, res->invoker_ue.data,
                                res->invoker_ue.len);
        in_owner = capif_group_has(grp, res->owner.data, res->owner.len);
    }

    if (!in_ue) {
        return capif_fail(err, CAPIF_INSUFFICIENT_SCOPE,
                          "GROUP_INVOKER_NOT_MEMBER",
                          "the invoker's UE is not a member of the group");
    }

    if (!in_owner) {
        return capif_fail(err, CAPIF_INSUFFICIENT_SCOPE,
                          "GROUP_TARGET_NOT_MEMBER",
                          "the resource owner is not a member of the group");
    }

    res->via = CAPIF_OWNER_VIA_GROUP;

    return 0;
}


static int
capif_policy_owner(const capif_policy_t *pol, json_t *claims,
    capif_policy_result_t *res, capif_error_t *err)
{
    int      rc;
    json_t  *ue;

    /* read first, so that a refusal's log line names the invoker's UE */
    ue = json_object_get(claims, pol->invoker_ue_claim);
    if (ue != NULL) {
        if (!json_is_string(ue)
            || !capif_gpsi_valid((const unsigned char *) json_string_value(ue),
                                 json_string_length(ue)))
        {
            return capif_fail(err, CAPIF_INVALID_TOKEN,
                              "INVOKER_UE_CLAIM_INVALID",
                              "invoker UE claim is not a GPSI string");
        }

        capif_str_set(&res->invoker_ue, ue);
    }

    rc = capif_policy_owner_covered(json_object_get(claims, pol->owner_claim),
                                    res->owner.data, res->owner.len);
    if (rc < 0) {
        return capif_fail(err, CAPIF_INVALID_TOKEN,
                          "RESOURCE_OWNER_CLAIM_INVALID",
                          "owner claim is not a GPSI, {\"gpsi\": GPSI} "
                          "or an array of these");
    }

    if (rc == 1) {
        res->via = CAPIF_OWNER_VIA_CLAIM;
        return 0;
    }

    return capif_policy_group(pol, claims, res, err);
}


static int
capif_policy_purpose(const capif_policy_t *pol, json_t *claims,
    capif_policy_result_t *res, capif_error_t *err)
{
    int      rc;
    size_t   i;
    json_t  *claim;

    claim = json_object_get(claims, pol->purpose_claim);
    if (claim == NULL) {
        return capif_fail(err, CAPIF_INSUFFICIENT_SCOPE,
                          "PURPOSE_NOT_AUTHORIZED",
                          "token authorizes no purpose");
    }

    if (pol->purpose_from) {
        rc = capif_policy_purpose_covered(claim, res->purpose.data,
                                          res->purpose.len);

    } else {
        /* the first of the location's purposes that the token allows */
        rc = 0;

        for (i = 0; i < pol->npurposes && rc == 0; i++) {
            rc = capif_policy_purpose_covered(claim, pol->purposes[i].data,
                                              pol->purposes[i].len);
            if (rc == 1) {
                res->purpose = pol->purposes[i];
            }
        }
    }

    if (rc < 0) {
        return capif_fail(err, CAPIF_INVALID_TOKEN, "PURPOSE_CLAIM_INVALID",
                          "purpose claim is not a string or an array "
                          "of strings");
    }

    if (rc == 0) {
        return capif_fail(err, CAPIF_INSUFFICIENT_SCOPE,
                          "PURPOSE_NOT_AUTHORIZED",
                          "token does not authorize this purpose");
    }

    return 0;
}


int
capif_policy_decide(const capif_policy_t *pol,
    const capif_policy_req_t *req, json_t *claims,
    capif_policy_result_t *res, capif_error_t *err)
{
    size_t  i;

    memset(res, 0, sizeof(capif_policy_result_t));

    if (!json_is_object(claims)) {
        return capif_fail(err, CAPIF_SERVER_ERROR, "INTERNAL_ERROR",
                          "no claim set to decide on");
    }

    /* what the request names comes first: its faults are 400s */

    if (pol->owner_required) {
        res->owner = req->owner;

        if (req->owner.len == 0) {
            return capif_fail(err, CAPIF_INVALID_REQUEST,
                              "RESOURCE_OWNER_MISSING",
                              "the request names no resource owner");
        }

        if (!capif_gpsi_valid(req->owner.data, req->owner.len)) {
            return capif_fail(err, CAPIF_INVALID_REQUEST,
                              "RESOURCE_OWNER_INVALID",
                              "the resource owner is not a valid GPSI");
        }
    }

    if (pol->npurposes > 0 && pol->purpose_from) {
        res->purpose = req->purpose;

        if (req->purpose.len == 0) {
            return capif_fail(err, CAPIF_INVALID_REQUEST, "PURPOSE_MISSING",
                              "the request declares no purpose");
        }

        for (i = 0; i < pol->npurposes; i++) {
            if (capif_str_eq(req->purpose.data, req->purpose.len,
                             (const char *) pol->purposes[i].data,
                             pol->purposes[i].len))
            {
                break;
            }
        }

        if (i == pol->npurposes) {
            return capif_fail(err, CAPIF_INSUFFICIENT_SCOPE,
                              "PURPOSE_NOT_SERVED",
                              "this location does not serve the purpose");
        }
    }

    if (pol->owner_required
        && capif_policy_owner(pol, claims, res, err) != 0)
    {
        return -1;
    }

    if (pol->npurposes > 0
        && capif_policy_purpose(pol, claims, res, err) != 0)
    {
        return -1;
    }

    return 0;
}

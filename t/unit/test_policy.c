/*
 * Copyright (C) ngx_capif_module authors
 *
 * The authorization decision: owner, group and purpose rules, claim
 * shapes and wrong claim types.
 */

#include <stdlib.h>
#include "unit.h"
#include "capif_policy.h"


#define ALICE   "msisdn-491700000001"
#define BOB     "msisdn-491700000002"
#define MALLORY "msisdn-491700000009"
#define TEAM    "extgroupid-team1@example.com"

static capif_groups_t  registry;


static json_t *
claims(const char *s)
{
    json_t  *j;

    j = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
    if (j == NULL) {
        fprintf(stderr, "bad test JSON: %s\n", s);
        abort();
    }

    return j;
}


static void
policy_init(capif_policy_t *pol)
{
    memset(pol, 0, sizeof(capif_policy_t));
    pol->owner_claim = "resOwnerId";
    pol->group_claim = "externalGroupId";
    pol->invoker_ue_claim = "invokerGpsi";
    pol->purpose_claim = "purpose";
    pol->groups = &registry;
}


/* the decision for owner and purpose; returns the cause, "" when allowed */
static const char *
decide(const capif_policy_t *pol, const char *owner, const char *purpose,
    const char *json, capif_policy_result_t *res)
{
    int                    rc;
    json_t                *c;
    capif_error_t          err;
    capif_policy_req_t     req;
    capif_policy_result_t  local;

    if (res == NULL) {
        res = &local;
    }

    req.owner.data = (const unsigned char *) owner;
    req.owner.len = owner ? strlen(owner) : 0;
    req.purpose.data = (const unsigned char *) purpose;
    req.purpose.len = purpose ? strlen(purpose) : 0;

    c = claims(json);
    rc = capif_policy_decide(pol, &req, c, res, &err);
    json_decref(c);

    return rc == 0 ? "" : err.cause;
}


#define OWNER_IS(json, owner, expect)                                     \
    do {                                                                  \
        json_t *c_ = claims(json);                                        \
        CHECK(capif_policy_owner_covered(json_object_get(c_, "o"),        \
              (const unsigned char *) owner, strlen(owner)) == expect);   \
        json_decref(c_);                                                  \
    } while (0)

#define PURPOSE_IS(json, p, expect)                                       \
    do {                                                                  \
        json_t *c_ = claims(json);                                        \
        CHECK(capif_policy_purpose_covered(json_object_get(c_, "p"),      \
              (const unsigned char *) p, strlen(p)) == expect);           \
        json_decref(c_);                                                  \
    } while (0)


static void
test_owner_claim(void)
{
    /* Rel-18 string, Rel-19 object, arrays of either */
    OWNER_IS("{\"o\": \"" ALICE "\"}", ALICE, 1);
    OWNER_IS("{\"o\": \"" ALICE "\"}", BOB, 0);
    OWNER_IS("{\"o\": {\"gpsi\": \"" ALICE "\"}}", ALICE, 1);
    OWNER_IS("{\"o\": {\"gpsi\": \"" ALICE "\"}}", BOB, 0);
    OWNER_IS("{\"o\": [\"" BOB "\", {\"gpsi\": \"" ALICE "\"}]}", ALICE, 1);
    OWNER_IS("{\"o\": [\"" BOB "\", {\"gpsi\": \"" ALICE "\"}]}", BOB, 1);
    OWNER_IS("{\"o\": [\"" BOB "\"]}", ALICE, 0);
    OWNER_IS("{\"o\": []}", ALICE, 0);
    OWNER_IS("{}", ALICE, 0);
    OWNER_IS("{\"o\": \"extid-alice@example.com\"}",
             "extid-alice@example.com", 1);

    /* byte-exact: case, padding, leading zeros */
    OWNER_IS("{\"o\": \"extid-alice@example.com\"}",
             "extid-Alice@example.com", 0);
    OWNER_IS("{\"o\": \"msisdn-0491700000001\"}", ALICE, 0);

    /* wrong types are invalid, whatever else the claim holds */
    OWNER_IS("{\"o\": 491700000001}", ALICE, -1);
    OWNER_IS("{\"o\": null}", ALICE, -1);
    OWNER_IS("{\"o\": true}", ALICE, -1);
    OWNER_IS("{\"o\": {}}", ALICE, -1);
    OWNER_IS("{\"o\": {\"gpsi\": 491700000001}}", ALICE, -1);
    OWNER_IS("{\"o\": {\"gpsi\": \"" ALICE "\", \"x\": 1}}", ALICE, -1);
    OWNER_IS("{\"o\": {\"GPSI\": \"" ALICE "\"}}", ALICE, -1);
    OWNER_IS("{\"o\": [\"" ALICE "\", 5]}", ALICE, -1);
    OWNER_IS("{\"o\": [5, \"" ALICE "\"]}", ALICE, -1);
    OWNER_IS("{\"o\": [\"" ALICE "\", null]}", ALICE, -1);
    OWNER_IS("{\"o\": [[\"" ALICE "\"]]}", ALICE, -1);
    OWNER_IS("{\"o\": [\"" ALICE "\", [\"" BOB "\"]]}", ALICE, -1);

    /* malformed GPSIs in the claim never match */
    OWNER_IS("{\"o\": \"msisdn-1234\"}", "msisdn-1234", -1);
    OWNER_IS("{\"o\": \"MSISDN-491700000001\"}", ALICE, -1);
    OWNER_IS("{\"o\": \" " ALICE "\"}", ALICE, -1);
    OWNER_IS("{\"o\": [\"" ALICE "\", \"msisdn-1\"]}", ALICE, -1);
}


static void
test_purpose_claim(void)
{
    PURPOSE_IS("{\"p\": \"billing\"}", "billing", 1);
    PURPOSE_IS("{\"p\": \"billing\"}", "Billing", 0);
    PURPOSE_IS("{\"p\": \"billing\"}", "billing ", 0);
    PURPOSE_IS("{\"p\": \"billing\"}", "bill", 0);
    PURPOSE_IS("{\"p\": \"b\\u0456lling\"}", "billing", 0);
    PURPOSE_IS("{\"p\": [\"analytics\", \"billing\"]}", "billing", 1);
    PURPOSE_IS("{\"p\": [\"analytics\"]}", "billing", 0);
    PURPOSE_IS("{\"p\": []}", "billing", 0);
    PURPOSE_IS("{}", "billing", 0);
    PURPOSE_IS("{\"p\": 1}", "billing", -1);
    PURPOSE_IS("{\"p\": null}", "billing", -1);
    PURPOSE_IS("{\"p\": {\"billing\": true}}", "billing", -1);
    PURPOSE_IS("{\"p\": [\"billing\", 1]}", "billing", -1);
    PURPOSE_IS("{\"p\": [\"billing\", [\"x\"]]}", "billing", -1);

    CHECK(capif_purpose_valid((const unsigned char *) "billing", 7));
    CHECK(!capif_purpose_valid((const unsigned char *) "", 0));
    CHECK(!capif_purpose_valid((const unsigned char *) "a b", 3));
    CHECK(!capif_purpose_valid((const unsigned char *) "\xd0\xb0", 2));
}


static void
test_owner_rule(void)
{
    capif_policy_t         pol;
    capif_policy_result_t  res;

    policy_init(&pol);
    pol.owner_required = 1;

    CHECK(strcmp(decide(&pol, ALICE, NULL,
                        "{\"resOwnerId\": \"" ALICE "\"}", &res), "") == 0);
    CHECK(res.via == CAPIF_OWNER_VIA_CLAIM);
    CHECK(res.owner.len == strlen(ALICE));
    CHECK(res.group_id.len == 0);

    CHECK(strcmp(decide(&pol, NULL, NULL, "{\"resOwnerId\": \"" ALICE "\"}",
                        NULL), "RESOURCE_OWNER_MISSING") == 0);
    CHECK(strcmp(decide(&pol, "msisdn-1234", NULL,
                        "{\"resOwnerId\": \"msisdn-1234\"}", NULL),
                 "RESOURCE_OWNER_INVALID") == 0);
    CHECK(strcmp(decide(&pol, "msisdn-1234567890123456", NULL, "{}", NULL),
                 "RESOURCE_OWNER_INVALID") == 0);
    CHECK(strcmp(decide(&pol, BOB, NULL, "{\"resOwnerId\": \"" ALICE "\"}",
                        NULL), "RESOURCE_OWNER_NOT_AUTHORIZED") == 0);
    CHECK(strcmp(decide(&pol, ALICE, NULL, "{}", NULL),
                 "RESOURCE_OWNER_NOT_AUTHORIZED") == 0);
    CHECK(strcmp(decide(&pol, ALICE, NULL,
                        "{\"resOwnerId\": [\"" ALICE "\", 7]}", NULL),
                 "RESOURCE_OWNER_CLAIM_INVALID") == 0);

    /* the invoker's own UE alone grants nothing */
    CHECK(strcmp(decide(&pol, ALICE, NULL,
                        "{\"invokerGpsi\": \"" ALICE "\"}", &res),
                 "RESOURCE_OWNER_NOT_AUTHORIZED") == 0);
    CHECK(res.invoker_ue.len == strlen(ALICE));
    CHECK(strcmp(decide(&pol, ALICE, NULL,
                        "{\"resOwnerId\": \"" ALICE "\","
                        " \"invokerGpsi\": 5}", NULL),
                 "INVOKER_UE_CLAIM_INVALID") == 0);

    /* a configured claim name replaces the default */
    pol.owner_claim = "owner";
    CHECK(strcmp(decide(&pol, ALICE, NULL,
                        "{\"resOwnerId\": \"" ALICE "\"}", NULL),
                 "RESOURCE_OWNER_NOT_AUTHORIZED") == 0);
    CHECK(strcmp(decide(&pol, ALICE, NULL, "{\"owner\": \"" ALICE "\"}",
                        NULL), "") == 0);

    /* nothing configured: nothing to check */
    policy_init(&pol);
    CHECK(strcmp(decide(&pol, NULL, NULL, "{}", NULL), "") == 0);
}


static void
test_group_rule(void)
{
    json_t                *c;
    capif_error_t          err;
    capif_policy_t         pol;
    capif_policy_req_t     req;
    capif_policy_result_t  res;

    policy_init(&pol);
    pol.owner_required = 1;

#define GRANT(ue)                                                         \
    "{\"externalGroupId\": \"" TEAM "\", \"invokerGpsi\": \"" ue "\""

    CHECK(strcmp(decide(&pol, BOB, NULL, GRANT(ALICE) "}", &res), "") == 0);
    CHECK(res.via == CAPIF_OWNER_VIA_GROUP);
    CHECK(res.group_id.len == strlen(TEAM));
    CHECK(res.invoker_ue.len == strlen(ALICE));

    CHECK(strcmp(decide(&pol, MALLORY, NULL, GRANT(ALICE) "}", NULL),
                 "GROUP_TARGET_NOT_MEMBER") == 0);
    CHECK(strcmp(decide(&pol, BOB, NULL, GRANT(MALLORY) "}", NULL),
                 "GROUP_INVOKER_NOT_MEMBER") == 0);
    CHECK(strcmp(decide(&pol, BOB, NULL,
                        "{\"externalGroupId\": \"extgroupid-x@example.com\","
                        " \"invokerGpsi\": \"" ALICE "\"}", NULL),
                 "GROUP_UNKNOWN") == 0);
    CHECK(strcmp(decide(&pol, BOB, NULL,
                        "{\"externalGroupId\": \"" TEAM "\"}", NULL),
                 "GROUP_INVOKER_UE_MISSING") == 0);
    CHECK(strcmp(decide(&pol, BOB, NULL,
                        "{\"externalGroupId\": \"team1\","
                        " \"invokerGpsi\": \"" ALICE "\"}", NULL),
                 "GROUP_CLAIM_INVALID") == 0);
    CHECK(strcmp(decide(&pol, BOB, NULL,
                        "{\"externalGroupId\": [\"" TEAM "\"],"
                        " \"invokerGpsi\": \"" ALICE "\"}", NULL),
                 "GROUP_CLAIM_INVALID") == 0);
    CHECK(strcmp(decide(&pol, BOB, NULL,
                        "{\"externalGroupId\":"
                        " \"EXTGROUPID-team1@example.com\","
                        " \"invokerGpsi\": \"" ALICE "\"}", NULL),
                 "GROUP_CLAIM_INVALID") == 0);

    /* no registry at all: every group is unknown */
    pol.groups = NULL;
    CHECK(strcmp(decide(&pol, BOB, NULL, GRANT(ALICE) "}", NULL),
                 "GROUP_UNKNOWN") == 0);

    /* the token's member list, where enabled, replaces the registry */
    pol.members_claim = "groupMembers";
    CHECK(strcmp(decide(&pol, MALLORY, NULL, GRANT(ALICE)
                        ", \"groupMembers\": [\"" ALICE "\", \"" MALLORY
                        "\"]}", NULL), "") == 0);
    CHECK(strcmp(decide(&pol, BOB, NULL, GRANT(ALICE)
                        ", \"groupMembers\": [\"" ALICE "\"]}", NULL),
                 "GROUP_TARGET_NOT_MEMBER") == 0);
    CHECK(strcmp(decide(&pol, BOB, NULL, GRANT(ALICE)
                        ", \"groupMembers\": [\"" BOB "\"]}", NULL),
                 "GROUP_INVOKER_NOT_MEMBER") == 0);
    CHECK(strcmp(decide(&pol, BOB, NULL, GRANT(ALICE)
                        ", \"groupMembers\": [\"" ALICE "\", \"" BOB "\","
                        " 5]}", NULL), "GROUP_MEMBERS_CLAIM_INVALID") == 0);
    CHECK(strcmp(decide(&pol, BOB, NULL, GRANT(ALICE)
                        ", \"groupMembers\": \"" BOB "\"}", NULL),
                 "GROUP_MEMBERS_CLAIM_INVALID") == 0);
    CHECK(strcmp(decide(&pol, BOB, NULL, GRANT(ALICE) "}", NULL),
                 "GROUP_UNKNOWN") == 0);

    /* a member list is ignored unless enabled */
    pol.members_claim = NULL;
    pol.groups = &registry;
    CHECK(strcmp(decide(&pol, MALLORY, NULL, GRANT(ALICE)
                        ", \"groupMembers\": [\"" ALICE "\", \"" MALLORY
                        "\"]}", NULL), "GROUP_TARGET_NOT_MEMBER") == 0);

    /* an owner claim that covers the target needs no group */
    CHECK(strcmp(decide(&pol, MALLORY, NULL, GRANT(ALICE)
                        ", \"resOwnerId\": \"" MALLORY "\"}", &res), "") == 0);
    CHECK(res.via == CAPIF_OWNER_VIA_CLAIM && res.group_id.len == 0);

    /* no claims: an internal error, never an allow */
    memset(&req, 0, sizeof(req));
    c = json_array();
    CHECK(capif_policy_decide(&pol, &req, c, &res, &err) == -1
          && err.outcome == CAPIF_SERVER_ERROR);
    json_decref(c);
    CHECK(capif_policy_decide(&pol, &req, NULL, &res, &err) == -1);
}


static void
test_purpose_rule(void)
{
    capif_policy_t         pol;
    capif_policy_result_t  res;
    capif_str_t            list[2] = {
        { (const unsigned char *) "analytics", 9 },
        { (const unsigned char *) "billing", 7 }
    };

    policy_init(&pol);
    pol.purposes = list;
    pol.npurposes = 2;

    /* static list: the first purpose of the location the token allows */
    CHECK(strcmp(decide(&pol, NULL, NULL, "{\"purpose\": \"billing\"}",
                        &res), "") == 0);
    CHECK(res.purpose.len == 7);
    CHECK(strcmp(decide(&pol, NULL, NULL,
                        "{\"purpose\": [\"billing\", \"analytics\"]}",
                        &res), "") == 0);
    CHECK(res.purpose.len == 9);
    CHECK(strcmp(decide(&pol, NULL, NULL, "{\"purpose\": \"marketing\"}",
                        NULL), "PURPOSE_NOT_AUTHORIZED") == 0);
    CHECK(strcmp(decide(&pol, NULL, NULL, "{}", NULL),
                 "PURPOSE_NOT_AUTHORIZED") == 0);
    CHECK(strcmp(decide(&pol, NULL, NULL, "{\"purpose\": \"Billing\"}",
                        NULL), "PURPOSE_NOT_AUTHORIZED") == 0);
    CHECK(strcmp(decide(&pol, NULL, NULL, "{\"purpose\": 3}", NULL),
                 "PURPOSE_CLAIM_INVALID") == 0);
    CHECK(strcmp(decide(&pol, NULL, NULL,
                        "{\"purpose\": [\"billing\", null]}", NULL),
                 "PURPOSE_CLAIM_INVALID") == 0);

    /* declared by the request: must be served, then authorized */
    pol.purpose_from = 1;
    CHECK(strcmp(decide(&pol, NULL, "billing",
                        "{\"purpose\": [\"analytics\", \"billing\"]}", &res),
                 "") == 0);
    CHECK(res.purpose.len == 7);
    CHECK(strcmp(decide(&pol, NULL, "analytics",
                        "{\"purpose\": \"billing\"}", NULL),
                 "PURPOSE_NOT_AUTHORIZED") == 0);
    CHECK(strcmp(decide(&pol, NULL, NULL, "{\"purpose\": \"billing\"}",
                        NULL), "PURPOSE_MISSING") == 0);
    CHECK(strcmp(decide(&pol, NULL, "marketing",
                        "{\"purpose\": \"marketing\"}", NULL),
                 "PURPOSE_NOT_SERVED") == 0);
    CHECK(strcmp(decide(&pol, NULL, "BILLING", "{\"purpose\": \"BILLING\"}",
                        NULL), "PURPOSE_NOT_SERVED") == 0);
    CHECK(strcmp(decide(&pol, NULL, "billing ", "{\"purpose\": \"billing\"}",
                        NULL), "PURPOSE_NOT_SERVED") == 0);

    /* combined with the owner: request faults first, then owner, purpose */
    pol.owner_required = 1;
    CHECK(strcmp(decide(&pol, ALICE, "billing",
                        "{\"resOwnerId\": \"" ALICE "\","
                        " \"purpose\": \"billing\"}", NULL), "") == 0);
    CHECK(strcmp(decide(&pol, ALICE, "analytics",
                        "{\"resOwnerId\": \"" ALICE "\","
                        " \"purpose\": \"billing\"}", NULL),
                 "PURPOSE_NOT_AUTHORIZED") == 0);
    CHECK(strcmp(decide(&pol, BOB, "billing",
                        "{\"resOwnerId\": \"" ALICE "\","
                        " \"purpose\": \"billing\"}", NULL),
                 "RESOURCE_OWNER_NOT_AUTHORIZED") == 0);
    CHECK(strcmp(decide(&pol, NULL, "billing", "{}", NULL),
                 "RESOURCE_OWNER_MISSING") == 0);
    CHECK(strcmp(decide(&pol, ALICE, NULL, "{}", NULL),
                 "PURPOSE_MISSING") == 0);
    CHECK(strcmp(decide(&pol, BOB, "billing",
                        GRANT(ALICE) ", \"purpose\": \"billing\"}", &res),
                 "") == 0);
    CHECK(res.via == CAPIF_OWNER_VIA_GROUP && res.purpose.len == 7);
    CHECK(strcmp(decide(&pol, BOB, "analytics",
                        GRANT(ALICE) ", \"purpose\": \"billing\"}", &res),
                 "PURPOSE_NOT_AUTHORIZED") == 0);
}


int
main(void)
{
    char        err[256];
    const char  *reg = "{\"" TEAM "\": [\"" ALICE "\", \"" BOB "\"]}";

    if (capif_groups_parse(&registry, (const unsigned char *) reg,
                           strlen(reg), err, sizeof(err)) != 0)
    {
        fprintf(stderr, "registry: %s\n", err);
        return 1;
    }

    test_owner_claim();
    test_purpose_claim();
    test_owner_rule();
    test_group_rule();
    test_purpose_rule();

    capif_groups_free(&registry);

    return UNIT_DONE();
}

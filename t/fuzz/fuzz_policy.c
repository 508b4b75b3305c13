/*
 * Copyright (C) ngx_capif_module authors
 *
 * libFuzzer target: the policy decision (capif_policy_decide) over an
 * arbitrary claim set, with a real group registry, the purpose list
 * "marketing", "research" and every switch taken from the input.
 * Input: one byte of switches, one byte each for the lengths of the
 * requested owner and purpose (mod 64), those two strings, then the
 * claim set as JSON (parsed as the token path parses it).
 * Properties: an allow names an owner equal to the requested one (when
 * one was requested or one is required), a group grant names a group of
 * the registry that has that owner, an allowed purpose is in the list
 * when a list is set; a refusal has an outcome and a cause.
 */

#include <jansson.h>

#include "capif_jws.h"
#include "capif_gpsi.h"
#include "capif_groups.h"
#include "capif_policy.h"
#include "fuzz.h"


static const char  registry_json[] =
    "{\"extgroupid-team1@example.com\": [\"msisdn-491700000001\","
    " \"msisdn-491700000002\", \"extid-carol@example.com\"],"
    " \"extgroupid-empty@example.com\": [],"
    " \"extgroupid-other@example.org\": [\"msisdn-491700000003\"]}";

static capif_groups_t  registry;
static int             loaded;

static const capif_str_t  purposes[] = {
    { (const unsigned char *) "marketing", 9 },
    { (const unsigned char *) "research", 8 }
};


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                     rc;
    char                    errbuf[256], *owner, *purpose;
    size_t                  i, owner_len, purpose_len;
    json_t                 *claims;
    unsigned                sw;
    capif_error_t           err;
    capif_policy_t          pol;
    capif_policy_req_t      req;
    capif_policy_result_t   res;
    const capif_group_t    *g;

    if (!loaded) {
        FUZZ_CHECK(capif_groups_parse(&registry,
                                      (const unsigned char *) registry_json,
                                      strlen(registry_json), errbuf,
                                      sizeof(errbuf)) == 0);
        loaded = 1;
    }

    if (size < 3) {
        return 0;
    }

    sw = data[0];
    owner_len = data[1] % 64;
    purpose_len = data[2] % 64;
    data += 3;
    size -= 3;
    owner = fuzz_take(&data, &size, owner_len);
    purpose = fuzz_take(&data, &size, purpose_len);
    owner_len = strlen(owner);
    purpose_len = strlen(purpose);

    claims = capif_json_object(data, size);
    if (claims == NULL) {
        goto done;
    }

    memset(&pol, 0, sizeof(pol));
    pol.owner_claim = "resOwnerId";
    pol.group_claim = "externalGroupId";
    pol.invoker_ue_claim = "invokerGpsi";
    pol.purpose_claim = "purpose";
    pol.members_claim = (sw & 1) ? "members" : NULL;
    pol.groups = (sw & 2) ? &registry : NULL;
    pol.owner_required = (sw & 4) ? 1 : 0;
    pol.purpose_from = (sw & 8) ? 1 : 0;
    if (sw & 16) {
        pol.purposes = purposes;
        pol.npurposes = 2;
    }

    req.owner.data = owner_len ? (const unsigned char *) owner : NULL;
    req.owner.len = owner_len;
    req.purpose.data = purpose_len ? (const unsigned char *) purpose : NULL;
    req.purpose.len = purpose_len;

    memset(&res, 0, sizeof(res));
    rc = capif_policy_decide(&pol, &req, claims, &res, &err);

    if (rc != 0) {
        FUZZ_CHECK(err.outcome != CAPIF_ALLOW && err.cause != NULL);
        goto free;
    }

    if (pol.owner_required) {
        FUZZ_CHECK(capif_gpsi_valid((const unsigned char *) owner,
                                    owner_len));
        FUZZ_CHECK(res.via != CAPIF_OWNER_VIA_NONE);
    }

    if (res.via != CAPIF_OWNER_VIA_NONE) {
        FUZZ_CHECK(res.owner.len == owner_len
                   && memcmp(res.owner.data, owner, owner_len) == 0);
    }

    if (res.via == CAPIF_OWNER_VIA_GROUP && pol.groups != NULL
        && !(sw & 1))
    {
        g = capif_groups_find(&registry, res.group_id.data,
                              res.group_id.len);
        FUZZ_CHECK(g != NULL);
        FUZZ_CHECK(capif_group_has(g, (const unsigned char *) owner,
                                   owner_len));
    }

    if (pol.npurposes > 0 && res.purpose.len > 0) {
        for (i = 0; i < pol.npurposes; i++) {
            if (purposes[i].len == res.purpose.len
                && memcmp(purposes[i].data, res.purpose.data,
                          res.purpose.len) == 0)
            {
                break;
            }
        }

        FUZZ_CHECK(i < pol.npurposes);
    }

free:

    json_decref(claims);

done:

    free(owner);
    free(purpose);

    return 0;
}

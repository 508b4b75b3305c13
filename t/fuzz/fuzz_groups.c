/*
 * Copyright (C) ngx_capif_module authors
 *
 * libFuzzer target: the group registry file (capif_groups_parse), the
 * JSON an operator's capif_group_registry names.
 * Properties of a registry that loads: groups are sorted by id with no
 * duplicates, each group's members are sorted with no duplicates, every
 * group is found by its id and has each of its members, the member count
 * adds up; a refusal says why.
 */

#include "capif_groups.h"
#include "fuzz.h"


/* the registry's order: by length, then bytes */
static int
id_cmp(const capif_id_t *a, const capif_id_t *b)
{
    if (a->len != b->len) {
        return a->len < b->len ? -1 : 1;
    }

    return memcmp(a->data, b->data, a->len);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                  errbuf[256];
    size_t                i, j, total;
    capif_groups_t        reg;
    const capif_group_t  *g, *found;

    memset(&reg, 0, sizeof(reg));
    errbuf[0] = '\0';

    if (capif_groups_parse(&reg, data, size, errbuf, sizeof(errbuf)) != 0) {
        FUZZ_CHECK(errbuf[0] != '\0');
        capif_groups_free(&reg);
        return 0;
    }

    total = 0;

    for (i = 0; i < reg.ngroups; i++) {
        g = &reg.groups[i];

        if (i > 0) {
            FUZZ_CHECK(id_cmp(&reg.groups[i - 1].id, &g->id) < 0);
        }

        found = capif_groups_find(&reg, g->id.data, g->id.len);
        FUZZ_CHECK(found == g);

        for (j = 0; j < g->nmembers; j++) {
            if (j > 0) {
                FUZZ_CHECK(id_cmp(&g->members[j - 1], &g->members[j]) < 0);
            }

            FUZZ_CHECK(capif_group_has(g, g->members[j].data,
                                       g->members[j].len));
        }

        total += g->nmembers;
    }

    FUZZ_CHECK(total == reg.nmembers);

    /* the raw input as a lookup key: must not read past it */
    (void) capif_groups_find(&reg, data, size);

    for (i = 0; i < reg.ngroups; i++) {
        (void) capif_group_has(&reg.groups[i], data, size);
    }

    capif_groups_free(&reg);

    return 0;
}

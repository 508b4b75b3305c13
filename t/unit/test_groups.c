/*
 * Copyright (C) ngx_capif_module authors
 *
 * The group registry: strict loading and fast lookups.
 */

#include <stdlib.h>
#include <time.h>
#include "unit.h"
#include "capif_groups.h"


static int
parse(capif_groups_t *reg, const char *json, char *err, size_t errlen)
{
    err[0] = '\0';
    return capif_groups_parse(reg, (const unsigned char *) json,
                              strlen(json), err, errlen);
}


static int
refused(const char *json, const char *needle)
{
    int             rc;
    char            err[512];
    capif_groups_t  reg;

    rc = parse(&reg, json, err, sizeof(err));
    if (rc == 0) {
        capif_groups_free(&reg);
        return 0;
    }

    if (strstr(err, needle) == NULL) {
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", err, needle);
        return 0;
    }

    return 1;
}


#define HAS(reg, g, m)                                                    \
    capif_group_has(capif_groups_find(reg, (const unsigned char *) g,    \
                                      strlen(g)),                         \
                    (const unsigned char *) m, strlen(m))


static void
test_basic(void)
{
    char            err[512];
    capif_groups_t  reg;

    CHECK(parse(&reg,
                "{\"extgroupid-team1@example.com\": [\"msisdn-491700000001\","
                " \"msisdn-491700000002\", \"extid-carol@example.com\"],"
                " \"extgroupid-team2@example.com\": [\"msisdn-491700000003\"],"
                " \"extgroupid-empty@example.com\": []}",
                err, sizeof(err)) == 0);
    CHECK(reg.ngroups == 3);
    CHECK(reg.nmembers == 4);

    CHECK(HAS(&reg, "extgroupid-team1@example.com", "msisdn-491700000001"));
    CHECK(HAS(&reg, "extgroupid-team1@example.com", "msisdn-491700000002"));
    CHECK(HAS(&reg, "extgroupid-team1@example.com",
              "extid-carol@example.com"));
    CHECK(!HAS(&reg, "extgroupid-team1@example.com", "msisdn-491700000003"));
    CHECK(HAS(&reg, "extgroupid-team2@example.com", "msisdn-491700000003"));
    CHECK(!HAS(&reg, "extgroupid-team2@example.com", "msisdn-491700000001"));
    CHECK(!HAS(&reg, "extgroupid-empty@example.com", "msisdn-491700000001"));
    CHECK(capif_groups_find(&reg, (const unsigned char *)
                            "extgroupid-empty@example.com", 28) != NULL);

    /* byte-exact: no prefix, case or padding matches */
    CHECK(!HAS(&reg, "extgroupid-team1@example.com", "msisdn-49170000000"));
    CHECK(!HAS(&reg, "extgroupid-team1@example.com",
               "msisdn-4917000000010"));
    CHECK(!HAS(&reg, "extgroupid-team1@example.com",
               "extid-Carol@example.com"));
    CHECK(!HAS(&reg, "extgroupid-team1@example.com",
               " msisdn-491700000001"));
    CHECK(capif_groups_find(&reg, (const unsigned char *)
                            "extgroupid-TEAM1@example.com", 28) == NULL);
    CHECK(capif_groups_find(&reg, (const unsigned char *)
                            "extgroupid-team1@example.co", 27) == NULL);
    CHECK(capif_groups_find(&reg, (const unsigned char *) "", 0) == NULL);
    CHECK(capif_groups_find(NULL, (const unsigned char *) "x", 1) == NULL);
    CHECK(!capif_group_has(NULL, (const unsigned char *) "x", 1));

    capif_groups_free(&reg);

    CHECK(parse(&reg, "{}", err, sizeof(err)) == 0);
    CHECK(reg.ngroups == 0);
    CHECK(capif_groups_find(&reg, (const unsigned char *) "x", 1) == NULL);
    capif_groups_free(&reg);
}


static void
test_refused(void)
{
    CHECK(refused("", "invalid JSON"));
    CHECK(refused("{", "invalid JSON"));
    CHECK(refused("[]", "not a JSON object"));
    CHECK(refused("\"x\"", "invalid JSON") || refused("\"x\"", "object"));
    CHECK(refused("{\"extgroupid-a@b.c\": [\"msisdn-12345\"]} x",
                  "invalid JSON"));
    CHECK(refused("{\"extgroupid-a@b.c\": [], \"extgroupid-a@b.c\": []}",
                  "invalid JSON"));
    CHECK(refused("{\"team1\": []}", "group id \"team1\""));
    CHECK(refused("{\"extgroupid-A@B.C\": []}", "is not extgroupid"));
    CHECK(refused("{\"extgroupid-a@b.c\": \"msisdn-12345\"}",
                  "not an array"));
    CHECK(refused("{\"extgroupid-a@b.c\": {\"m\": \"msisdn-12345\"}}",
                  "not an array"));
    CHECK(refused("{\"extgroupid-a@b.c\": [12345]}", "not a string"));
    CHECK(refused("{\"extgroupid-a@b.c\": [null]}", "not a string"));
    CHECK(refused("{\"extgroupid-a@b.c\": [[\"msisdn-12345\"]]}",
                  "not a string"));
    CHECK(refused("{\"extgroupid-a@b.c\": [\"msisdn-1234\"]}",
                  "member \"msisdn-1234\" is not a GPSI"));
    CHECK(refused("{\"extgroupid-a@b.c\": [\"msisdn-12\\u0000345\"]}",
                  "invalid JSON"));
    CHECK(refused("{\"extgroupid-a@b.c\": [\"msisdn-12345\\n\"]}",
                  "\\x0a"));
    CHECK(refused("{\"extgroupid-a@b.c\": [\"msisdn-12345\", "
                  "\"msisdn-99999\", \"msisdn-12345\"]}", "twice"));
}


static void
test_file(void)
{
    int             rc;
    char            err[512];
    FILE           *f;
    capif_groups_t  reg;
    const char     *path = "/tmp/capif_test_groups.json";

    CHECK(capif_groups_load_file(&reg, "/nonexistent/groups.json", err,
                                 sizeof(err)) == -1);
    CHECK(strstr(err, "cannot open") != NULL);

    CHECK(capif_groups_load_file(&reg, "/tmp", err, sizeof(err)) == -1);

    f = fopen(path, "w");
    CHECK(f != NULL);
    if (f == NULL) {
        return;
    }

    fputs("{\"extgroupid-a@b.c\": [\"msisdn-12345\"]}", f);
    fclose(f);

    rc = capif_groups_load_file(&reg, path, err, sizeof(err));
    CHECK(rc == 0);
    if (rc == 0) {
        CHECK(HAS(&reg, "extgroupid-a@b.c", "msisdn-12345"));
        capif_groups_free(&reg);
    }

    /* one byte over the cap, refused before it is read */
    f = fopen(path, "w");
    CHECK(f != NULL && fseek(f, CAPIF_GROUPS_MAX_FILE, SEEK_SET) == 0);
    fputc(' ', f);
    fclose(f);

    CHECK(capif_groups_load_file(&reg, path, err, sizeof(err)) == -1);
    CHECK(strstr(err, "larger than") != NULL);

    remove(path);
}


/* 10^5 members in 100 groups, then 10^6 lookups */
static void
test_large(void)
{
    int             rc;
    char           *json, *p, m[32], g[64];
    size_t          i, j, hits;
    clock_t         t0;
    double          secs;
    capif_groups_t  reg;
    char            err[512];

    json = malloc(4 * 1024 * 1024);
    CHECK(json != NULL);
    if (json == NULL) {
        return;
    }

    p = json;
    *p++ = '{';

    for (i = 0; i < 100; i++) {
        p += sprintf(p, "%s\"extgroupid-g%zu@example.com\": [",
                     i ? ", " : "", i);

        for (j = 0; j < 1000; j++) {
            p += sprintf(p, "%s\"msisdn-49%09zu\"", j ? ", " : "",
                         i * 1000 + j);
        }

        *p++ = ']';
    }

    *p++ = '}';
    *p = '\0';

    rc = parse(&reg, json, err, sizeof(err));
    free(json);
    CHECK(rc == 0);
    if (rc != 0) {
        fprintf(stderr, "%s\n", err);
        return;
    }

    CHECK(reg.nmembers == 100000);

    hits = 0;
    t0 = clock();

    for (i = 0; i < 1000000; i++) {
        j = (i * 7919) % 100000;
        snprintf(g, sizeof(g), "extgroupid-g%zu@example.com",
                 (i & 1) ? j / 1000 : (j / 1000 + 1) % 100);
        snprintf(m, sizeof(m), "msisdn-49%09zu", j);
        hits += HAS(&reg, g, m);
    }

    secs = (double) (clock() - t0) / CLOCKS_PER_SEC;

    CHECK(hits == 500000);
    printf("test_groups: 10^6 lookups in 10^5 members: %.3f s\n", secs);

    /* generous even under sanitizers: about 1 us a lookup */
    CHECK(secs < 5.0);

    capif_groups_free(&reg);
}


int
main(void)
{
    test_basic();
    test_refused();
    test_file();
    test_large();

    return UNIT_DONE();
}

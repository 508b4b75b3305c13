/*
 * Copyright (C) ngx_capif_module authors
 *
 * The group registry: which GPSIs belong to which External Group ID.  It
 * is read from a JSON file at configuration time ({"<group id>":
 * ["<gpsi>", ...], ...}), checked strictly, and then only read: groups and
 * each group's members are sorted arrays searched by bisection, so a
 * lookup costs O(log n) comparisons however large the file.
 */

#ifndef CAPIF_GROUPS_H
#define CAPIF_GROUPS_H

#include <stddef.h>


/* larger files are refused before they are read */
#define CAPIF_GROUPS_MAX_FILE     (16 * 1024 * 1024)

/* members summed over all groups */
#define CAPIF_GROUPS_MAX_MEMBERS  1000000


typedef struct {
    const unsigned char  *data;
    size_t                len;
} capif_id_t;


typedef struct {
    capif_id_t            id;
    capif_id_t           *members;     /* sorted, no duplicates */
    size_t                nmembers;
} capif_group_t;


typedef struct {
    capif_group_t        *groups;      /* sorted by id */
    size_t                ngroups;
    size_t                nmembers;    /* over all groups */
    capif_id_t           *member_mem;  /* one block for every member */
    unsigned char        *strings;     /* one block for every string */
} capif_groups_t;


/*
 * Both return 0, or -1 with errbuf saying what is wrong and where (which
 * group, which member).  On failure nothing needs freeing; on success
 * release with capif_groups_free().
 */
int capif_groups_parse(capif_groups_t *reg, const unsigned char *data,
    size_t len, char *errbuf, size_t errlen);

int capif_groups_load_file(capif_groups_t *reg, const char *path,
    char *errbuf, size_t errlen);

void capif_groups_free(capif_groups_t *reg);

/* NULL if the group is not in the registry */
const capif_group_t *capif_groups_find(const capif_groups_t *reg,
    const unsigned char *id, size_t len);

/* 1 if gpsi is a member of grp */
int capif_group_has(const capif_group_t *grp, const unsigned char *gpsi,
    size_t len);


#endif /* CAPIF_GROUPS_H */

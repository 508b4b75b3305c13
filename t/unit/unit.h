/*
 * Copyright (C) ngx_capif_module authors
 *
 * A minimal test harness for the pure-C core: every CHECK counts, and a
 * program exits non-zero if any failed.
 */

#ifndef UNIT_H
#define UNIT_H

#include <stdio.h>
#include <string.h>

static int  unit_passed;
static int  unit_failed;

#define CHECK(cond)                                                       \
    do {                                                                  \
        if (cond) {                                                       \
            unit_passed++;                                                \
        } else {                                                          \
            unit_failed++;                                                \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n",                  \
                    __FILE__, __LINE__, #cond);                           \
        }                                                                 \
    } while (0)

#define UNIT_DONE()                                                       \
    (printf("%s: %d checks passed, %d failed\n", __FILE__,               \
            unit_passed, unit_failed), unit_failed != 0)

#endif /* UNIT_H */

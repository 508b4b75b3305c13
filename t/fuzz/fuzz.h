/*
 * Copyright (C) ngx_capif_module authors
 *
 * Shared by the libFuzzer targets t/fuzz/fuzz_*.c.  FUZZ_CHECK() aborts,
 * so that a broken property is a crash libFuzzer keeps.
 */

#ifndef CAPIF_FUZZ_H
#define CAPIF_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#define FUZZ_CHECK(c)                                                      \
    do {                                                                   \
        if (!(c)) {                                                        \
            fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__,     \
                    __LINE__, #c);                                         \
            abort();                                                       \
        }                                                                  \
    } while (0)


/* writes text to a new temporary file, for the loaders that take paths */
static inline char *
fuzz_temp_file(const char *text)
{
    int    fd;
    char  *path;

    path = strdup("/tmp/capif_fuzz_XXXXXX");
    FUZZ_CHECK(path != NULL);

    fd = mkstemp(path);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(write(fd, text, strlen(text)) == (ssize_t) strlen(text));
    close(fd);

    return path;
}


/* splits off the first n bytes of the input as a NUL-terminated string */
static inline char *
fuzz_take(const uint8_t **data, size_t *size, size_t n)
{
    char  *s;

    if (n > *size) {
        n = *size;
    }

    s = malloc(n + 1);
    FUZZ_CHECK(s != NULL);
    memcpy(s, *data, n);
    s[n] = '\0';
    *data += n;
    *size -= n;

    return s;
}

#endif /* CAPIF_FUZZ_H */

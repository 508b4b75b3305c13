/*
 * Copyright (C) ngx_capif_module authors
 */

#include "capif_b64url.h"


static const unsigned char  capif_b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


/* 0..63 for the alphabet, 64 for every other byte */
static const unsigned char  capif_b64url_values[256] = {
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 62, 64, 64,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 64, 64, 64, 64, 64, 64,
    64,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 64, 64, 64, 64, 63,
    64, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64
};

#define capif_b64url_value(c)  capif_b64url_values[(unsigned char) (c)]


long
capif_b64url_decode(const unsigned char *in, size_t len, unsigned char *out)
{
    size_t          i, n;
    unsigned char   v[4];

    /* one leftover character carries only 6 bits: never a whole byte */
    if (len % 4 == 1) {
        return -1;
    }

    n = 0;

    for (i = 0; i + 4 <= len; i += 4) {
        v[0] = capif_b64url_value(in[i]);
        v[1] = capif_b64url_value(in[i + 1]);
        v[2] = capif_b64url_value(in[i + 2]);
        v[3] = capif_b64url_value(in[i + 3]);

        if ((v[0] | v[1] | v[2] | v[3]) & 64) {
            return -1;
        }

        out[n++] = (unsigned char) (v[0] << 2 | v[1] >> 4);
        out[n++] = (unsigned char) (v[1] << 4 | v[2] >> 2);
        out[n++] = (unsigned char) (v[2] << 6 | v[3]);
    }

    switch (len - i) {

    case 2:
        v[0] = capif_b64url_value(in[i]);
        v[1] = capif_b64url_value(in[i + 1]);

        /* the 4 unused bits must be zero, or two strings decode alike */
        if (((v[0] | v[1]) & 64) || (v[1] & 0x0f)) {
            return -1;
        }

        out[n++] = (unsigned char) (v[0] << 2 | v[1] >> 4);
        break;

    case 3:
        v[0] = capif_b64url_value(in[i]);
        v[1] = capif_b64url_value(in[i + 1]);
        v[2] = capif_b64url_value(in[i + 2]);

        if (((v[0] | v[1] | v[2]) & 64) || (v[2] & 0x03)) {
            return -1;
        }

        out[n++] = (unsigned char) (v[0] << 2 | v[1] >> 4);
        out[n++] = (unsigned char) (v[1] << 4 | v[2] >> 2);
        break;

    default:
        break;
    }

    return (long) n;
}


size_t
capif_b64url_encode(const unsigned char *in, size_t len, unsigned char *out)
{
    size_t          i, n;
    unsigned long   w;

    n = 0;

    for (i = 0; i + 3 <= len; i += 3) {
        w = (unsigned long) in[i] << 16 | in[i + 1] << 8 | in[i + 2];
        out[n++] = capif_b64url_alphabet[w >> 18 & 63];
        out[n++] = capif_b64url_alphabet[w >> 12 & 63];
        out[n++] = capif_b64url_alphabet[w >> 6 & 63];
        out[n++] = capif_b64url_alphabet[w & 63];
    }

    if (len - i == 1) {
        w = (unsigned long) in[i] << 16;
        out[n++] = capif_b64url_alphabet[w >> 18 & 63];
        out[n++] = capif_b64url_alphabet[w >> 12 & 63];

    } else if (len - i == 2) {
        w = (unsigned long) in[i] << 16 | in[i + 1] << 8;
        out[n++] = capif_b64url_alphabet[w >> 18 & 63];
        out[n++] = capif_b64url_alphabet[w >> 12 & 63];
        out[n++] = capif_b64url_alphabet[w >> 6 & 63];
    }

    return n;
}

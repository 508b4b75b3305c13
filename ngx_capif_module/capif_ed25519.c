/*
 * Copyright (C) ngx_capif_module authors
 *
 * Runs once per key at load time, so plain BIGNUM arithmetic on
 * -x^2 + y^2 = 1 + d x^2 y^2 is fast enough: [L]P takes about 380 point
 * additions in projective coordinates, about 1 ms.
 */

#include <string.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include "capif_ed25519.h"


/* p = 2^255 - 19, d = -121665/121666 mod p, L = 2^252 + 2774...3493 */
static const char  capif_ed25519_d[] =
    "52036cee2b6ffe738cc740797779e89800700a4d4141d8ab75eb4dca135978a3";
static const char  capif_ed25519_l[] =
    "1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed";


typedef struct {
    BN_CTX  *ctx;
    BIGNUM  *p;
    BIGNUM  *d;
} capif_ed25519_t;


/*
 * (X1:Y1:Z1) + (X2:Y2:Z2) in projective coordinates (x = X/Z, y = Y/Z),
 * into r, which may alias either; no inversion.  The law is complete on
 * this curve (a = -1 is a square, d is not), so no case is special:
 *   A = Z1 Z2, B = A^2, C = X1 X2, D = Y1 Y2, E = d C D,
 *   X3 = A (B - E) ((X1 + Y1)(X2 + Y2) - C - D),
 *   Y3 = A (B + E) (D + C), Z3 = (B - E)(B + E).
 */
static int
capif_ed25519_add(capif_ed25519_t *ed, BIGNUM **r, BIGNUM *const *p1,
    BIGNUM *const *p2)
{
    int      ok;
    BIGNUM  *a, *b, *c, *d, *e, *f, *g, *h;

    BN_CTX_start(ed->ctx);

    a = BN_CTX_get(ed->ctx);
    b = BN_CTX_get(ed->ctx);
    c = BN_CTX_get(ed->ctx);
    d = BN_CTX_get(ed->ctx);
    e = BN_CTX_get(ed->ctx);
    f = BN_CTX_get(ed->ctx);
    g = BN_CTX_get(ed->ctx);
    h = BN_CTX_get(ed->ctx);

    ok = h != NULL
         && BN_mod_mul(a, p1[2], p2[2], ed->p, ed->ctx)
         && BN_mod_sqr(b, a, ed->p, ed->ctx)
         && BN_mod_mul(c, p1[0], p2[0], ed->p, ed->ctx)
         && BN_mod_mul(d, p1[1], p2[1], ed->p, ed->ctx)
         && BN_mod_mul(e, c, d, ed->p, ed->ctx)
         && BN_mod_mul(e, e, ed->d, ed->p, ed->ctx)
         && BN_mod_sub(f, b, e, ed->p, ed->ctx)
         && BN_mod_add(g, b, e, ed->p, ed->ctx)
         /* h = (X1 + Y1)(X2 + Y2) - C - D */
         && BN_mod_add(h, p1[0], p1[1], ed->p, ed->ctx)
         && BN_mod_add(e, p2[0], p2[1], ed->p, ed->ctx)
         && BN_mod_mul(h, h, e, ed->p, ed->ctx)
         && BN_mod_sub(h, h, c, ed->p, ed->ctx)
         && BN_mod_sub(h, h, d, ed->p, ed->ctx)
         /* D + C is all Y3 needs of C and D */
         && BN_mod_add(d, d, c, ed->p, ed->ctx)
         && BN_mod_mul(r[0], a, f, ed->p, ed->ctx)
         && BN_mod_mul(r[0], r[0], h, ed->p, ed->ctx)
         && BN_mod_mul(r[1], a, g, ed->p, ed->ctx)
         && BN_mod_mul(r[1], r[1], d, ed->p, ed->ctx)
         && BN_mod_mul(r[2], f, g, ed->p, ed->ctx);

    BN_CTX_end(ed->ctx);

    return ok ? 0 : -1;
}


/* [k]pt into r: double and add, from the top bit; r must not alias pt */
static int
capif_ed25519_mul(capif_ed25519_t *ed, BIGNUM **r, const BIGNUM *k,
    BIGNUM *const *pt)
{
    int  i;

    BN_zero(r[0]);
    if (!BN_one(r[1]) || !BN_one(r[2])) {
        return -1;
    }

    for (i = BN_num_bits(k) - 1; i >= 0; i--) {
        if (capif_ed25519_add(ed, r, r, r) != 0) {
            return -1;
        }

        if (BN_is_bit_set(k, i) && capif_ed25519_add(ed, r, r, pt) != 0) {
            return -1;
        }
    }

    return 0;
}


/* the neutral point: x = 0 and y = 1, so X = 0 and Y = Z */
static int
capif_ed25519_is_neutral(BIGNUM *const *pt)
{
    return BN_is_zero(pt[0]) && BN_cmp(pt[1], pt[2]) == 0;
}


/* the check proper, with every BIGNUM allocated; NULL if honest */
static const char *
capif_ed25519_judge(capif_ed25519_t *ed, const unsigned char pub[32])
{
    int             i, sign;
    BIGNUM         *x, *y, *u, *v, *k, *pt[3], *r[3];
    unsigned char   le[32];

    static const char  *nomem = "cannot be checked: out of memory";

    for (i = 0; i < 3; i++) {
        pt[i] = BN_CTX_get(ed->ctx);
        r[i] = BN_CTX_get(ed->ctx);
    }

    x = pt[0];
    y = pt[1];
    u = BN_CTX_get(ed->ctx);
    v = BN_CTX_get(ed->ctx);
    k = BN_CTX_get(ed->ctx);

    if (k == NULL || !BN_one(pt[2])) {
        return nomem;
    }

    /* y is little-endian with the sign of x in the top bit */
    memcpy(le, pub, 32);
    sign = le[31] >> 7;
    le[31] &= 0x7f;

    if (BN_lebin2bn(le, 32, y) == NULL) {
        return nomem;
    }

    if (BN_cmp(y, ed->p) >= 0) {
        return "is not canonically encoded";
    }

    /* x^2 = (y^2 - 1) / (d y^2 + 1), which must be a square */
    if (!BN_mod_sqr(v, y, ed->p, ed->ctx)
        || !BN_mod_sub(u, v, BN_value_one(), ed->p, ed->ctx)
        || !BN_mod_mul(v, v, ed->d, ed->p, ed->ctx)
        || !BN_mod_add(v, v, BN_value_one(), ed->p, ed->ctx)
        || BN_mod_inverse(v, v, ed->p, ed->ctx) == NULL
        || !BN_mod_mul(u, u, v, ed->p, ed->ctx))
    {
        return nomem;
    }

    if (BN_mod_sqrt(x, u, ed->p, ed->ctx) == NULL) {
        /* OpenSSL queues "not a square"; it is our answer, not an error */
        ERR_clear_error();
        return "is not a point of the curve";
    }

    if (BN_is_odd(x) != sign && !BN_is_zero(x)
        && !BN_sub(x, ed->p, x))
    {
        return nomem;
    }

    /* x = 0 with the sign bit set only encodes y = 1 or -1: small order */

    if (!BN_set_word(k, 8) || capif_ed25519_mul(ed, r, k, pt) != 0) {
        return nomem;
    }

    if (capif_ed25519_is_neutral(r)) {
        return "is a point of small order";
    }

    if (BN_hex2bn(&k, capif_ed25519_l) == 0
        || capif_ed25519_mul(ed, r, k, pt) != 0)
    {
        return nomem;
    }

    if (!capif_ed25519_is_neutral(r)) {
        return "is not in the prime-order subgroup (it has a component "
               "of small order)";
    }

    return NULL;
}


const char *
capif_ed25519_check(const unsigned char pub[32])
{
    const char       *why;
    capif_ed25519_t   ed;

    why = "cannot be checked: out of memory";

    ed.ctx = BN_CTX_new();
    if (ed.ctx == NULL) {
        return why;
    }

    BN_CTX_start(ed.ctx);

    ed.p = BN_CTX_get(ed.ctx);
    ed.d = BN_CTX_get(ed.ctx);

    /* p = 2^255 - 19 */
    if (ed.d != NULL
        && BN_set_bit(ed.p, 255) && BN_sub_word(ed.p, 19)
        && BN_hex2bn(&ed.d, capif_ed25519_d) != 0)
    {
        why = capif_ed25519_judge(&ed, pub);
    }

    BN_CTX_end(ed.ctx);
    BN_CTX_free(ed.ctx);

    return why;
}

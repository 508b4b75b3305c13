/*
 * Copyright (C) ngx_capif_module authors
 *
 * libFuzzer target: the revocation record codec, the bytes of the journal
 * and of the shared zone (capif_rev_decode, capif_rev_key_decode).
 * Round-trip properties: a record that decodes is valid and encodes to
 * exactly the bytes it came from, and its key decodes to the same type
 * and fields; a key that decodes encodes back to itself when it is a
 * valid record's key.  A version 1 record (cause as a code) encodes as
 * version 2 (cause as a string), which decodes to an equal record.  Then
 * the other way: the input, read as a record (type, times, three fields
 * and the cause), encodes when it is valid, and that encoding decodes to
 * an equal record.
 */

#include "capif_revocation.h"
#include "fuzz.h"


static int
str_eq(const capif_rev_str_t *a, const capif_rev_str_t *b)
{
    return a->len == b->len
           && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}


static int
record_eq(const capif_rev_record_t *x, const capif_rev_record_t *y)
{
    return x->type == y->type && str_eq(&x->cause, &y->cause)
           && x->revoked_at == y->revoked_at && x->expires == y->expires
           && str_eq(&x->a, &y->a) && str_eq(&x->b, &y->b)
           && str_eq(&x->c, &y->c);
}


static void
check_key(const capif_rev_record_t *r)
{
    size_t              n;
    unsigned char       key[CAPIF_REV_KEY_MAX];
    capif_rev_record_t  k;

    n = capif_rev_key(r, key, sizeof(key));
    FUZZ_CHECK(n > 0);
    FUZZ_CHECK(capif_rev_key_decode(&k, key, n) == 0);
    FUZZ_CHECK(k.type == r->type && str_eq(&k.a, &r->a)
               && str_eq(&k.b, &r->b) && str_eq(&k.c, &r->c));
}


static void
from_bytes(const uint8_t *data, size_t size)
{
    size_t              n;
    unsigned char       out[CAPIF_REV_RECORD_MAX], *copy;
    capif_rev_record_t  r, back;

    /* an exact-size copy: ASan sees any read past the length */
    copy = malloc(size ? size : 1);
    FUZZ_CHECK(copy != NULL);
    memcpy(copy, data, size);

    if (capif_rev_decode(&r, copy, size) == 0) {
        FUZZ_CHECK(capif_rev_record_valid(&r));
        n = capif_rev_encode(&r, out, sizeof(out));
        FUZZ_CHECK(n > 0);
        if (copy[0] == CAPIF_REV_VERSION) {
            FUZZ_CHECK(n == size && memcmp(out, copy, size) == 0);
        } else {
            FUZZ_CHECK(capif_rev_decode(&back, out, n) == 0);
            FUZZ_CHECK(record_eq(&r, &back));
        }
        (void) capif_rev_cause_known(r.cause.data, r.cause.len);
        (void) capif_rev_type_name(r.type);
        check_key(&r);
    }

    if (capif_rev_key_decode(&r, copy, size) == 0) {
        r.cause.data = (const unsigned char *) "OTHER_REASON";
        r.cause.len = sizeof("OTHER_REASON") - 1;
        if (capif_rev_record_valid(&r)) {
            n = capif_rev_key(&r, out, sizeof(out));
            FUZZ_CHECK(n == size && memcmp(out, copy, size) == 0);
        }
    }

    free(copy);
}


static long long
get_i64(const uint8_t *p)
{
    int                 i;
    unsigned long long  v;

    v = 0;
    for (i = 0; i < 8; i++) {
        v = (v << 8) | p[i];
    }

    return (long long) v;
}


static void
from_fields(const uint8_t *data, size_t size)
{
    size_t              n, la, lb, lc, lcause;
    unsigned char       out[CAPIF_REV_RECORD_MAX];
    capif_rev_record_t  r, back;

    /*
     * type, cause length, revoked_at, expires, three field lengths, the
     * three fields, the cause
     */
    if (size < 2 + 16 + 3) {
        return;
    }

    memset(&r, 0, sizeof(r));
    r.type = (capif_rev_type_t) data[0];
    lcause = data[1];
    r.revoked_at = get_i64(data + 2);
    r.expires = get_i64(data + 10);
    la = data[18];
    lb = data[19];
    lc = data[20];
    data += 21;
    size -= 21;

    if (la + lb + lc + lcause > size) {
        return;
    }

    r.a.data = data;
    r.a.len = la;
    r.b.data = data + la;
    r.b.len = lb;
    r.c.data = data + la + lb;
    r.c.len = lc;
    r.cause.data = data + la + lb + lc;
    r.cause.len = lcause;

    n = capif_rev_encode(&r, out, sizeof(out));

    if (!capif_rev_record_valid(&r)) {
        FUZZ_CHECK(n == 0);
        return;
    }

    FUZZ_CHECK(n > 0);
    FUZZ_CHECK(capif_rev_decode(&back, out, n) == 0);
    FUZZ_CHECK(record_eq(&r, &back));
    check_key(&r);

    /* too small a buffer is refused, never overrun */
    FUZZ_CHECK(capif_rev_encode(&r, out, n - 1) == 0);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    from_bytes(data, size);
    from_fields(data, size);

    return 0;
}

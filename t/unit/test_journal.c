/*
 * Copyright (C) ngx_capif_module authors
 *
 * Journal framing: round trip, CRC, torn and corrupt tails; pushes as
 * units (version 2) and the replay of version 1 and 2 journals.
 */

#include <stdlib.h>
#include "capif_journal.h"
#include "unit.h"


static size_t
build(unsigned char *buf, size_t size, int frames)
{
    int            i;
    size_t         len, n;
    unsigned char  payload[64];

    capif_journal_header(buf);
    len = CAPIF_JOURNAL_HEADER_LEN;

    for (i = 0; i < frames; i++) {
        memset(payload, 'a' + i, sizeof(payload));
        n = capif_journal_frame(buf + len, size - len, payload,
                                (size_t) (10 + i));
        CHECK(n == (size_t) (10 + i + CAPIF_JOURNAL_FRAME_OVERHEAD));
        len += n;
    }

    return len;
}


static int
count(const unsigned char *buf, size_t len, size_t *valid_end, int *rc)
{
    int                      n;
    size_t                   plen;
    const unsigned char     *payload;
    capif_journal_reader_t   rd;

    if (capif_journal_open(&rd, buf, len) != CAPIF_JOURNAL_OK) {
        *rc = -2;
        return 0;
    }

    n = 0;

    while ((*rc = capif_journal_next(&rd, &payload, &plen)) == 1) {
        CHECK(plen == (size_t) (10 + n));
        CHECK(payload[0] == 'a' + n);
        n++;
    }

    *valid_end = rd.valid_end;
    return n;
}


/* a record of an invoker revocation, encoded */
static size_t
rec(unsigned char *out, const char *inv, long long expires)
{
    capif_rev_record_t  r;

    memset(&r, 0, sizeof(r));
    r.type = CAPIF_REV_INVOKER;
    r.cause.data = (const unsigned char *) "OTHER_REASON";
    r.cause.len = 12;
    r.revoked_at = 1000;
    r.expires = expires;
    r.a.data = (const unsigned char *) inv;
    r.a.len = strlen(inv);
    r.b.data = (const unsigned char *) "aef-1";
    r.b.len = 5;
    r.c.data = (const unsigned char *) "api-1";
    r.c.len = 5;

    return capif_rev_encode(&r, out, CAPIF_REV_RECORD_MAX);
}


/* a version 2 frame of a push of n invokers named <prefix><i> */
static size_t
push(unsigned char *out, size_t size, const char *prefix, int n,
    long long expires)
{
    int            i;
    char           name[32];
    size_t         len, plen;
    unsigned char  r[CAPIF_REV_RECORD_MAX], payload[4096];

    plen = 0;

    for (i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "%s%d", prefix, i);
        len = rec(r, name, expires);
        CHECK(len > 0);
        len = capif_journal_push_add(payload + plen, sizeof(payload) - plen,
                                     r, len);
        CHECK(len > 0);
        plen += len;
    }

    return capif_journal_frame(out, size, payload, plen);
}


typedef struct {
    int   n;
    char  names[64][32];
    int   stop_at;
} applied_t;


static int
apply(void *data, const capif_rev_record_t *r)
{
    applied_t  *a = data;

    if (a->n == a->stop_at) {
        return 1;
    }

    if (a->n < 64 && r->a.len < 32) {
        memcpy(a->names[a->n], r->a.data, r->a.len);
        a->names[a->n][r->a.len] = '\0';
    }

    a->n++;

    return 0;
}


static void
test_pushes(void)
{
    int                    i, n;
    size_t                 len, plen;
    unsigned char          buf[8192], payload[16];
    const unsigned char   *p;
    capif_journal_push_t   ps;
    capif_journal_reader_t rd;

    /* a push of three records reads back as one unit of three */
    capif_journal_header(buf);
    len = CAPIF_JOURNAL_HEADER_LEN;
    len += push(buf + len, sizeof(buf) - len, "INV-", 3, 5000);

    CHECK(capif_journal_open(&rd, buf, len) == CAPIF_JOURNAL_OK);
    CHECK(rd.version == CAPIF_JOURNAL_VERSION);
    CHECK(capif_journal_next_push(&rd, &ps) == 1);

    for (n = 0; capif_journal_push_record(&ps, &p, &plen); n++) {
        capif_rev_record_t  r;

        CHECK(capif_rev_decode(&r, p, plen) == 0);
    }

    CHECK(n == 3);
    CHECK(capif_journal_next_push(&rd, &ps) == 0);
    CHECK(rd.valid_end == len);

    /* record lengths that do not add up to the frame: a corrupt tail */
    memset(payload, 0, sizeof(payload));
    payload[0] = 0;
    payload[1] = 5;
    memset(payload + 2, 'x', 5);
    len = CAPIF_JOURNAL_HEADER_LEN;

    for (i = 1; i <= 9; i++) {
        if (i == 7) {
            continue;           /* 2 + 5: the one that adds up */
        }

        len = CAPIF_JOURNAL_HEADER_LEN
              + capif_journal_frame(buf + CAPIF_JOURNAL_HEADER_LEN,
                                    sizeof(buf) - CAPIF_JOURNAL_HEADER_LEN,
                                    payload, (size_t) i);
        CHECK(capif_journal_open(&rd, buf, len) == CAPIF_JOURNAL_OK);
        CHECK(capif_journal_next_push(&rd, &ps) == -1);
        CHECK(rd.valid_end == CAPIF_JOURNAL_HEADER_LEN && rd.error);
    }

    /* a payload built in place is framed as a copied one */
    {
        unsigned char  a[64], b[64];

        memset(a, 0, sizeof(a));
        memcpy(a + CAPIF_JOURNAL_FRAME_OVERHEAD, "in place", 8);
        CHECK(capif_journal_frame(a, sizeof(a),
                                  a + CAPIF_JOURNAL_FRAME_OVERHEAD, 8)
              == 16);
        CHECK(capif_journal_frame(b, sizeof(b),
                                  (const unsigned char *) "in place", 8)
              == 16);
        CHECK(memcmp(a, b, 16) == 0);
    }

    /* a zero-length record is refused on both sides */
    CHECK(capif_journal_push_add(payload, sizeof(payload), buf, 0) == 0);
    CHECK(capif_journal_push_add(payload, 4, buf, 3) == 0);
    payload[0] = 0;
    payload[1] = 0;
    len = CAPIF_JOURNAL_HEADER_LEN
          + capif_journal_frame(buf + CAPIF_JOURNAL_HEADER_LEN,
                                sizeof(buf) - CAPIF_JOURNAL_HEADER_LEN,
                                payload, 2);
    CHECK(capif_journal_open(&rd, buf, len) == CAPIF_JOURNAL_OK);
    CHECK(capif_journal_next_push(&rd, &ps) == -1);
}


static void
test_replay(void)
{
    size_t                  len, cut, one, two;
    unsigned char           buf[16384], r[CAPIF_REV_RECORD_MAX];
    applied_t               a;
    capif_journal_replay_t  res;

    /* version 2: a push of 2, a push of 40, a push of 1 (expired) */
    capif_journal_header(buf);
    len = CAPIF_JOURNAL_HEADER_LEN;
    len += push(buf + len, sizeof(buf) - len, "A", 2, 5000);
    one = len;
    len += push(buf + len, sizeof(buf) - len, "B", 40, 5000);
    two = len;
    len += push(buf + len, sizeof(buf) - len, "C", 1, 10);

    memset(&a, 0, sizeof(a));
    a.stop_at = -1;
    CHECK(capif_journal_replay(buf, len, 100, apply, &a, &res) == 0);
    CHECK(res.status == CAPIF_JOURNAL_OK && res.version == 2);
    CHECK(res.pushes == 3 && res.live == 42 && res.expired == 1);
    CHECK(!res.damaged && res.valid_end == len && a.n == 42);
    CHECK(strcmp(a.names[0], "A0") == 0 && strcmp(a.names[41], "B39") == 0);

    /* every cut inside the push of 40 applies none of it */
    for (cut = one; cut < two; cut++) {
        memset(&a, 0, sizeof(a));
        a.stop_at = -1;
        CHECK(capif_journal_replay(buf, cut, 100, apply, &a, &res) == 0);
        CHECK(a.n == 2 && res.live == 2 && res.valid_end == one);
        CHECK(res.damaged == (cut != one));
    }

    /* the caller runs out of room: stop, and say so */
    memset(&a, 0, sizeof(a));
    a.stop_at = 5;
    CHECK(capif_journal_replay(buf, len, 100, apply, &a, &res) == -1);
    CHECK(res.live == 5);

    /* a torn header: nothing, damaged */
    CHECK(capif_journal_replay((const unsigned char *) "CAPIF", 5, 100,
                               apply, &a, &res) == 0);
    CHECK(res.status == CAPIF_JOURNAL_TORN_HEADER && res.damaged);
    CHECK(res.valid_end == 0);

    /* not a journal: refused */
    CHECK(capif_journal_replay((const unsigned char *) "hello", 5, 100,
                               apply, &a, &res) == -1);
    CHECK(res.status == CAPIF_JOURNAL_NOT_JOURNAL);

    /* empty */
    CHECK(capif_journal_replay(buf, 0, 100, apply, &a, &res) == 0);
    CHECK(res.status == CAPIF_JOURNAL_EMPTY && !res.damaged);

    /* version 1: a frame per record, each its own push */
    memcpy(buf, "CAPIFRJ\x01", 8);
    len = CAPIF_JOURNAL_HEADER_LEN;
    one = rec(r, "V1-a", 5000);
    len += capif_journal_frame(buf + len, sizeof(buf) - len, r, one);
    one = rec(r, "V1-b", 5000);
    len += capif_journal_frame(buf + len, sizeof(buf) - len, r, one);
    /* a record this code does not understand is skipped */
    len += capif_journal_frame(buf + len, sizeof(buf) - len,
                               (const unsigned char *) "\x09zz", 3);

    memset(&a, 0, sizeof(a));
    a.stop_at = -1;
    CHECK(capif_journal_replay(buf, len, 100, apply, &a, &res) == 0);
    CHECK(res.version == 1 && res.pushes == 3 && res.live == 2);
    CHECK(res.skipped == 1 && !res.damaged && res.valid_end == len);
    CHECK(strcmp(a.names[1], "V1-b") == 0);

    /* a cut version 1 journal keeps its whole frames */
    memset(&a, 0, sizeof(a));
    a.stop_at = -1;
    CHECK(capif_journal_replay(buf, len - 1, 100, apply, &a, &res) == 0);
    CHECK(res.live == 2 && res.damaged);
}


int
main(void)
{
    int                      rc, n;
    size_t                   len, end, cut, full[6];
    unsigned char            buf[4096], copy[4096];
    capif_journal_reader_t   rd;

    /* the standard check value of CRC-32 */
    CHECK(capif_crc32(0, (const unsigned char *) "123456789", 9)
          == 0xcbf43926U);

    /* empty, foreign, torn header, other version */
    CHECK(capif_journal_open(&rd, buf, 0) == CAPIF_JOURNAL_EMPTY);
    CHECK(capif_journal_open(&rd, (const unsigned char *) "hello world",
                             11) == CAPIF_JOURNAL_NOT_JOURNAL);
    CHECK(capif_journal_open(&rd, (const unsigned char *) "CAPI", 4)
          == CAPIF_JOURNAL_TORN_HEADER);
    CHECK(capif_journal_open(&rd, (const unsigned char *) "CAPIFRJ\x03", 8)
          == CAPIF_JOURNAL_BAD_VERSION);
    CHECK(capif_journal_open(&rd, (const unsigned char *) "CAPIFRJ\x00", 8)
          == CAPIF_JOURNAL_BAD_VERSION);
    CHECK(capif_journal_open(&rd, (const unsigned char *) "CAPIFRJ\x01", 8)
          == CAPIF_JOURNAL_OK && rd.version == 1);

    /* header only: no frames, clean */
    len = build(buf, sizeof(buf), 0);
    CHECK(count(buf, len, &end, &rc) == 0 && rc == 0 && end == len);

    /* five frames round-trip */
    len = build(buf, sizeof(buf), 5);
    CHECK(count(buf, len, &end, &rc) == 5 && rc == 0 && end == len);

    /* frame boundaries */
    full[0] = CAPIF_JOURNAL_HEADER_LEN;
    for (n = 1; n <= 5; n++) {
        full[n] = full[n - 1] + 10 + (n - 1) + CAPIF_JOURNAL_FRAME_OVERHEAD;
    }
    CHECK(full[5] == len);

    /* every truncation keeps exactly the whole frames before the cut */
    for (cut = CAPIF_JOURNAL_HEADER_LEN; cut < len; cut++) {
        int  whole = 0;

        while (whole < 5 && full[whole + 1] <= cut) {
            whole++;
        }

        n = count(buf, cut, &end, &rc);
        CHECK(n == whole);
        CHECK(end == full[whole]);
        CHECK(rc == (cut == full[whole] ? 0 : -1));
    }

    /* any flipped bit in frame 3 keeps frames 0..2 */
    for (cut = full[3]; cut < full[4]; cut++) {
        memcpy(copy, buf, len);
        copy[cut] ^= 0x10;
        n = count(copy, len, &end, &rc);
        CHECK(n == 3 && rc == -1 && end == full[3]);
    }

    /* garbage appended after a clean journal */
    memcpy(copy, buf, len);
    memset(copy + len, 0xff, 100);
    n = count(copy, len + 100, &end, &rc);
    CHECK(n == 5 && rc == -1 && end == len);

    /* zeros appended (a preallocated, never written tail) */
    memset(copy + len, 0, 100);
    n = count(copy, len + 100, &end, &rc);
    CHECK(n == 5 && rc == -1 && end == len);

    /* frames that cannot be written */
    CHECK(capif_journal_frame(copy, 10, buf, 5) == 0);
    CHECK(capif_journal_frame(copy, sizeof(copy), buf, 0) == 0);

    /* a huge length is refused, not trusted */
    memcpy(copy, buf, len);
    copy[full[1]] = 0x7f;
    n = count(copy, len, &end, &rc);
    CHECK(n == 1 && rc == -1 && end == full[1]);

    /* random garbage never crashes the reader */
    srand(7);
    for (n = 0; n < 2000; n++) {
        size_t  i, glen;

        glen = (size_t) (rand() % 300);
        capif_journal_header(copy);
        for (i = CAPIF_JOURNAL_HEADER_LEN; i < glen; i++) {
            copy[i] = (unsigned char) rand();
        }
        if (glen >= CAPIF_JOURNAL_HEADER_LEN
            && capif_journal_open(&rd, copy, glen) == CAPIF_JOURNAL_OK)
        {
            const unsigned char  *p;
            size_t                pl;

            while ((rc = capif_journal_next(&rd, &p, &pl)) == 1) {
                CHECK(p + pl <= copy + glen);
            }
            CHECK(rd.valid_end <= glen);
        }
    }

    test_pushes();
    test_replay();

    return UNIT_DONE();
}

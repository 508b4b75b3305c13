/*
 * Copyright (C) ngx_capif_module authors
 *
 * Journal framing: round trip, CRC, torn and corrupt tails.
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
    CHECK(capif_journal_open(&rd, (const unsigned char *) "CAPIFRJ\x02", 8)
          == CAPIF_JOURNAL_BAD_VERSION);

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

    return UNIT_DONE();
}

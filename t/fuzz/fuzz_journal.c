/*
 * Copyright (C) ngx_capif_module authors
 *
 * libFuzzer target: the journal replay of on-disk bytes — header, frames,
 * pushes of records, record decoding — must never read outside the
 * buffer, and must agree with itself: the valid prefix replays to the
 * same records with no damage.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "capif_journal.h"


typedef struct {
    const uint8_t  *buf;
    size_t          len;
    size_t          n;
    uint32_t        sum;
} fuzz_journal_t;


static int
fuzz_journal_apply(void *data, const capif_rev_record_t *r)
{
    fuzz_journal_t  *f = data;

    /* every field lies inside the buffer */
    if ((r->a.len && (r->a.data < f->buf
                      || r->a.data + r->a.len > f->buf + f->len))
        || (r->b.len && (r->b.data < f->buf
                         || r->b.data + r->b.len > f->buf + f->len))
        || (r->c.len && (r->c.data < f->buf
                         || r->c.data + r->c.len > f->buf + f->len)))
    {
        abort();
    }

    f->n++;
    f->sum = capif_crc32(f->sum, r->a.data, r->a.len);

    /* the caller may run out of room: exercise the early stop */
    return f->n == 1000 ? 1 : 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                     rc, rc2;
    fuzz_journal_t          f, g;
    capif_journal_replay_t  res, res2;

    memset(&f, 0, sizeof(f));
    f.buf = data;
    f.len = size;

    rc = capif_journal_replay(data, size, 1000, fuzz_journal_apply, &f,
                              &res);

    if (res.valid_end > size || res.live != f.n) {
        abort();
    }

    if (rc != 0 || res.status != CAPIF_JOURNAL_OK) {
        return 0;
    }

    /* the valid prefix alone: the same records, nothing damaged */
    memset(&g, 0, sizeof(g));
    g.buf = data;
    g.len = res.valid_end;

    rc2 = capif_journal_replay(data, res.valid_end, 1000,
                               fuzz_journal_apply, &g, &res2);

    if (rc2 != 0 || res2.damaged || g.n != f.n || g.sum != f.sum
        || res2.valid_end != res.valid_end)
    {
        abort();
    }

    return 0;
}

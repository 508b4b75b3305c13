/*
 * Copyright (C) ngx_capif_module authors
 */

#include <string.h>
#include "capif_journal.h"


static uint32_t  capif_crc32_table[256];
static int       capif_crc32_ready;


static void
capif_crc32_init(void)
{
    uint32_t  c, n, k;

    for (n = 0; n < 256; n++) {
        c = n;

        for (k = 0; k < 8; k++) {
            c = (c & 1) ? 0xedb88320U ^ (c >> 1) : c >> 1;
        }

        capif_crc32_table[n] = c;
    }

    capif_crc32_ready = 1;
}


uint32_t
capif_crc32(uint32_t crc, const unsigned char *data, size_t len)
{
    size_t  i;

    if (!capif_crc32_ready) {
        capif_crc32_init();
    }

    crc = ~crc;

    for (i = 0; i < len; i++) {
        crc = capif_crc32_table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
    }

    return ~crc;
}


static void
capif_journal_put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) (v >> 24);
    p[1] = (unsigned char) (v >> 16);
    p[2] = (unsigned char) (v >> 8);
    p[3] = (unsigned char) v;
}


static uint32_t
capif_journal_get_u32(const unsigned char *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | (uint32_t) p[3];
}


void
capif_journal_header(unsigned char *out)
{
    memcpy(out, CAPIF_JOURNAL_MAGIC, 7);
    out[7] = CAPIF_JOURNAL_VERSION;
}


size_t
capif_journal_frame(unsigned char *out, size_t size,
    const unsigned char *payload, size_t len)
{
    uint32_t  crc;

    if (len == 0 || len > CAPIF_JOURNAL_PUSH_MAX
        || size < capif_journal_frame_size(len))
    {
        return 0;
    }

    capif_journal_put_u32(out, (uint32_t) len);

    /* a payload built in place needs no copy */
    if (payload != out + 8) {
        memmove(out + 8, payload, len);
    }

    /* the length is covered too: a flipped length bit is caught */
    crc = capif_crc32(0, out, 4);
    crc = capif_crc32(crc, payload, len);
    capif_journal_put_u32(out + 4, crc);

    return capif_journal_frame_size(len);
}


capif_journal_open_t
capif_journal_open(capif_journal_reader_t *rd, const unsigned char *buf,
    size_t len)
{
    size_t  n;

    memset(rd, 0, sizeof(capif_journal_reader_t));
    rd->buf = buf;
    rd->len = len;

    if (len == 0) {
        return CAPIF_JOURNAL_EMPTY;
    }

    n = len < 7 ? len : 7;

    if (memcmp(buf, CAPIF_JOURNAL_MAGIC, n) != 0) {
        return CAPIF_JOURNAL_NOT_JOURNAL;
    }

    if (len < CAPIF_JOURNAL_HEADER_LEN) {
        rd->error = "journal header is cut short";
        return CAPIF_JOURNAL_TORN_HEADER;
    }

    if (buf[7] < CAPIF_JOURNAL_VERSION_MIN
        || buf[7] > CAPIF_JOURNAL_VERSION)
    {
        return CAPIF_JOURNAL_BAD_VERSION;
    }

    rd->version = buf[7];

    rd->pos = CAPIF_JOURNAL_HEADER_LEN;
    rd->valid_end = CAPIF_JOURNAL_HEADER_LEN;

    return CAPIF_JOURNAL_OK;
}


/* checks the frame at rd->pos without moving past it */
static int
capif_journal_peek(capif_journal_reader_t *rd, const unsigned char **payload,
    size_t *len)
{
    size_t                left;
    uint32_t              n, crc, max;
    const unsigned char  *p;

    if (rd->pos == rd->len) {
        return 0;
    }

    left = rd->len - rd->pos;
    p = rd->buf + rd->pos;

    if (left < CAPIF_JOURNAL_FRAME_OVERHEAD) {
        rd->error = "frame header is cut short";
        return -1;
    }

    n = capif_journal_get_u32(p);
    max = rd->version == 1 ? CAPIF_JOURNAL_PAYLOAD_MAX
                           : CAPIF_JOURNAL_PUSH_MAX;

    if (n == 0 || n > max) {
        rd->error = "frame length is out of range";
        return -1;
    }

    if (n > left - CAPIF_JOURNAL_FRAME_OVERHEAD) {
        rd->error = "frame is cut short";
        return -1;
    }

    crc = capif_crc32(0, p, 4);
    crc = capif_crc32(crc, p + 8, n);

    if (crc != capif_journal_get_u32(p + 4)) {
        rd->error = "frame checksum mismatch";
        return -1;
    }

    *payload = p + 8;
    *len = n;

    return 1;
}


int
capif_journal_next(capif_journal_reader_t *rd, const unsigned char **payload,
    size_t *len)
{
    int  rc;

    rc = capif_journal_peek(rd, payload, len);

    if (rc == 1) {
        rd->pos += capif_journal_frame_size(*len);
        rd->valid_end = rd->pos;
    }

    return rc;
}


int
capif_journal_next_push(capif_journal_reader_t *rd,
    capif_journal_push_t *push)
{
    int                   rc;
    size_t                len, n;
    const unsigned char  *payload, *p, *end;

    rc = capif_journal_peek(rd, &payload, &len);
    if (rc != 1) {
        return rc;
    }

    push->pos = payload;
    push->end = payload + len;
    push->single = (rd->version == 1);

    if (!push->single) {
        /* the lengths must add up exactly: else the push is not taken */
        end = payload + len;

        for (p = payload; p < end; p += n) {
            if ((size_t) (end - p) < CAPIF_JOURNAL_RECORD_OVERHEAD) {
                rd->error = "push record length is cut short";
                return -1;
            }

            n = ((size_t) p[0] << 8) | p[1];
            p += CAPIF_JOURNAL_RECORD_OVERHEAD;

            if (n == 0 || n > (size_t) (end - p)) {
                rd->error = "push record length is out of range";
                return -1;
            }
        }
    }

    rd->pos += capif_journal_frame_size(len);
    rd->valid_end = rd->pos;

    return 1;
}


int
capif_journal_push_record(capif_journal_push_t *push,
    const unsigned char **rec, size_t *len)
{
    size_t  n;

    if (push->pos >= push->end) {
        return 0;
    }

    if (push->single) {
        *rec = push->pos;
        *len = (size_t) (push->end - push->pos);
        push->pos = push->end;
        return 1;
    }

    /* checked by capif_journal_next_push */
    n = ((size_t) push->pos[0] << 8) | push->pos[1];

    *rec = push->pos + CAPIF_JOURNAL_RECORD_OVERHEAD;
    *len = n;
    push->pos += CAPIF_JOURNAL_RECORD_OVERHEAD + n;

    return 1;
}


size_t
capif_journal_push_add(unsigned char *out, size_t size,
    const unsigned char *rec, size_t len)
{
    if (len == 0 || len > 0xffff
        || size < len + CAPIF_JOURNAL_RECORD_OVERHEAD)
    {
        return 0;
    }

    out[0] = (unsigned char) (len >> 8);
    out[1] = (unsigned char) len;
    memcpy(out + CAPIF_JOURNAL_RECORD_OVERHEAD, rec, len);

    return len + CAPIF_JOURNAL_RECORD_OVERHEAD;
}


int
capif_journal_replay(const unsigned char *buf, size_t len, int64_t now,
    capif_journal_apply_pt apply, void *data, capif_journal_replay_t *res)
{
    int                     rc;
    size_t                  rlen;
    const unsigned char    *rec;
    capif_rev_record_t      r;
    capif_journal_push_t    push;
    capif_journal_reader_t  rd;

    memset(res, 0, sizeof(capif_journal_replay_t));

    res->status = capif_journal_open(&rd, buf, len);

    switch (res->status) {

    case CAPIF_JOURNAL_OK:
        break;

    case CAPIF_JOURNAL_EMPTY:
        return 0;

    case CAPIF_JOURNAL_TORN_HEADER:
        res->damaged = 1;
        res->error = rd.error;
        return 0;

    default:
        return -1;
    }

    res->version = rd.version;

    while ((rc = capif_journal_next_push(&rd, &push)) == 1) {

        res->pushes++;

        while (capif_journal_push_record(&push, &rec, &rlen)) {

            if (capif_rev_decode(&r, rec, rlen) != 0) {
                res->skipped++;
                continue;
            }

            if (r.expires <= now) {
                res->expired++;
                continue;
            }

            switch (apply(data, &r)) {

            case 0:
                res->live++;
                break;

            case 1:
                res->valid_end = rd.valid_end;
                return -1;

            default:
                res->skipped++;
            }
        }
    }

    res->valid_end = rd.valid_end;

    if (rc == -1) {
        res->damaged = 1;
        res->error = rd.error;
    }

    return 0;
}

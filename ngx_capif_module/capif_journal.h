/*
 * Copyright (C) ngx_capif_module authors
 *
 * Framing of an append-only journal: a versioned file header, then frames
 * of a big-endian 32-bit payload length, a CRC-32 of length and payload,
 * and the payload.  A reader walks a buffer frame by frame and stops at
 * the first frame that is cut short or does not check out, so that a torn
 * or corrupt tail is detected and the valid prefix kept.  Pure C: the
 * caller does the I/O.
 */

#ifndef CAPIF_JOURNAL_H
#define CAPIF_JOURNAL_H

#include <stddef.h>
#include <stdint.h>


#define CAPIF_JOURNAL_MAGIC          "CAPIFRJ"
#define CAPIF_JOURNAL_VERSION        1
#define CAPIF_JOURNAL_HEADER_LEN     8
#define CAPIF_JOURNAL_FRAME_OVERHEAD 8
#define CAPIF_JOURNAL_PAYLOAD_MAX    65536


typedef enum {
    CAPIF_JOURNAL_OK = 0,
    CAPIF_JOURNAL_EMPTY,         /* no bytes at all: a new journal */
    CAPIF_JOURNAL_TORN_HEADER,   /* a prefix of the header: start over */
    CAPIF_JOURNAL_NOT_JOURNAL,   /* another file: do not touch it */
    CAPIF_JOURNAL_BAD_VERSION    /* a journal of another version */
} capif_journal_open_t;


typedef struct {
    const unsigned char  *buf;
    size_t                len;
    size_t                pos;        /* next frame */
    size_t                valid_end;  /* end of the last good frame */
    const char           *error;      /* why the tail was refused */
} capif_journal_reader_t;


/* CRC-32 (IEEE 802.3, as zlib); start with crc 0 */
uint32_t capif_crc32(uint32_t crc, const unsigned char *data, size_t len);

/* writes the CAPIF_JOURNAL_HEADER_LEN header bytes */
void capif_journal_header(unsigned char *out);

/* the bytes a frame of a payload of len bytes takes */
#define capif_journal_frame_size(len)  ((len) + CAPIF_JOURNAL_FRAME_OVERHEAD)

/* writes one frame; returns its length, or 0 if it does not fit */
size_t capif_journal_frame(unsigned char *out, size_t size,
    const unsigned char *payload, size_t len);

/* checks the header of buf; the reader starts after it on OK */
capif_journal_open_t capif_journal_open(capif_journal_reader_t *rd,
    const unsigned char *buf, size_t len);

/*
 * The next frame: returns 1 and its payload, 0 at a clean end, or -1 at
 * a torn or corrupt tail; then rd->valid_end is where the valid prefix
 * ends and rd->error says why.
 */
int capif_journal_next(capif_journal_reader_t *rd,
    const unsigned char **payload, size_t *len);


#endif /* CAPIF_JOURNAL_H */

/*
 * Copyright (C) ngx_capif_module authors
 *
 * Framing of an append-only journal: a versioned file header, then frames
 * of a big-endian 32-bit payload length, a CRC-32 of length and payload,
 * and the payload.  A reader walks a buffer frame by frame and stops at
 * the first frame that is cut short or does not check out, so that a torn
 * or corrupt tail is detected and the valid prefix kept.  Pure C: the
 * caller does the I/O.
 *
 * Version 2 frames a push as one unit: the payload of a frame is every
 * record of one push, each a big-endian 16-bit length and the record, so
 * that a torn push fails its CRC and is dropped whole.  In version 1 each
 * frame held one record; such files are still read, a frame per push.
 */

#ifndef CAPIF_JOURNAL_H
#define CAPIF_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include "capif_revocation.h"


#define CAPIF_JOURNAL_MAGIC          "CAPIFRJ"
#define CAPIF_JOURNAL_VERSION        2      /* the one written */
#define CAPIF_JOURNAL_VERSION_MIN    1      /* the oldest read */
#define CAPIF_JOURNAL_HEADER_LEN     8
#define CAPIF_JOURNAL_FRAME_OVERHEAD 8
#define CAPIF_JOURNAL_PAYLOAD_MAX    65536              /* version 1 */
#define CAPIF_JOURNAL_PUSH_MAX       (16 * 1024 * 1024) /* version 2 */
#define CAPIF_JOURNAL_RECORD_OVERHEAD 2


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
    unsigned              version;
} capif_journal_reader_t;


/* the records of one push (one frame) */
typedef struct {
    const unsigned char  *pos;
    const unsigned char  *end;
    int                   single;     /* version 1: the frame is a record */
} capif_journal_push_t;


/* what a replay found; offsets are into the buffer */
typedef struct {
    capif_journal_open_t  status;
    unsigned              version;
    size_t                pushes;     /* complete pushes applied */
    size_t                live;       /* records applied */
    size_t                expired;    /* records past their expiry */
    size_t                skipped;    /* records not understood */
    int                   damaged;    /* a torn or corrupt tail */
    size_t                valid_end;  /* end of the last complete push */
    const char           *error;      /* why the tail was refused */
} capif_journal_replay_t;


/* CRC-32 (IEEE 802.3, as zlib); start with crc 0 */
uint32_t capif_crc32(uint32_t crc, const unsigned char *data, size_t len);

/* writes the CAPIF_JOURNAL_HEADER_LEN header bytes */
void capif_journal_header(unsigned char *out);

/* the bytes a frame of a payload of len bytes takes */
#define capif_journal_frame_size(len)  ((len) + CAPIF_JOURNAL_FRAME_OVERHEAD)

/*
 * writes one frame of a payload of at most CAPIF_JOURNAL_PUSH_MAX bytes;
 * the payload may already be in place at out + CAPIF_JOURNAL_FRAME_OVERHEAD;
 * returns its length, or 0 if it does not fit
 */
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


/*
 * The next push: returns 1 and its records in push, 0 at a clean end, or
 * -1 at a torn or corrupt tail, as capif_journal_next.  A push whose
 * records do not add up exactly to its frame is a corrupt tail too.
 */
int capif_journal_next_push(capif_journal_reader_t *rd,
    capif_journal_push_t *push);

/* the next record of a push: 1 and the record, or 0 after the last */
int capif_journal_push_record(capif_journal_push_t *push,
    const unsigned char **rec, size_t *len);

/*
 * appends one record to a push payload being built in out; returns the
 * bytes written, or 0 if the record is empty, too long or does not fit
 */
size_t capif_journal_push_add(unsigned char *out, size_t size,
    const unsigned char *rec, size_t len);


/*
 * applies one live record: returns 0, -1 if it is not understood (it is
 * skipped), or 1 to stop the replay (the caller ran out of room)
 */
typedef int (*capif_journal_apply_pt)(void *data,
    const capif_rev_record_t *rec);

/*
 * Decodes a whole journal: every record of every complete push that has
 * not expired at now goes to apply, in order; a push is applied whole or
 * not at all.  Returns 0, or -1 if apply asked to stop or the buffer is
 * not a journal this code reads (res->status says which).
 */
int capif_journal_replay(const unsigned char *buf, size_t len, int64_t now,
    capif_journal_apply_pt apply, void *data, capif_journal_replay_t *res);


#endif /* CAPIF_JOURNAL_H */

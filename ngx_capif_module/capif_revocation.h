/*
 * Copyright (C) ngx_capif_module authors
 *
 * Revocation records: what the CCF (or a resource owner through it) has
 * withdrawn, as a compact binary record that is both the journal payload
 * and the lookup key in shared memory, and the rules that decide whether
 * a verified token matches one.  Pure C: no nginx, no I/O.
 */

#ifndef CAPIF_REVOCATION_H
#define CAPIF_REVOCATION_H

#include <stddef.h>
#include <stdint.h>


/*
 * Record layout versions.  Version 1 carried the cause as a code of the
 * four Rel-18/19 values; version 2 carries it as the string the CCF sent
 * (an extensible enumeration).  New records are version 2; version 1
 * records are still read.
 */
#define CAPIF_REV_VERSION_1    1
#define CAPIF_REV_VERSION      2

/* the longest string field a record may carry, the cause included */
#define CAPIF_REV_FIELD_MAX    512

/* fixed part: version, type, cause code (v1) or 0, 0, revoked_at, expires */
#define CAPIF_REV_FIXED_LEN    (4 + 8 + 8)

/* the largest encoded record (three fields and the cause) and key */
#define CAPIF_REV_RECORD_MAX   (CAPIF_REV_FIXED_LEN                       \
                                + 4 * (2 + CAPIF_REV_FIELD_MAX))
#define CAPIF_REV_KEY_MAX      (1 + 3 * (2 + CAPIF_REV_FIELD_MAX))


/*
 * What a record revokes.  The three string fields a, b, c mean:
 *
 *   INVOKER  a: apiInvokerId   b: aefId ("" = every AEF)  c: API id
 *   TOKEN    a: "jti"/"sha256" b: jti or hex SHA-256 of the signing input
 *   OWNER    a: apiInvokerId   b: resource owner GPSI    c: purpose ("" all)
 *   GROUP    a: External Group ID  b: apiInvokerId ("" = every invoker)
 *   CERT     a: "x5t#S256"         b: base64url SHA-256 of the DER
 *            a: "serial"           b: serial (capif_cred_serial_parse)
 *                                  c: issuer (capif_cred_issuer_parse)
 *   INVOKER_ALL  a: apiInvokerId (every API at every AEF)
 *
 * CERT and INVOKER_ALL (revoke-credential) came after version 2 without
 * a layout change: a reader that does not know a type skips its records.
 */
typedef enum {
    CAPIF_REV_INVOKER = 1,
    CAPIF_REV_TOKEN = 2,
    CAPIF_REV_OWNER = 3,
    CAPIF_REV_GROUP = 4,
    CAPIF_REV_CERT = 5,
    CAPIF_REV_INVOKER_ALL = 6
} capif_rev_type_t;

#define CAPIF_REV_TYPE_MAX     CAPIF_REV_INVOKER_ALL

/* the kinds of a CERT entry */
#define CAPIF_REV_CERT_X5T     "x5t#S256"
#define CAPIF_REV_CERT_SERIAL  "serial"


typedef struct {
    const unsigned char  *data;
    size_t                len;
} capif_rev_str_t;


typedef struct {
    capif_rev_type_t      type;
    long long             revoked_at;   /* seconds since the epoch */
    long long             expires;      /* entry is dropped at this time */
    capif_rev_str_t       a;
    capif_rev_str_t       b;
    capif_rev_str_t       c;
    capif_rev_str_t       cause;        /* as sent: a non-empty string */
} capif_rev_record_t;


/* what a request presents, to be matched against the records */
typedef struct {
    capif_rev_str_t       invoker_id;
    capif_rev_str_t       aef_id;
    capif_rev_str_t       api_name;
    capif_rev_str_t       api_id;       /* may be empty */
    capif_rev_str_t       resource_owner;
    capif_rev_str_t       group_id;
    capif_rev_str_t       purpose;
    capif_rev_str_t       jti;          /* empty if the token has none */
    const unsigned char  *signing_input;
    size_t                signing_input_len;
    long long             iat;
    int                   has_iat;
    long long             leeway;       /* capif_leeway: clock skew */
    int                   no_token_probe;  /* no whole-token entries */
    capif_rev_str_t       cnf_x5t;      /* cnf.x5t#S256, empty if none */
} capif_rev_token_t;


/* the keys a request must be looked up under; at most this many */
#define CAPIF_REV_PROBES_MAX   11

typedef struct {
    unsigned char         key[CAPIF_REV_KEY_MAX];
    size_t                len;
    int                   whole_token;  /* a TOKEN key: iat is ignored */
} capif_rev_probe_t;


/* 1 if cause is one of the values TS 29.222 defines (Rel-18/19) */
int capif_rev_cause_known(const unsigned char *cause, size_t len);

/* the name of a version 1 cause code, NULL if there is none */
const char *capif_rev_cause_v1_name(unsigned code);

const char *capif_rev_type_name(capif_rev_type_t type);

/* 1 if every field of r is within limits and right for its type */
int capif_rev_record_valid(const capif_rev_record_t *r);

/* encodes r into out; returns the length or 0 if r is invalid */
size_t capif_rev_encode(const capif_rev_record_t *r, unsigned char *out,
    size_t size);

/*
 * Decodes a record; the string fields point into buf.  Returns 0, or -1
 * if buf is not exactly one valid record.
 */
int capif_rev_decode(capif_rev_record_t *r, const unsigned char *buf,
    size_t len);

/*
 * The lookup key of r: the type and the fields that identify what is
 * revoked (not the times or the cause).  Returns the length, 0 on error.
 */
size_t capif_rev_key(const capif_rev_record_t *r, unsigned char *out,
    size_t size);

/*
 * Decodes a key back into r's type and string fields (times and cause
 * are zeroed).  Returns 0 or -1.
 */
int capif_rev_key_decode(capif_rev_record_t *r, const unsigned char *key,
    size_t len);

/*
 * Fills probes[] with every key that a record matching t would have.
 * digest_hex must hold 65 bytes and outlive the probes' use only during
 * the call.  Returns the number of probes.
 */
int capif_rev_probes(const capif_rev_token_t *t, capif_rev_probe_t *probes);

/*
 * The keys a connection's client certificate is looked up under: its
 * thumbprint (base64url), and its serial and issuer in canonical form
 * when serial is not empty.  A match refuses whatever the token.
 * Returns the number of probes (at most 2).
 */
int capif_rev_cert_probes(const capif_rev_str_t *x5t,
    const capif_rev_str_t *serial, const capif_rev_str_t *issuer,
    capif_rev_probe_t *probes);

/*
 * Whether an entry of revoked_at, found under a probe, refuses the token:
 * a whole-token entry always does; any other does when the token carries
 * no "iat" or was issued at or before the revocation plus t->leeway (a
 * CCF clock running ahead must not let a token escape).
 */
int capif_rev_refuses(const capif_rev_probe_t *probe, long long revoked_at,
    const capif_rev_token_t *t);

/*
 * The token lifetime rule: refuses (returns 0) a token whose exp - iat
 * exceeds max_lifetime, or, without "iat", whose exp lies more than
 * max_lifetime after now.  max_lifetime 0 disables the rule.
 */
int capif_rev_lifetime_ok(long long exp, long long iat, int has_iat,
    long long now, long long max_lifetime);

/* SHA-256 of data as 64 lowercase hex digits and a NUL */
int capif_rev_sha256_hex(const unsigned char *data, size_t len,
    char out[65]);

/*
 * A field a record may carry: at most CAPIF_REV_FIELD_MAX bytes and no
 * control characters (C0, DEL).  Quotes, backslashes and bytes >= 0x80
 * pass: the listing escapes them (capif_rev_utf8_repair).
 */
int capif_rev_field_ok(const unsigned char *s, size_t len, int allow_empty);

/*
 * The key fields of a whole-token (TOKEN) entry, the same for the push
 * that names a token and the request that presents it: "jti" and the jti
 * when it is a valid field, else "sha256" and the digest of the signing
 * input (a jti that is too long or carries a control byte).  value may
 * point into hex.  Returns 0 or -1.
 */
int capif_rev_token_key(const unsigned char *jti, size_t jti_len,
    const unsigned char *signing_input, size_t signing_input_len,
    capif_rev_str_t *kind, capif_rev_str_t *value, char hex[65]);

/* 1 if s is well-formed UTF-8 */
int capif_rev_utf8_valid(const unsigned char *s, size_t len);

/*
 * Copies s into out, each ill-formed UTF-8 byte replaced by U+FFFD.  out
 * must hold 3 * len bytes.  Returns the length written.
 */
size_t capif_rev_utf8_repair(const unsigned char *s, size_t len,
    unsigned char *out);


#endif /* CAPIF_REVOCATION_H */

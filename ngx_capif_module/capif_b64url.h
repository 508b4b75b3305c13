/*
 * Copyright (C) ngx_capif_module authors
 *
 * Strict base64url (RFC 4648 section 5) as JWS compact serialization
 * requires: no padding, no '+' or '/', no whitespace, and the unused
 * trailing bits must be zero, so that every value has one encoding.
 */

#ifndef CAPIF_B64URL_H
#define CAPIF_B64URL_H

#include <stddef.h>


/* the most bytes capif_b64url_decode() may write for len input bytes */
#define capif_b64url_decoded_max(len)  (((len) / 4) * 3 + 2)

/* the bytes capif_b64url_encode() writes for len input bytes */
#define capif_b64url_encoded_len(len)  (((len) / 3) * 4                   \
                                        + ((len) % 3 ? (len) % 3 + 1 : 0))

/* returns the decoded length, or -1 if the input is not canonical */
long capif_b64url_decode(const unsigned char *in, size_t len,
    unsigned char *out);

/* returns the encoded length; no padding */
size_t capif_b64url_encode(const unsigned char *in, size_t len,
    unsigned char *out);


#endif /* CAPIF_B64URL_H */

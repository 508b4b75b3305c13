/*
 * Copyright (C) ngx_capif_module authors
 *
 * Ed25519 public keys that no honest signer has.  An honest key is [s]B:
 * a canonically encoded point of the curve in the prime-order subgroup.
 * Any other key either never verifies anything or, for a point of small
 * order, lets a crafted signature verify every message.
 */

#ifndef CAPIF_ED25519_H
#define CAPIF_ED25519_H


/*
 * pub is the 32-byte encoding of RFC 8032 5.1.2.  Returns NULL for an
 * honest key, or why it is not, to follow "Ed25519 public key ".
 */
const char *capif_ed25519_check(const unsigned char pub[32]);


#endif /* CAPIF_ED25519_H */

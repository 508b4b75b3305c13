/*
 * Copyright (C) ngx_capif_module authors
 *
 * libFuzzer target: the whole token path, capif_token_verify() against a
 * real configured key set (an Ed25519 key with kid "ed" and an RS256 key
 * without kid, as capif_key_file loads them), then the scope check.
 *
 * The first input byte picks the mode:
 *   'T'  the rest is a bearer token, verified as it is;
 *   'S'  the rest is a JWS signing input ("header.payload"): the target
 *        signs it with the Ed25519 private key, so that the claim checks
 *        behind the signature are reached too.
 * The key is a test key made for this target; it guards nothing.
 */

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "capif_b64url.h"
#include "capif_token.h"
#include "capif_scope.h"
#include "fuzz.h"


static const char  ed_private[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIDdpWmv195fInCvyvtL47uYFJ25vGhj0u2AXV6lrlf6Y\n"
    "-----END PRIVATE KEY-----\n";

static const char  ed_public[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEA/kxCTKLrINTz0P4AS+652PQqllHJTPEpmvlrBd4wPA4=\n"
    "-----END PUBLIC KEY-----\n";

static const char  rsa_public[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEArodkKsEaHrtng57ZNACC\n"
    "GdblOK8vdvDfL5+kW1sAeSrjbk3t9c6aN89CYagAtYF/f/yeTkZHCTkMSTvFWsZ9\n"
    "PYZCCqmfMpbM2W8J6fACJkWHTSQ3kgyH3Q3EXJid+3ms0il3SxWf5a7U8Dw6xCTQ\n"
    "Dzxj3bcLeBJESch4Qhoz+pWfltdn8vE23CvBPhzbyobylsIJgDoH0h48SuK4+oig\n"
    "Ad/EWLQLEK/i7v34Ie2vpeE0onFYtseADZZB2hTss5MiKgXto+weg4vqy9FMgT6U\n"
    "u1O0YpuRfr2tpBNYE6Ti8+3/GhQQyLCbotuYishHzqkzA7jipoE7aQG0CMji6KTP\n"
    "FQIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

static capif_keyset_t   keyset;
static EVP_PKEY        *signer;


static void
fuzz_init(void)
{
    BIO   *bio;
    char  *path, err[256];

    path = fuzz_temp_file(ed_public);
    FUZZ_CHECK(capif_keyset_load_file(&keyset, path, "EdDSA", "ed", err,
                                      sizeof(err)) == 0);
    unlink(path);
    free(path);

    path = fuzz_temp_file(rsa_public);
    FUZZ_CHECK(capif_keyset_load_file(&keyset, path, "RS256", NULL, err,
                                      sizeof(err)) == 0);
    unlink(path);
    free(path);

    bio = BIO_new_mem_buf(ed_private, -1);
    signer = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    FUZZ_CHECK(signer != NULL);
    BIO_free(bio);
}


static void
fuzz_verify(const unsigned char *token, size_t len)
{
    capif_error_t        err;
    capif_token_t        tok;
    unsigned char       *scratch;
    capif_claims_conf_t  conf = { 60, "iss", NULL };

    scratch = malloc(capif_jws_scratch_size(len));
    FUZZ_CHECK(scratch != NULL);

    /* a fixed "now", so that a replay decides as the run that found it */
    if (capif_token_verify(&tok, &keyset, token, len, scratch, &conf,
                           1800000000, &err)
        == 0)
    {
        FUZZ_CHECK(tok.claims.invoker_id != NULL);
        (void) capif_scope_check(tok.claims.scope, tok.claims.scope_len,
                                 "aef-1", 5, "api-1", 5, &err);
        capif_token_free(&tok);

    } else {
        FUZZ_CHECK(err.outcome != CAPIF_ALLOW && err.cause != NULL);
    }

    free(scratch);
}


static void
fuzz_sign_and_verify(const unsigned char *input, size_t len)
{
    size_t          siglen, enclen;
    EVP_MD_CTX     *md;
    unsigned char   sig[64], *token;

    md = EVP_MD_CTX_new();
    FUZZ_CHECK(md != NULL);
    siglen = sizeof(sig);
    FUZZ_CHECK(EVP_DigestSignInit(md, NULL, NULL, NULL, signer) == 1);
    FUZZ_CHECK(EVP_DigestSign(md, sig, &siglen, input, len) == 1);
    EVP_MD_CTX_free(md);

    token = malloc(len + 1 + capif_b64url_encoded_len(siglen) + 1);
    FUZZ_CHECK(token != NULL);
    memcpy(token, input, len);
    token[len] = '.';
    enclen = capif_b64url_encode(sig, siglen, token + len + 1);

    fuzz_verify(token, len + 1 + enclen);
    free(token);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (signer == NULL) {
        fuzz_init();
    }

    if (size < 1 || size > CAPIF_TOKEN_MAX_LEN + 1) {
        return 0;
    }

    if (data[0] == 'S') {
        fuzz_sign_and_verify(data + 1, size - 1);

    } else {
        fuzz_verify(data + 1, size - 1);
    }

    return 0;
}

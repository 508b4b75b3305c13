/*
 * Copyright (C) ngx_capif_module authors
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/bn.h>
#include <openssl/objects.h>
#include "capif_b64url.h"
#include "capif_credential.h"


/* one attribute of a name: its RDN, type and value (UTF-8, not escaped) */
typedef struct {
    int                   rdn;
    const char           *type;
    const unsigned char  *value;
    size_t                len;
    unsigned char        *enc;          /* "<type>=<value>", escaped */
    size_t                enc_len;
} capif_cred_ava_t;


static int
capif_cred_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


size_t
capif_cred_serial_parse(const unsigned char *s, size_t len, char *out)
{
    int     colons, v;
    size_t  i, n, run;

    if (len == 0) {
        return 0;
    }

    /* "4f3a01" or "4f:3a:01": colons only between pairs, then everywhere */
    colons = memchr(s, ':', len) != NULL;
    n = 0;
    run = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == ':') {
            if (!colons || run != 2 || i + 1 == len) {
                return 0;
            }

            run = 0;
            continue;
        }

        v = capif_cred_hexval(s[i]);
        if (v < 0) {
            return 0;
        }

        run++;

        if (colons && run > 2) {
            return 0;
        }

        if (n == 0 && v == 0) {
            continue;            /* a leading zero */
        }

        if (n == CAPIF_CRED_SERIAL_MAX) {
            return 0;
        }

        out[n++] = "0123456789abcdef"[v];
    }

    if (colons && run != 2) {
        return 0;
    }

    if (n == 0) {
        out[n++] = '0';
    }

    out[n] = '\0';

    return n;
}


size_t
capif_cred_serial_of(X509 *x, char *out)
{
    char    *hex;
    size_t   n;
    BIGNUM  *bn;

    bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    if (bn == NULL) {
        return 0;
    }

    /* a negative serial cannot be named by a push */
    if (BN_is_negative(bn)) {
        BN_free(bn);
        return 0;
    }

    hex = BN_bn2hex(bn);
    BN_free(bn);

    if (hex == NULL) {
        return 0;
    }

    n = capif_cred_serial_parse((const unsigned char *) hex, strlen(hex),
                                out);
    OPENSSL_free(hex);

    return n;
}


/* RFC 4514's short names, read without regard to case (section 3) */
static const struct {
    const char  *name;
    int          nid;
} capif_cred_types[] = {
    { "CN", NID_commonName },
    { "L", NID_localityName },
    { "ST", NID_stateOrProvinceName },
    { "O", NID_organizationName },
    { "OU", NID_organizationalUnitName },
    { "C", NID_countryName },
    { "STREET", NID_streetAddress },
    { "DC", NID_domainComponent },
    { "UID", NID_userId },
    { "emailAddress", NID_pkcs9_emailAddress },
    { "serialNumber", NID_serialNumber }
};


/* the canonical name of an attribute type, into buf (80 bytes) */
static const char *
capif_cred_type_name(const ASN1_OBJECT *obj, char *buf)
{
    int          nid;
    const char  *sn;

    nid = OBJ_obj2nid(obj);

    if (nid != NID_undef) {
        sn = OBJ_nid2sn(nid);

        if (sn != NULL) {
            return sn;
        }
    }

    if (OBJ_obj2txt(buf, 80, obj, 1) <= 0) {
        return NULL;
    }

    return buf;
}


/* an RFC 4514 attribute type: its canonical name into buf, or NULL */
static const char *
capif_cred_type_parse(const unsigned char *s, size_t len, char *buf)
{
    int           nid;
    char          txt[80];
    size_t        i;
    const char   *name;
    ASN1_OBJECT  *obj;

    if (len == 0 || len >= sizeof(txt)) {
        return NULL;
    }

    for (i = 0; i < sizeof(capif_cred_types) / sizeof(capif_cred_types[0]);
         i++)
    {
        if (strlen(capif_cred_types[i].name) == len
            && strncasecmp(capif_cred_types[i].name, (const char *) s, len)
               == 0)
        {
            return OBJ_nid2sn(capif_cred_types[i].nid);
        }
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-'
              || ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z')))
        {
            return NULL;
        }
    }

    memcpy(txt, s, len);
    txt[len] = '\0';

    if (txt[0] >= '0' && txt[0] <= '9') {
        obj = OBJ_txt2obj(txt, 1);

    } else {
        /* another name OpenSSL knows, spelt as OpenSSL spells it */
        nid = OBJ_sn2nid(txt);
        if (nid == NID_undef) {
            nid = OBJ_ln2nid(txt);
        }

        obj = (nid == NID_undef) ? NULL : OBJ_nid2obj(nid);
        obj = obj ? OBJ_dup(obj) : NULL;
    }

    if (obj == NULL) {
        return NULL;
    }

    name = capif_cred_type_name(obj, buf);
    ASN1_OBJECT_free(obj);

    return name;
}


/* "<type>=<value>" with the value folded and escaped; 0 if too long */
static size_t
capif_cred_ava_encode(const capif_cred_ava_t *a, unsigned char *out,
    size_t size)
{
    size_t          i, n, end, start;
    unsigned char   c;

    n = strlen(a->type);

    if (n + 1 > size) {
        return 0;
    }

    memcpy(out, a->type, n);
    out[n++] = '=';

    /* leading and trailing spaces are insignificant (RFC 4518) */
    start = 0;
    end = a->len;

    while (start < end && a->value[start] == ' ') {
        start++;
    }

    while (end > start && a->value[end - 1] == ' ') {
        end--;
    }

    for (i = start; i < end; i++) {
        c = a->value[i];

        /* inner runs of spaces count as one */
        if (i > start && c == ' ' && a->value[i - 1] == ' ') {
            continue;
        }

        if (c >= 'A' && c <= 'Z') {
            c |= 0x20;
        }

        if (c < 0x20 || c == 0x7f || strchr(",+=\\\"<>;", c) != NULL) {
            if (n + 3 > size) {
                return 0;
            }

            out[n++] = '\\';
            out[n++] = "0123456789abcdef"[c >> 4];
            out[n++] = "0123456789abcdef"[c & 0xf];
            continue;
        }

        if (n + 1 > size) {
            return 0;
        }

        out[n++] = c;
    }

    return n;
}


static int
capif_cred_ava_cmp(const void *a, const void *b)
{
    const capif_cred_ava_t  *x = a, *y = b;
    size_t                   n;
    int                      rc;

    if (x->rdn != y->rdn) {
        return x->rdn < y->rdn ? -1 : 1;
    }

    n = x->enc_len < y->enc_len ? x->enc_len : y->enc_len;
    rc = memcmp(x->enc, y->enc, n);

    if (rc != 0) {
        return rc;
    }

    return (x->enc_len > y->enc_len) - (x->enc_len < y->enc_len);
}


/* the canonical issuer from attributes in RFC 4514 order */
static size_t
capif_cred_dn_encode(capif_cred_ava_t *avas, int n, unsigned char *out)
{
    int             i;
    size_t          len, k;
    unsigned char   scratch[CAPIF_CRED_AVAS_MAX][CAPIF_CRED_ISSUER_MAX];

    if (n == 0) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        avas[i].enc = scratch[i];
        avas[i].enc_len = capif_cred_ava_encode(&avas[i], scratch[i],
                                                CAPIF_CRED_ISSUER_MAX);
        if (avas[i].enc_len == 0) {
            return 0;
        }
    }

    /* stable within an RDN whatever the order it was written in */
    qsort(avas, n, sizeof(capif_cred_ava_t), capif_cred_ava_cmp);

    len = 0;

    for (i = 0; i < n; i++) {
        k = avas[i].enc_len + (i > 0);

        if (len + k > CAPIF_CRED_ISSUER_MAX) {
            return 0;
        }

        if (i > 0) {
            out[len++] = (avas[i].rdn == avas[i - 1].rdn) ? '+' : ',';
        }

        memcpy(out + len, avas[i].enc, avas[i].enc_len);
        len += avas[i].enc_len;
    }

    return len;
}


size_t
capif_cred_issuer_parse(const unsigned char *s, size_t len,
    unsigned char *out)
{
    int               n, rdn, hi, lo;
    char              types[CAPIF_CRED_AVAS_MAX][80];
    size_t            i, start, vlen, olen;
    unsigned char     c, *vbuf, *v;
    capif_cred_ava_t  avas[CAPIF_CRED_AVAS_MAX];

    if (len == 0 || len > 4 * CAPIF_CRED_ISSUER_MAX) {
        return 0;
    }

    /* unescaped values are never longer than the string */
    vbuf = malloc(len);
    if (vbuf == NULL) {
        return 0;
    }

    v = vbuf;
    n = 0;
    rdn = 0;
    i = 0;
    olen = 0;

    for ( ;; ) {
        if (n == CAPIF_CRED_AVAS_MAX) {
            goto failed;
        }

        /* the type, after spaces some writers put after "," */
        while (i < len && s[i] == ' ') {
            i++;
        }

        start = i;

        while (i < len && s[i] != '=' && s[i] != ' ') {
            i++;
        }

        avas[n].type = capif_cred_type_parse(s + start, i - start, types[n]);
        if (avas[n].type == NULL) {
            goto failed;
        }

        while (i < len && s[i] == ' ') {
            i++;
        }

        if (i == len || s[i] != '=') {
            goto failed;
        }

        i++;

        while (i < len && s[i] == ' ') {
            i++;
        }

        /* "#<BER hex>" values are not read */
        if (i < len && s[i] == '#') {
            goto failed;
        }

        avas[n].rdn = rdn;
        avas[n].value = v;
        vlen = 0;

        while (i < len && s[i] != ',' && s[i] != '+') {
            c = s[i++];

            if (c == '\\') {
                if (i == len) {
                    goto failed;
                }

                hi = capif_cred_hexval(s[i]);
                lo = (i + 1 < len) ? capif_cred_hexval(s[i + 1]) : -1;

                if (hi >= 0 && lo >= 0) {
                    c = (unsigned char) (hi << 4 | lo);
                    i += 2;

                } else if (s[i] != '\0'
                           && strchr(" \"#+,;<=>\\", s[i]) != NULL)
                {
                    c = s[i++];

                } else {
                    goto failed;
                }

            } else if (c == '"' || c == ';' || c == '<' || c == '>'
                       || c == '\0')
            {
                /* must be escaped (RFC 4514 section 2.4) */
                goto failed;
            }

            v[vlen++] = c;
        }

        avas[n].len = vlen;
        v += vlen;
        n++;

        if (i == len) {
            break;
        }

        if (s[i] == ',') {
            rdn++;
        }

        i++;

        if (i == len) {
            goto failed;             /* a trailing separator */
        }
    }

    olen = capif_cred_dn_encode(avas, n, out);

failed:

    free(vbuf);

    return olen;
}


size_t
capif_cred_issuer_of(X509 *x, unsigned char *out)
{
    int                i, count, n, len, set, last;
    char               types[CAPIF_CRED_AVAS_MAX][80];
    size_t             olen;
    X509_NAME         *name;
    unsigned char     *utf8[CAPIF_CRED_AVAS_MAX];
    X509_NAME_ENTRY   *e;
    capif_cred_ava_t   avas[CAPIF_CRED_AVAS_MAX];

    name = X509_get_issuer_name(x);
    count = X509_NAME_entry_count(name);

    if (count <= 0 || count > CAPIF_CRED_AVAS_MAX) {
        return 0;
    }

    olen = 0;
    n = 0;
    last = -1;

    /* RFC 4514 writes the last RDN of the sequence first */
    for (i = count - 1; i >= 0; i--) {
        e = X509_NAME_get_entry(name, i);
        set = X509_NAME_ENTRY_set(e);

        avas[n].type = capif_cred_type_name(X509_NAME_ENTRY_get_object(e),
                                            types[n]);
        len = ASN1_STRING_to_UTF8(&utf8[n], X509_NAME_ENTRY_get_data(e));

        if (len < 0) {
            goto done;
        }

        if (avas[n].type == NULL) {
            OPENSSL_free(utf8[n]);
            goto done;
        }

        /* the RDN's index in RFC 4514 order */
        avas[n].rdn = (n == 0) ? 0 : avas[n - 1].rdn + (set != last);
        avas[n].value = utf8[n];
        avas[n].len = (size_t) len;
        last = set;
        n++;
    }

    olen = capif_cred_dn_encode(avas, n, out);

done:

    for (i = 0; i < n; i++) {
        OPENSSL_free(utf8[i]);
    }

    return olen;
}


int
capif_cred_thumb_valid(const unsigned char *s, size_t len)
{
    unsigned char  buf[capif_b64url_decoded_max(43)];

    return len == 43 && capif_b64url_decode(s, len, buf) == 32;
}


int
capif_cred_authenticate(const capif_cred_auth_t *a,
    const unsigned char *invoker, size_t invoker_len, capif_error_t *err)
{
    if (a->id_kind == CAPIF_X509_ID_OFF) {
        return capif_fail(err, CAPIF_INSUFFICIENT_SCOPE,
                          "CERT_INVOKER_NOT_CONFIGURED",
                          "this AEF does not name invokers by their "
                          "certificates (capif_cert_invoker is off)");
    }

    if (!a->present) {
        return capif_fail(err, CAPIF_INSUFFICIENT_SCOPE,
                          "CLIENT_CERT_MISSING",
                          "the connection has no TLS client certificate");
    }

    if (!a->verified) {
        return capif_fail(err, CAPIF_INSUFFICIENT_SCOPE,
                          "CLIENT_CERT_UNVERIFIED",
                          "the TLS client certificate did not verify");
    }

    if (a->withdrawn) {
        return capif_fail(err, CAPIF_INSUFFICIENT_SCOPE,
                          "CLIENT_CERT_REVOKED",
                          a->withdrawn == 1
                          ? "the CCF's CA has revoked the TLS client "
                            "certificate (capif_crl)"
                          : "the CCF has withdrawn the TLS client "
                            "certificate (revoke-credential)");
    }

    if (invoker == NULL) {
        return 0;
    }

    if (a->id == NULL) {
        return capif_fail(err, CAPIF_INSUFFICIENT_SCOPE,
                          "CERT_INVOKER_MISMATCH",
                          "the client certificate names no invoker "
                          "(no usable CN or subjectAltName of the "
                          "configured kind)");
    }

    if (a->id_len != invoker_len || memcmp(a->id, invoker, invoker_len) != 0)
    {
        return capif_fail(err, CAPIF_INSUFFICIENT_SCOPE,
                          "CERT_INVOKER_MISMATCH",
                          "the client certificate names another invoker "
                          "than apiInvokerId");
    }

    return 0;
}

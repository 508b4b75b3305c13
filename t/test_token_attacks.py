"""The RFC 8725 attack catalogue and the strict compact-JWS syntax.

Where it matters, an attack token carries a *valid* signature by the
configured key, so the test fails if the rule under test were removed (the
token would then be allowed).
"""

import base64
import json

import pytest

import capif
from capif import b64u, b64u_decode, compact, good_claims

@pytest.fixture(scope="module")
def gw(module_nginx, upstream, keys):
    up = upstream.port
    L = lambda path, k: capif.location(path, k, upstream_port=up)  # noqa
    server = "large_client_header_buffers 4 64k;\n" + "".join([
        L("/rs/", [keys.rsa.pub_path + " kid=k1"]),
        L("/rs-nokid/", [keys.rsa.pub_path]),
        L("/ps/", [keys.rsa.pub_path + " alg=PS256 kid=kp"]),
        L("/ps-nokid/", [keys.rsa.pub_path + " alg=PS256"]),
        L("/es256/", [keys.p256.pub_path]),
        L("/es384/", [keys.p384.pub_path + " kid=e384"]),
        L("/es384-nokid/", [keys.p384.pub_path]),
        L("/es512/", [keys.p521.pub_path]),
        L("/ed/", [keys.ed25519.pub_path]),
    ])
    return capif.Gateway(module_nginx(server=server), upstream, keys)


def rs(keys, claims=None, **hdr):
    """RS256 token by the configured RSA key, header {"alg","typ"}+hdr."""
    return keys.rsa.token(claims=claims, alg="RS256", **hdr)


def test_control_good_token(gw, keys):
    gw.allowed("/rs/", rs(keys))
    gw.allowed("/rs/", rs(keys, kid="k1"))


# ---------------------------------------------------------------- alg none

NONE_CASINGS = ["none", "None", "NONE", "nOnE"]


@pytest.mark.parametrize("alg", NONE_CASINGS)
def test_alg_none_nonempty_signature(gw, keys, alg):
    tok = compact({"alg": alg, "typ": "JWT"}, good_claims(), b"\x00sig")
    gw.refused("/rs/", tok, 401, "ALG_NOT_ALLOWED")


@pytest.mark.parametrize("alg", NONE_CASINGS)
def test_alg_none_with_rsa_signature(gw, keys, alg):
    """alg none, but a real RS256 signature over the input."""
    tok = keys.rsa.sign_raw({"alg": alg}, good_claims(), alg="RS256")
    gw.refused("/rs-nokid/", tok, 401, "ALG_NOT_ALLOWED")


@pytest.mark.parametrize("alg", NONE_CASINGS)
def test_alg_none_empty_signature(gw, keys, alg):
    """README: an empty segment is TOKEN_MALFORMED (checked before the
    header is decoded); either way, never allowed."""
    tok = compact({"alg": alg, "typ": "JWT"}, good_claims(), b"")
    assert tok.endswith(".")
    gw.refused("/rs/", tok, 401, "TOKEN_MALFORMED")


@pytest.mark.parametrize("alg", ["rs256", "RS256 ", "RS1", "ES256K",
                                 "RSA-OAEP", "Ed25519", "ED25519", "PS",
                                 "ES", "", "HS1", "RS2560"])
def test_alg_unknown_refused(gw, keys, alg):
    tok = keys.rsa.sign_raw({"alg": alg}, good_claims(), alg="RS256")
    gw.refused("/rs-nokid/", tok, 401, "ALG_NOT_ALLOWED")


@pytest.mark.parametrize("hdr", [
    '{"alg":256}', '{"alg":null}', '{"alg":["RS256"]}',
    '{"alg":{"RS256":1}}', '{"alg":true}',
    '{"alg":"RS256","kid":1}', '{"alg":"RS256","kid":null}',
    '{"alg":"RS256","kid":["k1"]}'])
def test_alg_or_kid_not_string(gw, keys, hdr):
    tok = keys.rsa.sign_raw(hdr, good_claims(), alg="RS256")
    gw.refused("/rs-nokid/", tok, 401, "TOKEN_HEADER_INVALID")


def test_alg_missing(gw, keys):
    tok = keys.rsa.sign_raw('{"typ":"JWT"}', good_claims(), alg="RS256")
    gw.refused("/rs-nokid/", tok, 401,
               ("TOKEN_HEADER_INVALID", "ALG_NOT_ALLOWED"))


# ---------------------------------------------- HMAC with the public key

def _hmac_secrets(key):
    return {
        "pem": key.pub_pem,
        "pem-nonl": key.pub_pem.rstrip(b"\n"),
        "der": key.pub_der,
        "jwk": json.dumps(key.jwk()).encode(),
        "jwk-kid": json.dumps(key.jwk(kid="k1")).encode(),
        "cert": open(key.cert_path, "rb").read(),
    }


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
@pytest.mark.parametrize("secret", ["pem", "pem-nonl", "der", "jwk",
                                    "jwk-kid", "cert"])
def test_hmac_with_public_key(gw, keys, alg, secret):
    s = _hmac_secrets(keys.rsa)[secret]
    tok = capif.hmac_token(alg, s, {"alg": alg, "typ": "JWT"})
    gw.refused("/rs-nokid/", tok, 401, "ALG_NOT_ALLOWED")
    tok = capif.hmac_token(alg, s, {"alg": alg, "kid": "k1"})
    gw.refused("/rs/", tok, 401, "ALG_NOT_ALLOWED")


def test_hmac_with_ec_public_key(gw, keys):
    tok = capif.hmac_token("HS256", keys.p256.pub_pem)
    gw.refused("/es256/", tok, 401, "ALG_NOT_ALLOWED")


# ------------------------------------------------------ alg swap in family

def test_rs256_token_to_ps256_key(gw, keys):
    gw.refused("/ps-nokid/", rs(keys), 401, "ALG_NOT_CONFIGURED")
    gw.refused("/ps/", rs(keys, kid="kp"), 401, "KEY_ALG_MISMATCH")
    gw.allowed("/ps/", keys.rsa.token(alg="PS256", kid="kp"))


def test_ps256_token_to_rs256_key(gw, keys):
    gw.refused("/rs-nokid/", keys.rsa.token(alg="PS256"), 401,
               "ALG_NOT_CONFIGURED")
    gw.refused("/rs/", keys.rsa.token(alg="PS256", kid="k1"), 401,
               "KEY_ALG_MISMATCH")


def test_es256_header_on_es384_key(gw, keys):
    """ES256 (SHA-256) signature made with the P-384 key."""
    tok = keys.p384.token(alg="ES256")
    gw.refused("/es384-nokid/", tok, 401, "ALG_NOT_CONFIGURED")
    tok = keys.p384.token(alg="ES256", kid="e384")
    gw.refused("/es384/", tok, 401, "KEY_ALG_MISMATCH")


def test_rs384_header_signed_with_rs256_key(gw, keys):
    tok = keys.rsa.token(alg="RS384")
    gw.refused("/rs-nokid/", tok, 401, "ALG_NOT_CONFIGURED")
    tok = keys.rsa.token(alg="RS384", kid="k1")
    gw.refused("/rs/", tok, 401, "KEY_ALG_MISMATCH")


def test_rs512_header_on_rs256_signature(gw, keys):
    """Header claims RS512, the signature is RS256 by the right key."""
    tok = keys.rsa.sign_raw({"alg": "RS512"}, good_claims(), alg="RS256")
    gw.refused("/rs-nokid/", tok, 401, "ALG_NOT_CONFIGURED")


def test_cross_family_swaps(gw, keys):
    gw.refused("/ed/", keys.p256.token(), 401, "ALG_NOT_CONFIGURED")
    gw.refused("/es256/", keys.ed25519.token(), 401, "ALG_NOT_CONFIGURED")
    gw.refused("/es256/", rs(keys), 401, "ALG_NOT_CONFIGURED")


# -------------------------------------------------------------------- kid

@pytest.mark.parametrize("kid", [
    "../../etc/passwd", "/etc/passwd", "../../../../../../dev/null",
    "k1' OR '1'='1", "| cat /etc/passwd",
    "$(id)", "`id`", "k1;id", "K1", "k1 ", " k1", "k1\n", "k", "k11",
    "*", "%", "k\u0131", "\uff4b1", "http://127.0.0.1:1/jwks"])
def test_kid_unknown(gw, keys, kid):
    gw.refused("/rs/", rs(keys, kid=kid), 401, "KID_UNKNOWN")


@pytest.mark.parametrize("kid", ["k1\u0000", "\u0000k1", "k1\u0000x"])
def test_kid_with_nul(gw, keys, kid):
    """\u0000 in the kid: refused.  The README lists no cause for \u0000
    in the JOSE header; the module's parser refuses the header
    (TOKEN_HEADER_INVALID), a lookup would give KID_UNKNOWN."""
    gw.refused("/rs/", rs(keys, kid=kid), 401,
               ("KID_UNKNOWN", "TOKEN_HEADER_INVALID"))


def test_kid_on_keys_without_kid(gw, keys):
    """Keys configured without kid: a token naming any kid is refused."""
    gw.refused("/rs-nokid/", rs(keys, kid="k1"), 401, "KID_UNKNOWN")


# -------------------------------------------- embedded keys, crit (RFC 8725)

def _x5c(key):
    from cryptography.hazmat.primitives import serialization
    der = key.certificate().public_bytes(serialization.Encoding.DER)
    return [base64.b64encode(der).decode()]


def _embedded(key, param):
    return {
        "jwk": key.jwk(),
        "jku": "http://127.0.0.1:1/jwks.json",
        "x5u": "http://127.0.0.1:1/cert.pem",
        "x5c": _x5c(key),
    }[param]


@pytest.mark.parametrize("param", ["jwk", "jku", "x5u", "x5c"])
def test_embedded_key_attacker(gw, keys, param):
    """Signed by the attacker, whose public key the header carries."""
    tok = keys.evil_rsa.token(**{param: _embedded(keys.evil_rsa, param)})
    gw.refused("/rs-nokid/", tok, 401, "HEADER_PARAM_FORBIDDEN")


@pytest.mark.parametrize("param", ["jwk", "jku", "x5u", "x5c"])
def test_embedded_key_even_when_signature_valid(gw, keys, param):
    """Signed by the configured key: still refused for the parameter."""
    tok = keys.rsa.token(**{param: _embedded(keys.rsa, param)})
    gw.refused("/rs-nokid/", tok, 401, "HEADER_PARAM_FORBIDDEN")


def test_embedded_jwk_ec(gw, keys):
    tok = keys.evil_p256.token(jwk=keys.evil_p256.jwk())
    gw.refused("/es256/", tok, 401, "HEADER_PARAM_FORBIDDEN")


@pytest.mark.parametrize("crit", [["exp"], ["b64"], [], "exp"])
def test_crit_refused(gw, keys, crit):
    tok = keys.rsa.token(crit=crit, exp=1, b64=True)
    gw.refused("/rs-nokid/", tok, 401, "HEADER_PARAM_FORBIDDEN")


# --------------------------------------------------------------- segments

@pytest.mark.parametrize("shape", [
    "1", "2", "4", "5", "empty-h", "empty-p", "empty-s", "dots2", "dots4",
    "lead-dot", "trail-dot", "empty"])
def test_segments(gw, keys, shape):
    h, p, s = rs(keys).split(".")
    tok = {
        "1": h,
        "2": "%s.%s" % (h, p),
        "4": "%s.%s.%s.%s" % (h, p, s, s),
        "5": "%s.%s.%s.%s.%s" % (h, p, s, p, s),
        "empty-h": ".%s.%s" % (p, s),
        "empty-p": "%s..%s" % (h, s),
        "empty-s": "%s.%s." % (h, p),
        "dots2": "..",
        "dots4": "....",
        "lead-dot": ".%s.%s.%s" % (h, p, s),
        "trail-dot": "%s.%s.%s." % (h, p, s),
        "empty": ".",
    }[shape]
    gw.refused("/rs-nokid/", tok, 401, "TOKEN_MALFORMED")


def test_jwe_shaped_token(gw, keys):
    tok = ".".join([b64u('{"alg":"RSA-OAEP","enc":"A256GCM"}'),
                    b64u(b"k" * 256), b64u(b"iv" * 6), b64u(b"c" * 40),
                    b64u(b"t" * 16)])
    gw.refused("/rs-nokid/", tok, 401, "TOKEN_MALFORMED")


# -------------------------------------------------------- signature forms

@pytest.mark.parametrize("path,key,size", [
    ("/es256/", "p256", 64), ("/es384-nokid/", "p384", 96),
    ("/es512/", "p521", 132)])
def test_ecdsa_zero_signature(gw, keys, path, key, size):
    """r = s = 0 (the "psychic signature", CVE-2022-21449)."""
    k = getattr(keys, key)
    h, p, _ = k.token().split(".")
    gw.refused(path, "%s.%s.%s" % (h, p, b64u(b"\0" * size)), 401,
               "SIGNATURE_INVALID")


def test_ecdsa_der_signature(gw, keys):
    """A valid ECDSA signature, but DER-encoded instead of raw R||S."""
    h, p, _ = keys.p256.token().split(".")
    der = keys.p256.signature_der("ES256", "%s.%s" % (h, p))
    gw.refused("/es256/", "%s.%s.%s" % (h, p, b64u(der)), 401,
               "SIGNATURE_INVALID")


@pytest.mark.parametrize("cut", [1, -1])
def test_ecdsa_wrong_length(gw, keys, cut):
    h, p, s = keys.p256.token().split(".")
    raw = b64u_decode(s)
    raw = raw[:-1] if cut == 1 else raw + b"\0"
    gw.refused("/es256/", "%s.%s.%s" % (h, p, b64u(raw)), 401,
               "SIGNATURE_INVALID")


def test_ecdsa_r_s_equal_order(gw, keys):
    """r = s = n (the curve order): out of range, must not verify."""
    n = int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551",
            16)
    h, p, _ = keys.p256.token().split(".")
    sig = n.to_bytes(32, "big") * 2
    gw.refused("/es256/", "%s.%s.%s" % (h, p, b64u(sig)), 401,
               "SIGNATURE_INVALID")


def test_eddsa_zero_signature(gw, keys):
    h, p, _ = keys.ed25519.token().split(".")
    gw.refused("/ed/", "%s.%s.%s" % (h, p, b64u(b"\0" * 64)), 401,
               "SIGNATURE_INVALID")


def test_rsa_short_signature(gw, keys):
    h, p, s = rs(keys).split(".")
    raw = b64u_decode(s)[1:]
    gw.refused("/rs-nokid/", "%s.%s.%s" % (h, p, b64u(raw)), 401,
               "SIGNATURE_INVALID")


# ---------------------------------------------------- base64 malleability

def _token_with(keys, pred):
    for _ in range(200):
        t = rs(keys)
        if pred(t):
            return t
    raise AssertionError("no token found")


def test_b64_padding_on_signature(gw, keys):
    h, p, s = rs(keys).split(".")
    assert len(s) % 4 == 2
    gw.refused("/rs-nokid/", "%s.%s.%s==" % (h, p, s), 401,
               "TOKEN_MALFORMED")


def test_b64_padding_on_header_and_payload(gw, keys):
    t = _token_with(keys, lambda t: len(t.split(".")[1]) % 4)
    h, p, s = t.split(".")
    gw.refused("/rs-nokid/",
               "%s.%s.%s" % (h, p + "=" * (-len(p) % 4), s), 401,
               "TOKEN_MALFORMED")
    hp = "=" * (-len(h) % 4) or "===="
    gw.refused("/rs-nokid/", "%s%s.%s.%s" % (h, hp, p, s), 401,
               "TOKEN_MALFORMED")


@pytest.mark.parametrize("src,dst", [("-", "+"), ("_", "/")])
def test_b64_standard_alphabet(gw, keys, src, dst):
    """'-'->'+' or '_'->'/' in the signature: the same bytes to a lenient
    decoder, so the token would verify if the alphabet were not strict."""
    t = _token_with(keys, lambda t: src in t.split(".")[2])
    h, p, s = t.split(".")
    gw.refused("/rs-nokid/", "%s.%s.%s" % (h, p, s.replace(src, dst)), 401,
               "TOKEN_MALFORMED")


@pytest.mark.parametrize("where", ["sig", "payload"])
@pytest.mark.parametrize("ws", [" ", "\t"])
def test_b64_whitespace_inside(gw, keys, where, ws):
    h, p, s = rs(keys).split(".")
    if where == "sig":
        s = s[:100] + ws + s[100:]
    else:
        p = p[:20] + ws + p[20:]
    gw.refused("/rs-nokid/", "%s.%s.%s" % (h, p, s), 401, "TOKEN_MALFORMED")


def test_b64_noncanonical_trailing_bits_signature(gw, keys):
    h, p, s = rs(keys).split(".")
    s2 = capif.flip_unused_bits(s)
    assert s2 != s and b64u_decode(s2) == b64u_decode(s)
    gw.refused("/rs-nokid/", "%s.%s.%s" % (h, p, s2), 401, "TOKEN_MALFORMED")


def test_b64_noncanonical_trailing_bits_payload(gw, keys):
    t = _token_with(keys, lambda t: (len(t.split(".")[1]) * 6) % 8)
    h, p, s = t.split(".")
    p2 = capif.flip_unused_bits(p)
    assert b64u_decode(p2) == b64u_decode(p)
    gw.refused("/rs-nokid/", "%s.%s.%s" % (h, p2, s), 401, "TOKEN_MALFORMED")


def test_b64_noncanonical_trailing_bits_es256(gw, keys):
    h, p, s = keys.p256.token().split(".")
    assert len(s) == 86
    gw.refused("/es256/", "%s.%s.%s" % (h, p, capif.flip_unused_bits(s)),
               401, "TOKEN_MALFORMED")


@pytest.mark.parametrize("ch", ["*", "%", "!", "\u00e9", "~"])
def test_b64_foreign_character(gw, keys, ch):
    h, p, s = rs(keys).split(".")
    tok = "%s.%s.%s" % (h, p, s[:50] + ch + s[51:])
    gw.refused("/rs-nokid/", tok, 401, "TOKEN_MALFORMED")


def test_b64_impossible_length(gw, keys):
    """A segment of length 4k+1 cannot be base64."""
    h, p, s = rs(keys).split(".")
    p += {0: "A", 2: "AAA", 3: "AA"}[len(p) % 4]
    assert len(p) % 4 == 1
    gw.refused("/rs-nokid/", "%s.%s.%s" % (h, p, s), 401, "TOKEN_MALFORMED")


# ------------------------------------------------------ duplicate members

@pytest.mark.parametrize("hdr", [
    '{"alg":"RS256","alg":"RS256"}',
    '{"alg":"none","alg":"RS256"}',
    '{"alg":"RS256","typ":"JWT","typ":"JWT"}',
    '{"alg":"RS256","kid":"zz","kid":"k1"}',
    '{"alg":"RS256","\\u0061lg":"RS256"}',
])
def test_duplicate_header_members(gw, keys, hdr):
    tok = keys.rsa.sign_raw(hdr, good_claims(), alg="RS256")
    gw.refused("/rs/", tok, 401, "TOKEN_HEADER_INVALID")


def _claims_json(extra_raw):
    body = json.dumps(good_claims(), separators=(",", ":"))
    return body[:-1] + "," + extra_raw + "}"


@pytest.mark.parametrize("dup", [
    '"iss":"INV-EVIL"',
    '"scope":"3gpp#aef-1:api-1"',
    '"exp":9999999999',
    '"type":"access"',
    '"\\u0069ss":"INV-EVIL"',
])
def test_duplicate_claims(gw, keys, dup):
    tok = keys.rsa.sign_raw({"alg": "RS256"}, _claims_json(dup), "RS256")
    gw.refused("/rs-nokid/", tok, 401, "CLAIMS_INVALID")


# ------------------------------------------------- header / payload shape

@pytest.mark.parametrize("hdr", [
    b'[]', b'"RS256"', b'null', b'1', b'{', b'{"alg":"RS256"} x',
    b'{"alg":"RS256"}{}', b'{"alg":"RS\xff256"}', b' ',
])
def test_header_not_json_object(gw, keys, hdr):
    tok = keys.rsa.sign_raw(hdr, good_claims(), alg="RS256")
    gw.refused("/rs-nokid/", tok, 401, "TOKEN_HEADER_INVALID")


@pytest.mark.parametrize("payload", [
    b'[]', b'"x"', b'null', b'42', b'{"iss":', b'{"iss":"INV-1"} x',
    b'{"iss":"INV-1"}{}', b' ', b'{"iss":"INV-\xff"}',
])
def test_payload_not_json_object(gw, keys, payload):
    tok = keys.rsa.sign_raw({"alg": "RS256"}, payload, "RS256")
    gw.refused("/rs-nokid/", tok, 401, "CLAIMS_INVALID")


# --------------------------------------------------------------- \u0000

@pytest.mark.parametrize("claim,value", [
    ("iss", "INV-1234\u0000admin"),
    ("iss", "\u0000"),
    ("jti", "abc\u0000"),
    ("scope", "3gpp#aef-1:api-1\u0000"),
    ("sub", "x\u0000y"),
    ("x\u0000y", "v"),
])
def test_nul_in_claims(gw, keys, claim, value):
    c = good_claims()
    c[claim] = value
    raw = json.dumps(c, separators=(",", ":"))
    assert "\\u0000" in raw
    gw.refused("/rs-nokid/", keys.rsa.sign_raw({"alg": "RS256"}, raw,
                                                "RS256"),
               401, "CLAIMS_INVALID")


def test_nul_nested_in_claim(gw, keys):
    c = good_claims(extra={"a": ["ok", "b\u0000"]})
    gw.refused("/rs-nokid/", keys.rsa.token(claims=c), 401, "CLAIMS_INVALID")


# ------------------------------------------------------------------- size

def _token_of_length(keys, total):
    """An RS256 token by the configured key of exactly total chars."""
    sig_len = 342
    for extra in range(0, 8):
        h = {"alg": "RS256", "typ": "JWT"}
        if extra:
            h["x"] = "a" * extra
        hl = len(b64u(capif.json_bytes(h)))
        base = good_claims(pad="")
        bl = len(capif.json_bytes(base))
        want_p = total - hl - sig_len - 2
        for n in range(max(0, (want_p * 3) // 4 - bl - 4),
                       (want_p * 3) // 4 - bl + 4):
            if len(b64u(b"x" * (bl + n))) == want_p:
                t = keys.rsa.sign_raw(h, good_claims(pad="p" * n), "RS256")
                assert len(t) == total
                return t
    raise AssertionError("cannot build token of length %d" % total)


def test_token_at_size_cap_allowed(gw, keys):
    gw.allowed("/rs-nokid/", _token_of_length(keys, capif.MAX_TOKEN))


def test_token_over_size_cap(gw, keys):
    gw.refused("/rs-nokid/", _token_of_length(keys, capif.MAX_TOKEN + 1),
               401, "TOKEN_TOO_LARGE")


def test_token_far_over_size_cap(gw, keys):
    tok = keys.rsa.token(claims=good_claims(pad="p" * 30000))
    gw.refused("/rs-nokid/", tok, 401, "TOKEN_TOO_LARGE")


def test_oversized_garbage_not_decoded(gw, keys):
    """Over the cap is refused before decoding, even if not base64."""
    gw.refused("/rs-nokid/", "!" * 9000, 401, "TOKEN_TOO_LARGE")


# ---------------------------------------------------------------- nesting

def _nested(levels):
    v = []
    for _ in range(levels - 1):
        v = [v]
    return v


@pytest.mark.parametrize("levels", [9, 50])
def test_deep_claims(gw, keys, levels):
    c = good_claims(deep=_nested(levels))
    gw.refused("/rs-nokid/", keys.rsa.token(claims=c), 401, "CLAIMS_INVALID")


def test_claims_nesting_limit_allowed(gw, keys):
    """8 levels in all: the claim set (1) plus 7 nested arrays."""
    c = good_claims(deep=_nested(7))
    raw = capif.json_bytes(c)
    assert raw.count(b"[") == 7
    gw.allowed("/rs-nokid/", keys.rsa.token(claims=c))


def test_claims_nesting_one_over_limit(gw, keys):
    c = good_claims(deep=_nested(8))
    gw.refused("/rs-nokid/", keys.rsa.token(claims=c), 401, "CLAIMS_INVALID")


def test_deep_claims_objects(gw, keys):
    v = {}
    for _ in range(40):
        v = {"a": v}
    gw.refused("/rs-nokid/", keys.rsa.token(claims=good_claims(deep=v)), 401,
               "CLAIMS_INVALID")


def test_deep_claims_5000_unclosed(gw, keys):
    """5000 unclosed '[' fit under the size cap; a recursive parser would
    recurse 5000 deep before noticing the JSON is truncated."""
    body = json.dumps(good_claims(), separators=(",", ":"))[:-1]
    raw = body + ',"deep":' + "[" * 5000
    tok = keys.p256.sign_raw({"alg": "ES256"}, raw, "ES256")
    assert len(tok) <= capif.MAX_TOKEN
    gw.refused("/es256/", tok, 401, "CLAIMS_INVALID")


def test_deep_claims_2500_closed(gw, keys):
    body = json.dumps(good_claims(), separators=(",", ":"))[:-1]
    raw = body + ',"deep":' + "[" * 2500 + "]" * 2500 + "}"
    tok = keys.p256.sign_raw({"alg": "ES256"}, raw, "ES256")
    assert len(tok) <= capif.MAX_TOKEN
    gw.refused("/es256/", tok, 401, "CLAIMS_INVALID")


@pytest.mark.parametrize("levels", [9, 50])
def test_deep_header(gw, keys, levels):
    h = {"alg": "RS256", "x": _nested(levels)}
    gw.refused("/rs-nokid/", keys.rsa.sign_raw(h, good_claims(), "RS256"),
               401, "TOKEN_HEADER_INVALID")


def test_deep_header_5000_unclosed(gw, keys):
    raw = '{"alg":"ES256","x":' + "[" * 5000
    tok = keys.p256.sign_raw(raw, good_claims(), "ES256")
    gw.refused("/es256/", tok, 401, "TOKEN_HEADER_INVALID")

"""Every algorithm and every key source is accepted; wrong keys are not.

One nginx for the whole file, one location per key configuration.
"""

import pytest

import capif

ALG_KEYS = {
    # alg: (key attribute, location, capif_key_file options)
    "RS256": ("rsa", "/rs256/", ""),
    "RS384": ("rsa", "/rs384/", "alg=RS384"),
    "RS512": ("rsa", "/rs512/", "alg=RS512"),
    "PS256": ("rsa", "/ps256/", "alg=PS256"),
    "PS384": ("rsa", "/ps384/", "alg=PS384"),
    "PS512": ("rsa", "/ps512/", "alg=PS512"),
    "ES256": ("p256", "/es256/", ""),
    "ES384": ("p384", "/es384/", ""),
    "ES512": ("p521", "/es512/", ""),
    "EdDSA": ("ed25519", "/eddsa/", ""),
}
EVIL = {"rsa": "evil_rsa", "p256": "evil_p256", "p384": "evil_p384",
        "p521": "evil_p521", "ed25519": "evil_ed25519"}


@pytest.fixture(scope="module")
def gw(module_nginx, upstream, keys):
    up = upstream.port
    locs = []
    for alg, (attr, path, opts) in ALG_KEYS.items():
        key = getattr(keys, attr)
        locs.append(capif.location(path, ["%s %s" % (key.pub_path, opts)],
                                   upstream_port=up))
    ps_jwks = capif.write_jwks(keys.path("ps.jwks.json"),
                               [keys.rsa.jwk(kid="ps", alg="PS256")])
    locs += [
        capif.location("/cert-rsa/", [keys.rsa.cert_path], upstream_port=up),
        capif.location("/cert-ec/", [keys.p384.cert_path], upstream_port=up),
        capif.location("/cert-ed/", [keys.ed25519.cert_path],
                       upstream_port=up),
        capif.location("/cert-ps/", [keys.rsa.cert_path + " alg=PS384"],
                       upstream_port=up),
        capif.location("/jwks-one/", [keys.rsa.jwks_path], upstream_port=up),
        capif.location("/jwks-all/", [keys.jwks_all], upstream_port=up),
        capif.location("/jwks-alg/", [ps_jwks], upstream_port=up),
        capif.location("/multi-rs/", [keys.rsa.pub_path, keys.rsa_b.pub_path],
                       upstream_port=up),
        capif.location("/mixed/", [
            keys.rsa.pub_path + " kid=k-rsa",
            keys.p256.cert_path,
            keys.ed25519.jwks_path,
            keys.rsa_b.pub_path + " alg=PS512 kid=k-ps",
        ], upstream_port=up),
    ]
    n = module_nginx(server="".join(locs))
    return capif.Gateway(n, upstream, keys)


@pytest.mark.parametrize("alg", sorted(ALG_KEYS))
def test_alg_accepted_pyjwt(gw, keys, alg):
    attr, path, _ = ALG_KEYS[alg]
    tok = getattr(keys, attr).sign(alg=alg)
    gw.allowed(path + "x", tok, scope=capif.SCOPE)


@pytest.mark.parametrize("alg", sorted(ALG_KEYS))
def test_alg_accepted_manual_signer(gw, keys, alg):
    attr, path, _ = ALG_KEYS[alg]
    tok = getattr(keys, attr).token(alg=alg)
    gw.allowed(path, tok)


@pytest.mark.parametrize("alg", sorted(ALG_KEYS))
def test_alg_wrong_key_refused(gw, keys, alg):
    """Same algorithm, attacker's key of the same type: signature fails."""
    attr, path, _ = ALG_KEYS[alg]
    tok = getattr(keys, EVIL[attr]).token(alg=alg)
    gw.refused(path, tok, 401, "SIGNATURE_INVALID")


@pytest.mark.parametrize("alg", sorted(ALG_KEYS))
def test_alg_tampered_payload_refused(gw, keys, alg):
    """A good token whose payload was swapped for another (wider scope)."""
    attr, path, _ = ALG_KEYS[alg]
    key = getattr(keys, attr)
    h, p, s = key.token(alg=alg,
                        claims=capif.good_claims(scope="3gpp#aef-1:x")).split(
                            ".")
    p2 = capif.b64u(capif.json_bytes(capif.good_claims()))
    gw.refused(path, "%s.%s.%s" % (h, p2, s), 401, "SIGNATURE_INVALID")


@pytest.mark.parametrize("alg", sorted(ALG_KEYS))
def test_alg_tampered_signature_refused(gw, keys, alg):
    attr, path, _ = ALG_KEYS[alg]
    h, p, s = getattr(keys, attr).token(alg=alg).split(".")
    raw = bytearray(capif.b64u_decode(s))
    raw[len(raw) // 2] ^= 0x01
    gw.refused(path, "%s.%s.%s" % (h, p, capif.b64u(bytes(raw))), 401,
               "SIGNATURE_INVALID")


def test_certificate_rsa(gw, keys):
    gw.allowed("/cert-rsa/", keys.rsa.sign())


def test_certificate_ec(gw, keys):
    gw.allowed("/cert-ec/", keys.p384.sign())


def test_certificate_ed25519(gw, keys):
    gw.allowed("/cert-ed/", keys.ed25519.sign())


def test_certificate_pinned_pss(gw, keys):
    gw.allowed("/cert-ps/", keys.rsa.sign(alg="PS384"))
    gw.refused("/cert-ps/", keys.rsa.sign(), 401, "ALG_NOT_CONFIGURED")


def test_certificate_wrong_key(gw, keys):
    gw.refused("/cert-rsa/", keys.evil_rsa.sign(), 401, "SIGNATURE_INVALID")


def test_jwks_single_with_kid(gw, keys):
    gw.allowed("/jwks-one/", keys.rsa.sign(kid="rsa"))


def test_jwks_single_without_kid(gw, keys):
    gw.allowed("/jwks-one/", keys.rsa.sign())


def test_jwks_unknown_kid(gw, keys):
    gw.refused("/jwks-one/", keys.rsa.sign(kid="rsa-2"), 401, "KID_UNKNOWN")


@pytest.mark.parametrize("kid,attr", [
    ("rsa-1", "rsa"), ("ec-256", "p256"), ("ec-384", "p384"),
    ("ec-521", "p521"), ("ed-1", "ed25519")])
def test_jwks_several_keys_kid_selection(gw, keys, kid, attr):
    gw.allowed("/jwks-all/", getattr(keys, attr).sign(kid=kid))


@pytest.mark.parametrize("attr", ["rsa", "p256", "p384", "p521", "ed25519"])
def test_jwks_several_keys_without_kid(gw, keys, attr):
    gw.allowed("/jwks-all/", getattr(keys, attr).sign())


def test_jwks_kid_selects_exactly_that_key(gw, keys):
    """kid ec-256 names the P-256 key; an ES384 token naming it is refused
    even though the JWKS holds a P-384 key that would verify it."""
    gw.refused("/jwks-all/", keys.p384.sign(kid="ec-256"), 401,
               "KEY_ALG_MISMATCH")


def test_jwks_kid_of_other_key_same_alg(gw, keys):
    """A good RS256 signature by a key that is not the one of this kid."""
    gw.refused("/jwks-all/", keys.rsa_b.sign(kid="rsa-1"), 401,
               "SIGNATURE_INVALID")


def test_jwks_alg_member_binds_key(gw, keys):
    gw.allowed("/jwks-alg/", keys.rsa.sign(alg="PS256", kid="ps"))
    gw.allowed("/jwks-alg/", keys.rsa.sign(alg="PS256"))


def test_jwks_alg_member_refuses_other_alg_with_kid(gw, keys):
    gw.refused("/jwks-alg/", keys.rsa.sign(alg="RS256", kid="ps"), 401,
               "KEY_ALG_MISMATCH")


def test_jwks_alg_member_refuses_other_alg_without_kid(gw, keys):
    gw.refused("/jwks-alg/", keys.rsa.sign(alg="RS256"), 401,
               "ALG_NOT_CONFIGURED")


@pytest.mark.parametrize("attr", ["rsa", "rsa_b"])
def test_several_keys_same_alg_without_kid(gw, keys, attr):
    gw.allowed("/multi-rs/", getattr(keys, attr).sign())


def test_several_keys_same_alg_foreign_key(gw, keys):
    gw.refused("/multi-rs/", keys.evil_rsa.sign(), 401, "SIGNATURE_INVALID")


@pytest.mark.parametrize("attr,alg,kid", [
    ("rsa", "RS256", "k-rsa"),
    ("rsa", "RS256", None),
    ("p256", "ES256", None),
    ("ed25519", "EdDSA", "ed25519"),
    ("ed25519", "EdDSA", None),
    ("rsa_b", "PS512", "k-ps"),
    ("rsa_b", "PS512", None),
])
def test_mixed_key_files(gw, keys, attr, alg, kid):
    gw.allowed("/mixed/", getattr(keys, attr).sign(alg=alg, kid=kid))


def test_mixed_key_files_kid_alg_mismatch(gw, keys):
    """k-ps is pinned to PS512: an RS256 token naming it is refused."""
    gw.refused("/mixed/", keys.rsa_b.sign(alg="RS256", kid="k-ps"), 401,
               "KEY_ALG_MISMATCH")


def test_mixed_key_files_alg_not_configured(gw, keys):
    gw.refused("/mixed/", keys.p384.sign(), 401, "ALG_NOT_CONFIGURED")

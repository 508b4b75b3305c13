"""Ed25519 keys that no honest CCF has are refused by ``nginx -t``: the
points of small order (against which the signature 0x01 || 0^63 verifies
any claim set), non-canonical encodings (y >= p), values off the curve
and points with a small-order component, as PEM and as JWK, as weak RSA
keys are."""

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

import capif

WEAK = [
    # small order: y = 1 (the neutral point), 0, -1, and the order-8 ones,
    # with either sign bit
    ("01" + "00" * 31, "small order"),
    ("01" + "00" * 30 + "80", "small order"),
    ("00" * 32, "small order"),
    ("00" * 31 + "80", "small order"),
    ("ec" + "ff" * 30 + "7f", "small order"),
    ("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
     "small order"),
    ("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
     "small order"),
    # y = p and y = 2^255 - 1: not canonical
    ("ed" + "ff" * 30 + "7f", "not canonically encoded"),
    ("ff" * 32, "not canonically encoded"),
    # y = 2 has no x: never verifies anything, so refused at load
    ("02" + "00" * 31, "not a point of the curve"),
    # an honest key (RFC 8032 7.1 test 1) plus a point of order 8
    ("3b5b475c4b82dd1572799fc546f4c6c03e478c6654aa4c7f945b347ea32af60d",
     "prime-order subgroup"),
]


def write_key(tmp_path, raw, form):
    if form == "jwk":
        x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        text = json.dumps({"kty": "OKP", "crv": "Ed25519", "x": x,
                           "kid": "ccf"})
        path = tmp_path / "ccf.jwk"
    else:
        pub = ed25519.Ed25519PublicKey.from_public_bytes(raw)
        text = pub.public_bytes(serialization.Encoding.PEM,
                                serialization.PublicFormat.
                                SubjectPublicKeyInfo).decode()
        path = tmp_path / "ccf.pem"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("form", ["pem", "jwk"])
@pytest.mark.parametrize("hexkey,why", WEAK)
def test_weak_ed25519_key_refused(nginx_t, tmp_path, form, hexkey, why):
    path = write_key(tmp_path, bytes.fromhex(hexkey), form)
    rc, out = nginx_t(capif.location("/api-1/", [path + " alg=EdDSA"],
                                     upstream_port=1))
    assert rc != 0, "nginx -t accepted the key:\n" + out
    assert "[emerg]" in out and "capif_key_file" in out, out
    assert why in out, out


@pytest.mark.parametrize("form", ["pem", "jwk"])
def test_honest_ed25519_key_accepted(nginx_t, tmp_path, form):
    raw = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    path = write_key(tmp_path, raw, form)
    rc, out = nginx_t(capif.location("/api-1/", [path + " alg=EdDSA"],
                                     upstream_port=1))
    assert rc == 0, out

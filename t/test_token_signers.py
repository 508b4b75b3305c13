"""Both signers pass: build/capif-token (libjwt) and python3-jwt.

build/capif-token is built by scripts/build; a missing binary fails these
tests rather than skipping them.
"""

import time

import jwt
import pytest

import capif
from capif import capif_token


@pytest.fixture(scope="module")
def gw(module_nginx, upstream, keys):
    up = upstream.port
    L = lambda p, k, extra="": capif.location(  # noqa: E731
        p, k, extra=extra, upstream_port=up)
    server = "".join([
        L("/rs256/", [keys.rsa.pub_path]),
        L("/rs384/", [keys.rsa.pub_path + " alg=RS384"]),
        L("/rs512/", [keys.rsa.pub_path + " alg=RS512"]),
        L("/es256/", [keys.p256.pub_path]),
        L("/es384/", [keys.p384.cert_path]),
        L("/es512/", [keys.p521.pub_path]),
        L("/kid/", [keys.rsa.pub_path + " kid=ccf-1"]),
        L("/type/", [keys.rsa.cert_path], "capif_token_type access;"),
        L("/mon/", [keys.rsa.cert_path]).replace(
            "capif_aef_id aef-1;", "capif_aef_id aef-loc1;").replace(
            "capif_api_name api-1;", "capif_api_name 3gpp-as-session-with-qos;"),
    ])
    return capif.Gateway(module_nginx(server=server), upstream, keys)


def cli(key, alg, invoker=capif.INVOKER, scope=capif.SCOPE, *extra):
    return capif_token("--key", key.priv_path, "--alg", alg,
                       "--invoker", invoker, "--scope", scope, *extra)


def test_capif_token_binary_exists():
    import os
    assert os.access(capif.CAPIF_TOKEN, os.X_OK), (
        "%s missing: scripts/build builds it" % capif.CAPIF_TOKEN)


@pytest.mark.parametrize("alg,attr,path", [
    ("RS256", "rsa", "/rs256/"), ("ES256", "p256", "/es256/"),
    ("RS384", "rsa", "/rs384/"), ("RS512", "rsa", "/rs512/"),
    ("ES384", "p384", "/es384/"), ("ES512", "p521", "/es512/")])
def test_capif_token_accepted(gw, keys, alg, attr, path):
    key = getattr(keys, attr)
    t = cli(key, alg, "INV-CLI-" + alg)
    gw.allowed(path, t, invoker="INV-CLI-" + alg, scope=capif.SCOPE)


@pytest.mark.parametrize("alg,attr,path", [
    ("RS256", "rsa", "/rs256/"), ("ES256", "p256", "/es256/")])
def test_pyjwt_accepted(gw, keys, alg, attr, path):
    gw.allowed(path, getattr(keys, attr).sign(alg=alg), scope=capif.SCOPE)


def test_capif_token_claims_verify_independently(keys):
    """python3-jwt verifies what capif-token signed, with the claims asked
    for."""
    t = cli(keys.rsa, "RS256", "INV-77", "3gpp#aef-1:api-1",
            "--lifetime", "300")
    c = jwt.decode(t, keys.rsa.pub_pem, algorithms=["RS256"])
    assert c["iss"] == "INV-77" and c["scope"] == "3gpp#aef-1:api-1"
    assert abs(c["exp"] - time.time() - 300) < 5
    t = cli(keys.p256, "ES256")
    assert jwt.decode(t, keys.p256.pub_pem, algorithms=["ES256"])["iss"] \
        == capif.INVOKER


def test_capif_token_kid(gw, keys):
    gw.allowed("/kid/", cli(keys.rsa, "RS256", capif.INVOKER, capif.SCOPE,
                            "--kid", "ccf-1"))
    gw.refused("/kid/", cli(keys.rsa, "RS256", capif.INVOKER, capif.SCOPE,
                            "--kid", "ccf-2"), 401, "KID_UNKNOWN")


def test_capif_token_type_claim(gw, keys):
    gw.allowed("/type/", cli(keys.rsa, "RS256", capif.INVOKER, capif.SCOPE,
                             "--claim", "type=access"))
    gw.refused("/type/", cli(keys.rsa, "RS256", capif.INVOKER, capif.SCOPE,
                             "--claim", "type=refresh"), 401,
               "TOKEN_TYPE_MISMATCH")


def test_capif_token_real_ccf_scope(gw, keys):
    s = "3gpp#aef-loc1:3gpp-monitoring-event,3gpp-as-session-with-qos"
    gw.allowed("/mon/", cli(keys.rsa, "RS256", "INV-9", s), invoker="INV-9",
               scope=s)


def test_capif_token_extra_claims(gw, keys):
    t = cli(keys.rsa, "RS256", capif.INVOKER, capif.SCOPE,
            "--claim-json", 'resOwnerId={"gpsi":"msisdn-491701234567"}',
            "--claim-num", "fresh=1", "--claim", "jti=abc")
    c = jwt.decode(t, keys.rsa.pub_pem, algorithms=["RS256"])
    assert c["resOwnerId"] == {"gpsi": "msisdn-491701234567"}
    assert c["fresh"] == 1 and c["jti"] == "abc"
    gw.allowed("/rs256/", t)


def test_capif_token_deep_claim_refused(gw, keys):
    t = cli(keys.rsa, "RS256", capif.INVOKER, capif.SCOPE,
            "--claim-json", "deep=" + "[" * 20 + "]" * 20)
    gw.refused("/rs256/", t, 401, "CLAIMS_INVALID")


def test_capif_token_no_iat(gw, keys):
    t = cli(keys.rsa, "RS256", capif.INVOKER, capif.SCOPE, "--no-iat")
    assert "iat" not in jwt.decode(t, keys.rsa.pub_pem, algorithms=["RS256"])
    gw.allowed("/rs256/", t)


def test_capif_token_iat_in_future(gw, keys):
    t = cli(keys.rsa, "RS256", capif.INVOKER, capif.SCOPE, "--iat", "120")
    gw.refused("/rs256/", t, 401, "TOKEN_ISSUED_IN_FUTURE")


def test_capif_token_wrong_key(gw, keys):
    gw.refused("/rs256/", cli(keys.evil_rsa, "RS256"), 401,
               "SIGNATURE_INVALID")
    gw.refused("/es256/", cli(keys.evil_p256, "ES256"), 401,
               "SIGNATURE_INVALID")


def test_capif_token_other_api(gw, keys):
    gw.refused("/rs256/", cli(keys.rsa, "RS256", capif.INVOKER,
                              "3gpp#aef-1:api-2"), 403,
               "SCOPE_API_NOT_GRANTED")

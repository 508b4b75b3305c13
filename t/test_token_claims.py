"""Claims: time claims and leeway, the invoker claim, the token type.

All tokens carry a valid RS256 signature by the configured key, so each
refusal is due to the claim under test.
"""

import json
import time

import pytest

import capif
from capif import DELETE, good_claims


@pytest.fixture(scope="module")
def gw(module_nginx, upstream, keys):
    up = upstream.port
    k = [keys.rsa.pub_path]
    L = lambda path, extra="": capif.location(  # noqa: E731
        path, k, extra=extra, upstream_port=up)
    server = "".join([
        L("/t/"),
        L("/leeway/", "capif_leeway 10s;"),
        L("/leeway30/", "capif_leeway 30s;"),
        L("/client-id/", "capif_invoker_claim client_id;"),
        L("/sub/", "capif_invoker_claim sub;"),
        L("/iss/", "capif_invoker_claim iss;"),
        L("/type/", "capif_token_type access;"),
    ])
    return capif.Gateway(module_nginx(server=server), upstream, keys)


def tok(keys, **claims):
    return keys.rsa.token(claims=good_claims(**claims))


def raw_tok(keys, raw_member):
    """Good claims plus one raw JSON member text (e.g. '"exp":1e300'),
    replacing a claim of the same name."""
    name = json.loads("{%s}" % raw_member.replace("1e309", "0"))
    c = good_claims()
    for n in name:
        c.pop(n, None)
    body = json.dumps(c, separators=(",", ":"))[:-1] + "," + raw_member + "}"
    return keys.rsa.sign_raw({"alg": "RS256"}, body, "RS256")


def now():
    return int(time.time())


# ------------------------------------------------------------ time claims

@pytest.mark.parametrize("value", [
    DELETE, "9999999999", None, True, False, [], [9999999999], {},
    {"t": 9999999999}, ""])
def test_exp_wrong_type(gw, keys, value):
    gw.refused("/t/", tok(keys, exp=value), 401, "TIME_CLAIM_INVALID")


@pytest.mark.parametrize("claim", ["nbf", "iat"])
@pytest.mark.parametrize("value", ["0", "", None, True, False, [], {}])
def test_nbf_iat_wrong_type(gw, keys, claim, value):
    gw.refused("/t/", tok(keys, **{claim: value}), 401, "TIME_CLAIM_INVALID")


def test_nbf_iat_optional(gw, keys):
    gw.allowed("/t/", tok(keys, nbf=DELETE, iat=DELETE))


def test_float_times_accepted(gw, keys):
    t = time.time()
    gw.allowed("/t/", tok(keys, exp=t + 600.5, iat=t - 0.5, nbf=t - 1.5))


@pytest.mark.parametrize("delta", [-1, -10, -100000])
def test_expired(gw, keys, delta):
    gw.refused("/t/", tok(keys, exp=now() + delta, iat=now() - 700,
                          nbf=now() - 700), 401, "TOKEN_EXPIRED")


@pytest.mark.parametrize("exp", [0, -1, -9223372036854775807, 1.5])
def test_expired_extreme(gw, keys, exp):
    gw.refused("/t/", tok(keys, exp=exp, iat=0, nbf=0), 401, "TOKEN_EXPIRED")


def test_expired_float(gw, keys):
    gw.refused("/t/", tok(keys, exp=time.time() - 10.5), 401,
               "TOKEN_EXPIRED")


def test_nbf_in_future(gw, keys):
    gw.refused("/t/", tok(keys, nbf=now() + 60), 401, "TOKEN_NOT_YET_VALID")


def test_iat_in_future(gw, keys):
    gw.refused("/t/", tok(keys, iat=now() + 60), 401,
               "TOKEN_ISSUED_IN_FUTURE")


def test_large_finite_exp_accepted(gw, keys):
    gw.allowed("/t/", tok(keys, exp=32503680000))


def test_exp_int64_max_with_leeway(gw, keys):
    """exp + leeway must not overflow into the past."""
    gw.allowed("/leeway/", tok(keys, exp=2 ** 63 - 1))


@pytest.mark.parametrize("member", [
    '"exp":1e300', '"exp":9223372036854775808', '"exp":18446744073709551616',
    '"exp":1e309', '"exp":-1e300', '"exp":1E+20', '"exp":99999999999999999999'])
def test_huge_exp_no_crash(gw, keys, member):
    """Accepted or refused, but decided (and no crash: the error-log guard
    checks for that)."""
    r = gw.get("/leeway/", raw_tok(keys, member))
    if r.status == 200:
        capif.assert_allowed(r)
        assert not member.startswith('"exp":-')
    else:
        capif.assert_refused(r, 401, ("TIME_CLAIM_INVALID", "CLAIMS_INVALID",
                                      "TOKEN_EXPIRED"))


@pytest.mark.parametrize("claim,cause", [
    ("nbf", "TOKEN_NOT_YET_VALID"), ("iat", "TOKEN_ISSUED_IN_FUTURE")])
@pytest.mark.parametrize("value", ["1e300", "9223372036854775807",
                                   "32503680000"])
def test_huge_nbf_iat_refused(gw, keys, claim, cause, value):
    gw.refused("/leeway/", raw_tok(keys, '"%s":%s' % (claim, value)), 401,
               cause)


def test_leeway_exp(gw, keys):
    t = tok(keys, exp=now() - 5)
    gw.allowed("/leeway/", t)
    gw.refused("/t/", t, 401, "TOKEN_EXPIRED")


def test_leeway_exp_exceeded(gw, keys):
    gw.refused("/leeway/", tok(keys, exp=now() - 20), 401, "TOKEN_EXPIRED")


def test_leeway_30s(gw, keys):
    gw.allowed("/leeway30/", tok(keys, exp=now() - 25))
    gw.refused("/leeway30/", tok(keys, exp=now() - 40), 401, "TOKEN_EXPIRED")


def test_leeway_nbf(gw, keys):
    t = tok(keys, nbf=now() + 5)
    gw.allowed("/leeway/", t)
    gw.refused("/t/", t, 401, "TOKEN_NOT_YET_VALID")
    gw.refused("/leeway/", tok(keys, nbf=now() + 20), 401,
               "TOKEN_NOT_YET_VALID")


def test_leeway_iat(gw, keys):
    t = tok(keys, iat=now() + 5)
    gw.allowed("/leeway/", t)
    gw.refused("/t/", t, 401, "TOKEN_ISSUED_IN_FUTURE")
    gw.refused("/leeway/", tok(keys, iat=now() + 20), 401,
               "TOKEN_ISSUED_IN_FUTURE")


# ---------------------------------------------------------- invoker claim

def _three_ids(keys):
    return tok(keys, iss="INV-ISS", sub="INV-SUB", client_id="INV-CID")


def test_invoker_default_iss(gw, keys):
    gw.allowed("/t/", _three_ids(keys), invoker="INV-ISS")


def test_invoker_explicit_iss(gw, keys):
    gw.allowed("/iss/", _three_ids(keys), invoker="INV-ISS")


def test_invoker_client_id(gw, keys):
    gw.allowed("/client-id/", _three_ids(keys), invoker="INV-CID")


def test_invoker_sub(gw, keys):
    gw.allowed("/sub/", _three_ids(keys), invoker="INV-SUB")


def test_invoker_client_id_without_iss(gw, keys):
    gw.allowed("/client-id/", tok(keys, iss=DELETE, client_id="INV-C"),
               invoker="INV-C")


@pytest.mark.parametrize("value", [DELETE, "", 1234, None, True, [],
                                   ["INV-1"], {"id": "INV-1"}])
def test_invoker_missing_iss(gw, keys, value):
    gw.refused("/t/", tok(keys, iss=value), 401, "INVOKER_ID_MISSING")


@pytest.mark.parametrize("value", [DELETE, "", 7, None])
def test_invoker_missing_client_id(gw, keys, value):
    gw.refused("/client-id/", tok(keys, client_id=value), 401,
               "INVOKER_ID_MISSING")


@pytest.mark.parametrize("value", [DELETE, "", 7, None])
def test_invoker_missing_sub(gw, keys, value):
    gw.refused("/sub/", tok(keys, sub=value), 401, "INVOKER_ID_MISSING")


def test_invoker_reaches_upstream_and_scope_variable(gw, keys):
    scope = "3gpp#aef-0:x;aef-1:y,api-1"
    gw.allowed("/t/", tok(keys, iss="INV-42", scope=scope), invoker="INV-42",
               scope=scope)


def test_invoker_spoofed_client_header_replaced(gw, keys):
    r = gw.allowed("/t/", tok(keys), headers=[
        ("X-Capif-Invoker-Id", "INV-EVIL"), ("X-Capif-Scope", "3gpp#x:y")],
        scope=capif.SCOPE)
    assert "INV-EVIL" not in r.body.decode()


def test_invoker_header_injection(gw, keys):
    """An invoker id with CR/LF must not inject a header towards the AEF:
    control bytes in the invoker id make the token invalid."""
    for iss in ("INV-1\r\nX-Injected: yes", "INV-1\x7f", "INV\t1"):
        r = gw.get("/t/", tok(keys, iss=iss))
        capif.assert_refused(r, 401, "INVOKER_ID_INVALID")


# ------------------------------------------------------------ token type

def test_token_type_access(gw, keys):
    gw.allowed("/type/", tok(keys, type="access"))


@pytest.mark.parametrize("value", ["refresh", DELETE, "Access", "access ",
                                   "", None, 1, ["access"]])
def test_token_type_mismatch(gw, keys, value):
    gw.refused("/type/", tok(keys, type=value), 401, "TOKEN_TYPE_MISMATCH")


def test_token_type_not_checked_by_default(gw, keys):
    gw.allowed("/t/", tok(keys, type="refresh"))
    gw.allowed("/t/", tok(keys, type=DELETE))

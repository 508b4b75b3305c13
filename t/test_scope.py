"""CAPIF scope: exact, byte-wise match of this location's AEF id and API
name in ``3gpp#<aef>:<api>[,<api>][;<aef>:<api>...]``; look-alikes fail.

The protected location is AEF ``aef-1``, API ``api-1``; every token is
validly signed, so each refusal is due to the scope alone.
"""

import json

import pytest

import capif
from capif import DELETE, good_claims

OK = "ok"
MISSING = (401, "SCOPE_MISSING")
MALFORMED = (401, "SCOPE_MALFORMED")
AEF_NOT = (403, "SCOPE_AEF_NOT_GRANTED")
API_NOT = (403, "SCOPE_API_NOT_GRANTED")


@pytest.fixture(scope="module")
def gw(module_nginx, upstream, keys):
    up = upstream.port
    server = "".join([
        capif.location("/api-1/", [keys.rsa.pub_path], upstream_port=up),
        capif.location("/mon/", [keys.rsa.pub_path], aef="aef-loc1",
                       api="3gpp-monitoring-event", upstream_port=up),
        capif.location("/realm/", [keys.rsa.pub_path],
                       extra='capif_realm "aef zone";', upstream_port=up),
    ])
    return capif.Gateway(module_nginx(server=server), upstream, keys)


def tok(keys, scope):
    return keys.rsa.token(claims=good_claims(scope=scope))


CASES = [
    # exact and multi-entry grants
    ("3gpp#aef-1:api-1", OK),
    ("3gpp#aef-1:api-0,api-1", OK),
    ("3gpp#aef-1:api-1,api-2", OK),
    ("3gpp#aef-0:x;aef-1:y,api-1", OK),
    ("3gpp#aef-1:api-1;aef-2:api-2", OK),
    ("openid 3gpp#aef-1:api-1", OK),
    ("3gpp#aef-1:api-1 openid", OK),
    ("a b 3gpp#aef-1:api-1 c", OK),
    # no 3gpp# entry
    ("", (401, ("SCOPE_MISSING", "SCOPE_MALFORMED"))),
    ("openid", MISSING),
    ("openid profile", MISSING),
    ("3GPP#aef-1:api-1", MISSING),
    ("3Gpp#aef-1:api-1", MISSING),
    ("aef-1:api-1", MISSING),
    # case variants and look-alikes: byte-exact
    ("3gpp#AEF-1:api-1", AEF_NOT),
    ("3gpp#Aef-1:api-1", AEF_NOT),
    ("3gpp#aef-1:API-1", API_NOT),
    ("3gpp#aef-1:Api-1", API_NOT),
    ("3gpp#aef-1\uff1aapi-1", MALFORMED),       # fullwidth colon
    ("3gpp#aef\u20101:api-1", MALFORMED),      # Unicode hyphen
    ("3gpp#\uff41ef-1:api-1", MALFORMED),      # fullwidth a
    ("3gpp\uff03aef-1:api-1", MALFORMED),      # fullwidth #
    ("3gpp#aef-1:api-1\u00a0", MALFORMED),     # NBSP
    # spaces
    ("3gpp#aef-1: api-1", MALFORMED),
    ("3gpp#aef-1 :api-1", MALFORMED),
    ("3gpp#aef-1:api-1 ", MALFORMED),
    (" 3gpp#aef-1:api-1", MALFORMED),
    ("openid  3gpp#aef-1:api-1", MALFORMED),
    ("3gpp#aef-1:api-1\t", MALFORMED),
    ("3gpp#aef-1:api-0, api-1", MALFORMED),
    # other AEF / other API / prefix tricks
    ("3gpp#aef-2:api-1", AEF_NOT),
    ("3gpp#aef-10:api-1", AEF_NOT),
    ("3gpp#aef-:api-1", AEF_NOT),
    ("3gpp#aef-0:api-1;aef-2:api-1", AEF_NOT),
    ("3gpp#xaef-1:api-1", AEF_NOT),
    ("3gpp#aef-1:api-2", API_NOT),
    ("3gpp#aef-1:api-10", API_NOT),
    ("3gpp#aef-1:api-", API_NOT),
    ("3gpp#aef-1:xapi-1", API_NOT),
    ("3gpp#aef-1:api-0,api-2;aef-2:api-1", API_NOT),
    # grammar
    ("3gpp#aef-1:", MALFORMED),
    ("3gpp#aef-1", MALFORMED),
    ("3gpp#", MALFORMED),
    ("3gpp#:api-1", MALFORMED),
    ("3gpp#aef-1:api-1,", MALFORMED),
    ("3gpp#aef-1:,api-1", MALFORMED),
    ("3gpp#aef-1:api-0,,api-1", MALFORMED),
    ("3gpp#aef-1:api-1;", MALFORMED),
    ("3gpp#;aef-1:api-1", MALFORMED),
    ("3gpp#aef-0:x;;aef-1:api-1", MALFORMED),
    ("3gpp#aef-1::api-1", MALFORMED),
    ("3gpp#aef-1:api-1 3gpp#aef-1:api-1", MALFORMED),
    ("3gpp#aef-2:x 3gpp#aef-1:api-1", MALFORMED),
    # characters outside RFC 6749's scope-token set
    ('3gpp#aef-1:api-1"', MALFORMED),
    ('3gpp#aef-1:"api-1"', MALFORMED),
    ("3gpp#aef-1:api-1\\", MALFORMED),
    ("3gpp#aef-1:api\\-1", MALFORMED),
    ("3gpp#aef-1:api-1\x7f", MALFORMED),
    ("3gpp#aef-1:api-1\x01", MALFORMED),
    ("3gpp#aef-1:api-1\n", MALFORMED),
]


@pytest.mark.parametrize("scope,expect", CASES,
                         ids=[json.dumps(c[0]) for c in CASES])
def test_scope(gw, keys, scope, expect):
    t = tok(keys, scope)
    if expect == OK:
        gw.allowed("/api-1/", t, scope=scope)
    else:
        gw.refused("/api-1/", t, expect[0], expect[1])


def test_scope_absent(gw, keys):
    gw.refused("/api-1/", keys.rsa.token(claims=good_claims(scope=DELETE)),
               401, "SCOPE_MISSING")


@pytest.mark.parametrize("value", [None, 1, True, ["3gpp#aef-1:api-1"],
                                   {"3gpp#aef-1": "api-1"}])
def test_scope_not_a_string(gw, keys, value):
    gw.refused("/api-1/", keys.rsa.token(claims=good_claims(scope=value)),
               401, ("SCOPE_MISSING", "SCOPE_MALFORMED"))


def test_ccf_login_jwt_refused(gw, keys):
    """A login JWT signed by the same CCF key, no 3gpp# scope."""
    import time
    login = {"sub": "user", "exp": int(time.time()) + 600,
             "iat": int(time.time()), "nbf": int(time.time()),
             "jti": "x", "fresh": True, "type": "access",
             "iss": "INV-1234"}
    gw.refused("/api-1/", keys.rsa.sign(claims=login), 401, "SCOPE_MISSING")
    del login["iss"]
    r = gw.get("/api-1/", keys.rsa.sign(claims=login))
    capif.assert_refused(r, 401, ("SCOPE_MISSING", "INVOKER_ID_MISSING"))


def test_scope_real_ccf_shape(gw, keys):
    s = "3gpp#aef-loc1:3gpp-monitoring-event,3gpp-as-session-with-qos"
    gw.allowed("/mon/", tok(keys, s), scope=s)
    gw.refused("/api-1/", tok(keys, s), 403, "SCOPE_AEF_NOT_GRANTED")


def test_scope_refusal_uses_realm(gw, keys):
    gw.refused("/realm/", tok(keys, "3gpp#aef-2:api-1"), 403,
               "SCOPE_AEF_NOT_GRANTED", realm="aef zone")
    gw.refused("/realm/", tok(keys, "3gpp#aef-1:api-2"), 403,
               "SCOPE_API_NOT_GRANTED", realm="aef zone")

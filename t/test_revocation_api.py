"""Revocation: the AEF_Security_API (TS 29.222 revoke-authorization and
this module's owner/group withdrawals) and its enforcement.

Semantics of invoker, single-token, owner, purpose and group revocation;
re-authorization by a later iat; tokens without iat; the lifetime bound;
malformed bodies changing nothing; mutual TLS with the right, a wrong and
no certificate; the operator's listing.  worker_processes 2, real upstream.
"""

import json
import os
import time

import pytest

import capif
from capif import DELETE
from test_revocation_common import (
    ADMIN, ALICE, API_ID, BOB, STRICT, TEAM, Certs, assert_ok,
    assert_problem, assert_revoked, assert_stored, listing, next_second,
    post, revoke, revoke_body, start_kwargs, tls_request, token)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return Certs(str(tmp_path_factory.mktemp("certs")))


@pytest.fixture
def gw(nginx, upstream, keys, certs, tmp_path):
    tls = capif.free_port()
    n = nginx(**start_kwargs(keys, certs, upstream,
                             str(tmp_path / "journal"), tls_port=tls))
    n.tls_port = tls
    n.journal = str(tmp_path / "journal")
    return n


# ---------------------------------------------------------------- invoker

def test_invoker_revocation_refuses_and_spares_others(gw, keys, upstream):
    t = token(keys)
    other = token(keys, invoker="INV-other", iss="INV-other",
                  sub="INV-other")
    assert_ok(gw, "/api/x", t)

    assert_stored(revoke(gw.port))

    assert_revoked(gw, "/api/x", t, upstream)
    # another invoker, and another API of the same invoker, still pass
    assert_ok(gw, "/api/x", other)
    assert_ok(gw, "/other/x", token(keys, scope="3gpp#aef-1:api-2"))


def test_invoker_revocation_without_aef_covers_every_aef(gw, keys):
    t = token(keys)
    assert revoke(gw.port, aef=None).status == 200
    assert_revoked(gw, "/api/x", t)


def test_invoker_revocation_other_aef_does_not_apply(gw, keys):
    t = token(keys)
    assert revoke(gw.port, aef="aef-elsewhere").status == 200
    assert_ok(gw, "/api/x", t)


def test_revocation_by_api_id(gw, keys):
    t = token(keys)
    assert revoke(gw.port, api_ids=[API_ID]).status == 200
    assert_revoked(gw, "/api-id/x", t)
    # /api/ has no capif_api_id: the name does not match apiid-77
    assert_ok(gw, "/api/x", t)


def test_later_iat_reauthorizes(gw, keys):
    before = token(keys)
    assert revoke(gw.port).status == 200
    assert_revoked(gw, "/api/x", before)

    # issued in the same second as the revocation: still refused
    same = token(keys)
    assert_revoked(gw, "/api/x", same)
    now = next_second()
    after = token(keys, iat=now, nbf=now)
    assert_ok(gw, "/api/x", after)

    # the old ones stay refused
    assert_revoked(gw, "/api/x", before)
    assert_revoked(gw, "/api/x", same)


def test_token_without_iat_refused_when_revoked(gw, keys):
    t = token(keys, iat=DELETE)
    assert_ok(gw, "/api/x", t)
    assert revoke(gw.port).status == 200
    next_second()
    assert_revoked(gw, "/api/x", token(keys, iat=DELETE))
    # with a later iat it passes
    now = int(time.time())
    assert_ok(gw, "/api/x", token(keys, iat=now, nbf=now))


def test_revocation_burst_on_fresh_connections(gw, keys, upstream):
    t = token(keys)
    assert_ok(gw, "/api/x", t)
    assert revoke(gw.port).status == 200
    # every request opens a fresh connection: both workers get some
    for _ in range(60):
        assert_revoked(gw, "/api/x", t, upstream)


# ---------------------------------------------------------------- token

def test_single_token_by_jti(gw, keys):
    victim = token(keys)
    sibling = token(keys)
    # the listed API is another one: /api/ refuses the token itself
    assert_stored(revoke(gw.port, token=victim, api_ids=["api-9"]))
    assert_revoked(gw, "/api/x", victim)
    assert_ok(gw, "/api/x", sibling)
    entries = listing(gw.port)["revocations"]
    assert sorted(e["type"] for e in entries) == ["invoker", "token"]
    jti = json.loads(capif.b64u_decode(victim.split(".")[1]))["jti"]
    assert [e["jti"] for e in entries if e["type"] == "token"] == [jti]


def _malleate_es256(tok):
    """(r, s) -> (r, n - s): another valid ECDSA signature, same token."""
    n = int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551",
            16)
    h, p, s = tok.split(".")
    sig = capif.b64u_decode(s)
    r_, s_ = sig[:32], int.from_bytes(sig[32:], "big")
    return "%s.%s.%s" % (h, p, capif.b64u(r_ + (n - s_).to_bytes(32, "big")))


@pytest.mark.parametrize("with_jti", [True, False])
def test_single_token_reencoded_signature_refused(gw, keys, with_jti):
    claims = {} if with_jti else {"jti": DELETE}
    victim = token(keys, key=keys.p256, **claims)
    twin = _malleate_es256(victim)
    assert twin != victim
    assert_ok(gw, "/api/x", twin)          # the gateway accepts high-s

    assert_stored(revoke(gw.port, token=victim, api_ids=["api-9"]))
    assert_revoked(gw, "/api/x", victim)
    assert_revoked(gw, "/api/x", twin)
    e = [e for e in listing(gw.port)["revocations"]
         if e["type"] == "token"][0]
    assert ("jti" in e) == with_jti and ("sha256" in e) != with_jti
    # another token (other claims) of the same invoker still passes
    assert_ok(gw, "/api/x", token(keys, key=keys.p256, n=2, **claims))


# ---------------------------------------------------------------- lifetime

def test_lifetime_exceeded_refused(gw, keys):
    now = int(time.time())
    t = token(keys, iat=now, exp=now + 3601)
    capif.assert_refused(gw.get("/api/x", t), 401, "TOKEN_LIFETIME_EXCEEDED",
                         token=t)
    assert_ok(gw, "/api/x", token(keys, iat=now, exp=now + 3600))
    t = token(keys, iat=DELETE, exp=now + 7200)
    capif.assert_refused(gw.get("/api/x", t), 401, "TOKEN_LIFETIME_EXCEEDED",
                         token=t)


# ---------------------------------------------------------------- listing

def test_listing(gw, keys):
    assert listing(gw.port) == {"revocations": [], "count": 0}
    assert revoke(gw.port, api_ids=["api-1", "api-9"],
                  cause="OVERLIMIT_USAGE").status == 200
    got = listing(gw.port)
    assert got["count"] == 2
    for e in got["revocations"]:
        assert e["type"] == "invoker"
        assert e["apiInvokerId"] == capif.INVOKER
        assert e["aefId"] == capif.AEF_ID
        assert e["cause"] == "OVERLIMIT_USAGE"
        assert e["expiresAt"] - e["revokedAt"] >= 3600
    assert sorted(e["apiId"] for e in got["revocations"]) == [
        "api-1", "api-9"]
    # the same revocation again merges, it does not duplicate
    assert revoke(gw.port).status == 200
    assert listing(gw.port)["count"] == 2


# ---------------------------------------------------------------- malformed

GOOD = revoke_body()


def _with(**info):
    b = json.loads(json.dumps(GOOD))
    for k, v in info.items():
        if v is DELETE:
            b["revokeInfo"].pop(k, None)
        else:
            b["revokeInfo"][k] = v
    return b


MALFORMED = [
    ("bad json", b'{"revokeInfo": {', "INVALID_MSG_FORMAT"),
    ("not an object", b'[1, 2]', "INVALID_MSG_FORMAT"),
    ("empty", b"", "INVALID_MSG_FORMAT"),
    ("duplicate member", b'{"revokeInfo": {}, "revokeInfo": {}}',
     "INVALID_MSG_FORMAT"),
    ("no revokeInfo", {"supportedFeatures": "0"}, "MANDATORY_IE_MISSING"),
    ("revokeInfo not object", {"revokeInfo": []}, "MANDATORY_IE_INCORRECT"),
    ("missing apiIds", _with(apiIds=DELETE), "MANDATORY_IE_MISSING"),
    ("empty apiIds", _with(apiIds=[]), "MANDATORY_IE_INCORRECT"),
    ("apiIds not array", _with(apiIds="api-1"), "MANDATORY_IE_INCORRECT"),
    ("apiIds item number", _with(apiIds=[1]), "MANDATORY_IE_INCORRECT"),
    ("apiIds item empty", _with(apiIds=[""]), "MANDATORY_IE_INCORRECT"),
    ("missing invoker", _with(apiInvokerId=DELETE), "MANDATORY_IE_MISSING"),
    ("invoker number", _with(apiInvokerId=7), "MANDATORY_IE_INCORRECT"),
    ("invoker empty", _with(apiInvokerId=""), "MANDATORY_IE_INCORRECT"),
    ("invoker control char", _with(apiInvokerId="a\nb"),
     "MANDATORY_IE_INCORRECT"),
    ("aefId number", _with(aefId=3), "OPTIONAL_IE_INCORRECT"),
    ("missing cause", _with(cause=DELETE), "MANDATORY_IE_MISSING"),
    ("cause empty", _with(cause=""), "MANDATORY_IE_INCORRECT"),
    ("cause control char", _with(cause="A\tB"), "MANDATORY_IE_INCORRECT"),
    ("cause number", _with(cause=1), "MANDATORY_IE_INCORRECT"),
    ("token not a string", _with(access_token=5), "OPTIONAL_IE_INCORRECT"),
    ("token not a JWS", _with(access_token="abc.def"),
     "OPTIONAL_IE_INCORRECT"),
    ("token empty", _with(access_token=""), "OPTIONAL_IE_INCORRECT"),
    ("camelCase token not a JWS", _with(accessToken="abc.def"),
     "OPTIONAL_IE_INCORRECT"),
    ("missing features", revoke_body(features=None),
     "MANDATORY_IE_MISSING"),
    ("features not hex", dict(GOOD, supportedFeatures="xyz"),
     "MANDATORY_IE_INCORRECT"),
    ("features number", dict(GOOD, supportedFeatures=1),
     "MANDATORY_IE_INCORRECT"),
]


@pytest.mark.parametrize("name,body,cause", MALFORMED,
                         ids=[m[0] for m in MALFORMED])
def test_malformed_refused_and_nothing_changes(gw, keys, name, body, cause):
    t = token(keys)
    before = os.path.getsize(gw.journal)
    r = post(gw.port, "revoke-authorization", body)
    assert_problem(r, 400, cause)
    assert listing(gw.port)["count"] == 0
    assert os.path.getsize(gw.journal) == before
    assert_ok(gw, "/api/x", t)


def test_oversized_body_refused(gw, keys):
    big = revoke_body(api_ids=["a" * 400] * 60)
    big["revokeInfo"]["padding"] = "x" * 70000
    r = post(gw.port, "revoke-authorization", big)
    assert_problem(r, 413, "BODY_TOO_LARGE")
    assert listing(gw.port)["count"] == 0
    # too many apiIds
    r = post(gw.port, "revoke-authorization",
             revoke_body(api_ids=["a%d" % i for i in range(65)]))
    assert_problem(r, 400, "MANDATORY_IE_INCORRECT")
    assert listing(gw.port)["count"] == 0


def test_unknown_operation_and_method(gw):
    assert_problem(post(gw.port, "revoke-everything", GOOD), 404)
    r = capif.request(gw.port, "DELETE", ADMIN + "revoke-authorization",
                      test_id=False)
    assert_problem(r, 405, "METHOD_NOT_ALLOWED")
    assert r.header("Allow") == "GET, HEAD, POST", r


# ---------------------------------------------------------------- auth

def test_mtls_right_cert_accepted(gw, keys, certs):
    t = token(keys)
    r = tls_request(gw.tls_port, "POST", ADMIN + "revoke-authorization",
                    GOOD, cert=certs.ccf)
    assert r.status == 200, r
    assert_revoked(gw, "/api/x", t)
    r = tls_request(gw.tls_port, "GET", ADMIN, cert=certs.ccf)
    assert r.status == 200 and r.json()["count"] == 1


@pytest.mark.parametrize("who", ["impostor", "none"])
def test_mtls_wrong_or_no_cert_refused(gw, keys, certs, who):
    t = token(keys)
    cert = certs.impostor if who == "impostor" else None
    r = tls_request(gw.tls_port, "POST", ADMIN + "revoke-authorization",
                    GOOD, cert=cert)
    assert_problem(r, 403, "CCF_NOT_AUTHENTICATED")
    r = tls_request(gw.tls_port, "GET", ADMIN, cert=cert)
    assert_problem(r, 403, "CCF_NOT_AUTHENTICATED")
    assert listing(gw.port)["count"] == 0
    assert_ok(gw, "/api/x", t)


def test_plain_without_loopback_option_refused(gw, keys):
    t = token(keys)
    r = post(gw.port, "revoke-authorization", GOOD, prefix=STRICT)
    assert_problem(r, 403, "CCF_NOT_AUTHENTICATED")
    r = post(gw.port, "revoke-authorization", b"{garbage", prefix=STRICT)
    assert_problem(r, 403, "CCF_NOT_AUTHENTICATED")
    assert listing(gw.port)["count"] == 0
    assert_ok(gw, "/api/x", t)


# ---------------------------------------------------------------- config

@pytest.mark.parametrize("http,server,message", [
    ("", "location /a/ { capif_aef_security; "
         "capif_admin_allow_plain_loopback on; }",
     "capif_aef_security requires capif_zone and capif_journal"),
    ("capif_zone z:1m; capif_journal j;",
     "location /a/ { capif_aef_security; }",
     "needs capif_ccf_certificate"),
    ("capif_zone z:1k;", "", "is too small"),
    ("capif_zone z;", "", "expected name:size"),
    ("capif_journal j;", "", "capif_journal requires capif_zone"),
    ("capif_zone z:1m; capif_token_max_lifetime 0;", "",
     "must be positive"),
    ("capif_zone z:1m;",
     "location /a/ { capif_ccf_certificate /nonexistent.pem; }",
     "cannot read"),
])
def test_bad_config_refused(nginx_t, http, server, message):
    from test_revocation_common import MODULE
    rc, out = nginx_t(server=server, http=http, module=MODULE)
    assert rc != 0, out
    assert message in out, out


# ---------------------------------------------------------------- RNAA

OWNER_LOCS = """
        location /owner/ {
            capif on;
            capif_key_file %(key)s;
            capif_aef_id aef-1;
            capif_api_name api-1;
            capif_resource_owner $arg_ueId;
            capif_purpose billing analytics;
            capif_purpose_from $arg_purpose;
            proxy_pass http://127.0.0.1:%(up)d;
        }
        location /grp/ {
            capif on;
            capif_key_file %(key)s;
            capif_aef_id aef-1;
            capif_api_name api-1;
            capif_resource_owner $arg_ueId;
            proxy_pass http://127.0.0.1:%(up)d;
        }
"""


@pytest.fixture
def rnaa(nginx, upstream, keys, certs, tmp_path):
    reg = tmp_path / "groups.json"
    reg.write_text(json.dumps({TEAM: [ALICE, BOB]}))
    kw = start_kwargs(keys, certs, upstream, str(tmp_path / "journal"),
                      extra_http="capif_groups %s;" % reg,
                      extra_server=OWNER_LOCS % {
                          "key": keys.rsa.pub_path, "up": upstream.port})
    return nginx(**kw)


def owner_token(keys, purposes=("billing", "analytics"), **kw):
    return token(keys, resOwnerId=ALICE, purpose=list(purposes), **kw)


def group_token(keys, **kw):
    return token(keys, externalGroupId=TEAM, invokerGpsi=ALICE, **kw)


def owner_body(purpose=None, invoker=capif.INVOKER, owner=ALICE,
               cause="AUTHORIZATION_ISSUE"):
    info = {"apiInvokerId": invoker, "resOwnerId": owner, "cause": cause}
    if purpose is not None:
        info["purpose"] = purpose
    return {"revokeInfo": info, "supportedFeatures": "0"}


def group_body(**info):
    return {"revokeInfo": info, "supportedFeatures": "0"}


def test_owner_withdrawal_all_purposes(rnaa, keys):
    t = owner_token(keys)
    for p in ("billing", "analytics"):
        assert_ok(rnaa, "/owner/?ueId=%s&purpose=%s" % (ALICE, p), t)
    r = post(rnaa.port, "revoke-owner-authorization", owner_body())
    assert r.status == 200, r
    for p in ("billing", "analytics"):
        assert_revoked(rnaa, "/owner/?ueId=%s&purpose=%s" % (ALICE, p), t)
    e = listing(rnaa.port)["revocations"]
    assert e[0]["type"] == "owner" and e[0]["resOwnerId"] == ALICE


def test_owner_withdrawal_one_purpose(rnaa, keys):
    t = owner_token(keys)
    r = post(rnaa.port, "revoke-owner-authorization",
             owner_body(purpose="billing"))
    assert r.status == 200, r
    assert_revoked(rnaa, "/owner/?ueId=%s&purpose=billing" % ALICE, t)
    assert_ok(rnaa, "/owner/?ueId=%s&purpose=analytics" % ALICE, t)
    now = next_second()
    later = owner_token(keys, iat=now, nbf=now)
    assert_ok(rnaa, "/owner/?ueId=%s&purpose=billing" % ALICE, later)


def test_owner_withdrawal_other_invoker_unaffected(rnaa, keys):
    t = owner_token(keys)
    r = post(rnaa.port, "revoke-owner-authorization",
             owner_body(invoker="INV-other"))
    assert r.status == 200, r
    assert_ok(rnaa, "/owner/?ueId=%s&purpose=billing" % ALICE, t)


@pytest.mark.parametrize("body,cause", [
    (owner_body(owner="alice"), "MANDATORY_IE_INCORRECT"),
    (group_body(apiInvokerId="x", cause="OTHER_REASON"),
     "MANDATORY_IE_MISSING"),
    (owner_body(purpose=""), "OPTIONAL_IE_INCORRECT"),
    (owner_body(cause=""), "MANDATORY_IE_INCORRECT"),
    ({"revokeInfo": owner_body()["revokeInfo"]}, "MANDATORY_IE_MISSING"),
])
def test_owner_withdrawal_malformed(rnaa, body, cause):
    assert_problem(post(rnaa.port, "revoke-owner-authorization", body), 400,
                   cause)
    assert listing(rnaa.port)["count"] == 0


def test_group_withdrawal_everyone(rnaa, keys):
    t = group_token(keys)
    assert_ok(rnaa, "/grp/?ueId=" + BOB, t)
    r = post(rnaa.port, "revoke-group-authorization",
             group_body(groupId=TEAM, cause="OTHER_REASON"))
    assert r.status == 200, r
    assert_revoked(rnaa, "/grp/?ueId=" + BOB, t)
    other = group_token(keys, invoker="INV-2", iss="INV-2", sub="INV-2")
    assert_revoked(rnaa, "/grp/?ueId=" + BOB, other)


def test_group_withdrawal_one_invoker(rnaa, keys):
    t = group_token(keys)
    other = group_token(keys, invoker="INV-2", iss="INV-2", sub="INV-2")
    r = post(rnaa.port, "revoke-group-authorization",
             group_body(groupId=TEAM, apiInvokerId=capif.INVOKER,
                        cause="OTHER_REASON"))
    assert r.status == 200, r
    assert_revoked(rnaa, "/grp/?ueId=" + BOB, t)
    assert_ok(rnaa, "/grp/?ueId=" + BOB, other)


@pytest.mark.parametrize("info,cause", [
    ({"groupId": "team1", "cause": "OTHER_REASON"},
     "MANDATORY_IE_INCORRECT"),
    ({"cause": "OTHER_REASON"}, "MANDATORY_IE_MISSING"),
    ({"groupId": TEAM, "apiInvokerId": 5, "cause": "OTHER_REASON"},
     "OPTIONAL_IE_INCORRECT"),
    ({"groupId": TEAM}, "MANDATORY_IE_MISSING"),
])
def test_group_withdrawal_malformed(rnaa, info, cause):
    r = post(rnaa.port, "revoke-group-authorization", group_body(**info))
    assert_problem(r, 400, cause)
    assert listing(rnaa.port)["count"] == 0

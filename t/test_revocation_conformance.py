"""Revocation as TS 29.222 clause 9 (AEF_Security_API) defines it, and
every token the gateway accepts can be revoked.

200 RevokeAuthorizationRsp with the features both sides support; the
mandatory supportedFeatures; any non-empty cause, stored and listed as
sent; an access token revokes the token and the invoker's APIs (either
spelling); capif_leeway against a CCF clock running ahead; 405 with Allow;
415; empty bodies; a long jti, a jti with a control byte; a listing that
never fails on a stored value; version 1 journal records still replayed.
worker_processes 2, real upstream.
"""

import json
import os
import struct
import time
import zlib

import pytest

import capif
from test_revocation_common import (
    ADMIN, Certs, Unmanaged, assert_ok, assert_problem, assert_revoked,
    assert_stored, listing, next_second, post, revoke, revoke_body,
    start_kwargs, token)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return Certs(str(tmp_path_factory.mktemp("certs")))


LEEWAY_LOC = """
        location /skew/ {
            capif on;
            capif_key_file %(key)s;
            capif_aef_id aef-1;
            capif_api_name api-1;
            capif_leeway 5s;
            proxy_pass http://127.0.0.1:%(up)d;
        }
"""


@pytest.fixture
def gw(nginx, upstream, keys, certs, tmp_path):
    n = nginx(**start_kwargs(
        keys, certs, upstream, str(tmp_path / "journal"),
        extra_server=LEEWAY_LOC % {"key": keys.rsa.pub_path,
                                   "up": upstream.port}))
    n.journal = str(tmp_path / "journal")
    return n


@pytest.fixture
def unmanaged(tmp_path):
    u = Unmanaged(tmp_path / "own")
    yield u
    u.stop_all()
    for n in u.started:
        assert not Unmanaged.crashes(n), n.error_log()


# ---------------------------------------------------------------- answer

@pytest.mark.parametrize("sent,answered", [
    ("0", "0"), ("1", "1"), ("3", "1"), ("f", "1"), ("F", "1"),
    ("", "0"), ("1E", "0"), ("10", "0"), ("00000001", "1"),
])
def test_answer_is_revoke_authorization_rsp(gw, keys, sent, answered):
    t = token(keys)
    r = revoke(gw.port, features=sent)
    assert_stored(r, answered)
    assert r.header("Content-Length") == str(len(r.body))
    assert_revoked(gw, "/api/x", t)


def test_owner_and_group_answer_alike(gw):
    body = {"revokeInfo": {"apiInvokerId": capif.INVOKER,
                           "resOwnerId": "msisdn-491700000001",
                           "cause": "OTHER_REASON"},
            "supportedFeatures": "1"}
    assert_stored(post(gw.port, "revoke-owner-authorization", body), "1")
    body = {"revokeInfo": {"groupId": "extgroupid-g@example.com",
                           "cause": "OTHER_REASON"},
            "supportedFeatures": "2"}
    assert_stored(post(gw.port, "revoke-group-authorization", body), "0")
    assert listing(gw.port)["count"] == 2


@pytest.mark.parametrize("op", ["revoke-authorization",
                                "revoke-owner-authorization",
                                "revoke-group-authorization"])
def test_supported_features_mandatory(gw, keys, op):
    t = token(keys)
    body = revoke_body(features=None)
    r = post(gw.port, op, body)
    assert_problem(r, 400, "MANDATORY_IE_MISSING")
    assert "supportedFeatures" in r.json()["detail"]
    assert listing(gw.port)["count"] == 0
    assert_ok(gw, "/api/x", t)


# ---------------------------------------------------------------- cause

@pytest.mark.parametrize("cause", [
    "REMOVED_ENROLLED_SERVICE_APIS", "other_reason", "x",
    "a cause with \"quotes\" and \\ and \u00e9", "C" * 512,
])
def test_any_cause_stored_as_sent(gw, keys, cause):
    t = token(keys)
    assert_stored(revoke(gw.port, cause=cause))
    assert_revoked(gw, "/api/x", t)
    [e] = listing(gw.port)["revocations"]
    assert e["cause"] == cause
    assert "is not one TS 29.222 defines" in gw.error_log()
    assert "[warn]" in gw.error_log()


def test_known_cause_not_warned(gw):
    for c in ("OVERLIMIT_USAGE", "UNEXPECTED_REASON", "AUTHORIZATION_ISSUE",
              "OTHER_REASON"):
        assert_stored(revoke(gw.port, cause=c, api_ids=["api-" + c]))
    assert "is not one TS 29.222 defines" not in gw.error_log()
    got = sorted(e["cause"] for e in listing(gw.port)["revocations"])
    assert got == ["AUTHORIZATION_ISSUE", "OTHER_REASON", "OVERLIMIT_USAGE",
                   "UNEXPECTED_REASON"]


def test_cause_too_long_refused(gw):
    r = revoke(gw.port, cause="C" * 513)
    assert_problem(r, 400, "MANDATORY_IE_INCORRECT")
    assert listing(gw.port)["count"] == 0


def test_later_cause_replaces_earlier(gw):
    assert_stored(revoke(gw.port, cause="OVERLIMIT_USAGE"))
    assert_stored(revoke(gw.port, cause="OTHER_REASON"))
    [e] = listing(gw.port)["revocations"]
    assert e["cause"] == "OTHER_REASON"


# ---------------------------------------------------------------- token

@pytest.mark.parametrize("spelling", ["access_token", "accessToken"])
def test_access_token_revokes_token_and_invoker(gw, keys, spelling):
    victim = token(keys)
    sibling = token(keys)      # same invoker, same second
    other_api = token(keys, scope="3gpp#aef-1:api-2")
    body = revoke_body()
    body["revokeInfo"][spelling] = victim
    assert_stored(post(gw.port, "revoke-authorization", body))
    assert_revoked(gw, "/api/x", victim)
    # clause 6.2.2.3.2: the invoker's authorization for the listed API
    assert_revoked(gw, "/api/x", sibling)
    assert_ok(gw, "/other/x", other_api)
    types = sorted(e["type"] for e in listing(gw.port)["revocations"])
    assert types == ["invoker", "token"]
    # a token issued after the revocation is authorized again
    now = next_second()
    assert_ok(gw, "/api/x", token(keys, iat=now, nbf=now))
    assert_revoked(gw, "/api/x", victim)


def test_long_jti_revocable(gw, keys):
    jti = "j" * 600
    victim = token(keys, jti=jti)
    assert_ok(gw, "/api/x", victim)
    assert_stored(revoke(gw.port, token=victim, api_ids=["api-9"]))
    assert_revoked(gw, "/api/x", victim)
    # another token with the same long jti but other claims is another
    # token: the digest of its signed part differs
    assert_ok(gw, "/api/x", token(keys, jti=jti, n=2))
    [e] = [e for e in listing(gw.port)["revocations"]
           if e["type"] == "token"]
    assert len(e["sha256"]) == 64 and "jti" not in e


@pytest.mark.parametrize("jti", ["a\nb", "\u0001", "tab\there", "x\u007f"])
def test_control_byte_jti_revocable(gw, keys, jti):
    victim = token(keys, jti=jti)
    assert_ok(gw, "/api/x", victim)
    assert_stored(revoke(gw.port, token=victim, api_ids=["api-9"]))
    assert_revoked(gw, "/api/x", victim)
    assert_ok(gw, "/api/x", token(keys, jti=jti, n=2))


def test_listing_escapes_stored_values(gw, keys):
    jti = "q\"uote\\back\u00e9\u2603"
    victim = token(keys, jti=jti)
    assert_stored(revoke(gw.port, token=victim, api_ids=["a\"pi\\1"],
                         invoker="inv\"\\", cause="c\"\\"))
    got = listing(gw.port)
    assert got["count"] == 2
    e = {x["type"]: x for x in got["revocations"]}
    assert e["token"]["jti"] == jti
    assert e["invoker"]["apiId"] == "a\"pi\\1"
    assert e["invoker"]["apiInvokerId"] == "inv\"\\"
    assert e["invoker"]["cause"] == "c\"\\"
    assert_revoked(gw, "/api/x", victim)


# ---------------------------------------------------------------- journal

HEADER = b"CAPIFRJ\x01"


def record(version, typ, fields, cause, revoked, expires):
    """A journal record: version 1 with a cause code, 2 with a string."""
    head = bytes([version, typ, cause if version == 1 else 0, 0])
    p = head + struct.pack(">qq", revoked, expires)
    if version == 2:
        fields = list(fields) + [cause]
    for s in fields:
        p += struct.pack(">H", len(s)) + s
    return p


def frame(payload):
    ln = struct.pack(">I", len(payload))
    return ln + struct.pack(">I", zlib.crc32(ln + payload)) + payload


def test_listing_never_fails_on_stored_bytes(unmanaged, upstream, keys,
                                              certs, tmp_path):
    """A journal whose fields are not UTF-8 (written by hand, or by a
    version that let such bytes through) is replayed, enforced and
    listed."""
    journal = str(tmp_path / "journal")
    now = int(time.time())
    recs = [
        record(2, 1, [b"INV-\xff\xfe", b"", b"api-1"], b"OTHER_\xc3",
               now + 30, now + 3600),
        record(1, 1, [capif.INVOKER.encode(), b"", b"api-1"], 2,
               now + 30, now + 3600),
    ]
    with open(journal, "wb") as f:
        f.write(HEADER + b"".join(frame(p) for p in recs))
    m = unmanaged.start(**start_kwargs(keys, certs, upstream, journal))
    got = listing(m.port)
    assert got["count"] == 2
    e = {x["apiInvokerId"]: x for x in got["revocations"]}
    assert e["INV-\ufffd\ufffd"]["cause"] == "OTHER_\ufffd"
    # the version 1 record: its cause code is listed by name
    assert e[capif.INVOKER]["cause"] == "UNEXPECTED_REASON"
    assert_revoked(m, "/api/x", token(keys))


def test_version1_journal_replayed_then_extended(unmanaged, upstream, keys,
                                                 certs, tmp_path):
    journal = str(tmp_path / "journal")
    now = int(time.time())
    with open(journal, "wb") as f:
        f.write(HEADER + frame(record(1, 1, [capif.INVOKER.encode(), b"",
                                             b"api-1"], 4,
                                      now + 30, now + 3600)))
    kw = start_kwargs(keys, certs, upstream, journal)
    m = unmanaged.start(**kw)
    assert_revoked(m, "/api/x", token(keys))
    # a new push appends version 2 records to the same journal
    assert_stored(revoke(m.port, invoker="INV-2", cause="NEW_CAUSE"))
    m.stop()
    m2 = unmanaged.start(name="gw2", port=m.port, **kw)
    causes = sorted(e["cause"] for e in listing(m2.port)["revocations"])
    assert causes == ["NEW_CAUSE", "OTHER_REASON"]
    assert_revoked(m2, "/api/x", token(keys))


# ---------------------------------------------------------------- skew

def test_leeway_covers_a_ccf_clock_ahead(gw, keys):
    """A CCF 3 s ahead issues a token with iat = revocation + 3: at a
    location with capif_leeway 5s it is refused; one issued after the
    revocation + leeway is allowed."""
    assert_stored(revoke(gw.port))
    [e] = listing(gw.port)["revocations"]
    rev = e["revokedAt"]
    # the claims check allows iat up to now + 5 s: be a second later
    while int(time.time()) < rev + 1:
        next_second()
    for skew in (0, 3, 5):
        t = token(keys, iat=rev + skew, nbf=rev)
        assert_revoked(gw, "/skew/x", t)
    assert_ok(gw, "/skew/x", token(keys, iat=rev + 6, nbf=rev))
    # without leeway the cut-off is the revocation second itself
    now = next_second()
    assert_ok(gw, "/api/x", token(keys, iat=now, nbf=now))


# ---------------------------------------------------------------- HTTP

@pytest.mark.parametrize("ct", [None, "text/plain", "application/jsonx",
                                "application/x-www-form-urlencoded",
                                "multipart/form-data; boundary=x"])
def test_not_json_refused_with_415(gw, keys, ct):
    t = token(keys)
    before = os.path.getsize(gw.journal)
    r = post(gw.port, "revoke-authorization", revoke_body(),
             content_type=ct)
    assert_problem(r, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert listing(gw.port)["count"] == 0
    assert os.path.getsize(gw.journal) == before
    assert_ok(gw, "/api/x", t)


@pytest.mark.parametrize("ct", ["application/json; charset=utf-8",
                                "Application/JSON", "application/json "])
def test_json_with_parameters_accepted(gw, ct):
    assert_stored(post(gw.port, "revoke-authorization", revoke_body(),
                       content_type=ct))


def test_405_carries_allow(gw):
    for method in ("PUT", "DELETE", "PATCH"):
        r = capif.request(gw.port, method, ADMIN + "revoke-authorization",
                          [("Content-Type", "application/json")], "{}",
                          test_id=False)
        assert_problem(r, 405, "METHOD_NOT_ALLOWED")
        assert r.header("Allow") == "GET, HEAD, POST", r


def test_empty_bodies_refused(gw, keys):
    """Content-Length: 0 and a chunked body of no chunks: 400, nothing
    stored, no worker harmed."""
    r = post(gw.port, "revoke-authorization", b"")
    assert_problem(r, 400, "INVALID_MSG_FORMAT")
    raw = ("POST %srevoke-authorization HTTP/1.1\r\nHost: localhost\r\n"
           "Content-Type: application/json\r\n"
           "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
           "0\r\n\r\n" % ADMIN)
    r = gw.raw(raw)
    assert_problem(r, 400, "INVALID_MSG_FORMAT")
    # a chunked body in several chunks is read whole
    body = json.dumps(revoke_body()).encode()
    half = len(body) // 2
    raw = (("POST %srevoke-authorization HTTP/1.1\r\nHost: localhost\r\n"
            "Content-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            % ADMIN).encode()
           + b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n"
           % (half, body[:half], len(body) - half, body[half:]))
    assert_stored(gw.raw(raw))
    assert_revoked(gw, "/api/x", token(keys))

"""Revocations from CCFs that emit CAPIF events instead of calling
revoke-authorization (the reference CCF, ETSI OpenCAPIF).

A TS 29.222 CAPIF_Events_API EventNotification POSTed to
``.../capif-events/notifications`` on a capif_aef_security location:
API_INVOKER_AUTHORIZATION_REVOKED with eventDetail.apiInvokerIds and
apiIds revokes like revoke-authorization and is answered 204 once
durable; without eventDetail (what the reference CCF sends) 204, nothing
changes, a warning; other events 204 and ignored; malformed 400; the
same authentication, 415 and 507 rules.  worker_processes 2.
"""

import os

import pytest

import capif
from test_revocation_common import (
    ADMIN, EVENTS, REVOKED, Certs, Unmanaged, assert_ok, assert_problem,
    assert_revoked, event_body, listing, next_second, notify, post,
    start_kwargs, tls_request, token)


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


@pytest.fixture
def unmanaged(tmp_path):
    u = Unmanaged(tmp_path / "own")
    yield u
    u.stop_all()
    for n in u.started:
        assert not Unmanaged.crashes(n), n.error_log()


def assert_acked(r):
    assert r.status == 204, r
    assert r.body == b"", r
    return r


def test_revoked_event_revokes(gw, keys, upstream):
    t = token(keys)
    other = token(keys, invoker="INV-other", iss="INV-other",
                  sub="INV-other")
    assert_ok(gw, "/api/x", t)
    assert_acked(notify(gw.port))
    assert_revoked(gw, "/api/x", t, upstream)
    assert_ok(gw, "/api/x", other)
    assert_ok(gw, "/other/x", token(keys, scope="3gpp#aef-1:api-2"))
    [e] = listing(gw.port)["revocations"]
    assert e["type"] == "invoker" and e["apiId"] == capif.API_NAME
    assert "aefId" not in e            # the event names no AEF: every AEF
    assert e["cause"] == REVOKED
    # a token issued after the revocation passes
    now = next_second()
    assert_ok(gw, "/api/x", token(keys, iat=now, nbf=now))


def test_every_invoker_for_every_api(gw, keys):
    invokers = [capif.INVOKER, "INV-2", "INV-3"]
    assert_acked(notify(gw.port, invokers=invokers,
                        api_ids=[capif.API_NAME, "api-2"]))
    assert listing(gw.port)["count"] == 6
    for inv in invokers:
        t = token(keys, invoker=inv, iss=inv, sub=inv,
                  scope="3gpp#aef-1:api-1,api-2")
        assert_revoked(gw, "/api/x", t)
        assert_revoked(gw, "/other/x", t)


def test_no_event_detail_changes_nothing(gw, keys):
    """What the reference CCF sends: the event alone."""
    t = token(keys)
    before = os.path.getsize(gw.journal)
    assert_acked(post(gw.port, EVENTS, {"subscriptionId": "s1",
                                        "events": REVOKED}))
    assert listing(gw.port)["count"] == 0
    assert os.path.getsize(gw.journal) == before
    assert_ok(gw, "/api/x", t)
    log = gw.error_log()
    assert "[warn]" in log and "nothing to act on" in log


@pytest.mark.parametrize("detail", [
    {}, {"apiIds": ["api-1"]}, {"apiInvokerIds": [capif.INVOKER]},
])
def test_incomplete_event_detail_changes_nothing(gw, keys, detail):
    t = token(keys)
    assert_acked(post(gw.port, EVENTS, {"subscriptionId": "s1",
                                        "events": REVOKED,
                                        "eventDetail": detail}))
    assert listing(gw.port)["count"] == 0
    assert_ok(gw, "/api/x", t)
    assert "nothing to act on" in gw.error_log()


@pytest.mark.parametrize("event", ["SERVICE_API_AVAILABLE",
                                   "API_INVOKER_OFFBOARDED",
                                   "A_FUTURE_EVENT"])
def test_other_events_acknowledged_and_ignored(gw, keys, event):
    t = token(keys)
    assert_acked(notify(gw.port, event=event))
    assert listing(gw.port)["count"] == 0
    assert_ok(gw, "/api/x", t)


MALFORMED = [
    ("no subscriptionId", {"events": REVOKED}, "MANDATORY_IE_MISSING"),
    ("subscriptionId number", {"subscriptionId": 1, "events": REVOKED},
     "MANDATORY_IE_INCORRECT"),
    ("no events", {"subscriptionId": "s"}, "MANDATORY_IE_MISSING"),
    ("events number", {"subscriptionId": "s", "events": 3},
     "MANDATORY_IE_INCORRECT"),
    ("events empty", {"subscriptionId": "s", "events": ""},
     "MANDATORY_IE_INCORRECT"),
    ("events control char", {"subscriptionId": "s", "events": "A\nB"},
     "MANDATORY_IE_INCORRECT"),
    ("eventDetail list", dict(event_body(), eventDetail=[]),
     "OPTIONAL_IE_INCORRECT"),
    ("invokers not a list", event_body(invokers=None) | {
        "eventDetail": {"apiInvokerIds": "INV", "apiIds": ["api-1"]}},
     "OPTIONAL_IE_INCORRECT"),
    ("empty apiIds", event_body(api_ids=[]), "OPTIONAL_IE_INCORRECT"),
    ("apiIds item number", event_body(api_ids=[1]),
     "OPTIONAL_IE_INCORRECT"),
    ("too many pairs", event_body(invokers=["i%d" % i for i in range(33)],
                                  api_ids=["a%d" % i for i in range(32)]),
     "OPTIONAL_IE_INCORRECT"),
    ("not json", b"{", "INVALID_MSG_FORMAT"),
]


@pytest.mark.parametrize("name,body,cause", MALFORMED,
                         ids=[m[0] for m in MALFORMED])
def test_malformed_refused_and_nothing_changes(gw, keys, name, body, cause):
    t = token(keys)
    before = os.path.getsize(gw.journal)
    assert_problem(post(gw.port, EVENTS, body), 400, cause)
    assert listing(gw.port)["count"] == 0
    assert os.path.getsize(gw.journal) == before
    assert_ok(gw, "/api/x", t)


def test_not_json_refused_with_415(gw, keys):
    r = post(gw.port, EVENTS, event_body(), content_type="text/plain")
    assert_problem(r, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert listing(gw.port)["count"] == 0


def test_mtls(gw, keys, certs):
    t = token(keys)
    for who in (certs.impostor, None):
        r = tls_request(gw.tls_port, "POST", ADMIN + EVENTS, event_body(),
                        cert=who)
        assert_problem(r, 403, "CCF_NOT_AUTHENTICATED")
    assert_ok(gw, "/api/x", t)
    r = tls_request(gw.tls_port, "POST", ADMIN + EVENTS, event_body(),
                    cert=certs.ccf)
    assert_acked(r)
    assert_revoked(gw, "/api/x", t)


def test_full_zone_refused_with_507(unmanaged, upstream, keys, certs,
                                    tmp_path):
    journal = str(tmp_path / "journal")
    m = unmanaged.start(**start_kwargs(keys, certs, upstream, journal,
                                       zone="32k"))
    stored = 0
    for i in range(100):
        ids = ["api-%d-%d-%s" % (i, j, "x" * 40) for j in range(50)]
        r = notify(m.port, api_ids=ids[:25], invokers=["INV-a", "INV-b"])
        if r.status == 507:
            break
        assert_acked(r)
        stored += 50
    else:
        pytest.fail("the zone never filled up")
    assert_problem(r, 507, "INSUFFICIENT_STORAGE")
    assert stored > 0
    assert listing(m.port)["count"] == stored

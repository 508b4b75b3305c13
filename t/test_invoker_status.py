"""capif_invoker_status: the gateway asks a stand-in CCF (mutual TLS,
TS 29.222 Obtain_API_Invoker_Info) whether an invoker is still authorized,
and caches the answer per invoker for ttl (issue 8)."""

import threading
import time
import urllib.parse

import pytest

import capif
from ccf_standin import CCF, Pki

API_ID = "api-9f2c"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def ccf(pki):
    c = CCF(pki).up()
    yield c
    c.down()


def _wait(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def status_location(ccf):
    return ccf.location(
        "/_ccf/trustedInvokers/",
        "/capif-security/v1/trustedInvokers/$capif_invoker_status_uri")


def gateway(nginx, upstream, keys, ccf, params="ttl=2s max_stale=2s",
            workers=1, api_id=API_ID):
    extra = "capif_invoker_status /_ccf/trustedInvokers %s;" % params
    if api_id:
        extra += " capif_api_id %s;" % api_id
    server = capif.location("/api/", [keys.rsa.pub_path], extra=extra,
                            upstream_port=upstream.port)
    server += status_location(ccf)
    n = nginx(server=server, worker_processes=workers)
    return capif.Gateway(n, upstream, keys)


def tok(keys, invoker=capif.INVOKER):
    return keys.rsa.token(capif.good_claims(invoker=invoker))


def test_authorized_invoker_allowed(nginx, upstream, keys, ccf):
    ccf.set_invoker(capif.INVOKER, [("aef-0", "other"),
                                    (capif.AEF_ID, API_ID)])
    gw = gateway(nginx, upstream, keys, ccf)
    gw.allowed("/api/", tok(keys))
    [req] = ccf.requests_for("/capif-security/")
    assert req["path"] == ("/capif-security/v1/trustedInvokers/%s"
                           % capif.INVOKER)
    assert req["query"] == {"authenticationInfo": ["false"],
                            "authorizationInfo": ["true"]}
    assert req["client"] == "commonName=aef-1"
    assert "Authorization" not in req["headers"]
    # warm: no second request within ttl
    for _ in range(5):
        gw.allowed("/api/", tok(keys))
    assert ccf.status_fetches() == 1


def test_invoker_id_with_slash_and_percent(nginx, upstream, keys, ccf):
    inv = "INV/1%2F x"
    ccf.set_invoker(inv, [(capif.AEF_ID, API_ID)])
    ccf.set_invoker("INV", [(capif.AEF_ID, API_ID)])
    gw = gateway(nginx, upstream, keys, ccf)
    gw.allowed("/api/", tok(keys, inv), invoker=inv)
    [req] = ccf.requests_for("/capif-security/")
    assert req["raw_path"].startswith(
        "/capif-security/v1/trustedInvokers/INV%2F1%252F%20x?")
    assert req["invoker"] == inv


def test_no_ccf_call_for_a_forged_or_refused_token(nginx, upstream, keys,
                                                  ccf):
    ccf.set_invoker(capif.INVOKER, [(capif.AEF_ID, API_ID)])
    gw = gateway(nginx, upstream, keys, ccf)
    gw.refused("/api/", keys.evil_rsa.token(), 401, "SIGNATURE_INVALID")
    gw.refused("/api/", keys.rsa.token(capif.good_claims(
        scope="3gpp#aef-1:other-api")), 403, "SCOPE_API_NOT_GRANTED")
    gw.refused("/api/", None, 401, "TOKEN_MISSING")
    assert ccf.status_fetches() == 0


def test_revocation_at_the_ccf_refused_within_ttl(nginx, upstream, keys,
                                                  ccf):
    ccf.set_invoker(capif.INVOKER, [(capif.AEF_ID, API_ID)])
    ccf.set_invoker("INV-B", [(capif.AEF_ID, API_ID), (capif.AEF_ID, "x")])
    gw = gateway(nginx, upstream, keys, ccf, "ttl=1s max_stale=5s",
                 workers=2)
    gw.allowed("/api/", tok(keys))
    gw.allowed("/api/", tok(keys, "INV-B"), invoker="INV-B")
    # the reference CCF deletes the security context: 404 from now on
    ccf.revoke(capif.INVOKER)
    # and drops one API's entry of another invoker
    ccf.revoke("INV-B", API_ID)
    revoked = time.monotonic()
    assert _wait(lambda: gw.get("/api/", tok(keys)).status == 401, 4)
    assert _wait(lambda: gw.get("/api/", tok(keys, "INV-B")).status == 401,
                 4)
    # ttl 1s, plus at most one call that used the warm entry
    assert time.monotonic() - revoked < 3
    for _ in range(4):
        gw.refused("/api/", tok(keys), 401, "CCF_AUTHORIZATION_WITHDRAWN")
        gw.refused("/api/", tok(keys, "INV-B"), 401,
                   "CCF_AUTHORIZATION_WITHDRAWN")


def test_unknown_invoker_refused(nginx, upstream, keys, ccf):
    ccf.set_invoker("INV-other", [(capif.AEF_ID, API_ID)])
    gw = gateway(nginx, upstream, keys, ccf)
    gw.refused("/api/", tok(keys), 401, "CCF_AUTHORIZATION_WITHDRAWN")
    # authorized for another API of the same AEF only
    ccf.set_invoker("INV-C", [(capif.AEF_ID, "api-other")])
    gw.refused("/api/", tok(keys, "INV-C"), 401,
               "CCF_AUTHORIZATION_WITHDRAWN")


def test_ccf_unreachable_fail_closed(nginx, upstream, keys, ccf):
    ccf.set_invoker(capif.INVOKER, [(capif.AEF_ID, API_ID)])
    gw = gateway(nginx, upstream, keys, ccf, "ttl=1s max_stale=2s")
    gw.allowed("/api/", tok(keys))
    known = time.monotonic()
    ccf.down()
    # a cold invoker: 503 with Retry-After at once
    r = gw.get("/api/", tok(keys, "INV-COLD"))
    assert r.status == 503, r
    assert r.json()["cause"] == "CCF_UNAVAILABLE"
    assert r.header("Retry-After") == "1"
    assert r.header("WWW-Authenticate") is None
    # the warm one: the last known status holds for ttl + max_stale
    while time.monotonic() - known < 2:
        gw.allowed("/api/", tok(keys))
        time.sleep(0.2)
    assert _wait(lambda: gw.get("/api/", tok(keys)).status == 503, 5)
    ccf.up()
    assert _wait(lambda: gw.get("/api/", tok(keys)).status == 200, 8)


def test_ccf_unreachable_fail_open(nginx, upstream, keys, ccf):
    ccf.set_invoker(capif.INVOKER, [(capif.AEF_ID, API_ID)])
    ccf.down()
    gw = gateway(nginx, upstream, keys, ccf,
                 "ttl=1s max_stale=1s fail=open")
    log0 = gw.nginx.log_size()
    gw.allowed("/api/", tok(keys))
    assert "fail=open lets the token decide" in gw.nginx.error_log(log0)
    assert "[warn]" in gw.nginx.error_log(log0)
    # a forged token is still refused
    gw.refused("/api/", keys.evil_rsa.token(), 401, "SIGNATURE_INVALID")


def test_ccf_errors_are_not_authorizations(nginx, upstream, keys, ccf):
    ccf.set_invoker(capif.INVOKER, [(capif.AEF_ID, API_ID)])
    ccf.invoker_status = 500
    gw = gateway(nginx, upstream, keys, ccf)
    r = gw.get("/api/", tok(keys))
    assert r.status == 503 and r.json()["cause"] == "CCF_UNAVAILABLE"
    assert "status 500" in gw.nginx.error_log()


def test_ccf_requests_under_load(nginx, upstream, keys, ccf):
    invokers = ["INV-L%d" % i for i in range(4)]
    for inv in invokers:
        ccf.set_invoker(inv, [(capif.AEF_ID, API_ID)])
    ccf.delay = 0.3
    gw = gateway(nginx, upstream, keys, ccf, "ttl=2s max_stale=10s",
                 workers=2)
    tokens = {inv: tok(keys, inv) for inv in invokers}
    statuses = []
    lock = threading.Lock()

    def run(inv, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            s = gw.get("/api/", tokens[inv]).status
            with lock:
                statuses.append(s)

    # cold: 8 concurrent calls per invoker share one fetch
    t0 = time.monotonic()
    threads = [threading.Thread(target=run, args=(inv, 0))
               for inv in invokers for _ in range(8)]
    threads = [threading.Thread(target=lambda i=inv: statuses.append(
        gw.get("/api/", tokens[i]).status)) for inv in invokers
        for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for inv in invokers:
        assert ccf.status_fetches(inv) == 1, inv
    # steady load for ~5s
    threads = [threading.Thread(target=run, args=(inv, 5))
               for inv in invokers for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    assert set(statuses) == {200}
    assert len(statuses) > 100
    for inv in invokers:
        # one per invoker per ttl (2s), plus the cold one
        assert ccf.status_fetches(inv) <= int(elapsed / 2) + 2, inv


def test_invoker_status_config_refused(nginx_t, upstream, keys, ccf):
    base = capif.location("/api/", [keys.rsa.pub_path],
                          extra="capif_invoker_status /_ccf/trustedInvokers;",
                          upstream_port=upstream.port)
    rc, out = nginx_t(server=base + status_location(ccf))
    assert rc != 0
    assert "capif_invoker_status" in out and "capif_api_id" in out
    rc, out = nginx_t(server=base.replace(
        "capif_invoker_status /_ccf/trustedInvokers;",
        "capif_invoker_status /_ccf/nowhere; capif_api_id a;"))
    assert rc != 0 and "no location" in out
    rc, out = nginx_t(server=base.replace(
        "capif_invoker_status /_ccf/trustedInvokers;",
        "capif_invoker_status /_ccf/trustedInvokers fail=maybe; "
        "capif_api_id a;") + status_location(ccf))
    assert rc != 0 and "fail=maybe" in out


def test_post_call_waits_for_the_ccf_and_keeps_its_body(nginx, upstream,
                                                         keys, ccf):
    ccf.set_invoker(capif.INVOKER, [(capif.AEF_ID, API_ID)])
    ccf.delay = 0.3
    gw = gateway(nginx, upstream, keys, ccf)
    body = '{"monitoringType": "LOCATION_REPORTING"}' * 50
    r = gw.nginx.request("POST", "/api/subscriptions", [
        ("Authorization", "Bearer " + tok(keys)),
        ("Content-Type", "application/json")], body)
    echo = capif.assert_allowed(r)
    assert echo["method"] == "POST" and echo["body"] == body
    [req] = ccf.requests_for("/capif-security/")
    assert req["method"] == "GET"
    assert "Content-Length" not in req["headers"]


def test_event_without_detail_expires_every_status(nginx, upstream, keys,
                                                   ccf, tmp_path):
    """The reference CCF's API_INVOKER_AUTHORIZATION_REVOKED names no
    invoker: the event receiver expires every cached status, so the next
    call asks the CCF again instead of riding a warm entry for ttl."""
    ccf.set_invoker(capif.INVOKER, [(capif.AEF_ID, API_ID)])
    extra = ("capif_invoker_status /_ccf/trustedInvokers ttl=300s "
             "max_stale=5s; capif_api_id %s;" % API_ID)
    server = capif.location("/api/", [keys.rsa.pub_path], extra=extra,
                            upstream_port=upstream.port)
    server += status_location(ccf)
    server += """
        location /aef-security/v1/ {
            capif_aef_security;
            capif_admin_allow_plain_loopback on;
        }
"""
    http = ("capif_zone capif:1m; capif_journal %s;"
            % (tmp_path / "journal"))
    n = nginx(server=server, http=http)
    gw = capif.Gateway(n, upstream, keys)
    gw.allowed("/api/", tok(keys))
    assert ccf.status_fetches() == 1
    # revoked at the CCF only: the warm entry (ttl 300 s) still allows
    ccf.revoke(capif.INVOKER)
    gw.allowed("/api/", tok(keys))
    assert ccf.status_fetches() == 1
    body = b'{"subscriptionId": "sub-1", ' \
           b'"events": "API_INVOKER_AUTHORIZATION_REVOKED"}'
    r = n.request("POST", "/aef-security/v1/capif-events/notifications",
                  headers=[("Content-Type", "application/json")], body=body)
    assert r.status == 204, r
    gw.refused("/api/", tok(keys), 401, "CCF_AUTHORIZATION_WITHDRAWN")
    assert ccf.status_fetches() == 2
    n.expect_log("carried no eventDetail")

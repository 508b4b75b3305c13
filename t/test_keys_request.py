"""capif_key_request: keys fetched from a stand-in CCF over mutual TLS,
through an internal location, refreshed without a reload (issue 8)."""

import gzip
import json
import os
import random
import signal
import subprocess
import threading
import time

import pytest

import capif
from ccf_standin import CCF, Pki


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


def gateway(nginx, upstream, keys, ccf, directives="", loc_extra="",
            workers=1, http=""):
    server = capif.location(
        "/api/", "capif_key_request /_ccf/keys%s;" % loc_extra,
        upstream_port=upstream.port, extra=directives)
    server += ccf.location("= /_ccf/keys", "/keys/jwks")
    n = nginx(server=server, worker_processes=workers, http=http)
    return capif.Gateway(n, upstream, keys)


def pem(key):
    return key.certificate().public_bytes(capif.serialization.Encoding.PEM)


def test_fetch_at_first_call_then_unknown_kid_refetch(nginx, upstream, keys,
                                                      ccf):
    ccf.set_jwks([keys.rsa.jwk(kid="k1")])
    gw = gateway(nginx, upstream, keys, ccf)
    assert ccf.key_fetches() == 0
    gw.allowed("/api/", keys.rsa.token(kid="k1"))
    assert ccf.key_fetches() == 1
    req = ccf.requests_for("/keys")[0]
    # mutual TLS, and the caller's token never reaches the CCF
    assert req["client"] == "commonName=aef-1"
    assert "Authorization" not in req["headers"]
    for _ in range(5):
        gw.allowed("/api/", keys.rsa.token(kid="k1"))
    assert ccf.key_fetches() == 1

    # the CCF rotates: an unknown kid fetches once, the call passes
    ccf.set_jwks([keys.p256.jwk(kid="k2")])
    gw.allowed("/api/", keys.p256.token(kid="k2"))
    assert ccf.key_fetches() == 2
    # the old key is gone; no second refetch within capif_key_min_refetch
    gw.refused("/api/", keys.rsa.token(kid="k1"), 401, "KID_UNKNOWN")
    gw.refused("/api/", keys.rsa.token(kid="k9"), 401, "KID_UNKNOWN")
    assert ccf.key_fetches() == 2
    assert 'capif_key_request "/_ccf/keys": keys fetched' in \
        gw.nginx.error_log()


def test_background_refresh_rotates(nginx, upstream, keys, ccf):
    ccf.set_keys(pem(keys.rsa), ctype="application/x-pem-file")
    gw = gateway(nginx, upstream, keys, ccf, "capif_key_refresh 1s;",
                 workers=2)
    gw.allowed("/api/", keys.rsa.token())
    ccf.set_keys(pem(keys.rsa_b), ctype="application/x-pem-file")
    # calls go on with the current keys while a refetch runs
    assert _wait(lambda: gw.get("/api/", keys.rsa_b.token()).status == 200)
    for _ in range(8):
        gw.allowed("/api/", keys.rsa_b.token())
        gw.refused("/api/", keys.rsa.token(), 401, "SIGNATURE_INVALID")


def test_leaf_of_a_bundle_is_used(nginx, upstream, keys, ccf):
    # the reference CCF's server.crt: leaf, then CA
    bundle = pem(keys.p256) + pem(keys.rsa_b)
    ccf.set_keys(bundle, ctype="application/x-pem-file")
    gw = gateway(nginx, upstream, keys, ccf)
    gw.allowed("/api/", keys.p256.token())
    gw.refused("/api/", keys.rsa_b.token(), 401, "ALG_NOT_CONFIGURED")
    assert "bundle of 2 certificates; only the key of the first, the leaf" \
        in gw.nginx.error_log()


@pytest.mark.parametrize("workers", [2])
def test_unknown_kid_refetch_is_rate_limited(nginx, upstream, keys, ccf,
                                             workers):
    ccf.set_jwks([keys.rsa.jwk(kid="k1")])
    gw = gateway(nginx, upstream, keys, ccf, workers=workers)
    gw.allowed("/api/", keys.rsa.token(kid="k1"))
    before = ccf.key_fetches()
    t0 = time.monotonic()
    results = []

    def run(n):
        for _ in range(n):
            kid = "%016x" % random.getrandbits(64)
            results.append(gw.get("/api/", keys.rsa.token(kid=kid)).status)

    threads = [threading.Thread(target=run, args=(250,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    assert results == [401] * 1000
    windows = int(elapsed // 30) + 1          # capif_key_min_refetch 30s
    assert ccf.key_fetches() - before <= windows
    assert ccf.key_fetches() - before >= 1


def test_ccf_down_at_start_up(nginx, upstream, keys, ccf):
    ccf.set_jwks([keys.rsa.jwk(kid="k1")])
    ccf.down()
    gw = gateway(nginx, upstream, keys, ccf, "capif_key_min_refetch 1s;")
    r = gw.get("/api/", keys.rsa.token(kid="k1"))
    assert r.status == 503, r
    assert r.json()["cause"] == "KEYS_UNAVAILABLE"
    assert r.header("Retry-After") == "1"
    assert "answer ignored" in gw.nginx.error_log()
    ccf.up()
    assert _wait(lambda: gw.get("/api/", keys.rsa.token(kid="k1")).status
                 == 200)


def test_ccf_down_at_run_time_then_keys_stale(nginx, upstream, keys, ccf):
    ccf.set_jwks([keys.rsa.jwk(kid="k1")])
    gw = gateway(nginx, upstream, keys, ccf,
                 "capif_key_refresh 1s; capif_key_min_refetch 1s; "
                 "capif_key_max_stale 3s;")
    gw.allowed("/api/", keys.rsa.token(kid="k1"))
    ok_at = time.monotonic()
    ccf.down()
    # the last good set holds while the CCF is away
    while time.monotonic() - ok_at < 2:
        gw.allowed("/api/", keys.rsa.token(kid="k1"))
        time.sleep(0.2)
    assert _wait(lambda: gw.get("/api/", keys.rsa.token(kid="k1")).status
                 == 401, timeout=6)
    gw.refused("/api/", keys.rsa.token(kid="k1"), 401, "KEYS_STALE")
    assert "more than capif_key_max_stale" in gw.nginx.error_log()
    ccf.up()
    assert _wait(lambda: gw.get("/api/", keys.rsa.token(kid="k1")).status
                 == 200)


@pytest.mark.parametrize("case", ["status", "gzip", "too_big", "keyless",
                                  "symmetric", "private", "weak"])
def test_bad_key_responses_are_ignored(nginx, upstream, keys, ccf, case):
    ccf.set_jwks([keys.rsa.jwk(kid="k1")])
    gw = gateway(nginx, upstream, keys, ccf,
                 "capif_key_min_refetch 1s; capif_key_max_size 4k;")
    gw.allowed("/api/", keys.rsa.token(kid="k1"))
    good = json.dumps({"keys": [keys.p256.jwk(kid="k2")]})
    why = {
        "status": "status 500", "gzip": "compressed",
        "too_big": "larger than capif_key_max_size",
        "keyless": "JWKS has no keys", "symmetric": "symmetric key",
        "private": "holds a private key", "weak": "weaker than",
    }[case]
    if case == "status":
        ccf.set_keys(good, status=500)
    elif case == "gzip":
        ccf.set_keys(gzip.compress(good.encode()),
                     headers=[("Content-Encoding", "gzip")])
    elif case == "too_big":
        big = [keys.p256.jwk(kid="k2")] + [keys.rsa_b.jwk(kid="x%d" % i)
                                          for i in range(20)]
        ccf.set_jwks(big)
    elif case == "keyless":
        ccf.set_keys('{"keys": []}')
    elif case == "symmetric":
        ccf.set_keys('{"keys": [{"kty": "oct", "k": "c2VjcmV0", '
                     '"kid": "k2"}]}')
    elif case == "private":
        ccf.set_keys(keys.p256.priv_pem, ctype="application/x-pem-file")
    elif case == "weak":
        ccf.set_jwks([keys.rsa1024.jwk(kid="k2")])
    log0 = gw.nginx.log_size()
    time.sleep(1.1)
    gw.refused("/api/", keys.p256.token(kid="k2"), 401, "KID_UNKNOWN")
    assert ccf.key_fetches() == 2
    log = gw.nginx.error_log(log0)
    assert "answer ignored, the last good keys stay in use" in log
    assert why in log
    # the last good set is untouched
    gw.allowed("/api/", keys.rsa.token(kid="k1"))


def test_keys_survive_reload_and_restart(nginx, upstream, keys, ccf,
                                         tmp_path):
    cache = tmp_path / "ccf-keys.cache"
    ccf.set_jwks([keys.rsa.jwk(kid="k1")])
    gw = gateway(nginx, upstream, keys, ccf, loc_extra=" cache=%s" % cache)
    gw.allowed("/api/", keys.rsa.token(kid="k1"))
    assert _wait(cache.exists)
    assert ccf.key_fetches() == 1
    ccf.down()
    gw.nginx.reload()
    gw.allowed("/api/", keys.rsa.token(kid="k1"))
    gw.nginx.stop()
    # a restart while the CCF is down: the cache file
    gw2 = gateway(nginx, upstream, keys, ccf, loc_extra=" cache=%s" % cache)
    gw2.allowed("/api/", keys.rsa.token(kid="k1"))
    assert "read from" in gw2.nginx.error_log()
    assert ccf.key_fetches() == 1


def _workers(master_pid):
    out = subprocess.run(["pgrep", "-P", str(master_pid)],
                         stdout=subprocess.PIPE).stdout.decode().split()
    return [int(p) for p in out]


def test_dead_workers_lease_expires(nginx, upstream, keys, ccf):
    ccf.set_jwks([keys.rsa.jwk(kid="k1")])
    ccf.delay = 3
    gw = gateway(nginx, upstream, keys, ccf)
    gw.nginx.expect_log("exited on signal 9")
    [worker] = _workers(gw.nginx.proc.pid)
    def doomed():
        try:
            gw.get("/api/", keys.rsa.token(kid="k1"))
        except OSError:
            pass            # its worker is killed under it

    t = threading.Thread(target=doomed)
    t.start()
    assert _wait(lambda: ccf.key_fetches() == 1)
    os.kill(worker, signal.SIGKILL)      # mid-fetch, holding the lease
    t.join()
    assert _wait(lambda: len(_workers(gw.nginx.proc.pid)) == 1
                 and _workers(gw.nginx.proc.pid) != [worker])
    ccf.delay = 0
    # the new worker does not wait for the dead one's lease
    t0 = time.monotonic()
    gw.allowed("/api/", keys.rsa.token(kid="k1"))
    assert time.monotonic() - t0 < 5
    assert ccf.key_fetches() == 2


def test_key_request_config_refused(nginx_t, upstream, ccf):
    rc, out = nginx_t(server=capif.location(
        "/api/", "capif_key_request /_ccf/nowhere;",
        upstream_port=upstream.port) + ccf.location("/_other/", "/keys"))
    assert rc != 0
    assert "capif_key_request" in out and "no location" in out
    rc, out = nginx_t(server=capif.location(
        "/api/", "capif_key_request /_ccf/keys;",
        upstream_port=upstream.port)
        + ccf.location("/_ccf/", "/keys").replace(
            "subrequest_output_buffer_size 64k;",
            "subrequest_output_buffer_size 4k;"))
    assert rc != 0
    assert "subrequest_output_buffer_size" in out


def test_concurrent_cold_calls_share_one_fetch(nginx, upstream, keys, ccf):
    ccf.set_jwks([keys.rsa.jwk(kid="k1")])
    ccf.delay = 0.5
    gw = gateway(nginx, upstream, keys, ccf, workers=2)
    statuses = []
    threads = [threading.Thread(target=lambda: statuses.append(
        gw.get("/api/", keys.rsa.token(kid="k1")).status))
        for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 16
    assert ccf.key_fetches() == 1


def test_ccf_down_waiters_do_not_each_fetch(nginx, upstream, keys, ccf):
    ccf.set_jwks([keys.rsa.jwk(kid="k1")])
    ccf.down()
    gw = gateway(nginx, upstream, keys, ccf, workers=2)
    statuses = []
    threads = [threading.Thread(target=lambda: statuses.append(
        gw.get("/api/", keys.rsa.token(kid="k1")).status))
        for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [503] * 16
    # one attempt (connection refused), not one per waiting call
    log = gw.nginx.error_log()
    assert log.count("fetching keys") == 1, log

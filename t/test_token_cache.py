"""The verified-token cache (capif_token_cache) and $capif_token_cache.

A hit skips only parsing and the signature check: expiry with each
location's leeway, scope, owner, purpose, token type, revocation and the
key set of the location still decide every call.  One worker, so that
every call meets the same cache; HIT/MISS is read from the upstream's
X-Capif-Token-Cache header for allowed calls and from an access log for
refused ones.
"""

import os
import time

import pytest

import capif
from capif import good_claims
from test_revocation_common import revoke

ALICE = "msisdn-491700000001"
BOB = "msisdn-491700000002"

LOG_FORMAT = """
    log_format tc "$http_x_test_id $uri $status $capif_token_cache";
    access_log logs/tc.log tc;
"""

CACHE_HEADER = """
            proxy_set_header X-Capif-Token-Cache $capif_token_cache;
"""


def tok(key, **claims):
    return key.token(claims=good_claims(**claims))


def cache_state(resp):
    """HIT, MISS or None (no header) as the upstream saw it."""
    vals = resp.upstream_header("X-Capif-Token-Cache")
    assert len(vals) <= 1, resp
    return vals[0] if vals else None


class Log:
    """The access log: X-Test-Id, $uri, $status, $capif_token_cache."""

    def __init__(self, n):
        self.path = os.path.join(n.prefix, "logs", "tc.log")

    def line(self, resp, timeout=5.0):
        """(uri, status, cache) of the call that got resp, found by its
        X-Test-Id: nginx logs a request once its response has gone out,
        so the line may come a moment after the client read it."""
        deadline = time.monotonic() + timeout
        while True:
            with open(self.path) as f:
                lines = f.read().split("\n")[:-1]
            for line in lines:
                tid, uri, status, cache = line.split(" ")
                if tid == resp.test_id:
                    return uri, int(status), cache
            assert time.monotonic() < deadline, "no access log line"
            time.sleep(0.01)


def call(gw, log, path, token, status=200, cause=None, cache=None):
    """One call: checks status (and cause), and HIT/MISS from the log."""
    r = gw.get(path, token)
    if status == 200:
        capif.assert_allowed(r, invoker=None, upstream=gw.upstream)
    else:
        capif.assert_refused(r, status, cause, token=token,
                             upstream=gw.upstream)
    if cache is not None:
        uri, st, got = log.line(r)
        assert (uri, st) == (path.split("?")[0], status), (uri, st, got)
        assert got == cache, "%s %s: %s, not %s" % (path, status, got,
                                                    cache)
    return r


def locations(keys, up, cache_header=True):
    k = [keys.rsa.pub_path, keys.p256.pub_path]
    extra = CACHE_HEADER if cache_header else ""

    def L(path, keys_conf=k, **kw):
        kw["extra"] = kw.get("extra", "") + extra
        return capif.location(path, keys_conf, upstream_port=up, **kw)

    return "".join([
        L("/api/"),
        L("/lenient/", extra="capif_leeway 30s;"),
        L("/api2/", api="api-2"),
        L("/aef2/", aef="aef-2"),
        L("/owner/", extra="capif_resource_owner $arg_ueId;"),
        L("/purpose/", extra="capif_purpose billing;"),
        L("/refresh/", extra="capif_token_type refresh;"),
        L("/other-key/", [keys.rsa_b.pub_path]),
    ])


@pytest.fixture(scope="module")
def gw(module_nginx, upstream, keys):
    n = module_nginx(http=LOG_FORMAT + "capif_token_cache 1000;",
                     server=locations(keys, upstream.port))
    g = capif.Gateway(n, upstream, keys)
    g.log = Log(n)
    return g


# ---------------------------------------------------------------- hits

def test_miss_then_hit(gw, keys):
    t = tok(keys.rsa)
    r = gw.allowed("/api/x", t)
    assert cache_state(r) == "MISS"
    for _ in range(3):
        r = gw.allowed("/api/x", t)
        assert cache_state(r) == "HIT"
    # what a hit hands to the later checks is the verified token's
    assert r.upstream_header("X-Capif-Scope") == [capif.SCOPE]

    # another token, even of the same invoker, is a miss first
    r = gw.allowed("/api/x", tok(keys.rsa))
    assert cache_state(r) == "MISS"


def test_es256_token_is_cached_too(gw, keys):
    t = tok(keys.p256)
    assert cache_state(gw.allowed("/api/x", t)) == "MISS"
    assert cache_state(gw.allowed("/api/x", t)) == "HIT"


def test_failure_is_never_cached(gw, keys):
    t = tok(keys.rsa)
    head, body, sig = t.split(".")
    # a valid base64url signature of another key: same length, no match
    bad = "%s.%s.%s" % (head, body,
                        keys.evil_rsa.token().split(".")[2])
    for _ in range(3):
        call(gw, gw.log, "/api/x", bad, 401, "SIGNATURE_INVALID",
             cache="MISS")
    # and the good token with that body is a miss, then a hit
    assert cache_state(gw.allowed("/api/x", t)) == "MISS"
    assert cache_state(gw.allowed("/api/x", t)) == "HIT"


def test_no_token_no_cache_state(gw):
    r = gw.get("/api/x")
    capif.assert_refused(r, 401, "TOKEN_MISSING")
    assert gw.log.line(r) == ("/api/x", 401, "-")


# ------------------------------------------------- every location decides

def test_cached_token_gets_each_locations_answer(gw, keys):
    t = tok(keys.rsa, resOwnerId=ALICE, purpose="analytics")
    assert cache_state(gw.allowed("/api/x", t)) == "MISS"
    assert cache_state(gw.allowed("/api/x", t)) == "HIT"

    # another API, another AEF: the scope is checked on the hit
    call(gw, gw.log, "/api2/x", t, 403, "SCOPE_API_NOT_GRANTED",
         cache="HIT")
    call(gw, gw.log, "/aef2/x", t, 403, "SCOPE_AEF_NOT_GRANTED",
         cache="HIT")

    # the owner: this request's, against the cached claims
    call(gw, gw.log, "/owner/x?ueId=" + ALICE, t, cache="HIT")
    call(gw, gw.log, "/owner/x?ueId=" + BOB, t, 403,
         "RESOURCE_OWNER_NOT_AUTHORIZED", cache="HIT")

    # the purpose this location serves is not the token's
    call(gw, gw.log, "/purpose/x", t, 403, "PURPOSE_NOT_AUTHORIZED",
         cache="HIT")

    # the claims are checked again with this location's settings
    call(gw, gw.log, "/refresh/x", t, 401, "TOKEN_TYPE_MISMATCH",
         cache="HIT")

    # and it still passes where it did
    assert cache_state(gw.allowed("/api/x", t)) == "HIT"


def test_location_without_the_key_refuses_cached_token(gw, keys):
    """A hit counts only while the location's key set still has the key
    (by its SHA-256 fingerprint) that verified the token."""
    t = tok(keys.rsa)
    assert cache_state(gw.allowed("/api/x", t)) == "MISS"
    assert cache_state(gw.allowed("/api/x", t)) == "HIT"
    call(gw, gw.log, "/other-key/x", t, 401, "SIGNATURE_INVALID",
         cache="MISS")
    # the entry is not lost for the locations that have the key
    assert cache_state(gw.allowed("/api/x", t)) == "HIT"

    # and the other key's tokens are cached at its location
    t_b = tok(keys.rsa_b)
    assert cache_state(gw.allowed("/other-key/x", t_b)) == "MISS"
    assert cache_state(gw.allowed("/other-key/x", t_b)) == "HIT"
    call(gw, gw.log, "/api/x", t_b, 401, "SIGNATURE_INVALID", cache="MISS")


def test_expiry_while_cached(gw, keys):
    exp = int(time.time()) + 2
    t = tok(keys.rsa, exp=exp)
    assert cache_state(gw.allowed("/api/x", t)) == "MISS"
    assert cache_state(gw.allowed("/api/x", t)) == "HIT"
    assert cache_state(gw.allowed("/lenient/x", t)) == "HIT"

    # past exp: refused without leeway, on or after exp (RFC 7519)
    time.sleep(max(0, exp - time.time()) + 0.1)
    call(gw, gw.log, "/api/x", t, 401, "TOKEN_EXPIRED")

    # within 30 s of leeway it passes: verified again, then cached
    assert cache_state(gw.allowed("/lenient/x", t)) == "MISS"
    assert cache_state(gw.allowed("/lenient/x", t)) == "HIT"
    # the entry the lenient location made does not help the strict one
    call(gw, gw.log, "/api/x", t, 401, "TOKEN_EXPIRED", cache="HIT")


def test_not_yet_valid_is_checked_on_a_hit(gw, keys):
    """nbf within the leeway: the lenient location caches it, the strict
    one refuses it on the hit."""
    now = int(time.time())
    t = tok(keys.rsa, nbf=now + 20, iat=now)
    assert cache_state(gw.allowed("/lenient/x", t)) == "MISS"
    assert cache_state(gw.allowed("/lenient/x", t)) == "HIT"
    call(gw, gw.log, "/api/x", t, 401, "TOKEN_NOT_YET_VALID", cache="HIT")


# ---------------------------------------------------------------- LRU

def test_full_cache_evicts_least_recently_used(nginx, upstream, keys):
    n = nginx(http=LOG_FORMAT + "capif_token_cache 2;",
              server=locations(keys, upstream.port))
    gw = capif.Gateway(n, upstream, keys)
    a, b, c = tok(keys.rsa), tok(keys.rsa), tok(keys.p256)

    def state(t):
        return cache_state(gw.allowed("/api/x", t))

    assert state(a) == "MISS"
    assert state(b) == "MISS"
    assert state(a) == "HIT"       # a is now the most recently used
    assert state(c) == "MISS"      # full: b goes
    assert state(a) == "HIT"
    assert state(c) == "HIT"
    assert state(b) == "MISS"      # b again; a was least recently used
    assert state(c) == "HIT"
    assert state(a) == "MISS"


# ---------------------------------------------------------------- off

def test_cache_off(nginx, upstream, keys):
    n = nginx(http=LOG_FORMAT + "capif_token_cache off;",
              server=locations(keys, upstream.port))
    gw = capif.Gateway(n, upstream, keys)
    log = Log(n)
    t = tok(keys.rsa)
    for _ in range(3):
        r = gw.allowed("/api/x", t)
        assert cache_state(r) is None
        assert log.line(r) == ("/api/x", 200, "-")
    # every call is decided in full, the same way
    call(gw, log, "/other-key/x", t, 401, "SIGNATURE_INVALID", cache="-")
    call(gw, log, "/api2/x", t, 403, "SCOPE_API_NOT_GRANTED", cache="-")


def test_default_is_on(nginx, upstream, keys):
    n = nginx(server=locations(keys, upstream.port))
    gw = capif.Gateway(n, upstream, keys)
    t = tok(keys.rsa)
    assert cache_state(gw.allowed("/api/x", t)) == "MISS"
    assert cache_state(gw.allowed("/api/x", t)) == "HIT"


# ------------------------------------------------- revocation and reload

def test_revocation_of_cached_token_next_call(nginx, upstream, keys,
                                              tmp_path):
    server = """
        location /aef-security/v1/ {
            capif_aef_security;
            capif_admin_allow_plain_loopback on;
        }
""" + locations(keys, upstream.port)
    n = nginx(http=LOG_FORMAT + "capif_zone capif:1m;\n"
              "capif_journal %s;\n" % (tmp_path / "journal"),
              server=server)
    gw = capif.Gateway(n, upstream, keys)
    log = Log(n)
    t = tok(keys.rsa)
    other = tok(keys.rsa, iss="INV-other", sub="INV-other")
    assert cache_state(gw.allowed("/api/x", t)) == "MISS"
    assert cache_state(gw.allowed("/api/x", t)) == "HIT"
    assert cache_state(gw.allowed("/api/x", other, invoker="INV-other")) \
        == "MISS"

    r = revoke(n.port)
    assert r.status in (200, 204), r

    call(gw, log, "/api/x", t, 401, "TOKEN_REVOKED", cache="HIT")
    call(gw, log, "/api/x", t, 401, "TOKEN_REVOKED", cache="HIT")
    r = gw.allowed("/api/x", other, invoker="INV-other")
    assert cache_state(r) == "HIT"


def test_removed_key_refuses_cached_token_after_reload(nginx, upstream,
                                                       keys, tmp_path):
    keyfile = str(tmp_path / "ccf.pem")

    def conf(*ks):
        return "".join(capif.location(
            "/api/", ["%s" % k for k in ks], upstream_port=upstream.port,
            extra=CACHE_HEADER))

    # the key file holds the CCF's current key; a second key file the old
    with open(keyfile, "wb") as f:
        f.write(keys.rsa.pub_pem)
    n = nginx(http=LOG_FORMAT,
              server=conf(keyfile, keys.rsa_b.pub_path))
    gw = capif.Gateway(n, upstream, keys)
    log = Log(n)
    t = tok(keys.rsa)
    t_b = tok(keys.rsa_b)
    assert cache_state(gw.allowed("/api/x", t)) == "MISS"
    assert cache_state(gw.allowed("/api/x", t)) == "HIT"
    assert cache_state(gw.allowed("/api/x", t_b)) == "MISS"
    assert cache_state(gw.allowed("/api/x", t_b)) == "HIT"

    # the CCF's key changes in place: rsa is gone, rsa_b stays
    with open(keyfile, "wb") as f:
        f.write(keys.rsa_b.pub_pem)
    n.reload()

    call(gw, log, "/api/x", t, 401, "SIGNATURE_INVALID", cache="MISS")
    call(gw, log, "/api/x", t, 401, "SIGNATURE_INVALID", cache="MISS")
    assert cache_state(gw.allowed("/api/x", t_b)) == "MISS"
    assert cache_state(gw.allowed("/api/x", t_b)) == "HIT"


# ---------------------------------------------------------------- config

@pytest.mark.parametrize("value", ["0", "-1", "abc", "10k", "10000001",
                                   "on"])
def test_bad_sizes_refused(nginx_t, keys, value):
    rc, out = nginx_t(http="capif_token_cache %s;" % value, server="")
    assert rc != 0, out
    assert "capif_token_cache" in out, out


def test_duplicate_and_wrong_level_refused(nginx_t, keys):
    rc, out = nginx_t(http="capif_token_cache 10;\ncapif_token_cache 20;",
                      server="")
    assert rc != 0 and "capif_token_cache" in out and "duplicate" in out, \
        out
    rc, out = nginx_t(server="capif_token_cache 10;")
    assert rc != 0 and "capif_token_cache" in out, out

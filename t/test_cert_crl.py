"""capif_crl (key issue 4): a CRL from the CCF's CA, read again when it
changes, refuses every listed certificate on every location, including
keep-alive connections opened before the change.

The CRL file is replaced at run time as a CA's publisher would (write
and rename); each worker looks at it at most once a second, so the tests
poll until the change shows, with a deadline.
"""

import os
import subprocess
import time

import pytest

import capif
import capif_tls
from capif import good_claims

#: a worker notices a new CRL within a second; allow for a slow machine
DEADLINE = 15.0


@pytest.fixture
def pki(tmp_path):
    p = capif_tls.Pki(tmp_path / "pki")
    p.a = p.invoker("inv-a")
    p.b = p.invoker("inv-b")
    p.other_ca = capif_tls.Pki(tmp_path / "other")
    p.crl_path = os.path.join(p.dir, "ca.crl")
    p.write_crl(p.crl_path, p.crl([]))
    return p


def start(nginx, upstream, keys, pki, issuer=True, workers=2):
    k = [keys.rsa.pub_path]
    locs = "".join([
        capif.location("/api/", k, upstream_port=upstream.port,
                       extra="capif_cert_binding optional;"),
        # no "capif on": the CRL applies all the same
        """
        location /open/ {
            proxy_pass http://127.0.0.1:%d;
        }
""" % upstream.port,
    ])
    block = """
    capif_crl %s;
    %s
    server {
        listen 127.0.0.1:@PORT@ ssl;
        %s
        %s
    }
""" % (pki.crl_path,
       "capif_crl_issuer %s;" % pki.ca.cert_path if issuer else "",
       pki.ssl_conf("optional"), locs)
    n = nginx(server_block=block, worker_processes=workers)
    return capif.Gateway(n, upstream, keys)


def bound(keys, cert):
    c = good_claims()
    c["cnf"] = {"x5t#S256": cert.thumbprint}
    return keys.rsa.token(claims=c)


def ok(gw, resp):
    assert resp.status == 200, resp
    assert resp.header_all("WWW-Authenticate") == [], resp


def revoked(gw, resp):
    capif.assert_refused(resp, 401, "CLIENT_CERT_REVOKED",
                         upstream=gw.upstream)


def wait_for(fn, what):
    deadline = time.monotonic() + DEADLINE
    while True:
        r = fn()
        if r.status == 401:
            return r
        assert time.monotonic() < deadline, "%s: still %r" % (what, r)
        time.sleep(0.1)


def test_revocation_at_run_time(nginx, upstream, keys, pki):
    """A is revoked while connections with A are open: they, new
    connections with A, and tokens bound to A are refused on every
    location; B works at once."""
    gw = start(nginx, upstream, keys, pki)
    ta, tb = bound(keys, pki.a), bound(keys, pki.b)

    # keep-alive connections opened before the revocation (two workers)
    old = [capif_tls.TlsClient(gw.port, pki, pki.a) for _ in range(4)]
    try:
        for c in old:
            ok(gw, c.get("/api/x", ta))
            ok(gw, c.get("/open/x"))

        pki.write_crl(pki.crl_path, pki.crl([pki.a]))

        for c in old:
            r = wait_for(lambda: c.get("/open/x"), "keep-alive /open/")
            revoked(gw, r)
            revoked(gw, c.get("/api/x", ta))
            # the untokened location and the token's one alike
            revoked(gw, c.get("/open/x"))
            assert c.same_socket(), "the connection was not kept alive"
    finally:
        for c in old:
            c.close()

    for _ in range(4):
        revoked(gw, capif_tls.tls_get(gw.port, pki, "/api/x", ta, pki.a))
        revoked(gw, capif_tls.tls_get(gw.port, pki, "/open/x", None, pki.a))
        # the replacement certificate with its own token
        ok(gw, capif_tls.tls_get(gw.port, pki, "/api/x", tb, pki.b))
        ok(gw, capif_tls.tls_get(gw.port, pki, "/open/x", None, pki.b))
        # a connection without a certificate is not the CRL's business
        ok(gw, capif_tls.tls_get(gw.port, pki, "/open/x", None, None))

    log = gw.nginx.error_log()
    assert "capif_crl: loaded" in log
    serial = "%X" % pki.a.serial
    serial = "0" * (len(serial) % 2) + serial     # whole bytes
    assert "client certificate serial %s is revoked" % serial in log


def test_der_crl_and_unrevoke(nginx, upstream, keys, pki):
    pki.write_crl(pki.crl_path, pki.crl([pki.a], der=True))
    gw = start(nginx, upstream, keys, pki, workers=1)
    revoked(gw, capif_tls.tls_get(gw.port, pki, "/open/x", None, pki.a))
    ok(gw, capif_tls.tls_get(gw.port, pki, "/open/x", None, pki.b))

    # a CA may take an entry back (certificateHold); B is revoked instead
    pki.write_crl(pki.crl_path, pki.crl([pki.b], der=True))
    c = capif_tls.TlsClient(gw.port, pki, pki.b)
    try:
        wait_for(lambda: c.get("/open/x"), "B revoked")
    finally:
        c.close()
    ok(gw, capif_tls.tls_get(gw.port, pki, "/open/x", None, pki.a))


@pytest.mark.parametrize("bad", ["garbage", "truncated", "other_ca",
                                 "empty", "missing"])
def test_broken_crl_keeps_last_good(nginx, upstream, keys, pki, bad):
    """A CRL that does not parse, does not verify against
    capif_crl_issuer, or disappears keeps the last good one, with an
    alert; a good one afterwards is picked up."""
    pki.write_crl(pki.crl_path, pki.crl([pki.a]))
    gw = start(nginx, upstream, keys, pki, workers=1)
    gw.nginx.expect_log("capif_crl:")
    revoked(gw, capif_tls.tls_get(gw.port, pki, "/open/x", None, pki.a))

    good = pki.crl([])
    data = {"garbage": b"not a CRL\n",
            "truncated": good[:len(good) // 2],
            "other_ca": pki.other_ca.crl([]),
            "empty": b""}.get(bad)
    log_at = gw.nginx.log_size()
    if bad == "missing":
        os.unlink(pki.crl_path)
    else:
        pki.write_crl(pki.crl_path, data)

    deadline = time.monotonic() + DEADLINE
    while "[alert]" not in gw.nginx.error_log(log_at):
        assert time.monotonic() < deadline, gw.nginx.error_log(log_at)
        # requests drive the check; A stays revoked meanwhile
        revoked(gw, capif_tls.tls_get(gw.port, pki, "/open/x", None,
                                      pki.a))
        time.sleep(0.1)
    assert "keeping the last good CRL" in gw.nginx.error_log(log_at)
    revoked(gw, capif_tls.tls_get(gw.port, pki, "/open/x", None, pki.a))
    ok(gw, capif_tls.tls_get(gw.port, pki, "/open/x", None, pki.b))

    pki.write_crl(pki.crl_path, good)
    deadline = time.monotonic() + DEADLINE
    while True:
        r = capif_tls.tls_get(gw.port, pki, "/open/x", None, pki.a)
        if r.status == 200:
            break
        revoked(gw, r)
        assert time.monotonic() < deadline, "good CRL not picked up"
        time.sleep(0.1)


def test_stale_crl_still_refuses_and_warns(nginx, upstream, keys, pki,
                                           nginx_t):
    """A CRL past its nextUpdate still refuses what it lists (dropping it
    would let withdrawn certificates back in), and the gateway says at
    warn that newer withdrawals are missing: at nginx -t, and at run time
    once per stale CRL, not for a fresh one."""
    pki.write_crl(pki.crl_path, pki.crl([pki.a], stale=True))
    rc, out = nginx_t(http="capif_crl %s;\ncapif_crl_issuer %s;"
                      % (pki.crl_path, pki.ca.cert_path))
    assert rc == 0, out
    assert "[warn]" in out and "past its nextUpdate" in out, out

    pki.write_crl(pki.crl_path, pki.crl([pki.a]))
    gw = start(nginx, upstream, keys, pki, workers=1)
    revoked(gw, capif_tls.tls_get(gw.port, pki, "/open/x", None, pki.a))
    assert "past its nextUpdate" not in gw.nginx.error_log()

    # a stale CRL at run time, listing B as well
    log_at = gw.nginx.log_size()
    pki.write_crl(pki.crl_path, pki.crl([pki.a, pki.b], stale=True))
    r = wait_for(lambda: capif_tls.tls_get(gw.port, pki, "/open/x", None,
                                           pki.b), "B in the stale CRL")
    revoked(gw, r)
    revoked(gw, capif_tls.tls_get(gw.port, pki, "/open/x", None, pki.a))
    time.sleep(1.1)
    revoked(gw, capif_tls.tls_get(gw.port, pki, "/open/x", None, pki.a))
    log = gw.nginx.error_log(log_at)
    assert log.count("past its nextUpdate") == 1, log
    assert "[warn]" in log and "publish a current CRL" in log, log


def test_without_issuer(nginx, upstream, keys, pki):
    """Without capif_crl_issuer the signature is not checked: any CRL
    file can only refuse more."""
    pki.write_crl(pki.crl_path, pki.crl([pki.a]))
    gw = start(nginx, upstream, keys, pki, issuer=False, workers=1)
    revoked(gw, capif_tls.tls_get(gw.port, pki, "/open/x", None, pki.a))


def test_serial_of_another_issuer(nginx, upstream, keys, pki):
    """A CRL entry is the CA's serial: the same number from another CA
    (a self-signed certificate under optional_no_ca) is not refused."""
    s = capif_tls.self_signed(pki.dir, "self-s", "x", serial=pki.a.serial)
    pki.write_crl(pki.crl_path, pki.crl([pki.a]))
    k = [keys.rsa.pub_path]
    block = """
    capif_crl %s;
    server {
        listen 127.0.0.1:@PORT@ ssl;
        %s
        location /open/ { proxy_pass http://127.0.0.1:%d; }
    }
""" % (pki.crl_path, pki.ssl_conf("optional_no_ca"), upstream.port)
    del k
    n = nginx(server_block=block)
    gw = capif.Gateway(n, upstream, keys)
    ok(gw, capif_tls.tls_get(gw.port, pki, "/open/x", None, s))
    revoked(gw, capif_tls.tls_get(gw.port, pki, "/open/x", None, pki.a))


def test_config_refused(nginx_t, pki, tmp_path):
    def http(crl, issuer=None):
        h = "capif_crl %s;" % crl if crl else ""
        if issuer:
            h += "\ncapif_crl_issuer %s;" % issuer
        return nginx_t(http=h, server="location / { return 204; }")

    rc, out = http(str(tmp_path / "nope.crl"))
    assert rc != 0 and "capif_crl" in out and "nope.crl" in out, out

    broken = pki.write_crl(str(tmp_path / "broken.crl"), b"not a CRL")
    rc, out = http(broken)
    assert rc != 0 and "capif_crl" in out, out

    other = pki.write_crl(str(tmp_path / "other.crl"),
                          pki.other_ca.crl([]))
    rc, out = http(other, pki.ca.cert_path)
    assert rc != 0 and "capif_crl" in out and "issuer" in out, out

    rc, out = http(pki.crl_path, str(tmp_path / "nope.pem"))
    assert rc != 0 and "capif_crl_issuer" in out, out

    rc, out = http(pki.crl_path, pki.crl_path)
    assert rc != 0 and "capif_crl_issuer" in out, out

    rc, out = http(None, pki.ca.cert_path)
    assert rc != 0 and "\"capif_crl_issuer\" needs \"capif_crl\"" in out, out

    rc, out = nginx_t(server="location / { capif_crl %s; }" % pki.crl_path)
    assert rc != 0 and "\"capif_crl\" directive is not allowed here" in out

    rc, out = http(pki.crl_path, pki.ca.cert_path)
    assert rc == 0, out


def test_http2_connection_opened_before(nginx, upstream, keys, pki):
    """HTTP/2: curl sends its requests one after another on one
    connection with A; the CRL revoking A is written after the first
    answer, and a later stream on the same connection is refused."""
    block = """
    capif_crl %s;
    capif_crl_issuer %s;
    server {
        listen 127.0.0.1:@PORT@ ssl http2;
        %s
        location /open/ { proxy_pass http://127.0.0.1:%d; }
    }
""" % (pki.crl_path, pki.ca.cert_path, pki.ssl_conf("optional"),
       upstream.port)
    gw = capif.Gateway(nginx(server_block=block), upstream, keys)
    url = "https://127.0.0.1:%d/open/x" % gw.port
    cmd = ["curl", "--http2", "-sS", "--cacert", pki.ca.cert_path,
           "--cert", pki.a.cert_path, "--key", pki.a.key_path,
           "--rate", "5/s",
           # stderr is not buffered: each line arrives as it is written
           "-w", "%{stderr}%{http_code} %{num_connects} %{http_version}"
                 "\\n"]
    for _ in range(int(DEADLINE * 5)):
        cmd += ["-o", "/dev/null", url]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    lines = []
    try:
        for raw in p.stderr:
            words = raw.decode().split()
            assert len(words) == 3, "curl: %r (after %r)" % (raw, lines)
            code, connects, version = words
            lines.append((code, connects, version))
            assert version == "2", lines
            if len(lines) == 1:
                assert (code, connects) == ("200", "1"), lines
                pki.write_crl(pki.crl_path, pki.crl([pki.a]))
                continue
            assert connects == "0", "curl opened a new connection: %r" % (
                lines,)
            if code == "401":
                break
            assert code == "200", lines
        else:
            raise AssertionError("never refused: %r" % (lines,))
    finally:
        p.kill()
        p.wait()

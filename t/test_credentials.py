"""Withdrawn credentials (key issue 4, phase 2): POST .../revoke-credential
and POST .../check-authentication over real mutual TLS.

A test CAPIF CA signs invoker certificates A (the one lost) and B (its
replacement), both naming the invoker in their CN, and the CCF's client
certificate; S is self-signed.  nginx asks for client certificates with
``optional_no_ca`` (S reaches the module unverified), has a capif_zone and
a journal, and serves

* ``/api/`` (binding optional), ``/nobind/`` (binding off), ``/other/``
  (another API), ``/open/`` (no ``capif on`` at all), and
* ``/aef-security/v1/`` on TLS (the CCF's certificate; check-authentication
  with ``capif_cert_invoker cn``), ``/noinv/aef-security/v1/`` on TLS
  (no ``capif_cert_invoker``), and ``/aef-security/v1/`` on a plain
  loopback listener (the CCF stand-in pushes there).
"""

import datetime
import http.client
import json
import os
import ssl
import subprocess

import pytest

import capif
import capif_tls
from capif import good_claims
from test_revocation_common import assert_problem, next_second

ADMIN = "/aef-security/v1/"
NOINV = "/noinv/aef-security/v1/"
OTHER_SCOPE = "3gpp#%s:api-2" % capif.AEF_ID


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    p = capif_tls.Pki(tmp_path_factory.mktemp("pki"))
    p.a = p.invoker("inv-a")
    p.b = p.invoker("inv-b")
    p.c = p.invoker("inv-c")
    p.other = p.invoker("inv-other", cn="INV-other")
    p.ccf = p.invoker("ccf", cn="ccf.example.com")
    p.s = capif_tls.self_signed(p.dir, "self-s", capif.INVOKER)
    return p


def conf(keys, pki, upstream, journal, plain):
    k = [keys.rsa.pub_path]
    up = upstream.port
    locs = "".join([
        capif.location("/api/", k, upstream_port=up,
                       extra="capif_cert_binding optional;"),
        capif.location("/nobind/", k, upstream_port=up),
        capif.location("/other/", k, api="api-2", upstream_port=up),
    ])
    http = """
    capif_zone capif:1m;
    capif_journal %s;
    capif_token_max_lifetime 1h;
""" % journal
    block = """
    server {
        listen 127.0.0.1:@PORT@ ssl;
        %s
        %s
        location /open/ { proxy_pass http://127.0.0.1:%d; }
        location %s {
            capif_aef_security;
            capif_ccf_certificate %s;
            capif_cert_invoker cn;
        }
        location %s {
            capif_aef_security;
            capif_ccf_certificate %s;
        }
    }
    server {
        listen 127.0.0.1:%d;
        location %s {
            capif_aef_security;
            capif_admin_allow_plain_loopback on;
        }
    }
""" % (pki.ssl_conf("optional_no_ca"), locs, up, ADMIN, pki.ccf.cert_path,
       NOINV, pki.ccf.cert_path, plain, ADMIN)
    return dict(http=http, server_block=block, worker_processes=2)


@pytest.fixture
def gw(nginx, upstream, keys, pki, tmp_path):
    plain = capif.free_port()
    journal = str(tmp_path / "journal")
    n = nginx(**conf(keys, pki, upstream, journal, plain))
    n.plain = plain
    n.journal = journal
    n.pki = pki
    return capif.Gateway(n, upstream, keys)


def token(keys, cert=None, **claims):
    c = good_claims(**claims)
    if cert is not None:
        c["cnf"] = {"x5t#S256": cert.thumbprint}
    return keys.rsa.token(claims=c)


def credential_body(cert=None, serial=None, issuer=None, invoker=None,
                    cause="OTHER_REASON", features="0", **extra):
    info = {"apiInvokerId": invoker or capif.INVOKER, "cause": cause}
    if cert is not None:
        info["certSha256"] = cert.thumbprint
    if serial is not None:
        info["serialNumber"] = serial
    if issuer is not None:
        info["issuer"] = issuer
    info.update(extra)
    body = {"revokeInfo": info}
    if features is not None:
        body["supportedFeatures"] = features
    return body


def push(gw, body, op="revoke-credential"):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return capif.request(gw.nginx.plain, "POST", ADMIN + op,
                         [("Content-Type", "application/json")], data,
                         test_id=False)


def listing(gw):
    r = capif.request(gw.nginx.plain, "GET", ADMIN, test_id=False)
    assert r.status == 200, r
    return r.json()["revocations"]


def tls_post(gw, path, body, cert, content_type="application/json"):
    ctx = ssl.create_default_context(cafile=gw.nginx.pki.ca.cert_path)
    ctx.check_hostname = False
    if cert is not None:
        ctx.load_cert_chain(cert.cert_path, cert.key_path)
    conn = http.client.HTTPSConnection("127.0.0.1", gw.port, context=ctx,
                                       timeout=10)
    try:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        hdrs = {"Content-Type": content_type} if content_type else {}
        conn.request("POST", path, body=data, headers=hdrs)
        r = conn.getresponse()
        return capif.Response(r.status, list(r.getheaders()), r.read())
    finally:
        conn.close()


def check_auth(gw, cert, invoker=capif.INVOKER, features="0", path=ADMIN,
               body=None):
    if body is None:
        body = {"apiInvokerId": invoker, "supportedFeatures": features}
    return tls_post(gw, path + "check-authentication", body, cert)


def get(gw, cert, path, tok=None):
    return capif_tls.tls_get(gw.port, gw.nginx.pki, path, tok, cert)


def ok(resp):
    assert resp.status == 200, resp
    return resp


def refused(gw, resp, cause, tok=None):
    capif.assert_refused(resp, 401, cause, token=tok, upstream=gw.upstream)


def stored(resp, features="0"):
    assert resp.status == 200, resp
    assert (resp.header("Content-Type") or "").startswith("application/json")
    assert resp.json() == {"supportedFeatures": features}, resp


# ------------------------------------------------------------ the story

def test_loss_and_replacement(gw, keys, pki):
    """A is lost: A's connections (one kept alive from before), tokens
    bound to A and every token of the invoker issued until then are
    refused; B with a new token works at once, on every API."""
    ta = token(keys, pki.a)                       # bound to A
    tb_old = token(keys, pki.b)                   # bound to B, issued before
    plain_old = token(keys)                       # the reference CCF's kind
    other_old = token(keys, scope=OTHER_SCOPE)

    keep = capif_tls.TlsClient(gw.port, pki, pki.a)
    try:
        ok(keep.get("/api/x", ta))
        ok(keep.get("/open/x"))
        ok(get(gw, pki.b, "/api/x", tb_old))

        stored(push(gw, credential_body(pki.a)))

        # the connection opened before: refused from its next request on
        refused(gw, keep.get("/open/x"), "CLIENT_CERT_REVOKED")
        refused(gw, keep.get("/api/x", ta), "CLIENT_CERT_REVOKED", ta)
        assert keep.same_socket(), "the connection was not kept alive"
    finally:
        keep.close()

    for _ in range(4):          # fresh connections reach both workers
        refused(gw, get(gw, pki.a, "/open/x"), "CLIENT_CERT_REVOKED")
        refused(gw, get(gw, pki.a, "/api/x", ta), "CLIENT_CERT_REVOKED",
                ta)
        # A's token over B where binding is off: the token is bound to A
        refused(gw, get(gw, pki.b, "/nobind/x", ta), "TOKEN_REVOKED", ta)
        # (where binding is on, the binding check refuses it first)
        refused(gw, get(gw, pki.b, "/api/x", ta), "CERT_BINDING_MISMATCH",
                ta)
        # tokens issued before the revocation, even bound to B, every API
        refused(gw, get(gw, pki.b, "/api/x", tb_old), "TOKEN_REVOKED",
                tb_old)
        refused(gw, get(gw, pki.b, "/nobind/x", plain_old), "TOKEN_REVOKED",
                plain_old)
        refused(gw, get(gw, pki.b, "/other/x", other_old), "TOKEN_REVOKED",
                other_old)
        ok(get(gw, pki.b, "/open/x"))

    # the replacement: B and tokens issued after the revocation
    now = next_second()
    tb = token(keys, pki.b, iat=now, nbf=now)
    fresh = token(keys, iat=now, nbf=now)
    fresh_other = token(keys, scope=OTHER_SCOPE, iat=now, nbf=now)
    for _ in range(4):
        ok(get(gw, pki.b, "/api/x", tb))
        ok(get(gw, pki.b, "/nobind/x", fresh))
        ok(get(gw, pki.b, "/other/x", fresh_other))
        # another invoker is not touched
        ok(get(gw, pki.other, "/nobind/x",
               token(keys, invoker="INV-other", sub="INV-other")))
    # a token bound to A stays refused whatever its iat
    ta_new = token(keys, pki.a, iat=now, nbf=now)
    refused(gw, get(gw, pki.b, "/nobind/x", ta_new), "TOKEN_REVOKED",
            ta_new)

    got = sorted(listing(gw), key=lambda e: e["type"])
    assert [e["type"] for e in got] == ["certificate", "invoker-all"], got
    cert, inv = got
    assert cert["certSha256"] == pki.a.thumbprint
    assert inv["apiInvokerId"] == capif.INVOKER
    for e in got:
        assert e["cause"] == "OTHER_REASON"
    # without notAfter: capif_cert_max_lifetime (398d) + token lifetime
    assert cert["expiresAt"] - cert["revokedAt"] == 398 * 86400 + 3600 + 60
    assert inv["expiresAt"] - inv["revokedAt"] == 3600 + 60

    log = gw.nginx.error_log()
    assert "capif: client certificate %s is withdrawn" % pki.a.thumbprint \
        in log, log


def test_serial_and_issuer(gw, keys, pki):
    """The CCF names A by serial number and issuer (RFC 4514, as openssl
    or a library writes it; case and spaces after commas do not matter)."""
    serial = "%X" % pki.a.serial
    serial = "0" * (len(serial) % 2) + serial
    colons = ":".join(serial[i:i + 2] for i in range(0, len(serial), 2))
    issuer = pki.ca.cert.subject.rfc4514_string()
    loose = ", ".join(p.replace("CN=", "cn=") for p in issuer.split(","))
    not_after = "2031-01-02T03:04:05Z"
    stored(push(gw, credential_body(serial=colons, issuer=loose,
                                    notAfter=not_after, features="1")),
           features="1")

    refused(gw, get(gw, pki.a, "/open/x"), "CLIENT_CERT_REVOKED")
    ok(get(gw, pki.b, "/open/x"))
    # the same serial from another issuer (a self-signed certificate)
    same = capif_tls.self_signed(pki.dir, "same-serial", capif.INVOKER,
                                 serial=pki.a.serial)
    ok(get(gw, same, "/open/x"))

    got = sorted(listing(gw), key=lambda e: e["type"])
    assert [e["type"] for e in got] == ["certificate", "invoker-all"], got
    cert = got[0]
    assert cert["serialNumber"] == serial.lower().lstrip("0")
    assert "certSha256" not in cert
    # the canonical issuer (this CA's values are lower case already)
    assert cert["issuer"] == issuer, cert
    # notAfter (2031-01-02T03:04:05Z) + the token lifetime + 60 s
    assert cert["expiresAt"] == 1925089445 + 3600 + 60, cert


def test_both_forms_at_once(gw, keys, pki):
    serial = "%x" % pki.a.serial
    stored(push(gw, credential_body(pki.a, serial=serial,
                                    issuer=pki.ca.cert.subject
                                    .rfc4514_string())))
    kinds = sorted(("certSha256" in e, "serialNumber" in e)
                   for e in listing(gw) if e["type"] == "certificate")
    assert kinds == [(False, True), (True, False)], kinds
    refused(gw, get(gw, pki.a, "/open/x"), "CLIENT_CERT_REVOKED")


# ------------------------------------------------------------ durability

def test_entries_survive_a_restart(nginx, upstream, keys, pki, tmp_path):
    plain = capif.free_port()
    journal = str(tmp_path / "journal")
    n = nginx(**conf(keys, pki, upstream, journal, plain))
    n.plain, n.journal, n.pki = plain, journal, pki
    gw = capif.Gateway(n, upstream, keys)
    before = token(keys, pki.b)
    stored(push(gw, credential_body(pki.a)))
    entries = listing(gw)
    n.stop()

    plain2 = capif.free_port()
    n2 = nginx(**conf(keys, pki, upstream, journal, plain2))
    n2.plain, n2.journal, n2.pki = plain2, journal, pki
    gw2 = capif.Gateway(n2, upstream, keys)
    assert sorted(listing(gw2), key=lambda e: e["type"]) == sorted(
        entries, key=lambda e: e["type"])
    refused(gw2, get(gw2, pki.a, "/open/x"), "CLIENT_CERT_REVOKED")
    refused(gw2, get(gw2, pki.b, "/api/x", before), "TOKEN_REVOKED", before)
    ok(get(gw2, pki.b, "/open/x"))


# ------------------------------------------------------------ bad bodies

def _without(body, key):
    body["revokeInfo"].pop(key)
    return body


BAD = [
    ("not json", b"{", "INVALID_MSG_FORMAT"),
    ("no certificate", credential_body(), "MANDATORY_IE_MISSING"),
    ("no invoker", _without(credential_body(serial="1a", issuer="CN=x"),
                            "apiInvokerId"), "MANDATORY_IE_MISSING"),
    ("no cause", _without(credential_body(serial="1a", issuer="CN=x"),
                          "cause"), "MANDATORY_IE_MISSING"),
    ("no features", credential_body(serial="1a", issuer="CN=x",
                                    features=None), "MANDATORY_IE_MISSING"),
    ("serial without issuer", credential_body(serial="1a"),
     "MANDATORY_IE_MISSING"),
    ("issuer without serial", credential_body(issuer="CN=x"),
     "MANDATORY_IE_MISSING"),
    ("thumbprint 42 chars", dict(credential_body(), revokeInfo=dict(
        credential_body()["revokeInfo"], certSha256="A" * 42)),
     "MANDATORY_IE_INCORRECT"),
    ("thumbprint hex", dict(credential_body(), revokeInfo=dict(
        credential_body()["revokeInfo"], certSha256="ab" * 32)),
     "MANDATORY_IE_INCORRECT"),
    ("thumbprint padded", dict(credential_body(), revokeInfo=dict(
        credential_body()["revokeInfo"], certSha256="A" * 42 + "=")),
     "MANDATORY_IE_INCORRECT"),
    ("thumbprint number", dict(credential_body(), revokeInfo=dict(
        credential_body()["revokeInfo"], certSha256=5)),
     "MANDATORY_IE_INCORRECT"),
    ("serial not hex", credential_body(serial="xyz", issuer="CN=x"),
     "MANDATORY_IE_INCORRECT"),
    ("serial too long", credential_body(serial="1" * 65, issuer="CN=x"),
     "MANDATORY_IE_INCORRECT"),
    ("issuer not a DN", credential_body(serial="1a", issuer="capif ca"),
     "MANDATORY_IE_INCORRECT"),
    ("issuer hex value", credential_body(serial="1a", issuer="CN=#0c0178"),
     "MANDATORY_IE_INCORRECT"),
    ("issuer unknown type", credential_body(serial="1a",
                                            issuer="NOPE=x"),
     "MANDATORY_IE_INCORRECT"),
    ("issuer trailing comma", credential_body(serial="1a",
                                              issuer="CN=x,"),
     "MANDATORY_IE_INCORRECT"),
    ("notAfter not a date", credential_body(serial="1a", issuer="CN=x",
                                            notAfter="tomorrow"),
     "OPTIONAL_IE_INCORRECT"),
    ("notAfter number", credential_body(serial="1a", issuer="CN=x",
                                        notAfter=1900000000),
     "OPTIONAL_IE_INCORRECT"),
    ("cause control char", credential_body(serial="1a", issuer="CN=x",
                                           cause="a\nb"),
     "MANDATORY_IE_INCORRECT"),
]


@pytest.mark.parametrize("name,body,cause", BAD, ids=[b[0] for b in BAD])
def test_bad_bodies_change_nothing(gw, keys, pki, name, body, cause):
    size = os.path.getsize(gw.nginx.journal)
    assert_problem(push(gw, body), 400, cause)
    assert listing(gw) == []
    assert os.path.getsize(gw.nginx.journal) == size
    ok(get(gw, pki.a, "/api/x", token(keys, pki.a)))


def test_only_the_ccf_may_withdraw(gw, keys, pki):
    # an invoker with a valid certificate is not the CCF
    r = tls_post(gw, ADMIN + "revoke-credential", credential_body(pki.b),
                 pki.a)
    assert_problem(r, 403, "CCF_NOT_AUTHENTICATED")
    r = tls_post(gw, ADMIN + "revoke-credential", credential_body(pki.b),
                 pki.ccf)
    stored(r)
    refused(gw, get(gw, pki.b, "/open/x"), "CLIENT_CERT_REVOKED")
    ok(get(gw, pki.a, "/open/x"))


# ------------------------------------------------------------ check-auth

def test_check_authentication(gw, keys, pki):
    r = check_auth(gw, pki.b)
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("application/json")
    assert r.json() == {"supportedFeatures": "0"}
    assert check_auth(gw, pki.b, features="3").json() == {
        "supportedFeatures": "1"}
    ok(check_auth(gw, pki.other, invoker="INV-other"))

    assert_problem(check_auth(gw, pki.b, invoker="INV-other"), 403,
                   "CERT_INVOKER_MISMATCH")
    assert_problem(check_auth(gw, None), 403, "CLIENT_CERT_MISSING")
    assert_problem(check_auth(gw, pki.s), 403, "CLIENT_CERT_UNVERIFIED")
    assert_problem(check_auth(gw, pki.b, path=NOINV), 403,
                   "CERT_INVOKER_NOT_CONFIGURED")
    # the CCF's certificate names no such invoker
    assert_problem(check_auth(gw, pki.ccf), 403, "CERT_INVOKER_MISMATCH")

    # bodies: as strict as the CCF's
    assert_problem(check_auth(gw, pki.b, body={"supportedFeatures": "0"}),
                   400, "MANDATORY_IE_MISSING")
    assert_problem(check_auth(gw, pki.b, body={"apiInvokerId": "x"}), 400,
                   "MANDATORY_IE_MISSING")
    assert_problem(check_auth(gw, pki.b, body=b"[]"), 400,
                   "INVALID_MSG_FORMAT")
    r = tls_post(gw, ADMIN + "check-authentication",
                 {"apiInvokerId": capif.INVOKER, "supportedFeatures": "0"},
                 pki.b, content_type="text/plain")
    assert_problem(r, 415, "UNSUPPORTED_MEDIA_TYPE")

    # an invoker certificate opens check-authentication only
    r = capif_tls.tls_get(gw.port, pki, ADMIN, cert=pki.b)
    assert_problem(r, 403, "CCF_NOT_AUTHENTICATED")

    # withdrawn: 403 with the reason (not the access phase's 401)
    stored(push(gw, credential_body(pki.c)))
    assert_problem(check_auth(gw, pki.c), 403, "CLIENT_CERT_REVOKED")
    ok(check_auth(gw, pki.b))


# ------------------------------------------------------------ README

README_X5T = r"""
set -e
X5T=$(openssl x509 -in lost.crt -outform DER | openssl dgst -sha256 -binary \
      | basenc --base64url | tr -d '=')
END=$(date -u -d "$(openssl x509 -in lost.crt -noout -enddate | cut -d= -f2)" \
      +%Y-%m-%dT%H:%M:%SZ)

curl --cert ccf-client.crt --key ccf-client.key --cacert aef-ca.crt \
     -H 'Content-Type: application/json' \
     -d '{"revokeInfo": {"apiInvokerId": "INV-1", "certSha256": "'$X5T'",
          "notAfter": "'$END'", "cause": "OTHER_REASON"},
          "supportedFeatures": "0"}' \
     https://aef.example.com:8443/aef-security/v1/revoke-credential
"""

README_SERIAL = r"""
set -e
SERIAL=$(openssl x509 -in lost.crt -noout -serial | cut -d= -f2)
ISSUER=$(openssl x509 -in lost.crt -noout -issuer -nameopt RFC2253 \
         | cut -d= -f2-)
curl --cert ccf-client.crt --key ccf-client.key --cacert aef-ca.crt \
     -H 'Content-Type: application/json' \
     -d '{"revokeInfo": {"apiInvokerId": "INV-1",
          "serialNumber": "'"$SERIAL"'", "issuer": "'"$ISSUER"'",
          "cause": "OTHER_REASON"}, "supportedFeatures": "0"}' \
     https://aef.example.com:8443/aef-security/v1/revoke-credential
"""


def _readme_sh(gw, script, lost, tmp_path):
    """Runs a README example as written, with the file names and URL
    pointed at this test's files and gateway."""
    pki = gw.nginx.pki
    readme = open(os.path.join(os.path.dirname(__file__), "..",
                               "README.md")).read()
    body = script.strip().split("\n", 1)[1]     # after "set -e"
    assert body in readme, "the README no longer has this example"
    script = (script.replace("lost.crt", lost.cert_path)
              .replace("ccf-client.crt", pki.ccf.cert_path)
              .replace("ccf-client.key", pki.ccf.key_path)
              .replace("aef-ca.crt", pki.ca.cert_path)
              .replace("https://aef.example.com:8443",
                       "https://127.0.0.1:%d" % gw.port)
              .replace("curl ", "curl -sS "))
    p = subprocess.run(["bash", "-c", script], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30, cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_readme_curl_examples(gw, keys, pki, tmp_path):
    assert _readme_sh(gw, README_X5T, pki.a, tmp_path) == {
        "supportedFeatures": "0"}
    assert _readme_sh(gw, README_SERIAL, pki.b, tmp_path) == {
        "supportedFeatures": "0"}
    refused(gw, get(gw, pki.a, "/open/x"), "CLIENT_CERT_REVOKED")
    refused(gw, get(gw, pki.b, "/open/x"), "CLIENT_CERT_REVOKED")
    ok(get(gw, pki.c, "/open/x"))
    certs = [e for e in listing(gw) if e["type"] == "certificate"]
    by_x5t = [e for e in certs if "certSha256" in e]
    assert [e["certSha256"] for e in by_x5t] == [pki.a.thumbprint]
    end = int(pki.a.cert.not_valid_after.replace(
        tzinfo=datetime.timezone.utc).timestamp())
    assert by_x5t[0]["expiresAt"] == end + 3600 + 60
    assert [e["serialNumber"] for e in certs if "serialNumber" in e] == [
        "%x" % pki.b.serial]


def test_config(nginx_t):
    rc, out = nginx_t(http="capif_cert_max_lifetime 0;")
    assert rc != 0 and "capif_cert_max_lifetime must be positive" in out
    rc, out = nginx_t(server="location / { capif_cert_max_lifetime 1d; }")
    assert rc != 0 and "not allowed here" in out, out
    rc, out = nginx_t(http="capif_cert_max_lifetime 90d;")
    assert rc == 0, out


def test_http2_connection_opened_before(nginx, upstream, keys, pki,
                                        tmp_path):
    """HTTP/2: curl sends requests one after another on one connection
    with A; A is withdrawn after the first answer, and the streams after
    the answer to the push are refused on the same connection."""
    plain = capif.free_port()
    kw = conf(keys, pki, upstream, str(tmp_path / "journal"), plain)
    kw["server_block"] = kw["server_block"].replace(
        "listen 127.0.0.1:@PORT@ ssl;", "listen 127.0.0.1:@PORT@ ssl http2;")
    n = nginx(**kw)
    n.plain, n.journal, n.pki = plain, str(tmp_path / "journal"), pki
    gw = capif.Gateway(n, upstream, keys)
    url = "https://127.0.0.1:%d/open/x" % gw.port
    cmd = ["curl", "--http2", "-sS", "--cacert", pki.ca.cert_path,
           "--cert", pki.a.cert_path, "--key", pki.a.key_path,
           "--rate", "5/s",
           "-w", "%{stderr}%{http_code} %{num_connects} %{http_version}"
                 "\\n"]
    for _ in range(30):
        cmd += ["-o", "/dev/null", url]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    lines, pushed_at = [], None
    try:
        for raw in p.stderr:
            words = raw.decode().split()
            assert len(words) == 3, "curl: %r (after %r)" % (raw, lines)
            code, connects, version = words
            lines.append(code)
            assert version == "2", lines
            assert connects == ("1" if len(lines) == 1 else "0"), lines
            if len(lines) == 1:
                assert code == "200", lines
                stored(push(gw, credential_body(pki.a)))
                pushed_at = len(lines)
                continue
            if code == "401":
                break
            # at most the stream in flight while the push was answered
            assert code == "200" and len(lines) <= pushed_at + 1, lines
        else:
            raise AssertionError("never refused: %r" % (lines,))
    finally:
        p.kill()
        p.wait()


def test_withdrawn_ccf_certificate(gw, pki):
    """The CCF's own calls are not exempt: only POST check-authentication
    answers a withdrawn certificate itself."""
    r = capif_tls.tls_get(gw.port, pki, ADMIN, cert=pki.ccf)
    assert r.status == 200, r
    stored(push(gw, credential_body(pki.ccf, invoker="ccf")))
    for path in (ADMIN, ADMIN + "check-authentication"):
        r = capif_tls.tls_get(gw.port, pki, path, cert=pki.ccf)
        refused(gw, r, "CLIENT_CERT_REVOKED")
    assert_problem(check_auth(gw, pki.ccf), 403, "CLIENT_CERT_REVOKED")

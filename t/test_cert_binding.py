"""Certificate-bound tokens (RFC 8705, key issue 4): capif_cert_binding
over real mutual TLS.

A test CAPIF CA signs invoker certificates A and B; S is self-signed.
nginx asks for a client certificate with ``optional_no_ca`` so that S
reaches the module unverified ($ssl_client_verify FAILED), while A and B
verify.  A second server without TLS shows a bound token over plain HTTP.
"""

import json

import pytest

import capif
import capif_tls
from capif import good_claims

CERT_HEADER = "proxy_set_header X-Capif-Cert $capif_client_cert_sha256;"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    p = capif_tls.Pki(tmp_path_factory.mktemp("pki"))
    p.a = p.invoker("inv-a")
    p.b = p.invoker("inv-b")
    p.s = capif_tls.self_signed(p.dir, "self-s", capif.INVOKER)
    p.s2 = capif_tls.self_signed(p.dir, "self-s2", capif.INVOKER)
    return p


@pytest.fixture(scope="module")
def gw(module_nginx, upstream, keys, pki):
    up = upstream.port
    k = [keys.rsa.pub_path]

    def L(path, extra=""):
        return capif.location(path, k, extra=extra + CERT_HEADER,
                              upstream_port=up)

    locs = "".join([
        L("/off/", "capif_cert_binding off;"),
        L("/inherited/"),
        L("/optional/", "capif_cert_binding optional;"),
        L("/strict/", "capif_cert_binding strict;"),
        L("/noca/", "capif_cert_binding strict no_ca;"),
    ])
    plain = capif.free_port()
    block = """
    capif_cert_binding optional;
    server {
        listen 127.0.0.1:@PORT@ ssl;
        %s
        %s
    }
    server {
        listen 127.0.0.1:%d;
        %s
    }
""" % (pki.ssl_conf("optional_no_ca"), locs, plain, locs)
    n = module_nginx(server_block=block)
    g = capif.Gateway(n, upstream, keys)
    g.plain = plain
    return g


def bound(keys, cert, **claims):
    c = good_claims(**claims)
    c["cnf"] = {"x5t#S256": cert if isinstance(cert, str)
                else cert.thumbprint}
    return keys.rsa.token(claims=c)


def get(gw, pki, path, token, cert=None):
    return capif_tls.tls_get(gw.port, pki, path, token, cert)


def refused(gw, resp, cause, token=None):
    return capif.assert_refused(resp, 401, cause, token=token,
                                upstream=gw.upstream,
                                keys=gw._all_keys())


def allowed(gw, resp, cert=None):
    capif.assert_allowed(resp, upstream=gw.upstream)
    want = [cert.thumbprint] if cert is not None else []
    assert resp.upstream_header("X-Capif-Cert") == want, resp


def test_bound_token_with_its_certificate(gw, keys, pki):
    t = bound(keys, pki.a)
    for path in ("/optional/x", "/strict/x", "/noca/x"):
        allowed(gw, get(gw, pki, path, t, pki.a), pki.a)


def test_unbound_token_optional(gw, keys, pki):
    t = keys.rsa.token()
    allowed(gw, get(gw, pki, "/optional/x", t, pki.a), pki.a)
    allowed(gw, get(gw, pki, "/optional/x", t, None))
    allowed(gw, get(gw, pki, "/optional/x", t, pki.s), pki.s)
    r = capif.request(gw.plain, "GET", "/optional/x",
                      [("Authorization", "Bearer " + t)])
    allowed(gw, r)


def test_http_level_inherited(gw, keys, pki):
    t = bound(keys, pki.a)
    allowed(gw, get(gw, pki, "/inherited/x", t, pki.a), pki.a)
    refused(gw, get(gw, pki, "/inherited/x", t, pki.b),
            "CERT_BINDING_MISMATCH", t)


def test_off_ignores_cnf(gw, keys, pki):
    t = bound(keys, pki.a)
    allowed(gw, get(gw, pki, "/off/x", t, pki.b), pki.b)
    allowed(gw, get(gw, pki, "/off/x", keys.rsa.token(
        claims=good_claims(cnf="garbage")), None))


def test_binding_mismatch(gw, keys, pki):
    t = bound(keys, pki.a)
    for path in ("/optional/x", "/strict/x", "/noca/x"):
        refused(gw, get(gw, pki, path, t, pki.b), "CERT_BINDING_MISMATCH",
                t)


def test_binding_required(gw, keys, pki):
    for claims in (good_claims(), good_claims(cnf={"jkt": "abc"})):
        t = keys.rsa.token(claims=claims)
        for path in ("/strict/x", "/noca/x"):
            refused(gw, get(gw, pki, path, t, pki.a),
                    "CERT_BINDING_REQUIRED", t)


def test_client_cert_missing(gw, keys, pki):
    t = bound(keys, pki.a)
    for path in ("/optional/x", "/strict/x", "/noca/x"):
        refused(gw, get(gw, pki, path, t, None), "CLIENT_CERT_MISSING", t)
        # no TLS at all
        r = capif.request(gw.plain, "GET", path,
                          [("Authorization", "Bearer " + t)])
        refused(gw, r, "CLIENT_CERT_MISSING", t)


def test_unverified_certificate(gw, keys, pki):
    """S is self-signed: nginx did not verify it, so a token bound to it
    is refused unless the location says no_ca."""
    t = bound(keys, pki.s)
    for path in ("/optional/x", "/strict/x"):
        refused(gw, get(gw, pki, path, t, pki.s), "CLIENT_CERT_UNVERIFIED",
                t)
    allowed(gw, get(gw, pki, "/noca/x", t, pki.s), pki.s)
    # another self-signed certificate with the same name is not S
    refused(gw, get(gw, pki, "/noca/x", t, pki.s2),
            "CERT_BINDING_MISMATCH", t)


@pytest.mark.parametrize("cnf", [
    "abc", 42, None, [1], {"x5t#S256": 7}, {"x5t#S256": ""},
    {"x5t#S256": ["x"]}, {"x5t#S256": {"a": 1}},
])
def test_cnf_invalid_type(gw, keys, pki, cnf):
    t = keys.rsa.token(claims=good_claims(cnf=cnf))
    for path in ("/optional/x", "/strict/x"):
        refused(gw, get(gw, pki, path, t, pki.a), "CNF_INVALID", t)


def test_cnf_invalid_encoding(gw, keys, pki):
    thumb = pki.a.thumbprint
    raw = capif.b64u_decode(thumb)
    alphabet = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                "0123456789-_")
    last = alphabet[alphabet.index(thumb[-1]) ^ 1]
    bad = [
        thumb[:-1],                       # 42 characters
        thumb + "A",                      # 44
        thumb + "=",                      # padded
        raw.hex(),                        # hex, as some tools write it
        __import__("base64").b64encode(raw).decode(),   # standard alphabet
        thumb[:-1] + last,                # non-canonical trailing bits
        thumb[:20] + " " + thumb[21:],
        capif.b64u(raw[:31]) + "AA",      # 31 bytes, padded to length
    ]
    for value in bad:
        t = bound(keys, value)
        refused(gw, get(gw, pki, "/optional/x", t, pki.a), "CNF_INVALID", t)


def test_forged_cnf(gw, keys, pki):
    """The holder of certificate B takes A's token and rewrites cnf to
    B's thumbprint: the signature no longer verifies.  Signing it with
    another key fails too; and a token is never bound by headers."""
    t = bound(keys, pki.a)
    h, p, s = t.split(".")
    claims = json.loads(capif.b64u_decode(p))
    claims["cnf"]["x5t#S256"] = pki.b.thumbprint
    forged = "%s.%s.%s" % (h, capif.b64u(capif.json_bytes(claims)), s)
    refused(gw, get(gw, pki, "/optional/x", forged, pki.b),
            "SIGNATURE_INVALID", forged)

    evil = keys.evil_rsa.token(claims=claims)
    refused(gw, get(gw, pki, "/optional/x", evil, pki.b),
            ("SIGNATURE_INVALID", "KID_UNKNOWN", "ALG_NOT_CONFIGURED"), evil)

    # certificate headers from the client are not the connection's
    for hdr in ("X-SSL-Client-Cert", "X-Client-Cert", "SSL-Client-Cert"):
        r = capif_tls.tls_get(gw.port, pki, "/optional/x", t, pki.b,
                              headers=[(hdr, pki.a.thumbprint)])
        refused(gw, r, "CERT_BINDING_MISMATCH", t)
        r = capif.request(gw.plain, "GET", "/optional/x",
                          [("Authorization", "Bearer " + t),
                           (hdr, pki.a.thumbprint)])
        refused(gw, r, "CLIENT_CERT_MISSING", t)


def test_keepalive_checks_each_request(gw, keys, pki):
    """Binding is decided per request: on one connection with A, a token
    bound to A passes, one bound to B does not, then A's passes again."""
    c = capif_tls.TlsClient(gw.port, pki, pki.a)
    try:
        ta, tb = bound(keys, pki.a), bound(keys, pki.b)
        allowed(gw, c.get("/optional/x", ta), pki.a)
        refused(gw, c.get("/optional/x", tb), "CERT_BINDING_MISMATCH", tb)
        allowed(gw, c.get("/strict/x", ta), pki.a)
        assert c.same_socket()
    finally:
        c.close()


@pytest.mark.parametrize("line, message", [
    ("capif_cert_binding on;", "invalid value \"on\""),
    ("capif_cert_binding off no_ca;", "only \"optional\" and \"strict\""),
    ("capif_cert_binding strict ca;", "invalid parameter \"ca\""),
    ("capif_cert_binding optional;\ncapif_cert_binding strict;",
     "is duplicate"),
    ("capif_cert_invoker email;", "invalid value \"email\""),
])
def test_config_refused(nginx_t, line, message):
    rc, out = nginx_t("location / { %s }" % line)
    assert rc != 0 and message in out, out

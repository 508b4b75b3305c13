"""The invoker named by its certificate (key issue 4): capif_cert_invoker
cn | san_uri | san_dns against the token's invoker id, over real mutual
TLS with certificates of a test CAPIF CA.
"""

import pytest

import capif
import capif_tls
from capif import good_claims

URI = "urn:capif:invoker:INV-1234"
DNS = "inv-1234.invokers.example"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    p = capif_tls.Pki(tmp_path_factory.mktemp("pki"))
    # the reference CCF names the invoker in the CN
    p.a = p.invoker("inv-a", uri=[URI, "urn:capif:invoker:OTHER"],
                    dns=[DNS, "other.example"])
    p.other = p.invoker("inv-other", cn="INV-9999",
                        uri="urn:capif:invoker:INV-9999",
                        dns="inv-9999.invokers.example")
    # a longer and a shorter name, a case variant
    p.longer = p.invoker("inv-longer", cn=capif.INVOKER + "5")
    p.case = p.invoker("inv-case", cn=capif.INVOKER.lower())
    p.nameless = p.invoker("inv-nameless", cn=None)
    p.s = capif_tls.self_signed(p.dir, "self-s", capif.INVOKER)
    return p


@pytest.fixture(scope="module")
def gw(module_nginx, upstream, keys, pki):
    up = upstream.port
    k = [keys.rsa.pub_path]

    def L(path, extra):
        return capif.location(path, k, extra=extra, upstream_port=up)

    locs = "".join([
        L("/cn/", "capif_cert_invoker cn;"),
        L("/uri/", "capif_cert_invoker san_uri;"),
        L("/dns/", "capif_cert_invoker san_dns;"),
        L("/off/", "capif_cert_invoker off;"),
        L("/both/", "capif_cert_invoker cn;\n"
                    "capif_cert_binding strict no_ca;"),
    ])
    plain = capif.free_port()
    block = """
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
    g = capif.Gateway(module_nginx(server_block=block), upstream, keys)
    g.plain = plain
    return g


def tok(keys, invoker=capif.INVOKER, **extra):
    return keys.rsa.token(claims=good_claims(invoker=invoker, **extra))


def get(gw, pki, path, token, cert):
    return capif_tls.tls_get(gw.port, pki, path, token, cert)


def refused(gw, resp, cause, token):
    return capif.assert_refused(resp, 401, cause, token=token,
                                upstream=gw.upstream, keys=gw._all_keys())


@pytest.mark.parametrize("path, invoker", [
    ("/cn/x", capif.INVOKER), ("/uri/x", URI), ("/dns/x", DNS)])
def test_identity_matches(gw, keys, pki, path, invoker):
    t = tok(keys, invoker)
    capif.assert_allowed(get(gw, pki, path, t, pki.a), invoker=invoker,
                         upstream=gw.upstream)


@pytest.mark.parametrize("path, invoker", [
    ("/cn/x", capif.INVOKER), ("/uri/x", URI), ("/dns/x", DNS)])
def test_other_invokers_certificate(gw, keys, pki, path, invoker):
    t = tok(keys, invoker)
    refused(gw, get(gw, pki, path, t, pki.other), "CERT_INVOKER_MISMATCH",
            t)


@pytest.mark.parametrize("path, invoker", [
    # the token names another invoker than the certificate
    ("/cn/x", "INV-9999"), ("/cn/x", capif.INVOKER[:-1]),
    ("/uri/x", "urn:capif:invoker:OTHER"), ("/uri/x", capif.INVOKER),
    ("/dns/x", "other.example"), ("/dns/x", DNS.upper()),
])
def test_token_of_another_invoker(gw, keys, pki, path, invoker):
    t = tok(keys, invoker)
    refused(gw, get(gw, pki, path, t, pki.a), "CERT_INVOKER_MISMATCH", t)


def test_near_names(gw, keys, pki):
    t = tok(keys)
    for cert in (pki.longer, pki.case, pki.nameless):
        refused(gw, get(gw, pki, "/cn/x", t, cert), "CERT_INVOKER_MISMATCH",
                t)
    # no SAN of that kind
    for path in ("/uri/x", "/dns/x"):
        refused(gw, get(gw, pki, path, t, pki.longer),
                "CERT_INVOKER_MISMATCH", t)


def test_no_certificate(gw, keys, pki):
    t = tok(keys)
    refused(gw, get(gw, pki, "/cn/x", t, None), "CLIENT_CERT_MISSING", t)
    r = capif.request(gw.plain, "GET", "/cn/x",
                      [("Authorization", "Bearer " + t)])
    refused(gw, r, "CLIENT_CERT_MISSING", t)


def test_unverified_certificate(gw, keys, pki):
    """A self-signed certificate with the right CN names nobody; no_ca
    relaxes the binding, never the identity."""
    t = tok(keys)
    refused(gw, get(gw, pki, "/cn/x", t, pki.s), "CLIENT_CERT_UNVERIFIED",
            t)
    c = good_claims()
    c["cnf"] = {"x5t#S256": pki.s.thumbprint}
    tb = keys.rsa.token(claims=c)
    refused(gw, get(gw, pki, "/both/x", tb, pki.s), "CLIENT_CERT_UNVERIFIED",
            tb)


def test_binding_and_identity(gw, keys, pki):
    c = good_claims()
    c["cnf"] = {"x5t#S256": pki.a.thumbprint}
    t = keys.rsa.token(claims=c)
    capif.assert_allowed(get(gw, pki, "/both/x", t, pki.a),
                         upstream=gw.upstream)
    # bound to the other invoker's certificate, presented with it
    c = good_claims()
    c["cnf"] = {"x5t#S256": pki.other.thumbprint}
    t = keys.rsa.token(claims=c)
    refused(gw, get(gw, pki, "/both/x", t, pki.other),
            "CERT_INVOKER_MISMATCH", t)


def test_off(gw, keys, pki):
    t = tok(keys)
    capif.assert_allowed(get(gw, pki, "/off/x", t, pki.other),
                         upstream=gw.upstream)

"""Configuration: what ``nginx -t`` refuses (with a message naming the
directive), and how directives inherit at run time."""

import time

import pytest
from cryptography.hazmat.primitives import serialization

import capif
from capif import good_claims


def loc(keys_conf, extra="", aef="aef-1", api="api-1", capif_arg="on"):
    return capif.location("/api-1/", keys_conf, aef=aef, api=api,
                          extra=extra, upstream_port=1, capif=capif_arg)


def refused(nginx_t, directive, server=None, **conf):
    rc, out = nginx_t(server, **conf)
    assert rc != 0, "nginx -t accepted the config:\n" + out
    assert "[emerg]" in out, out
    want = '"capif"' if directive == "capif" else directive
    assert want in out, (
        "message does not name %s:\n%s" % (directive, out))
    assert "-----BEGIN" not in out
    return out


def test_good_config_accepted(nginx_t, keys):
    rc, out = nginx_t(loc([keys.rsa.pub_path, keys.p256.cert_path,
                           keys.jwks_all,
                           keys.rsa_b.pub_path + " alg=PS256 kid=x"]))
    assert rc == 0, out


# ------------------------------------------------------------ key files

def test_missing_key_file(nginx_t, keys):
    refused(nginx_t, "capif_key_file", loc(["/nonexistent/ccf.pem"]))


@pytest.mark.parametrize("src", ["pub_path", "cert_path", "jwks_path"])
def test_rsa_1024_refused(nginx_t, keys, src):
    refused(nginx_t, "capif_key_file",
            loc([getattr(keys.rsa1024, src)]))


def test_rsa_1024_pinned_pss_refused(nginx_t, keys):
    refused(nginx_t, "capif_key_file",
            loc([keys.rsa1024.pub_path + " alg=PS256"]))


@pytest.mark.parametrize("attr,alg", [
    ("p256", "ES384"), ("p256", "ES512"), ("p384", "ES256"),
    ("p521", "ES384"), ("p256", "RS256"), ("rsa", "ES256"),
    ("rsa", "EdDSA"), ("ed25519", "ES256"), ("ed25519", "RS256"),
    ("p256", "EdDSA"), ("rsa", "PS")])
def test_key_alg_mismatch_refused(nginx_t, keys, attr, alg):
    refused(nginx_t, "capif_key_file",
            loc([getattr(keys, attr).pub_path + " alg=" + alg]))


def test_cert_curve_mismatch_refused(nginx_t, keys):
    refused(nginx_t, "capif_key_file",
            loc([keys.p256.cert_path + " alg=ES384"]))


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512", "none", "None",
                                 "NONE", "RSA-OAEP", ""])
def test_forbidden_alg_option(nginx_t, keys, alg):
    refused(nginx_t, "capif_key_file",
            loc([keys.rsa.pub_path + " alg=" + alg]))


@pytest.mark.parametrize("opt", ["foo=bar", "alg", "kid", "ALG=RS256",
                                 "alg=RS256=x"])
def test_unknown_option(nginx_t, keys, opt):
    refused(nginx_t, "capif_key_file", loc([keys.rsa.pub_path + " " + opt]))


def test_key_file_without_path(nginx_t, keys):
    refused(nginx_t, "capif_key_file", loc("capif_key_file;"))


@pytest.mark.parametrize("attr", ["rsa", "p256", "ed25519"])
def test_private_key_refused(nginx_t, keys, attr):
    refused(nginx_t, "capif_key_file", loc([getattr(keys, attr).priv_path]))


def test_traditional_rsa_private_key_refused(nginx_t, keys):
    pem = keys.rsa.private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption())
    refused(nginx_t, "capif_key_file", loc([keys.write("trad.pem", pem)]))


def test_private_key_with_public_key_in_one_file(nginx_t, keys):
    p = keys.write("both.pem", keys.rsa.pub_pem + keys.rsa.priv_pem)
    refused(nginx_t, "capif_key_file", loc([p]))


def test_jwks_oct_key_refused(nginx_t, keys):
    p = capif.write_jwks(keys.path("oct.jwks.json"), [
        {"kty": "oct", "k": capif.b64u(keys.rsa.pub_pem), "kid": "hs",
         "alg": "HS256"}])
    refused(nginx_t, "capif_key_file", loc([p]))


def test_jwks_oct_key_beside_rsa_refused(nginx_t, keys):
    p = capif.write_jwks(keys.path("oct2.jwks.json"), [
        keys.rsa.jwk(kid="r"), {"kty": "oct", "k": "c2VjcmV0", "kid": "hs"}])
    refused(nginx_t, "capif_key_file", loc([p]))


def test_jwks_private_jwk_refused(nginx_t, keys):
    jwk = keys.p256.jwk(kid="p")
    jwk["d"] = capif.b64u(keys.p256.private.private_numbers()
                          .private_value.to_bytes(32, "big"))
    p = capif.write_jwks(keys.path("priv.jwks.json"), [jwk])
    refused(nginx_t, "capif_key_file", loc([p]))


@pytest.mark.parametrize("alg", ["HS256", "none", "ES256"])
def test_jwks_bad_alg_member_refused(nginx_t, keys, alg):
    p = capif.write_jwks(keys.path("alg-%s.jwks.json" % alg),
                         [keys.rsa.jwk(kid="r", alg=alg)])
    refused(nginx_t, "capif_key_file", loc([p]))


def test_duplicate_kid_across_files(nginx_t, keys):
    refused(nginx_t, "capif_key_file",
            loc([keys.rsa.pub_path + " kid=k1", keys.p256.pub_path +
                 " kid=k1"]))


def test_duplicate_kid_across_jwks_files(nginx_t, keys):
    a = capif.write_jwks(keys.path("dupa.jwks.json"), [keys.rsa.jwk(kid="d")])
    b = capif.write_jwks(keys.path("dupb.jwks.json"),
                         [keys.p256.jwk(kid="d")])
    refused(nginx_t, "capif_key_file", loc([a, b]))


def test_duplicate_kid_inside_jwks(nginx_t, keys):
    p = capif.write_jwks(keys.path("dupin.jwks.json"),
                         [keys.rsa.jwk(kid="d"), keys.p256.jwk(kid="d")])
    refused(nginx_t, "capif_key_file", loc([p]))


def test_duplicate_kid_jwks_and_pem(nginx_t, keys):
    refused(nginx_t, "capif_key_file",
            loc([keys.jwks_all, keys.rsa_b.pub_path + " kid=rsa-1"]))


@pytest.mark.parametrize("content", [b"", b"garbage\n", b"{}",
                                     b'{"keys":"x"}', b"-----BEGIN PUBLIC "
                                     b"KEY-----\nAAAA\n-----END PUBLIC KEY"
                                     b"-----\n"])
def test_garbage_key_file_refused(nginx_t, keys, content):
    p = keys.write("garbage-%d.pem" % len(content), content)
    refused(nginx_t, "capif_key_file", loc([p]))


def test_jwks_rsa_1024_in_set_refused(nginx_t, keys):
    p = capif.write_jwks(keys.path("weak.jwks.json"),
                         [keys.rsa.jwk(kid="a"), keys.rsa1024.jwk(kid="b")])
    refused(nginx_t, "capif_key_file", loc([p]))


# ---------------------------------------------------------- other directives

@pytest.mark.parametrize("value", ["31s", "1m", "1h", "abc", "-1"])
def test_leeway_refused(nginx_t, keys, value):
    refused(nginx_t, "capif_leeway",
            loc([keys.rsa.pub_path], "capif_leeway %s;" % value))


@pytest.mark.parametrize("value", ["0", "30s", "10s", "30"])
def test_leeway_accepted(nginx_t, keys, value):
    rc, out = nginx_t(loc([keys.rsa.pub_path], "capif_leeway %s;" % value))
    assert rc == 0, out


@pytest.mark.parametrize("value", ["aud", "jti", "scope", "x", "iss,sub"])
def test_invoker_claim_refused(nginx_t, keys, value):
    refused(nginx_t, "capif_invoker_claim",
            loc([keys.rsa.pub_path], "capif_invoker_claim %s;" % value))


def test_capif_on_without_aef_id(nginx_t, keys):
    refused(nginx_t, "capif_aef_id", loc([keys.rsa.pub_path], aef=None))


def test_capif_on_without_api_name(nginx_t, keys):
    refused(nginx_t, "capif_api_name", loc([keys.rsa.pub_path], api=None))


def test_capif_on_without_key_file(nginx_t, keys):
    refused(nginx_t, "capif_key_file", loc(""))


@pytest.mark.parametrize("arg", ["maybe", "1", "yes", "ON1"])
def test_capif_garbage_arg(nginx_t, keys, arg):
    refused(nginx_t, "capif", loc([keys.rsa.pub_path], capif_arg=arg))


def test_capif_off_needs_nothing(nginx_t):
    rc, out = nginx_t(loc("", aef=None, api=None, capif_arg="off"))
    assert rc == 0, out


# ------------------------------------------------------------ inheritance

@pytest.fixture(scope="module")
def gw(module_nginx, upstream, keys):
    up = upstream.port
    http = """
        capif_key_file %s;
        capif_aef_id aef-1;
        capif_api_name api-1;
        capif_leeway 10s;
        capif_realm "http-realm";
        capif_invoker_claim sub;
    """ % keys.rsa.pub_path
    server = """
        capif_token_type access;
        location /inh/ {
            capif on;
            proxy_set_header X-Capif-Invoker-Id $capif_invoker_id;
            proxy_pass http://127.0.0.1:%(up)d;
        }
        location /repl/ {
            capif on;
            capif_key_file %(p256)s;
            proxy_set_header X-Capif-Invoker-Id $capif_invoker_id;
            proxy_pass http://127.0.0.1:%(up)d;
        }
        location /api-2/ {
            capif on;
            capif_api_name api-2;
            capif_invoker_claim iss;
            capif_realm other;
            proxy_set_header X-Capif-Invoker-Id $capif_invoker_id;
            proxy_pass http://127.0.0.1:%(up)d;
        }
    """ % {"up": up, "p256": keys.p256.pub_path}
    n = module_nginx(http=http, server=server, worker_processes=2)
    return capif.Gateway(n, upstream, keys)


def test_inherited_keys_ids_leeway_claim(gw, keys):
    t = keys.rsa.token(claims=good_claims(sub="SUB-1",
                                          exp=int(time.time()) - 5))
    gw.allowed("/inh/", t, invoker="SUB-1")


def test_inherited_realm(gw):
    gw.refused("/inh/", None, 401, "TOKEN_MISSING", realm="http-realm")


def test_inherited_token_type(gw, keys):
    t = keys.rsa.token(claims=good_claims(type="refresh"))
    gw.refused("/inh/", t, 401, "TOKEN_TYPE_MISMATCH", realm="http-realm")


def test_key_file_replaces_inherited(gw, keys):
    gw.refused("/repl/", keys.rsa.token(), 401, "ALG_NOT_CONFIGURED",
               realm="http-realm")
    gw.allowed("/repl/", keys.p256.token(), invoker=capif.INVOKER)


def test_location_overrides(gw, keys):
    t = keys.rsa.token(claims=good_claims(iss="ISS-2", sub="SUB-2"))
    gw.refused("/api-2/", t, 403, "SCOPE_API_NOT_GRANTED", realm="other")
    t = keys.rsa.token(claims=good_claims(iss="ISS-2", sub="SUB-2",
                                          scope="3gpp#aef-1:api-2"))
    gw.allowed("/api-2/", t, invoker="ISS-2")


def test_two_workers_many_requests(gw, keys):
    """worker_processes 2: keys parsed at start-up serve every worker."""
    for i in range(20):
        gw.allowed("/inh/", keys.rsa.token(claims=good_claims(sub="S%d" % i)),
                   invoker="S%d" % i)


def test_reload_keeps_working(nginx, upstream, keys):
    n = nginx(server=loc([keys.rsa.pub_path]).replace(
        "127.0.0.1:1;", "127.0.0.1:%d;" % upstream.port))
    g = capif.Gateway(n, upstream, keys)
    g.allowed("/api-1/", keys.rsa.token())
    n.reload()
    g.allowed("/api-1/", keys.rsa.token())
    g.refused("/api-1/", keys.evil_rsa.token(), 401, "SIGNATURE_INVALID")



def test_server_level_capif_on(nginx, upstream, keys):
    """capif on at server level protects every location below it; capif
    off in one location opens only that one."""
    up = upstream.port
    n = nginx(server="""
        capif on;
        capif_key_file %s;
        capif_aef_id aef-1;
        capif_api_name api-1;
        proxy_set_header X-Capif-Invoker-Id $capif_invoker_id;
        location / { proxy_pass http://127.0.0.1:%d; }
        location /health/ { capif off; proxy_pass http://127.0.0.1:%d; }
    """ % (keys.rsa.pub_path, up, up))
    g = capif.Gateway(n, upstream, keys)
    g.refused("/anything", None, 401, "TOKEN_MISSING")
    g.allowed("/anything", keys.rsa.token())
    r = g.get("/health/")
    assert r.status == 200 and r.header("WWW-Authenticate") is None
    assert r.upstream_header("X-Capif-Invoker-Id") == []

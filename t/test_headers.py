"""Where the token comes from (RFC 6750 section 2.1 only), header edge
cases, the challenge and realm, capif off, and what reaches the AEF."""

import time
import uuid

import pytest

import capif
from capif import good_claims


@pytest.fixture(scope="module")
def gw(module_nginx, upstream, keys):
    up = upstream.port
    k = [keys.rsa.pub_path]
    server = "".join([
        capif.location("/api-1/", k, upstream_port=up),
        capif.location("/realm/", k, extra='capif_realm "aef zone";',
                       upstream_port=up),
        capif.location("/realm2/", k, extra="capif_realm my-realm;",
                       upstream_port=up),
        capif.location("/outer/", k, upstream_port=up, extra="""
            location /outer/open/ {
                capif off;
                proxy_set_header X-Capif-Invoker-Id $capif_invoker_id;
                proxy_pass http://127.0.0.1:%d;
            }
            location /outer/closed/ {
                proxy_set_header X-Capif-Invoker-Id $capif_invoker_id;
                proxy_pass http://127.0.0.1:%d;
            }""" % (up, up)),
        """
        location /open/ {
            proxy_set_header X-Capif-Invoker-Id $capif_invoker_id;
            proxy_set_header X-Capif-Scope $capif_scope;
            proxy_pass http://127.0.0.1:%d;
        }
        """ % up,
    ])
    return capif.Gateway(module_nginx(server=server), upstream, keys)


@pytest.fixture
def token(keys):
    return keys.rsa.token()


def raw(gw, path, lines):
    """Raw request; returns the response with test_id set for the
    upstream check."""
    tid = uuid.uuid4().hex
    r = gw.nginx.raw(capif.raw_get(path, lines, test_id=tid))
    r.test_id = tid
    return r


def refused_raw(gw, path, lines, status, cause, token=None, realm="capif"):
    r = raw(gw, path, lines)
    capif.assert_refused(r, status, cause, realm=realm, token=token,
                         upstream=gw.upstream)
    return r


def allowed_raw(gw, path, lines):
    r = raw(gw, path, lines)
    capif.assert_allowed(r, upstream=gw.upstream)
    return r


# ------------------------------------------------------------ no token

def test_no_authorization(gw):
    r = gw.refused("/api-1/", None, 401, "TOKEN_MISSING")
    assert r.header("WWW-Authenticate") == 'Bearer realm="capif"'
    assert "error=" not in r.header("WWW-Authenticate")


@pytest.mark.parametrize("value", [
    "Basic dXNlcjpwYXNz", "Digest username=\"x\"", "Token abc",
    "JWT {tok}", "Bearerx {tok}", "Beare {tok}", "Bearer-{tok}", "{tok}",
    "OAuth {tok}"])
def test_other_scheme(gw, token, value):
    gw.refused("/api-1/", None, 401, "TOKEN_MISSING",
               headers=[("Authorization", value.format(tok=token))])


def test_token_in_query_not_read(gw, token):
    gw.refused("/api-1/?access_token=" + token, None, 401, "TOKEN_MISSING")


def test_token_in_cookie_not_read(gw, token):
    gw.refused("/api-1/", None, 401, "TOKEN_MISSING",
               headers=[("Cookie", "access_token=" + token),
                        ("Cookie", "token=%s; jwt=%s" % (token, token))])


def test_token_in_form_body_not_read(gw, token):
    r = gw.nginx.request(
        "POST", "/api-1/", [("Content-Type",
                             "application/x-www-form-urlencoded")],
        "access_token=" + token)
    capif.assert_refused(r, 401, "TOKEN_MISSING", token=token,
                         upstream=gw.upstream)


def test_token_in_other_header_not_read(gw, token):
    gw.refused("/api-1/", None, 401, "TOKEN_MISSING",
               headers=[("X-Authorization", "Bearer " + token),
                        ("Proxy-Authorization", "Bearer " + token)])


# ---------------------------------------------------------- scheme name

@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_scheme_case_insensitive(gw, token, scheme):
    gw.allowed("/api-1/", None,
               headers=[("Authorization", "%s %s" % (scheme, token))])


def test_header_name_case_insensitive(gw, token):
    allowed_raw(gw, "/api-1/", ["authorization: Bearer " + token])
    allowed_raw(gw, "/api-1/", ["AUTHORIZATION: Bearer " + token])


# --------------------------------------------------------------- spacing

@pytest.mark.parametrize("spaces", [2, 5])
def test_several_spaces_after_scheme(gw, token, spaces):
    allowed_raw(gw, "/api-1/", ["Authorization: Bearer%s%s"
                                % (" " * spaces, token)])


def test_trailing_whitespace_after_token(gw, token):
    """nginx strips trailing spaces from header values (not tabs)."""
    allowed_raw(gw, "/api-1/", ["Authorization: Bearer %s   " % token])


def test_leading_whitespace_before_scheme(gw, token):
    allowed_raw(gw, "/api-1/", ["Authorization:    Bearer %s" % token])


def test_text_after_token(gw, token):
    refused_raw(gw, "/api-1/", ["Authorization: Bearer %s x" % token], 401,
                "TOKEN_MALFORMED", token=token)
    refused_raw(gw, "/api-1/", ["Authorization: Bearer %s, %s"
                                % (token, token)], 401, "TOKEN_MALFORMED",
                token=token)


# ----------------------------------------------------------- empty bearer

@pytest.mark.parametrize("line", ["Authorization: Bearer",
                                  "Authorization: Bearer ",
                                  "Authorization: Bearer     ",
                                  "Authorization: bearer"])
def test_bearer_empty(gw, line):
    refused_raw(gw, "/api-1/", [line], 400, "BEARER_EMPTY")


# ----------------------------------------------------- duplicate headers

def test_two_authorization_headers(gw, token):
    refused_raw(gw, "/api-1/", ["Authorization: Bearer " + token,
                                "Authorization: Bearer " + token],
                400, "AUTHORIZATION_DUPLICATED", token=token)


def test_two_authorization_headers_different_case(gw, token, keys):
    other = keys.rsa.token()
    refused_raw(gw, "/api-1/", ["Authorization: Bearer " + token,
                                "authorization: Bearer " + other],
                400, "AUTHORIZATION_DUPLICATED", token=token)


def test_two_authorization_headers_bearer_and_basic(gw, token):
    refused_raw(gw, "/api-1/", ["Authorization: Basic dXNlcjpwYXNz",
                                "Authorization: Bearer " + token],
                400, "AUTHORIZATION_DUPLICATED", token=token)
    refused_raw(gw, "/api-1/", ["Authorization: Bearer " + token,
                                "Authorization: Basic dXNlcjpwYXNz"],
                400, "AUTHORIZATION_DUPLICATED", token=token)


def test_two_authorization_headers_one_empty(gw, token):
    refused_raw(gw, "/api-1/", ["Authorization: Bearer " + token,
                                "Authorization:"],
                400, "AUTHORIZATION_DUPLICATED", token=token)


def test_duplicate_via_http_client(gw, token):
    gw.refused("/api-1/", None, 400, "AUTHORIZATION_DUPLICATED",
               headers=[("Authorization", "Bearer " + token)] * 3)


# ------------------------------------------------------------------ realm

def test_custom_realm_missing_token(gw):
    gw.refused("/realm/", None, 401, "TOKEN_MISSING", realm="aef zone")
    gw.refused("/realm2/", None, 401, "TOKEN_MISSING", realm="my-realm")


def test_custom_realm_invalid_token(gw, keys):
    gw.refused("/realm/", keys.evil_rsa.token(), 401, "SIGNATURE_INVALID",
               realm="aef zone")


def test_custom_realm_invalid_request(gw):
    refused_raw(gw, "/realm/", ["Authorization: Bearer"], 400,
                "BEARER_EMPTY", realm="aef zone")


# -------------------------------------------------------------- capif off

def test_capif_off_nested_location(gw):
    r = gw.get("/outer/open/x")
    assert r.status == 200 and r.header("WWW-Authenticate") is None
    assert r.upstream_header("X-Capif-Invoker-Id") == []
    assert r.json()["path"] == "/outer/open/x"


def test_capif_inherited_by_nested_location(gw, token):
    gw.refused("/outer/closed/", None, 401, "TOKEN_MISSING")
    gw.allowed("/outer/closed/", token)


def test_unprotected_location_variables_empty(gw, token):
    """Without capif the variables stay empty even with a good token."""
    r = gw.get("/open/", token)
    assert r.status == 200 and r.header("WWW-Authenticate") is None
    assert r.upstream_header("X-Capif-Invoker-Id") == []
    assert r.upstream_header("X-Capif-Scope") == []


# ---------------------------------------------------- what reaches the AEF

def test_allowed_request_forwarded(gw, token):
    r = gw.allowed("/api-1/some/path?x=1", token, scope=capif.SCOPE)
    echo = r.json()
    assert echo["method"] == "GET" and echo["path"] == "/api-1/some/path?x=1"


def test_post_body_forwarded(gw, token):
    r = gw.nginx.request("POST", "/api-1/items",
                         [("Authorization", "Bearer " + token),
                          ("Content-Type", "application/json")],
                         '{"a":1}')
    capif.assert_allowed(r, upstream=gw.upstream)
    assert r.json()["body"] == '{"a":1}' and r.json()["method"] == "POST"


def test_post_without_token_not_forwarded(gw):
    r = gw.nginx.request("POST", "/api-1/items", [], '{"a":1}')
    capif.assert_refused(r, 401, "TOKEN_MISSING", upstream=gw.upstream)


def test_spoofed_invoker_header_duplicates(gw, token):
    r = gw.allowed("/api-1/", token, headers=[
        ("X-Capif-Invoker-Id", "INV-EVIL"), ("X-Capif-Invoker-Id", "X"),
        ("X-Capif-Scope", "3gpp#aef-9:api-9")], scope=capif.SCOPE)
    assert "INV-EVIL" not in r.body.decode()


def test_spoofed_invoker_header_on_refusal(gw):
    gw.refused("/api-1/", None, 401, "TOKEN_MISSING",
               headers=[("X-Capif-Invoker-Id", "INV-1234")])


# ------------------------------------------------------------------ logs

def test_refusal_logged_at_info_without_token(gw, keys):
    before = gw.nginx.log_size()
    t = keys.evil_rsa.token()
    gw.refused("/api-1/", t, 401, "SIGNATURE_INVALID")
    deadline = time.monotonic() + 2
    log = ""
    while time.monotonic() < deadline:
        log = gw.nginx.error_log(before)
        if "SIGNATURE_INVALID" in log:
            break
        time.sleep(0.05)
    lines = [ln for ln in log.splitlines() if "SIGNATURE_INVALID" in ln]
    assert lines and all("[info]" in ln for ln in lines), log
    assert t not in log
    for seg in t.split("."):
        assert seg not in log


def test_token_never_in_error_log(gw, keys):
    before = gw.nginx.log_size()
    toks = [keys.rsa.token(claims=good_claims(scope="3gpp#aef-9:x")),
            keys.rsa.token(claims=good_claims(exp=1)),
            keys.rsa.token()[:-4] + "AAAA"]
    for t in toks:
        r = gw.get("/api-1/", t)
        assert r.status in (401, 403)
    time.sleep(0.1)
    log = gw.nginx.error_log(before)
    for t in toks:
        assert t not in log
        assert t.split(".")[2] not in log

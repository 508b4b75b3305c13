"""Decision logs through nginx's own log module: the README's
``log_format capif escape=json`` (read from README.md itself) gives one
JSON object per call, with the decision variables, for allowed and
refused calls, after an internal redirect (error_page) and for a client
trying to inject JSON through a header it controls."""

import json
import os
import re
import time

import pytest

import capif
from capif import good_claims

README = os.path.join(capif.REPO, "README.md")


def readme_log_format():
    text = open(README).read()
    m = re.search(r"^(log_format capif escape=json\n(?:    '.*'\n)*"
                  r"    '.*';)$", text, re.M)
    assert m, "README has no log_format capif escape=json block"
    return m.group(1)


@pytest.fixture(scope="module")
def gw(module_nginx, upstream, keys):
    dead = capif.free_port()          # nothing listens: 502
    http = readme_log_format() + """
    access_log logs/capif.log capif;
"""
    server = "".join([
        capif.location("/api-1/", [keys.rsa.pub_path],
                       upstream_port=upstream.port),
        capif.location("/broken/", [keys.rsa.pub_path],
                       upstream_port=dead,
                       extra="error_page 502 /fallback;"),
        """
        location = /fallback { internal; return 200 "fallback\\n"; }
        location = /mirror {
            internal;
            proxy_set_header X-Capif-Invoker-Id $capif_invoker_id;
            proxy_set_header X-Decision "$capif_decision $capif_status";
            proxy_set_header X-Mirrored yes;
            proxy_pass http://127.0.0.1:%(up)d$request_uri;
        }
        location /open/ { proxy_pass http://127.0.0.1:%(up)d; }
""" % {"up": upstream.port},
        capif.location("/mirrored/", [keys.rsa.pub_path],
                       upstream_port=upstream.port, extra="mirror /mirror;"),
    ])
    n = module_nginx(server=server, http=http)
    n.expect_log("connect() failed")
    return capif.Gateway(n, upstream, keys)


def log_lines(gw, since=0):
    """The log's lines from line since on, each parsed as JSON; waits (up
    to 5 s) for at least one: nginx logs a call after it answered it."""
    path = os.path.join(gw.nginx.prefix, "logs", "capif.log")
    for _ in range(100):
        if os.path.exists(path):
            with open(path, "rb") as f:
                lines = f.read().splitlines()[since:]
            if lines and lines[-1].endswith(b"}"):
                return [json.loads(line) for line in lines]
        time.sleep(0.05)
    return []


def entry(gw, path, since):
    lines = log_lines(gw, since)
    found = [e for e in lines if e["request"] == "GET " + path]
    assert len(found) == 1, lines
    return found[0]


def count(gw):
    path = os.path.join(gw.nginx.prefix, "logs", "capif.log")
    if not os.path.exists(path):
        return 0
    with open(path, "rb") as f:
        return len(f.read().splitlines())


FIELDS = {"time", "client", "request", "status", "invoker", "aef", "api",
          "owner", "group", "purpose", "decision", "cause", "capif_status"}


def test_allowed_call(gw, keys):
    n = count(gw)
    gw.allowed("/api-1/allowed", keys.rsa.token())
    e = entry(gw, "/api-1/allowed", n)
    assert set(e) == FIELDS
    assert e["decision"] == "allowed"
    assert e["cause"] == ""
    assert e["capif_status"] == "200"
    assert e["status"] == 200
    assert e["invoker"] == capif.INVOKER
    assert (e["aef"], e["api"]) == (capif.AEF_ID, capif.API_NAME)
    assert e["client"] == "127.0.0.1"
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$",
                    e["time"]), e


def test_refused_without_token(gw):
    n = count(gw)
    gw.refused("/api-1/none", None, 401, "TOKEN_MISSING")
    e = entry(gw, "/api-1/none", n)
    assert (e["decision"], e["cause"], e["capif_status"], e["status"]) == (
        "refused", "TOKEN_MISSING", "401", 401)
    assert e["invoker"] == ""
    assert e["aef"] == capif.AEF_ID


def test_refused_expired(gw, keys):
    n = count(gw)
    tok = keys.rsa.token(claims=good_claims(exp=int(time.time()) - 600))
    gw.refused("/api-1/expired", tok, 401, "TOKEN_EXPIRED")
    e = entry(gw, "/api-1/expired", n)
    assert (e["decision"], e["cause"], e["capif_status"]) == (
        "refused", "TOKEN_EXPIRED", "401")
    # the token did not verify: its invoker is not believed
    assert e["invoker"] == ""


def test_refused_scope_names_verified_invoker(gw, keys):
    n = count(gw)
    tok = keys.rsa.token(claims=good_claims(scope="3gpp#aef-1:api-2"))
    gw.refused("/api-1/scope", tok, 403, "SCOPE_API_NOT_GRANTED")
    e = entry(gw, "/api-1/scope", n)
    assert (e["decision"], e["cause"], e["capif_status"], e["status"]) == (
        "refused", "SCOPE_API_NOT_GRANTED", "403", 403)
    assert e["invoker"] == capif.INVOKER


def test_duplicate_authorization(gw, keys):
    n = count(gw)
    tok = keys.rsa.token()
    r = gw.get("/api-1/dup", None, headers=[("Authorization", "Bearer " + tok),
                                             ("Authorization", "Bearer x")])
    assert r.status == 400
    lines = log_lines(gw, n)
    assert len(lines) == 1, lines
    e = lines[0]
    assert (e["decision"], e["cause"], e["capif_status"]) == (
        "refused", "AUTHORIZATION_DUPLICATED", "400")


def test_allowed_then_error_page_keeps_decision(gw, keys):
    n = count(gw)
    r = gw.get("/broken/x", keys.rsa.token(
        claims=good_claims(scope="3gpp#aef-1:api-1")))
    assert r.status == 502 and r.body == b"fallback\n", r
    e = entry(gw, "/fallback", n)
    assert (e["decision"], e["cause"], e["capif_status"], e["status"]) == (
        "allowed", "", "200", 502)
    assert e["invoker"] == capif.INVOKER


def test_unprotected_location_has_no_decision(gw):
    n = count(gw)
    r = gw.get("/open/x")
    assert r.status == 200
    e = entry(gw, "/open/x", n)
    assert (e["decision"], e["cause"], e["capif_status"], e["invoker"]) == (
        "", "", "", "")


def test_hostile_values_stay_inside_their_strings(gw, keys):
    n = count(gw)
    evil = 'INV"},"decision":"allowed\\\n'
    tok = keys.rsa.token(claims=good_claims(
        iss=evil, scope="3gpp#aef-1:api-9"))
    r = gw.get('/api-1/q"x', tok)
    assert r.status in (401, 403)
    lines = log_lines(gw, n)
    assert len(lines) == 1, lines
    assert lines[0]["decision"] == "refused"


def test_subrequest_sees_decision_not_identity(gw, keys, upstream):
    """A subrequest (mirror) may go elsewhere: it gets the decision
    variables of its main request, never the invoker's identity."""
    r = gw.allowed("/mirrored/x", keys.rsa.token())
    seen = []
    for _ in range(100):
        seen = [rec for rec in list(upstream.requests)
                if ["X-Test-Id", r.test_id] in rec["headers"]
                and ["X-Mirrored", "yes"] in rec["headers"]]
        if seen:
            break
        time.sleep(0.05)
    assert len(seen) == 1, seen
    hdrs = dict(seen[0]["headers"])
    assert hdrs.get("X-Decision") == "allowed 200", hdrs
    assert "X-Capif-Invoker-Id" not in hdrs, hdrs

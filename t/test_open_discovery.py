"""Key issue 2, open discovery: the guard in front of the CCF's
CAPIF_Open_Discover_Service_API (README, "Key issue 2").

A real HTTPS stand-in CCF (t/ccf_discovery.py) serves OpenDiscoveryResp
bodies full of what a CCF might leak; nginx, listening with TLS, proxies
to it with proxy_ssl_verify on.  Each tier's view is checked member by
member, every refused query is checked not to have reached the CCF, and
every faulty CCF answer is checked to become a 502 ProblemDetails.
"""

import copy
import http.client
import json
import os
import ssl
import uuid

import pytest

import capif
import ccf_discovery
from ccf_discovery import LEAKY

PATH = "/open-api-disc/v1/service-apis"
SCOPE = "3gpp#aef-1:api-1 open-discovery"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return ccf_discovery.Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def ccf(pki):
    c = ccf_discovery.Ccf(pki.ccf_crt, pki.ccf_key).start()
    yield c
    c.stop()


@pytest.fixture(scope="module")
def rogue(pki):
    c = ccf_discovery.Ccf(pki.rogue_crt, pki.rogue_key).start()
    yield c
    c.stop()


def apis_file(directory):
    p = os.path.join(str(directory), "apis.json")
    with open(p, "w") as f:
        json.dump({"apiNames": ["api-pub"], "apiIds": ["id-byid"]}, f)
    return p


def upstream_conf(pki, port, uri=""):
    return """
            proxy_pass https://127.0.0.1:%d%s;
            proxy_http_version 1.1;
            proxy_set_header Accept-Encoding "";
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate %s;
            proxy_ssl_name %s;
            proxy_max_temp_file_size 0;
""" % (port, uri, pki.ca, ccf_discovery.CCF_NAME)


def gateway_block(pki, keys, ccf_port, rogue_port, apis):
    up = upstream_conf(pki, ccf_port)
    up_uri = upstream_conf(pki, ccf_port, PATH)
    return """
    limit_req_zone $binary_remote_addr zone=disc:1m rate=1r/m;
    limit_conn_zone $binary_remote_addr zone=conn:1m;

    server {
        listen 127.0.0.1:@PORT@ ssl;
        ssl_certificate %(gw_crt)s;
        ssl_certificate_key %(gw_key)s;
        ssl_client_certificate %(ca)s;
        ssl_verify_client optional;

        capif_open_discovery_apis %(apis)s;

        location = %(path)s {
            capif_open_discovery on;
            capif_key_file %(key)s;
            add_header X-Tier $capif_discovery_tier always;
            %(up)s
        }

        location = /custom%(path)s {
            capif_open_discovery on;
            capif_key_file %(key)s;
            capif_open_discovery_fields anonymous discApis.apiName
                discApis.aefProfiles.aefId;
            capif_open_discovery_fields authorized none;
            capif_open_discovery_scope discovery-gold;
            %(up_uri)s
        }

        location = /rogue%(path)s {
            capif_open_discovery on;
            proxy_pass https://127.0.0.1:%(rogue)d%(path)s;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate %(ca)s;
            proxy_ssl_name %(name)s;
        }

        location = /limited%(path)s {
            capif_open_discovery on;
            limit_req zone=disc burst=1 nodelay;
            limit_conn conn 4;
            limit_req_status 429;
            limit_conn_status 429;
            error_page 429 = @too_many;
            %(up_uri)s
        }

        location = /internal-leak {
            internal;
            # not the guard's location: its settings must not apply
            capif_open_discovery_fields anonymous discApis;
            default_type application/json;
            return 200 '%(leak)s';
        }

        location @too_many {
            default_type application/problem+json;
            add_header Cache-Control no-store always;
            return 429 '%(too_many)s';
        }
    }
""" % {"gw_crt": pki.gw_crt, "gw_key": pki.gw_key, "ca": pki.ca,
       "key": keys.rsa.pub_path, "apis": apis, "path": PATH, "up": up,
       "up_uri": up_uri, "rogue": rogue_port,
       "name": ccf_discovery.CCF_NAME, "leak": LEAK, "too_many": TOO_MANY}


#: what an internal location answers in place of the CCF
LEAK = json.dumps({"discApis": [
    {"apiName": "api-pub", "apiProvName": "Z", "interfaceDescriptions": [
        {"ipv4Addr": "10.11.12.13", "port": 8443}]},
    {"apiName": "api-secret"}], "ccfVersion": "x"}, separators=(",", ":"))

#: the README's 429 body
TOO_MANY = ('{"status":429,"title":"Too Many Requests",'
            '"cause":"TOO_MANY_REQUESTS"}')


@pytest.fixture(scope="module")
def gw(module_nginx, pki, keys, ccf, rogue, tmp_path_factory):
    apis = apis_file(tmp_path_factory.mktemp("apis"))
    n = module_nginx(server_block=gateway_block(pki, keys, ccf.port,
                                                rogue.port, apis))
    # provoked on purpose by the fault tests
    n.expect_log("upstream prematurely closed")
    return n


def get(gw, path=PATH, token=None, cert=None, method="GET", headers=(),
        mode=None, body=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if cert is not None:
        ctx.load_cert_chain(*cert)
    conn = http.client.HTTPSConnection("127.0.0.1", gw.port, timeout=10,
                                       context=ctx)
    tid = uuid.uuid4().hex
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        conn.putheader("X-Test-Id", tid)
        if token is not None:
            conn.putheader("Authorization", "Bearer " + token)
        if mode is not None:
            conn.putheader("X-Ccf-Mode", mode)
        for k, v in headers:
            conn.putheader(k, v)
        conn.endheaders(body)
        r = conn.getresponse()
        return capif.Response(r.status, list(r.getheaders()), r.read(), tid)
    finally:
        conn.close()


def token(keys, scope=SCOPE, **claims):
    return keys.rsa.token(claims=capif.good_claims(scope=scope, **claims))


ANONYMOUS_VIEW = {"discApis": [
    {"apiName": "api-pub", "apiId": "id-pub", "description": "public API",
     "serviceAPICategory": "location"},
    {"apiName": "api-byid", "apiId": "id-byid",
     "description": "revealed by its id", "serviceAPICategory": "qos"},
]}

AUTHORIZED_VIEW = {"discApis": [
    {"apiName": "api-pub", "apiId": "id-pub",
     "apiStatus": {"aefIds": ["aef-1"]},
     "description": "public API", "serviceAPICategory": "location",
     "apiSuppFeats": "0F", "apiProvName": "Operator A",
     "aefProfiles": [{
         "aefId": "aef-1",
         "versions": [{
             "apiVersion": "v1", "expiry": "2030-01-01T00:00:00Z",
             "resources": [{"resourceName": "subs",
                            "commType": "REQUEST_RESPONSE",
                            "uri": "/subscriptions",
                            "operations": ["GET", "POST"]}],
             "custOperations": [{"custOpName": "op",
                                 "commType": "REQUEST_RESPONSE"}],
         }],
         "protocol": "HTTP_2", "dataFormat": "JSON",
         "aefLocation": {"dcId": "dc-7"},
         "serviceKpis": {"maxReqRate": 100, "availability": 99,
                         "avalMem": "16GB"},
     }]},
    {"apiName": "api-byid", "apiId": "id-byid",
     "description": "revealed by its id", "serviceAPICategory": "qos"},
], "suppFeat": "1"}

#: strings of LEAKY that no tier may ever see
NEVER = ["interfaceDescriptions", "ipv4Addr", "10.11.12.13", "10.0.0.9",
         "8443", "9090", "securityMethods", "domainName", "aef-internal",
         "vendorSpecific", "internal", "api-secret", "id-secret",
         "backendHost", "db.internal", "debug", "rack", "secretKpi",
         "ccfVersion", "OpenCAPIF", "internalNotes"]


def assert_view(resp, expected, tier):
    assert resp.status == 200, resp
    assert resp.header("Content-Type") == "application/json"
    assert resp.header("Cache-Control") == "no-store"
    assert int(resp.header("Content-Length")) == len(resp.body)
    assert resp.header("Content-Encoding") is None
    assert resp.header("X-Ccf-Internal") is None
    assert resp.header("Set-Cookie") is None
    if tier:
        assert resp.header("X-Tier") == tier
    assert resp.json() == expected
    text = resp.body.decode()
    for s in NEVER:
        assert s not in text, s


def assert_problem(resp, status, cause):
    assert resp.status == status, resp
    assert resp.header("Content-Type") == "application/problem+json"
    assert resp.header("Cache-Control") == "no-store"
    body = resp.json()
    assert body["status"] == status
    assert body["cause"] == cause
    return body


# ----------------------------------------------------------------- tiers


def test_anonymous_view_member_by_member(gw, ccf):
    r = get(gw)
    assert_view(r, ANONYMOUS_VIEW, "anonymous")
    assert len(ccf.seen(r.test_id)) == 1


def test_authorized_token_view_member_by_member(gw, keys, ccf):
    r = get(gw, token=token(keys))
    assert_view(r, AUTHORIZED_VIEW, "authorized")
    # every member the schema defines of LEAKY's api-pub is there
    assert r.json()["discApis"][0]["aefProfiles"][0]["versions"]


def test_authorized_client_certificate_view(gw, pki):
    before = gw.log_size()
    r = get(gw, cert=(pki.client_crt, pki.client_key))
    assert_view(r, AUTHORIZED_VIEW, "authorized")
    assert 'invoker "CN=requestor-1"' in gw.error_log(before)


def test_certificate_of_another_ca_is_refused(gw, pki, ccf):
    # with ssl_verify_client optional nginx itself refuses a certificate
    # it cannot verify: neither tier, and nothing reaches the CCF
    r = get(gw, cert=(pki.rogue_crt, pki.rogue_key))
    assert r.status == 400, r
    assert b"api-pub" not in r.body
    assert ccf.seen(r.test_id) == []


def test_configured_fields_per_tier(gw, keys):
    r = get(gw, path="/custom" + PATH)
    assert_view(r, {"discApis": [
        {"apiName": "api-pub", "aefProfiles": [{"aefId": "aef-1"}]},
        {"apiName": "api-byid"}]}, None)

    # "none": an authorized requestor of this location sees no API
    r = get(gw, path="/custom" + PATH,
            token=token(keys, scope="discovery-gold"))
    assert_view(r, {"discApis": []}, None)

    # the configured scope entry, not the default one, authorizes here
    r = get(gw, path="/custom" + PATH, token=token(keys))
    assert_problem(r, 403, "OPEN_DISCOVERY_SCOPE_MISSING")


def test_discovery_logged_at_info(gw, keys):
    before = gw.log_size()
    get(gw, path=PATH + "?api-names=api-pub", token=token(keys))
    log = gw.error_log(before)
    assert "open discovery tier authorized" in log
    assert 'invoker "%s"' % capif.INVOKER in log
    assert 'query "api-names=api-pub"' in log


# ------------------------------------------------------ tokens, never anon


@pytest.mark.parametrize("case,status,cause", [
    ("forged", 401, "SIGNATURE_INVALID"),
    ("expired", 401, "TOKEN_EXPIRED"),
    ("garbage", 401, "TOKEN_MALFORMED"),
    ("basic", 401, "TOKEN_SCHEME"),
    ("empty", 400, "BEARER_EMPTY"),
    ("nokeys", 401, "TOKEN_UNVERIFIABLE"),
])
def test_invalid_token_is_refused_never_anonymous(gw, keys, ccf, case,
                                                  status, cause):
    path = PATH
    good = token(keys)
    hdrs = {
        "forged": "Bearer " + keys.evil_rsa.token(
            claims=capif.good_claims(scope=SCOPE)),
        "expired": "Bearer " + token(keys, exp=1000000000, iat=999999000,
                                     nbf=999999000),
        "garbage": "Bearer a.b.c",
        "basic": "Basic dXNlcjpwYXNz",
        "empty": "Bearer  ",
        "nokeys": "Bearer " + good,
    }[case]
    if case == "nokeys":
        path = "/rogue" + PATH      # a location without capif_key_file
    r = get(gw, path=path, headers=[("Authorization", hdrs)])
    assert_problem(r, status, cause)
    assert r.header("WWW-Authenticate").startswith('Bearer realm="capif"')
    assert r.header("X-Tier") is None
    assert ccf.seen(r.test_id) == []
    assert b"api-pub" not in r.body


def test_valid_token_without_the_scope_entry_is_refused(gw, keys, ccf):
    for scope in ["3gpp#aef-1:api-1", "open-discoveryx",
                  "3gpp#aef-1:open-discovery"]:
        r = get(gw, token=token(keys, scope=scope))
        body = assert_problem(r, 403, "OPEN_DISCOVERY_SCOPE_MISSING")
        assert "insufficient_scope" in r.header("WWW-Authenticate")
        assert ccf.seen(r.test_id) == []
        assert "discApis" not in body


# --------------------------------------------------------------- queries


GOOD_QUERY = ("api-names=api-pub,api-x&api-versions=%7B%22api-pub%22%3A%5B"
              "%22v1%22%5D%7D&comm-type=REQUEST_RESPONSE&protocols=HTTP_2"
              "&data-format=JSON&api-cats=location&preferred-aef-loc=%7B"
              "%22dcId%22%3A%22dc-7%22%7D&api-prov-names=Operator+A"
              "&api-supported-features=%7B%22api-pub%22%3A%220F%22%7D"
              "&api-ids=id-pub&service-kpis=%7B%22maxReqRate%22%3A10%7D"
              "&res-ops=%5B%7B%22resource%22%3A%22%2Fsubs%22%7D%5D"
              "&supported-features=0")


def test_every_parameter_passes_unchanged(gw, ccf):
    r = get(gw, path=PATH + "?" + GOOD_QUERY)
    assert_view(r, ANONYMOUS_VIEW, "anonymous")
    seen = ccf.seen(r.test_id)
    assert [s["path"] for s in seen] == [PATH + "?" + GOOD_QUERY]


BAD_QUERIES = [
    ("foo=1", "foo"),
    ("api-names=a&api-names=b", "api-names"),
    ("api-names", "api-names"),
    ("api-names=", "api-names"),
    ("api-names=a,,b", "api-names"),
    ("api-names=a%2", "api-names"),
    ("api-names=a%0Ab", "api-names"),
    ("api-names=..%2F..%2Fetc", "api-names"),
    ("api-names=" + ",".join(["a"] * 33), "api-names"),
    ("api%2Dnames=a", "api%2Dnames"),
    ("api-versions=v1", "api-versions"),
    ("api-versions=%7B%7D", "api-versions"),
    ("api-versions=%7B%22a%22%3A1%2C%22a%22%3A2%7D", "api-versions"),
    ("comm-type=REQUEST%20RESPONSE", "comm-type"),
    ("protocols=HTTP-2", "protocols"),
    ("data-format=" + "J" * 33, "data-format"),
    ("api-cats=%FF", "api-cats"),
    ("preferred-aef-loc=%7B%22ipv4Addr%22%3A%2210.0.0.1%22%7D",
     "preferred-aef-loc"),
    ("api-prov-names=%01", "api-prov-names"),
    ("api-supported-features=%7B%22a%22%3A%220%22%7D",
     "api-supported-features"),
    ("api-ids=" + "a" * 129, "api-ids"),
    ("service-kpis=%7B%22maxReqRate%22%3A-1%7D", "service-kpis"),
    ("res-ops=%5B%7B%22resource%22%3A%22x%22%7D%5D", "res-ops"),
    ("supported-features=zz", "supported-features"),
    ("api-names=a&vend-spec-x=%7B%7D", "vend-spec-x"),
]


@pytest.mark.parametrize("query,param", BAD_QUERIES)
def test_rejected_query_never_reaches_the_ccf(gw, ccf, keys, query, param):
    for tok in (None, token(keys)):
        r = get(gw, path=PATH + "?" + query, token=tok)
        body = assert_problem(r, 400, "INVALID_QUERY_PARAM")
        assert body["invalidParams"][0]["param"] == param
        assert body["invalidParams"][0]["reason"]
        assert ccf.seen(r.test_id) == []


GOOD_PARAMS = [p.split("=", 1) for p in GOOD_QUERY.split("&")]


@pytest.mark.parametrize("name,value", GOOD_PARAMS,
                         ids=[n for n, _ in GOOD_PARAMS])
def test_each_parameter_repeated_is_refused(gw, ccf, name, value):
    q = "api-names=a&" if name != "api-names" else ""
    r = get(gw, path=PATH + "?%s%s=%s&%s=%s" % (q, name, value, name, value))
    body = assert_problem(r, 400, "INVALID_QUERY_PARAM")
    assert body["invalidParams"] == [{"param": name,
                                      "reason": "repeated query parameter"}]
    assert ccf.seen(r.test_id) == []


def test_refused_query_logged_with_the_parameter(gw):
    before = gw.log_size()
    r = get(gw, path=PATH + '?x"y=1')
    assert_problem(r, 400, "INVALID_QUERY_PARAM")
    assert r.json()["invalidParams"][0]["param"] == 'x"y'
    log = gw.error_log(before)
    assert 'refused 400: query parameter "x?y": unknown query parameter' \
        in log, log


def test_query_over_the_limit_gets_414(gw, ccf):
    q = "api-names=" + ",".join(["a" * 60] * 34)
    assert len(q) > 2048
    r = get(gw, path=PATH + "?" + q)
    assert_problem(r, 414, "QUERY_TOO_LONG")
    assert ccf.seen(r.test_id) == []


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH",
                                    "OPTIONS"])
def test_other_methods_get_405(gw, ccf, method):
    r = get(gw, method=method)
    assert_problem(r, 405, "METHOD_NOT_ALLOWED")
    assert r.header("Allow") == "GET, HEAD"
    assert ccf.seen(r.test_id) == []


def test_request_body_is_refused(gw, ccf):
    r = get(gw, headers=[("Content-Length", "2")], body=b"{}")
    assert_problem(r, 400, "REQUEST_BODY_NOT_ALLOWED")
    assert ccf.seen(r.test_id) == []


def test_head(gw, ccf):
    r = get(gw, method="HEAD")
    assert r.status == 200
    assert r.body == b""
    assert r.header("Cache-Control") == "no-store"
    assert r.header("X-Ccf-Internal") is None
    assert len(ccf.seen(r.test_id)) == 1


# ---------------------------------------------------------- CCF answers


def test_chunked_answer_is_filtered(gw):
    assert_view(get(gw, mode="chunked"), ANONYMOUS_VIEW, "anonymous")


def test_answer_larger_than_proxy_buffers(gw):
    r = get(gw, mode="big-ok")
    assert r.status == 200, r
    body = r.json()
    assert len(body["discApis"]) == 600
    assert body["discApis"][0] == {"apiName": "api-pub",
                                   "description": "y" * 1000}


@pytest.mark.parametrize("mode,why", [
    ("gzip", "compressed"),
    ("huge", "exceeds capif_open_discovery_max_size"),
    ("huge-chunked", "exceeds capif_open_discovery_max_size"),
    ("truncated", "cut short"),
    ("notjson", "not JSON"),
    ("dup", "not JSON, or a member appears twice"),
    ("problem-html", "not JSON"),
    ("redirect", "status open discovery does not pass"),
    ("empty", "not JSON"),
])
def test_faulty_answer_becomes_502(gw, keys, mode, why):
    before = gw.log_size()
    r = get(gw, mode=mode, token=token(keys))
    body = assert_problem(r, 502, "CCF_ANSWER_REFUSED")
    assert set(body) == {"status", "title", "cause", "detail"}
    assert int(r.header("Content-Length")) == len(r.body)
    assert r.header("Content-Encoding") is None
    assert r.header("Location") is None
    assert r.header("Set-Cookie") is None
    log = gw.error_log(before)
    assert "open discovery answer refused" in log and why in log, log


def test_internal_redirect_by_the_ccf_is_still_filtered(gw):
    # the location does not set proxy_ignore_headers X-Accel-Redirect: the
    # answer nginx fetches instead still goes through the filter
    r = get(gw, mode="accel")
    assert_view(r, {"discApis": [{"apiName": "api-pub"}]}, None)


def test_ccf_problem_details_reduced(gw):
    r = get(gw, mode="problem")
    assert r.status == 404
    assert r.header("Content-Type") == "application/problem+json"
    assert r.header("Cache-Control") == "no-store"
    assert r.json() == {"status": 404, "title": "Not Found",
                        "cause": "API_NOT_FOUND"}


def test_impostor_ccf_is_refused(gw, rogue):
    r = get(gw, path="/rogue" + PATH)
    assert_problem(r, 502, "CCF_ANSWER_REFUSED")
    # the TLS handshake failed: the impostor never saw the request
    assert rogue.seen(r.test_id) == []


# ---------------------------------------------------------------- abuse


def test_rate_limit_answers_429_problem_details(gw):
    statuses = []
    for _ in range(3):
        r = get(gw, path="/limited" + PATH)
        statuses.append(r.status)
    assert statuses[:2] == [200, 200]
    assert statuses[2] == 429
    assert r.header("Content-Type") == "application/problem+json"
    assert r.header("Cache-Control") == "no-store"
    assert r.json() == {"status": 429, "title": "Too Many Requests",
                        "cause": "TOO_MANY_REQUESTS"}


# --------------------------------------------------------------- config


def minimal(apis, listen="listen 127.0.0.1:@PORT@;", extra="", loc=""):
    return """
    server {
        %s
        %s
        location /d {
            capif_open_discovery on;
            %s
            proxy_pass https://127.0.0.1:1;
        }
    }
""" % (listen, extra, loc or "capif_open_discovery_apis %s;" % apis)


def test_plain_http_listener_refused_by_nginx_t(nginx_t, tmp_path):
    apis = apis_file(tmp_path)
    rc, out = nginx_t(server_block=minimal(apis))
    assert rc != 0
    assert "capif_open_discovery" in out and "TLS" in out


def test_plain_listener_beside_tls_is_refused_at_runtime(nginx, pki, ccf,
                                                         tmp_path):
    """nginx -t passes a server with a TLS listener; its plain listener
    still never serves discovery."""
    apis = apis_file(tmp_path)
    plain = capif.free_port()
    n = nginx(server_block="""
    server {
        listen 127.0.0.1:@PORT@ ssl;
        listen 127.0.0.1:%d;
        ssl_certificate %s;
        ssl_certificate_key %s;
        location = %s {
            capif_open_discovery on;
            capif_open_discovery_apis %s;
            %s
        }
    }
""" % (plain, pki.gw_crt, pki.gw_key, PATH, apis,
       upstream_conf(pki, ccf.port)))
    r = capif.request(plain, "GET", PATH)
    assert_problem(r, 403, "TLS_REQUIRED")
    assert ccf.seen(r.test_id) == []
    assert_view(get(n), ANONYMOUS_VIEW, None)


def test_plain_loopback_allowed_when_told(nginx_t, tmp_path):
    apis = apis_file(tmp_path)
    rc, out = nginx_t(server_block=minimal(
        apis, extra="capif_admin_allow_plain_loopback on;"))
    assert rc == 0, out


def test_tls_listener_accepted(nginx_t, tmp_path, pki):
    apis = apis_file(tmp_path)
    rc, out = nginx_t(server_block=minimal(
        apis, listen="listen 127.0.0.1:@PORT@ ssl;",
        extra="ssl_certificate %s; ssl_certificate_key %s;"
              % (pki.gw_crt, pki.gw_key)))
    assert rc == 0, out


@pytest.mark.parametrize("loc,msg", [
    ("", "capif_open_discovery_apis"),
    ("capif_open_discovery_apis @APIS@; capif on; capif_aef_id a; "
     "capif_api_name b;", "capif on"),
    ("capif_open_discovery_apis @APIS@; capif_open_discovery_fields "
     "anonymous discApis.aefProfiles.interfaceDescriptions;",
     "interfaceDescriptions"),
    ("capif_open_discovery_apis @APIS@; capif_open_discovery_fields "
     "public discApis.apiName;", "public"),
    ("capif_open_discovery_apis @BAD@;", "apiNamez"),
    ("capif_open_discovery_apis @APIS@; capif_open_discovery_scope "
     "\"a b\";", "capif_open_discovery_scope"),
])
def test_bad_config_refused(nginx_t, tmp_path, keys, loc, msg):
    apis = apis_file(tmp_path)
    bad = os.path.join(str(tmp_path), "bad.json")
    with open(bad, "w") as f:
        f.write('{"apiNamez": []}')
    loc = loc.replace("@APIS@", apis).replace("@BAD@", bad)
    if "capif on" in loc:
        loc += " capif_key_file %s;" % keys.rsa.pub_path
    rc, out = nginx_t(server_block=minimal(
        apis, extra="capif_admin_allow_plain_loopback on;",
        loc=loc or "# none"))
    assert rc != 0
    assert msg in out, out


def test_leaky_fixture_is_leaky():
    """The stand-in really holds what the filter must remove."""
    text = json.dumps(LEAKY)
    for s in NEVER:
        assert s in text, s
    assert copy.deepcopy(LEAKY)["discApis"][1]["apiName"] == "api-secret"


# ------------------------------------------------------------ revocation


def test_revoked_token_is_refused(nginx, pki, keys, ccf, tmp_path):
    """A token the CCF revoked (TS 29.222 Rel-19 access_token in
    revoke-authorization) is refused here too, never served anonymous."""
    apis = apis_file(tmp_path)
    journal = os.path.join(str(tmp_path), "journal")
    n = nginx(http="""
    capif_zone capif:1m;
    capif_journal %s;
""" % journal, server_block="""
    server {
        listen 127.0.0.1:@PORT@;
        capif_admin_allow_plain_loopback on;
        location /aef-security/v1/ {
            capif_aef_security;
        }
        location = %s {
            capif_open_discovery on;
            capif_open_discovery_apis %s;
            capif_key_file %s;
            %s
        }
    }
""" % (PATH, apis, keys.rsa.pub_path, upstream_conf(pki, ccf.port)))

    def disc(tok):
        return n.get(PATH, tok)

    tok, other = token(keys), token(keys)
    # anonymous over plain loopback (capif_admin_allow_plain_loopback)
    assert_view(n.get(PATH), ANONYMOUS_VIEW, None)
    assert disc(tok).status == 200
    r = n.request("POST", "/aef-security/v1/revoke-authorization",
                  [("Content-Type", "application/json")],
                  json.dumps({"revokeInfo": {
                      "apiInvokerId": capif.INVOKER, "apiIds": ["api-1"],
                      "cause": "AUTHORIZATION_ISSUE", "access_token": tok},
                      "supportedFeatures": "1"}), test_id=False)
    assert r.status in (200, 204), r     # 204 before the Rel-18 fix
    r = disc(tok)
    assert_problem(r, 401, "TOKEN_REVOKED")
    assert ccf.seen(r.test_id) == []
    assert disc(other).status == 200

    # a token that lives longer than capif_token_max_lifetime (1h here)
    r = disc(token(keys, exp=capif.good_claims()["iat"] + 7200))
    assert_problem(r, 401, "TOKEN_LIFETIME_EXCEEDED")

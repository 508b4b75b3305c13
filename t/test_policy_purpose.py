"""Purpose-based authorization (KI#3): the purpose of the location (a
static list, or declared by the request and then also in the list) must be
among the purposes the token's purpose claim authorizes, byte for byte.

Also the configuration checks of the policy directives at ``nginx -t``.
"""

import time

import pytest

import capif
from capif import DELETE, good_claims

ALICE = "msisdn-491700000001"

IDENTITY_HEADERS = """
            proxy_set_header X-Capif-Resource-Owner $capif_resource_owner;
            proxy_set_header X-Capif-Group-Id $capif_group_id;
            proxy_set_header X-Capif-Invoker-Ue $capif_invoker_ue;
            proxy_set_header X-Capif-Purpose $capif_purpose;
            proxy_set_header X-Capif-Owner-Via $capif_owner_via;
"""


@pytest.fixture(scope="module")
def gw(module_nginx, upstream, keys):
    up = upstream.port
    k = [keys.rsa.pub_path]

    def L(path, extra=""):
        return capif.location(path, k, extra=extra + IDENTITY_HEADERS,
                              upstream_port=up)

    server = "".join([
        L("/p-static/", "capif_purpose billing;"),
        L("/p-multi/", "capif_purpose analytics billing;"),
        L("/p-from/", "capif_purpose analytics billing;\n"
                      "capif_purpose_from $arg_purpose;"),
        L("/p-hdr/", "capif_purpose billing;\n"
                     "capif_purpose_from $http_x_purpose;"),
        L("/p-claim/", "capif_purpose billing;\n"
                       "capif_purpose_claim purposes;"),
        L("/plain/"),
        # inherited from the server level by the nested location
        """
        location /inherit/ {
            capif_purpose_from $arg_purpose;
            location /inherit/inner/ {
                capif on;
                capif_key_file %s;
                capif_aef_id %s;
                capif_api_name %s;
                proxy_set_header X-Capif-Purpose $capif_purpose;
                proxy_set_header X-Capif-Invoker-Id $capif_invoker_id;
                proxy_pass http://127.0.0.1:%d;
            }
        }
""" % (keys.rsa.pub_path, capif.AEF_ID, capif.API_NAME, up),
    ])
    server = "capif_purpose research billing;\n" + server
    return capif.Gateway(module_nginx(server=server), upstream, keys)


def tok(keys, **claims):
    return keys.rsa.token(claims=good_claims(**claims))


# ------------------------------------------------------- static purposes

@pytest.mark.parametrize("claim", [
    "billing", ["billing"], ["analytics", "billing"], ["billing", "billing"],
])
def test_static_allowed(gw, keys, claim):
    r = gw.allowed("/p-static/", tok(keys, purpose=claim))
    assert r.upstream_header("X-Capif-Purpose") == ["billing"]


@pytest.mark.parametrize("claim", [
    "analytics", ["analytics"], [], "", DELETE,
    "Billing", "BILLING", "billing ", " billing", "bill", "billingx",
    "b\u0456lling",                  # Cyrillic "i"
    "\uff42illing",                  # fullwidth "b"
    "billing\u200b",                 # zero-width space
    ["analytics,billing"], "billing analytics",
])
def test_static_not_authorized(gw, keys, claim):
    gw.refused("/p-static/", tok(keys, purpose=claim), 403,
               "PURPOSE_NOT_AUTHORIZED")


@pytest.mark.parametrize("claim", [
    1, None, True, {}, {"billing": True}, ["billing", 1], [1, "billing"],
    ["billing", None], [["billing"]], ["billing", {}],
])
def test_claim_invalid(gw, keys, claim):
    gw.refused("/p-static/", tok(keys, purpose=claim), 401,
               "PURPOSE_CLAIM_INVALID")


def test_multi_picks_location_order(gw, keys):
    r = gw.allowed("/p-multi/", tok(keys, purpose=["billing", "analytics"]))
    assert r.upstream_header("X-Capif-Purpose") == ["analytics"]
    r = gw.allowed("/p-multi/", tok(keys, purpose="billing"))
    assert r.upstream_header("X-Capif-Purpose") == ["billing"]
    gw.refused("/p-multi/", tok(keys, purpose="marketing"), 403,
               "PURPOSE_NOT_AUTHORIZED")


def test_claim_name_configurable(gw, keys):
    gw.allowed("/p-claim/", tok(keys, purposes=["billing"]))
    gw.refused("/p-claim/", tok(keys, purpose="billing"), 403,
               "PURPOSE_NOT_AUTHORIZED")


# ------------------------------------------------- purpose from request

def test_from_allowed(gw, keys):
    t = tok(keys, purpose=["analytics", "billing"])
    for p in ("analytics", "billing"):
        r = gw.allowed("/p-from/?purpose=" + p, t)
        assert r.upstream_header("X-Capif-Purpose") == [p]


def test_from_not_authorized(gw, keys):
    gw.refused("/p-from/?purpose=analytics", tok(keys, purpose="billing"),
               403, "PURPOSE_NOT_AUTHORIZED")


def test_from_missing(gw, keys):
    t = tok(keys, purpose="billing")
    gw.refused("/p-from/", t, 400, "PURPOSE_MISSING")
    gw.refused("/p-from/?purpose=", t, 400, "PURPOSE_MISSING")
    gw.refused("/p-from/?purposes=billing", t, 400, "PURPOSE_MISSING")
    gw.refused("/p-hdr/", t, 400, "PURPOSE_MISSING")


@pytest.mark.parametrize("declared", [
    "marketing", "BILLING", "Billing", "billing%20", "%20billing",
    "billing+", "b%D1%96lling", "billing%00", "bill", "billing,analytics",
])
def test_from_not_served(gw, keys, declared):
    """Even when the token lists the value, the location must serve it."""
    t = tok(keys, purpose=["billing", "marketing", "BILLING", "Billing",
                           "bill", declared])
    gw.refused("/p-from/?purpose=" + declared, t, 403, "PURPOSE_NOT_SERVED")


def test_from_header(gw, keys):
    t = tok(keys, purpose="billing")
    gw.allowed("/p-hdr/", t, headers=[("X-Purpose", "billing")])
    gw.refused("/p-hdr/", t, 403, "PURPOSE_NOT_SERVED",
               headers=[("X-Purpose", "marketing")])


def test_inherited(gw, keys):
    r = gw.allowed("/inherit/inner/?purpose=research",
                   tok(keys, purpose="research"))
    assert r.upstream_header("X-Capif-Purpose") == ["research"]
    gw.refused("/inherit/inner/?purpose=analytics",
               tok(keys, purpose="analytics"), 403, "PURPOSE_NOT_SERVED")
    gw.refused("/inherit/inner/", tok(keys, purpose="research"), 400,
               "PURPOSE_MISSING")


def test_server_level_applies(gw, keys):
    """The server's capif_purpose covers locations that set none."""
    gw.refused("/plain/", tok(keys), 403, "PURPOSE_NOT_AUTHORIZED")
    r = gw.allowed("/plain/", tok(keys, purpose="research"))
    assert r.upstream_header("X-Capif-Purpose") == ["research"]


# --------------------------------------------------------------- spoofing

def test_spoofed_purpose_header(gw, keys):
    r = gw.allowed("/p-static/", tok(keys, purpose="billing"),
                   headers=[("X-Capif-Purpose", "marketing"),
                            ("x-capif-purpose", "research")])
    assert r.upstream_header("X-Capif-Purpose") == ["billing"]


def test_spoofed_purpose_claim_in_request(gw, keys):
    """A purpose the client claims for itself authorizes nothing."""
    t = tok(keys, purpose="analytics")
    gw.refused("/p-static/?purpose=billing", t, 403,
               "PURPOSE_NOT_AUTHORIZED",
               headers=[("purpose", "billing"), ("X-Purpose", "billing")])


def test_refusal_logged(gw, keys):
    before = gw.nginx.log_size()
    gw.refused("/p-from/?purpose=analytics", tok(keys, purpose="billing"),
               403, "PURPOSE_NOT_AUTHORIZED")
    log = gw.nginx.error_log(before)
    line = [x for x in log.splitlines() if "capif policy: refused" in x]
    assert line and "[info]" in line[0], log
    assert "PURPOSE_NOT_AUTHORIZED" in line[0]
    assert 'purpose "analytics"' in line[0]
    assert 'invoker "%s"' % capif.INVOKER in line[0]


# --------------------------------------------------- variables when refused

def test_variables_empty_until_allowed(nginx, upstream, keys):
    """Refused calls never reach the AEF; a location whose policy is not
    evaluated exports nothing, even to its own access log."""
    server = capif.location(
        "/p/", [keys.rsa.pub_path], upstream_port=upstream.port,
        extra="capif_purpose billing;\n"
              "capif_resource_owner $arg_ueId;\n" + IDENTITY_HEADERS)
    n = nginx(http='log_format pol "[$capif_resource_owner]'
                   '[$capif_purpose][$capif_owner_via][$capif_invoker_ue]";'
                   "\naccess_log logs/pol.log pol;",
              server=server)
    gw = capif.Gateway(n, upstream, keys)
    gw.refused("/p/?ueId=" + ALICE, tok(keys, resOwnerId=ALICE,
               invokerGpsi=ALICE, purpose="x"), 403,
               "PURPOSE_NOT_AUTHORIZED")
    gw.allowed("/p/?ueId=" + ALICE, tok(keys, resOwnerId=ALICE,
               invokerGpsi=ALICE, purpose="billing"))
    # nginx logs the request after the response has gone out: wait
    deadline = time.monotonic() + 5
    while True:
        with open(n.prefix + "/logs/pol.log") as f:
            lines = f.read().splitlines()
        if len(lines) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert lines == ["[-][-][-][-]",
                     "[%s][billing][claim][%s]" % (ALICE, ALICE)], lines


# ------------------------------------------------------- nginx -t refuses

@pytest.mark.parametrize("conf,message", [
    ("location / { capif_purpose_from $arg_p; }",
     '"capif_purpose_from" needs "capif_purpose"'),
    ("capif_purpose_from $arg_p;",
     '"capif_purpose_from" needs "capif_purpose"'),
    ("capif_purpose a b a;", '"a" is listed twice'),
    ('capif_purpose "a b";', "invalid purpose"),
    ('capif_purpose "";', "invalid purpose"),
    ("capif_purpose a;\ncapif_purpose b;", "is duplicate"),
    ("capif_purpose;", "invalid number of arguments"),
    ('capif_purpose_from "";', '"capif_purpose_from" needs a non-empty'),
    ('capif_resource_owner "";', '"capif_resource_owner" needs a non-empty'),
    ("capif_resource_owner $arg_a;\ncapif_resource_owner $arg_b;",
     "is duplicate"),
    ("capif_resource_owner $nosuchvariable;", "unknown"),
    ('capif_owner_claim "";', '"capif_owner_claim" needs a claim name'),
    ('capif_group_claim "a b";', '"capif_group_claim": invalid claim name'),
    ("capif_invoker_ue_claim a;\ncapif_invoker_ue_claim b;",
     "is duplicate"),
    ('capif_purpose_claim "";', '"capif_purpose_claim" needs a claim name'),
    ('capif_group_members_claim "";',
     '"capif_group_members_claim" needs a claim name'),
])
def test_config_refused(nginx_t, conf, message):
    rc, out = nginx_t(server=conf)
    assert rc != 0, out
    assert message in out, out


@pytest.mark.parametrize("conf", [
    "capif_purpose billing;",
    "capif_purpose a b c;\ncapif_purpose_from $arg_p;",
    "capif_purpose a;\nlocation / { capif_purpose_from $http_x_p; }",
    "capif_resource_owner $arg_ueId;",
    "capif_group_members_claim groupMembers;\n"
    "location / { capif_group_members_claim off; }",
    "capif_owner_claim owner;\ncapif_group_claim grp;\n"
    "capif_invoker_ue_claim ue;\ncapif_purpose_claim purposes;",
])
def test_config_accepted(nginx_t, conf):
    rc, out = nginx_t(server=conf)
    assert rc == 0, out


def test_config_http_level(nginx_t):
    rc, out = nginx_t(http="capif_purpose billing;\n"
                           "capif_resource_owner $arg_ueId;\n"
                           "capif_owner_claim owner;")
    assert rc == 0, out


def test_readme_tokens(gw, keys):
    """The README's purpose example, minted with build/capif-token."""
    def cli(*args):
        return capif.capif_token("--key", keys.rsa.priv_path, "--alg",
                                 "RS256", "--invoker", capif.INVOKER,
                                 "--scope", capif.SCOPE, *args)

    gw.allowed("/p-from/?purpose=billing", cli("--claim", "purpose=billing"))
    gw.allowed("/p-from/?purpose=billing",
               cli("--claim-json", 'purpose=["research","billing"]'))
    gw.refused("/p-from/?purpose=billing", cli("--claim", "purpose=Billing"),
               403, "PURPOSE_NOT_AUTHORIZED")
    gw.refused("/p-from/?purpose=billing",
               cli("--claim-json", 'purpose=["billing",1]'), 401,
               "PURPOSE_CLAIM_INVALID")
    gw.refused("/p-from/", cli("--claim", "purpose=billing"), 400,
               "PURPOSE_MISSING")
    gw.refused("/p-from/?purpose=marketing",
               cli("--claim", "purpose=marketing"), 403, "PURPOSE_NOT_SERVED")

"""Resource owner (RNAA): capif_resource_owner against the owner claim.

Rel-18 (string) and Rel-19 ({"gpsi": ...}) shapes and arrays of both,
look-alike identifiers, wrong claim types, spoofed identity headers, and
owner combined with purpose.  Every token is validly signed, so each
refusal is due to the rule under test.
"""

import pytest

import capif
from capif import DELETE, good_claims

ALICE = "msisdn-491700000001"
BOB = "msisdn-491700000002"
CAROL = "extid-carol@example.com"

#: the README's recommended lines: the client's copies never pass
IDENTITY_HEADERS = """
            proxy_set_header X-Capif-Resource-Owner $capif_resource_owner;
            proxy_set_header X-Capif-Group-Id $capif_group_id;
            proxy_set_header X-Capif-Invoker-Ue $capif_invoker_ue;
            proxy_set_header X-Capif-Purpose $capif_purpose;
            proxy_set_header X-Capif-Owner-Via $capif_owner_via;
"""

SPOOFED = [("X-Capif-Resource-Owner", BOB),
           ("x-capif-group-id", "extgroupid-team1@example.com"),
           ("X-CAPIF-INVOKER-UE", BOB),
           ("X-Capif-Purpose", "marketing"),
           ("X-Capif-Owner-Via", "claim")]


@pytest.fixture(scope="module")
def gw(module_nginx, upstream, keys):
    up = upstream.port
    k = [keys.rsa.pub_path]

    def L(path, extra=""):
        return capif.location(path, k, extra=extra + IDENTITY_HEADERS,
                              upstream_port=up)

    server = "".join([
        L("/owner/", "capif_resource_owner $arg_ueId;"),
        L("~ ^/ue/(?<ue>[^/]+)/data$", "capif_resource_owner $ue;"),
        L("/owner-hdr/", "capif_resource_owner $http_x_target_ue;"),
        L("/owner-claim/", "capif_resource_owner $arg_ueId;\n"
                           "capif_owner_claim owner;"),
        L("/owner-purpose/", "capif_resource_owner $arg_ueId;\n"
                             "capif_purpose billing analytics;\n"
                             "capif_purpose_from $arg_purpose;"),
        L("/plain/"),
    ])
    return capif.Gateway(module_nginx(server=server), upstream, keys)


def tok(keys, **claims):
    return keys.rsa.token(claims=good_claims(**claims))


def identity(resp):
    """What the upstream saw of the identity headers: name -> values."""
    return {n: resp.upstream_header(n) for n, _ in SPOOFED}


# ---------------------------------------------------------------- allowed

@pytest.mark.parametrize("claim", [
    ALICE,                                     # Rel-18
    {"gpsi": ALICE},                           # Rel-19
    [ALICE],
    [BOB, ALICE],                              # collective authorization
    [{"gpsi": BOB}, {"gpsi": ALICE}],
    [BOB, {"gpsi": ALICE}],
])
def test_owner_shapes_allowed(gw, keys, claim):
    r = gw.allowed("/owner/?ueId=" + ALICE, tok(keys, resOwnerId=claim))
    assert r.upstream_header("X-Capif-Resource-Owner") == [ALICE]
    assert r.upstream_header("X-Capif-Owner-Via") == ["claim"]
    assert r.upstream_header("X-Capif-Group-Id") == []


def test_owner_extid(gw, keys):
    r = gw.allowed("/owner/?ueId=" + CAROL, tok(keys, resOwnerId=CAROL))
    assert r.upstream_header("X-Capif-Resource-Owner") == [CAROL]


def test_owner_from_path(gw, keys):
    t = tok(keys, resOwnerId=ALICE)
    gw.allowed("/ue/%s/data" % ALICE, t)
    gw.refused("/ue/%s/data" % BOB, t, 403, "RESOURCE_OWNER_NOT_AUTHORIZED")


def test_owner_from_header(gw, keys):
    t = tok(keys, resOwnerId=ALICE)
    gw.allowed("/owner-hdr/", t, headers=[("X-Target-Ue", ALICE)])
    gw.refused("/owner-hdr/", t, 400, "RESOURCE_OWNER_MISSING")


def test_invoker_ue_forwarded(gw, keys):
    r = gw.allowed("/owner/?ueId=" + ALICE,
                   tok(keys, resOwnerId=ALICE, invokerGpsi=BOB))
    assert r.upstream_header("X-Capif-Invoker-Ue") == [BOB]


def test_claim_name_configurable(gw, keys):
    gw.allowed("/owner-claim/?ueId=" + ALICE, tok(keys, owner=ALICE))
    gw.refused("/owner-claim/?ueId=" + ALICE, tok(keys, resOwnerId=ALICE),
               403, "RESOURCE_OWNER_NOT_AUTHORIZED")


def test_unused_claims_not_checked(gw, keys):
    """A location without owner rules neither reads nor exports them."""
    r = gw.allowed("/plain/", tok(keys, resOwnerId=12, invokerGpsi=None))
    assert all(v == [] for v in identity(r).values())


# ---------------------------------------------------------------- refused

def test_owner_missing(gw, keys):
    t = tok(keys, resOwnerId=ALICE)
    gw.refused("/owner/", t, 400, "RESOURCE_OWNER_MISSING")
    gw.refused("/owner/?ueId=", t, 400, "RESOURCE_OWNER_MISSING")
    gw.refused("/owner/?ue=" + ALICE, t, 400, "RESOURCE_OWNER_MISSING")
    # nginx matches $arg_ names case-insensitively: the same argument
    gw.allowed("/owner/?UEID=" + ALICE, t)


@pytest.mark.parametrize("owner", [
    "msisdn-1234",                  # 4 digits
    "msisdn-1234567890123456",      # 16 digits
    "MSISDN-491700000001",          # case variant
    "Msisdn-491700000001",
    "msisdn-%2B491700000001",
    "%20msisdn-491700000001",       # padding ($arg_ is not decoded)
    "msisdn-491700000001%20",
    "+msisdn-491700000001",
    "491700000001",
    "msisdn-49170000000%EF%BC%91",  # fullwidth digit
    "extid-carol@Example.com",      # upper-case domain
    "EXTID-carol@example.com",
    "extid-carol",
    "extid-%D1%81arol@example.com", # Cyrillic "c"
])
def test_owner_malformed(gw, keys, owner):
    gw.refused("/owner/?ueId=" + owner, tok(keys, resOwnerId=ALICE),
               400, "RESOURCE_OWNER_INVALID")


@pytest.mark.parametrize("segment", [
    "msisdn-49170000000%D9%A1",     # Arabic-Indic digit, decoded by nginx
    "msisdn-4917000000%EF%BC%91",
    "m%D1%95isdn-491700000001",     # Cyrillic "s"
    "msisdn-491700000001%20",
    "%20msisdn-491700000001",
])
def test_owner_malformed_path(gw, keys, segment):
    gw.refused("/ue/%s/data" % segment, tok(keys, resOwnerId=ALICE),
               400, "RESOURCE_OWNER_INVALID")


@pytest.mark.parametrize("claim,owner", [
    (ALICE, BOB),
    ([BOB], ALICE),
    ([], ALICE),
    (DELETE, ALICE),
    ("msisdn-0491700000001", ALICE),           # leading zero
    ("extid-Carol@example.com", CAROL),        # case of the local part
    ({"gpsi": BOB}, ALICE),
])
def test_owner_not_covered(gw, keys, claim, owner):
    gw.refused("/owner/?ueId=" + owner, tok(keys, resOwnerId=claim),
               403, "RESOURCE_OWNER_NOT_AUTHORIZED")


@pytest.mark.parametrize("claim", [
    491700000001,
    None,
    True,
    {},
    {"gpsi": 491700000001},
    {"gpsi": None},
    {"GPSI": ALICE},
    {"gpsi": ALICE, "supi": "imsi-001010000000001"},
    {"gpsi": [ALICE]},
    [ALICE, 5],                                # a non-string never matches
    [5, ALICE],
    [ALICE, None],
    [ALICE, [BOB]],
    [[ALICE]],
    [ALICE, {}],
    "msisdn-1234",                             # malformed GPSI in the token
    " " + ALICE,
    ALICE.upper(),
    [ALICE, "msisdn-1"],
    "ms\u0456sdn-491700000001",                # Cyrillic "i"
])
def test_owner_claim_invalid(gw, keys, claim):
    gw.refused("/owner/?ueId=" + ALICE, tok(keys, resOwnerId=claim),
               401, "RESOURCE_OWNER_CLAIM_INVALID")


@pytest.mark.parametrize("ue", [5, None, [ALICE], {"gpsi": ALICE},
                                "msisdn-1234", ""])
def test_invoker_ue_claim_invalid(gw, keys, ue):
    gw.refused("/owner/?ueId=" + ALICE,
               tok(keys, resOwnerId=ALICE, invokerGpsi=ue),
               401, "INVOKER_UE_CLAIM_INVALID")


def test_invoker_ue_alone_grants_nothing(gw, keys):
    gw.refused("/owner/?ueId=" + ALICE, tok(keys, invokerGpsi=ALICE),
               403, "RESOURCE_OWNER_NOT_AUTHORIZED")


def test_refusal_logged(gw, keys):
    before = gw.nginx.log_size()
    gw.refused("/owner/?ueId=" + BOB,
               tok(keys, resOwnerId=ALICE, invokerGpsi=ALICE),
               403, "RESOURCE_OWNER_NOT_AUTHORIZED")
    log = gw.nginx.error_log(before)
    line = [x for x in log.splitlines() if "capif policy: refused" in x]
    assert line, log
    assert "[info]" in line[0]
    assert "RESOURCE_OWNER_NOT_AUTHORIZED" in line[0]
    assert 'invoker "%s"' % capif.INVOKER in line[0]
    assert 'owner "%s"' % BOB in line[0]
    assert 'invoker_ue "%s"' % ALICE in line[0]


def test_log_escapes_client_values(gw, keys):
    before = gw.nginx.log_size()
    gw.refused("/owner-hdr/", tok(keys, resOwnerId=ALICE), 400,
               "RESOURCE_OWNER_INVALID",
               headers=[("X-Target-Ue", 'x" owner "' + ALICE)])
    log = gw.nginx.error_log(before)
    assert 'owner "x\\x22\\x20owner' in log, log


# --------------------------------------------------------------- spoofing

def test_spoofed_headers_replaced(gw, keys):
    r = gw.allowed("/owner/?ueId=" + ALICE,
                   tok(keys, resOwnerId=ALICE, invokerGpsi=ALICE),
                   headers=SPOOFED)
    assert identity(r) == {
        "X-Capif-Resource-Owner": [ALICE],
        "x-capif-group-id": [],
        "X-CAPIF-INVOKER-UE": [ALICE],
        "X-Capif-Purpose": [],
        "X-Capif-Owner-Via": ["claim"],
    }


def test_spoofed_headers_dropped_without_policy(gw, keys):
    r = gw.allowed("/plain/", tok(keys), headers=SPOOFED)
    assert all(v == [] for v in identity(r).values()), identity(r)


def test_spoofed_underscore_headers_dropped(gw, keys):
    r = gw.allowed("/plain/", tok(keys),
                   headers=[("X_Capif_Resource_Owner", BOB)])
    assert r.upstream_header("X_Capif_Resource_Owner") == []
    assert r.upstream_header("X-Capif-Resource-Owner") == []


def test_spoofed_owner_does_not_help(gw, keys):
    """Headers naming a covered owner do not change the request's owner."""
    gw.refused("/owner/?ueId=" + BOB, tok(keys, resOwnerId=ALICE), 403,
               "RESOURCE_OWNER_NOT_AUTHORIZED",
               headers=[("X-Capif-Resource-Owner", ALICE),
                        ("X-Target-Ue", ALICE)])


def test_forged_token_claims(gw, keys):
    """An owner claim in a token signed by another key is worthless."""
    t = keys.evil_rsa.token(claims=good_claims(resOwnerId=BOB))
    gw.refused("/owner/?ueId=" + BOB, t, 401, "SIGNATURE_INVALID")


# ------------------------------------------------------ owner and purpose

def test_owner_and_purpose(gw, keys):
    t = tok(keys, resOwnerId=ALICE, purpose=["billing"])
    r = gw.allowed("/owner-purpose/?ueId=%s&purpose=billing" % ALICE, t)
    assert r.upstream_header("X-Capif-Purpose") == ["billing"]
    assert r.upstream_header("X-Capif-Resource-Owner") == [ALICE]
    gw.refused("/owner-purpose/?ueId=%s&purpose=analytics" % ALICE, t,
               403, "PURPOSE_NOT_AUTHORIZED")
    gw.refused("/owner-purpose/?ueId=%s&purpose=billing" % BOB, t,
               403, "RESOURCE_OWNER_NOT_AUTHORIZED")
    gw.refused("/owner-purpose/?ueId=%s" % ALICE, t, 400, "PURPOSE_MISSING")
    gw.refused("/owner-purpose/?purpose=billing", t, 400,
               "RESOURCE_OWNER_MISSING")
    gw.refused("/owner-purpose/?ueId=%s&purpose=billing" % ALICE,
               tok(keys, resOwnerId=ALICE), 403, "PURPOSE_NOT_AUTHORIZED")

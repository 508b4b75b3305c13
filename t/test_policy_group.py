"""Group authorization (KI#1): a UE-hosted invoker reaches the resources of
another UE of its group.

Membership comes from the registry (capif_groups) or, where enabled, the
CCF-signed member list; never from anything the client sends.  Also: the
registry's strict loading at ``nginx -t``, reload, and a large registry.
"""

import json
import os
import signal
import time

import pytest

import capif
from capif import DELETE, good_claims

ALICE = "msisdn-491700000001"     # the invoker's UE, member of TEAM
BOB = "msisdn-491700000002"       # another member of TEAM
CAROL = "extid-carol@example.com"  # member of TEAM
MALLORY = "msisdn-491700000009"   # member of no group
TEAM = "extgroupid-team1@example.com"
OTHER = "extgroupid-other@example.com"   # MALLORY's group, without ALICE

REGISTRY = {TEAM: [ALICE, BOB, CAROL], OTHER: [MALLORY, BOB]}

IDENTITY_HEADERS = """
            proxy_set_header X-Capif-Resource-Owner $capif_resource_owner;
            proxy_set_header X-Capif-Group-Id $capif_group_id;
            proxy_set_header X-Capif-Invoker-Ue $capif_invoker_ue;
            proxy_set_header X-Capif-Purpose $capif_purpose;
            proxy_set_header X-Capif-Owner-Via $capif_owner_via;
"""


def write_registry(path, obj):
    with open(path, "w") as f:
        f.write(obj if isinstance(obj, str) else json.dumps(obj))
    return path


def locations(keys, up):
    k = [keys.rsa.pub_path]

    def L(path, extra=""):
        return capif.location(path, k, extra=extra + IDENTITY_HEADERS,
                              upstream_port=up)

    return "".join([
        L("/grp/", "capif_resource_owner $arg_ueId;"),
        L("~ ^/ue/(?<ue>[^/]+)/", "capif_resource_owner $ue;"),
        L("/grp-tok/", "capif_resource_owner $arg_ueId;\n"
                       "capif_group_members_claim groupMembers;"),
        L("/grp-names/", "capif_resource_owner $arg_ueId;\n"
                         "capif_group_claim grp;\n"
                         "capif_invoker_ue_claim ue;"),
        L("/grp-purpose/", "capif_resource_owner $arg_ueId;\n"
                           "capif_purpose billing;"),
    ])


@pytest.fixture(scope="module")
def registry_path(tmp_path_factory):
    d = tmp_path_factory.mktemp("groups")
    return write_registry(str(d / "groups.json"), REGISTRY)


@pytest.fixture(scope="module")
def gw(module_nginx, upstream, keys, registry_path):
    n = module_nginx(http="capif_groups %s;" % registry_path,
                     server=locations(keys, upstream.port))
    return capif.Gateway(n, upstream, keys)


def grant(keys, ue=ALICE, group=TEAM, **claims):
    c = {"externalGroupId": group, "invokerGpsi": ue}
    for k, v in list(c.items()):
        if v is DELETE:
            del c[k]
    c.update(claims)
    return keys.rsa.token(claims=good_claims(**c))


# ---------------------------------------------------------------- allowed

@pytest.mark.parametrize("target", [BOB, CAROL, ALICE])
def test_group_allowed(gw, keys, target):
    r = gw.allowed("/grp/?ueId=" + target, grant(keys))
    assert r.upstream_header("X-Capif-Resource-Owner") == [target]
    assert r.upstream_header("X-Capif-Group-Id") == [TEAM]
    assert r.upstream_header("X-Capif-Invoker-Ue") == [ALICE]
    assert r.upstream_header("X-Capif-Owner-Via") == ["group"]


def test_group_from_path(gw, keys):
    gw.allowed("/ue/%s/location" % BOB, grant(keys))
    gw.refused("/ue/%s/location" % MALLORY, grant(keys), 403,
               "GROUP_TARGET_NOT_MEMBER")


def test_claim_names_configurable(gw, keys):
    t = keys.rsa.token(claims=good_claims(grp=TEAM, ue=ALICE))
    gw.allowed("/grp-names/?ueId=" + BOB, t)
    gw.refused("/grp-names/?ueId=" + BOB, grant(keys), 403,
               "RESOURCE_OWNER_NOT_AUTHORIZED")


def test_owner_claim_needs_no_group(gw, keys):
    r = gw.allowed("/grp/?ueId=" + MALLORY,
                   grant(keys, resOwnerId=MALLORY))
    assert r.upstream_header("X-Capif-Owner-Via") == ["claim"]
    assert r.upstream_header("X-Capif-Group-Id") == []


# ---------------------------------------------------------------- refused

def test_target_not_member(gw, keys):
    gw.refused("/grp/?ueId=" + MALLORY, grant(keys), 403,
               "GROUP_TARGET_NOT_MEMBER")


def test_invoker_not_member(gw, keys):
    gw.refused("/grp/?ueId=" + BOB, grant(keys, ue=MALLORY, group=TEAM),
               403, "GROUP_INVOKER_NOT_MEMBER")
    # MALLORY's own group does not contain ALICE
    gw.refused("/grp/?ueId=" + ALICE, grant(keys, ue=MALLORY, group=OTHER),
               403, "GROUP_TARGET_NOT_MEMBER")
    gw.refused("/grp/?ueId=" + MALLORY, grant(keys, ue=ALICE, group=OTHER),
               403, "GROUP_INVOKER_NOT_MEMBER")


@pytest.mark.parametrize("group", [
    "extgroupid-team2@example.com",
    "extgroupid-Team1@example.com",        # case of the local part
    "extgroupid-team1@example.org",
    "extgroupid-team1@example.com.evil.org",
])
def test_group_unknown(gw, keys, group):
    gw.refused("/grp/?ueId=" + BOB, grant(keys, group=group), 403,
               "GROUP_UNKNOWN")


def test_group_without_invoker_ue(gw, keys):
    gw.refused("/grp/?ueId=" + BOB, grant(keys, ue=DELETE), 403,
               "GROUP_INVOKER_UE_MISSING")


@pytest.mark.parametrize("group", [
    5, None, True, {}, [TEAM], [TEAM, 5], {"id": TEAM},
    "team1", "EXTGROUPID-team1@example.com", "extgroupid-team1@EXAMPLE.com",
    " " + TEAM, TEAM + " ", "extgroupid-team1@ex\u0430mple.com",
    "extid-team1@example.com",
])
def test_group_claim_invalid(gw, keys, group):
    gw.refused("/grp/?ueId=" + BOB, grant(keys, group=group), 401,
               "GROUP_CLAIM_INVALID")


@pytest.mark.parametrize("ue", [
    491700000001, None, [ALICE], {"gpsi": ALICE}, "msisdn-1234",
    "msisdn-1234567890123456", "MSISDN-491700000001", ALICE + " ",
    "msisdn-49170000000\u0661",
])
def test_invoker_ue_claim_invalid(gw, keys, ue):
    gw.refused("/grp/?ueId=" + BOB, grant(keys, ue=ue), 401,
               "INVOKER_UE_CLAIM_INVALID")


@pytest.mark.parametrize("target", [
    "msisdn-1234", "msisdn-1234567890123456",
    "MSISDN-491700000002", "%20" + BOB, BOB + "%20",
    "msisdn-49170000000%D9%A2",
])
def test_target_malformed(gw, keys, target):
    gw.refused("/grp/?ueId=" + target, grant(keys), 400,
               "RESOURCE_OWNER_INVALID")


def test_target_missing(gw, keys):
    gw.refused("/grp/", grant(keys), 400, "RESOURCE_OWNER_MISSING")


def test_target_case_and_padding_variants(gw, keys):
    # well-formed, but another identity: byte-exact, so no member
    gw.refused("/grp/?ueId=extid-Carol@example.com", grant(keys), 403,
               "GROUP_TARGET_NOT_MEMBER")
    gw.refused("/grp/?ueId=msisdn-0491700000002", grant(keys), 403,
               "GROUP_TARGET_NOT_MEMBER")


def test_bad_owner_claim_spoils_group(gw, keys):
    gw.refused("/grp/?ueId=" + BOB, grant(keys, resOwnerId=[BOB, 1]), 401,
               "RESOURCE_OWNER_CLAIM_INVALID")


def test_refusal_logged(gw, keys):
    before = gw.nginx.log_size()
    gw.refused("/grp/?ueId=" + MALLORY, grant(keys), 403,
               "GROUP_TARGET_NOT_MEMBER")
    log = gw.nginx.error_log(before)
    line = [x for x in log.splitlines() if "capif policy: refused" in x]
    assert line and "[info]" in line[0], log
    for part in ("GROUP_TARGET_NOT_MEMBER", 'owner "%s"' % MALLORY,
                 'group "%s"' % TEAM, 'invoker_ue "%s"' % ALICE,
                 'invoker "%s"' % capif.INVOKER):
        assert part in line[0], line[0]


# ----------------------------------------------------- token member list

def test_token_members(gw, keys):
    t = grant(keys, groupMembers=[ALICE, MALLORY])
    r = gw.allowed("/grp-tok/?ueId=" + MALLORY, t)
    assert r.upstream_header("X-Capif-Group-Id") == [TEAM]
    # the list replaces the registry, for this grant only
    gw.refused("/grp-tok/?ueId=" + BOB, t, 403, "GROUP_TARGET_NOT_MEMBER")
    gw.refused("/grp-tok/?ueId=" + MALLORY,
               grant(keys, groupMembers=[BOB, MALLORY]), 403,
               "GROUP_INVOKER_NOT_MEMBER")
    # without the list, the registry decides
    gw.allowed("/grp-tok/?ueId=" + BOB, grant(keys))
    # where not enabled, a member list in the token counts for nothing
    gw.refused("/grp/?ueId=" + MALLORY, t, 403, "GROUP_TARGET_NOT_MEMBER")


def test_token_members_unknown_group(gw, keys):
    t = grant(keys, group="extgroupid-adhoc@example.com",
              groupMembers=[ALICE, MALLORY])
    gw.allowed("/grp-tok/?ueId=" + MALLORY, t)
    gw.refused("/grp/?ueId=" + MALLORY, t, 403, "GROUP_UNKNOWN")


@pytest.mark.parametrize("members", [
    ALICE, 5, None, {}, {"m": [ALICE]}, [ALICE, MALLORY, 5],
    [ALICE, MALLORY, None], [[ALICE, MALLORY]], [ALICE, "msisdn-1"],
    [ALICE, MALLORY.upper()],
])
def test_token_members_invalid(gw, keys, members):
    gw.refused("/grp-tok/?ueId=" + MALLORY, grant(keys,
               groupMembers=members), 401, "GROUP_MEMBERS_CLAIM_INVALID")


# --------------------------------------------------------------- spoofing

SPOOF_HEADERS = [
    ("X-Capif-Group-Id", OTHER),
    ("X-Capif-Group-Members", "%s,%s" % (ALICE, MALLORY)),
    ("groupMembers", json.dumps([ALICE, MALLORY])),
    ("X-Capif-Invoker-Ue", MALLORY),
    ("X-Capif-Resource-Owner", ALICE),
    ("externalGroupId", OTHER),
    ("invokerGpsi", MALLORY),
]


def test_spoof_headers(gw, keys):
    """No header makes MALLORY a member of TEAM."""
    for path in ("/grp/", "/grp-tok/"):
        gw.refused(path + "?ueId=" + MALLORY, grant(keys), 403,
                   "GROUP_TARGET_NOT_MEMBER", headers=SPOOF_HEADERS)


@pytest.mark.parametrize("query", [
    "groupMembers=%s,%s" % (ALICE, MALLORY),
    "groupMembers=%s&groupMembers=%s" % (ALICE, MALLORY),
    "externalGroupId=%s" % OTHER,
    "invokerGpsi=%s" % BOB,
    "members[]=%s" % MALLORY,
])
def test_spoof_query(gw, keys, query):
    for path in ("/grp/", "/grp-tok/"):
        gw.refused("%s?ueId=%s&%s" % (path, MALLORY, query), grant(keys),
                   403, "GROUP_TARGET_NOT_MEMBER")
        gw.refused("%s?%s&ueId=%s" % (path, query, MALLORY), grant(keys),
                   403, "GROUP_TARGET_NOT_MEMBER")


@pytest.mark.parametrize("path,status,cause", [
    ("/ue/%s/groups/%s/members/%s" % (MALLORY, TEAM, MALLORY), 403,
     "GROUP_TARGET_NOT_MEMBER"),
    ("/ue/%s/%s" % (MALLORY, ALICE), 403, "GROUP_TARGET_NOT_MEMBER"),
    ("/ue/%s/x?groupMembers=%s" % (MALLORY, MALLORY), 403,
     "GROUP_TARGET_NOT_MEMBER"),
    ("/ue/%s;groupMembers=%s/x" % (MALLORY, MALLORY), 400,
     "RESOURCE_OWNER_INVALID"),
])
def test_spoof_path(gw, keys, path, status, cause):
    gw.refused(path, grant(keys), status, cause)


def test_spoof_invoker_ue(gw, keys):
    """The invoker's UE comes from the token: MALLORY's token cannot
    become ALICE's by a header or argument."""
    t = grant(keys, ue=MALLORY)
    gw.refused("/grp/?ueId=%s&invokerGpsi=%s" % (BOB, ALICE), t, 403,
               "GROUP_INVOKER_NOT_MEMBER",
               headers=[("X-Capif-Invoker-Ue", ALICE),
                        ("invokerGpsi", ALICE)])


def test_forged_group_token(gw, keys):
    t = keys.evil_rsa.token(claims=good_claims(
        externalGroupId=TEAM, invokerGpsi=ALICE))
    gw.refused("/grp/?ueId=" + BOB, t, 401, "SIGNATURE_INVALID")


def test_spoofed_identity_headers_replaced(gw, keys):
    r = gw.allowed("/grp/?ueId=" + BOB, grant(keys), headers=[
        ("X-Capif-Group-Id", OTHER), ("X-Capif-Invoker-Ue", MALLORY),
        ("x-capif-resource-owner", MALLORY), ("X-Capif-Owner-Via", "claim"),
        ("X-Capif-Purpose", "marketing")])
    assert r.upstream_header("X-Capif-Group-Id") == [TEAM]
    assert r.upstream_header("X-Capif-Invoker-Ue") == [ALICE]
    assert r.upstream_header("X-Capif-Resource-Owner") == [BOB]
    assert r.upstream_header("X-Capif-Owner-Via") == ["group"]
    assert r.upstream_header("X-Capif-Purpose") == []


# ------------------------------------------------------ group and purpose

def test_group_and_purpose(gw, keys):
    gw.allowed("/grp-purpose/?ueId=" + BOB, grant(keys, purpose="billing"))
    gw.refused("/grp-purpose/?ueId=" + BOB, grant(keys, purpose="analytics"),
               403, "PURPOSE_NOT_AUTHORIZED")
    gw.refused("/grp-purpose/?ueId=" + BOB, grant(keys), 403,
               "PURPOSE_NOT_AUTHORIZED")
    gw.refused("/grp-purpose/?ueId=" + MALLORY,
               grant(keys, purpose="billing"), 403,
               "GROUP_TARGET_NOT_MEMBER")
    gw.refused("/grp-purpose/?ueId=" + BOB,
               grant(keys, ue=MALLORY, purpose="billing"), 403,
               "GROUP_INVOKER_NOT_MEMBER")


# ---------------------------------------------- no registry: all unknown

def test_no_registry(nginx, upstream, keys):
    n = nginx(server=locations(keys, upstream.port))
    gw = capif.Gateway(n, upstream, keys)
    gw.refused("/grp/?ueId=" + BOB, grant(keys), 403, "GROUP_UNKNOWN")
    gw.allowed("/grp-tok/?ueId=" + BOB, grant(keys,
               groupMembers=[ALICE, BOB]))


# --------------------------------------------------------------- reload

def test_reload_rereads_registry(nginx, upstream, keys, tmp_path):
    path = write_registry(str(tmp_path / "g.json"), {TEAM: [ALICE, BOB]})
    n = nginx(http="capif_groups %s;" % path,
              server=locations(keys, upstream.port))
    gw = capif.Gateway(n, upstream, keys)
    gw.allowed("/grp/?ueId=" + BOB, grant(keys))
    gw.refused("/grp/?ueId=" + MALLORY, grant(keys), 403,
               "GROUP_TARGET_NOT_MEMBER")

    write_registry(path, {TEAM: [ALICE, MALLORY]})
    n.reload()
    # old workers may accept a last connection or two: wait for a streak
    deadline, streak = time.monotonic() + 10, 0
    while streak < 5 and time.monotonic() < deadline:
        ok = n.get("/grp/?ueId=" + MALLORY, grant(keys)).status == 200
        streak = streak + 1 if ok else 0
        time.sleep(0.02)
    gw.allowed("/grp/?ueId=" + MALLORY, grant(keys))
    gw.refused("/grp/?ueId=" + BOB, grant(keys), 403,
               "GROUP_TARGET_NOT_MEMBER")

    # a broken file on reload keeps the running registry
    write_registry(path, "{")
    before = n.log_size()
    n.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "capif_groups" not in \
            n.error_log(before):
        time.sleep(0.05)
    assert "invalid JSON" in n.error_log(before)
    gw.allowed("/grp/?ueId=" + MALLORY, grant(keys))
    # the refused reload logged an [emerg]: expected here, not a failure
    with open(n.error_log_path) as f:
        text = f.read()
    with open(n.error_log_path, "w") as f:
        f.write(text.replace("[emerg]", "[emerg-expected]"))


# ----------------------------------------------------- large registries

def test_large_registry(nginx, upstream, keys, tmp_path):
    """10^5 members in 1000 groups: load and answer promptly."""
    reg = {"extgroupid-g%d@example.com" % g:
           ["msisdn-49%09d" % (g * 100 + i) for i in range(100)]
           for g in range(1000)}
    reg["extgroupid-g999@example.com"].append(ALICE)
    path = write_registry(str(tmp_path / "big.json"), reg)
    n = nginx(http="capif_groups %s;" % path,
              server=locations(keys, upstream.port))
    gw = capif.Gateway(n, upstream, keys)
    t = grant(keys, group="extgroupid-g999@example.com")
    gw.allowed("/grp/?ueId=msisdn-49000099950", t)
    gw.refused("/grp/?ueId=msisdn-49000000001", t, 403,
               "GROUP_TARGET_NOT_MEMBER")
    start = time.monotonic()
    for i in range(200):
        assert n.get("/grp/?ueId=msisdn-49%09d" % (99900 + i % 100),
                     t).status == 200
    assert time.monotonic() - start < 10


# ------------------------------------------------- registries nginx -t refuses

BAD_REGISTRIES = [
    ("{", "invalid JSON"),
    ("", "invalid JSON"),
    ("[]", "not a JSON object"),
    ('{"%s": []} trailing' % TEAM, "invalid JSON"),
    ('{"%s": [], "%s": []}' % (TEAM, TEAM), "invalid JSON"),
    ('{"team1": []}', 'group id "team1"'),
    ('{"EXTGROUPID-team1@example.com": []}', "is not extgroupid"),
    ('{"%s": "%s"}' % (TEAM, ALICE), "not an array"),
    ('{"%s": [5]}' % TEAM, "not a string"),
    ('{"%s": [null]}' % TEAM, "not a string"),
    ('{"%s": ["msisdn-1234"]}' % TEAM, 'member "msisdn-1234" is not a GPSI'),
    ('{"%s": ["msisdn-1234567890123456"]}' % TEAM, "is not a GPSI"),
    ('{"%s": ["MSISDN-491700000001"]}' % TEAM, "is not a GPSI"),
    ('{"%s": [" %s"]}' % (TEAM, ALICE), "is not a GPSI"),
    ('{"%s": ["%s", "%s"]}' % (TEAM, ALICE, ALICE), "twice"),
    ('{"%s": ["msisdn-49\\u0000170000000"]}' % TEAM, "invalid JSON"),
]


@pytest.mark.parametrize("text,message", BAD_REGISTRIES)
def test_registry_refused(nginx_t, tmp_path, text, message):
    path = write_registry(str(tmp_path / "bad.json"), text)
    rc, out = nginx_t(http="capif_groups %s;" % path)
    assert rc != 0, out
    assert '"capif_groups"' in out and path in out and message in out, out


def test_registry_missing(nginx_t, tmp_path):
    rc, out = nginx_t(http="capif_groups %s;" % (tmp_path / "nope.json"))
    assert rc != 0 and "capif_groups" in out and "cannot open" in out, out


def test_registry_directory(nginx_t, tmp_path):
    rc, out = nginx_t(http="capif_groups %s;" % tmp_path)
    assert rc != 0 and "not a regular file" in out, out


def test_registry_too_large(nginx_t, tmp_path):
    path = str(tmp_path / "huge.json")
    with open(path, "wb") as f:
        f.truncate(16 * 1024 * 1024 + 1)    # sparse: never read
    rc, out = nginx_t(http="capif_groups %s;" % path)
    assert rc != 0 and "capif_groups" in out and "larger than" in out, out


def test_registry_cap_ok(nginx_t, tmp_path):
    """A file just under the cap, padded with spaces, is fine."""
    text = json.dumps({TEAM: [ALICE]})
    path = str(tmp_path / "padded.json")
    with open(path, "w") as f:
        f.write(text + " " * (16 * 1024 * 1024 - len(text)))
    rc, out = nginx_t(http="capif_groups %s;" % path)
    assert rc == 0, out


def test_registry_http_level_only(nginx_t, registry_path):
    rc, out = nginx_t(server="capif_groups %s;" % registry_path)
    assert rc != 0 and '"capif_groups" directive is not allowed here' in out
    rc, out = nginx_t(server="location / { capif_groups %s; }"
                      % registry_path)
    assert rc != 0 and '"capif_groups" directive is not allowed here' in out


def test_registry_twice(nginx_t, registry_path):
    rc, out = nginx_t(http="capif_groups %s;\ncapif_groups %s;"
                      % (registry_path, registry_path))
    assert rc != 0 and '"capif_groups" directive is duplicate' in out, out


def test_registry_relative_to_prefix(nginx_t, tmp_path):
    """A relative path is taken from the configuration prefix, as
    include and ssl_certificate do."""
    rc, out = nginx_t(http="capif_groups conf/absent-groups.json;")
    assert rc != 0 and "absent-groups.json" in out, out
    assert os.path.isabs(out.split('"capif_groups": "')[1].split('"')[0])


# ------------------------------------------- README tokens (capif-token)

def test_readme_tokens(gw, keys):
    """The README's group example, minted with build/capif-token."""
    def cli(*args):
        return capif.capif_token("--key", keys.rsa.priv_path, "--alg",
                                 "RS256", "--invoker", capif.INVOKER,
                                 "--scope", capif.SCOPE, *args)

    g = ("--claim", "externalGroupId=" + TEAM)
    ok = cli(*g, "--claim", "invokerGpsi=" + ALICE)
    gw.allowed("/grp/?ueId=" + BOB, ok)
    gw.refused("/grp/?ueId=" + MALLORY, ok, 403, "GROUP_TARGET_NOT_MEMBER")
    gw.refused("/grp/?ueId=" + BOB, cli(*g, "--claim",
               "invokerGpsi=" + MALLORY), 403, "GROUP_INVOKER_NOT_MEMBER")
    gw.refused("/grp/?ueId=" + BOB, cli(
        "--claim", "externalGroupId=extgroupid-team2@example.com",
        "--claim", "invokerGpsi=" + ALICE), 403, "GROUP_UNKNOWN")
    gw.refused("/grp/?ueId=" + MALLORY, ok, 403, "GROUP_TARGET_NOT_MEMBER",
               headers=[("X-Capif-Group-Members", MALLORY)])
    gw.allowed("/grp-tok/?ueId=" + MALLORY, cli(
        *g, "--claim", "invokerGpsi=" + ALICE, "--claim-json",
        'groupMembers=["%s","%s"]' % (ALICE, MALLORY)))
    gw.allowed("/grp/?ueId=" + ALICE, cli(
        "--claim-json", 'resOwnerId=["%s",{"gpsi":"%s"}]' % (BOB, ALICE)))
    gw.refused("/grp/?ueId=" + ALICE, cli(
        "--claim-json", 'resOwnerId=["%s",5]' % ALICE), 401,
        "RESOURCE_OWNER_CLAIM_INVALID")

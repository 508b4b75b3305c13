#!/usr/bin/env python3
"""Writes the seed corpora t/fuzz/<target>.seeds/ of the fuzz targets.

Run once after changing a target's input format; the seeds are committed.
Tokens are signed with the keys the targets configure (fuzz_token.c holds
the Ed25519 private key; the RS256 one is t/fuzz/fuzz_token_rs256.key),
so that they verify and the claim checks behind the signature are reached.

The ``cov-*`` files beside them are not made here: they are the corpus of
a long run of each target (``FUZZ_RUNS=10000000 scripts/fuzz``) minimized
with libFuzzer's ``-merge=1``, so that the replay in scripts/test reaches
what that run reached.
"""

import base64
import json
import os
import struct

import jwt
from cryptography.hazmat.primitives import serialization

HERE = os.path.dirname(os.path.abspath(__file__))

ED_PRIVATE = (
    b"-----BEGIN PRIVATE KEY-----\n"
    b"MC4CAQAwBQYDK2VwBCIEIDdpWmv195fInCvyvtL47uYFJ25vGhj0u2AXV6lrlf6Y\n"
    b"-----END PRIVATE KEY-----\n")
NOW = 1800000000    # the targets' fixed "now"


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=")


def write(target, name, data):
    d = os.path.join(HERE, target + ".seeds")
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def token_seeds():
    ed = serialization.load_pem_private_key(ED_PRIVATE, None)
    with open(os.path.join(HERE, "fuzz_token_rs256.key"), "rb") as f:
        rs = serialization.load_pem_private_key(f.read(), None)
    good = {"iss": "INV-1234", "sub": "INV-1234", "scope": "3gpp#aef-1:api-1",
            "exp": NOW + 3600, "iat": NOW - 60, "jti": "j-1",
            "type": "access"}
    # what the reference CCF emits: RS256, no kid, client_id, 'type'
    ccf = dict(good, client_id="INV-1234", scope="3gpp#aef-1:api-1,api-2")
    cases = {
        "ed-valid": (ed, "EdDSA", {"kid": "ed"}, good),
        "ed-no-kid": (ed, "EdDSA", {}, good),
        "ed-expired": (ed, "EdDSA", {"kid": "ed"}, dict(good, exp=NOW - 600)),
        "ed-wrong-scope": (ed, "EdDSA", {"kid": "ed"},
                           dict(good, scope="3gpp#aef-2:api-1")),
        "ed-multi-scope": (ed, "EdDSA", {"kid": "ed"},
                           dict(good, scope="3gpp#aef-0:x;aef-1:api-0,api-1"
                                             " openid")),
        "rs-ccf": (rs, "RS256", {}, ccf),
        "rs-kid-unknown": (rs, "RS256", {"kid": "nope"}, good),
    }
    for name, (key, alg, hdr, claims) in cases.items():
        tok = jwt.encode(claims, key, algorithm=alg, headers=hdr)
        write("fuzz_token", name, b"T" + tok.encode())
        signing_input = tok.encode().rsplit(b".", 1)[0]
        write("fuzz_token", name + ".signed", b"S" + signing_input)
    hdr = b64u(b'{"alg":"EdDSA","kid":"ed","typ":"JWT"}')
    odd = {
        "no-exp": {"iss": "INV-1234", "scope": "3gpp#aef-1:api-1"},
        "exp-float": dict(good, exp=1.8e9 + 100.5),
        "exp-huge": dict(good, exp=10 ** 30),
        "iss-array": dict(good, iss=["INV-1234"]),
        "nested": dict(good, x={"a": [{"b": [1, 2, {"c": None}]}]}),
    }
    for name, claims in odd.items():
        payload = b64u(json.dumps(claims).encode())
        write("fuzz_token", "odd-" + name, b"S" + hdr + b"." + payload)
    write("fuzz_token", "dup-key", b"S" + hdr + b"." +
          b64u(b'{"iss":"a","iss":"b","exp":1800003600,'
               b'"scope":"3gpp#aef-1:api-1"}'))
    write("fuzz_token", "alg-none", b"T" + b64u(b'{"alg":"none"}') + b"." +
          b64u(json.dumps(good).encode()) + b".")
    write("fuzz_token", "empty", b"T")


def scope_seeds():
    cases = {
        "simple": ("aef-1", "api-1", "3gpp#aef-1:api-1"),
        "lists": ("aef-1", "api-2", "3gpp#aef-0:a,b;aef-1:api-1,api-2"),
        "with-others": ("aef-1", "api-1", "openid 3gpp#aef-1:api-1 x"),
        "other-aef": ("aef-1", "api-1", "3gpp#aef-2:api-1"),
        "bad-tail": ("aef-1", "api-1", "3gpp#aef-1:api-1;"),
        "spaces": ("aef-1", "api-1", "  3gpp#aef-1:api-1  "),
        "empty": ("aef-1", "api-1", ""),
        "two-3gpp": ("a", "b", "3gpp#a:c 3gpp#a:b"),
    }
    for name, (aef, api, scope) in cases.items():
        write("fuzz_scope", name, bytes([len(aef), len(api)]) +
              (aef + api + scope).encode())


def ids_seeds():
    for i, s in enumerate([
            "msisdn-491700000001", "msisdn-1234", "msisdn-1234567890123456",
            "extid-alice@example.com", "extid-@example.com", "extid-a@",
            "extgroupid-team1@example.com", "extgroupid-x@y",
            "extid-" + "a" * 64 + "@" + "b" * 253, "marketing",
            "msisdn-49170000000\x00", "extid-a@b@c", ""]):
        write("fuzz_ids", "id-%02d" % i, s)


def groups_seeds():
    regs = {
        "team": {"extgroupid-team1@example.com": [
            "msisdn-491700000001", "msisdn-491700000002",
            "extid-carol@example.com"]},
        "two": {"extgroupid-a@example.com": ["msisdn-12345"],
                "extgroupid-b@example.com": ["msisdn-12345",
                                             "msisdn-67890"]},
        "empty-group": {"extgroupid-e@example.com": []},
        "empty": {},
    }
    for name, reg in regs.items():
        write("fuzz_groups", name, json.dumps(reg))
    write("fuzz_groups", "dup-member",
          '{"extgroupid-a@b.c": ["msisdn-12345", "msisdn-12345"]}')
    write("fuzz_groups", "dup-group",
          '{"extgroupid-a@b.c": [], "extgroupid-a@b.c": []}')
    write("fuzz_groups", "bad-id", '{"group-1": ["msisdn-12345"]}')
    write("fuzz_groups", "not-array", '{"extgroupid-a@b.c": "msisdn-12345"}')


def rec(rtype, cause, revoked_at, expires, a, b, c):
    out = struct.pack(">BBBBqq", 1, rtype, cause, 0, revoked_at, expires)
    for s in (a, b, c):
        s = s.encode()
        out += struct.pack(">H", len(s)) + s
    return out


def revocation_seeds():
    t = NOW
    records = {
        "invoker": rec(1, 4, t, t + 3600, "INV-1234", "apiid-77",
                       "aef-1"),
        "invoker-all-apis": rec(1, 1, t, t + 3600, "INV-1234", "", "aef-1"),
        "token-jti": rec(2, 3, t, t + 600, "jti", "j-1", ""),
        "token-sha256": rec(2, 2, t, t + 600, "sha256", "ab" * 32, ""),
        "owner": rec(3, 4, t, t + 3600, "INV-1234", "msisdn-491700000001",
                     "marketing"),
        "group": rec(4, 4, t, t + 3600, "extgroupid-team1@example.com",
                     "INV-1234", ""),
        "bad-version": b"\x02" + rec(1, 4, t, t, "a", "b", "c")[1:],
        "short": rec(1, 4, t, t, "a", "b", "c")[:21],
    }
    for name, data in records.items():
        write("fuzz_revocation", name, data)
    # the same records as fields: type, cause length, times, lengths,
    # the fields, the cause
    fields = {
        "f-invoker": (1, "OTHER_REASON", "INV-1", "api-1", "aef-1"),
        "f-owner": (3, "OTHER_REASON", "INV-1", "msisdn-491700000001", ""),
        "f-group": (4, "EXPIRED_AUTHORIZATION", "extgroupid-a@b.c", "", ""),
    }
    for name, (ty, cause, a, b, c) in fields.items():
        write("fuzz_revocation", name,
              struct.pack(">BBqqBBB", ty, len(cause), t, t + 60, len(a),
                          len(b), len(c)) + (a + b + c + cause).encode())


def policy_seeds():
    alice, bob = "msisdn-491700000001", "msisdn-491700000002"
    team = "extgroupid-team1@example.com"
    cases = {
        "owner-claim": (4, alice, "", {"resOwnerId": alice}),
        "owner-rel19": (4, alice, "", {"resOwnerId": {"gpsi": alice}}),
        "owner-list": (4, alice, "", {"resOwnerId": [bob, alice]}),
        "owner-other": (4, alice, "", {"resOwnerId": bob}),
        "group-registry": (6, bob, "", {"externalGroupId": team}),
        "group-members": (5, alice, "", {"externalGroupId": team,
                                         "members": [alice]}),
        "group-ue": (6, alice, "", {"externalGroupId": team,
                                    "invokerGpsi": alice}),
        "purpose-req": (24, "", "marketing", {"purpose": "marketing"}),
        "purpose-claim": (16, "", "", {"purpose": ["research",
                                                   "marketing"]}),
        "purpose-missing": (24, "", "", {}),
        "all": (31, alice, "research",
                {"resOwnerId": alice, "purpose": "research",
                 "externalGroupId": team, "members": [alice]}),
    }
    for name, (sw, owner, purpose, claims) in cases.items():
        write("fuzz_policy", name, bytes([sw, len(owner), len(purpose)]) +
              (owner + purpose + json.dumps(claims)).encode())


if __name__ == "__main__":
    token_seeds()
    scope_seeds()
    ids_seeds()
    groups_seeds()
    revocation_seeds()
    policy_seeds()

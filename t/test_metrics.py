"""Prometheus metrics: ``capif_metrics;`` serves the text exposition
0.0.4, checked by ``promtool check metrics``; counters from two workers
are summed, survive a reload, count allowed and refused calls by cause,
revocation pushes by operation and result, the entries gauge, journal
fsyncs and token verifications by algorithm.  Labels never carry what a
client sent."""

import os
import re
import shutil
import subprocess

import pytest

import capif
from capif import good_claims
from test_revocation_common import (
    STRICT, Certs, post, revoke, start_kwargs)

PROMTOOL = shutil.which("promtool")


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return Certs(str(tmp_path_factory.mktemp("certs")))


@pytest.fixture(scope="module")
def gw(module_nginx, upstream, keys, certs, tmp_path_factory):
    journal = str(tmp_path_factory.mktemp("j") / "journal")
    kw = start_kwargs(keys, certs, upstream, journal, workers=2,
                      extra_server="""
        location = /metrics {
            capif_metrics;
            allow 127.0.0.1;
            deny all;
        }
""")
    # every call verifies its token: the verify histogram counts each
    kw["http"] += "\ncapif_token_cache off;\n"
    return module_nginx(**kw)


def scrape(n):
    r = n.request("GET", "/metrics", test_id=False)
    assert r.status == 200, r
    assert r.header("Content-Type") == (
        "text/plain; version=0.0.4; charset=utf-8"), r
    return r.body.decode()


def samples(text):
    """{'name{labels}': value} of every sample line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-z_]+(?:\{[^}]*\})?) (\S+)$", line)
        assert m, "bad sample line %r" % line
        assert m.group(1) not in out, "duplicate sample %r" % line
        out[m.group(1)] = float(m.group(2))
    return out


def req(decision, cause=""):
    return 'capif_requests_total{decision="%s",cause="%s"}' % (decision,
                                                               cause)


def rev(api, result):
    return ('capif_revocations_received_total{api="%s",result="%s"}'
            % (api, result))


def delta(before, after):
    return {k: after[k] - before.get(k, 0) for k in after
            if after[k] != before.get(k, 0)}


def test_promtool_accepts_exposition(gw):
    assert PROMTOOL, "promtool missing: run scripts/setup (prometheus)"
    text = scrape(gw)
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    assert p.returncode == 0, p.stdout.decode()
    assert p.stdout.decode().strip() == "", p.stdout.decode()


def test_requests_by_decision_and_cause(gw, keys):
    before = samples(scrape(gw))
    tok = keys.rsa.token()
    for _ in range(6):                  # both workers get some
        assert gw.get("/api/x", tok).status == 200
    for _ in range(3):
        assert gw.get("/api/x").status == 401
    assert gw.get("/api/x", keys.rsa.token(
        claims=good_claims(scope="3gpp#aef-1:api-9"))).status == 403
    assert gw.get("/api/x", keys.p256.token()).status == 200
    after = samples(scrape(gw))
    d = delta(before, after)
    assert d.pop(req("allowed")) == 7
    assert d.pop(req("refused", "TOKEN_MISSING")) == 3
    assert d.pop(req("refused", "SCOPE_API_NOT_GRANTED")) == 1
    v = 'capif_token_verify_seconds_count{alg="%s"}'
    assert d.pop(v % "RS256") == 7
    assert d.pop(v % "ES256") == 1
    # the rest: the verify histograms' buckets and sums only
    assert all(k.startswith("capif_token_verify_seconds_") for k in d), d
    assert after['capif_token_verify_seconds_bucket{alg="RS256",le="+Inf"}'
                 ] == after[v % "RS256"]


def test_hostile_cause_and_path_add_no_label(gw, keys):
    text0 = scrape(gw)
    gw.get('/api/"}x', 'a"b} 1')
    gw.get("/api/x", headers=[("Authorization", "Bearer")])
    text = scrape(gw)
    assert len(text.splitlines()) == len(text0.splitlines())
    assert '"}x' not in text and 'a"b' not in text


def test_revocations_fsync_and_entries(gw, keys):
    before = samples(scrape(gw))
    assert revoke(gw.port, invoker="INV-metrics").status == 200
    assert post(gw.port, "revoke-owner-authorization",
                {"revokeInfo": {"apiInvokerId": "INV-m",
                                "resOwnerId": "msisdn-491700000001",
                                "cause": "OTHER_REASON"},
                 "supportedFeatures": "0"}).status == 200
    assert post(gw.port, "revoke-group-authorization",
                {"revokeInfo": {"groupId": "bad",
                                "cause": "OTHER_REASON"}}).status == 400
    assert post(gw.port, "revoke-authorization", b"{").status == 400
    # no client certificate: refused before the body is read
    assert post(gw.port, "revoke-owner-authorization", b"{}",
                prefix=STRICT).status == 403
    after = samples(scrape(gw))
    d = delta(before, after)
    assert d.pop(rev("revoke-authorization", "stored")) == 1
    assert d.pop(rev("owner", "stored")) == 1
    assert d.pop(rev("group", "refused")) == 1
    assert d.pop(rev("revoke-authorization", "refused")) == 1
    assert d.pop(rev("owner", "refused")) == 1
    assert d.pop("capif_revocation_entries") == 2
    assert d.pop("capif_journal_fsync_seconds_count") >= 2
    assert d.pop("capif_journal_fsync_seconds_sum") > 0
    assert all(k.startswith("capif_journal_fsync_seconds_bucket")
               for k in d), d


def test_counters_survive_reload(gw, keys):
    assert gw.get("/api/x").status == 401
    before = samples(scrape(gw))
    assert before[req("refused", "TOKEN_MISSING")] >= 1
    gw.reload()
    after = samples(scrape(gw))
    assert after == before


def test_only_get(gw):
    r = gw.request("POST", "/metrics", body="x", test_id=False)
    assert r.status == 405, r


def test_metrics_outside_location_refused(nginx_t):
    rc, out = nginx_t(http="capif_metrics;")
    assert rc != 0
    assert '"capif_metrics" directive is not allowed here' in out, out


def test_entries_gauge_after_restart_replay(nginx, upstream, keys, certs,
                                            tmp_path):
    """A restart replays the journal: the gauge shows the replayed
    entries; the counters start again at 0."""
    journal = str(tmp_path / "journal")
    kw = start_kwargs(keys, certs, upstream, journal, workers=1,
                      extra_server="""
        location = /metrics { capif_metrics; }
""")
    n = nginx(**kw)
    assert revoke(n.port, invoker="INV-a").status == 200
    assert revoke(n.port, invoker="INV-b").status == 200
    assert samples(scrape(n))["capif_revocation_entries"] == 2
    n.stop()
    n2 = nginx(**dict(kw, port=n.port))
    after = samples(scrape(n2))
    assert after["capif_revocation_entries"] == 2
    assert after[rev("revoke-authorization", "stored")] == 0


def test_unwritable_journal_counts_unavailable(nginx, upstream, keys, certs,
                                               tmp_path):
    """503 JOURNAL_UNAVAILABLE: result="unavailable", no entry, no fsync
    observed (the journal path is made a non-empty directory)."""
    journal = str(tmp_path / "journal")
    n = nginx(**start_kwargs(keys, certs, upstream, journal, workers=1,
                             extra_server="""
        location = /metrics { capif_metrics; }
"""))
    before = samples(scrape(n))
    os.unlink(journal)
    os.mkdir(journal)
    open(os.path.join(journal, "x"), "w").close()
    assert revoke(n.port).status == 503
    d = delta(before, samples(scrape(n)))
    assert d == {rev("revoke-authorization", "unavailable"): 1}, d

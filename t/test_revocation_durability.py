"""Revocation durability: shared by every worker, kept across reload under
load and across kill -9 of master and workers, replayed from the journal
(expired entries skipped, torn or corrupt tails detected and the valid
prefix kept), compacted, 507 on a full zone and 503 when the journal
cannot be written.  worker_processes 2, real upstream.
"""

import os
import signal
import struct
import subprocess
import threading
import time
import zlib

import pytest

import capif
from test_revocation_common import (
    Certs, Unmanaged, assert_ok, assert_problem, assert_revoked, listing,
    revoke, revoke_body, start_kwargs, token)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return Certs(str(tmp_path_factory.mktemp("certs")))


@pytest.fixture
def unmanaged(tmp_path):
    u = Unmanaged(tmp_path / "own")
    yield u
    u.stop_all()
    for n in u.started:
        assert not Unmanaged.crashes(n), n.error_log()


# ---------------------------------------------------------------- journal

#: what the gateway writes (version 2: a frame per push)
HEADER = b"CAPIFRJ\x02"
#: what older gateways wrote (a frame per record); still replayed
HEADER_V1 = b"CAPIFRJ\x01"
CAUSE_OTHER = 4


def record(typ, a, b=b"", c=b"", revoked=None, expires=None,
           cause=CAUSE_OTHER):
    now = int(time.time())
    # "revoked" a little ahead: tokens the test makes now are older
    revoked = now + 30 if revoked is None else revoked
    expires = now + 3600 if expires is None else expires
    p = bytes([1, typ, cause, 0]) + struct.pack(">qq", revoked, expires)
    for s in (a, b, c):
        s = s.encode() if isinstance(s, str) else s
        p += struct.pack(">H", len(s)) + s
    return p


def invoker_record(invoker, api=capif.API_NAME, aef=capif.AEF_ID, **kw):
    return record(1, invoker, aef, api, **kw)


def frame(payload):
    ln = struct.pack(">I", len(payload))
    return ln + struct.pack(">I", zlib.crc32(ln + payload)) + payload


def write_journal(path, payloads, tail=b""):
    with open(path, "wb") as f:
        f.write(HEADER_V1 + b"".join(frame(p) for p in payloads) + tail)


def invoker_token(keys, inv):
    return token(keys, invoker=inv, iss=inv, sub=inv)


# ---------------------------------------------------------------- reload

def _hammer(port, tok, stop, results):
    while not stop.is_set():
        sent = time.monotonic()
        try:
            r = capif.request(port, "GET", "/api/x",
                              [("Authorization", "Bearer " + tok)],
                              test_id=False, timeout=5)
            results.append((sent, r.status))
        except OSError as e:
            results.append((sent, repr(e)))


def test_holds_across_reload_under_load(nginx, upstream, keys, certs,
                                        tmp_path):
    n = nginx(**start_kwargs(keys, certs, upstream,
                             str(tmp_path / "journal")))
    t = token(keys)
    assert_ok(n, "/api/x", t)
    started = n.log_size()

    stop = threading.Event()
    results = []
    threads = [threading.Thread(target=_hammer,
                                args=(n.port, t, stop, results))
               for _ in range(4)]
    for th in threads:
        th.start()
    try:
        time.sleep(0.3)
        assert revoke(n.port).status == 200
        acked = time.monotonic()
        time.sleep(0.3)
        n.reload()
        time.sleep(0.5)
        n.reload()
        time.sleep(0.5)
    finally:
        stop.set()
        for th in threads:
            th.join()

    after = [s for ts, s in results if ts > acked]
    assert len(after) > 50, results[-5:]
    assert all(s == 401 for s in after), [s for s in after if s != 401][:5]
    assert_revoked(n, "/api/x", t)
    assert listing(n.port)["count"] == 1
    # the zone was kept: no replay on reload
    assert "replayed:" not in n.error_log(started)


# ---------------------------------------------------------------- kill -9

def test_holds_after_kill9_and_restart(nginx, upstream, keys, certs,
                                       tmp_path, unmanaged):
    journal = str(tmp_path / "journal")
    kw = start_kwargs(keys, certs, upstream, journal)
    n = nginx(**kw)
    t = token(keys)
    tok2 = token(keys, key=keys.p256)
    assert revoke(n.port).status == 200
    assert revoke(n.port, token=tok2, api_ids=["api-2"]).status == 200
    assert_revoked(n, "/api/x", t)

    # no clean shutdown: master and every worker at once
    os.killpg(n.proc.pid, signal.SIGKILL)
    n.proc.wait(timeout=10)

    m = unmanaged.start(port=n.port, **kw)
    assert_revoked(m, "/api/x", t)
    assert_revoked(m, "/api/x", tok2)
    # the token, and the invoker for api-2 that its revocation names
    assert listing(m.port)["count"] == 3
    assert "replayed: 3 live, 0 expired" in m.error_log()
    # a token issued later is fine
    time.sleep(1.05)
    assert_ok(m, "/api/x", token(keys))


# ---------------------------------------------------------------- replay

def test_replay_skips_expired(unmanaged, upstream, keys, certs, tmp_path):
    journal = str(tmp_path / "journal")
    now = int(time.time())
    write_journal(journal, [
        invoker_record("INV-live"),
        invoker_record("INV-gone", revoked=now - 7200, expires=now - 10),
    ])
    m = unmanaged.start(**start_kwargs(keys, certs, upstream, journal))
    assert_revoked(m, "/api/x", invoker_token(keys, "INV-live"))
    assert_ok(m, "/api/x", invoker_token(keys, "INV-gone"))
    assert "replayed: 1 live, 1 expired" in m.error_log()
    # the journal was rewritten without the expired entry
    with open(journal, "rb") as f:
        data = f.read()
    assert data.startswith(HEADER) and b"INV-gone" not in data


CORRUPTIONS = {
    # name: (tail bytes or a function of the good bytes, live invokers)
    "truncated-frame": (lambda good: good[:-5], ["INV-a", "INV-b"]),
    "garbage-tail": (lambda good: good + os.urandom(37),
                     ["INV-a", "INV-b", "INV-c"]),
    "zero-tail": (lambda good: good + b"\0" * 4096,
                  ["INV-a", "INV-b", "INV-c"]),
    "flipped-bit": (None, ["INV-a"]),
    "torn-header": (lambda good: b"CAPIF", []),
}


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_corrupt_tail_keeps_valid_prefix(unmanaged, upstream, keys, certs,
                                         tmp_path, kind):
    journal = str(tmp_path / "journal")
    recs = [invoker_record(i) for i in ("INV-a", "INV-b", "INV-c")]
    good = HEADER_V1 + b"".join(frame(p) for p in recs)
    make, live = CORRUPTIONS[kind]
    if make is None:
        off = len(HEADER_V1) + len(frame(recs[0])) + 12
        bad = bytearray(good)
        bad[off] ^= 0x04
        data = bytes(bad)
    else:
        data = make(good)
    with open(journal, "wb") as f:
        f.write(data)

    kw = start_kwargs(keys, certs, upstream, journal)
    m = unmanaged.start(**kw)
    for inv in ("INV-a", "INV-b", "INV-c"):
        t = invoker_token(keys, inv)
        if inv in live:
            assert_revoked(m, "/api/x", t)
        else:
            assert_ok(m, "/api/x", t)
    log = m.error_log()
    assert "[alert]" in log, log
    assert "kept" in log or "torn header" in log, log
    # the damaged file is kept aside, the journal is clean again
    with open(journal + ".corrupt", "rb") as f:
        assert f.read() == data

    # new revocations after the damage survive the next restart
    t_new = invoker_token(keys, "INV-new")
    assert revoke(m.port, invoker="INV-new").status == 200
    m.stop()
    m2 = unmanaged.start(name="gw2", port=m.port, **kw)
    assert_revoked(m2, "/api/x", t_new)
    for inv in live:
        assert_revoked(m2, "/api/x", invoker_token(keys, inv))
    assert "[alert]" not in m2.error_log()


def test_foreign_file_refused(nginx_t, upstream, keys, certs, tmp_path):
    journal = str(tmp_path / "journal")
    with open(journal, "w") as f:
        f.write("this is not a journal\n")
    kw = start_kwargs(keys, certs, upstream, journal)
    kw.pop("worker_processes")
    rc, out = nginx_t(**kw)
    assert rc != 0 and "is not a capif journal" in out, out
    with open(journal) as f:
        assert f.read() == "this is not a journal\n"


def test_config_test_does_not_touch_journal(nginx, upstream, keys, certs,
                                            tmp_path):
    journal = str(tmp_path / "journal")
    n = nginx(**start_kwargs(keys, certs, upstream, journal))
    t = token(keys)
    assert revoke(n.port).status == 200
    st = os.stat(journal)
    p = subprocess.run([capif.NGINX, "-p", n.prefix + "/", "-c",
                        "conf/nginx.conf", "-t"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    assert p.returncode == 0, p.stdout
    st2 = os.stat(journal)
    assert (st.st_ino, st.st_size, st.st_mtime_ns) == (
        st2.st_ino, st2.st_size, st2.st_mtime_ns)
    assert_revoked(n, "/api/x", t)


# ---------------------------------------------------------------- compaction

def test_journal_is_compacted(nginx, upstream, keys, certs, tmp_path):
    journal = str(tmp_path / "journal")
    kw = start_kwargs(keys, certs, upstream, journal)
    n = nginx(**kw)
    t = token(keys)
    body = revoke_body(api_ids=["api-1"] * 60)
    for _ in range(40):
        assert revoke(n.port, body=body).status == 200
    size = os.path.getsize(journal)
    # 40 x 60 frames of ~70 bytes were appended; the live set is 1 entry
    assert size < 64 * 1024 + 60 * 100, size
    assert "compacted" in n.error_log()
    assert listing(n.port)["count"] == 1
    assert_revoked(n, "/api/x", t)


# ---------------------------------------------------------------- 507 / 503

def test_full_zone_refused_with_507(unmanaged, upstream, keys, certs,
                                    tmp_path):
    journal = str(tmp_path / "journal")
    m = unmanaged.start(**start_kwargs(keys, certs, upstream, journal,
                                       zone="32k"))
    t = token(keys, scope="3gpp#aef-1:api-0-0-" + "x" * 40)
    stored = 0
    for i in range(100):
        ids = ["api-%d-%d-%s" % (i, j, "x" * 40) for j in range(50)]
        r = revoke(m.port, api_ids=ids)
        if r.status == 507:
            break
        assert r.status == 200, r
        stored += 50
    else:
        pytest.fail("the zone never filled up")
    assert_problem(r, 507, "INSUFFICIENT_STORAGE")
    assert stored > 0
    # nothing of the refused push was stored, nothing was evicted
    assert listing(m.port)["count"] == stored
    assert "is full" in m.error_log() and "[alert]" in m.error_log()
    with open(journal, "rb") as f:
        assert f.read().count(b"api-%d-" % i) == 0
    # what was acknowledged is still enforced
    r = revoke(m.port, api_ids=["api-1"])
    assert r.status in (200, 507)
    loc = """
        location /full/ {
            capif on; capif_key_file %s; capif_aef_id aef-1;
            capif_api_name api-0-0-%s; proxy_pass http://127.0.0.1:%d;
        }""" % (keys.rsa.pub_path, "x" * 40, upstream.port)
    m.stop()
    kw = start_kwargs(keys, certs, upstream, journal, zone="64k",
                      extra_server=loc)
    m2 = unmanaged.start(name="gw2", port=m.port, **kw)
    assert_revoked(m2, "/full/x", t)
    assert listing(m2.port)["count"] >= stored


def test_journal_unwritable_gives_503(unmanaged, upstream, keys, certs,
                                      tmp_path):
    journal = str(tmp_path / "journal")
    # a worker that has the journal open logs an alert: it was replaced
    n = unmanaged.start(**start_kwargs(keys, certs, upstream, journal))
    t = token(keys)
    # the journal path becomes a non-empty directory: neither an append
    # nor a rewrite (rename over it) can succeed
    os.unlink(journal)
    os.mkdir(journal)
    open(os.path.join(journal, "x"), "w").close()
    for _ in range(3):
        r = revoke(n.port)
        assert_problem(r, 503, "JOURNAL_UNAVAILABLE")
    assert listing(n.port)["count"] == 0
    assert_ok(n, "/api/x", t)

    # the CCF retries once the disk is back: acknowledged and durable
    os.unlink(os.path.join(journal, "x"))
    os.rmdir(journal)
    r = revoke(n.port)
    assert r.status == 200, r
    assert_revoked(n, "/api/x", t)
    with open(journal, "rb") as f:
        data = f.read()
    assert data.startswith(HEADER) and capif.INVOKER.encode() in data


def test_reload_to_new_journal_and_longer_lifetime(nginx, upstream, keys,
                                                   certs, tmp_path,
                                                   unmanaged):
    j1, j2 = str(tmp_path / "j1"), str(tmp_path / "j2")
    n = nginx(**start_kwargs(keys, certs, upstream, j1))
    t = token(keys)
    assert revoke(n.port).status == 200

    kw2 = start_kwargs(keys, certs, upstream, j2, lifetime="2h")
    with open(os.path.join(n.prefix, "conf", "nginx.conf"), "w") as f:
        f.write(capif._conf_text(n.port, **kw2))
    n.reload()
    time.sleep(0.3)

    with open(j2, "rb") as f:
        assert capif.INVOKER.encode() in f.read()
    e = listing(n.port)["revocations"][0]
    assert e["expiresAt"] - e["revokedAt"] >= 7200
    assert_revoked(n, "/api/x", t)

    os.killpg(n.proc.pid, signal.SIGKILL)
    n.proc.wait(timeout=10)
    m = unmanaged.start(port=n.port, **kw2)
    assert_revoked(m, "/api/x", t)


def test_full_zone_makes_room_by_dropping_expired(unmanaged, upstream, keys,
                                                  certs, tmp_path):
    def ids(i):
        return ["api-%d-%d-%s" % (i, j, "x" * 40) for j in range(50)]

    # how many entries a 32k zone holds
    journal = str(tmp_path / "journal")
    kw = start_kwargs(keys, certs, upstream, journal, zone="32k")
    m = unmanaged.start(**kw)
    cap = 0
    for i in range(100):
        r = revoke(m.port, api_ids=ids(i))
        if r.status == 507:
            break
        cap += 50
    m.stop()
    assert cap >= 50

    # nearly full of entries that expire in a few seconds (time enough to
    # start under ASan on a loaded machine), one of them with the key of
    # the next push
    now = int(time.time())
    recs = [invoker_record(capif.INVOKER, api=a, expires=now + 6)
            for i in range(cap // 50) for a in ids(i)][:cap - 10]
    write_journal(journal, recs)
    m2 = unmanaged.start(name="gw2", port=m.port, **kw)
    assert listing(m2.port)["count"] == cap - 10
    time.sleep(max(0, now + 7.2 - time.time()))
    assert listing(m2.port)["count"] == 0
    r = revoke(m2.port, api_ids=ids(0))
    assert r.status == 200, r
    assert listing(m2.port)["count"] == 50
    assert "is full" not in m2.error_log()

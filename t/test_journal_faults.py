"""The revocation journal under real faults: a small tmpfs that fills up,
the journal unlinked or replaced at run time, fsync slowed to seconds with
strace's fault injection, a journal directory the worker user cannot
write, kill -9.  The promise under test: nothing acknowledged is lost and
nothing refused (503) is ever enforced.  worker_processes 2, real upstream.
Needs root (mount, strace, user switch), as CI runs.
"""

import errno
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

import capif
from test_revocation_common import (
    MODULE, Certs, Unmanaged, assert_ok, assert_problem, assert_revoked, listing,
    revoke, start_kwargs, token)

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="mounts, strace and users need root")

HEADER = b"CAPIFRJ\x02"


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return Certs(str(tmp_path_factory.mktemp("certs")))


@pytest.fixture
def unmanaged(tmp_path):
    u = Unmanaged(tmp_path / "own")
    yield u
    u.stop_all()
    for n in u.started:
        # a worker killed by a test is no crash
        bad = [ln for ln in Unmanaged.crashes(n)
               if "exited on signal 9" not in ln]
        assert not bad, n.error_log()


@pytest.fixture
def tmpfs(tmp_path):
    """A 64 KiB tmpfs: small enough to fill in a moment."""
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755",
                    "tmpfs", str(mnt)], check=True)
    yield str(mnt)
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(directory):
    """Fills the file system of directory up; returns the filler path."""
    path = os.path.join(directory, "filler")
    with open(path, "ab", buffering=0) as f:
        for chunk in (4096, 512, 64, 1):
            while True:
                try:
                    f.write(b"\0" * chunk)
                except OSError as e:
                    assert e.errno == errno.ENOSPC, e
                    break
    return path


def invoker_push(n, prefix="INV-P"):
    """A push naming n invokers (one entry each, ~150 bytes)."""
    return ["%s-%02d-%s" % (prefix, i, "y" * 100) for i in range(n)]


def kill9(n):
    """kill -9 of master and workers; returns once all are gone (and the
    listening socket with them)."""
    os.killpg(n.proc.pid, signal.SIGKILL)
    n.proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while True:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", n.port))
            return
        except OSError:
            assert time.monotonic() < deadline, "workers outlived kill -9"
            time.sleep(0.02)
        finally:
            s.close()


def kill9_and_restart(n, unmanaged, kw, name):
    kill9(n)
    return unmanaged.start(name=name, port=n.port, **kw)


def inv_token(keys, inv):
    """A token of invoker inv; make it before the revocation (a token
    issued after a revocation is not refused by it)."""
    return token(keys, invoker=inv, iss=inv, sub=inv)


# ------------------------------------------------------------ full disk

def test_push_answered_503_on_full_disk_leaves_no_trace(
        unmanaged, upstream, keys, certs, tmpfs):
    journal = os.path.join(tmpfs, "journal")
    kw = start_kwargs(keys, certs, upstream, journal)
    n = unmanaged.start(**kw)
    t = token(keys)
    assert revoke(n.port).status == 200
    fill(tmpfs)
    size = os.path.getsize(journal)

    # a 40-entry push that cannot fit: some of it reaches the file, then
    # ENOSPC; it must be cut off again before the 503
    apis = invoker_push(40, "api-full")
    r = revoke(n.port, api_ids=apis)
    assert_problem(r, 503, "JOURNAL_UNAVAILABLE")
    assert os.path.getsize(journal) == size
    assert "cut off again" in n.error_log()
    assert listing(n.port)["count"] == 1

    # after a crash and a restart (disk still full): none of the 40
    m = kill9_and_restart(n, unmanaged, kw, "gw2")
    assert "replayed: 1 live" in m.error_log()
    assert_revoked(m, "/api/x", t)
    assert listing(m.port)["count"] == 1
    with open(journal, "rb") as f:
        assert b"api-full" not in f.read()

    # space again: the CCF's retry is acknowledged, and durable
    os.unlink(os.path.join(tmpfs, "filler"))
    assert revoke(m.port, api_ids=apis).status == 200
    m2 = kill9_and_restart(m, unmanaged, kw, "gw3")
    assert listing(m2.port)["count"] == 41


@pytest.mark.parametrize("cut", [1, 100, 3000])
def test_torn_push_is_never_replayed_in_part(unmanaged, upstream, keys,
                                            certs, tmp_path, cut):
    # what a crash in the middle of a 40-entry append leaves behind
    journal = str(tmp_path / "journal")
    kw = start_kwargs(keys, certs, upstream, journal)
    n = unmanaged.start(**kw)
    assert revoke(n.port).status == 200
    before = os.path.getsize(journal)
    assert revoke(n.port, api_ids=invoker_push(40, "api-torn")).status == 200
    after = os.path.getsize(journal)
    assert after - before > 3000
    kill9(n)
    os.truncate(journal, after - cut)

    m = unmanaged.start(name="gw2", port=n.port, **kw)
    assert "replayed: 1 live" in m.error_log()
    assert listing(m.port)["count"] == 1


def test_restart_on_full_disk_keeps_acknowledged(unmanaged, upstream, keys,
                                                 certs, tmpfs):
    journal = os.path.join(tmpfs, "journal")
    kw = start_kwargs(keys, certs, upstream, journal)
    n = unmanaged.start(**kw)
    invs = ["INV-ack-%02d" % i for i in range(16)]
    toks = [inv_token(keys, i) for i in invs]
    t_new = inv_token(keys, "INV-new")
    for i in invs:
        assert revoke(n.port, invoker=i).status == 200
    kill9(n)

    # a torn push at the end (a crash mid-append), then a full disk
    with open(journal, "ab") as f:
        f.write(b"\x00\x00\x01\x00\xde\xad")
    with open(journal, "rb") as f:
        damaged = f.read()
    fill(tmpfs)

    # the restart cannot write a clean journal: the damaged one stays in
    # place, whole, and its valid prefix is enforced
    m = unmanaged.start(name="gw2", port=n.port, **kw)
    log = m.error_log()
    assert "replayed: 16 live" in log, log
    assert "left as it is" in log, log
    with open(journal, "rb") as f:
        assert f.read() == damaged
    assert listing(m.port)["count"] == 16
    for t in toks:
        assert_revoked(m, "/api/x", t)
    # nothing new can be made durable: refused, and not enforced
    r = revoke(m.port, invoker="INV-new")
    assert_problem(r, 503, "JOURNAL_UNAVAILABLE")
    assert_ok(m, "/api/x", t_new)

    # and again: still all 16
    m2 = kill9_and_restart(m, unmanaged, kw, "gw3")
    assert "replayed: 16 live" in m2.error_log()
    assert listing(m2.port)["count"] == 16

    # room again: the journal is rewritten clean, the damage kept aside
    os.unlink(os.path.join(tmpfs, "filler"))
    m3 = kill9_and_restart(m2, unmanaged, kw, "gw4")
    assert listing(m3.port)["count"] == 16
    with open(journal + ".corrupt", "rb") as f:
        assert f.read() == damaged
    with open(journal, "rb") as f:
        assert f.read().startswith(HEADER)
    assert revoke(m3.port, invoker="INV-new").status == 200
    m4 = kill9_and_restart(m3, unmanaged, kw, "gw5")
    assert "[alert]" not in m4.error_log()
    assert listing(m4.port)["count"] == 17
    assert_revoked(m4, "/api/x", t_new)
    assert_revoked(m4, "/api/x", toks[0])


# ------------------------------------------------------------ unlink

def test_journal_unlinked_at_run_time(unmanaged, upstream, keys, certs,
                                      tmp_path):
    journal = str(tmp_path / "journal")
    kw = start_kwargs(keys, certs, upstream, journal)
    n = unmanaged.start(**kw)
    ta, tb = inv_token(keys, "INV-a0"), inv_token(keys, "INV-b5")
    # both workers append (and so hold the journal open) at least once
    for i in range(6):
        assert revoke(n.port, invoker="INV-a%d" % i).status == 200

    os.unlink(journal)
    for i in range(6):
        assert revoke(n.port, invoker="INV-b%d" % i).status == 200
    log = n.error_log()
    assert "[alert]" in log and "deleted or replaced" in log, log
    with open(journal, "rb") as f:
        data = f.read()
    for i in range(6):
        assert b"INV-a%d" % i in data and b"INV-b%d" % i in data

    m = kill9_and_restart(n, unmanaged, kw, "gw2")
    assert "replayed: 12 live" in m.error_log()
    assert_revoked(m, "/api/x", ta)
    assert_revoked(m, "/api/x", tb)


def test_journal_replaced_at_run_time(unmanaged, upstream, keys, certs,
                                      tmp_path):
    journal = str(tmp_path / "journal")
    kw = start_kwargs(keys, certs, upstream, journal)
    n = unmanaged.start(**kw)
    for i in range(4):
        assert revoke(n.port, invoker="INV-a%d" % i).status == 200

    # another file renamed over it (a restore, a careless copy)
    other = str(tmp_path / "other")
    with open(other, "wb") as f:
        f.write(HEADER)
    os.rename(other, journal)
    for i in range(4):
        assert revoke(n.port, invoker="INV-b%d" % i).status == 200
    assert "deleted or replaced" in n.error_log()

    m = kill9_and_restart(n, unmanaged, kw, "gw2")
    assert "replayed: 8 live" in m.error_log()


# ------------------------------------------------------------ slow fsync

def worker_pids(master):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)],
                         stdout=subprocess.PIPE, check=True).stdout
    return [int(p) for p in out.split()]


def traced(pid):
    """Every thread of pid is under ptrace."""
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            tracer = [ln for ln in f if ln.startswith("TracerPid:")]
        if not tracer or tracer[0].split()[1] == "0":
            return False
    return True


@pytest.fixture
def inject_fsync():
    """inject_fsync(pids, how): strace's fault injection on every fsync
    of those processes (all their threads); returns a stop function."""
    procs = []

    def stop(p):
        if p.poll() is None:
            p.terminate()
            p.wait(timeout=10)
            # the tracer is gone once no thread is traced any more
            time.sleep(0.2)

    def start(pids, how):
        args = ["strace", "-f", "-qq", "-o", "/dev/null", "-e",
                "trace=fsync", "-e", "inject=fsync:" + how]
        for p in pids:
            args += ["-p", str(p)]
        p = subprocess.Popen(args, stderr=subprocess.DEVNULL)
        procs.append(p)
        deadline = time.monotonic() + 10
        while not all(traced(w) for w in pids):
            assert time.monotonic() < deadline, "strace did not attach"
            time.sleep(0.05)
        return lambda: stop(p)

    yield start
    for p in procs:
        stop(p)


@pytest.fixture
def slow_fsync(inject_fsync):
    """slow_fsync(pids, seconds): every fsync of those processes is
    delayed."""
    return lambda pids, seconds: inject_fsync(
        pids, "delay_enter=%d" % int(seconds * 1e6))


def test_failed_fsync_leaves_no_trace(unmanaged, upstream, keys, certs,
                                      tmp_path, inject_fsync):
    journal = str(tmp_path / "journal")
    kw = start_kwargs(keys, certs, upstream, journal)
    n = unmanaged.start(**kw)
    t_io = inv_token(keys, "INV-eio")
    assert revoke(n.port).status == 200
    size = os.path.getsize(journal)

    # the disk reports an I/O error on fsync: refused, and cut off again
    stop = inject_fsync(worker_pids(n.proc.pid), "error=EIO")
    for _ in range(3):
        r = revoke(n.port, invoker="INV-eio")
        assert_problem(r, 503, "JOURNAL_UNAVAILABLE")
    assert os.path.getsize(journal) == size
    assert listing(n.port)["count"] == 1
    assert_ok(n, "/api/x", t_io)
    stop()

    m = kill9_and_restart(n, unmanaged, kw, "gw2")
    assert "replayed: 1 live" in m.error_log()
    assert_ok(m, "/api/x", t_io)
    # the disk is back: the retry is acknowledged
    assert revoke(m.port, invoker="INV-eio").status == 200
    assert_revoked(m, "/api/x", t_io)


def _timed(fn, out, key):
    t0 = time.monotonic()
    try:
        out[key] = (fn(), time.monotonic() - t0)
    except Exception as e:  # reported by the asserts below
        out[key] = (e, time.monotonic() - t0)


DELAY = 3.0


def test_slow_fsync_never_stalls_requests(unmanaged, upstream, keys, certs,
                                          tmp_path, slow_fsync):
    journal = str(tmp_path / "journal")
    kw = start_kwargs(keys, certs, upstream, journal)
    n = unmanaged.start(**kw)
    t = token(keys)
    t1, t2 = inv_token(keys, "INV-slow-1"), inv_token(keys, "INV-slow-2")
    assert_ok(n, "/api/x", t)
    # every worker's fsync takes DELAY seconds, whichever gets the push
    slow_fsync(worker_pids(n.proc.pid), DELAY)

    out = {}
    first = threading.Thread(target=_timed, args=(
        lambda: revoke(n.port, invoker="INV-slow-1"), out, "first"))
    first.start()
    time.sleep(0.3)
    # a second push while the first one holds the writer: parked
    second = threading.Thread(target=_timed, args=(
        lambda: revoke(n.port, invoker="INV-slow-2"), out, "second"))
    second.start()
    time.sleep(0.2)

    # meanwhile, on new connections (either worker): protected API calls
    # and the listing answer at once, not after the fsync
    took = []
    while first.is_alive() and len(took) < 20:
        t0 = time.monotonic()
        r = capif.request(n.port, "GET", "/api/x",
                          [("Authorization", "Bearer " + t)],
                          test_id=False, timeout=10)
        took.append(time.monotonic() - t0)
        assert r.status == 200, r
        t0 = time.monotonic()
        assert listing(n.port)["count"] in (0, 1, 2)
        took.append(time.monotonic() - t0)
        time.sleep(0.1)

    first.join(timeout=4 * DELAY)
    second.join(timeout=4 * DELAY)
    r1, d1 = out["first"]
    r2, d2 = out["second"]
    # the fault was real: the acknowledgement waited for the fsync ...
    assert r1.status == 200 and d1 >= DELAY * 0.9, out
    assert r2.status == 200 and d2 >= DELAY * 0.9, out
    # ... and nothing else did
    assert len(took) >= 4, took
    assert max(took) < DELAY / 2, took

    assert_ok(n, "/api/x", t)
    assert_revoked(n, "/api/x", t1)
    assert_revoked(n, "/api/x", t2)


def test_kill9_of_worker_in_fsync(unmanaged, upstream, keys, certs,
                                  tmp_path, slow_fsync):
    journal = str(tmp_path / "journal")
    kw = start_kwargs(keys, certs, upstream, journal)
    n = unmanaged.start(**kw)
    t_after = inv_token(keys, "INV-after")
    workers = worker_pids(n.proc.pid)
    slow_fsync(workers, DELAY)

    out = {}
    th = threading.Thread(target=_timed, args=(
        lambda: revoke(n.port, invoker="INV-lost"), out, "push"))
    th.start()
    # the worker in fsync holds the writer: kill it there
    deadline = time.monotonic() + DELAY
    victim = None
    while victim is None and time.monotonic() < deadline:
        for w in workers:
            if "/journal" in "".join(os.readlink("/proc/%d/fd/%s" % (w, fd))
                                     for fd in os.listdir("/proc/%d/fd" % w)
                                     if os.path.exists("/proc/%d/fd/%s"
                                                       % (w, fd))):
                victim = w
        time.sleep(0.05)
    assert victim, "no worker opened the journal"
    os.kill(victim, signal.SIGKILL)
    th.join(timeout=4 * DELAY)
    r, _ = out["push"]
    # not acknowledged (the connection died with the worker)
    assert isinstance(r, Exception) or r.status != 200, r

    # the writer lock of the dead worker does not block the survivors
    # (its unacknowledged bytes may make them rewrite the journal first)
    r = revoke(n.port, invoker="INV-after")
    assert r.status == 200, r
    m = kill9_and_restart(n, unmanaged, kw, "gw2")
    assert_revoked(m, "/api/x", t_after)


# ------------------------------------------------------------ start-up

@pytest.fixture
def open_dir():
    """A directory outside pytest's 0700 tree that any user can search."""
    d = tempfile.mkdtemp(prefix="capif-journal-")
    os.chmod(d, 0o711)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _run_nginx(prefix):
    return subprocess.run([capif.NGINX, "-p", prefix + "/", "-c",
                           "conf/nginx.conf", "-e", "logs/error.log"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=20)


def test_unwritable_directory_refused_at_start(nginx_t, unmanaged, upstream,
                                               keys, certs, open_dir,
                                               tmp_path):
    jdir = os.path.join(open_dir, "journal.d")
    os.mkdir(jdir, 0o700)         # root's: the workers run as nobody
    journal = os.path.join(jdir, "journal")
    kw = start_kwargs(keys, certs, upstream, journal)
    kw["user"] = "nobody nogroup"

    rc, out = nginx_t(**kw)
    assert rc != 0, out
    assert ('capif_journal "%s"' % journal) in out, out
    assert '"nobody"' in out and ('directory "%s/"' % jdir) in out, out
    assert "compaction" in out, out

    # a start fails the same way, and says so
    prefix = str(tmp_path / "start")
    capif.nginx_test_config(prefix, **kw)
    p = _run_nginx(prefix)
    assert p.returncode != 0
    with open(os.path.join(prefix, "logs", "error.log")) as f:
        log = f.read()
    assert "worker user \"nobody\"" in log + p.stdout.decode(), log

    # the directory given to the worker user: starts, and appends work
    nobody = pwd.getpwnam("nobody")
    os.chown(jdir, nobody.pw_uid, nobody.pw_gid)
    n = unmanaged.start(**kw)
    assert revoke(n.port).status == 200
    assert os.stat(journal).st_uid == nobody.pw_uid
    assert_revoked(n, "/api/x", token(keys))


def test_missing_directory_refused(nginx_t, upstream, keys, certs, open_dir):
    journal = os.path.join(open_dir, "nowhere", "journal")
    kw = start_kwargs(keys, certs, upstream, journal)
    kw["user"] = "nobody nogroup"
    rc, out = nginx_t(**kw)
    assert rc != 0 and "is missing" in out and journal in out, out


def test_unsearchable_parent_refused(nginx_t, upstream, keys, certs,
                                     open_dir):
    parent = os.path.join(open_dir, "closed")
    os.mkdir(parent, 0o700)
    jdir = os.path.join(parent, "j")
    os.mkdir(jdir, 0o777)
    kw = start_kwargs(keys, certs, upstream, os.path.join(jdir, "journal"))
    kw["user"] = "nobody nogroup"
    rc, out = nginx_t(**kw)
    assert rc != 0 and "cannot search" in out and parent in out, out


# ------------------------------------------------------------ thread pool

def test_named_thread_pool(unmanaged, nginx_t, upstream, keys, certs,
                           tmp_path):
    journal = str(tmp_path / "journal")
    kw = start_kwargs(keys, certs, upstream,
                      journal + " thread_pool=capif_io")
    rc, out = nginx_t(**kw)
    assert rc != 0 and 'unknown thread pool "capif_io"' in out, out

    kw["main"] = "thread_pool capif_io threads=2;"
    n = unmanaged.start(**kw)
    assert revoke(n.port).status == 200
    assert_revoked(n, "/api/x", token(keys))

    kw = start_kwargs(keys, certs, upstream, journal + " pool=x")
    rc, out = nginx_t(**kw)
    assert rc != 0 and "thread_pool=<name>" in out, out


def test_unwritable_file_refused_for_non_root_master(open_dir):
    # a master that is not root cannot hand the file over: it must be
    # writable as it is.  nginx -t run as nobody, a minimal config.
    nobody = pwd.getpwnam("nobody")
    prefix = os.path.join(open_dir, "prefix")
    for d in ("conf", "logs"):
        os.makedirs(os.path.join(prefix, d))
    jdir = os.path.join(open_dir, "j")
    os.mkdir(jdir)
    os.chmod(jdir, 0o777)
    journal = os.path.join(jdir, "journal")
    with open(journal, "wb") as f:
        f.write(HEADER)
    os.chmod(journal, 0o600)      # root's
    with open(os.path.join(prefix, "conf", "nginx.conf"), "w") as f:
        if not capif.STATIC:
            f.write("load_module %s;\n" % MODULE)
        f.write("pid logs/nginx.pid;\n"
                "events {}\nhttp { capif_zone capif:1m; "
                "capif_journal %s; }\n" % journal)
    for root, dirs, files in os.walk(prefix):
        for x in dirs + files + ["."]:
            os.chown(os.path.join(root, x), nobody.pw_uid, nobody.pw_gid)

    def nginx_t():
        p = subprocess.run(
            ["setpriv", "--reuid=nobody", "--regid=%d" % nobody.pw_gid,
             "--clear-groups", capif.NGINX, "-p", prefix + "/", "-c",
             "conf/nginx.conf", "-e", "logs/error.log", "-t"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        return p.returncode, p.stdout.decode()

    rc, out = nginx_t()
    assert rc != 0, out
    assert ('capif_journal "%s"' % journal) in out, out
    assert 'worker user "nobody" cannot write the journal file' in out, out

    os.chown(journal, nobody.pw_uid, nobody.pw_gid)
    rc, out = nginx_t()
    assert rc == 0, out

"""The Debian package: scripts/package builds it and lintian finds no
error; then, in a chroot holding a minimal Debian 12 with Debian's nginx
(a copy of the system, so the machine itself is never touched), it is
installed with ``dpkg -i``, Debian's own /etc/nginx/nginx.conf loads it
through /etc/nginx/modules-enabled, a site in /etc/nginx/conf.d/ protects
a location, ``nginx -t`` passes, real calls are allowed and refused, the
error log gives the reason, and ``dpkg --purge`` leaves nothing behind.

The chroot's base (debootstrap from Debian's apt repository, plus
nginx-light and the package's dependencies) is cached in
build/package-chroot/base.tar; each run unpacks a fresh copy and deletes
it.  Without root, debootstrap or network access to the repository the
test is skipped, saying why.  CAPIF_SKIP_PACKAGE=1 skips it too.
"""

import os
import shutil
import subprocess
import tarfile

import pytest

import capif

CACHE = os.path.join(capif.BUILD, "package-chroot")
BASE = os.path.join(CACHE, "base.tar")
MIRROR = os.environ.get("CAPIF_DEBIAN_MIRROR", "http://deb.debian.org/debian")
DEPS = ["nginx-light", "libjansson4", "libssl3", "libjwt0"]
PKG = "libnginx-mod-http-capif"


def run(cmd, timeout=600, check=True, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout, **kw)
    out = p.stdout.decode("utf-8", "replace")
    if check:
        assert p.returncode == 0, "%s failed (%d):\n%s" % (
            " ".join(cmd), p.returncode, out[-4000:])
    return p.returncode, out


def in_root(root, *cmd, **kw):
    return run(["chroot", root] + list(cmd), **kw)


def make_base():
    """Builds BASE once: debootstrap minbase + nginx-light + deps."""
    os.makedirs(CACHE, exist_ok=True)
    work = os.path.join(CACHE, "work")
    shutil.rmtree(work, ignore_errors=True)
    rc, out = run(["debootstrap", "--variant=minbase", "bookworm", work,
                   MIRROR], timeout=1200, check=False)
    if rc != 0:
        shutil.rmtree(work, ignore_errors=True)
        pytest.skip("debootstrap from %s failed, cannot build the chroot "
                    "(no network to the repository?):\n%s"
                    % (MIRROR, out[-1500:]))
    # services never start in the chroot
    with open(os.path.join(work, "usr/sbin/policy-rc.d"), "w") as f:
        f.write("#!/bin/sh\nexit 101\n")
    os.chmod(os.path.join(work, "usr/sbin/policy-rc.d"), 0o755)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    rc, out = in_root(work, "apt-get", "install", "-y", "-q",
                      "--no-install-recommends", *DEPS, env=env,
                      check=False)
    if rc != 0:
        shutil.rmtree(work, ignore_errors=True)
        pytest.skip("apt-get install %s in the chroot failed:\n%s"
                    % (" ".join(DEPS), out[-1500:]))
    in_root(work, "apt-get", "clean")
    tmp = BASE + ".tmp"
    with tarfile.open(tmp, "w") as t:
        t.add(work, arcname=".")
    os.rename(tmp, BASE)
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def deb():
    if os.environ.get("CAPIF_SKIP_PACKAGE") == "1":
        pytest.skip("CAPIF_SKIP_PACKAGE=1")
    rc, out = run([os.path.join(capif.REPO, "scripts", "package")],
                  check=False)
    assert rc == 0, "scripts/package failed (lintian errors?):\n" + out
    path = out.strip().splitlines()[-1]
    assert path.endswith("_amd64.deb") and os.path.exists(path), out
    return path


@pytest.fixture
def root(tmp_path, deb):
    if os.geteuid() != 0:
        pytest.skip("the package test needs root (chroot, dpkg)")
    if shutil.which("debootstrap") is None:
        pytest.skip("debootstrap missing (scripts/setup installs it)")
    if not os.path.exists(BASE):
        make_base()
    r = str(tmp_path / "root")
    os.makedirs(r)
    run(["tar", "-xf", BASE, "-C", r])
    yield r
    # an nginx left running in the chroot is stopped, by its pid file
    pidf = os.path.join(r, "run/nginx.pid")
    if os.path.exists(pidf):
        in_root(r, "/usr/sbin/nginx", "-s", "stop", check=False)
    shutil.rmtree(r, ignore_errors=True)


SITE = """
# capif: one protected location in front of the AEF
error_log /var/log/nginx/error.log info;

server {
    listen 127.0.0.1:%(port)d;

    capif_key_file /etc/capif/ccf.crt;

    location /3gpp-monitoring-event/ {
        capif on;
        capif_aef_id aef-loc1;
        capif_api_name 3gpp-monitoring-event;
        proxy_set_header X-Capif-Invoker-Id $capif_invoker_id;
        proxy_pass http://127.0.0.1:%(upstream)d;
    }
}
"""


def package_files(deb):
    _, out = run(["dpkg-deb", "-c", deb])
    files = []
    for line in out.splitlines():
        name = line.split()[-1]
        if not name.endswith("/"):
            files.append(name.lstrip("."))
    return files


def test_install_serve_purge(root, deb, upstream):
    files = package_files(deb)
    for f in ("/usr/lib/nginx/modules/ngx_http_capif_module.so",
              "/usr/share/nginx/modules-available/mod-http-capif.conf",
              "/usr/bin/capif-token",
              "/usr/share/man/man1/capif-token.1.gz"):
        assert f in files, files

    shutil.copy(deb, os.path.join(root, "tmp", "capif.deb"))
    in_root(root, "dpkg", "-i", "/tmp/capif.deb")

    link = os.path.join(root, "etc/nginx/modules-enabled",
                        "50-mod-http-capif.conf")
    assert os.path.islink(link)
    assert os.readlink(link) == (
        "/usr/share/nginx/modules-available/mod-http-capif.conf")
    with open(os.path.join(root, "etc/nginx/nginx.conf")) as f:
        assert "include /etc/nginx/modules-enabled/*.conf;" in f.read()

    # the site: Debian's default site listens on :80, which this machine
    # may use; an operator would keep or drop it
    os.unlink(os.path.join(root, "etc/nginx/sites-enabled/default"))
    os.makedirs(os.path.join(root, "etc/capif"))
    in_root(root, "openssl", "req", "-x509", "-newkey", "rsa:2048",
            "-nodes", "-days", "1", "-subj", "/CN=ccf",
            "-keyout", "/etc/capif/ccf.key", "-out", "/etc/capif/ccf.crt",
            check=False)
    if not os.path.exists(os.path.join(root, "etc/capif/ccf.crt")):
        # minbase has no openssl binary: make them on the host
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-days", "1", "-subj", "/CN=ccf",
             "-keyout", os.path.join(root, "etc/capif/ccf.key"),
             "-out", os.path.join(root, "etc/capif/ccf.crt")])
    port = capif.free_port()
    with open(os.path.join(root, "etc/nginx/conf.d/capif.conf"), "w") as f:
        f.write(SITE % {"port": port, "upstream": upstream.port})

    _, out = in_root(root, "/usr/sbin/nginx", "-t")
    assert "test is successful" in out, out

    in_root(root, "/usr/sbin/nginx")
    capif.wait_port(port)

    _, tok = in_root(root, "/usr/bin/capif-token", "--key",
                     "/etc/capif/ccf.key", "--alg", "RS256", "--invoker",
                     "INV-pkg", "--scope",
                     "3gpp#aef-loc1:3gpp-monitoring-event")
    tok = tok.strip()
    r = capif.request(port, "GET", "/3gpp-monitoring-event/v1/x",
                      [("Authorization", "Bearer " + tok)])
    capif.assert_allowed(r, invoker="INV-pkg", upstream=upstream)
    r = capif.request(port, "GET", "/3gpp-monitoring-event/v1/x")
    capif.assert_refused(r, 401, "TOKEN_MISSING", upstream=upstream)

    in_root(root, "/usr/sbin/nginx", "-s", "quit")
    with open(os.path.join(root, "var/log/nginx/error.log")) as f:
        log = f.read()
    assert "capif: refused 401 TOKEN_MISSING" in log, log
    for bad in capif.BAD_LOG_PATTERNS:
        assert bad not in log, log

    # remove keeps nothing enabled; purge leaves nothing behind
    os.unlink(os.path.join(root, "etc/nginx/conf.d/capif.conf"))
    in_root(root, "dpkg", "--purge", PKG)
    _, out = in_root(root, "dpkg-query", "-W", "-f=${Status}", PKG,
                     check=False)
    assert "installed" not in out.replace("not-installed", ""), out
    for f in files:
        assert not os.path.lexists(root + f), f
    left = os.listdir(os.path.join(root, "etc/nginx/modules-enabled"))
    assert not [n for n in left if "capif" in n], left
    assert not os.path.exists(os.path.join(
        root, "var/lib/dpkg/info", PKG + ".list"))
    _, out = in_root(root, "/usr/sbin/nginx", "-t")
    assert "test is successful" in out, out


def test_remove_then_reinstall_restores_link(root, deb):
    shutil.copy(deb, os.path.join(root, "tmp", "capif.deb"))
    link = os.path.join(root, "etc/nginx/modules-enabled",
                        "50-mod-http-capif.conf")
    in_root(root, "dpkg", "-i", "/tmp/capif.deb")
    in_root(root, "dpkg", "--remove", PKG)
    assert not os.path.lexists(link)
    assert os.path.islink(link + ".removed")
    in_root(root, "dpkg", "-i", "/tmp/capif.deb")
    assert os.path.islink(link)
    assert not os.path.lexists(link + ".removed")
    in_root(root, "dpkg", "--purge", PKG)
    assert not os.path.lexists(link)
    assert not os.path.lexists(link + ".removed")

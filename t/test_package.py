"""The Debian package: scripts/package builds it and lintian finds no
error; then, in a chroot holding a minimal Debian 12 with Debian's nginx
(a copy of the system, so the machine itself is never touched), it is
installed with ``dpkg -i``; then the README's Quickstart runs as written
(steps 2 to 6: the trial CCF key, its site file in /etc/nginx/conf.d/
under Debian's own /etc/nginx/nginx.conf, ``nginx -t``, nginx started,
capif-token and curl, the error log) and its output must match what the
README shows; finally ``dpkg --purge`` must leave nothing behind.
scripts/install (with DESTDIR) is checked the same way in another copy.

The chroot's base (debootstrap from Debian's apt repository, plus
nginx-light and the package's dependencies) is cached in
build/package-chroot/base.tar; each run unpacks a fresh copy and deletes
it.  Without root, debootstrap or network access to the repository the
test is skipped, saying why.  CAPIF_SKIP_PACKAGE=1 skips it too.
"""

import hashlib
import os
import re
import shutil
import subprocess
import tarfile

import pytest

import capif

CACHE = os.path.join(capif.BUILD, "package-chroot")
MIRROR = os.environ.get("CAPIF_DEBIAN_MIRROR", "http://deb.debian.org/debian")
# Debian's nginx, the package's dependencies, and what the Quickstart uses
DEPS = ["nginx-light", "libjansson4", "libssl3", "libjwt0", "openssl",
        "curl"]
BASE = os.path.join(CACHE, "base-%s.tar" % hashlib.sha256(
    (MIRROR + " ".join(DEPS)).encode()).hexdigest()[:12])
README = os.path.join(capif.REPO, "README.md")
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
    shutil.rmtree(CACHE, ignore_errors=True)      # older bases
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


def package_files(deb):
    _, out = run(["dpkg-deb", "-c", deb])
    files = []
    for line in out.splitlines():
        name = line.split()[-1]
        if not name.endswith("/"):
            files.append(name.lstrip("."))
    return files


def quickstart():
    """(site file, [(command, expected output lines)]) from the README's
    Quickstart: the complete conf.d block, and every '# ' line of its
    indented blocks with its continuation lines and the output under it."""
    text = open(README).read()
    qs = text[text.index("## Quickstart"):text.index("## Building")]
    site = re.search(r"<!-- complete: conf\.d -->\n```nginx\n(.*?)```",
                     qs, re.S).group(1)
    steps = []
    lines = qs.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("    # "):
            cmd = [line[6:]]
            while cmd[-1].endswith("\\"):
                i += 1
                cmd.append(lines[i].strip())
            out = []
            i += 1
            while i < len(lines) and not lines[i].startswith("    # ") and (
                    lines[i].startswith("    ") or (
                        lines[i] == "" and i + 1 < len(lines)
                        and lines[i + 1].startswith("    ")
                        and not lines[i + 1].startswith("    # "))):
                out.append(lines[i][4:])
                i += 1
            steps.append(("\n".join(cmd), out))
            continue
        i += 1
    return site, steps


def normalize(lines):
    out = []
    for line in lines:
        line = line.rstrip("\r")
        if line.startswith("Date: "):
            continue
        line = re.sub(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(\w+)\] "
                      r"\d+#\d+: \*\d+ ", r"[\1] ", line)
        out.append(line)
    while out and out[-1] == "":
        out.pop()
    return out


def test_control_fields(deb):
    _, out = run(["dpkg-deb", "-f", deb, "Package", "Depends", "Section"])
    assert "Package: libnginx-mod-http-capif\n" in out, out
    assert "Section: httpd" in out, out
    depends = [d.strip().split()[0] for d in
               out.split("Depends:")[1].split("\n")[0].split(",")]
    for d in ("nginx-abi-1.22.1-7", "libjansson4", "libssl3"):
        assert d in depends, out
    assert os.path.basename(deb).startswith(
        "libnginx-mod-http-capif_") and deb.endswith("_amd64.deb")
    _, conf = run(["sh", "-c", "dpkg-deb --fsys-tarfile '%s' | tar -xO "
                   "./usr/share/nginx/modules-available/mod-http-capif.conf"
                   % deb])
    assert conf == "load_module modules/ngx_http_capif_module.so;\n", conf


def test_install_quickstart_purge(root, deb):
    files = package_files(deb)
    for f in ("/usr/lib/nginx/modules/ngx_http_capif_module.so",
              "/usr/share/nginx/modules-available/mod-http-capif.conf",
              "/usr/bin/capif-token",
              "/usr/share/man/man1/capif-token.1.gz"):
        assert f in files, files

    # step 1: the package
    shutil.copy(deb, os.path.join(root, "tmp", "capif.deb"))
    in_root(root, "dpkg", "-i", "/tmp/capif.deb")

    link = os.path.join(root, "etc/nginx/modules-enabled",
                        "50-mod-http-capif.conf")
    assert os.path.islink(link)
    assert os.readlink(link) == (
        "/usr/share/nginx/modules-available/mod-http-capif.conf")
    with open(os.path.join(root, "etc/nginx/nginx.conf")) as f:
        conf = f.read()
    assert "include /etc/nginx/modules-enabled/*.conf;" in conf
    assert "include /etc/nginx/conf.d/*.conf;" in conf

    # this machine may use the ports the README uses: 80 (Debian's
    # default site), 8080 and 9000 become free ones
    os.unlink(os.path.join(root, "etc/nginx/sites-enabled/default"))
    gw, aef = capif.free_port(), capif.free_port()

    def ports(s):
        return s.replace("8080", str(gw)).replace("9000", str(aef))

    site, steps = quickstart()
    assert len(steps) >= 8, steps
    with open(os.path.join(root, "etc/nginx/conf.d/capif.conf"), "w") as f:
        f.write(ports(site))

    # steps 2 to 6 in one shell, each command's output framed
    script = ["set -e"]
    for n, (cmd, _) in enumerate(steps):
        if cmd.startswith("systemctl reload nginx"):
            cmd = "/usr/sbin/nginx"       # no systemd here: start it
        script += ["echo '@@%d'" % n, "{ %s\n} 2>&1" % ports(cmd)]
        if cmd == "/usr/sbin/nginx":
            script.append("sleep 1")
    rc, out = in_root(root, "bash", "-c", "\n".join(script), check=False)
    assert rc == 0, out
    got = re.split(r"^@@\d+\n", out, flags=re.M)[1:]
    assert len(got) == len(steps), out
    for (cmd, want), have in zip(steps, got):
        if cmd.startswith("systemctl"):
            continue
        want = normalize(ports("\n".join(want)).split("\n"))
        assert normalize(have.split("\n")) == want, (
            "README Quickstart: %r printed\n%s\nbut the README shows\n%s"
            % (cmd, have, "\n".join(want)))

    in_root(root, "/usr/sbin/nginx", "-s", "quit")
    with open(os.path.join(root, "var/log/nginx/error.log")) as f:
        log = f.read()
    for bad in capif.BAD_LOG_PATTERNS:
        assert bad not in log, log

    # purge leaves nothing behind (the site goes first: it needs capif)
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
    """As Debian's libnginx-mod-*: remove parks the link, a reinstall
    restores it, purge deletes both."""
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


def test_install_script_layout(root):
    """scripts/install (DESTDIR = the chroot) gives the package's layout:
    Debian's nginx.conf loads the module, the README's site passes
    nginx -t; --uninstall takes it all away again."""
    env = dict(os.environ, DESTDIR=root)
    script = os.path.join(capif.REPO, "scripts", "install")
    run([script], env=env)
    link = os.path.join(root, "etc/nginx/modules-enabled",
                        "50-mod-http-capif.conf")
    assert os.readlink(link) == (
        "/usr/share/nginx/modules-available/mod-http-capif.conf")
    site, _ = quickstart()
    os.makedirs(os.path.join(root, "etc/capif"))
    in_root(root, "openssl", "req", "-x509", "-newkey", "rsa:2048",
            "-nodes", "-days", "1", "-subj", "/CN=ccf", "-keyout",
            "/etc/capif/ccf.key", "-out", "/etc/capif/ccf.crt")
    conf = os.path.join(root, "etc/nginx/conf.d/capif.conf")
    with open(conf, "w") as f:
        f.write(site)
    _, out = in_root(root, "/usr/sbin/nginx", "-t")
    assert "test is successful" in out, out
    _, tok = in_root(root, "/usr/local/bin/capif-token", "--key",
                     "/etc/capif/ccf.key", "--alg", "RS256", "--invoker",
                     "I", "--scope", "3gpp#a:b")
    assert tok.count(".") == 2, tok

    run([script, "--uninstall"], env=env)
    for p in ("usr/lib/nginx/modules/ngx_http_capif_module.so",
              "usr/share/nginx/modules-available/mod-http-capif.conf",
              "etc/nginx/modules-enabled/50-mod-http-capif.conf",
              "usr/local/bin/capif-token"):
        assert not os.path.lexists(os.path.join(root, p)), p
    rc, out = in_root(root, "/usr/sbin/nginx", "-t", check=False)
    assert rc != 0 and "capif_key_file" in out, out
    os.unlink(conf)
    _, out = in_root(root, "/usr/sbin/nginx", "-t")
    assert "test is successful" in out, out

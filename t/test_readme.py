"""Every nginx configuration block README.md presents as complete passes
``nginx -t``.  Each fenced ``nginx`` block must be preceded by a marker:

* ``<!-- complete: conf.d -->``: a whole file for /etc/nginx/conf.d/;
* ``<!-- complete: http -->``: http-context lines that work on their own;
* ``<!-- fragment: where it goes -->``: part of a bigger config, not run.

A complete block is written to a conf.d directory included inside the
http block of an nginx.conf shaped like Debian's (module loaded first,
events, http), with its paths (/etc/capif/..., /var/log/nginx/...,
/var/lib/nginx/...) replaced by generated files in a temporary prefix.
"""

import os
import re
import subprocess

import pytest

import capif

README = os.path.join(capif.REPO, "README.md")
MARKER = re.compile(r"^<!-- (complete: (conf\.d|http)|fragment: .+) -->$")


def blocks():
    """[(line number, marker or None, text)] of every ```nginx block."""
    lines = open(README).read().split("\n")
    out = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```nginx":
            j = i - 1
            while j >= 0 and not lines[j].strip():
                j -= 1
            marker = lines[j].strip() if j >= 0 else ""
            k = i + 1
            while lines[k].strip() != "```":
                k += 1
            out.append((i + 1, marker, "\n".join(lines[i + 1:k]) + "\n"))
            i = k
        i += 1
    return out


def complete_blocks():
    return [(n, m, t) for n, m, t in blocks() if m.startswith("<!-- complete")]


def test_every_block_is_marked():
    found = blocks()
    assert found, "no nginx blocks found in README.md"
    bad = [(n, m) for n, m, _ in found if not MARKER.match(m)]
    assert not bad, ("nginx blocks without a <!-- complete: conf.d|http --> "
                     "or <!-- fragment: ... --> marker: %r" % bad)
    # the Quickstart site and the decision log format at least
    assert len(complete_blocks()) >= 2


@pytest.fixture(scope="module")
def files(tmp_path_factory, keys):
    d = tmp_path_factory.mktemp("readme-files")
    groups = d / "groups.json"
    groups.write_text('{"extgroupid-team1@example.com": '
                      '["msisdn-491700000001"]}\n')
    logs = d / "log"
    lib = d / "lib"
    logs.mkdir()
    lib.mkdir()
    return {"crt": keys.rsa.cert_path, "key": keys.rsa.priv_path,
            "groups": str(groups), "logs": str(logs), "lib": str(lib)}


def substitute(text, files):
    def capif_file(m):
        name = m.group(1)
        if name.endswith(".json"):
            return files["groups"]
        if name.endswith(".key"):
            return files["key"]
        return files["crt"]
    text = re.sub(r"/etc/capif/([\w.-]+)", capif_file, text)
    text = text.replace("/var/log/nginx/", files["logs"] + "/")
    text = text.replace("/var/lib/nginx/", files["lib"] + "/")
    return text


@pytest.mark.parametrize("line,marker,text", complete_blocks(),
                         ids=lambda v: str(v) if isinstance(v, int) else "")
def test_complete_block_passes_nginx_t(tmp_path, files, line, marker, text):
    confd = tmp_path / "conf.d"
    confd.mkdir()
    (confd / "block.conf").write_text(substitute(text, files))
    rc, out = capif.nginx_test_config(
        str(tmp_path / "prefix"), server_block="",
        http="    include %s/*.conf;" % confd)
    assert rc == 0, "README.md line %d (%s) fails nginx -t:\n%s\n%s" % (
        line, marker, out, text)


def test_a_broken_block_is_caught(tmp_path, files):
    # the harness itself: a typo in a complete block must fail
    text = complete_blocks()[0][2].replace("capif_aef_id", "capif_aef_idd")
    confd = tmp_path / "conf.d"
    confd.mkdir()
    (confd / "block.conf").write_text(substitute(text, files))
    rc, out = capif.nginx_test_config(
        str(tmp_path / "prefix"), server_block="",
        http="    include %s/*.conf;" % confd)
    assert rc != 0 and "capif_aef_idd" in out, out

"""pytest fixtures for the ngx_capif_module suite (helpers: t/capif.py).

Fixtures
--------
``upstream`` (session)
    A running :class:`capif.Upstream`: the echoing stand-in AEF.
``keys`` (session)
    :class:`capif.Keys`: RSA-2048/1024, P-256/384/521, Ed25519 and an
    attacker key of each type, as PEM public key, certificate, JWK/JWKS.
``nginx`` (function) / ``module_nginx`` (module)
    Factories: ``nginx(server=..., http=..., main=..., server_block=...,
    worker_processes=1)`` returns a started :class:`capif.Nginx` in its own
    temporary prefix.  At the end of its scope each instance is stopped
    (QUIT, then KILL) and its error.log is asserted free of alert/crit/emerg
    lines, crashes and sanitizer reports.  Share one ``module_nginx`` with
    several locations among the tests of a file to keep the suite fast.
``nginx_t`` (function)
    ``nginx_t(server=..., http=...)`` (same arguments; a single positional
    string is taken as ``server``) writes the config and runs ``nginx -t``
    only; returns ``(returncode, output)``.  For configs that must be
    refused.

Every test is also checked after it ran: any running nginx whose error.log
gained a bad line (see ``capif.BAD_LOG_PATTERNS``) during the test fails it.
"""

import itertools
import os

import pytest

import capif

_running = []          # every started, not yet stopped capif.Nginx
_counter = itertools.count()


@pytest.fixture(scope="session")
def module_so():
    """Path of the built module; fails (not skips) when it is missing."""
    if capif.STATIC:
        return None
    if not os.path.exists(capif.MODULE_SO):
        pytest.fail("%s is missing: run scripts/build first"
                    % capif.MODULE_SO)
    return capif.MODULE_SO


@pytest.fixture(scope="session")
def upstream():
    u = capif.Upstream().start()
    yield u
    u.stop()


@pytest.fixture(scope="session")
def keys(tmp_path_factory):
    return capif.make_keys(tmp_path_factory.mktemp("keys"))


def _factory(base_dir, module_so):
    started = []

    def start(**conf):
        prefix = os.path.join(str(base_dir), "nginx%d" % next(_counter))
        n = capif.Nginx(prefix, **conf)
        n.start()
        started.append(n)
        _running.append(n)
        return n

    def finish():
        problems = []
        for n in started:
            n.stop()
            if n in _running:
                _running.remove(n)
            bad = n.log_problems()
            if bad:
                problems.append("%s:\n  %s" % (n.error_log_path,
                                               "\n  ".join(bad)))
        assert not problems, "error.log problems:\n" + "\n".join(problems)

    return start, finish


@pytest.fixture
def nginx(tmp_path, module_so):
    start, finish = _factory(tmp_path, module_so)
    yield start
    finish()


@pytest.fixture(scope="module")
def module_nginx(tmp_path_factory, module_so):
    start, finish = _factory(tmp_path_factory.mktemp("nginx"), module_so)
    yield start
    finish()


@pytest.fixture
def nginx_t(tmp_path, module_so):
    def run(server=None, **conf):
        if server is not None:
            conf["server"] = server
        prefix = os.path.join(str(tmp_path), "t%d" % next(_counter))
        return capif.nginx_test_config(prefix, **conf)
    return run


@pytest.fixture(autouse=True)
def _error_log_guard():
    """Fails the test if a running nginx logged a bad line meanwhile."""
    marks = [(n, n.log_size()) for n in list(_running)]
    yield
    problems = []
    for n, off in marks:
        bad = n.log_problems(off)
        if bad:
            problems.append("%s:\n  %s" % (n.error_log_path,
                                           "\n  ".join(bad)))
    # instances started by the test itself are checked by their fixture
    assert not problems, "error.log problems:\n" + "\n".join(problems)

"""Helpers for the ngx_capif_module test suite.

Everything here is plain library code; the pytest fixtures that wire it
together live in ``t/conftest.py``.  Later features (policy, revocation,
...) are expected to reuse these pieces rather than grow their own:

* :class:`Upstream` -- a real HTTP server on a loopback port that answers
  every request with a JSON echo of what it received (the stand-in AEF),
  and remembers every request so a test can tell whether a call reached it.
* :class:`Nginx` -- Debian's ``/usr/sbin/nginx`` with the built module, in
  its own prefix on a free loopback port, from config snippets.
  :func:`nginx_test_config` runs ``nginx -t`` only (for refused configs).
* :func:`request` / :func:`raw_request` -- HTTP clients (stdlib only) that
  return a :class:`Response`; ``raw_request`` sends bytes as given, for
  header edge cases that ``http.client`` would tidy up.
* :class:`Key` / :func:`make_keys` -- key material of every supported type
  (PEM public key, self-signed certificate, JWK) and low-level signing.
* Token crafting: :func:`good_claims`, :func:`compact`, :func:`b64u`,
  ``Key.sign`` (PyJWT) and ``Key.sign_raw`` (any header/payload bytes with a
  real signature), :func:`capif_token` (the ``build/capif-token`` CLI).
* Assertions: :func:`assert_allowed` and :func:`assert_refused` check a
  response against the README's table of rejections;
  :class:`Gateway` bundles nginx + upstream + keys with ``allowed()`` /
  ``refused()`` shortcuts.
* Config snippets: :func:`location` writes a protected location as in the
  README (capif on, key files, AEF/API ids, X-Capif-* headers, proxy_pass).

All paths are computed from the repository root (the parent of ``t/``);
``CAPIF_BUILD`` overrides the build directory (module and capif-token),
``CAPIF_NGINX`` the nginx binary.  ``CAPIF_STATIC=1`` says that binary
has the module compiled in (scripts/static-build, scripts/asan-build): no
config then gets a ``load_module`` line.
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import http.server
import json
import os
import signal
import socket
import subprocess
import threading
import time
import uuid

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature)
from cryptography.x509.oid import NameOID

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("CAPIF_BUILD") or os.path.join(REPO, "build")
MODULE_SO = os.path.join(BUILD, "ngx_http_capif_module.so")
CAPIF_TOKEN = os.path.join(BUILD, "capif-token")
NGINX = os.environ.get("CAPIF_NGINX", "/usr/sbin/nginx")
#: the module is compiled into NGINX: never load the .so
STATIC = os.environ.get("CAPIF_STATIC", "0") not in ("", "0")

#: the AEF id, API name and invoker the default protected location and the
#: default good claims agree on
AEF_ID = "aef-1"
API_NAME = "api-1"
INVOKER = "INV-1234"
SCOPE = "3gpp#%s:%s" % (AEF_ID, API_NAME)

#: error.log patterns that fail a test at teardown
BAD_LOG_PATTERNS = ("[alert]", "[crit]", "[emerg]", "segfault",
                    "exited on signal", "AddressSanitizer", "runtime error:")

#: what a sanitizer build (scripts/asan-build) prints on a finding
SANITIZER_PATTERNS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")

#: the README's size cap on tokens
MAX_TOKEN = 8192


# --------------------------------------------------------------------------
# ports


def free_port():
    """A loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0, proc=None):
    """Waits until 127.0.0.1:port accepts; fails early if proc has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError("process exited with %s before port %d "
                                 "accepted" % (proc.returncode, port))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise AssertionError("port %d did not accept within %ss" % (port, timeout))


# --------------------------------------------------------------------------
# the upstream (stand-in AEF)


class _EchoHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def _echo(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        record = {
            "method": self.command,
            "path": self.path,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body": body.decode("utf-8", "replace"),
        }
        self.server.upstream._record(record)
        out = json.dumps(record).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _echo
    do_OPTIONS = _echo

    def log_message(self, *args):
        pass


class Upstream:
    """A threaded HTTP server on 127.0.0.1 that echoes each request as JSON.

    The response body is ``{"method", "path", "headers": [[name, value],
    ...], "body"}`` -- exactly what reached the AEF.  Every request is also
    kept in :attr:`requests` (in arrival order); :meth:`seen` tells whether
    a request carrying a given ``X-Test-Id`` header arrived, which is how
    :func:`assert_refused` proves a refused call never reached the AEF.
    """

    def __init__(self):
        self.requests = []
        self._lock = threading.Lock()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      _EchoHandler)
        self.server.daemon_threads = True
        self.server.upstream = self
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def start(self):
        self.thread.start()
        wait_port(self.port)
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def _record(self, rec):
        with self._lock:
            self.requests.append(rec)

    def seen(self, test_id):
        """True if a request with header X-Test-Id: test_id reached us."""
        with self._lock:
            reqs = list(self.requests)
        for rec in reqs:
            for k, v in rec["headers"]:
                if k.lower() == "x-test-id" and v == test_id:
                    return True
        return False


# --------------------------------------------------------------------------
# nginx


def _conf_text(port, http="", server="", main="", worker_processes=1,
               server_block=None, module=MODULE_SO, user=None):
    if user is None and os.geteuid() == 0:
        user = "root root"
    lines = []
    if module and not STATIC:
        lines.append("load_module %s;" % module)
    if user:
        lines.append("user %s;" % user)
    lines += [
        "worker_processes %d;" % worker_processes,
        "daemon off;",
        "master_process on;",
        "pid logs/nginx.pid;",
        "error_log logs/error.log info;",
        main,
        "events { worker_connections 512; }",
        "http {",
        "    access_log logs/access.log;",
        "    client_body_temp_path temp/client_body;",
        "    proxy_temp_path temp/proxy;",
        "    fastcgi_temp_path temp/fastcgi;",
        "    uwsgi_temp_path temp/uwsgi;",
        "    scgi_temp_path temp/scgi;",
        http,
    ]
    if server_block is not None:
        lines.append(server_block.replace("@PORT@", str(port)))
    else:
        lines += [
            "    server {",
            "        listen 127.0.0.1:%d;" % port,
            server,
            "    }",
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _prepare_prefix(prefix):
    for d in ("conf", "logs", "temp"):
        os.makedirs(os.path.join(prefix, d), exist_ok=True)


def nginx_test_config(prefix, **conf):
    """Writes the config into prefix and runs ``nginx -t`` on it.

    Takes the keyword arguments of :class:`Nginx` (``http``, ``server``,
    ``main``, ``server_block``, ...).  Returns ``(returncode, output)``
    where output is nginx's stderr+stdout (its messages go to stderr).
    """
    _prepare_prefix(prefix)
    port = conf.pop("port", None) or free_port()
    path = os.path.join(prefix, "conf", "nginx.conf")
    with open(path, "w") as f:
        f.write(_conf_text(port, **conf))
    p = subprocess.run([NGINX, "-p", prefix + "/", "-c", "conf/nginx.conf",
                        "-e", "logs/error.log", "-t"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=30)
    out = p.stdout.decode("utf-8", "replace")
    # a sanitizer build reports here what nginx -t ran into
    bad = [line for line in out.splitlines()
           if any(s in line for s in SANITIZER_PATTERNS)]
    assert not bad, "sanitizer report from nginx -t:\n" + out
    return p.returncode, out


class Nginx:
    """Debian's nginx with the built module, in prefix, on a free port.

    Config pieces (all optional strings, pasted verbatim):

    * ``main`` -- main-context lines (after the standard ones);
    * ``http`` -- http-context lines before the server block;
    * ``server`` -- the body of ``server { listen 127.0.0.1:PORT; ... }``;
    * ``server_block`` -- a whole ``server { ... }`` instead (write
      ``listen 127.0.0.1:@PORT@;`` in it);
    * ``worker_processes`` (default 1).

    :meth:`start` writes ``PREFIX/conf/nginx.conf``, asserts that
    ``nginx -t`` accepts it, starts nginx in the foreground (``daemon off``,
    master process on) and waits for the port.  :meth:`stop` sends QUIT,
    then KILL after a timeout.  :meth:`log_problems` lists error.log lines
    matching :data:`BAD_LOG_PATTERNS` (minus those declared with
    :meth:`expect_log`).  The error log is at ``info`` level
    in ``PREFIX/logs/error.log`` (:meth:`error_log`), every temp path and
    the pid file are inside the prefix.
    """

    def __init__(self, prefix, **conf):
        self.prefix = str(prefix)
        self.conf = conf
        self.port = conf.pop("port", None) or free_port()
        self.proc = None
        #: substrings of error.log lines a test provoked on purpose (e.g.
        #: the [emerg] of a refused reload); such lines are not problems
        self.expected_log = []

    @property
    def error_log_path(self):
        return os.path.join(self.prefix, "logs", "error.log")

    def error_log(self, start=0):
        """The error log text from byte offset start."""
        try:
            with open(self.error_log_path, "rb") as f:
                f.seek(start)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_size(self):
        try:
            return os.path.getsize(self.error_log_path)
        except FileNotFoundError:
            return 0

    def expect_log(self, substring):
        """Declares that error.log lines containing substring are expected
        (not reported by :meth:`log_problems`)."""
        self.expected_log.append(substring)

    def log_problems(self, start=0):
        """error.log lines (from byte offset start) that match
        :data:`BAD_LOG_PATTERNS` and no :meth:`expect_log` substring."""
        return [line for line in self.error_log(start).splitlines()
                if any(p in line for p in BAD_LOG_PATTERNS)
                and not any(e in line for e in self.expected_log)]

    def start(self):
        rc, out = nginx_test_config(self.prefix, port=self.port, **self.conf)
        assert rc == 0, "nginx -t refused the config:\n%s\n--- conf:\n%s" % (
            out, self.conf_text())
        # what nginx prints before it redirects stderr to error.log (a
        # sanitizer's report at start-up) goes to error.log too
        with open(self.error_log_path, "ab") as out:
            self.proc = subprocess.Popen(
                [NGINX, "-p", self.prefix + "/", "-c", "conf/nginx.conf",
                 "-e", "logs/error.log"],
                stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        try:
            wait_port(self.port, proc=self.proc)
        except AssertionError:
            self.stop()
            raise AssertionError("nginx did not start:\n" + self.error_log())
        return self

    def conf_text(self):
        try:
            with open(os.path.join(self.prefix, "conf", "nginx.conf")) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stop(self, timeout=5.0):
        """QUIT, then KILL (the whole process group) after timeout."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            self.proc.send_signal(signal.SIGQUIT)
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=timeout)

    def reload(self, timeout=10.0):
        """Sends HUP; waits until the log shows the new workers started and
        the old ones exited (so the next request meets the new config).
        A refused new config fails unless the test expects it: check
        :meth:`error_log` yourself and use :meth:`expect_log`."""
        before = self.log_size()
        self.proc.send_signal(signal.SIGHUP)
        workers = self.conf.get("worker_processes", 1)
        deadline = time.monotonic() + timeout
        started = False
        while time.monotonic() < deadline:
            log = self.error_log(before)
            started = started or "start worker process" in log
            if started and log.count(" exited with code ") >= workers:
                return
            if "[emerg]" in log:
                raise AssertionError("reload refused:\n" + log)
            time.sleep(0.05)
        if not started:
            raise AssertionError("nginx did not reload")

    # convenience: requests to this nginx
    def request(self, method, path, headers=(), body=None, **kw):
        return request(self.port, method, path, headers, body, **kw)

    def get(self, path, token=None, headers=(), **kw):
        """GET path with ``Authorization: Bearer token`` when token given."""
        hdrs = list(headers)
        if token is not None:
            hdrs.append(("Authorization", "Bearer " + token))
        return request(self.port, "GET", path, hdrs, None, **kw)

    def raw(self, data, **kw):
        return raw_request(self.port, data, **kw)


# --------------------------------------------------------------------------
# HTTP clients


class Response:
    """status (int), headers (list of (name, value) in order), body (bytes).

    ``test_id`` is the X-Test-Id the client added (or None).
    """

    def __init__(self, status, headers, body, test_id=None):
        self.status = status
        self.headers = headers
        self.body = body
        self.test_id = test_id

    def header(self, name):
        """The first value of header name (case-insensitive), or None."""
        vals = self.header_all(name)
        return vals[0] if vals else None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def upstream_header(self, name):
        """For a proxied echo: the values the upstream saw for header name."""
        return [v for k, v in self.json()["headers"]
                if k.lower() == name.lower()]

    def __repr__(self):
        return "<Response %s %r %r>" % (self.status, self.headers,
                                        self.body[:400])


def request(port, method, path, headers=(), body=None, test_id=True,
            timeout=10.0):
    """Sends one request with http.client; headers is a list of pairs
    (duplicates allowed, order kept).  Unless test_id is False, an
    ``X-Test-Id: <uuid>`` header is added so the upstream can be asked
    whether this call reached it (``Upstream.seen(resp.test_id)``)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    tid = None
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        if test_id:
            tid = test_id if isinstance(test_id, str) else uuid.uuid4().hex
            conn.putheader("X-Test-Id", tid)
        for k, v in headers:
            conn.putheader(k, v)
        if body is not None:
            if isinstance(body, str):
                body = body.encode()
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, list(r.getheaders()), data, tid)
    finally:
        conn.close()


def _dechunk(data):
    out = b""
    while True:
        line, _, data = data.partition(b"\r\n")
        size = int(line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            return out
        out += data[:size]
        data = data[size + 2:]


def raw_request(port, data, timeout=10.0):
    """Sends data (bytes or str, sent as-is: write your own request line,
    CRLFs and ``Connection: close``) on a fresh socket and parses the
    reply into a :class:`Response`.  Use for duplicate/odd headers."""
    if isinstance(data, str):
        data = data.encode("latin-1")
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                c = s.recv(65536)
            except ConnectionResetError:
                break
            if not c:
                break
            chunks.append(c)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = []
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.append((k.strip(), v.strip()))
    te = [v for k, v in headers if k.lower() == "transfer-encoding"]
    if te and "chunked" in te[0].lower():
        body = _dechunk(body)
    return Response(status, headers, body)


def raw_get(path, header_lines, test_id=None):
    """Builds raw GET bytes: header_lines are full lines without CRLF."""
    lines = ["GET %s HTTP/1.1" % path, "Host: localhost"]
    if test_id:
        lines.append("X-Test-Id: " + test_id)
    lines += list(header_lines)
    lines += ["Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1")


# --------------------------------------------------------------------------
# base64url and compact serialization


def b64u(data):
    """base64url without padding (RFC 7515); str input is UTF-8 encoded."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(s):
    s = s + "=" * (-len(s) % 4)
    return base64.urlsafe_b64decode(s)


def json_bytes(obj):
    """dict -> compact JSON bytes; str -> UTF-8 bytes; bytes as-is.

    Raw str/bytes let a test write JSON that json.dumps would not produce
    (duplicate members, odd escapes, unbalanced nesting)."""
    if isinstance(obj, bytes):
        return obj
    if isinstance(obj, str):
        return obj.encode("utf-8")
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def compact(header, payload, signature=b""):
    """``b64u(header).b64u(payload).b64u(signature)`` -- no signing.

    header/payload: dict, raw JSON str or bytes; signature: bytes (encoded)
    or str (used verbatim as the third segment)."""
    sig = signature if isinstance(signature, str) else b64u(signature)
    return "%s.%s.%s" % (b64u(json_bytes(header)), b64u(json_bytes(payload)),
                         sig)


def split(token):
    return token.split(".")


def flip_unused_bits(seg):
    """Changes the last char of a base64url segment so that only its
    unused (non-canonical) trailing bits differ; a lenient decoder yields
    the same bytes.  Requires a segment with trailing bits."""
    alphabet = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                "0123456789-_")
    unused = (len(seg) * 6) % 8
    assert unused, "segment length %d has no unused bits" % len(seg)
    v = alphabet.index(seg[-1])
    return seg[:-1] + alphabet[v ^ 1]


# --------------------------------------------------------------------------
# claims


DELETE = object()


def good_claims(invoker=INVOKER, scope=SCOPE, **overrides):
    """What a real CCF emits (OpenCAPIF): iss=invoker, sub, scope,
    exp=now+600, iat=nbf=now, jti, type="access", fresh.

    Keyword overrides replace claims; a value of :data:`DELETE` removes
    the claim."""
    now = int(time.time())
    c = {
        "iss": invoker,
        "sub": invoker,
        "scope": scope,
        "exp": now + 600,
        "iat": now,
        "nbf": now,
        "jti": uuid.uuid4().hex,
        "type": "access",
        "fresh": False,
    }
    for k, v in overrides.items():
        c[k] = v
    return {k: v for k, v in c.items() if v is not DELETE}


# --------------------------------------------------------------------------
# keys


_HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
_EC_SIZES = {"ES256": 32, "ES384": 48, "ES512": 66}
_CURVES = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1,
           "P-521": ec.SECP521R1}
_CURVE_ALG = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}


def _int_b64u(n, size=None):
    size = size or max(1, (n.bit_length() + 7) // 8)
    return b64u(n.to_bytes(size, "big"))


class Key:
    """One key pair and its files.

    Attributes: ``name``, ``kind`` ("RSA", "EC", "OKP"), ``curve`` (EC:
    "P-256"/"P-384"/"P-521"; OKP: "Ed25519"), ``alg`` (the algorithm the
    key is bound to by default), ``private`` / ``public`` (cryptography
    objects), ``pub_pem`` / ``pub_der`` / ``priv_pem`` (bytes), and the
    files ``pub_path``, ``priv_path`` (PKCS#8 PEM), ``cert_path`` (a
    self-signed PEM X.509 certificate of this key), ``jwks_path`` (a JWKS
    holding only this key, kid ``<name>``).
    """

    def __init__(self, name, private, directory):
        self.name = name
        self.private = private
        self.public = private.public_key()
        if isinstance(private, rsa.RSAPrivateKey):
            self.kind, self.curve, self.alg = "RSA", None, "RS256"
        elif isinstance(private, ec.EllipticCurvePrivateKey):
            self.kind = "EC"
            self.curve = {"secp256r1": "P-256", "secp384r1": "P-384",
                          "secp521r1": "P-521"}[private.curve.name]
            self.alg = _CURVE_ALG[self.curve]
        else:
            self.kind, self.curve, self.alg = "OKP", "Ed25519", "EdDSA"
        self.pub_pem = self.public.public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo)
        self.pub_der = self.public.public_bytes(
            serialization.Encoding.DER,
            serialization.PublicFormat.SubjectPublicKeyInfo)
        self.priv_pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
        base = os.path.join(directory, name)
        self.pub_path = base + ".pub.pem"
        self.priv_path = base + ".key.pem"
        self.cert_path = base + ".crt.pem"
        self.jwks_path = base + ".jwks.json"
        with open(self.pub_path, "wb") as f:
            f.write(self.pub_pem)
        with open(self.priv_path, "wb") as f:
            f.write(self.priv_pem)
        os.chmod(self.priv_path, 0o644)
        with open(self.cert_path, "wb") as f:
            f.write(self.certificate().public_bytes(
                serialization.Encoding.PEM))
        write_jwks(self.jwks_path, [self.jwk(kid=name)])

    def certificate(self):
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                "ccf-" + self.name)])
        now = datetime.datetime.utcnow()
        b = (x509.CertificateBuilder().subject_name(subject)
             .issuer_name(subject).public_key(self.public)
             .serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(days=1))
             .not_valid_after(now + datetime.timedelta(days=365)))
        algo = None if self.kind == "OKP" else hashes.SHA256()
        return b.sign(self.private, algo)

    def jwk(self, kid=None, alg=None, use=None):
        """The public JWK (dict); kid/alg/use added when given."""
        if self.kind == "RSA":
            n = self.public.public_numbers()
            d = {"kty": "RSA", "n": _int_b64u(n.n), "e": _int_b64u(n.e)}
        elif self.kind == "EC":
            n = self.public.public_numbers()
            size = (self.public.curve.key_size + 7) // 8
            d = {"kty": "EC", "crv": self.curve, "x": _int_b64u(n.x, size),
                 "y": _int_b64u(n.y, size)}
        else:
            raw = self.public.public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw)
            d = {"kty": "OKP", "crv": "Ed25519", "x": b64u(raw)}
        if kid is not None:
            d["kid"] = kid
        if alg is not None:
            d["alg"] = alg
        if use is not None:
            d["use"] = use
        return d

    # signing

    def signature(self, alg, data):
        """A real JWS signature (raw R||S for ECDSA) of data with alg.

        Any hash may be combined with any key of the family (e.g. ES256
        on a P-384 key) to build alg-swap tokens."""
        if isinstance(data, str):
            data = data.encode("ascii")
        fam, bits = alg[:2], alg[2:]
        if alg == "EdDSA":
            return self.private.sign(data)
        h = _HASHES[bits]()
        if fam == "RS":
            return self.private.sign(data, padding.PKCS1v15(), h)
        if fam == "PS":
            return self.private.sign(
                data, padding.PSS(mgf=padding.MGF1(h),
                                  salt_length=h.digest_size), h)
        if fam == "ES":
            der = self.private.sign(data, ec.ECDSA(h))
            r, s = decode_dss_signature(der)
            size = (self.private.curve.key_size + 7) // 8
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")
        raise ValueError(alg)

    def signature_der(self, alg, data):
        """An ECDSA signature in DER (what JWS forbids)."""
        h = _HASHES[alg[2:]]()
        return self.private.sign(data.encode("ascii"), ec.ECDSA(h))

    def sign_raw(self, header, payload, alg=None):
        """Compact JWS of arbitrary header/payload JSON (dict, str or
        bytes), with a real signature by this key.  alg defaults to the
        header's "alg" (dict) or the key's own."""
        if alg is None:
            alg = header.get("alg") if isinstance(header, dict) else None
            alg = alg or self.alg
        si = "%s.%s" % (b64u(json_bytes(header)), b64u(json_bytes(payload)))
        return si + "." + b64u(self.signature(alg, si))

    def sign(self, claims=None, alg=None, kid=None, headers=None):
        """A token from PyJWT (claims default: :func:`good_claims`)."""
        alg = alg or self.alg
        claims = good_claims() if claims is None else claims
        h = dict(headers or {})
        if kid is not None:
            h["kid"] = kid
        return jwt.encode(claims, self.priv_pem, algorithm=alg,
                          headers=h or None)

    def token(self, claims=None, alg=None, kid=None, **extra_header):
        """A token from :meth:`sign_raw` with header {"alg","typ"[,"kid"]}
        plus extra_header members."""
        alg = alg or self.alg
        h = {"alg": alg, "typ": "JWT"}
        if kid is not None:
            h["kid"] = kid
        h.update(extra_header)
        return self.sign_raw(h, good_claims() if claims is None else claims,
                             alg)


def write_jwks(path, jwks):
    with open(path, "w") as f:
        json.dump({"keys": list(jwks)}, f, indent=1)
    return path


class Keys:
    """All key material of a session (see :func:`make_keys`).

    Attributes (each a :class:`Key`): ``rsa`` (2048), ``rsa1024``,
    ``p256``, ``p384``, ``p521``, ``ed25519``; attacker keys
    ``evil_rsa``, ``evil_p256``, ``evil_p384``, ``evil_p521``,
    ``evil_ed25519``; ``rsa_b`` (a second good RSA-2048 key).  Also
    ``dir`` and ``jwks_all`` (a JWKS of rsa/p256/p384/p521/ed25519 with
    kids "rsa-1", "ec-256", "ec-384", "ec-521", "ed-1").
    """

    def __init__(self, directory):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        mk = lambda n, k: Key(n, k, self.dir)  # noqa: E731
        self.rsa = mk("rsa", rsa.generate_private_key(65537, 2048))
        self.rsa_b = mk("rsa_b", rsa.generate_private_key(65537, 2048))
        self.rsa1024 = mk("rsa1024", rsa.generate_private_key(65537, 1024))
        self.p256 = mk("p256", ec.generate_private_key(ec.SECP256R1()))
        self.p384 = mk("p384", ec.generate_private_key(ec.SECP384R1()))
        self.p521 = mk("p521", ec.generate_private_key(ec.SECP521R1()))
        self.ed25519 = mk("ed25519", ed25519.Ed25519PrivateKey.generate())
        self.evil_rsa = mk("evil_rsa", rsa.generate_private_key(65537, 2048))
        self.evil_p256 = mk("evil_p256",
                            ec.generate_private_key(ec.SECP256R1()))
        self.evil_p384 = mk("evil_p384",
                            ec.generate_private_key(ec.SECP384R1()))
        self.evil_p521 = mk("evil_p521",
                            ec.generate_private_key(ec.SECP521R1()))
        self.evil_ed25519 = mk("evil_ed25519",
                               ed25519.Ed25519PrivateKey.generate())
        self.jwks_all = write_jwks(self.path("all.jwks.json"), [
            self.rsa.jwk(kid="rsa-1"), self.p256.jwk(kid="ec-256"),
            self.p384.jwk(kid="ec-384"), self.p521.jwk(kid="ec-521"),
            self.ed25519.jwk(kid="ed-1")])

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, data):
        """Writes an extra file into the key dir and returns its path."""
        p = self.path(name)
        with open(p, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        return p


def make_keys(directory):
    return Keys(directory)


def hmac_token(alg, secret, header=None, payload=None):
    """A token MACed with HS256/384/512 and secret (bytes) -- the classic
    RS->HS confusion when secret is the server's public key."""
    header = {"alg": alg, "typ": "JWT"} if header is None else header
    payload = good_claims() if payload is None else payload
    si = "%s.%s" % (b64u(json_bytes(header)), b64u(json_bytes(payload)))
    h = {"HS256": hashlib.sha256, "HS384": hashlib.sha384,
         "HS512": hashlib.sha512}[alg]
    return si + "." + b64u(hmac.new(secret, si.encode(), h).digest())


# --------------------------------------------------------------------------
# the token CLI


def capif_token(*args, check=True):
    """Runs build/capif-token with args; returns the token (str)."""
    assert os.access(CAPIF_TOKEN, os.X_OK), (
        "%s is missing: run scripts/build" % CAPIF_TOKEN)
    p = subprocess.run([CAPIF_TOKEN] + [str(a) for a in args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)
    if check:
        assert p.returncode == 0, "capif-token %s failed: %s" % (
            args, p.stderr.decode(errors="replace"))
    return p.stdout.decode().strip()


# --------------------------------------------------------------------------
# config snippets


def location(path, keys_conf, aef=AEF_ID, api=API_NAME, extra="",
             upstream_port=None, capif="on"):
    """A protected location block as in the README.

    keys_conf: capif_key_file lines (a str, or a list of "path [opts]"
    strings that are turned into capif_key_file lines).  The location sets
    X-Capif-Invoker-Id / X-Capif-Scope from the module's variables and
    proxies to the upstream."""
    if isinstance(keys_conf, (list, tuple)):
        keys_conf = "\n".join("capif_key_file %s;" % k for k in keys_conf)
    assert upstream_port, "location() needs upstream_port"
    aef_line = "capif_aef_id %s;" % aef if aef else ""
    api_line = "capif_api_name %s;" % api if api else ""
    return """
        location %s {
            capif %s;
            %s
            %s
            %s
            %s
            proxy_set_header X-Capif-Invoker-Id $capif_invoker_id;
            proxy_set_header X-Capif-Scope $capif_scope;
            proxy_pass http://127.0.0.1:%d;
        }
""" % (path, capif, keys_conf, aef_line, api_line, extra, upstream_port)


# --------------------------------------------------------------------------
# assertions


CHALLENGE_ERROR = {400: "invalid_request", 401: "invalid_token",
                   403: "insufficient_scope"}


def expected_challenge(status, cause, realm="capif"):
    if status == 401 and cause == "TOKEN_MISSING":
        return 'Bearer realm="%s"' % realm
    return 'Bearer realm="%s", error="%s"' % (realm, CHALLENGE_ERROR[status])


def _secrets_in(body_text, token, keys):
    leaks = []
    if "-----BEGIN" in body_text:
        leaks.append("PEM armour")
    if token:
        if token in body_text:
            leaks.append("the token")
        for seg in token.split("."):
            if len(seg) >= 16 and seg in body_text:
                leaks.append("a token segment %r" % seg[:30])
    for k in keys or ():
        for blob in (k.pub_pem, k.priv_pem):
            for line in blob.decode().splitlines()[1:3]:
                if len(line) > 20 and line in body_text:
                    leaks.append("key material of %s" % k.name)
    return leaks


def assert_refused(resp, status, cause, realm="capif", token=None,
                   upstream=None, keys=None):
    """Checks a refusal against the README table: status, exactly one
    WWW-Authenticate with the exact challenge, a problem+json body with
    status/title/cause/detail, no token or key material in the body, and
    (when upstream is given and the request had an X-Test-Id) that the
    call never reached the upstream."""
    info = "response: %r" % (resp,)
    if isinstance(cause, (tuple, list, set)):
        # several causes are acceptable (where the README leaves the order
        # of checks open): the body's cause must be one of them
        try:
            got = json.loads(resp.body.decode("utf-8")).get("cause")
        except (ValueError, AttributeError):
            got = None
        assert got in cause, "cause %r not in %r; %s" % (got, cause, info)
        cause = got
    assert resp.status == status, "status %s != %s (%s); %s" % (
        resp.status, status, cause, info)
    chal = resp.header_all("WWW-Authenticate")
    assert chal == [expected_challenge(status, cause, realm)], (
        "WWW-Authenticate %r != %r; %s" % (
            chal, expected_challenge(status, cause, realm), info))
    ctype = resp.header("Content-Type") or ""
    assert ctype.startswith("application/problem+json"), info
    body = resp.json()
    assert isinstance(body, dict), info
    assert body.get("cause") == cause, "cause %r != %r; %s" % (
        body.get("cause"), cause, info)
    assert body.get("status") == status, info
    assert isinstance(body.get("title"), str) and body["title"], info
    assert isinstance(body.get("detail"), str), info
    leaks = _secrets_in(resp.body.decode("utf-8", "replace"), token, keys)
    assert not leaks, "body leaks %s; %s" % (leaks, info)
    if upstream is not None and resp.test_id:
        assert not upstream.seen(resp.test_id), "refused call reached AEF"
    return body


def assert_allowed(resp, invoker=INVOKER, scope=None, upstream=None):
    """Checks an allowed call: 200 from the upstream echo, no
    WWW-Authenticate, and the upstream saw X-Capif-Invoker-Id == invoker
    (exactly once) and, when given, X-Capif-Scope == scope."""
    info = "response: %r" % (resp,)
    assert resp.status == 200, info
    assert resp.header_all("WWW-Authenticate") == [], info
    echo = resp.json()
    assert "method" in echo and "headers" in echo, info
    if invoker is not None:
        assert resp.upstream_header("X-Capif-Invoker-Id") == [invoker], info
    if scope is not None:
        assert resp.upstream_header("X-Capif-Scope") == [scope], info
    if upstream is not None and resp.test_id:
        assert upstream.seen(resp.test_id)
    return echo




class Gateway:
    """An nginx + upstream + keys bundle with request-and-assert helpers.

    ``gw.refused(path, token, status, cause)`` sends ``Authorization:
    Bearer token`` (or the given headers) and runs :func:`assert_refused`;
    ``gw.allowed(path, token)`` runs :func:`assert_allowed`.  Both return
    the response."""

    def __init__(self, nginx, upstream, keys=None):
        self.nginx = nginx
        self.upstream = upstream
        self.keys = keys

    @property
    def port(self):
        return self.nginx.port

    def get(self, path, token=None, headers=()):
        return self.nginx.get(path, token, headers)

    def _all_keys(self):
        if self.keys is None:
            return ()
        return [v for v in vars(self.keys).values() if isinstance(v, Key)]

    def refused(self, path, token, status, cause, realm="capif",
                headers=()):
        r = self.get(path, token, headers)
        assert_refused(r, status, cause, realm=realm, token=token,
                       upstream=self.upstream, keys=self._all_keys())
        return r

    def allowed(self, path, token, invoker=INVOKER, scope=None, headers=()):
        r = self.get(path, token, headers)
        assert_allowed(r, invoker=invoker, scope=scope,
                       upstream=self.upstream)
        return r

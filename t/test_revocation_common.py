"""Shared helpers of the revocation tests (t/test_revocation_*.py).

No tests here.  A gateway for these tests is Debian's nginx with the built
module, ``worker_processes 2``, a real upstream, a ``capif_zone`` and a
``capif_journal``, the AEF_Security_API on

* the plain listener at ``/aef-security/v1/`` with
  ``capif_admin_allow_plain_loopback on`` (the CCF stand-in of most tests),
* the plain listener at ``/strict/aef-security/v1/`` without it (403),
* a TLS listener (``ssl_verify_client optional_no_ca``) at
  ``/aef-security/v1/`` that wants exactly the CCF's client certificate,

and protected locations ``/api/`` (aef-1/api-1), ``/api-id/`` (same API,
``capif_api_id apiid-77``) and ``/other/`` (aef-1/api-2).
"""

import datetime
import http.client
import json
import os
import ssl
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import capif

#: the module under test: CAPIF_MODULE_SO overrides build/'s
MODULE = os.environ.get("CAPIF_MODULE_SO", capif.MODULE_SO)

ADMIN = "/aef-security/v1/"
STRICT = "/strict/aef-security/v1/"
API_ID = "apiid-77"

ALICE = "msisdn-491700000001"
BOB = "msisdn-491700000002"
TEAM = "extgroupid-team1@example.com"


# ------------------------------------------------------------ certificates

class Cert:
    def __init__(self, directory, name, cn, server=False):
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        now = datetime.datetime.utcnow()
        b = (x509.CertificateBuilder().subject_name(subject)
             .issuer_name(subject).public_key(key.public_key())
             .serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(days=1))
             .not_valid_after(now + datetime.timedelta(days=30)))
        if server:
            b = b.add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost")]), critical=False)
        cert = b.sign(key, hashes.SHA256())
        self.crt = os.path.join(directory, name + ".crt")
        self.key = os.path.join(directory, name + ".key")
        with open(self.crt, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(self.key, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))


class Certs:
    """server, ccf (the configured client cert) and impostor (same
    subject, another key)."""

    def __init__(self, directory):
        os.makedirs(directory, exist_ok=True)
        self.server = Cert(directory, "server", "localhost", server=True)
        self.ccf = Cert(directory, "ccf", "ccf.example.com")
        self.impostor = Cert(directory, "impostor", "ccf.example.com")


# ------------------------------------------------------------ config

def gateway_conf(keys, certs, upstream_port, journal, zone="1m",
                 tls_port=None, extra_http="", extra_server="",
                 lifetime="1h"):
    """(http, server_block) for capif.Nginx."""
    k = [keys.rsa.pub_path, keys.p256.pub_path]
    http = """
    capif_zone capif:%s;
    capif_journal %s;
    capif_token_max_lifetime %s;
    %s
""" % (zone, journal, lifetime, extra_http)
    locs = "".join([
        capif.location("/api/", k, upstream_port=upstream_port),
        capif.location("/api-id/", k, upstream_port=upstream_port,
                       extra="capif_api_id %s;" % API_ID),
        capif.location("/other/", k, api="api-2",
                       upstream_port=upstream_port),
    ])
    server = """
    server {
        listen 127.0.0.1:@PORT@;
        location %s {
            capif_aef_security;
            capif_admin_allow_plain_loopback on;
        }
        location %s {
            capif_aef_security;
            capif_ccf_certificate %s;
        }
        %s
        %s
    }
""" % (ADMIN, STRICT, certs.ccf.crt, locs, extra_server)
    if tls_port:
        server += """
    server {
        listen 127.0.0.1:%d ssl;
        ssl_certificate %s;
        ssl_certificate_key %s;
        ssl_verify_client optional_no_ca;
        location %s {
            capif_aef_security;
            capif_ccf_certificate %s;
        }
    }
""" % (tls_port, certs.server.crt, certs.server.key, ADMIN, certs.ccf.crt)
    return http, server


def start_kwargs(keys, certs, upstream, journal, workers=2, **kw):
    tls_port = kw.pop("tls_port", None)
    http, server = gateway_conf(keys, certs, upstream.port, journal,
                                tls_port=tls_port, **kw)
    return dict(http=http, server_block=server, worker_processes=workers,
                module=MODULE)


# ------------------------------------------------------------ requests

def revoke_body(invoker=capif.INVOKER, api_ids=(capif.API_NAME,),
                aef=capif.AEF_ID, cause="AUTHORIZATION_ISSUE", token=None,
                features="0"):
    """A RevokeAuthorizationReq; features=None leaves out the (mandatory)
    supportedFeatures."""
    info = {"apiInvokerId": invoker, "apiIds": list(api_ids),
            "cause": cause}
    if aef is not None:
        info["aefId"] = aef
    if token is not None:
        info["access_token"] = token
    body = {"revokeInfo": info}
    if features is not None:
        body["supportedFeatures"] = features
    return body


def post(port, op, body, prefix=ADMIN, content_type="application/json"):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    hdrs = [] if content_type is None else [("Content-Type", content_type)]
    return capif.request(port, "POST", prefix + op, hdrs, data,
                         test_id=False)


#: where a CCF delivers CAPIF_Events_API notifications
EVENTS = "capif-events/notifications"
REVOKED = "API_INVOKER_AUTHORIZATION_REVOKED"


def event_body(invokers=(capif.INVOKER,), api_ids=(capif.API_NAME,),
               event=REVOKED, detail=True, sub="sub-1"):
    """An EventNotification; detail=False sends none (as the reference
    CCF does)."""
    body = {"subscriptionId": sub, "events": event}
    if detail:
        d = {}
        if invokers is not None:
            d["apiInvokerIds"] = list(invokers)
        if api_ids is not None:
            d["apiIds"] = list(api_ids)
        body["eventDetail"] = d
    return body


def notify(port, body=None, **kw):
    return post(port, EVENTS, event_body(**kw) if body is None else body)


def assert_stored(resp, features="0"):
    """The RevokeAuthorizationRsp of an accepted revocation."""
    assert resp.status == 200, resp
    assert (resp.header("Content-Type") or "").startswith(
        "application/json"), resp
    assert resp.json() == {"supportedFeatures": features}, resp
    return resp


def revoke(port, body=None, op="revoke-authorization", **kw):
    return post(port, op, revoke_body(**kw) if body is None else body)


def listing(port, prefix=ADMIN):
    r = capif.request(port, "GET", prefix + "revocations", test_id=False)
    assert r.status == 200, r
    assert (r.header("Content-Type") or "").startswith("application/json")
    return r.json()


def tls_request(port, method, path, body=None, cert=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if cert is not None:
        ctx.load_cert_chain(cert.crt, cert.key)
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10,
                                       context=ctx)
    try:
        hdrs = {}
        if body is not None:
            body = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        return capif.Response(r.status, list(r.getheaders()), r.read())
    finally:
        conn.close()


def token(keys, key=None, **claims):
    return (key or keys.rsa).token(claims=capif.good_claims(**claims))


def assert_problem(resp, status, cause=None):
    assert resp.status == status, resp
    assert (resp.header("Content-Type") or "").startswith(
        "application/problem+json"), resp
    body = resp.json()
    assert body.get("status") == status, resp
    if cause is not None:
        assert body.get("cause") == cause, resp
    return body


def assert_revoked(n, path, tok, upstream=None):
    r = n.get(path, tok)
    capif.assert_refused(r, 401, "TOKEN_REVOKED", token=tok,
                         upstream=upstream)
    return r


def assert_ok(n, path, tok):
    r = n.get(path, tok)
    assert r.status == 200, r
    return r


def next_second():
    """Sleeps into the next wall-clock second; returns it."""
    now = time.time()
    time.sleep(int(now) + 1 - now + 0.05)
    return int(time.time())


class Unmanaged:
    """capif.Nginx instances a test starts and checks itself (for tests
    that expect alerts in error.log, which the shared guard forbids)."""

    def __init__(self, base):
        self.base = str(base)
        self.started = []

    def start(self, name="gw", **conf):
        n = capif.Nginx(os.path.join(self.base, name), **conf)
        n.start()
        self.started.append(n)
        return n

    def stop_all(self):
        for n in self.started:
            n.stop()

    @staticmethod
    def crashes(n):
        log = n.error_log()
        return [line for line in log.splitlines()
                if "exited on signal" in line or "segfault" in line
                or any(p in line for p in capif.SANITIZER_PATTERNS)
                or "[emerg]" in line]

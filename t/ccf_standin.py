"""A stand-in CCF: a real HTTPS server on loopback with mutual TLS.

It speaks the shapes of TS 29.222 and of the reference CCF (ETSI
OpenCAPIF):

* ``GET /keys/...`` -- whatever key document the test set with
  :meth:`CCF.set_keys` (a JWKS as ``application/jwk-set+json``, the CCF's
  server certificate as PEM, a leaf-plus-CA bundle...), or another status.
* ``GET /capif-security/v1/trustedInvokers/{apiInvokerId}`` with
  ``authenticationInfo`` / ``authorizationInfo`` -- Obtain_API_Invoker_Info:
  200 ``ServiceSecurity`` ``{"securityInfo": [{"aefId", "apiId",
  "prefSecurityMethods", "selSecurityMethod", ...}], "notificationDestination",
  "supportedFeatures"}`` for an onboarded invoker, 404 ProblemDetails once
  it is gone (:meth:`CCF.set_invoker`, :meth:`CCF.revoke`).

Every request is recorded (:attr:`CCF.requests`) with its client
certificate's subject: the CCF refuses a TLS client without a certificate
from its CA, as a real CCF does.  :meth:`CCF.down` closes the listening
socket (connections are refused), :meth:`CCF.up` opens it again on the
same port.  ``delay`` holds every answer for that many seconds.  The
certificates and the HTTPS server come from :mod:`capif_pki`.
"""

import json
import os
import threading
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import serialization

import capif_pki
from capif_pki import name as _name


def _cert(subject, key, issuer, issuer_key, ca=False, san=None):
    return capif_pki.certificate(_name(subject), key, _name(issuer),
                                 issuer_key, sans=san or (), ca=ca)


class Pki:
    """A CA, the CCF's server certificate (CN and SAN "ccf", 127.0.0.1)
    and the AEF's client certificate, as PEM files in directory."""

    def __init__(self, directory):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        pem = serialization.Encoding.PEM
        self.ca_key = capif_pki.new_key()
        self.ca = _cert("capif-ca", self.ca_key, "capif-ca", self.ca_key,
                        ca=True)
        self.ccf_key = capif_pki.new_key()
        self.ccf = _cert("ccf", self.ccf_key, "capif-ca", self.ca_key,
                         san=[x509.DNSName("ccf"), capif_pki.LOOPBACK])
        self.aef_key = capif_pki.new_key()
        self.aef = _cert("aef-1", self.aef_key, "capif-ca", self.ca_key)
        self.ca_path = self._write("ca.crt", self.ca.public_bytes(pem))
        self.ccf_cert_path = self._write("ccf.crt", self.ccf.public_bytes(pem))
        self.ccf_key_path = self._write("ccf.key",
                                        capif_pki.key_pem(self.ccf_key))
        self.aef_cert_path = self._write("aef.crt", self.aef.public_bytes(pem))
        self.aef_key_path = self._write("aef.key",
                                        capif_pki.key_pem(self.aef_key))

    def _write(self, name, data):
        p = os.path.join(self.dir, name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def proxy_ssl(self):
        """The proxy_ssl_* lines of an internal location to the CCF."""
        return """
            proxy_ssl_certificate %s;
            proxy_ssl_certificate_key %s;
            proxy_ssl_trusted_certificate %s;
            proxy_ssl_verify on;
            proxy_ssl_name ccf;
            proxy_ssl_server_name on;
""" % (self.aef_cert_path, self.aef_key_path, self.ca_path)


class _Handler(capif_pki.Handler):
    def _send(self, status, body=b"", ctype="application/json",
              headers=()):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        ccf = self.server.ccf
        url = urllib.parse.urlsplit(self.path)
        peer = self.connection.getpeercert()
        subject = ""
        if peer:
            subject = ",".join("%s=%s" % kv[0] for kv in peer["subject"])
        rec = {"method": "GET", "path": url.path, "raw_path": self.path,
               "query": urllib.parse.parse_qs(url.query,
                                              keep_blank_values=True),
               "headers": dict(self.headers.items()), "client": subject,
               "time": time.monotonic()}
        ccf._record(rec)
        if ccf.delay:
            time.sleep(ccf.delay)
        prefix = "/capif-security/v1/trustedInvokers/"
        if url.path.startswith("/keys"):
            status, body, ctype, headers = ccf.keys
            self._send(status, body, ctype, headers)
        elif url.path.startswith(prefix):
            inv = urllib.parse.unquote(url.path[len(prefix):])
            rec["invoker"] = inv
            self._invoker(ccf, inv, rec["query"])
        else:
            self._send(404, {"status": 404, "title": "Not Found",
                             "cause": "UNKNOWN_RESOURCE"},
                       "application/problem+json")

    def _invoker(self, ccf, inv, query):
        with ccf.lock:
            forced = ccf.invoker_status
            entries = ccf.invokers.get(inv)
        if forced:
            self._send(forced, {"status": forced, "title": "error"},
                       "application/problem+json")
            return
        if entries is None:
            # the reference CCF, once the invoker's context is deleted
            self._send(404, {"status": 404, "title": "Not Found",
                             "detail": "Invoker not found",
                             "cause": "Not found"},
                       "application/problem+json")
            return
        info = []
        for aef, api in entries:
            e = {"aefId": aef, "apiId": api,
                 "prefSecurityMethods": ["PKI", "OAUTH"],
                 "selSecurityMethod": "OAUTH"}
            if query.get("authorizationInfo") == ["true"]:
                e["authorizationInfo"] = "granted"
            info.append(e)
        self._send(200, {"securityInfo": info,
                         "notificationDestination":
                             "https://invoker.example/notify",
                         "supportedFeatures": "0"})


class CCF:
    """The stand-in CCF (see the module docstring)."""

    def __init__(self, pki):
        self.pki = pki
        self.lock = threading.Lock()
        self.requests = []
        self.delay = 0
        self.keys = (404, b"", "application/problem+json", ())
        self.invokers = {}
        self.invoker_status = None
        self.port = None
        self.server = None
        self.thread = None

    def _record(self, rec):
        with self.lock:
            self.requests.append(rec)

    def requests_for(self, prefix):
        with self.lock:
            return [r for r in self.requests if r["path"].startswith(prefix)]

    def key_fetches(self):
        return len(self.requests_for("/keys"))

    def status_fetches(self, invoker=None):
        return len([r for r in self.requests_for(
            "/capif-security/v1/trustedInvokers/")
            if invoker is None or r.get("invoker") == invoker])

    # what the CCF serves

    def set_keys(self, body, status=200, ctype="application/jwk-set+json",
                 headers=()):
        with self.lock:
            self.keys = (status, body, ctype, tuple(headers))

    def set_jwks(self, jwks):
        self.set_keys(json.dumps({"keys": list(jwks)}))

    def set_invoker(self, invoker, apis):
        """apis: [(aefId, apiId), ...] the invoker is authorized for."""
        with self.lock:
            self.invokers[invoker] = list(apis)

    def revoke(self, invoker, api=None):
        """Drops the invoker (api None) or one API of it, as the reference
        CCF deletes security context entries."""
        with self.lock:
            if api is None:
                self.invokers.pop(invoker, None)
            else:
                self.invokers[invoker] = [
                    e for e in self.invokers.get(invoker, []) if e[1] != api]

    # life cycle

    def up(self):
        self.server = capif_pki.https_server(
            _Handler, self.pki.ccf_cert_path, self.pki.ccf_key_path,
            cafile=self.pki.ca_path, port=self.port or 0)
        self.server.ccf = self
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        return self

    def down(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def location(self, path, upstream_path, extra=""):
        """An internal location that proxies to this CCF over mutual TLS."""
        return """
        location %s {
            internal;
            proxy_pass https://127.0.0.1:%d%s;
            %s
            subrequest_output_buffer_size 64k;
            proxy_buffer_size 64k;
            proxy_buffers 4 64k;
            proxy_busy_buffers_size 64k;
            proxy_connect_timeout 2s;
            proxy_read_timeout 5s;
            %s
        }
""" % (path, self.port, upstream_path, self.pki.proxy_ssl(), extra)


def main():
    """Runs the stand-in CCF alone (for scripts/bench): generates its PKI
    in --dir, authorizes --invoker for --aef/--api, appends one line per
    request to --log, and serves until killed."""
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--invoker", required=True)
    p.add_argument("--aef", required=True)
    p.add_argument("--api", required=True)
    p.add_argument("--log", required=True)
    a = p.parse_args()
    ccf = CCF(Pki(a.dir))
    ccf.set_invoker(a.invoker, [(a.aef, a.api)])
    log = open(a.log, "a", buffering=1)

    def record(rec, _orig=ccf._record):
        _orig(rec)
        log.write("%s %s\n" % (rec["method"], rec["raw_path"]))
        with ccf.lock:
            ccf.requests.clear()

    ccf._record = record
    ccf.port = a.port
    ccf.up()
    with open(os.path.join(a.dir, "ready"), "w") as f:
        f.write("%d\n" % ccf.port)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()

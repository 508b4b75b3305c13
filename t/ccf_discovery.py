"""A stand-in CCF for key issue 2: a real HTTPS server on loopback that
answers ``GET /open-api-disc/v1/service-apis`` with an OpenDiscoveryResp
(TS 29.222 V19.5.0) holding everything a CCF might leak, and records every
request it receives.

The answer is chosen by the request header ``X-Ccf-Mode`` (nginx passes
client headers on): ``leaky`` (default), ``gzip``, ``chunked``, ``huge``,
``huge-chunked``, ``truncated``, ``notjson``, ``dup``, ``problem``,
``problem-html``, ``redirect``, ``empty``, ``accel``.  Certificates come from a
private CA (:class:`Pki`, built with :mod:`capif_pki`); the server's
name is ``ccf.test``.
"""

import gzip
import json
import os
import threading

from cryptography import x509

import capif_pki

CCF_NAME = "ccf.test"

#: the APIs the stand-in knows; the dissemination list of the tests holds
#: api-pub (by name) and the id of api-byid, never api-secret
LEAKY = {
    "discApis": [
        {
            "apiName": "api-pub",
            "apiId": "id-pub",
            "apiStatus": {"aefIds": ["aef-1"]},
            "description": "public API",
            "serviceAPICategory": "location",
            "apiSuppFeats": "0F",
            "apiProvName": "Operator A",
            "vendorSpecific-010415": {"internal": "x"},
            "aefProfiles": [{
                "aefId": "aef-1",
                "versions": [{
                    "apiVersion": "v1",
                    "expiry": "2030-01-01T00:00:00Z",
                    "resources": [{
                        "resourceName": "subs",
                        "commType": "REQUEST_RESPONSE",
                        "uri": "/subscriptions",
                        "operations": ["GET", "POST"],
                        "backendHost": "db.internal",
                    }],
                    "custOperations": [{"custOpName": "op",
                                        "commType": "REQUEST_RESPONSE",
                                        "debug": True}],
                    "internalNotes": "n",
                }],
                "protocol": "HTTP_2",
                "dataFormat": "JSON",
                "securityMethods": ["PSK", "PKI", "OAUTH"],
                "domainName": "aef-internal.example",
                "interfaceDescriptions": [{
                    "ipv4Addr": "10.11.12.13",
                    "port": 8443,
                    "apiPrefix": "/internal",
                    "securityMethods": ["OAUTH"],
                }],
                "aefLocation": {"dcId": "dc-7", "rack": "r12"},
                "serviceKpis": {"maxReqRate": 100, "availability": 99,
                                "avalMem": "16GB", "secretKpi": 1},
                "ipv4Addr": "10.0.0.9",
                "port": 9090,
            }],
        },
        {
            "apiName": "api-secret",
            "apiId": "id-secret",
            "description": "not for open discovery",
        },
        {
            "apiName": "api-byid",
            "apiId": "id-byid",
            "description": "revealed by its id",
            "serviceAPICategory": "qos",
        },
    ],
    "suppFeat": "1",
    "ccfVersion": "OpenCAPIF 2.0",
    "vendorSpecific-x": {"debug": True},
}


class Pki:
    """A private CA, the CCF's server certificate (``ccf.test``), the
    gateway's server certificate and a client certificate, all issued by
    the CA.  Paths: ``ca``, ``ccf_crt``/``ccf_key``, ``gw_crt``/``gw_key``,
    ``client_crt``/``client_key``; ``rogue_ca``/``rogue_crt``/``rogue_key``
    for a CCF impostor from another CA."""

    def __init__(self, directory):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        self.ca, ca_key, ca_name = self._ca("ca", "Test CCF CA")
        self.ccf_crt, self.ccf_key = self._leaf(
            "ccf", CCF_NAME, ca_key, ca_name)
        self.gw_crt, self.gw_key = self._leaf(
            "gw", "localhost", ca_key, ca_name)
        self.client_crt, self.client_key = self._leaf(
            "client", "requestor-1", ca_key, ca_name, client=True)
        self.rogue_ca, rogue_key, rogue_name = self._ca("rogue-ca", "Rogue")
        self.rogue_crt, self.rogue_key = self._leaf(
            "rogue", CCF_NAME, rogue_key, rogue_name)

    def _ca(self, name, cn):
        key = capif_pki.new_key()
        subj = capif_pki.name(cn)
        cert = capif_pki.certificate(subj, key, subj, key, ca=True)
        crt, _ = capif_pki.write_pem(self.dir, name, cert, key)
        return crt, key, subj

    def _leaf(self, name, cn, ca_key, ca_name, client=False):
        key = capif_pki.new_key()
        sans = () if client else [x509.DNSName(cn)]
        cert = capif_pki.certificate(capif_pki.name(cn), key, ca_name,
                                     ca_key, sans=sans)
        return capif_pki.write_pem(self.dir, name, cert, key)


class _Handler(capif_pki.Handler):
    def _send(self, status, body, ctype="application/json", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Ccf-Internal", "node-7")
        self.send_header("Set-Cookie", "ccfsession=secret")
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _chunked(self, body):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(0, len(body), 7000):
            part = body[i:i + 7000]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        self.wfile.write(b"0\r\n\r\n")

    def do_GET(self):
        self.server.ccf.record(self)
        mode = self.headers.get("X-Ccf-Mode", "leaky")
        body = json.dumps(LEAKY).encode()
        if mode == "leaky":
            self._send(200, body)
        elif mode == "gzip":
            self._send(200, gzip.compress(body),
                       extra=[("Content-Encoding", "gzip")])
        elif mode == "chunked":
            self._chunked(body)
        elif mode == "huge":
            self._send(200, self._huge())
        elif mode == "huge-chunked":
            self._chunked(self._huge())
        elif mode == "big-ok":
            self._send(200, self._big_ok())
        elif mode == "truncated":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
        elif mode == "notjson":
            self._send(200, b"<html>CCF internal 10.0.0.1</html>",
                       ctype="text/html")
        elif mode == "dup":
            self._send(200, b'{"discApis":[{"apiName":"api-pub",'
                            b'"apiName":"api-secret"}]}')
        elif mode == "problem":
            self._send(404, json.dumps({
                "type": "https://ccf.internal/errors",
                "title": "Not Found", "status": 404,
                "detail": "no API matched in db ccf-db-2.internal",
                "instance": "/open-api-disc/v1/service-apis",
                "cause": "API_NOT_FOUND",
                "invalidParams": [{"param": "x", "reason": "y"}],
                "supportedFeatures": "0"}).encode(),
                ctype="application/problem+json")
        elif mode == "problem-html":
            self._send(500, b"<h1>Traceback (most recent call last)</h1>",
                       ctype="text/html")
        elif mode == "redirect":
            self._send(307, b"", extra=[
                ("Location", "https://10.0.0.5:8443/open-api-disc/v1")])
        elif mode == "empty":
            self._send(200, b"")
        elif mode == "accel":
            # a CCF (or whoever speaks for it) steering nginx elsewhere
            self._send(200, b"{}", extra=[
                ("X-Accel-Redirect", "/internal-leak")])
        else:
            self._send(500, b"{}")

    do_HEAD = do_GET

    @staticmethod
    def _huge():
        api = {"apiName": "api-pub", "description": "x" * 1000}
        return json.dumps({"discApis": [api] * 1600}).encode()

    @staticmethod
    def _big_ok():
        # about 600 KB: more than nginx's proxy buffers, under 1m
        api = {"apiName": "api-pub", "description": "y" * 1000}
        return json.dumps({"discApis": [api] * 600}).encode()


class Ccf:
    """The stand-in CCF on 127.0.0.1:port over TLS (cert, key)."""

    def __init__(self, cert, key):
        self.requests = []
        self.lock = threading.Lock()
        self.httpd = capif_pki.https_server(_Handler, cert, key)
        self.httpd.ccf = self
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def record(self, handler):
        with self.lock:
            self.requests.append({
                "path": handler.path,
                "headers": dict(handler.headers.items()),
            })

    def seen(self, test_id):
        """The requests that carried X-Test-Id test_id."""
        with self.lock:
            return [r for r in self.requests
                    if r["headers"].get("X-Test-Id") == test_id]

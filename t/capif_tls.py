"""Mutual TLS for the suite: a test CAPIF CA, server and invoker
certificates, CRLs, and an HTTPS client that presents a certificate.

* :class:`Pki` -- a CA (``ca``) that signs a server certificate for
  127.0.0.1 and invoker certificates (:meth:`Pki.invoker`), plus CRLs
  (:meth:`Pki.crl`).  Every certificate is a :class:`Cert` with its
  ``cert_path``/``key_path`` and RFC 8705 ``thumbprint`` (base64url of the
  SHA-256 of the DER).
* :func:`self_signed` -- an invoker certificate no CA signed.
* Keys, names and certificates come from :mod:`capif_pki`.
* :class:`TlsClient` -- one keep-alive HTTPS connection to nginx with an
  optional client certificate; :meth:`TlsClient.get` returns a
  :class:`capif.Response`, and :meth:`TlsClient.same_socket` tells whether
  the connection is still the one opened first.
"""

import datetime
import hashlib
import http.client
import os
import ssl
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

import capif
import capif_pki

_now = datetime.datetime.now(datetime.timezone.utc)


def _name(cn):
    return capif_pki.name(cn, org="capif test")


class Cert:
    """A certificate and its key, written as PEM files into directory."""

    def __init__(self, name, cert, key, directory):
        self.name = name
        self.cert = cert
        self.key = key
        self.serial = cert.serial_number
        self.der = cert.public_bytes(serialization.Encoding.DER)
        self.thumbprint = capif.b64u(hashlib.sha256(self.der).digest())
        self.cert_path, self.key_path = capif_pki.write_pem(
            directory, name, cert, key)


def _build(subject, issuer, key, signer, serial, sans=(), ca=False):
    return capif_pki.certificate(
        subject, key, issuer, signer, serial, sans, ca,
        valid=(datetime.timedelta(minutes=5), datetime.timedelta(days=2)),
        now=_now)


def self_signed(directory, name, cn, serial=None):
    key = capif_pki.new_key()
    subject = _name(cn)
    cert = _build(subject, subject, key, key,
                  serial or x509.random_serial_number())
    return Cert(name, cert, key, str(directory))


class Pki:
    """A CAPIF CA in directory: ``ca`` (its Cert), ``server`` (for
    127.0.0.1), invoker certificates and CRLs."""

    def __init__(self, directory, ca_name="capif-ca"):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        self.ca_key = capif_pki.new_key()
        subject = _name("%s %s" % (ca_name, uuid.uuid4().hex[:8]))
        cert = _build(subject, subject, self.ca_key, self.ca_key,
                      x509.random_serial_number(), ca=True)
        self.ca = Cert(ca_name, cert, self.ca_key, self.dir)
        self.server = self._issue("server", "localhost",
                                  [capif_pki.LOOPBACK])

    def _issue(self, name, cn, sans=(), serial=None):
        key = capif_pki.new_key()
        cert = _build(_name(cn), self.ca.cert.subject, key, self.ca_key,
                      serial or x509.random_serial_number(), sans)
        return Cert(name, cert, key, self.dir)

    def invoker(self, name, cn=capif.INVOKER, uri=None, dns=None):
        """An invoker certificate signed by the CA: subject CN cn, and
        URI / DNS subjectAltNames when given (str or list)."""
        sans = []
        for u in ([uri] if isinstance(uri, str) else uri or []):
            sans.append(x509.UniformResourceIdentifier(u))
        for d in ([dns] if isinstance(dns, str) else dns or []):
            sans.append(x509.DNSName(d))
        return self._issue(name, cn, sans)

    def crl(self, revoked=(), der=False, stale=False):
        """A CRL by this CA listing the serials of revoked (Certs or
        ints); PEM bytes, or DER.  A stale one's nextUpdate has passed."""
        nxt = datetime.timedelta(hours=-1 if stale else 24)
        b = (x509.CertificateRevocationListBuilder()
             .issuer_name(self.ca.cert.subject)
             .last_update(_now - datetime.timedelta(days=1))
             .next_update(_now + nxt))
        for r in revoked:
            serial = r if isinstance(r, int) else r.serial
            b = b.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial)
                .revocation_date(_now - datetime.timedelta(seconds=30))
                .build())
        crl = b.sign(self.ca_key, hashes.SHA256())
        enc = serialization.Encoding.DER if der else serialization.Encoding.PEM
        return crl.public_bytes(enc)

    def write_crl(self, path, data):
        """Replaces path atomically (a new inode, as a CA's publisher
        would), so that a reader never sees half a file."""
        tmp = "%s.%s.tmp" % (path, uuid.uuid4().hex[:6])
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        return path

    def ssl_conf(self, verify="optional_no_ca"):
        """nginx server lines for TLS with client certificates."""
        return """
        ssl_certificate %s;
        ssl_certificate_key %s;
        ssl_client_certificate %s;
        ssl_verify_client %s;
""" % (self.server.cert_path, self.server.key_path, self.ca.cert_path,
       verify)


class TlsClient:
    """One HTTPS connection to 127.0.0.1:port presenting cert (a Cert,
    or None), trusting pki's CA for the server."""

    def __init__(self, port, pki, cert=None, timeout=10.0):
        ctx = ssl.create_default_context(cafile=pki.ca.cert_path)
        ctx.check_hostname = False
        if cert is not None:
            ctx.load_cert_chain(cert.cert_path, cert.key_path)
        self.conn = http.client.HTTPSConnection("127.0.0.1", port,
                                                context=ctx, timeout=timeout)
        self.conn.connect()
        self.first = self.conn.sock

    def same_socket(self):
        return self.conn.sock is not None and self.conn.sock is self.first

    def get(self, path, token=None, headers=()):
        tid = uuid.uuid4().hex
        self.conn.putrequest("GET", path, skip_accept_encoding=True)
        self.conn.putheader("X-Test-Id", tid)
        if token is not None:
            self.conn.putheader("Authorization", "Bearer " + token)
        for k, v in headers:
            self.conn.putheader(k, v)
        self.conn.endheaders()
        r = self.conn.getresponse()
        data = r.read()
        return capif.Response(r.status, list(r.getheaders()), data, tid)

    def close(self):
        self.conn.close()


def tls_get(port, pki, path, token=None, cert=None, headers=()):
    """One request on a fresh connection."""
    c = TlsClient(port, pki, cert)
    try:
        return c.get(path, token, headers)
    finally:
        c.close()

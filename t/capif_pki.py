"""The test PKI and HTTPS stand-in servers the suite's TLS helpers share
(:mod:`capif_tls`, :mod:`ccf_standin`, :mod:`ccf_discovery`).

* :func:`new_key` -- a P-256 key, as every test certificate uses.
* :func:`name` -- an X.509 name: CN, and an O when given.
* :func:`certificate` -- a certificate of subject for key, signed by
  signer in issuer's name, valid from ``valid[0]`` before now to
  ``valid[1]`` after it, with basicConstraints (critical) and optional
  subjectAltNames.
* :func:`write_pem` -- a certificate and its key as PEM files.
* :class:`Handler` -- the base of a stand-in's request handler: HTTP/1.1
  (keep-alive, as nginx's upstream connections want it), no access log.
* :func:`https_server` -- a threading HTTP server on 127.0.0.1 that
  speaks TLS with a certificate, optionally requiring client
  certificates from a CA.
"""

import datetime
import http.server
import ipaddress
import os
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

#: a subjectAltName for a server on loopback
LOOPBACK = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))


def new_key():
    return ec.generate_private_key(ec.SECP256R1())


def name(cn, org=None):
    attrs = []
    if org is not None:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    if cn is not None:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def certificate(subject, key, issuer, signer, serial=None, sans=(),
                ca=False, valid=(datetime.timedelta(days=1),
                                 datetime.timedelta(days=30)), now=None):
    """subject and issuer: x509.Name; key: the subject's private key;
    signer: the issuer's private key (key itself when self-signed)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder()
         .subject_name(subject).issuer_name(issuer)
         .public_key(key.public_key())
         .serial_number(serial or x509.random_serial_number())
         .not_valid_before(now - valid[0])
         .not_valid_after(now + valid[1])
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None),
                        critical=True))
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(list(sans)),
                            critical=False)
    return b.sign(signer, hashes.SHA256())


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def write_pem(directory, stem, cert, key):
    """Writes <stem>.crt and <stem>.key into directory; returns both
    paths."""
    crt = os.path.join(str(directory), stem + ".crt")
    kp = os.path.join(str(directory), stem + ".key")
    with open(crt, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(kp, "wb") as f:
        f.write(key_pem(key))
    return crt, kp


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass


def https_server(handler, cert, key, cafile=None, port=0):
    """A ThreadingHTTPServer on 127.0.0.1:port (0: any free one) serving
    handler over TLS with cert and key.  With cafile, a client must
    present a certificate from that CA, as a real CCF requires.  The TLS
    handshake of each accepted connection runs with a 10 s timeout, and a
    client that breaks off is not reported."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if cafile is not None:
        ctx.load_verify_locations(cafile)
        ctx.verify_mode = ssl.CERT_REQUIRED

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True

        def get_request(self):
            sock, addr = self.socket.accept()
            sock.settimeout(10)
            return ctx.wrap_socket(sock, server_side=True), addr

        def handle_error(self, request, client_address):
            pass

    return Server(("127.0.0.1", port), handler)

"""Keys that rotate: capif_key_file bundles (issue 7) and key files that
change at run time without a reload (issue 8, capif_key_refresh)."""

import os
import time

import pytest

import capif


def _ca_signed_bundle(keys, leaf, ca):
    """leaf's certificate issued by ca, then ca's own: the reference CCF's
    server.crt."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID
    now = datetime.datetime.utcnow()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ccf-ca")])
    leaf_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                              "capifcore")])
    leaf_cert = (x509.CertificateBuilder().subject_name(leaf_name)
                 .issuer_name(ca_name).public_key(leaf.public)
                 .serial_number(x509.random_serial_number())
                 .not_valid_before(now - datetime.timedelta(days=1))
                 .not_valid_after(now + datetime.timedelta(days=30))
                 .sign(ca.private, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    return (leaf_cert.public_bytes(pem)
            + ca.certificate().public_bytes(pem))


def test_key_file_bundle_uses_leaf(nginx, upstream, keys):
    bundle = keys.write("bundle-leaf-ca.crt",
                        _ca_signed_bundle(keys, keys.rsa, keys.rsa_b))
    n = nginx(server=capif.location("/b/", [bundle],
                                    upstream_port=upstream.port))
    gw = capif.Gateway(n, upstream, keys)
    gw.allowed("/b/", keys.rsa.token())
    # the CA's key is not a signing key here
    gw.refused("/b/", keys.rsa_b.token(), 401, "SIGNATURE_INVALID")
    assert ("is a bundle of 2 certificates; only the key of the first, "
            "the leaf, is used" in n.error_log())


def test_ccf_certificate_bundle_logged_alike(nginx, tmp_path, keys):
    bundle = keys.write("bundle-ccf.crt",
                        _ca_signed_bundle(keys, keys.p256, keys.rsa_b))
    n = nginx(
        http="capif_zone capif:1m; capif_journal %s;"
             % (tmp_path / "bundle.journal"),
        server="location /s/ { capif_aef_security; "
               "capif_ccf_certificate %s; }" % bundle)
    assert ("is a bundle; only the first certificate, the leaf"
            in n.error_log())


def test_key_file_not_a_bundle_refused(nginx_t, upstream, keys):
    path = keys.write("key-then-cert.pem",
                      keys.rsa.pub_pem + keys.rsa.certificate().public_bytes(
                          capif.serialization.Encoding.PEM))
    rc, out = nginx_t(server=capif.location("/x/", [path],
                                            upstream_port=upstream.port))
    assert rc != 0
    assert "capif_key_file" in out and "holds 2 PEM blocks" in out


def _wait(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return False


def _replace(path, data):
    """Writes data next to path and renames it over (a sidecar's way)."""
    tmp = path + ".new"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


@pytest.mark.parametrize("workers", [1, 2])
def test_key_file_rotates_without_reload(nginx, upstream, keys, tmp_path,
                                         workers):
    path = str(tmp_path / "ccf.crt")
    with open(path, "wb") as f:
        f.write(keys.rsa.certificate().public_bytes(
            capif.serialization.Encoding.PEM))
    n = nginx(http="capif_key_refresh 1s;", worker_processes=workers,
              server=capif.location("/r/", [path],
                                    upstream_port=upstream.port))
    gw = capif.Gateway(n, upstream, keys)
    gw.allowed("/r/", keys.rsa.token())
    gw.refused("/r/", keys.p256.token(), 401, ("ALG_NOT_CONFIGURED",
                                                "SIGNATURE_INVALID",
                                                "KID_UNKNOWN"))

    # the CCF rotates to a P-256 key: no reload, no signal
    _replace(path, keys.p256.certificate().public_bytes(
        capif.serialization.Encoding.PEM))
    for _ in range(workers * 4):
        assert _wait(lambda: n.get("/r/", keys.p256.token()).status == 200)
    for _ in range(workers * 4):
        gw.refused("/r/", keys.rsa.token(), 401, ("ALG_NOT_CONFIGURED",
                                                   "SIGNATURE_INVALID",
                                                   "KID_UNKNOWN"))

    # in place, same size class: a JWKS rewritten over the same inode
    with open(path, "w") as f:
        f.write('{"keys": [%s]}' % capif.json.dumps(keys.rsa.jwk(kid="r2")))
    assert _wait(lambda: all(
        n.get("/r/", keys.rsa.token(kid="r2")).status == 200
        for _ in range(workers * 4)))
    assert "capif_key_file: \"%s\" changed" % path in n.error_log()


def test_key_file_bad_change_keeps_last_good(nginx, upstream, keys,
                                             tmp_path):
    path = str(tmp_path / "ccf.pem")
    other = str(tmp_path / "other.pem")
    with open(path, "wb") as f:
        f.write(keys.rsa.pub_pem)
    with open(other, "wb") as f:
        f.write(keys.p384.pub_pem)
    n = nginx(server=capif.location(
        "/r/", [path, other], upstream_port=upstream.port,
        extra="capif_key_refresh 1s;"))
    n.expect_log("changed but is refused")
    n.expect_log("cannot stat")
    gw = capif.Gateway(n, upstream, keys)
    gw.allowed("/r/", keys.rsa.token())

    # a private key, then a truncated file: refused, the last good stays
    log0 = n.log_size()
    _replace(path, keys.p256.priv_pem)
    assert _wait(lambda: "changed but is refused" in n.error_log(log0))
    assert "[alert]" in n.error_log(log0)
    gw.allowed("/r/", keys.rsa.token())
    gw.allowed("/r/", keys.p384.token())

    log0 = n.log_size()
    _replace(path, keys.rsa_b.pub_pem[:60])
    assert _wait(lambda: "changed but is refused" in n.error_log(log0))
    gw.allowed("/r/", keys.rsa.token())

    # removed: still the last good key
    log0 = n.log_size()
    os.unlink(path)
    assert _wait(lambda: "cannot stat" in n.error_log(log0))
    gw.allowed("/r/", keys.rsa.token())

    # the other file rotates meanwhile, independently of the bad one
    _replace(other, keys.p521.pub_pem)
    assert _wait(lambda: n.get("/r/", keys.p521.token()).status == 200)
    gw.allowed("/r/", keys.rsa.token())

    # a good file again
    _replace(path, keys.rsa_b.pub_pem)
    assert _wait(lambda: n.get("/r/", keys.rsa_b.token()).status == 200)
    gw.refused("/r/", keys.rsa.token(), 401, "SIGNATURE_INVALID")


def test_key_refresh_config(nginx_t, upstream, keys):
    rc, out = nginx_t(server=capif.location(
        "/r/", [keys.rsa.pub_path], upstream_port=upstream.port,
        extra="capif_key_refresh 0s;"))
    assert rc != 0 and "capif_key_refresh" in out and "at least 1s" in out

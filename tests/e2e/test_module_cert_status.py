"""mod_mdomain's public /.httpd/certificate-status: per key type the served certificate's validity, serial and
SHA-256 fingerprint for the requested host only; the staged renewal before the restart that activates it; SCTs of a
certificate that embeds them; nothing on plain http; MDCertificateStatus off."""
import datetime
import email.utils
import json
import os
import struct

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ObjectIdentifier

from rig import tls
from rig.proc import wait_until
from test_module_more import configure, http_request, self_signed, ssl_vhost, http_vhost, tls_request, wait_staged


PATH = "/.httpd/certificate-status"
ONE, TWO = "one.example.org", "two.example.org"


def tls_fetch(port, host, path=PATH, method="GET"):
    """A request over TLS with SNI and Host: (status, headers lower-cased, body bytes)."""
    return tls_fetch_sni(port, host, host, path, method)


def tls_fetch_sni(port, sni, host, path=PATH, method="GET"):
    """A request over TLS to SNI sni with Host: host: (status, headers lower-cased, body bytes)."""
    a = tls.request(port, sni, host, path, method)
    return a.status, a.headers, a.body


def cert_status(port, host):
    status, headers, body = tls_fetch(port, host)
    assert status == 200, body
    assert headers["content-type"] == "application/json"
    return json.loads(body)


def http_time(text):
    return email.utils.parsedate_to_datetime(text)


def assert_entry(entry, cert):
    """A certificate-status entry describes exactly this certificate."""
    assert int(entry["serial"], 16) == cert.serial_number
    assert entry["serial"] == entry["serial"].upper()
    assert entry["sha256-fingerprint"] == cert.fingerprint(hashes.SHA256()).hex()
    assert http_time(entry["valid"]["from"]) == cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)
    assert http_time(entry["valid"]["until"]) == cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def load_pem(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def test_cert_status_hosts(httpd, pebble_factory, mod_path, workdir):
    pebble = pebble_factory(http_port=httpd.port)
    https_port, store = configure(httpd, pebble, mod_path, workdir, "MDomain %s" % ONE, "MDomain %s" % TWO,
                                  "MDActivationDelay 1h", keys="RSA 2048 secp256r1")
    httpd.add_vhost(http_vhost(httpd.port, ONE))
    httpd.add_vhost(ssl_vhost(https_port, ONE))
    httpd.add_vhost(ssl_vhost(https_port, TWO))
    httpd.start()

    # no certificate yet: pages are 503, the status answers (nothing to show yet)
    status, _, _ = tls_fetch(https_port, ONE, "/")
    assert status == 503
    assert cert_status(https_port, ONE) == {"rsa": {}, "secp256r1": {}}

    # renewed but not active (MDActivationDelay holds it back): shown as the renewal
    aspects = ("pubcert.pem", "pubcert.secp256r1.pem")
    wait_staged(httpd, store, [ONE, TWO], aspects=aspects)
    js = cert_status(https_port, ONE)
    assert js["rsa"] == {} and js["secp256r1"] == {}
    staged = js["renewal"]["cert"]
    for key, aspect in (("rsa", "pubcert.pem"), ("secp256r1", "pubcert.secp256r1.pem")):
        cert = load_pem(os.path.join(store, "staging", ONE, aspect))
        assert_entry(staged[key], cert)
        assert "CN=" in staged[key]["issuer-name"]
        assert "scts" not in staged[key]          # pebble embeds none
    assert set(staged) == {"rsa", "secp256r1", "valid"}

    httpd.extra_config.remove("MDActivationDelay 1h")     # activated at the restart
    httpd.graceful_restart()
    root = pebble.root_pem()
    for host, other in ((ONE, TWO), (TWO, ONE)):
        js = cert_status(https_port, host)
        assert set(js) == {"valid", "rsa", "secp256r1"}, js          # activated: no renewal any more
        _, _, served_ec = tls_request(https_port, host, ca_pem=root)
        _, _, served_rsa = tls_request(https_port, host, ca_pem=root, rsa_only=True)
        assert_entry(js["secp256r1"], served_ec)
        assert_entry(js["rsa"], served_rsa)
        assert js["valid"]["until"] == min((js["rsa"]["valid"]["until"], js["secp256r1"]["valid"]["until"]),
                                           key=http_time)
        # nothing about the other host: not its name, serials or fingerprints
        other_cert = load_pem(os.path.join(store, "domains", other, "pubcert.secp256r1.pem"))
        text = json.dumps(js)
        assert other not in text
        assert other_cert.fingerprint(hashes.SHA256()).hex() not in text
        assert ("%X" % other_cert.serial_number) not in text

    # https only; GET only; only the exact path
    status, _ = http_request(httpd.port, ONE, PATH)
    assert status == 404
    status, _, _ = tls_fetch(https_port, ONE, method="POST")
    assert status == 404
    status, headers, body = tls_fetch(https_port, ONE, method="HEAD")
    assert status == 200 and headers["content-type"] == "application/json" and body == b""
    # a Host other than the connection's SNI: mod_ssl's 421, not the other host's status
    status, _, _ = tls_fetch_sni(https_port, TWO, ONE)
    assert status == 421
    status, _, _ = tls_fetch(https_port, ONE, PATH + "/more")
    assert status == 404


def test_cert_status_staged_renewal(httpd, pebble_factory, mod_path, workdir):
    """With a renew window longer than pebble's certificate lifetime, each activated set is renewed at the next look
    (here the restart's): held back by MDActivationDelay, the served certificate and the staged one are shown side by
    side."""
    pebble = pebble_factory(http_port=httpd.port)
    https_port, store = configure(httpd, pebble, mod_path, workdir, "MDRenewWindow 4000d", "MDomain %s" % ONE)
    httpd.add_vhost(ssl_vhost(https_port, ONE))
    httpd.start()
    wait_staged(httpd, store, [ONE])
    wait_until(lambda: not os.path.exists(os.path.join(store, "staging", ONE)), 30, what="the activation")
    mark = httpd.error_log_mark()
    httpd.add_config("MDActivationDelay 1h")
    httpd.graceful_restart()

    staged_path = os.path.join(store, "staging", ONE, "pubcert.secp256r1.pem")
    wait_until(lambda: os.path.exists(staged_path) and "the certificates have been renewed"
               in httpd.error_log_since(mark), 60, what="the second, staged renewal")
    _, _, served = tls_request(https_port, ONE, ca_pem=pebble.root_pem())
    staged = load_pem(staged_path)
    assert staged.serial_number != served.serial_number
    js = cert_status(https_port, ONE)
    assert_entry(js["secp256r1"], served)
    assert_entry(js["renewal"]["cert"]["secp256r1"], staged)
    assert js["renewal"]["cert"]["valid"] == js["renewal"]["cert"]["secp256r1"]["valid"]


# ---------------------------------------------------------------------------------------------- static, SCTs, off

SCT_OID = ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
LOG_ID = bytes(range(32))
SCT_MS = 1767225600123           # 2026-01-01T00:00:00.123Z


def sct_extension():
    """An embedded SCT list (RFC 6962 3.3) with one v1 SCT: log id, timestamp, ecdsa/sha256 signature bytes."""
    sig = b"\x30\x06\x02\x01\x01\x02\x01\x01"
    sct = bytes([0]) + LOG_ID + struct.pack(">Q", SCT_MS) + struct.pack(">H", 0) + bytes([4, 3]) \
        + struct.pack(">H", len(sig)) + sig
    lst = struct.pack(">H", len(sct)) + sct
    lst = struct.pack(">H", len(lst)) + lst
    return x509.UnrecognizedExtension(SCT_OID, bytes([0x04, len(lst)]) + lst)


def test_cert_status_static_scts_and_off(httpd, pebble_factory, mod_path, workdir):
    pebble = pebble_factory(http_port=httpd.port)
    cert, cert_file, key_file = self_signed(workdir, ONE, [sct_extension()])
    https_port, _ = configure(httpd, pebble, mod_path, workdir, "<MDomain %s>" % ONE,
                              "  MDCertificateFile %s" % cert_file, "  MDCertificateKeyFile %s" % key_file,
                              "</MDomain>")
    httpd.add_vhost(ssl_vhost(https_port, ONE))
    httpd.start()

    js = cert_status(https_port, ONE)
    assert set(js) == {"valid", "secp256r1"}
    assert_entry(js["secp256r1"], cert)
    scts = js["secp256r1"]["scts"]
    assert len(scts) == 1
    assert scts[0]["logid"] == LOG_ID.hex()
    assert http_time(scts[0]["signed"]) == datetime.datetime.fromtimestamp(SCT_MS // 1000, datetime.timezone.utc)
    assert "ecdsa" in scts[0]["signature-type"].lower()

    # off: the path is no longer answered by the module
    httpd.add_config("MDCertificateStatus off")
    httpd.graceful_restart()
    status, _, _ = tls_fetch(https_port, ONE)
    assert status == 404
    status, _, _ = tls_fetch(https_port, ONE, "/")
    assert status == 200

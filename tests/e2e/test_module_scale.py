"""mod_mdomain with 1000 MDs (MD_SCALE_COUNT) and an empty store: httpd starts and answers http and https, each
MD with its own self-signed fallback and one shared fallback key, no per-MD key generation although the MDs want
RSA 2048 keys. One https vhost per MD. No timing assertion: bench/module_start.py measures the start."""
import datetime
import glob
import os
import threading
import time

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from rig import net
from test_module_https import tls_get

COUNT = int(os.environ.get("MD_SCALE_COUNT", "1000"))


def names(n=COUNT):
    return ["md-%d.example.org" % i for i in range(n)]


def scale_config(httpd, store, https_port, mds, initial_delay=True):
    """MDs with RSA 2048 keys, a dead CA and (initial_delay) a long initial delay (nothing renewed), one https vhost
    per MD."""
    httpd.add_config(
        "MDStoreDir %s" % store,
        "MDPortMap http:%d https:%d" % (httpd.port, https_port),
        "MDCertificateAuthority https://127.0.0.1:1/dir",
        "MDCertificateAgreement accepted",
        "MDPrivateKeys RSA 2048",
        *(["MDInitialDelay 1d"] if initial_delay else []),
        *["MDomain %s" % name for name in mds])
    httpd.add_vhost("\n".join(
        "<VirtualHost 127.0.0.1:%d>\n  ServerName %s\n  SSLEngine on\n</VirtualHost>" % (https_port, name)
        for name in mds))


@pytest.mark.timeout(240)
def test_thousand_mds_empty_store(httpd, mod_path, workdir, monkeypatch):  # noqa: F811
    mds = names()
    https_port = httpd.new_port("https")
    store = os.path.join(workdir, "md")
    httpd.add_modules("ssl", "socache_shmcb", ("mdomain", mod_path))
    scale_config(httpd, store, https_port, mds)
    httpd.start(timeout=180)

    # http answers for any MD (not gated), https serves each MD's own self-signed fallback and 503
    for name in (mds[0], mds[COUNT // 2], mds[-1]):
        status, _, _ = net.fetch(httpd.url("/"), headers={"Host": name})
        assert status == 200
        status, cert = tls_get(https_port, host=name)
        assert status == 503
        assert cert.issuer == cert.subject
        assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert sans.get_values_for_type(x509.DNSName) == [name]

    # one fallback key for all; no MD got a private key of its own (no key generation at startup)
    assert os.path.exists(os.path.join(store, "fallback-privkey.pem"))
    assert glob.glob(os.path.join(store, "domains", "*", "privkey*.pem")) == []
    assert len(os.listdir(os.path.join(store, "domains"))) == COUNT
    assert "[mdomain:emerg]" not in httpd.error_log_text()


@pytest.mark.timeout(60)
def test_fallback_only_for_hosted_mds(httpd, mod_path, workdir):  # noqa: F811
    """A fallback certificate only for an MD a virtual host names: mod_ssl is never handed one for an MD no host
    names (MDRenewMode always), so none is written for it (the issuance benchmark's 1000 such MDs wrote 1000)."""
    hosted, bare = "md-hosted.example.org", "md-bare.example.org"
    https_port = httpd.new_port("https")
    store = os.path.join(workdir, "md")
    httpd.add_modules("ssl", "socache_shmcb", ("mdomain", mod_path))
    scale_config(httpd, store, https_port, [hosted])
    httpd.add_config("<MDomain %s>\n  MDRenewMode always\n</MDomain>" % bare)
    httpd.start()
    status, cert = tls_get(https_port, host=hosted)
    assert status == 503 and cert.issuer == cert.subject
    assert os.path.exists(os.path.join(store, "domains", hosted, "fallback-pubcert.pem"))
    assert os.path.exists(os.path.join(store, "domains", bare, "md.json"))
    assert not os.path.exists(os.path.join(store, "domains", bare, "fallback-pubcert.pem"))


def fill_store(store, mds):
    """domains/NAME/privkey.pem + pubcert.pem for each MD (mod_md's layout): self-signed, valid 60 days (not due),
    one shared P-256 key."""
    key = ec.generate_private_key(ec.SECP256R1())
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    now = datetime.datetime.now(datetime.timezone.utc)
    for name in mds:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=60))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
                .sign(key, hashes.SHA256()))
        d = os.path.join(store, "domains", name)
        os.makedirs(d)
        with open(os.path.join(d, "privkey.pem"), "wb") as f:
            f.write(key_pem)
        with open(os.path.join(d, "pubcert.pem"), "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))


@pytest.mark.timeout(240)
def test_thousand_mds_stop_during_first_run(httpd, mod_path, workdir):  # noqa: F811
    """Stopped while the renewal watchdog's first run looks at 1000 MDs (no MDInitialDelay): the child tells the
    renewal workers to stop and waits for them before it exits. It used to exit under them, and OpenSSL's exit
    handler freed its locks while a worker used them: 'exit signal Segmentation fault' at most such stops."""
    mds = names()
    https_port = httpd.new_port("https")
    store = os.path.join(workdir, "md")
    fill_store(store, mds)
    httpd.add_modules("ssl", "socache_shmcb", ("mdomain", mod_path))
    scale_config(httpd, store, https_port, mds, initial_delay=False)
    httpd.add_config("LogLevel md:debug")
    httpd.start(timeout=180)
    status, cert = tls_get(https_port, host=mds[COUNT // 2])
    assert status == 200 and cert.subject == cert.issuer
    httpd.stop(timeout=30)

    log = httpd.error_log_text()
    assert "exit signal" not in log
    assert "renewal watchdog for %d MDs" % COUNT in log


def start_full(httpd, mod_path, workdir):
    """httpd started with the 1000 MDs' certificates in the store (fill_store), nothing due, LogLevel md:debug."""
    mds = names()
    https_port = httpd.new_port("https")
    store = os.path.join(workdir, "md")
    fill_store(store, mds)
    httpd.add_modules("ssl", "socache_shmcb", ("mdomain", mod_path))
    scale_config(httpd, store, https_port, mds)
    httpd.add_config("LogLevel md:debug")
    httpd.start(timeout=180)


@pytest.mark.timeout(240)
def test_thousand_mds_stop_during_status(httpd, mod_path, workdir):  # noqa: F811
    """Stopped while server-status pages over 1000 MDs are under way (hundreds of milliseconds each): the pages stop
    between MDs once the child is told to stop, instead of holding its end up (the MPM joins its workers first;
    with three clients the stop took 3.2-5.2 s, now 1.6-2.9 s at load 15-18), and the child ends normally."""
    start_full(httpd, mod_path, workdir)
    done = []
    stop = threading.Event()

    def pages():
        while not stop.is_set():
            try:
                status, _, _ = net.fetch(httpd.url("/server-status"), timeout=60)
                done.append(status)
            except Exception:  # cut at the stop
                pass
    clients = [threading.Thread(target=pages) for _ in range(3)]
    for t in clients:
        t.start()
    deadline = time.monotonic() + 60
    while len(done) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    httpd.stop(timeout=30)
    stop.set()
    for t in clients:
        t.join()

    assert done and set(done) == {200}
    log = httpd.error_log_text()
    assert "exit signal" not in log
    assert "server-status: the child is ending, its MDs cut short after" in log


@pytest.mark.timeout(600)
def test_thousand_mds_graceful_during_status(httpd, mod_path, workdir):  # noqa: F811
    """A graceful restart lets the server-status pages under way finish: every ?auto answer counts all 1000 MDs."""
    start_full(httpd, mod_path, workdir)
    bodies = []
    stop = threading.Event()

    def pages():
        while not stop.is_set():
            status, _, body = net.fetch(httpd.url("/server-status?auto"), timeout=60)
            bodies.append((status, body.decode("utf-8", "replace")))
    clients = [threading.Thread(target=pages) for _ in range(3)]
    for t in clients:
        t.start()
    try:
        deadline = time.monotonic() + 60
        while len(bodies) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        httpd.graceful_restart(timeout=300)     # 1000 https hosts under ASan at load: minutes
        n = len(bodies)
        while len(bodies) < n + 3 and time.monotonic() < deadline + 360:
            time.sleep(0.05)
    finally:
        stop.set()
        for t in clients:
            t.join()

    assert len(bodies) >= 6
    for status, body in bodies:
        assert status == 200 and "ManagedCertificatesTotal: %d\n" % COUNT in body
    assert "cut short" not in httpd.error_log_text()

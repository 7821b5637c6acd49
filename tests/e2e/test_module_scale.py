"""mod_mdomain with 1000 MDs (MD_SCALE_COUNT) and an empty store: httpd starts and answers http and https, each
MD with its own self-signed fallback and one shared fallback key, no per-MD key generation although the MDs want
RSA 2048 keys. One https vhost per MD. No timing assertion: bench/module_start.py measures the start."""
import glob
import os

import pytest

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from rig import net
from test_module_https import tls_get

COUNT = int(os.environ.get("MD_SCALE_COUNT", "1000"))


def names(n=COUNT):
    return ["md-%d.example.org" % i for i in range(n)]


def scale_config(httpd, store, https_port, mds):
    """MDs with RSA 2048 keys, a dead CA and a long initial delay (nothing renewed), one https vhost per MD."""
    httpd.add_config(
        "MDStoreDir %s" % store,
        "MDPortMap http:%d https:%d" % (httpd.port, https_port),
        "MDCertificateAuthority https://127.0.0.1:1/dir",
        "MDCertificateAgreement accepted",
        "MDPrivateKeys RSA 2048",
        "MDInitialDelay 1d",
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

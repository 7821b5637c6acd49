"""mod_mdomain: a new https host from nothing. Before: the self-signed fallback and 503; the watchdog obtains the
certificate from pebble (http-01 answered by httpd itself) and stages it; after a graceful restart the issued
certificate is served, verified against pebble's root, and the page answers 200."""
import os
import pwd
import stat

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from rig import net
from rig import tls
from rig.proc import wait_until

from test_module_more import configure, ssl_vhost

NAME = "test.example.org"


def tls_get(port, ca_pem=None, host=NAME, path="/"):
    """GET over TLS to 127.0.0.1:port with SNI host: (status, leaf certificate)."""
    a = tls.request(port, host, path=path, ca_pem=ca_pem)
    return a.status, a.cert


def test_new_https_host(httpd, pebble_factory, mod_path, workdir, monkeypatch):
    pebble = pebble_factory(http_port=httpd.port)
    # the module tests' common configuration; the first run of the watchdog comes late enough to see the fallback
    https_port, store = configure(httpd, pebble, mod_path, workdir, "MDInitialDelay 2s", "MDomain %s" % NAME,
                                  "LogLevel md:debug")
    httpd.add_vhost(ssl_vhost(https_port, NAME))
    mark = pebble.mark()
    httpd.start()
    assert pebble.count_requests(since=mark) == 0, "a request to the CA at startup"

    # before: the self-signed fallback (the one P-256 fallback key), and 503
    status, cert = tls_get(https_port)
    assert status == 503
    assert cert.issuer == cert.subject
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert os.path.exists(os.path.join(store, "fallback-privkey.pem"))
    # plain http is not gated; an unknown challenge token is 404
    status, _, _ = net.fetch(httpd.url("/"), headers={"Host": NAME})
    assert status == 200
    status, _, _ = net.fetch(httpd.url("/.well-known/acme-challenge/unknown-token"), headers={"Host": NAME})
    assert status == 404

    staged = os.path.join(store, "staging", NAME, "pubcert.secp256r1.pem")
    wait_until(lambda: os.path.exists(staged) and "graceful server restart now is recommended"
               in httpd.error_log_text(), 60, what="the staged certificate and the restart notice")
    assert pebble.count_requests(path_prefix="/order-plz") >= 1

    httpd.graceful_restart()
    log_mark, mark = httpd.error_log_mark(), pebble.mark()
    assert os.path.exists(os.path.join(store, "domains", NAME, "pubcert.secp256r1.pem"))
    assert not os.path.exists(os.path.join(store, "staging", NAME))

    # after: pebble's certificate, verified against pebble's current root (intermediate served in the chain)
    status, cert = tls_get(https_port, ca_pem=pebble.root_pem())
    assert status == 200
    assert cert.issuer != cert.subject
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ext.get_values_for_type(x509.DNSName) == [NAME]

    # the new generation's watchdog finds the certificate valid: no new order
    httpd.wait_watchdog_runs(log_mark)
    assert pebble.count_requests(path_prefix="/order-plz", since=mark) == 0

    # the children (www-data) own challenges/ and staging/; private keys in domains/ stay root's 0600
    www = pwd.getpwnam("www-data").pw_uid
    assert os.stat(os.path.join(store, "challenges")).st_uid == www
    assert os.stat(os.path.join(store, "staging")).st_uid == www
    key = os.stat(os.path.join(store, "domains", NAME, "privkey.secp256r1.pem"))
    assert key.st_uid == 0 and stat.S_IMODE(key.st_mode) == 0o600
    # the watchdog (www-data) could save its renewal information cache: it lives in ocsp/NAME, not in
    # domains/NAME where the child cannot write (a bug: the cache was never written by httpd)
    ari = os.path.join(store, "ocsp", NAME, "ari.json")
    wait_until(lambda: os.path.exists(ari), 10, what="ocsp/%s/ari.json written by the watchdog" % NAME)
    assert os.stat(ari).st_uid == www
    assert "cannot save the renewal information cache" not in httpd.error_log_text()

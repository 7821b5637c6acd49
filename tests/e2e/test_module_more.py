"""mod_mdomain beyond one name: MDRequireHttps (both modes, challenges not redirected), static certificates
(MDCertificateFile, no CA contact), several names and MDs with RSA + EC keys (chosen by the client's abilities),
and a wildcard through MDChallengeDns01 with pebble-challtestsrv."""
import datetime
import http.client
import os

import pytest

from rig.dnshook import write_dns_hook

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from rig import tls
from rig.proc import wait_until

NAME = "test.example.org"


def configure(httpd, pebble, mod_path, workdir, *lines, keys="secp256r1", challenges="http-01"):
    """The common server config (store, port map, pebble as CA); returns (https port, store dir)."""
    https_port = httpd.new_port("https")
    store = os.path.join(workdir, "md")
    httpd.add_modules("ssl", "socache_shmcb", ("mdomain", mod_path))
    httpd.add_config(
        "LogLevel md:debug",
        "MDStoreDir %s" % store,
        "MDPortMap http:%d https:%d" % (httpd.port, https_port),
        "MDCertificateAuthority %s" % pebble.directory_url,
        "MDCACertificateFile %s" % pebble.ca_file,
        "MDCertificateAgreement accepted",
        "MDContactEmail admin@example.org",
        "MDPrivateKeys %s" % keys,
        "MDCAChallenges %s" % challenges,
        "MDInitialDelay 1s",
        "MDRetryDelay 1s",
        *lines,
    )
    return https_port, store


def ssl_vhost(port, name, *lines):
    return "\n".join(["<VirtualHost 127.0.0.1:%d>" % port, "  ServerName %s" % name, *["  " + l for l in lines],
                      "  SSLEngine on", "</VirtualHost>"])


def http_vhost(port, name, *lines):
    return "\n".join(["<VirtualHost 127.0.0.1:%d>" % port, "  ServerName %s" % name, *["  " + l for l in lines],
                      "</VirtualHost>"])


def tls_request(port, host, path="/", ca_pem=None, rsa_only=False):
    """GET over TLS to 127.0.0.1:port with SNI host: (status, headers dict lower-cased, leaf certificate)."""
    a = tls.request(port, host, path=path, ca_pem=ca_pem, rsa_only=rsa_only)
    return a.status, a.headers, a.cert


def http_request(port, host, path, method="GET"):
    """A plain http request that does not follow redirects: (status, headers)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, headers={"Host": host})
        resp = conn.getresponse()
        resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


def san_names(cert):
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return sorted(ext.get_values_for_type(x509.DNSName))


RENEWED = "the certificates have been renewed"


def renewals_logged(httpd):
    """How many renewals the error log has told of so far (pass it to wait_staged before the next renewal)."""
    return httpd.error_log_text().count(RENEWED)


def wait_staged(httpd, store, names, aspects=("pubcert.secp256r1.pem",), timeout=90, logged_before=0):
    """Until the renewed sets of names are there (in staging/, or already activated in domains/ by the parent) and
    the watchdog said they were renewed (served from now on, or later under MDActivationDelay): len(names) renewals
    more than logged_before (renewals_logged() before this renewal; a set already in domains/ is not a new one)."""
    def there(n, a):
        return any(os.path.exists(os.path.join(store, group, n, a)) for group in ("staging", "domains"))
    wait_until(lambda: all(there(n, a) for n in names for a in aspects)
               and renewals_logged(httpd) >= logged_before + len(names),
               timeout, what="renewed certificates for %s" % ", ".join(names))


# ---------------------------------------------------------------------------------------------- MDRequireHttps

@pytest.mark.parametrize("mode,code,post_code", [("temporary", 302, 307), ("permanent", 301, 308)])
def test_require_https(httpd, pebble_factory, mod_path, workdir, mode, code, post_code):
    pebble = pebble_factory(http_port=httpd.port)
    https_port, store = configure(httpd, pebble, mod_path, workdir,
                                  "<MDomain %s>" % NAME, "  MDRequireHttps %s" % mode, "</MDomain>")
    httpd.add_vhost(http_vhost(httpd.port, NAME))
    httpd.add_vhost(ssl_vhost(https_port, NAME))
    httpd.start()

    # no certificate yet: no redirect (the fallback would only give a 503)
    status, headers = http_request(httpd.port, NAME, "/")
    assert status == 200 and "location" not in headers

    wait_staged(httpd, store, [NAME])
    httpd.graceful_restart()

    # complete: redirected to https on the standard port, path and query kept
    status, headers = http_request(httpd.port, NAME, "/some/page.html?a=1&b=two")
    assert status == code
    assert headers["location"] == "https://%s/some/page.html?a=1&b=two" % NAME
    status, headers = http_request(httpd.port, NAME, "/form", method="POST")
    assert status == post_code
    assert headers["location"] == "https://%s/form" % NAME

    # challenges are not redirected: an answer in the store is served, an unknown token is 404
    chdir = os.path.join(store, "challenges", NAME)
    os.makedirs(chdir, exist_ok=True)
    with open(os.path.join(chdir, "acme-http-01.txt"), "w") as f:
        f.write("tok123.thumbprint")
    status, headers = http_request(httpd.port, NAME, "/.well-known/acme-challenge/tok123")
    assert status == 200 and "location" not in headers
    status, headers = http_request(httpd.port, NAME, "/.well-known/acme-challenge/unknown")
    assert status == 404 and "location" not in headers

    # names outside the MD are left alone
    status, headers = http_request(httpd.port, "other.example.org", "/")
    assert status == 200 and "location" not in headers

    # https: the page, with HSTS only for permanent
    status, headers, cert = tls_request(https_port, NAME, ca_pem=pebble.root_pem())
    assert status == 200
    if mode == "permanent":
        assert headers.get("strict-transport-security") == "max-age=15768000"
    else:
        assert "strict-transport-security" not in headers


# ---------------------------------------------------------------------------------------------- static files

def self_signed(workdir, name, extensions=()):
    """A self-signed P-256 certificate for name (valid from an hour ago for 90 days, whole seconds) with the
    given extra extensions, and its key: (certificate, certificate file, key file) in workdir."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
               .not_valid_after(now + datetime.timedelta(days=90))
               .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False))
    for ext in extensions:
        builder = builder.add_extension(ext, critical=False)
    cert = builder.sign(key, hashes.SHA256())
    cert_file = os.path.join(workdir, "static-cert.pem")
    key_file = os.path.join(workdir, "static-key.pem")
    with open(cert_file, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_file, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    os.chmod(key_file, 0o600)
    return cert, cert_file, key_file


def test_static_certificate(httpd, pebble_factory, mod_path, workdir):
    pebble = pebble_factory(http_port=httpd.port)
    cert, cert_file, key_file = self_signed(workdir, NAME)
    https_port, store = configure(httpd, pebble, mod_path, workdir,
                                  "<MDomain %s>" % NAME,
                                  "  MDCertificateFile %s" % cert_file,
                                  "  MDCertificateKeyFile %s" % key_file,
                                  "  MDRequireHttps temporary",
                                  "</MDomain>")
    httpd.add_vhost(http_vhost(httpd.port, NAME))
    httpd.add_vhost(ssl_vhost(https_port, NAME))
    mark, log_mark = pebble.mark(), httpd.error_log_mark()
    httpd.start()

    # served right away: exactly our certificate, no 503
    status, _, served = tls_request(https_port, NAME)
    assert status == 200
    assert served.public_bytes(serialization.Encoding.DER) == cert.public_bytes(serialization.Encoding.DER)
    # it counts as complete: MDRequireHttps redirects at once
    status, headers = http_request(httpd.port, NAME, "/x")
    assert status == 302 and headers["location"] == "https://%s/x" % NAME

    # the watchdog had its chance (initial delay 1s): the CA was never contacted, nothing staged
    httpd.wait_watchdog_runs(log_mark)
    assert pebble.count_requests(since=mark) == 0
    assert pebble.count_requests(path_prefix="/order-plz") == 0
    assert not os.path.exists(os.path.join(store, "staging", NAME))
    httpd.graceful_restart()
    _, _, served = tls_request(https_port, NAME)
    assert served.public_bytes(serialization.Encoding.DER) == cert.public_bytes(serialization.Encoding.DER)
    assert pebble.count_requests(since=mark) == 0


# ---------------------------------------------------------------------------------------------- names, MDs, keys

def test_names_mds_rsa_and_ec(httpd, pebble_factory, mod_path, workdir):
    pebble = pebble_factory(http_port=httpd.port)
    one, www, two = "one.example.org", "www.one.example.org", "two.example.org"
    https_port, store = configure(httpd, pebble, mod_path, workdir, "MDomain %s" % one, "MDomain %s" % two,
                                  keys="RSA 2048 secp256r1")
    # www.one comes into the MD through its ServerAlias (MDMembers auto, the default)
    httpd.add_vhost(ssl_vhost(https_port, one, "ServerAlias %s" % www))
    httpd.add_vhost(ssl_vhost(https_port, two))
    httpd.start()

    wait_staged(httpd, store, [one, two], aspects=("pubcert.pem", "pubcert.secp256r1.pem"), timeout=120)
    httpd.graceful_restart()

    root = pebble.root_pem()
    for host, names in ((one, [one, www]), (www, [one, www]), (two, [two])):
        status, _, cert = tls_request(https_port, host, ca_pem=root)
        assert status == 200, host
        assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey), host
        assert san_names(cert) == sorted(names), host
        status, _, cert = tls_request(https_port, host, ca_pem=root, rsa_only=True)
        assert status == 200, host
        assert isinstance(cert.public_key(), rsa.RSAPublicKey), host
        assert cert.public_key().key_size == 2048
        assert san_names(cert) == sorted(names), host


# ---------------------------------------------------------------------------------------------- wildcard, dns-01

def test_wildcard_dns01(httpd, pebble_factory, mod_path, workdir):
    pebble = pebble_factory(http_port=httpd.port)
    base = "wild.example.org"
    hooks = os.path.join(workdir, "hooks")
    os.makedirs(hooks)
    os.chmod(hooks, 0o777)          # the children (www-data) run the hook and write its log here
    hook, log = write_dns_hook(hooks, pebble.challtestsrv.management_url)
    https_port, store = configure(httpd, pebble, mod_path, workdir,
                                  "<MDomain %s *.%s>" % (base, base),
                                  "  MDChallengeDns01 %s" % hook,
                                  "</MDomain>", challenges="dns-01")
    httpd.add_vhost(ssl_vhost(https_port, base, "ServerAlias *.%s" % base))
    httpd.start()

    wait_staged(httpd, store, [base])
    httpd.graceful_restart()

    root = pebble.root_pem()
    for host in (base, "a." + base, "www." + base):
        status, _, cert = tls_request(https_port, host, ca_pem=root)   # verified, host name checked
        assert status == 200, host
        assert san_names(cert) == sorted(["*." + base, base])
    calls = open(log).read().splitlines()
    setups = [c for c in calls if c.startswith("setup ")]
    assert setups and all(c.split()[1] == base for c in setups)
    assert len([c for c in calls if c.startswith("teardown ")]) == len(setups)


# ---------------------------------------------------------------------------------------------- CA failover

def test_ca_failover(httpd, pebble_factory, mod_path, workdir):
    """MDCertificateAuthority with a CA that cannot be reached first: after MDRetryFailover failed attempts the
    watchdog goes on with the next CA and the certificate comes from it."""
    pebble = pebble_factory(http_port=httpd.port)
    dead = "https://127.0.0.1:1/dir"
    https_port, store = configure(httpd, pebble, mod_path, workdir,
                                  "MDCertificateAuthority %s %s" % (dead, pebble.directory_url),
                                  "MDRetryFailover 1", "MDomain %s" % NAME)
    httpd.add_vhost(ssl_vhost(https_port, NAME))
    httpd.start()

    wait_staged(httpd, store, [NAME], timeout=60)
    log = httpd.error_log_text()
    assert "127.0.0.1:1" in log, "the first CA was never tried"
    httpd.graceful_restart()
    status, _, cert = tls_request(https_port, NAME, ca_pem=pebble.root_pem())
    assert status == 200 and san_names(cert) == [NAME]

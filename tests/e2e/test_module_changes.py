"""An MD whose configuration changes under a running store, with real apache2 and pebble: when it gains a name and a
key type its certificate no longer covers the MD, so it is incomplete and due at once (md-status state 1, renew),
while the certificate that exists goes on being served (no fallback, no 503) until the renewal's set is active."""
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from rig import net
from rig.proc import wait_until

import test_module_more as more

ONE, WWW = "one.example.org", "www.one.example.org"


def md_status(httpd, name):
    return net.get_json(httpd.url("/md-status/" + name))


def test_md_gains_a_name_and_a_key_type(httpd, pebble_factory, mod_path, workdir):
    pebble = pebble_factory(http_port=httpd.port)
    https_port, store = more.configure(httpd, pebble, mod_path, workdir, "MDomain %s" % ONE, "MDCheckInterval 1s",
                                       "<Location /md-status>", "  SetHandler md-status", "</Location>")
    httpd.add_vhost(more.ssl_vhost(https_port, ONE))
    httpd.start()
    more.wait_staged(httpd, store, [ONE])
    httpd.graceful_restart()
    root = pebble.root_pem()
    status, _, first = more.tls_request(https_port, ONE, ca_pem=root)
    assert status == 200 and more.san_names(first) == [ONE]

    # the MD gains www (a ServerAlias, MDMembers auto) and an RSA key
    httpd.vhosts[-1] = more.ssl_vhost(https_port, ONE, "ServerAlias %s" % WWW)
    keys = [i for i, line in enumerate(httpd.extra_config) if line.startswith("MDPrivateKeys")]
    httpd.extra_config[keys[0]] = "MDPrivateKeys secp256r1 RSA 2048"
    httpd.add_config("MDInitialDelay 30s")           # look at it before the renewal starts
    httpd.graceful_restart()
    md = md_status(httpd, ONE)
    assert md["domains"] == [ONE, WWW]
    assert md["state"] == 1 and md["renew"] is True
    assert md["state-descr"] in ("certificate(secp256r1) does not cover all domains", "certificate(rsa) is missing")
    # what exists is served meanwhile: the old certificate (not the fallback), no 503
    status, _, served = more.tls_request(https_port, ONE)
    assert status == 200 and served.serial_number == first.serial_number
    status, _, served = more.tls_request(https_port, WWW)
    assert status == 200 and served.serial_number == first.serial_number

    # the renewal runs (at once after the delay is gone) and its sets are served, both names and both keys (the
    # restart after it is not needed since live activation; it stays to show that a restart serves them as well)
    logged = more.renewals_logged(httpd)
    httpd.extra_config.remove("MDInitialDelay 30s")
    httpd.graceful_restart()
    # the renewal of both names and keys, not the first one (its secp256r1 set is in domains/ already)
    more.wait_staged(httpd, store, [ONE], aspects=("pubcert.pem", "pubcert.secp256r1.pem"), timeout=90,
                     logged_before=logged)
    httpd.graceful_restart()
    for host in (ONE, WWW):
        status, _, cert = more.tls_request(https_port, host, ca_pem=root)
        assert status == 200 and more.san_names(cert) == sorted([ONE, WWW])
        assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
        status, _, cert = more.tls_request(https_port, host, ca_pem=root, rsa_only=True)
        assert status == 200 and isinstance(cert.public_key(), rsa.RSAPublicKey)
    assert md_status(httpd, ONE)["state"] == 2

"""mod_mdomain with MDPreflight: the watchdog's renewal checks each http-01 answer through the name's address in DNS
(challtestsrv, MDPreflightDNS) at the port MDPortMap says public port 80 reaches, before pebble hears of it."""
import os

from rig.proc import wait_until

AWAY = "away.example.org"      # its A record points to 127.0.0.2, where httpd does not listen
HERE = "here.example.org"      # challtestsrv's default, 127.0.0.1


def test_preflight_in_the_module(httpd, pebble_factory, mod_path, workdir):
    pebble = pebble_factory(http_port=httpd.port)
    pebble.challtestsrv.add_a(AWAY, ["127.0.0.2"])
    store = os.path.join(workdir, "md")
    httpd.add_modules("ssl", "socache_shmcb", ("mdomain", mod_path))
    httpd.add_config(
        "LogLevel md:debug",
        "MDStoreDir %s" % store,
        *pebble.md_directives(),
        "MDPrivateKeys secp256r1",
        "MDPortMap http:%d https:-" % httpd.port,
        "MDPreflight on",
        "MDPreflightDNS %s" % pebble.challtestsrv.dns_address,
        "MDomain %s" % AWAY,
        "MDomain %s" % HERE,
    )
    for name in (AWAY, HERE):
        httpd.add_vhost("<VirtualHost 127.0.0.1:%d>\n  ServerName %s\n</VirtualHost>" % (httpd.port, name))
    httpd.start()
    wait_until(lambda: os.path.exists(os.path.join(store, "staging", HERE, "pubcert.secp256r1.pem"))
               and "pre-flight: the http-01 answer for %s is not visible" % AWAY in httpd.error_log_text(),
               60, what="the staged set of %s and the pre-flight miss of %s" % (HERE, AWAY))
    assert ("http://127.0.0.2:%d/.well-known/acme-challenge/" % httpd.port) in httpd.error_log_text()
    # pebble validated the one challenge of HERE; AWAY's never reached it
    assert pebble.count_requests("POST", "/chalZ/") == 1
    assert pebble.count_requests(path_prefix="/order-plz") == 2

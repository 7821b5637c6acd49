"""OCSP stapling and revocation checks of mod_mdomain, against the openssl test CA of rig/ocspca.py (responder and
CRL server on 127.0.0.1): a static MD stapled, MDStapleOthers, the stored response served while the responder is
down (also after a restart), a revoked certificate (status, event, renewal), a response by a wrong key never
stapled, a revocation found through the CRL, mod_ssl's own SSLUseStapling beside it."""
import email.utils
import json
import os

from rig import net
from rig.ocspca import HttpProxy, OcspCA, s_client_status
from rig.proc import wait_until

from test_module_metrics import scrape
from test_module_more import configure, ssl_vhost


def staple_lines(out):
    return [l.strip() for l in out.splitlines()
            if "OCSP Response Status" in l or "Cert Status" in l or "OCSP response:" in l]


def stapled(port, sni, status="good"):
    out = s_client_status(port, sni)
    return "OCSP Response Status: successful" in out and ("Cert Status: %s" % status) in out


def record_path(store, md_name, cert_file):
    import hashlib
    import subprocess
    der = subprocess.run(["openssl", "x509", "-in", cert_file, "-outform", "DER"], capture_output=True).stdout
    return os.path.join(store, "ocsp", md_name, "ocsp-%s.json" % hashlib.sha1(der).hexdigest())


def read_json(path):
    with open(path) as f:
        return json.load(f)


def base_server(httpd, mod_path, workdir, *lines):
    https = httpd.new_port("https")
    store = os.path.join(workdir, "md")
    httpd.add_modules("ssl", "socache_shmcb", ("mdomain", mod_path))
    httpd.add_config("LogLevel md:debug ssl:info", "MDStoreDir %s" % store, "MDRetryDelay 1s", *lines,
                     "<Location /md-status>", "  SetHandler md-status", "</Location>",
                     "<Location /metrics>", "  SetHandler md-metrics", "</Location>")
    return https, store


def cert_json(md):
    """The md-status entry of an MD's (only) certificate."""
    return [v for k, v in md["cert"].items() if k != "valid"][0]


def test_static_md_and_others_stapled(httpd, mod_path, workdir):
    """A static MD with MDStapling on and, under MDStapleOthers (default on), the SSLCertificateFile vhosts with an
    OCSP URL, asked through MDHttpProxy; mod_ssl's SSLUseStapling on for some of them changes nothing; the
    responder stopped: the stored responses are still stapled, also after a restart."""
    ca = OcspCA(os.path.join(workdir, "ca"))
    a = ca.issue("a", ["a.example.org"])
    o = ca.issue("o", ["o.example.org"])
    s = ca.issue("s", ["s.example.org"])
    n = ca.issue("n", ["n.example.org"], ocsp=False)
    ca.start_crl_server()
    ca.start_responder()
    proxy = HttpProxy()
    https, store = base_server(httpd, mod_path, workdir, "MDStapling on", "MDHttpProxy %s" % proxy.url,
                               "SSLStaplingCache shmcb:%s(32768)" % os.path.join(workdir, "stapling_cache"),
                               "<MDomain a.example.org>", "  MDCertificateFile %s" % a.chain_file,
                               "  MDCertificateKeyFile %s" % a.key_file, "</MDomain>")
    httpd.add_vhost(ssl_vhost(https, "a.example.org", "SSLUseStapling on"))
    httpd.add_vhost(ssl_vhost(https, "o.example.org", "SSLCertificateFile %s" % o.chain_file,
                              "SSLCertificateKeyFile %s" % o.key_file))
    httpd.add_vhost(ssl_vhost(https, "s.example.org", "SSLCertificateFile %s" % s.chain_file,
                              "SSLCertificateKeyFile %s" % s.key_file, "SSLUseStapling on"))
    httpd.add_vhost(ssl_vhost(https, "n.example.org", "SSLCertificateFile %s" % n.chain_file,
                              "SSLCertificateKeyFile %s" % n.key_file))
    httpd.start()
    ra, ro = record_path(store, "a.example.org", a.cert_file), record_path(store, "other", o.cert_file)
    rs = record_path(store, "other", s.cert_file)
    wait_until(lambda: all(os.path.exists(r) for r in (ra, ro, rs)), 30, what="the stored OCSP responses")
    out = s_client_status(https, "a.example.org")
    print("\n".join(staple_lines(out)))
    assert "OCSP Response Status: successful" in out and "Cert Status: good" in out
    assert stapled(https, "o.example.org") and stapled(https, "s.example.org")
    assert "OCSP response: no response sent" in s_client_status(https, "n.example.org")
    assert "no OCSP URL" not in httpd.error_log_text()
    assert ("POST %s" % ca.ocsp_url) in proxy.requests and len(proxy.requests) == 3
    rec = read_json(ra)
    assert rec["status"] == "good" and set(rec["valid"]) == {"from", "until"} and rec["response"]
    ocsp = cert_json(net.get_json(httpd.url("/md-status/a.example.org")))["ocsp"]
    assert ocsp["status"] == "good" and ocsp["valid"]["until"] == rec["valid"]["until"] and ocsp["renew-at"]
    assert ocsp["renewal"]["errors"] == 0
    # server-status has an OCSP column, md-metrics the response's end
    html = net.fetch(httpd.url("/server-status"))[2].decode()
    section = html[html.index("Managed Certificates"):]
    assert "<th>OCSP</th>" in section and "good until %s" % rec["valid"]["until"] in section
    m = scrape(httpd)
    until = [v for (n, md, key), v in m.items() if n == "mdomain_ocsp_response_expiry_seconds" and md == "a.example.org"]
    assert until == [email.utils.parsedate_to_datetime(rec["valid"]["until"]).timestamp()]
    assert [v for (n, md, key), v in m.items() if n == "mdomain_cert_revoked" and md == "a.example.org"] == [0]
    # mod_ssl's own stapling never ran (mod_mdomain provides it): no requests of its own, no stapling errors
    log = httpd.error_log_text()
    assert "AH01941" not in log and "stapling_renew_response" not in log, log

    # the responder goes away: what is stored is served, also by a new server
    ca.stop_responder()
    assert stapled(https, "a.example.org") and stapled(https, "o.example.org")
    httpd.stop()
    httpd.start()
    assert stapled(https, "a.example.org") and stapled(https, "o.example.org") and stapled(https, "s.example.org")
    assert read_json(ra) == rec
    proxy.stop()
    ca.stop()


def test_wrong_key_never_stapled(httpd, mod_path, workdir):
    """A responder signing with a key the CA never certified: nothing is stored or stapled, the failure is in
    md-status and ocsp-errored is raised once; the right responder back: stapled after the back-off."""
    from test_module_events import Recorder
    rec = Recorder(workdir)
    ca = OcspCA(os.path.join(workdir, "ca"))
    w = ca.issue("w", ["w.example.org"])
    ca.start_responder(signer="wrong")
    https, store = base_server(httpd, mod_path, workdir, "MDStapling on", "MDMessageCmd %s msg" % rec.path,
                               "<MDomain w.example.org>", "  MDCertificateFile %s" % w.chain_file,
                               "  MDCertificateKeyFile %s" % w.key_file, "</MDomain>")
    httpd.add_vhost(ssl_vhost(https, "w.example.org"))
    httpd.start()
    job = os.path.join(store, "ocsp", "w.example.org", "job.json")
    wait_until(lambda: os.path.exists(job) and read_json(job).get("errors", 0) >= 2, 30,
               what="failed OCSP fetches")
    assert not os.path.exists(record_path(store, "w.example.org", w.cert_file))
    assert "OCSP response: no response sent" in s_client_status(https, "w.example.org")
    ocsp = cert_json(net.get_json(httpd.url("/md-status/w.example.org"))).get("ocsp")
    assert ocsp and "neither the issuer's nor one the issuer delegated to" in ocsp["last-error"], ocsp
    assert len(rec.calls("msg", "ocsp-errored", "w.example.org")) == 1
    ca.start_responder(signer="delegated")
    wait_until(lambda: os.path.exists(record_path(store, "w.example.org", w.cert_file)), 30,
               what="the response of the delegated responder")
    assert stapled(https, "w.example.org")
    wait_until(lambda: rec.calls("msg", "ocsp-renewed", "w.example.org"), 10, what="ocsp-renewed")
    ca.stop()


def test_crl_finds_revoked_without_ocsp_url(httpd, mod_path, workdir):
    """Certificates with a CRL distribution point and no OCSP URL: the revoked one is found in the CRL (status,
    md-status, the revoked event), the other one checked good."""
    from test_module_events import Recorder
    rec = Recorder(workdir)
    ca = OcspCA(os.path.join(workdir, "ca"))
    c = ca.issue("c", ["c.example.org"], ocsp=False)
    g = ca.issue("g", ["g.example.org"], ocsp=False)
    ca.revoke(c)
    ca.start_crl_server()
    https, store = base_server(httpd, mod_path, workdir, "MDMessageCmd %s msg" % rec.path)
    for name, issued in (("c.example.org", c), ("g.example.org", g)):
        httpd.add_config("<MDomain %s>" % name, "  MDCertificateFile %s" % issued.chain_file,
                         "  MDCertificateKeyFile %s" % issued.key_file, "</MDomain>")
        httpd.add_vhost(ssl_vhost(https, name))
    httpd.start()
    wait_until(lambda: rec.calls("msg", "revoked", "c.example.org"), 30, what="the revoked event")
    wait_until(lambda: "revocation" in cert_json(net.get_json(httpd.url("/md-status/g.example.org"))), 30,
               what="the CRL check of g.example.org")
    rc = cert_json(net.get_json(httpd.url("/md-status/c.example.org")))["revocation"]
    assert rc["status"] == "revoked" and rc["via"] == "crl" and rc["url"] == ca.crl_url and rc["reason"] == 1
    rg = cert_json(net.get_json(httpd.url("/md-status/g.example.org")))["revocation"]
    assert rg["status"] == "good" and "error" not in rg
    assert not rec.calls("msg", "revoked", "g.example.org")
    assert any("GET /intermediate.crl" in l for l in ca.crl_requests())
    ca.stop()


def test_revoked_md_renewed(httpd, pebble_factory, mod_path, workdir):
    """An MD whose certificate (from the test CA, with an OCSP URL) is revoked in the responder's index: the new
    response says revoked (stapled as it is, md-status), the revoked event, and the MD renewed at once by ACME; the
    old set archived at activation."""
    from test_module_events import Recorder
    from test_module_more import wait_staged
    rec = Recorder(workdir)
    name = "r.example.org"
    pebble = pebble_factory(http_port=httpd.port)
    ca = OcspCA(os.path.join(workdir, "ca"))
    https, store = configure(httpd, pebble, mod_path, workdir, "MDStapling on", "MDStaplingRenewWindow 55s",
                             "MDMessageCmd %s msg" % rec.path, "MDomain %s" % name,
                             "<Location /md-status>", "  SetHandler md-status", "</Location>",
                     "<Location /metrics>", "  SetHandler md-metrics", "</Location>")
    httpd.add_vhost(ssl_vhost(https, name))
    # the MD's set, as if an earlier renewal had made it: a certificate of the test CA and its key
    domain = os.path.join(store, "domains", name)
    os.makedirs(domain)
    r = ca.issue("r", [name])
    with open(os.path.join(domain, "pubcert.secp256r1.pem"), "w") as f, open(r.chain_file) as src:
        f.write(src.read())
    with open(os.path.join(domain, "privkey.secp256r1.pem"), "w") as f, open(r.key_file) as src:
        f.write(src.read())
    ca.start_responder(nmin=1)
    httpd.start()
    path = record_path(store, name, r.cert_file)
    wait_until(lambda: os.path.exists(path), 30, what="the first response")
    assert stapled(https, name)
    md = net.get_json(httpd.url("/md-status/%s" % name))
    assert cert_json(md)["ocsp"]["status"] == "good" and not md["renew"]

    ca.revoke(r)
    wait_until(lambda: read_json(path)["status"] == "revoked", 60, what="the response saying revoked")
    assert stapled(https, name, status="revoked")
    wait_until(lambda: rec.calls("msg", "revoked", name), 10, what="the revoked event")
    md = net.get_json(httpd.url("/md-status/%s" % name))
    assert cert_json(md)["ocsp"]["status"] == "revoked" and md["renew"]
    wait_staged(httpd, store, [name])
    assert "the certificate is revoked" in httpd.error_log_text()
    assert len(rec.calls("msg", "revoked", name)) == 1
    httpd.graceful_restart()
    assert os.path.exists(os.path.join(store, "archive", name + ".1", "pubcert.secp256r1.pem"))
    with open(os.path.join(store, "domains", name, "pubcert.secp256r1.pem")) as f, open(r.chain_file) as old:
        assert f.read() != old.read()
    ca.stop()

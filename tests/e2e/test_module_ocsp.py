"""OCSP stapling and revocation checks of mod_mdomain, against the openssl test CA of rig/ocspca.py (responder and
CRL server on 127.0.0.1): a static MD stapled, MDStapleOthers, the stored response served while the responder is
down (also after a restart), a revoked certificate (status, event, renewal), a response by a wrong key never
stapled, a revocation found through the CRL, mod_ssl's own SSLUseStapling beside it."""
import json
import os

from rig import net
from rig.ocspca import OcspCA, s_client_status
from rig.proc import wait_until

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
                     "<Location /md-status>", "  SetHandler md-status", "</Location>")
    return https, store


def test_static_md_and_others_stapled(httpd, mod_path, workdir):
    ca = OcspCA(os.path.join(workdir, "ca"))
    a = ca.issue("a", ["a.example.org"])
    o = ca.issue("o", ["o.example.org"])
    n = ca.issue("n", ["n.example.org"], ocsp=False)
    ca.start_crl_server()
    ca.start_responder()
    https, store = base_server(httpd, mod_path, workdir, "MDStapling on",
                               "<MDomain a.example.org>", "  MDCertificateFile %s" % a.chain_file,
                               "  MDCertificateKeyFile %s" % a.key_file, "</MDomain>")
    httpd.add_vhost(ssl_vhost(https, "a.example.org"))
    httpd.add_vhost(ssl_vhost(https, "o.example.org", "SSLCertificateFile %s" % o.chain_file,
                              "SSLCertificateKeyFile %s" % o.key_file))
    httpd.add_vhost(ssl_vhost(https, "n.example.org", "SSLCertificateFile %s" % n.chain_file,
                              "SSLCertificateKeyFile %s" % n.key_file))
    httpd.start()
    ra, ro = record_path(store, "a.example.org", a.cert_file), record_path(store, "other", o.cert_file)
    wait_until(lambda: os.path.exists(ra) and os.path.exists(ro), 30, what="the stored OCSP responses")
    out = s_client_status(https, "a.example.org")
    print("\n".join(staple_lines(out)))
    assert "OCSP Response Status: successful" in out and "Cert Status: good" in out
    assert stapled(https, "o.example.org")
    assert "OCSP response: no response sent" in s_client_status(https, "n.example.org")
    rec = read_json(ra)
    assert rec["status"] == "good" and set(rec["valid"]) == {"from", "until"} and rec["response"]
    md = net.get_json(httpd.url("/md-status/a.example.org"))
    ocsp = md["cert"]["0" if "0" in md["cert"] else list(md["cert"])[0]]["ocsp"]
    assert ocsp["status"] == "good" and ocsp["valid"]["until"] == rec["valid"]["until"] and ocsp["renew-at"]
    assert ocsp["renewal"]["errors"] == 0
    ca.stop()

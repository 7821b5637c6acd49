import os, json, time, subprocess
from rig import net
from rig.ocspca import OcspCA, s_client_status
from rig.differential import MOD_MD

def test_modmd(httpd, workdir):
    ca = OcspCA(os.path.join(workdir, "ca"))
    a = ca.issue("a", ["a.example.org"])
    o = ca.issue("o", ["o.example.org"])
    n = ca.issue("n", ["n.example.org"], ocsp=False)
    ca.start_crl_server(); ca.start_responder()
    https = httpd.new_port("https")
    store = os.path.join(workdir, "md")
    httpd.add_modules("ssl", "socache_shmcb", ("md", MOD_MD))
    httpd.add_config("MDStoreDir %s" % store, "LogLevel md:trace2 ssl:debug", "MDStapling on",
                     "<MDomain a.example.org>", "MDCertificateFile %s" % a.chain_file, "MDCertificateKeyFile %s" % a.key_file, "</MDomain>",
                     "<Location /md-status>", "SetHandler md-status", "</Location>")
    for name, i, lines in (("a.example.org", None, []), ("o.example.org", o, ["SSLCertificateFile %s" % o.chain_file, "SSLCertificateKeyFile %s" % o.key_file]),
                           ("n.example.org", n, ["SSLCertificateFile %s" % n.chain_file, "SSLCertificateKeyFile %s" % n.key_file])):
        httpd.add_vhost("\n".join(["<VirtualHost 127.0.0.1:%d>" % https, "ServerName %s" % name, *lines, "SSLEngine on", "</VirtualHost>"]))
    httpd.start()
    time.sleep(8)
    for sni in ("a.example.org", "o.example.org", "n.example.org"):
        print(sni, [l for l in s_client_status(https, sni).splitlines() if "OCSP" in l or "Cert Status" in l])
    for root, dirs, files in os.walk(store):
        for f in files:
            p = os.path.join(root, f)
            if "/ocsp" in p:
                print(p, oct(os.stat(p).st_mode), os.stat(p).st_uid)
                print(open(p).read()[:2000])
    print(json.dumps(net.get_json(httpd.url("/md-status")), indent=1))
    page = net.fetch(httpd.url("/server-status"))[2].decode()
    i = page.find("Managed"); print(page[i-200:i+4000])
    print(net.fetch(httpd.url("/server-status?auto"))[2].decode())
    print("SHA1", subprocess.run("openssl x509 -in %s -outform DER | sha1sum" % a.cert_file, shell=True, capture_output=True, text=True).stdout)
    
    ca.stop()
    assert 0

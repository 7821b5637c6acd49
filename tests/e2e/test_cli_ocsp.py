"""mdomain and revocation: `mdomain ocsp NAME` writes a verified response (to --out or the MD's --install-ocsp, which
drive keeps fresh), and drive checks the CRL of a certificate without OCSP URL and renews the MD it finds revoked;
show reports both."""
import json
import os
import subprocess
import time

from rig.ocspca import OcspCA


def plant(cli, name, issued):
    """The MD's set as if a renewal had made it: a certificate of the test CA and its key."""
    for src, aspect in ((issued.chain_file, "pubcert.secp256r1.pem"), (issued.key_file, "privkey.secp256r1.pem")):
        with open(src) as f, open(os.path.join(cli.md_dir(name), aspect), "w") as out:
            out.write(f.read())


def ocsp_text(ca, der_file):
    return subprocess.run(["openssl", "ocsp", "-respin", der_file, "-CAfile", ca.root_file, "-issuer", ca.inter_file,
                           "-resp_text"], capture_output=True, text=True).stdout


def test_ocsp_verb_and_install(cli, workdir):
    ca = OcspCA(os.path.join(workdir, "ca"))
    name = "o.example.org"
    installed = os.path.join(workdir, "o.ocsp.der")
    cli.add(name, "--key", "p256", "--install-ocsp", installed)
    plant(cli, name, ca.issue("o", [name]))
    ca.start_responder()
    out = os.path.join(workdir, "out.der")
    doc = cli.ok("ocsp", name, "--out", out)
    assert doc["status"] == "good" and doc["file"] == out and doc["valid"]["until"]
    assert "Cert Status: good" in ocsp_text(ca, out)
    # drive (nothing due) writes the MD's installed response; a second drive leaves it alone
    doc = cli.drive(name)
    assert doc["results"][0]["outcome"] == "not-due"
    assert "Cert Status: good" in ocsp_text(ca, installed)
    mtime = os.stat(installed).st_mtime_ns
    cli.drive(name)
    assert os.stat(installed).st_mtime_ns == mtime
    shown = cli.ok("show", name)
    assert shown["cert"]["secp256r1"]["ocsp"]["status"] == "good"
    text = subprocess.run([cli.binary, "-d", cli.store, "show", name], capture_output=True, text=True).stdout
    assert "OCSP good" in text, text
    ca.stop()


def test_drive_finds_revoked_in_crl_and_renews(cli, pebble, workdir):
    ca = OcspCA(os.path.join(workdir, "ca"))
    name = "c.example.org"
    cli.add(name, "--key", "p256")
    c = ca.issue("c", [name], ocsp=False)
    plant(cli, name, c)
    ca.start_crl_server()
    doc = cli.drive(name)
    assert doc["results"][0]["outcome"] == "not-due"
    assert cli.ok("show", name)["cert"]["secp256r1"]["revocation"]["status"] == "good"
    ca.revoke(c)
    # checked daily: --no-revocation-check leaves it alone, nothing due either
    doc = cli.drive(name, "--no-revocation-check")
    assert doc["results"][0]["outcome"] == "not-due"
    # the CA moved the ARI window (as it does when it revokes; here to a month ahead, so ARI alone would not
    # renew now): drive checks the CRL at once, finds the serial and renews
    shown = cli.ok("show", name)
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 30 * 86400))
    tomorrow = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
    ari = os.path.join(cli.store, "ocsp", name, "ari.json")
    with open(ari, "w") as f:
        json.dump({"cert-id": shown["cert"]["secp256r1"]["ari-cert-id"], "window": {"start": later, "end": later},
                   "pick": later, "next-check": tomorrow}, f)
    rc, doc, out, err = cli.run("drive", "--http-port", pebble.http_port, name)
    assert rc == 0, err
    assert doc["results"][0]["outcome"] == "activated", (out, err)
    assert os.path.exists(os.path.join(cli.store, "archive", name + ".1", "pubcert.secp256r1.pem"))
    with open(os.path.join(cli.md_dir(name), "pubcert.secp256r1.pem")) as f, open(c.chain_file) as old:
        assert f.read() != old.read()
    assert any(" 200 " in l or '" 200' in l for l in ca.crl_requests())
    ca.stop()

"""mdomain update: every aspect of an MD changed in place (md.json field by field, certificates and state kept), then
drives against pebble that renew only when the certificates no longer cover the MD (names or key types)."""
import hashlib
import os

from certcheck import check_md, load_chain, sans, serial_hex
from rig.proc import write_program


def digests(directory):
    """{file: sha256} of what an MD's directory holds besides md.json."""
    return {f: hashlib.sha256(open(os.path.join(directory, f), "rb").read()).hexdigest()
            for f in sorted(os.listdir(directory)) if f != "md.json"}


def program(workdir, name):
    return write_program(os.path.join(workdir, name), "#!/bin/sh\nexit 0\n")


def test_every_aspect(cli, pebble, workdir):
    """Each option of update changes its aspect of md.json and nothing else; the certificates and keys stay."""
    cli.add("up.example.org", "www.up.example.org", "--key", "p256")
    cli.drive()
    kept = digests(cli.md_dir("up.example.org"))
    account = cli.md_json("up.example.org")["ca"]["account"]
    assert kept and account
    dns, handler = program(workdir, "dns.sh"), program(workdir, "events.sh")

    def update(*args):
        return cli.ok("update", "up.example.org", *args)

    doc = update("--add-domain", "Extra.up.example.org")
    assert doc["changed"] == ["domains"] and doc["renew"] is True
    assert cli.md_json("up.example.org")["domains"] == ["up.example.org", "www.up.example.org", "extra.up.example.org"]
    assert update("--remove-domain", "extra.up.example.org")["changed"] == ["domains"]
    assert cli.md_json("up.example.org")["domains"] == ["up.example.org", "www.up.example.org"]
    assert update("--domains", "up.example.org", "api.up.example.org")["changed"] == ["domains"]
    assert cli.md_json("up.example.org")["domains"] == ["up.example.org", "api.up.example.org"]
    update("--domains", "up.example.org", "www.up.example.org")
    assert update("-a", "https://ca1.example.net/dir", "-a", pebble.directory_url)["changed"] == ["ca"]
    assert cli.md_json("up.example.org")["ca"]["urls"] == ["https://ca1.example.net/dir", pebble.directory_url]
    assert update("-c", "one@example.org", "-c", "two@example.org")["changed"] == ["contacts"]
    assert cli.md_json("up.example.org")["contacts"] == ["mailto:one@example.org", "mailto:two@example.org"]
    assert update("-t", "accepted")["changed"] == []           # agreed at add already
    cli.ok("-a", pebble.directory_url, "add", "terms.example.org")
    assert cli.ok("update", "terms.example.org", "-t", "accepted")["changed"] == ["agreement"]
    assert cli.md_json("terms.example.org")["ca"]["agreement"] == "accepted"
    assert update("--key", "p256", "--key", "rsa3072")["changed"] == ["keys"]
    assert cli.md_json("up.example.org")["privkey"] == [{"type": "EC", "curve": "secp256r1"},
                                                        {"type": "RSA", "bits": 3072}]
    assert update("--challenge", "dns-01", "--challenge", "http-01")["changed"] == ["challenges"]
    assert cli.md_json("up.example.org")["ca"]["challenges"] == ["dns-01", "http-01"]
    assert update("--profile", "shortlived")["changed"] == ["profile"]
    assert cli.md_json("up.example.org")["profile"] == "shortlived"
    assert update("--dns-cmd", dns + " --zone up")["changed"] == ["dns"]
    assert cli.md_json("up.example.org")["cmd-dns-01"] == dns + " '--zone' 'up'"
    assert update("--event-handler", handler, "--event-arg", "x")["changed"] == ["event-handler"]
    assert update("--challenge-delay", "dns-01=2m")["changed"] == ["challenge-delays"]
    assert update("--challenge-delay", "http-01=5s")["changed"] == ["challenge-delays"]
    assert update("--renew-window", "20d", "--warn-window", "5%")["changed"] == ["renew-window", "warn-window"]
    md = cli.md_json("up.example.org")
    assert md["renew-window"] == "20d" and md["warn-window"] == "5%"
    own = md["mdomain"]
    assert own["event-handler"] == [handler, "x"]
    assert own["challenge-delay"] == {"http-01": "5s", "dns-01": "2mi"}
    chain, key = os.path.join(workdir, "c.pem"), os.path.join(workdir, "k.pem")
    assert update("--install-chain", chain, "--install-key", key, "--install-mode", "0640")["changed"] == ["install"]
    assert cli.md_json("up.example.org")["mdomain"]["install"]["chain"] == chain
    assert update("--retry-failover", "3", "--preferred-chain", "Root X", "--account-key", "rsa3072")["changed"] == \
        ["preferred-chain", "account-key", "retry-failover"]
    ca_copy = os.path.join(workdir, "ca-copy.pem")
    with open(pebble.ca_file, "rb") as src, open(ca_copy, "wb") as dst:
        dst.write(src.read())
    assert update("--ca-file", ca_copy)["changed"] == ["ca-file"]
    assert cli.md_json("up.example.org")["mdomain"]["ca-file"] == os.path.realpath(ca_copy)
    assert update("--eab", "kid-1", "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W")["changed"] == ["eab"]
    assert cli.md_json("up.example.org")["eab"]["kid"] == "kid-1"
    assert update("--dns-version", "2")["changed"] == ["dns"]
    assert update("--profile-mandatory")["changed"] == ["profile"]
    assert cli.md_json("up.example.org")["profile-mandatory"] is True
    # clearing: "" is none
    assert update("--dns-cmd", "", "--event-handler", "", "--profile", "")["changed"] == \
        ["profile", "dns", "event-handler"]     # the profile and its "mandatory" go together
    md = cli.md_json("up.example.org")
    assert "cmd-dns-01" not in md and "profile" not in md
    # certificates, keys, account: untouched by all of it
    assert digests(cli.md_dir("up.example.org")) == kept
    assert md["ca"]["account"] == account
    # refused changes leave md.json as it was
    before = cli.md_json("up.example.org")
    for args, message in [
        (["--remove-domain", "nope.example.org"], "'nope.example.org' is not a name of the MD"),
        (["--add-domain", "bad name"], "'bad name'"),
        (["--add-domain", "*.up.example.org"], "wildcard names are validated with dns-01 only"),
        (["--key", "rsa1024"], "--key"),
        (["--renew-window", "3x"], "--renew-window"),
        (["--install-chain", ""], "the chain and the key paths go together"),
    ]:
        rc, doc, out, err = cli.run("update", "up.example.org", *args)
        assert rc == 2 and message in err, (args, err)
    assert cli.md_json("up.example.org") == before
    cli.add("other.example.org", "--key", "p256")
    rc, doc, out, err = cli.run("update", "other.example.org", "--add-domain", "www.up.example.org")
    assert rc == 2 and "'www.up.example.org' belongs to the MD 'up.example.org' already" in err
    rc, doc, out, err = cli.run("update", "missing.example.org", "-c", "a@example.org")
    assert rc == 1 and "no managed domain 'missing.example.org'" in err


def test_drive_renews_only_when_coverage_changed(cli, pebble, workdir):
    """A contacts change keeps the certificate; a new name or a new key type makes the next drive renew."""
    cli.add("cov.example.org", "--key", "p256")
    assert cli.drive()["results"][0]["outcome"] == "activated"
    first = load_chain(os.path.join(cli.md_dir("cov.example.org"), "pubcert.secp256r1.pem"))[0]

    doc = cli.ok("update", "cov.example.org", "-c", "new@example.org")
    assert doc["changed"] == ["contacts"] and doc["renew"] is False and doc["state"] == 2
    mark = pebble.mark()
    assert cli.drive()["results"][0]["outcome"] == "not-due"
    assert pebble.requests(since=mark) == []

    doc = cli.ok("update", "cov.example.org", "--add-domain", "www.cov.example.org")
    assert doc["renew"] is True and doc["state"] == 1
    assert cli.ok("show", "cov.example.org")["renew"] is True
    assert cli.drive()["results"][0]["outcome"] == "activated"
    second = check_md(cli, pebble, workdir, "cov.example.org", ["cov.example.org", "www.cov.example.org"],
                      [("privkey.secp256r1.pem", "pubcert.secp256r1.pem", "ec")])[0]
    assert serial_hex(second) != serial_hex(first)

    # a name removed: the certificate still covers the rest, nothing is due
    cli.ok("update", "cov.example.org", "--remove-domain", "www.cov.example.org")
    assert cli.drive()["results"][0]["outcome"] == "not-due"

    # a key type added: a certificate for it is missing, the drive obtains both
    doc = cli.ok("update", "cov.example.org", "--key", "p256", "--key", "rsa2048")
    assert doc["renew"] is True
    assert cli.drive()["results"][0]["outcome"] == "activated"
    certs = check_md(cli, pebble, workdir, "cov.example.org", ["cov.example.org"],
                     [("privkey.secp256r1.pem", "pubcert.secp256r1.pem", "ec"),
                      ("privkey.pem", "pubcert.pem", "rsa")])
    assert sans(certs[1]) == ["cov.example.org"]
    assert cli.drive()["results"][0]["outcome"] == "not-due"

"""mdomain against pebble: obtaining, renewing and checking certificates end to end."""
import datetime
import email.utils
import os
import subprocess

import pytest

from certcheck import check_md, load_chain, serial_hex, stray_files
from rig.proc import write_program


def test_one_name(cli, pebble, workdir):
    cli.add("one.example.org", "--key", "p256")
    doc = cli.drive()
    assert doc["results"][0]["outcome"] == "activated"
    check_md(cli, pebble, workdir, "one.example.org", ["one.example.org"], [("privkey.secp256r1.pem", "pubcert.secp256r1.pem", "ec")])
    shown = cli.ok("show", "one.example.org")
    assert shown["state"] == 2 and shown["state-descr"] == "complete"
    assert shown["warn"] is False and shown["renew"] is False and "renew-at" in shown
    assert shown["cert"]["secp256r1"]["serial"] and "sha256-fingerprint" in shown["cert"]["secp256r1"]
    assert stray_files(cli.store) == []
    # valid and not due: the next drive asks the CA nothing
    mark = pebble.mark()
    doc = cli.drive()
    assert doc["results"][0]["outcome"] == "not-due"
    assert pebble.requests(since=mark) == []


def test_ten_names_one_md(cli, pebble, workdir):
    names = ["n%d.example.org" % i for i in range(10)]
    cli.add(*names)
    cli.drive()
    check_md(cli, pebble, workdir, names[0], names, [("privkey.pem", "pubcert.pem", "rsa")])


@pytest.mark.parametrize("keys, files", [
    (["p256"], [("privkey.secp256r1.pem", "pubcert.secp256r1.pem", "ec")]),
    (["rsa2048"], [("privkey.pem", "pubcert.pem", "rsa")]),
    (["rsa2048", "p384"], [("privkey.pem", "pubcert.pem", "rsa"), ("privkey.secp384r1.pem", "pubcert.secp384r1.pem", "ec")]),
])
def test_key_types(cli, pebble, workdir, keys, files):
    args = ["keys.example.org"]
    for k in keys:
        args += ["--key", k]
    cli.add(*args)
    cli.drive()
    check_md(cli, pebble, workdir, "keys.example.org", ["keys.example.org"], files)


def test_force_renews_and_archives(cli, pebble, workdir):
    cli.add("force.example.org", "--key", "p256")
    cli.drive()
    first = check_md(cli, pebble, workdir, "force.example.org", ["force.example.org"],
                     [("privkey.secp256r1.pem", "pubcert.secp256r1.pem", "ec")])[0]
    doc = cli.drive("--force")
    assert doc["results"][0]["outcome"] == "activated"
    second = check_md(cli, pebble, workdir, "force.example.org", ["force.example.org"],
                      [("privkey.secp256r1.pem", "pubcert.secp256r1.pem", "ec")])[0]
    assert serial_hex(first) != serial_hex(second)
    # the old set is in the archive (as the highest numbered one)
    archive = os.path.join(cli.store, "archive")
    latest = max((d for d in os.listdir(archive) if d.startswith("force.example.org.")),
                 key=lambda d: int(d.rsplit(".", 1)[1]))
    old = load_chain(os.path.join(archive, latest, "pubcert.secp256r1.pem"))[0]
    assert serial_hex(old) == serial_hex(first)
    assert stray_files(cli.store) == []


def test_tls_alpn_01_only(cli, pebble, workdir):
    cli.add("alpn.example.org", "--key", "p256", "--challenge", "tls-alpn-01")
    doc = cli.ok("drive", "--tls-port", pebble.tls_port)
    assert doc["results"][0]["outcome"] == "activated"
    check_md(cli, pebble, workdir, "alpn.example.org", ["alpn.example.org"], [("privkey.secp256r1.pem", "pubcert.secp256r1.pem", "ec")])


def test_failure_is_explained_and_backs_off(cli, pebble):
    cli.add("fail.example.org", "--key", "p256")
    # no responder: nothing can answer the challenge
    rc, doc, out, err = cli.run("drive")
    assert rc == 1
    assert doc["results"][0]["outcome"] == "failed"
    detail = doc["results"][0]["detail"]
    # the remedy in the command's words, never the module's directives
    assert "--http-port PORT" in detail and "--webroot DIR" in detail and "--dns-cmd PROGRAM" in detail
    assert "MDPortMap" not in detail and "MDCAChallenges" not in detail
    shown = cli.ok("show", "fail.example.org")
    assert shown["renewal"]["errors"] == 1
    assert "next-run" in shown["renewal"]
    doc = cli.drive("--force")
    assert doc["results"][0]["outcome"] == "activated"


def test_backing_off_asks_the_ca_nothing(cli, pebble):
    """Within the back-off nothing is asked of the CA, unless forced. The CA refuses the contact (invalidContact,
    the request itself is wrong): the back-off is a day (12 to 36 hours), so the second drive surely falls into
    it, however slow the machine (issue 15: a 5 s back-off, jittered down to 2.5 s, made this a race)."""
    cli.ok("-a", pebble.directory_url, "--ca-file", pebble.ca_file, "-t", "accepted", "-c", "not an address",
           "add", "contact.example.org", "--key", "p256")
    rc, doc, out, err = cli.run("drive", "--http-port", pebble.http_port)
    assert rc == 1 and doc["results"][0]["problem"] == "urn:ietf:params:acme:error:invalidContact", doc
    next_run = email.utils.parsedate_to_datetime(cli.ok("show", "contact.example.org")["renewal"]["next-run"])
    assert next_run - datetime.datetime.now(datetime.timezone.utc) > datetime.timedelta(hours=11)
    mark = pebble.mark()
    rc, doc, out, err = cli.run("drive", "--http-port", pebble.http_port)
    assert rc == 1      # still failing: cron and systemd notice
    assert doc["results"][0]["outcome"] == "backing-off" and doc["results"][0]["failed"] is True
    assert pebble.requests(since=mark) == []
    rc, doc, out, err = cli.run("drive", "--force", "--http-port", pebble.http_port)
    assert rc == 1 and doc["results"][0]["problem"] == "urn:ietf:params:acme:error:invalidContact"
    assert pebble.count_requests("POST", since=mark) >= 1          # forced: the CA was asked again


def test_revoke(cli, pebble, workdir):
    cli.add("revoke.example.org", "--key", "p256")
    cli.drive()
    cert = check_md(cli, pebble, workdir, "revoke.example.org", ["revoke.example.org"],
                    [("privkey.secp256r1.pem", "pubcert.secp256r1.pem", "ec")])[0]
    assert pebble.cert_status(serial_hex(cert))["Status"] == "Valid"
    doc = cli.ok("revoke", "revoke.example.org", "--reason", "superseded")
    assert doc["revoked"]
    status = pebble.cert_status(serial_hex(cert))
    assert status["Status"] == "Revoked"
    assert status["Reason"] == 4


def test_install_for_other_servers(cli, pebble, workdir):
    chain = os.path.join(workdir, "mail-chain.pem")
    key = os.path.join(workdir, "mail-key.pem")
    marker = os.path.join(workdir, "reloaded")
    hook = write_program(os.path.join(workdir, "reload.sh"), "#!/bin/sh\necho \"$1 $MD_CHAIN_FILE\" > %s\n" % marker)
    cli.add("mail.example.org", "--key", "p256", "--install-chain", chain, "--install-key", key,
            "--install-mode", "0640", "--install-cmd", hook)
    cli.drive()
    assert open(chain).read().count("BEGIN CERTIFICATE") >= 2
    assert os.stat(key).st_mode & 0o777 == 0o640
    assert open(marker).read().strip() == "mail.example.org " + chain


def test_revoke_with_the_certificate_key(cli, pebble, workdir):
    cli.add("revoke2.example.org", "--key", "p256")
    cli.drive()
    cert = check_md(cli, pebble, workdir, "revoke2.example.org", ["revoke2.example.org"],
                    [("privkey.secp256r1.pem", "pubcert.secp256r1.pem", "ec")])[0]
    cli.ok("revoke", "revoke2.example.org", "--cert-key", "--reason", "keyCompromise")
    status = pebble.cert_status(serial_hex(cert))
    assert status["Status"] == "Revoked" and status["Reason"] == 1


def test_mandatory_profile_not_offered(cli, pebble):
    # Debian's pebble 2.4 offers no profiles: a mandatory one is an error that names the profile
    cli.add("profile.example.org", "--key", "p256", "--profile", "shortlived", "--profile-mandatory")
    rc, doc, out, err = cli.run("drive", "--http-port", pebble.http_port)
    assert rc == 1 and "shortlived" in err
    cli.ok("remove", "profile.example.org")
    # not mandatory: the CA's default is used
    cli.add("profile.example.org", "--key", "p256", "--profile", "shortlived")
    assert cli.drive()["results"][0]["outcome"] == "activated"


def test_terms_not_agreed_names_the_option(cli, pebble):
    # added without -t: the CA's terms are not agreed to; the error says how, in the command's words
    cli.ok("-a", pebble.directory_url, "--ca-file", pebble.ca_file, "add", "terms.example.org", "--key", "p256")
    rc, doc, out, err = cli.run("drive", "--http-port", pebble.http_port)
    assert rc == 1
    detail = doc["results"][0]["detail"]
    assert "requires agreement to its terms of service" in detail
    assert "-t accepted" in detail and "MDCertificateAgreement" not in detail and "--agree-tos" not in detail
    assert "-t accepted" in err


def test_drive_takes_ca_file_and_terms(cli, pebble):
    """issue 15: drive's --ca-file and -t accepted were ignored (only add's counted); they apply to the run."""
    cli.ok("-a", pebble.directory_url, "add", "late.example.org", "--key", "p256")
    rc, doc, out, err = cli.run("drive", "--http-port", pebble.http_port)
    assert rc == 1 and "mdomain --ca-file PEM drive NAME" in doc["results"][0]["detail"]
    rc, doc, out, err = cli.run("--ca-file", pebble.ca_file, "drive", "--force", "--http-port", pebble.http_port)
    assert rc == 1
    detail = doc["results"][0]["detail"]
    assert "requires agreement to its terms of service" in detail
    assert "mdomain -t accepted drive NAME" in detail and "--agree-tos" not in detail
    doc = cli.ok("--ca-file", pebble.ca_file, "-t", "accepted", "drive", "--force", "--http-port", pebble.http_port)
    assert doc["results"][0]["outcome"] == "activated"
    rc, doc, out, err = cli.run("--ca-file", "/nonexistent.pem", "drive")
    assert rc == 2 and "--ca-file /nonexistent.pem: not found" in err
    rc, doc, out, err = cli.run("-t", "yes", "drive")
    assert rc == 2 and "the only value is 'accepted'" in err


def test_ca_not_trusted_names_ca_file(cli, pebble):
    # added without --ca-file: pebble's listener certificate does not verify against the system's roots
    cli.ok("-a", pebble.directory_url, "-t", "accepted", "add", "trust.example.org", "--key", "p256")
    rc, doc, out, err = cli.run("drive", "--http-port", pebble.http_port)
    assert rc == 1
    detail = doc["results"][0]["detail"]
    assert "SSL certificate problem" in detail
    assert "--ca-file PEM" in detail and "MDCACertificateFile" not in detail
    assert "Internal error" not in detail and "Internal error" not in err


def test_failed_drive_lists_every_md_on_stdout(cli, pebble):
    """Without --json, drive prints one line per MD on stdout, the failed one too; the error also on stderr."""
    cli.add("good.example.org", "--key", "p256")
    cli.add("nodns.example.org", "--key", "p256", "--challenge", "dns-01")     # dns-01 without --dns-cmd
    res = subprocess.run([cli.binary, "-d", cli.store, "drive", "--http-port", str(pebble.http_port)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=180)
    assert res.returncode == 1
    lines = sorted(res.stdout.splitlines())
    assert len(lines) == 2, res.stdout
    assert lines[0] == "good.example.org: activated"
    assert lines[1].startswith("nodns.example.org: failed: no way to answer the challenges for nodns.example.org")
    assert "--dns-cmd PROGRAM" in lines[1] and ", next attempt " in lines[1]
    assert "mdomain: nodns.example.org: no way to answer" in res.stderr
    # --quiet: only the error
    res = subprocess.run([cli.binary, "-d", cli.store, "-q", "drive", "--force", "nodns.example.org"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=180)
    assert res.returncode == 1 and res.stdout == "" and "nodns.example.org" in res.stderr

"""The mdomain command on a store with damaged files: list, show and drive name the file and what is wrong with it,
go on with the other MDs and exit 1; a key that is not its certificate's is never "complete"."""
import base64
import datetime
import json
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from rig.mdcli import MdCli

GOOD, BAD = "good.example.org", "bad.example.org"
DEAD_CA = "https://127.0.0.1:1/dir"      # nobody listens: a drive that asks the CA fails, one that does not passes


def pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def self_signed(name, key, days=90):
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), False)
            .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))


def install_set(cli, name):
    """A valid P-256 key and certificate in domains/NAME, as a drive would have left them."""
    key = ec.generate_private_key(ec.SECP256R1())
    d = cli.md_dir(name)
    with open(os.path.join(d, "privkey.secp256r1.pem"), "wb") as f:
        f.write(pem_key(key))
    with open(os.path.join(d, "pubcert.secp256r1.pem"), "wb") as f:
        f.write(self_signed(name, key))


@pytest.fixture
def cli(md_build, workdir):
    c = MdCli(os.path.join(md_build, "mdomain"), os.path.join(workdir, "store"))
    for name in (GOOD, BAD):
        c.ok("-a", DEAD_CA, "-t", "accepted", "add", name, "--key", "p256")
    install_set(c, GOOD)
    return c


def md_json_damage(path, how):
    if how == "directory":
        os.unlink(path)
        os.mkdir(path)
        return "cannot read"
    if how == "missing":
        os.unlink(path)
        return "is missing"
    text = open(path).read()
    damaged, why = {
        "empty": ("", "invalid JSON"),
        "truncated": (text[:len(text) // 2], "invalid JSON"),
        "a NUL": (text[:20] + "\0" + text[20:], "invalid JSON"),
        "name 5": (json.dumps(dict(json.loads(text), name=5)), '"name" is not a string'),
        "name ../../etc": (json.dumps(dict(json.loads(text), name="../../etc")), "cannot be an MD's name"),
        "another name": (json.dumps(dict(json.loads(text), name=GOOD)), "but the file is in the directory of"),
    }[how]
    with open(path, "w") as f:
        f.write(damaged)
    return why


@pytest.mark.parametrize("how", ["empty", "truncated", "a NUL", "name 5", "name ../../etc", "another name",
                                 "directory", "missing"])
def test_damaged_md_json(cli, how):
    path = os.path.join(cli.md_dir(BAD), "md.json")
    why = md_json_damage(path, how)
    # list: every MD, the damaged one as an error naming the file; exit 1
    rc, doc, out, err = cli.run("list")
    assert rc == 1, err
    assert sorted(d["name"] for d in doc["domains"]) == [BAD, GOOD]
    good = [d for d in doc["domains"] if d["name"] == GOOD][0]
    assert good["state-descr"] == "complete"
    assert [e["name"] for e in doc["errors"]] == [BAD]
    assert path in doc["errors"][0]["detail"] and why in doc["errors"][0]["detail"]
    assert "mdomain: %s: %s" % (BAD, path) in err and why in err
    # the same as text for people: no "(null)", no date
    res = cli.run_text("list")
    assert res.returncode == 1 and "(null)" not in res.stdout
    assert "%s" % GOOD in res.stdout and "error: %s" % path in res.stdout
    # show: the damaged one fails, naming the file; the other is fine
    res = cli.run_text("show", BAD)
    assert res.returncode == 1 and path in res.stderr and "(null)" not in res.stdout
    rc, doc, out, err = cli.run("show", BAD)
    assert rc == 1 and path in err and why in err
    assert doc["state"] == 4 and path in doc["state-descr"]
    assert cli.ok("show", GOOD)["state-descr"] == "complete"
    # drive: the damaged one failed, named; the other one is not due (the CA is never asked); exit 1
    rc, doc, out, err = cli.run("drive")
    assert rc == 1
    outcomes = {r["name"]: r for r in doc["results"]}
    assert outcomes[GOOD]["outcome"] == "not-due"
    assert outcomes[BAD]["outcome"] == "failed" and path in outcomes[BAD]["detail"]
    assert "mdomain: %s: %s" % (BAD, path) in err
    assert cli.ok("drive", GOOD)["results"][0]["outcome"] == "not-due"


@pytest.mark.parametrize("how", ["junk key", "empty key", "another key", "key missing", "truncated certificate"])
def test_damaged_key_or_certificate(cli, how):
    install_set(cli, BAD)
    d = cli.md_dir(BAD)
    key, cert = os.path.join(d, "privkey.secp256r1.pem"), os.path.join(d, "pubcert.secp256r1.pem")
    named, why = {
        "junk key": (key, "not a usable private key"),
        "empty key": (key, "not a usable private key"),
        "another key": (key, "is not the key of the certificate in pubcert.secp256r1.pem"),
        "key missing": (key, "is missing, but pubcert.secp256r1.pem is there"),
        "truncated certificate": (cert, "not a certificate chain"),
    }[how]
    if how == "key missing":
        os.unlink(key)
    elif how == "truncated certificate":
        data = open(cert).read()
        with open(cert, "w") as f:
            f.write(data[:len(data) // 2])
    else:
        with open(key, "wb") as f:
            f.write({"junk key": b"junk\n", "empty key": b"",
                     "another key": pem_key(ec.generate_private_key(ec.SECP256R1()))}[how])
    rc, doc, out, err = cli.run("list")
    assert rc == 1
    states = {d["name"]: d for d in doc["domains"]}
    assert states[GOOD]["state-descr"] == "complete"
    assert states[BAD]["state"] != 2 and states[BAD]["renew"] is True      # never complete; due now
    assert doc["errors"] == [{"name": BAD, "detail": doc["errors"][0]["detail"]}]
    assert named in doc["errors"][0]["detail"] and why in doc["errors"][0]["detail"]
    assert "mdomain: %s: %s" % (BAD, named) in err
    rc, doc, out, err = cli.run("show", BAD)
    assert rc == 1 and named in err and why in err and doc["state"] != 2
    # drive does not call it not-due: it renews (the CA here is dead: failed), and says why on -v
    rc, doc, out, err = cli.run("-v", "drive", BAD)
    assert rc == 1 and doc["results"][0]["outcome"] == "failed"
    assert named in err


def test_no_certificate_is_due_now(cli):
    res = cli.run_text("list")
    assert res.returncode == 0, res.stderr
    line = [l for l in res.stdout.splitlines() if l.startswith(BAD)][0]
    assert "renewal due now" in line and "1970" not in res.stdout


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _store_key(cli):
    b64 = json.load(open(os.path.join(cli.store, "md_store.json")))["key"]
    return base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))


def test_lost_store_key(cli):
    """issue 15: a lost md_store.json made a new key silently, and `account show` said [] with exit 0."""
    acct = os.path.join(cli.store, "accounts", "ACME-ca-0000")
    os.makedirs(acct)
    with open(os.path.join(acct, "account.json"), "w") as f:
        json.dump({"url": "https://ca.example/acct/1", "ca-url": DEAD_CA, "status": "valid"}, f)
    with open(os.path.join(acct, "account.pem"), "wb") as f:
        f.write(ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(_store_key(cli))))
    assert [a["id"] for a in cli.ok("account", "show")["accounts"]] == ["ACME-ca-0000"]
    # another key (md_store.json from elsewhere): the account is named, exit 1
    store_json = os.path.join(cli.store, "md_store.json")
    saved = open(store_json).read()
    with open(store_json, "w") as f:
        json.dump({"store": {"version": 3.0}, "key": _b64url(os.urandom(48))}, f)
    rc, doc, out, err = cli.run("account", "show")
    assert rc == 1 and doc["accounts"] == [] and doc["errors"][0]["id"] == "ACME-ca-0000"
    assert "mdomain: account ACME-ca-0000: %s/account.pem: not a usable private key" % acct in err
    # lost: every verb refuses, says how to recover, and makes no new key
    os.unlink(store_json)
    for verb in (("list",), ("account", "show"), ("drive",)):
        rc, doc, out, err = cli.run(*verb)
        assert rc == 1, verb
        assert "%s is missing, but the store holds keys encrypted with the key it had (%s/account.pem)" % (
            store_json, acct) in err and "restore md_store.json from a backup" in err, err
        assert not os.path.exists(store_json)
    with open(store_json, "w") as f:
        f.write(saved)
    assert [a["id"] for a in cli.ok("account", "show")["accounts"]] == ["ACME-ca-0000"]


def test_stored_ca_text_printed_clean(cli):
    """issue 15: text from the CA in a job.json (one written before it was cleaned, or by another client) never
    reaches the terminal with its escapes and line breaks: no forged line, no moved cursor."""
    staging = os.path.join(cli.store, "staging", GOOD)
    os.makedirs(staging, exist_ok=True)
    with open(os.path.join(staging, "job.json"), "w") as f:
        json.dump({"name": GOOD, "finished": False, "errors": 1, "next-run": "Mon, 23 Nov 2026 12:56:32 GMT",
                   "last": {"status": 22, "detail": "rate limited\n\x1b[32m%s: activated\x1b[0m\r" % GOOD}}, f)
    res = cli.run_text("show", GOOD)
    assert "\x1b" not in res.stdout + res.stderr and "\r" not in res.stdout
    assert not any(line.startswith("%s: activated" % GOOD) for line in res.stdout.splitlines()), res.stdout
    assert "rate limited  [32m%s: activated [0m" % GOOD in res.stdout, res.stdout

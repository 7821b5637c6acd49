"""mdomain against pebble: dns-01 through a hook, webroot, IP identifiers, external account binding,
account key rollover."""
import base64
import functools
import http.server
import json
import os
import threading

from cryptography.hazmat.primitives import serialization

from certcheck import check_md
from rig.dnshook import write_dns_hook
from rig.mdcli import MdCli

def make_hook(workdir, pebble):
    return write_dns_hook(workdir, pebble.challtestsrv.management_url)


def test_wildcard_through_dns01(cli, pebble, workdir):
    hook, log = make_hook(workdir, pebble)
    cli.add("wild.example.org", "*.wild.example.org", "--key", "p256", "--dns-cmd", hook)
    doc = cli.ok("drive")
    assert doc["results"][0]["outcome"] == "activated"
    check_md(cli, pebble, workdir, "wild.example.org", ["*.wild.example.org", "wild.example.org"],
             [("privkey.secp256r1.pem", "pubcert.secp256r1.pem", "ec")])
    calls = open(log).read().splitlines()
    setups = [c for c in calls if c.startswith("setup ")]
    teardowns = [c for c in calls if c.startswith("teardown ")]
    assert setups and len(setups) == len(teardowns)
    # both the name and the wildcard are validated at _acme-challenge.wild.example.org
    assert all(c.split()[1] == "wild.example.org" for c in setups)


def test_webroot(cli, pebble, workdir):
    root = os.path.join(workdir, "webroot")
    os.makedirs(root)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", pebble.http_port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        cli.add("webroot.example.org", "--key", "p256")
        doc = cli.ok("drive", "--webroot", root)
        assert doc["results"][0]["outcome"] == "activated"
    finally:
        server.shutdown()
        server.server_close()
    check_md(cli, pebble, workdir, "webroot.example.org", ["webroot.example.org"],
             [("privkey.secp256r1.pem", "pubcert.secp256r1.pem", "ec")])
    # the challenge files are gone again
    assert os.listdir(os.path.join(root, ".well-known", "acme-challenge")) == []


def test_ip_identifier(cli, pebble, workdir):
    cli.add("127.0.0.1", "--key", "p256")
    rc, doc, out, err = cli.run("drive", "--http-port", pebble.http_port)
    assert rc == 0, err     # Debian's pebble 2.4 issues for IP identifiers (RFC 8738)
    check_md(cli, pebble, workdir, "127.0.0.1", ["127.0.0.1"], [("privkey.secp256r1.pem", "pubcert.secp256r1.pem", "ec")])


def test_external_account_binding(md_build, workdir, pebble_factory):
    hmac = base64.urlsafe_b64encode(b"0123456789abcdef0123456789abcdef").decode().rstrip("=")
    pebble = pebble_factory(eab_keys={"kid-1": hmac})
    cli = MdCli(os.path.join(md_build, "mdomain"), os.path.join(workdir, "store"), pebble)
    # without EAB the CA refuses, and says so
    cli.add("noeab.example.org", "--key", "p256")
    rc, doc, out, err = cli.run("drive", "--http-port", pebble.http_port)
    assert rc == 1 and "external account" in err.lower()
    cli.ok("remove", "noeab.example.org")
    cli.add("--eab", "kid-1", hmac, "eab.example.org", "--key", "p256")
    cli.drive()
    check_md(cli, pebble, workdir, "eab.example.org", ["eab.example.org"], [("privkey.secp256r1.pem", "pubcert.secp256r1.pem", "ec")])
    accounts = cli.ok("account", "show")["accounts"]
    assert any(a.get("eab", {}).get("kid") == "kid-1" for a in accounts)


def _account_public_key(cli, pem):
    """The account key's public part (DER), decrypted with the store key from md_store.json."""
    with open(os.path.join(cli.store, "md_store.json")) as f:
        b64 = json.load(f)["key"]
    passphrase = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))
    with open(pem, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=passphrase)
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_account_rollover_then_renew(cli, pebble, workdir):
    cli.add("roll.example.org", "--key", "p256")
    cli.drive()
    acct_id = cli.ok("show", "roll.example.org")["ca"]["account"]
    pem = os.path.join(cli.store, "accounts", acct_id, "account.pem")
    before = _account_public_key(cli, pem)
    doc = cli.ok("account", "rollover", acct_id)
    assert doc["status"] == "valid"
    # another key, not the same one encrypted again (a new salt alone changes the file)
    assert _account_public_key(cli, pem) != before
    assert cli.drive("--force")["results"][0]["outcome"] == "activated"
    doc = cli.ok("-c", "new@example.org", "account", "update", acct_id)
    assert "mailto:new@example.org" in doc["contact"]
    doc = cli.ok("account", "deactivate", acct_id)
    assert doc["status"] == "deactivated"


def test_dns01_version_2_passes_the_value_to_teardown(cli, pebble, workdir):
    hook, log = make_hook(workdir, pebble)
    cli.add("v2.example.org", "--key", "p256", "--dns-cmd", hook, "--dns-version", "2", "--challenge", "dns-01")
    cli.ok("drive")
    calls = open(log).read().splitlines()
    setup = [c.split() for c in calls if c.startswith("setup ")][0]
    teardown = [c.split() for c in calls if c.startswith("teardown ")][0]
    assert teardown == ["teardown", "v2.example.org", setup[2]]


def test_rsa_account_key(cli, pebble, workdir):
    cli.add("rsaacct.example.org", "--key", "p256", "--account-key", "rsa2048")
    cli.drive()
    acct_id = cli.ok("show", "rsaacct.example.org")["ca"]["account"]
    pem = open(os.path.join(cli.store, "accounts", acct_id, "account.pem")).read()
    # the stored key is encrypted; its JWK in the registration tells the type
    accounts = {a["id"]: a for a in cli.ok("account", "show")["accounts"]}
    assert accounts[acct_id]["registration"]["key"]["kty"] == "RSA"
    assert "ENCRYPTED" in pem


def test_failover_to_the_next_ca(md_build, workdir, pebble_factory):
    good = pebble_factory()
    cli = MdCli(os.path.join(md_build, "mdomain"), os.path.join(workdir, "store"), good)
    dead = "https://127.0.0.1:1/dir"      # nobody listens there
    cli.ok("-a", dead, "-a", good.directory_url, "--ca-file", good.ca_file, "-t", "accepted",
           "add", "failover.example.org", "--key", "p256", "--retry-failover", "1")
    rc, doc, out, err = cli.run("drive", "--http-port", good.http_port)
    assert rc == 1 and "127.0.0.1:1" in err
    # after one failed attempt the next CA is used (forced: no waiting for the back-off)
    doc = cli.drive("--force")
    assert doc["results"][0]["outcome"] == "activated"
    assert cli.ok("show", "failover.example.org")["ca"]["url"] == good.directory_url

"""The mdomain command without a CA: usage, exit codes, add/list/show/remove and their errors."""
import json
import os
import subprocess

import pytest

from rig.mdcli import MdCli


@pytest.fixture
def cli(md_build, workdir):
    return MdCli(os.path.join(md_build, "mdomain"), os.path.join(workdir, "store"))


def run(binary, *args):
    return subprocess.run([binary] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_usage_and_exit_codes(cli):
    assert run(cli.binary).returncode == 2
    res = run(cli.binary, "--help")
    assert res.returncode == 0 and "drive [NAME...]" in res.stdout
    assert run(cli.binary, "--version").stdout.startswith("mdomain ")
    res = run(cli.binary, "-d", cli.store, "frobnicate")
    assert res.returncode == 2 and "unknown verb 'frobnicate'" in res.stderr
    res = run(cli.binary, "-d", cli.store, "drive", "--http-port", "99999")
    assert res.returncode == 2 and "99999" in res.stderr


def test_add_list_show_remove(cli):
    doc = cli.ok("-a", "https://127.0.0.1:1/dir", "-t", "accepted", "-c", "ops@example.org",
                 "add", "Example.ORG", "www.example.org", "--key", "p256", "--key", "rsa3072")
    assert doc["name"] == "example.org"
    assert doc["domains"] == ["example.org", "www.example.org"]
    assert doc["state"] == 1 and doc["state-descr"] == "certificate(secp256r1) is missing"
    md = json.load(open(os.path.join(cli.md_dir("example.org"), "md.json")))
    # mod_md's md.json format: several keys are an array, the CA under "ca"
    assert md["privkey"][0]["type"] == "EC"
    assert md["privkey"][1] == {"type": "RSA", "bits": 3072}
    assert md["ca"]["urls"] == ["https://127.0.0.1:1/dir"]
    assert md["ca"]["agreement"] == "accepted"
    assert md["contacts"] == ["mailto:ops@example.org"]
    cli.ok("-a", "https://127.0.0.1:1/dir", "add", "other.example.net")
    listing = cli.ok("list")
    assert listing["managed-domains"] == 2
    assert sorted(d["name"] for d in listing["domains"]) == ["example.org", "other.example.net"]
    shown = cli.ok("show", "other.example.net")
    assert shown["ca"]["url"] == "https://127.0.0.1:1/dir"
    assert shown["renew"] is True and "renew-at" in shown    # no certificate yet: due now
    assert shown["warn"] is False    # nothing there to expire yet: "incomplete" says it
    assert "renewal" not in shown    # no renewal has started
    doc = cli.ok("remove", "other.example.net")
    assert doc["archived-as"] == "other.example.net.1"
    assert cli.ok("list")["managed-domains"] == 1
    rc, doc, out, err = cli.run("show", "other.example.net")
    assert rc == 1 and "no managed domain 'other.example.net'" in err


@pytest.mark.parametrize("args, message", [
    (["add"], "give at least one NAME"),
    (["add", "bad_name.example"], "'bad_name.example'"),
    (["add", "a..example"], "empty label"),
    (["add", "*.example.org"], "dns-01"),
    (["add", "example.org", "--key", "rsa1024"], "1024"),
    (["add", "example.org", "--key", "secp521r1"], "secp521r1"),
    (["add", "example.org", "--challenge", "tls-sni-01"], "tls-sni-01"),
    (["add", "example.org", "--key", "rsa2048", "--key", "rsa4096"], "privkey.pem"),
    (["-t", "yes", "add", "example.org"], "'yes'"),
    (["add", "example.org", "--dns-cmd", "/nonexistent/hook"], "/nonexistent/hook"),
    (["add", "example.org", "--install-chain", "/tmp/x.pem"], "--install-key"),
    (["--eab", "kid-1", "not*base64", "add", "example.org"], "kid-1"),
])
def test_add_errors(cli, args, message):
    rc, doc, out, err = cli.run(*args)
    assert rc == 2, (rc, out, err)
    assert message in err
    assert doc is None or doc.get("status") == "error"


def test_add_refuses_taken_names(cli):
    cli.ok("add", "example.org", "www.example.org")
    rc, doc, out, err = cli.run("add", "shop.example.org", "www.example.org")
    assert rc == 1
    assert "'www.example.org' belongs to the MD 'example.org'" in err
    rc, doc, out, err = cli.run("add", "example.org")
    assert rc == 1 and "exists already" in err
    assert cli.ok("list")["managed-domains"] == 1


def test_eab_file_errors(cli, workdir):
    path = os.path.join(workdir, "eab.json")
    with open(path, "w") as f:
        json.dump({"kid": "kid-1"}, f)
    rc, doc, out, err = cli.run("--eab-file", path, "add", "example.org")
    assert rc == 2 and path in err and "hmac" in err
    rc, doc, out, err = cli.run("--eab-file", path + ".missing", "add", "example.org")
    assert rc == 2 and "eab.json.missing" in err

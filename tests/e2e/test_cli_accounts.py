"""mdomain account: restore an account from its key after the store lost accounts/ (newAccount with
onlyReturnExisting, RFC 8555 7.3.1), and account list with each account's CA, contacts, status and users."""
import json
import os
import shutil
import subprocess


def test_restore_after_accounts_lost(cli, pebble, workdir):
    cli.add("a.example.org", "--key", "p256")
    cli.add("b.example.org", "--key", "p256")
    cli.drive()
    accounts = os.path.join(cli.store, "accounts")
    [old_id] = os.listdir(accounts)
    with open(os.path.join(accounts, old_id, "account.json")) as f:
        old_url = json.load(f)["url"]
    backup = os.path.join(workdir, "account-backup.pem")      # as in the store: encrypted with the store key
    shutil.copy(os.path.join(accounts, old_id, "account.pem"), backup)
    listed = cli.ok("account", "list")["accounts"]
    assert [(a["id"], a["mds"], a["status"]) for a in listed] == [(old_id, ["a.example.org", "b.example.org"], "valid")]

    shutil.rmtree(accounts)
    os.mkdir(accounts, 0o700)
    assert cli.ok("account", "list")["accounts"] == []
    mark = pebble.mark()
    doc = cli.ok("account", "restore", "--key", backup)
    [restored] = doc["restored"]
    assert doc["not-found"] == []
    assert restored["url"] == old_url and restored["ca-url"] == pebble.directory_url
    assert restored["given-to"] == ["a.example.org", "b.example.org"]
    assert restored["mds"] == ["a.example.org", "b.example.org"]
    assert restored["contact"] == ["mailto:admin@example.org"] and restored["status"] == "valid"
    # asked with onlyReturnExisting: nothing registered
    assert ("POST", "/sign-me-up") in pebble.requests(since=mark), pebble.requests(since=mark)
    for name in ("a.example.org", "b.example.org"):
        assert cli.md_json(name)["ca"]["account"] == restored["id"]
    listed = cli.ok("account", "list")["accounts"]
    assert [(a["id"], a["url"], a["mds"], a["contact"]) for a in listed] == \
        [(restored["id"], old_url, ["a.example.org", "b.example.org"], ["mailto:admin@example.org"])]
    # the restored account renews: no new account appears
    assert cli.drive("--force", "a.example.org")["results"][0]["outcome"] == "activated"
    assert os.listdir(accounts) == [restored["id"]]
    # restored again: the same id, nothing given away (both MDs have it)
    doc = cli.ok("account", "restore", "--key", backup)
    assert doc["restored"][0]["id"] == restored["id"] and doc["restored"][0]["given-to"] == []


def test_restore_of_an_unknown_key(cli, pebble, workdir):
    cli.add("c.example.org", "--key", "p256")
    key = os.path.join(workdir, "other.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key],
                   check=True, capture_output=True)
    rc, doc, out, err = cli.run("account", "restore", "--key", key)
    assert rc == 1 and doc["restored"] == []
    [nf] = doc["not-found"]
    assert nf["ca-url"] == pebble.directory_url and "accountDoesNotExist" in nf["detail"]
    assert "no account of this key at " + pebble.directory_url in err
    rc, doc, out, err = cli.run("account", "restore", "--key", os.path.join(workdir, "missing.pem"))
    assert rc == 1 and "missing.pem: no such file" in err
    rc, doc, out, err = cli.run("account", "restore")
    assert rc == 2 and "--key FILE" in err

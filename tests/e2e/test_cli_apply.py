"""mdomain apply against pebble: a domains file of 5 MDs in mod_md's directives brought into the store and driven, a
name changed (only that MD renewed), an MD removed from the file (reported, then archived with --prune), --dry-run,
and a file with errors (each named by file and line, nothing changed)."""
import json
import os
import subprocess

from certcheck import check_md, load_chain, serial_hex

NAMES = ["one", "two", "three", "four", "five"]


def domains_file(workdir, pebble, mds, extra="", contact="admin@example.org"):
    """The file: the CA and account globally, one MD per entry of mds ({name: [more names]}), sections for some."""
    lines = ["# the MDs of this test", *pebble.md_directives(contact), "MDPrivateKeys P-256", ""]
    for i, (name, more) in enumerate(mds.items()):
        if i % 2:
            lines += ["<MDomain %s.example.org %s>" % (name, " ".join(more)), "    MDRenewWindow 30%", "</MDomain>"]
        else:
            lines += ["MDomain %s.example.org %s" % (name, " ".join(more))]
    path = os.path.join(workdir, "domains.conf")
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n" + extra)
    return path


def actions(doc):
    return {c["name"]: c["action"] for c in doc["changes"]}


def serial(cli, name):
    return serial_hex(load_chain(os.path.join(cli.md_dir(name), "pubcert.p-256.pem"))[0])


def test_apply_drive_change_remove(cli, pebble, workdir):
    mds = {n: [] for n in NAMES}
    path = domains_file(workdir, pebble, mds)
    # dry run: the plan, nothing written
    doc = cli.ok("apply", path, "--dry-run")
    assert doc["dry-run"] is True
    assert actions(doc) == {"%s.example.org" % n: "add" for n in NAMES}
    assert doc["changes"][1]["where"] == path + ":9"
    assert not os.path.exists(os.path.join(cli.store, "domains", "one.example.org"))
    doc = cli.ok("apply", path)
    assert actions(doc) == {"%s.example.org" % n: "add" for n in NAMES}
    md = json.load(open(os.path.join(cli.md_dir("two.example.org"), "md.json")))
    assert md["renew-window"] == "30%" and md["privkey"] == {"type": "EC", "curve": "P-256"}
    assert md["ca"]["urls"] == [pebble.directory_url] and md["contacts"] == ["mailto:admin@example.org"]
    doc = cli.drive()
    assert sorted(r["outcome"] for r in doc["results"]) == ["activated"] * 5
    before = {n: serial(cli, "%s.example.org" % n) for n in NAMES}

    # the same file again: nothing to do; drive asks the CA nothing
    assert set(actions(cli.ok("apply", path)).values()) == {"unchanged"}
    mark = pebble.mark()
    assert set(r["outcome"] for r in cli.drive()["results"]) == {"not-due"}
    assert pebble.requests(since=mark) == []

    # a name added to one MD, a contact changed for all: only the one with the new name is renewed
    mds["three"] = ["www.three.example.org"]
    path = domains_file(workdir, pebble, mds, contact="ops@example.org")
    doc = cli.ok("apply", path)
    changes = {c["name"]: c for c in doc["changes"]}
    assert changes["three.example.org"]["changed"] == ["domains", "contacts"]
    assert changes["three.example.org"]["renew"] is True
    assert changes["one.example.org"]["changed"] == ["contacts"] and changes["one.example.org"]["renew"] is False
    doc = cli.drive()
    outcomes = {r["name"]: r["outcome"] for r in doc["results"]}
    assert outcomes.pop("three.example.org") == "activated"
    assert set(outcomes.values()) == {"not-due"}
    check_md(cli, pebble, workdir, "three.example.org", ["three.example.org", "www.three.example.org"],
             [("privkey.p-256.pem", "pubcert.p-256.pem", "ec")])
    after = {n: serial(cli, "%s.example.org" % n) for n in NAMES}
    assert [n for n in NAMES if after[n] != before[n]] == ["three"]

    # an MD no longer listed: reported and kept; --dry-run --prune shows its removal; --prune archives it
    del mds["five"]
    path = domains_file(workdir, pebble, mds, contact="ops@example.org")
    assert actions(cli.ok("apply", path))["five.example.org"] == "unlisted"
    assert os.path.isdir(cli.md_dir("five.example.org"))
    assert actions(cli.ok("apply", path, "--prune", "--dry-run"))["five.example.org"] == "remove"
    assert os.path.isdir(cli.md_dir("five.example.org"))
    doc = cli.ok("apply", path, "--prune")
    removed = [c for c in doc["changes"] if c["action"] == "remove"]
    assert [c["name"] for c in removed] == ["five.example.org"]
    assert removed[0]["archived-as"].startswith("five.example.org.")
    assert not os.path.exists(cli.md_dir("five.example.org"))
    assert os.path.isfile(os.path.join(cli.store, "archive", removed[0]["archived-as"], "pubcert.p-256.pem"))
    assert sorted(d["name"] for d in cli.ok("list")["domains"]) == sorted("%s.example.org" % n for n in NAMES[:4])


def test_apply_text_output(cli, pebble, workdir):
    path = domains_file(workdir, pebble, {"text": []})
    res = subprocess.run([cli.binary, "-d", cli.store, "apply", path], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    assert res.returncode == 0
    assert res.stdout.splitlines() == [
        "text.example.org: add (%s:8); the next drive obtains its certificates" % path,
        "%s: 1 added" % path]


def test_apply_errors_named_by_file_and_line(cli, pebble, workdir):
    path = domains_file(workdir, pebble, {"ok": []}, extra="\n".join([
        "MDRenewWindow 3x",                       # 9
        "<MDomain bad.example.org>",              # 10
        "    MDPrivateKeys RSA 1024",             # 11
        "    MDCertificateAuthority nope",        # 12
        "    MDRetryFailover 3",                  # 13
        "    ServerName bad.example.org",         # 14
        "</MDomain>",                             # 15
        "MDInstallChain /tmp/chain.pem",          # 16
        "MDomain ok.example.org",                 # 17
        "<MDomain open.example.org>",             # 18
    ]) + "\n")
    rc, doc, out, err = cli.run("apply", path)
    assert rc == 2
    assert doc["status"] == "error"
    for line, text in [
        (9, "MDRenewWindow '3x' has unrecognized format"),
        (11, "MDPrivateKeys 'RSA 1024': RSA key size 1024 must be 2048 or higher"),
        (12, "MDCertificateAuthority 'nope': The CA name 'nope' is not known"),
        (13, "'MDRetryFailover 3': MDRetryFailover is not allowed inside an '<MDomainSet' context"),
        (14, "Invalid command 'ServerName', perhaps misspelled"),
        (16, "'MDInstallChain /tmp/chain.pem': MDInstallChain is only valid inside a '<MDomainSet' context"),
        (17, "the name 'ok.example.org' is in two managed domains"),
        (18, "<MDomain> was not closed"),
    ]:
        assert "%s:%d: %s" % (path, line, text) in err, (line, err)
    assert "8 error(s), nothing changed" in err
    assert not os.path.exists(os.path.join(cli.store, "domains"))
    rc, doc, out, err = cli.run("apply", os.path.join(workdir, "missing.conf"))
    assert rc == 1 and "missing.conf" in err


def test_doc_examples_apply(cli, workdir):
    """Every ```mdomain-conf block of the documentation is a domains file `apply` takes without an error."""
    import glob
    import re
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    blocks = []
    for doc in [os.path.join(repo, "README.md")] + sorted(glob.glob(os.path.join(repo, "docs", "*.md"))):
        with open(doc) as fh:
            blocks += [(doc, m.group(1)) for m in re.finditer(r"^```mdomain-conf\n(.*?)^```$", fh.read(), re.M | re.S)]
    assert blocks
    for i, (doc, text) in enumerate(blocks):
        path = os.path.join(workdir, "doc-%d.conf" % i)
        with open(path, "w") as fh:
            fh.write(text)
        res = subprocess.run([cli.binary, "-d", cli.store, "apply", "--dry-run", path],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert res.returncode == 0 and res.stderr == "", "the domains file in %s: %s" % (doc, res.stderr)

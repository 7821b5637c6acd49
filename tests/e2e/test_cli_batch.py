"""mdomain drive as the periodic batch of a standalone client: install paths with owner and mode, one reload call per
batch naming the renewed MDs (MD_RENEWED), exit 1 while an MD fails or backs off, --json per MD, --jobs."""
import grp
import json
import os
import pwd
import stat


def recorder(workdir, name, fail_first=False):
    """A reload program that appends one JSON line per call ({"renewed", "event", "args"}) to NAME.log; with
    fail_first it exits 1 on its first call."""
    log = os.path.join(workdir, name + ".log")
    prog = os.path.join(workdir, name)
    with open(prog, "w") as f:
        f.write("#!/bin/sh\n"
                "printf '{\"renewed\": \"%%s\", \"event\": \"%%s\", \"args\": \"%%s\"}\\n' \"$MD_RENEWED\" \"$MD_EVENT\" "
                "\"$*\" >> %s\n" % log)
        if fail_first:
            f.write("[ -e %s.failed ] || { touch %s.failed; echo 'cannot reload'; exit 1; }\n" % (prog, prog))
        f.write("exit 0\n")
    os.chmod(prog, 0o755)
    return prog, log


def calls(log):
    if not os.path.exists(log):
        return []
    with open(log) as f:
        return [json.loads(line) for line in f]


def owner():
    """Who the installed files are given: another user when we may chown (root), else ourselves."""
    if os.getuid() == 0:
        return "nobody:nogroup", pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
    return "%d:%d" % (os.getuid(), os.getgid()), os.getuid(), os.getgid()


def by_name(doc):
    return {r["name"]: r for r in doc["results"]}


def test_batch_installs_reloads_once_and_fails_while_backing_off(cli, pebble, workdir):
    reload_prog, log = recorder(workdir, "reload")
    spec, uid, gid = owner()
    for n in ("a", "b"):
        cli.add("%s.example.org" % n, "--key", "p256", "--install-chain", os.path.join(workdir, n + "-chain.pem"),
                "--install-key", os.path.join(workdir, n + "-key.pem"), "--install-mode", "0640",
                "--install-owner", spec, "--install-reload", reload_prog + " --graceful")
    cli.add("c.example.org", "--key", "p256", "--install-reload", reload_prog + " --graceful")
    cli.add("nodns.example.org", "--key", "p256", "--challenge", "dns-01")     # cannot be answered: fails
    md = json.load(open(os.path.join(cli.md_dir("a.example.org"), "md.json")))
    assert md["mdomain"]["install"]["owner"] == spec
    assert md["mdomain"]["install"]["reload"] == [reload_prog, "--graceful"]

    rc, doc, out, err = cli.run("drive", "--http-port", pebble.http_port, "--jobs", "2")
    assert rc == 1, out + err
    res = by_name(doc)
    for n in ("a", "b", "c"):
        r = res["%s.example.org" % n]
        assert (r["outcome"], r["renewed"], r["failed"], r["reload"]) == ("activated", True, False, "ok")
    bad = res["nodns.example.org"]
    assert (bad["outcome"], bad["renewed"], bad["failed"]) == ("failed", False, True)
    assert "no way to answer" in bad["detail"] and "reload" not in bad
    assert doc["workers"] == 2 and doc["max-active"] <= 2
    # one call for the batch, naming the renewed MDs (in the order driven), the program's own arguments kept
    assert calls(log) == [{"renewed": "a.example.org b.example.org c.example.org", "event": "reload",
                           "args": "--graceful"}]
    for n in ("a", "b"):
        chain, key = (os.path.join(workdir, "%s-%s.pem" % (n, f)) for f in ("chain", "key"))
        assert open(chain).read().count("BEGIN CERTIFICATE") >= 2
        st = os.stat(key)
        assert stat.S_IMODE(st.st_mode) == 0o640 and (st.st_uid, st.st_gid) == (uid, gid)
        st = os.stat(chain)
        assert stat.S_IMODE(st.st_mode) == 0o644 and (st.st_uid, st.st_gid) == (uid, gid)

    # nothing due, one MD still backing off after its failure: exit 1, the failure named, no reload
    mark = pebble.mark()
    rc, doc, out, err = cli.run("drive", "--http-port", pebble.http_port)
    assert rc == 1
    res = by_name(doc)
    assert all(res["%s.example.org" % n]["outcome"] == "not-due" for n in ("a", "b", "c"))
    bad = res["nodns.example.org"]
    assert (bad["outcome"], bad["failed"], bad["renewed"]) == ("backing-off", True, False)
    assert bad["detail"].startswith("backing off after 1 failed attempt: no way to answer") and bad["next"]
    assert "mdomain: nodns.example.org: backing off after 1 failed attempt" in err
    assert pebble.requests(since=mark) == []
    assert len(calls(log)) == 1
    # without it, all is fine: exit 0
    cli.ok("remove", "nodns.example.org")
    doc = cli.ok("drive", "--http-port", pebble.http_port, "--jobs", "1")
    assert doc["workers"] == 1 and doc["max-active"] == 1
    assert len(calls(log)) == 1

    # a forced renewal of two: one more call, naming those two
    doc = cli.ok("drive", "--force", "--http-port", pebble.http_port, "b.example.org", "c.example.org")
    assert [r["reload"] for r in doc["results"]] == ["ok", "ok"]
    assert calls(log)[1]["renewed"] == "b.example.org c.example.org"


def test_failed_reload_is_owed_to_the_next_batch(cli, pebble, workdir):
    reload_prog, log = recorder(workdir, "reload", fail_first=True)
    cli.add("owed.example.org", "--key", "p256", "--install-reload", reload_prog)
    rc, doc, out, err = cli.run("drive", "--http-port", pebble.http_port)
    assert rc == 1
    r = doc["results"][0]
    assert (r["outcome"], r["renewed"], r["failed"]) == ("activated", True, True)
    assert "exit 1" in r["reload"] and "cannot reload" in r["reload"]
    assert "cannot reload" in err
    # not due, but the reload is still owed: called again, and now it works
    doc = cli.drive()
    r = doc["results"][0]
    assert (r["outcome"], r["renewed"], r["failed"], r["reload"]) == ("not-due", False, False, "ok")
    assert [c["renewed"] for c in calls(log)] == ["owed.example.org", "owed.example.org"]
    # paid: the next batch calls nobody
    cli.drive()
    assert len(calls(log)) == 2


def test_install_options_checked(cli, workdir):
    rc, doc, out, err = cli.run("add", "x.example.org", "--install-owner", "no-such-user-here")
    assert rc == 2 and "no such user 'no-such-user-here'" in err
    rc, doc, out, err = cli.run("add", "x.example.org", "--install-reload", os.path.join(workdir, "missing"))
    assert rc == 2 and "not an executable program" in err
    rc, doc, out, err = cli.run("drive", "--jobs", "0")
    assert rc == 2 and "--jobs" in err


def test_domains_file_reload_and_owner(cli, pebble, workdir):
    """apply's MDInstallReload (global: one program for all MDs) and MDInstallOwner, then one reload call per batch."""
    reload_prog, log = recorder(workdir, "reload")
    spec, uid, gid = owner()
    lines = ["MDCertificateAuthority %s" % pebble.directory_url, "MDCACertificateFile %s" % pebble.ca_file,
             "MDCertificateAgreement accepted", "MDPrivateKeys P-256", "MDInstallOwner %s" % spec,
             "MDInstallReload %s --graceful" % reload_prog]
    for n in ("f1", "f2"):
        lines += ["<MDomain %s.example.org>" % n, "  MDInstallChain %s" % os.path.join(workdir, n + "-chain.pem"),
                  "  MDInstallKey %s" % os.path.join(workdir, n + "-key.pem"), "</MDomain>"]
    path = os.path.join(workdir, "domains.conf")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    cli.ok("apply", path)
    md = json.load(open(os.path.join(cli.md_dir("f2.example.org"), "md.json")))
    assert md["mdomain"]["install"]["owner"] == spec and md["mdomain"]["install"]["reload"] == [reload_prog, "--graceful"]
    doc = cli.drive()
    assert [r["reload"] for r in doc["results"]] == ["ok", "ok"]
    assert calls(log) == [{"renewed": "f1.example.org f2.example.org", "event": "reload", "args": "--graceful"}]
    st = os.stat(os.path.join(workdir, "f2-key.pem"))
    assert (st.st_uid, st.st_gid) == (uid, gid)
    # the same file again: unchanged; an owner nobody has: named with its line
    assert {c["action"] for c in cli.ok("apply", path)["changes"]} == {"unchanged"}
    with open(path, "a") as f:
        f.write("MDInstallOwner no-such-user-here\n")
    rc, doc, out, err = cli.run("apply", path)
    assert rc == 2 and "%s:%d: MDInstallOwner 'no-such-user-here': no such user 'no-such-user-here'" % (
        path, len(lines) + 1) in err, err

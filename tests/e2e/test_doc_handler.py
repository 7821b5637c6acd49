"""The example event handler of docs/events.md works as documented: the ```sh md-handler block is taken from the
page, checked with `sh -n` (and shellcheck, where installed), and run for every event with stand-ins for scp, ssh,
curl, nsupdate, dig, logger and mail on PATH that record their calls; its settings are the page's example file.
Last, mdomain itself calls it through the dispatcher (MDNAME after the event, its fixed arguments before)."""
import json
import os
import re
import shutil
import subprocess

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EVENTS_MD = os.path.join(REPO, "docs", "events.md")
MD = "example.org"
TOKEN = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
KEYAUTH = TOKEN + ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
TXT = "4rGzAlDFkhL4JkP6jSGk3z_QyNVFIHxzUHNzsKxWyWA"
STUBS = ("scp", "ssh", "curl", "nsupdate", "dig", "logger", "mail")

# One stand-in for all tools, installed under each name: records {"cmd", "args"} (scp: the copied file's content
# and mode; nsupdate and mail: their input) in STUB_DIR/calls.jsonl, answers from STUB_DIR/ctl: "served" is what
# curl gets (none: 404, exit 22), "dig-SERVER" what dig prints for @SERVER, "rc-NAME" another tool's exit code.
STUB = r'''#!/usr/bin/python3
import json, os, sys
name, args, d = os.path.basename(sys.argv[0]), sys.argv[1:], os.environ["STUB_DIR"]
rec = {"cmd": name, "args": args}
if name in ("nsupdate", "mail"):
    rec["stdin"] = sys.stdin.read()
if name == "scp":
    with open(args[-2]) as f:
        rec["content"] = f.read()
    rec["mode"] = "%o" % (os.stat(args[-2]).st_mode & 0o777)
with open(os.path.join(d, "calls.jsonl"), "a") as f:
    f.write(json.dumps(rec) + "\n")

def ctl(n):
    try:
        with open(os.path.join(d, "ctl", n)) as f:
            return f.read()
    except OSError:
        return None

if name == "curl":
    served = ctl("served")
    if served is None:
        sys.stderr.write("curl: (22) The requested URL returned error: 404\n")
        sys.exit(22)
    sys.stdout.write(served)
elif name == "dig":
    sys.stdout.write(ctl("dig-" + [a[1:] for a in args if a.startswith("@")][0]) or "")
sys.exit(int(ctl("rc-" + name) or 0))
'''


def doc_block(info, first=""):
    """The fenced code block of events.md with that info string whose first line starts with first, unfenced."""
    with open(EVENTS_MD, encoding="utf-8") as f:
        text = f.read()
    for m in re.finditer(r"^```([^\n]*)\n(.*?)^```$", text, re.S | re.M):
        if m.group(1).strip() == info and m.group(2).startswith(first):
            return m.group(2)
    pytest.fail("docs/events.md has no ```%s block starting with %r" % (info, first))


def handler_text():
    return doc_block("sh md-handler")


class Rig:
    """The handler from the page in a directory of its own, its settings, the stand-ins and their records."""

    def __init__(self, base):
        self.dir = str(base)
        self.bin, self.ctl, self.conf = (os.path.join(self.dir, d) for d in ("bin", "ctl", "conf"))
        self.tmp, self.store = os.path.join(self.dir, "tmp"), os.path.join(self.dir, "store")
        for d in (self.bin, self.ctl, self.conf, self.tmp, self.store):
            os.makedirs(d)
        self.handler = os.path.join(self.dir, "md-handler")
        with open(self.handler, "w") as f:
            f.write(handler_text())
        os.chmod(self.handler, 0o755)
        for name in STUBS:
            path = os.path.join(self.bin, name)
            with open(path, "w") as f:
                f.write(STUB)
            os.chmod(path, 0o755)
        self.key = os.path.join(self.dir, "dns01.key")
        with open(self.key, "w") as f:
            f.write('key "dns01" { algorithm hmac-sha256; secret "c2VjcmV0"; };\n')
        conf = doc_block("sh", "# /etc/md-handler/example.org.conf")
        assert "DNS_KEY=/etc/md-handler/dns01.key" in conf
        self.write_conf(MD, conf.replace("/etc/md-handler/dns01.key", self.key))
        self.calls_file = os.path.join(self.dir, "calls.jsonl")

    def write_conf(self, md, text):
        with open(os.path.join(self.conf, md + ".conf"), "w") as f:
            f.write(text)

    def env(self):
        return {"PATH": self.bin + ":/usr/bin:/bin", "STUB_DIR": self.dir, "TMPDIR": self.tmp, "LANG": "C",
                "MD_STORE": self.store, "MD_VERSION": "test"}

    def run(self, event, md=MD, *args):
        """Run `md-handler -c CONF EVENT MD ARGS...` as the dispatcher would; (exit code, output)."""
        if os.path.exists(self.calls_file):
            os.remove(self.calls_file)
        env = dict(self.env(), MD_MDOMAIN=md, MD_EVENT=event)
        res = subprocess.run([self.handler, "-c", self.conf, event, md] + list(args), env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=60)
        return res.returncode, res.stdout

    def calls(self, cmd=None):
        if not os.path.exists(self.calls_file):
            return []
        with open(self.calls_file) as f:
            calls = [json.loads(line) for line in f]
        return [c for c in calls if cmd is None or c["cmd"] == cmd]

    def set(self, name, value):
        path = os.path.join(self.ctl, name)
        if value is None:
            if os.path.exists(path):
                os.remove(path)
            return
        with open(path, "w") as f:
            f.write(value)


@pytest.fixture
def rig(tmp_path):
    return Rig(tmp_path)


def test_the_page_has_the_handler_and_it_parses(rig):
    text = handler_text()
    assert text.startswith("#!/bin/sh\n") and "md-handler" in text.splitlines()[1]
    res = subprocess.run(["sh", "-n", rig.handler], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert res.returncode == 0, res.stdout


def test_shellcheck(rig):
    assert shutil.which("shellcheck"), "shellcheck is missing: scripts/install-deps installs it"
    res = subprocess.run(["shellcheck", "-s", "sh", rig.handler], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    assert res.returncode == 0, res.stdout


# ---------------------------------------------------------------------------------------------- remote http-01

WEB_HOSTS = ["acme@web1.example.org", "acme@web2.example.org"]
WEB_FILE = "/var/www/.well-known/acme-challenge/" + TOKEN
URL = "http://www.example.org/.well-known/acme-challenge/" + TOKEN


def test_http_setup_copies_to_each_host_and_is_served(rig):
    rig.set("served", KEYAUTH)
    rc, out = rig.run("setup-http-01", MD, "www.example.org", TOKEN, KEYAUTH)
    assert rc == 0, out
    scps = rig.calls("scp")
    assert [c["args"][-1] for c in scps] == [h + ":" + WEB_FILE for h in WEB_HOSTS]
    for c in scps:
        assert c["args"][:7] == ["-q", "-o", "BatchMode=yes", "-o", "ConnectTimeout=20", "-i",
                                 "/etc/md-handler/id_ed25519"]
        assert c["content"] == KEYAUTH and c["mode"] == "644"       # the web server must read it
    assert [c["args"][-1] for c in rig.calls("curl")] == [URL]
    assert os.listdir(rig.tmp) == []                                   # its temporary file is gone


def test_http_setup_not_yet_served_needs_poll(rig):
    rc, out = rig.run("setup-http-01", MD, "www.example.org", TOKEN, KEYAUTH)
    assert rc == 76, out
    assert "not yet served" in out and len(rig.calls("scp")) == 2
    rig.set("served", "something else")
    assert rig.run("setup-http-01", MD, "www.example.org", TOKEN, KEYAUTH)[0] == 76


def test_http_setup_scp_failure_is_retried(rig):
    rig.set("rc-scp", "1")
    rc, out = rig.run("setup-http-01", MD, "www.example.org", TOKEN, KEYAUTH)
    assert rc == 75 and "scp to acme@web1.example.org failed" in out, out
    assert len(rig.calls("scp")) == 1 and rig.calls("curl") == []
    assert os.listdir(rig.tmp) == []


def test_http_poll(rig):
    rc, out = rig.run("poll-setup-http-01", MD, "www.example.org", TOKEN, KEYAUTH)
    assert rc == 76 and "not yet served" in out, out
    rig.set("served", KEYAUTH)
    rc, out = rig.run("poll-setup-http-01", MD, "www.example.org", TOKEN, KEYAUTH)
    assert rc == 0, out
    assert [c["cmd"] for c in rig.calls()] == ["curl"]                # a poll copies nothing


def test_http_teardown_removes_the_file_on_each_host(rig):
    rc, out = rig.run("teardown-http-01", MD, "www.example.org", TOKEN)
    assert rc == 0, out
    sshs = rig.calls("ssh")
    assert [c["args"][-5:] for c in sshs] == [[h, "rm", "-f", "--", WEB_FILE] for h in WEB_HOSTS]
    rig.set("rc-ssh", "255")
    rc, out = rig.run("teardown-http-01", MD, "www.example.org", TOKEN)
    assert rc == 75 and len(rig.calls("ssh")) == 2, out               # both hosts are tried


def test_http_configuration_errors(rig):
    rc, out = rig.run("setup-http-01", "other.example", "other.example", TOKEN, KEYAUTH)
    assert rc == 1 and "no settings for the MD other.example" in out, out
    rc, out = rig.run("setup-http-01", MD, "www.example.org", "../../etc/passwd", KEYAUTH)
    assert rc == 1 and "is not an ACME token" in out, out
    rc, out = rig.run("setup-http-01", MD, "www.example.org", TOKEN)
    assert rc == 1 and "3 arguments after MDNAME expected" in out, out
    rig.write_conf("nohosts.example", "DNS_SERVER=ns1.example.org\n")
    rc, out = rig.run("setup-http-01", "nohosts.example", "nohosts.example", TOKEN, KEYAUTH)
    assert rc == 1 and "WEB_HOSTS is not set" in out, out
    assert rig.calls() == []


# ---------------------------------------------------------------------------------------------- dns-01

RECORD = "_acme-challenge.example.org."


def dig_args(server):
    return ["+short", "+norecurse", "+time=5", "+tries=1", "@" + server, RECORD, "TXT"]


def test_dns_setup_adds_the_value_and_checks_every_server(rig):
    rig.set("dig-ns1.example.org", '"other-value"\n"%s"\n' % TXT)
    rig.set("dig-ns2.example.org", '"%s"\n' % TXT)
    rc, out = rig.run("setup", MD, "example.org", TXT)
    assert rc == 0, out
    [upd] = rig.calls("nsupdate")
    assert upd["args"] == ["-k", rig.key]
    assert upd["stdin"] == 'server ns1.example.org\nupdate add %s 60 IN TXT "%s"\nsend\n' % (RECORD, TXT)
    assert [c["args"] for c in rig.calls("dig")] == [dig_args("ns1.example.org"), dig_args("ns2.example.org")]


def test_dns_setup_not_yet_everywhere_needs_poll(rig):
    rig.set("dig-ns1.example.org", '"%s"\n' % TXT)
    rc, out = rig.run("setup", MD, "example.org", TXT)
    assert rc == 76 and "not yet on ns2.example.org" in out, out
    assert len(rig.calls("nsupdate")) == 1


def test_dns_poll(rig):
    rig.set("dig-ns1.example.org", '"%s"\n' % TXT)
    rc, out = rig.run("poll-setup", MD, "example.org", TXT)
    assert rc == 76, out
    rig.set("dig-ns2.example.org", '"%s"\n' % TXT)
    rc, out = rig.run("poll-setup", MD, "example.org", TXT)
    assert rc == 0, out
    assert [c["cmd"] for c in rig.calls()] == ["dig", "dig"]          # a poll changes nothing


def test_dns_teardown_deletes_the_one_value(rig):
    rc, out = rig.run("teardown", MD, "example.org", TXT)
    assert rc == 0, out
    [upd] = rig.calls("nsupdate")
    assert upd["stdin"] == 'server ns1.example.org\nupdate delete %s IN TXT "%s"\nsend\n' % (RECORD, TXT)
    assert rig.calls("dig") == []


def test_dns_failures(rig):
    rig.set("rc-nsupdate", "1")          # refused, or the server could not be reached
    rc, out = rig.run("setup", MD, "example.org", TXT)
    assert rc == 75 and "refused the update or could not be reached" in out, out
    rig.set("rc-nsupdate", "2")          # nsupdate's own trouble: the key file, its input
    assert rig.run("teardown", MD, "example.org", TXT)[0] == 1
    rig.set("rc-nsupdate", None)
    os.remove(rig.key)
    rc, out = rig.run("setup", MD, "example.org", TXT)
    assert rc == 1 and "cannot read the TSIG key" in out, out
    assert rig.calls("nsupdate") == []
    rc, out = rig.run("setup", MD, "example.org", "bad value")
    assert rc == 1 and "is not a dns-01 TXT value" in out, out


# ---------------------------------------------------------------------------------------------- messages

def test_renewed_logs_and_mails(rig):
    rc, out = rig.run("renewed", MD)
    assert rc == 0, out
    [log] = rig.calls("logger")
    assert log["args"] == ["-t", "md-handler", "-p", "user.notice", "--", "example.org: certificates renewed"]
    [mail] = rig.calls("mail")
    assert mail["args"] == ["-s", "example.org: certificates renewed", "hostmaster@example.org"]
    assert "were renewed (store %s)" % rig.store in mail["stdin"]


def test_renewed_mail_failure_is_retried(rig):
    rig.set("rc-mail", "1")
    rc, out = rig.run("renewed", MD)
    assert rc == 75 and "cannot send mail to hostmaster@example.org" in out, out


def test_expiring(rig):
    rc, out = rig.run("expiring", MD)
    assert rc == 0, out
    assert rig.calls("logger")[0]["args"][3:] == ["user.warning", "--", "example.org: a certificate expires soon"]
    assert "mdomain -d %s show example.org" % rig.store in rig.calls("mail")[0]["stdin"]


def test_errored_mails_the_job(rig):
    job = os.path.join(rig.store, "staging", MD, "job.json")
    os.makedirs(os.path.dirname(job))
    with open(job, "w") as f:
        json.dump({"name": MD, "errors": 1, "last": {"status": 111, "detail": "the CA is not reachable"}}, f)
    rc, out = rig.run("errored", MD)
    assert rc == 0, out
    assert rig.calls("logger")[0]["args"][3:] == ["user.err", "--", "example.org: renewal failed"]
    body = rig.calls("mail")[0]["stdin"]
    assert job in body and "the CA is not reachable" in body


def test_messages_without_settings_go_to_syslog_only(rig):
    for event in ("renewed", "expiring", "errored"):
        rc, out = rig.run(event, "other.example")
        assert rc == 0, out
        assert [c["cmd"] for c in rig.calls()] == ["logger"]


@pytest.mark.parametrize("event", ["renewing", "installed", "challenge-setup:dns-01:example.org",
                                   "challenge-setup:http-01:www.example.org", "ocsp-renewed", "some-future-event"])
def test_other_events_are_answered_with_0(rig, event):
    rc, out = rig.run(event, MD)
    assert rc == 0 and out == "" and rig.calls() == []


def test_usage(rig):
    res = subprocess.run([rig.handler], env=rig.env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    assert res.returncode == 1 and "usage: md-handler" in res.stdout


# ---------------------------------------------------------------------------------------------- the dispatcher

def test_mdomain_calls_it(rig, md_build):
    """`mdomain add --event-handler ... --event-arg -c --event-arg DIR`, then a drive against a CA that is not
    there: the handler is called as `md-handler -c DIR renewing example.org` (answered 0, so the attempt goes on)
    and, when the attempt failed, `... errored example.org`, which mails the job with the reason."""
    mdomain = os.path.join(md_build, "mdomain")
    base = [mdomain, "-d", rig.store]
    res = subprocess.run(base + ["-a", "https://127.0.0.1:1/dir", "-t", "accepted", "add", MD,
                                 "--event-handler", rig.handler, "--event-arg", "-c", "--event-arg", rig.conf],
                         env=rig.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    assert res.returncode == 0, res.stdout
    res = subprocess.run(base + ["-v", "drive"], env=rig.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=120)
    assert res.returncode == 1, res.stdout
    assert "[event] event handler renewing example.org: exit 0" in res.stdout
    assert "[event] event handler errored example.org: exit 0" in res.stdout
    [mail] = rig.calls("mail")
    assert mail["args"] == ["-s", "example.org: renewal failed", "hostmaster@example.org"]
    assert os.path.join(rig.store, "staging", MD, "job.json") in mail["stdin"]
    assert "127.0.0.1" in mail["stdin"]                                # the job's "last" names the CA it missed

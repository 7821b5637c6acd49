"""mod_mdomain's MDMessageCmd / MDNotifyCmd events with real apache2 and pebble: every reason with its exact
arguments and environment (a recording program as the command), renewing postpones, challenge-setup aborts,
renewed and notify repeated until they exit 0 (also across a restart), installed as root at the next start,
expiring at most daily and errored at most hourly; and several MDs driven in parallel by the watchdog."""
import json
import os
import pwd
import re

from rig.proc import wait_until

import test_module_more as more

NAME = "test.example.org"

# The recording program: `rec.py LABEL [REASON] MDNAME`. It appends one JSON line per call to LOG (argv, uid,
# the MD_* environment, its exit code) and exits with the number in CTL/LABEL-REASONKIND (or CTL/LABEL),
# 0 when there is none. With CTL/barrier, a "renewing" call waits (up to 20 s) until a second renewing call
# has started: sequential drives would never get there, parallel ones pass at once.
RECORDER = r'''#!/usr/bin/python3
import fcntl, json, os, sys, time
LOG, CTL = %(log)r, %(ctl)r
args = sys.argv[1:]
label, reason = args[0], (args[1] if len(args) > 2 else "")
kind = reason.split(":")[0]

def code():
    for name in ("%%s-%%s" %% (label, kind), label):
        try:
            with open(os.path.join(CTL, name)) as f:
                return int(f.read().strip() or "0")
        except OSError:
            pass
    return 0

def log(rec):
    with open(LOG, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.write(json.dumps(rec) + "\n")

def started():
    with open(LOG) as f:
        return sum(1 for l in f if json.loads(l).get("begin") == "renewing")

if kind == "renewing" and os.path.exists(os.path.join(CTL, "barrier")):
    log({"begin": "renewing", "md": args[-1]})
    deadline = time.time() + 20
    while started() < 2 and time.time() < deadline:
        time.sleep(0.05)
rc = code()
log({"argv": args, "uid": os.getuid(), "rc": rc,
     "env": {k: os.environ.get(k) for k in ("MD_STORE", "MD_VERSION", "MD_MDOMAIN")}})
sys.exit(rc)
'''


class Recorder:
    """The recording program in the test's directory, its call log and its exit-code control files."""

    def __init__(self, workdir):
        self.log = os.path.join(workdir, "events.log")
        self.ctl = os.path.join(workdir, "ctl")
        self.path = os.path.join(workdir, "rec.py")
        os.makedirs(self.ctl, exist_ok=True)
        os.chmod(self.ctl, 0o755)
        with open(self.log, "w"):
            pass
        os.chmod(self.log, 0o666)
        with open(self.path, "w") as f:
            f.write(RECORDER % {"log": self.log, "ctl": self.ctl})
        os.chmod(self.path, 0o755)

    def set_exit(self, name, code):
        with open(os.path.join(self.ctl, name), "w") as f:
            f.write("%d\n" % code)

    def entries(self):
        with open(self.log) as f:
            return [json.loads(line) for line in f if line.strip()]

    def calls(self, *argv_prefix):
        """The recorded calls (begin markers excluded) whose argv starts with argv_prefix."""
        n = len(argv_prefix)
        return [e for e in self.entries() if "argv" in e and tuple(e["argv"][:n]) == argv_prefix]


def configure(httpd, pebble, mod_path, workdir, rec, names, *lines):
    """The module tests' common configuration, a 1 s check interval, the recorder as MDMessageCmd, and an
    https virtual host per name; returns the store directory."""
    https_port, store = more.configure(httpd, pebble, mod_path, workdir, "MDCheckInterval 1s",
                                       "MDMessageCmd %s msg" % rec.path, *lines)
    for name in names:
        httpd.add_config("MDomain %s" % name)
        httpd.add_vhost(more.ssl_vhost(https_port, name))
    return store


def watchdog_runs(httpd):
    return len(re.findall(r"renewal watchdog: \d+ MDs looked at", httpd.error_log_text()))


def wait_runs(httpd, n):
    """Wait until the watchdog has looked at the MDs n more times (evidence that time passed, not a timer)."""
    start = watchdog_runs(httpd)
    wait_until(lambda: watchdog_runs(httpd) >= start + n, 30, what="%d more watchdog runs" % n)


def test_events_renewal_cycle(httpd, pebble_factory, mod_path, workdir):
    pebble = pebble_factory(http_port=httpd.port)
    rec = Recorder(workdir)
    store = configure(httpd, pebble, mod_path, workdir, rec, [NAME],
                      "MDNotifyCmd %s notify" % rec.path, "MDWarnWindow 36500d")
    rec.set_exit("msg-renewed", 1)
    rec.set_exit("notify", 3)
    www = pwd.getpwnam("www-data").pw_uid
    httpd.start()

    # renewing, then challenge-setup, from the child (www-data), with the environment
    wait_until(lambda: len(rec.calls("msg", "renewed")) >= 2 and len(rec.calls("notify")) >= 2, 60,
               what="renewed and notify repeated while they fail")
    renewing = rec.calls("msg", "renewing")
    assert renewing and renewing[0]["argv"] == ["msg", "renewing", NAME]
    assert renewing[0]["uid"] == www
    assert renewing[0]["env"] == {"MD_STORE": store, "MD_VERSION": renewing[0]["env"]["MD_VERSION"],
                                  "MD_MDOMAIN": NAME}
    assert re.match(r"^\d+\.\d+\.\d+", renewing[0]["env"]["MD_VERSION"])
    setup = rec.calls("msg", "challenge-setup:http-01:%s" % NAME)
    assert len(setup) == 1 and setup[0]["argv"] == ["msg", "challenge-setup:http-01:%s" % NAME, NAME]
    assert rec.calls("notify")[0]["argv"] == ["notify", NAME] and rec.calls("notify")[0]["rc"] == 3
    order = [e["argv"][1] for e in rec.calls("msg")]
    assert order[:3] == ["renewing", "challenge-setup:http-01:%s" % NAME, "renewed"]
    assert "MDMessageCmd renewed %s: exit 1" % NAME in httpd.error_log_text()
    assert "MDNotifyCmd %s: exit 3" % NAME in httpd.error_log_text()
    assert os.path.exists(os.path.join(store, "events", NAME + ".json"))

    # renewed acknowledged: called once more with 0, then never again
    rec.set_exit("msg-renewed", 0)
    # the parent's live activation may take the MD's lease meanwhile: the child then looks again at the lease's
    # end, up to 60 s later
    wait_until(lambda: any(c["rc"] == 0 for c in rec.calls("msg", "renewed")), 90, what="renewed exiting 0")
    n_renewed = len(rec.calls("msg", "renewed"))
    wait_runs(httpd, 2)
    assert len(rec.calls("msg", "renewed")) == n_renewed
    assert not rec.calls("msg", "expiring")

    # installed once, in the parent, as root: by the live activation (the parent's look every 10 s, which may
    # come any time now) or at the latest by a new start (stop, start: the first configuration pass activates);
    # notify (still failing) goes on in the new child
    n_notify = len(rec.calls("notify"))
    httpd.stop()
    httpd.start()
    installed = rec.calls("msg", "installed")
    assert len(installed) == 1 and installed[0]["argv"] == ["msg", "installed", NAME] and installed[0]["uid"] == 0
    assert installed[0]["env"]["MD_MDOMAIN"] == NAME
    wait_until(lambda: len(rec.calls("notify")) > n_notify, 30, what="notify retried after the restart")
    rec.set_exit("notify", 0)
    wait_until(lambda: any(c["rc"] == 0 for c in rec.calls("notify")), 30, what="notify exiting 0")
    n_notify = len(rec.calls("notify"))

    # the certificate is inside MDWarnWindow: expiring once, however many watchdog runs follow
    wait_until(lambda: rec.calls("msg", "expiring"), 30, what="expiring")
    wait_runs(httpd, 3)
    expiring = rec.calls("msg", "expiring")
    assert len(expiring) == 1 and expiring[0]["argv"] == ["msg", "expiring", NAME]
    assert len(rec.calls("notify")) == n_notify
    assert len(rec.calls("msg", "renewed")) == n_renewed
    assert not rec.calls("msg", "errored")

    # the daily limit survives a (graceful) restart too
    httpd.graceful_restart()
    wait_runs(httpd, 2)
    assert len(rec.calls("msg", "expiring")) == 1
    assert len(rec.calls("msg", "installed")) == 1


def test_events_postpone_abort_errored(httpd, pebble_factory, mod_path, workdir):
    pebble = pebble_factory(http_port=httpd.port)
    rec = Recorder(workdir)
    store = configure(httpd, pebble, mod_path, workdir, rec, [NAME])
    rec.set_exit("msg-renewing", 1)
    httpd.start()

    # renewing says no: postponed, again and again, and the CA never hears of it
    wait_until(lambda: len(rec.calls("msg", "renewing")) >= 3, 30, what="renewing asked three times")
    assert pebble.count_requests(path_prefix="/order-plz") == 0
    assert pebble.count_requests(method="POST") == 0
    # in mod_md's words (the job's last, AH10109), the call with its output in the dispatcher's own line
    assert ("renewal postponed: MDMessageCmd %s msg failed with exit code 1." % rec.path) in httpd.error_log_text()
    assert "MDMessageCmd renewing %s: exit 1" % NAME in httpd.error_log_text()
    assert not rec.calls("msg", "errored")

    # renewing agrees, challenge-setup refuses: each attempt fails before the CA is told; one errored
    rec.set_exit("msg-challenge-setup", 2)
    rec.set_exit("msg-renewing", 0)
    wait_until(lambda: len(rec.calls("msg", "challenge-setup:http-01:%s" % NAME)) >= 3, 40,
               what="three attempts aborted by challenge-setup")
    wait_runs(httpd, 1)
    assert pebble.count_requests(path_prefix="/order-plz") == 1      # the later attempts resume the order
    assert pebble.count_requests(path_prefix="/authZ/") >= 3
    assert pebble.count_requests(path_prefix="/chalZ/") == 0         # no challenge was ever answered
    assert ("challenge-setup:http-01:%s refused: MDMessageCmd %s msg failed with exit code 2." % (NAME, rec.path)
            in httpd.error_log_text())
    errored = rec.calls("msg", "errored")
    assert len(errored) == 1 and errored[0]["argv"] == ["msg", "errored", NAME]
    assert not os.path.exists(os.path.join(store, "staging", NAME, "pubcert.secp256r1.pem"))
    assert not rec.calls("msg", "renewed")


def test_parallel_drives(httpd, pebble_factory, mod_path, workdir):
    pebble = pebble_factory(http_port=httpd.port)
    rec = Recorder(workdir)
    names = ["p%d.example.org" % i for i in range(10)]
    store = configure(httpd, pebble, mod_path, workdir, rec, names)
    with open(os.path.join(rec.ctl, "barrier"), "w"):
        pass
    httpd.start()

    def renewed(name):      # staged, or already activated by the parent (live activation, within seconds)
        return any(os.path.exists(os.path.join(store, group, name, "pubcert.secp256r1.pem"))
                   for group in ("staging", "domains"))
    wait_until(lambda: all(renewed(n) for n in names) and len(rec.calls("msg", "renewed")) == 10, 90,
               what="10 renewed MDs")
    # overlap without a clock: a renewing call waits for a second one to start, so with sequential drives the
    # first call would end (after 20 s) before any other began
    entries = rec.entries()
    begins = [i for i, e in enumerate(entries) if e.get("begin") == "renewing"]
    ends = [i for i, e in enumerate(entries) if e.get("argv", [None, None])[1] == "renewing"]
    assert len(begins) == 10 and len(ends) == 10
    assert begins[1] < ends[0], "the second renewing call began only after the first ended"
    # the run's summary comes after its workers are done
    runs = wait_until(lambda: [int(m) for m in re.findall(r"renewal watchdog: 10 MDs looked at by \d+ workers, "
                                                          r"at most (\d+) at the same time", httpd.error_log_text())],
                      30, what="the summary of the first watchdog run")
    assert max(runs) > 1
    assert sorted(c["argv"][2] for c in rec.calls("msg", "renewed")) == sorted(names)
    # the parent activates each within seconds, a graceful restart (one configuration pass) those left: installed
    # once for each, as root
    httpd.graceful_restart()
    wait_until(lambda: len(rec.calls("msg", "installed")) >= 10, 30, what="10 installed MDs")
    installed = rec.calls("msg", "installed")
    assert sorted(c["argv"][2] for c in installed) == sorted(names)
    assert {c["uid"] for c in installed} == {0}
    # one account for all of them: the drives shared the ACME client
    assert pebble.count_requests(path_prefix="/sign-me-up") == 1

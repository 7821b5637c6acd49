"""mod_mdomain's renewal runs go on in threads of their own, with waits for the CA kept in the run: while one MD's
drive is held up (its `renewing` program does not return), another MD that waits (a response delay) is driven again
at its time and renewed, and a renewal request (mdomain renew --force) for a third MD is picked up and answered.
With the watchdog's old passes, both waited for the held drive's pass to end."""
import json
import os
import subprocess

from rig.proc import wait_until

from test_module_more import configure, ssl_vhost

HELD = "held.example.org"
WAITS = "waits.example.org"
ASKED = "asked.example.org"

# MDMessageCmd: `hold.py REASON MDNAME`. Its "renewing" of HELD logs "held", waits until CTL/release exists (at
# most 90 s), then logs "released" or "timeout"; every call is logged as "REASON MDNAME".
HOLD = r'''#!/usr/bin/python3
import os, sys, time
LOG, RELEASE, HELD = %(log)r, %(release)r, %(held)r
reason, name = sys.argv[1], sys.argv[-1]

def log(line):
    with open(LOG, "a") as f:
        f.write(line + "\n")

log("%%s %%s" %% (reason, name))
if reason == "renewing" and name == HELD:
    log("held")
    deadline = time.time() + 90
    while not os.path.exists(RELEASE) and time.time() < deadline:
        time.sleep(0.05)
    log("released" if os.path.exists(RELEASE) else "timeout")
'''


def renewed(httpd, name):
    """The module said the MD's certificates were renewed (staged; the parent then activates them)."""
    return ("%s: the certificates have been renewed" % name) in httpd.error_log_text()


def test_held_drive_holds_up_nothing_else(httpd, pebble_factory, mod_path, workdir, md_build):
    pebble = pebble_factory(http_port=httpd.port)
    log, release = os.path.join(workdir, "hold.log"), os.path.join(workdir, "release")
    prog = os.path.join(workdir, "hold.py")
    with open(prog, "w") as f:
        f.write(HOLD % {"log": log, "release": release, "held": HELD})
    os.chmod(prog, 0o755)
    open(log, "w").close()
    os.chmod(log, 0o666)
    os.chmod(workdir, 0o755)
    https_port, store = configure(httpd, pebble, mod_path, workdir, "MDCheckInterval 1s",
                                  "MDMessageCmd %s" % prog, "MDomain %s" % HELD, "MDomain %s" % ASKED,
                                  "<MDomain %s>\n  MDChallengeResponseDelay http-01=1\n</MDomain>" % WAITS)
    for name in (HELD, WAITS, ASKED):
        httpd.add_vhost(ssl_vhost(https_port, name))
    httpd.start()

    def lines():
        with open(log) as f:
            return f.read().split("\n")

    wait_until(lambda: "held" in lines(), 60, what="the held drive")
    # the MD with the response delay: driven again at its time while the held drive goes on
    wait_until(lambda: renewed(httpd, WAITS) and renewed(httpd, ASKED), 60, what="the other MDs renewed")
    assert "renewal under way, going on in" in httpd.error_log_text()
    # a forced renewal of another MD is picked up and answered meanwhile
    cli = os.path.join(md_build, "mdomain")
    res = subprocess.run([cli, "-d", store, "renew", "--force", ASKED, "--json"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["results"][0]["outcome"] in ("staged", "activated"), res.stdout
    assert "released" not in lines() and "timeout" not in lines()
    assert not renewed(httpd, HELD)
    # let it go: it is renewed as well
    open(release, "w").close()
    wait_until(lambda: renewed(httpd, HELD), 60, what="the held MD renewed")
    assert "released" in lines()
    assert "exit signal" not in httpd.error_log_text()

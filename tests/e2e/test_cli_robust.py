"""mdomain under stress: many issuances with pebble rejecting nonces, and a drive killed in the middle of its order."""
import json
import os
import re
import signal
import subprocess

import pytest

from certcheck import check_md, stray_files
from rig.dnshook import write_dns_hook
from rig.mdcli import MdCli
from rig.proc import wait_until, write_program


@pytest.mark.timeout(600)
def test_100_issuances_with_nonce_rejects(md_build, workdir, pebble_factory):
    pebble = pebble_factory(nonce_reject=15)
    cli = MdCli(os.path.join(md_build, "mdomain"), os.path.join(workdir, "store"), pebble)
    names = ["n%03d.example.org" % i for i in range(100)]
    for name in names:
        cli.add(name, "--key", "p256")
    doc = cli.drive(timeout=540)
    outcomes = [r["outcome"] for r in doc["results"]]
    assert outcomes == ["activated"] * 100
    for name in names[::10]:
        check_md(cli, pebble, workdir, name, [name], [("privkey.secp256r1.pem", "pubcert.secp256r1.pem", "ec")])
    assert stray_files(cli.store) == []


GATED_HOOK = """#!/bin/sh
# the dns-01 hook, held at its first setup until the test opens the gate: the drive is then surely in the middle
echo "$*" >> %(log)s
if [ "$1" = setup ] && [ ! -e %(gate)s ]; then
    : > %(held)s
    while [ ! -e %(gate)s ]; do sleep 0.05; done
fi
exec %(hook)s "$@"
"""


def _job_orders(cli, name):
    with open(os.path.join(cli.store, "staging", name, "job.json")) as f:
        return json.load(f).get("mdomain", {}).get("orders", {})


def test_kill_9_then_resume(md_build, workdir, pebble):
    """A drive killed (SIGKILL, with its hook) in the middle of its order resumes that order: the next drive makes
    no new order for that key type, and the two key types get one order each (issue 15: the test asserted only
    that a last drive succeeded)."""
    name = "kill9.example.org"
    cli = MdCli(os.path.join(md_build, "mdomain"), os.path.join(workdir, "store"), pebble)
    hook, log = write_dns_hook(workdir, pebble.challtestsrv.management_url)
    gate, held = os.path.join(workdir, "gate"), os.path.join(workdir, "held")
    gated = write_program(os.path.join(workdir, "gated-hook.sh"),
                          GATED_HOOK % {"log": log, "gate": gate, "held": held, "hook": hook})
    cli.add(name, "www." + name, "--key", "p256", "--key", "rsa2048", "--dns-cmd", gated)
    mark = pebble.mark()
    proc = subprocess.Popen([cli.binary, "-d", cli.store, "drive"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until(lambda: os.path.exists(held), 60, what="the drive's first dns-01 setup")
        orders = _job_orders(cli, name)
        assert len(orders) == 1, orders          # the first key type's order is recorded, the drive waits on it
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert pebble.count_requests("POST", "/order-plz", since=mark) == 1
    (key_type, order_url), = orders.items()
    order_id = order_url.rstrip("/").rsplit("/", 1)[1]
    assert _job_orders(cli, name) == orders                         # nothing lost

    open(gate, "w").close()
    resumed = pebble.mark()
    doc = cli.ok("drive")
    assert doc["results"][0]["outcome"] == "activated"
    # the same order went on to its certificate, and only the other key type got a new one
    with open(pebble.log_path, "rb") as f:
        f.seek(resumed)
        issued = re.findall(r"Issued certificate serial \w+ for order (\S+)", f.read().decode("utf-8", "replace"))
    assert order_id in issued and len(issued) == 2, (order_id, issued)
    assert pebble.count_requests("POST", "/order-plz", since=resumed) == 1
    assert pebble.count_requests("POST", "/order-plz", since=mark) == 2
    check_md(cli, pebble, workdir, name, [name, "www." + name],
             [("privkey.secp256r1.pem", "pubcert.secp256r1.pem", "ec"), ("privkey.pem", "pubcert.pem", "rsa")])
    assert stray_files(cli.store) == []

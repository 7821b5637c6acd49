"""mdomain under stress: many issuances with pebble rejecting nonces, and drives killed at random moments."""
import os
import random
import signal
import subprocess
import time

import pytest

from certcheck import check_md, stray_files
from rig.mdcli import MdCli


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


@pytest.mark.timeout(600)
def test_kill_9_then_resume(md_build, workdir, pebble):
    cli = MdCli(os.path.join(md_build, "mdomain"), os.path.join(workdir, "store"), pebble)
    rng = random.Random(4711)
    names = ["k%d.example.org" % i for i in range(8)]
    for name in names:
        cli.add(name, "--key", "p256", "--key", "rsa2048")
    argv = [cli.binary, "-d", cli.store, "drive", "--http-port", str(pebble.http_port)]
    kills = 0
    for attempt in range(12):
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 0.8))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    assert kills > 0
    # a drive that runs to its end finishes every MD, with valid certificates and nothing left over
    doc = cli.drive("-v")
    assert all(r["outcome"] in ("activated", "not-due") for r in doc["results"]), doc
    for name in names:
        check_md(cli, pebble, workdir, name, [name],
                 [("privkey.secp256r1.pem", "pubcert.secp256r1.pem", "ec"), ("privkey.pem", "pubcert.pem", "rsa")])
    assert stray_files(cli.store) == []

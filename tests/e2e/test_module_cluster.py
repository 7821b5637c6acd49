"""A cluster of servers on one store: two httpd instances (own ports) with the same MDStoreDir and the same 20 MDs
renew each MD exactly once (pebble's new orders counted), answer each other's http-01 tokens from the shared
challenges/, and both serve every certificate live; a node killed (kill -9) while it holds an MD's lease in the
middle of its renewal is taken over by the other after the lease, which finishes the same order."""
import os
import signal
import time

from rig import tls
from rig.proc import wait_until, write_program

from test_module_more import ssl_vhost, http_vhost

MDS = ["m%02d.example.org" % i for i in range(20)]


def node(h, pebble, mod_path, store, names, *lines):
    """Configure the httpd h for the shared store, serving names (http and https vhosts); returns its https port."""
    https_port = h.new_port("https")
    h.add_modules("ssl", "socache_shmcb", ("mdomain", mod_path))
    h.add_config(
        "LogLevel md:debug",
        "MDStoreDir %s" % store,
        "MDStoreLocks on",
        "MDPortMap http:%d https:%d" % (h.port, https_port),
        *pebble.md_directives(),
        "MDPrivateKeys secp256r1",
        "MDCAChallenges http-01",
        "MDInitialDelay 1s",
        "MDRetryDelay 1s",
        *lines,
    )
    for name in names:
        h.add_config("MDomain %s" % name)
        h.add_vhost(http_vhost(h.port, name))
        h.add_vhost(ssl_vhost(https_port, name))
    return https_port


def serves(port, name, root):
    """True when name is served on port with a certificate from pebble's root (and 200)."""
    try:
        a = tls.request(port, name, ca_pem=root)
    except Exception:
        return False
    return a.status == 200


def orders(pebble):
    return pebble.count_requests(method="POST", path_prefix="/order-plz")


def test_cluster_renews_once(httpd_factory, pebble_factory, mod_path, workdir):
    store = os.path.join(workdir, "md")
    a, b = httpd_factory(), httpd_factory()
    # pebble validates http-01 at node a only: the tokens node b sets up are answered by a from challenges/
    pebble = pebble_factory(http_port=a.port)
    a_https = node(a, pebble, mod_path, store, MDS, "MDCheckInterval 1s")
    b_https = node(b, pebble, mod_path, store, MDS, "MDCheckInterval 1s")
    a.start()
    b.start()
    root = pebble.root_pem()
    wait_until(lambda: all(serves(a_https, n, root) for n in MDS) and all(serves(b_https, n, root) for n in MDS),
               120, what="both nodes serving all 20 certificates")
    assert orders(pebble) == len(MDS)
    # each MD renewed by one node: the other one found its lease (or its renewed set) and left it
    renewed = [h.error_log_text().count("have been renewed and are served from now on") for h in (a, b)]
    assert renewed[0] + renewed[1] >= len(MDS)
    # no restart, nothing left behind once the parents activated the sets (served live first, activated within
    # seconds: under load a check right after serving found them still staged)
    wait_until(lambda: not os.listdir(os.path.join(store, "staging")) and not os.listdir(os.path.join(store, "leases")),
               60, what="every set activated and every lease given back")
    # and nothing ordered again: both watchdogs looked at every MD twice more
    marks = [h.error_log_mark() for h in (a, b)]
    for h, mark in zip((a, b), marks):
        h.wait_watchdog_runs(mark, 2)
    assert orders(pebble) == len(MDS)


SLOW = MDS[0]
HOLD_SCRIPT = """#!/bin/sh
# node a's MDMessageCmd: in the middle of %(md)s's renewal (its answer in place, the CA not yet told) it stops here
case "$1" in
    challenge-setup:*) [ "$2" = %(md)s ] && { echo $$ > %(marker)s; exec sleep 300; } ;;
esac
exit 0
"""


def test_cluster_takeover(httpd_factory, pebble_factory, mod_path, workdir):
    store = os.path.join(workdir, "md")
    names = MDS[:2]
    a, b = httpd_factory(), httpd_factory()
    # pebble validates http-01 at node b: node a is killed
    pebble = pebble_factory(http_port=b.port)
    tmp = os.path.join(workdir, "hold")
    os.makedirs(tmp)
    os.chmod(tmp, 0o777)
    marker = os.path.join(tmp, "pid")
    script = write_program(os.path.join(workdir, "hold.sh"), HOLD_SCRIPT % {"md": SLOW, "marker": marker})
    node(a, pebble, mod_path, store, names[:1], "MDStoreLease 10s", "MDMessageCmd %s" % script)
    b_https = node(b, pebble, mod_path, store, names, "MDStoreLease 10s")
    a.start()
    wait_until(lambda: os.path.exists(marker), 60, what="node a in the middle of %s's renewal" % SLOW)
    with open(os.path.join(store, "leases", SLOW + ".json")) as f:
        lease = f.read()
    assert any('"pid": %d,' % pid in lease for pid in a.children()), lease
    b.start()
    root = pebble.root_pem()
    wait_until(lambda: serves(b_https, names[1], root), 60, what="node b serving %s" % names[1])
    assert not serves(b_https, SLOW, root)          # leased by node a, which holds it in its renewal
    assert "renewed by " in b.error_log_text()
    # node a dies (parent and children, kill -9): its lease is neither renewed nor released
    with open(marker) as f:
        hold_pid = int(f.read().strip())
    killed = time.time()
    for pid in [a.pid] + a.children():
        os.kill(pid, signal.SIGKILL)
    os.kill(hold_pid, signal.SIGTERM)
    wait_until(lambda: serves(b_https, SLOW, root), 60, what="node b taking %s over" % SLOW)
    took = time.time() - killed
    assert took < 10 + 20, "node b took %.0f s" % took
    # the same order finished (node b resumed it): one order per MD in all
    assert "Resuming order" in b.error_log_text()
    assert orders(pebble) == len(names)
    # node b's lease ends with its drive of the MD, which goes on a moment after the set is served (announced live)
    wait_until(lambda: not os.path.exists(os.path.join(store, "leases", SLOW + ".json")), 30,
               what="node b's lease on %s released" % SLOW)

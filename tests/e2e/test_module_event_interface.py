"""The event interface in mod_mdomain with real apache2, pebble and pebble-challtestsrv: MDEventHandler answers
http-01 for a name no virtual host has (setup-http-01 into a separate web server's webroot) while httpd answers its
own name, dns-01 through the handler, needs-poll and poll-setup-http-01, a retry (75) that succeeds at the next
run, a hard failure that stops retries until a restart, and MDChallengeResponseDelay holding only its own MD."""
import os
import re

import pytest

from rig.handler import Handler, WebFront
from rig.proc import wait_until

import test_module_more as more

LOCAL = "local.example.org"
REMOTE = "remote.example.org"


@pytest.fixture
def rig(request, httpd, workdir, pebble_factory, challtestsrv_factory, mod_path):
    """(httpd, pebble, handler, front, store): pebble validates http-01 at a web front that serves the handler's
    webroot for REMOTE and passes the rest to httpd; the handler sets TXT records in pebble's challtestsrv."""
    cts = challtestsrv_factory()
    handler = Handler(workdir, mgmt_url=cts.management_url, nfixed=1)
    front = WebFront(handler.webroot, [REMOTE], backend_port=httpd.port).start()
    request.addfinalizer(front.stop)
    pebble = pebble_factory(challtestsrv=cts, http_port=front.port)
    https_port, store = more.configure(httpd, pebble, mod_path, workdir, "MDCheckInterval 1s")
    httpd.https_port = https_port
    return httpd, pebble, handler, front, store


def staged(store, name):
    return os.path.exists(os.path.join(store, "staging", name, "pubcert.secp256r1.pem"))


def md_section(name, *lines, members=()):
    return "\n".join(["<MDomain %s%s>" % (name, "".join(" " + m for m in members)), *["  " + l for l in lines],
                      "</MDomain>"])


def test_remote_and_local_http01(rig):
    httpd, pebble, handler, front, store = rig
    httpd.add_config(md_section(LOCAL, "MDEventHandler %s main" % handler.path, members=[REMOTE]))
    httpd.add_vhost(more.ssl_vhost(httpd.https_port, LOCAL))
    httpd.start()
    wait_until(lambda: staged(store, LOCAL), 60, what="the renewal")
    # the remote name through the handler, as the User, with the environment; the local one by httpd
    setups = handler.calls("setup-http-01")
    assert [c["args"][1:3] for c in setups] == [[LOCAL, REMOTE]]
    assert setups[0]["argv"][0] == "main" and setups[0]["uid"] == 33     # www-data
    assert setups[0]["env"]["MD_EVENT"] == "setup-http-01" and setups[0]["env"]["MD_STORE"] == store
    token = setups[0]["args"][3]
    assert (REMOTE, token) in front.served
    assert [c["args"][1:] for c in handler.calls("teardown-http-01")] == [[LOCAL, REMOTE, token]]
    assert not os.listdir(handler.webroot)
    # no MDMessageCmd here: the handler has the messages too
    wait_until(lambda: "renewed" in handler.events(), 10, what="renewed")
    events = handler.events()
    assert events[0] == "renewing"
    assert sorted(events[1:4]) == ["challenge-setup:http-01:%s" % LOCAL, "challenge-setup:http-01:%s" % REMOTE,
                                   "setup-http-01"]
    assert events.index("setup-http-01") < events.index("challenge-setup:http-01:%s" % REMOTE)


def test_dns01_through_handler(rig):
    httpd, pebble, handler, front, store = rig
    httpd.add_config(md_section(LOCAL, "MDCAChallenges dns-01", "MDEventHandler %s main" % handler.path))
    httpd.add_vhost(more.ssl_vhost(httpd.https_port, LOCAL))
    httpd.start()
    wait_until(lambda: staged(store, LOCAL), 60, what="the renewal")
    setups = handler.calls("setup")
    assert [c["args"][1:3] for c in setups] == [[LOCAL, LOCAL]]
    assert [c["args"][1:] for c in handler.calls("teardown")] == [setups[0]["args"][1:]]


def test_needs_poll(rig):
    httpd, pebble, handler, front, store = rig
    handler.set_exits("setup-http-01", 76)
    handler.set_exits("poll-setup-http-01", 76, 0)
    httpd.add_config(md_section(LOCAL, "MDEventHandler %s main" % handler.path, "MDChallengeResponseDelay http-01=1",
                                members=[REMOTE]))
    httpd.add_vhost(more.ssl_vhost(httpd.https_port, LOCAL))
    httpd.start()
    wait_until(lambda: staged(store, LOCAL), 60, what="the renewal")
    events = [e for e in handler.events() if e.endswith("setup-http-01") or e == "teardown-http-01"]
    assert events == ["setup-http-01", "poll-setup-http-01", "poll-setup-http-01", "teardown-http-01"]
    assert re.search(r"%s: renewal under way, going on in \d+ s" % LOCAL, httpd.error_log_text())
    assert "renewal failed" not in httpd.error_log_text()


def test_retry_then_success(rig):
    httpd, pebble, handler, front, store = rig
    handler.set_exits("setup-http-01", 75, 0)
    httpd.add_config(md_section(LOCAL, "MDEventHandler %s main" % handler.path, members=[REMOTE]))
    httpd.add_vhost(more.ssl_vhost(httpd.https_port, LOCAL))
    httpd.start()
    wait_until(lambda: staged(store, LOCAL), 60, what="the renewal after the retry")
    rcs = [c["rc"] for c in handler.calls("setup-http-01")]
    assert rcs == [75, 0]
    assert "exit 75 (retry)" in httpd.error_log_text()
    assert handler.events().count("errored") == 1


def test_hard_failure_stops_until_restart(rig):
    httpd, pebble, handler, front, store = rig
    handler.set_exits("setup-http-01", 1, 0)
    httpd.add_config(md_section(LOCAL, "MDEventHandler %s main" % handler.path, members=[REMOTE]))
    httpd.add_vhost(more.ssl_vhost(httpd.https_port, LOCAL))
    httpd.start()
    wait_until(lambda: "renewal stopped until the configuration changes or the server restarts" in
               httpd.error_log_text(), 30, what="the blocked renewal")
    mark, log_mark = pebble.mark(), httpd.error_log_mark()
    httpd.wait_watchdog_runs(log_mark, 3)                 # several watchdog runs, past MDRetryDelay
    assert len(handler.calls("setup-http-01")) == 1
    assert pebble.requests(since=mark) == []
    # a restart: tried again, and this time the handler succeeds
    httpd.graceful_restart()
    wait_until(lambda: staged(store, LOCAL), 60, what="the renewal after the restart")
    assert [c["rc"] for c in handler.calls("setup-http-01")] == [1, 0]


def test_response_delay_holds_only_its_md(rig):
    httpd, pebble, handler, front, store = rig
    httpd.add_config(md_section(LOCAL, "MDEventHandler %s main" % handler.path, "MDChallengeResponseDelay http-01=5",
                                members=[REMOTE]),
                     "MDomain other.example.org")
    httpd.add_vhost(more.ssl_vhost(httpd.https_port, LOCAL))
    httpd.add_vhost(more.ssl_vhost(httpd.https_port, "other.example.org"))
    httpd.start()
    wait_until(lambda: staged(store, "other.example.org"), 60, what="the MD without a delay")
    assert not staged(store, LOCAL)
    t_setup = os.path.getmtime(handler.log)
    wait_until(lambda: staged(store, LOCAL), 60, what="the MD with the delay")
    assert os.path.getmtime(os.path.join(store, "staging", LOCAL, "pubcert.secp256r1.pem")) - t_setup >= 3

"""The event interface through the mdomain command, with pebble and pebble-challtestsrv: remote http-01 through the
handler's setup-http-01 (a separate web server serves what it writes), dns-01 through the handler, needs-poll and
poll-setup-http-01, a retry (75) that succeeds at the next drive, a hard failure that blocks until --force, a
response delay that holds only its own MD, and the message events of a drive."""
import os
import time

import pytest

from rig.handler import Handler, WebFront
from rig.mdcli import MdCli


@pytest.fixture
def front(request, workdir):
    """A web front (the remote web server) for remote.example.org and other.example.org, serving the handler's
    webroot; pebble validates http-01 against it."""
    started = []

    def make(handler):
        f = WebFront(handler.webroot, ["remote.example.org", "other.example.org", "slow.example.org"]).start()
        started.append(f)
        return f
    yield make
    for f in started:
        f.stop()


@pytest.fixture
def setup(md_build, workdir, pebble_factory, challtestsrv_factory, front):
    """(cli, pebble, handler, front): pebble validates http-01 at the front; the handler sets TXT records in
    pebble's challtestsrv."""
    cts = challtestsrv_factory()
    handler = Handler(workdir, mgmt_url=cts.management_url, nfixed=2)
    web = front(handler)
    pebble = pebble_factory(challtestsrv=cts, http_port=web.port)
    cli = MdCli(os.path.join(md_build, "mdomain"), os.path.join(workdir, "store"), pebble)
    return cli, pebble, handler, web


def add(cli, handler, *args):
    return cli.add(*args, "--key", "p256", "--event-handler", handler.path, "--event-arg", "--site",
                   "--event-arg", "main")


def outcome(doc, name=None):
    for r in doc["results"]:
        if name is None or r["name"] == name:
            return r
    raise AssertionError("no result for %s in %s" % (name, doc))


def test_remote_http01_and_messages(setup):
    cli, pebble, handler, web = setup
    add(cli, handler, "remote.example.org")
    md = cli.ok("show", "remote.example.org")
    assert md["state"] == 1
    doc = cli.ok("drive")            # no --http-port, no --webroot: the name is remote
    assert outcome(doc)["outcome"] == "activated"
    setup_calls = handler.calls("setup-http-01")
    assert len(setup_calls) == 1
    argv = setup_calls[0]["argv"]
    assert argv[:5] == ["--site", "main", "setup-http-01", "remote.example.org", "remote.example.org"]
    token, keyauth = argv[5], argv[6]
    assert keyauth.startswith(token + ".")
    assert setup_calls[0]["env"]["MD_EVENT"] == "setup-http-01"
    assert setup_calls[0]["env"]["MD_MDOMAIN"] == "remote.example.org"
    assert setup_calls[0]["env"]["MD_STORE"] == cli.store
    assert ("remote.example.org", token) in web.served
    assert [c["args"] for c in handler.calls("teardown-http-01")] == [
        ["teardown-http-01", "remote.example.org", "remote.example.org", token]]
    assert not os.listdir(handler.webroot)
    # the messages of the drive, in order, to the handler (no more specific program here)
    assert [e for e in handler.events() if e in ("renewing", "renewed", "installed")] == \
        ["renewing", "renewed", "installed"]


def test_dns01_through_handler(setup):
    cli, pebble, handler, web = setup
    add(cli, handler, "wild.example.org", "*.wild.example.org", "--challenge", "dns-01")
    doc = cli.ok("drive")
    assert outcome(doc)["outcome"] == "activated"
    setups = handler.calls("setup")
    assert setups and all(c["args"][1:3] == ["wild.example.org", "wild.example.org"] for c in setups)
    assert len(handler.calls("teardown")) == len(setups)
    txts = sorted(c["args"][3] for c in handler.calls("teardown"))
    assert txts == sorted(c["args"][3] for c in setups)      # teardown names the value it removes


def test_needs_poll_then_poll_setup(setup):
    cli, pebble, handler, web = setup
    add(cli, handler, "remote.example.org", "--challenge-delay", "http-01=1")
    handler.set_exits("setup-http-01", 76)               # started, not yet visible
    handler.set_exits("poll-setup-http-01", 76, 0)       # still not, then visible
    t0 = time.time()
    doc = cli.ok("drive")
    assert outcome(doc)["outcome"] == "activated"
    assert time.time() - t0 >= 2                          # two polls, one second apart
    assert handler.events()[:4] == ["renewing", "setup-http-01", "poll-setup-http-01", "poll-setup-http-01"]
    polls = handler.calls("poll-setup-http-01")
    assert polls[0]["args"][1:] == handler.calls("setup-http-01")[0]["args"][1:]   # the same arguments


def test_retry_then_success(setup):
    cli, pebble, handler, web = setup
    add(cli, handler, "remote.example.org")
    handler.set_exits("setup-http-01", 75, 0)
    rc, doc, out, err = cli.run("drive")
    assert rc == 1 and outcome(doc)["outcome"] == "failed"
    assert "exit 75 (retry)" in outcome(doc)["detail"]
    assert handler.events().count("errored") == 1
    assert cli.ok("show", "remote.example.org")["renewal"]["errors"] == 1
    # the next drive (forced: the back-off would wait 5 s) succeeds
    doc = cli.ok("drive", "--force")
    assert outcome(doc)["outcome"] == "activated"


def test_hard_failure_blocks(setup):
    cli, pebble, handler, web = setup
    add(cli, handler, "remote.example.org")
    handler.set_exits("setup-http-01", 1, 0)
    rc, doc, out, err = cli.run("drive")
    assert rc == 1 and "exit 1 (failed)" in outcome(doc)["detail"]
    assert "next" not in outcome(doc)                    # no retry comes by itself
    mark = pebble.mark()
    rc, doc, out, err = cli.run("drive")
    assert rc == 1 and outcome(doc)["outcome"] == "blocked"
    assert "exit 1 (failed)" in outcome(doc)["detail"]
    assert cli.ok("show", "remote.example.org")["renewal"]["blocked"] == outcome(doc)["detail"]
    assert pebble.requests(since=mark) == []             # nothing asked of the CA
    assert handler.events().count("setup-http-01") == 1
    doc = cli.ok("drive", "--force")                       # a human has acted
    assert outcome(doc)["outcome"] == "activated"


def test_response_delay_holds_only_its_md(setup):
    cli, pebble, handler, web = setup
    add(cli, handler, "slow.example.org", "--challenge-delay", "http-01=4")
    add(cli, handler, "other.example.org")
    t0 = time.time()
    doc = cli.ok("-v", "drive")
    assert outcome(doc, "slow.example.org")["outcome"] == "activated"
    assert outcome(doc, "other.example.org")["outcome"] == "activated"
    assert time.time() - t0 >= 4
    # the other MD was done while the slow one waited: its "installed" came first
    installed = [c["args"][1] for c in handler.calls("installed")]
    assert installed == ["other.example.org", "slow.example.org"]

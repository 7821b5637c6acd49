"""Pre-flight checks of `mdomain drive --preflight` against pebble, with pebble-challtestsrv as the DNS both ask:
an http-01 answer the name's address does not serve, and a dns-01 answer not in DNS, fail before pebble hears of a
challenge; a CAA record naming another CA (the directory's caaIdentities, added by a small directory proxy, as
pebble lists none) stops the drive before the order (by default); turned off, the order and challenge go out."""
import http.server
import json
import os
import ssl
import threading

import pytest

from rig import net
from rig.mdcli import MdCli


@pytest.fixture
def cli(md_build, workdir, pebble):
    return MdCli(os.path.join(md_build, "mdomain"), os.path.join(workdir, "store"), pebble)


def drive(cli, pebble, name, *opts):
    return cli.run("drive", name, "--http-port", pebble.http_port, "--listen", "127.0.0.1",
                   "--preflight-dns", pebble.challtestsrv.dns_address, *opts)


def test_http01_and_dns01_preflight(cli, pebble, workdir):
    cts = pebble.challtestsrv
    # the name's A record points elsewhere (a loopback address nobody serves): no challenge reaches pebble
    cts.add_a("away.example.org", ["127.0.0.2"])
    cli.add("away.example.org", "--key", "p256")
    mark = pebble.mark()
    rc, doc, out, err = drive(cli, pebble, "away.example.org", "--preflight", "on")
    assert rc == 1
    assert ("pre-flight: the http-01 answer for away.example.org is not visible at its address in DNS "
            "(http://127.0.0.2:%d/.well-known/acme-challenge/" % pebble.http_port) in err
    assert pebble.count_requests(path_prefix="/order-plz", since=mark) == 1
    assert pebble.count_requests("POST", "/chalZ/", since=mark) == 0
    # a dns-01 program that publishes nothing: found out in DNS, pebble not asked either
    cli.add("nodns.example.org", "--key", "p256", "--challenge", "dns-01", "--dns-cmd", "/bin/true")
    mark = pebble.mark()
    rc, doc, out, err = drive(cli, pebble, "nodns.example.org", "--preflight", "challenge")
    assert rc == 1
    assert ("pre-flight: the dns-01 answer for nodns.example.org is not in DNS: _acme-challenge.nodns.example.org "
            "has no TXT record") in err
    assert pebble.count_requests("POST", "/chalZ/", since=mark) == 0
    # where the name's address serves the answer (challtestsrv's default 127.0.0.1) it passes and is issued
    cli.add("here.example.org", "--key", "p256")
    rc, doc, out, err = drive(cli, pebble, "here.example.org", "--preflight", "on")
    assert rc == 0, err
    assert doc["results"][0]["outcome"] == "activated"
    # turned off, the challenge goes to pebble (which then finds the address elsewhere too)
    cts.add_a("away2.example.org", ["127.0.0.2"])
    cli.add("away2.example.org", "--key", "p256")
    mark = pebble.mark()
    rc, doc, out, err = drive(cli, pebble, "away2.example.org", "--preflight", "off")
    assert rc == 1
    assert "pre-flight" not in err
    assert pebble.count_requests("POST", "/chalZ/", since=mark) >= 1


class _DirectoryProxy:
    """pebble's directory with meta.caaIdentities added, over https (the listener CA's certificate); every other
    URL in it still points at pebble."""

    def __init__(self, pebble, listener_ca, workdir, identities):
        directory = net.get_json(pebble.directory_url, pebble.ca_file, timeout=5.0)
        directory.setdefault("meta", {})["caaIdentities"] = identities
        body = json.dumps(directory).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                code = 200 if self.path == "/dir" else 404
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body) if code == 200 else 0))
                self.end_headers()
                if code == 200:
                    self.wfile.write(body)

            def log_message(self, *args):
                pass

        cert, key = listener_ca.issue_server("dirproxy", workdir)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)   # port 0: no race
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.url = "https://localhost:%d/dir" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_caa_preflight(md_build, workdir, pebble, listener_ca):
    proxy = _DirectoryProxy(pebble, listener_ca, workdir, ["pebble.example"])
    try:
        cli = MdCli(os.path.join(md_build, "mdomain"), os.path.join(workdir, "store"), pebble)
        cts = pebble.challtestsrv
        # the record is on the parent: the closest set counts for both names
        cts.add_caa("caa.example.org", [("issue", "other.ca")])
        for name in ("www.caa.example.org", "off.caa.example.org"):
            cli.ok("-a", proxy.url, "--ca-file", pebble.ca_file, "-t", "accepted", "-c", "admin@example.org",
                   "add", name, "--key", "p256")
        mark = pebble.mark()
        rc, doc, out, err = drive(cli, pebble, "www.caa.example.org")         # the default: caa
        assert rc == 1
        assert ('CAA of caa.example.org forbids this CA (pebble.example) to issue for www.caa.example.org: '
                '"0 issue other.ca" names no identity of it') in err
        assert pebble.count_requests(path_prefix="/order-plz", since=mark) == 0
        # turned off the order goes out (pebble checks no CAA and issues)
        rc, doc, out, err = drive(cli, pebble, "off.caa.example.org", "--preflight", "off")
        assert rc == 0, err
        assert pebble.count_requests(path_prefix="/order-plz", since=mark) == 1
        # a record naming this CA lets it through
        cts.clear_caa("caa.example.org")
        cts.add_caa("caa.example.org", [("issue", "pebble.example; accounturi=x")])
        rc, doc, out, err = drive(cli, pebble, "www.caa.example.org", "--preflight", "on", "--force")
        assert rc == 0, err
    finally:
        proxy.close()

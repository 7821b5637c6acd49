"""Pre-flight checks of `mdomain drive --preflight` against pebble, with pebble-challtestsrv as the DNS both ask:
an http-01 answer the name's address does not serve, and a dns-01 answer not in DNS, fail before pebble hears of a
challenge; turned off, the challenge goes out. CAA records in challtestsrv refuse a CA they do not name (checked
with the core's function: pebble's directory lists no caaIdentities)."""
import subprocess


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


def test_caa_through_challtestsrv(pebble, tool):
    """CAA (RFC 8659) looked up in real DNS: pebble lists no caaIdentities in its directory and accounts must be on
    the CA's origin, so a drive against it never checks CAA; the check itself (the core's md_preflight_caa, which the
    drive calls before a new order, unit test preflight_drive) runs here against challtestsrv's records."""
    cts = pebble.challtestsrv
    caa = tool("preflight_caa")

    def check(name, *ids):
        res = subprocess.run([caa, cts.dns_address, name] + list(ids), stdout=subprocess.PIPE, text=True, timeout=30)
        return res.returncode, res.stdout.strip()

    assert check("www.caa.example.org", "pebble.example") == (0, "allowed")          # no records anywhere
    # the record is on the parent: the closest set counts for both names
    cts.add_caa("caa.example.org", [("issue", "other.ca")])
    rc, out = check("www.caa.example.org", "pebble.example")
    assert rc == 1
    assert out == ('CAA of caa.example.org forbids this CA (pebble.example) to issue for www.caa.example.org: '
                   '"0 issue other.ca" names no identity of it (RFC 8659)')
    assert check("caa.example.org", "other.ca") == (0, "allowed")
    cts.clear_caa("caa.example.org")
    cts.add_caa("caa.example.org", [("issue", "pebble.example; accounturi=x"), ("issuewild", ";")])
    assert check("www.caa.example.org", "pebble.example") == (0, "allowed")
    rc, out = check("*.caa.example.org", "pebble.example")
    assert rc == 1 and '"0 issuewild ;"' in out

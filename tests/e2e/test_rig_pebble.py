"""Smoke tests of the pebble and pebble-challtestsrv fixtures."""
import socket
import ssl
import struct
import urllib.error

import pytest

from rig import net, ports


def test_pebble_directory(pebble):
    d = pebble.directory()
    for key in ("newNonce", "newAccount", "newOrder"):
        assert d[key].startswith(pebble.url + "/")
    status, headers, _ = net.fetch(d["newNonce"], ca_file=pebble.ca_file, method="HEAD")
    assert status == 200 and headers["Replay-Nonce"]
    assert pebble.count_requests("HEAD", "/nonce-plz") == 1


def test_pebble_roots_change_per_instance(pebble_factory):
    a, b = pebble_factory(), pebble_factory()
    assert a.port != b.port
    root_a, root_b = a.root_pem(), b.root_pem()
    assert root_a.startswith("-----BEGIN CERTIFICATE-----")
    assert root_a != root_b
    assert a.intermediate_pem().startswith("-----BEGIN CERTIFICATE-----")


def test_pebble_untrusted_without_listener_ca(pebble):
    with pytest.raises(urllib.error.URLError) as info:
        net.fetch(pebble.directory_url, ca_file="/etc/ssl/certs/ca-certificates.crt")
    assert isinstance(info.value.reason, ssl.SSLCertVerificationError)


def _dns_query_txt(addr, name):
    host, port = addr.rsplit(":", 1)
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".")) + b"\0"
    msg = struct.pack(">HHHHHH", 0x4d44, 0x0100, 1, 0, 0, 0) + qname + struct.pack(">HH", 16, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(msg, (host, int(port)))
        data = s.recv(4096)
    ancount = struct.unpack(">H", data[6:8])[0]
    values, pos = [], 12 + len(qname) + 4
    for _ in range(ancount):
        pos += 2 if data[pos] & 0xC0 == 0xC0 else len(qname)
        rtype, _, _, rdlen = struct.unpack(">HHIH", data[pos:pos + 10])
        pos += 10
        if rtype == 16:
            values.append(data[pos + 1:pos + 1 + data[pos]].decode())
        pos += rdlen
    return values


def test_challtestsrv_txt(pebble):
    cts = pebble.challtestsrv
    cts.set_txt("_acme-challenge.example.org", "value-1")
    assert _dns_query_txt(cts.dns_address, "_acme-challenge.example.org") == ["value-1"]
    cts.clear_txt("_acme-challenge.example.org")
    assert _dns_query_txt(cts.dns_address, "_acme-challenge.example.org") == []


def test_pebble_eab_required(pebble_factory):
    pebble = pebble_factory(eab_keys={"kid-1": "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"})
    assert pebble.directory()["meta"]["externalAccountRequired"] is True


def test_challtestsrv_http01(pebble_factory):
    pebble = pebble_factory(http01=True)
    cts = pebble.challtestsrv
    assert pebble.http_port == cts.http01_port
    cts.add_http01("tok-123", "tok-123.thumb")
    status, _, body = net.fetch("http://127.0.0.1:%d/.well-known/acme-challenge/tok-123" % cts.http01_port)
    assert (status, body) == (200, b"tok-123.thumb")
    cts.del_http01("tok-123")
    _, _, body = net.fetch("http://127.0.0.1:%d/.well-known/acme-challenge/tok-123" % cts.http01_port)
    assert body != b"tok-123.thumb"   # challtestsrv answers 200 with an empty body for unknown tokens


def _first_port_taken(monkeypatch):
    """Makes the rig's next free_port() hand out a port another socket listens on (as when another run took it
    between the probe and the server's bind); later calls are as usual. Returns the squatting socket."""
    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    squatter.bind(("127.0.0.1", ports.free_port()))
    squatter.listen(1)
    real, taken = ports.free_port, [squatter.getsockname()[1]]
    monkeypatch.setattr(ports, "free_port", lambda **kw: taken.pop() if taken else real(**kw))
    return squatter


def test_pebble_start_retries_when_its_port_is_taken(monkeypatch, pebble_factory, challtestsrv_factory):
    """pebble says "address already in use" on stderr: the rig starts it again on other ports (it read only
    stdout, and the e2e run failed in pebble's setup when another process had its port)."""
    dns, http_port, tls_port = challtestsrv_factory(), ports.free_port(), ports.free_port()
    squatter = _first_port_taken(monkeypatch)
    taken = squatter.getsockname()[1]
    with squatter:
        p = pebble_factory(challtestsrv=dns, http_port=http_port, tls_port=tls_port)
    assert p.port != taken
    assert "newNonce" in p.directory()


def test_challtestsrv_start_retries_when_its_port_is_taken(monkeypatch, challtestsrv_factory):
    squatter = _first_port_taken(monkeypatch)
    taken = squatter.getsockname()[1]
    with squatter:
        srv = challtestsrv_factory()
    assert srv.mgmt_port != taken
    assert srv.process.running()

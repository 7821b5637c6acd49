"""pebble-challtestsrv: the fake DNS (and optional challenge servers) pebble validates against,
driven through its plain-HTTP management API."""
import json
import os

from . import net, ports
from .proc import Process, ProcessExited, wait_until

BINARY = "/usr/bin/pebble-challtestsrv"


def _fqdn(host):
    return host if host.endswith(".") else host + "."


class ChallTestSrv:
    """Mock DNS on 127.0.0.1:dns_port answering A queries with 127.0.0.1 (AAAA: none).
    http01/https01/tlsalpn01 challenge servers are off unless asked for (then on free ports)."""

    def __init__(self, work_dir, http01=False, https01=False, tlsalpn01=False, default_ipv4="127.0.0.1"):
        self.work_dir = str(work_dir)
        os.makedirs(self.work_dir, exist_ok=True)
        self.want = {"http01": http01, "https01": https01, "tlsalpn01": tlsalpn01}
        self.default_ipv4 = default_ipv4
        self.process = None
        self.mgmt_port = self.dns_port = None
        self.http01_port = self.https01_port = self.tlsalpn01_port = None

    @property
    def management_url(self):
        return "http://127.0.0.1:%d" % self.mgmt_port

    @property
    def dns_address(self):
        return "127.0.0.1:%d" % self.dns_port

    def _argv(self):
        def addr(port):
            return "127.0.0.1:%d" % port if port else ""
        return [BINARY, "-management", addr(self.mgmt_port), "-dns01", addr(self.dns_port),
                "-http01", addr(self.http01_port), "-https01", addr(self.https01_port),
                "-tlsalpn01", addr(self.tlsalpn01_port), "-defaultIPv4", self.default_ipv4,
                "-defaultIPv6", ""]

    def _ready(self):
        if not self.process.running():
            raise ProcessExited("pebble-challtestsrv exited\n" + self.process.describe())
        # challtestsrv keeps running when one of its servers cannot bind, and then another process listens there
        if "address already in use" in self.process.errors():
            raise ProcessExited("pebble-challtestsrv: a port was taken\n" + self.process.describe())
        needed = [self.mgmt_port, self.dns_port] + [p for p in (self.http01_port, self.https01_port,
                                                                 self.tlsalpn01_port) if p]
        if not all(ports.is_listening(p) for p in needed):
            return False
        try:  # the management port answers as challtestsrv does, not merely accepts
            return isinstance(json.loads(net.post_json(self.management_url + "/dns-request-history",
                                                       {"host": "ready.invalid."}, timeout=1.0) or b"[]"), list)
        except (OSError, ValueError, RuntimeError):
            return False

    def start(self, attempts=3, timeout=10.0):
        """Start on fresh free ports; retried with other ports when a port was taken meanwhile."""
        for attempt in range(attempts):
            self.mgmt_port = ports.free_port()
            self.dns_port = ports.free_port(udp_too=True)
            self.http01_port = ports.free_port() if self.want["http01"] else None
            self.https01_port = ports.free_port() if self.want["https01"] else None
            self.tlsalpn01_port = ports.free_port() if self.want["tlsalpn01"] else None
            self.process = Process("challtestsrv", self._argv(), self.work_dir).start()
            try:
                wait_until(self._ready, timeout, what="pebble-challtestsrv to listen")
                return self
            except RuntimeError:
                self.process.stop()
                if attempt + 1 == attempts or "address already in use" not in self.process.errors():
                    raise
        return self

    def stop(self):
        if self.process:
            self.process.stop()

    def describe(self):
        return self.process.describe() if self.process else "challtestsrv: not started\n"

    def _post(self, path, obj):
        return net.post_json(self.management_url + path, obj)

    # DNS records
    def set_txt(self, host, value):
        """Add a TXT value for host (e.g. "_acme-challenge.example.org"; the trailing dot is added)."""
        self._post("/set-txt", {"host": _fqdn(host), "value": value})

    def clear_txt(self, host):
        self._post("/clear-txt", {"host": _fqdn(host)})

    def add_a(self, host, addresses):
        self._post("/add-a", {"host": _fqdn(host), "addresses": list(addresses)})

    def clear_a(self, host):
        self._post("/clear-a", {"host": _fqdn(host)})

    def add_caa(self, host, policies):
        """CAA records of host: policies is [(tag, value)], e.g. [("issue", "other.ca")] (flags 0)."""
        self._post("/add-caa", {"host": _fqdn(host), "policies": [{"tag": t, "value": v} for t, v in policies]})

    def clear_caa(self, host):
        self._post("/clear-caa", {"host": _fqdn(host)})

    def set_default_ipv4(self, ip):
        self._post("/set-default-ipv4", {"ip": ip})

    # challenge responses served by challtestsrv itself (when started with http01/tlsalpn01)
    def add_http01(self, token, content):
        self._post("/add-http01", {"token": token, "content": content})

    def del_http01(self, token):
        self._post("/del-http01", {"token": token})

    def add_tlsalpn01(self, host, content):
        self._post("/add-tlsalpn01", {"host": host, "content": content})

    def del_tlsalpn01(self, host):
        self._post("/del-tlsalpn01", {"host": host})

    # request history
    def dns_history(self, host):
        return json.loads(self._post("/dns-request-history", {"host": _fqdn(host)}) or b"[]")

    def http_history(self, host):
        return json.loads(self._post("/http-request-history", {"host": host}) or b"[]")

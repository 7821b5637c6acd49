"""pebble, the ACME test CA: generated config and listener certificate, start/stop, its management API."""
import json
import os
import re
import time

from . import net, ports
from .proc import Process, ProcessExited, wait_until

BINARY = "/usr/bin/pebble"
DEFAULT_NONCE_REJECT = int(os.environ.get("MD_E2E_PEBBLE_NONCEREJECT", "0"))
DEFAULT_AUTHZ_REUSE = int(os.environ.get("MD_E2E_PEBBLE_AUTHZREUSE", "0"))

# pebble logs one line per ACME request, e.g. "Pebble 2024/01/02 10:11:12 POST /sign-me-up"
_REQUEST_RE = re.compile(r"^Pebble \S+ \S+ (GET|HEAD|POST) (\S+)")


class Pebble:
    """One pebble instance on free ports of 127.0.0.1, with its own config and log in work_dir.

    http_port / tls_port: where pebble's VA connects for http-01 / tls-alpn-01 validation.
    nonce_reject: PEBBLE_WFE_NONCEREJECT (percent of good nonces rejected as badNonce).
    authz_reuse: PEBBLE_AUTHZREUSE (percent of valid authorizations reused).
    eab_keys: {kid: base64url HMAC key}; with eab_required the CA demands external account binding.
    env: further PEBBLE_* variables (PEBBLE_CHAIN_LENGTH, PEBBLE_ALTERNATE_ROOTS, PEBBLE_VA_ALWAYS_VALID...).
    """

    def __init__(self, work_dir, listener_ca, dns_address, http_port=None, tls_port=None,
                 nonce_reject=None, authz_reuse=None, eab_keys=None, eab_required=None, env=None,
                 ocsp_responder_url=""):
        self.work_dir = str(work_dir)
        os.makedirs(self.work_dir, exist_ok=True)
        self.listener_ca = listener_ca
        self.ca_file = listener_ca.cert_file
        self.dns_address = dns_address
        self.http_port = http_port if http_port else ports.free_port()
        self.tls_port = tls_port if tls_port else ports.free_port()
        self.nonce_reject = DEFAULT_NONCE_REJECT if nonce_reject is None else nonce_reject
        self.authz_reuse = DEFAULT_AUTHZ_REUSE if authz_reuse is None else authz_reuse
        self.eab_keys = dict(eab_keys or {})
        self.eab_required = bool(self.eab_keys) if eab_required is None else eab_required
        self.extra_env = dict(env or {})
        self.ocsp_responder_url = ocsp_responder_url
        self.cert_file, self.key_file = listener_ca.issue_server("pebble-listener", self.work_dir)
        self.config_file = os.path.join(self.work_dir, "pebble-config.json")
        self.port = self.mgmt_port = None
        self.process = None
        self.start_seconds = None
        self.ready_mark = 0

    # URLs
    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    @property
    def directory_url(self):
        return self.url + "/dir"

    @property
    def management_url(self):
        return "https://127.0.0.1:%d" % self.mgmt_port

    @property
    def log_path(self):
        """pebble's stdout: one line per request it serves (and its other messages)."""
        return self.process.stdout_path

    def _write_config(self):
        conf = {
            "listenAddress": "127.0.0.1:%d" % self.port,
            "managementListenAddress": "127.0.0.1:%d" % self.mgmt_port,
            "certificate": self.cert_file,
            "privateKey": self.key_file,
            "httpPort": self.http_port,
            "tlsPort": self.tls_port,
            "ocspResponderURL": self.ocsp_responder_url,
            "externalAccountBindingRequired": self.eab_required,
        }
        if self.eab_keys:
            conf["externalAccountMACKeys"] = self.eab_keys
        with open(self.config_file, "w") as f:
            json.dump({"pebble": conf}, f, indent=2)

    def _env(self):
        env = {"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": str(self.nonce_reject),
               "PEBBLE_AUTHZREUSE": str(self.authz_reuse)}
        env.update({k: str(v) for k, v in self.extra_env.items()})
        return env

    def _ready(self):
        if not self.process.running():
            raise ProcessExited("pebble exited\n" + self.process.describe())
        # no bare TCP probes: pebble would log a TLS handshake error for each
        return "newNonce" in net.get_json(self.directory_url, self.ca_file, timeout=2.0) and self.root_pem()

    def start(self, attempts=3, timeout=20.0):
        """Start on fresh ports and wait until the directory answers over https (trusting ca_file)."""
        t0 = time.monotonic()
        for attempt in range(attempts):
            self.port, self.mgmt_port = ports.free_port(), ports.free_port()
            self._write_config()
            self.process = Process("pebble", [BINARY, "-config", self.config_file,
                                              "-dnsserver", self.dns_address],
                                   self.work_dir, env=self._env(), drop_env_prefixes=("PEBBLE_",)).start()
            try:
                wait_until(self._ready, timeout, what="pebble's directory")
                self.ready_mark = self.mark()
                break
            except RuntimeError:
                self.process.stop()
                if attempt + 1 == attempts or "address already in use" not in self.process.errors():
                    raise
        self.start_seconds = time.monotonic() - t0
        return self

    def stop(self):
        if self.process:
            self.process.stop()

    def describe(self, lines=40):
        return self.process.describe(lines) if self.process else "pebble: not started\n"

    # ACME side
    def directory(self):
        return net.get_json(self.directory_url, self.ca_file)

    # management side (certificates change at every start of pebble)
    def _mgmt_get(self, path):
        status, _, body = net.fetch(self.management_url + path, ca_file=self.ca_file)
        if status != 200:
            raise RuntimeError("GET %s: HTTP %d: %r" % (path, status, body[:200]))
        return body.decode()

    def root_pem(self, index=0):
        """The current issuing root (PEM)."""
        return self._mgmt_get("/roots/%d" % index)

    def intermediate_pem(self, index=0):
        return self._mgmt_get("/intermediates/%d" % index)

    def root_key_pem(self, index=0):
        return self._mgmt_get("/root-keys/%d" % index)

    def intermediate_key_pem(self, index=0):
        return self._mgmt_get("/intermediate-keys/%d" % index)

    def write_root(self, path=None, index=0):
        """Save the current root to path (default <work_dir>/pebble-root.pem); returns the path."""
        path = path or os.path.join(self.work_dir, "pebble-root-%d.pem" % index)
        with open(path, "w") as f:
            f.write(self.root_pem(index))
        return path

    def cert_status(self, serial_hex):
        """{"Certificate","Reason","RevokedAt","Serial","Status"} for a serial (hex, no 0x)."""
        return json.loads(self._mgmt_get("/cert-status-by-serial/%s" % serial_hex.lower()))

    # log
    def mark(self):
        """A position in pebble's log; pass it as since= to count only the requests after it."""
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def requests(self, since=None):
        """[(method, path)] of the ACME requests pebble logged after `since` (default: after the rig's own
        readiness probes at start), in order. Management API requests are not logged by pebble."""
        with open(self.log_path, "rb") as f:
            f.seek(self.ready_mark if since is None else since)
            text = f.read().decode("utf-8", "replace")
        out = []
        for line in text.splitlines():
            m = _REQUEST_RE.match(line)
            if m:
                out.append((m.group(1), m.group(2)))
        return out

    def count_requests(self, method=None, path_prefix=None, since=None):
        return sum(1 for m, p in self.requests(since)
                   if (method is None or m == method) and (path_prefix is None or p.startswith(path_prefix)))

"""Differential runs: the same httpd configuration and scenario once with Debian's mod_md and once with mod_mdomain
(each with its own httpd, pebble and store), and what an operator or a script sees of both (md-status JSON, the
store's files, logs, exit codes) compared field by field, with what must differ (times, serials, keys, ports)
masked."""
import json
import os
import re

from rig import net
from rig.httpd import ModMdCrashed

MOD_MD = "/usr/lib/apache2/modules/mod_md.so"
SIDES = ("mod_md", "mod_mdomain")


class Side:
    """One side of a differential run: its module, httpd, pebble, store and ports. A scenario gets one and returns
    what it observed (any JSON-like value)."""

    def __init__(self, name, module, httpd, pebble, workdir):
        self.name = name
        self.module = module                  # (name, path) for httpd.add_modules
        self.httpd = httpd
        self.pebble = pebble
        self.workdir = workdir
        self.store = os.path.join(workdir, "md-" + name)
        self.https_port = None

    def configure(self, *lines, keys="secp256r1", challenges="http-01", status=True, portmap=None, initial_delay="1s"):
        """The common configuration of both sides: ssl + the side's module, the store, MDPortMap (portmap, default
        the http and https ports of this httpd), pebble as the CA, terms accepted, a contact, keys, challenges (None:
        no MDCAChallenges), initial delay, 1 s retry delay, md-status at /md-status, plus lines. Returns the https
        port (also self.https_port)."""
        self.https_port = self.https_port or self.httpd.new_port("https")
        self.httpd.add_modules("ssl", "socache_shmcb", self.module)
        self.httpd.add_config(
            "MDStoreDir %s" % self.store,
            "MDPortMap %s" % (portmap or "http:%d https:%d" % (self.httpd.port, self.https_port)),
            *self.pebble.md_directives(),
            "MDPrivateKeys %s" % keys,
            *(["MDCAChallenges %s" % challenges] if challenges else []),
            "MDInitialDelay %s" % initial_delay,
            "MDRetryDelay 1s",
            *lines)
        if status:
            self.httpd.add_config("<Location /md-status>", "  SetHandler md-status", "</Location>")
        return self.https_port

    def ssl_vhost(self, name, *lines):
        self.httpd.add_vhost("\n".join(["<VirtualHost 127.0.0.1:%d>" % self.https_port, "  ServerName %s" % name,
                                        *["  " + line for line in lines], "  SSLEngine on", "</VirtualHost>"]))

    def md_status(self, name=None):
        """md-status (all MDs, or one); mod_md answers /md-status/NAME too."""
        return net.get_json(self.httpd.url("/md-status" + ("/" + name if name else "")))

    def store_files(self, *groups):
        """The files below the store (relative paths, sorted), of the given groups or all."""
        out = []
        for root, dirs, files in os.walk(self.store):
            rel = os.path.relpath(root, self.store)
            if groups and rel.split(os.sep)[0] not in groups:
                continue
            out.extend(os.path.normpath(os.path.join(rel, f)) for f in files)
        return sorted(out)

    def store_json(self, *path):
        with open(os.path.join(self.store, *path)) as f:
            return json.load(f)


def run_both(httpd_factory, pebble_factory, mod_path, workdir, scenario, pebble_kwargs=None):
    """Run scenario(side) with Debian's mod_md, then with mod_mdomain, each with a fresh httpd and pebble (pebble
    validates http-01 at that httpd's http port and tls-alpn-01 at its https port, unless pebble_kwargs say other
    ports); returns {"mod_md": observed, "mod_mdomain": observed}. Each httpd is stopped after its scenario."""
    assert os.path.exists(MOD_MD), "Debian's mod_md is missing: scripts/install-deps installs apache2, which has it"
    out = {}
    for name, module in (("mod_md", ("md", MOD_MD)), ("mod_mdomain", ("mdomain", mod_path))):
        for attempt in range(3):
            httpd = httpd_factory()
            https_port = httpd.new_port("https")
            kwargs = {"http_port": httpd.port, "tls_port": https_port}
            kwargs.update(pebble_kwargs or {})
            pebble = pebble_factory(**kwargs)
            # mod_md's crash depends on the paths: a scenario it crashed in runs again in a directory of its own
            side_dir = workdir if attempt == 0 else os.path.join(workdir, "again-%d" % attempt)
            os.makedirs(side_dir, mode=0o755, exist_ok=True)
            side = Side(name, module, httpd, pebble, side_dir)
            side.https_port = https_port
            try:
                out[name] = scenario(side)
                break
            except ModMdCrashed:
                if attempt == 2:
                    raise
                pebble.stop()
            finally:
                if httpd.process and httpd.process.running():
                    httpd.stop()
    return out


# What must differ between two runs, masked before comparing: keys whose values are times, serials, fingerprints,
# account ids, and text that carries them (URLs with ports).
VARYING_KEYS = {"from", "until", "when", "valid-from", "next-run", "last-run", "renew-at", "serial",
                "sha256-fingerprint", "ari-cert-id", "account", "signed", "activity",
                "issuer-name"}            # pebble names its intermediate anew at every start
_PORT = re.compile(r"(127\.0\.0\.1|localhost):\d+")
_DATE = re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d \w\w\w \d{4} \d\d:\d\d:\d\d GMT\b|"
                   r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\b")


def mask(value, key=None, varying=VARYING_KEYS):
    """A copy of a JSON value with what must differ replaced by "<key>" placeholders."""
    if key in varying:
        return "<%s>" % key
    if isinstance(value, dict):
        return {k: mask(v, k, varying) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, key, varying) for v in value]
    if isinstance(value, str):
        return _DATE.sub("<time>", _PORT.sub("<host:port>", value))
    return value


# What md-status of mod_mdomain has and mod_md's has not at all (docs/status.md): left out of every comparison.
OURS_ONLY = {"renew-deadline", "renew-attempts-left", "renew-attempts-low"}


def differences(theirs, ours, path="", ignore=()):
    """The differences between mod_md's value and ours (already masked), as 'path: mod_md X, mod_mdomain Y'
    lines; paths in ignore (e.g. "managed-domains[0].renewal.log") are skipped with all below them."""
    if path in ignore:
        return []
    if isinstance(theirs, dict) and isinstance(ours, dict):
        out = []
        for k in sorted(set(theirs) | set(ours)):
            p = "%s.%s" % (path, k) if path else k
            if p in ignore:
                continue
            if k not in ours:
                out.append("%s: mod_md %s, mod_mdomain has none" % (p, json.dumps(theirs[k])[:200]))
            elif k not in theirs and k in OURS_ONLY:
                continue
            elif k not in theirs:
                out.append("%s: mod_md has none, mod_mdomain %s" % (p, json.dumps(ours[k])[:200]))
            else:
                out.extend(differences(theirs[k], ours[k], p, ignore))
        return out
    if isinstance(theirs, list) and isinstance(ours, list) and len(theirs) == len(ours):
        out = []
        for i, (a, b) in enumerate(zip(theirs, ours)):
            out.extend(differences(a, b, "%s[%d]" % (path, i), ignore))
        return out
    if theirs != ours:
        return ["%s: mod_md %s, mod_mdomain %s" % (path, json.dumps(theirs)[:200], json.dumps(ours)[:200])]
    return []


def assert_same(observed, ignore=(), varying=VARYING_KEYS):
    """Fail with every difference between the two sides' observations (masked), naming the path of each."""
    diffs = differences(mask(observed["mod_md"], varying=varying), mask(observed["mod_mdomain"], varying=varying),
                        ignore=ignore)
    assert not diffs, "mod_md and mod_mdomain differ:\n  " + "\n  ".join(diffs)

"""A private Apache httpd (Debian's /usr/sbin/apache2) in a temporary ServerRoot, run in the foreground so
the rig owns its PID: generated httpd.conf, start, graceful restart, stop, config injection, error log."""
import os
import pwd
import re
import signal
import subprocess
import time

from . import net, ports
from .proc import Process, ProcessExited, tail, wait_until

BINARY = "/usr/sbin/apache2"
MODULES_DIR = "/usr/lib/apache2/modules"
RUN_USER = "www-data"
RUN_GROUP = "www-data"
# Built into Debian's apache2 (apache2 -l), so they cannot be loaded: core, so, watchdog, http_core,
# log_config, logio, version, unixd.
BUILTIN_MODULES = {"so", "watchdog", "http_core", "log_config", "logio", "version", "unixd"}
DEFAULT_MODULES = ["mpm_event", "authz_core", "authz_host", "mime", "dir", "alias", "status", "headers"]

_GENERATION_RE = re.compile(r"^ParentServerConfigGeneration:\s*(\d+)", re.M)


def _children_of(pid):
    """PIDs whose parent is pid (from /proc)."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            kids.append(int(entry))
    return kids


class ModMdCrashed(ProcessExited):
    """Debian's mod_md 2.6.10 died with SIGSEGV at every start of one configuration: it crashes in its post_config
    for some store paths again and again (the same files under another directory start), so the caller may run its
    scenario again elsewhere (rig.differential does)."""


def pid_alive(pid):
    """True when pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:].split()[0] != "Z"


class Httpd:
    """An httpd listening on 127.0.0.1:port (http), ServerRoot = server_root (must be traversable by
    www-data, since the children run as that user).

    Config injection (takes effect at the next start() / graceful_restart()):
      add_modules("ssl", "socache_shmcb")   LoadModule lines (names without mod_ / .so, or (name, path))
      add_config("LogLevel md:trace2")      lines at server level, after the defaults
      add_vhost(text)                       a <VirtualHost> block (or anything) appended at the end
      new_port("https")                     another free port with a Listen line; returns the port
    """

    def __init__(self, server_root, modules=None, log_level="info"):
        self.server_root = str(server_root)
        self.modules = list(DEFAULT_MODULES if modules is None else modules)
        self.log_level = log_level
        self.port = ports.free_port()
        self.extra_ports = {}
        self.extra_config = []
        self.vhosts = []
        for sub in ("conf", "logs", "run", "lock", "htdocs"):
            os.makedirs(os.path.join(self.server_root, sub), exist_ok=True)
            os.chmod(os.path.join(self.server_root, sub), 0o755)
        os.chmod(self.server_root, 0o755)
        pw = pwd.getpwnam(RUN_USER)
        if os.geteuid() == 0:
            os.chown(self.lock_dir, pw.pw_uid, pw.pw_gid)
        self.conf_file = os.path.join(self.server_root, "conf", "httpd.conf")
        self.pid_file = os.path.join(self.server_root, "run", "httpd.pid")
        self.error_log = os.path.join(self.server_root, "logs", "error.log")
        self.access_log = os.path.join(self.server_root, "logs", "access.log")
        with open(os.path.join(self.docroot, "index.html"), "w") as f:
            f.write("<html><body>mdomain e2e httpd</body></html>\n")
        self.process = None

    # paths and URLs
    @property
    def docroot(self):
        return os.path.join(self.server_root, "htdocs")

    @property
    def lock_dir(self):
        return os.path.join(self.server_root, "lock")

    @property
    def pid(self):
        return self.process.pid if self.process else None

    def url(self, path="/", port=None, scheme="http", host="127.0.0.1"):
        return "%s://%s:%d%s" % (scheme, host, port or self.port, path)

    # configuration
    def add_modules(self, *names):
        for name in names:
            if name not in self.modules:
                self.modules.append(name)

    def add_config(self, *lines):
        self.extra_config.extend(lines)

    def add_vhost(self, text):
        self.vhosts.append(text)

    def new_port(self, name, proto=None):
        """Allocate a free port, add 'Listen 127.0.0.1:<port> [proto]' and return the port."""
        port = ports.free_port()
        self.extra_ports[name] = (port, proto)
        return port

    def _load_module_lines(self):
        lines = []
        for mod in self.modules:
            name, path = mod if isinstance(mod, tuple) else (mod, None)
            if name in BUILTIN_MODULES:
                continue
            path = path or os.path.join(MODULES_DIR, "mod_%s.so" % name)
            lines.append('LoadModule %s_module "%s"' % (name, path))
        return lines

    def config_text(self):
        r = self.server_root
        listens = ["Listen 127.0.0.1:%d" % self.port]
        for port, proto in self.extra_ports.values():
            listens.append("Listen 127.0.0.1:%d%s" % (port, " " + proto if proto else ""))
        lines = [
            "# generated by tests/e2e/rig/httpd.py",
            'ServerRoot "%s"' % r,
            'DefaultRuntimeDir "%s/run"' % r,
            'PidFile "%s"' % self.pid_file,
            'Mutex file:%s default' % self.lock_dir,
            *self._load_module_lines(),
            "User %s" % RUN_USER,
            "Group %s" % RUN_GROUP,
            "ServerName localhost",
            *listens,
            'ErrorLog "%s"' % self.error_log,
            "LogLevel %s" % self.log_level,
            'LogFormat "%h %l %u %t \\"%r\\" %>s %b %{Host}i" e2e',
            'CustomLog "%s" e2e' % self.access_log,
            "StartServers 1",
            "ServerLimit 4",
            "ThreadsPerChild 10",
            "MaxRequestWorkers 20",
            "MinSpareThreads 5",
            "MaxSpareThreads 20",
            "GracefulShutdownTimeout 5",
            "TypesConfig /etc/mime.types",
            'DocumentRoot "%s"' % self.docroot,
            "<Directory />",
            "  AllowOverride None",
            "  Require all denied",
            "</Directory>",
            '<Directory "%s">' % self.docroot,
            "  Require all granted",
            "</Directory>",
            "DirectoryIndex index.html",
            "<Location /server-status>",
            "  SetHandler server-status",
            "  Require ip 127.0.0.1",
            "</Location>",
            *self.extra_config,
            *self.vhosts,
        ]
        return "\n".join(lines) + "\n"

    def write_config(self):
        with open(self.conf_file, "w") as f:
            f.write(self.config_text())
        return self.conf_file

    def config_test(self):
        """apache2 -t on the current configuration: (ok, output)."""
        self.write_config()
        res = subprocess.run([BINARY, "-d", self.server_root, "-f", self.conf_file, "-t"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        return res.returncode == 0, res.stdout.decode("utf-8", "replace")

    # status
    def generation(self):
        """The parent's config generation from mod_status (+1 at each restart), or None."""
        # one request at a time, however long the page takes (1000 MDs under ASan on a loaded machine: seconds):
        # with a short timeout the probes given up on piled up in the server until its workers were all taken
        status, _, body = net.fetch(self.url("/server-status?auto"), timeout=30.0)
        if status != 200:
            return None
        m = _GENERATION_RE.search(body.decode("utf-8", "replace"))
        return int(m.group(1)) if m else None

    def _check_alive(self):
        if not self.process.running():
            raise ProcessExited("httpd exited\n" + self.describe())

    # lifecycle
    def start(self, timeout=15.0):
        """Write httpd.conf and start httpd in the foreground (-D FOREGROUND); wait until it answers."""
        self.write_config()
        # libasan is preloaded (make e2e-asan) for our sanitized module only: Debian's mod_md is not built for it.
        with open(self.conf_file) as f:
            theirs = "/mod_md.so" in f.read()
        drop = ("APACHE_", "LD_PRELOAD", "ASAN_OPTIONS") if theirs else ("APACHE_",)
        for attempt in range(3):
            log_mark = self.error_log_mark()
            self.process = Process("httpd", [BINARY, "-d", self.server_root, "-f", self.conf_file,
                                             "-D", "FOREGROUND"], os.path.join(self.server_root, "logs"),
                                   drop_env_prefixes=drop)
            self.process.start()

            def ready():
                self._check_alive()
                return ports.is_listening(self.port) and self.generation() is not None
            try:
                wait_until(ready, timeout, what="httpd to answer on port %d" % self.port)
                return self
            except ProcessExited:
                # another process had one of our ports (the configuration names them, so they stay): wait until
                # they are free again and start once more. Debian's mod_md 2.6.10 itself crashes now and then in
                # its post_config (SIGSEGV in fopen, seen with and without ASan): not ours, it is started again.
                if theirs and self.process.returncode() == -11:
                    if attempt < 2:
                        continue
                    raise ModMdCrashed("Debian's mod_md crashed (SIGSEGV) at each of 3 starts\n" + self.describe())
                if attempt == 2 or "Address already in use" not in self.startup_output(log_mark):
                    raise
                wait_until(lambda: all(ports.bindable(p) for p in self.ports()), 30,
                           what="httpd's ports to be free again")
        return self

    def startup_output(self, log_mark=0):
        """What httpd said at its start: stdout, stderr (before the error log is open) and the error log."""
        err = ""
        try:
            with open(self.process.stderr_path, "rb") as f:
                err = f.read().decode("utf-8", "replace")
            err += self.error_log_since(log_mark)
        except OSError:
            pass
        return self.process.output() + err

    def ports(self):
        """Every port this httpd listens on."""
        return [self.port] + [port for port, _ in self.extra_ports.values()]

    def graceful_restart(self, timeout=15.0):
        """Rewrite httpd.conf, apache2 -k graceful with the same -f, and wait until the new generation
        answers. A configuration httpd rejects raises RuntimeError (the running server keeps going)."""
        self._check_alive()
        # the status page may take seconds (1000 MDs, a loaded machine): asked again rather than failed at once
        def current():
            gen = self.generation()
            return None if gen is None else [gen]
        before = wait_until(current, timeout, what="httpd's generation before the restart")[0]
        self.write_config()
        res = subprocess.run([BINARY, "-d", self.server_root, "-f", self.conf_file, "-k", "graceful"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        if res.returncode != 0:
            raise RuntimeError("apache2 -k graceful failed (rc %d): %s"
                               % (res.returncode, res.stdout.decode("utf-8", "replace")))

        def new_generation():
            self._check_alive()
            gen = self.generation()
            return gen is not None and gen > before
        wait_until(new_generation, timeout, what="httpd's next generation (was %s)" % before)
        return self

    def children(self):
        return _children_of(self.pid) if self.pid else []

    def stop(self, timeout=10.0):
        """SIGTERM the parent (by PID), wait, SIGKILL after timeout; then make sure its children are
        gone too. Returns the parent's exit code."""
        if not self.process:
            return None
        kids = self.children()
        rc = self.process.stop(timeout=timeout)
        deadline = time.monotonic() + timeout
        for kid in kids:
            while pid_alive(kid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if pid_alive(kid):
                try:
                    os.kill(kid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        return rc

    # logs
    def error_log_text(self):
        try:
            with open(self.error_log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def error_log_mark(self):
        try:
            return os.path.getsize(self.error_log)
        except OSError:
            return 0

    def error_log_since(self, mark):
        """The error log text written after mark (from error_log_mark())."""
        with open(self.error_log, "rb") as f:
            f.seek(mark)
            return f.read().decode("utf-8", "replace")

    def watchdog_runs(self, mark):
        """How many runs of the renewal watchdog looked at MDs since error-log mark (LogLevel md:debug): ours ends
        each with "renewal watchdog: N MDs looked at", Debian's mod_md with "AH10107: next run in"."""
        text = self.error_log_since(mark)
        return len(re.findall(r"renewal watchdog: \d+ MDs looked at", text)) + text.count("AH10107: next run in")

    def wait_watchdog_runs(self, mark, runs=1, timeout=60):
        """Wait until the renewal watchdog finished `runs` runs after error-log mark: what it would do (a new
        order, ...) has then been done, without guessing a time (needs LogLevel md:debug)."""
        wait_until(lambda: self.watchdog_runs(mark) >= runs, timeout,
                   what="%d run(s) of the renewal watchdog (LogLevel md:debug)" % runs)

    def describe(self, lines=40):
        out = self.process.describe(lines) if self.process else "httpd: not started\n"
        return out + "--- error log tail (%s):\n%s\n" % (self.error_log, tail(self.error_log, lines))

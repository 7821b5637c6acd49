"""One measurement of time to certificate: a fresh pebble (with its DNS, pebble-challtestsrv) for one client
and N managed domains. measure_mdomain: `mdomain add` per MD, then one `mdomain drive`; measure_modmd: a
private Apache httpd with Debian's mod_md, timed from its start until every MD's certificate is staged."""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from rig.challtestsrv import ChallTestSrv
from rig.httpd import DEFAULT_MODULES, Httpd
from rig.pebble import Pebble
from rig.proc import Process, tail

MOD_MD = "/usr/lib/apache2/modules/mod_md.so"
POLL = 0.02          # seconds between looks at mod_md's store (the resolution of its time)
_MOD_MD_VERSION_RE = re.compile(r"mod_md \(v([0-9][^)]*)\)")


def md_names(n):
    return ["md%03d.bench.test" % i for i in range(n)]


class Measurement:
    """The outcome of one client obtaining certificates for n MDs from its own pebble."""

    def __init__(self, client, n):
        self.client = client
        self.n = n
        self.status = "failed"        # ok | timeout | failed
        self.seconds = None           # time to certificate (mdomain: the drive; mod_md: from httpd start)
        self.total_seconds = None     # mdomain: the adds and the drive
        self.first_request = None     # seconds from the start until pebble saw the first ACME request
        self.done = 0                 # MDs with a verified certificate
        self.requests = []            # [(method, path)] pebble logged for this measurement
        self.add_requests = 0         # mdomain: requests made by the adds (expected 0)
        self.detail = ""              # why it failed or timed out
        self.client_version = None
        self.cpu = None               # the client's CPU seconds (user + sys): the drive, or httpd's processes
        self.rss = None               # the client's peak RSS in MiB (the drive; httpd: its processes' summed)
        self.pebble_cpu = None        # pebble's CPU seconds during the measurement (from /proc)

    @property
    def per_issuance(self):
        return len(self.requests) / self.n if self.requests else None


class FirstRequestWatch(threading.Thread):
    """Notes when pebble logs its first ACME request after t0 (looks every 5 ms)."""

    def __init__(self, pebble, t0):
        super().__init__(daemon=True)
        self.pebble, self.t0 = pebble, t0
        self.mark = pebble.mark()
        self.seconds = None
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            if self.pebble.mark() > self.mark and self.pebble.requests(since=self.mark):
                self.seconds = time.monotonic() - self.t0
                return
            time.sleep(0.005)

    def stop(self):
        self.stopping.set()
        self.join(timeout=2)
        return self.seconds


TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid, children=False):
    """CPU seconds (user + sys) of a process from /proc/PID/stat (with children: also its reaped children's),
    None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / TICK


def proc_hwm(pid):
    """Peak RSS (VmHWM) of a process in KiB, 0 when unknown."""
    try:
        with open("/proc/%d/status" % pid) as f:
            found = re.search(r"VmHWM:\s+(\d+)", f.read())
        return int(found.group(1)) if found else 0
    except OSError:
        return 0


def proc_children(pid):
    """The PIDs whose parent is pid."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return out


class TreeWatch(threading.Thread):
    """Samples a process tree (httpd's parent and children) every 0.1 s: the peak RSS of each process, and at
    finish() the CPU of the parent (with its reaped children) and of its live children."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.hwm = {}
        self.stopping = threading.Event()

    def sample(self):
        for pid in [self.pid] + proc_children(self.pid):
            self.hwm[pid] = max(self.hwm.get(pid, 0), proc_hwm(pid))

    def run(self):
        while not self.stopping.wait(0.1):
            self.sample()

    def finish(self):
        """(cpu seconds, peak RSS MiB summed over the processes) now; stops the sampling."""
        self.stopping.set()
        self.join(timeout=2)
        self.sample()
        cpu = proc_cpu(self.pid, children=True) or 0.0
        cpu += sum(proc_cpu(c) or 0.0 for c in proc_children(self.pid))
        return cpu, sum(self.hwm.values()) / 1024.0


def start_ca(work, listener_ca, http_port=None, ocsp_responder_url=""):
    """A fresh pebble-challtestsrv (DNS: every name is 127.0.0.1) and pebble: PEBBLE_VA_NOSLEEP=1 (set by
    the rig), no nonce rejects, no authorization reuse. http_port: where pebble validates http-01;
    ocsp_responder_url: the OCSP URL pebble writes into its certificates."""
    dns = ChallTestSrv(os.path.join(work, "challtestsrv")).start()
    try:
        pebble = Pebble(os.path.join(work, "pebble"), listener_ca, dns.dns_address, http_port=http_port,
                        nonce_reject=0, authz_reuse=0, ocsp_responder_url=ocsp_responder_url).start()
    except Exception:
        dns.stop()
        raise
    return dns, pebble


def _first_pem(path):
    with open(path, "rb") as f:
        data = f.read()
    end = data.index(b"-----END CERTIFICATE-----") + len(b"-----END CERTIFICATE-----")
    return x509.load_pem_x509_certificate(data[:end])


def check_cert(md_dir, name):
    """'' when md_dir holds a certificate (pubcert*.pem) for name with a P-256 key, else what is wrong."""
    files = sorted(glob.glob(os.path.join(md_dir, "pubcert*.pem")))
    if not files:
        return "%s: no pubcert*.pem in %s" % (name, md_dir)
    cert = _first_pem(files[0])
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        return "%s: the certificate's key is not P-256" % name
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    if name not in sans.get_values_for_type(x509.DNSName):
        return "%s: the certificate does not name it" % name
    return ""


def _verify(m, names, *group_dirs):
    """Checks each MD's certificate in the first of group_dirs that has one for it."""
    def where(name):
        dirs = [os.path.join(d, name) for d in group_dirs]
        return next((d for d in dirs if glob.glob(os.path.join(d, "pubcert*.pem"))), dirs[0])

    problems = [p for p in (check_cert(where(name), name) for name in names) if p]
    m.done = len(names) - len(problems)
    if problems and m.status == "ok":
        m.status = "failed"
        m.detail = "; ".join(problems[:3])


def _run_timed(proc, deadline, usage=None):
    """Start proc and wait for it (in a thread, so its exit is seen at once) until deadline.
    Returns (exit code or None on timeout, end time). usage (a dict) gets its rusage ("rusage")."""
    ended = {}

    def waiter():
        _, status, rusage = os.wait4(proc.popen.pid, 0)
        ended["at"] = time.monotonic()
        proc.popen.returncode = os.waitstatus_to_exitcode(status)
        if usage is not None:
            usage["rusage"] = rusage

    proc.start()
    thread = threading.Thread(target=waiter, daemon=True)
    thread.start()
    thread.join(timeout=max(0.0, deadline - time.monotonic()))
    if thread.is_alive():
        proc.stop()
        thread.join(timeout=5)
        return None, time.monotonic()
    return proc.returncode(), ended["at"]


def _mdomain_add(m, binary, store, pebble, name, deadline):
    argv = [binary, "-d", store, "-a", pebble.directory_url, "--ca-file", pebble.ca_file, "-t", "accepted",
            "add", name, "--key", "p256"]
    res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         timeout=max(1.0, deadline - time.monotonic()))
    if res.returncode != 0:
        m.detail = "mdomain add %s exited with %d: %s" % (name, res.returncode, res.stdout.strip()[-500:])
        return False
    return True


def measure_mdomain(binary, work, listener_ca, n, timeout):
    """`mdomain add NAME --key p256` for each MD, then one `mdomain drive --http-port <pebble's http port>`.
    Time to certificate is the drive alone; total_seconds includes the adds."""
    m = Measurement("mdomain", n)
    names = md_names(n)
    store = os.path.join(work, "store")
    dns, pebble = start_ca(work, listener_ca)
    try:
        t0 = time.monotonic()
        deadline = t0 + timeout
        try:
            if not all(_mdomain_add(m, binary, store, pebble, name, deadline) for name in names):
                return m
        except subprocess.TimeoutExpired:
            m.status, m.detail = "timeout", "the adds took longer than %ds" % timeout
            return m
        m.add_requests = len(pebble.requests())
        drive = Process("mdomain-drive", [binary, "-d", store, "drive", "--http-port", pebble.http_port], work)
        usage = {}
        pebble0 = proc_cpu(pebble.process.pid)
        t1 = time.monotonic()
        watch = FirstRequestWatch(pebble, t1)
        watch.start()
        rc, end = _run_timed(drive, deadline, usage)
        m.first_request = watch.stop()
        pebble1 = proc_cpu(pebble.process.pid)
        if pebble0 is not None and pebble1 is not None:
            m.pebble_cpu = pebble1 - pebble0
        if "rusage" in usage:
            m.cpu = usage["rusage"].ru_utime + usage["rusage"].ru_stime
            m.rss = usage["rusage"].ru_maxrss / 1024.0
        if rc is None:
            m.status, m.detail = "timeout", "mdomain drive ran longer than the %ds budget" % timeout
        elif rc != 0:
            m.detail = "mdomain drive exited with %d: %s" % (rc, tail(drive.stdout_path, 5) + tail(drive.stderr_path, 5))
        else:
            m.status, m.seconds, m.total_seconds = "ok", end - t1, end - t0
    finally:
        pebble.stop()
        dns.stop()
        m.requests = pebble.requests()
    _verify(m, names, os.path.join(store, "domains"))
    return m


def _job_finished(md_dir):
    try:
        with open(os.path.join(md_dir, "job.json")) as f:
            return json.load(f).get("finished") is True
    except (OSError, ValueError):
        return False


def staged(store, pending, groups=("staging",)):
    """The names of pending whose certificate is staged: staging/NAME/pubcert*.pem present and job.json says
    "finished": true. With groups ("staging", "domains"): or already activated into domains/NAME (mod_mdomain's
    parent activates staged sets while the server runs; mod_md only at a restart)."""
    done = set()
    for group in groups:
        try:
            present = set(os.listdir(os.path.join(store, group)))
        except OSError:
            continue
        for name in (pending - done) & present:
            md_dir = os.path.join(store, group, name)
            if glob.glob(os.path.join(md_dir, "pubcert*.pem")) and (group == "domains" or _job_finished(md_dir)):
                done.add(name)
    return done


# The log line each module writes when an MD's certificate is staged (after its files and job.json are written).
DONE_LINES = {
    "mod_md": re.compile(r"AH10059: The Managed Domain (\S+) has been setup"),
    "mod_mdomain": re.compile(r"\] (\S+): the certificates have been renewed"),
}
SCAN = 2.0           # seconds between looks at the store itself (a fallback to the log lines)


class LogWatch:
    """Reads what httpd appended to its error log since the last look and collects the names in DONE lines:
    the cost of a look is the new bytes, not the number of MDs (a scan of 1000 staging directories every 20 ms
    costs a CPU the clients share)."""

    def __init__(self, path, pattern):
        self.path, self.pattern = path, pattern
        self.offset, self.rest = 0, b""

    def names(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return set()
        self.offset += len(data)
        data = self.rest + data
        cut = data.rfind(b"\n") + 1
        self.rest = data[cut:]
        return set(self.pattern.findall(data[:cut].decode("utf-8", "replace")))


def modmd_config(store, pebble, port, names):
    """The mod_md directives: defaults except what a local pebble needs (see bench/README.md)."""
    return ["MDStoreDir %s" % store,
            "MDCertificateAuthority %s" % pebble.directory_url,
            "MDCACertificateFile %s" % pebble.ca_file,
            "MDCertificateAgreement accepted",
            "MDContactEmail admin@bench.test",
            "MDPortMap http:%d" % port,
            "MDRenewMode always",
            "MDPrivateKeys secp256r1"] + ["MDomain %s" % name for name in names]


def _modmd_problem(store, httpd, pending):
    """What mod_md says about an MD that is not done: job.json's last result and its error log."""
    parts = []
    for name in sorted(pending)[:1]:
        for group in ("staging", "domains"):
            try:
                with open(os.path.join(store, group, name, "job.json")) as f:
                    job = json.load(f)
                parts.append("%s job.json: errors=%s last=%s" % (name, job.get("errors"),
                                                                  json.dumps(job.get("last"))[:300]))
                break
            except (OSError, ValueError):
                continue
    errors = [line for line in httpd.error_log_text().splitlines()
              if re.search(r"\[(md|mdomain):(error|warn)\]", line)]
    if errors:
        parts.append("error log: " + " | ".join(errors[-3:])[:800])
    return "; ".join(parts)


STALL = 20.0         # seconds without a line in pebble's log while MDs are pending: look for pebble's deadlock


def interleaved_rounds(builds, rounds, base, measure_one, on_result, log):
    """A/B runs of builds: each round measures every build in turn, in reverse order every other round, each in a
    fresh work directory under base (removed after it); a run Debian's pebble deadlocked in (its "status" is
    "pebble-deadlock") is measured again, up to 3 times. measure_one(build, work, round) -> dict (round from 1); on_result(r) after each
    run (r["round"] set); log(text) for the repeats. Returns the results in the order they were measured."""
    rows = []
    for rnd in range(rounds):
        for b in (builds if rnd % 2 == 0 else list(reversed(builds))):
            work = os.path.join(base, "r%d-%d" % (rnd, builds.index(b)))
            for attempt in range(3):
                os.makedirs(work)
                os.chmod(work, 0o755)
                r = measure_one(b, work, rnd + 1)
                if r.get("status") != "pebble-deadlock" or attempt == 2:
                    break
                log("round %d %s: pebble deadlocked, measured again" % (rnd + 1, os.path.basename(b)))
                shutil.rmtree(work, ignore_errors=True)
            r["round"] = rnd + 1
            rows.append(r)
            on_result(r)
            shutil.rmtree(work, ignore_errors=True)
    return rows


def pebble_deadlocked(pebble):
    """True when pebble's goroutines are stuck on its own store's locks: Debian's pebble 2.4 can deadlock under
    concurrent new-order and authorization requests (MemoryStore.FindValidAuthorization against the authz
    handler). SIGQUIT makes the Go runtime print every goroutine's stack (and end pebble)."""
    try:
        os.kill(pebble.process.popen.pid, signal.SIGQUIT)
    except OSError:
        return False
    time.sleep(1.0)
    try:
        with open(pebble.process.stderr_path) as f:
            dump = f.read()
    except OSError:
        return False
    return "semacquire" in dump and "MemoryStore" in dump


def _poll_staged(m, httpd, store, names, deadline, pebble=None, client="mod_md"):
    """Waits until every MD is staged: its done line in the error log (looked at every 20 ms), with a look at the
    store every SCAN seconds for what the log does not say."""
    pending = set(names)
    groups = ("staging", "domains") if client == "mod_mdomain" else ("staging",)
    watch = LogWatch(httpd.error_log, DONE_LINES[client])
    last_size, last_change = -1, time.monotonic()
    next_scan = time.monotonic() + SCAN
    while pending:
        pending -= watch.names()
        if pending and time.monotonic() >= next_scan:
            pending -= staged(store, pending, groups)
            next_scan = time.monotonic() + SCAN
        if not pending:
            break
        if not httpd.process.running():
            m.detail = "httpd exited: " + httpd.describe(10)
            return pending, time.monotonic()
        if time.monotonic() >= deadline:
            m.status = "timeout"
            return pending, time.monotonic()
        if pebble is not None:
            size = pebble.mark()
            if size != last_size:
                last_size, last_change = size, time.monotonic()
            elif time.monotonic() - last_change > STALL and pebble_deadlocked(pebble):
                m.status = "pebble-deadlock"
                m.detail = ("pebble stopped answering (its goroutines wait on its own MemoryStore locks: a deadlock"
                            " of Debian's pebble 2.4 under concurrent requests); %d MDs were pending" % len(pending))
                return pending, time.monotonic()
        time.sleep(POLL)
    return pending, time.monotonic()


def measure_modmd(work, listener_ca, n, timeout, client="mod_md", module=("md", MOD_MD)):
    """Debian's apache2 with mod_ssl and mod_md (or, with client "mod_mdomain" and module ("mdomain", path),
    our module with the same configuration), listening on pebble's http-01 port; time from httpd's start
    until every MD is staged (both activate staged certificates only at the next graceful restart)."""
    m = Measurement(client, n)
    names = md_names(n)
    httpd = Httpd(os.path.join(work, "httpd"), modules=DEFAULT_MODULES + ["ssl", module])
    store = os.path.join(httpd.server_root, "md")
    dns, pebble = start_ca(work, listener_ca, http_port=httpd.port)
    try:
        httpd.add_config(*modmd_config(store, pebble, httpd.port, names))
        ok, out = httpd.config_test()
        if not ok:
            m.detail = "apache2 -t rejects the configuration: " + out.strip()[-800:]
            return m
        pebble0 = proc_cpu(pebble.process.pid)
        t0 = time.monotonic()
        watch = FirstRequestWatch(pebble, t0)
        watch.start()
        tree = None
        try:
            httpd.start(timeout=min(30.0, timeout))
            tree = TreeWatch(httpd.process.pid)
            tree.start()
            pending, end = _poll_staged(m, httpd, store, names, t0 + timeout, pebble, client)
        finally:
            m.first_request = watch.stop()
            if tree is not None:
                m.cpu, m.rss = tree.finish()
            pebble1 = proc_cpu(pebble.process.pid)
            if pebble0 is not None and pebble1 is not None:
                m.pebble_cpu = pebble1 - pebble0
        if not pending:
            m.status, m.seconds = "ok", end - t0
        elif m.status == "timeout":
            m.detail = ("%d of %d MDs not staged after %ds. " % (len(pending), n, timeout)
                        + _modmd_problem(store, httpd, pending))
    except Exception as exc:  # httpd did not start: report it, keep going with the other measurements
        m.detail = "%s: %s" % (type(exc).__name__, str(exc)[-1200:])
    finally:
        httpd.stop()
        pebble.stop()
        dns.stop()
        m.requests = pebble.requests()
        found = _MOD_MD_VERSION_RE.search(httpd.error_log_text()) if client == "mod_md" else None
        m.client_version = found.group(1) if found else None
    groups = ("staging", "domains") if client == "mod_mdomain" else ("staging",)
    if m.status == "ok":
        _verify(m, names, *[os.path.join(store, g) for g in groups])
    else:
        m.done = n - len(set(names) - staged(store, set(names), groups))
    return m

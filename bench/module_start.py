#!/usr/bin/python3
"""httpd start with 1000 MDs, mod_mdomain against Debian's mod_md side by side in one run (make bench-module):
start-to-answer time and memory with an empty and a full store, and the requests to the CA during a start with
valid certificates. Prints a Markdown report and writes it to bench/results/module-start-<date>.md. Nothing here
asserts anything: it measures. See bench/README.md."""
import argparse
import datetime
import os
import shutil
import socket
import ssl
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
sys.path.insert(0, HERE)

from cryptography import x509                                      # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization   # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec           # noqa: E402
from cryptography.x509.oid import NameOID                          # noqa: E402

from rig import certs                                              # noqa: E402
from rig.httpd import BINARY, DEFAULT_MODULES, Httpd               # noqa: E402
from rig.proc import Process                                       # noqa: E402
from lib import measure, report                                    # noqa: E402

DEAD_CA = "https://127.0.0.1:1/dir"
POLL = 0.02


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mds", type=int, default=1000, help="number of MDs (default 1000)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per start (default 300)")
    ap.add_argument("--watch", type=float, default=10, help="seconds to count CA requests after the start "
                    "(default 10)")
    ap.add_argument("--clients", default="mdomain,mod_md,mod_ssl", help="which modules to measure (mod_ssl: "
                    "mod_ssl alone with static certificate files, no md module: the floor)")
    ap.add_argument("--cases", default="empty,full,ca", help="which starts to measure (default empty,full,ca; "
                    "bare: the full store's certificates without md.json, as copied in)")
    ap.add_argument("--repeat", type=int, default=1, help="starts per measurement; the median is reported "
                    "(default 1)")
    ap.add_argument("--out", help="report file (default bench/results/module-start-<date>.md; '-' for none)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (stores, logs)")
    ap.add_argument("--before", help="another build directory whose mod_mdomain.so is measured too, as \"mod_mdomain "
                    "before\" (before/after a change in one run, the starts interleaved)")
    ap.add_argument("--settle", type=float, default=8.0,
                    help="seconds after the first answer for the second memory sample, when the renewal "
                         "watchdog's first run is over (default 8; 0: none)")
    args = ap.parse_args()
    args.clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    return args


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


def names(n):
    return ["md-%d.example.org" % i for i in range(n)]


def fill_store(store, mds):
    """domains/NAME/{privkey,pubcert}.pem in mod_md's layout: one shared P-256 key, a self-signed certificate
    per MD naming it, valid 60 days (outside every renewal window)."""
    key = ec.generate_private_key(ec.SECP256R1())
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    now = datetime.datetime.now(datetime.timezone.utc)
    for name in mds:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=60))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
                .sign(key, hashes.SHA256()))
        d = os.path.join(store, "domains", name)
        os.makedirs(d, mode=0o700)
        with open(os.path.join(d, "privkey.pem"), "wb") as f:
            f.write(key_pem)
        os.chmod(os.path.join(d, "privkey.pem"), 0o600)
        with open(os.path.join(d, "pubcert.pem"), "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))


def static_files(work, mds):
    """For mod_ssl alone: the same certificates as a full store (fill_store), as plain files; {name: (cert, key)}."""
    fill_store(work, mds)
    return {n: (os.path.join(work, "domains", n, "pubcert.pem"), os.path.join(work, "domains", n, "privkey.pem"))
            for n in mds}


def vhosts(https_port, mds, files=None):
    """One https virtual host per MD; with files (mod_ssl alone) each names its certificate and key."""
    blocks = []
    for name in mds:
        lines = ["<VirtualHost 127.0.0.1:%d>" % https_port, "  ServerName %s" % name, "  SSLEngine on"]
        if files:
            lines += ["  SSLCertificateFile %s" % files[name][0], "  SSLCertificateKeyFile %s" % files[name][1]]
        blocks.append("\n".join(lines + ["</VirtualHost>"]))
    return "\n".join(blocks)


def configure(httpd, client, case, mds, https_port, pebble):
    """The module's configuration (mdomain, mod_md) or the static files (mod_ssl alone)."""
    store = os.path.join(httpd.server_root, "md")
    if client == "mod_ssl":
        httpd.add_vhost(vhosts(https_port, mds, static_files(os.path.join(httpd.server_root, "static"), mds)))
        return
    if case != "empty":
        fill_store(store, mds)
    lines = ["MDStoreDir %s" % store, "MDCertificateAgreement accepted", "MDContactEmail admin@example.org",
             "MDPrivateKeys RSA 2048", "MDPortMap http:%d https:%d" % (httpd.port, https_port)]
    if pebble:
        lines += ["MDCertificateAuthority %s" % pebble.directory_url, "MDCACertificateFile %s" % pebble.ca_file]
    else:
        lines += ["MDCertificateAuthority %s" % DEAD_CA]
    httpd.add_config(*lines, *["MDomain %s" % name for name in mds])
    httpd.add_vhost(vhosts(https_port, mds))


def https_answer(port, name):
    """(HTTP status, the served certificate is self-signed by the server's fallback, i.e. not ours) or None."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
            with ctx.wrap_socket(raw, server_hostname=name) as s:
                der = s.getpeercert(binary_form=True)
                s.sendall(("GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % name).encode())
                head = s.recv(4096)
    except (OSError, ssl.SSLError):
        return None
    if not head.startswith(b"HTTP/"):
        return None
    return int(head.split()[1]), x509.load_der_x509_certificate(der)


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def cpu_seconds(pid):
    """user + system CPU of the process (httpd's parent: it does all of the start), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))


class Start:
    """One start of httpd: seconds to the first https answer (or a timeout), RSS, what was served."""
    def __init__(self, client, case):
        self.client, self.case = client, case
        self.seconds = None
        self.status = "error"
        self.detail = ""
        self.rss = None
        self.rss_settled = None
        self.cpu = None
        self.served = ""
        self.ca_requests = None
        self.ca_kinds = {}


def start_until_answer(httpd, https_port, probe, timeout):
    """Spawn httpd, poll until an https request for probe gets an answer: (answer or None, spawn time, why not)."""
    httpd.process = Process("httpd", [BINARY, "-d", httpd.server_root, "-f", httpd.conf_file, "-D",
                                      "FOREGROUND"], os.path.join(httpd.server_root, "logs"),
                            drop_env_prefixes=("APACHE_",))
    t0 = time.monotonic()
    httpd.process.start()
    while time.monotonic() - t0 < timeout:
        if not httpd.process.running():
            return None, t0, "httpd exited: " + httpd.describe(10)[-800:]
        answer = https_answer(https_port, probe)
        if answer:
            return answer, t0, None
        time.sleep(POLL)
    return None, t0, None


def start_one(client, case, work, mds, args, pebble=None):
    st = Start(client, case)
    mods = {"mdomain": [("mdomain", os.path.join(args.build, "mod_mdomain.so"))], "mod_md": [("md", measure.MOD_MD)],
            "mod_ssl": [],
            "before": [("mdomain", os.path.join(args.before or "", "mod_mdomain.so"))]}[client]
    httpd = Httpd(os.path.join(work, "%s-%s" % (client.replace("_", ""), case)),
                  modules=DEFAULT_MODULES + ["ssl", "socache_shmcb"] + mods)
    https_port = httpd.new_port("https")
    configure(httpd, client, case, mds, https_port, pebble)
    ok, out = httpd.config_test()
    if not ok:
        st.detail = "apache2 -t rejects the configuration: " + out.strip()[-600:]
        return st
    probe = mds[len(mds) // 2]
    if case == "full" and client != "mod_ssl":
        # the store as a first start leaves it (md.json per MD, what the module writes): one start, not measured
        answer, t0, why = start_until_answer(httpd, https_port, probe, args.timeout)
        httpd.stop(timeout=30)
        httpd.process = None
        if not answer:
            st.detail = "first start (not measured): " + (why or "no answer within %g s" % args.timeout)
            return st
    mark = pebble.mark() if pebble else 0
    try:
        answer, t0, why = start_until_answer(httpd, https_port, probe, args.timeout)
        if why:
            st.detail = why
            return st
        if not answer:
            st.status, st.seconds = "timeout", args.timeout
            return st
        st.status, st.seconds = "ok", time.monotonic() - t0
        st.cpu = cpu_seconds(httpd.pid)
        status, cert = answer
        st.served = "%d, %s" % (status, "store certificate" if (case != "empty" or client == "mod_ssl")
                                and cert.issuer == cert.subject
                                and cert.not_valid_after - cert.not_valid_before
                                > datetime.timedelta(days=30) else "fallback")
        time.sleep(1.0)
        st.rss = rss_kib([httpd.pid] + httpd.children())
        if args.settle > 1.0 and not pebble:
            time.sleep(args.settle - 1.0)
            st.rss_settled = rss_kib([httpd.pid] + httpd.children())
        if pebble:
            time.sleep(max(0.0, args.watch - 1.0))
            reqs = pebble.requests(since=mark)
            st.ca_requests = len(reqs)
            for method, path in reqs:
                kind = "%s /%s" % (method, path.strip("/").split("/")[0])
                st.ca_kinds[kind] = st.ca_kinds.get(kind, 0) + 1
    except Exception as exc:   # report it, go on with the other measurements
        st.detail = "%s: %s" % (type(exc).__name__, str(exc)[-800:])
    finally:
        if httpd.process:
            httpd.stop(timeout=30)
    return st


def measure_once(client, case, sub, mds, args, listener_ca):
    log("%s, %s store ..." % (client, case))
    os.makedirs(sub)
    dns = pebble = None
    try:
        if case == "ca":
            dns, pebble = measure.start_ca(sub, listener_ca)
        st = start_one(client, case, sub, mds, args, pebble)
    finally:
        if pebble:
            pebble.stop()
        if dns:
            dns.stop()
    log("  %s: %s, CPU %s, %s, settled %s, CA requests %s %s" % (client, fmt_time(st), fmt_cpu(st), fmt_rss(st),
                                                                  fmt_rss_settled(st), st.ca_requests,
                                                                  st.detail[:200]))
    return st


def median_run(runs):
    """The run with the median time (failures count as the slowest); all times are kept for the report."""
    key = [(r.seconds if r.status == "ok" else float("inf"), i) for i, r in enumerate(runs)]
    st = runs[sorted(key)[len(runs) // 2][1]]
    st.all_seconds = [r.seconds for r in runs if r.status == "ok"]
    st.all_cpu = [r.cpu for r in runs if r.status == "ok" and r.cpu is not None]
    st.all_rss = [r.rss for r in runs if r.rss]
    st.all_rss_settled = [r.rss_settled for r in runs if r.rss_settled]
    return st


def fmt_time(st):
    if st is None:
        return "-"
    if st.status == "timeout":
        return "> %d s" % st.seconds
    if st.status != "ok":
        return "failed"
    if len(getattr(st, "all_seconds", [])) > 1:
        return "%s (%s)" % (report.fmt_s(st.seconds), ", ".join(report.fmt_s(x) for x in st.all_seconds))
    return report.fmt_s(st.seconds)


def fmt_cpu(st):
    """The median of the parent's CPU times (all of them in brackets)."""
    cpus = sorted(getattr(st, "all_cpu", []) or ([st.cpu] if st and st.cpu is not None else []))
    if not cpus:
        return "-"
    text = "%.2f s" % cpus[len(cpus) // 2]
    return text + (" (%s)" % ", ".join("%.2f s" % c for c in st.all_cpu) if len(cpus) > 1 else "")


def fmt_rss(st, attr="rss"):
    """The median of the runs' memory."""
    values = sorted(getattr(st, "all_" + attr, []) or ([getattr(st, attr)] if st and getattr(st, attr) else []))
    return "%.0f MiB" % (values[len(values) // 2] / 1024.0) if values else "-"


def fmt_rss_settled(st):
    return fmt_rss(st, "rss_settled")


def render(args, facts, results, clients, skipped, elapsed, started):
    def cell(client, case, fn):
        return fn(results.get((client, case)))
    titles = {"mdomain": "mod_mdomain", "mod_ssl": "mod_ssl alone (static files)", "before": "mod_mdomain before"}
    head = "| | " + " | ".join(titles.get(c, c) for c in clients) + " |\n|---|" + "---|" * len(clients) + "\n"
    rows = [
        ("start to first https answer, empty store", "empty", fmt_time),
        ("parent's CPU until then (user + sys), empty store", "empty", fmt_cpu),
        ("memory (RSS, parent + children), empty store", "empty", fmt_rss),
        ("memory %g s after the answer, empty store" % args.settle, "empty", fmt_rss_settled),
        ("start to first https answer, full store", "full", fmt_time),
        ("parent's CPU until then (user + sys), full store", "full", fmt_cpu),
        ("memory (RSS, parent + children), full store", "full", fmt_rss),
        ("memory %g s after the answer, full store" % args.settle, "full", fmt_rss_settled),
        ("served at the first answer, full store", "full", lambda s: s.served if s and s.served else "-"),
        ("start to first https answer, bare store (no md.json)", "bare", fmt_time),
        ("parent's CPU until then (user + sys), bare store", "bare", fmt_cpu),
        ("start to first https answer, full store, CA = pebble", "ca", fmt_time),
        ("requests to the CA in %d s after the start (valid certificates)" % args.watch, "ca",
         lambda s: str(s.ca_requests) if s and s.ca_requests is not None else "-"),
    ]
    table = head + "".join("| %s | %s |\n" % (label, " | ".join(cell(c, case, fn) for c in clients))
                           for label, case, fn in rows if case in args.cases)
    kinds = []
    for c in clients:
        st = results.get((c, "ca"))
        if st and st.ca_kinds:
            kinds.append("- %s: %s" % (c, ", ".join("%s × %d" % kv for kv in sorted(st.ca_kinds.items()))))
    problems = ["- %s, %s store: %s" % (st.client, st.case, st.detail)
                for st in results.values() if st.detail]
    out = ["# httpd start with %d MDs: mod_mdomain and mod_md side by side\n" % args.mds,
           "Run %s, %s in all. %d MDs (`MDomain md-N.example.org`), one https virtual host per MD "
           "(`SSLEngine on`), `MDPrivateKeys RSA 2048`, mod_ssl, event MPM (StartServers 1). Empty store: "
           "nothing in MDStoreDir, CA a dead URL (%s). Full store: domains/NAME/privkey.pem + pubcert.pem "
           "(self-signed, valid 60 days, one shared P-256 key) as a first start left it (one start before the measured "
           "one, not measured: each MD's md.json written); bare store (`--cases bare`): the same certificates "
           "without md.json (copied in from elsewhere). \"start\" is from spawning `apache2 -D "
           "FOREGROUND` until an https request with SNI for md-%d.example.org gets an HTTP answer; memory is "
           "VmRSS summed over the parent and its children 1 s later (median of the starts), and again when the "
           "renewal watchdog's first run is over; the parent's CPU time (it does all of the start, both "
           "configuration passes) varies much less with the machine's load than the wall time. CA requests: full store, CA = a fresh "
           "pebble, everything else default; counted from pebble's log for %d s after spawning. Each start is "
           "capped at %d s. mod_ssl alone: no md module, each virtual host names the full store's files with "
           "SSLCertificateFile/SSLCertificateKeyFile (the floor; its empty and full rows are the same setup). "
           "%s\n" % (started.strftime("%Y-%m-%d %H:%M %Z"), report.fmt_s(elapsed), args.mds,
                                  DEAD_CA, args.mds // 2, args.watch, args.timeout,
                                  "Times are medians of %d starts (all of them in brackets)." % args.repeat
                                  if args.repeat > 1 else ""),
           table]
    if kinds:
        out.append("CA requests by kind:\n\n" + "\n".join(kinds) + "\n")
    if skipped:
        out.append("mod_md skipped: %s\n" % skipped)
    if problems:
        out.append("## Failures\n\n" + "\n".join(problems) + "\n")
    out.append("## Machine\n\n" + "\n".join("- %s: %s" % kv for kv in facts.items()) + "\n")
    return "\n".join(out)


def main():
    args = parse_args()
    args.build = os.environ.get("MD_BUILD") or os.path.join(REPO, "build")
    if not os.path.exists(os.path.join(args.build, "mod_mdomain.so")):
        sys.exit("bench: %s/mod_mdomain.so missing: run `make all` first" % args.build)
    if os.geteuid() != 0 or not os.path.exists(BINARY):
        sys.exit("bench: needs root and apache2 (httpd starts as root and switches to www-data)")
    skipped = "" if os.path.exists(measure.MOD_MD) else "missing %s" % measure.MOD_MD
    clients = [c for c in args.clients if c in ("mdomain", "mod_ssl") or (c == "mod_md" and not skipped)]
    if args.before:
        args.before = os.path.abspath(args.before)
        if not os.path.exists(os.path.join(args.before, "mod_mdomain.so")):
            sys.exit("bench: %s/mod_mdomain.so missing" % args.before)
        clients.insert(clients.index("mdomain") if "mdomain" in clients else 0, "before")
    started = datetime.datetime.now().astimezone()
    facts = report.machine_facts(os.path.join(args.build, "mdomain"))
    if args.before:
        facts["mod_mdomain before"] = args.before
        facts["mod_mdomain"] = os.path.abspath(args.build)
    mds = names(args.mds)
    t0 = time.monotonic()
    work = tempfile.mkdtemp(prefix="mdomain-bench-start-")
    os.chmod(work, 0o755)
    results = {}
    try:
        listener_ca = certs.CA(os.path.join(work, "listener-ca"))
        # rounds outermost: the starts of all clients interleaved, so that the machine's load meets them alike
        runs = {}
        for i in range(args.repeat):
            for case in args.cases:
                for client in clients:
                    if client == "mod_ssl" and case == "ca":
                        continue
                    sub = os.path.join(work, "%s-%s-%d" % (client.replace("_", ""), case, i))
                    runs.setdefault((client, case), []).append(measure_once(client, case, sub, mds, args,
                                                                            listener_ca))
        for key, these in runs.items():
            results[key] = median_run(these)
    finally:
        if args.keep:
            log("kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - t0
    facts["load average at end"] = "%.2f %.2f %.2f" % os.getloadavg()
    text = render(args, facts, results, clients, skipped, elapsed, started)
    sys.stdout.write(text)
    out = args.out or os.path.join(HERE, "results", "module-start-%s.md" % started.strftime("%Y-%m-%d"))
    if out != "-":
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        with open(out, "w") as f:
            f.write(text)
        log("report written to %s" % os.path.relpath(out, REPO))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Live activation of mod_mdomain (make bench-live): how soon after a renewal finishes its certificate is served
(median and max over forced renewals), and what the mechanism costs a TLS handshake: the server's CPU time per
handshake and handshakes per second on one core, mod_mdomain (its start set, and a set served live) against mod_ssl
serving the same certificate from its files. Prints a Markdown report and writes it to bench/results/live-<date>.md.
It measures; it asserts nothing. See bench/README.md."""
import argparse
import datetime
import hashlib
import os
import pwd
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
sys.path.insert(0, HERE)

from cryptography import x509                                      # noqa: E402

from rig import certs                                              # noqa: E402
from rig.httpd import BINARY, Httpd                                # noqa: E402
from rig.ocspca import PebbleResponder                            # noqa: E402
from rig.proc import wait_until                                    # noqa: E402
from lib import measure, report                                    # noqa: E402

NAME = "live.bench.test"
RENEWED = "have been renewed and are served from now on"
ACTIVATED = "activated the renewed certificates"
LOG_TIME_RE = re.compile(r"^\[\w+ (\w+ +\d+ [\d:]+)\.(\d+) (\d+)\]")
S_TIME_RE = re.compile(r"(\d+) connections in ([\d.]+) real seconds")
TICKS = os.sysconf("SC_CLK_TCK")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=20, help="forced renewals timed (default 20)")
    ap.add_argument("--rounds", type=int, default=5, help="handshake measurements per setup (default 5)")
    ap.add_argument("--seconds", type=int, default=5, help="seconds per handshake measurement (default 5)")
    ap.add_argument("--callgrind", type=int, default=200, help="handshakes counted under callgrind per setup "
                    "(0: none; default 200)")
    ap.add_argument("--keys", default="secp256r1", help="MDPrivateKeys of the MD (default secp256r1; e.g. "
                    "'RSA secp256r1' for two key types, each switched per handshake)")
    ap.add_argument("--stapling", action="store_true", help="OCSP stapling on (pebble's certificates with the URL "
                    "of a local responder; MDStapling on for the module, SSLUseStapling for mod_ssl alone): the "
                    "callgrind setups with and without status_request, files against the live set")
    ap.add_argument("--out", help="report file (default bench/results/live-<date>.md; '-' for none)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    return ap.parse_args()


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


def log_time(line):
    m = LOG_TIME_RE.match(line)
    return time.mktime(time.strptime("%s %s" % (m.group(1), m.group(3)), "%b %d %H:%M:%S %Y")) + \
        float("0." + m.group(2))


def log_times(httpd, text):
    return [log_time(line) for line in httpd.error_log_text().splitlines() if text in line]


def served_serial(port, der=None):
    """The serial of the certificate a new handshake gets (and a HEAD request, so the access log shows it); its DER
    appended to der when given."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=NAME) as s:
            serial = x509.load_der_x509_certificate(s.getpeercert(binary_form=True)).serial_number
            if der is not None:
                der.append(s.getpeercert(binary_form=True))
            s.sendall(("HEAD / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % NAME).encode())
            while s.recv(4096):
                pass
            return serial


KEYS = ["secp256r1"]
STAPLING = []         # [True] with --stapling


def key_files(d):
    """The certificate and key files of KEYS in the store's directory d (RSA's without a suffix, as mod_md)."""
    out = []
    for k in KEYS:
        suffix = "" if k.upper().startswith("RSA") else "." + k
        out.append(("%s/pubcert%s.pem" % (d, suffix), "%s/privkey%s.pem" % (d, suffix)))
    return out


def configure(httpd, pebble, mod_path, store, https_port, children, module=True):
    httpd.modules = [m for m in httpd.modules if not (isinstance(m, tuple) and m[0] == "mdomain")]
    httpd.add_modules("ssl", "socache_shmcb")
    httpd.extra_config = [
        "StartServers %d" % children, "ServerLimit %d" % children, "ThreadsPerChild 10",
        "MaxRequestWorkers %d" % (10 * children), "MinSpareThreads 1", "MaxSpareThreads %d" % (10 * children),
        'LogFormat "%P %{SSL_SERVER_M_SERIAL}x %{msec}t" served', "CustomLog logs/served.log served",
    ]
    lines = ["  ServerName %s" % NAME, "  SSLEngine on"]
    if module:
        httpd.add_modules(("mdomain", mod_path))
        httpd.extra_config += [
            "MDStoreDir %s" % store, "MDPortMap http:%d https:%d" % (httpd.port, https_port),
            "MDCertificateAuthority %s" % pebble.directory_url, "MDCACertificateFile %s" % pebble.ca_file,
            "MDCertificateAgreement accepted", "MDContactEmail admin@bench.test", "MDPrivateKeys %s" % " ".join(KEYS),
            "MDCAChallenges http-01", "MDInitialDelay 1s", "MDomain %s" % NAME,
        ] + (["MDStapling on"] if STAPLING else [])
    else:
        d = os.path.join(store, "domains", NAME)
        for cert, key in key_files(d):
            lines += ["  SSLCertificateFile %s" % cert, "  SSLCertificateKeyFile %s" % key]
        if STAPLING:
            lines += ["  SSLUseStapling on"]
            httpd.extra_config += ["SSLStaplingCache shmcb:%s(65536)" % os.path.join(store, "..", "stapling")]
    httpd.vhosts = ["<VirtualHost 127.0.0.1:%d>" % https_port, *lines, "</VirtualHost>",
                    "<VirtualHost 127.0.0.1:%d>" % httpd.port, "  ServerName %s" % NAME, "</VirtualHost>"]


def force_renewal(cli, store):
    return subprocess.Popen([cli, "-d", store, "renew", "--force", NAME], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def one_switch(httpd, cli, store, https_port, k):
    """A forced renewal: seconds from its end (the watchdog's notice) to the first handshake with the new
    certificate, to every child having served it, and to its activation in the store."""
    before = served_serial(https_port)
    renewed0, activated0 = len(log_times(httpd, RENEWED)), len(log_times(httpd, ACTIVATED))
    proc = force_renewal(cli, store)
    first, deadline, der = None, time.time() + 120, []
    while first is None and time.time() < deadline:
        if served_serial(https_port, der) != before:
            first = time.time()
    if first is None:
        raise RuntimeError("the forced renewal %d was not served within 120 s" % k)
    # with --stapling: when the new certificate's OCSP response was stored (the module's task, after the switch)
    record = os.path.join(store, "ocsp", NAME, "ocsp-%s.json" % hashlib.sha1(der[-1]).hexdigest())
    kids = set(httpd.children())
    deadline = time.time() + 30
    seen = set()
    while not kids <= seen and time.time() < deadline:
        served_serial(https_port)
        seen = served_children(httpd, before)
    all_children = max(seen_times(httpd, before).values()) if kids <= seen else None
    proc.communicate(timeout=120)
    wait_until(lambda: len(log_times(httpd, ACTIVATED)) > activated0, 30, what="the activation")
    finished = log_times(httpd, RENEWED)[renewed0]
    activated = log_times(httpd, ACTIVATED)[activated0]
    if STAPLING:
        wait_until(lambda: os.path.exists(record), 60, what="the new certificate's OCSP response")
    return {"first": first - finished, "all": all_children - finished if all_children else None,
            "activated": activated - finished, "run": k,
            "ocsp": os.stat(record).st_mtime - finished if STAPLING else None}


def served_rows(httpd):
    rows = []
    with open(os.path.join(httpd.server_root, "logs", "served.log")) as f:
        for line in f:
            pid, serial, msec = line.split()[:3]
            if serial != "-":
                rows.append((int(pid), int(serial, 16), int(msec) / 1000.0))
    return rows


def seen_times(httpd, old):
    """{child: the first time it served a certificate other than old}, after old was last served."""
    rows = served_rows(httpd)
    last_old = max([t for _, s, t in rows if s == old] or [0])
    out = {}
    for pid, s, t in rows:
        if s != old and t >= last_old and pid not in out:
            out[pid] = t
    return out


def served_children(httpd, old):
    return set(seen_times(httpd, old))


def children_cpu(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / TICKS


def handshakes(httpd, https_port, seconds):
    """openssl s_time (new TLS sessions, no request) on the second CPU against httpd's child on the first: the
    child's CPU seconds per handshake and the handshakes per wall second."""
    pids = httpd.children()
    for _ in range(20):
        served_serial(https_port)
    cpu0 = children_cpu(pids)
    res = subprocess.run(["taskset", "-c", "1", "openssl", "s_time", "-connect", "127.0.0.1:%d" % https_port,
                          "-new", "-time", str(seconds)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=seconds + 60)
    cpu = children_cpu(pids) - cpu0
    m = S_TIME_RE.search(res.stdout)
    n, wall = int(m.group(1)), float(m.group(2))
    return {"n": n, "us": cpu * 1e6 / n, "wall": n / wall}


def start_pinned(httpd):
    """Start httpd with its processes on CPU 0 (the client runs on CPU 1)."""
    os.sched_setaffinity(0, {0})
    try:
        httpd.start()
    finally:
        os.sched_setaffinity(0, set(range(os.cpu_count())))


def cost_rounds(args, httpd, pebble, mod_path, store, https_port, cli):
    results = {"files": [], "start": [], "live": []}
    for r in range(args.rounds):
        httpd.stop()
        configure(httpd, pebble, mod_path, store, https_port, 1)
        start_pinned(httpd)
        results["start"].append(handshakes(httpd, https_port, args.seconds))
        before = served_serial(https_port)
        force_renewal(cli, store).communicate(timeout=120)
        wait_until(lambda: served_serial(https_port) != before, 30, what="the live set")
        results["live"].append(handshakes(httpd, https_port, args.seconds))
        httpd.stop()
        configure(httpd, pebble, mod_path, store, https_port, 1, module=False)
        start_pinned(httpd)
        results["files"].append(handshakes(httpd, https_port, args.seconds))
        log("round %d: %s" % (r + 1, ", ".join("%s %.0f us" % (k, v[-1]["us"]) for k, v in results.items())))
    return results


def handshake_only(port, status=False):
    """One full TLS handshake with SNI, nothing else; with status, by openssl s_client -status (status_request,
    which Python's ssl cannot send); returns whether an OCSP response was stapled then."""
    if status:
        res = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-servername", NAME,
                              "-status"], input=b"", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        return b"OCSP Response Status: successful" in res.stdout
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=60) as raw:
        with ctx.wrap_socket(raw, server_hostname=NAME):
            pass


def accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        return True
    except OSError:
        return False


def callgrind_total(path):
    """The Ir total of a callgrind output file."""
    with open(path) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    raise RuntimeError("no total in %s" % path)


def callgrind_cost(httpd, https_port, n, cli, store, live, status=False, name=None):
    """The instructions the server executes per TLS handshake (callgrind's Ir): apache2 -X (one process) under
    callgrind, counting only inside OpenSSL's SSL_accept (which runs the certificate callback), a dump before each
    SSL_new (mod_ssl makes one per connection), so that each dump holds one connection's handshake; 10 handshakes with
    SNI first (a live set is loaded once there), then n, whose dumps count. For the live set after a forced renewal
    (waited for in the error log). Deterministic where time is not. Returns the median and the mean."""
    httpd.write_config()
    outdir = os.path.join(os.path.dirname(httpd.server_root), "callgrind")
    os.makedirs(outdir, exist_ok=True)
    os.chmod(outdir, 0o777)                       # apache2 -X runs as www-data after its start
    out = os.path.join(outdir, "%s.out" % (name or ("live" if live else "start" if "mdomain" in str(httpd.modules)
                                                                          else "files")))
    err = open(os.path.join(outdir, os.path.basename(out) + ".err"), "w")
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--vgdb=no", "--collect-atstart=no",
                             "--toggle-collect=SSL_accept", "--dump-before=SSL_new", "--callgrind-out-file=" + out,
                             BINARY, "-X", "-d", httpd.server_root, "-f", httpd.conf_file, "-D", "FOREGROUND"],
                            stdout=err, stderr=err)
    try:
        # -X logs no "resuming normal operations": ready when it accepts connections
        wait_until(lambda: accepts(https_port), 300, what="httpd -X under callgrind")
        # callgrind made its output file as root at the start; it writes it at the end as www-data
        www = pwd.getpwnam("www-data")
        os.chown(out, www.pw_uid, www.pw_gid)
        if live:
            # -X has no parent to activate the set: the live set of the watchdog's announcement is measured
            renewed = len(log_times(httpd, RENEWED))
            asker = force_renewal(cli, store)
            wait_until(lambda: len(log_times(httpd, RENEWED)) > renewed, 600, what="the live set under callgrind")
            asker.terminate()
            asker.wait()
        for _ in range(10):
            handshake_only(https_port, status)
        if status:                                # the response fetched (the module's task, or mod_ssl at once)
            wait_until(lambda: handshake_only(https_port, True), 120, what="a stapled response")
        first = len(dumps(out))
        for _ in range(n):
            handshake_only(https_port, status)
        handshake_only(https_port)                # its SSL_new dumps the last counted handshake
    finally:
        proc.terminate()
        proc.wait(timeout=120)
        err.close()
    files = dumps(out)[first:first + n]
    counts = [callgrind_total(f) for f in files]
    if len(counts) < n:
        raise RuntimeError("%d dumps of %d handshakes in %s" % (len(counts), n, outdir))
    cb = sum(inclusive(f, "cert_cb") for f in files) / n if "mdomain" in str(httpd.modules) else 0
    scb = sum(inclusive(f, "status_cb") for f in files) / n if "mdomain" in str(httpd.modules) else 0
    return {"median": statistics.median(counts), "mean": statistics.mean(counts), "min": min(counts),
            "max": max(counts), "cert_cb": cb, "status_cb": scb}


def inclusive(path, function):
    """The instructions spent in function and what it called (callgrind_annotate --inclusive), 0 when not called."""
    res = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", path], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True, timeout=120)
    for line in res.stdout.splitlines():
        if re.search(r":%s \[" % function, line):
            return int(line.split()[0].replace(",", ""))
    return 0


def dumps(out):
    """callgrind's dump files of out (out.1, out.2, ...), in order."""
    d, base = os.path.split(out)
    parts = []
    for f in os.listdir(d):
        m = re.match(re.escape(base) + r"\.(\d+)$", f)
        if m:
            parts.append((int(m.group(1)), os.path.join(d, f)))
    return [f for _, f in sorted(parts)]


def callgrind_rounds(args, httpd, pebble, mod_path, store, https_port, cli):
    out = {}
    httpd.stop()
    setups = [("files", False, False, False), ("start", True, False, False), ("live", True, True, False)]
    if STAPLING:
        setups = [("files", False, False, False), ("files-status", False, False, True),
                  ("live", True, True, False), ("live-status", True, True, True)]
    for key, module, live, status in setups:
        configure(httpd, pebble, mod_path, store, https_port, 1, module=module)
        out[key] = callgrind_cost(httpd, https_port, args.callgrind, cli, store, live, status, key)
        log("callgrind %s: %.0f instructions per handshake (median)" % (key, out[key]["median"]))
    return out


def fmt(v, unit="s", digits=3):
    return "-" if v is None else ("%.*f %s" % (digits, v, unit))


def render_callgrind(args, ir):
    if "error" in ir:
        return "## The same in instructions (callgrind)\n\nNot measured: %s\n" % ir["error"]
    out = ["## The same in instructions (callgrind)\n",
           "Time on a shared machine varies by more than the mechanism costs, so the server's work is also counted "
           "in instructions: `apache2 -X` (one process) under valgrind's callgrind, counting only inside OpenSSL's "
           "`SSL_accept` (which runs the certificate callback), one dump per connection (before mod_ssl's `SSL_new`); "
           "10 handshakes first (a live set is loaded once there), then %d full handshakes counted (a Python client "
           "with SNI, nothing sent after the handshake), the same three setups.\n" % args.callgrind,
           "| setup | SSL_accept: instructions per handshake (median) | mean | min / max | against files (medians) "
           "| in the certificate callback (mean, inclusive) | the callback's share of the median |\n"
           "| --- | --- | --- | --- | --- | --- | --- |"]
    labels = (("files", "files (mod_ssl alone)"), ("start", "mod_mdomain, start set"),
              ("live", "mod_mdomain, live set"))
    if STAPLING:
        out[1] += ("\nWith `--stapling`: pebble's certificates carry the URL of a local OCSP responder; mod_ssl "
                   "alone has `SSLUseStapling on` (its own stapling, responses in its shmcb cache), mod_mdomain "
                   "`MDStapling on`. Each setup without and with `status_request` (then the client is `openssl "
                   "s_client -status`, each handshake counted after a stapled response was there); the last column "
                   "adds the status callback's instructions (`status_cb`, inclusive: the live certificate's "
                   "response from the module's set) to the certificate callback's.\n")
        labels = (("files", "files (mod_ssl alone), no status_request"),
                  ("files-status", "files (mod_ssl alone, SSLUseStapling), status_request"),
                  ("live", "mod_mdomain, live set, MDStapling, no status_request"),
                  ("live-status", "mod_mdomain, live set, MDStapling, status_request"))
    for key, label in labels:
        r = ir[key]
        base = ir["files-status" if key.endswith("-status") else "files"]["median"]
        cb = r["cert_cb"] + r.get("status_cb", 0)
        mine = key.startswith("files")
        out.append("| %s | %.0f | %.0f | %.0f / %.0f | %+.2f %% (%+.0f) | %s | %s |"
                   % (label, r["median"], r["mean"], r["min"], r["max"], (r["median"] - base) * 100 / base,
                      r["median"] - base, "%.0f" % cb if not mine else "-",
                      "%.2f %%" % (cb * 100 / r["median"]) if not mine else "-"))
    out.append("\nThe handshakes' own instruction counts spread widely (the client's key share, session tickets, "
               "how the reads fall), so the medians of the three setups differ by chance too; the callback's "
               "instructions (callgrind_annotate, inclusive) are the mechanism's exact cost.\n")
    return "\n".join(out) + "\n"


def render(args, facts, switches, cost, started, elapsed, ir=None):
    out = ["# Live activation: switch time and handshake cost (%s)\n" % started.strftime("%Y-%m-%d %H:%M"),
           "`bench/live.py --runs %d --rounds %d --seconds %d%s`, %.0f s. One httpd (event MPM, root parent, "
           "www-data children), one MD (`%s`, MDPrivateKeys %s), pebble on this machine.\n"
           % (args.runs, args.rounds, args.seconds, " --stapling" if STAPLING else "", elapsed, NAME,
              " ".join(KEYS))]
    firsts = [s["first"] for s in switches]
    alls = [s["all"] for s in switches if s["all"] is not None]
    acts = [s["activated"] for s in switches]
    out.append("## From the end of a renewal to its certificate being served\n")
    out.append("`mdomain renew --force` on the running server, %d times; four children. Measured from the "
               "watchdog's notice that the renewal finished (error log, microseconds) to: the first handshake "
               "(a client polling in a loop) that got the new certificate; every child having served it (the "
               "access log's `%%P %%{SSL_SERVER_M_SERIAL}x %%{msec}t`); its activation in the store by the parent "
               "(error log).\n" % len(switches))
    out.append("| | median | max | min |\n| --- | --- | --- | --- |")
    ocsps = [s["ocsp"] for s in switches if s.get("ocsp") is not None]
    for label, vals in (("first handshake with the new certificate", firsts),
                        ("every child serving it", alls), ("activated in domains/ (parent)", acts),
                        ("its OCSP response fetched and stored (--stapling; ocsp/NAME/ocsp-ID.json's mtime)", ocsps)):
        if vals:
            out.append("| %s | %s | %s | %s |" % (label, fmt(statistics.median(vals)), fmt(max(vals)),
                                                  fmt(min(vals))))
    out.append("\nAll runs (first, every child, activated): "
               + "; ".join("%.3f/%s/%.2f" % (s["first"], "%.3f" % s["all"] if s["all"] is not None else "-",
                                             s["activated"]) for s in switches) + "\n")
    out.append("## What the mechanism costs a handshake\n")
    out.append("httpd with one child pinned to CPU 0, `openssl s_time -new` (full TLS 1.3 handshakes, no request) "
               "pinned to CPU 1, %d s per measurement, %d rounds interleaved (files, start set, live set). The "
               "child's CPU time (utime + stime from /proc) per handshake is the cost; one core's worth of "
               "handshakes per second is 1 s over it. `files`: mod_ssl alone, the same certificate and key as "
               "SSLCertificateFile (no mod_mdomain); `start set`: mod_mdomain after a start, its certificate "
               "callback finds nothing changed (two atomic reads); `live set`: after a forced renewal, every "
               "handshake gets the cached set (SSL_certs_clear, SSL_use_cert_and_key).\n"
               % (args.seconds, args.rounds))
    out.append("| setup | CPU per handshake (median) | handshakes/s on one core | wall handshakes/s (median) "
               "| cost against files (medians) | cost against files (median of the rounds' own) |\n"
               "| --- | --- | --- | --- | --- | --- |")
    if not cost["files"]:
        return "\n".join(out + ["", render_callgrind(args, ir) if ir else ""])
    base = statistics.median(r["us"] for r in cost["files"])
    for key, label in (("files", "files (mod_ssl alone)"), ("start", "mod_mdomain, start set"),
                       ("live", "mod_mdomain, live set")):
        us = statistics.median(r["us"] for r in cost[key])
        wall = statistics.median(r["wall"] for r in cost[key])
        paired = statistics.median((r["us"] - f["us"]) * 100 / f["us"] for r, f in zip(cost[key], cost["files"]))
        out.append("| %s | %.1f us | %.0f | %.0f | %+.1f %% | %+.1f %% |"
                   % (label, us, 1e6 / us, wall, (us - base) * 100 / base, paired))
    out.append("\nEach round (us per handshake): " + "; ".join(
        "files %.1f / start %.1f / live %.1f" % (cost["files"][i]["us"], cost["start"][i]["us"], cost["live"][i]["us"])
        for i in range(len(cost["files"]))) + "\n")
    if ir:
        out.append(render_callgrind(args, ir))
    out.append("## Machine\n\n" + "\n".join("- %s: %s" % kv for kv in facts.items()) + "\n")
    return "\n".join(out)


def run(args, work):
    build = os.environ.get("MD_BUILD") or os.path.join(REPO, "build")
    mod_path, cli = os.path.join(build, "mod_mdomain.so"), os.path.join(build, "mdomain")
    listener_ca = certs.CA(os.path.join(work, "listener-ca"))
    httpd = Httpd(os.path.join(work, "httpd"))
    https_port = httpd.new_port("https")
    store = os.path.join(work, "md")
    responder = PebbleResponder(os.path.join(work, "responder")) if STAPLING else None
    dns, pebble = measure.start_ca(work, listener_ca, http_port=httpd.port,
                                   ocsp_responder_url=responder.url if responder else "")
    if responder:
        responder.use(pebble)
    try:
        configure(httpd, pebble, mod_path, store, https_port, 4)
        start_pinned(httpd)
        wait_until(lambda: RENEWED in httpd.error_log_text(), 60, what="the first certificate")
        wait_until(lambda: len(log_times(httpd, ACTIVATED)) >= 1, 30, what="its activation")
        switches = []
        for k in range(args.runs):
            switches.append(one_switch(httpd, cli, store, https_port, k))
            log("switch %d: first %.3f s, every child %s, activated %.2f s" % (
                k + 1, switches[-1]["first"], fmt(switches[-1]["all"]), switches[-1]["activated"]))
        cost = cost_rounds(args, httpd, pebble, mod_path, store, https_port, cli)
        ir = None
        if args.callgrind:
            try:
                ir = callgrind_rounds(args, httpd, pebble, mod_path, store, https_port, cli)
            except Exception as e:                       # the timed parts are reported all the same
                log("callgrind failed: %s" % e)
                ir = {"error": str(e)}
    finally:
        httpd.stop()
        pebble.stop()
        dns.stop()
        if responder:
            responder.stop()
    return switches, cost, ir


def main():
    args = parse_args()
    KEYS[:] = args.keys.split()
    STAPLING[:] = [True] if args.stapling else []
    if os.geteuid() != 0 or not os.path.exists(BINARY) or (os.cpu_count() or 1) < 2:
        sys.exit("bench: needs root, apache2 and two CPUs")
    started = datetime.datetime.now().astimezone()
    facts = report.machine_facts(os.path.join(os.environ.get("MD_BUILD") or os.path.join(REPO, "build"),
                                              "mdomain"))
    t0 = time.monotonic()
    work = tempfile.mkdtemp(prefix="mdomain-bench-live-")
    os.chmod(work, 0o755)
    try:
        switches, cost, ir = run(args, work)
    finally:
        if args.keep:
            log("kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    facts["load average at end"] = "%.2f %.2f %.2f" % os.getloadavg()
    text = render(args, facts, switches, cost, started, time.monotonic() - t0, ir)
    sys.stdout.write(text)
    out = args.out or os.path.join(HERE, "results", "live-%s.md" % started.strftime("%Y-%m-%d"))
    if out != "-":
        with open(out, "w") as f:
            f.write(text)
        log("report written to %s" % os.path.relpath(out, REPO))


if __name__ == "__main__":
    main()

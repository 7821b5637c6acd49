#!/usr/bin/python3
"""A/B of mod_mdomain's live activations between builds, interleaved on one machine: per round, for each build (in
alternating order), a fresh pebble and a private httpd with N MDs (the configuration of bench/issuance.py), timed
from httpd's start until every MD is staged (the watchdog's "renewed" line) and until every MD is activated by the
parent (its "activated the renewed certificates" line, in the monitor's passes every 10 s), with httpd's CPU (parent
and children) and the parent's own CPU at both points, the span of the parent's activation lines, requests per MD
and the load. Measures, never asserts. Usage: bench/ab_activate.py --builds build-before,build [--mds 1000]
[--rounds 3] [--out FILE]"""
import argparse
import datetime
import os
import re
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
sys.path.insert(0, HERE)

from rig import certs                            # noqa: E402
from rig.httpd import DEFAULT_MODULES, Httpd     # noqa: E402
from lib import measure                          # noqa: E402

ACTIVATED = re.compile(r"\] (\S+): activated the renewed certificates")
STAMP = re.compile(r"^\[\w+ (\w+ \d+ [\d:.]+ \d+)\][^\n]*: activated the renewed certificates", re.M)


def log(msg):
    sys.stderr.write("ab: %s\n" % msg)
    sys.stderr.flush()


def tree_cpu(pid):
    """httpd's CPU seconds: the parent with its reaped children, plus its live children; and the parent's own."""
    own = measure.proc_cpu(pid) or 0.0
    total = (measure.proc_cpu(pid, children=True) or 0.0)
    total += sum(measure.proc_cpu(c) or 0.0 for c in measure.proc_children(pid))
    return total, own


def activation_span(text):
    """Seconds from the first to the last activation line of the log."""
    stamps = [datetime.datetime.strptime(s, "%b %d %H:%M:%S.%f %Y") for s in STAMP.findall(text)]
    return (max(stamps) - min(stamps)).total_seconds() if stamps else None


def one(build, work, listener_ca, n, timeout):
    r = {"build": build, "load": os.getloadavg()[0], "status": "failed"}
    names = measure.md_names(n)
    httpd = Httpd(os.path.join(work, "httpd"),
                  modules=DEFAULT_MODULES + ["ssl", ("mdomain", os.path.join(build, "mod_mdomain.so"))])
    store = os.path.join(httpd.server_root, "md")
    dns, pebble = measure.start_ca(work, listener_ca, http_port=httpd.port)
    try:
        httpd.add_config(*measure.modmd_config(store, pebble, httpd.port, names))
        t0 = time.monotonic()
        httpd.start(timeout=30.0)
        pid = httpd.process.pid
        staged = measure.LogWatch(httpd.error_log, measure.DONE_LINES["mod_mdomain"])
        active = measure.LogWatch(httpd.error_log, ACTIVATED)
        pending_s, pending_a = set(names), set(names)
        last_size, last_change = -1, time.monotonic()
        while pending_a and time.monotonic() < t0 + timeout:
            size = pebble.mark()
            if size != last_size:
                last_size, last_change = size, time.monotonic()
            elif pending_s and time.monotonic() - last_change > measure.STALL and measure.pebble_deadlocked(pebble):
                r["status"] = "pebble-deadlock"
                break
            if pending_s:
                pending_s -= staged.names()
                if not pending_s:
                    r["staged"] = time.monotonic() - t0
                    r["cpu_staged"], r["parent_staged"] = tree_cpu(pid)
            pending_a -= active.names()
            time.sleep(measure.POLL)
        if r["status"] == "pebble-deadlock":
            pass
        elif not pending_a:
            r["active"] = time.monotonic() - t0
            r["cpu_active"], r["parent_active"] = tree_cpu(pid)
            r["status"] = "ok"
        else:
            r["detail"] = "%d staged, %d activated" % (n - len(pending_s), n - len(pending_a))
    finally:
        httpd.stop()
        pebble.stop()
        dns.stop()
        r["requests"] = len(pebble.requests()) / n
    r["span"] = activation_span(httpd.error_log_text())
    r["load_after"] = os.getloadavg()[0]
    return r


def fmt(v, unit="s"):
    return "-" if v is None else ("%.2f %s" % (v, unit)).strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--builds", required=True, help="comma-separated build directories (with mod_mdomain.so)")
    ap.add_argument("--mds", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=180.0)
    ap.add_argument("--out", default="-")
    args = ap.parse_args()
    builds = [os.path.abspath(b) for b in args.builds.split(",")]
    base = tempfile.mkdtemp(prefix="mdomain-ab-activate-")
    os.chmod(base, 0o755)
    listener_ca = certs.CA(os.path.join(base, "listener-ca"))
    def logged(r):
        log("round %d %s: %s staged %s active %s cpu %s/%s parent %s/%s span %s load %.1f" % (
            r["round"], os.path.basename(r["build"]), r["status"], fmt(r.get("staged")), fmt(r.get("active")),
            fmt(r.get("cpu_staged")), fmt(r.get("cpu_active")), fmt(r.get("parent_staged")),
            fmt(r.get("parent_active")), fmt(r.get("span")), r["load"]))

    try:
        rows = measure.interleaved_rounds(builds, args.rounds, base,
                                          lambda b, work, rnd: one(b, work, listener_ca, args.mds, args.timeout),
                                          logged, log)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    out = ["| round | build | status | staged | activated | httpd CPU at staged / activated | parent CPU at staged"
           " / activated | activation lines span | requests/MD | load before / after |",
           "|---:|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        out.append("| %d | %s | %s | %s | %s | %s / %s | %s / %s | %s | %.2f | %.1f / %.1f |" % (
            r["round"], os.path.basename(r["build"]), r["status"], fmt(r.get("staged")), fmt(r.get("active")),
            fmt(r.get("cpu_staged")), fmt(r.get("cpu_active")), fmt(r.get("parent_staged")),
            fmt(r.get("parent_active")), fmt(r.get("span")), r["requests"], r["load"], r["load_after"]))
    out += ["", "| build | runs | staged (median) | activated | httpd CPU at activated | parent CPU staged -> activated"
            " | span | requests/MD |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for b in builds:
        ok = [r for r in rows if r["build"] == b and r["status"] == "ok"]
        if not ok:
            continue

        def med(k):
            vals = [r[k] for r in ok if r.get(k) is not None]
            return statistics.median(vals) if vals else None
        out.append("| %s | %d | %s | %s | %s | %s | %s | %.2f |" % (
            os.path.basename(b), len(ok), fmt(med("staged")), fmt(med("active")), fmt(med("cpu_active")),
            fmt(statistics.median([r["parent_active"] - r["parent_staged"] for r in ok])), fmt(med("span")),
            med("requests")))
    text = "\n".join(out) + "\n"
    print(text)
    if args.out != "-":
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Where httpd's CPU goes with mod_mdomain at N MDs, per process and per phase, builds interleaved: per round and build
(alternating order), a fresh pebble and a private httpd with the configuration of bench/issuance.py, its processes'
CPU (/proc/PID/stat and /proc/PID/task/TID/stat, sampled every 0.1 s) split at the first ACME request (the start)
and at the last "renewed" line (all staged); optionally perf record -a with call graphs over the run (--perf DIR).
Measures, never asserts. Usage: bench/module_cpu.py --builds build0,build [--mds 1000] [--rounds 3] [--out FILE]"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
sys.path.insert(0, HERE)

from rig import certs                            # noqa: E402
from rig.httpd import DEFAULT_MODULES, Httpd     # noqa: E402
from lib import measure                          # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def stat_cpu(path):
    """(utime + stime) seconds, (cutime + cstime) seconds of a /proc/.../stat file; None when it is gone."""
    try:
        with open(path) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICK, (int(fields[13]) + int(fields[14])) / TICK


class Sampler(threading.Thread):
    """Every 0.1 s: each process of httpd's tree and each of its threads, last CPU seen (threads that end keep
    their last sample). snapshot() gives {pid: (process cpu, {tid: cpu})} and the parent's reaped children's."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.procs = {}
        self.reaped = 0.0
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def sample(self):
        for pid in [self.pid] + measure.proc_children(self.pid):
            own = stat_cpu("/proc/%d/stat" % pid)
            if own is None:
                continue
            threads = {}
            try:
                tids = os.listdir("/proc/%d/task" % pid)
            except OSError:
                tids = []
            for tid in tids:
                t = stat_cpu("/proc/%d/task/%s/stat" % (pid, tid))
                if t is not None:
                    threads[int(tid)] = t[0]
            with self.lock:
                old = self.procs.get(pid, (0.0, {}))
                merged = dict(old[1])
                merged.update(threads)
                self.procs[pid] = (own[0], merged)
                if pid == self.pid:
                    self.reaped = own[1]

    def run(self):
        while not self.stopping.wait(0.1):
            self.sample()

    def snapshot(self):
        self.sample()
        with self.lock:
            return {p: (c, dict(t)) for p, (c, t) in self.procs.items()}, self.reaped

    def stop(self):
        self.stopping.set()
        self.join(timeout=2)


def split(snap, parent):
    """(parent cpu, children cpu, the busiest child's cpu, its threads' cpu sorted, largest first)."""
    procs, reaped = snap
    par = procs.get(parent, (0.0, {}))[0]
    kids = {p: v for p, v in procs.items() if p != parent}
    busiest = max(kids, key=lambda p: kids[p][0]) if kids else None
    return (par, sum(v[0] for v in kids.values()) + reaped, kids[busiest][0] if busiest else 0.0,
            sorted(kids[busiest][1].values(), reverse=True) if busiest else [])


def one(build, work, listener_ca, n, timeout, perf_out):
    r = {"build": os.path.basename(build), "load": os.getloadavg()[0], "status": "failed"}
    names = measure.md_names(n)
    httpd = Httpd(os.path.join(work, "httpd"),
                  modules=DEFAULT_MODULES + ["ssl", ("mdomain", os.path.join(build, "mod_mdomain.so"))])
    store = os.path.join(httpd.server_root, "md")
    dns, pebble = measure.start_ca(work, listener_ca, http_port=httpd.port)
    perf = None
    try:
        httpd.add_config(*measure.modmd_config(store, pebble, httpd.port, names))
        if perf_out:
            perf = subprocess.Popen(["perf", "record", "-a", "-F", "499", "--call-graph", "dwarf,16384", "-q",
                                     "-o", perf_out], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)
        mark = pebble.mark()
        t0 = time.monotonic()
        httpd.start(timeout=30.0)
        pid = httpd.process.pid
        sampler = Sampler(pid)
        sampler.start()
        watch = measure.LogWatch(httpd.error_log, measure.DONE_LINES["mod_mdomain"])
        pending = set(names)
        first = None
        last_size, last_change = -1, time.monotonic()
        while pending and time.monotonic() < t0 + timeout:
            size = pebble.mark()
            if size != last_size:
                last_size, last_change = size, time.monotonic()
            elif time.monotonic() - last_change > measure.STALL and measure.pebble_deadlocked(pebble):
                r["status"] = "pebble-deadlock"
                break
            if first is None and pebble.mark() > mark and pebble.requests(since=mark):
                first = sampler.snapshot()
                r["first"] = time.monotonic() - t0
            pending -= watch.names()
            time.sleep(0.02)
        if pending:
            r["detail"] = "%d of %d not staged after %.0f s" % (len(pending), n, time.monotonic() - t0)
        else:
            r["staged"] = time.monotonic() - t0
            end = sampler.snapshot()
            r["status"] = "ok"
            r["at_first"] = split(first, pid)
            r["at_staged"] = split(end, pid)
        sampler.stop()
        if perf_out:
            with open(perf_out + ".pids", "w") as f:
                f.write(",".join(str(p) for p in sorted(sampler.procs)) + "\n")
    finally:
        if perf is not None:
            perf.send_signal(signal.SIGINT)
            perf.wait(timeout=120)
        httpd.stop()
        pebble.stop()
        dns.stop()
        r["requests"] = len(pebble.requests()) / n
    r["load_after"] = os.getloadavg()[0]
    return r


def start_only(build, work, n, timeout):
    """httpd with the issuance configuration but a dead CA, empty store: the parent's CPU when it answers (both
    configuration passes done), the children's then."""
    r = {"build": os.path.basename(build), "load": os.getloadavg()[0]}
    httpd = Httpd(os.path.join(work, "httpd"),
                  modules=DEFAULT_MODULES + ["ssl", ("mdomain", os.path.join(build, "mod_mdomain.so"))])
    store = os.path.join(httpd.server_root, "md")

    class Dead:
        directory_url, ca_file = "https://127.0.0.1:1/dir", "/etc/ssl/certs/ca-certificates.crt"
    try:
        httpd.add_config(*measure.modmd_config(store, Dead, httpd.port, measure.md_names(n)))
        httpd.add_config("MDInitialDelay 1d")
        httpd.start(timeout=timeout)
        r["parent"] = stat_cpu("/proc/%d/stat" % httpd.process.pid)[0]
    finally:
        httpd.stop()
    return r


def make_store(build, work, listener_ca, n, timeout, dest):
    """A store with n staged sets (MDActivationDelay 30d keeps the parent from activating them), copied to dest."""
    names = measure.md_names(n)
    httpd = Httpd(os.path.join(work, "httpd"),
                  modules=DEFAULT_MODULES + ["ssl", ("mdomain", os.path.join(build, "mod_mdomain.so"))])
    store = os.path.join(httpd.server_root, "md")
    dns, pebble = measure.start_ca(work, listener_ca, http_port=httpd.port)
    try:
        httpd.add_config(*measure.modmd_config(store, pebble, httpd.port, names))
        httpd.add_config("MDActivationDelay 30d")
        httpd.start(timeout=30.0)
        watch = measure.LogWatch(httpd.error_log, measure.DONE_LINES["mod_mdomain"])
        pending, t0 = set(names), time.monotonic()
        while pending and time.monotonic() < t0 + timeout:
            pending -= watch.names()
            time.sleep(0.1)
    finally:
        httpd.stop()
        pebble.stop()
        dns.stop()
    shutil.copytree(store, dest, symlinks=True)
    return len(pending)


def fmt(v):
    return "-" if v is None else "%.2f" % v


def row(r):
    if r["status"] != "ok":
        return "| %s | %s | %s | | | | | | | | %.1f / %.1f |" % (r["round"], r["build"], r["status"], r["load"],
                                                                 r["load_after"])
    f, s = r["at_first"], r["at_staged"]
    threads = ", ".join("%.2f" % t for t in s[3][:4])
    return "| %d | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %s | %.2f | %.1f / %.1f |" % (
        r["round"], r["build"], r["staged"], r["first"], f[0] + f[1], f[0], s[0] - f[0], s[1] - f[1], s[0] + s[1],
        threads, r["requests"], r["load"], r["load_after"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--builds", required=True, help="comma-separated build directories (with mod_mdomain.so)")
    ap.add_argument("--mds", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=180.0)
    ap.add_argument("--perf", default="", help="directory for perf.data files (perf record -a, call graphs)")
    ap.add_argument("--start-only", action="store_true", help="only the start (dead CA): the parent's CPU")
    ap.add_argument("--make-store", default="", help="copy a store with --mds staged sets here (first build)")
    ap.add_argument("--out", default="-")
    args = ap.parse_args()
    builds = [os.path.abspath(b) for b in args.builds.split(",")]
    base = tempfile.mkdtemp(prefix="mdomain-module-cpu-")
    os.chmod(base, 0o755)
    listener_ca = certs.CA(os.path.join(base, "listener-ca"))
    if args.make_store:
        left = make_store(builds[0], base, listener_ca, args.mds, args.timeout, args.make_store)
        shutil.rmtree(base, ignore_errors=True)
        print("store with %d staged sets in %s" % (args.mds - left, args.make_store))
        return
    if args.start_only:
        def started(r):
            sys.stderr.write("start: round %d %s parent %.2f s load %.1f\n" % (r["round"], r["build"], r["parent"],
                                                                            r["load"]))
        try:
            rows = measure.interleaved_rounds(builds, args.rounds, base,
                                              lambda b, work, rnd: start_only(b, work, args.mds, args.timeout),
                                              started, lambda text: sys.stderr.write("start: %s\n" % text))
        finally:
            shutil.rmtree(base, ignore_errors=True)
        res = {b: [r for r in rows if r["build"] == os.path.basename(b)] for b in builds}
        for b in builds:
            vals = [r["parent"] for r in res[b]]
            print("| %s | %d | %.2f s (%.2f-%.2f) | %s |" % (os.path.basename(b), len(vals), statistics.median(vals),
                  min(vals), max(vals), ", ".join("%.2f" % v for v in vals)))
        return

    def measured(b, work, rnd):
        perf_out = (os.path.join(os.path.abspath(args.perf), "perf-%s-r%d.data" % (os.path.basename(b), rnd))
                    if args.perf else "")
        return one(b, work, listener_ca, args.mds, args.timeout, perf_out)

    def logged(r):
        sys.stderr.write("cpu: %s\n" % row(r))

    try:
        rows = measure.interleaved_rounds(builds, args.rounds, base, measured, logged,
                                          lambda text: sys.stderr.write("cpu: %s\n" % text))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    out = ["| round | build | staged | first request | httpd CPU until the first request | of it the parent |"
           " parent after | children after | httpd CPU at staged | busiest child's largest threads | requests/MD |"
           " load before / after |",
           "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|"] + [row(r) for r in rows]
    out += ["", "| build | runs | httpd CPU at staged (median, range) | start | parent after the start |"
            " children after the start |", "|---|---:|---|---:|---:|---:|"]
    for b in builds:
        ok = [r for r in rows if r["build"] == os.path.basename(b) and r["status"] == "ok"]
        if not ok:
            continue
        tot = [r["at_staged"][0] + r["at_staged"][1] for r in ok]
        out.append("| %s | %d | %.2f (%.2f-%.2f) | %.2f | %.2f | %.2f |" % (
            os.path.basename(b), len(ok), statistics.median(tot), min(tot), max(tot),
            statistics.median([r["at_first"][0] + r["at_first"][1] for r in ok]),
            statistics.median([r["at_staged"][0] - r["at_first"][0] for r in ok]),
            statistics.median([r["at_staged"][1] - r["at_first"][1] for r in ok])))
    text = "\n".join(out) + "\n"
    print(text)
    if args.out != "-":
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()

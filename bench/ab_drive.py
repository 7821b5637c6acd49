#!/usr/bin/python3
"""A/B of `mdomain drive`'s CPU per certificate between builds, interleaved on one machine: per round and size, a
fresh pebble, one store of N MDs made by `apply` (P-256 keys), copied for each build, then one drive per build in
alternating order (A B, then B A). Reports medians of CPU per certificate (user + sys of the drive / N), wall time,
ACME requests per MD and the load. Measures, never asserts. Usage: bench/ab_drive.py --builds build1,build
[--sizes 300,1000] [--rounds 3] [--out FILE]"""
import argparse
import datetime
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
from rig.proc import Process, tail               # noqa: E402
from lib import measure                          # noqa: E402


def log(msg):
    sys.stderr.write("ab: %s\n" % msg)
    sys.stderr.flush()


def make_store(binary, store, pebble, n):
    conf = store + ".conf"
    with open(conf, "w") as f:
        f.write("MDCertificateAuthority %s\nMDCACertificateFile %s\nMDCertificateAgreement accepted\n"
                "MDPrivateKeys P-256\n" % (pebble.directory_url, pebble.ca_file))
        for name in measure.md_names(n):
            f.write("MDomain %s\n" % name)
    subprocess.run([binary, "-d", store, "-q", "apply", conf], check=True)


DRIVE_TIMEOUT = 300     # seconds; a drive stuck on a deadlocked pebble is measured again
STALL = 30              # seconds without a request to pebble: it deadlocked


def drive(binary, store, pebble, work, tag, wrap=""):
    wrapper = [w.replace("{tag}", tag) for w in wrap.split()]
    proc = Process("drive-" + tag, wrapper + [binary, "-d", store, "drive", "--http-port", pebble.http_port], work)
    before = len(pebble.requests())
    load = os.getloadavg()[0]
    usage, ended = {}, {}

    def waiter():
        try:
            _, status, usage["rusage"] = os.wait4(proc.popen.pid, 0)
        except ChildProcessError:       # reaped by proc.stop() after a stall
            return
        ended["at"] = time.monotonic()
        proc.popen.returncode = os.waitstatus_to_exitcode(status)

    t0 = time.monotonic()
    proc.start()
    thread = threading.Thread(target=waiter, daemon=True)
    thread.start()
    seen, seen_at = before, t0
    while thread.is_alive():
        thread.join(timeout=2.0)
        now, count = time.monotonic(), len(pebble.requests())
        if count != seen:
            seen, seen_at = count, now
        if thread.is_alive() and (now - seen_at > STALL or now - t0 > DRIVE_TIMEOUT):
            proc.stop()         # pebble deadlocked (no request for STALL seconds), or far too slow
            thread.join(timeout=5)
            raise RuntimeError("drive %s stalled: no request to pebble for %d s" % (tag, now - seen_at))
    rc, end = proc.returncode(), ended["at"]
    wall = end - t0
    if rc != 0:
        raise RuntimeError("drive %s %s: %s" % (tag, "timed out" if rc is None else "exited %d" % rc,
                                                 tail(proc.stderr_path, 3)))
    ru = usage["rusage"]
    return {"cpu": ru.ru_utime + ru.ru_stime, "user": ru.ru_utime, "sys": ru.ru_stime, "wall": wall,
            "requests": len(pebble.requests()) - before, "load": load}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--builds", required=True, help="two build directories, comma-separated: before,after")
    ap.add_argument("--sizes", default="300,1000")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", help="Markdown report file (default: printed only)")
    ap.add_argument("--fresh-fs", action="store_true", help="each drive's store on a new ext4 file system (with "
                    "its journal, on a loop device; needs root): no drive pays for the inodes another deleted")
    ap.add_argument("--wrap", default="", help="a command before each drive's, {tag} replaced by the build's "
                    "index, e.g. 'strace -f -c -o /tmp/st-{tag}.txt' (its CPU then counts too)")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))     # the cleanup (mounts, pebble) runs on kill too
    builds = [b.strip() for b in args.builds.split(",")]
    sizes = [int(s) for s in args.sizes.split(",")]
    bins = [os.path.join(os.path.abspath(b), "mdomain") for b in builds]
    work = tempfile.mkdtemp(prefix="mdomain-ab-")
    os.chmod(work, 0o755)
    res = {}
    started = datetime.datetime.now().astimezone()
    try:
        listener_ca = certs.CA(os.path.join(work, "listener-ca"))
        for rnd in range(args.rounds):
            for n in sizes:
                for attempt in range(RETRIES + 1):
                    pair = one_round(bins, builds, rnd, n, work, listener_ca, args, attempt)
                    if pair:
                        break
                for i, r in (pair or {}).items():
                    res.setdefault((n, i), []).append(r)
            write_report(args, builds, sizes, res, started, final=False)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_report(args, builds, sizes, res, started)


RETRIES = 2


def fresh_fs(sub, tag):
    """A new ext4 file system (journal and all, as mkfs.ext4 makes it) mounted on a loop device: its mount point."""
    img, mnt = os.path.join(sub, "fs-%s.img" % tag), os.path.join(sub, "mnt-%s" % tag)
    with open(img, "wb") as f:
        f.truncate(FRESH_FS_BYTES)
    subprocess.run(["mkfs.ext4", "-q", "-F", img], check=True)
    os.makedirs(mnt)
    subprocess.run(["mount", "-o", "loop", img, mnt], check=True)
    return mnt


def fresh_fs_done(mnt):
    subprocess.run(["umount", mnt], check=True)
    os.unlink(os.path.join(os.path.dirname(mnt), "fs-%s.img" % os.path.basename(mnt)[len("mnt-"):]))


FRESH_FS_BYTES = 1 << 30


def one_round(bins, builds, rnd, n, work, listener_ca, args, attempt):
    """Both builds' drives of n MDs against one fresh pebble, in this round's order; {build index: result}, or None
    when a drive failed (Debian's pebble deadlocks now and then under parallel drives: the round is measured again)."""
    sub = os.path.join(work, "r%d-%d-%d" % (rnd, n, attempt))
    os.makedirs(sub)
    dns, pebble = measure.start_ca(sub, listener_ca)
    pair = {}
    try:
        template = os.path.join(sub, "template")
        make_store(bins[0], template, pebble, n)
        for i in ([0, 1] if rnd % 2 == 0 else [1, 0]):
            mnt = fresh_fs(sub, "%d" % i) if args.fresh_fs else None
            store = os.path.join(mnt or sub, "store-%d" % i)
            shutil.copytree(template, store, symlinks=True)
            try:
                r = drive(bins[i], store, pebble, sub, "%d" % i, args.wrap)
            except RuntimeError as e:
                log("round %d, %d MDs, %s failed (measured again): %s" % (rnd + 1, n, builds[i], str(e)[:300]))
                return None
            finally:
                if mnt:
                    shutil.rmtree(store, ignore_errors=True)
                    fresh_fs_done(mnt)
            pair[i] = r
            log("round %d, %d MDs, %s: %.2f ms CPU/cert (user %.2f s, sys %.2f s), wall %.2f s, "
                "%.2f requests/MD, load %.1f" % (rnd + 1, n, builds[i], 1000 * r["cpu"] / n, r["user"],
                                                 r["sys"], r["wall"], r["requests"] / n, r["load"]))
            shutil.rmtree(store, ignore_errors=True)
    finally:
        pebble.stop()
        dns.stop()
        shutil.rmtree(sub, ignore_errors=True)
    return pair


def write_report(args, builds, sizes, res, started, final=True):
    lines = ["# A/B of `mdomain drive`: %s (A) against %s (B)" % tuple(builds), "",
             "%s, %d rounds, order alternating (A B, B A, ...), a fresh pebble and store per round and size%s; "
             "CPU per certificate = user + sys of the drive / MDs." % (
                 started.strftime("%Y-%m-%d %H:%M %Z"), args.rounds,
                 ", each drive's store on a new ext4 file system (journal, loop device)" if args.fresh_fs else
                 ", the stores in $TMPDIR's file system"), "",
             "| MDs | build | CPU ms/cert (median) | each round | user s | sys s | wall s | requests/MD | load |",
             "|---:|---|---:|---|---:|---:|---:|---:|---|"]
    for n in sizes:
        for i, b in enumerate(builds):
            rs = res.get((n, i), [])
            if not rs:
                continue
            med = lambda k: statistics.median(r[k] for r in rs)  # noqa: E731
            lines.append("| %d | %s | %.2f | %s | %.2f | %.2f | %.2f | %.2f | %s |" % (
                n, b, 1000 * med("cpu") / n, " ".join("%.2f" % (1000 * r["cpu"] / n) for r in rs), med("user"),
                med("sys"), med("wall"), med("requests") / n, " ".join("%.1f" % r["load"] for r in rs)))
    text = "\n".join(lines) + "\n"
    if final:
        sys.stdout.write(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()

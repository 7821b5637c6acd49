#!/usr/bin/python3
"""Time of `mdomain apply` for a domains file of N MDs (default 1000; two names, two key types each): the first
apply (all added), the same file again (all unchanged), every MD changed (all updated), a dry run. Nothing asserts
anything: it measures (issue 16's target: 1000 MDs under 1 s). Usage: bench/apply.py [--mds N] (MD_BUILD=<build
dir> if not build/)."""
import argparse
import os
import resource
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write(path, n, window):
    with open(path, "w") as f:
        f.write("MDCertificateAuthority https://127.0.0.1:14000/dir\nMDCertificateAgreement accepted\n"
                "MDContactEmail admin@example.org\n")
        for i in range(n):
            f.write("<MDomain md%d.bench.test www.md%d.bench.test>\n  MDPrivateKeys P-256 RSA\n"
                    "  MDRenewWindow %s\n</MDomain>\n" % (i, i, window))


def timed(binary, store, *args):
    """(wall seconds, CPU seconds: user + system) of one apply."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    subprocess.run([binary, "-d", store, "-q", "apply"] + list(args), check=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mds", type=int, default=1000)
    args = ap.parse_args()
    binary = os.path.join(os.environ.get("MD_BUILD", os.path.join(REPO, "build")), "mdomain")
    with tempfile.TemporaryDirectory() as tmp:
        conf, store = os.path.join(tmp, "domains.conf"), os.path.join(tmp, "store")
        write(conf, args.mds, "30%")
        rows = [("first apply (all added)", timed(binary, store, conf)),
                ("again (all unchanged)", timed(binary, store, conf))]
        write(conf, args.mds, "31%")
        rows.append(("dry run (all would be updated)", timed(binary, store, "--dry-run", conf)))
        rows.append(("every MD changed (all updated)", timed(binary, store, conf)))
    print("mdomain apply, %d MDs (wall time; CPU time, user + system):" % args.mds)
    for what, (wall, cpu) in rows:
        print("  %-32s %.3f s  (CPU %.3f s)" % (what, wall, cpu))


if __name__ == "__main__":
    main()

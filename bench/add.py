#!/usr/bin/python3
"""Time of one `mdomain add` with N MDs in the store (default 1000; issue 16's target: 10 ms), and of `mdomain
--version` alone (the process start), for one build or two side by side (--before BUILD: the two in turn, each
round in alternating order, medians). Wall and CPU (user + system) per process, the load beside them. Nothing
asserts anything. Usage: bench/add.py [--mds N] [--rounds R] [--before BUILD] (MD_BUILD=<build dir> if not
build/)."""
import argparse
import os
import resource
import statistics
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(argv):
    """(wall seconds, CPU seconds: user + system) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def fill(binary, store, n, tmp):
    conf = os.path.join(tmp, "domains.conf")
    with open(conf, "w") as f:
        f.write("MDCertificateAuthority https://127.0.0.1:14000/dir\nMDCertificateAgreement accepted\n")
        for i in range(n):
            f.write("MDomain md%d.bench.test www.md%d.bench.test\n" % (i, i))
    subprocess.run([binary, "-d", store, "-q", "apply", conf], check=True)


def ms(values):
    return "%.1f ms (%.1f-%.1f)" % (statistics.median(values) * 1000, min(values) * 1000, max(values) * 1000)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mds", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--before", help="a second build directory, measured beside MD_BUILD's as 'before'")
    args = ap.parse_args()
    builds = [("after", os.environ.get("MD_BUILD", os.path.join(REPO, "build")))]
    if args.before:
        builds.insert(0, ("before", os.path.abspath(args.before)))
    results = {(label, what): ([], []) for label, _ in builds for what in ("--version", "add")}
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        stores = {}
        for label, build in builds:
            stores[label] = os.path.join(tmp, "store-" + label)
            fill(os.path.join(build, "mdomain"), stores[label], args.mds, tmp)
        for r in range(args.rounds):
            order = builds if r % 2 == 0 else list(reversed(builds))
            for label, build in order:
                binary = os.path.join(build, "mdomain")
                for what, argv in (("--version", [binary, "--version"]),
                                   ("add", [binary, "-d", stores[label], "-q", "add", "new%d.bench.test" % r])):
                    wall, cpu = timed(argv)
                    results[(label, what)][0].append(wall)
                    results[(label, what)][1].append(cpu)
            loads.append(os.getloadavg()[0])
    print("mdomain add with %d MDs in the store, and --version alone: medians of %d rounds (min-max), "
          "load %.1f-%.1f" % (args.mds, args.rounds, min(loads), max(loads)))
    for label, build in builds:
        for what in ("--version", "add"):
            walls, cpus = results[(label, what)]
            print("  %-6s %-9s wall %s, CPU %s   [%s]" % (label, what, ms(walls), ms(cpus), build))


if __name__ == "__main__":
    main()

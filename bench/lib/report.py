"""The Markdown report of bench/issuance.py: the side-by-side table, machine facts, details and notes."""
import collections
import os
import platform
import re
import statistics
import subprocess


def _cmd(argv):
    try:
        res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=10)
        return res.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total():
    try:
        with open("/proc/meminfo") as f:
            kib = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1))
        return "%.1f GiB" % (kib / 1024 / 1024)
    except (OSError, AttributeError):
        return "unknown"


def _pkg_version(name):
    return _cmd(["dpkg-query", "-W", "-f", "${Version}", name]) or "not installed"


def machine_facts(mdomain_binary):
    """What the numbers depend on, gathered before the run."""
    debian = ""
    try:
        with open("/etc/debian_version") as f:
            debian = f.read().strip()
    except OSError:
        pass
    return collections.OrderedDict([
        ("nproc", str(os.cpu_count())),
        ("CPU", _cpu_model()),
        ("memory", _mem_total()),
        ("kernel", platform.release()),
        ("Debian", debian or "unknown"),
        ("pebble", "%s (Debian package; PEBBLE_VA_NOSLEEP=1, no nonce rejects, no authz reuse)"
         % _pkg_version("pebble")),
        ("apache2", _cmd(["/usr/sbin/apache2", "-v"]).splitlines()[0].replace("Server version: ", "")
         if os.access("/usr/sbin/apache2", os.X_OK) else "not installed"),
        ("mdomain", _cmd([mdomain_binary, "--version"]) or "unknown"),
        ("python", platform.python_version()),
        ("load average at start", "%.2f %.2f %.2f" % os.getloadavg()),
    ])


def fmt_s(seconds):
    if seconds is None:
        return "-"
    return "%.2f s" % seconds if seconds < 10 else "%.1f s" % seconds


def _median(values):
    return statistics.median(values) if values else None


class Cell:
    """The runs of one client for one size, summarised: median time and requests/issuance of the ok runs."""

    def __init__(self, runs):
        self.runs = runs
        ok = [r for r in runs if r.status == "ok"]
        self.ok = len(ok) == len(runs) and bool(runs)
        self.seconds = _median([r.seconds for r in ok])
        self.total = _median([r.total_seconds for r in ok if r.total_seconds is not None])
        self.per_issuance = _median([r.per_issuance for r in ok if r.per_issuance is not None])

    def time_text(self, with_total=False):
        if not self.runs:
            return "not run"
        if not self.ok:
            bad = next(r for r in self.runs if r.status != "ok")
            return "%s (%d/%d certs)" % (bad.status, bad.done, bad.n)
        text = fmt_s(self.seconds)
        if with_total and self.total is not None:
            text += " (%s with adds)" % fmt_s(self.total)
        return text

    def requests_text(self):
        return "%.2f" % self.per_issuance if self.ok and self.per_issuance is not None else "-"


CLIENTS = ("mdomain", "mod_mdomain", "mod_md")


def main_table(sizes, results):
    """One row per size: each client's time and requests/issuance, then the ratios against mod_md."""
    clients = [c for c in CLIENTS if any((c, n) in results for n in sizes)]
    head = "| MDs | " + " | ".join("%s time | %s requests/issuance" % (c, c) for c in clients)
    align = "|---:|" + "---|---:|" * len(clients)
    ratios = [c for c in clients if c != "mod_md" and "mod_md" in clients]
    head += "".join(" | mod_md time / %s time | %s time as %% of mod_md's" % (c, c) for c in ratios) + " |"
    align += "---:|---:|" * len(ratios)
    lines = [head, align]
    for n in sizes:
        cells = {c: Cell(results.get((c, n), [])) for c in clients}
        row = "| %d | " % n + " | ".join("%s | %s" % (cells[c].time_text(c == "mdomain"), cells[c].requests_text())
                                         for c in clients)
        mm = cells.get("mod_md")
        for c in ratios:
            md = cells[c]
            if md.ok and mm.ok and md.seconds and mm.seconds:
                row += " | %.1fx | %.0f%%" % (mm.seconds / md.seconds, 100.0 * md.seconds / mm.seconds)
            else:
                row += " | - | -"
        lines.append(row + " |")
    return "\n".join(lines)


def details_table(sizes, results, repeat):
    lines = ["| client | MDs | run | status | time to certificate | incl. `add`s | first ACME request after "
             "| ACME requests | per issuance |",
             "|---|---:|---:|---|---:|---:|---:|---:|---:|"]
    for n in sizes:
        for client in CLIENTS:
            for i, r in enumerate(results.get((client, n), []), 1):
                lines.append("| %s | %d | %d/%d | %s | %s | %s | %s | %d | %s |" % (
                    client, n, i, repeat, r.status if r.status == "ok" else "**%s**" % r.status,
                    fmt_s(r.seconds), fmt_s(r.total_seconds), fmt_s(r.first_request), len(r.requests),
                    "%.2f" % r.per_issuance if r.per_issuance is not None else "-"))
    return "\n".join(lines)


def requests_table(sizes, results):
    """ACME requests by kind (method and path as pebble logs them), from the first run of each cell."""
    columns, counters = [], []
    for n in sizes:
        for client in CLIENTS:
            runs = results.get((client, n), [])
            if runs:
                columns.append("%s, %d MD%s" % (client, n, "" if n == 1 else "s"))
                counters.append(collections.Counter("%s %s" % req for req in runs[0].requests))
    kinds = sorted(set().union(*counters), key=lambda k: -sum(c[k] for c in counters)) if counters else []
    lines = ["| request | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for kind in kinds:
        lines.append("| `%s` | " % kind + " | ".join(str(c[kind]) for c in counters) + " |")
    lines.append("| **total** | " + " | ".join(str(sum(c.values())) for c in counters) + " |")
    return "\n".join(lines)


def problems(results):
    out = []
    for (client, n), runs in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        for i, r in enumerate(runs, 1):
            if r.status != "ok" or r.detail:
                out.append("- %s, %d MD%s, run %d: **%s** — %s" % (client, n, "" if n == 1 else "s", i, r.status,
                                                                   r.detail or "-"))
            if r.add_requests:
                out.append("- %s, %d MD%s, run %d: the adds sent %d ACME requests (counted in the total)"
                           % (client, n, "" if n == 1 else "s", i, r.add_requests))
    return "\n".join(out)

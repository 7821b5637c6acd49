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
    """The runs of one client for one size, summarised: medians of the ok runs."""

    def __init__(self, runs):
        self.runs = runs
        ok = [r for r in runs if r.status == "ok"]
        self.ok = len(ok) == len(runs) and bool(runs)
        self.seconds = _median([r.seconds for r in ok])
        self.total = _median([r.total_seconds for r in ok if r.total_seconds is not None])
        self.per_issuance = _median([r.per_issuance for r in ok if r.per_issuance is not None])
        self.cpu = _median([r.cpu for r in ok if getattr(r, "cpu", None) is not None])
        self.rss = _median([r.rss for r in ok if getattr(r, "rss", None) is not None])
        self.pebble_cpu = _median([r.pebble_cpu for r in ok if getattr(r, "pebble_cpu", None) is not None])

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

    def cpu_text(self, n):
        if not self.ok or self.cpu is None:
            return "-"
        return "%s (%.1f ms/MD)" % (fmt_s(self.cpu), 1000.0 * self.cpu / n)

    def rss_text(self):
        return "%.0f MiB" % self.rss if self.ok and self.rss is not None else "-"


CLIENTS = ("mdomain", "mod_mdomain", "mod_md")


def _ratio(mine, theirs):
    if mine and theirs:
        return "%.0f%%" % (100.0 * mine / theirs)
    return "-"


def main_table(sizes, results):
    """One row per size: each client's time, CPU, peak RSS and requests per MD, then the shares of mod_md's."""
    clients = [c for c in CLIENTS if any((c, n) in results for n in sizes)]
    head = "| MDs | " + " | ".join("%s time | %s CPU | %s peak RSS | %s requests/MD" % (c, c, c, c) for c in clients)
    align = "|---:|" + "---|---:|---:|---:|" * len(clients)
    ratios = [c for c in clients if c != "mod_md" and "mod_md" in clients]
    head += "".join(" | %s time as %% of mod_md's | %s CPU as %% of mod_md's" % (c, c) for c in ratios) + " |"
    align += "---:|---:|" * len(ratios)
    lines = [head, align]
    for n in sizes:
        cells = {c: Cell(results.get((c, n), [])) for c in clients}
        row = "| %d | " % n + " | ".join("%s | %s | %s | %s" % (cells[c].time_text(c == "mdomain"), cells[c].cpu_text(n),
                                                              cells[c].rss_text(), cells[c].requests_text())
                                         for c in clients)
        mm = cells.get("mod_md")
        for c in ratios:
            md = cells[c]
            ok = md.ok and mm.ok
            row += " | %s | %s" % (_ratio(md.seconds, mm.seconds) if ok else "-",
                                   _ratio(md.cpu, mm.cpu) if ok else "-")
        lines.append(row + " |")
    return "\n".join(lines)


def limit_table(sizes, results, cores):
    """The CA's own cost beside each client's: pebble's CPU during the measurement, the floor "pebble's CPU /
    cores" (no client can be faster than the CA's work spread over all cores), and the wall time against it."""
    lines = ["| client | MDs | time | client CPU | pebble CPU | floor (pebble CPU / %d cores) | time / floor |" % cores,
             "|---|---:|---:|---:|---:|---:|---:|"]
    for n in sizes:
        for client in CLIENTS:
            cell = Cell(results.get((client, n), []))
            if not cell.ok:
                continue
            floor = cell.pebble_cpu / cores if cell.pebble_cpu else None
            lines.append("| %s | %d | %s | %s | %s | %s | %s |" % (
                client, n, fmt_s(cell.seconds), fmt_s(cell.cpu), fmt_s(cell.pebble_cpu), fmt_s(floor),
                "%.1fx" % (cell.seconds / floor) if floor and cell.seconds else "-"))
    return "\n".join(lines)


def details_table(sizes, results, repeat):
    lines = ["| client | MDs | run | status | time to certificate | incl. `add`s | first ACME request after "
             "| client CPU | peak RSS | pebble CPU | ACME requests | per issuance |",
             "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n in sizes:
        for client in CLIENTS:
            for i, r in enumerate(results.get((client, n), []), 1):
                lines.append("| %s | %d | %d/%d | %s | %s | %s | %s | %s | %s | %s | %d | %s |" % (
                    client, n, i, repeat, r.status if r.status == "ok" else "**%s**" % r.status,
                    fmt_s(r.seconds), fmt_s(r.total_seconds), fmt_s(r.first_request), fmt_s(r.cpu),
                    "%.0f MiB" % r.rss if r.rss is not None else "-", fmt_s(r.pebble_cpu), len(r.requests),
                    "%.2f" % r.per_issuance if r.per_issuance is not None else "-"))
    return "\n".join(lines)


def requests_table(sizes, results):
    """ACME requests by kind (method and path as pebble logs them) per MD, from the first run of each cell."""
    columns, counters, ns = [], [], []
    for n in sizes:
        for client in CLIENTS:
            runs = results.get((client, n), [])
            if runs:
                columns.append("%s, %d MD%s" % (client, n, "" if n == 1 else "s"))
                counters.append(collections.Counter("%s %s" % req for req in runs[0].requests))
                ns.append(n)
    kinds = sorted(set().union(*counters), key=lambda k: -sum(c[k] / n for c, n in zip(counters, ns))) if counters else []

    def per_md(count, n):
        return "%d" % count if n == 1 else "%.2f" % (count / n)

    lines = ["| request (per MD) | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for kind in kinds:
        lines.append("| `%s` | " % kind + " | ".join(per_md(c[kind], n) for c, n in zip(counters, ns)) + " |")
    lines.append("| **total** | " + " | ".join(per_md(sum(c.values()), n) for c, n in zip(counters, ns)) + " |")
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

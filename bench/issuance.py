#!/usr/bin/python3
"""Time to certificate and ACME requests per issuance, mdomain against Debian's mod_md, side by side in one
run (make bench). For 1, 10 and 100 managed domains (one DNS name each, P-256 keys) each client gets a fresh
pebble on free ports of 127.0.0.1: mdomain adds the MDs and runs one `mdomain drive`; mod_md runs in a
private httpd until every MD's certificate is staged. Prints a Markdown report and writes it to
bench/results/issuance-<date>.md. Nothing here asserts anything: it measures. See bench/README.md."""
import argparse
import datetime
import os
import re
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
sys.path.insert(0, HERE)

from rig import certs                            # noqa: E402
from lib import measure, report                  # noqa: E402

NEEDED = ["/usr/bin/pebble", "/usr/bin/pebble-challtestsrv"]
NEEDED_MOD_MD = ["/usr/sbin/apache2", measure.MOD_MD]


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1,10,100", help="numbers of MDs, comma-separated (default 1,10,100; "
                    "make bench-full: 1,10,100,1000)")
    ap.add_argument("--repeat", type=int, default=1, help="measurements per client and size; the table "
                    "shows medians (default 1)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per measurement (default 300)")
    ap.add_argument("--clients", default="mdomain,mod_mdomain,mod_md", help="which clients to measure "
                    "(mdomain: the CLI, mod_mdomain: our Apache module, mod_md: Debian's)")
    ap.add_argument("--out", help="report file (default bench/results/issuance-<date>.md; '-' for none)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (stores, logs)")
    args = ap.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    args.clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    return args


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


def modmd_unavailable():
    """Why mod_md cannot be measured here, or ''."""
    missing = [p for p in NEEDED_MOD_MD if not os.path.exists(p)]
    if missing:
        return "missing %s (scripts/install-deps installs apache2)" % ", ".join(missing)
    if os.geteuid() != 0:
        return "not root: httpd must start as root to switch to www-data"
    return ""


PEBBLE_DEADLOCK_RETRIES = 2


def one(client, n, run, args, work, listener_ca, binary):
    """One measurement; measured again (at most twice) when pebble itself deadlocked, which is counted."""
    deadlocks = []
    for attempt in range(PEBBLE_DEADLOCK_RETRIES + 1):
        m = one_attempt(client, n, run, args, work, listener_ca, binary, attempt)
        if m.status != "pebble-deadlock":
            break
        deadlocks.append(m.detail)
    m.pebble_deadlocks = deadlocks
    return m


def one_attempt(client, n, run, args, work, listener_ca, binary, attempt):
    sub = os.path.join(work, "%s-%d-%d%s" % (client.replace("_", ""), n, run, "-%d" % attempt if attempt else ""))
    os.makedirs(sub)
    os.chmod(sub, 0o755)   # httpd's children run as www-data and read the store below
    log("%s, %d MD%s, run %d/%d ..." % (client, n, "" if n == 1 else "s", run, args.repeat))
    if client == "mdomain":
        m = measure.measure_mdomain(binary, sub, listener_ca, n, args.timeout)
    elif client == "mod_mdomain":
        m = measure.measure_modmd(sub, listener_ca, n, args.timeout, client="mod_mdomain",
                                  module=("mdomain", os.path.join(os.path.dirname(binary), "mod_mdomain.so")))
    else:
        m = measure.measure_modmd(sub, listener_ca, n, args.timeout)
    log("  %s: %s, %d ACME requests, %d/%d certificates%s" % (
        m.status, report.fmt_s(m.seconds), len(m.requests), m.done, n,
        ("; " + m.detail[:300]) if m.detail else ""))
    if not args.keep:
        shutil.rmtree(sub, ignore_errors=True)
    return m


def drive_workers(source=os.path.join("include", "md_reg_renew.h")):
    """The parallel drive workers (the registry's runner, for the CLI and the module), read from the source (for
    the notes), or None."""
    try:
        with open(os.path.join(REPO, source)) as f:
            found = re.search(r"#define\s+MD_REG_WORKERS_DEF\s+(\d+)", f.read())
        return int(found.group(1)) if found else None
    except OSError:
        return None


def notes(args, results, skipped, workers, module_workers):
    first = [r.first_request for (c, n), runs in results.items() if c == "mod_md"
             for r in runs if r.first_request is not None]
    out = [
        "- **mdomain time** is the wall clock of one `mdomain -d STORE drive --http-port <pebble's http-01 port>`"
        " process, from spawn to exit: account registration, all orders, and activation into `domains/`."
        " \"with adds\" adds the N preceding `mdomain ... add NAME --key p256` processes (run one after"
        " another; they send no ACME requests).",
        "- **mod_md time** runs from spawning `apache2 -D FOREGROUND` (configuration, post_config, child start,"
        " watchdog) until every MD is staged: its line `AH10059: The Managed Domain NAME has been setup` in the"
        " error log (what the log got since the last look, read every %d ms; the store itself, `staging/NAME/"
        "pubcert*.pem` with `job.json` `\"finished\": true`, is looked at every %g s for what the log does not say)."
        " mod_md activates staged certificates only at the next (graceful) restart;"
        " that restart is not included, while mdomain's time includes its activation." % (measure.POLL * 1000,
                                                                                           measure.SCAN),
        "- **mod_mdomain time** is measured exactly like mod_md's: the same private httpd, the same directives"
        " (with `LoadModule mdomain_module` instead of mod_md's line), from spawning `apache2 -D FOREGROUND`"
        " until every MD is staged (its line `NAME: the certificates have been renewed`, logged as its set is"
        " staged; its parent activates staged sets while the run goes on, so `domains/NAME` counts too)."
        " mod_mdomain's watchdog drives due MDs %s in parallel, sharing one ACME"
        " client per CA." % ("in up to %d worker threads" % module_workers if module_workers else "in worker threads"),
        "- **requests/issuance**: every ACME request pebble logged for the client during the measurement"
        " (directory, nonces, account, orders, authorizations, challenges, finalize, certificate), divided by"
        " the number of MDs. mod_md's are counted after httpd was stopped, so nothing it sent after the last"
        " staging is missed.",
        "- Each measurement has its own pebble and pebble-challtestsrv (every name resolves to 127.0.0.1) on"
        " free ports, PEBBLE_VA_NOSLEEP=1, no nonce rejection, no authorization reuse; one DNS name per MD,"
        " P-256 certificate keys, http-01 (mod_md listens on pebble's http-01 port and on no https port, so it"
        " offers only http-01; mdomain answers with its built-in server). Timeout per measurement: %ds."
        % args.timeout,
        "- **mod_md configuration** (a private ServerRoot under /tmp, event MPM, User/Group www-data, LoadModule"
        " ssl and md; watchdog is built into Debian's apache2): `MDStoreDir`, `MDCertificateAuthority <pebble>`,"
        " `MDCACertificateFile <listener CA>`, `MDCertificateAgreement accepted`, `MDContactEmail` (mod_md"
        " refuses to register an account without a contact: \"No contact information is available ...\";"
        " mdomain's adds give none), `MDPortMap http:<port>`,"
        " `MDRenewMode always` (the MDs have no SSL vhosts), `MDPrivateKeys secp256r1`, one `MDomain` per MD."
        " Everything else is mod_md's default (MDCheckInterval 12h, MDRetryDelay 5s, MDRenewWindow 33%,"
        " MDStoreLocks off; MDInitialDelay, which Debian's module also knows, is not set). LogLevel info.",
        "- **mod_md start-up**: its watchdog starts right after the child process; the first ACME request came"
        " %s after the httpd start (all mod_md runs: %s). MDCheckInterval only schedules the *next* check (the"
        " log then says \"next run in\" ~12 h), so it does not delay the first certificates."
        % (report.fmt_s(min(first)) if first else "-", ", ".join(report.fmt_s(s) for s in first) or "-"),
        "- **Account keys**: mod_md 2.6.10 always creates an RSA 3072 account key (there is no directive for"
        " it); mdomain creates a P-256 account key unless `add --account-key` says otherwise. RSA key"
        " generation takes a variable fraction of a second and counts in mod_md's time for every size"
        " (one account per store).",
        "- **Concurrency**: mod_md drives the MDs one after another in its single watchdog thread; mdomain's"
        " drive runs %s in parallel, sharing one ACME client (directory, nonces, account) per CA."
        % ("up to %d worker threads" % workers if workers else "worker threads"),
        "- Times have the resolution of the polling (about %d ms) and vary between runs (key generation,"
        " pebble's asynchronous validation, other load on the machine: see the load averages). Use"
        " `--repeat N` for medians." % (measure.POLL * 1000),
    ]
    if skipped:
        out.append("- **mod_md was not measured**: %s." % skipped)
    return "\n".join(out)


def render(args, facts, results, skipped, elapsed, started):
    sections = [
        "# Time to certificate: mdomain, mod_mdomain and mod_md, side by side",
        "Run %s with `%s`; the whole run took %s." % (
            started.strftime("%Y-%m-%d %H:%M %Z").strip(), " ".join(["bench/issuance.py"] + sys.argv[1:]),
            report.fmt_s(elapsed)),
        report.main_table(args.sizes, results),
        "Time: mdomain = its `drive` (with the `add`s in parentheses); mod_mdomain and mod_md = httpd start"
        " until all certificates are staged. CPU: user + sys of the client (the drive process from wait4;"
        " httpd's parent, its reaped and its live children from /proc), with its share per MD. Peak RSS: the"
        " drive's; httpd's processes' summed. Shares: the other's time and CPU as a part of mod_md's."
        + (" Medians of %d runs." % args.repeat if args.repeat > 1 else ""),
        "## The limit: pebble's own work\n\nThe CA's CPU during each measurement (from /proc/PID/stat before and"
        " after) and the floor it sets, its CPU spread over all %d cores: the wall time no client can beat, since"
        " the client and pebble share the machine.\n\n" % (os.cpu_count() or 1)
        + report.limit_table(args.sizes, results, os.cpu_count() or 1),
        "## Machine\n\n" + "\n".join("- %s: %s" % kv for kv in facts.items()),
        "## Every measurement\n\n" + report.details_table(args.sizes, results, args.repeat),
        "## ACME requests by kind\n\nAs pebble logs them (ids cut off), per MD (the count for one MD), first run of"
        " each cell.\n\n"
        + report.requests_table(args.sizes, results),
        "## Notes\n\n" + notes(args, results, skipped, drive_workers(), drive_workers()),
    ]
    deadlocks = ["- %s, %d MD%s, run %d: pebble deadlocked %d time(s) and the measurement was repeated (%s)"
                 % (c, n, "" if n == 1 else "s", i, len(r.pebble_deadlocks), r.pebble_deadlocks[0])
                 for (c, n), runs in sorted(results.items()) for i, r in enumerate(runs, 1)
                 if getattr(r, "pebble_deadlocks", None)]
    if deadlocks:
        sections.append("## pebble deadlocks\n\nDebian's pebble 2.4 sometimes deadlocks under concurrent requests"
                        " (its goroutine dump shows every handler waiting on its MemoryStore locks). The benchmark"
                        " notices a log without a new line for %d s, takes the dump (SIGQUIT) and measures again:"
                        "\n\n" % measure.STALL + "\n".join(deadlocks))
    trouble = report.problems(results)
    if trouble:
        sections.append("## Failures and timeouts\n\n" + trouble)
    return "\n\n".join(sections) + "\n"


def main():
    args = parse_args()
    build = os.environ.get("MD_BUILD") or os.path.join(REPO, "build")
    binary = os.path.join(build, "mdomain")
    missing = [p for p in NEEDED + [binary] if not os.access(p, os.X_OK)]
    if missing:
        sys.exit("bench: missing %s: run `make deps` and `make all` first" % ", ".join(missing))
    skipped = modmd_unavailable() if "mod_md" in args.clients else ""
    if "mod_mdomain" in args.clients and modmd_unavailable().startswith("not root"):
        sys.exit("bench: mod_mdomain needs root (httpd starts as root and switches to www-data)")
    clients = [c for c in args.clients if c != "mod_md" or not skipped]
    if skipped:
        log("mod_md is skipped: " + skipped)

    started = datetime.datetime.now().astimezone()
    facts = report.machine_facts(binary)
    t0 = time.monotonic()
    work = tempfile.mkdtemp(prefix="mdomain-bench-")
    os.chmod(work, 0o755)
    results = {}
    try:
        listener_ca = certs.CA(os.path.join(work, "listener-ca"))   # pebble's https certificate, read-only
        for n in args.sizes:
            for run in range(1, args.repeat + 1):
                for client in clients:
                    m = one(client, n, run, args, work, listener_ca, binary)
                    results.setdefault((client, n), []).append(m)
    finally:
        if args.keep:
            log("kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - t0
    facts["load average at end"] = "%.2f %.2f %.2f" % os.getloadavg()
    mod_md_versions = {r.client_version for runs in results.values() for r in runs if r.client_version}
    facts["mod_md"] = "%s (%s, Debian's apache2 module)" % (
        ", ".join(sorted(mod_md_versions)) or "version not seen", measure.MOD_MD)

    text = render(args, facts, results, skipped, elapsed, started)
    sys.stdout.write(text)
    upto = max(args.sizes) if args.sizes else 0     # make bench-full's report beside make bench's
    out = args.out or os.path.join(HERE, "results", "issuance-%s%s.md" % (
        "upto%d-" % upto if upto > 100 else "", started.strftime("%Y-%m-%d")))
    if out != "-":
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        with open(out, "w") as f:
            f.write(text)
        log("report written to %s (whole run: %s)" % (os.path.relpath(out, REPO), report.fmt_s(elapsed)))


if __name__ == "__main__":
    main()

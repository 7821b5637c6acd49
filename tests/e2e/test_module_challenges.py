"""mod_mdomain: tls-alpn-01 answered through mod_ssl's challenge hook (http mapped off with MDPortMap); a store
filled by Debian's mod_md taken over without a new order; a renewal interrupted by a hard stop of httpd and
finished after the next start."""
import json
import os
import re
import signal
import socket
import threading

import pytest
from cryptography import x509

from certcheck import tmp_leftovers
from rig import ports
from rig.httpd import pid_alive
from rig.proc import wait_until
from test_module_https import NAME, tls_get

MOD_MD = "/usr/lib/apache2/modules/mod_md.so"


def _configure(httpd, pebble, store, https_port, module, extra=()):
    httpd.add_modules("ssl", "socache_shmcb", module)
    httpd.add_config(
        "LogLevel md:debug",
        "MDStoreDir %s" % store,
        *pebble.md_directives(),
        "MDPrivateKeys secp256r1",
        "MDRetryDelay 1s",
        *extra,
        "MDomain %s" % NAME,
    )
    httpd.add_vhost("\n".join([
        "<VirtualHost 127.0.0.1:%d>" % https_port,
        "  ServerName %s" % NAME,
        "  Protocols http/1.1 acme-tls/1",
        "  SSLEngine on",
        "</VirtualHost>",
    ]))


def _served_serial(https_port, pebble):
    status, cert = tls_get(https_port, ca_pem=pebble.root_pem())
    assert status == 200
    assert cert.issuer != cert.subject
    return cert.serial_number


@pytest.mark.parametrize("explicit", [True, False], ids=["MDCAChallenges", "auto"])
def test_tls_alpn_01_only(httpd, pebble_factory, mod_path, workdir, monkeypatch, explicit):
    """http is mapped off; with `MDCAChallenges tls-alpn-01`, or chosen from acme-tls/1 in Protocols."""
    https_port = httpd.new_port("https")
    nobody = ports.free_port()
    pebble = pebble_factory(http_port=nobody, tls_port=https_port)
    store = os.path.join(workdir, "md")
    _configure(httpd, pebble, store, https_port, ("mdomain", mod_path), extra=(
        "MDPortMap http:- https:%d" % https_port,
        "MDInitialDelay 1s",
    ) + (("MDCAChallenges tls-alpn-01",) if explicit else ()))
    httpd.start()
    wait_until(lambda: "have been renewed and are served from now on" in httpd.error_log_text(), 60,
               what="the renewed certificate (tls-alpn-01)")
    assert "tls-alpn-01 challenge for %s answered" % NAME in httpd.error_log_text()
    assert pebble.count_requests(path_prefix="/order-plz") >= 1
    # the challenge files are gone again
    assert not os.path.exists(os.path.join(store, "challenges", NAME, "acme-tls-alpn-01.cert.pem"))
    _served_serial(https_port, pebble)        # served live: the challenge answers and the live set get along
    httpd.graceful_restart()
    _served_serial(https_port, pebble)


def _job_finished(store):
    """The staged renewal's job says it finished (mod_md's and our job.json): its set is complete, nothing more is
    written into staging/NAME."""
    try:
        with open(os.path.join(store, "staging", NAME, "job.json")) as f:
            return json.load(f).get("finished") is True
    except (OSError, ValueError):
        return False


def _written_now(fname):
    """True for the temporary file of an atomic write whose writer is alive (.NAME.tmp.PID.XXXXXX)."""
    found = re.match(r"\..+\.tmp\.(\d+)\.[A-Za-z0-9]{6}$", fname)
    return bool(found) and pid_alive(int(found.group(1)))


def _staged_then_active(httpd, store, what, since=0):
    """Until the renewed set is staged and its job finished (mod_md: until a restart) or mod_mdomain announced it
    served (it activates it itself within seconds); then a graceful restart (mod_md's activation) and the set
    active. Returns the set's files (without activation's mark)."""
    staged = os.path.join(store, "staging", NAME, "pubcert.secp256r1.pem")
    wait_until(lambda: (os.path.exists(staged) and _job_finished(store))
               or "have been renewed and are served from now on" in httpd.error_log_since(since), 90, what=what)
    where = os.path.dirname(staged) if os.path.exists(staged) else os.path.join(store, "domains", NAME)
    # a write still under way (the job's last save after the staged set is complete) is not a leftover: a temporary
    # file of a live process is left out, one of a dead process (the killed server's) is not
    files = sorted(f for f in os.listdir(where) if f != ".activation" and not _written_now(f))
    httpd.graceful_restart()
    wait_until(lambda: os.path.exists(os.path.join(store, "domains", NAME, "pubcert.secp256r1.pem"))
               and not os.path.exists(os.path.join(store, "staging", NAME)), 15, what="the activated set")
    return files


def test_mod_md_store_taken_over(httpd, pebble_factory, mod_path, workdir, monkeypatch):
    """Debian's mod_md obtains and activates the certificate; mod_mdomain on the same store and configuration
    serves the same certificate and sends no new order, also after its watchdog ran."""
    assert os.path.exists(MOD_MD), "Debian's mod_md is missing: scripts/install-deps installs apache2, which has it"
    pebble = pebble_factory(http_port=httpd.port)
    https_port = httpd.new_port("https")
    store = os.path.join(workdir, "md")
    _configure(httpd, pebble, store, https_port, ("md", MOD_MD), extra=(
        "MDPortMap http:%d https:%d" % (httpd.port, https_port),
        "MDCAChallenges http-01",
        "MDInitialDelay 1s",
    ))
    httpd.start()
    _staged_then_active(httpd, store, "mod_md's staged certificate")
    serial = _served_serial(https_port, pebble)
    orders = pebble.count_requests(path_prefix="/order-plz")
    assert orders >= 1
    httpd.stop()

    httpd.modules = [m for m in httpd.modules if m != ("md", MOD_MD)]
    httpd.add_modules(("mdomain", mod_path))
    log_mark = httpd.error_log_mark()
    mark = pebble.mark()
    httpd.start()
    assert _served_serial(https_port, pebble) == serial
    httpd.wait_watchdog_runs(log_mark)                   # it looked at the MD: not due
    assert pebble.count_requests(path_prefix="/order-plz", since=mark) == 0
    # only what ARI needs (reading the directory for its renewalInfo endpoint): no account or order request
    assert all(m == "GET" for m, _ in pebble.requests(since=mark)), pebble.requests(since=mark)
    assert _served_serial(https_port, pebble) == serial
    log = httpd.error_log_since(log_mark)
    assert "mod_mdomain (v" in log and "renewal failed" not in log
    assert "%s: not due" % NAME in log, "the watchdog did not run"


def _hard_kill(httpd):
    """SIGKILL the httpd parent this test started and its children, by PID."""
    pids = [httpd.pid] + list(httpd.children())
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wait_until(lambda: not any(_alive(pid) for pid in pids), 10, what="the killed httpd processes to be gone")
    httpd.process.stop(timeout=5)


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


class HoldingProxy:
    """A TCP forwarder on a free port to 127.0.0.1:target; while held, each new connection waits until release()
    before it is forwarded (pebble's VA then validates only when the test says so)."""

    def __init__(self, target):
        self.target = target
        self.gate = threading.Event()
        self.gate.set()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def hold(self):
        self.gate.clear()

    def release(self):
        self.gate.set()

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        self.gate.wait(120)
        try:
            up = socket.create_connection(("127.0.0.1", self.target), timeout=10)
        except OSError:
            conn.close()
            return
        threading.Thread(target=self._pump, args=(up, conn), daemon=True).start()
        self._pump(conn, up)

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.closed = True
        self.sock.close()


def test_renewal_interrupted_by_hard_stop(httpd, pebble_factory, mod_path, workdir, monkeypatch, run_tool):
    """A renewal killed (SIGKILL) right after its order exists is finished after the next start."""
    # pebble validates through a proxy that can hold its connections: the renewal is surely in the middle
    # when it is killed
    proxy = HoldingProxy(httpd.port)
    pebble = pebble_factory(http_port=proxy.port)
    https_port = httpd.new_port("https")
    store = os.path.join(workdir, "md")
    _configure(httpd, pebble, store, https_port, ("mdomain", mod_path), extra=(
        "MDPortMap http:%d https:%d" % (httpd.port, https_port),
        "MDCAChallenges http-01",
        "MDInitialDelay 1s",
    ))
    httpd.start()
    _staged_then_active(httpd, store, "the first certificate")
    first = _served_serial(https_port, pebble)

    # the renewal must validate again: pebble takes a valid authorization for a new order now and then, even
    # at 0 % reuse, and the renewal then has no challenge to be killed in
    done = run_tool("acme_deactivate_authz", store, pebble.directory_url, pebble.ca_file)
    assert done.returncode == 0 and "deactivated=1\n" in done.stdout, done.stdout + done.stderr
    # a renewal window longer than the lifetime (pebble: 5 years): the certificate is due at once
    httpd.add_config("MDRenewWindow 3650d")
    mark = pebble.mark()
    proxy.hold()
    httpd.graceful_restart()
    # the order exists and its challenge is set up (pebble's VA not yet done): kill now
    challenge = os.path.join(store, "challenges", NAME, "acme-http-01.txt")
    wait_until(lambda: pebble.count_requests(path_prefix="/order-plz", since=mark) >= 1
               and os.path.exists(challenge), 30, what="the renewal's order and challenge")
    _hard_kill(httpd)
    staging = os.path.join(store, "staging", NAME)
    assert not os.path.exists(os.path.join(staging, "pubcert.secp256r1.pem")), "not killed in the middle"
    # only the job's own files: its state, the MD, the new key; no temporary files
    job_files = {"job.json", "md.json", "privkey.secp256r1.pem"}
    assert set(os.listdir(staging)) <= job_files
    assert tmp_leftovers(store) == []

    mark = pebble.mark()
    log_mark = httpd.error_log_mark()
    httpd.start()
    proxy.release()                                    # pebble's held validation goes on, to the new server
    httpd.extra_config.remove("MDRenewWindow 3650d")   # read at the graceful restart: no further renewal
    files = _staged_then_active(httpd, store, "the renewed certificate", since=log_mark)
    assert set(files) <= job_files | {"pubcert.secp256r1.pem"}, files
    # the pending order was resumed, not a new one placed
    assert pebble.count_requests(path_prefix="/order-plz", since=mark) == 0
    assert "Resuming order" in httpd.error_log_text()
    assert not os.path.exists(os.path.join(store, "challenges", NAME, "acme-http-01.txt"))
    proxy.close()
    renewed = _served_serial(https_port, pebble)
    assert renewed != first
    with open(os.path.join(store, "domains", NAME, "pubcert.secp256r1.pem"), "rb") as f:
        assert x509.load_pem_x509_certificate(f.read()).serial_number == renewed
    # nothing left over from the killed run
    assert tmp_leftovers(store) == []

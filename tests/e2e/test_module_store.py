"""mod_mdomain's store at startup: MDStoreLocks (STORE/store.lock, held by another process), MDActivationDelay (a
staged set is activated only once it is old enough), the tls-alpn-01 startup warning, and the state memo of
complete MDs (tmp/md-state.memo)."""
import datetime
import fcntl
import json
import os
import shutil
import subprocess
import time

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from certcheck import tmp_leftovers
from rig.dnshook import write_dns_hook
from rig.httpd import BINARY
from rig.mdcli import MdCli
from rig.proc import Process, wait_until, write_program
from test_module_https import tls_get

NAME = "store.example.org"
DEAD_CA = "https://127.0.0.1:1/dir"
KEY_ASPECT = "privkey.secp256r1.pem"
CERT_ASPECT = "pubcert.secp256r1.pem"


def configure(httpd, mod_path, store, *extra, protocols=None):
    """One MD (P-256 key, dead CA, no renewal at startup) with one https vhost; returns the https port."""
    https_port = httpd.new_port("https")
    httpd.add_modules("ssl", "socache_shmcb", ("mdomain", mod_path))
    httpd.add_config(
        "LogLevel md:debug",
        "MDStoreDir %s" % store,
        "MDPortMap http:%d https:%d" % (httpd.port, https_port),
        "MDCertificateAuthority %s" % DEAD_CA,
        "MDCertificateAgreement accepted",
        "MDPrivateKeys secp256r1",
        "MDInitialDelay 1d",
        *extra,
        "MDomain %s" % NAME)
    lines = ["<VirtualHost 127.0.0.1:%d>" % https_port, "  ServerName %s" % NAME, "  SSLEngine on"]
    if protocols:
        lines.append("  Protocols %s" % protocols)
    httpd.add_vhost("\n".join(lines + ["</VirtualHost>"]))
    return https_port


def all_logs(httpd):
    """The error log and httpd's stderr (where the first configuration pass at startup logs)."""
    with open(httpd.process.stderr_path, "rb") as f:
        return httpd.error_log_text() + f.read().decode("utf-8", "replace")


def write_set(directory, not_before, serial):
    """privkey + pubcert (self-signed for NAME, valid from not_before for 30 days) into directory."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(serial).not_valid_before(not_before)
            .not_valid_after(not_before + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
            .sign(key, hashes.SHA256()))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    with open(os.path.join(directory, KEY_ASPECT), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    os.chmod(os.path.join(directory, KEY_ASPECT), 0o600)
    with open(os.path.join(directory, CERT_ASPECT), "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


class HeldLock:
    """store.lock in the store, locked by this (test) process with fcntl, as another httpd would hold it."""
    def __init__(self, store):
        os.makedirs(store, exist_ok=True)
        self.f = open(os.path.join(store, "store.lock"), "a+")
        fcntl.lockf(self.f, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def release(self):
        if self.f:
            fcntl.lockf(self.f, fcntl.LOCK_UN)
            self.f.close()
            self.f = None


def answers(httpd):
    try:
        return httpd.generation() is not None
    except OSError:   # nothing listening yet
        return False


def spawn(httpd):
    """Start httpd without waiting for it (Httpd.start waits for an answer)."""
    httpd.write_config()
    httpd.process = Process("httpd", [BINARY, "-d", httpd.server_root, "-f", httpd.conf_file, "-D", "FOREGROUND"],
                            os.path.join(httpd.server_root, "logs"), drop_env_prefixes=("APACHE_",))
    httpd.process.start()


def test_store_lock_held_startup_waits_then_goes_on(httpd, mod_path, workdir):
    store = os.path.join(workdir, "md")
    https_port = configure(httpd, mod_path, store, "MDStoreLocks 2s")
    lock = HeldLock(store)
    try:
        httpd.start(timeout=30)
        logs = all_logs(httpd)
        assert "MDStoreLocks: %s/store.lock is held by another process and was not released within 2000 ms; " \
               "going on without it" % store in logs
        # the setup went on without the lock: the fallback is served
        status, cert = tls_get(https_port, host=NAME)
        assert status == 503 and cert.issuer == cert.subject
    finally:
        lock.release()
    # released: the next restart takes the lock at once and logs no error
    mark = httpd.error_log_mark()
    httpd.graceful_restart()
    since = httpd.error_log_since(mark)
    assert "MDStoreLocks: locked %s/store.lock after" % store in since
    assert "going on without it" not in since


def test_store_lock_startup_proceeds_when_released(httpd, mod_path, workdir):
    store = os.path.join(workdir, "md")
    https_port = configure(httpd, mod_path, store, "MDStoreLocks 60s")
    lock = HeldLock(store)
    try:
        spawn(httpd)
        # while the lock is held, the parent waits in its store setup: no child answers yet
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            assert httpd.process.running(), httpd.describe()
            assert not answers(httpd), "httpd answered while another process held the store lock"
            time.sleep(0.1)
    finally:
        lock.release()
    wait_until(lambda: answers(httpd), 30, what="httpd to answer after the lock was released")
    logs = all_logs(httpd)
    assert "MDStoreLocks: locked %s/store.lock after" % store in logs
    assert "going on without it" not in logs
    status, _ = tls_get(https_port, host=NAME)
    assert status == 503


def test_store_locks_off_does_not_wait(httpd, mod_path, workdir):
    store = os.path.join(workdir, "md")
    configure(httpd, mod_path, store)   # MDStoreLocks off is the default
    lock = HeldLock(store)
    try:
        httpd.start(timeout=30)
        assert "MDStoreLocks" not in all_logs(httpd)
    finally:
        lock.release()


def staged_store(store, staged_not_before):
    """domains/NAME with a valid set (serial 1), staging/NAME with a complete new one (serial 2)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    write_set(os.path.join(store, "domains", NAME), now - datetime.timedelta(days=2), 1)
    write_set(os.path.join(store, "staging", NAME), staged_not_before, 2)


@pytest.mark.parametrize("age,delay,activated", [
    (datetime.timedelta(hours=-1), "1d", False),    # valid for 1 h, wanted 1 d: stays staged
    (datetime.timedelta(hours=-1), None, True),     # default 0: valid now, activated
    (datetime.timedelta(hours=-1), "30mi", True),    # valid for 1 h, 30 minutes wanted: activated
    (datetime.timedelta(days=1), None, False),      # not valid before tomorrow: stays staged
    (datetime.timedelta(days=1), "-2d", True),      # negative: activated (and served) up to 2 days early
], ids=["1h-old-delay-1d", "1h-old-default", "1h-old-delay-30m", "future-default", "future-delay-minus-2d"])
def test_activation_delay_at_start(httpd, mod_path, workdir, age, delay, activated):
    store = os.path.join(workdir, "md")
    now = datetime.datetime.now(datetime.timezone.utc)
    staged_store(store, now + age)
    https_port = configure(httpd, mod_path, store, *(["MDActivationDelay %s" % delay] if delay else []))
    httpd.start(timeout=30)
    status, cert = tls_get(https_port, host=NAME)
    assert status == 200
    assert cert.serial_number == (2 if activated else 1)
    assert os.path.exists(os.path.join(store, "staging", NAME, CERT_ASPECT)) != activated
    stays = "%s: renewed certificates stay staged until" % NAME in all_logs(httpd)
    assert stays != activated


def test_activation_delay_then_restart(httpd, mod_path, workdir):
    """Staged and not old enough: served the old set; the delay lowered, a graceful restart activates it."""
    store = os.path.join(workdir, "md")
    staged_store(store, datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1))
    https_port = configure(httpd, mod_path, store, "MDActivationDelay 2h")
    httpd.start(timeout=30)
    assert tls_get(https_port, host=NAME)[1].serial_number == 1
    httpd.extra_config.remove("MDActivationDelay 2h")
    httpd.add_config("MDActivationDelay 10mi")
    httpd.graceful_restart()
    wait_until(lambda: tls_get(https_port, host=NAME)[1].serial_number == 2, 15, what="the activated set")
    assert not os.path.exists(os.path.join(store, "staging", NAME))
    assert "%s: activated the renewed certificates" % NAME in httpd.error_log_text()


TLSALPN_WARNING = "MD %s: MDCAChallenges names tls-alpn-01, but it cannot be answered: none of its virtual " \
                  "hosts has 'acme-tls/1' in Protocols" % NAME


@pytest.mark.parametrize("protocols,warned", [
    (None, True),
    ("http/1.1", True),
    ("http/1.1 acme-tls/1", False),
], ids=["no-protocols", "without-acme-tls", "with-acme-tls"])
def test_tlsalpn01_warning(httpd, mod_path, workdir, protocols, warned):
    configure(httpd, mod_path, os.path.join(workdir, "md"), "MDCAChallenges tls-alpn-01", protocols=protocols)
    httpd.start(timeout=30)
    assert (TLSALPN_WARNING in httpd.error_log_text()) == warned


def test_store_lock_released_after_start(httpd, mod_path, workdir):
    """The lock is held only during the store setup: after the start another process gets it at once."""
    store = os.path.join(workdir, "md")
    configure(httpd, mod_path, store, "MDStoreLocks on")
    httpd.start(timeout=30)
    assert os.path.exists(os.path.join(store, "store.lock"))
    HeldLock(store).release()   # LOCK_NB: raises when httpd still held it


def _waits_for_a_lock(pid):
    """True when a thread of process pid sleeps in the kernel waiting for a file lock (flock/fcntl)."""
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return False
    for tid in tasks:
        try:
            with open("/proc/%d/task/%s/wchan" % (pid, tid)) as f:
                if "lock_inode_wait" in f.read():
                    return True
        except OSError:
            pass
    return False


GATED_DNS_HOOK = """#!/bin/sh
# dns-01 for the CLI: held at its first setup until the test opens the gate
if [ "$1" = setup ] && [ ! -e %(gate)s ]; then
    : > %(held)s
    while [ ! -e %(gate)s ]; do sleep 0.05; done
fi
exec %(hook)s "$@"
"""


def test_httpd_and_cli_never_activate_at_once(httpd, mod_path, workdir, md_build, pebble):
    """httpd (activating at its start) and `mdomain drive` (activating what it renewed) on the same store: both take
    the store directory's lock to activate, so neither activates while another process holds it, and both go on
    when it is released (issue 15: nothing tested that they never activate at the same time)."""
    store = os.path.join(workdir, "md")
    other = "cli.example.org"
    staged_store(store, datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1))
    cli = MdCli(os.path.join(md_build, "mdomain"), store, pebble)
    hook, _ = write_dns_hook(workdir, pebble.challtestsrv.management_url)
    gate, held = os.path.join(workdir, "gate"), os.path.join(workdir, "held")
    gated = write_program(os.path.join(workdir, "gated.sh"),
                          GATED_DNS_HOOK % {"gate": gate, "held": held, "hook": hook})
    cli.add(other, "--key", "p256", "--dns-cmd", gated)
    https_port = configure(httpd, mod_path, store)

    drive = subprocess.Popen([cli.binary, "-d", store, "drive", other], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    lock = os.open(store, os.O_RDONLY | os.O_DIRECTORY)
    try:
        wait_until(lambda: os.path.exists(held), 60, what="the CLI's dns-01 setup")
        fcntl.flock(lock, fcntl.LOCK_EX)                 # another process holds the store: nobody may activate
        open(gate, "w").close()
        job = os.path.join(store, "staging", other, "job.json")
        wait_until(lambda: os.path.exists(job) and json.load(open(job)).get("finished") is True, 60,
                   what="the CLI's renewal to finish")
        wait_until(lambda: _waits_for_a_lock(drive.pid), 30, what="the CLI to wait for the store's lock")
        spawn(httpd)
        wait_until(lambda: _waits_for_a_lock(httpd.process.pid), 30, what="httpd to wait for the store's lock")
        # neither has activated anything
        assert drive.poll() is None and not answers(httpd)
        assert not os.path.exists(os.path.join(store, "domains", other, CERT_ASPECT))
        assert os.path.exists(os.path.join(store, "staging", NAME, CERT_ASPECT))
    finally:
        os.close(lock)                                   # released: both go on, one after the other
    out, err = drive.communicate(timeout=120)
    assert drive.returncode == 0, err
    assert "%s: activated" % other in out
    wait_until(lambda: answers(httpd), 60, what="httpd to answer")
    assert tls_get(https_port, host=NAME)[1].serial_number == 2
    assert not os.path.exists(os.path.join(store, "staging", NAME))
    assert not os.path.exists(os.path.join(store, "staging", other))
    assert os.path.exists(os.path.join(store, "domains", other, CERT_ASPECT))
    assert tmp_leftovers(store) == []


def test_restart_reads_changed_sets_again(httpd, mod_path, workdir):
    """A complete MD whose files did not change since the last start is taken from the store's memo
    (tmp/md-state.memo) and served as before; a certificate file changed since is read and checked again: one for
    another key (copied over the old one in place: same inode, same size, another mtime) is not handed to mod_ssl
    (httpd starts, with the fallback, and says which file is wrong), a good new set is served."""
    store = os.path.join(workdir, "md")
    domains = os.path.join(store, "domains", NAME)
    since = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    write_set(domains, since, 11)
    https_port = configure(httpd, mod_path, store)
    httpd.start()
    assert tls_get(https_port)[1].serial_number == 11
    with open(os.path.join(store, "tmp", "md-state.memo")) as f:
        assert "\n%s " % NAME in f.read()
    httpd.stop()
    httpd.start()                                      # unchanged: from the memo
    assert tls_get(https_port)[1].serial_number == 11
    httpd.stop()
    for _ in range(50):                                # ECDSA signatures vary in length: the same size as the old
        write_set(os.path.join(workdir, "other"), since, 12)
        if os.path.getsize(os.path.join(workdir, "other", CERT_ASPECT)) == os.path.getsize(
                os.path.join(domains, CERT_ASPECT)):
            break
    shutil.copyfile(os.path.join(workdir, "other", CERT_ASPECT), os.path.join(domains, CERT_ASPECT))
    mark = httpd.error_log_mark()
    httpd.start()
    assert tls_get(https_port)[1].serial_number not in (11, 12)     # the fallback
    assert "is not the key of the certificate in %s" % CERT_ASPECT in httpd.error_log_since(mark)
    httpd.stop()
    write_set(domains, since, 13)
    httpd.start()
    assert tls_get(https_port)[1].serial_number == 13

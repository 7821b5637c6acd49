"""mod_mdomain serves renewed certificates without a restart: one httpd (root parent, www-data children, four
children), a new MD goes from the fallback and 503 to its certificate and 200 by itself; a forced renewal
(mdomain renew --force on the module's store) is served by every child within 10 s, RSA and EC alike; the store's
domains/ and archive/ as expected, keys' modes and owners unchanged; the parent's pid and generation unchanged; a
failing renewal changes nothing served. Also: no server to pick a request up, MDActivationDelay held by the live
switch, mod_ssl's features (SNI, RSA+EC, tls-alpn-01, SSLUseStapling) and OCSP stapling of live certificates
(MDStapling, SSLUseStapling, MDMustStaple)."""
import datetime
import json
import os
import pwd
import re
import stat
import subprocess
import time

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from rig import ports, tls
from rig.ocspca import PebbleResponder
from rig.proc import wait_until, write_program

from test_module_more import configure, ssl_vhost, http_vhost

NAME = "live.example.org"
CHILDREN = 4


def children_config():
    """Four children of five threads each, kept (no idle maintenance stops one)."""
    return ["StartServers %d" % CHILDREN, "ServerLimit %d" % CHILDREN, "ThreadsPerChild 5",
            "MaxRequestWorkers %d" % (5 * CHILDREN), "MinSpareThreads 5", "MaxSpareThreads %d" % (5 * CHILDREN),
            'LogFormat "%P %{SSL_SERVER_M_SERIAL}x %>s %{msec}t %{Host}i" served',
            "CustomLog logs/served.log served"]


def served_log(httpd, with_time=False):
    """[(child pid, serial served, status[, time])] of the https requests so far."""
    path = os.path.join(httpd.server_root, "logs", "served.log")
    rows = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                pid, serial, status, msec = line.split()[:4]
                if serial != "-":
                    row = (int(pid), serial.lstrip("0").upper(), int(status))
                    rows.append(row + (int(msec) / 1000.0,) if with_time else row)
    return rows


LOG_TIME_RE = re.compile(r"^\[\w+ (\w+ +\d+ [\d:]+)\.(\d+) (\d+)\]")


def log_time(line):
    """The time of an error log line ("[Sun Dec 06 09:40:19.442187 2026] ...") as seconds since the epoch."""
    m = LOG_TIME_RE.match(line)
    t = time.strptime("%s %s" % (m.group(1), m.group(3)), "%b %d %H:%M:%S %Y")
    return time.mktime(t) + float("0." + m.group(2))


def renewed_times(httpd):
    """When the watchdog announced renewed sets (the renewal finished), in order."""
    return [log_time(l) for l in httpd.error_log_text().splitlines()
            if "have been renewed and are served from now on" in l]


def serial_of(cert):
    return ("%X" % cert.serial_number).lstrip("0")


def get(port, rsa_only=False, ca_pem=None, name=NAME):
    a = tls.request(port, name, ca_pem=ca_pem, rsa_only=rsa_only)
    return a.status, a.cert


def key_modes(store):
    """{file: (mode, uid, gid)} of the private keys and certificates in domains/NAME."""
    d = os.path.join(store, "domains", NAME)
    out = {}
    for f in sorted(os.listdir(d)):
        st = os.stat(os.path.join(d, f))
        out[f] = (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
    return out


def every_child_serves(httpd, port, serial, ca_pem, timeout=10.0, rsa_only=False, name=NAME):
    """Handshakes until each child has served serial at least once (and after that never the old one); returns the
    seconds it took and the number of handshakes."""
    start = time.time()
    mark = len(served_log(httpd))
    kids = set(httpd.children())
    seen = set()
    n = 0
    while time.time() - start < timeout + 30:
        status, cert = get(port, rsa_only=rsa_only, ca_pem=ca_pem, name=name)
        n += 1
        rows = served_log(httpd)[mark:]
        new = {pid for pid, s, _ in rows if s == serial}
        if serial_of(cert) == serial:
            seen |= new
        if kids <= seen:
            return time.time() - start, n
    raise AssertionError("children %s served %s only in %s after %d handshakes" % (kids, serial, seen, n))


def test_live_first_and_forced(httpd, pebble_factory, mod_path, workdir, md_build):
    pebble = pebble_factory(http_port=httpd.port)
    https_port, store = configure(httpd, pebble, mod_path, workdir, "MDInitialDelay 3s", "MDomain %s" % NAME,
                                  *children_config(), keys="RSA secp256r1")
    httpd.add_vhost(http_vhost(httpd.port, NAME))
    httpd.add_vhost(ssl_vhost(https_port, NAME))
    httpd.start()
    parent, generation = httpd.pid, httpd.generation()
    wait_until(lambda: len(httpd.children()) == CHILDREN, 10, what="%d children" % CHILDREN)

    # before: the self-signed fallback and 503
    status, cert = get(https_port)
    assert status == 503 and cert.issuer == cert.subject

    # the first certificate, served by itself: 200 with pebble's certificate, RSA and EC, in every child
    root = pebble.root_pem()
    wait_until(lambda: get(https_port)[0] == 200, 90, what="the first certificate served")
    status, ec_cert = get(https_port, ca_pem=root)
    assert status == 200 and isinstance(ec_cert.public_key(), ec.EllipticCurvePublicKey)
    status, rsa_cert = get(https_port, ca_pem=root, rsa_only=True)
    assert status == 200 and isinstance(rsa_cert.public_key(), rsa.RSAPublicKey)
    every_child_serves(httpd, https_port, serial_of(ec_cert), root)
    # the parent activates it in the store: domains/NAME, nothing staged, keys root's
    wait_until(lambda: not os.path.exists(os.path.join(store, "staging", NAME)), 30, what="the activation")
    www = pwd.getpwnam("www-data")
    modes = key_modes(store)
    assert modes["privkey.pem"] == (0o600, 0, 0) and modes["privkey.secp256r1.pem"] == (0o600, 0, 0)
    assert modes["pubcert.pem"] == (0o640, 0, www.pw_gid) and modes["md.json"] == (0o640, 0, www.pw_gid)
    assert httpd.pid == parent and httpd.generation() == generation
    assert "graceful" not in httpd.error_log_text().lower()

    # a forced renewal of the running server (after a key compromise): the command asks the server, which renews the
    # MD, serves the new set at once in every child, and activates it in the store; the old set goes to archive/
    cli = os.path.join(md_build, "mdomain")
    before = {"ec": serial_of(ec_cert), "rsa": serial_of(rsa_cert)}
    assert len(renewed_times(httpd)) == 1
    t0 = time.time()
    proc = subprocess.Popen([cli, "-d", store, "renew", "--force", NAME, "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    wait_until(lambda: len(renewed_times(httpd)) == 2 or proc.poll() is not None, 60, what="the forced renewal")
    finished = renewed_times(httpd)[1]
    status, new_ec = get(https_port, ca_pem=root)
    status, new_rsa = get(https_port, ca_pem=root, rsa_only=True)
    assert serial_of(new_ec) != before["ec"] and serial_of(new_rsa) != before["rsa"]
    every_child_serves(httpd, https_port, serial_of(new_ec), root)
    every_child_serves(httpd, https_port, serial_of(new_rsa), root, rsa_only=True)
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    result = json.loads(out)["results"][0]
    assert result["outcome"] == "activated" and sorted(x.lstrip("0") for x in result["serials"]) == sorted(
        [serial_of(new_ec), serial_of(new_rsa)]), result
    assert time.time() - t0 < 60
    # each child served the new set within 10 s of the renewal's end, and never the old one after it
    rows = served_log(httpd, with_time=True)
    for pid in httpd.children():
        first_new = min(t for p, s, _, t in rows if p == pid and s == serial_of(new_ec))
        assert first_new - finished < 10, "child %d: %.1f s after the renewal" % (pid, first_new - finished)
        assert not [1 for p, s, _, t in rows if p == pid and t > first_new and s == before["ec"]]
    # the store: the new set active, the old one archived, nothing staged; keys' modes and owners as before
    # (archive/NAME.1 is what domains/NAME held before the first certificate: md.json and the fallback)
    assert sorted(os.listdir(os.path.join(store, "archive"))) == [NAME + ".1", NAME + ".2"]
    with open(os.path.join(store, "archive", NAME + ".2", "pubcert.secp256r1.pem"), "rb") as f:
        assert serial_of(x509.load_pem_x509_certificate(f.read())) == before["ec"]
    assert not os.path.exists(os.path.join(store, "staging", NAME))
    assert not os.path.exists(os.path.join(store, "requests", NAME + ".json"))
    assert key_modes(store) == modes
    assert httpd.pid == parent and httpd.generation() == generation

    # a renewal that fails (the CA is gone) disturbs nothing that is served
    pebble.stop()
    res = subprocess.run([cli, "-d", store, "renew", "--force", NAME, "--json"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=120)
    assert res.returncode == 1
    assert json.loads(res.stdout)["results"][0]["outcome"] == "failed"
    every_child_serves(httpd, https_port, serial_of(new_ec), root)
    for _ in range(20):
        status, cert = get(https_port, ca_pem=root)
        assert status == 200 and serial_of(cert) == serial_of(new_ec)
    assert sorted(os.listdir(os.path.join(store, "archive"))) == [NAME + ".1", NAME + ".2"]
    assert httpd.pid == parent and httpd.generation() == generation


def test_live_no_server(httpd, pebble_factory, mod_path, workdir, md_build):
    """On a module's store without a running server, the forced renewal says so after --wait and withdraws the
    request; --here renews it in the command instead."""
    pebble = pebble_factory(http_port=httpd.port)
    https_port, store = configure(httpd, pebble, mod_path, workdir, "MDRenewMode manual", "MDomain %s" % NAME)
    httpd.add_vhost(ssl_vhost(https_port, NAME))
    httpd.start()
    httpd.stop()
    assert os.path.isdir(os.path.join(store, "requests"))
    cli = os.path.join(md_build, "mdomain")
    t0 = time.time()
    res = subprocess.run([cli, "-d", store, "renew", "--force", NAME, "--wait", "3"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=60)
    assert res.returncode == 1
    assert 3 <= time.time() - t0 < 20
    assert "no server picked up the request within 3 s" in res.stderr
    assert "MDStoreDir %s" % store in res.stderr
    assert not os.path.exists(os.path.join(store, "requests", NAME + ".json"))


EVENTS_SCRIPT = """#!/bin/sh
# MDMessageCmd: each event with the caller's uid
echo "$1 $2 $(id -u)" >> %s
exit 0
"""


def test_live_activation_delay(httpd, pebble_factory, mod_path, workdir):
    """MDActivationDelay holds the renewed set back while the server runs too: the fallback (503) until notBefore
    plus the delay, then the certificate, served and activated without a restart, and installed raised by the
    root parent."""
    pebble = pebble_factory(http_port=httpd.port)
    events_dir = os.path.join(workdir, "events")
    os.makedirs(events_dir)
    os.chmod(events_dir, 0o777)
    events = os.path.join(events_dir, "calls")
    script = write_program(os.path.join(workdir, "events.sh"), EVENTS_SCRIPT % events)
    https_port, store = configure(httpd, pebble, mod_path, workdir, "MDActivationDelay 20s",
                                  "MDMessageCmd %s" % script, "MDomain %s" % NAME)
    httpd.add_vhost(ssl_vhost(https_port, NAME))
    httpd.start()
    parent = httpd.pid
    wait_until(lambda: "the certificates have been renewed; they are served from" in httpd.error_log_text(), 60,
               what="the renewal, held back by MDActivationDelay")
    staged = os.path.join(store, "staging", NAME, "pubcert.secp256r1.pem")
    with open(staged, "rb") as f:
        not_before = x509.load_pem_x509_certificate(f.read()).not_valid_before.replace(
            tzinfo=datetime.timezone.utc).timestamp()
    root = pebble.root_pem()
    # before notBefore + 20 s: the fallback, 503, nothing activated, nothing installed
    while time.time() < not_before + 17:
        status, cert = get(https_port)
        assert status == 503 and cert.issuer == cert.subject
        assert os.path.exists(staged)
        time.sleep(1)
    # then served (within the watchdog's look and a handshake) and activated by the parent
    wait_until(lambda: get(https_port)[0] == 200, 20, what="the certificate served after the delay")
    served_at = time.time()
    assert served_at >= not_before + 20
    status, cert = get(https_port, ca_pem=root)
    assert status == 200
    wait_until(lambda: not os.path.exists(os.path.join(store, "staging", NAME)), 30, what="the activation")
    wait_until(lambda: os.path.exists(events) and "installed %s 0" % NAME in open(events).read(), 10,
               what="installed, run by root")
    calls = open(events).read()
    assert "renewed %s %d" % (NAME, pwd.getpwnam("www-data").pw_uid) in calls
    assert httpd.pid == parent


SNI_A, SNI_B = "a.live.example.org", "b.live.example.org"


def test_live_sni_alpn_stapling(httpd, pebble_factory, mod_path, workdir, md_build):
    """mod_ssl's features with certificates switched live: one virtual host with two MDs told apart by SNI (the
    callback serves the MD of the name asked for), RSA and EC each, obtained and renewed through tls-alpn-01 (the
    challenge's handshakes get the challenge certificate, not the MD's live set), SSLUseStapling on (handshakes
    with the switched certificates go through; their stapling is test_live_stapling's). A forced renewal of one MD
    switches that MD only."""
    https_port = httpd.new_port("https")
    pebble = pebble_factory(http_port=ports.free_port(), tls_port=https_port)
    store = os.path.join(workdir, "md")
    httpd.add_modules("ssl", "socache_shmcb", ("mdomain", mod_path))
    httpd.add_config(
        "LogLevel md:debug", "MDStoreDir %s" % store, "MDPortMap http:- https:%d" % https_port,
        *pebble.md_directives(), "MDPrivateKeys RSA secp256r1",
        "MDCAChallenges tls-alpn-01", "MDInitialDelay 1s", "MDRetryDelay 1s",
        "SSLStaplingCache shmcb:logs/stapling(32768)",
        "MDomain %s" % SNI_A, "MDomain %s" % SNI_B, *children_config())
    httpd.add_vhost("\n".join([
        "<VirtualHost 127.0.0.1:%d>" % https_port, "  ServerName %s" % SNI_A, "  ServerAlias %s" % SNI_B,
        "  Protocols http/1.1 acme-tls/1", "  SSLEngine on", "  SSLUseStapling on", "</VirtualHost>"]))
    httpd.start()
    parent, generation = httpd.pid, httpd.generation()
    root = pebble.root_pem()

    def served(name, rsa_only=False):
        status, cert = get(https_port, ca_pem=root, name=name, rsa_only=rsa_only)
        assert status == 200          # and the name checked against the certificate (ca_pem)
        return serial_of(cert)

    def serves(name):
        try:
            return get(https_port, ca_pem=root, name=name)[0] == 200
        except Exception:
            return False

    wait_until(lambda: serves(SNI_A) and serves(SNI_B), 90, what="both MDs served (tls-alpn-01)")
    before = {(n, k): served(n, k) for n in (SNI_A, SNI_B) for k in (False, True)}
    assert len(set(before.values())) == 4
    log = httpd.error_log_text()
    assert "tls-alpn-01 challenge for %s answered" % SNI_A in log

    wait_until(lambda: not os.listdir(os.path.join(store, "staging")), 30, what="both activated")
    # a forced renewal of a, through tls-alpn-01 while every child serves a's live set
    res = subprocess.run([os.path.join(md_build, "mdomain"), "-d", store, "renew", "--force", SNI_A, "--json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["results"][0]["outcome"] == "activated"
    assert httpd.error_log_text().count("tls-alpn-01 challenge for %s answered" % SNI_A) \
        > log.count("tls-alpn-01 challenge for %s answered" % SNI_A)
    new_ec, new_rsa = served(SNI_A), served(SNI_A, True)
    assert new_ec != before[(SNI_A, False)] and new_rsa != before[(SNI_A, True)]
    every_child_serves(httpd, https_port, new_ec, root, name=SNI_A)
    every_child_serves(httpd, https_port, new_rsa, root, rsa_only=True, name=SNI_A)
    # b is left alone, in every child
    for _ in range(3 * CHILDREN):
        assert served(SNI_B) == before[(SNI_B, False)] and served(SNI_B, True) == before[(SNI_B, True)]
    assert httpd.pid == parent and httpd.generation() == generation


STAPLED, MUST, BY_SSL = "stapled.live.example.org", "must.live.example.org", "ssl.live.example.org"


def s_client(port, name):
    """openssl s_client -status with SNI name and one request: (serial of the certificate served, serials in the
    stapled OCSP response, the certificate)."""
    res = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-servername", name, "-status",
                          "-ign_eof"], input=("GET / HTTP/1.0\r\nHost: %s\r\n\r\n" % name).encode(),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    out = res.stdout.decode("utf-8", "replace")
    pem = re.search(r"Server certificate\s+(-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----)", out,
                    re.S).group(1)     # the response before it may hold its signer's certificate
    cert = x509.load_pem_x509_certificate(pem.encode())
    # the responses' "Serial Number: HEX" (the signer's certificate in it prints its own as "DEC (0xHEX)")
    stapled = re.findall(r"^\s*Serial Number: ([0-9A-F]+)\s*$", out, re.M) \
        if "OCSP Response Status: successful" in out else []
    return serial_of(cert), [x.lstrip("0") for x in stapled], cert


def every_child_staples(httpd, port, name, serial, timeout=120.0):
    """s_client handshakes until each child has served serial with a response for serial stapled. The bound is
    generous: under ASan at load 15-20 a handshake through s_client takes ~3 s, and with 4 children 10 handshakes
    miss one of them about once in five (failed so in a make check)."""
    kids, ok, n = set(httpd.children()), set(), 0
    start = time.time()
    while time.time() - start < timeout:
        mark = len(served_log(httpd))
        served, stapled, _ = s_client(port, name)
        n += 1
        wait_until(lambda: len(served_log(httpd)) > mark, 5, what="the request in the access log")
        pid = served_log(httpd)[mark][0]
        if served == serial and stapled == [serial]:
            ok.add(pid)
        if kids <= ok:
            return n
    raise AssertionError("%s: children %s stapled %s only in %s after %d handshakes" % (name, kids, serial, ok, n))


def test_live_stapling(httpd, pebble_factory, mod_path, workdir, md_build):
    """OCSP stapling follows the certificates switched live (issue 13, point 5): pebble's certificates carry the URL
    of the test's responder (rig/ocspca.py PebbleResponder); MDStapling on for one MD, MDMustStaple with MDStapling
    for another, mod_ssl's SSLUseStapling alone for a third. The first certificates (switched live from the
    fallbacks) and those of a forced renewal are served by every child with their own response stapled, fetched
    in the background right after the switch; no restart."""
    responder = PebbleResponder(os.path.join(workdir, "responder"))
    pebble = pebble_factory(http_port=httpd.port, ocsp_responder_url=responder.url)
    responder.use(pebble)
    names = (STAPLED, MUST, BY_SSL)
    https_port, store = configure(httpd, pebble, mod_path, workdir, "SSLStaplingCache shmcb:logs/stapling(32768)",
                                  "<MDomain %s>" % STAPLED, "  MDStapling on", "</MDomain>",
                                  "<MDomain %s>" % MUST, "  MDStapling on", "  MDMustStaple on", "</MDomain>",
                                  "MDomain %s" % BY_SSL, *children_config())
    for name in names:
        httpd.add_vhost(http_vhost(httpd.port, name))
        httpd.add_vhost(ssl_vhost(https_port, name, *(["SSLUseStapling on"] if name == BY_SSL else [])))
    httpd.start()
    parent, generation = httpd.pid, httpd.generation()
    wait_until(lambda: len(httpd.children()) == CHILDREN, 10, what="%d children" % CHILDREN)
    root = pebble.root_pem()
    wait_until(lambda: all(get(https_port, name=n)[0] == 200 for n in names), 90, what="the first certificates")
    first = {n: serial_of(get(https_port, ca_pem=root, name=n)[1]) for n in names}
    for n in names:
        every_child_staples(httpd, https_port, n, first[n])
    # (pebble leaves the must-staple extension the module asks for out of its certificates: the MD says it)
    with open(os.path.join(store, "domains", MUST, "md.json")) as f:
        assert json.load(f)["must-staple"] is True

    # a forced renewal of the running server: the new certificates, with responses for them, no restart
    wait_until(lambda: not os.listdir(os.path.join(store, "staging")), 30, what="the activations")
    res = subprocess.run([os.path.join(md_build, "mdomain"), "-d", store, "renew", "--force", *names, "--json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert [r["outcome"] for r in json.loads(res.stdout)["results"]] == ["activated"] * 3, res.stdout
    for n in names:
        served, stapled, cert = s_client(https_port, n)
        assert served != first[n] and stapled in ([], [served]), (n, served, stapled)
        every_child_staples(httpd, https_port, n, served)
        assert served in responder.serials
    log = httpd.error_log_text()
    assert "AH01926" not in log          # mod_ssl's "stapling not supported for certificate"
    for n in names:
        assert log.count("%s: its new certificates are served without a stapled OCSP response" % n) <= 2
    assert httpd.pid == parent and httpd.generation() == generation
    responder.stop()

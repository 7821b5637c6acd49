"""mod_md against mod_mdomain on challenges (rig/differential.py): which types are chosen from the Listen sockets,
MDPortMap and acme-tls/1, the acme-tls/1 names in md.json and md-status, answers other programs wrote into the
store's challenges/, and which requests under /.well-known/acme-challenge/ go on to the other handlers. What differs
on purpose is in each test's ignore list and in docs/directives.md "Differences from mod_md"."""
import datetime
import hashlib
import os
import pwd
import re
import subprocess

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from rig import differential as diff
from rig import net, ports
from rig.httpd import RUN_USER
from rig.proc import wait_until

WELL_KNOWN = "/.well-known/acme-challenge/"
REACH_RE = re.compile(r"server seems( not)? reachable via http:.*?and( not)? reachable via https:")


def _vhost(side, name, *lines, port=None):
    side.httpd.add_vhost("\n".join(["<VirtualHost 127.0.0.1:%d>" % (port or side.https_port),
                                    "  ServerName %s" % name, *["  " + line for line in lines],
                                    *(["  SSLEngine on"] if port is None else []), "</VirtualHost>"]))


def _write(path, data, mode=0o644):
    """A file as another program on the store writes it: owned by httpd's User, like challenges/ itself."""
    pw = pwd.getpwnam(RUN_USER)
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    with open(path, "w") as f:
        f.write(data)
    os.chmod(path, mode)
    for p in (os.path.dirname(path), path):
        os.chown(p, pw.pw_uid, pw.pw_gid)


def _reachability(side):
    """(http reachable, https reachable) as the module logged it at startup."""
    m = REACH_RE.search(side.httpd.error_log_text())
    return m and [not m.group(1), not m.group(2)]


# -------------------------------------------------------------------------------------------- challenge path


def _challenge_path(side):
    """Requests under /.well-known/acme-challenge/ for MDs of each kind and a host that is none, with a static file
    there and answers another program stored in challenges/ (mod_md's format: the key authorization)."""
    cert, key = side.pebble.listener_ca.issue_server("s.example.org", side.workdir)
    side.configure("MDomain p.example.org", "MDomain q.example.org",
                   "<MDomain d.example.org>", "MDCAChallenges dns-01", "</MDomain>",
                   "<MDomain m.example.org>", "MDRenewMode manual", "</MDomain>",
                   "<MDomain s.example.org>", "MDCertificateFile %s" % cert, "MDCertificateKeyFile %s" % key,
                   "</MDomain>", initial_delay="1h")
    for name in ("p", "q", "d", "m", "s"):
        _vhost(side, name + ".example.org")
    _write(os.path.join(side.httpd.docroot, ".well-known", "acme-challenge", "static-token"), "static\n")
    side.httpd.start()
    for host in ("p", "d", "other"):
        _write(os.path.join(side.store, "challenges", host + ".example.org", "acme-http-01.txt"), "tok1.thumbprint")
    out = {}
    for host in ("p", "q", "d", "m", "s", "other"):
        name = host + ".example.org"
        for token in ("tok1", "static-token", "missing"):
            status, _, body = net.fetch(side.httpd.url(WELL_KNOWN + token), headers={"Host": name})
            out["GET %s %s" % (host, token)] = [status, body.decode()[:20] if status == 200 else ""]
        status, _, body = net.fetch(side.httpd.url(WELL_KNOWN + "tok1"), method="HEAD", headers={"Host": name})
        out["HEAD %s tok1" % host] = status
        status, _, _ = net.fetch(side.httpd.url(WELL_KNOWN + "tok1"), method="POST", data=b"x",
                                 headers={"Host": name})
        out["POST %s tok1" % host] = status
    return out


def test_challenge_path(httpd_factory, pebble_factory, mod_path, workdir):
    """A stored answer is served for its host and token, whoever wrote it, also for a host that is no MD; POST to it
    is 501. Everything else goes on to the other handlers: the static file is served for hosts that are no MD, for
    MDs that exclude http-01 (their stored answer too is left alone), manual and static MDs, and (on purpose,
    unlike mod_md) for MDs the module renews itself."""
    observed = diff.run_both(httpd_factory, pebble_factory, mod_path, workdir, _challenge_path)
    ours = observed["mod_mdomain"]
    # an answer stored for another token is not the answer to this one: the request goes on (mod_md answers every
    # token of the host with the stored key authorization)
    assert ours["GET p static-token"] == [200, "static\n"]
    assert ours["GET p missing"] == [404, ""]
    assert observed["mod_md"]["GET p static-token"] == [200, "tok1.thumbprint"]
    # an MD renewed here without a stored answer: the request goes on (mod_md answers 404)
    assert ours["GET q static-token"] == [200, "static\n"]
    assert observed["mod_md"]["GET q static-token"] == [404, ""]
    assert ours["GET other tok1"] == [200, "tok1.thumbprint"]
    assert ours["GET d tok1"] == [404, ""] and ours["GET d static-token"] == [200, "static\n"]
    diff.assert_same(observed, ignore=("GET p static-token", "GET p missing", "GET other static-token",
                                       "GET other missing", "GET q static-token"))


# -------------------------------------------------------------------------------------------- tls-alpn-01 answers


def _challenge_cert(name, key_authz, key):
    """An RFC 8737 certificate for name (acmeIdentifier = SHA-256 of the key authorization) with key."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    ident = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.5.5.7.1.31"),
                                       b"\x04\x20" + hashlib.sha256(key_authz.encode()).digest())
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(ident, critical=True).sign(key, hashes.SHA256()))
    return cert


def _store_tls_answer(store, name, suffix, key):
    """Another program's tls-alpn-01 answer for name in mod_md's files (suffix "" for RSA, ".secp256r1"...)."""
    cert = _challenge_cert(name, "tok.thumbprint-" + name, key)
    base = os.path.join(store, "challenges", name, "acme-tls-alpn-01-%s" + suffix + ".pem")
    _write(base % "privkey", key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()).decode(), 0o600)
    _write(base % "pubcert", cert.public_bytes(serialization.Encoding.PEM).decode())
    return cert.fingerprint(hashes.SHA256()).hex()


# The signature algorithms a CA's validator (Go's crypto/tls) prefers, in its order: with certificates of both kinds in
# place, an RSA one is handed out first. openssl s_client speaks them; Python's ssl cannot choose them.
GO_SIGALGS = "rsa_pss_rsae_sha256:ecdsa_secp256r1_sha256:ed25519:rsa_pss_rsae_sha384:rsa_pkcs1_sha256:" \
             "ecdsa_secp384r1_sha384"
PEM_RE = re.compile(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", re.S)


def alpn_cert(port, sni):
    """The certificate a validator gets with acme-tls/1 for sni (hex SHA-256), or why it got none."""
    res = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-servername", sni, "-alpn",
                          "acme-tls/1", "-sigalgs", GO_SIGALGS], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=20)
    out = res.stdout.decode("utf-8", "replace")
    if "ALPN protocol: acme-tls/1" not in out:
        return "no acme-tls/1"
    m = PEM_RE.search(out)
    if not m:
        return "no certificate"
    return x509.load_pem_x509_certificate(m.group(0).encode()).fingerprint(hashes.SHA256()).hex()


def _stored_tls_answers(side):
    """Answers in mod_md's files for an MD with a P-256 key, one with an RSA key, and a host that is no MD."""
    cert, key = side.pebble.listener_ca.issue_server("b3.example.org", side.workdir)
    side.configure("MDomain b1.example.org", "<MDomain b2.example.org>", "MDPrivateKeys RSA", "</MDomain>",
                   initial_delay="1h")
    for name in ("b1", "b2"):
        _vhost(side, name + ".example.org", "Protocols http/1.1 acme-tls/1")
    _vhost(side, "b3.example.org", "Protocols http/1.1 acme-tls/1", "SSLCertificateFile %s" % cert,
           "SSLCertificateKeyFile %s" % key)
    side.httpd.start()
    fingerprints = {
        "b1": _store_tls_answer(side.store, "b1.example.org", ".secp256r1", ec.generate_private_key(ec.SECP256R1())),
        "b2": _store_tls_answer(side.store, "b2.example.org", "", rsa.generate_private_key(65537, 2048)),
        "b3": _store_tls_answer(side.store, "b3.example.org", ".secp256r1", ec.generate_private_key(ec.SECP256R1())),
    }
    out = {}
    for host, fp in fingerprints.items():
        got = alpn_cert(side.https_port, host + ".example.org")
        out[host] = "the stored certificate" if got == fp else got
    return out


def test_stored_tls_alpn_answers(httpd_factory, pebble_factory, mod_path, workdir):
    """tls-alpn-01 answers another program wrote in mod_md's files (per key type: acme-tls-alpn-01-pubcert[.KEY].pem
    and -privkey) are served to acme-tls/1 clients, for a host that is no MD too (its virtual host allows acme-tls/1).
    mod_md looks only for the files of the key types configured for the virtual host's server, not those of the MD's
    own MDPrivateKeys: it misses b2's (RSA in its <MDomain>, P-256 outside); mdomain takes the MD's key types, then
    whatever pair is there."""
    observed = diff.run_both(httpd_factory, pebble_factory, mod_path, workdir, _stored_tls_answers)
    assert observed["mod_mdomain"] == {"b1": "the stored certificate", "b2": "the stored certificate",
                                       "b3": "the stored certificate"}
    diff.assert_same(observed, ignore=("b2",))


# -------------------------------------------------------------------------------------------- acme-tls/1 names


def _acme_tls_names(side):
    """md.json's and md-status' proto of MDs whose names' https hosts allow acme-tls/1 or not, the base server's
    MD with MDBaseServer on."""
    side.configure("MDBaseServer on", "ServerName base.example.org", "Protocols http/1.1 acme-tls/1",
                   "MDomain base.example.org", "MDomain t.example.org", "MDomain a.example.org b.example.org "
                   "c.example.org", "MDomain h.example.org", initial_delay="1h")
    _vhost(side, "t.example.org", "ServerAlias www.t.example.org")
    _vhost(side, "a.example.org", "Protocols http/1.1")
    _vhost(side, "b.example.org", "ServerAlias c.example.org")
    _vhost(side, "h.example.org", "Protocols http/1.1")
    side.httpd.start()
    names = ("base.example.org", "t.example.org", "a.example.org", "h.example.org")
    status = {m["name"]: m.get("proto") for m in side.md_status()["managed-domains"]}
    return {"md.json": {n: side.store_json("domains", n, "md.json").get("proto") for n in names},
            "md-status": {n: status.get(n) for n in names}}


def test_acme_tls_names(httpd_factory, pebble_factory, mod_path, workdir):
    """Every name of an MD whose https host (any of the MD's hosts, the base server with MDBaseServer on) allows
    acme-tls/1 is listed under proto.acme-tls/1."""
    observed = diff.run_both(httpd_factory, pebble_factory, mod_path, workdir, _acme_tls_names)
    assert observed["mod_mdomain"]["md.json"]["a.example.org"] == {"acme-tls/1": ["b.example.org", "c.example.org"]}
    diff.assert_same(observed)


# -------------------------------------------------------------------------------------------- reachability


def _failed(side, name):
    last = side.md_status(name).get("renewal", {}).get("last", {})
    return last.get("status", 0) != 0


def _unreachable(side):
    """No Listen where MDPortMap says the public ports arrive, no MDCAChallenges: nothing can be used."""
    side.configure("LogLevel md:debug", "MDomain x.example.org", "MDomain y.example.org", challenges=None,
                   portmap="http:%d https:%d" % (ports.free_port(), ports.free_port()))
    _vhost(side, "x.example.org", "Protocols http/1.1 acme-tls/1")
    _vhost(side, "y.example.org")
    side.httpd.start()
    wait_until(lambda: _failed(side, "x.example.org") and _failed(side, "y.example.org"), 30,
               what="both renewals failing")
    out = {"reachable": _reachability(side)}
    for name in ("x.example.org", "y.example.org"):
        st = side.md_status(name)
        out[name] = {"proto": st.get("proto"), "status": st["renewal"]["last"]["status"],
                     "detail": st["renewal"]["last"]["detail"]}
    out["requests"] = [p for _, p in side.pebble.requests() if "order" in p or "authz" in p]
    out["log"] = side.httpd.error_log_text()
    return out


def test_unreachable(httpd_factory, pebble_factory, mod_path, workdir):
    """Neither port reachable: every renewal fails at once, with no order, saying why for each type."""
    observed = diff.run_both(httpd_factory, pebble_factory, mod_path, workdir, _unreachable)
    ours = observed["mod_mdomain"]
    assert ours["reachable"] == [False, False]
    for name in ("x.example.org", "y.example.org"):
        assert ("none of the challenge types can be used for %s: tls-alpn-01: the server seems not reachable on "
                "public port 443; http-01: the server seems not reachable on public port 80; dns-01: no dns-01 "
                "program or event handler is configured" % name) in ours[name]["detail"]
        # at the start already, as mod_md (AH10173)
        assert "MD %s: none of the challenge types can be used, it cannot be renewed: tls-alpn-01: the server seems " \
               "not reachable on public port 443" % name in ours["log"]
    # the detail in mdomain's words (and its remedy in the module's directives)
    diff.assert_same(observed, ignore=("x.example.org.detail", "y.example.org.detail", "log"))


def _https_only(side):
    """MDPortMap http:-: tls-alpn-01 for the MD whose host has acme-tls/1; the other has no challenge type."""
    side.configure("LogLevel md:debug", "MDomain x.example.org", "MDomain y.example.org", challenges=None,
                   portmap="http:- https:%d" % side.https_port)
    _vhost(side, "x.example.org", "Protocols http/1.1 acme-tls/1")
    _vhost(side, "y.example.org")
    side.httpd.start()
    wait_until(lambda: side.md_status("x.example.org").get("renewal", {}).get("finished")
               and _failed(side, "y.example.org"), 60, what="x renewed, y failing")
    y = side.md_status("y.example.org")
    return {"reachable": _reachability(side), "x": side.md_status("x.example.org")["proto"],
            "y": {"proto": y["proto"], "status": y["renewal"]["last"]["status"],
                  "detail": y["renewal"]["last"]["detail"]}}


def test_https_only(httpd_factory, pebble_factory, mod_path, workdir):
    observed = diff.run_both(httpd_factory, pebble_factory, mod_path, workdir, _https_only)
    assert "tls-alpn-01: none of its names is served with the protocol acme-tls/1" in \
        observed["mod_mdomain"]["y"]["detail"]
    diff.assert_same(observed, ignore=("y.detail",))


def _tls_alpn_preferred(side):
    """Both ports mapped and listened on, but the CA reaches only https: the renewal works with tls-alpn-01 first."""
    side.configure("MDomain x.example.org", challenges=None)
    _vhost(side, "x.example.org", "Protocols http/1.1 acme-tls/1")
    side.httpd.start()
    wait_until(lambda: side.md_status("x.example.org").get("renewal", {}).get("finished"), 60,
               what="the renewal with tls-alpn-01")
    return {"finished": True, "challenges left": side.store_files("challenges")}


def test_tls_alpn_preferred(httpd_factory, pebble_factory, mod_path, workdir):
    observed = diff.run_both(httpd_factory, pebble_factory, mod_path, workdir, _tls_alpn_preferred,
                             pebble_kwargs={"http_port": ports.free_port()})
    diff.assert_same(observed)

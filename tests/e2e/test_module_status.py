"""mod_mdomain's status: the md-status JSON handler (all MDs, one MD, an unknown name) before, during and after a
renewal and after a CA refused one, and the "Managed Certificates" section of server-status (HTML and ?auto),
switched off with MDServerStatus off."""
import json
import os
import re

from cryptography.hazmat.primitives import hashes

from rig import net
from rig.dnshook import write_dns_hook
from rig import tls
from rig.proc import wait_until, write_program

from test_module_more import configure as module_configure

NAME = "status.example.org"
BAD = "bad.example.org"
EAB_KEYS = {"kid-1": "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"}
WRONG_HMAC = "b3JpZ2luYWxseS13cm9uZy1obWFjLWtleS1mb3ItdGhlLXN0YXR1cy10ZXN0cw"   # pebble refuses the binding
MONITOR_NAME = "crt<&>sh"
MONITOR_URL = "https://monitor.example/?a=1&q="

# A dns-01 hook that holds the setup until the test creates the release file, so the test sees the
# renewal in the middle; then it runs the real hook (challtestsrv's TXT records).
GATED_HOOK = """#!/usr/bin/python3
import os, sys, time
if sys.argv[1] == "setup":
    deadline = time.monotonic() + 60
    while not os.path.exists(%(release)r) and time.monotonic() < deadline:
        time.sleep(0.1)
os.execv(%(hook)r, [%(hook)r] + sys.argv[1:])
"""


def tls_get(port, host, path="/"):
    """GET over TLS (not verified) with SNI host: (status, body bytes, the served leaf certificate)."""
    a = tls.request(port, host, path=path)
    return a.status, a.body, a.cert


def md_status(httpd, name=None):
    return net.get_json(httpd.url("/md-status" + ("/" + name if name else "")))


def md_of(status, name):
    found = [m for m in status["managed-domains"] if m["name"] == name]
    assert len(found) == 1, status
    return found[0]


def auto_counts(httpd):
    status, _, body = net.fetch(httpd.url("/server-status?auto"))
    assert status == 200
    return dict(re.findall(r"^(ManagedCertificates\w+): (\d+)$", body.decode(), re.M))


def gated_hook(workdir, pebble):
    hooks = os.path.join(workdir, "hooks")
    os.makedirs(hooks)
    os.chmod(hooks, 0o777)          # the children (www-data) run the hook and write its log here
    hook, _ = write_dns_hook(hooks, pebble.challtestsrv.management_url)
    release = os.path.join(hooks, "release")
    gated = write_program(os.path.join(hooks, "gated-hook.py"), GATED_HOOK % {"release": release, "hook": hook})
    return gated, release


def configure(httpd, pebble, bad_pebble, mod_path, workdir, hook):
    """The module tests' common configuration with NAME through dns-01 (the gated hook) and BAD at a CA that
    refuses it, and md-status; one https host for both."""
    https_port, store = module_configure(
        httpd, pebble, mod_path, workdir,
        "MDCertificateMonitor %s %s" % (MONITOR_NAME, MONITOR_URL),
        "<MDomain %s>" % NAME,
        "  MDCAChallenges dns-01",
        "  MDChallengeDns01 %s" % hook,
        "</MDomain>",
        "<MDomain %s>" % BAD,
        "  MDCertificateAuthority %s" % bad_pebble.directory_url,
        "  MDExternalAccountBinding kid-1 %s" % WRONG_HMAC,
        "  MDCAChallenges http-01",
        "</MDomain>",
        "<Location /md-status>",
        "  SetHandler md-status",
        "</Location>",
        "MDActivationDelay 1h",          # the renewed set stays staged (shown as the renewal) until the restart
    )
    # one host for both MDs: once NAME has its certificate, requests for BAD get it too, and the 503 gate
    httpd.add_vhost("\n".join(["<VirtualHost 127.0.0.1:%d>" % https_port, "  ServerName %s" % NAME,
                               "  ServerAlias %s" % BAD, "  SSLEngine on", "</VirtualHost>"]))
    return https_port, store


def check_before(httpd):
    status = md_status(httpd)
    assert status["version"]
    assert [m["name"] for m in status["managed-domains"]] == [BAD, NAME]     # sorted by name
    md = md_of(status, NAME)
    assert md["domains"] == [NAME]
    assert md["state"] == 1 and "missing" in md["state-descr"]
    assert md["cert"] == {}
    assert md["renew-mode"] == 1 and md["must-staple"] is False and md["require-https"] == "off"
    assert md["ca"]["urls"] and md["ca"]["url"] == md["ca"]["urls"][0]
    assert WRONG_HMAC not in json.dumps(status)


def check_during(httpd, release):
    def ongoing():
        renewal = md_of(md_status(httpd), NAME).get("renewal")
        return renewal if renewal and renewal["log"]["entries"] and not renewal["finished"] else None
    renewal = wait_until(ongoing, 30, interval=0.2, what="md-status showing the renewal under way")
    assert renewal["errors"] == 0
    assert all({"when", "type"} <= set(e) for e in renewal["log"]["entries"])
    assert md_of(md_status(httpd), NAME)["state"] == 1
    open(release, "w").close()
    renewal = wait_until(lambda: md_of(md_status(httpd), NAME)["renewal"]["finished"] and
                         md_of(md_status(httpd), NAME)["renewal"], 30, interval=0.2, what="the finished renewal")
    assert renewal["last"]["status"] == 0
    assert renewal["cert"]["secp256r1"]["serial"]
    return renewal


def check_error(httpd):
    renewal = wait_until(lambda: md_of(md_status(httpd), BAD).get("renewal", {}).get("errors", 0) >= 1 and
                         md_of(md_status(httpd), BAD)["renewal"], 30, interval=0.2, what="the refused renewal")
    assert renewal["finished"] is False
    assert renewal["last"]["status"] != 0
    assert renewal["last"]["problem"].startswith("urn:ietf:params:acme:error:")
    assert renewal["last"]["detail"]
    assert renewal["next-run"]
    assert any(e["type"] == "renewal-error" for e in renewal["log"]["entries"])


def check_after(httpd, https_port, staged):
    md = md_status(httpd, NAME)
    assert md["name"] == NAME and "managed-domains" not in md
    assert md["state"] == 2 and md["state-descr"] == "complete"
    assert "renewal" not in md
    code, _, cert = tls_get(https_port, NAME, "/")
    assert code == 200
    info = md["cert"]["secp256r1"]
    assert int(info["serial"], 16) == cert.serial_number
    assert info["sha256-fingerprint"] == cert.fingerprint(hashes.SHA256()).hex()
    assert info["serial"] == staged["cert"]["secp256r1"]["serial"]
    assert info["valid"]["from"] and info["valid"]["until"] and info["ari-cert-id"]
    assert md["ca"]["account"] and md["renew"] is False and md["renew-at"]
    status, _, body = net.fetch(httpd.url("/md-status/unknown.example.org"))     # as mod_md: all of them
    assert status == 200 and [m["name"] for m in json.loads(body)["managed-domains"]] == [BAD, NAME]
    # BAD has no certificate: the gate answers 503 for its name, but not for the status handlers
    code, _, _ = tls_get(https_port, BAD, "/")
    assert code == 503
    code, body, _ = tls_get(https_port, BAD, "/md-status/" + BAD)
    assert code == 200 and json.loads(body)["name"] == BAD
    return info


def check_server_status(httpd, info):
    status, _, body = net.fetch(httpd.url("/server-status"))
    html = body.decode()
    assert status == 200 and "<h3>Managed Certificates</h3>" in html
    section = html[html.index("Managed Certificates"):]
    assert NAME in section and BAD in section and info["valid"]["until"] in section
    href = 'href="%s%s"' % (MONITOR_URL.replace("&", "&amp;"), info["sha256-fingerprint"])
    assert href in section
    assert "crt&lt;&amp;&gt;sh secp256r1" in section and MONITOR_NAME not in section
    assert "urn:ietf:params:acme:error:" in section
    assert auto_counts(httpd) == {"ManagedCertificatesTotal": "2", "ManagedCertificatesOK": "1",
                                  "ManagedCertificatesRenew": "1", "ManagedCertificatesErrored": "1"}


def test_status_lifecycle(httpd, pebble_factory, mod_path, workdir):
    pebble = pebble_factory(http_port=httpd.port)
    bad_pebble = pebble_factory(eab_keys=EAB_KEYS, challtestsrv=pebble.challtestsrv)
    hook, release = gated_hook(workdir, pebble)
    https_port, store = configure(httpd, pebble, bad_pebble, mod_path, workdir, hook)
    httpd.start()

    check_before(httpd)
    staged = check_during(httpd, release)
    check_error(httpd)
    assert auto_counts(httpd) == {"ManagedCertificatesTotal": "2", "ManagedCertificatesOK": "0",
                                  "ManagedCertificatesRenew": "2", "ManagedCertificatesErrored": "1"}
    wait_until(lambda: "the certificates have been renewed" in httpd.error_log_text(), 30,
               what="the renewal's notice")
    httpd.extra_config.remove("MDActivationDelay 1h")
    httpd.graceful_restart()
    info = check_after(httpd, https_port, staged)
    check_server_status(httpd, info)


def test_server_status_off(httpd, mod_path, workdir):
    httpd.add_modules("ssl", ("mdomain", mod_path))
    httpd.add_config(
        "MDStoreDir %s" % os.path.join(workdir, "md"),
        "MDCertificateAuthority https://127.0.0.1:9/dir",
        "MDRenewMode manual",
        "MDomain off.example.org www.off.example.org",
        "<Location /md-status>",
        "  SetHandler md-status",
        "</Location>",
    )
    httpd.start()
    status, _, body = net.fetch(httpd.url("/server-status"))
    assert status == 200 and "Managed Certificates" in body.decode()
    assert "not renewed here" in body.decode()   # MDRenewMode manual: not "due"
    assert auto_counts(httpd)["ManagedCertificatesTotal"] == "1"

    httpd.add_config("MDServerStatus off")
    httpd.graceful_restart()
    status, _, body = net.fetch(httpd.url("/server-status"))
    assert status == 200 and "Managed Certificates" not in body.decode()
    assert auto_counts(httpd) == {}
    # md-status is not affected; manual mode: not watched, no renewal
    md = md_status(httpd, "off.example.org")
    assert md["domains"] == ["off.example.org", "www.off.example.org"]
    assert md["state"] == 1 and md["renew-mode"] == 0 and md["watched"] is False and "renewal" not in md
    status, headers, body = net.fetch(httpd.url("/md-status"), method="HEAD")
    assert status == 200 and headers["Content-Type"] == "application/json" and body == b""
    status, _, _ = net.fetch(httpd.url("/md-status"), method="POST", data=b"x")
    assert status == 405

"""mod_mdomain's md-metrics handler: the whole output parsed with Debian's prometheus_client; certificate times
per MD and key type checked against the certificates, the renewal due time (renew window, and an ARI pick), the ARI
window, renewal errors of an MD that cannot be renewed, the last success, the states and the count of MDs."""
import base64
import datetime
import json
import os
import time

from cryptography import x509
from prometheus_client.parser import text_string_to_metric_families

from rig import net
from rig.proc import wait_until
from test_module_more import configure, ssl_vhost, wait_staged

ONE, TWO, BAD = "one.example.org", "two.example.org", "bad.example.org"
KEYS = (("rsa", "pubcert.pem"), ("secp256r1", "pubcert.secp256r1.pem"))


def scrape(httpd):
    status, headers, body = net.fetch(httpd.url("/metrics"))
    assert status == 200, body
    headers = {k.lower(): v for k, v in dict(headers).items()}
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {}
    families = list(text_string_to_metric_families(body.decode("utf-8")))
    for fam in families:
        assert fam.name.startswith("mdomain_"), fam.name
        assert fam.type == "gauge" and fam.documentation, fam.name
        for s in fam.samples:
            samples[(s.name, s.labels.get("md"), s.labels.get("key"))] = s.value
    return samples


def cert_of(store, name, aspect):
    with open(os.path.join(store, "domains", name, aspect), "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def ts(dt):
    return dt.replace(tzinfo=datetime.timezone.utc).timestamp()


def ari_cert_id(cert):
    """RFC 9773: base64url(authority key identifier) "." base64url(the serial's DER content octets)."""
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    n = cert.serial_number
    serial = n.to_bytes(n.bit_length() // 8 + 1, "big")      # a leading zero octet when the high bit is set
    b64 = lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")
    return b64(aki) + "." + b64(serial)


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_metrics(httpd, pebble_factory, mod_path, workdir):
    pebble = pebble_factory(http_port=httpd.port)
    _, store = configure(httpd, pebble, mod_path, workdir, "MDomain %s" % ONE, "MDomain %s" % TWO,
                         # no vhost and only dns-01 without a program: every attempt fails
                         "<MDomain %s>" % BAD, "  MDRenewMode always", "  MDCAChallenges dns-01", "</MDomain>",
                         "<Location /metrics>", "  SetHandler md-metrics", "</Location>",
                         keys="RSA 2048 secp256r1")
    https_port = httpd.extra_ports["https"][0]
    httpd.add_vhost(ssl_vhost(https_port, ONE))
    httpd.add_vhost(ssl_vhost(https_port, TWO))
    httpd.start()

    m = scrape(httpd)
    assert m[("mdomain_managed_domains", None, None)] == 3
    assert all(m[("mdomain_md_state", n, None)] == 1 for n in (ONE, TWO, BAD))      # incomplete
    assert not [k for k in m if k[0] == "mdomain_cert_expiry_seconds"]

    wait_staged(httpd, store, [ONE, TWO], aspects=[a for _, a in KEYS])
    m = scrape(httpd)
    assert m[("mdomain_renewal_staged", ONE, None)] == 1
    assert m[("mdomain_renewal_errors", ONE, None)] == 0
    httpd.graceful_restart()

    # the ARI window a CA offering ARI would have given for the first certificate (rsa), in the drive's cache
    # ocsp/NAME/ari.json (written here: Debian's pebble has no renewalInfo)
    wait_until(lambda: json.load(open(os.path.join(store, "staging", BAD, "job.json"))).get("errors", 0) >= 1, 30,
               what="a failed renewal of %s" % BAD)
    ari_path = os.path.join(store, "ocsp", ONE, "ari.json")
    os.makedirs(os.path.dirname(ari_path), exist_ok=True)
    now = int(time.time())
    start, end, pick = now + 10 * 86400, now + 12 * 86400, now + 11 * 86400
    with open(ari_path, "w") as f:
        json.dump({"cert-id": ari_cert_id(cert_of(store, ONE, "pubcert.pem")),
                   "window": {"start": rfc3339(start), "end": rfc3339(end)},
                   "pick": rfc3339(pick), "next-check": rfc3339(now + 86400)}, f)
    os.chmod(ari_path, 0o644)

    m = scrape(httpd)
    assert m[("mdomain_managed_domains", None, None)] == 3
    for name in (ONE, TWO):
        assert m[("mdomain_md_state", name, None)] == 2
        assert m[("mdomain_renewal_errors", name, None)] == 0
        assert m[("mdomain_renewal_staged", name, None)] == 0
        afters = []
        for key, aspect in KEYS:
            cert = cert_of(store, name, aspect)
            assert m[("mdomain_cert_expiry_seconds", name, key)] == ts(cert.not_valid_after)
            assert m[("mdomain_cert_not_before_seconds", name, key)] == ts(cert.not_valid_before)
            afters.append((ts(cert.not_valid_before), ts(cert.not_valid_after)))
        last = m[("mdomain_renewal_last_success_seconds", name, None)]
        assert min(a for a, _ in afters) - 60 <= last <= time.time()
        if name == TWO:
            # the default renew window: 33% of the lifetime before the end, the earliest over the key types
            due = min(b - (b - a) * 33 / 100 for a, b in afters)
            assert abs(m[("mdomain_renewal_due_seconds", name, None)] - due) <= 1
        # by when a renewal must succeed (the earliest end), and the attempts left until then: many, pebble's
        # certificates are far from their end
        assert m[("mdomain_renewal_deadline_seconds", name, None)] == min(b for _, b in afters)
        assert m[("mdomain_renewal_attempts_left", name, None)] > 3
    # ARI: the window of the active certificate it is about, and its pick as the due time
    ari = [k for k in m if k[0] == "mdomain_ari_window_start_seconds"]
    assert ari == [("mdomain_ari_window_start_seconds", ONE, "rsa")]
    assert m[ari[0]] == start
    assert m[("mdomain_ari_window_end_seconds", ONE, ari[0][2])] == end
    assert m[("mdomain_renewal_due_seconds", ONE, None)] == pick
    # the MD that cannot be renewed: no certificate, its errors counted, never a success
    assert m[("mdomain_md_state", BAD, None)] == 1
    assert m[("mdomain_renewal_errors", BAD, None)] >= 1
    assert ("mdomain_renewal_last_success_seconds", BAD, None) not in m
    assert ("mdomain_renewal_deadline_seconds", BAD, None) not in m       # nothing that could expire
    assert ("mdomain_renewal_attempts_left", BAD, None) not in m
    assert not [k for k in m if k[0] == "mdomain_cert_expiry_seconds" and k[1] == BAD]

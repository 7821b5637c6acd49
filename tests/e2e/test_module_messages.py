"""mod_mdomain's failure messages in the error log and md-status: the remedy named with directives (never the
command line's options), and no APR platform texts ("Internal error ...", "... not been implemented ...")."""
import os

import pytest

from rig import net
from rig.proc import wait_until

NAME = "fail.example.org"

# per case: the configuration beyond the common part, and what the message must name
CASES = {
    "terms": (["MDCACertificateFile {ca}"],
              ["requires agreement to its terms of service", "configure 'MDCertificateAgreement accepted'"]),
    "ca-file": (["MDCertificateAgreement accepted"],
                ["SSL certificate problem", "trust that root with MDCACertificateFile"]),
    "responder": (["MDCACertificateFile {ca}", "MDCertificateAgreement accepted", "MDPortMap http:- https:-"],
                  ["none of the challenge types can be used for " + NAME, "(MDPortMap http:PORT)", "MDChallengeDns01",
                   "MDCAChallenges"]),
}
# texts that belong to the command line, or to APR's guesses about codes we return for our own reasons
FOREIGN = ["--http-port", "--webroot", "--tls-port", "--dns-cmd", "--ca-file", "-t accepted", "--agree-tos",
           "Internal error", "not been implemented", "Permission denied"]


def renewal_failed_lines(httpd):
    return [line for line in httpd.error_log_text().splitlines() if "renewal failed" in line]


@pytest.mark.parametrize("case", list(CASES))
def test_failure_names_directives(httpd, pebble_factory, mod_path, workdir, case):
    extra, wanted = CASES[case]
    pebble = pebble_factory(http_port=httpd.port)
    https_port = httpd.new_port("https")
    httpd.add_modules("ssl", "socache_shmcb", ("mdomain", mod_path))
    httpd.add_config(
        "MDStoreDir %s" % os.path.join(workdir, "md"),
        "MDCertificateAuthority %s" % pebble.directory_url,
        "MDPrivateKeys P-256",
        "MDInitialDelay 1s",
        "MDRetryDelay 1s",
        *(["MDPortMap http:%d https:%d" % (httpd.port, https_port)] if case != "responder" else []),
        *[line.format(ca=pebble.ca_file) for line in extra],
        "MDomain %s" % NAME,
        "<Location /md-status>", "  SetHandler md-status", "</Location>")
    httpd.add_vhost("\n".join(["<VirtualHost 127.0.0.1:%d>" % https_port, "  ServerName %s" % NAME,
                               "  SSLEngine on", "</VirtualHost>"]))
    httpd.start()
    line = wait_until(lambda: renewal_failed_lines(httpd), 30, what="the failed renewal in the log")[0]
    last = wait_until(lambda: net.get_json(httpd.url("/md-status/" + NAME)).get("renewal", {}).get("last"), 15,
                      what="the failed renewal in md-status")
    for text in (line, last["detail"]):
        for want in wanted:
            assert want in text, text
        for foreign in FOREIGN:
            assert foreign not in text, text
    assert last["status"] != 0
    assert last["status-description"] in ("failed", "not supported", "invalid", "refused"), last

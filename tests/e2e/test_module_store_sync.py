"""mod_mdomain's sync at a start where mod_md does otherwise (docs/directives.md "Differences from mod_md"): a staged
set whose job.json cannot be read, or whose finished job lacks its certificate, is removed and renewed again (mod_md
activates the first and leaves the second staged for good); an MD with static files under MDRenewMode always is
renewed once, not again at every restart."""
import email.utils
import os
import re

import pytest

from rig import differential as diff
from rig import net
from rig.proc import wait_until

import test_differential_store as ds

A = ds.A


def side_of(httpd, pebble_factory, mod_path, workdir):
    return diff.Side("mod_mdomain", ("mdomain", mod_path), httpd, pebble_factory(http_port=httpd.port), workdir)


@pytest.mark.parametrize("damage", ["job.json", "pubcert"])
def test_bad_staged_set_renewed_again(httpd, pebble_factory, mod_path, workdir, damage):
    side = side_of(httpd, pebble_factory, mod_path, workdir)
    side.configure("MDomain %s" % A)
    side.ssl_vhost(A)
    side.httpd.start()
    wait_until(lambda: ds.finished(side, A), 60, what="the staged renewal")
    staged = side.md_status(A)["renewal"]["cert"]["secp256r1"]["serial"]
    if damage == "job.json":
        with open(os.path.join(side.store, "staging", A, "job.json"), "w") as f:
            f.write("{garbage")
        reason = "its job.json cannot be read"
    else:
        os.remove(os.path.join(side.store, "staging", A, ds.CERT))
        reason = "its renewal finished, but %s is missing" % ds.CERT
    side.httpd.add_config("MDInitialDelay 3s")
    mark = side.httpd.error_log_mark()
    side.httpd.graceful_restart()
    # not activated: nothing in domains/, staging/ removed, the reason logged as an error
    assert ds.CERT not in ds.entries(side, "domains", A)
    assert ds.entries(side, "staging") == []
    log = side.httpd.error_log_since(mark)
    assert re.search(r"\[mdomain:error\].*%s: the staged set is not activated, %s" % (re.escape(A), re.escape(reason)),
                     log), log
    status = side.md_status(A)
    assert status["state"] == 1 and status["renew"] is True and "renewal" not in status
    # renewed again
    wait_until(lambda: ds.finished(side, A), 60, what="the renewal again")
    assert side.md_status(A)["renewal"]["cert"]["secp256r1"]["serial"] != staged
    side.httpd.graceful_restart()
    assert side.md_status(A)["state"] == 2


def test_static_always_renewed_once(httpd, pebble_factory, mod_path, workdir):
    side = side_of(httpd, pebble_factory, mod_path, workdir)
    cert_file, key_file = ds.aged_cert(workdir, A, 80, 10)
    side.configure("<MDomain %s>" % A, "  MDCertificateFile %s" % cert_file, "  MDCertificateKeyFile %s" % key_file,
                   "  MDRenewMode always", "  MDRenewWindow 15d", "</MDomain>", "MDCheckInterval 1s",
                   "LogLevel md:debug",
                   "<Location /metrics>", "  SetHandler md-metrics", "</Location>")
    side.ssl_vhost(A)
    side.httpd.start()
    wait_until(lambda: ds.finished(side, A), 60, what="the renewal of the static MD")
    side.httpd.graceful_restart()
    log_mark = side.httpd.error_log_mark()
    assert ds.entries(side, "domains", A).count(ds.CERT) == 1
    orders = side.pebble.count_requests(path_prefix="/order-plz")
    side.httpd.wait_watchdog_runs(log_mark, 3)           # MDCheckInterval 1s: the watchdog looks at it a few times
    assert side.pebble.count_requests(path_prefix="/order-plz") == orders
    status = side.md_status(A)
    assert status["renew"] is True and "renewal" not in status      # the file is served and due; the store's set not
    assert ds.served_is(side, A, ds.static_serial(status))
    # md-metrics says the same: due by the file's certificate (its renew-at), nothing staged
    metrics = net.fetch(side.httpd.url("/metrics"))[2].decode()
    due = re.search(r'^mdomain_renewal_due_seconds\{md="%s"\} (\d+)' % re.escape(A), metrics, re.M)
    assert due and int(due.group(1)) == int(email.utils.parsedate_to_datetime(status["renew-at"]).timestamp())
    assert re.search(r'^mdomain_renewal_staged\{md="%s"\} 0$' % re.escape(A), metrics, re.M), metrics

"""mod_md against mod_mdomain, field by field (rig/differential.py): the same configuration and scenario run with
Debian's mod_md and with mod_mdomain, and what an operator or a script sees compared. Differences that are on
purpose are listed in docs/directives.md "Differences from mod_md" and in each test's ignore list, with the reason."""
from rig import differential as diff
from rig.proc import wait_until

NAME = "diff.example.org"


def _first_renewal(side):
    """A new MD with one https host: md-status once its renewal is staged, the staged files and md.json."""
    side.configure("MDomain %s" % NAME)
    side.ssl_vhost(NAME)
    side.httpd.start()
    wait_until(lambda: side.md_status(NAME).get("renewal", {}).get("finished"), 60, what="the staged renewal")
    # notified-renewed follows the finished job (the renewed event, taken by nobody): wait for it, not race with it
    wait_until(lambda: side.md_status(NAME).get("renewal", {}).get("notified-renewed"), 30,
               what="the renewed set told")
    status = side.md_status(NAME)
    staging = [f for f in side.store_files("staging") if f.startswith("staging/%s/" % NAME)]
    account = ("staging/%s/account.json" % NAME, "staging/%s/account.pem" % NAME)
    return {"status": status,
            "staging": [f for f in staging if f not in account],
            "staged-account": [f for f in staging if f in account],
            "md.json": side.store_json("domains", NAME, "md.json")}


def test_first_renewal(httpd_factory, pebble_factory, mod_path, workdir):
    observed = diff.run_both(httpd_factory, pebble_factory, mod_path, workdir, _first_renewal)
    diff.assert_same(observed, ignore=(
        # the renewal's log: each module words its own steps
        "status.renewal.log",
        # mdomain's own: the CA file is stored with the MD (md.json's "mdomain"); md-status says require-https and
        # warn always (mod_md leaves out what is off)
        "md.json.mdomain", "status.require-https", "status.warn",
        # on purpose (docs/directives.md "Differences from mod_md"): a new ACME account goes to accounts/ at once,
        # where parallel renewals share it, not into staging/NAME/account.* until the restart; md-status names the CA
        # to be used (ca.url) before the first certificate
        "staged-account", "status.ca.url",
    ))

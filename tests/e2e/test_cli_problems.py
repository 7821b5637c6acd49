"""The problem types mdomain records for failed renewals where the module cannot be compared with mod_md: an EAB HMAC
that is not base64url in a store mod_md wrote, and a CA that requires EAB, through the command."""
import email.utils
import json
import os

from rig.mdcli import MdCli

HMAC = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"


def _wait_hours(renewal):
    return (email.utils.parsedate_to_datetime(renewal["next-run"])
            - email.utils.parsedate_to_datetime(renewal["last-run"])).total_seconds() / 3600


def test_eab_hmac_invalid(md_build, workdir, pebble_factory):
    """mod_md takes any HMAC into md.json and fails the renewal with apache:eab-hmac-invalid: so does mdomain with
    such a store."""
    pebble = pebble_factory(eab_keys={"kid-1": HMAC})
    cli = MdCli(os.path.join(md_build, "mdomain"), os.path.join(workdir, "store"), pebble)
    cli.add("--eab", "kid-1", HMAC, "hmac.example.org", "--key", "p256")
    path = os.path.join(cli.md_dir("hmac.example.org"), "md.json")
    md = json.load(open(path))
    md["eab"]["hmac"] = "!!!!"          # as mod_md writes what MDExternalAccountBinding was given
    with open(path, "w") as f:
        json.dump(md, f)
    rc, doc, out, err = cli.run("drive", "--http-port", pebble.http_port)
    assert rc == 1 and "not valid base64url" in err
    renewal = cli.ok("show", "hmac.example.org")["renewal"]
    assert renewal["last"]["problem"] == "apache:eab-hmac-invalid"
    assert renewal["last"]["status"] == 22 and renewal["errors"] == 1
    assert renewal["log"]["entries"][0]["type"] == "renewal-error"
    assert renewal["log"]["entries"][0]["status"] == "apache:eab-hmac-invalid"
    assert cli.ok("show", "hmac.example.org")["eab"] == {"kid": "kid-1", "hmac": "***"}


def test_eab_required(md_build, workdir, pebble_factory):
    """The CA requires EAB and none is given: its problem type, and the next attempt a day later (12 to 36 hours)."""
    pebble = pebble_factory(eab_keys={"kid-1": HMAC})
    cli = MdCli(os.path.join(md_build, "mdomain"), os.path.join(workdir, "store"), pebble)
    cli.add("noeab.example.org", "--key", "p256")
    rc, doc, out, err = cli.run("drive", "--http-port", pebble.http_port)
    assert rc == 1 and "--eab" in err
    renewal = cli.ok("show", "noeab.example.org")["renewal"]
    assert renewal["last"]["problem"] == "urn:ietf:params:acme:error:externalAccountRequired"
    assert 12 <= _wait_hours(renewal) <= 36

"""mod_md against mod_mdomain (rig/differential.py) for what md-status, md.json and job.json say: the MD found by a
domain, md.json's state, the staged set, and each kind of failed renewal with its problem type, detail and retry."""
import json

from rig import differential as diff
from rig import net

NAME = "diff.example.org"


def _lookup(side):
    """md-status/X for the MD's name, its other names in other cases, names its wildcard covers and names it does
    not: the name of the MD shown, or of all shown ("all"), or the HTTP status."""
    side.configure("MDomain %s WWW.diff.example.org *.w.diff.example.org" % NAME, "MDRenewMode manual")
    side.httpd.start()
    out = {}
    for ask in (NAME, "www.diff.example.org", "WWW.DIFF.EXAMPLE.ORG", "Diff.Example.Org", "a.w.diff.example.org",
                "*.w.diff.example.org", "b.a.w.diff.example.org", "w.diff.example.org", "other.example.org"):
        status, _, body = net.fetch(side.httpd.url("/md-status/" + ask))
        answer = json.loads(body) if status == 200 else {}
        out[ask] = answer["name"] if "name" in answer else ("all" if "managed-domains" in answer else status)
    return out


def test_lookup_by_domain(httpd_factory, pebble_factory, mod_path, workdir):
    observed = diff.run_both(httpd_factory, pebble_factory, mod_path, workdir, _lookup)
    diff.assert_same(observed)
    assert observed["mod_mdomain"]["a.w.diff.example.org"] == NAME
    assert observed["mod_mdomain"]["other.example.org"] == "all"

"""The README's first command works: scripts/demo (what `make demo` runs after building), also with KEEP=1."""
import os
import re
import shutil
import subprocess

import pytest

from rig.module import asan_env

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


@pytest.mark.parametrize("keep", [False, True], ids=["default", "KEEP=1"])
def test_demo(md_build, keep):
    env = {k: v for k, v in os.environ.items() if k != "KEEP"}
    env["MD_BUILD"] = md_build
    if keep:
        env["KEEP"] = "1"
    env.update(asan_env(os.path.join(md_build, "mod_mdomain.so")))   # a sanitized build needs libasan preloaded
    res = subprocess.run(["/usr/bin/python3", os.path.join(REPO, "scripts", "demo")], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=240, env=env)
    out = res.stdout
    m = re.search(r"the whole configuration: (/\S+/httpd/conf/httpd\.conf)", out)
    work = m and m.group(1)[:-len("/httpd/conf/httpd.conf")]
    try:
        assert res.returncode == 0, out
        # Apache: the fallback with 503 first, then pebble's certificate, verified, and 200
        assert "before: HTTP/1.1 503" in out
        assert "after:  HTTP/1.1 200 OK" in out and "verified against pebble's root" in out
        assert "without a restart" in out and "both unchanged: True" in out
        # the mdomain command
        assert "demo.mdomain.test: activated" in out
        assert "subject=CN = demo.mdomain.test" in out
        assert m, "the demo does not say where its Apache configuration is:\n" + out
        if keep:
            assert "stopped httpd, pebble and pebble-challtestsrv; kept %s (KEEP=1)" % work in out
            assert "httpd/conf/httpd.conf" in out.split("kept ", 1)[1]
            with open(m.group(1)) as f:
                assert "MDomain www.mdomain.test" in f.read()
            assert os.path.exists(os.path.join(work, "httpd", "md", "domains", "www.mdomain.test",
                                               "pubcert.secp256r1.pem"))
            assert os.path.exists(os.path.join(work, "store", "domains", "demo.mdomain.test", "pubcert.secp256r1.pem"))
        else:
            assert "stopped httpd, pebble and pebble-challtestsrv; removed %s" % work in out
            assert not os.path.exists(work)
    finally:
        if keep and work:
            shutil.rmtree(work, ignore_errors=True)

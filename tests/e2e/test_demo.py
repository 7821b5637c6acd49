"""The README's first command works: scripts/demo (what `make demo` runs after building)."""
import os
import subprocess

from rig.module import asan_env

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def test_demo(md_build):
    env = dict(os.environ, MD_BUILD=md_build)
    env.update(asan_env(os.path.join(md_build, "mod_mdomain.so")))   # a sanitized build needs libasan preloaded
    res = subprocess.run(["/usr/bin/python3", os.path.join(REPO, "scripts", "demo")], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=240, env=env)
    assert res.returncode == 0, res.stdout
    out = res.stdout
    # Apache: the fallback with 503 first, then pebble's certificate, verified, and 200
    assert "before: HTTP/1.1 503" in out
    assert "after:  HTTP/1.1 200 OK" in out and "verified against pebble's root" in out
    # the mdomain command
    assert "demo.mdomain.test: activated" in out
    assert "subject=CN = demo.mdomain.test" in out
    assert "stopped httpd, pebble and pebble-challtestsrv" in out

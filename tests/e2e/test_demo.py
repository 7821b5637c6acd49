"""The README's first command works: scripts/demo (what `make demo` runs after building)."""
import os
import subprocess

from test_module_config import _asan_runtime

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def test_demo(md_build):
    env = dict(os.environ, MD_BUILD=md_build)
    lib = _asan_runtime(os.path.join(md_build, "mod_mdomain.so"))
    if lib:     # a sanitized build (make e2e-asan): apache2 can load the module only with libasan preloaded
        env.update(LD_PRELOAD=lib, ASAN_OPTIONS=env.get("ASAN_OPTIONS", "") + ":detect_leaks=0")
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

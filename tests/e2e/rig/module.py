"""mod_mdomain in tests: whether the built module is sanitized, and what apache2 then needs preloaded."""
import os
import re
import subprocess


def asan_runtime(so_path):
    """The libasan a sanitized module needs preloaded into apache2, or None for a normal build."""
    out = subprocess.run(["ldd", so_path], stdout=subprocess.PIPE, text=True).stdout
    m = re.search(r"libasan\.so\S*\s+=>\s+(\S+)", out)
    return m.group(1) if m else None


def asan_env(so_path):
    """Environment for processes that load the module: libasan preloaded for a sanitized build (leak checks
    off: httpd's children exit without freeing their pools), nothing for a normal one."""
    lib = asan_runtime(so_path)
    if not lib:
        return {}
    return {"LD_PRELOAD": lib, "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0"}

"""Fixtures of the end-to-end tests: work dirs, the listener CA, pebble-challtestsrv, pebble, httpd, tools.

Every test gets its own processes, on free ports, in its own directory; nothing carries over between tests.
See tests/e2e/README.md for the API summary."""
import os
import re
import shutil
import signal
import subprocess
import tempfile

import pytest

from rig import certs
from rig.challtestsrv import ChallTestSrv
from rig.httpd import Httpd
from rig.mdcli import MdCli
from rig.module import asan_env
from rig.pebble import Pebble

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KEEP = os.environ.get("MD_E2E_KEEP") == "1"
TEST_TIMEOUT = int(os.environ.get("MD_E2E_TEST_TIMEOUT", "300"))


def pytest_configure(config):
    config.addinivalue_line("markers", "timeout(seconds): per-test time limit (default MD_E2E_TEST_TIMEOUT=300)")


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # keep each phase's report on the item, so fixtures can tell in teardown whether the test failed
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


class E2ETimeout(Exception):
    pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    marker = item.get_closest_marker("timeout")
    seconds = int(marker.args[0]) if marker else TEST_TIMEOUT

    def on_alarm(signum, frame):
        raise E2ETimeout("test ran longer than %ds" % seconds)
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _failed(request):
    return any(getattr(request.node, "rep_" + w, None) is not None and getattr(request.node, "rep_" + w).failed
               for w in ("setup", "call"))


# ---------------------------------------------------------------------------------------------- paths

@pytest.fixture(scope="session")
def md_build():
    """The build directory (MD_BUILD, as `make e2e` sets it; default <repo>/build)."""
    return os.environ.get("MD_BUILD") or os.path.join(REPO, "build")


@pytest.fixture(scope="session")
def tool(md_build):
    """tool(name) -> path of build/tests/tools/<name>; fails when it was not built (make tools)."""
    def path(name):
        p = os.path.join(md_build, "tests", "tools", name)
        if not os.access(p, os.X_OK):
            pytest.fail("%s is not built: run `make tools` (or `make e2e`)" % p)
        return p
    return path


@pytest.fixture(scope="session")
def e2e_base():
    """A session directory that www-data can traverse (pytest's tmp_path is 0700, httpd children could
    not read their files there). Removed at the end unless a test kept its directory."""
    base = tempfile.mkdtemp(prefix="mdomain-e2e-")
    os.chmod(base, 0o755)
    yield base
    if not [entry for entry in os.listdir(base) if entry != "ca"]:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def workdir(request, e2e_base):
    """This test's own directory (mode 0755). Kept when the test fails (or MD_E2E_KEEP=1)."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:80]
    path = tempfile.mkdtemp(prefix=name + "-", dir=e2e_base)
    os.chmod(path, 0o755)
    yield path
    if KEEP or _failed(request):
        print("\n[e2e] kept work dir: %s" % path)
    else:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def listener_ca(e2e_base):
    """The generated CA that signs the listener certificates of pebble (and other local TLS servers).
    .cert_file is what clients must trust; .issue_server(name, directory) makes a localhost cert."""
    return certs.CA(os.path.join(e2e_base, "ca"))


# ---------------------------------------------------------------------------------------------- processes

def _report(request, things):
    if _failed(request):
        for t in things:
            print("\n" + t.describe())


@pytest.fixture
def challtestsrv_factory(request, workdir):
    """challtestsrv_factory(http01=False, https01=False, tlsalpn01=False) -> a started ChallTestSrv."""
    started = []

    def make(**kwargs):
        srv = ChallTestSrv(os.path.join(workdir, "challtestsrv-%d" % len(started)), **kwargs)
        started.append(srv)
        return srv.start()
    yield make
    _report(request, started)
    for srv in reversed(started):
        srv.stop()


@pytest.fixture
def pebble_factory(request, workdir, listener_ca, challtestsrv_factory):
    """pebble_factory(nonce_reject=0, authz_reuse=0, eab_keys=None, eab_required=None, http_port=None,
    tls_port=None, env=None, challtestsrv=None, http01=False, tlsalpn01=False) -> a started Pebble.

    Without challtestsrv= a new pebble-challtestsrv is started as its DNS server (on .challtestsrv);
    with http01/tlsalpn01 that one also answers those challenges and pebble validates against it unless
    http_port/tls_port say otherwise. Each call is a new instance with its own directory and log."""
    started = []

    def make(challtestsrv=None, http01=False, tlsalpn01=False, http_port=None, tls_port=None, **kwargs):
        cts = challtestsrv or challtestsrv_factory(http01=http01, tlsalpn01=tlsalpn01)
        http_port = http_port or cts.http01_port
        tls_port = tls_port or cts.tlsalpn01_port
        p = Pebble(os.path.join(workdir, "pebble-%d" % len(started)), listener_ca, cts.dns_address,
                   http_port=http_port, tls_port=tls_port, **kwargs)
        p.challtestsrv = cts
        started.append(p)
        return p.start()
    yield make
    _report(request, started)
    for p in reversed(started):
        p.stop()


@pytest.fixture
def pebble(pebble_factory):
    """A started pebble with defaults (no nonce rejects, no authz reuse, no EAB); .challtestsrv is its DNS."""
    return pebble_factory()


@pytest.fixture
def cli(md_build, workdir, pebble):
    """The mdomain command on a store in this test's directory, with the started pebble as its CA."""
    return MdCli(os.path.join(md_build, "mdomain"), os.path.join(workdir, "store"), pebble)


@pytest.fixture
def mod_path(md_build, monkeypatch):
    """The built mod_mdomain.so. With a sanitized build (make e2e-asan) the processes this test starts get
    libasan preloaded, as apache2 needs it to load the module."""
    path = os.path.join(md_build, "mod_mdomain.so")
    if not os.path.exists(path):
        pytest.fail("%s is not built: run `make` (or `make e2e`)" % path)
    for name, value in asan_env(path).items():
        monkeypatch.setenv(name, value)
    return path


@pytest.fixture
def httpd_factory(request, workdir):
    """httpd_factory(modules=None, log_level="info") -> an Httpd, NOT started: configure, then start()."""
    made = []

    def make(**kwargs):
        h = Httpd(os.path.join(workdir, "httpd-%d" % len(made)), **kwargs)
        made.append(h)
        return h
    yield make
    _report(request, made)
    for h in reversed(made):
        h.stop()


@pytest.fixture
def httpd(httpd_factory):
    """An Httpd with the default modules, not started yet; stopped at teardown."""
    return httpd_factory()


@pytest.fixture
def run_tool(tool):
    """run_tool(name, *args, timeout=60) -> CompletedProcess (text); never raises on a non-zero exit."""
    def run(name, *args, timeout=60):
        return subprocess.run([tool(name)] + [str(a) for a in args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=timeout)
    return run

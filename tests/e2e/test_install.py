"""`make install` and `make uninstall` into a DESTDIR: the exact files and modes, the build dir not rebuilt; apache2
accepts the installed mdomain.load and mdomain.conf (Included, and enabled with Debian's a2enmod) and refuses them
beside mod_md naming `a2dismod md`; the systemd units verified and their command run; uninstall leaves no file."""
import os
import re
import shlex
import shutil
import subprocess

import pytest

from rig import ports
from rig.httpd import BINARY, RUN_GROUP, RUN_USER

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MOD_MD = "/usr/lib/apache2/modules/mod_md.so"
MODS_AVAILABLE = "/etc/apache2/mods-available"
HEADERS = sorted(h for h in os.listdir(os.path.join(REPO, "include")) if h.endswith(".h"))
# What apache2 prints when a module is loaded twice, e.g. ssl by mdomain.load and by ssl.load.
ALREADY_LOADED = "already loaded"


def _clean_env(**extra):
    """The environment without what a calling make or the ASan fixture put there."""
    drop = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEFILES", "DESTDIR", "PREFIX", "BUILD", "LD_PRELOAD")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(extra)
    return env


def module_dir():
    return subprocess.run(["apxs", "-q", "LIBEXECDIR"], stdout=subprocess.PIPE, text=True,
                          check=True).stdout.strip()


def make(goal, destdir, md_build, prefix="/usr/local"):
    res = subprocess.run(["make", "-f", "build.mk", goal, "DESTDIR=" + destdir, "PREFIX=" + prefix,
                          "BUILD=" + md_build], cwd=REPO, env=_clean_env(), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=120, preexec_fn=lambda: os.umask(0o022))
    assert res.returncode == 0, "make %s failed:\n%s" % (goal, res.stdout)
    return res.stdout


def tree(root):
    """{path relative to root: mode} of every file, and of every directory (with a trailing /)."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root) + ("/" if name in dirnames else "")
            found[rel] = os.lstat(path).st_mode & 0o7777
    return found


def files_of(tree_):
    return {k: v for k, v in tree_.items() if not k.endswith("/")}


def expected_files(prefix="/usr/local"):
    p = prefix.strip("/")
    files = {
        p + "/bin/mdomain": 0o755,
        p + "/bin/a2md": 0o777,         # a symbolic link to mdomain
        p + "/lib/libmdomain.a": 0o644,
        p + "/share/man/man1/mdomain.1": 0o644,
        p + "/lib/systemd/system/mdomain.service": 0o644,
        p + "/lib/systemd/system/mdomain.timer": 0o644,
        module_dir().strip("/") + "/mod_mdomain.so": 0o644,
        "etc/apache2/mods-available/mdomain.load": 0o644,
        "etc/apache2/mods-available/mdomain.conf": 0o644,
    }
    files.update({p + "/include/mdomain/" + h: 0o644 for h in HEADERS})
    return files


def expected_tree(prefix="/usr/local"):
    """The files, and each directory above them with mode 0755."""
    expected = dict(expected_files(prefix))
    for path in list(expected):
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            expected["/".join(parts[:i]) + "/"] = 0o755
    return expected


def read(path):
    with open(path, "rb") as fh:
        return fh.read()


def _differences(found, expected):
    return (["missing: %s %o" % (k, v) for k, v in sorted(expected.items()) if k not in found]
            + ["unexpected: %s %o" % (k, v) for k, v in sorted(found.items()) if k not in expected]
            + ["mode of %s: %o, expected %o" % (k, found[k], v) for k, v in sorted(expected.items())
               if k in found and found[k] != v])


class Installed:
    """An install into root (DESTDIR) with PREFIX=/usr/local."""

    def __init__(self, root, md_build):
        self.root = root
        self.md_build = md_build

    def path(self, rel):
        return os.path.join(self.root, rel.lstrip("/"))

    @property
    def load(self):
        return self.path(MODS_AVAILABLE + "/mdomain.load")

    @property
    def conf(self):
        return self.path(MODS_AVAILABLE + "/mdomain.conf")

    @property
    def module(self):
        return self.path(module_dir() + "/mod_mdomain.so")

    def load_text(self):
        """mdomain.load with its LoadModule pointing to the DESTDIR copy of the module."""
        text = read(self.load).decode()
        return text.replace(module_dir() + "/mod_mdomain.so", self.module)

    def unit(self, name):
        return self.path("/usr/local/lib/systemd/system/" + name)


@pytest.fixture
def installed(workdir, md_build):
    assert os.path.isdir(MODS_AVAILABLE), "apache2 is missing: scripts/install-deps installs it"
    root = os.path.join(workdir, "root")
    os.mkdir(root)
    artifacts = [os.path.join(md_build, f) for f in ("mdomain", "libmdomain.a", "mod_mdomain.so")]
    before = [os.stat(a).st_mtime_ns for a in artifacts]
    make("install", root, md_build)
    assert [os.stat(a).st_mtime_ns for a in artifacts] == before, "make install rebuilt %s" % md_build
    return Installed(root, md_build)


# ---------------------------------------------------------------------------------------------- files

def test_install_files_and_modes(installed, md_build):
    problems = _differences(tree(installed.root), expected_tree())
    assert not problems, "\n".join(problems)
    # what was built and written, installed as it is
    assert read(installed.path("/usr/local/bin/mdomain")) == read(os.path.join(md_build, "mdomain"))
    assert read(installed.path("/usr/local/lib/libmdomain.a")) == read(os.path.join(md_build, "libmdomain.a"))
    assert read(installed.module) == read(os.path.join(md_build, "mod_mdomain.so"))
    for h in HEADERS:
        assert read(installed.path("/usr/local/include/mdomain/" + h)) == read(os.path.join(REPO, "include", h))
    assert read(installed.path("/usr/local/share/man/man1/mdomain.1")) == read(os.path.join(REPO, "docs/mdomain.1"))
    assert read(installed.conf) == read(os.path.join(REPO, "packaging/apache2/mdomain.conf"))
    # templates filled in
    load = read(installed.load).decode()
    assert "@" not in load
    assert "LoadModule mdomain_module %s/mod_mdomain.so\n" % module_dir() in load
    assert "LoadModule ssl_module %s/mod_ssl.so\n" % module_dir() in load
    service = read(installed.unit("mdomain.service")).decode()
    assert "@" not in service
    assert "\nExecStart=/usr/local/bin/mdomain drive $MDOMAIN_DRIVE_ARGS\n" in service
    res = subprocess.run([installed.path("/usr/local/bin/mdomain"), "--version"], stdout=subprocess.PIPE, text=True)
    assert res.returncode == 0 and res.stdout.startswith("mdomain ")
    # a2md: mod_md's command line, the same program called by another name
    assert os.readlink(installed.path("/usr/local/bin/a2md")) == "mdomain"
    res = subprocess.run([installed.path("/usr/local/bin/a2md"), "--version"], stdout=subprocess.PIPE, text=True)
    assert res.returncode == 0 and res.stdout.startswith("a2md (mdomain) ")


def test_install_other_prefix(workdir, md_build):
    root = os.path.join(workdir, "root")
    make("install", root, md_build, prefix="/opt/mdomain")
    found = files_of(tree(root))
    assert found == expected_files("/opt/mdomain"), "\n".join(_differences(found, expected_files("/opt/mdomain")))
    service = read(os.path.join(root, "opt/mdomain/lib/systemd/system/mdomain.service")).decode()
    assert "\nExecStart=/opt/mdomain/bin/mdomain drive $MDOMAIN_DRIVE_ARGS\n" in service


def test_install_refuses_unbuilt_dir(workdir):
    res = subprocess.run(["make", "-f", "build.mk", "install", "DESTDIR=" + workdir,
                          "BUILD=" + os.path.join(workdir, "nothing-built")], cwd=REPO, env=_clean_env(),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    assert res.returncode != 0 and "is not built" in res.stdout, res.stdout
    assert not os.path.exists(os.path.join(workdir, "nothing-built"))
    assert os.listdir(workdir) == []


def test_uninstall_leaves_nothing(installed, md_build):
    other = installed.path("/usr/local/bin/other-tool")
    with open(other, "w") as fh:
        fh.write("not ours\n")
    make("uninstall", installed.root, md_build)
    assert files_of(tree(installed.root)) == {"usr/local/bin/other-tool": 0o644}
    assert not os.path.exists(installed.path("/usr/local/include/mdomain"))
    os.unlink(other)
    make("uninstall", installed.root, md_build)      # again: nothing to remove is no error
    assert files_of(tree(installed.root)) == {}


# ---------------------------------------------------------------------------------------------- systemd

def unit_sections(path):
    """{section: [(key, value)]} of a unit file; fails on a line that is neither."""
    sections, current = {}, None
    for n, line in enumerate(read(path).decode().splitlines(), 1):
        if not line.strip() or line.startswith(("#", ";")):
            continue
        m = re.match(r"^\[([A-Za-z]+)\]$", line)
        if m:
            current = sections.setdefault(m.group(1), [])
            continue
        m = re.match(r"^([A-Za-z]+)=(.*)$", line)
        assert m and current is not None, "%s:%d: not a unit file line: %r" % (path, n, line)
        current.append((m.group(1), m.group(2)))
    return sections


def test_systemd_units(installed, workdir):
    service, timer = unit_sections(installed.unit("mdomain.service")), unit_sections(installed.unit("mdomain.timer"))
    assert set(service) == {"Unit", "Service"} and set(timer) == {"Unit", "Timer", "Install"}
    s = dict(service["Service"])
    assert s["Type"] == "oneshot"
    assert s["EnvironmentFile"] == "-/etc/default/mdomain"
    assert dict(service["Unit"])["Documentation"] == "man:mdomain(1)"
    t = dict(timer["Timer"])
    assert t["OnCalendar"] == "*-*-* 00,12:00:00" and t["RandomizedDelaySec"] == "12h" and t["Persistent"] == "true"
    assert dict(timer["Install"])["WantedBy"] == "timers.target"

    # systemd's own check (it needs no running systemd) on copies whose command is the DESTDIR binary;
    # Documentation=man:mdomain(1) is looked up in the installed man pages
    binary = installed.path("/usr/local/bin/mdomain")
    units = os.path.join(workdir, "units")
    os.mkdir(units)
    for name in ("mdomain.service", "mdomain.timer"):
        text = read(installed.unit(name)).decode().replace("/usr/local/bin/mdomain", binary)
        with open(os.path.join(units, name), "w") as fh:
            fh.write(text)
    res = subprocess.run(["systemd-analyze", "verify", "mdomain.service", "mdomain.timer"], cwd=units,
                         env=_clean_env(MANPATH=installed.path("/usr/local/share/man")),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    assert res.returncode == 0 and res.stdout == "", res.stdout

    # the command as systemd runs it: variables from the EnvironmentFile, $MDOMAIN_DRIVE_ARGS split into words
    store, www = os.path.join(workdir, "store"), os.path.join(workdir, "www")
    env = {"MDOMAIN_STORE": store, "MDOMAIN_DRIVE_ARGS": "--webroot %s" % www}
    argv = []
    for word in shlex.split(s["ExecStart"]):
        argv += env["MDOMAIN_DRIVE_ARGS"].split() if word == "$MDOMAIN_DRIVE_ARGS" else [word]
    assert argv[0] == "/usr/local/bin/mdomain"
    argv[0] = binary
    res = subprocess.run(argv, env=_clean_env(**env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stdout
    assert os.path.isfile(os.path.join(store, "md_store.json")), "MDOMAIN_STORE was not used"


# ---------------------------------------------------------------------------------------------- apache2

def write(path, text):
    with open(path, "w") as fh:
        fh.write(text)
    return path


def apache_t(server_root, conf, *defines):
    """apache2 -t (with -D DUMP_MODULES and the like): (ok, output)."""
    argv = [BINARY, "-d", server_root, "-f", conf, "-t"]
    for d in defines:
        argv += ["-D", d]
    res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    return res.returncode == 0, res.stdout.decode("utf-8", "replace")


def httpd_config_test(httpd, *defines):
    httpd.write_config()
    return apache_t(httpd.server_root, httpd.conf_file, *defines)


def test_apache_includes_installed_files(installed, httpd, mod_path, workdir):
    """mdomain.load on its own also loads mod_ssl and socache_shmcb; mdomain.conf changes nothing."""
    load = write(os.path.join(workdir, "mdomain.load"), installed.load_text())
    httpd.add_config('Include "%s"' % load, 'Include "%s"' % installed.conf)
    ok, out = httpd_config_test(httpd, "DUMP_MODULES")
    assert ok, out
    for module in ("mdomain_module (shared)", "ssl_module (shared)", "socache_shmcb_module (shared)"):
        assert module in out, out
    assert ALREADY_LOADED not in out and "warn" not in out, out


def test_apache_conf_examples_are_valid(installed, httpd, mod_path, workdir):
    """Every commented example of mdomain.conf, uncommented, is a configuration apache2 -t accepts."""
    lines, uncommented = [], 0
    for line in read(installed.conf).decode().splitlines():
        m = re.match(r"^(\s*)#(?! )(.*)$", line) or re.match(r"^(\s*)#(    .*)$", line)
        if m and not line.startswith("#"):
            line, uncommented = m.group(1) + m.group(2), uncommented + 1
        lines.append(line.replace("/etc/apache2/md", os.path.join(httpd.server_root, "md")))
    assert uncommented >= 12, lines
    conf = write(os.path.join(workdir, "mdomain-examples.conf"), "\n".join(lines) + "\n")
    load = write(os.path.join(workdir, "mdomain.load"), installed.load_text())
    httpd.add_config('Include "%s"' % load, 'Include "%s"' % conf)
    ok, out = httpd_config_test(httpd)
    assert ok, out


@pytest.mark.parametrize("md_first", [True, False])
def test_apache_refuses_mod_md_beside_it(installed, httpd, mod_path, workdir, md_first):
    assert os.path.exists(MOD_MD), "Debian's mod_md is missing: scripts/install-deps installs apache2, which has it"
    load = write(os.path.join(workdir, "mdomain.load"), installed.load_text())
    lines = ['LoadModule md_module "%s"' % MOD_MD, 'Include "%s"' % load]
    httpd.add_config(*(lines if md_first else reversed(lines)))
    ok, out = httpd_config_test(httpd)
    assert not ok, out
    assert "mod_mdomain cannot run together with mod_md" in out and "a2dismod md" in out, out


def a2(command, confdir, state, *args):
    """Debian's a2enmod/a2dismod on the configuration in confdir (its state files in state, not /var/lib)."""
    env = _clean_env(APACHE_CONFDIR=confdir, APACHE_ENVVARS=os.path.join(confdir, "envvars"),
                     APACHE_STATE_DIRECTORY=state)
    return subprocess.run(["/usr/sbin/" + command] + list(args), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=60)


def debian_layout(installed, workdir):
    """A copy of Debian's /etc/apache2 layout: mods-available (with the installed mdomain files), mods-enabled,
    and an apache2.conf that includes mods-enabled/*.load and *.conf as Debian's does."""
    confdir = os.path.join(workdir, "apache2")
    shutil.copytree(MODS_AVAILABLE, os.path.join(confdir, "mods-available"), symlinks=True)
    write(os.path.join(confdir, "mods-available", "mdomain.load"), installed.load_text())
    shutil.copy(installed.conf, os.path.join(confdir, "mods-available", "mdomain.conf"))
    for sub in ("mods-enabled", "run", "lock", "logs"):
        os.makedirs(os.path.join(confdir, sub))
    os.chmod(workdir, 0o755)
    os.chmod(confdir, 0o755)
    conf = write(os.path.join(confdir, "apache2.conf"), "\n".join([
        "# a Debian-like apache2.conf, generated by tests/e2e/test_install.py",
        'ServerRoot "%s"' % confdir,
        'Define APACHE_RUN_DIR "%s/run"' % confdir,
        'DefaultRuntimeDir "%s/run"' % confdir,
        'PidFile "%s/run/apache2.pid"' % confdir,
        "Mutex file:%s/lock default" % confdir,
        "User %s" % RUN_USER,
        "Group %s" % RUN_GROUP,
        "ServerName localhost",
        "Listen 127.0.0.1:%d" % ports.free_port(),
        'ErrorLog "%s/logs/error.log"' % confdir,
        "IncludeOptional mods-enabled/*.load",
        "IncludeOptional mods-enabled/*.conf",
    ]) + "\n")
    return confdir, conf


def test_a2enmod_switch_from_mod_md(installed, workdir, mod_path):
    """`a2dismod md && a2enmod mdomain` is the whole switch: a2enmod enables ssl and socache_shmcb with it and
    refuses it while md is enabled; nothing is loaded twice; enabling md again fails apache2 -t naming the fix."""
    confdir, conf = debian_layout(installed, workdir)
    state = os.path.join(workdir, "state")
    enabled = os.path.join(confdir, "mods-enabled")
    res = a2("a2enmod", confdir, state, "-q", "mpm_event", "authz_core", "md")
    assert res.returncode == 0, res.stderr
    ok, out = apache_t(confdir, conf)
    assert ok, out

    res = a2("a2enmod", confdir, state, "-q", "mdomain")
    assert res.returncode != 0, res.stdout + res.stderr
    assert "Module md is enabled - cannot proceed due to conflicts" in res.stderr
    assert not os.path.exists(os.path.join(enabled, "mdomain.load"))

    res = a2("a2dismod", confdir, state, "-q", "md")
    assert res.returncode == 0, res.stderr
    res = a2("a2enmod", confdir, state, "-q", "mdomain")
    assert res.returncode == 0, res.stdout + res.stderr
    for name in ("mdomain.load", "mdomain.conf", "ssl.load", "ssl.conf", "socache_shmcb.load"):
        assert os.path.islink(os.path.join(enabled, name)), sorted(os.listdir(enabled))
    assert not os.path.exists(os.path.join(enabled, "md.load"))
    ok, out = apache_t(confdir, conf, "DUMP_MODULES")
    assert ok, out
    assert "mdomain_module (shared)" in out and "ssl_module (shared)" in out and "md_module" not in out, out
    assert ALREADY_LOADED not in out and "warn" not in out, out

    # md.load declares no conflict, so a2enmod takes it; apache2 then refuses and says what to do
    res = a2("a2enmod", confdir, state, "-q", "md")
    assert res.returncode == 0, res.stderr
    ok, out = apache_t(confdir, conf)
    assert not ok and "a2dismod md" in out, out

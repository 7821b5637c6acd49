"""The documentation's Apache snippets work as copied: every ```apache block of README.md and docs/*.md passes
`apache2 -t` in a minimal configuration with mod_ssl and mod_mdomain, those marked `debian-site` also as a site in a
copy of Debian's /etc/apache2, and no code block that looks like Apache configuration goes unmarked."""
import glob
import json
import os
import re
import shutil
import subprocess

import pytest

from rig.httpd import BINARY, Httpd

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOC_FILES = ["README.md"] + sorted(os.path.relpath(p, REPO) for p in glob.glob(os.path.join(REPO, "docs", "*.md")))
DEBIAN_CONF = "/etc/apache2"
# Info strings of blocks that are something else on purpose (commands, JSON, program output), not checked here;
# `mdomain-conf` blocks (domains files of `mdomain apply`) are checked by test_cli_apply.py.
OTHER_LANGUAGES = {"sh", "json", "text", "mdomain-conf"}
# A line that only Apache configuration starts like this.
APACHE_LINE = re.compile(r"^\s*(</?(VirtualHost|MDomain|MDomainSet|IfModule|Location|Directory|Files)\b"
                         r"|(LoadModule|Listen|SSLEngine|SSL[A-Z]\w*|ServerName|ServerAlias|Protocols|SetHandler"
                         r"|Require|LogLevel|DocumentRoot|MD[A-Z]\w*)(\s|$))")
# Directives whose argument is a file the configuration reads: the test makes one at the path (under its own
# root directory, so nothing outside the test's directory is touched).
FILE_ARGS = {"MDCACertificateFile": "ca", "MDHttpProxyCACertificateFile": "ca", "MDCertificateFile": "cert",
             "MDCertificateKeyFile": "key", "MDExternalAccountBinding": "eab"}
FILE_LINE = re.compile(r"^(\s*(%s)\s+)(\S+)\s*$" % "|".join(FILE_ARGS))
EAB_HMAC = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"


class Block:
    """A fenced code block: the file, the line of its opening fence, its info string words and its lines."""

    def __init__(self, path, line, info, lines):
        self.path, self.line, self.info, self.lines = path, line, info, lines

    @property
    def language(self):
        return self.info[0] if self.info else ""

    @property
    def where(self):
        return "%s:%d" % (self.path, self.line)


def code_blocks(path):
    """The fenced code blocks of a markdown file (relative to the repository)."""
    blocks, current = [], None
    with open(os.path.join(REPO, path), encoding="utf-8") as f:
        for number, text in enumerate(f.read().splitlines(), 1):
            fence = re.match(r"^(\s*)(```+|~~~+)\s*(.*)$", text)
            if current is None:
                if fence:
                    current = (number, fence.group(1), fence.group(2), fence.group(3).split(), [])
            elif fence and fence.group(2).startswith(current[2]) and not fence.group(3):
                blocks.append(Block(path, current[0], current[3], current[4]))
                current = None
            else:
                indent = current[1]
                current[4].append(text[len(indent):] if text.startswith(indent) else text.lstrip())
    return blocks


ALL_BLOCKS = [b for path in DOC_FILES for b in code_blocks(path)]
SNIPPETS = [b for b in ALL_BLOCKS if b.language == "apache"]
DEBIAN_SITES = [b for b in SNIPPETS if "debian-site" in b.info[1:]]


def make_file(kind, path, made):
    """Write a file of the kind the directive reads: the CA certificate, the certificate or the key of one pair
    (the same pair for all of a snippet's MDCertificateFile/MDCertificateKeyFile lines), an EAB file."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if kind == "eab":
        with open(path, "w") as f:
            json.dump({"kid": "kid-1", "hmac": EAB_HMAC}, f)
        return
    if kind == "ca":
        source = made["ca"].cert_file
    else:
        if "pair" not in made:
            made["pair"] = made["ca"].issue_server("snippet", made["dir"], dns_names=("example.org",), ips=())
        source = made["pair"][0 if kind == "cert" else 1]
    shutil.copyfile(source, path)


def with_files(lines, root, server_root, ca):
    """The snippet with the files it refers to made under root (absolute paths) or server_root (relative ones),
    and its paths changed to those; line numbers stay as they are."""
    made = {"ca": ca, "dir": root}
    os.makedirs(root, exist_ok=True)
    out = []
    for line in lines:
        m = FILE_LINE.match(line)
        if m and m.group(3) != "none" and (FILE_ARGS[m.group(2)] != "eab" or "/" in m.group(3)):
            arg = m.group(3).strip('"')
            target = root + arg if arg.startswith("/") else os.path.join(server_root, arg)
            make_file(FILE_ARGS[m.group(2)], target, made)
            line = m.group(1) + target
        out.append(line)
    return out


def where_in_doc(output, conf_file, first_line, block):
    """apache2's 'line N of CONF' turned into the markdown file's line, when N is in the snippet."""
    m = re.search(r"line (\d+) of %s" % re.escape(conf_file), output)
    if not m:
        return block.where
    offset = int(m.group(1)) - first_line
    if 0 <= offset < len(block.lines):
        return "%s:%d" % (block.path, block.line + 1 + offset)
    return "%s (configuration line %s, outside the snippet)" % (block.where, m.group(1))


def failure(block, where, output):
    return "the snippet at %s fails `apache2 -t` (error at %s):\n%s\n--- the snippet:\n%s" % (
        block.where, where, output.strip(), "\n".join(block.lines))


@pytest.mark.parametrize("block", SNIPPETS, ids=[b.where for b in SNIPPETS])
def test_snippet(block, workdir, mod_path, listener_ca):
    """The snippet in a minimal configuration of its own (tests/e2e/rig/httpd.py: ServerRoot in the test's
    directory, User www-data, a free port) with mod_ssl, socache_shmcb and mod_mdomain loaded first, so the
    snippet's own LoadModule lines for them are skipped (mod_mdomain comes from $MD_BUILD)."""
    httpd = Httpd(os.path.join(workdir, "httpd"))
    httpd.add_modules("ssl", "socache_shmcb", ("mdomain", mod_path))
    marker = "# the snippet at %s" % block.where
    httpd.add_config(marker, *with_files(block.lines, os.path.join(workdir, "root"), httpd.server_root,
                                         listener_ca))
    ok, output = httpd.config_test()
    first_line = httpd.config_text().splitlines().index(marker) + 2
    assert ok, failure(block, where_in_doc(output, httpd.conf_file, first_line, block), output)


def debian_env(run_dir):
    """What Debian's envvars sets, with the directories in the test's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("APACHE_")}
    for name, sub in (("APACHE_RUN_DIR", "run"), ("APACHE_LOCK_DIR", "lock"), ("APACHE_LOG_DIR", "log")):
        env[name] = os.path.join(run_dir, sub)
        os.makedirs(env[name], exist_ok=True)
    env.update(APACHE_RUN_USER="www-data", APACHE_RUN_GROUP="www-data", LANG="C",
               APACHE_PID_FILE=os.path.join(run_dir, "run", "apache2.pid"))
    return env


def enable(conf_dir, *names):
    """a2enmod in the copy: mods-enabled/NAME.load (and .conf) link to mods-available."""
    for name in names:
        for ext in ("load", "conf"):
            link = os.path.join(conf_dir, "mods-enabled", "%s.%s" % (name, ext))
            if os.path.exists(os.path.join(conf_dir, "mods-available", "%s.%s" % (name, ext))) \
                    and not os.path.lexists(link):
                os.symlink("../mods-available/%s.%s" % (name, ext), link)


@pytest.mark.parametrize("block", DEBIAN_SITES, ids=[b.where for b in DEBIAN_SITES])
def test_debian_site(block, workdir, mod_path, listener_ca):
    """A snippet meant as a site of Debian's layout: a copy of /etc/apache2 after `a2dismod md`, `a2enmod ssl`
    and `a2enmod mdomain` (mdomain.load pointing at $MD_BUILD's module), the snippet in sites-enabled/; then
    `apache2 -t` as apache2ctl runs it. Debian's ports.conf listens on 80 and, with mod_ssl, on 443 already."""
    conf = os.path.join(workdir, "apache2")
    shutil.copytree(DEBIAN_CONF, conf, symlinks=True)
    for ext in ("load", "conf"):
        for name in ("md", "mdomain"):
            path = os.path.join(conf, "mods-enabled", "%s.%s" % (name, ext))
            if os.path.lexists(path):
                os.remove(path)
    enable(conf, "ssl", "socache_shmcb", "setenvif", "mime")
    with open(os.path.join(conf, "mods-enabled", "mdomain.load"), "w") as f:
        f.write("LoadModule mdomain_module %s\n" % mod_path)
    site = os.path.join(conf, "sites-enabled", "snippet.conf")
    with open(site, "w") as f:
        f.write("\n".join(with_files(block.lines, os.path.join(workdir, "root"), conf, listener_ca)) + "\n")
    res = subprocess.run([BINARY, "-d", conf, "-f", os.path.join(conf, "apache2.conf"), "-t"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30,
                         env=debian_env(workdir))
    assert res.returncode == 0, failure(block, where_in_doc(res.stdout, site, 1, block), res.stdout)


def test_apache_snippets_are_marked():
    """A code block that looks like Apache configuration is marked ```apache (and so tested above); blocks of
    commands, JSON or program output say so with ```sh, ```json or ```text."""
    unmarked = []
    for block in ALL_BLOCKS:
        if block.language == "apache" or block.language in OTHER_LANGUAGES:
            continue
        for offset, line in enumerate(block.lines):
            if APACHE_LINE.match(line):
                unmarked.append("%s:%d (block at line %d, info string %r): %s" % (
                    block.path, block.line + 1 + offset, block.line, " ".join(block.info), line.strip()))
                break
    assert not unmarked, "code blocks that look like Apache configuration but are not marked ```apache:\n" + \
        "\n".join(unmarked)
    found = {b.path for b in SNIPPETS}
    assert {"README.md", "docs/directives.md", "docs/status.md"} <= found, found
    assert DEBIAN_SITES, "no ```apache debian-site block in the documentation"

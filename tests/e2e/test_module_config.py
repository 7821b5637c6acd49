"""mod_mdomain's configuration: every directive accepted (also by Debian's mod_md, same syntax), every kind of bad
value rejected by `apache2 -t` with the directive and the value named, MDs matched to virtual hosts at startup,
mod_md refused beside us, and the .so exporting mdomain_module only."""
import json
import os
import re
import subprocess

import pytest

from rig import net
from rig.httpd import BINARY

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MOD_MD = "/usr/lib/apache2/modules/mod_md.so"
EAB_HMAC = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"


# ---------------------------------------------------------------------------------------------- fixtures

@pytest.fixture
def mdhttpd(httpd, mod_path, monkeypatch):
    """The httpd fixture with mod_mdomain loaded (not started)."""
    httpd.add_modules(("mdomain", mod_path))
    return httpd


def apache_t(httpd):
    """apache2 -t on httpd's current configuration: (exit status, output)."""
    httpd.write_config()
    res = subprocess.run([BINARY, "-d", httpd.server_root, "-f", httpd.conf_file, "-t"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    return res.returncode, res.stdout.decode("utf-8", "replace")


@pytest.fixture
def files(workdir, listener_ca):
    """Files the configurations refer to: a static certificate and key, EAB files good and bad."""
    f = {"dir": workdir, "roots": listener_ca.cert_file}
    f["cert"], f["key"] = listener_ca.issue_server("static", workdir, dns_names=("static.example.org",))
    for name, content in (("eab", {"kid": "kid-1", "hmac": EAB_HMAC}), ("eab-nokid", {"hmac": EAB_HMAC}),
                          ("eab-nohmac", {"kid": "kid-1"})):
        f[name] = os.path.join(workdir, name + ".json")
        with open(f[name], "w") as fh:
            json.dump(content, fh)
    f["eab-notjson"] = os.path.join(workdir, "eab-notjson.json")
    with open(f["eab-notjson"], "w") as fh:
        fh.write("kid-1 %s\n" % EAB_HMAC)
    return f


def vhost(httpd, name, *lines):
    return "\n".join(["<VirtualHost 127.0.0.1:%d>" % httpd.port, "  ServerName %s" % name]
                     + ["  " + line for line in lines] + ["</VirtualHost>"])


# ---------------------------------------------------------------------------------------------- every directive

def valid_config(httpd, f, ours=True):
    """A configuration that uses every directive, globally, in <MDomain>/<MDomainSet> and in virtual hosts.
    MDCertificateMonitor (the reference's name of MDCertificateCheck) only for us: mod_md 2.6 dropped it."""
    lines = [
        "ServerAdmin webmaster@example.org",
        "MDStoreDir %s/md" % f["dir"],
        "MDStoreLocks 10s",
        "MDBaseServer off",
        "MDMatchNames all",
        "MDMembers auto",
        "MDCertificateAuthority letsencrypt https://acme.example.net/directory Buypass",
        "MDCertificateProtocol ACME",
        "MDCertificateAgreement accepted",
        "MDContactEmail admin@example.org",
        "MDExternalAccountBinding kid-1 %s" % EAB_HMAC,
        "MDCACertificateFile %s" % f["roots"],
        "MDCAChallenges tls-alpn-01 http-01 dns-01",
        "MDProfile classic",
        "MDProfileMandatory off",
        "MDChallengeDns01 /bin/true --zone example.org",
        "MDChallengeDns01Version 2",
        "MDRetryFailover 5",
        "MDPrivateKeys RSA 3072 secp384r1",
        "MDMustStaple off",
        "MDRenewWindow 30%",
        "MDWarnWindow 14d",
        "MDRenewViaARI on",
        "MDCheckInterval 6h",
        "MDInitialDelay 30s",
        "MDActivationDelay 1h",
        "MDRetryDelay 10s",
        "MDPortMap http:%d https:-" % httpd.port,
        "MDMessageCmd /bin/true message-arg",
        "MDNotifyCmd /bin/true",
        "MDHttpProxy http://proxy.example.org:3128",
        "MDHttpProxyCACertificateFile %s" % f["roots"],
        "MDServerStatus on",
        "MDCertificateStatus off",
        "MDCertificateCheck crt.sh https://crt.sh?q=",
        "MDStapling off",
        "MDStapleOthers on",
        "MDStaplingKeepResponse 3d",
        "MDStaplingRenewWindow 50%",
        "MDRenewMode auto",
        "MDDriveMode auto",
        "MDRequireHttps off",
        "MDomain one.example.org www.one.example.org manual",
        "<MDomain two.example.org>",
        "  MDMember www.two.example.org alias.two.example.org",
        "  MDMembers manual",
        "  MDRenewMode always",
        "  MDPrivateKeys P-256 rsa4096",
        "  MDCertificateAuthority https://acme.example.net/directory",
        "  MDExternalAccountBinding %s" % f["eab"],
        "  MDContactEmail two@example.org",
        "  MDRequireHttps permanent",
        "  MDStapling on",
        "  MDMustStaple on",
        "  MDRenewWindow 10d",
        "  MDWarnWindow 5%",
        "  MDCAChallenges dns-01",
        "  MDChallengeDns01 /bin/true",
        "  MDProfile shortlived",
        "  MDProfileMandatory on",
        "  MDRenewViaARI off",
        "  MDCACertificateFile none",
        "  MDCertificateAgreement accepted",
        "  MDCertificateProtocol ACME",
        "  MDDriveMode manual",
        "</MDomain>",
        "<MDomainSet static.example.org>",
        "  MDCertificateFile %s" % f["cert"],
        "  MDCertificateKeyFile %s" % f["key"],
        "  MDExternalAccountBinding none",
        "  MDRequireHttps temporary",
        "</MDomainSet>",
        "<MDomain *.wild.example.org>",
        "  MDCAChallenges dns-01",
        "</MDomain>",
    ]
    if ours:
        # mdomain's own: mod_md has neither the old name MDCertificateMonitor nor the event interface's directives
        lines += ["MDCertificateMonitor crt.sh https://crt.sh?q=", "MDEventHandler /bin/true --site main",
                  "MDChallengeResponseDelay dns-01=2mi http-01=5s"]
    vhosts = [
        vhost(httpd, "one.example.org", "ServerAlias www.one.example.org"),
        vhost(httpd, "two.example.org", "ServerAlias www.two.example.org", "MDRenewWindow 20d"),
        vhost(httpd, "static.example.org"),
        vhost(httpd, "x.wild.example.org"),
        vhost(httpd, "three.example.org", "MDomain three.example.org", "MDPrivateKeys P-384"),
    ]
    return lines, vhosts


def _directives_in_source():
    """Every directive in the module's table (src/httpd/config.c)."""
    with open(os.path.join(REPO, "src", "httpd", "config.c")) as fh:
        text = fh.read()
    table = text[text.index("md_config_cmds[] = {"):text.index("{ NULL }")]
    return sorted(set(re.findall(r'"(<?MD[A-Za-z0-9]+)"', table)))


def test_valid_config_uses_every_directive(mdhttpd, files):
    lines, vhosts = valid_config(mdhttpd, files)
    words = {line.strip().split()[0].rstrip(">") for line in lines + "\n".join(vhosts).splitlines()
             if line.strip()}
    missing = [d for d in _directives_in_source() if d not in words]
    assert not missing, "directives missing from the valid configuration: %s" % missing
    assert len(_directives_in_source()) >= 48


def test_valid_config_passes(mdhttpd, files):
    lines, vhosts = valid_config(mdhttpd, files)
    mdhttpd.add_config(*lines)
    for v in vhosts:
        mdhttpd.add_vhost(v)
    rc, out = apache_t(mdhttpd)
    assert rc == 0, out
    assert "Syntax OK" in out


def test_valid_config_passes_with_debian_mod_md(httpd, files):
    """The same configuration with Debian's mod_md instead of ours: the syntax is mod_md's."""
    assert os.path.exists(MOD_MD), "Debian's mod_md is missing: scripts/install-deps installs apache2, which has it"
    httpd.add_modules(("md", MOD_MD))
    lines, vhosts = valid_config(httpd, files, ours=False)
    httpd.add_config(*lines)
    for v in vhosts:
        httpd.add_vhost(v)
    rc, out = apache_t(httpd)
    assert rc == 0, out


def test_valid_config_starts_and_serves(mdhttpd, files):
    lines, vhosts = valid_config(mdhttpd, files)
    mdhttpd.add_config(*lines)
    for v in vhosts:
        mdhttpd.add_vhost(v)
    mdhttpd.start()
    status, _, body = net.fetch(mdhttpd.url("/"), headers={"Host": "one.example.org"})
    assert status == 200 and b"mdomain e2e httpd" in body
    assert "5 managed domains" in mdhttpd.error_log_text()


# ---------------------------------------------------------------------------------------------- errors

# (id, config lines with {placeholders} from the files fixture, texts the message must contain: the
# directive and the value, and often what is allowed)
ERRORS = [
    ("rsa-below-2048", ["MDPrivateKeys RSA 1024"], ["MDPrivateKeys", "RSA 1024", "2048"]),
    ("rsa-below-2048-in-md", ["<MDomain a.example.org>", "MDPrivateKeys rsa1536", "</MDomain>"],
     ["MDPrivateKeys", "rsa1536", "2048"]),
    ("rsa-too-large", ["MDPrivateKeys RSA 16384"], ["MDPrivateKeys", "RSA 16384", "8192"]),
    ("unknown-key-type", ["MDPrivateKeys ed25519"], ["MDPrivateKeys", "ed25519", "secp384r1"]),
    ("key-type-twice", ["MDPrivateKeys P-256 secp256r1"], ["MDPrivateKeys", "P-256 secp256r1", "once"]),
    ("unknown-ca-name", ["MDCertificateAuthority letsencrypt-staging"],
     ["MDCertificateAuthority", "letsencrypt-staging", "LetsEncrypt-Test"]),
    ("ca-url-scheme", ["MDCertificateAuthority letsencrypt ftp://ca.example.org/dir"],
     ["MDCertificateAuthority", "ftp://ca.example.org/dir", "http or https"]),
    ("ca-url-no-host", ["MDCertificateAuthority https://"], ["MDCertificateAuthority", "https://", "host"]),
    ("ca-none", ["MDCertificateAuthority"], ["MDCertificateAuthority", "at least one CA"]),
    ("proxy-url-scheme", ["MDHttpProxy socks5://proxy.example.org:1080"],
     ["MDHttpProxy", "socks5://proxy.example.org:1080", "http or https"]),
    ("proxy-not-url", ["MDHttpProxy proxy.example.org"], ["MDHttpProxy", "proxy.example.org", "http"]),
    ("check-url-scheme", ["MDCertificateCheck crt.sh ftp://crt.sh/?q="],
     ["MDCertificateCheck", "ftp://crt.sh/?q=", "http or https"]),
    ("agreement", ["MDCertificateAgreement yes"], ["MDCertificateAgreement", "yes", "accepted"]),
    ("renew-window", ["MDRenewWindow 3x"], ["MDRenewWindow", "3x", "duration"]),
    ("renew-window-negative", ["MDRenewWindow -5d"], ["MDRenewWindow", "-5d", "duration"]),
    ("warn-window-100", ["MDWarnWindow 100%"], ["MDWarnWindow", "100%", "less than 100%"]),
    ("stapling-window", ["MDStaplingRenewWindow 120%"], ["MDStaplingRenewWindow", "120%", "0% to 100%"]),
    ("check-interval", ["MDCheckInterval soon"], ["MDCheckInterval", "soon", "duration"]),
    ("check-interval-short", ["MDCheckInterval 500ms"], ["MDCheckInterval", "500ms", "1 second"]),
    ("retry-delay-zero", ["MDRetryDelay 0"], ["MDRetryDelay", "'0'", "more than 0"]),
    ("initial-delay", ["MDInitialDelay -5s"], ["MDInitialDelay", "-5s", "duration"]),
    ("activation-delay", ["MDActivationDelay 1x"], ["MDActivationDelay", "1x", "duration"]),
    ("stapling-keep", ["MDStaplingKeepResponse 10%"], ["MDStaplingKeepResponse", "10%", "duration"]),
    ("store-locks", ["MDStoreLocks maybe"], ["MDStoreLocks", "maybe", "on, off"]),
    ("eab-file-missing", ["MDExternalAccountBinding {dir}/missing-eab.json"],
     ["MDExternalAccountBinding", "missing-eab.json", "cannot read"]),
    ("eab-file-no-kid", ["MDExternalAccountBinding {eab-nokid}"], ["MDExternalAccountBinding", "{eab-nokid}", "kid"]),
    ("eab-file-no-hmac", ["MDExternalAccountBinding {eab-nohmac}"],
     ["MDExternalAccountBinding", "{eab-nohmac}", "hmac"]),
    ("eab-file-not-json", ["MDExternalAccountBinding {eab-notjson}"],
     ["MDExternalAccountBinding", "{eab-notjson}", "JSON"]),
    ("eab-hmac-not-base64", ["MDExternalAccountBinding kid-1 not*base64"],
     ["MDExternalAccountBinding", "kid-1 not*base64", "base64url"]),
    ("cert-without-key", ["<MDomain a.example.org>", "MDCertificateFile {cert}", "</MDomain>"],
     ["MDCertificateFile", "{cert}", "MDCertificateKeyFile"]),
    ("key-without-cert", ["<MDomain a.example.org>", "MDCertificateKeyFile {key}", "</MDomain>"],
     ["MDCertificateKeyFile", "{key}", "MDCertificateFile"]),
    ("cert-file-missing", ["<MDomain a.example.org>", "MDCertificateFile {dir}/none.pem",
                           "MDCertificateKeyFile {key}", "</MDomain>"],
     ["MDCertificateFile", "{dir}/none.pem", "does not exist"]),
    ("cert-file-outside-md", ["MDCertificateFile {cert}"], ["MDCertificateFile", "{cert}", "<MDomain"]),
    ("ca-file-missing", ["MDCACertificateFile {dir}/no-roots.pem"],
     ["MDCACertificateFile", "{dir}/no-roots.pem", "does not exist"]),
    ("proxy-ca-file-missing", ["MDHttpProxyCACertificateFile {dir}/no-roots.pem"],
     ["MDHttpProxyCACertificateFile", "{dir}/no-roots.pem", "does not exist"]),
    ("must-staple", ["MDMustStaple yes"], ["MDMustStaple", "yes", "'on' and 'off'"]),
    ("stapling", ["<MDomain a.example.org>", "MDStapling 1", "</MDomain>"], ["MDStapling", "'1'", "'on' and 'off'"]),
    ("base-server", ["MDBaseServer true"], ["MDBaseServer", "true", "'on' and 'off'"]),
    ("renew-via-ari", ["MDRenewViaARI enabled"], ["MDRenewViaARI", "enabled", "'on' and 'off'"]),
    ("renew-mode", ["MDRenewMode sometimes"], ["MDRenewMode", "sometimes", "'always'"]),
    ("drive-mode", ["MDDriveMode never"], ["MDDriveMode", "never", "'manual'"]),
    ("require-https", ["MDRequireHttps on"], ["MDRequireHttps", "'on'", "'permanent'"]),
    ("members", ["MDMembers all"], ["MDMembers", "all", "'manual'"]),
    ("match-names", ["MDMatchNames aliases"], ["MDMatchNames", "aliases", "'servernames'"]),
    ("dns01-version", ["MDChallengeDns01Version 3"], ["MDChallengeDns01Version", "'3'", "1 and 2"]),
    ("port-map-port", ["MDPortMap http:99999"], ["MDPortMap", "http:99999", "65535"]),
    ("port-map-scheme", ["MDPortMap ftp:21"], ["MDPortMap", "ftp:21", "https:PORT"]),
    ("challenge-type", ["MDCAChallenges http-01 http-02"], ["MDCAChallenges", "http-02", "tls-alpn-01"]),
    ("domain-name", ["MDomain bad_name.example.org"], ["MDomain", "bad_name.example.org", "letters"]),
    ("member-name", ["<MDomain a.example.org>", "MDMember www..example.org", "</MDomain>"],
     ["MDMember", "www..example.org", "empty label"]),
    ("member-outside-md", ["MDMember www.example.org"], ["MDMember", "www.example.org", "<MDomain"]),
    ("contact", ["MDContactEmail webmaster"], ["MDContactEmail", "webmaster", "email"]),
    ("protocol", ["MDCertificateProtocol ACMEv1"], ["MDCertificateProtocol", "ACMEv1", "ACME"]),
    ("retry-failover", ["MDRetryFailover 0"], ["MDRetryFailover", "'0'", "1 or more"]),
    ("dns01-no-program", ["MDChallengeDns01"], ["MDChallengeDns01", "program"]),
    ("message-cmd-no-program", ["MDMessageCmd"], ["MDMessageCmd", "program"]),
    ("server-wide-in-md", ["<MDomain a.example.org>", "MDCheckInterval 1h", "</MDomain>"],
     ["MDCheckInterval 1h", "server-wide", "<MDomain"]),
    ("store-dir-in-md", ["<MDomainSet a.example.org>", "MDStoreDir /tmp/x", "</MDomainSet>"],
     ["MDStoreDir /tmp/x", "<MDomain"]),
    ("other-directive-in-md", ["<MDomain a.example.org>", "ServerAdmin x@example.org", "</MDomain>"],
     ["ServerAdmin x@example.org", "<MDomain"]),
    ("nested-md", ["<MDomain a.example.org>", "<MDomain b.example.org>", "</MDomain>", "</MDomain>"],
     ["<MDomain", "inside another"]),
    ("md-without-name", ["<MDomain >", "</MDomain>"], ["<MDomain", "names of the managed domain"]),
    ("mdomain-mode-only", ["MDomain manual"], ["MDomain", "at least one domain name"]),
    ("store-dir-is-file", ["MDStoreDir {cert}"], ["MDStoreDir", "{cert}", "not a directory"]),
    # httpd's own checks (argument count, context) name the directive; the value is not theirs to repeat
    ("argument-count", ["MDProfile short lived"], ["MDProfile", "one argument"]),
    ("in-location", ["<Location /x>", "MDRenewMode manual", "</Location>"], ["MDRenewMode", "not allowed"]),
]


@pytest.mark.parametrize("lines,texts", [pytest.param(e[1], e[2], id=e[0]) for e in ERRORS])
def test_config_error(mdhttpd, files, lines, texts):
    mdhttpd.add_config(*[line.format(**files) for line in lines])
    rc, out = apache_t(mdhttpd)
    assert rc == 1, out
    assert "Syntax OK" not in out
    for text in texts:
        assert text.format(**files) in out, "'%s' not in: %s" % (text.format(**files), out)


def test_name_in_two_mds(mdhttpd):
    mdhttpd.add_config("MDomain a.example.org www.example.org",
                       "<MDomain b.example.org>", "  MDMember WWW.example.org", "</MDomain>")
    rc, out = apache_t(mdhttpd)
    assert rc == 1, out
    assert "'www.example.org' is in two managed domains" in out
    assert "MD a.example.org" in out and "MD b.example.org" in out
    assert re.search(r"httpd\.conf:\d+\) and MD b\.example\.org \(defined at .*httpd\.conf:\d+", out), out


def test_same_md_twice(mdhttpd):
    mdhttpd.add_config("MDomain a.example.org", "<MDomain a.example.org>", "MDRenewMode manual", "</MDomain>")
    rc, out = apache_t(mdhttpd)
    assert rc == 1, out
    assert "'a.example.org' is in two managed domains" in out


def test_wildcard_and_its_names_are_no_overlap(mdhttpd):
    mdhttpd.add_config("MDMatchNames servernames", "MDomain example.org *.example.org", "MDomain sub.example.org")
    rc, out = apache_t(mdhttpd)
    assert rc == 0, out


def test_with_mod_md_loaded_too(mdhttpd):
    assert os.path.exists(MOD_MD), "Debian's mod_md is missing: scripts/install-deps installs apache2, which has it"
    mdhttpd.add_modules(("md", MOD_MD))
    mdhttpd.add_config("MDomain a.example.org")
    rc, out = apache_t(mdhttpd)
    assert rc == 1, out
    assert "mod_mdomain cannot run together with mod_md" in out
    assert "md_module" in out


def test_mod_md_loaded_first(httpd, mod_path, monkeypatch):
    assert os.path.exists(MOD_MD), "Debian's mod_md is missing: scripts/install-deps installs apache2, which has it"
    httpd.add_modules(("md", MOD_MD), ("mdomain", mod_path))
    ok, out = httpd.config_test()
    assert not ok
    assert "mod_mdomain cannot run together with mod_md" in out


def test_loglevel_md_works(mdhttpd):
    """`LogLevel md:info`, as mod_md's documentation recommends, addresses our module."""
    mdhttpd.add_config("LogLevel md:debug mdomain:trace1")
    rc, out = apache_t(mdhttpd)
    assert rc == 0, out


def test_every_directive_documented():
    with open(os.path.join(REPO, "docs", "directives.md")) as fh:
        doc = fh.read()
    sections = re.split(r"^## ", doc, flags=re.M)
    for name in _directives_in_source():
        bare = name.lstrip("<")
        assert re.search(r"`%s[ `>]" % re.escape(bare), doc) or re.search(r"\\<%s\\>" % bare, doc), name
    documented = [s for s in sections if s.startswith("MD") or s.startswith("\\<MDomain")]
    assert len(documented) >= 45   # 48 table entries; MDDriveMode, MDCertificateMonitor, <MDomainSet> share
    for sec in documented:
        title = sec.splitlines()[0]
        for part in ("| Syntax |", "| Default |", "| Context |", "```"):
            assert part in sec, "%s lacks %s" % (title, part)


# ---------------------------------------------------------------------------------------------- the .so

def test_exports_only_the_module(mod_path):
    out = subprocess.run(["nm", "-D", "--defined-only", mod_path], stdout=subprocess.PIPE, text=True,
                         check=True).stdout
    symbols = {line.split()[-1] for line in out.splitlines() if line.strip()}
    allowed = {"mdomain_module", "_init", "_fini", "__odr_asan.mdomain_module"}
    assert "mdomain_module" in symbols
    assert symbols <= allowed, "exported: %s" % sorted(symbols - allowed)


# ---------------------------------------------------------------------------------------------- startup

def md_lines(httpd):
    """{md name: its debug line} from the error log."""
    lines = {}
    for m in re.finditer(r"MD (\S+): (names=.*)$", httpd.error_log_text(), re.M):
        lines[m.group(1)] = m.group(2)
    return lines


def test_starts_with_several_mds(mdhttpd):
    h = mdhttpd
    h.add_config("LogLevel md:debug",
                 "ServerAdmin admin@example.org",
                 "MDCertificateAgreement accepted",
                 "MDomain a.example.org",
                 "<MDomain b.example.org>", "  MDMembers manual", "  MDPrivateKeys RSA P-256",
                 "  MDContactEmail b@example.org", "</MDomain>",
                 "MDomain *.w.example.org",
                 "MDomain unused.example.org")
    h.add_vhost(vhost(h, "a.example.org", "ServerAlias www.a.example.org"))
    h.add_vhost(vhost(h, "b.example.org", "ServerAlias www.b.example.org", "ServerAdmin vhost@example.org"))
    h.add_vhost(vhost(h, "x.w.example.org"))
    h.add_vhost(vhost(h, "c.example.org", "MDRenewWindow 20d", "MDomain c.example.org"))
    h.start()
    for host in ("a.example.org", "www.b.example.org", "x.w.example.org", "127.0.0.1"):
        status, _, body = net.fetch(h.url("/"), headers={"Host": host})
        assert status == 200 and b"mdomain e2e httpd" in body, host
    log = h.error_log_text()
    assert "mod_mdomain (v" in log and "5 managed domains" in log
    mds = md_lines(h)
    port = h.port
    # MDMembers auto (default): the vhost's alias became a name; the ServerAdmin the contact
    assert mds["a.example.org"].startswith("names=[a.example.org www.a.example.org] servers=[a.example.org:%d]"
                                           % port)
    assert "contacts=[mailto:admin@example.org]" in mds["a.example.org"]
    # MDMembers manual: no alias added; MDContactEmail wins over ServerAdmin
    assert mds["b.example.org"].startswith("names=[b.example.org] servers=[b.example.org:%d]" % port)
    assert "keys=[rsa secp256r1]" in mds["b.example.org"] or "keys=[rsa p-256]" in mds["b.example.org"]
    assert "contacts=[mailto:b@example.org]" in mds["b.example.org"]
    # a wildcard MD covers the vhost, its name is not added
    assert mds["*.w.example.org"].startswith("names=[*.w.example.org] servers=[x.w.example.org:%d]" % port)
    # defined in a virtual host: that host's settings
    assert mds["c.example.org"].startswith("names=[c.example.org] servers=[c.example.org:%d]" % port)
    assert "renew-window=20d" in mds["c.example.org"]
    assert "renew-window=33%" in mds["a.example.org"]
    # an MD no vhost uses is a warning, not an error
    assert re.search(r"\[mdomain:warn\].*MD unused\.example\.org \(defined at .*\) matches no virtual host", log)

    mark = h.error_log_mark()
    h.graceful_restart()
    assert net.fetch(h.url("/"), headers={"Host": "a.example.org"})[0] == 200
    assert "5 managed domains" in h.error_log_since(mark)
    h.stop()


@pytest.mark.parametrize("mode", ["all", "servernames"])
def test_match_names(mdhttpd, mode):
    h = mdhttpd
    h.add_config("LogLevel md:debug", "MDMatchNames %s" % mode, "MDomain alias.example.org")
    h.add_vhost(vhost(h, "main.example.org", "ServerAlias alias.example.org"))
    h.start()
    line = md_lines(h)["alias.example.org"]
    if mode == "all":
        assert line.startswith("names=[alias.example.org main.example.org] servers=[main.example.org:%d]" % h.port)
    else:
        assert line.startswith("names=[alias.example.org] servers=[-]")
        assert "no ServerName is one of its names" in h.error_log_text()


@pytest.mark.parametrize("base", ["on", "off"])
def test_base_server(mdhttpd, base):
    h = mdhttpd
    h.add_config("LogLevel md:debug", "MDBaseServer %s" % base, "MDomain localhost")
    h.start()
    line = md_lines(h)["localhost"]
    if base == "on":
        assert "servers=[(base)localhost:" in line
    else:
        assert "servers=[-]" in line

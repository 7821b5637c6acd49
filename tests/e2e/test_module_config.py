"""mod_mdomain's configuration against Debian's mod_md: every directive accepted (by both, same syntax), what mod_md
accepts accepted too, every kind of bad value rejected by `apache2 -t` with the directive, the value and mod_md's
words named, MDs matched to virtual hosts at startup, mod_md refused beside us, the .so exporting mdomain_module only."""
import http.client
import json
import os
import re
import subprocess

import pytest

from rig import net
from rig.proc import wait_until
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
                          ("eab-nohmac", {"kid": "kid-1"}), ("eab-badhmac", {"kid": "kid-1", "hmac": "not*base64"})):
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
        # mdomain's own: mod_md has neither the old name MDCertificateMonitor nor the event interface's directives,
        # nor leases for servers sharing a store, nor the CRL check
        lines += ["MDCertificateMonitor crt.sh https://crt.sh?q=", "MDEventHandler /bin/true --site main",
                  "MDChallengeResponseDelay dns-01=2mi http-01=5s", "MDStoreLease 2mi", "MDRevocationCheck on",
                  "MDPreflight on", "MDPreflightDNS 127.0.0.1:53"]
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

# mod_md passes `apache2 -t` with this value; we refuse it on purpose (docs/directives.md, "Differences from mod_md")
MD_PASSES = None

# (id, config lines with {placeholders} from the files fixture, texts our message must contain: the directive and the
# value, and often what is allowed; then mod_md's phrase, which both modules' -t output must contain, or MD_PASSES)
ERRORS = [
    ("rsa-below-2048", ["MDPrivateKeys RSA 1024"], ["MDPrivateKeys", "RSA 1024", "2048 to 8192"],
     "must be 2048 or higher in order to be considered safe"),
    ("rsa-below-2048-in-md", ["<MDomain a.example.org>", "MDPrivateKeys rsa1536", "</MDomain>"],
     ["MDPrivateKeys", "rsa1536", "2048"], "must be 2048 or higher in order to be considered safe"),
    ("rsa-too-large", ["MDPrivateKeys RSA 16384"], ["MDPrivateKeys", "RSA 16384", "8192"], MD_PASSES),
    # mod_md passes -t and does not start: "ec curve unknown: ed25519"
    ("unknown-key-type", ["MDPrivateKeys ed25519"], ["MDPrivateKeys", "ed25519", "secp384r1",
                                                     "ec curve unknown: ed25519"], MD_PASSES),
    ("key-type-twice", ["MDPrivateKeys P-256 p-256"], ["MDPrivateKeys", "P-256 p-256", "RSA key"],
     "two keys of type 'p-256' are not possible"),
    ("key-curve-twice", ["MDPrivateKeys P-256 secp256r1"],
     ["MDPrivateKeys", "P-256 secp256r1", "two keys of type 'secp256r1' are not possible", "same curve"], MD_PASSES),
    ("rsa-twice", ["MDPrivateKeys RSA rsa3072"], ["MDPrivateKeys", "RSA rsa3072"],
     "two keys of type 'RSA' are not possible"),
    ("default-and-other", ["MDPrivateKeys Default P-256"], ["MDPrivateKeys", "Default P-256", "RSA 2048"],
     "'Default' allows no other parameter"),
    ("keys-none", ["MDPrivateKeys"], ["MDPrivateKeys", "P-256"], "needs to specify the private key type"),
    ("unknown-ca-name", ["MDCertificateAuthority letsencrypt-staging"],
     ["MDCertificateAuthority", "letsencrypt-staging", "LetsEncrypt-Test"],
     "The CA name 'letsencrypt-staging' is not known and it is not a URL either (missing uri scheme)"),
    ("ca-url-whitespace", ['MDCertificateAuthority "https://ca example.org/dir"'],
     ["MDCertificateAuthority", "https://ca example.org/dir", "http: or https: URL"],
     "The CA name 'https://ca example.org/dir' is not known and it is not a URL either (whitespace in uri)"),
    ("ca-url-port", ["MDCertificateAuthority https://ca.example.org:0/dir"],
     ["MDCertificateAuthority", "https://ca.example.org:0/dir"],
     "The CA name 'https://ca.example.org:0/dir' is not known and it is not a URL either (invalid port)"),
    # mod_md 2.6 passes -t without a CA; we keep httpd's words for a missing argument
    ("ca-none", ["MDCertificateAuthority"], ["MDCertificateAuthority", "takes one argument"], MD_PASSES),
    # mod_md passes -t and does not start: "uses unknown CA protocol 'ACMEv1'"
    ("protocol", ["MDCertificateProtocol ACMEv1"], ["MDCertificateProtocol", "ACMEv1", "ACME",
                                                    "unknown CA protocol 'ACMEv1'"], MD_PASSES),
    ("proxy-url-scheme", ["MDHttpProxy socks5://proxy.example.org:1080"],
     ["MDHttpProxy", "socks5://proxy.example.org:1080"], "uri scheme must be http or https"),
    ("proxy-not-url", ["MDHttpProxy proxy.example.org"], ["MDHttpProxy", "proxy.example.org", "http"],
     "missing uri scheme"),
    ("proxy-port-zero", ["MDHttpProxy http://proxy.example.org:0"], ["MDHttpProxy", "http://proxy.example.org:0"],
     "invalid port"),
    ("proxy-port-wraps-to-zero", ["MDHttpProxy http://proxy.example.org:131072"],
     ["MDHttpProxy", "http://proxy.example.org:131072"], "invalid port"),
    # mod_md takes 99999 as 34463 (the port wraps around at 65536)
    ("proxy-port-too-large", ["MDHttpProxy http://proxy.example.org:99999"],
     ["MDHttpProxy", "http://proxy.example.org:99999", "invalid port"], MD_PASSES),
    ("proxy-port-letters", ["MDHttpProxy http://proxy.example.org:abc"],
     ["MDHttpProxy", "http://proxy.example.org:abc"], "not an uri"),
    ("proxy-whitespace", ['MDHttpProxy "http://proxy example.org"'], ["MDHttpProxy", "http://proxy example.org"],
     "whitespace in uri"),
    ("renew-window", ["MDRenewWindow 3x"], ["MDRenewWindow", "3x", "duration"], "has unrecognized format"),
    ("renew-window-fraction", ["MDRenewWindow 33.5%"], ["MDRenewWindow", "33.5%"], "has unrecognized format"),
    ("renew-window-negative", ["MDRenewWindow -5d"], ["MDRenewWindow", "-5d", "negative"], MD_PASSES),
    ("renew-window-negative-percent", ["MDRenewWindow -5%"], ["MDRenewWindow", "-5%"],
     "percent must be less than 100"),
    ("warn-window-100", ["MDWarnWindow 100%"], ["MDWarnWindow", "100%", "less than 100%"],
     "a length of 100% or more is not allowed"),
    ("stapling-window", ["MDStaplingRenewWindow 120%"], ["MDStaplingRenewWindow", "120%"],
     "a length of 100% or more is not allowed"),
    ("check-interval", ["MDCheckInterval soon"], ["MDCheckInterval", "soon", "duration"],
     "unrecognized duration format"),
    ("check-interval-short", ["MDCheckInterval 500ms"], ["MDCheckInterval", "500ms"],
     "check interval cannot be less than one second"),
    ("check-interval-negative", ["MDCheckInterval -1"], ["MDCheckInterval", "'-1'"],
     "check interval cannot be less than one second"),
    ("retry-delay-zero", ["MDRetryDelay 0"], ["MDRetryDelay", "'0'"], "minimum delay must be greater than 0"),
    ("initial-delay", ["MDInitialDelay -5s"], ["MDInitialDelay", "-5s"], "initial delay must not be negative"),
    ("activation-delay", ["MDActivationDelay 1x"], ["MDActivationDelay", "1x", "duration"],
     "unrecognized duration format"),
    ("stapling-keep", ["MDStaplingKeepResponse 2x"], ["MDStaplingKeepResponse", "2x", "duration"],
     "has unrecognized format"),
    ("stapling-keep-negative-percent", ["MDStaplingKeepResponse -5%"], ["MDStaplingKeepResponse", "-5%"],
     "percent must be less than 100"),
    ("store-locks", ["MDStoreLocks maybe"], ["MDStoreLocks", "maybe", "on, off"],
     "neither 'on', 'off' or a duration specified"),
    ("eab-file-missing", ["MDExternalAccountBinding {dir}/missing-eab.json"],
     ["MDExternalAccountBinding", "missing-eab.json", "KID HMAC"], "file not found: {dir}/missing-eab.json"),
    ("eab-file-no-kid", ["MDExternalAccountBinding {eab-nokid}"], ["MDExternalAccountBinding", "{eab-nokid}"],
     "JSON does not contain 'kid' element in file {eab-nokid}"),
    ("eab-file-no-hmac", ["MDExternalAccountBinding {eab-nohmac}"], ["MDExternalAccountBinding", "{eab-nohmac}"],
     "JSON does not contain 'hmac' element in file {eab-nohmac}"),
    ("eab-file-not-json", ["MDExternalAccountBinding {eab-notjson}"], ["MDExternalAccountBinding", "{eab-notjson}"],
     "error reading JSON file {eab-notjson}"),
    # mod_md stops when the server starts, with the words quoted in ours
    ("cert-without-key", ["<MDomain a.example.org>", "MDCertificateFile {cert}", "</MDomain>"],
     ["MDCertificateFile", "{cert}", "needs one MDCertificateKeyFile for each MDCertificateFile"], MD_PASSES),
    ("key-without-cert", ["<MDomain a.example.org>", "MDCertificateKeyFile {key}", "</MDomain>"],
     ["MDCertificateKeyFile", "{key}", "has MDCertificateKeyFile(s) but no MDCertificateFile"], MD_PASSES),
    ("cert-file-missing", ["<MDomain a.example.org>", "MDCertificateFile {dir}/none.pem",
                           "MDCertificateKeyFile {key}", "</MDomain>"],
     ["MDCertificateFile", "{dir}/none.pem", "does not exist"], MD_PASSES),
    ("cert-file-outside-md", ["MDCertificateFile {cert}"], ["MDCertificateFile", "{cert}", "<MDomain"],
     "MDCertificateFile is only valid inside a '<MDomainSet' context, not here"),
    ("must-staple", ["MDMustStaple yes"], ["MDMustStaple", "yes"], "supported parameter values are 'on' and 'off'"),
    ("stapling", ["<MDomain a.example.org>", "MDStapling 1", "</MDomain>"], ["MDStapling", "'1'"],
     "supported parameter values are 'on' and 'off'"),
    ("base-server", ["MDBaseServer true"], ["MDBaseServer", "true"], "supported parameter values are 'on' and 'off'"),
    ("renew-via-ari", ["MDRenewViaARI enabled"], ["MDRenewViaARI", "enabled"],
     "supported parameter values are 'on' and 'off'"),
    ("renew-mode", ["MDRenewMode sometimes"], ["MDRenewMode", "sometimes", "'always'"],
     "unknown MDDriveMode sometimes"),
    ("drive-mode", ["MDDriveMode never"], ["MDDriveMode", "never", "'manual'"], "unknown MDDriveMode never"),
    ("require-https", ["MDRequireHttps on"], ["MDRequireHttps", "'on'", "'off'"],
     "supported parameter values are 'temporary' and 'permanent'"),
    ("require-https-in-location", ["<Location /x>", "MDRequireHttps permanent", "</Location>"], ["MDRequireHttps"],
     "MDRequireHttps cannot occur within <Location> section"),
    ("require-https-in-directory", ["<Directory /tmp>", "MDRequireHttps permanent", "</Directory>"],
     ["MDRequireHttps"], "MDRequireHttps cannot occur within <Directory> section"),
    ("members", ["MDMembers all"], ["MDMembers", "all"], 'unknown value, use "auto|manual"'),
    ("match-names", ["MDMatchNames aliases"], ["MDMatchNames", "aliases"],
     "invalid argument, must be a 'all' or 'servernames'"),
    ("dns01-version", ["MDChallengeDns01Version 3"], ["MDChallengeDns01Version", "'3'"],
     "Only versions `1` and `2` are supported"),
    ("port-map-port", ["MDPortMap http:99999"], ["MDPortMap", "http:99999", "65535"],
     "invalid number for port map, must be in ]0,65535]"),
    ("port-map-scheme", ["MDPortMap ftp:21"], ["MDPortMap", "ftp:21", "https:PORT"], "no ':' after first port number"),
    # mod_md reads the leading number and ignores what follows
    ("port-map-trailing-text", ["MDPortMap http:8080x"], ["MDPortMap", "http:8080x", "65535"], MD_PASSES),
    ("retry-failover", ["MDRetryFailover 0"], ["MDRetryFailover", "'0'"], "invalid argument, must be a number > 0"),
    ("member-outside-md", ["MDMember www.example.org"], ["MDMember", "www.example.org", "<MDomain"],
     'unknown value, use "auto|manual"'),
    ("server-wide-in-md", ["<MDomain a.example.org>", "MDCheckInterval 1h", "</MDomain>"],
     ["MDCheckInterval 1h", "server-wide", "<MDomain"],
     "MDCheckInterval is not allowed inside an '<MDomainSet' context"),
    ("store-dir-in-md", ["<MDomainSet a.example.org>", "MDStoreDir /tmp/x", "</MDomainSet>"],
     ["MDStoreDir /tmp/x", "<MDomain"], "MDStoreDir is not allowed inside an '<MDomainSet' context"),
    ("nested-md", ["<MDomain a.example.org>", "<MDomain b.example.org>", "</MDomain>", "</MDomain>"],
     ["<MDomain", "inside another"], "<MDomain is not allowed inside an '<MDomainSet' context"),
    ("md-without-name", ["<MDomain >", "</MDomain>"], ["<MDomain", "names of the managed domain"],
     "section must specify a unique domain name"),
    ("mdomain-mode-only", ["MDomain manual"], ["MDomain", "auto|manual"], "needs at least one domain name"),
    # the MD's name is its directory in the store (mod_md makes domains/a/ of it)
    ("md-name-slash", ["MDomain a/b.example.org"], ["MDomain", "a/b.example.org", "store"], MD_PASSES),
    # issue 15: what no CA takes, refused at -t (mod_md passes all of them; the CA refuses them later)
    ("wildcard-of-a-tld", ["MDomain *.org"], ["MDomain", "'*.org'", "at least two labels after '*.'"], MD_PASSES),
    ("name-300-1-1-1", ["MDomain a.example.org 300.1.1.1"], ["MDomain", "'300.1.1.1'", "not an IPv4 address"],
     MD_PASSES),
    ("member-ends-in-number", ["<MDomain a.example.org>", "MDMember www.example.123", "</MDomain>"],
     ["MDMember", "'www.example.123'", "cannot end in a number"], MD_PASSES),
    ("message-cmd-empty", ['MDMessageCmd ""'], ["MDMessageCmd", "the program's name is empty"], MD_PASSES),
    ("notify-cmd-empty", ["MDNotifyCmd ''"], ["MDNotifyCmd", "the program's name is empty"], MD_PASSES),
    ("wildcard-http-01-only", ["MDCAChallenges http-01", "MDomain *.example.org"],
     ["MD *.example.org", "'*.example.org'", "only with dns-01", "allows only http-01"], MD_PASSES),
    ("wildcard-in-section-tls-alpn-only", ["<MDomain example.org *.example.org>",
                                           "MDCAChallenges tls-alpn-01 http-01", "</MDomain>"],
     ["'*.example.org'", "allows only tls-alpn-01 http-01"], MD_PASSES),
    ("same-name-other-case", ["MDomain a.example.org www.example.org WWW.Example.org"],
     ["MDomain", "'WWW.Example.org'", "written 'www.example.org'", "not case-sensitive"], MD_PASSES),
    ("member-name-other-case", ["<MDomain a.example.org>", "MDMember A.example.org", "</MDomain>"],
     ["MDMember", "'A.example.org'", "written 'a.example.org'"], MD_PASSES),
    ("md-name-10000-characters", ["MDomain %s.example.org" % ("a" * 10000)],
     ["MDomain", "...(10012 characters)", "longer than 253 characters"], MD_PASSES),
    # mod_md passes -t and does not start: "init fs store at ...: Not a directory"
    ("store-dir-is-file", ["MDStoreDir {cert}"], ["MDStoreDir", "{cert}", "not a directory"], MD_PASSES),
    # httpd's own checks (argument count, context) name the directive; the value is not theirs to repeat
    ("argument-count", ["MDProfile short lived"], ["MDProfile"], "MDProfile takes one argument"),
    ("in-location", ["<Location /x>", "MDRenewMode manual", "</Location>"], ["MDRenewMode"],
     "MDRenewMode not allowed in <Location> context"),
    ("in-if", ['<If "true">', "MDRenewMode manual", "</If>"], ["MDRenewMode"],
     "MDRenewMode not allowed in <If> context"),
]


def _md_httpd(httpd_factory):
    """An httpd with Debian's mod_md instead of ours (not started)."""
    assert os.path.exists(MOD_MD), "Debian's mod_md is missing: scripts/install-deps installs apache2, which has it"
    h = httpd_factory()
    h.add_modules(("md", MOD_MD))
    return h


@pytest.mark.parametrize("line,texts", [
    ("MDPreflight yes", ["MDPreflight 'yes'", "none of on, off, challenge, caa"]),
    ("MDPreflightDNS dns.example", ["MDPreflightDNS 'dns.example'", "IPv4 or IPv4:PORT"]),
    ("MDPreflightDNS 127.0.0.1:0", ["MDPreflightDNS '127.0.0.1:0'", "IPv4 or IPv4:PORT"]),
])
def test_preflight_values_refused(mdhttpd, line, texts):
    """mdomain's own directives (mod_md knows neither): a bad value is refused, named with what is allowed."""
    mdhttpd.add_config(line)
    rc, out = apache_t(mdhttpd)
    assert rc == 1, out
    for text in texts:
        assert text in out, out


@pytest.mark.parametrize("lines,texts,md_phrase", [pytest.param(e[1], e[2], e[3], id=e[0]) for e in ERRORS])
def test_config_error(mdhttpd, httpd_factory, files, lines, texts, md_phrase):
    """Refused by `apache2 -t` with the directive and the value named; where mod_md refuses it too, with its words,
    and where it does not, that is checked as well (a difference on purpose)."""
    config = [line.format(**files) for line in lines]
    mdhttpd.add_config(*config)
    rc, out = apache_t(mdhttpd)
    assert rc == 1, out
    assert "Syntax OK" not in out
    for text in texts + ([md_phrase] if md_phrase else []):
        assert text.format(**files) in out, "'%s' not in: %s" % (text.format(**files), out)
    theirs = _md_httpd(httpd_factory)
    theirs.add_config(*config)
    rc, out = apache_t(theirs)
    if md_phrase is MD_PASSES:
        assert rc == 0, "mod_md refuses it now: " + out
    else:
        assert rc == 1 and md_phrase.format(**files) in out, out


def test_long_value_cut_so_the_reason_shows(mdhttpd):
    """issue 15: a 10 000-character name was echoed in full and httpd cut the message before the reason."""
    mdhttpd.add_config("MDomain %s/x.example.org" % ("a" * 10000))
    rc, out = apache_t(mdhttpd)
    assert rc == 1 and "a '/' cannot be in the name of a directory in the store" in out, out[-500:]
    assert "...(10014 characters)" in out and len(out) < 2000


# What mod_md passes at -t (and runs with) that we refused before: both pass now. What fails later does so when it
# is used (a renewal, a CA connection), as in mod_md; a warning at startup says so.
ACCEPTED = [
    ("require-https-in-if", ['<If "%{{HTTP_HOST}} == \'x\'">', "MDRequireHttps permanent", "</If>"]),
    ("require-https-in-files", ["<Files x.html>", "MDRequireHttps temporary", "</Files>"]),
    ("challenge-type-unknown", ["MDCAChallenges http-01 http-02"]),
    ("challenge-types-none", ["MDCAChallenges"]),
    ("domain-name", ["MDomain bad_name.example.org"]),
    ("domain-wildcard-in-the-middle", ["MDomain a.*.example.org"]),
    ("member-name", ["<MDomain a.example.org>", "MDMember www..example.org", "</MDomain>"]),
    ("member-none", ["<MDomain a.example.org>", "MDMember", "</MDomain>"]),
    ("eab-hmac-not-base64", ["MDExternalAccountBinding kid-1 not*base64"]),
    ("eab-file-hmac-not-base64", ["MDExternalAccountBinding {eab-badhmac}"]),
    ("ca-url-scheme", ["MDCertificateAuthority letsencrypt ftp://ca.example.org/dir"]),
    ("ca-url-no-host", ["MDCertificateAuthority https://"]),
    ("agreement", ["MDCertificateAgreement yes"]),
    ("contact", ["MDContactEmail webmaster"]),
    ("ca-file-missing", ["MDCACertificateFile {dir}/no-roots.pem"]),
    ("proxy-ca-file-missing", ["MDHttpProxyCACertificateFile {dir}/no-roots.pem"]),
    ("proxy-no-host", ["MDHttpProxy http://"]),
    ("check-url", ["MDCertificateCheck crt.sh ftp://crt.sh/?q="]),
    ("profile-with-space", ['MDProfile "short lived"']),
    ("dns01-no-program", ["MDChallengeDns01"]),
    ("cmds-no-program", ["MDMessageCmd", "MDNotifyCmd"]),
    ("other-directive-in-md", ["<MDomain a.example.org>", "ServerAdmin x@example.org",
                               "<IfModule status_module>", "MDRenewMode manual", "</IfModule>", "</MDomain>"]),
    ("retry-failover-large", ["MDRetryFailover 10000000"]),
    ("store-locks-negative", ["MDStoreLocks -1"]),
    ("stapling-keep", ["MDStaplingKeepResponse 10%", "MDStaplingKeepResponse -1d"]),
    ("durations-as-words", ["MDCheckInterval 1hour", "MDRetryDelay 10sec", "MDRenewWindow 1d12h",
                            "MDWarnWindow 2days"]),
]


@pytest.mark.parametrize("lines", [pytest.param(e[1], id=e[0]) for e in ACCEPTED])
def test_config_accepted_as_mod_md(mdhttpd, httpd_factory, files, lines):
    config = [line.format(**files) for line in lines]
    for h in (mdhttpd, _md_httpd(httpd_factory)):
        h.add_config(*config)
        rc, out = apache_t(h)
        assert rc == 0, out


def _md_json_of(h, store):
    with open(os.path.join(store, "domains", "a.example.org", "md.json")) as fh:
        return json.load(fh)


def test_accepted_values_stored_as_mod_md(httpd_factory, mod_path, files):
    """Values that fail later are kept as written, as mod_md keeps them (md.json side by side), and our error log
    warns about each at startup."""
    lines = ["MDCAChallenges HTTP-01 http-02", "MDExternalAccountBinding kid-1 not*base64",
             "MDContactEmail webmaster", "MDCertificateAgreement yes", "MDInitialDelay 1h",
             "MDCertificateAuthority https://127.0.0.1:1/dir", "MDPrivateKeys secp256r1",
             "MDomain a.example.org bad_name.example.org",
             '<If "false">', "MDRequireHttps permanent", "</If>"]
    seen = {}
    for name, module in (("mod_md", ("md", MOD_MD)), ("mod_mdomain", ("mdomain", mod_path))):
        h = httpd_factory()
        https = h.new_port("https")
        h.add_modules("ssl", "socache_shmcb", module)
        store = os.path.join(files["dir"], "md-" + name)
        h.add_config("MDStoreDir %s" % store, *lines)
        h.add_vhost("\n".join(["<VirtualHost 127.0.0.1:%d>" % https, "  ServerName a.example.org",
                               "  SSLEngine on", "</VirtualHost>"]))
        h.start()
        seen[name] = _md_json_of(h, store)
        if name == "mod_mdomain":
            log = h.error_log_text()
        h.stop()
    for key in ("domains", "contacts", "ca.challenges", "ca.agreement", "eab", "require-https"):
        theirs, ours = seen["mod_md"], seen["mod_mdomain"]
        for part in key.split("."):
            theirs, ours = theirs.get(part), ours.get(part)
        assert ours == theirs, "%s: ours %r, mod_md's %r" % (key, ours, theirs)
    assert seen["mod_md"]["eab"] == {"kid": "kid-1", "hmac": "not*base64"}
    assert seen["mod_md"]["require-https"] == "permanent"
    for text in ("unknown challenge type 'http-02'", "'webmaster' is not an email address",
                 "'bad_name.example.org' is not a valid DNS name", "not valid base64url"):
        assert re.search(r"\[mdomain:warn\].*" + re.escape(text), log), text


def test_name_in_two_mds(mdhttpd):
    mdhttpd.add_config("MDomain a.example.org www.example.org",
                       "<MDomain b.example.org>", "  MDMember WWW.example.org", "</MDomain>")
    rc, out = apache_t(mdhttpd)
    assert rc == 1, out
    assert "'www.example.org' is in two managed domains" in out
    assert "two Managed Domains have an overlap in domain 'www.example.org'" in out    # mod_md's words at startup
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


# ---------------------------------------------------------------------------------------------- later failures

def test_name_the_ca_refuses_shows_in_md_status(httpd, pebble_factory, mod_path, workdir):
    """A name mod_md lets pass and a CA refuses passes `apache2 -t` and the start (with a warning); the renewal fails
    with the CA's answer in md-status."""
    name, bad = "refused.example.org", "bad_name.refused.example.org"
    pebble = pebble_factory(http_port=httpd.port)
    https_port = httpd.new_port("https")
    httpd.add_modules("ssl", "socache_shmcb", ("mdomain", mod_path))
    httpd.add_config(
        "MDStoreDir %s" % os.path.join(workdir, "md"),
        "MDCertificateAuthority %s" % pebble.directory_url,
        "MDCACertificateFile %s" % pebble.ca_file,
        "MDCertificateAgreement accepted",
        "MDPortMap http:%d https:%d" % (httpd.port, https_port),
        "MDPrivateKeys P-256", "MDInitialDelay 1s", "MDRetryDelay 1s",
        "MDomain %s %s" % (name, bad),
        "<Location /md-status>", "  SetHandler md-status", "</Location>")
    httpd.add_vhost("\n".join(["<VirtualHost 127.0.0.1:%d>" % https_port, "  ServerName %s" % name,
                               "  SSLEngine on", "</VirtualHost>"]))
    httpd.start()
    assert re.search(r"\[mdomain:warn\].*'%s' is not a valid DNS name" % re.escape(bad), httpd.error_log_text())
    last = wait_until(lambda: net.get_json(httpd.url("/md-status/" + name)).get("renewal", {}).get("last"), 30,
                      what="the failed renewal in md-status")
    # pebble's answer to the order, as mod_md shows it
    assert last["problem"] == "urn:ietf:params:acme:error:malformed", last
    assert "illegal character: '_'" in last["detail"] and last["activity"].startswith("Creating new order"), last


def _status_of(httpd, path, host):
    """The status of GET path on httpd's http port (redirects not followed)."""
    conn = http.client.HTTPConnection("127.0.0.1", httpd.port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": host})
        return conn.getresponse().status
    finally:
        conn.close()


@pytest.mark.parametrize("module", ["mod_md", "mod_mdomain"])
def test_require_https_where_mod_md_takes_it(httpd_factory, mod_path, files, module):
    """MDRequireHttps in <If> applies as if written outside it (the condition is not looked at), in .htaccess
    (AllowOverride AuthConfig) it has no effect: both modules alike, an MD with static files being complete."""
    name = "static.example.org"
    h = httpd_factory()
    https = h.new_port("https")
    h.add_modules("ssl", "socache_shmcb", ("md", MOD_MD) if module == "mod_md" else ("mdomain", mod_path))
    h.add_config("MDStoreDir %s" % os.path.join(files["dir"], "md-" + module),
                 '<If "false">', "  MDRequireHttps permanent", "</If>",
                 "<MDomain %s>" % name, "  MDCertificateFile %s" % files["cert"],
                 "  MDCertificateKeyFile %s" % files["key"], "</MDomain>")
    h.add_vhost(vhost(h, name))
    h.add_vhost("\n".join(["<VirtualHost 127.0.0.1:%d>" % https, "  ServerName %s" % name, "  SSLEngine on",
                           "</VirtualHost>"]))
    h.start()
    assert _status_of(h, "/", name) == 301
    h.stop()

    h.vhosts = []
    h.extra_config = [line for line in h.extra_config if line not in ('<If "false">', "</If>")
                      and "MDRequireHttps" not in line]
    site = os.path.join(h.docroot, "site")
    os.makedirs(site, exist_ok=True)
    with open(os.path.join(site, "index.html"), "w") as fh:
        fh.write("site\n")
    with open(os.path.join(site, ".htaccess"), "w") as fh:
        fh.write("MDRequireHttps permanent\n")
    h.add_config('<Directory "%s">' % site, "  AllowOverride AuthConfig", "</Directory>")
    h.add_vhost(vhost(h, name))
    h.add_vhost("\n".join(["<VirtualHost 127.0.0.1:%d>" % https, "  ServerName %s" % name, "  SSLEngine on",
                           "</VirtualHost>"]))
    h.start()
    assert _status_of(h, "/site/index.html", name) == 200

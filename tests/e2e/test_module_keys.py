"""Key types: one label per key type (rsa, secp256r1, secp384r1) in what people read (md-status, md-metrics,
server-status, certificate-status, the CLI's list), whatever MDPrivateKeys or --key spell; the store's file names
as Debian's mod_md writes them for the same configuration; a store of the CLI's `--key p256` taken over by mod_md;
the CLI's account key (one PBKDF2 iteration) used by mod_md."""
import json
import os
import shutil
import subprocess

import pytest
from cryptography import x509

from rig import net, tls
from rig.mdcli import MdCli
from rig.httpd import RUN_GROUP, RUN_USER
from rig.proc import wait_until
from test_module_metrics import scrape

MOD_MD = "/usr/lib/apache2/modules/mod_md.so"
NAME = "keys.example.org"


def configure(httpd, pebble, store, keys, module, *extra):
    """One MD with these MDPrivateKeys at pebble (http-01), md-status and md-metrics; returns the https port."""
    https_port = httpd.new_port("https")
    httpd.add_modules("ssl", "socache_shmcb", module)
    httpd.add_config(
        "MDStoreDir %s" % store,
        "MDPortMap http:%d https:%d" % (httpd.port, https_port),
        *pebble.md_directives(),
        "MDPrivateKeys %s" % keys,
        "MDCAChallenges http-01",
        "MDInitialDelay 1s",
        "MDRetryDelay 1s",
        *extra,
        "MDomain %s" % NAME,
        "<Location /md-status>", "  SetHandler md-status", "</Location>")
    httpd.add_vhost("\n".join(["<VirtualHost 127.0.0.1:%d>" % https_port, "  ServerName %s" % NAME,
                               "  SSLEngine on", "</VirtualHost>"]))
    return https_port


def staged_files(store, what):
    """The key and certificate files in staging/NAME once the renewal there has finished."""
    job = os.path.join(store, "staging", NAME, "job.json")
    wait_until(lambda: os.path.exists(job) and json.load(open(job)).get("finished"), 60, what=what)
    names = os.listdir(os.path.dirname(job))
    return sorted(n for n in names if n.startswith(("privkey", "pubcert")))


def md_json(store, group="staging"):
    with open(os.path.join(store, group, NAME, "md.json")) as f:
        return json.load(f)


@pytest.mark.parametrize("keys", ["P-256", "secp256r1", "prime256v1", "RSA P-384"])
def test_file_names_as_mod_md(httpd, pebble_factory, mod_path, workdir, keys):
    """The same MDPrivateKeys line gives the same key and certificate files, and the same md.json record, with
    Debian's mod_md and with mod_mdomain."""
    assert os.path.exists(MOD_MD), "Debian's mod_md is missing: scripts/install-deps installs apache2, which has it"
    pebble = pebble_factory(http_port=httpd.port)
    store = os.path.join(workdir, "md")
    configure(httpd, pebble, store, keys, ("md", MOD_MD))
    httpd.start()
    theirs = staged_files(store, "mod_md's staged set")
    their_record = md_json(store)["privkey"]
    httpd.stop()

    shutil.rmtree(store)
    httpd.modules = [m for m in httpd.modules if m != ("md", MOD_MD)] + [("mdomain", mod_path)]
    httpd.start()
    ours = staged_files(store, "mod_mdomain's staged set")
    assert ours == theirs
    assert md_json(store)["privkey"] == their_record
    # what people read names the key types with one label each
    renewal = net.get_json(httpd.url("/md-status/" + NAME))["renewal"]
    labels = {"P-256": ["secp256r1"], "secp256r1": ["secp256r1"], "prime256v1": ["secp256r1"],
              "RSA P-384": ["rsa", "secp384r1"]}[keys]
    assert sorted(k for k in renewal["cert"] if k != "valid") == labels


def test_labels_one_per_key_type(httpd, pebble_factory, mod_path, workdir):
    """MDPrivateKeys P-256 P-384: files p-256/p-384 (as mod_md's), labels secp256r1/secp384r1 everywhere."""
    pebble = pebble_factory(http_port=httpd.port)
    store = os.path.join(workdir, "md")
    https_port = configure(httpd, pebble, store, "P-256 P-384", ("mdomain", mod_path),
                           "<Location /metrics>", "  SetHandler md-metrics", "</Location>")
    httpd.start()
    assert staged_files(store, "the staged set") == ["privkey.p-256.pem", "privkey.p-384.pem",
                                                     "pubcert.p-256.pem", "pubcert.p-384.pem"]
    httpd.graceful_restart()
    wait_until(lambda: os.path.exists(os.path.join(store, "domains", NAME, "pubcert.p-384.pem")), 15,
               what="the activated set")
    labels = ["secp256r1", "secp384r1"]

    md = net.get_json(httpd.url("/md-status/" + NAME))
    assert sorted(k for k in md["cert"] if k != "valid") == labels
    assert md["privkey"] == [{"type": "EC", "curve": "P-256"}, {"type": "EC", "curve": "P-384"}]   # md.json's record

    metrics = scrape(httpd)
    assert sorted({key for name, md_name, key in metrics if key and md_name == NAME}) == labels

    status, _, body = net.fetch(httpd.url("/server-status"))
    section = body.decode()[body.decode().index("Managed Certificates"):]
    assert all(label in section for label in labels)
    assert "p-256" not in section.lower() and "p-384" not in section.lower()

    answer = tls.request(https_port, NAME, path="/.httpd/certificate-status")
    assert answer.status == 200
    assert sorted(k for k in json.loads(answer.body) if k != "valid") == labels


def test_cli_p256_store_taken_over_by_mod_md(httpd, pebble_factory, md_build, workdir):
    """`--key p256` (a spelling mod_md does not start with) is recorded as secp256r1: the files and md.json are
    those of mod_md's `MDPrivateKeys secp256r1`, and mod_md serves the CLI's certificate without a new order.
    `--key P-256` keeps mod_md's P-256 files. list shows one label for both."""
    pebble = pebble_factory(http_port=httpd.port)
    store = os.path.join(workdir, "md")
    cli = MdCli(os.path.join(md_build, "mdomain"), store, pebble)
    cli.add(NAME, "--key", "p256")
    cli.add("other.example.org", "--key", "P-256")
    cli.ok("drive", "--http-port", httpd.port)
    assert md_json(store, "domains")["privkey"] == {"type": "EC", "curve": "secp256r1"}
    files = sorted(n for n in os.listdir(os.path.join(store, "domains", NAME)) if n.startswith(("priv", "pub")))
    assert files == ["privkey.secp256r1.pem", "pubcert.secp256r1.pem"]
    assert os.path.exists(os.path.join(store, "domains", "other.example.org", "pubcert.p-256.pem"))
    listed = cli.ok("list")["domains"]
    assert all(sorted(k for k in d["cert"] if k != "valid") == ["secp256r1"] for d in listed), listed

    with open(os.path.join(store, "domains", NAME, "pubcert.secp256r1.pem")) as f:
        cli_cert = f.read()
    https_port = configure(httpd, pebble, store, "secp256r1", ("md", MOD_MD), "LogLevel md:debug")
    mark, log_mark = pebble.mark(), httpd.error_log_mark()
    httpd.start()
    served = tls.request(https_port, NAME, path="/", ca_pem=pebble.root_pem())
    assert served.cert.serial_number == x509.load_pem_x509_certificate(cli_cert.encode()).serial_number
    httpd.wait_watchdog_runs(log_mark)                   # mod_md's watchdog looked: nothing due
    assert pebble.count_requests(path_prefix="/order-plz", since=mark) == 0


def test_older_p256_store_kept(httpd, pebble_factory, md_build, mod_path, workdir):
    """`MDPrivateKeys p256` (a spelling only mdomain takes) in a store that has it as written (privkey.p256.pem,
    as the module and older CLIs recorded it): the module keeps the spelling, serves the certificate in place and
    orders nothing; only the CLI records `p256` as secp256r1."""
    pebble = pebble_factory(http_port=httpd.port)
    store = os.path.join(workdir, "md")
    cli = MdCli(os.path.join(md_build, "mdomain"), store, pebble)
    cli.add(NAME, "--key", "p256")
    cli.ok("drive", "--http-port", httpd.port)
    domain = os.path.join(store, "domains", NAME)
    for kind in ("privkey", "pubcert"):
        os.rename(os.path.join(domain, kind + ".secp256r1.pem"), os.path.join(domain, kind + ".p256.pem"))
    record = md_json(store, "domains")
    record["privkey"]["curve"] = "p256"
    with open(os.path.join(domain, "md.json"), "w") as f:
        json.dump(record, f)
    with open(os.path.join(domain, "pubcert.p256.pem")) as f:
        serial = x509.load_pem_x509_certificate(f.read().encode()).serial_number

    https_port = configure(httpd, pebble, store, "p256", ("mdomain", mod_path), "LogLevel md:debug")
    mark, log_mark = pebble.mark(), httpd.error_log_mark()
    httpd.start()
    assert tls.request(https_port, NAME, path="/", ca_pem=pebble.root_pem()).cert.serial_number == serial
    assert md_json(store, "domains")["privkey"] == {"type": "EC", "curve": "p256"}
    md = net.get_json(httpd.url("/md-status/" + NAME))
    assert md["state"] == 2 and sorted(k for k in md["cert"] if k != "valid") == ["secp256r1"]
    httpd.wait_watchdog_runs(log_mark)                   # the watchdog looked: nothing due
    assert pebble.count_requests(path_prefix="/order-plz", since=mark) == 0



def test_cli_account_key_used_by_mod_md(httpd, pebble_factory, md_build, workdir):
    """The account key the CLI stored (PKCS#8 encrypted with the store key, one PBKDF2 iteration: docs/store.md)
    opens in Debian's mod_md: renewing the CLI's certificate (due at once), it signs with the CLI's account (found
    among accounts/) and registers none of its own."""
    pebble = pebble_factory(http_port=httpd.port)
    store = os.path.join(workdir, "md")
    cli = MdCli(os.path.join(md_build, "mdomain"), store, pebble)
    cli.add(NAME, "--key", "P-256", "--account-key", "rsa2048")    # mod_md 2.6 signs with RS256 only
    cli.ok("drive", "--http-port", httpd.port)
    accounts = os.listdir(os.path.join(store, "accounts"))
    assert len(accounts) == 1 and md_json(store, "domains")["ca"]["account"] == accounts[0]
    pem = os.path.join(store, "accounts", accounts[0], "account.pem")
    with open(pem) as f:
        assert f.read().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    asn1 = subprocess.run(["openssl", "asn1parse", "-in", pem], check=True, capture_output=True, text=True).stdout
    after_kdf = asn1[asn1.index(":PBKDF2"):]
    assert after_kdf.split("INTEGER", 1)[1].split("\n", 1)[0].strip() == ":01", asn1     # the iteration count

    # the CLI ran as root; mod_md's renewal runs in a child as httpd's User, who must read the account
    for root, dirs, files in os.walk(os.path.join(store, "accounts")):
        for entry in [root] + [os.path.join(root, f) for f in files]:
            shutil.chown(entry, RUN_USER, RUN_GROUP)

    configure(httpd, pebble, store, "P-256", ("md", MOD_MD), "LogLevel md:debug", "MDRenewWindow 3650d")
    mark = pebble.mark()
    httpd.start()
    assert staged_files(store, "mod_md's renewal with the CLI's account") == ["privkey.p-256.pem",
                                                                               "pubcert.p-256.pem"]
    assert pebble.count_requests(path_prefix="/sign-me-up", since=mark) == 0
    assert pebble.count_requests(path_prefix="/order-plz", since=mark) == 1
    assert os.listdir(os.path.join(store, "accounts")) == accounts

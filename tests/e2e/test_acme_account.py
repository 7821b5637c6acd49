"""An account's life at pebble through md_acme + md_acme_acct (tests/tools/acme_account.c): register, find,
refresh, contacts, key rollover, store, deactivate; with bad nonces and with external account binding."""
import base64
import os

import pytest


def parse_kv(text):
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key] = value
    return out


def account_life(run_tool, pebble, key_type, *extra, expect_ok=True):
    res = run_tool("acme_account", pebble.directory_url, pebble.ca_file, key_type, *extra)
    kv = parse_kv(res.stdout)
    ok = res.returncode == 0 and kv.get("result") == "ok"
    assert ok == expect_ok, "rc %d\nstdout:\n%s\nstderr:\n%s" % (res.returncode, res.stdout, res.stderr)
    return kv


def assert_full_life(kv, pebble):
    account = kv["account_url"]
    assert account.startswith(pebble.url + "/my-account/")
    assert kv["register_status"] == "valid"
    assert kv["find_url"] == account
    assert kv["refresh_status"] == "valid"
    assert kv["contacts"] == "mailto:second@example.org"
    assert kv["keychange"] == "ok"
    # after the rollover only the new key finds the account
    assert kv["find_new_url"] == account
    assert kv["find_old"] == "enoent"
    assert kv["deactivate_status"] == "deactivated"
    # pebble refuses requests of a deactivated account
    assert kv["after_deactivate"] == "eacces"


@pytest.mark.parametrize("key_type, alg", [("p256", "ES256"), ("rsa2048", "RS256")])
def test_account_life(run_tool, pebble, workdir, key_type, alg):
    store = os.path.join(workdir, "store-" + key_type)
    kv = account_life(run_tool, pebble, key_type, "--store", store)
    assert kv["alg"] == alg
    assert_full_life(kv, pebble)
    host = pebble.url.split("://")[1].split(":")[0]
    assert kv["stored_id"] == "ACME-%s-0000" % host
    assert kv["stored_found"] == kv["stored_id"]
    assert os.path.exists(os.path.join(store, "accounts", kv["stored_id"], "account.pem"))
    if pebble.nonce_reject:   # MD_E2E_PEBBLE_NONCEREJECT set for the run: retries change the counts
        return
    # one newNonce at the start; every later request used the nonce of the answer before it
    assert kv["heads"] == "1"
    assert kv["bad_nonces"] == "0"
    assert pebble.count_requests("HEAD", "/nonce-plz") == 1


@pytest.mark.parametrize("key_type", ["p256", "rsa2048"])
def test_account_life_with_bad_nonces(run_tool, pebble_factory, key_type):
    pebble = pebble_factory(nonce_reject=50)
    bad = 0
    for _ in range(3):   # ~10 signed requests per run at 50% rejects: a run without any is ~1e-3
        kv = account_life(run_tool, pebble, key_type)
        assert_full_life(kv, pebble)
        bad += int(kv["bad_nonces"])
        # the product's request code (md_acme, seen on the wire by the tool's HTTP backend) retried each badNonce
        # answer at once, to the same URL with the nonce that answer carried: no extra newNonce requests
        assert kv["retried_with_its_nonce"] == kv["bad_nonces"] and kv["retried_otherwise"] == "0", kv
        assert kv["heads"] == "1"
        if bad:
            break
    assert bad > 0


EAB_KEY = base64.urlsafe_b64encode(b"an HMAC key for pebble's EAB 123").decode().rstrip("=")


def test_account_with_eab(run_tool, pebble_factory, workdir):
    pebble = pebble_factory(eab_keys={"kid-1": EAB_KEY})
    assert pebble.directory()["meta"]["externalAccountRequired"] is True
    store = os.path.join(workdir, "store")
    kv = account_life(run_tool, pebble, "p256", "--eab-kid", "kid-1", "--eab-hmac", EAB_KEY, "--store", store)
    assert_full_life(kv, pebble)
    with open(os.path.join(store, "accounts", kv["stored_id"], "account.json")) as f:
        assert '"kid": "kid-1"' in f.read()


def test_account_eab_wrong_key(run_tool, pebble_factory):
    pebble = pebble_factory(eab_keys={"kid-1": EAB_KEY})
    wrong = base64.urlsafe_b64encode(b"not the key pebble has for kid-1").decode().rstrip("=")
    kv = account_life(run_tool, pebble, "p256", "--eab-kid", "kid-1", "--eab-hmac", wrong, expect_ok=False)
    assert "account_url" not in kv
    # pebble's problem detail, with its type
    assert "urn:ietf:params:acme:error:" in kv["error"], kv["error"]


def test_account_eab_missing(run_tool, pebble_factory):
    pebble = pebble_factory(eab_keys={"kid-1": EAB_KEY})
    kv = account_life(run_tool, pebble, "p256", expect_ok=False)
    assert "requires an External Account Binding" in kv["error"], kv["error"]
    assert pebble.count_requests("POST") == 0


def test_account_eab_bad_hmac(run_tool, pebble):
    kv = account_life(run_tool, pebble, "p256", "--eab-kid", "kid-1", "--eab-hmac", "not*base64", expect_ok=False)
    # with mod_md's problem type for it
    assert kv["error"] == "EAB: the HMAC key for kid 'kid-1' is not valid base64url (apache:eab-hmac-invalid)"

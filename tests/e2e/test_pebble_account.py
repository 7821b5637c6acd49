"""Register ACME accounts at pebble with the core's keys, JWS and JSON (tests/tools/acme_register.c)."""
import pytest


def parse_kv(text):
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key] = value
    return out


def register(run_tool, pebble, key_type, contact="admin@example.org"):
    res = run_tool("acme_register", pebble.directory_url, pebble.ca_file, key_type, contact)
    kv = parse_kv(res.stdout)
    assert res.returncode == 0 and kv.get("result") == "ok", \
        "rc %d\nstdout:\n%s\nstderr:\n%s" % (res.returncode, res.stdout, res.stderr)
    return kv


@pytest.mark.parametrize("key_type, alg", [("p256", "ES256"), ("p384", "ES384"), ("rsa2048", "RS256")])
def test_register_account(run_tool, pebble, key_type, alg):
    kv = register(run_tool, pebble, key_type)
    assert kv["alg"] == alg
    # newAccount signed with the JWK: created
    assert kv["new_http"] == "201"
    assert kv["new_status"] == "valid"
    account = kv["new_url"]
    assert account.startswith(pebble.url + "/")
    # onlyReturnExisting with the same key finds the same account
    assert kv["existing_http"] == "200"
    assert kv["existing_url"] == account
    assert kv["existing_status"] == "valid"
    # POST-as-GET to the account URL signed with kid = that URL
    assert kv["kid_http"] == "200"
    assert kv["kid_status"] == "valid"
    if pebble.nonce_reject:   # MD_E2E_PEBBLE_NONCEREJECT set for the run: retries change the counts
        return
    assert kv["bad_nonce_retries"] == "0"
    # what pebble saw: one directory GET, one newNonce, two newAccount POSTs, one POST to the account
    # (pebble logs the account route without the account id)
    seen = pebble.requests()
    new_account_path = pebble.directory()["newAccount"][len(pebble.url):]
    assert seen == [("GET", "/dir"), ("HEAD", "/nonce-plz"), ("POST", new_account_path),
                    ("POST", new_account_path), ("POST", "/my-account/")]
    assert account.startswith(pebble.url + "/my-account/")


def test_register_two_keys_two_accounts(run_tool, pebble):
    a = register(run_tool, pebble, "p256", "a@example.org")
    b = register(run_tool, pebble, "p256", "b@example.org")
    assert a["new_url"] != b["new_url"]
    assert a["thumbprint"] != b["thumbprint"]

# badNonce handling is the product's (md_acme): test_acme_account.py's test_account_life_with_bad_nonces sees its
# retries on the wire; this tool has a loop of its own only to get through a run with MD_E2E_PEBBLE_NONCEREJECT.

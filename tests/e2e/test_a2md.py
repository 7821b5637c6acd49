"""a2md, mod_md's command line (mdomain a2md, or the a2md link): its verbs against pebble and their JSON envelope,
whose MDs are checked field by field against the md.json the same verbs wrote. Its drive answers http-01 in the
store's challenges/, served here by a small web server on the same store (as mod_md or mod_mdomain would)."""
import http.server
import json
import os
import subprocess
import threading

import pytest

from certcheck import load_chain, serial_hex


class A2md:
    def __init__(self, binary, store, pebble):
        self.binary, self.store, self.pebble = binary, store, pebble

    def run(self, *args, name=None, ca=True):
        """-> (exit code, the JSON envelope, stderr); -j and -d always, -a/-C for the pebble with ca."""
        argv = [self.binary, "a2md"] if name is None else [name]
        argv += ["-d", self.store, "-j"]
        if ca:
            argv += ["-a", self.pebble.directory_url, "-C", self.pebble.ca_file]
        res = subprocess.run(argv + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=180)
        return res.returncode, json.loads(res.stdout), res.stderr

    def ok(self, *args, **kwargs):
        rc, env, err = self.run(*args, **kwargs)
        assert rc == 0 and env["status"] == 0 and "description" not in env, (args, env, err)
        return env["output"]

    def md_json(self, name):
        with open(os.path.join(self.store, "domains", name, "md.json")) as f:
            return json.load(f)

    def same_as_stored(self, md):
        """The MD in the output is md.json as written, field by field."""
        stored = self.md_json(md["name"])
        assert sorted(md) == sorted(stored)
        for key in stored:
            assert md[key] == stored[key], key
        return stored


class ChallengeServer(http.server.ThreadingHTTPServer):
    """Serves http-01 from STORE/challenges/HOST/acme-http-01.txt (the key authorization "TOKEN.THUMBPRINT")."""

    def __init__(self, port, store):
        self.store, self.served = store, []
        super().__init__(("127.0.0.1", port), Handler)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        prefix = "/.well-known/acme-challenge/"
        host = self.headers.get("Host", "").split(":")[0]
        token = self.path[len(prefix):] if self.path.startswith(prefix) else None
        path = os.path.join(self.server.store, "challenges", host, "acme-http-01.txt")
        body = open(path, "rb").read() if token and os.path.exists(path) else b""
        if not token or not body.startswith(token.encode() + b"."):
            self.send_response(404)
            self.end_headers()
            return
        self.server.served.append(host)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def a2md(md_build, workdir, pebble):
    return A2md(os.path.join(md_build, "mdomain"), os.path.join(workdir, "store"), pebble)


@pytest.fixture
def web(a2md, pebble):
    srv = ChallengeServer(pebble.http_port, a2md.store)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_a2md_verbs(a2md, pebble, web, workdir):
    name = "a2.example.org"
    # add: the CA of -a and -C, the agreement of -t
    [md] = a2md.ok("-t", "accepted", "add", name, "WWW.a2.example.org")
    stored = a2md.same_as_stored(md)
    assert stored["domains"] == [name, "www.a2.example.org"] and stored["ca"]["urls"] == [pebble.directory_url]
    assert stored["ca"]["agreement"] == "accepted" and stored["state"] == 1
    # list and store list: every MD as stored
    a2md.ok("add", "other.example.org")
    listed = a2md.ok("list")
    assert [m["name"] for m in listed] == [name, "other.example.org"]
    for m in listed:
        a2md.same_as_stored(m)
    assert a2md.ok("store", "list") == listed
    # acme newreg, agree, validate: an account at pebble, stored as the drive uses it
    [acct] = a2md.ok("-t", "accepted", "acme", "newreg", "mailto:a2md@example.org")
    assert acct["status"] == "valid" and acct["contact"] == ["mailto:a2md@example.org"]
    with open(os.path.join(a2md.store, "accounts", acct["id"], "account.json")) as f:
        assert json.load(f)["url"] == acct["url"]
    [agreed] = a2md.ok("acme", "agree", acct["id"], ca=False)
    assert agreed["id"] == acct["id"] and agreed["agreement"]
    [valid] = a2md.ok("acme", "validate", acct["id"], ca=False)
    assert valid["status"] == "valid"
    # update, each aspect: the output is md.json as written, with the change
    [md] = a2md.ok("update", name, "domains", name, "www.a2.example.org", "new.a2.example.org", ca=False)
    assert a2md.same_as_stored(md)["domains"] == [name, "www.a2.example.org", "new.a2.example.org"]
    [md] = a2md.ok("update", name, "contacts", "admin@example.org", "mailto:ops@example.org", ca=False)
    assert a2md.same_as_stored(md)["contacts"] == ["mailto:admin@example.org", "mailto:ops@example.org"]
    [md] = a2md.ok("update", name, "agreement", "https://example.org/tos", ca=False)
    assert a2md.same_as_stored(md)["ca"]["agreement"] == "https://example.org/tos"
    [md] = a2md.ok("update", name, "account", acct["id"], ca=False)
    assert a2md.same_as_stored(md)["ca"]["account"] == acct["id"]
    [md] = a2md.ok("update", name, "ca", "https://ca.invalid/directory", ca=False)
    assert a2md.same_as_stored(md)["ca"]["urls"] == ["https://ca.invalid/directory"]
    [md] = a2md.ok("update", name, "ca", pebble.directory_url, "ACME", ca=False)
    assert a2md.same_as_stored(md)["ca"]["urls"] == [pebble.directory_url]
    [md] = a2md.ok("update", name, ca=False)           # no aspect: the MD as it is
    a2md.same_as_stored(md)

    # drive: http-01 answered in the store's challenges/ for the web server on the same store
    [md] = a2md.ok("drive", name, ca=False)
    stored = a2md.same_as_stored(md)
    assert stored["state"] == 2 and stored["ca"]["account"] == acct["id"]
    assert sorted(set(web.served)) == sorted(stored["domains"])
    first = load_chain(os.path.join(a2md.store, "domains", name, "pubcert.pem"))[0]
    assert not os.listdir(os.path.join(a2md.store, "challenges"))       # answers removed after the run
    # not due: nothing asked; -f -r: renewed from scratch
    mark = pebble.mark()
    a2md.ok("drive", name, ca=False)
    assert pebble.requests(since=mark) == []
    [md] = a2md.ok("drive", "-f", "--reset", name, ca=False)
    assert a2md.same_as_stored(md)["state"] == 2
    second = load_chain(os.path.join(a2md.store, "domains", name, "pubcert.pem"))[0]
    assert serial_hex(first) != serial_hex(second)

    # store remove: the MD goes (to archive/), the output has it as it was; -f: a missing one is fine
    [removed] = a2md.ok("store", "remove", "other.example.org", ca=False)
    assert removed["name"] == "other.example.org"
    assert not os.path.exists(os.path.join(a2md.store, "domains", "other.example.org"))
    assert a2md.ok("store", "remove", "-f", "other.example.org", ca=False) == []
    # acme delreg: the account is deactivated at pebble
    [gone] = a2md.ok("acme", "delreg", acct["id"], ca=False)
    assert gone["status"] == "deactivated"


def test_a2md_errors_and_names(a2md, workdir, md_build):
    # errors: the envelope's status (an APR code) and description, exit 2 for usage, 1 otherwise
    rc, env, err = a2md.run("update", "nope.example.org", "domains", "x.example.org")
    assert rc == 1 and env["status"] == 2 and "no managed domain 'nope.example.org'" in env["description"]
    assert env["output"] == [] and "a2md: update: no managed domain" in err
    a2md.ok("add", "e.example.org")
    rc, env, err = a2md.run("update", "e.example.org", "color", "blue")
    assert rc == 2 and env["status"] == 22 and "unknown aspect 'color'" in env["description"]
    rc, env, err = a2md.run("update", "e.example.org", "ca", "https://x.example.org/dir", "SCEP")
    assert rc == 2 and "only ACME" in env["description"]
    rc, env, err = a2md.run("add", "e.example.org")
    assert rc == 1 and "exists already" in env["description"]
    rc, env, err = a2md.run("drive", "--bogus")
    assert rc == 2 and "unknown option --bogus" in env["description"]
    rc, env, err = a2md.run("list", "extra")
    assert rc == 2 and "takes no arguments" in env["description"]
    rc, env, err = a2md.run("store", "remove", "nope.example.org")
    assert rc == 1 and env["status"] == 2
    # called as a2md (the link make install creates)
    link = os.path.join(workdir, "a2md")
    os.symlink(os.path.join(md_build, "mdomain"), link)
    rc, env, err = a2md.run("list", name=link, ca=False)
    assert rc == 0 and [m["name"] for m in env["output"]] == ["e.example.org"]
    res = subprocess.run([link, "-h"], stdout=subprocess.PIPE, text=True)
    for verb in ("acme", "add", "update", "drive", "list", "store", "newreg", "delreg", "agree", "validate"):
        assert verb in res.stdout
    for opt in ("-a", "-d", "-C", "-p", "-j", "-q", "-v", "-t", "-V", "-h"):
        assert "  %s | --" % opt in res.stdout
    # mdomain's options before a2md: refused with the reason
    res = subprocess.run([os.path.join(md_build, "mdomain"), "-d", a2md.store, "a2md", "list"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert res.returncode == 2 and "as the first argument" in res.stderr

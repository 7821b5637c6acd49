"""Running the mdomain command against a store and a pebble: JSON parsed, failures explained."""
import json
import os
import subprocess


class MdCli:
    """mdomain with -d STORE (and, for `add`, the pebble's CA and its listener CA)."""

    def __init__(self, binary, store, pebble=None):
        self.binary = binary
        self.store = store
        self.pebble = pebble

    def run(self, *args, timeout=180, env=None):
        """-> (exit code, parsed JSON or None, stdout, stderr); --json is always given."""
        argv = [self.binary, "-d", self.store, "--json"] + [str(a) for a in args]
        res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout,
                             env=dict(os.environ, **(env or {})))
        try:
            doc = json.loads(res.stdout) if res.stdout.strip() else None
        except ValueError:
            doc = None
        return res.returncode, doc, res.stdout, res.stderr

    def run_text(self, *args, timeout=180, env=None):
        """-> CompletedProcess (text) of mdomain -d STORE ARGS without --json: what people read."""
        argv = [self.binary, "-d", self.store] + [str(a) for a in args]
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout,
                              env=dict(os.environ, **(env or {})))

    def ok(self, *args, **kwargs):
        rc, doc, out, err = self.run(*args, **kwargs)
        assert rc == 0, "mdomain %s -> %d\nstdout:\n%s\nstderr:\n%s" % (" ".join(map(str, args)), rc, out, err)
        return doc

    def add(self, *names_and_opts, **kwargs):
        """add with the pebble as CA (its listener CA trusted) and the terms accepted."""
        return self.ok("-a", self.pebble.directory_url, "--ca-file", self.pebble.ca_file, "-t", "accepted",
                       "-c", "admin@example.org", "add", *names_and_opts, **kwargs)

    def drive(self, *args, **kwargs):
        """drive with the built-in http-01 server on the port pebble validates."""
        return self.ok("drive", "--http-port", self.pebble.http_port, *args, **kwargs)

    def md_dir(self, name, group="domains"):
        return os.path.join(self.store, group, name)

    def md_json(self, name, group="domains"):
        """The MD's md.json in the store, parsed."""
        with open(os.path.join(self.md_dir(name, group), "md.json")) as f:
            return json.load(f)

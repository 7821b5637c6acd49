"""The event interface in tests: a recording event handler (remote http-01 into a webroot, dns-01 through
pebble-challtestsrv, exit codes scripted per event) and a web front that serves that webroot for remote names and
hands everything else to httpd, as a load balancer or CDN in front of a server would."""
import http.client
import http.server
import json
import os
import socketserver
import threading

# The handler: `handler.py [ARGS...] EVENT MDNAME [INTRINSICS...]` (ARGS: the fixed ones, e.g. a label). It appends
# one JSON line per call to LOG: argv, uid, the MD_* environment, its exit code. Its exit code is the next number
# of CTL/EVENT (a file of numbers, one consumed per call, the last one kept), else 0. setup-http-01 writes the key
# authorization to WEBROOT/TOKEN, teardown-http-01 removes it; setup/teardown set and clear the TXT record through
# challtestsrv's management API. Each does its work only when it exits 0 or 76 ("started").
HANDLER = r'''#!/usr/bin/python3
import fcntl, json, os, sys, urllib.request
LOG, CTL, WEBROOT, MGMT, NFIXED = %(log)r, %(ctl)r, %(webroot)r, %(mgmt)r, %(nfixed)d
args = sys.argv[1 + NFIXED:]
event = args[0] if args else ""

def next_code():
    path = os.path.join(CTL, event)
    try:
        with open(path, "r+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            codes = f.read().split()
            if not codes:
                return 0
            if len(codes) > 1:
                f.seek(0); f.truncate(); f.write(" ".join(codes[1:]))
            return int(codes[0])
    except OSError:
        return 0

def post(path, obj):
    req = urllib.request.Request(MGMT + path, data=json.dumps(obj).encode(), method="POST")
    urllib.request.urlopen(req, timeout=10).read()

rc = next_code()
if rc in (0, 76):
    if event == "setup-http-01":
        with open(os.path.join(WEBROOT, args[3]), "w") as f:
            f.write(args[4])
    elif event == "teardown-http-01":
        try:
            os.unlink(os.path.join(WEBROOT, args[3]))
        except OSError:
            pass
    elif event == "setup" and MGMT:
        post("/set-txt", {"host": "_acme-challenge." + args[2] + ".", "value": args[3]})
    elif event == "teardown" and MGMT:
        post("/clear-txt", {"host": "_acme-challenge." + args[2] + "."})
with open(LOG, "a") as f:
    fcntl.flock(f, fcntl.LOCK_EX)
    f.write(json.dumps({"argv": sys.argv[1:], "args": args, "uid": os.getuid(), "rc": rc, "env": {k: os.environ.get(k)
            for k in ("MD_STORE", "MD_VERSION", "MD_MDOMAIN", "MD_EVENT")}}) + "\n")
sys.exit(rc)
'''


class Handler:
    """The recording handler in the test's directory: its path, call log, control files and webroot."""

    def __init__(self, workdir, mgmt_url="", nfixed=0):
        self.dir = os.path.join(workdir, "handler")
        self.log = os.path.join(self.dir, "calls.log")
        self.ctl = os.path.join(self.dir, "ctl")
        self.webroot = os.path.join(self.dir, "webroot")
        self.path = os.path.join(self.dir, "handler.py")
        for d in (self.dir, self.ctl, self.webroot):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o777)      # httpd's children (www-data) run it and write here
        with open(self.log, "w"):
            pass
        os.chmod(self.log, 0o666)
        with open(self.path, "w") as f:
            f.write(HANDLER % {"log": self.log, "ctl": self.ctl, "webroot": self.webroot, "mgmt": mgmt_url,
                               "nfixed": nfixed})
        os.chmod(self.path, 0o755)

    def set_exits(self, event, *codes):
        """The exit codes of the next calls of event, in order (the last one stays)."""
        path = os.path.join(self.ctl, event)
        with open(path, "w") as f:
            f.write(" ".join(str(c) for c in codes))
        os.chmod(path, 0o666)

    def calls(self, event=None):
        """The recorded calls (dicts with argv: all arguments, args: those after the fixed ones, uid, rc, env), those
        of one event when given."""
        with open(self.log) as f:
            entries = [json.loads(line) for line in f if line.strip()]
        return [e for e in entries if event is None or (e["args"] and e["args"][0] == event)]

    def events(self):
        return [e["args"][0] for e in self.calls()]


class WebFront:
    """An HTTP server on a free port of 127.0.0.1: /.well-known/acme-challenge/TOKEN for the remote names from the
    handler's webroot, everything else passed on to 127.0.0.1:backend_port (404 without one)."""

    def __init__(self, webroot, remote_names, backend_port=None):
        self.webroot = webroot
        self.remote = {n.lower() for n in remote_names}
        self.backend_port = backend_port
        self.served = []             # (host, token) answered from the webroot
        self.port = None
        self._server = None

    def start(self):
        front = self

        class Req(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                host = (self.headers.get("Host") or "").split(":")[0].lower()
                prefix = "/.well-known/acme-challenge/"
                if host in front.remote and self.path.startswith(prefix):
                    return self._from_webroot(host, self.path[len(prefix):])
                if front.backend_port:
                    return self._proxy()
                self.send_error(404)

            def _from_webroot(self, host, token):
                path = os.path.join(front.webroot, os.path.basename(token))
                if not os.path.isfile(path):
                    return self.send_error(404)
                body = open(path, "rb").read()
                front.served.append((host, token))
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _proxy(self):
                conn = http.client.HTTPConnection("127.0.0.1", front.backend_port, timeout=10)
                conn.request("GET", self.path, headers={"Host": self.headers.get("Host", "")})
                resp = conn.getresponse()
                body = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Req)            # bound here: no port to lose to another process
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

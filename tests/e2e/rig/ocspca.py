"""A test CA made with `openssl` (root, intermediate, EC P-256) whose certificates carry an OCSP URL and a CRL URL on
127.0.0.1, `openssl ocsp` as its responder (index file, signed by the intermediate, a delegated responder or a wrong
key) and the CRL served by a small HTTP server (python's http.server, which answers If-Modified-Since); and an OCSP
responder for pebble's certificates (PebbleResponder)."""
import datetime
import os
import subprocess
import sys

from . import ports
from .proc import Process, wait_until

OPENSSL = "openssl"

CA_CNF = """\
[ ca ]
default_ca = ica

[ ica ]
dir = {dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
crlnumber = $dir/crlnumber
certificate = $dir/intermediate.pem
private_key = $dir/intermediate.key
default_md = sha256
default_crl_days = 7
policy = any
unique_subject = no
copy_extensions = none

[ any ]
commonName = supplied

[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
"""


def _run(*argv, cwd=None):
    res = subprocess.run([str(a) for a in argv], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd,
                         timeout=60)
    if res.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(map(str, argv)), res.returncode,
                                                   res.stdout.decode("utf-8", "replace")))
    return res.stdout.decode("utf-8", "replace")


def _write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def _read(path):
    with open(path) as f:
        return f.read()


def _listens(port):
    """True when some socket listens on the TCP port (from /proc/net/tcp and tcp6, without connecting)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                return True
    return False


class Issued:
    """A certificate the test CA issued: cert_file (the certificate alone), key_file, chain_file (the certificate and
    the intermediate, as a server serves it), serial (uppercase hex)."""

    def __init__(self, name, cert_file, key_file, chain_file, serial):
        self.name = name
        self.cert_file = cert_file
        self.key_file = key_file
        self.chain_file = chain_file
        self.serial = serial


class OcspCA:
    """Root and intermediate in directory; ocsp_url and crl_url point at free ports of 127.0.0.1 (the responder and
    the CRL server run only while started). Everything is readable by httpd's children."""

    def __init__(self, directory, name="mdomain OCSP test"):
        self.dir = str(directory)
        os.makedirs(os.path.join(self.dir, "newcerts"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "crl"), exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.ocsp_port = ports.free_port()
        self.crl_port = ports.free_port()
        self.ocsp_url = "http://127.0.0.1:%d/" % self.ocsp_port
        self.crl_url = "http://127.0.0.1:%d/intermediate.crl" % self.crl_port
        self.cnf = os.path.join(self.dir, "ca.cnf")
        _write(self.cnf, CA_CNF.format(dir=self.dir))
        _write(os.path.join(self.dir, "index.txt"), "")
        _write(os.path.join(self.dir, "index.txt.attr"), "unique_subject = no\n")
        _write(os.path.join(self.dir, "serial"), "1000\n")
        _write(os.path.join(self.dir, "crlnumber"), "1000\n")
        self.root_file = os.path.join(self.dir, "root.pem")
        self.root_key = os.path.join(self.dir, "root.key")
        self.inter_file = os.path.join(self.dir, "intermediate.pem")
        self.inter_key = os.path.join(self.dir, "intermediate.key")
        self._self_signed(self.root_key, self.root_file, "%s Root" % name)
        self._intermediate("%s Intermediate" % name)
        self.responder = None
        self.crl_server = None
        self.signer = "ca"

    # --------------------------------------------------------------------------------------------- making certs
    def _key(self, path):
        _run(OPENSSL, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path)
        os.chmod(path, 0o644)   # test keys: httpd's children (www-data) may read them

    def _self_signed(self, key, cert, cn):
        self._key(key)
        _run(OPENSSL, "req", "-new", "-x509", "-key", key, "-out", cert, "-days", "3650", "-subj", "/CN=" + cn,
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def _sign(self, csr, out, ext_text, issuer_cert, issuer_key, days=90, serial=None, start=None):
        ext = out + ".ext"
        _write(ext, ext_text)
        argv = [OPENSSL, "x509", "-req", "-in", csr, "-CA", issuer_cert, "-CAkey", issuer_key, "-out", out,
                "-days", str(days), "-extfile", ext, "-sha256"]
        argv += ["-set_serial", "0x%X" % serial] if serial else ["-CAcreateserial"]
        _run(*argv)

    def _intermediate(self, cn):
        self._key(self.inter_key)
        csr = os.path.join(self.dir, "intermediate.csr")
        _run(OPENSSL, "req", "-new", "-key", self.inter_key, "-out", csr, "-subj", "/CN=" + cn)
        self._sign(csr, self.inter_file, "basicConstraints=critical,CA:TRUE,pathlen:0\n"
                   "keyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\n"
                   "authorityKeyIdentifier=keyid\n", self.root_file, self.root_key, days=1825, serial=0x42)

    def issue(self, name, dns_names, ocsp=True, crl=True, days=90, directory=None, key_file=None):
        """A server certificate for dns_names (CN the first), by the intermediate through `openssl ca` (so the index
        knows it), with the OCSP URL (ocsp) and the CRL distribution point (crl). Returns an Issued; files in
        directory (default the CA's): NAME.pem, NAME.key, NAME.chain.pem. key_file: an existing key to certify."""
        directory = str(directory or self.dir)
        key = key_file or os.path.join(directory, name + ".key")
        if not key_file:
            self._key(key)
        csr = os.path.join(directory, name + ".csr")
        _run(OPENSSL, "req", "-new", "-key", key, "-out", csr, "-subj", "/CN=" + dns_names[0], "-config", self.cnf)
        ext = ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature",
               "extendedKeyUsage=serverAuth", "subjectKeyIdentifier=hash", "authorityKeyIdentifier=keyid",
               "subjectAltName=" + ",".join("DNS:" + d for d in dns_names)]
        if ocsp:
            ext.append("authorityInfoAccess=OCSP;URI:%s,caIssuers;URI:http://127.0.0.1:%d/intermediate.der"
                       % (self.ocsp_url, self.crl_port))
        if crl:
            ext.append("crlDistributionPoints=URI:%s" % self.crl_url)
        extfile = os.path.join(directory, name + ".ext")
        _write(extfile, "[ext]\n" + "\n".join(ext) + "\n")
        cert = os.path.join(directory, name + ".pem")
        _run(OPENSSL, "ca", "-batch", "-config", self.cnf, "-in", csr, "-out", cert, "-days", str(days), "-notext",
             "-extfile", extfile, "-extensions", "ext")
        chain = os.path.join(directory, name + ".chain.pem")
        _write(chain, _read(cert) + _read(self.inter_file))
        serial = _run(OPENSSL, "x509", "-in", cert, "-noout", "-serial").strip().split("=", 1)[1].upper()
        return Issued(name, cert, key, chain, serial)

    def delegated_responder(self):
        """A responder certificate the intermediate issued for OCSP signing (id-kp-OCSPSigning): (cert, key)."""
        key = os.path.join(self.dir, "responder.key")
        cert = os.path.join(self.dir, "responder.pem")
        if not os.path.exists(cert):
            self._key(key)
            csr = os.path.join(self.dir, "responder.csr")
            _run(OPENSSL, "req", "-new", "-key", key, "-out", csr, "-subj", "/CN=OCSP responder")
            self._sign(csr, cert, "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                       "extendedKeyUsage=OCSPSigning\nnoCheck=ignored\n", self.inter_file, self.inter_key,
                       days=365, serial=0x77)
        return cert, key

    def wrong_responder(self):
        """A key and a self-signed certificate with the intermediate's name: a response it signs must never be
        taken for the CA's. (cert, key)"""
        key = os.path.join(self.dir, "wrong.key")
        cert = os.path.join(self.dir, "wrong.pem")
        if not os.path.exists(cert):
            self._key(key)
            subject = _run(OPENSSL, "x509", "-in", self.inter_file, "-noout", "-subject", "-nameopt", "compat")
            subject = subject.strip().split("=", 1)[1].strip()
            _run(OPENSSL, "req", "-new", "-x509", "-key", key, "-out", cert, "-days", "365", "-subj", subject)
        return cert, key

    # --------------------------------------------------------------------------------------------- revocation
    def revoke(self, issued, reason="keyCompromise"):
        """Mark the certificate revoked in the index (the responder reads it again) and publish a new CRL."""
        _run(OPENSSL, "ca", "-batch", "-config", self.cnf, "-revoke", issued.cert_file, "-crl_reason", reason)
        self.publish_crl()
        if self.responder:
            # it reads the index again only when its mtime changed, in whole seconds: restart it to be sure
            self.start_responder(self.signer, **self.timing)

    def publish_crl(self):
        """Write the intermediate's CRL (DER) where the CRL server serves it; returns its path."""
        pem = os.path.join(self.dir, "intermediate.crl.pem")
        der = os.path.join(self.dir, "crl", "intermediate.crl")
        _run(OPENSSL, "ca", "-batch", "-config", self.cnf, "-gencrl", "-out", pem)
        _run(OPENSSL, "crl", "-in", pem, "-outform", "DER", "-out", der + ".tmp")
        os.replace(der + ".tmp", der)
        _run(OPENSSL, "x509", "-in", self.inter_file, "-outform", "DER", "-out",
             os.path.join(self.dir, "crl", "intermediate.der"))
        return der

    # --------------------------------------------------------------------------------------------- servers
    def start_responder(self, signer="ca", ndays=None, nmin=None):
        """`openssl ocsp` on ocsp_port: signer "ca" (the intermediate's key), "delegated" (a responder certificate
        the intermediate issued) or "wrong" (a key the CA never certified). nextUpdate after ndays days / nmin
        minutes (default 1 day)."""
        self.stop_responder()
        if signer == "ca":
            rsigner, rkey = self.inter_file, self.inter_key
        elif signer == "delegated":
            rsigner, rkey = self.delegated_responder()
        else:
            rsigner, rkey = self.wrong_responder()
        self.signer = signer
        self.timing = {"ndays": ndays, "nmin": nmin}
        argv = [OPENSSL, "ocsp", "-index", os.path.join(self.dir, "index.txt"), "-port",
                str(self.ocsp_port), "-rsigner", rsigner, "-rkey", rkey, "-CA", self.inter_file,
                "-ignore_err"]
        if nmin:
            argv += ["-nmin", str(nmin)]
        else:
            argv += ["-ndays", str(ndays or 1)]
        self.responder = Process("ocsp-responder", argv, self.dir).start()
        # never connect to see whether it listens: `openssl ocsp` (3.0) hangs on a connection closed without a request
        wait_until(lambda: _listens(self.ocsp_port), 10, what="the OCSP responder")
        return self

    def stop_responder(self):
        if self.responder:
            self.responder.stop()
            self.responder = None

    def start_crl_server(self):
        """python's http.server over the crl/ directory (intermediate.crl, intermediate.der)."""
        self.publish_crl()
        self.crl_server = Process("crl-server", [sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
                                                 str(self.crl_port), "--directory", os.path.join(self.dir, "crl")],
                                  self.dir).start()
        wait_until(lambda: ports.is_listening(self.crl_port), 10, what="the CRL server")
        return self

    def crl_requests(self):
        """The CRL server's request lines (from its log), e.g. 'GET /intermediate.crl HTTP/1.1" 304'."""
        if not self.crl_server:
            return []
        with open(self.crl_server.stderr_path, errors="replace") as f:
            return [line for line in f if '"GET ' in line]

    def stop(self):
        self.stop_responder()
        if self.crl_server:
            self.crl_server.stop()
            self.crl_server = None

    def describe(self):
        out = ""
        for proc in (self.responder, self.crl_server):
            if proc:
                out += proc.describe()
        return out


def query(ca, issued, url=None):
    """`openssl ocsp` as a client: the status line of the certificate ('good', 'revoked', ...), unverified."""
    out = _run(OPENSSL, "ocsp", "-issuer", ca.inter_file, "-cert", issued.cert_file, "-url", url or ca.ocsp_url,
               "-noverify")
    return out


def s_client_status(port, sni, ca_file=None):
    """`openssl s_client -status` against 127.0.0.1:port with sni: its whole output (the OCSP response as it shows
    it: "OCSP Response Status: successful", "Cert Status: good", or "OCSP response: no response sent")."""
    argv = [OPENSSL, "s_client", "-connect", "127.0.0.1:%d" % port, "-servername", sni, "-status"]
    if ca_file:
        argv += ["-CAfile", ca_file]
    res = subprocess.run(argv, input=b"", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    return res.stdout.decode("utf-8", "replace")


def not_after(cert_file):
    out = _run(OPENSSL, "x509", "-in", cert_file, "-noout", "-enddate").strip().split("=", 1)[1]
    return datetime.datetime.strptime(out, "%b %d %H:%M:%S %Y %Z")



class HttpProxy:
    """A forward HTTP proxy for plain http (absolute URLs in the request line) on a free port of 127.0.0.1, in a
    thread of the test: it forwards GET and POST to the URL and records each request line in `requests`."""

    def __init__(self):
        import http.server
        import threading
        import urllib.request
        proxy = self
        self.requests = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def _forward(self):
                proxy.requests.append("%s %s" % (self.command, self.path))
                body = None
                if self.command == "POST":
                    body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "proxy-connection", "connection", "content-length")}
                req = urllib.request.Request(self.path, data=body, headers=headers, method=self.command)
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
                try:
                    with opener.open(req, timeout=10) as resp:
                        status, rheaders, data = resp.status, resp.headers.items(), resp.read()
                except urllib.error.HTTPError as e:
                    status, rheaders, data = e.code, e.headers.items(), e.read()
                except OSError:
                    status, rheaders, data = 502, [], b"bad gateway"
                self.send_response(status)
                for k, v in rheaders:
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _forward
            do_POST = _forward

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class PebbleResponder:
    """An OCSP responder for the certificates pebble issues (pebble 2.4 has none of its own; started with
    ocsp_responder_url=responder.url it writes that URL into them): an HTTP server on a free port of 127.0.0.1, in a
    thread of the test, answering each POSTed request with one run of `openssl ocsp` signed by pebble's intermediate
    (its key from pebble's management API, use()), "good" for the serial asked for. `serials` lists the serials
    asked for (upper-case hex, no leading zeros), in order; until use() it answers 503."""

    def __init__(self, directory):
        import http.server
        import threading
        from cryptography.x509 import ocsp as x509_ocsp
        self.dir = directory
        os.makedirs(self.dir, exist_ok=True)
        self.serials = []
        self.inter_file = self.key_file = None
        lock = threading.Lock()
        responder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    data = responder._answer(body, x509_ocsp) if responder.key_file else None
                if data is None:
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/ocsp-response")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def use(self, pebble):
        """Sign with the intermediate of the started pebble."""
        inter, key = os.path.join(self.dir, "intermediate.pem"), os.path.join(self.dir, "intermediate.key")
        _write(inter, pebble.intermediate_pem())
        _write(key, pebble.intermediate_key_pem(), 0o600)
        self.inter_file, self.key_file = inter, key
        return self

    def _answer(self, body, x509_ocsp):
        serial = x509_ocsp.load_der_ocsp_request(body).serial_number
        hexs = "%X" % serial
        self.serials.append(hexs)
        until = (datetime.datetime.utcnow() + datetime.timedelta(days=90)).strftime("%y%m%d%H%M%SZ")
        index, req, resp = (os.path.join(self.dir, n) for n in ("index.txt", "req.der", "resp.der"))
        _write(index, "V\t%s\t\t%s\tunknown\t/CN=pebble\n" % (until, hexs if len(hexs) % 2 == 0 else "0" + hexs))
        with open(req, "wb") as f:
            f.write(body)
        _run(OPENSSL, "ocsp", "-index", index, "-CA", self.inter_file, "-rsigner", self.inter_file, "-rkey",
             self.key_file, "-reqin", req, "-respout", resp, "-ndays", "1")
        with open(resp, "rb") as f:
            return f.read()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

"""One https request the way a test needs it: to 127.0.0.1:PORT with a chosen SNI and Host, verified against a
given root or not at all, optionally as an RSA-only TLS 1.2 client; returns the answer and the served leaf."""
import collections
import socket
import ssl

from cryptography import x509

Answer = collections.namedtuple("Answer", "status headers body cert")


def request(port, sni, host=None, path="/", method="GET", ca_pem=None, rsa_only=False):
    """Answer(status, headers with lower-cased names, body bytes, leaf certificate) of METHOD PATH with SNI sni
    and Host host (default: sni). ca_pem: verify the chain and the name against it; else nothing is verified.
    rsa_only: a TLS 1.2 client that can do nothing but ECDHE-RSA, so the server must use its RSA certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_pem:
        ctx.load_verify_locations(cadata=ca_pem)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if rsa_only:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=sni) as s:
            der = s.getpeercert(binary_form=True)
            s.sendall(("%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                       % (method, path, host or sni)).encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return Answer(int(lines[0].split()[1]), headers, body, x509.load_der_x509_certificate(der))

"""Checks of certificate files from the store with python3-cryptography and the openssl CLI."""
import os
import subprocess

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key


def load_chain(path):
    """The certificates of a PEM file, in order (Debian's python3-cryptography 38 has no loader for many)."""
    with open(path, "rb") as f:
        data = f.read()
    end = b"-----END CERTIFICATE-----"
    return [x509.load_pem_x509_certificate(part + end) for part in data.split(end) if b"-----BEGIN" in part]


def sans(cert):
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return sorted([str(n) for n in ext.get_values_for_type(x509.DNSName)] +
                  [str(ip) for ip in ext.get_values_for_type(x509.IPAddress)])


def serial_hex(cert):
    return "%x" % cert.serial_number


def verify_chain(pebble, chain_path, workdir):
    """openssl verify of the leaf against pebble's CURRENT root, the rest of the file as intermediates."""
    root = pebble.write_root(os.path.join(workdir, "root-check.pem"))
    chain = load_chain(chain_path)
    inter = os.path.join(workdir, "inter-check.pem")
    leaf = os.path.join(workdir, "leaf-check.pem")
    from cryptography.hazmat.primitives.serialization import Encoding
    with open(inter, "wb") as f:
        for c in chain[1:]:
            f.write(c.public_bytes(Encoding.PEM))
    with open(leaf, "wb") as f:
        f.write(chain[0].public_bytes(Encoding.PEM))
    res = subprocess.run(["openssl", "verify", "-CAfile", root, "-untrusted", inter, leaf],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert res.returncode == 0, res.stdout
    return chain


def check_md(cli, pebble, workdir, name, names, key_files):
    """The active set of an MD: for each (privkey, pubcert, kind) the chain verifies, covers the names and
    belongs to the key of the expected kind ("ec" or "rsa")."""
    md_dir = cli.md_dir(name)
    certs = []
    for key_file, cert_file, kind in key_files:
        chain = verify_chain(pebble, os.path.join(md_dir, cert_file), workdir)
        assert sans(chain[0]) == sorted(names)
        with open(os.path.join(md_dir, key_file), "rb") as f:
            key = load_pem_private_key(f.read(), None)
        assert isinstance(key, ec.EllipticCurvePrivateKey if kind == "ec" else rsa.RSAPrivateKey)
        assert key.public_key().public_numbers() == chain[0].public_key().public_numbers()
        assert os.stat(os.path.join(md_dir, key_file)).st_mode & 0o777 == 0o600
        certs.append(chain[0])
    return certs


# What tmp/ keeps between runs: the names cache of `mdomain add` and the state memo of httpd's start.
TMP_KEPT = ("md-names.cache", "md-state.memo")


def tmp_leftovers(store):
    """What is in tmp/ but the files it keeps (TMP_KEPT): [] when tmp/ is missing."""
    tmp = os.path.join(store, "tmp")
    return sorted(f for f in os.listdir(tmp) if f not in TMP_KEPT) if os.path.isdir(tmp) else []


def stray_files(store):
    """Files left where a finished store has none: staging/, tmp/ (but TMP_KEPT) and temp files anywhere."""
    out = []
    for group in ("staging", "tmp"):
        for root, dirs, files in os.walk(os.path.join(store, group)):
            out += [os.path.join(root, f) for f in files if not (group == "tmp" and f in TMP_KEPT)]
            out += [os.path.join(root, d) for d in dirs]
    for root, dirs, files in os.walk(store):
        out += [os.path.join(root, f) for f in files if ".tmp." in f]
    return out

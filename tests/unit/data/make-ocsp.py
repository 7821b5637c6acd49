#!/usr/bin/python3
# Writes tests/unit/data/ocsp/: a certificate of the e2e test CA (tests/e2e/rig/ocspca.py) with its issuer, real
# OCSP responses of `openssl ocsp` about it (good, revoked, by a delegated responder, by a wrong key), CRLs of that
# CA (DER, PEM, empty) and the store records mod_md keeps; the fuzz targets' seeds (tests/fuzz/make-seeds) are
# made from them. Run from the top directory; the files are valid for 90 days from then (the seeds use times
# relative to the certificate, so they keep working after).
import base64
import email.utils
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, 'tests/e2e')
from rig.ocspca import OcspCA  # noqa: E402

OUT = 'tests/unit/data/ocsp'


def copy(src, name):
    shutil.copyfile(src, os.path.join(OUT, name))


def query(ca, issued, out):
    subprocess.run(['openssl', 'ocsp', '-issuer', ca.inter_file, '-cert', issued.cert_file, '-url', ca.ocsp_url,
                    '-noverify', '-respout', out], check=True, capture_output=True)


def main():
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        ca = OcspCA(os.path.join(tmp, 'ca'))
        leaf = ca.issue('leaf', ['leaf.example.org'])
        other = ca.issue('other', ['other.example.org'], ocsp=False)
        copy(leaf.chain_file, 'leaf.chain.pem')
        copy(other.chain_file, 'other.chain.pem')
        try:
            for signer in ('ca', 'delegated', 'wrong'):
                ca.start_responder(signer=signer)
                query(ca, leaf, os.path.join(OUT, 'resp-%s.der' % signer))
            ca.publish_crl()
            copy(os.path.join(ca.dir, 'crl', 'intermediate.crl'), 'crl-empty.der')
            ca.revoke(other)
            ca.revoke(leaf)
            ca.start_responder(signer='ca')
            query(ca, leaf, os.path.join(OUT, 'resp-revoked.der'))
        finally:
            ca.stop()
        copy(os.path.join(ca.dir, 'crl', 'intermediate.crl'), 'crl.der')
        copy(os.path.join(ca.dir, 'intermediate.crl.pem'), 'crl.pem')
    with open(os.path.join(OUT, 'resp-ca.der'), 'rb') as f:
        der = f.read()
    now = email.utils.formatdate(usegmt=True)
    record = {'response': base64.urlsafe_b64encode(der).decode().rstrip('='), 'status': 'good',
              'valid': {'from': now, 'until': now}}
    with open(os.path.join(OUT, 'record-ocsp.json'), 'w') as f:
        json.dump(record, f, indent=2)
    crl_record = {'url': 'http://127.0.0.1:1/intermediate.crl', 'status': 'revoked', 'checked': now,
                  'revoked-at': now, 'reason': 1, 'crl-next-update': now, 'last-modified': now,
                  'ari-window': '2026-01-01T00:00:00Z/2026-01-02T00:00:00Z', 'cert-until': now}
    with open(os.path.join(OUT, 'record-crl.json'), 'w') as f:
        json.dump(crl_record, f, indent=2)


main()

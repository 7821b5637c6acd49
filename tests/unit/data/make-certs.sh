#!/bin/sh
# Makes the certificate fixtures of tests/unit/test_cert.c with the openssl CLI (run once; outputs are committed).
#
# Output in tests/unit/data/cert/:
#   root.pem, other-root.pem      two self-signed roots ("mdomain Test Root", "mdomain Other Root")
#   int.pem                       intermediate under root, its SKI is the RFC 9773 example key id
#   leaf.pem, leaf.key            leaf under int, serial 0x87654321 (RFC 9773 example), SANs DNS + IP,
#                                 AIA OCSP + caIssuers, two CRL DPs, must-staple, one embedded SCT
#   fullchain.pem                 leaf.pem + int.pem
#   expected.txt                  key=value facts computed here, independently of the library
set -eu

cd "$(dirname "$0")"
OUT=cert
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"

ARI_KEYID=69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4
LEAF_SERIAL=0x87654321

# --- the SCT (RFC 6962 section 3.2), encoded by hand -------------------------------------------------
SCT_LOG_ID=$(printf 'mdomain test log' | openssl dgst -sha256 -r | cut -d' ' -f1)
SCT_TS_MS=1700000000123
SCT_SIG=3006020101020101                       # a DER ECDSA-Sig-Value {r=1, s=1}
sct_body="00${SCT_LOG_ID}$(printf '%016x' "$SCT_TS_MS")0000""0403"
sct_body="${sct_body}$(printf '%04x' $((${#SCT_SIG} / 2)))${SCT_SIG}"
sct_len=$((${#sct_body} / 2))
sct_item="$(printf '%04x' "$sct_len")${sct_body}"
sct_list="$(printf '%04x' $((${#sct_item} / 2)))${sct_item}"
sct_ext="04$(printf '%02x' $((${#sct_list} / 2)))${sct_list}"   # extnValue: OCTET STRING (list)
sct_der=$(printf '%s' "$sct_ext" | sed 's/../&:/g; s/:$//')

# --- configuration --------------------------------------------------------------------------------
cat > "$TMP/ext.cnf" <<EOF
[ req ]
distinguished_name = dn

[ dn ]

[ root_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ int_ext ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = ${ARI_KEYID}
authorityKeyIdentifier = keyid:always

[ leaf_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:www.example.org, DNS:example.org, DNS:*.wild.example.org, IP:192.0.2.1, IP:2001:db8::1
authorityInfoAccess = OCSP;URI:http://ocsp.example.org/, caIssuers;URI:http://ca.example.org/int.der
crlDistributionPoints = URI:http://crl.example.org/int.crl, URI:http://crl2.example.org/int.crl
tlsfeature = status_request
1.3.6.1.4.1.11129.2.4.2 = DER:${sct_der}
EOF

gen_key() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

# --- certificates ---------------------------------------------------------------------------------
gen_key "$TMP/root.key"
openssl req -x509 -new -key "$TMP/root.key" -subj "/C=DE/O=mdomain test/CN=mdomain Test Root" \
    -days 36500 -sha256 -config "$TMP/ext.cnf" -extensions root_ext -set_serial 1 -out "$OUT/root.pem"

gen_key "$TMP/other.key"
openssl req -x509 -new -key "$TMP/other.key" -subj "/C=DE/O=mdomain test/CN=mdomain Other Root" \
    -days 36500 -sha256 -config "$TMP/ext.cnf" -extensions root_ext -set_serial 2 -out "$OUT/other-root.pem"

gen_key "$TMP/int.key"
openssl req -new -key "$TMP/int.key" -subj "/C=DE/O=mdomain test/CN=mdomain Test Intermediate" \
    -config "$TMP/ext.cnf" -out "$TMP/int.csr"
openssl x509 -req -in "$TMP/int.csr" -CA "$OUT/root.pem" -CAkey "$TMP/root.key" -days 18250 -sha256 \
    -extfile "$TMP/ext.cnf" -extensions int_ext -set_serial 0x5aa5c33c0ff1 -out "$OUT/int.pem" 2>/dev/null

gen_key "$OUT/leaf.key"
openssl req -new -key "$OUT/leaf.key" -subj "/C=DE/O=mdomain test/CN=www.example.org" \
    -config "$TMP/ext.cnf" -out "$TMP/leaf.csr"
openssl x509 -req -in "$TMP/leaf.csr" -CA "$OUT/int.pem" -CAkey "$TMP/int.key" -days 3650 -sha256 \
    -extfile "$TMP/ext.cnf" -extensions leaf_ext -set_serial "$LEAF_SERIAL" -out "$OUT/leaf.pem" 2>/dev/null
cat "$OUT/leaf.pem" "$OUT/int.pem" > "$OUT/fullchain.pem"

# --- facts, computed with the CLI and shell tools -------------------------------------------------
b64url() { xxd -r -p | basenc --base64url | tr -d '=\n'; }
# DER content octets of a positive INTEGER from its hex: even length, 00 in front when the high bit is set
int_content_hex() {
    h=$(printf '%s' "$1" | tr 'A-F' 'a-f')
    [ $((${#h} % 2)) -eq 1 ] && h="0$h"
    case "$h" in [89a-f]*) h="00$h";; esac
    printf '%s' "$h"
}
ari_id() {
    aki=$(openssl x509 -in "$1" -noout -ext authorityKeyIdentifier | sed -n 's/^ *\(keyid:\)\{0,1\}\([0-9A-Fa-f:]\{20,\}\).*$/\2/p' | tr -d ':')
    serial=$(openssl x509 -in "$1" -noout -serial | cut -d= -f2)
    printf '%s.%s' "$(printf '%s' "$aki" | b64url)" "$(int_content_hex "$serial" | b64url)"
}
epoch() { date -u -d "$(openssl x509 -in "$1" -noout "-$2" | cut -d= -f2)" +%s; }
fpr() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d ':' | tr 'A-F' 'a-f'; }

{
    echo "leaf.serial=$(openssl x509 -in "$OUT/leaf.pem" -noout -serial | cut -d= -f2)"
    echo "leaf.subject=$(openssl x509 -in "$OUT/leaf.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')"
    echo "leaf.issuer=$(openssl x509 -in "$OUT/leaf.pem" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')"
    echo "leaf.not_before=$(epoch "$OUT/leaf.pem" startdate)"
    echo "leaf.not_after=$(epoch "$OUT/leaf.pem" enddate)"
    echo "leaf.sha256=$(fpr "$OUT/leaf.pem")"
    echo "leaf.ari=$(ari_id "$OUT/leaf.pem")"
    echo "int.serial=$(openssl x509 -in "$OUT/int.pem" -noout -serial | cut -d= -f2)"
    echo "int.sha256=$(fpr "$OUT/int.pem")"
    echo "int.ari=$(ari_id "$OUT/int.pem")"
    echo "int.not_after=$(epoch "$OUT/int.pem" enddate)"
    echo "sct.log_id=$SCT_LOG_ID"
    echo "sct.timestamp_ms=$SCT_TS_MS"
} > "$OUT/expected.txt"

openssl verify -CAfile "$OUT/root.pem" -untrusted "$OUT/int.pem" "$OUT/leaf.pem" >/dev/null
cat "$OUT/expected.txt"

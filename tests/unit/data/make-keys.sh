#!/bin/sh
# Makes the key and JWS fixtures of tests/unit/test_pkey.c and test_jws.c with the openssl CLI (run once;
# outputs are committed). Expected values are computed here, independently of the library.
#
# Output in tests/unit/data/pkey/:
#   rsa2048-trad.pem       "BEGIN RSA PRIVATE KEY" (traditional), unencrypted
#   rsa2048-trad-enc.pem   the same format, encrypted with AES-256-CBC (Proc-Type header), pass below
#   ec256-trad.pem         "BEGIN EC PRIVATE KEY" (traditional), P-256, unencrypted
#   ec256-pkcs8-enc.pem    the P-256 key as "ENCRYPTED PRIVATE KEY" (PKCS#8, PBES2, AES-256-CBC), pass below
#   ec384-pkcs8.pem        "BEGIN PRIVATE KEY" (PKCS#8), P-384, unencrypted
#   ec256-xpad.pem         a P-256 key whose x coordinate starts with a zero byte (JWK padding)
# Output in tests/unit/data/jws/expected.txt: key=value lines
#   pass                   the passphrase of the encrypted fixtures
#   rsa_thumb, ec256_thumb, ec256_xpad_thumb
#                          RFC 7638 thumbprints of rsa2048-trad.pem, ec256-trad.pem and ec256-xpad.pem
#   rs256_protected, rs256_payload, rs256_sig
#                          an RS256 signature (deterministic: PKCS#1 v1.5) by rsa2048-trad.pem over
#                          base64url(rs256_protected) "." base64url(rs256_payload)
#   eab_jwk, eab_kid, eab_url, eab_hmac_b64, eab_protected, eab_sig
#                          an HS256 EAB signature: payload eab_jwk, key base64url-decoded eab_hmac_b64
#   keyauthz, dns01        an ACME key authorization and its dns-01 TXT value
set -eu

cd "$(dirname "$0")"
PASS=fixture-pass
b64url() { basenc --base64url -w0 | tr -d '='; }
thumb() { printf %s "$1" | openssl dgst -sha256 -binary | b64url; }

openssl genrsa -traditional -out pkey/rsa2048-trad.pem 2048 2>/dev/null
openssl rsa -in pkey/rsa2048-trad.pem -traditional -aes256 -passout "pass:$PASS" \
    -out pkey/rsa2048-trad-enc.pem 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out pkey/ec256-trad.pem
openssl pkcs8 -topk8 -v2 aes-256-cbc -in pkey/ec256-trad.pem -passout "pass:$PASS" -out pkey/ec256-pkcs8-enc.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out pkey/ec384-pkcs8.pem

# RSA JWK: n from the modulus in hex, e = 65537 = AQAB
N=$(openssl rsa -in pkey/rsa2048-trad.pem -noout -modulus | sed 's/^Modulus=//' | xxd -r -p | b64url)
RSA_JWK="{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"$N\"}"
# EC JWK: the uncompressed point 04||x||y is the last 65 bytes of the P-256 SubjectPublicKeyInfo
openssl ec -in pkey/ec256-trad.pem -pubout -outform DER 2>/dev/null | tail -c 64 > ec.xy
X=$(head -c 32 ec.xy | b64url)
Y=$(tail -c 32 ec.xy | b64url)
rm -f ec.xy
EC_JWK="{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"$X\",\"y\":\"$Y\"}"
# a P-256 key with a leading zero byte in x: try until one comes up (1 in 256)
while :; do
    openssl ecparam -name prime256v1 -genkey -noout -out pkey/ec256-xpad.pem
    openssl ec -in pkey/ec256-xpad.pem -pubout -outform DER 2>/dev/null | tail -c 64 > ec.xy
    [ "$(head -c 1 ec.xy | xxd -p)" = "00" ] && break
done
XPAD_JWK="{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"$(head -c 32 ec.xy | b64url)\",\"y\":\"$(tail -c 32 ec.xy | b64url)\"}"
rm -f ec.xy

RS_PROT='{"alg":"RS256","kid":"https://ca.test/acct/1","nonce":"nonce-1","url":"https://ca.test/new-order"}'
RS_PAYLOAD='{"identifiers":[{"type":"dns","value":"example.org"}]}'
RS_SIG=$(printf '%s.%s' "$(printf %s "$RS_PROT" | b64url)" "$(printf %s "$RS_PAYLOAD" | b64url)" \
         | openssl dgst -sha256 -sign pkey/rsa2048-trad.pem -binary | b64url)

EAB_KID=eab-kid-1
EAB_URL=https://ca.test/new-account
EAB_HEX=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
EAB_PROT="{\"alg\":\"HS256\",\"kid\":\"$EAB_KID\",\"url\":\"$EAB_URL\"}"
EAB_SIG=$(printf '%s.%s' "$(printf %s "$EAB_PROT" | b64url)" "$(printf %s "$RSA_JWK" | b64url)" \
          | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$EAB_HEX" -binary | b64url)

KEYAUTHZ="token-abc.$(thumb "$RSA_JWK")"
{
    echo "pass=$PASS"
    echo "rsa_thumb=$(thumb "$RSA_JWK")"
    echo "ec256_thumb=$(thumb "$EC_JWK")"
    echo "ec256_xpad_thumb=$(thumb "$XPAD_JWK")"
    echo "ec256_xpad_x=$(printf %s "$XPAD_JWK" | sed 's/.*"x":"\([^"]*\)".*/\1/')"
    echo "rs256_protected=$RS_PROT"
    echo "rs256_payload=$RS_PAYLOAD"
    echo "rs256_sig=$RS_SIG"
    echo "eab_jwk=$RSA_JWK"
    echo "eab_kid=$EAB_KID"
    echo "eab_url=$EAB_URL"
    echo "eab_hmac_b64=$(printf %s "$EAB_HEX" | xxd -r -p | b64url)"
    echo "eab_protected=$EAB_PROT"
    echo "eab_sig=$EAB_SIG"
    echo "keyauthz=$KEYAUTHZ"
    echo "dns01=$(printf %s "$KEYAUTHZ" | openssl dgst -sha256 -binary | b64url)"
} > jws/expected.txt

/* Private keys: specs (RSA 2048..8192, EC P-256/P-384), generation, PEM load/save, encrypted PEM. */
#ifndef MD_PKEY_H
#define MD_PKEY_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_file_info.h>
#include <openssl/evp.h>

struct md_json_t;

typedef enum { MD_PKEY_RSA, MD_PKEY_EC } md_pkey_type_t;

#define MD_PKEY_RSA_BITS_MIN 2048
#define MD_PKEY_RSA_BITS_MAX 8192
#define MD_PKEY_RSA_BITS_DEF 2048

typedef struct md_pkey_spec_t {
    md_pkey_type_t type;
    unsigned int bits;     /* RSA modulus size */
    const char *curve;     /* EC: the curve as configured and recorded in md.json ("secp256r1", "P-384", ...) */
} md_pkey_spec_t;

/* Parse a key spec from one or two words as mod_md's MDPrivateKeys takes them: "RSA" (2048), "RSA 3072",
 * "rsa4096", "secp256r1", "prime256v1", "P-256", "p256", "secp384r1", "P-384", "p384" (any case).
 * bits_or_null is the optional second word ("3072") for RSA. Errors say what is allowed in *perr.
 * A curve is kept as written (as mod_md does: its file names are that spelling, lowercased). */
apr_status_t md_pkey_spec_parse(md_pkey_spec_t **pspec, const char *word, const char *bits_or_null,
                                const char **perr, apr_pool_t *p);
/* MDPrivateKeys' words as one list of specs, as mod_md takes them: "RSA" may be followed by its size, "Default"
 * (RSA 2048) stands alone, each key type (RSA, each curve) once. On failure *perr has mod_md's words ("needs to
 * specify the private key type", "'Default' allows no other parameter", "must be 2048 or higher in order to be
 * considered safe", "two keys of type 'RSA' are not possible", the curve as written) and *pbad the word(s) at
 * fault ("RSA 1024"), or NULL when there were none. */
apr_status_t md_pkey_specs_parse(apr_array_header_t **ppks, const char **pbad, int argc, const char *const *argv,
                                 const char **perr, apr_pool_t *p);
/* Make an EC spec's curve a spelling mod_md accepts: kept when mod_md takes it as written ("secp256r1",
 * "prime256v1", "P-256", "secp384r1", "P-384"), else "secp256r1"/"secp384r1" (mod_md does not start with
 * "p256", "p-384" or "SECP256R1" in md.json). For a new store's records (the CLI's add); httpd records the
 * configured spelling, as mod_md does. */
void md_pkey_spec_for_mod_md(md_pkey_spec_t *spec);
/* The OpenSSL NID of an EC spec's curve, or NID_undef. */
int md_pkey_spec_curve_nid(const md_pkey_spec_t *spec);
/* The name mod_md's store uses in file names: "rsa" for RSA, the lowercased curve name for EC ("p-256" for
 * P-256). Only for names in the store; people are shown md_pkey_spec_label. */
const char *md_pkey_spec_name(const md_pkey_spec_t *spec, apr_pool_t *p);
/* The one label of a key type in everything people read (md-status, metrics, server-status, certificate-status,
 * the CLI's list/show, logs): "rsa" for RSA, "secp256r1" or "secp384r1" for EC, whatever the spelling. */
const char *md_pkey_spec_label(const md_pkey_spec_t *spec);
/* As in mod_md's md.json: {"type":"RSA","bits":2048} or {"type":"EC","curve":"secp256r1"}. */
struct md_json_t *md_pkey_spec_to_json(const md_pkey_spec_t *spec, apr_pool_t *p);
apr_status_t md_pkey_spec_from_json(md_pkey_spec_t **pspec, const struct md_json_t *json, apr_pool_t *p);
int md_pkey_spec_eq(const md_pkey_spec_t *a, const md_pkey_spec_t *b);

/* A private key, owned by the pool it was made in (freed with it). */
typedef struct md_pkey_t md_pkey_t;

apr_status_t md_pkey_gen(md_pkey_t **ppkey, const md_pkey_spec_t *spec, apr_pool_t *p);
/* Wrap an EVP_PKEY; the md_pkey_t takes ownership of the reference. */
md_pkey_t *md_pkey_wrap(EVP_PKEY *pkey, apr_pool_t *p);
EVP_PKEY *md_pkey_get_EVP_PKEY(const md_pkey_t *pkey);
md_pkey_type_t md_pkey_get_type(const md_pkey_t *pkey);
/* RSA: the modulus size in bits; EC: the curve's size in bits. */
unsigned int md_pkey_get_bits(const md_pkey_t *pkey);
/* A spec that describes this key (RSA with its bits, EC with its curve as "secp256r1"/"secp384r1"). */
md_pkey_spec_t *md_pkey_get_spec(const md_pkey_t *pkey, apr_pool_t *p);

/* PEM (PKCS#8). With pass (pass_len > 0) the PEM is encrypted: "ENCRYPTED PRIVATE KEY", AES-256-CBC,
 * the pass bytes used as the passphrase (as mod_md does with its 48-byte store key). The pass must be a random
 * key, not a word a person chose: PBKDF2 runs MD_PKEY_PBKDF2_ITER iterations only (docs/store.md). */
#define MD_PKEY_PBKDF2_ITER 1
apr_status_t md_pkey_to_pem(const char **ppem, apr_size_t *plen, const md_pkey_t *pkey,
                            const void *pass, apr_size_t pass_len, apr_pool_t *p);
/* Read a PEM private key (PKCS#8, traditional RSA/EC, encrypted or not). A wrong pass or bad data is
 * APR_EINVAL with the reason in *perr when given. */
apr_status_t md_pkey_from_pem(md_pkey_t **ppkey, const char *pem, apr_size_t len,
                              const void *pass, apr_size_t pass_len, const char **perr, apr_pool_t *p);
/* An "ENCRYPTED PRIVATE KEY" PEM (PKCS#8, as md_pkey_to_pem or mod_md write it with the pass) as the unencrypted
 * "PRIVATE KEY" PEM of the same PrivateKeyInfo, decrypted without decoding the key (no search through OpenSSL's
 * decoders and encoders): the bytes md_pkey_to_pem without pass writes for that key. For a PEM that was checked to
 * hold a usable key (the activation's copy). APR_ENOTIMPL: not such a PEM (the caller decodes and encodes the key);
 * APR_EINVAL: it does not decrypt with the pass. */
apr_status_t md_pkey_pem_decrypt(const char **ppem, apr_size_t *plen, const char *pem, apr_size_t len,
                                 const void *pass, apr_size_t pass_len, apr_pool_t *p);
/* Save atomically with mode perms (0600 for secrets); load from a file. */
apr_status_t md_pkey_fsave(const md_pkey_t *pkey, const char *fpath, const void *pass,
                           apr_size_t pass_len, apr_fileperms_t perms, apr_pool_t *p);
apr_status_t md_pkey_fload(md_pkey_t **ppkey, const char *fpath, const void *pass,
                           apr_size_t pass_len, const char **perr, apr_pool_t *p);

/* The public key as PEM (SubjectPublicKeyInfo). */
const char *md_pkey_public_pem(const md_pkey_t *pkey, apr_pool_t *p);

#endif

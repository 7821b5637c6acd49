/* Internals shared by the crypto files: IP literal detection, subjectAltName entries from names, chain tails. */
#ifndef MD_CRYPT_INT_H
#define MD_CRYPT_INT_H

#include <stddef.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <openssl/x509v3.h>

/* The raw address bytes when name is an IPv4 or IPv6 literal; returns their count (4 or 16), or 0. */
int md_crypt__ip_literal(unsigned char buf[16], const char *name);
/* SAN entries for names (array of const char*): iPAddress for IP literals, dNSName otherwise.
 * NULL on failure; free with GENERAL_NAMES_free. */
GENERAL_NAMES *md_crypt__sans_make(const apr_array_header_t *names);

/* A chain's tail (the PEM text after its first certificate) read before: its certificates pushed onto chain
 * (shared, each with a new reference), 1; 0 when it is not known. md_cert_tail.c */
int md_crypt__tail_take(apr_array_header_t *chain, const char *pem, size_t len, apr_pool_t *p);
/* Remember the tail pem that gave chain's certificates from index from on (all of its text read, no error). */
void md_crypt__tail_keep(const char *pem, size_t len, const apr_array_header_t *chain, int from);

#endif

/* Internals shared by the crypto files: IP literal detection and subjectAltName entries from names. */
#ifndef MD_CRYPT_INT_H
#define MD_CRYPT_INT_H

#include <apr_tables.h>
#include <openssl/x509v3.h>

/* The raw address bytes when name is an IPv4 or IPv6 literal; returns their count (4 or 16), or 0. */
int md_crypt__ip_literal(unsigned char buf[16], const char *name);
/* SAN entries for names (array of const char*): iPAddress for IP literals, dNSName otherwise.
 * NULL on failure; free with GENERAL_NAMES_free. */
GENERAL_NAMES *md_crypt__sans_make(const apr_array_header_t *names);

#endif

/* subjectAltName entries from names, shared by CSRs and the certificates we make. */
#include <string.h>
#include <arpa/inet.h>

#include "md_crypt_int.h"

int md_crypt__ip_literal(unsigned char buf[16], const char *name)
{
    if (inet_pton(AF_INET, name, buf) == 1) return 4;
    if (inet_pton(AF_INET6, name, buf) == 1) return 16;
    return 0;
}

static GENERAL_NAME *san_make(const char *name)
{
    unsigned char ip[16];
    int iplen = md_crypt__ip_literal(ip, name);
    GENERAL_NAME *gen = GENERAL_NAME_new();
    ASN1_STRING *value = NULL;

    if (!gen) return NULL;
    value = iplen ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
    if (!value) goto fail;
    if (iplen) {
        if (!ASN1_OCTET_STRING_set(value, ip, iplen)) goto fail;
    }
    else if (!ASN1_STRING_set(value, name, (int)strlen(name))) {
        goto fail;
    }
    GENERAL_NAME_set0_value(gen, iplen ? GEN_IPADD : GEN_DNS, value);
    return gen;
fail:
    ASN1_STRING_free(value);
    GENERAL_NAME_free(gen);
    return NULL;
}

GENERAL_NAMES *md_crypt__sans_make(const apr_array_header_t *names)
{
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    GENERAL_NAME *gen;
    int i;

    if (!gens) return NULL;
    for (i = 0; i < names->nelts; ++i) {
        gen = san_make(APR_ARRAY_IDX(names, i, const char *));
        if (!gen || !sk_GENERAL_NAME_push(gens, gen)) {
            GENERAL_NAME_free(gen);
            GENERAL_NAMES_free(gens);
            return NULL;
        }
    }
    return gens;
}

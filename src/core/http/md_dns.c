/* DNS look-ups over UDP to the system's name servers (resolv.conf, through libresolv) or one given server. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "md_dns.h"
#include "md_result.h"

typedef struct {
    int has_server;
    struct sockaddr_in server;
} resolver_t;

static int parse_server(struct sockaddr_in *sa, const char *server, apr_pool_t *p)
{
    char *host = apr_pstrdup(p, server), *colon = strrchr(host, ':'), *end;
    long port = 53;

    if (colon) {
        *colon = '\0';
        port = strtol(colon + 1, &end, 10);
        if (!colon[1] || *end || port <= 0 || port > 65535) return 0;
    }
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((unsigned short)port);
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1;
}

const char *md_dns_server_check(const char *server, apr_pool_t *p)
{
    struct sockaddr_in sa;

    if (!server || !parse_server(&sa, server, p)) {
        return apr_psprintf(p, "'%s' is no DNS server address (IPv4 or IPv4:PORT)", server ? server : "");
    }
    return NULL;
}

static int type_code(const char *type)
{
    if (!strcmp(type, "A")) return ns_t_a;
    if (!strcmp(type, "AAAA")) return ns_t_aaaa;
    if (!strcmp(type, "TXT")) return ns_t_txt;
    if (!strcmp(type, "CAA")) return 257;
    return -1;
}

/* One record's data as text. */
static const char *rdata_text(int code, const unsigned char *d, size_t len, apr_pool_t *p)
{
    char buf[INET6_ADDRSTRLEN], *s;
    size_t i, n, at = 0;

    switch (code) {
    case ns_t_a:
        return len == 4 && inet_ntop(AF_INET, d, buf, sizeof(buf)) ? apr_pstrdup(p, buf) : NULL;
    case ns_t_aaaa:
        return len == 16 && inet_ntop(AF_INET6, d, buf, sizeof(buf)) ? apr_pstrdup(p, buf) : NULL;
    case ns_t_txt:
        s = apr_palloc(p, len + 1);
        for (i = 0; i < len; i += n) {
            n = d[i++];
            if (i + n > len) return NULL;
            memcpy(s + at, d + i, n);
            at += n;
        }
        s[at] = '\0';
        return s;
    default:                      /* CAA: flags, tag length, tag, value */
        if (len < 2 || (size_t)d[1] + 2 > len) return NULL;
        return apr_psprintf(p, "%u %.*s %.*s", d[0], (int)d[1], (const char *)d + 2, (int)(len - 2 - d[1]),
                            (const char *)d + 2 + d[1]);
    }
}

/* One query over UDP to server: the answer's length, 0 when none came (2 s, twice). libresolv's own res_nquery is not
 * used: it takes an empty answer without "recursion available" (as test servers give) for a referral and fails. */
static int ask(const struct sockaddr_in *server, const unsigned char *query, int qlen, unsigned char *answer,
               int size)
{
    struct pollfd pfd;
    int fd, tries, n = 0;

    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    for (tries = 0; tries < 2 && n <= 0; ++tries) {
        if (sendto(fd, query, (size_t)qlen, 0, (const struct sockaddr *)server, sizeof(*server)) != qlen) break;
        pfd.fd = fd;
        pfd.events = POLLIN;
        while (poll(&pfd, 1, 2000) == 1) {
            n = (int)recv(fd, answer, (size_t)size, 0);
            if (n >= 12 && answer[0] == query[0] && answer[1] == query[1]) break;     /* our id */
            n = 0;
        }
    }
    close(fd);
    return n > 0 ? n : 0;
}

static apr_status_t resolver_query(void *baton, apr_array_header_t **panswers, const char *name, const char *type,
                                   md_result_t *result, apr_pool_t *p)
{
    resolver_t *r = baton;
    struct __res_state st;
    unsigned char query[512], answer[4096];
    apr_array_header_t *answers = apr_array_make(p, 2, sizeof(const char *));
    const char *text;
    ns_msg msg;
    ns_rr rr;
    int code = type_code(type), qlen, len = 0, i, rcode;

    *panswers = answers;
    if (code < 0) {
        md_result_printf(result, APR_EINVAL, "DNS type %s is not supported", type);
        return APR_EINVAL;
    }
    memset(&st, 0, sizeof(st));
    if (res_ninit(&st) != 0) {
        md_result_printf(result, APR_EGENERAL, "the resolver could not be set up");
        return APR_EGENERAL;
    }
    qlen = res_nmkquery(&st, ns_o_query, name, ns_c_in, code, NULL, 0, NULL, query, sizeof(query));
    if (qlen > 0 && r->has_server) len = ask(&r->server, query, qlen, answer, sizeof(answer));
    for (i = 0; qlen > 0 && !r->has_server && !len && i < st.nscount; ++i) {
        if (st.nsaddr_list[i].sin_family == AF_INET) len = ask(&st.nsaddr_list[i], query, qlen, answer,
                                                               sizeof(answer));
    }
    res_nclose(&st);
    if (qlen <= 0 || len <= 0 || ns_initparse(answer, len, &msg) != 0) {
        md_result_printf(result, APR_EGENERAL, "looking up %s %s in DNS failed (%s)", type, name,
                         qlen <= 0 ? "not a name" : len <= 0 ? "no answer" : "a damaged answer");
        return APR_EGENERAL;
    }
    rcode = ns_msg_getflag(msg, ns_f_rcode);
    if (rcode == ns_r_nxdomain) return APR_SUCCESS;
    if (rcode != ns_r_noerror) {
        md_result_printf(result, APR_EGENERAL, "looking up %s %s in DNS failed (response code %d)", type, name,
                         rcode);
        return APR_EGENERAL;
    }
    for (i = 0; i < ns_msg_count(msg, ns_s_an); ++i) {
        if (ns_parserr(&msg, ns_s_an, i, &rr) != 0) break;
        if ((int)ns_rr_type(rr) != code) continue;   /* the CNAMEs on the way */
        text = rdata_text(code, ns_rr_rdata(rr), ns_rr_rdlen(rr), p);
        if (text) APR_ARRAY_PUSH(answers, const char *) = text;
    }
    return APR_SUCCESS;
}

apr_status_t md_dns_resolver(md_dns_t **pdns, const char *server, apr_pool_t *p)
{
    resolver_t *r = apr_pcalloc(p, sizeof(*r));
    md_dns_t *dns = apr_pcalloc(p, sizeof(*dns));

    *pdns = NULL;
    if (server && *server) {
        if (!parse_server(&r->server, server, p)) return APR_EINVAL;
        r->has_server = 1;
    }
    dns->query = resolver_query;
    dns->baton = r;
    *pdns = dns;
    return APR_SUCCESS;
}

apr_status_t md_dns_query(const md_dns_t *dns, apr_array_header_t **panswers, const char *name, const char *type,
                          md_result_t *result, apr_pool_t *p)
{
    return dns->query(dns->baton, panswers, name, type, result, p);
}

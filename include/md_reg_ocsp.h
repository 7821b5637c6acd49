/* The registry's OCSP stapling and revocation checks: the certificates it staples (an MD's or, with MDStapleOthers,
 * any other), their responses fetched in the background and kept in the store, served in handshakes, the events
 * (ocsp-renewed, ocsp-errored, revoked), the CRL check of certificates without an OCSP URL, and the md-status view.
 * Both front-ends use it; neither decides anything about a response or a revocation itself. */
#ifndef MD_REG_OCSP_H
#define MD_REG_OCSP_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md.h"
#include "md_http.h"
#include "md_json.h"
#include "md_ocsp.h"
#include "md_reg.h"
#include "md_reg_renew.h"

struct md_result_t;

/* The first back-off after a failed fetch (doubled with each failure in a row, up to MD_REG_OCSP_RETRY_MAX). */
#define MD_REG_OCSP_RETRY_DEF apr_time_from_sec(5)
#define MD_REG_OCSP_RETRY_MAX apr_time_from_sec(3600)
/* ocsp-errored at most this often per certificate (as errored). */
#define MD_REG_OCSP_ERRORED_EVERY apr_time_from_sec(3600)
/* MDStaplingKeepResponse's default, MDStaplingRenewWindow's (33% of a response's validity). */
#define MD_REG_OCSP_KEEP_DEF apr_time_from_sec(7 * 86400)
/* How often a CRL is checked when nothing else asks for it. */
#define MD_REG_CRL_EVERY apr_time_from_sec(86400)

typedef struct md_reg_ocsp_opts_t {
    const md_timeslice_t *renew_window;  /* MDStaplingRenewWindow; NULL: 33% */
    apr_interval_time_t keep;            /* MDStaplingKeepResponse; < 0: the default */
    apr_interval_time_t retry_base;      /* 0: MD_REG_OCSP_RETRY_DEF */
    md_http_options_t http;              /* the proxy (MDHttpProxy) and timeouts */
    const md_http_backend_t *http_backend;   /* NULL: libcurl */
    const md_reg_renew_t *rn;            /* the events' dispatcher and programs; NULL: no events */
} md_reg_ocsp_opts_t;

/* The set of stapled certificates of one server generation. Made and primed before the server forks (priming
 * later, e.g. a certificate switched in at run time, is thread-safe too, as get is); renew runs in one thread (the
 * watchdog's). Handshake threads never allocate from p: the set's memory has an allocator of its own. */
typedef struct md_reg_ocsp_t md_reg_ocsp_t;

md_reg_ocsp_t *md_reg_ocsp_make(md_reg_t *reg, const md_reg_ocsp_opts_t *opts, apr_pool_t *p);
int md_reg_ocsp_count(md_reg_ocsp_t *ocsp);

/* Staple the certificate first in pem (its chain after it, the issuer first) under the caller's id, as a
 * certificate of md (NULL: of no MD, kept under ocsp/other/). The stored response, when it verifies, is served from
 * now on. APR_SUCCESS: stapled; APR_ENOENT: it has no OCSP URL; else it cannot be stapled; *pwhy says why (may be
 * NULL). Priming the same id again keeps the first (an MD's wins over "other"). */
apr_status_t md_reg_ocsp_prime(const char **pwhy, md_reg_ocsp_t *ocsp, const md_t *md, const char *id,
                               apr_size_t id_len, const char *pem, apr_pool_t *p);

/* The same for a certificate that is first in chain (md_cert_t*, its issuer second), e.g. one switched in at run
 * time; the set keeps copies of what it needs. Priming an id again also ends its retirement. */
apr_status_t md_reg_ocsp_prime_chain(const char **pwhy, md_reg_ocsp_t *ocsp, const md_t *md, const char *id,
                                     apr_size_t id_len, const apr_array_header_t *chain);

/* The certificates of the MD primed so far are no longer served (a renewed set replaced them): their responses are
 * still served when asked for, but the background pass stops renewing them (nor raises their events). */
void md_reg_ocsp_retire(md_reg_ocsp_t *ocsp, const char *md_name);

/* In a handshake: the response for id when one that verified is valid now (read again from the store when its
 * record changed: another process renewed it). Never asks a responder. Returns 1 when cb was called. */
typedef void md_reg_ocsp_copy_cb(const unsigned char *der, apr_size_t len, void *baton);
int md_reg_ocsp_get(md_reg_ocsp_t *ocsp, const char *id, apr_size_t id_len, md_reg_ocsp_copy_cb *cb, void *baton);

/* The background pass: every certificate without a response, or whose response entered the renew window, is asked
 * for at its responder (unless it backs off after failures), verified, stored and served; events ocsp-renewed
 * and ocsp-errored (at most hourly), ocsp/NAME/job.json as mod_md keeps it; a certificate of an MD found revoked
 * raises `revoked` (once) and its MD's name is added to revoked (const char*, may be NULL). Records no longer kept
 * are removed (at most hourly). Returns when the next pass is due. */
apr_time_t md_reg_ocsp_renew(md_reg_ocsp_t *ocsp, apr_array_header_t *revoked, apr_pool_t *p);

/* One certificate's OCSP status from the store: {status, valid {from, until}, renew-at, renewal (ocsp/NAME/job.json),
 * last-error (when the last attempt failed)}; without a stored response only renewal and last-error; NULL when
 * there is neither. window: MDStaplingRenewWindow (NULL: 33%). */
md_json_t *md_reg_ocsp_status(md_reg_t *reg, const char *md_name, const md_cert_t *cert,
                              const md_timeslice_t *window, apr_pool_t *p);

/* Fetch, verify and return the response for cert (issued by issuer) now, storing it under ocsp/md_name/ (the CLI's
 * `mdomain ocsp`). */
apr_status_t md_reg_ocsp_fetch_one(md_ocsp_resp_t **presp, md_reg_t *reg, const char *md_name,
                                   const md_cert_t *cert, const md_cert_t *issuer, const md_reg_ocsp_opts_t *opts,
                                   struct md_result_t *result, apr_pool_t *p);

/* For servers that staple from a file (nginx ssl_stapling_file, haproxy): the OCSP response of the MD's active
 * certificate of its first key type written (DER, atomically, 0644) to path, when force, or the file holds no
 * response for it that verifies now, or it entered the renew window (opts->renew_window). *presp the response
 * written or found (may be NULL), *pwritten whether it was written. */
apr_status_t md_reg_ocsp_install(md_ocsp_resp_t **presp, int *pwritten, md_reg_t *reg, const md_t *md,
                                 const char *path, const md_reg_ocsp_opts_t *opts, int force,
                                 struct md_result_t *result, apr_pool_t *p);

/* The CRL check of an MD's active certificates (the static files when cert_files is given): for each certificate
 * with a CRL distribution point and no OCSP URL, when a day passed since its last check, or the MD's ARI window
 * differs from the one at that check, or force: the CRL fetched (If-Modified-Since, at most MD_CRL_MAX_SIZE, cached
 * as ocsp/NAME/crl-ID.pem), verified against the issuer (the next certificate in the chain) and searched for the
 * serial (the cached CRL is asked for with If-Modified-Since, except when forced or the ARI window moved); the
 * outcome in ocsp/NAME/crl-ID.json. A certificate found revoked raises `revoked` (once). *prevoked:
 * how many of its certificates are recorded revoked (by CRL or OCSP); *pchecked how many were checked now (both may
 * be NULL). Failures of single checks are recorded and in result; the return is APR_SUCCESS unless none could be
 * made. */
apr_status_t md_reg_crl_check(int *prevoked, int *pchecked, md_reg_t *reg, const md_t *md,
                              const apr_array_header_t *cert_files, const md_reg_ocsp_opts_t *opts, int force,
                              struct md_result_t *result, apr_pool_t *p);

/* One certificate's CRL check from the store: {status, via "crl", url, checked, next-check, revoked-at, reason,
 * error}; NULL when it has none. */
md_json_t *md_reg_crl_status(md_reg_t *reg, const char *md_name, const md_cert_t *cert, apr_pool_t *p);

/* Raise the MD's event once per key (e.g. `revoked` per certificate serial), or again after every has passed (0:
 * never again); its state in STORE/events/NAME.json. env: extra environment (may be NULL). Returns 1 when raised. */
int md_reg_event_limited(md_reg_t *reg, const md_reg_renew_t *rn, const md_t *md, const char *event,
                         const char *key, apr_interval_time_t every, apr_table_t *env, apr_pool_t *p);

#endif

/* mod_mdomain's internal interfaces between its files: store setup, mod_ssl hand-over, 503 gate, http-01, watchdog. */
#ifndef MD_HTTPD_H
#define MD_HTTPD_H

#include <httpd.h>
#include <http_config.h>

#include "md_config.h"
#include "md_event.h"
#include "md_reg_live.h"
#include "md_responder.h"

/* store.c: open MDStoreDir, sync the configured MDs into domains/, activate complete staged sets, set
 * ownership so children can work in challenges/, staging/ and accounts/. Sets mc->store and m->usable. */
apr_status_t md_httpd_store_setup(server_rec *s, md_mod_conf_t *mc, apr_pool_t *ptemp);
/* store.c: sets activated while running are readable by the children (their group), keys excepted. */
void md_httpd_store_readers(md_mod_conf_t *mc);
/* store.c: MDStoreLocks, the lock on STORE/store.lock (fcntl) around the parent's store setup. Waits up to
 * mc->store_lock_wait; returns the descriptor to give to md_httpd_store_unlock, or -1 (locks off, or not obtained:
 * logged, startup goes on). */
#define MD_HTTPD_STORE_LOCK "store.lock"
int md_httpd_store_lock(server_rec *s, const md_mod_conf_t *mc, apr_pool_t *p);
void md_httpd_store_unlock(int fd);
/* store_memo.c: what the first configuration pass at startup prepared (m->usable, m->fallback_cert,
 * mc->fallback_key), kept for the second pass of the same process; recall is true when it applied (same
 * configuration) and has opened mc->store; either way the memo is used up. */
void md_httpd_startup_remember(server_rec *s, const md_mod_conf_t *mc, apr_pool_t *ptemp);
int md_httpd_startup_recall(server_rec *s, md_mod_conf_t *mc, apr_pool_t *ptemp);

/* certs.c: the fallback key (one for all MDs) and a self-signed certificate per MD without a usable set;
 * registers nothing, the hooks are added by md_httpd_certs_hooks. */
apr_status_t md_httpd_fallbacks_setup(server_rec *s, md_mod_conf_t *mc, apr_pool_t *ptemp);
void md_httpd_certs_hooks(void);

/* live.c: renewed certificates served without a restart. md_httpd_live_setup (post_config, the parent, before it
 * forks) makes the table the processes share and notes each MD's active files (m->live_id); the hooks put a
 * certificate callback on managed hosts' SSL_CTX (mod_ssl's init_server) and make each child's cache. The watchdog
 * announces a renewed set that may be served (md_httpd_live_staged), the parent publishes an MD's active set after
 * an activation (md_httpd_live_publish; APR_ENOSPC when it does not fit its slot); md_httpd_live_serves: this child
 * serves a set of its own for the MD (the 503 gate lets it pass); md_httpd_live_announced: a set was announced or
 * published for it since the start (MDRequireHttps redirects to it). Where a managed host staples (MDStapling, or
 * mod_ssl's SSLUseStapling) a status callback staples the live sets from this module's OCSP set (mc->ocsp): each
 * process primes a set's certificates when it loads it; md_httpd_live_sync, in the watchdog, loads what was
 * announced or published for MDs that staple (so the OCSP task fetches their responses at once, after
 * md_httpd_ocsp_poke) and returns how many sets it loaded. */
typedef struct md_httpd_live_t md_httpd_live_t;
apr_status_t md_httpd_live_setup(server_rec *s, md_mod_conf_t *mc, apr_pool_t *pconf);
void md_httpd_live_staged(const md_mod_conf_t *mc, const md_managed_t *m);
apr_status_t md_httpd_live_publish(const md_mod_conf_t *mc, const md_managed_t *m, const md_reg_live_set_t *set,
                                   apr_pool_t *p);
int md_httpd_live_serves(const md_mod_conf_t *mc, const md_managed_t *m);
int md_httpd_live_announced(const md_mod_conf_t *mc, const md_managed_t *m);
int md_httpd_live_sync(md_mod_conf_t *mc);
void md_httpd_live_hooks(void);

/* gate.c: 503 for requests to MDs without a usable certificate (challenge paths excepted). */
void md_httpd_gate_hooks(void);

/* challenge.c: answering http-01 from the store's challenges/ (md_challenge_http01_lookup); the responder writing
 * there, preferred for the names of this server's virtual hosts. */
void md_httpd_challenge_hooks(void);
md_responder_t *md_httpd_http01_responder(md_store_t *store, server_rec *base, apr_pool_t *p);
int md_httpd_is_local_name(server_rec *base, const char *name);
/* True when the server has name as ServerName or ServerAlias (wildcard aliases matching it). */
int md_httpd_server_has_name(const server_rec *s, const char *name);
#define MD_HTTPD_ACME_PATH "/.well-known/acme-challenge/"

/* redirect.c: MDRequireHttps (redirect of plain http to https, HSTS for "permanent"). */
void md_httpd_redirect_hooks(void);

/* challenge_tls.c: tls-alpn-01 through mod_ssl (acme-tls/1 in Protocols), the certificate and key from the store's
 * challenges/ (md_challenge_tlsalpn01_lookup); the responder writing there for md. */
void md_httpd_challenge_tls_hooks(void);
md_responder_t *md_httpd_tlsalpn01_responder(md_store_t *store, const md_t *md, apr_pool_t *p);
/* A warning for each MD whose MDCAChallenges names tls-alpn-01 when none of its names has acme-tls/1 (reach.c). */
void md_httpd_tlsalpn01_warn(server_rec *s, const md_mod_conf_t *mc, apr_pool_t *p);

/* reach.c: at post_config, whether httpd listens where MDPortMap says the public ports 80 and 443 arrive
 * (mc->reach_http, mc->reach_https; logged at info when log is set), and each MD's acme-tls/1 names (its names
 * whose https server allows the protocol, md->acme_tls_1, written to md.json); the registry chooses the challenge
 * types from them. md_httpd_challenges_check logs an error for each renewed MD left without a challenge type. */
struct md_reg_reach_t;
void md_httpd_reach_detect(server_rec *s, md_mod_conf_t *mc, int log, apr_pool_t *p);
void md_httpd_acme_tls_names(md_mod_conf_t *mc);
void md_httpd_reach_get(struct md_reg_reach_t *reach, const md_mod_conf_t *mc);
void md_httpd_challenges_check(server_rec *s, const md_mod_conf_t *mc, apr_pool_t *p);

/* status_handler.c, status_server.c: md-status and the server-status section; requests for the status
 * handlers (md-status, server-status) pass the 503 gate. */
void md_httpd_status_hooks(void);
int md_httpd_status_exempt(const request_rec *r);

/* drive.c: the watchdog task renewing MDs in one child (registered in post_config; also registers the OCSP task
 * on the same watchdog, mc->watchdog). md_httpd_drive_poke: drive the MD at once (from a task of that watchdog). */
apr_status_t md_httpd_drive_register(server_rec *s, md_mod_conf_t *mc, apr_pool_t *pconf);
void md_httpd_drive_poke(md_mod_conf_t *mc, const char *name);
/* child_end.c: work in a child's threads (watchdog tasks, renewal runs, status pages over all MDs) runs between enter
 * (0: the child is ending, do not start) and leave; once the MPM tells the child to stop, md_httpd_child_ending is
 * true (stop between MDs), and the child's end waits up to 5 s for the work under way, so that exit() does not pull
 * OpenSSL and APR's pools from under it. The flag's address is the runner's stop (md_reg_renew_t.stop). */
int md_httpd_child_enter(void);
void md_httpd_child_leave(void);
int md_httpd_child_ending(void);
int *md_httpd_child_ending_flag(void);
void md_httpd_child_end_hooks(void);

/* ocsp.c: OCSP stapling through mod_ssl's hooks (mc->ocsp, made by md_httpd_ocsp_setup in post_config before
 * mod_ssl primes its certificates) and the watchdog task renewing the responses and checking CRLs (MDRevocationCheck
 * for the watched MDs, when watched is non-zero). */
apr_status_t md_httpd_ocsp_setup(server_rec *s, md_mod_conf_t *mc, apr_pool_t *pconf);
apr_status_t md_httpd_ocsp_register(server_rec *s, md_mod_conf_t *mc, int watched, apr_pool_t *pconf);
void md_httpd_ocsp_hooks(void);
/* ocsp.c: from a task of the module's watchdog: when certificates were primed since the OCSP task's last pass (a set
 * switched live, live.c), the task runs at once and fetches their responses. */
void md_httpd_ocsp_poke(md_mod_conf_t *mc);

/* events.c: the module's side of the event dispatcher: its labels (directive names), time limits and logging to
 * the error log, the server-wide programs (MDMessageCmd, MDNotifyCmd); the hooks raise "installed" at startup
 * (in the parent, as root) for each MD activated by this start. */
void md_httpd_events_init(md_events_t *ev, md_event_programs_t *progs, server_rec *s, const md_mod_conf_t *mc);
void md_httpd_events_hooks(void);
/* "installed" for an MD whose staged set this process (the parent, as root) activated. */
void md_httpd_events_installed(server_rec *s, const md_mod_conf_t *mc, const md_managed_t *m, apr_pool_t *p);

/* monitor.c: the parent's part of live activation (httpd's monitor hook, as root, about every 10 s): staged sets
 * that may be activated become the active ones (md_reg_activate: MDActivationDelay, leases), "installed" follows, and
 * each MD whose active files changed (here, or by another server on the store) is published to the children. */
void md_httpd_monitor_hooks(void);

/* cert_status.c: the public /.httpd/certificate-status (MDCertificateStatus) of the request's host, on https;
 * md_httpd_cert_status is its JSON for one MD. metrics.c: the md-metrics handler (Prometheus text format). */
#define MD_HTTPD_CERT_STATUS_PATH "/.httpd/certificate-status"
void md_httpd_cert_status_hooks(void);
struct md_json_t *md_httpd_cert_status(const md_mod_conf_t *mc, const md_managed_t *m, apr_pool_t *p);
void md_httpd_metrics_hooks(void);

#endif

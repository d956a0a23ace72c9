// SPDX-License-Identifier: MIT
// The ACME worker: a process of its own (libcurl blocks; the front's event loop must not),
// forked by the parent and running under its own unprivileged uid. It keeps a certificate
// for the configured names in DATA/tls/acme/cert.pem (key and chain in one file, replaced
// atomically, so the parent never reads a key with another key's chain), renews it two
// thirds into its lifetime, backs off on errors, and reports in status.json.
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <sodium.h>

#include "acme.h"
#include "acme_status.h"
#include "acme_worker.h"
#include "config.h"
#include "datadir.h"
#include "dyndns.h"
#include "log.h"
#include "tlscert.h"
#include "util.h"

struct worker {
	const struct config *cfg;
	char dir[PATH_MAX];            // DATA/tls/acme
	char challenges[PATH_MAX + 16];
	char names[CONFIG_MAX_DOMAINS + 2][TLSCERT_MAX_NAME + 1];   // dyndns pair, acme_domain
	size_t n;
	char *ca;                      // --acme-ca, read before the uid switch
	size_t ca_len;
	mbedtls_pk_context account;
	struct acme_status st;
	bool dyn;                      // a dynamic DNS name is configured
	struct dyndns dd;
	char dyn_host[TLSCERT_MAX_NAME + 1];   // NAME.ZONE
	char *dyn_ca;
	bool registered;
	int64_t next_update;
	struct dyndns_ping ping;       // fd -1: no ping
	int64_t next_ping;             // ms
};

bool acme_worker_wanted(const struct config *c)
{
	return (c->dyndns_url[0] && c->dyndns_name[0]) || (c->acme_directory[0] && c->nacme_domain);
}

// DNS-01 through the dynamic DNS service, for the name it holds (and its wildcard).
static bool dns_covers(void *arg, const char *identifier)
{
	struct worker *w = arg;
	return w->dyn && strcmp(identifier, w->dyn_host) == 0;
}

static int dns_set(void *arg, const char *identifier, const char *value, char *err, size_t errsz)
{
	struct worker *w = arg;
	(void)identifier;
	if (dyndns_txt(&w->dd, value) == 0)
		return 0;
	snprintf(err, errsz, "%s", w->dd.err);
	return -1;
}

// The account key: loaded, or made once and kept (the account is bound to it).
static int account_key(struct worker *w)
{
	char path[PATH_MAX + 32];
	util_path(path, sizeof(path), "%s/account.key", w->dir);
	mbedtls_pk_init(&w->account);
	if (mbedtls_pk_parse_keyfile(&w->account, path, NULL) == 0)
		return 0;
	if (access(path, F_OK) == 0) {
		log_err("acme: the account key %s cannot be used; move it away to make a new one", path);
		return -1;
	}
	mbedtls_pk_free(&w->account);
	mbedtls_pk_init(&w->account);
	unsigned char pem[TLSCERT_PEM_MAX];
	if (tlscert_gen_key(&w->account) < 0 ||
	    mbedtls_pk_write_key_pem(&w->account, pem, sizeof(pem)) != 0 ||
	    tlscert_write_file(path, pem, strlen((char *)pem), 0600) < 0) {
		log_err("acme: cannot make the account key %s: %s", path, strerror(errno));
		return -1;
	}
	sodium_memzero(pem, sizeof(pem));
	log_info("acme: made an account key (%s)", path);
	return 0;
}

static int64_t tm_unix(const mbedtls_x509_time *t)
{
	struct tm tm = {.tm_year = t->year - 1900, .tm_mon = t->mon - 1, .tm_mday = t->day,
			.tm_hour = t->hour, .tm_min = t->min, .tm_sec = t->sec};
	return (int64_t)timegm(&tm);
}

// The installed certificate, when it covers every name: its validity period. 0 / -1.
static int installed(struct worker *w, int64_t *from, int64_t *to)
{
	char path[PATH_MAX + 32];
	util_path(path, sizeof(path), "%s/cert.pem", w->dir);
	mbedtls_x509_crt crt;
	mbedtls_x509_crt_init(&crt);
	int r = mbedtls_x509_crt_parse_file(&crt, path) >= 0 && crt.raw.p ? 0 : -1;
	for (size_t i = 0; r == 0 && i < w->n; i++)
		if (!tlscert_covers(&crt, w->names[i]))
			r = -1;
	if (r == 0) {
		*from = tm_unix(&crt.valid_from);
		*to = tm_unix(&crt.valid_to);
	}
	mbedtls_x509_crt_free(&crt);
	return r;
}

// Checks what the CA sent (a chain whose leaf is for our key and names) and installs
// key + chain in one atomic rename.
static int install(struct worker *w, mbedtls_pk_context *key, struct buf *chain, char *err,
		   size_t errsz)
{
	mbedtls_x509_crt crt;
	mbedtls_x509_crt_init(&crt);
	unsigned char kpem[TLSCERT_PEM_MAX];
	struct buf file;
	buf_init(&file);
	const char *pem = buf_cstr(chain);
	int r = -1;
	if (!pem || mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem, chain->len + 1) < 0 ||
	    !crt.raw.p)
		snprintf(err, errsz, "the CA sent a certificate chain that does not parse");
	else if (mbedtls_pk_check_pair(&crt.pk, key) != 0)
		snprintf(err, errsz, "the CA's certificate is not for our key");
	else if (mbedtls_pk_write_key_pem(key, kpem, sizeof(kpem)) != 0)
		snprintf(err, errsz, "cannot write the key");
	else
		r = 0;
	for (size_t i = 0; r == 0 && i < w->n; i++)
		if (!tlscert_covers(&crt, w->names[i])) {
			snprintf(err, errsz, "the CA's certificate does not cover %s", w->names[i]);
			r = -1;
		}
	char path[PATH_MAX + 32];
	util_path(path, sizeof(path), "%s/cert.pem", w->dir);
	if (r == 0) {
		buf_puts(&file, (char *)kpem);
		buf_append(&file, chain->data, chain->len);
		if (file.oom || tlscert_write_file(path, file.data, file.len, 0600) < 0) {
			snprintf(err, errsz, "cannot write %.300s: %s", path, strerror(errno));
			r = -1;
		}
	}
	sodium_memzero(kpem, sizeof(kpem));
	if (file.data)
		sodium_memzero(file.data, file.len);
	buf_free(&file);
	mbedtls_x509_crt_free(&crt);
	return r;
}

// One attempt at a new certificate. 0 / -1 with err.
static int obtain(struct worker *w, char *err, size_t errsz)
{
	struct acme a = {.account = &w->account, .ca_pem = w->ca, .ca_len = w->ca_len,
			 .challenge_dir = w->challenges, .dns_covers = dns_covers, .dns_set = dns_set,
			 .dns_arg = w};
	mbedtls_pk_context key;
	mbedtls_pk_init(&key);
	struct buf chain;
	buf_init(&chain);
	int r = acme_open(&a, w->cfg->acme_directory);
	if (r == 0)
		r = acme_account(&a);
	// A fresh key for every certificate: a renewal never extends an old key's life.
	if (r == 0 && tlscert_gen_key(&key) < 0) {
		snprintf(a.err, sizeof(a.err), "cannot make a key");
		r = -1;
	}
	if (r == 0)
		r = acme_issue(&a, w->names, w->n, &key, &chain);
	if (r < 0)
		snprintf(err, errsz, "%s", a.err);
	else
		r = install(w, &key, &chain, err, errsz);
	acme_close(&a);
	buf_free(&chain);
	mbedtls_pk_free(&key);
	return r;
}

static void status(struct worker *w, const char *state, const char *error, int64_t not_after,
		   int64_t next)
{
	snprintf(w->st.state, sizeof(w->st.state), "%s", state);
	snprintf(w->st.error, sizeof(w->st.error), "%s", error);
	w->st.not_after = not_after;
	w->st.next = next;
	if (acme_status_write(w->cfg->data, &w->st) < 0)
		log_err("acme: cannot write status.json: %s", strerror(errno));
}

// Registers (once per run) and sends the address (every dyndns_update_interval). 0 / -1.
static int dyndns_step(struct worker *w, int64_t now, char *err, size_t errsz)
{
	if (!w->dyn || now < w->next_update)
		return 0;
	if (!w->registered && dyndns_register(&w->dd) < 0) {
		snprintf(err, errsz, "dynamic DNS: %.480s", w->dd.err);
		return -1;
	}
	if (!w->registered)
		log_info("acme: the dynamic DNS service holds %s for this box", w->dyn_host);
	w->registered = true;
	if (dyndns_update(&w->dd) < 0) {
		snprintf(err, errsz, "dynamic DNS: %.480s", w->dd.err);
		return -1;
	}
	w->next_update = now + w->cfg->dyndns_update_interval;
	return 0;
}

// Sleeps secs; with the ping on, pings the service meanwhile and ends early when it says
// the address changed: the next step then updates it.
static void pause_for(struct worker *w, int64_t secs)
{
	if (w->ping.fd < 0) {
		sleep((unsigned)secs);
		return;
	}
	int64_t end = util_now_ms() + secs * 1000;
	for (int64_t now; (now = util_now_ms()) < end;) {
		if (now >= w->next_ping) {
			dyndns_ping_send(&w->ping);
			w->next_ping = now + w->cfg->dyndns_ping_interval * 1000;
		}
		int64_t until = end < w->next_ping ? end : w->next_ping;
		if (dyndns_ping_wait(&w->ping, (int)(until - now)) == 1) {
			log_info("acme: the dynamic DNS service sees this box at a new address: "
				 "updating it");
			w->next_update = 0;
			return;
		}
	}
}

static void run(struct worker *w)
{
	unsigned failures = 0;
	char err[512] = "";
	bool acme = w->cfg->acme_directory[0] && w->n;
	for (;;) {
		int64_t from = 0, to = 0, now = util_unix_now();
		bool have = acme && installed(w, &from, &to) == 0;
		int64_t renew = have ? acme_renew_at(from, to) : 0;
		int r = dyndns_step(w, now, err, sizeof(err));
		if (r == 0 && (!acme || (have && now < renew))) {
			int64_t next = acme ? renew : now + 3600;
			if (w->dyn && w->next_update < next)
				next = w->next_update;
			err[0] = '\0';
			status(w, acme ? "valid" : "registered", err, to, next);
			failures = 0;
			// Wake at least hourly: the clock may jump, the file may be replaced.
			pause_for(w, next - now < 1 ? 1 : next - now < 3600 ? next - now : 3600);
			continue;
		}
		if (r == 0) {
			status(w, have ? "renewing" : "ordering", err, have ? to : 0, now);
			log_info("acme: asking %s for a certificate for %s", w->cfg->acme_directory,
				 w->st.names);
			if ((r = obtain(w, err, sizeof(err))) == 0) {
				log_info("acme: certificate installed for %s", w->st.names);
				err[0] = '\0';
				failures = 0;
				continue;
			}
		}
		long wait = acme_backoff(++failures, w->cfg->acme_retry_max);
		log_err("acme: %s (next try in %lds)", err, wait);
		// The old certificate, if any, stays installed and served.
		status(w, "error", err, have ? to : 0, now + wait);
		sleep((unsigned)wait);
	}
}

int acme_worker_main(const struct config *c)
{
	static struct worker w;
	w.cfg = c;
	util_path(w.dir, sizeof(w.dir), "%s/tls/acme", c->data);
	util_path(w.challenges, sizeof(w.challenges), "%s/challenges", w.dir);
	if ((w.dyn = c->dyndns_url[0] && c->dyndns_name[0])) {
		// NAME.ZONE and *.NAME.ZONE: a wildcard is only ever proved over DNS-01.
		// config.c keeps the zone short enough for "*." NAME "." ZONE to be a DNS name.
		snprintf(w.dyn_host, sizeof(w.dyn_host), "%.20s.%.230s", c->dyndns_name, c->dyndns_zone);
		snprintf(w.names[w.n++], TLSCERT_MAX_NAME + 1, "%.251s", w.dyn_host);
		snprintf(w.names[w.n++], TLSCERT_MAX_NAME + 1, "*.%.251s", w.dyn_host);
		w.dd = (struct dyndns){.url = c->dyndns_url, .name = c->dyndns_name,
				       .zone = c->dyndns_zone, .email = c->dyndns_email};
	}
	for (size_t i = 0; i < c->nacme_domain; i++)
		snprintf(w.names[w.n++], TLSCERT_MAX_NAME + 1, "%s", c->acme_domain[i]);
	for (size_t i = 0; i < w.n; i++)
		snprintf(w.st.names + strlen(w.st.names), sizeof(w.st.names) - strlen(w.st.names),
			 "%s%s", i ? " " : "", w.names[i]);
	prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (c->acme_ca[0] && !(w.ca = tlscert_read_file(c->acme_ca, 1 << 20, &w.ca_len))) {
		log_err("acme: cannot read the CA file %s: %s", c->acme_ca, strerror(errno));
		return 1;
	}
	if (w.dyn && c->dyndns_ca[0] &&
	    !(w.dyn_ca = tlscert_read_file(c->dyndns_ca, 1 << 20, &w.dd.ca_len))) {
		log_err("acme: cannot read the CA file %s: %s", c->dyndns_ca, strerror(errno));
		return 1;
	}
	w.dd.ca_pem = w.dyn_ca;
	if (datadir_become_acme(c) < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    account_key(&w) < 0)
		return 1;
	if (w.dyn && dyndns_keys(&w.dd, w.dir) < 0) {
		log_err("acme: %s", w.dd.err);
		return 1;
	}
	w.ping.fd = -1;
	char why[300];
	if (w.dyn && c->dyndns_ping_port &&
	    dyndns_ping_open(&w.ping, c->dyndns_url, c->dyndns_ping_port, c->dyndns_name, why,
			     sizeof(why)) < 0)
		log_warn("acme: no dynamic DNS ping (the address is still sent every %lds): %s",
			 c->dyndns_update_interval, why);
	run(&w);
	return 0;
}

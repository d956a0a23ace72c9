// SPDX-License-Identifier: MIT
// The wizard's HTTPS step, parent side: checks in child processes, and choices applied
// to the ACME worker's configuration.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "config.h"
#include "https_check.h"
#include "parent_https.h"
#include "util.h"

struct check_report {
	int32_t status;
	char text[512];
};

int parent_https_check_start(const struct config *c, const struct priv_msg *m,
			     struct https_check *k, char *err, size_t errsz)
{
	bool name = m->action != HTTPS_CHECK_PORT80;
	if (m->action < HTTPS_CHECK_NAME || m->action > HTTPS_CHECK_RECOVER) {
		snprintf(err, errsz, "unknown check");
		return -1;
	}
	// HTTPS_CHECK_RECOVER's text is "NAME TOKEN": split here, once, for the check.
	char label[sizeof(m->text)];
	const char *token = NULL;
	snprintf(label, sizeof(label), "%s", m->text);
	if (m->action == HTTPS_CHECK_RECOVER) {
		char *sp = strchr(label, ' ');
		if (!sp || !https_token_ok(sp + 1)) {
			snprintf(err, errsz, "a recovery token is 1 to 64 of A-Z, a-z, 0-9, '_' and '-'");
			return -1;
		}
		*sp = '\0';
		token = sp + 1;
	}
	if (name ? !config_dynname_ok(label) : !config_domain_ok(label)) {
		snprintf(err, errsz, name ? "'%.40s' is not 1 to 20 of a-z, 0-9 and '-'"
					  : "'%.260s' is not a DNS name", label);
		return -1;
	}
	if (name ? !c->dyndns_url[0] || !c->dyndns_zone[0] : !c->acme_directory[0]) {
		snprintf(err, errsz, name ? "no dynamic DNS service is configured (dyndns_url, "
					    "dyndns_zone)" : "no certificate authority is "
					    "configured (acme_directory)");
		return -1;
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, errsz, "cannot start the check: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errsz, "cannot start the check: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		int keep[] = {p[1]};
		util_close_except(keep, 1);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigset_t all;
		sigfillset(&all);
		sigprocmask(SIG_UNBLOCK, &all, NULL);
		signal(SIGPIPE, SIG_IGN);
		struct check_report rep = {0};
		https_check_run(c, m->action, label, token, &rep.status, rep.text, sizeof(rep.text));
		_exit(write(p[1], &rep, sizeof(rep)) == (ssize_t)sizeof(rep) ? 0 : 1);
	}
	close(p[1]);
	*k = (struct https_check){.pid = pid, .req_id = m->id, .report = p[0]};
	return 0;
}

void parent_https_check_finish(struct https_check *k, struct priv_msg *reply)
{
	struct check_report rep = {0};
	ssize_t n = read(k->report, &rep, sizeof(rep));
	close(k->report);
	rep.text[sizeof(rep.text) - 1] = '\0';
	if (n != (ssize_t)sizeof(rep)) {
		rep.status = EIO;
		snprintf(rep.text, sizeof(rep.text), "the check ended without an answer");
	}
	*reply = (struct priv_msg){.type = PRIV_REPLY, .id = k->req_id, .status = rep.status};
	snprintf(reply->text, sizeof(reply->text), "%s", rep.text);
	*k = (struct https_check){0};
}

int parent_https_apply(const struct config *base, struct config *out, int mode,
		       const char *name, char *err, size_t errsz)
{
	*out = *base;
	if (mode == HTTPS_MODE_LAN) {
		out->nacme_domain = 0;
		out->dyndns_name[0] = '\0';
		return 0;
	}
	if (!base->acme_directory[0]) {
		snprintf(err, errsz, "no certificate authority is configured (acme_directory)");
		return -1;
	}
	if (mode == HTTPS_MODE_DYNDNS) {
		if (!base->dyndns_url[0] || !base->dyndns_zone[0] || !config_dynname_ok(name)) {
			snprintf(err, errsz, "no dynamic DNS service is configured, or the name is "
				 "not 1 to 20 of a-z, 0-9 and '-'");
			return -1;
		}
		snprintf(out->dyndns_name, sizeof(out->dyndns_name), "%s", name);
		out->nacme_domain = 0;
		return 0;
	}
	if (mode == HTTPS_MODE_DOMAIN && config_domain_ok(name)) {
		snprintf(out->acme_domain[0], sizeof(out->acme_domain[0]), "%s", name);
		out->nacme_domain = 1;
		out->dyndns_name[0] = '\0';
		return 0;
	}
	snprintf(err, errsz, "not a choice: mode %d, name '%.260s'", mode, name);
	return -1;
}

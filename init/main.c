// SPDX-License-Identifier: MIT
// silo-init: the appliance's PID 1. Sets the box up, supervises silo, reaps orphans, and
// shuts down in order on a signal or the power button. It never exits.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "console.h"
#include "disk.h"
#include "entropy.h"
#include "fwcfg.h"
#include "initconf.h"
#include "modules.h"
#include "mounts.h"
#include "net.h"
#include "osboot.h"
#include "power.h"
#include "shutdown.h"
#include "status.h"
#include "supervise.h"
#include "util.h"
#include "version.h"

#define CONF_FILE "/etc/silo/init.conf"
#define MODULES_FILE "/etc/silo/modules"
#define SILO_CONF "/etc/silo/silo.conf"
// silo's settings with qemu's additions (fw_cfg), and the files they name.
#define RUN_DIR "/run/silo"
#define RUN_SILO_CONF RUN_DIR "/silo.conf"
#define RUN_FILES RUN_DIR "/file"
#define DATA_DIR "/var/lib/silo"
#define MAX_POWER 4

static void load_conf(struct initconf *c)
{
	initconf_defaults(c);
	char text[INITCONF_MAX_BYTES + 1], err[256];
	int fd = open(CONF_FILE, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, text, sizeof(text)) : -1;
	if (fd >= 0)
		close(fd);
	if (n < 0) {
		console_errno("%s (using the defaults)", CONF_FILE);
		return;
	}
	if (initconf_parse(c, text, (size_t)n, err, sizeof(err)) < 0) {
		console_log("%s: %s (using the defaults)", CONF_FILE, err);
		initconf_defaults(c);
	}
}

static int signals_fd(void)
{
	sigset_t set;
	sigemptyset(&set);
	int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGPWR, SIGUSR1, SIGUSR2, SIGHUP };
	for (size_t i = 0; i < ARRAY_LEN(sigs); i++)
		sigaddset(&set, sigs[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

// SIGTERM, SIGPWR and SIGUSR2 power off; SIGINT (Ctrl-Alt-Del) and SIGUSR1 reboot.
static void handle_signals(int sfd, struct supervisor *sv)
{
	struct signalfd_siginfo si;
	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGPWR:
		case SIGUSR2:
			shutdown_now(sv, SHUTDOWN_POWEROFF);
		case SIGINT:
		case SIGUSR1:
			shutdown_now(sv, SHUTDOWN_REBOOT);
		default:
			break;
		}
	}
	// Reap until waitpid says there is nothing more (tini's rule): orphans and silo alike.
	int status;
	pid_t p;
	while ((p = waitpid(-1, &status, WNOHANG)) > 0)
		supervise_reaped(sv, p, status);
}

// The box itself: mounts, modules, network, data. Returns why silo cannot run, or NULL;
// *silo_conf is RUN_SILO_CONF when qemu added settings for silo, else NULL.
static const char *set_up(struct initconf *c, struct net *n, const char **silo_conf)
{
	const char *why = NULL;
	if (mounts_move_root() < 0 || mounts_basic() < 0)
		why = "the base file systems could not be mounted (see the console)";
	console_open();
	console_log("silo-init %s starting", SILO_VERSION);
	load_conf(c);
	int failed = modules_load_list(MODULES_FILE);
	if (failed)
		console_log("%d kernel modules did not load", failed);
	fwcfg_apply(c);
	*silo_conf = NULL;
	int r = mkdir(RUN_DIR, 0755) < 0 && errno != EEXIST
			? -1
			: fwcfg_silo_conf(FWCFG_DIR, SILO_CONF, RUN_SILO_CONF, RUN_FILES);
	if (r > 0)
		*silo_conf = RUN_SILO_CONF;
	else if (r < 0)
		why = why ? why : "the settings qemu handed in (fw_cfg) cannot be used (see above)";
	if (sethostname(c->hostname, strlen(c->hostname)) < 0)
		console_errno("sethostname");
	net_start(n, c);
	if (disk_mount_data(c->data_label, DATA_DIR) < 0)
		why = why ? why : "the data partition is missing or cannot be mounted";
	else
		entropy_seed(DATA_DIR "/.random-seed");
	mounts_root_readonly();
	return why;
}

int main(void)
{
	if (getpid() != 1) {
		fprintf(stderr, "silo-init: runs only as PID 1 (the appliance's init)\n");
		return 1;
	}
	console_open();
	int sfd = signals_fd();
	// Ctrl-Alt-Del becomes SIGINT rather than an instant reboot.
	reboot(RB_DISABLE_CAD);

	struct initconf conf;
	struct net net;
	const char *silo_conf;
	const char *why = set_up(&conf, &net, &silo_conf);
	int power[MAX_POWER];
	int npower = power_open(power, MAX_POWER);

	char ip[64], url[300];
	net_address(&net, ip, sizeof(ip));
	// The appliance serves HTTPS (config/appliance.conf's listen_tls); port 80 redirects.
	if (conf.base_url[0])
		snprintf(url, sizeof(url), "%s", conf.base_url);
	else
		snprintf(url, sizeof(url), "https://%s", ip[0] ? ip : "localhost");
	struct osboot os;
	osboot_start(&os, conf.trial_timeout_s);

	struct supervisor sv = { .base_url = url, .config = silo_conf, .backoff_s = 1,
				 .max_s = conf.restart_max_s, .ready_fd = -1 };
	int status_fd = -1;
	if (why) {
		console_banner(ip, url, NULL);
		console_log("silo cannot start: %s", why);
	} else {
		supervise_start(&sv);
	}

	for (;;) {
		if (!sv.pid && status_fd < 0)
			status_fd = status_listen();
		struct pollfd fds[3 + MAX_POWER];
		int nfds = 0;
		fds[nfds++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		fds[nfds++] = (struct pollfd){ .fd = status_fd, .events = POLLIN };
		fds[nfds++] = (struct pollfd){ .fd = sv.ready_fd, .events = POLLIN };
		for (int i = 0; i < npower; i++)
			fds[nfds++] = (struct pollfd){ .fd = power[i], .events = POLLIN };
		int64_t now = util_now_ms(), next = now + 60000;
		if (sv.restart_ms && !why && sv.restart_ms < next)
			next = sv.restart_ms;
		if (net.next_ms && net.next_ms < next)
			next = net.next_ms;
		if (os.trial && os.deadline_ms < next)
			next = os.deadline_ms;
		int r = poll(fds, (nfds_t)nfds, next > now ? (int)(next - now) : 0);
		if (r < 0 && errno != EINTR)
			console_errno("poll");
		handle_signals(sfd, &sv);
		// The summary comes once silo serves: it then knows its certificate.
		if (sv.ready_fd >= 0 && fds[2].revents && supervise_ready(&sv)) {
			console_log("silo is serving");
			net_address(&net, ip, sizeof(ip));
			console_banner(ip, url, sv.tls_fp);
			osboot_serving(&os);
		}
		for (int i = 0; i < npower; i++)
			if (fds[3 + i].revents && power_pressed(power[i]) == 1)
				shutdown_now(&sv, SHUTDOWN_POWEROFF);
		if (status_fd >= 0 && fds[1].revents)
			status_answer(status_fd, why ? why : "it stopped and is being restarted");
		now = util_now_ms();
		if (!sv.serving && osboot_give_up(&os, why != NULL, sv.early_exits, now))
			shutdown_now(&sv, SHUTDOWN_REBOOT);
		net_tick(&net, &conf, now);
		if (!why && !sv.pid && sv.restart_ms && now >= sv.restart_ms) {
			if (status_fd >= 0)
				close(status_fd);
			status_fd = -1;
			supervise_start(&sv);
		}
	}
}

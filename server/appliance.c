// SPDX-License-Identifier: MIT
// Running as the appliance: the pipe to silo-init and the signals it understands.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "appliance.h"
#include "util.h"

static int init_fd = -1;
static bool active;

bool appliance_detect(void)
{
	const char *v = getenv(APPLIANCE_ENV);
	if (!v)
		return false;
	char *end;
	errno = 0;
	long fd = strtol(v, &end, 10);
	unsetenv(APPLIANCE_ENV); // grains and helpers never see it
	struct stat st;
	if (errno || end == v || *end || fd < 3 || fd > 1024 || fstat((int)fd, &st) < 0 ||
	    !S_ISFIFO(st.st_mode) || getppid() != 1)
		return false;
	fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	init_fd = (int)fd;
	active = true;
	return true;
}

bool appliance_active(void)
{
	return active;
}

void appliance_drop_fd(void)
{
	if (init_fd >= 0)
		close(init_fd);
	init_fd = -1;
}

void appliance_ready(const char *tls_fp)
{
	if (init_fd < 0)
		return;
	// One write of less than PIPE_BUF: silo-init reads it whole.
	char msg[128];
	snprintf(msg, sizeof(msg), APPLIANCE_READY "%s%.64s\n", tls_fp ? " sha256 " : "",
		 tls_fp ? tls_fp : "");
	if (util_write_all(init_fd, msg, strlen(msg)) < 0)
		fprintf(stderr, "silo: cannot tell silo-init that silo serves: %s\n", strerror(errno));
	close(init_fd);
	init_fd = -1;
}

int appliance_power(bool reboot, char *err, size_t errsz)
{
	if (!active) {
		snprintf(err, errsz, "not running as the appliance: power the machine off or "
				     "restart it the way its system does");
		return -1;
	}
	// silo-init: SIGUSR1 reboots, SIGUSR2 powers off, each after stopping silo in order.
	if (kill(1, reboot ? SIGUSR1 : SIGUSR2) < 0) {
		snprintf(err, errsz, "cannot signal silo-init: %s", strerror(errno));
		return -1;
	}
	return 0;
}

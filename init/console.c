// SPDX-License-Identifier: MIT
// Console output for PID 1: the serial console and, when it differs, the screen.
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "console.h"
#include "version.h"

static int screen_fd = -1;

void console_open(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0) {
		for (int i = 0; i < 3; i++)
			dup2(fd, i);   // dup2 clears O_CLOEXEC: children inherit the console
		if (fd > 2)
			close(fd);
	}
	// console=ttyS0 sends /dev/console to the serial port; a monitor shows tty0. Called
	// again once devtmpfs is mounted: the tty0 opened before goes.
	if (screen_fd >= 0)
		close(screen_fd);
	screen_fd = -1;
	struct stat a, b;
	int tty = open("/dev/tty0", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (tty >= 0 && fstat(tty, &a) == 0 && fstat(1, &b) == 0 && a.st_rdev != b.st_rdev)
		screen_fd = tty;
	else if (tty >= 0)
		close(tty);
}

static void emit(const char *line, size_t n)
{
	if (write(STDOUT_FILENO, line, n) < 0) {
		// Nowhere else to say it.
	}
	if (screen_fd >= 0 && write(screen_fd, line, n) < 0) {
		close(screen_fd);
		screen_fd = -1;
	}
}

static void vlog(int err, const char *fmt, va_list ap)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "silo-init: ");
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	if (err)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ": %s", strerror(err));
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	emit(line, (size_t)n);
}

void console_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
}

void console_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	va_start(ap, fmt);
	vlog(err, fmt, ap);
	va_end(ap);
}

void console_banner(const char *ip, const char *base_url, const char *tls_fp)
{
	struct utsname u;
	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	char b[1024];
	int n = snprintf(b, sizeof(b),
			 "\n"
			 "  silo %s (kernel %s)\n"
			 "  address: %s\n"
			 "  web: %s\n",
			 SILO_VERSION, u.release, ip && *ip ? ip : "none (no network)", base_url);
	// Browsers show AB:CD:...; two lines of 16 bytes fit an 80-column screen.
	if (tls_fp && strlen(tls_fp) == 64 && n < 700) {
		n += snprintf(b + n, sizeof(b) - (size_t)n, "  certificate (self-signed), SHA-256:\n");
		for (int i = 0; i < 32; i++)
			n += snprintf(b + n, sizeof(b) - (size_t)n, "%s%c%c%s", i % 16 ? "" : "    ",
				      toupper((unsigned char)tls_fp[2 * i]),
				      toupper((unsigned char)tls_fp[2 * i + 1]),
				      i % 16 == 15 ? "\n" : ":");
	}
	n += snprintf(b + n, sizeof(b) - (size_t)n, "\n");
	emit(b, n < (int)sizeof(b) ? (size_t)n : sizeof(b) - 1);
}

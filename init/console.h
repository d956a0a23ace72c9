// SPDX-License-Identifier: MIT
// The console: stdio on /dev/console, lines prefixed "silo-init: ", copied to the screen.
#pragma once

// Points fds 0-2 at /dev/console and opens /dev/tty0 for the screen when it is another device.
void console_open(void);

// One line on the console (and the screen).
void console_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// The same with ": strerror(errno)" appended.
void console_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

// The summary once silo serves: version, kernel, address, the URL to open and, with TLS,
// the SHA-256 of the self-signed certificate (tls_fp in hex; NULL or empty: none) in the
// form browsers show it, to compare before trusting the certificate.
void console_banner(const char *ip, const char *base_url, const char *tls_fp);

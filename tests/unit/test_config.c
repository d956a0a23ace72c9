// SPDX-License-Identifier: MIT
// Unit tests for config.c: the compiled-in defaults, config file parsing and its messages,
// range checks, listen lists and address splitting.
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "test.h"

static struct config cfg;
static char err[512];

// Applies text to the defaults, as a file named "t.conf" would be.
static int apply(const char *text)
{
	err[0] = '\0';
	if (config_defaults(&cfg, err, sizeof(err)) < 0)
		return -2;
	return config_parse(&cfg, text, "t.conf", err, sizeof(err));
}

static bool err_has(const char *s)
{
	return strstr(err, s) != NULL;
}

static void test_defaults(void)
{
	CHECK(config_defaults(&cfg, err, sizeof(err)) == 0, "config: built-in defaults parse");
	CHECK_STR(cfg.data, "/var/lib/silo", "config: default data");
	CHECK(cfg.nlisten == 1, "config: one default listen address");
	CHECK_STR(cfg.listen[0], "127.0.0.1:8080", "config: default listen");
	CHECK_STR(cfg.base_url, "", "config: default base_url is empty");
	CHECK(cfg.max_body_bytes == 1048576, "config: default max_body_bytes");
	CHECK(cfg.max_conns_per_addr == 64 && cfg.max_conns == 4096, "config: default connection limits");
	CHECK(cfg.header_timeout == 10 && cfg.body_timeout == 60 && cfg.idle_timeout == 60 &&
		      cfg.shutdown_timeout == 10,
	      "config: default timeouts");
	CHECK_STR(cfg.password_cost, "interactive", "config: default password_cost");
	CHECK(!cfg.listen_from_flags, "config: listen not from flags");
	CHECK(strstr(config_default_text, "listen = 127.0.0.1:8080") != NULL,
	      "config: the compiled-in text is config/silo.conf");
}

static void test_parse(void)
{
	CHECK(apply("") == 0 && cfg.max_conns == 4096, "config: empty text changes nothing");
	CHECK(apply("# only a comment\n\n   \n\t# indented\n") == 0, "config: comments and blank lines");
	CHECK(apply("data = /srv/silo   # where things live\r\nmax_conns=12\r\n") == 0 &&
		      strcmp(cfg.data, "/srv/silo") == 0 && cfg.max_conns == 12,
	      "config: inline comments, CRLF, spacing around '='");
	CHECK(apply("  idle_timeout\t=\t5  ") == 0 && cfg.idle_timeout == 5, "config: last line without newline");
	CHECK(apply("data = /a\ndata = /b\n") == 0 && strcmp(cfg.data, "/b") == 0, "config: a later line wins");

	CHECK(apply("data = /x\n\nbogus = 1\n") == -1, "config: unknown key refused");
	CHECK(strncmp(err, "t.conf:3: ", 10) == 0 && err_has("bogus"), "config: error names file:line and key (%s)",
	      err);
	CHECK(apply("# c\nnot a setting\n") == -1 && strncmp(err, "t.conf:2: ", 10) == 0 && err_has("key = value"),
	      "config: a line without '=' names file:line (%s)", err);
	CHECK(apply("= 5\n") == -1 && strncmp(err, "t.conf:1: ", 10) == 0, "config: an empty key is refused");
	CHECK(apply("Data = /x\n") == -1, "config: keys are case-sensitive");
	CHECK(apply("data\n") == -1, "config: a key without value is refused");

	char *lng = malloc(2 * PATH_MAX);
	if (!lng)
		abort();
	memset(lng, 'a', 2 * PATH_MAX - 1);
	lng[2 * PATH_MAX - 1] = '\0';
	char *text = malloc(4200);
	if (!text)
		abort();
	snprintf(text, 4200, "max_conns = 1\n# %s\n", lng);
	CHECK(apply(text) == -1 && strncmp(err, "t.conf:2: ", 10) == 0 && err_has("too long"),
	      "config: an over-long line names file:line");
	lng[PATH_MAX - 1] = '\0';
	CHECK(config_set(&cfg, "data", lng, err, sizeof(err)) == 0 && strlen(cfg.data) == PATH_MAX - 1,
	      "config: a data path of PATH_MAX - 1 bytes fits");
	lng[PATH_MAX - 1] = 'a';
	lng[PATH_MAX] = '\0';
	CHECK(config_set(&cfg, "data", lng, err, sizeof(err)) == -1 && err_has("data") && err_has("too long"),
	      "config: a data path over PATH_MAX is refused");
	snprintf(text, 4200, "base_url = http://%.300s\n", lng);
	CHECK(apply(text) == -1 && err_has("base_url"), "config: an over-long base_url is refused");
	free(text);
	free(lng);

	// config_load reads a file and names it in messages.
	char path[] = "/tmp/silo-test-config-XXXXXX";
	int fd = mkstemp(path);
	const char *body = "max_body_bytes = 2048\nlisten = [::1]:9000\n";
	bool wrote = fd >= 0 && write(fd, body, strlen(body)) == (ssize_t)strlen(body);
	if (fd >= 0)
		close(fd);
	config_defaults(&cfg, err, sizeof(err));
	CHECK(wrote && config_load(&cfg, path, err, sizeof(err)) == 0 && cfg.max_body_bytes == 2048 &&
		      cfg.nlisten == 1 && strcmp(cfg.listen[0], "[::1]:9000") == 0,
	      "config: config_load applies a file");
	fd = open(path, O_WRONLY | O_TRUNC);
	body = "max_body_bytes = 2048\nmax_conns = 0\n";
	wrote = fd >= 0 && write(fd, body, strlen(body)) == (ssize_t)strlen(body);
	if (fd >= 0)
		close(fd);
	char want[128];
	snprintf(want, sizeof(want), "%s:2: max_conns", path);
	CHECK(wrote && config_load(&cfg, path, err, sizeof(err)) == -1 && strncmp(err, want, strlen(want)) == 0,
	      "config: config_load names path:line (%s)", err);
	unlink(path);
	CHECK(config_load(&cfg, path, err, sizeof(err)) == -1 && err_has(path), "config: a missing file is refused");
}

static void test_numbers(void)
{
	static const struct {
		const char *key;
		long min, max;
	} keys[] = {
		{"max_body_bytes", 1024, 1L << 40}, {"max_conns_per_addr", 1, 100000}, {"max_conns", 1, 1000000},
		{"header_timeout", 1, 3600},        {"body_timeout", 1, 86400},        {"idle_timeout", 1, 86400},
		{"shutdown_timeout", 0, 3600},
	};
	char text[128];
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(text, sizeof(text), "%s = %ld\n", keys[i].key, keys[i].min);
		bool lo = apply(text) == 0;
		snprintf(text, sizeof(text), "%s = %ld\n", keys[i].key, keys[i].max);
		bool hi = apply(text) == 0;
		snprintf(text, sizeof(text), "%s = %ld\n", keys[i].key, keys[i].min - 1);
		bool below = apply(text) == -1 && err_has(keys[i].key);
		snprintf(text, sizeof(text), "%s = %ld\n", keys[i].key, keys[i].max + 1);
		bool above = apply(text) == -1 && strncmp(err, "t.conf:1: ", 10) == 0;
		CHECK(lo && hi && below && above, "config: %s accepts %ld..%ld and nothing outside", keys[i].key,
		      keys[i].min, keys[i].max);
	}
	static const char *bad[] = {"abc", "10x", "", "1.5", "0x10", "99999999999999999999999", "-99999999999999999999",
				    "1 2"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "max_conns = %s\n", bad[i]);
		CHECK(apply(text) == -1 && err_has("max_conns"), "config: max_conns = '%s' is refused", bad[i]);
	}
	CHECK(apply("max_body_bytes = 10\n") == -1 && err_has("1024"), "config: message gives the range (%s)", err);
}

static void test_strings(void)
{
	CHECK(apply("base_url = http://example.org\n") == 0 && strcmp(cfg.base_url, "http://example.org") == 0,
	      "config: http base_url");
	CHECK(apply("base_url = https://example.org:8443/\n") == 0, "config: https base_url");
	CHECK(apply("base_url =\n") == 0 && strcmp(cfg.base_url, "") == 0, "config: empty base_url");
	CHECK(apply("base_url = ftp://example.org\n") == -1 && err_has("base_url"), "config: ftp base_url refused");
	CHECK(apply("base_url = example.org\n") == -1, "config: base_url without scheme refused");
	CHECK(apply("base_url = HTTP://example.org\n") == -1, "config: base_url scheme is lowercase");
	CHECK(apply("password_cost = moderate\n") == 0 && strcmp(cfg.password_cost, "moderate") == 0,
	      "config: password_cost moderate");
	CHECK(apply("password_cost = small\n") == 0 && strcmp(cfg.password_cost, "small") == 0,
	      "config: password_cost small");
	CHECK(apply("password_cost = sensitive\n") == -1 && err_has("password_cost"),
	      "config: unknown password_cost refused");
	CHECK(apply("password_cost = interactive-but-much-longer\n") == -1, "config: long password_cost refused");
}

static void test_listen(void)
{
	CHECK(apply("listen = 0.0.0.0:80 [::1]:8080\t[::]:443  127.0.0.1:1\n") == 0, "config: several listen addresses");
	CHECK(cfg.nlisten == 4 && strcmp(cfg.listen[0], "0.0.0.0:80") == 0 && strcmp(cfg.listen[1], "[::1]:8080") == 0 &&
		      strcmp(cfg.listen[2], "[::]:443") == 0 && strcmp(cfg.listen[3], "127.0.0.1:1") == 0,
	      "config: listen list replaces the default, in order");
	CHECK(apply("listen = [::1]:8080\n") == 0 && cfg.nlisten == 1 && strcmp(cfg.listen[0], "[::1]:8080") == 0,
	      "config: IPv6 [::1]:8080");
	CHECK(apply("listen = a:1 b:2 c:3 d:4 e:5 f:6 g:7 h:8\n") == 0 && cfg.nlisten == CONFIG_MAX_LISTEN,
	      "config: %d listen addresses are ok", CONFIG_MAX_LISTEN);
	CHECK(apply("listen = a:1 b:2 c:3 d:4 e:5 f:6 g:7 h:8 i:9\n") == -1 && err_has("more than"),
	      "config: %d listen addresses are refused", CONFIG_MAX_LISTEN + 1);
	CHECK(apply("listen = localhost\n") == -1 && err_has("localhost") && strncmp(err, "t.conf:1: ", 10) == 0,
	      "config: listen without port refused (%s)", err);
	CHECK(apply("listen = 1.2.3.4:80 ::1:80\n") == -1, "config: unbracketed IPv6 refused");
	CHECK(apply("listen = 1.2.3.4:70000\n") == -1, "config: port over 65535 refused");

	// A token longer than a listen[] entry must be refused, not copied (it used to overflow).
	char zeros[300];
	memset(zeros, '0', sizeof(zeros));
	zeros[sizeof(zeros) - 1] = '\0';
	char text[400];
	snprintf(text, sizeof(text), "listen = 127.0.0.1:%s80\n", zeros);
	CHECK(apply(text) == -1 && err_has("listen"), "config: an over-long listen token is refused");
	char host[CONFIG_MAX_ADDR];
	memset(host, 'h', sizeof(host));
	host[CONFIG_MAX_ADDR - 2] = '\0'; // the longest host config_split_addr takes
	snprintf(text, sizeof(text), "listen = %s:65535\n", host);
	CHECK(apply(text) == -1, "config: host that fits plus port over CONFIG_MAX_ADDR is refused");
	host[CONFIG_MAX_ADDR - 7] = '\0'; // with ":65535" exactly CONFIG_MAX_ADDR - 1 bytes
	snprintf(text, sizeof(text), "listen = %s:65535\n", host);
	CHECK(apply(text) == 0 && strlen(cfg.listen[0]) == CONFIG_MAX_ADDR - 1, "config: longest listen token fits");
}

static void test_split(void)
{
	char host[CONFIG_MAX_ADDR];
	int port = -1;
	CHECK(config_split_addr("127.0.0.1:8080", host, sizeof(host), &port) == 0 && strcmp(host, "127.0.0.1") == 0 &&
		      port == 8080,
	      "split: IPv4");
	CHECK(config_split_addr("[::1]:8080", host, sizeof(host), &port) == 0 && strcmp(host, "::1") == 0 &&
		      port == 8080,
	      "split: IPv6 loses its brackets");
	CHECK(config_split_addr("[fe80::1%eth0]:443", host, sizeof(host), &port) == 0 &&
		      strcmp(host, "fe80::1%eth0") == 0 && port == 443,
	      "split: IPv6 with zone");
	CHECK(config_split_addr("localhost:0", host, sizeof(host), &port) == 0 && strcmp(host, "localhost") == 0 &&
		      port == 0,
	      "split: port 0");
	CHECK(config_split_addr("h:65535", host, sizeof(host), &port) == 0 && port == 65535, "split: port 65535");
	CHECK(config_split_addr("h:080", host, sizeof(host), &port) == 0 && port == 80, "split: leading zero");

	static const char *bad[] = {"",       ":80",      "host",      "host:",   "host:65536", "host:-1",
				    "host:8x", "::1:80",  "[::1]8080", "[::1]",   "[]:80",      "[::1:80",
				    "a:b:80",  "[::1]:",  "host:99999999999999999999", "[::1]:x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(config_split_addr(bad[i], host, sizeof(host), &port) == -1, "split: '%s' is refused", bad[i]);
	char small[4];
	CHECK(config_split_addr("abc:1", small, sizeof(small), &port) == 0 && strcmp(small, "abc") == 0,
	      "split: host exactly fits");
	CHECK(config_split_addr("abcd:1", small, sizeof(small), &port) == -1, "split: host too long for the buffer");
	CHECK(config_split_addr("[abcd]:1", small, sizeof(small), &port) == -1, "split: IPv6 too long for the buffer");
}

int main(void)
{
	test_defaults();
	test_parse();
	test_numbers();
	test_strings();
	test_listen();
	test_split();
	return test_done();
}

// SPDX-License-Identifier: MIT
// Unit tests for log.c's held lines (log_hold): what an event loop's process writes to
// stderr, in what order, and when.
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "test.h"

static int armed;

static void on_armed(void)
{
	armed++;
}

// What reached stderr (a pipe) since the last call.
static size_t drain(int fd, char *out, size_t outsz)
{
	size_t n = 0;
	ssize_t r;
	while (n + 1 < outsz && (r = read(fd, out + n, outsz - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	return n;
}

static int count(const char *s, const char *needle)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

int main(void)
{
	int p[2];
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0 || dup2(p[1], STDERR_FILENO) < 0) {
		CHECK(0, "log: set-up");
		return test_done();
	}
	static char out[1 << 16];

	log_info("before holding");
	drain(p[0], out, sizeof(out));
	CHECK(strstr(out, " info before holding\n") != NULL, "log: a line goes out at once by default");

	log_hold(on_armed);
	log_info("one");
	log_info("two");
	drain(p[0], out, sizeof(out));
	CHECK(out[0] == '\0', "log: held lines are not written yet");
	CHECK(armed == 1, "log: the first held line arms the flush, the second does not (%d)", armed);
	log_warn("a warning");
	drain(p[0], out, sizeof(out));
	char *one = strstr(out, "info one"), *two = strstr(out, "info two"),
	     *warn = strstr(out, "warn a warning");
	CHECK(one && two && warn && one < two && two < warn,
	      "log: a warning goes out at once, after the lines held before it, in order");

	armed = 0;
	for (int i = 0; i < 200; i++)
		log_info("line %03d of a batch longer than what a pipe writes atomically", i);
	log_flush();
	drain(p[0], out, sizeof(out));
	CHECK(count(out, " of a batch ") == 200, "log: every held line is written (%d)",
	      count(out, " of a batch "));
	CHECK(strstr(out, "line 000") < strstr(out, "line 199"), "log: in order");
	CHECK(armed >= 2, "log: a full buffer is written and the flush armed again (%d)", armed);

	log_hold(NULL);
	log_info("after holding");
	drain(p[0], out, sizeof(out));
	CHECK(strstr(out, "info after holding\n") != NULL, "log: log_hold(NULL) writes at once again");

	// The access line is what the printf format it replaces wrote, cuts included.
	char target[400], want[600];
	memset(target, 'a', sizeof(target) - 1);
	target[0] = '/';
	target[sizeof(target) - 1] = '\0';
	const struct {
		const char *method, *target;
		int status;
		size_t bytes;
		long long ms;
		const char *peer;
	} acc[] = {
		{"GET", "/api/whoami?x=1", 200, 378, 0, "127.0.0.1"},
		{"PROPFIND", target, 207, 18446744073709551615ULL, 1234567, "[::1]:54321"},
		{"POST", "/", -1, 0, -5, ""},
	};
	for (size_t i = 0; i < sizeof(acc) / sizeof(acc[0]); i++) {
		log_access(acc[i].method, acc[i].target, acc[i].status, acc[i].bytes, acc[i].ms,
			   acc[i].peer);
		drain(p[0], out, sizeof(out));
		snprintf(want, sizeof(want), " info %.32s %.200s %d %zuB %lldms %.64s\n", acc[i].method,
			 acc[i].target, acc[i].status, acc[i].bytes, acc[i].ms, acc[i].peer);
		char *sp = strchr(out, ' ');
		CHECK(sp && strcmp(sp, want) == 0, "log: access line %zu as printf writes it (%s)", i,
		      out);
	}
	log_access(NULL, NULL, 400, 0, 0, "10.0.0.1");
	drain(p[0], out, sizeof(out));
	CHECK(strstr(out, " info - - 400 0B 0ms 10.0.0.1\n") != NULL,
	      "log: an access line for a request that was never parsed (%s)", out);
	return test_done();
}

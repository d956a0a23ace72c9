// SPDX-License-Identifier: MIT
// probe: reports, as JSON, what a process can see and do inside a grain, and tries hostile
// things that the sandbox must stop. Modes:
//   probe --report [--host-port P] [--other-var PATH] [--look PATH]...
//                                                        the report on stdout
//   probe --attack NAME [--arg N] [--host-port P] ...    one attack or load on stdout
//   probe --port P                                       HTTP on 127.0.0.1:P (/health,
//                                                        /report, /attack/NAME)
// Started as "silo-bridge" (tests mount it over /silo-bridge), it only execs the command
// after "--", standing in for the real bridge.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"

static int usage(void)
{
	fprintf(stderr, "usage: probe --report | --attack NAME | --port PORT "
			"[--host-port P] [--other-var PATH] [--look PATH] [--arg N]\n");
	return 2;
}

// Stand-in for silo-bridge: "/silo-bridge --port P -- CMD..." runs CMD in its place.
static int bridge_shim(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0 && i + 1 < argc) {
			execv(argv[i + 1], &argv[i + 1]);
			fprintf(stderr, "probe (as silo-bridge): exec %s: %s\n", argv[i + 1],
				strerror(errno));
			return 127;
		}
	}
	fprintf(stderr, "probe (as silo-bridge): no command after --\n");
	return 2;
}

const char *probe_refusal(void)
{
	// Inside a grain the probe is uid 1000 and sees no /proc. Any uid 0, or an identity
	// uid_map (the initial user namespace), means it is loose on a real machine.
	if (getuid() == 0 || geteuid() == 0)
		return "running as uid 0: refusing hostile actions outside a sandbox";
	char map[128] = "";
	int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, map, sizeof(map) - 1);
		close(fd);
		map[n > 0 ? n : 0] = '\0';
		unsigned long a = 1, b = 1, c = 0;
		if (sscanf(map, "%lu %lu %lu", &a, &b, &c) == 3 && a == 0 && b == 0 &&
		    c == 4294967295ul)
			return "running in the initial user namespace: refusing hostile actions "
			       "outside a sandbox";
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	if (strcmp(base, "silo-bridge") == 0)
		return bridge_shim(argc, argv);

	struct probe_opts o = { .host_port = 0 };
	const char *mode = NULL, *attack = NULL;
	int port = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--report") == 0) {
			mode = "report";
		} else if (strcmp(a, "--attack") == 0 && v) {
			mode = "attack";
			attack = v;
			i++;
		} else if (strcmp(a, "--port") == 0 && v) {
			mode = "serve";
			port = atoi(v);
			i++;
		} else if (strcmp(a, "--host-port") == 0 && v) {
			o.host_port = atoi(v);
			i++;
		} else if (strcmp(a, "--other-var") == 0 && v) {
			o.other_var = v;
			i++;
		} else if (strcmp(a, "--look") == 0 && v && o.nlook < 8) {
			o.look[o.nlook++] = v;
			i++;
		} else if (strcmp(a, "--arg") == 0 && v) {
			o.arg = atol(v);
			i++;
		} else {
			return usage();
		}
	}
	if (!mode)
		return usage();
	if (strcmp(mode, "serve") == 0) {
		if (port <= 0 || port > 65535)
			return usage();
		return probe_serve(port);
	}
	struct json j;
	json_init(&j);
	int rc = 0;
	if (strcmp(mode, "report") == 0) {
		probe_report(&j, &o);
	} else if (probe_attack(&j, attack, &o) < 0) {
		fprintf(stderr, "probe: unknown attack %s\n", attack);
		rc = 2;
	}
	if (rc == 0)
		printf("%s\n", json_text(&j));
	json_free(&j);
	return rc;
}

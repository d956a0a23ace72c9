// SPDX-License-Identifier: MIT
// probe: a test app that reports what it can see and do from inside a grain's sandbox.
#pragma once
#include <stdbool.h>
#include <stddef.h>

// A JSON document built in memory: objects and arrays nest, commas come by themselves.
struct json {
	char *buf;
	size_t len, cap;
	int depth;
	bool first[32];
	bool oom;
};

void json_init(struct json *j);
void json_free(struct json *j);
// key is NULL for array elements.
void json_open(struct json *j, const char *key, char bracket);
void json_close(struct json *j, char bracket);
void json_str(struct json *j, const char *key, const char *val);
void json_int(struct json *j, const char *key, long long val);
void json_bool(struct json *j, const char *key, bool val);
// The document, NUL-terminated (an error object if memory ran out).
const char *json_text(struct json *j);

// The options a report or an attack may use.
struct probe_opts {
	int host_port;          // a port the HOST listens on, to try from inside (0: skip)
	const char *other_var;  // a host path of another grain's /var, to look for inside
	long arg;               // load size: ms for cpuspin, MiB cap for memhog, forks for forkbomb
	const char *look[8];    // paths to try reading and writing (--look, repeatable)
	int nlook;
};

// Why the hostile parts must not run here (real root, or the initial user namespace), or
// NULL when the probe is confined and may try them.
const char *probe_refusal(void);

// The "errno name" of a result: "ok" for 0, "EPERM" etc. otherwise.
const char *probe_errname(int err);

// report.c: the whole report (observations and every quick attack).
void probe_report(struct json *j, const struct probe_opts *o);
// attacks.c: the quick attacks, each an attempt that must fail inside a grain.
void probe_attacks(struct json *j, const struct probe_opts *o);
// One attack or load by name into j (an object); -1 if the name is unknown.
int probe_attack(struct json *j, const char *name, const struct probe_opts *o);
// loads.c: the hostile loads (forkbomb, memhog, cpuspin); -1 if the name is not a load.
int probe_load(struct json *j, const char *name, const struct probe_opts *o);
// http.c: serves GET /health, /report and /attack/NAME on 127.0.0.1:port; never returns.
int probe_serve(int port);

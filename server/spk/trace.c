// SPDX-License-Identifier: MIT
// `spk trace`: runs a program under ptrace while it is exercised, then writes a package
// root holding every file it touched, the loaders the kernel used for it, and the app's
// always-include list. docs/TRACE.md is the manual.
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "trace.h"
#include "trace_priv.h"

static const char trace_usage[] =
	"usage: spk trace [OPTIONS] [--] CMD [ARGS...]\n"
	"Runs CMD under ptrace and writes a package root holding every file it (and every\n"
	"process it starts) opens, stats, reads a link of, checks access to or executes,\n"
	"with ELF and #! interpreters. The trace ends when CMD exits (what it left running\n"
	"is killed), or on SIGINT/SIGTERM/SIGHUP or --timeout (the traced tree is killed).\n"
	"Never copied: /proc /sys /dev /tmp /var /run /home /root and the root itself.\n"
	"\n"
	"  -r, --root DIR       write the package root here (default ./root; must be\n"
	"                       empty or missing unless --add)\n"
	"  -i, --include FILE   always-include list: absolute paths or globs, one a line,\n"
	"                       '#' comment lines; directories recursively (repeatable)\n"
	"  -x, --exclude FILE   list of globs never to copy; a match excludes what is\n"
	"                       below it too (repeatable)\n"
	"  -a, --add            add to an existing root instead of requiring an empty one\n"
	"  -l, --list FILE      write the files and symlinks placed, one a line, sorted\n"
	"  -k, --keep-pyc       copy __pycache__/*.pyc as they are (default: make them\n"
	"                       unchecked, PEP 552, as packages keep no mtimes)\n"
	"  -t, --timeout SECS   stop the trace after SECS seconds (default: no limit)\n"
	"  -v, --verbose        print each path as it is recorded\n"
	"  -h, --help           print this help\n"
	"\n"
	"Exit status: 0 the root was written (CMD exited 0, or the trace was stopped);\n"
	"3 the root was written but CMD failed; 2 usage; 1 any other error.\n"
	"Manual: docs/TRACE.md\n";

struct trace_opts {
	const char *root;
	const char *list;
	struct trace_patterns include, exclude;
	long timeout_s;
	bool add, verbose, keep_pyc;
	char **cmd;
};

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "spk trace: %s%s%s\n%s", msg, arg ? ": " : "", arg ? arg : "",
		trace_usage);
	return 2;
}

// Parses argv (argv[0] is the subcommand's name). Returns -1 to go on, else an exit status.
static int parse_opts(int argc, char **argv, struct trace_opts *o)
{
	static const struct option longopts[] = {
		{"root", required_argument, NULL, 'r'},
		{"include", required_argument, NULL, 'i'},
		{"exclude", required_argument, NULL, 'x'},
		{"add", no_argument, NULL, 'a'},
		{"list", required_argument, NULL, 'l'},
		{"keep-pyc", no_argument, NULL, 'k'},
		{"timeout", required_argument, NULL, 't'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	*o = (struct trace_opts){.root = "root"};
	optind = 0;   // glibc: full re-initialisation, whatever parsed argv before
	opterr = 0;
	int c;
	// '+': stop at CMD, so its own options are left alone.
	while ((c = getopt_long(argc, argv, "+r:i:x:al:kt:vh", longopts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'r': o->root = optarg; break;
		case 'i': trace_patterns_load(&o->include, optarg); break;
		case 'x': trace_patterns_load(&o->exclude, optarg); break;
		case 'a': o->add = true; break;
		case 'l': o->list = optarg; break;
		case 'k': o->keep_pyc = true; break;
		case 'v': o->verbose = true; break;
		case 'h': fputs(trace_usage, stdout); return 0;
		case 't':
			errno = 0;
			o->timeout_s = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || o->timeout_s < 1 ||
			    o->timeout_s > 7 * 24 * 3600)
				return usage_error("--timeout wants 1 to 604800 seconds", optarg);
			break;
		default:
			return usage_error("unknown option or missing argument",
					   argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("no command to trace", NULL);
	o->cmd = argv + optind;
	return -1;
}

static void write_list(const struct trace_root *r, const char *file)
{
	FILE *f = fopen(file, "we");
	if (!f)
		die_errno("trace: %s", file);
	const char **v = trace_set_sorted(&r->placed);
	for (size_t i = 0; v[i]; i++)
		fprintf(f, "%s\n", v[i]);
	free(v);
	if (fclose(f) != 0)
		die_errno("trace: writing %s", file);
}

// The canonical directory holding the program cmd names (searched in PATH when it has no
// slash); empty when it cannot be found.
static void program_dir(const char *cmd, char *out, size_t outsz)
{
	char cand[PATH_MAX], real[PATH_MAX];
	out[0] = '\0';
	const char *path = strchr(cmd, '/') ? "" : getenv("PATH");
	for (const char *p = path ? path : ""; ; p += strcspn(p, ":") + (p[strcspn(p, ":")] == ':')) {
		size_t n = strcspn(p, ":");
		int w = strchr(cmd, '/') ? snprintf(cand, sizeof(cand), "%s", cmd)
					 : snprintf(cand, sizeof(cand), "%.*s/%s", (int)n, n ? p : ".", cmd);
		if (w > 0 && (size_t)w < sizeof(cand) && access(cand, X_OK) == 0 && realpath(cand, real)) {
			char *slash = strrchr(real, '/');
			if (slash && slash != real) {
				*slash = '\0';
				snprintf(out, outsz, "%s", real);
			}
			return;
		}
		if (strchr(cmd, '/') || !p[n])
			return;
	}
}

static int report_end(const struct trace_result *res, const char *cmd)
{
	switch (res->end) {
	case TRACE_END_EXITED:
		printf("trace: %s exited with status %d\n", cmd, res->status);
		return res->status == 0 ? 0 : 3;
	case TRACE_END_SIGNALED:
		printf("trace: %s was killed by signal %d\n", cmd, res->status);
		return 3;
	case TRACE_END_INTERRUPTED:
		printf("trace: stopped by signal %d; the traced processes were killed\n",
		       res->status);
		return 0;
	case TRACE_END_TIMEOUT:
		printf("trace: stopped by --timeout; the traced processes were killed\n");
		return 0;
	}
	return 1;
}

int spk_trace_main(int argc, char **argv)
{
	struct trace_opts o;
	int rc = parse_opts(argc, argv, &o);
	if (rc >= 0)
		return rc;

	// The root is checked (empty, writable) before the program runs, not after.
	struct trace_root root;
	trace_root_open(&root, o.root, o.add);
	root.exclude = o.exclude;
	root.verbose = o.verbose;
	root.pyc_unchecked = !o.keep_pyc;
	program_dir(o.cmd[0], root.app_dir, sizeof(root.app_dir));

	struct trace_record rec = {.verbose = o.verbose};
	trace_set_init(&rec.paths);
	trace_set_init(&rec.execs);
	struct trace_result res;
	fflush(stdout);
	trace_run(o.cmd, o.timeout_s * 1000, &rec, &res);
	rc = report_end(&res, o.cmd[0]);

	trace_root_add_record(&root, &rec);
	trace_root_add_includes(&root, &o.include);
	if (o.list)
		write_list(&root, o.list);
	printf("trace: %zu paths recorded in %ld syscall stops; %ld .pyc files made unchecked\n",
	       rec.paths.len, res.stops, root.pycs);
	// The packer's limits (DESIGN.md): better said now than at `spk pack`.
	if (root.files + root.symlinks + root.dirs > 100000 || root.bytes > (1ull << 30))
		fprintf(stderr, "trace: warning: more entries or bytes than a package may hold\n");
	if (root.skipped_special)
		printf("trace: %ld fifos, sockets or device nodes left out\n", root.skipped_special);
	printf("trace: %s: %ld files, %ld symlinks, %ld directories, %llu bytes (%.1f MiB)\n",
	       root.dir, root.files, root.symlinks, root.dirs, (unsigned long long)root.bytes,
	       (double)root.bytes / (1024.0 * 1024.0));
	fflush(stdout);

	trace_set_free(&rec.paths);
	trace_set_free(&rec.execs);
	trace_patterns_free(&o.include);
	trace_root_close(&root);
	return rc;
}

// SPDX-License-Identifier: MIT
// spk, the developer's tool for silo packages: make a signing key, pack a tree into a signed
// .spk, verify or unpack one, and (trace.c) build a package root by tracing a program.
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "spk.h"
#include "trace.h"

static const char usage[] =
	"usage: spk COMMAND ARGS\n"
	"\n"
	"  keygen KEYFILE              make a signing key (a new app id) in KEYFILE (mode 0600)\n"
	"  pack [--bridge PATH] DIR KEYFILE OUT.spk\n"
	"                              pack the tree DIR (with DIR/silo-manifest.json) into a\n"
	"                              package signed with KEYFILE; adds silo-bridge from PATH,\n"
	"                              $SILO_BRIDGE, or the silo-bridge next to spk\n"
	"  verify FILE                 check a package completely and print what it is\n"
	"  unpack FILE DIR             check a package and unpack its tree to DIR (a new name)\n"
	"  trace ...                   build a package root by tracing a program (spk trace -h)\n"
	"  help                        this text\n"
	"\n"
	"Exit status: 0 done, 1 the package, key or tree has a defect (spk: FILE: reason),\n"
	"2 wrong usage. docs/SPK.md describes the format.\n";

__attribute__((format(printf, 1, 2)))
static noreturn void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("spk: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static noreturn void bad_usage(const char *why)
{
	fprintf(stderr, "spk: %s\n%s", why, usage);
	exit(2);
}

static void print_info(const struct spk_info *info)
{
	const struct manifest *m = info->manifest;
	printf("app id:            %s\n", info->app_id);
	printf("package id:        %s\n", info->package_id);
	printf("title:             %s\n", m->title);
	printf("version:           %u\n", m->version);
	printf("marketing version: %s\n", m->marketing_version);
	printf("entries:           %llu\n", (unsigned long long)info->entries);
	printf("unpacked size:     %llu bytes\n", (unsigned long long)info->unpacked_bytes);
}

static int cmd_keygen(int argc, char **argv)
{
	if (argc != 2)
		bad_usage("keygen takes one argument, KEYFILE");
	char app_id[SPK_APP_ID_LEN + 1], err[512];
	if (spk_keygen(argv[1], app_id, err, sizeof(err)) != SPK_OK)
		fail("%s: %s", argv[1], err);
	printf("app id:            %s\n", app_id);
	printf("wrote %s: keep it secret, and keep a copy; without it there are no updates\n",
	       argv[1]);
	return 0;
}

// Whether path is a regular file (following symlinks).
static int is_file(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

// The silo-bridge to pack: --bridge, else $SILO_BRIDGE, else next to this program.
static const char *find_bridge(const char *flag, char *buf, size_t bufsz)
{
	const char *env = getenv("SILO_BRIDGE");
	const char *given = flag ? flag : env && *env ? env : NULL;
	if (given) {
		if (!is_file(given))
			fail("%s: no silo-bridge there (%s)", given,
			     flag ? "--bridge" : "$SILO_BRIDGE");
		return given;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		fail("cannot find silo-bridge: /proc/self/exe: %s; give --bridge PATH",
		     strerror(errno));
	self[n] = '\0';
	snprintf(buf, bufsz, "%s/silo-bridge", dirname(self));
	if (!is_file(buf))
		fail("no silo-bridge next to spk (%s); build it, or give --bridge PATH or set "
		     "SILO_BRIDGE", buf);
	return buf;
}

static int cmd_pack(int argc, char **argv)
{
	const char *flag = NULL;
	int i = 1;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "--bridge") == 0 && i + 1 < argc) {
			flag = argv[++i];
		} else if (strncmp(argv[i], "--bridge=", 9) == 0) {
			flag = argv[i] + 9;
		} else {
			bad_usage("pack: unknown option");
		}
	}
	if (argc - i != 3)
		bad_usage("pack takes DIR KEYFILE OUT.spk");
	const char *dir = argv[i], *keyfile = argv[i + 1], *out = argv[i + 2];
	char bridge[PATH_MAX + 16], err[1024], app_id[SPK_APP_ID_LEN + 1];
	unsigned char sk[SPK_SECKEY_BYTES];
	struct spk_pack_opts opts = {.bridge_path = find_bridge(flag, bridge, sizeof(bridge)),
				     .limits = ARCHIVE_LIMITS_DEFAULT};
	if (spk_key_load(keyfile, sk, app_id, err, sizeof(err)) != SPK_OK)
		fail("%s: %s", keyfile, err);
	enum spk_result r = spk_sign_and_write(dir, sk, out, &opts, err, sizeof(err));
	sodium_memzero(sk, sizeof(sk));
	if (r != SPK_OK)
		fail("%s", err);
	// Read back what was written, as the server will.
	struct spk_info info;
	if (spk_verify(out, NULL, &info, err, sizeof(err)) != SPK_OK)
		fail("%s: wrote a package that does not verify: %s", out, err);
	printf("wrote %s\n", out);
	print_info(&info);
	spk_info_free(&info);
	return 0;
}

static int cmd_verify(int argc, char **argv)
{
	if (argc != 2)
		bad_usage("verify takes one argument, FILE");
	struct spk_info info;
	char err[1024];
	if (spk_verify(argv[1], NULL, &info, err, sizeof(err)) != SPK_OK)
		fail("%s: %s", argv[1], err);
	print_info(&info);
	spk_info_free(&info);
	return 0;
}

static int cmd_unpack(int argc, char **argv)
{
	if (argc != 3)
		bad_usage("unpack takes FILE DIR");
	struct spk_info info;
	char err[1024];
	if (spk_unpack(argv[1], argv[2], NULL, &info, err, sizeof(err)) != SPK_OK)
		fail("%s: %s", argv[1], err);
	print_info(&info);
	printf("unpacked to %s\n", argv[2]);
	spk_info_free(&info);
	return 0;
}

static int cmd_help(int argc, char **argv)
{
	(void)argc, (void)argv;
	fputs(usage, stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} cmds[] = {
		{"keygen", cmd_keygen}, {"pack", cmd_pack},     {"verify", cmd_verify},
		{"unpack", cmd_unpack}, {"trace", spk_trace_main}, {"help", cmd_help},
		{"-h", cmd_help},       {"--help", cmd_help},
	};
	if (argc < 2)
		bad_usage("no command given");
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		// Each command sees its own name as argv[0].
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].run(argc - 1, argv + 1);
	}
	bad_usage("unknown command");
}

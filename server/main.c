// SPDX-License-Identifier: MIT
// silo: the server's command line. `serve` runs the server; `admin-token` prints a setup link.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "acme_worker.h"
#include "appliance.h"
#include "auth.h"
#include "datadir.h"
#include "https_choice.h"
#include "front.h"
#include "grainmgr.h"
#include "osslot.h"
#include "osupdate.h"
#include "parent.h"
#include "parent_client.h"
#include "parent_os.h"
#include "parent_tls.h"
#include "restore_server.h"
#include "tls.h"
#include "tlscert.h"
#include "config.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "util.h"
#include "version.h"

#define SYSTEM_CONFIG "/etc/silo/silo.conf"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: silo serve [--config FILE] [--data DIR] [--listen ADDR:PORT]...\n"
		"                  [--listen-tls ADDR:PORT]... [--base-url URL]\n"
		"                  [--acme-directory URL] [--acme-ca FILE] [--acme-domain NAME]...\n"
		"                  [--dyndns-url URL] [--dyndns-ca FILE] [--dyndns-name NAME]\n"
		"                  [--dyndns-zone ZONE] [--dyndns-email ADDRESS]\n"
		"       silo admin-token [--config FILE] [--data DIR] [--base-url URL]\n"
		"       silo restore-server [--config FILE] [--data DIR] BACKUP-FILE\n"
		"       silo update [--key PUBFILE] [--check] UPDATE-FILE\n"
		"       silo version\n"
		"\n"
		"Defaults come from the built-in config/silo.conf, then " SYSTEM_CONFIG
		" (or --config FILE),\nthen the flags.\n");
}

// Settings: built-in defaults, the config file, then flags.
static void load_config(int argc, char **argv, struct config *c)
{
	char err[512];
	if (config_defaults(c, err, sizeof(err)) < 0)
		die("%s", err);
	const char *file = NULL;
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--config") == 0)
			file = argv[i + 1];
	if (!file && access(SYSTEM_CONFIG, F_OK) == 0)
		file = SYSTEM_CONFIG;
	if (file && config_load(c, file, err, sizeof(err)) < 0)
		die("%s", err);

	// Each flag names its config key; a repeated list flag adds, the first replaces.
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"data", required_argument, NULL, 'd'},
		{"listen", required_argument, NULL, 'l'},
		{"listen-tls", required_argument, NULL, 't'},
		{"base-url", required_argument, NULL, 'b'},
		{"acme-directory", required_argument, NULL, 'a'},
		{"acme-ca", required_argument, NULL, 'A'},
		{"acme-domain", required_argument, NULL, 'D'},
		{"dyndns-url", required_argument, NULL, 'u'},
		{"dyndns-ca", required_argument, NULL, 'U'},
		{"dyndns-name", required_argument, NULL, 'n'},
		{"dyndns-zone", required_argument, NULL, 'z'},
		{"dyndns-email", required_argument, NULL, 'e'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	static const char *const keys[][2] = {
		{"d", "data"}, {"l", "listen"}, {"t", "listen_tls"}, {"b", "base_url"},
		{"a", "acme_directory"}, {"A", "acme_ca"}, {"D", "acme_domain"},
		{"u", "dyndns_url"}, {"U", "dyndns_ca"}, {"n", "dyndns_name"}, {"z", "dyndns_zone"},
		{"e", "dyndns_email"},
	};
	bool seen[ARRAY_LEN(keys)] = {0};
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'c')
			continue;
		if (o == 'h') {
			usage(stdout);
			exit(0);
		}
		size_t k = 0;
		while (k < ARRAY_LEN(keys) && keys[k][0][0] != o)
			k++;
		if (k == ARRAY_LEN(keys)) {
			usage(stderr);
			exit(2);
		}
		int r = seen[k] && (o == 'l' || o == 't' || o == 'D')
				? config_add(c, keys[k][1], optarg, err, sizeof(err))
				: config_set(c, keys[k][1], optarg, err, sizeof(err));
		seen[k] = true;
		if (r < 0)
			die("--%s", err);
	}
	if (optind < argc)
		die("unexpected argument '%s' (see silo --help)", argv[optind]);
}

static struct store *open_store(const struct config *c)
{
	struct store *s = store_open(c->data);
	if (!s)
		die("cannot open the store in %s (see the message above)", c->data);
	return s;
}

static void print_setup_line(struct store *s, const char *base_url)
{
	char token[TOKEN_HEX_LEN + 1];
	if (auth_setup_token_new(s, util_unix_now(), token) < 0)
		die("cannot save a setup token");
	// The exact form tools and the appliance console look for.
	fprintf(stderr, "silo: setup: %s/setup/%s\n", base_url, token);
	fflush(stderr);
}

// The unprivileged half: confined first, then it opens the store and serves.
static int front_main(const struct config *c, const int *lfds, size_t nlfds, int sock,
		      int tls_fd, uint64_t tls_stamp, const char *tls_fp)
{
	char err[256];
	if (front_confine(c, err, sizeof(err)) < 0) {
		log_err("front: %s", err);
		return 1;
	}
	struct store *st = open_store(c);
	if (strcmp(c->password_cost, "moderate") == 0)
		auth_set_pwhash_cost(crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE);
	else if (strcmp(c->password_cost, "small") == 0) // a box with little RAM: more passes
		auth_set_pwhash_cost(AUTH_PWHASH_SMALL_OPS, AUTH_PWHASH_SMALL_MEM);
	static struct server srv;
	if (server_init(&srv, c, st, lfds, nlfds) < 0 || pc_init(&srv, sock) < 0 ||
	    (tls_fd >= 0 && tls_init(&srv, tls_fd, tls_stamp) < 0) || grainmgr_init(&srv) < 0)
		die("cannot start the server (see the messages above)");
	https_choice_restore(&srv);   // a restart continues the wizard's choice
	log_info("silo %s serving %s (data %s, store schema %d)", SILO_VERSION, srv.base_url,
		 c->data, store_schema_version(st));
	appliance_ready(tls_fd >= 0 ? tls_fp : NULL);
	int need = auth_setup_needed(st);
	if (need < 0)
		die("cannot read the store");
	if (need)
		print_setup_line(st, srv.base_url);
	int r = server_run(&srv);
	grainmgr_fini(&srv);
	tls_fini(&srv);
	pc_fini(&srv);
	server_fini(&srv);
	store_close(st);
	log_info("silo stopped");
	return r < 0 ? 1 : 0;
}

static int cmd_serve(int argc, char **argv)
{
	struct config c;
	load_config(argc, argv, &c);
	if (!c.nlisten && !c.nlisten_tls)
		die("no listen address (use --listen ADDR:PORT or --listen-tls ADDR:PORT)");
	if (datadir_prepare(&c) < 0)
		die("cannot prepare the data directory %s (see the message above)", c.data);
	// Under TLS the shell's origin is https: a plain base URL would name a host no
	// HTTPS request carries, and every plain request is redirected away from it.
	if (c.nlisten_tls && strncmp(c.base_url, "http://", 7) == 0)
		die("base_url '%s' is plain http while listen_tls is set; use https://", c.base_url);
	// The name may also be chosen later, in the setup wizard.
	if (c.dyndns_url[0] && !c.dyndns_zone[0])
		die("dyndns_url needs a zone: --dyndns-zone ZONE");
	if (c.acme_directory[0] && !c.nlisten_tls)
		die("acme_directory needs HTTPS: add --listen-tls ADDR:PORT");
	if (c.acme_directory[0] && !c.nlisten)
		die("ACME's HTTP-01 challenge needs plain HTTP too: add --listen ADDR:PORT");
	// The parent owns the keys; the front gets its first bundle across the fork.
	int tls_fd = -1;
	uint64_t stamp = 0;
	char fp[TLSCERT_FP_HEX + 1] = "";
	if (c.nlisten_tls && (parent_tls_prepare(&c, fp) < 0 || (tls_fd = parent_tls_bundle(&c, &stamp)) < 0))
		die("cannot set up TLS in %s/tls (see the message above)", c.data);
	// The wizard's checks use the directory too, before any name is chosen.
	if ((c.acme_directory[0] || c.dyndns_url[0]) && datadir_prepare_acme(&c) < 0)
		die("cannot prepare %s/tls/acme (see the message above)", c.data);
	appliance_detect();
	int lfds[SERVER_MAX_LISTEN];
	size_t n;
	if (server_listen(&c, lfds, &n) < 0)
		die("cannot listen (see the message above)");
	// Signals wait in a signalfd in both processes; block them before the fork.
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		die_errno("socketpair");
	pid_t front = fork();
	if (front < 0)
		die_errno("fork");
	if (front == 0) {
		close(sp[0]);
		exit(front_main(&c, lfds, n, sp[1], tls_fd, stamp, fp));
	}
	close(sp[1]);
	appliance_drop_fd();
	if (tls_fd >= 0)
		close(tls_fd);
	for (size_t i = 0; i < n; i++)
		close(lfds[i]);
	return parent_main(&c, sp[0], front);
}

static int cmd_admin_token(int argc, char **argv)
{
	struct config c;
	load_config(argc, argv, &c);
	char url[256], host[256];
	bool tls;
	if (server_base_url(&c, url, sizeof(url), host, sizeof(host), &tls) < 0)
		die("cannot make a base URL; pass --base-url URL");
	// The store belongs to the front's uid; never leave files root made in it.
	if (datadir_prepare(&c) < 0 || datadir_become_front(&c) < 0)
		die("cannot use the data directory %s (see the message above)", c.data);
	struct store *st = open_store(&c);
	if (auth_setup_needed(st) == 0)
		fprintf(stderr, "silo: note: this server already has an administrator; a setup "
				"link only works before setup is done\n");
	print_setup_line(st, url);
	store_close(st);
	return 0;
}

// A whole server's backup (GET /api/v1/admin/backup) into a fresh data directory.
static int cmd_restore_server(int argc, char **argv)
{
	if (argc < 2 || argv[argc - 1][0] == '-') {
		usage(stderr);
		return 2;
	}
	struct config c;
	load_config(argc - 1, argv, &c);
	return restore_server(&c, argv[argc - 1]);
}

// An OS update from the command line: --check verifies it (with the image's key, or --key)
// and prints its version; without it, the appliance writes it to the inactive slot.
static int cmd_update(int argc, char **argv)
{
	const char *key = OSSLOT_PUBKEY, *file = NULL;
	bool check = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
			key = argv[++i];
		else if (strcmp(argv[i], "--check") == 0)
			check = true;
		else if (argv[i][0] != '-' && !file)
			file = argv[i];
		else {
			usage(stderr);
			return 2;
		}
	}
	if (!file) {
		usage(stderr);
		return 2;
	}
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die_errno("%s", file);
	char err[512], version[128];
	if (check) {
		unsigned char pk[OSUPDATE_PUBKEY];
		struct osupdate_header h;
		// The verified copy lives in an unnamed file: nothing is left behind.
		int copy = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (copy < 0)
			die_errno("/tmp");
		if (osupdate_load_pub(key, pk, err, sizeof(err)) != OSU_OK ||
		    osupdate_copy_verify(fd, copy, pk, &h, err, sizeof(err)) != OSU_OK)
			die("%s: %s", file, err);
		close(copy);
		printf("%s: OS update %s for kernel %s, %llu bytes, signature good\n", file,
		       h.version, h.series, (unsigned long long)h.payload_len);
		return 0;
	}
	if (!osslot_booted())
		die("not running as the appliance (no silo.slot= on the kernel command line); "
		    "use --check to verify a file");
	if (strcmp(key, OSSLOT_PUBKEY) != 0)
		die("--key only goes with --check: an installed update is checked with the image's key");
	int e = parent_os_update(fd, "/var/lib/silo", version, sizeof(version), err, sizeof(err));
	if (e)
		die("%s: %s", file, err);
	printf("OS update %s written to the inactive slot; it starts at the next boot\n", version);
	return 0;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		die("libsodium failed to initialise");
	const char *cmd = argc > 1 ? argv[1] : "";
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(cmd, "update") == 0)
		return cmd_update(argc - 1, argv + 1);
	if (strcmp(cmd, "admin-token") == 0)
		return cmd_admin_token(argc - 1, argv + 1);
	if (strcmp(cmd, "restore-server") == 0)
		return cmd_restore_server(argc - 1, argv + 1);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("silo %s\n", SILO_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	if (*cmd)
		fprintf(stderr, "silo: unknown command '%s'\n", cmd);
	return 2;
}

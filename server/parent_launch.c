// SPDX-License-Identifier: MIT
// What the parent does with privilege: launch and stop grain sandboxes, install packages.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "datadir.h"
#include "log.h"
#include "manifest.h"
#include "parent_launch.h"
#include "sandbox.h"
#include "spk.h"
#include "util.h"

#define LOG_ROTATE_BYTES (512 * 1024)   // a grain's console log is rotated past this

// The manifest of an installed package (verified at install, so trusted).
static struct manifest *load_manifest(const struct config *c, const char *package,
				      char *err, size_t errsz)
{
	char path[PATH_MAX];
	if (util_path(path, sizeof(path), "%s/apps/%s/" MANIFEST_PATH, c->data, package) < 0) {
		snprintf(err, errsz, "data path too long");
		return NULL;
	}
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errsz, "package %s is not installed", package);
		return NULL;
	}
	char *text = malloc(MANIFEST_MAX_BYTES);
	size_t n = text ? fread(text, 1, MANIFEST_MAX_BYTES, f) : 0;
	fclose(f);
	struct manifest *m = NULL;
	if (!text || manifest_parse(text, n, &m, err, errsz) != MANIFEST_OK)
		m = NULL;
	free(text);
	return m;
}

// The host's silo-bridge: next to the silo binary.
static int bridge_path(char *out, size_t outsz)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	return util_path(out, outsz, "%s/silo-bridge", self);
}

static int open_log(const struct config *c, const char *grain)
{
	char path[PATH_MAX], old[PATH_MAX + 4];
	if (util_path(path, sizeof(path), "%s/grains/%s/log", c->data, grain) < 0)
		return -1;
	struct stat st;
	if (stat(path, &st) == 0 && st.st_size > LOG_ROTATE_BYTES) {
		snprintf(old, sizeof(old), "%s.1", path);
		rename(path, old);
	}
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
}

// argv for the bridge: /silo-bridge --port P -- CMD...; env: the action's, PATH and HOME.
static char **make_argv(const struct manifest *m, const struct manifest_command *cmd,
			char *port, size_t portsz)
{
	snprintf(port, portsz, "%d", m->http_port);
	char **argv = calloc(cmd->argc + 5, sizeof(char *));
	if (!argv)
		return NULL;
	size_t i = 0;
	argv[i++] = (char *)SANDBOX_BRIDGE_PATH;
	argv[i++] = (char *)"--port";
	argv[i++] = port;
	argv[i++] = (char *)"--";
	for (size_t k = 0; k < cmd->argc; k++)
		argv[i++] = cmd->argv[k];
	return argv;
}

static char **make_env(const struct manifest_command *cmd)
{
	char **env = calloc(cmd->nenv + 4, sizeof(char *));
	if (!env)
		return NULL;
	size_t i = 0;
	for (size_t k = 0; k < cmd->nenv; k++)
		env[i++] = cmd->env[k];
	env[i++] = (char *)"PATH=/usr/local/bin:/usr/bin:/bin";
	env[i++] = (char *)"HOME=/var";
	env[i++] = (char *)"LANG=C.UTF-8";
	return env;
}

int parent_launch(const struct config *c, struct grain_proc *g, const char *package,
		  int action, uid_t uid, int *wire, char *err, size_t errsz)
{
	struct manifest *m = load_manifest(c, package, err, errsz);
	if (!m)
		return -1;
	const struct manifest_command *cmd = action >= 0 && (size_t)action < m->nactions
						     ? &m->actions[action].cmd
						     : &m->continue_cmd;
	char port[16], root[PATH_MAX], var[PATH_MAX], bridge[PATH_MAX];
	char **argv = make_argv(m, cmd, port, sizeof(port));
	char **env = make_env(cmd);
	struct sandbox *sb = calloc(1, sizeof(*sb));
	int sp[2] = {-1, -1}, logfd = open_log(c, g->grain), r = -1;
	if (!argv || !env || !sb || logfd < 0 || bridge_path(bridge, sizeof(bridge)) < 0 ||
	    util_path(root, sizeof(root), "%s/apps/%s", c->data, package) < 0 ||
	    util_path(var, sizeof(var), "%s/grains/%s/var", c->data, g->grain) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		snprintf(err, errsz, "cannot prepare the grain: %s", strerror(errno));
		goto out;
	}
	struct sandbox_spec spec = {
		.package_root = root, .var_dir = var, .bridge_path = bridge,
		.host_uid = uid, .host_gid = uid, .argv = argv, .envp = env,
		.wire_fd = sp[1], .log_fd = logfd, .name = g->grain,
		.limits = {.memory_bytes = (uint64_t)c->grain_memory_mb << 20,
			   .pids = (uint64_t)c->grain_pids,
			   .cpu_weight = (uint64_t)c->grain_cpu_weight,
			   .tmp_bytes = (uint64_t)c->grain_tmp_mb << 20},
	};
	if (sandbox_start(&spec, sb, err, errsz) < 0)
		goto out;
	log_info("parent: grain %s started (pid %d, uid %u, %.1f ms)", g->grain, sb->pid, uid,
		 (double)sb->start_us / 1000.0);
	g->pid = sb->pid;
	g->sandbox = sb;
	sb = NULL;
	*wire = sp[0];
	sp[0] = -1;
	r = 0;
out:
	if (sp[0] >= 0)
		close(sp[0]);
	if (sp[1] >= 0)
		close(sp[1]);
	if (logfd >= 0)
		close(logfd);
	free(sb);
	free(argv);
	free(env);
	manifest_free(m);
	return r;
}

int parent_stop(struct grain_proc *g, int grace_ms)
{
	struct sandbox *sb = g->sandbox;
	if (!sb)
		return 0;
	int st = sandbox_stop(sb, grace_ms);
	if (sb->reaped)
		st = sb->status;
	free(sb);
	g->sandbox = NULL;
	return st;
}

int parent_reap(struct grain_proc *g, int *status)
{
	struct sandbox *sb = g->sandbox;
	if (!sb || sandbox_reap(sb, status) != 1)
		return 0;
	free(sb);
	g->sandbox = NULL;
	return 1;
}

// Runs in a child under the installer's uid: the archive reader meets bytes anyone can
// sign, so it never runs as root.
static void install_child(const struct config *c, int fd, struct priv_msg *r)
{
	char path[64], apps[PATH_MAX], err[512];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	util_path(apps, sizeof(apps), "%s/apps", c->data);
	struct archive_limits lim = ARCHIVE_LIMITS_DEFAULT;
	lim.max_total_bytes = (uint64_t)c->max_unpacked_mb << 20;
	struct spk_info info = {0};
	enum spk_result res = spk_install(path, apps, &lim, NULL, NULL, &info, err, sizeof(err));
	if (res != SPK_OK && res != SPK_E_EXISTS) {
		r->status = res == SPK_E_IO ? EIO : EINVAL;
		snprintf(r->text, sizeof(r->text), "%s", err);
		spk_info_free(&info);
		return;
	}
	snprintf(r->package, sizeof(r->package), "%s", info.package_id);
	snprintf(r->text, sizeof(r->text), "%s", info.app_id);
	char dir[PATH_MAX];
	util_path(dir, sizeof(dir), "%s/%s", apps, info.package_id);
	chmod(dir, 0755); // the front reads the manifest; the grain's uid reads the tree
	if (!info.manifest) {
		// Already installed: the version comes from its manifest on disk.
		char e2[256];
		info.manifest = load_manifest(c, info.package_id, e2, sizeof(e2));
	}
	r->value = info.manifest ? info.manifest->version : 0;
	r->status = info.manifest ? 0 : EIO;
	r->action = res == SPK_E_EXISTS;
	spk_info_free(&info);
}

void parent_install(const struct config *c, int fd, struct priv_msg *r)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		r->status = EIO;
		snprintf(r->text, sizeof(r->text), "cannot start the installer: %s", strerror(errno));
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		int keep[] = {fd, p[1]};
		util_close_except(keep, 2);
		struct priv_msg out = *r;
		if (datadir_become_installer(c) < 0) {
			out.status = EPERM;
			snprintf(out.text, sizeof(out.text), "the installer cannot drop its privileges");
		} else {
			install_child(c, fd, &out);
		}
		ssize_t n = write(p[1], &out, sizeof(out));
		_exit(n == (ssize_t)sizeof(out) ? 0 : 1);
	}
	close(p[1]);
	ssize_t n = pid < 0 ? -1 : read(p[0], r, sizeof(*r));
	close(p[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	if (n != (ssize_t)sizeof(*r)) {
		r->status = EIO;
		snprintf(r->text, sizeof(r->text), "the installer failed");
		return;
	}
	if (r->status == 0)
		log_info("parent: package %s (app %s) %s", r->package, r->text,
			 r->action ? "was installed already" : "installed");
}

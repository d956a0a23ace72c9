// SPDX-License-Identifier: MIT
// The probe's report: who it is, what it holds, what it can see and write, then the attacks.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "probe.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void hex64(struct json *j, const char *key, uint64_t v)
{
	char b[24];
	snprintf(b, sizeof(b), "%016llx", (unsigned long long)v);
	json_str(j, key, b);
}

static void identity(struct json *j)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;
	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	json_open(j, "identity", '{');
	json_int(j, "uid", r);
	json_int(j, "euid", e);
	json_int(j, "suid", s);
	json_int(j, "gid", gr);
	json_int(j, "egid", ge);
	json_int(j, "sgid", gs);
	gid_t groups[64];
	int n = getgroups(64, groups);
	json_open(j, "groups", '[');
	for (int i = 0; i < n; i++)
		json_int(j, NULL, groups[i]);
	json_close(j, ']');
	json_int(j, "pid", getpid());
	json_int(j, "ppid", getppid());
	json_close(j, '}');
}

static void capabilities(struct json *j)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
	int r = (int)syscall(SYS_capget, &h, d);
	uint64_t bounding = 0, ambient = 0;
	for (int cap = 0; cap < 64; cap++) {
		int b = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (b < 0)
			break;
		if (b)
			bounding |= 1ull << cap;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) == 1)
			ambient |= 1ull << cap;
	}
	json_open(j, "caps", '{');
	json_bool(j, "capget_ok", r == 0);
	hex64(j, "effective", (uint64_t)d[1].effective << 32 | d[0].effective);
	hex64(j, "permitted", (uint64_t)d[1].permitted << 32 | d[0].permitted);
	hex64(j, "inheritable", (uint64_t)d[1].inheritable << 32 | d[0].inheritable);
	hex64(j, "bounding", bounding);
	hex64(j, "ambient", ambient);
	json_int(j, "securebits", prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
	json_close(j, '}');
	json_int(j, "no_new_privs", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	json_int(j, "seccomp", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
	json_int(j, "dumpable", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

// A directory's entries, sorted; "unreadable: ERR" if it cannot be listed.
static void listing(struct json *j, const char *key, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		char msg[64];
		snprintf(msg, sizeof(msg), "unreadable: %s", probe_errname(errno));
		json_str(j, key, msg);
		return;
	}
	char *names[256];
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < ARRAY_LEN(names))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	json_open(j, key, '[');
	for (size_t i = 0; i < n; i++) {
		json_str(j, NULL, names[i] ? names[i] : "?");
		free(names[i]);
	}
	json_close(j, ']');
}

static void paths(struct json *j)
{
	static const char *const seen[] = { "/proc", "/sys", "/etc", "/home", "/root", "/boot",
					    "/run", "/usr", "/dev", "/var", "/tmp", "/dev/shm",
					    "/silo-bridge", "/sys/fs/cgroup", "/proc/self/mountinfo",
					    "/proc/cpuinfo" };
	json_open(j, "exists", '{');
	for (size_t i = 0; i < ARRAY_LEN(seen); i++)
		json_bool(j, seen[i], access(seen[i], F_OK) == 0);
	json_close(j, '}');
	listing(j, "root_entries", "/");
	listing(j, "dev_entries", "/dev");
	listing(j, "var_entries", "/var");
	// What /tmp held before this run wrote anything: must be empty at every start.
	listing(j, "tmp_entries", "/tmp");
}

static const char *try_write(const char *dir)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/.probe-write-%d", strcmp(dir, "/") == 0 ? "" : dir,
		 (int)getpid());
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return probe_errname(errno);
	close(fd);
	unlink(path);
	return "ok";
}

// For each --look path: can it be read, and can it be written (a file created in it if it
// is a directory)?
static void look(struct json *j, const struct probe_opts *o)
{
	json_open(j, "look", '{');
	for (int i = 0; i < o->nlook; i++) {
		const char *p = o->look[i];
		struct stat st;
		int is_dir = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		json_open(j, p, '{');
		json_str(j, "read", probe_errname(fd < 0 ? errno : 0));
		if (fd >= 0)
			close(fd);
		if (is_dir) {
			json_str(j, "write", try_write(p));
		} else {
			fd = open(p, O_WRONLY | O_CLOEXEC);
			json_str(j, "write", probe_errname(fd < 0 ? errno : 0));
			if (fd >= 0)
				close(fd);
		}
		json_close(j, '}');
	}
	json_close(j, '}');
}

static void writable(struct json *j)
{
	static const char *const dirs[] = { "/", "/var", "/tmp", "/dev", "/dev/shm" };
	json_open(j, "writable", '{');
	for (size_t i = 0; i < ARRAY_LEN(dirs); i++)
		json_str(j, dirs[i], try_write(dirs[i]));
	json_close(j, '}');
}

// A counter in /var that survives restarts, and a marker in /tmp that must not.
static void persistence(struct json *j)
{
	long count = 0;
	FILE *f = fopen("/var/probe-count", "r");
	if (f) {
		if (fscanf(f, "%ld", &count) != 1)
			count = 0;
		fclose(f);
	}
	count++;
	f = fopen("/var/probe-count", "w");
	int ok = f && fprintf(f, "%ld\n", count) > 0;
	if (f && fclose(f) != 0)
		ok = 0;
	json_int(j, "var_count", ok ? count : -1);
	f = fopen("/tmp/probe-marker", "w");
	json_bool(j, "tmp_marker_written", f != NULL);
	if (f)
		fclose(f);
}

static void network(struct json *j)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	json_open(j, "interfaces", '[');
	for (int i = 1; s >= 0 && i < 256; i++) {
		struct ifreq ifr;
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_ifindex = i;
		if (ioctl(s, SIOCGIFNAME, &ifr) < 0)
			continue;
		json_open(j, NULL, '{');
		json_str(j, "name", ifr.ifr_name);
		int up = ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP);
		json_bool(j, "up", up);
		json_close(j, '}');
	}
	json_close(j, ']');
	if (s >= 0)
		close(s);
	char host[128] = "";
	gethostname(host, sizeof(host) - 1);
	json_str(j, "hostname", host);
}

static void limits(struct json *j)
{
	static const struct {
		const char *name;
		int res;
	} lims[] = {
		{ "nofile", RLIMIT_NOFILE }, { "core", RLIMIT_CORE },     { "nproc", RLIMIT_NPROC },
		{ "memlock", RLIMIT_MEMLOCK }, { "as", RLIMIT_AS },       { "fsize", RLIMIT_FSIZE },
		{ "stack", RLIMIT_STACK },   { "nice", RLIMIT_NICE },     { "rtprio", RLIMIT_RTPRIO },
		{ "msgqueue", RLIMIT_MSGQUEUE }, { "cpu", RLIMIT_CPU },
	};
	json_open(j, "rlimits", '{');
	for (size_t i = 0; i < ARRAY_LEN(lims); i++) {
		struct rlimit rl;
		if (getrlimit(lims[i].res, &rl) < 0)
			continue;
		json_open(j, lims[i].name, '[');
		json_int(j, NULL, rl.rlim_cur == RLIM_INFINITY ? -1 : (long long)rl.rlim_cur);
		json_int(j, NULL, rl.rlim_max == RLIM_INFINITY ? -1 : (long long)rl.rlim_max);
		json_close(j, ']');
	}
	json_close(j, '}');
	mode_t old = umask(0);
	umask(old);
	char m[8];
	snprintf(m, sizeof(m), "%04o", (unsigned)old);
	json_str(j, "umask", m);
	// Open descriptors: the grain should hold 0-3 and nothing else (no /proc to list them:
	// ask for each, also above the soft limit, where inherited ones could hide).
	json_open(j, "open_fds", '[');
	for (int fd = 0, n = 0; fd < 65536 && n < 64; fd++)
		if (fcntl(fd, F_GETFD) >= 0) {
			json_int(j, NULL, fd);
			n++;
		}
	json_close(j, ']');
}

void probe_report(struct json *j, const struct probe_opts *o)
{
	json_open(j, NULL, '{');
	json_str(j, "probe", "silo probe 1");
	const char *why = probe_refusal();
	json_bool(j, "confined", why == NULL);
	identity(j);
	capabilities(j);
	limits(j);
	paths(j);
	network(j);
	if (!why) {
		writable(j);
		look(j, o);
		persistence(j);
	}
	probe_attacks(j, o);
	json_close(j, '}');
}

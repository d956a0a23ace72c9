// SPDX-License-Identifier: MIT
// Mounting the kernel's file systems and the orderly unmount at shutdown.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "console.h"
#include "mounts.h"

int mounts_move_root(void)
{
	// As switch_root does for a real root, but with the initramfs itself as the new root:
	// bind it onto a directory, move that over /, chroot into it.
	if (mount("/", "/.root", NULL, MS_BIND | MS_REC, NULL) < 0 || chdir("/.root") < 0 ||
	    mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 || chdir("/") < 0) {
		console_errno("cannot move the root off the initramfs");
		return -1;
	}
	return 0;
}

struct mnt {
	const char *src, *dir, *type, *opts;
	unsigned long flags;
	int required;
};

static const struct mnt basic[] = {
	{ "proc", "/proc", "proc", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC, 1 },
	{ "sysfs", "/sys", "sysfs", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC, 1 },
	{ "devtmpfs", "/dev", "devtmpfs", "mode=0755", MS_NOSUID, 1 },
	{ "devpts", "/dev/pts", "devpts", "mode=0620,ptmxmode=0666", MS_NOSUID | MS_NOEXEC, 0 },
	{ "tmpfs", "/dev/shm", "tmpfs", "mode=1777", MS_NOSUID | MS_NODEV, 0 },
	{ "tmpfs", "/run", "tmpfs", "mode=0755,size=16m", MS_NOSUID | MS_NODEV, 1 },
	{ "tmpfs", "/tmp", "tmpfs", "mode=1777,size=64m", MS_NOSUID | MS_NODEV, 1 },
	{ "cgroup2", "/sys/fs/cgroup", "cgroup2", "favordynmods", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	  1 },
	{ "tmpfs", "/var/lib/silo", "tmpfs", "mode=0755,size=1m", 0, 0 },   // until the disk
};

int mounts_basic(void)
{
	int rc = 0;
	// The data mount point gets a placeholder only if the data partition never comes.
	for (size_t i = 0; i + 1 < sizeof(basic) / sizeof(basic[0]); i++) {
		const struct mnt *m = &basic[i];
		mkdir(m->dir, 0755);
		int r = mount(m->src, m->dir, m->type, m->flags, m->opts);
		// favordynmods (6.0+) makes moving processes between cgroups cheap; a kernel
		// that does not know it refuses the option, and gets the default.
		if (r < 0 && errno == EINVAL && strcmp(m->type, "cgroup2") == 0)
			r = mount(m->src, m->dir, m->type, m->flags, NULL);
		if (r < 0 && errno != EBUSY) {
			console_errno("mount %s on %s", m->type, m->dir);
			if (m->required)
				rc = -1;
		}
	}
	return rc;
}

void mounts_root_readonly(void)
{
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
		console_errno("cannot make / read-only");
}

// Mount points from /proc/self/mountinfo, in mount order; their count.
static int list_mounts(char dirs[][256], int max)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return 0;
	int n = 0;
	char line[1024];
	while (n < max && fgets(line, sizeof(line), f)) {
		char dir[256];
		if (sscanf(line, "%*s %*s %*s %*s %255s", dir) == 1)
			snprintf(dirs[n++], 256, "%s", dir);
	}
	fclose(f);
	return n;
}

void mounts_unmount_all(void)
{
	static char dirs[128][256];
	int n = list_mounts(dirs, 128);
	for (int i = n - 1; i >= 0; i--) {
		const char *d = dirs[i];
		if (strcmp(d, "/") == 0 || strcmp(d, "/proc") == 0 || strcmp(d, "/sys") == 0 ||
		    strcmp(d, "/dev") == 0)
			continue;
		if (umount2(d, 0) == 0 || errno == EINVAL || errno == ENOENT)
			continue;
		// Busy (a process that would not die): at least make it clean on disk.
		if (mount(NULL, d, NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0)
			console_errno("cannot unmount or remount %s read-only", d);
	}
}

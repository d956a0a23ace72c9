// SPDX-License-Identifier: MIT
// The OS slots: which one booted, finding partitions by name, writing one, and GRUB's
// environment on the ESP.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "osslot.h"
#include "util.h"

#define ESP_DIR "/run/silo-esp"
#define ENV_PATH ESP_DIR "/grub/grubenv"
#define CHUNK (1 << 20)

char osslot_booted(void)
{
	char line[4096];
	if (util_read_small("/proc/cmdline", line, sizeof(line)) <= 0)
		return 0;
	for (char *p = line; (p = strstr(p, "silo.slot=")); p++)
		if ((p == line || p[-1] == ' ') && (p[10] == 'a' || p[10] == 'b') &&
		    (p[11] == ' ' || p[11] == '\n' || p[11] == '\0'))
			return p[10];
	return 0;
}

// /dev/NAME of the partition whose GPT name is partname. 0 / -1.
static int find_partition(const char *partname, char *dev, size_t devsz)
{
	DIR *d = opendir("/sys/class/block");
	if (!d)
		return -1;
	struct dirent *de;
	int found = -1;
	while (found < 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[512], text[2048];
		snprintf(path, sizeof(path), "/sys/class/block/%s/uevent", de->d_name);
		if (util_read_small(path, text, sizeof(text)) <= 0)
			continue;
		char want[128];
		snprintf(want, sizeof(want), "\nPARTNAME=%s\n", partname);
		if (strstr(text, want) || strncmp(text, want + 1, strlen(want) - 1) == 0) {
			snprintf(dev, devsz, "/dev/%s", de->d_name);
			found = 0;
		}
	}
	closedir(d);
	return found;
}

static int esp_mount(char *err, size_t errsz)
{
	char dev[300];
	if (find_partition("esp", dev, sizeof(dev)) < 0) {
		snprintf(err, errsz, "no partition named esp");
		return -1;
	}
	mkdir(ESP_DIR, 0700);
	if (mount(dev, ESP_DIR, "vfat", MS_NOSUID | MS_NODEV | MS_NOEXEC, "umask=077") < 0) {
		snprintf(err, errsz, "cannot mount the ESP %s: %s", dev, strerror(errno));
		return -1;
	}
	return 0;
}

static void esp_unmount(void)
{
	sync();
	umount(ESP_DIR);
}

int osslot_env_read(struct grubenv *e, char *err, size_t errsz)
{
	if (esp_mount(err, errsz) < 0)
		return -1;
	unsigned char block[GRUBENV_SIZE + 1];
	int fd = open(ENV_PATH, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, block, sizeof(block)) : -1;
	if (fd >= 0)
		close(fd);
	esp_unmount();
	if (n < 0) {
		snprintf(err, errsz, "%s: %s", ENV_PATH, strerror(errno));
		return -1;
	}
	return grubenv_parse(e, block, (size_t)n, err, errsz);
}

// In place, at the same size: GRUB writes this file through its block list, so it must
// never move or grow.
int osslot_env_write(const struct grubenv *e, char *err, size_t errsz)
{
	unsigned char block[GRUBENV_SIZE];
	if (grubenv_format(e, block) < 0) {
		snprintf(err, errsz, "the boot settings do not fit GRUB's 1024 bytes");
		return -1;
	}
	if (esp_mount(err, errsz) < 0)
		return -1;
	int fd = open(ENV_PATH, O_WRONLY | O_CLOEXEC);
	int r = fd >= 0 && pwrite(fd, block, sizeof(block), 0) == (ssize_t)sizeof(block) &&
			fsync(fd) == 0 ? 0 : -1;
	if (r < 0)
		snprintf(err, errsz, "%s: %s", ENV_PATH, strerror(errno));
	if (fd >= 0)
		close(fd);
	esp_unmount();
	return r;
}

static int copy_to(int fd, long long off, unsigned long long len, const char *dev, char *err,
		   size_t errsz)
{
	int out = open(dev, O_WRONLY | O_CLOEXEC | O_EXCL);
	uint64_t size = 0;
	if (out < 0 || ioctl(out, BLKGETSIZE64, &size) < 0) {
		snprintf(err, errsz, "%s: %s", dev, strerror(errno));
		if (out >= 0)
			close(out);
		return -1;
	}
	if (len > size) {
		snprintf(err, errsz, "the update holds %llu MiB, the slot %llu MiB", len >> 20,
			 (unsigned long long)size >> 20);
		close(out);
		return -1;
	}
	static char buf[CHUNK];
	for (unsigned long long done = 0; done < len;) {
		size_t want = len - done < CHUNK ? (size_t)(len - done) : CHUNK;
		ssize_t n = pread(fd, buf, want, (off_t)(off + (long long)done));
		if (n <= 0 || util_write_all(out, buf, (size_t)n) < 0) {
			snprintf(err, errsz, "writing %s: %s", dev, n < 0 || n > 0 ? strerror(errno)
										  : "short update");
			close(out);
			return -1;
		}
		done += (unsigned long long)n;
	}
	int r = fsync(out);
	if (r < 0)
		snprintf(err, errsz, "%s: %s", dev, strerror(errno));
	close(out);
	return r;
}

int osslot_install(int fd, long long off, unsigned long long len, char *err, size_t errsz)
{
	char booted = osslot_booted();
	if (!booted) {
		snprintf(err, errsz, "not booted from an OS slot (no silo.slot= on the kernel "
				     "command line)");
		return -1;
	}
	char target[2] = {booted == 'a' ? 'b' : 'a', '\0'}, part[16], dev[300];
	snprintf(part, sizeof(part), "silo-os-%s", target);
	if (find_partition(part, dev, sizeof(dev)) < 0) {
		snprintf(err, errsz, "no partition named %s", part);
		return -1;
	}
	struct grubenv e;
	if (osslot_env_read(&e, err, errsz) < 0)
		return -1;
	// The slot being overwritten must not be booted half-written.
	if (strcmp(grubenv_get(&e, "silo_next"), target) == 0 || *grubenv_get(&e, "silo_failed")) {
		grubenv_set(&e, "silo_next", "");
		grubenv_set(&e, "silo_tries", "");
		grubenv_set(&e, "silo_failed", "");
		if (osslot_env_write(&e, err, errsz) < 0)
			return -1;
	}
	if (copy_to(fd, off, len, dev, err, errsz) < 0)
		return -1;
	if (!*grubenv_get(&e, "silo_slot"))
		grubenv_set(&e, "silo_slot", (char[]){booted, '\0'});
	grubenv_set(&e, "silo_next", target);
	grubenv_set(&e, "silo_tries", OSSLOT_TRIES);
	return osslot_env_write(&e, err, errsz);
}

// SPDX-License-Identifier: MIT
// The data partition. The image ships it formatted (ext4, small) so the OS needs no mkfs;
// on a larger disk, the GPT entry is moved to the disk's end here and the kernel grows the
// mounted file system (EXT4_IOC_RESIZE_FS), so no resize2fs is needed either.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <linux/blkpg.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "disk.h"
#include "gpt.h"
#include "util.h"

#define EXT4_IOC_RESIZE_FS _IOW('f', 16, uint64_t)
#define EXT4_SB_OFFSET 1024

struct part {
	char name[32], disk[32];
	unsigned partno;
};

// The ext4 superblock fields used here (fixed offsets, ext4 disk layout).
struct ext4_sb {
	char label[17];
	uint64_t blocks;
	uint32_t block_size;
};

static int read_at(int fd, void *buf, size_t n, uint64_t off)
{
	return pread(fd, buf, n, (off_t)off) == (ssize_t)n ? 0 : -1;
}

static int write_at(int fd, const void *buf, size_t n, uint64_t off)
{
	return pwrite(fd, buf, n, (off_t)off) == (ssize_t)n ? 0 : -1;
}

static int read_sb(const char *dev, struct ext4_sb *sb)
{
	uint8_t b[1024];
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = read_at(fd, b, sizeof(b), EXT4_SB_OFFSET);
	close(fd);
	if (r < 0 || b[0x38] != 0x53 || b[0x39] != 0xef)
		return -1;
	uint32_t log = util_le32(b + 0x18);
	if (log > 6)
		return -1;
	sb->block_size = 1024u << log;
	sb->blocks = util_le32(b + 0x4);
	if (util_le32(b + 0x60) & 0x80)   // INCOMPAT_64BIT: the high half is valid
		sb->blocks |= (uint64_t)util_le32(b + 0x150) << 32;
	memcpy(sb->label, b + 0x78, 16);
	sb->label[16] = '\0';
	return 0;
}

static int read_sys(const char *path, char *buf, size_t sz)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	int r = fgets(buf, (int)sz, f) ? 0 : -1;
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return r;
}

static int find_label(const char *label, struct part *p)
{
	DIR *d = opendir("/sys/class/block");
	if (!d)
		return -1;
	struct dirent *e;
	int found = -1;
	while (found < 0 && (e = readdir(d))) {
		char path[512], num[16], dev[64];
		struct ext4_sb sb;
		if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(p->name))
			continue;
		snprintf(path, sizeof(path), "/sys/class/block/%s/partition", e->d_name);
		if (read_sys(path, num, sizeof(num)) < 0)
			continue;
		snprintf(dev, sizeof(dev), "/dev/%.31s", e->d_name);
		if (read_sb(dev, &sb) < 0 || strcmp(sb.label, label) != 0)
			continue;
		// The disk is the partition's parent directory in sysfs.
		snprintf(path, sizeof(path), "/sys/class/block/%s", e->d_name);
		char *real = realpath(path, NULL);
		if (!real)
			continue;
		snprintf(p->disk, sizeof(p->disk), "%s", basename(dirname(real)));
		free(real);
		snprintf(p->name, sizeof(p->name), "%.31s", e->d_name);
		p->partno = (unsigned)atoi(num);
		found = 0;
	}
	closedir(d);
	return found;
}

// Rewrites the GPT so the partition reaches the disk's end; 1 if it grew, 0 if not needed.
static int grow_partition(const struct part *p)
{
	char dev[64];
	snprintf(dev, sizeof(dev), "/dev/%s", p->disk);
	_cleanup_close_ int fd = open(dev, O_RDWR | O_CLOEXEC);
	uint64_t bytes;
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &bytes) < 0) {
		console_errno("disk: %s", dev);
		return -1;
	}
	uint64_t sectors = bytes / GPT_SECTOR;
	static uint8_t mbr[GPT_SECTOR], hdr[GPT_SECTOR], backup[GPT_SECTOR];
	static uint8_t entries[GPT_ENTRIES_BYTES];
	if (read_at(fd, mbr, GPT_SECTOR, 0) < 0 || read_at(fd, hdr, GPT_SECTOR, GPT_SECTOR) < 0 ||
	    read_at(fd, entries, sizeof(entries), 2 * GPT_SECTOR) < 0) {
		console_errno("disk: reading the partition table of %s", dev);
		return -1;
	}
	uint64_t last;
	enum gpt_err e = gpt_grow_last(hdr, entries, backup, sectors, p->partno, &last);
	if (e == GPT_E_NO_ROOM)
		return 0;
	if (e != GPT_OK) {
		console_log("disk: cannot grow %s: %s", p->name, gpt_strerror(e));
		return -1;
	}
	gpt_fix_pmbr(mbr, sectors);
	// Backup first: until the primary header changes, the old table stays the valid one.
	uint64_t backup_entries = (sectors - 1 - GPT_ENTRIES_BYTES / GPT_SECTOR) * GPT_SECTOR;
	if (write_at(fd, entries, sizeof(entries), backup_entries) < 0 ||
	    write_at(fd, backup, GPT_SECTOR, (sectors - 1) * GPT_SECTOR) < 0 || fsync(fd) < 0 ||
	    write_at(fd, entries, sizeof(entries), 2 * GPT_SECTOR) < 0 ||
	    write_at(fd, hdr, GPT_SECTOR, GPT_SECTOR) < 0 || write_at(fd, mbr, GPT_SECTOR, 0) < 0 ||
	    fsync(fd) < 0) {
		console_errno("disk: writing the partition table of %s", dev);
		return -1;
	}
	char path[256], start_s[32];
	snprintf(path, sizeof(path), "/sys/class/block/%s/start", p->name);
	if (read_sys(path, start_s, sizeof(start_s)) < 0)
		return -1;
	uint64_t start = strtoull(start_s, NULL, 10);
	struct blkpg_partition bp = { .start = (long long)(start * GPT_SECTOR),
				      .length = (long long)((last + 1 - start) * GPT_SECTOR),
				      .pno = (int)p->partno };
	struct blkpg_ioctl_arg arg = { .op = BLKPG_RESIZE_PARTITION, .datalen = sizeof(bp),
				       .data = &bp };
	if (ioctl(fd, BLKPG, &arg) < 0) {
		console_errno("disk: telling the kernel %s grew", p->name);
		return -1;
	}
	console_log("disk: %s now ends at the end of %s (%" PRIu64 " MiB)", p->name, p->disk,
		    (last + 1 - start) * GPT_SECTOR >> 20);
	return 1;
}

// Grows the mounted file system to its partition's size when it is smaller.
static void grow_fs(const struct part *p, const char *dir)
{
	char dev[64], path[256], size_s[32];
	snprintf(dev, sizeof(dev), "/dev/%s", p->name);
	snprintf(path, sizeof(path), "/sys/class/block/%s/size", p->name);
	struct ext4_sb sb;
	if (read_sb(dev, &sb) < 0 || read_sys(path, size_s, sizeof(size_s)) < 0)
		return;
	uint64_t want = strtoull(size_s, NULL, 10) * GPT_SECTOR / sb.block_size;
	if (want <= sb.blocks)
		return;
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, EXT4_IOC_RESIZE_FS, &want) < 0) {
		console_errno("disk: growing the file system on %s", p->name);
		return;
	}
	console_log("disk: file system on %s grown to %" PRIu64 " MiB", p->name,
		    want * sb.block_size >> 20);
}

int disk_mount_data(const char *label, const char *dir)
{
	struct part p;
	int waited = 0;
	while (find_label(label, &p) < 0) {
		if (waited >= 10000) {
			console_log("disk: no partition labelled '%s' found", label);
			return -1;
		}
		struct timespec ts = { 0, 100 * 1000000L };
		nanosleep(&ts, NULL);
		waited += 100;
	}
	grow_partition(&p);
	char dev[64];
	snprintf(dev, sizeof(dev), "/dev/%s", p.name);
	if (mount(dev, dir, "ext4", MS_NOSUID | MS_NODEV | MS_NOATIME, "errors=remount-ro") < 0) {
		console_errno("disk: mount %s on %s", dev, dir);
		return -1;
	}
	grow_fs(&p, dir);
	console_log("disk: %s (%s) mounted on %s", dev, label, dir);
	return 0;
}

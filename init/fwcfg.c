// SPDX-License-Identifier: MIT
// Reading qemu's fw_cfg entries from sysfs (the qemu_fw_cfg module): how the test harness
// and `make run` tell the guest the URL it is reached at through the host forwards, and
// hand silo test settings (an ACME directory, its CA) without rebuilding the image.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "console.h"
#include "fwcfg.h"
#include "util.h"

#define DIR_PATH FWCFG_DIR
// Entries under opt/silo/ that are not init.conf keys.
#define CONF_ENTRY "silo.conf"
#define FILE_DIR "file"

void fwcfg_apply(struct initconf *c)
{
	DIR *d = opendir(DIR_PATH);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) > 64 ||
		    strcmp(e->d_name, CONF_ENTRY) == 0 || strcmp(e->d_name, FILE_DIR) == 0)
			continue;
		char path[512], val[300], why[128];
		snprintf(path, sizeof(path), DIR_PATH "/%s/raw", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, val, sizeof(val) - 1);
		close(fd);
		if (n < 0 || n >= (ssize_t)sizeof(val) - 1) {
			console_log("fw_cfg %s: unreadable or too long", e->d_name);
			continue;
		}
		val[n] = '\0';
		val[strcspn(val, "\n")] = '\0';
		if (initconf_set(c, e->d_name, val, why, sizeof(why)) < 0)
			console_log("fw_cfg %s: %s", e->d_name, why);
	}
	closedir(d);
}

// The whole of a file of at most max bytes, NUL-terminated; NULL (errno set) otherwise.
static char *read_all(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *b = malloc(max + 1);
	size_t n = 0;
	ssize_t r = 0;
	while (b && n <= max && (r = read(fd, b + n, max + 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		n += (size_t)r;
	}
	int err = r < 0 ? errno : n > max ? EFBIG : 0;
	close(fd);
	if (!b || err) {
		free(b);
		errno = b ? err : ENOMEM;
		return NULL;
	}
	b[n] = '\0';
	*len = n;
	return b;
}

static int write_file(const char *path, mode_t mode, const char *a, size_t alen, const char *b,
		      size_t blen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	int r = util_write_all(fd, a, alen) | util_write_all(fd, b, blen);
	int err = errno;
	if (close(fd) < 0 || r < 0) {
		errno = r < 0 ? err : errno;
		return -1;
	}
	return 0;
}

// dir/file/NAME into files_dir/NAME. Names are plain (sysfs makes a '/' a subdirectory).
static int copy_files(const char *dir, const char *files_dir)
{
	char path[384];
	if (snprintf(path, sizeof(path), "%s/" FILE_DIR, dir) >= (int)sizeof(path))
		return -1;
	DIR *d = opendir(path);
	if (!d)
		return 0;
	int r = 0;
	if (mkdir(files_dir, 0755) < 0 && errno != EEXIST) {
		console_errno("fw_cfg: cannot make %s", files_dir);
		r = -1;
	}
	struct dirent *e;
	while (r == 0 && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (e->d_name[0] == '.' || n > 64 ||
		    strspn(e->d_name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "0123456789._-") != n)
			continue;
		char src[512], dst[512];
		if (strlen(files_dir) > 300)
			break;
		size_t len;
		snprintf(src, sizeof(src), "%s/%.64s/raw", path, e->d_name);
		snprintf(dst, sizeof(dst), "%.300s/%.64s", files_dir, e->d_name);
		char *data = read_all(src, FWCFG_MAX_FILE, &len);
		if (!data || write_file(dst, 0644, data, len, "", 0) < 0) {
			console_errno("fw_cfg: file %s", e->d_name);
			r = -1;
		}
		free(data);
	}
	closedir(d);
	return r;
}

int fwcfg_silo_conf(const char *dir, const char *image_conf, const char *out,
		    const char *files_dir)
{
	char path[384];
	size_t elen, ilen;
	if (copy_files(dir, files_dir) < 0)
		return -1;
	if (snprintf(path, sizeof(path), "%s/" CONF_ENTRY "/raw", dir) >= (int)sizeof(path))
		return -1;
	char *extra = read_all(path, FWCFG_MAX_CONF, &elen);
	if (!extra && errno == ENOENT)
		return 0;
	if (!extra) {
		console_errno("fw_cfg " CONF_ENTRY);
		return -1;
	}
	// silo's own parser checks the lines; a NUL would cut them short unseen.
	if (memchr(extra, '\0', elen)) {
		console_log("fw_cfg " CONF_ENTRY ": holds a NUL byte");
		free(extra);
		return -1;
	}
	char *image = read_all(image_conf, 64 * 1024, &ilen);
	if (!image && errno != ENOENT) {
		console_errno("%s", image_conf);
		free(extra);
		return -1;
	}
	char head[] = "\n# From qemu's fw_cfg (opt/silo/" CONF_ENTRY "):\n";
	char *both = malloc(sizeof(head) - 1 + elen + 1);
	int r = -1;
	if (both) {
		memcpy(both, head, sizeof(head) - 1);
		memcpy(both + sizeof(head) - 1, extra, elen);
		both[sizeof(head) - 1 + elen] = '\n';
		r = write_file(out, 0600, image ? image : "", image ? ilen : 0, both,
			       sizeof(head) + elen);
	}
	if (r < 0)
		console_errno("fw_cfg: cannot write %s", out);
	free(both);
	free(image);
	free(extra);
	return r < 0 ? -1 : 1;
}

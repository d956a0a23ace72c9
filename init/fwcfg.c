// SPDX-License-Identifier: MIT
// Reading qemu's fw_cfg entries from sysfs (the qemu_fw_cfg module): how the test harness
// and `make run` tell the guest the URL it is reached at through the host forwards.
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "console.h"
#include "fwcfg.h"

#define DIR_PATH "/sys/firmware/qemu_fw_cfg/by_name/opt/silo"

void fwcfg_apply(struct initconf *c)
{
	DIR *d = opendir(DIR_PATH);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) > 64)
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

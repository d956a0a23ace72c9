// SPDX-License-Identifier: MIT
// Module loading through libkmod: the image builder ran depmod over the shipped subset.
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libkmod.h>

#include "console.h"
#include "modules.h"
#include "util.h"

#define MAX_DEVICES 256
#define MAX_ALIASES 512

static bool device_alias(const char *alias)
{
	return strncmp(alias, "pci:", 4) == 0 || strncmp(alias, "virtio:", 7) == 0;
}

bool modules_wanted(const char *const *aliases, size_t naliases, const char *const *devices,
		    size_t ndevices, bool scsi_host)
{
	bool bound = false;
	for (size_t i = 0; i < naliases; i++) {
		if (strncmp(aliases[i], "scsi:", 5) == 0) {
			// SCSI devices appear only as a host adapter scans: judge by the adapter.
			if (scsi_host)
				return true;
			bound = true;
			continue;
		}
		if (!device_alias(aliases[i])) {
			// Another bus ("acpi*:", "input:"...): its devices may come later.
			if (strchr(aliases[i], ':'))
				return true;
			continue;   // "fs-vfat", "crypto-...": not a device at all
		}
		bound = true;
		for (size_t d = 0; d < ndevices; d++)
			if (fnmatch(aliases[i], devices[d], 0) == 0)
				return true;
	}
	return !bound;
}

// Whether a SCSI host adapter (a SATA, virtio SCSI or USB storage controller) is registered.
// Their drivers register it in their probe, and module loading waits for the scans they
// start (do_init_module's async_synchronize_full).
static bool scsi_host_present(void)
{
	DIR *dir = opendir("/sys/class/scsi_host");
	struct dirent *e;
	bool found = false;
	while (dir && !found && (e = readdir(dir)))
		found = e->d_name[0] != '.';
	if (dir)
		closedir(dir);
	return found;
}

// The modaliases of the PCI and virtio devices now present. The kernel has enumerated PCI
// before PID 1 runs, and virtio devices appear while virtio_pci binds (built in, or loaded
// earlier from the list), so what is absent here will not come.
static size_t read_devices(char *devices[], size_t max)
{
	static const char *const buses[] = { "/sys/bus/pci/devices", "/sys/bus/virtio/devices" };
	size_t n = 0;
	for (size_t b = 0; b < sizeof(buses) / sizeof(buses[0]); b++) {
		DIR *dir = opendir(buses[b]);
		struct dirent *e;
		while (dir && (e = readdir(dir)) && n < max) {
			if (e->d_name[0] == '.')
				continue;
			char path[512], buf[256];
			snprintf(path, sizeof(path), "%s/%s/modalias", buses[b], e->d_name);
			if (util_read_small(path, buf, sizeof(buf)) <= 0)
				continue;
			buf[strcspn(buf, "\n")] = '\0';
			devices[n] = strdup(buf);
			if (devices[n])
				n++;
		}
		if (dir)
			closedir(dir);
	}
	return n;
}

// A module that drives PCI or virtio devices and none of them is here, or SCSI disks and
// there is no SCSI host adapter: a disk controller the machine lacks costs 0.1-0.3 s to load
// under a slow CPU, with its dependencies. When the module's information cannot be read,
// it is wanted.
static bool wanted_here(struct kmod_module *m)
{
	struct kmod_list *info = NULL, *l;
	if (kmod_module_get_info(m, &info) < 0)
		return true;
	const char *aliases[MAX_ALIASES];
	size_t na = 0;
	bool overflow = false;
	kmod_list_foreach(l, info) {
		if (strcmp(kmod_module_info_get_key(l), "alias") != 0)
			continue;
		if (na == MAX_ALIASES)
			overflow = true;   // more than we can judge: load it
		else
			aliases[na++] = kmod_module_info_get_value(l);
	}
	if (overflow) {
		kmod_module_info_free_list(info);
		return true;
	}
	// Read again for each module: one loaded earlier in the list (virtio_pci) adds devices.
	char *devices[MAX_DEVICES];
	size_t nd = read_devices(devices, MAX_DEVICES);
	bool w = modules_wanted(aliases, na, (const char *const *)devices, nd, scsi_host_present());
	for (size_t i = 0; i < nd; i++)
		free(devices[i]);
	kmod_module_info_free_list(info);
	return w;
}

static int load_one(struct kmod_ctx *ctx, const char *name, char *skipped, size_t skipped_size)
{
	struct kmod_list *list = NULL, *l;
	int r = kmod_module_new_from_lookup(ctx, name, &list);
	if (r < 0 || !list) {
		console_log("module %s: not found in this image", name);
		return -1;
	}
	int rc = 0;
	kmod_list_foreach(l, list) {
		struct kmod_module *m = kmod_module_get_module(l);
		if (!wanted_here(m)) {
			size_t used = strlen(skipped);
			snprintf(skipped + used, skipped_size - used, "%s%s", used ? ", " : "",
				 kmod_module_get_name(m));
			kmod_module_unref(m);
			continue;
		}
		// Already loaded and built-in modules count as loaded.
		r = kmod_module_probe_insert_module(m, 0, NULL, NULL, NULL, NULL);
		if (r < 0 && r != -EEXIST) {
			console_log("module %s: %s", kmod_module_get_name(m), strerror(-r));
			rc = -1;
		}
		kmod_module_unref(m);
	}
	kmod_module_unref_list(list);
	return rc;
}

int modules_load_list(const char *file)
{
	FILE *f = fopen(file, "re");
	if (!f) {
		console_errno("cannot read %s", file);
		return 1;
	}
	struct kmod_ctx *ctx = kmod_new(NULL, NULL);
	if (!ctx) {
		console_log("libkmod: cannot start (no /lib/modules for this kernel?)");
		fclose(f);
		return 1;
	}
	kmod_load_resources(ctx);
	int failed = 0;
	char line[128], skipped[512] = "";
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "#\r\n \t")] = '\0';
		if (line[0] && load_one(ctx, line, skipped, sizeof(skipped)) < 0)
			failed++;
	}
	if (skipped[0])
		console_log("modules: no device here for %s (not loaded)", skipped);
	kmod_unref(ctx);
	fclose(f);
	return failed;
}

// SPDX-License-Identifier: MIT
// File-tree helpers for the parent: remove, measure, scan grain uids.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "parent_files.h"

#define TREE_MAX_DEPTH 256

// Works below an open directory fd with *at calls and O_NOFOLLOW, so a symlink planted by
// an app can never lead outside the tree.
static int remove_below(int dfd, int depth)
{
	if (depth > TREE_MAX_DEPTH)
		return -1;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -1;
	}
	int r = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0 || remove_below(sub, depth + 1) < 0 ||
			    unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) < 0)
				r = -1;
		} else if (unlinkat(dirfd(d), e->d_name, 0) < 0) {
			r = -1;
		}
	}
	closedir(d);
	return r;
}

int parent_remove_tree(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	int r = remove_below(fd, 0);
	if (r == 0 && rmdir(dir) < 0)
		r = -1;
	if (r < 0)
		log_err("parent_remove_tree: %s: not everything could be removed", dir);
	return r;
}

static int size_below(int dfd, uint64_t *bytes, int depth)
{
	if (depth > TREE_MAX_DEPTH)
		return -1;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -1;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		*bytes += (uint64_t)st.st_blocks * 512;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				size_below(sub, bytes, depth + 1);
		}
	}
	closedir(d);
	return 0;
}

int parent_tree_size(const char *dir, uint64_t *bytes)
{
	*bytes = 0;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	return size_below(fd, bytes, 0);
}

int parent_scan_uids(const char *grains_dir, uid_t base, uint64_t *bitmap, size_t nbits)
{
	DIR *d = opendir(grains_dir);
	if (!d)
		return -1;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s/var", grains_dir, e->d_name);
		struct stat st;
		if (lstat(path, &st) < 0 || st.st_uid < base)
			continue;
		size_t i = st.st_uid - base;
		if (i < nbits)
			bitmap[i / 64] |= 1ull << (i % 64);
	}
	closedir(d);
	return 0;
}

// SPDX-License-Identifier: MIT
// Installing an OS update (the parent, and `silo update`): copy the file where only root
// can reach it, verify it, write it to the inactive slot, and boot it next.
#pragma once
#include <stddef.h>

// fd: the update file. tmpdir: a directory of root's for the private copy. The update's
// version goes to version. 0, or an errno value with the reason in err: EBADMSG (bad
// signature), EINVAL (not an update, or one this build cannot read), EIO (the rest).
int parent_os_update(int fd, const char *tmpdir, char *version, size_t versionsz, char *err,
		     size_t errsz);

struct config;
// The same as a parent job (parent_job_spawn): fd the update, tmpdir the data directory;
// text gets the version on success, the reason otherwise.
int parent_os_update_job(const struct config *c, int fd, char *text, size_t textsz);

// SPDX-License-Identifier: MIT
// The parent's jobs: writing a grain's or the whole server's backup, unpacking a restored
// grain, installing an OS update, each in a child process so the parent keeps answering (and
// starting grains) while it runs.
#pragma once
#include <stdint.h>
#include <sys/types.h>

#include "privsep.h"

struct config;

enum parent_job_kind {
	JOB_GRAIN_BACKUP = 1,
	JOB_GRAIN_RESTORE,
	JOB_SERVER_BACKUP,
	JOB_OS_UPDATE,
};

struct parent_job {
	enum parent_job_kind kind;
	pid_t pid;
	uint32_t req_id;                // the front's request, answered when the child ends
	char grain[PRIV_ID_LEN + 1];    // backup, restore: the grain
	uid_t uid;                      // restore: the new grain's uid, reserved meanwhile
	int file;                       // backups: the file being written, else -1
	int report;                     // read end of the child's report pipe
};

// Each forks the job's child and fills j. 0, or -1 with err (nothing left running).
// A grain backup: root reads DIR/grains/<grain>/var (stopped) and the metadata from metafd.
int parent_job_grain_backup(const struct config *c, const char *grain, int metafd,
			    struct parent_job *j, char *err, size_t errsz);
// A restore: DIR/grains/<grain>/ is made for uid, and a child running as uid unpacks the
// backup in fd to DIR/grains/<grain>/var.
int parent_job_grain_restore(const struct config *c, const char *grain, uid_t uid, int fd,
			     struct parent_job *j, char *err, size_t errsz);
// A server backup: the store snapshot in dbfd, every package and every grain's /var.
int parent_job_server_backup(const struct config *c, int dbfd, struct parent_job *j, char *err,
			     size_t errsz);
// A job of another room, run by fn in the child with in (kept open across the fork): fn
// returns 0 or an errno value, with text for the reply (on success, what it made).
typedef int parent_job_fn(const struct config *c, int in, char *text, size_t textsz);
int parent_job_spawn(const struct config *c, enum parent_job_kind kind, int in,
		     parent_job_fn *fn, struct parent_job *j, char *err, size_t errsz);
// The child ended with wait status: fills reply's status and text and returns the fd to
// pass to the front (-1 when none; the caller closes it). A restore's grain directory is
// handed to root and checked, or removed when anything failed. Frees what j held.
int parent_job_finish(const struct config *c, struct parent_job *j, int status,
		      struct priv_msg *reply);

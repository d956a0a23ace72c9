// SPDX-License-Identifier: MIT
// The messages between the unprivileged front and the privileged parent: fixed-size, typed
// records over a SOCK_SEQPACKET socketpair, with file descriptors passed alongside.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define PRIV_ID_LEN 32   // grain and package ids: 32 lowercase hex characters

enum priv_type {
	// front -> parent requests; each is answered by one PRIV_REPLY with the same id.
	PRIV_GRAIN_CREATE = 1, // grain: make its directory and give it a uid
	PRIV_GRAIN_START,      // grain, package, action (-1: continue): reply carries the wire fd
	PRIV_GRAIN_STOP,       // grain: kill its sandbox now
	PRIV_GRAIN_DESTROY,    // grain: stop it and delete its files
	PRIV_GRAIN_SIZE,       // grain: reply value = bytes used by its /var
	PRIV_GRAIN_LOG,        // grain: reply carries a read-only fd of its console log
	PRIV_PKG_INSTALL,      // fd of an uploaded .spk: verify and unpack; reply text = app id,
	                       // value = version, action = 1 when it was unpacked before
	PRIV_PKG_REMOVE,       // package: delete its unpacked tree
	PRIV_GRAIN_BACKUP,     // grain (stopped), fd: a pipe holding its metadata JSON; the
	                       // reply carries a read-only fd of the finished backup file
	PRIV_GRAIN_RESTORE,    // grain (a new id), fd: an uploaded backup; unpacks it as the new
	                       // grain's /var under a fresh uid
	PRIV_SERVER_BACKUP,    // fd: a snapshot of the store; stops every grain, and the reply
	                       // carries a read-only fd of a backup of the whole server
	PRIV_POWER,            // action 0: power off, 1: reboot (the appliance only; replies
	                       // ENOTSUP natively)
	PRIV_OS_UPDATE,        // fd: an uploaded OS update file; verifies it, writes it to the
	                       // inactive slot and boots it next; reply text = its version
	PRIV_TLS_BUNDLE,       // value = the stamp held: reply value = current stamp, and when
	                       // it differs, a memfd holding the keys and chains (tls.h)
	PRIV_HTTPS_CHECK,      // action = enum https_check_kind, text = the name: the reply
	                       // says whether it can be used (status 0) or what is wrong
	PRIV_HTTPS_APPLY,      // action = enum https_mode, text = the name: the certificate
	                       // worker restarts for the wizard's choice
	// parent -> front
	PRIV_REPLY = 100,
	PRIV_GRAIN_EXITED,     // grain: its sandbox ended; value = wait status
};

struct priv_msg {
	uint32_t type;
	uint32_t id;                        // request id, echoed by the reply
	int32_t status;                     // replies: 0, or an errno value
	int32_t action;
	uint64_t value;
	char grain[PRIV_ID_LEN + 1];
	char package[PRIV_ID_LEN + 1];
	char text[1024];                    // replies: an error message, or the app id
};

// Sends m (and fd when >= 0). 0 / -1.
int priv_send(int sock, const struct priv_msg *m, int fd);
// Receives one message (and at most one fd, -1 when none). 0, 1 on EOF, -1 on error or a
// malformed message (wrong size, strings not terminated or ids not hex).
int priv_recv(int sock, struct priv_msg *m, int *fd);
// true when s is exactly PRIV_ID_LEN lowercase hex characters.
bool priv_id_valid(const char *s);

// SPDX-License-Identifier: MIT
// Installing an OS update: private copy, signature, header, slot, GRUB's environment.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "osslot.h"
#include "osupdate.h"
#include "parent_os.h"

int parent_os_update(int fd, const char *tmpdir, char *version, size_t versionsz, char *err,
		     size_t errsz)
{
	unsigned char pk[OSUPDATE_PUBKEY];
	struct osupdate_header h;
	if (osupdate_load_pub(OSSLOT_PUBKEY, pk, err, errsz) != OSU_OK)
		return EIO;
	// The uploader may still hold the file: verify and write a copy nobody else can open.
	int copy = open(tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (copy < 0) {
		snprintf(err, errsz, "%s: %s", tmpdir, strerror(errno));
		return EIO;
	}
	enum osupdate_result r = osupdate_copy_verify(fd, copy, pk, &h, err, errsz);
	if (r != OSU_OK) {
		close(copy);
		return r == OSU_E_SIG ? EBADMSG : r == OSU_E_IO ? EIO : EINVAL;
	}
	int e = osslot_install(copy, OSUPDATE_HEAD, h.payload_len, err, errsz) < 0 ? EIO : 0;
	close(copy);
	if (!e)
		snprintf(version, versionsz, "%s", h.version);
	return e;
}

int parent_os_update_job(const struct config *c, int fd, char *text, size_t textsz)
{
	char version[128];
	int e = parent_os_update(fd, c->data, version, sizeof(version), text, textsz);
	if (!e)
		snprintf(text, textsz, "%s", version);
	return e;
}

// SPDX-License-Identifier: MIT
// The random seed file, as systemd-random-seed does: credit the old seed, write a new one.
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>

#include "console.h"
#include "entropy.h"

#define SEED_BYTES 512

void entropy_save(const char *seed_file)
{
	unsigned char buf[SEED_BYTES];
	// Without GRND_NONBLOCK this waits for the pool; virtio-rng and jitter entropy fill it.
	if (getrandom(buf, sizeof(buf), 0) != (ssize_t)sizeof(buf)) {
		console_errno("entropy: getrandom");
		return;
	}
	char tmp[256];
	snprintf(tmp, sizeof(tmp), "%s.tmp", seed_file);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		console_errno("entropy: %s", tmp);
		return;
	}
	int ok = write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf) && fsync(fd) == 0;
	ok &= close(fd) == 0;
	if (!ok || rename(tmp, seed_file) < 0)
		console_errno("entropy: saving %s", seed_file);
}

void entropy_seed(const char *seed_file)
{
	struct {
		struct rand_pool_info info;
		unsigned char buf[SEED_BYTES];
	} s;
	int fd = open(seed_file, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, s.buf, sizeof(s.buf)) : -1;
	if (fd >= 0)
		close(fd);
	if (n > 0) {
		int rnd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
		s.info.entropy_count = (int)n * 8;
		s.info.buf_size = (int)n;
		if (rnd < 0 || ioctl(rnd, RNDADDENTROPY, &s.info) < 0)
			console_errno("entropy: adding the seed");
		if (rnd >= 0)
			close(rnd);
	} else if (errno != ENOENT) {
		console_errno("entropy: %s", seed_file);
	}
	entropy_save(seed_file);
}

// SPDX-License-Identifier: MIT
// silo-init's hand-over points: qemu's silo.conf lines and files (fw_cfg, laid out here in
// a directory as sysfs shows them), and silo's "serving" line with its fingerprint.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fwcfg.h"
#include "supervise.h"
#include "test.h"

#define FP "5bb0f8e7e565a7d5df843fc1f2d7ca25e8e6d8b3fe60d917b3c6a369661ff1a8"

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	// Each fw_cfg entry is a directory holding `raw`; names with '/' nest.
	for (char *p = path + strlen(root) + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static char *slurp(const char *rel)
{
	static char buf[4096];
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

static void test_silo_conf(void)
{
	char dir[128], image[128], out[128], files[128];
	snprintf(dir, sizeof(dir), "%s/fw", root);
	snprintf(image, sizeof(image), "%s/image.conf", root);
	snprintf(out, sizeof(out), "%s/run.conf", root);
	snprintf(files, sizeof(files), "%s/file", root);
	put("image.conf", "listen = 0.0.0.0:80\nlisten_tls = 0.0.0.0:443\n");
	mkdir(dir, 0755);
	CHECK(fwcfg_silo_conf(dir, image, out, files) == 0 && access(out, F_OK) < 0,
	      "fwcfg: no silo.conf from qemu: silo keeps its own file");

	put("fw/silo.conf/raw", "acme_directory = https://10.0.2.100:14000/dir\n"
				"acme_ca = /run/silo/file/pebble.pem");
	put("fw/file/pebble.pem/raw", "-----BEGIN CERTIFICATE-----\nAA==\n");
	put("fw/file/..evil/raw", "no");
	CHECK(fwcfg_silo_conf(dir, image, out, files) == 1, "fwcfg: qemu's lines are taken");
	const char *conf = slurp("run.conf");
	CHECK(conf && strncmp(conf, "listen = 0.0.0.0:80\nlisten_tls = 0.0.0.0:443\n", 45) == 0,
	      "fwcfg: the image's settings come first");
	CHECK(conf && strstr(conf, "\nacme_directory = https://10.0.2.100:14000/dir\nacme_ca = "
				   "/run/silo/file/pebble.pem\n"),
	      "fwcfg: qemu's lines follow (later lines win), ending in a newline");
	const char *pem = slurp("file/pebble.pem");
	CHECK_STR(pem, "-----BEGIN CERTIFICATE-----\nAA==\n", "fwcfg: a file is copied whole");
	CHECK(!slurp("file/..evil"), "fwcfg: a file name starting with '.' is skipped");

	put("image.conf", "");
	unlink(image);
	CHECK(fwcfg_silo_conf(dir, image, out, files) == 1 && slurp("run.conf") &&
	      strstr(slurp("run.conf"), "acme_directory"),
	      "fwcfg: without the image's file, qemu's lines alone");

	char *big = malloc(FWCFG_MAX_CONF + 2);
	memset(big, '#', FWCFG_MAX_CONF + 1);
	big[FWCFG_MAX_CONF + 1] = '\0';
	put("fw/silo.conf/raw", big);
	free(big);
	CHECK(fwcfg_silo_conf(dir, image, out, files) == -1,
	      "fwcfg: silo.conf past %d bytes is refused", FWCFG_MAX_CONF);
}

static void test_ready(void)
{
	char fp[SUPERVISE_FP_HEX + 1] = "x";
	CHECK(supervise_parse_ready("serving\n", 8, fp) == 1 && fp[0] == '\0',
	      "ready: 'serving' without TLS");
	CHECK(supervise_parse_ready("serving sha256 " FP "\n", 80, fp) == 1,
	      "ready: 'serving' with a fingerprint");
	CHECK(strcmp(fp, FP) == 0, "ready: the fingerprint is kept");
	CHECK(supervise_parse_ready("serving sha256 " FP, 79, fp) == 1,
	      "ready: the newline is optional");
	CHECK(supervise_parse_ready("serving sha256 5BB0", 19, fp) == 0 && fp[0] == '\0',
	      "ready: a short fingerprint is refused");
	char bad[] = "serving sha256 " FP "\n";
	bad[20] = 'g';
	CHECK(supervise_parse_ready(bad, 80, fp) == 0, "ready: a non-hex fingerprint is refused");
	CHECK(supervise_parse_ready("stopped\n", 8, fp) == 0, "ready: anything else is not serving");
	CHECK(supervise_parse_ready("", 0, fp) == 0, "ready: an empty read is not serving");
}

int main(void)
{
	snprintf(root, sizeof(root), "/tmp/silo-test-fwcfg-XXXXXX");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	test_silo_conf();
	test_ready();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", root);
	return test_done();
}

// SPDX-License-Identifier: MIT
// OS update files and GRUB's environment: a signed file verifies and its fields read back;
// one flipped bit anywhere, another key, a truncated or padded file, a header that lies
// about the length or a future format are each refused with the reason; the copy made while
// verifying is exactly the verified bytes. GRUB's block: parse, set, unset, format, limits.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "grubenv.h"
#include "osupdate.h"
#include "test.h"

static char dir[] = "/tmp/silo-osupdate-XXXXXX";

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	unsigned char *p = malloc(*len);
	if (p && fread(p, 1, *len, f) != *len) {
		free(p);
		p = NULL;
	}
	fclose(f);
	return p;
}

static void spit(const char *path, const unsigned char *p, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(p, 1, len, f);
		fclose(f);
	}
}

static enum osupdate_result check(const unsigned char *p, size_t n, const unsigned char *pk,
				  char *err)
{
	struct osupdate_header h;
	return osupdate_check_mem(p, n, pk, &h, err, 512);
}

static void test_files(void)
{
	char sec[256], pub[256], payload[256], upd[256], other_sec[256], other_pub[256], err[512];
	snprintf(sec, sizeof(sec), "%s/k", dir);
	snprintf(pub, sizeof(pub), "%s/k.pub", dir);
	snprintf(other_sec, sizeof(other_sec), "%s/o", dir);
	snprintf(other_pub, sizeof(other_pub), "%s/o.pub", dir);
	snprintf(payload, sizeof(payload), "%s/slot.img", dir);
	snprintf(upd, sizeof(upd), "%s/os.update", dir);
	CHECK(osupdate_keygen(sec, pub, err, sizeof(err)) == OSU_OK, "osupdate: keygen: %s", err);
	CHECK(osupdate_keygen(sec, pub, err, sizeof(err)) == OSU_E_IO,
	      "osupdate: keygen never overwrites a key");
	osupdate_keygen(other_sec, other_pub, err, sizeof(err));
	unsigned char pk[OSUPDATE_PUBKEY], opk[OSUPDATE_PUBKEY], sk[OSUPDATE_SECKEY];
	CHECK(osupdate_load_pub(pub, pk, err, sizeof(err)) == OSU_OK &&
	      osupdate_load_sec(sec, sk, err, sizeof(err)) == OSU_OK &&
	      osupdate_load_pub(other_pub, opk, err, sizeof(err)) == OSU_OK, "osupdate: keys load");
	CHECK(osupdate_load_pub(payload, pk + 0, err, sizeof(err)) != OSU_OK,
	      "osupdate: a missing key file is an error");

	size_t plen = 3 * 4096 + 17;
	unsigned char *p = malloc(plen);
	for (size_t i = 0; i < plen; i++)
		p[i] = (unsigned char)(i * 31 + 7);
	spit(payload, p, plen);
	CHECK(osupdate_sign(payload, "6.12", "0.1.0-test", sk, upd, err, sizeof(err)) == OSU_OK,
	      "osupdate: sign: %s", err);
	CHECK(osupdate_sign(payload, "6.12", "has space", sk, upd, err, sizeof(err)) == OSU_E_FORMAT,
	      "osupdate: a version with a space is refused at signing");
	osupdate_sign(payload, "6.12", "0.1.0-test", sk, upd, err, sizeof(err));
	size_t n;
	unsigned char *f = slurp(upd, &n);
	CHECK(f && n == OSUPDATE_HEAD + plen + OSUPDATE_SIG, "osupdate: file is head + payload + sig");
	if (!f)
		return;
	CHECK(memcmp(f, "SILOOSU\n", 8) == 0 && f[8] == 1 && f[12] == 128,
	      "osupdate: magic, format 1, header length 128 (docs/OS-UPDATE.md)");
	CHECK(memcmp(f + OSUPDATE_HEAD, p, plen) == 0, "osupdate: the payload follows the header");
	struct osupdate_header h;
	CHECK(osupdate_check_mem(f, n, pk, &h, err, sizeof(err)) == OSU_OK, "osupdate: verifies: %s",
	      err);
	CHECK(h.payload_len == plen, "osupdate: payload length read back");
	CHECK_STR(h.series, "6.12", "osupdate: series read back");
	CHECK_STR(h.version, "0.1.0-test", "osupdate: version read back");
	CHECK(check(f, n, opk, err) == OSU_E_SIG, "osupdate: another build's key is refused");
	CHECK(strstr(err, "signature"), "osupdate: ... and says it is the signature: %s", err);

	// One bit flipped anywhere (header, payload, signature) is refused as a bad signature.
	size_t spots[] = {0, 20, 40, 127, 128, 128 + plen / 2, n - 65, n - 64, n - 1};
	int all = 1;
	for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
		f[spots[i]] ^= 0x10;
		all &= check(f, n, pk, err) == OSU_E_SIG;
		f[spots[i]] ^= 0x10;
	}
	CHECK(all, "osupdate: a flipped bit in the header, payload or signature is refused");
	CHECK(check(f, n - 1, pk, err) != OSU_OK && check(f, 100, pk, err) == OSU_E_SIZE &&
	      check(f, 0, pk, err) == OSU_E_SIZE, "osupdate: truncated files are refused");
	CHECK(check(f, (size_t)(OSUPDATE_HEAD + OSUPDATE_MAX_PAYLOAD + OSUPDATE_SIG + 1), pk, err) ==
	      OSU_E_SIZE, "osupdate: a file over the limit is refused before reading it");

	// The copy made while verifying holds the verified bytes.
	int in = open(upd, O_RDONLY), out = open(dir, O_TMPFILE | O_RDWR, 0600);
	CHECK(osupdate_copy_verify(in, out, pk, &h, err, sizeof(err)) == OSU_OK,
	      "osupdate: copy and verify a file: %s", err);
	unsigned char *back = malloc(n);
	CHECK(back && pread(out, back, n, 0) == (ssize_t)(n - OSUPDATE_SIG) &&
	      memcmp(back, f, n - OSUPDATE_SIG) == 0, "osupdate: the copy is head + payload");
	free(back);
	close(in);
	close(out);
	f[200] ^= 1;
	spit(upd, f, n);
	in = open(upd, O_RDONLY);
	out = open(dir, O_TMPFILE | O_RDWR, 0600);
	CHECK(osupdate_copy_verify(in, out, pk, &h, err, sizeof(err)) == OSU_E_SIG,
	      "osupdate: a changed file is refused while copying");
	close(in);
	close(out);
	f[200] ^= 1;

	// Signed headers this build cannot read: future format, wrong length, junk in the text.
	unsigned char head[OSUPDATE_HEAD];
	memcpy(head, f, sizeof(head));
	CHECK(osupdate_parse_header(head, n, &h, err, sizeof(err)) == OSU_OK, "osupdate: header parses");
	CHECK(osupdate_parse_header(head, n + 1, &h, err, sizeof(err)) == OSU_E_FORMAT,
	      "osupdate: a header whose length disagrees with the file's is refused");
	head[8] = 2;
	CHECK(osupdate_parse_header(head, n, &h, err, sizeof(err)) == OSU_E_FORMAT &&
	      strstr(err, "format 2"), "osupdate: format 2 is refused by name: %s", err);
	head[8] = 1;
	head[40] = 0;
	CHECK(osupdate_parse_header(head, n, &h, err, sizeof(err)) == OSU_E_FORMAT,
	      "osupdate: an empty version is refused");
	head[40] = '0';
	head[120] = 1;
	CHECK(osupdate_parse_header(head, n, &h, err, sizeof(err)) == OSU_E_FORMAT,
	      "osupdate: non-zero reserved bytes are refused");
	free(f);
	free(p);
}

static void test_grubenv(void)
{
	unsigned char block[GRUBENV_SIZE];
	char err[256];
	struct grubenv e = {0};
	CHECK(grubenv_format(&e, block) == 0 && memcmp(block, "# GRUB Environment Block\n", 25) == 0 &&
	      block[GRUBENV_SIZE - 1] == '#', "grubenv: an empty block is the header and padding");
	CHECK(grubenv_set(&e, "silo_slot", "a") == 0 && grubenv_set(&e, "silo_next", "b") == 0 &&
	      grubenv_set(&e, "silo_tries", "3") == 0 && grubenv_format(&e, block) == 0,
	      "grubenv: set and format");
	CHECK(memcmp(block + 25, "silo_slot=a\nsilo_next=b\nsilo_tries=3\n###", 40) == 0,
	      "grubenv: the lines GRUB's load_env reads");
	struct grubenv r;
	CHECK(grubenv_parse(&r, block, sizeof(block), err, sizeof(err)) == 0 && r.n == 3,
	      "grubenv: parses back: %s", err);
	CHECK_STR(grubenv_get(&r, "silo_next"), "b", "grubenv: a value read back");
	CHECK_STR(grubenv_get(&r, "nothing"), "", "grubenv: an unset name is empty");
	grubenv_set(&r, "silo_next", "");
	CHECK(r.n == 2 && !*grubenv_get(&r, "silo_next"), "grubenv: an empty value unsets");
	CHECK(grubenv_set(&r, "bad name", "x") < 0 && grubenv_set(&r, "x", "a\nb") < 0,
	      "grubenv: bad names and values are refused");
	CHECK(grubenv_parse(&r, block, sizeof(block) - 1, err, sizeof(err)) < 0,
	      "grubenv: a block that is not 1024 bytes is refused");
	block[600] = 'x';
	CHECK(grubenv_parse(&r, block, sizeof(block), err, sizeof(err)) < 0,
	      "grubenv: junk in the padding is refused");
	struct grubenv big = {0};
	char name[32], value[GRUBENV_VALUE_MAX + 1];
	memset(value, 'v', GRUBENV_VALUE_MAX);
	value[GRUBENV_VALUE_MAX] = '\0';
	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		grubenv_set(&big, name, value);
	}
	CHECK(grubenv_format(&big, block) < 0, "grubenv: more than 1024 bytes does not format");
}

int main(void)
{
	if (sodium_init() < 0 || !mkdtemp(dir))
		return 1;
	test_files();
	test_grubenv();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return test_done();
}

// SPDX-License-Identifier: MIT
// The parent's part of TLS: DATA/tls/, the self-signed certificate, bundles for the front.
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <sodium.h>

#include "config.h"
#include "log.h"
#include "parent_tls.h"
#include "server.h"
#include "tlscert.h"
#include "util.h"

// The files a bundle is made of, in the order they go into it.
// The ACME file holds key and chain together (the worker replaces it in one rename).
static const char *const files[] = {"acme/cert.pem", NULL, "self.key", "self.crt"};

int parent_tls_host(const struct config *c, char *host, size_t hostsz)
{
	char url[256], h[256];
	bool tls;
	if (server_base_url(c, url, sizeof(url), h, sizeof(h), &tls) < 0)
		return -1;
	const char *p = h;
	size_t n;
	if (*p == '[') {
		p++;
		n = strcspn(p, "]");
	} else {
		n = strcspn(p, ":");
	}
	if (!n || n >= hostsz)
		return -1;
	memcpy(host, p, n);
	host[n] = '\0';
	return 0;
}

// Loads DATA/tls/self.key, or makes and saves a new one.
static int self_key(const char *dir, mbedtls_pk_context *pk)
{
	char path[PATH_MAX];
	util_path(path, sizeof(path), "%s/self.key", dir);
	if (mbedtls_pk_parse_keyfile(pk, path, NULL) == 0)
		return 0;
	mbedtls_pk_free(pk);
	mbedtls_pk_init(pk);
	unsigned char pem[TLSCERT_PEM_MAX];
	if (tlscert_gen_key(pk) < 0 || mbedtls_pk_write_key_pem(pk, pem, sizeof(pem)) != 0) {
		log_err("tls: cannot make a key");
		return -1;
	}
	int r = tlscert_write_file(path, pem, strlen((char *)pem), 0600);
	sodium_memzero(pem, sizeof(pem));
	if (r < 0)
		log_err("tls: cannot write %s: %s", path, strerror(errno));
	return r;
}

// The existing certificate is kept when it belongs to the key and covers the host.
static bool cert_usable(const char *path, mbedtls_pk_context *pk, const char *host,
			char fp[TLSCERT_FP_HEX + 1])
{
	mbedtls_x509_crt crt;
	mbedtls_x509_crt_init(&crt);
	bool ok = mbedtls_x509_crt_parse_file(&crt, path) == 0 &&
		  mbedtls_pk_check_pair(&crt.pk, pk) == 0 && tlscert_covers(&crt, host) &&
		  !mbedtls_x509_time_is_past(&crt.valid_to);
	if (ok)
		tlscert_fingerprint(&crt, fp);
	mbedtls_x509_crt_free(&crt);
	return ok;
}

int parent_tls_prepare(const struct config *c, char *fp)
{
	char dir[PATH_MAX], path[PATH_MAX], host[256];
	util_path(dir, sizeof(dir), "%s/tls", c->data);
	// Root's when silo runs as root: the front never reads keys, the parent hands them over.
	if (mkdir(dir, 0711) < 0 && errno != EEXIST) {
		log_err("tls: cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (parent_tls_host(c, host, sizeof(host)) < 0) {
		log_err("tls: no host name in the base URL");
		return -1;
	}
	mbedtls_pk_context pk;
	mbedtls_pk_init(&pk);
	int r = self_key(dir, &pk);
	util_path(path, sizeof(path), "%s/self.crt", dir);
	if (r == 0 && !cert_usable(path, &pk, host, fp)) {
		char names[2][TLSCERT_MAX_NAME + 1];
		unsigned char pem[TLSCERT_PEM_MAX];
		size_t n = tlscert_host_names(host, names, 2);
		r = n && tlscert_self_signed(&pk, names, n, pem, sizeof(pem)) == 0 ? 0 : -1;
		if (r == 0 && (r = tlscert_write_file(path, pem, strlen((char *)pem), 0644)) < 0)
			log_err("tls: cannot write %s: %s", path, strerror(errno));
		else if (r < 0)
			log_err("tls: cannot make a certificate for %s", host);
		if (r == 0 && !cert_usable(path, &pk, host, fp))
			r = -1;
		if (r == 0)   // an address gets no wildcard (tlscert_host_names)
			log_info("tls: made a self-signed certificate for %s%s%s", host,
				 n > 1 ? " and *." : "", n > 1 ? host : "");
	}
	mbedtls_pk_free(&pk);
	if (r < 0)
		return -1;
	// The exact form the console and tests look for; people compare it before trusting.
	fprintf(stderr, "silo: tls: sha256 %s\n", fp);
	fflush(stderr);
	return 0;
}

static uint64_t stamp_of(const char *dir)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		char path[PATH_MAX];
		struct stat st;
		if (!files[i])
			continue;
		util_path(path, sizeof(path), "%s/%s", dir, files[i]);
		uint64_t v[4] = {0};
		if (stat(path, &st) == 0) {
			v[0] = st.st_ino;
			v[1] = (uint64_t)st.st_size;
			v[2] = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec;
			v[3] = (uint64_t)st.st_ctim.tv_sec * 1000000000ull + (uint64_t)st.st_ctim.tv_nsec;
		}
		for (size_t k = 0; k < 4; k++)
			h = (h ^ v[k]) * 1099511628211ull;
	}
	return h | 1;
}

int parent_tls_bundle(const struct config *c, uint64_t *stamp)
{
	char dir[PATH_MAX];
	util_path(dir, sizeof(dir), "%s/tls", c->data);
	*stamp = stamp_of(dir);
	int fd = memfd_create("silo-tls", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		log_err("tls: memfd_create: %s", strerror(errno));
		return -1;
	}
	// A pair goes in only whole: an ACME key without its chain (mid-renewal) is left out.
	for (size_t i = 0; i < ARRAY_LEN(files); i += 2) {
		char kp[PATH_MAX], cp[PATH_MAX];
		size_t kl, cl;
		util_path(kp, sizeof(kp), "%s/%s", dir, files[i]);
		util_path(cp, sizeof(cp), "%s/%s", dir, files[i + 1] ? files[i + 1] : "");
		char *k = tlscert_read_file(kp, 64 * 1024, &kl);
		char *crt = k && files[i + 1] ? tlscert_read_file(cp, 128 * 1024, &cl) : NULL;
		int r = 0;
		if (k && (crt || !files[i + 1]))
			r = util_write_all(fd, k, kl) | util_write_all(fd, "\n", 1) |
			    (crt ? util_write_all(fd, crt, cl) | util_write_all(fd, "\n", 1) : 0);
		if (k)
			sodium_memzero(k, kl);
		free(k);
		free(crt);
		if (r < 0) {
			log_err("tls: cannot fill the bundle: %s", strerror(errno));
			close(fd);
			return -1;
		}
	}
	fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
	return fd;
}

void parent_tls_answer(const struct config *c, int sock, const struct priv_msg *m)
{
	struct priv_msg r = {.type = PRIV_REPLY, .id = m->id};
	char dir[PATH_MAX];
	util_path(dir, sizeof(dir), "%s/tls", c->data);
	int fd = -1;
	if (!c->nlisten_tls) {
		r.status = ENOENT;
		snprintf(r.text, sizeof(r.text), "TLS is off");
	} else if (stamp_of(dir) == m->value) {
		r.value = m->value;
	} else if ((fd = parent_tls_bundle(c, &r.value)) < 0) {
		r.status = EIO;
		snprintf(r.text, sizeof(r.text), "cannot read the certificate files");
	}
	if (priv_send(sock, &r, fd) < 0)
		log_err("parent: cannot answer the front: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
}

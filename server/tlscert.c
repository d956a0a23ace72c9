// SPDX-License-Identifier: MIT
// Keys, certificates and CSRs with mbedtls, and the small file helpers their owners share.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/oid.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_csr.h>
#include <sodium.h>

#include "tlscert.h"
#include "util.h"

int tlscert_rng(void *unused, unsigned char *out, size_t n)
{
	(void)unused;
	randombytes_buf(out, n);
	return 0;
}

int tlscert_gen_key(mbedtls_pk_context *pk)
{
	if (mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0)
		return -1;
	return mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk), tlscert_rng,
				   NULL) == 0 ? 0 : -1;
}

size_t tlscert_host_names(const char *host, char names[][TLSCERT_MAX_NAME + 1], size_t max)
{
	unsigned char ip[16];
	size_t n = 0;
	if (!max || strlen(host) > TLSCERT_MAX_NAME - 2)
		return 0;
	snprintf(names[n++], TLSCERT_MAX_NAME + 1, "%s", host);
	// Grain session hosts are ui-<id>.<host>: the wildcard covers them. An address has none.
	if (n < max && inet_pton(AF_INET, host, ip) != 1 && inet_pton(AF_INET6, host, ip) != 1)
		snprintf(names[n++], TLSCERT_MAX_NAME + 1, "*.%s", host);
	return n;
}

// GeneralNames (RFC 5280 4.2.1.6): dNSName [2] or iPAddress [7], written backwards as
// mbedtls' asn1write does. Returns the length, or -1 when it does not fit.
static int san_der(char names[][TLSCERT_MAX_NAME + 1], size_t n, unsigned char *buf, size_t sz)
{
	unsigned char *p = buf + sz;
	size_t len = 0;
	for (size_t i = n; i-- > 0;) {
		unsigned char ip[16];
		size_t l;
		unsigned char tag;
		const unsigned char *v;
		if (inet_pton(AF_INET, names[i], ip) == 1) {
			l = 4, v = ip, tag = MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7;
		} else if (inet_pton(AF_INET6, names[i], ip) == 1) {
			l = 16, v = ip, tag = MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7;
		} else {
			l = strlen(names[i]), v = (const unsigned char *)names[i];
			tag = MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2;
		}
		int r1 = mbedtls_asn1_write_raw_buffer(&p, buf, v, l);
		if (r1 < 0)
			return -1;
		int r2 = mbedtls_asn1_write_len(&p, buf, l);
		int r3 = r2 < 0 ? r2 : mbedtls_asn1_write_tag(&p, buf, tag);
		if (r2 < 0 || r3 < 0)
			return -1;
		len += (size_t)(r1 + r2 + r3);
	}
	int r1 = mbedtls_asn1_write_len(&p, buf, len);
	int r2 = r1 < 0 ? r1 : mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED |
							      MBEDTLS_ASN1_SEQUENCE);
	if (r1 < 0 || r2 < 0)
		return -1;
	len += (size_t)(r1 + r2);
	memmove(buf, p, len);
	return (int)len;
}

static void validity(time_t t, char out[16])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 16, "%Y%m%d%H%M%S", &tm);
}

int tlscert_self_signed(mbedtls_pk_context *pk, char names[][TLSCERT_MAX_NAME + 1], size_t n,
			unsigned char *out, size_t outsz)
{
	mbedtls_x509write_cert w;
	mbedtls_mpi serial;
	unsigned char san[2048], sb[16];
	char subject[TLSCERT_MAX_NAME + 8], from[16], to[16];
	int sanlen = san_der(names, n, san, sizeof(san));
	if (!n || sanlen < 0 || strpbrk(names[0], ",=+\\\"<>;"))
		return -1;
	mbedtls_x509write_crt_init(&w);
	mbedtls_mpi_init(&serial);
	randombytes_buf(sb, sizeof(sb));
	sb[0] &= 0x7f; // a positive serial
	// A wildcard cannot be a CN people read; the host itself is names[0].
	snprintf(subject, sizeof(subject), "CN=%s", names[0]);
	time_t now = time(NULL);
	validity(now - 3600, from); // a little slack for clocks behind ours
	validity(now + 10L * 365 * 86400, to);
	int r = mbedtls_mpi_read_binary(&serial, sb, sizeof(sb));
	mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&w, pk);
	mbedtls_x509write_crt_set_issuer_key(&w, pk);
	if (!r)
		r = mbedtls_x509write_crt_set_serial(&w, &serial);
	if (!r)
		r = mbedtls_x509write_crt_set_subject_name(&w, subject);
	if (!r)
		r = mbedtls_x509write_crt_set_issuer_name(&w, subject);
	if (!r)
		r = mbedtls_x509write_crt_set_validity(&w, from, to);
	if (!r)
		r = mbedtls_x509write_crt_set_basic_constraints(&w, 0, -1);
	if (!r)
		r = mbedtls_x509write_crt_set_extension(&w, MBEDTLS_OID_SUBJECT_ALT_NAME,
							MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
							san, (size_t)sanlen);
	if (!r)
		r = mbedtls_x509write_crt_pem(&w, out, outsz, tlscert_rng, NULL);
	mbedtls_mpi_free(&serial);
	mbedtls_x509write_crt_free(&w);
	return r ? -1 : 0;
}

int tlscert_csr(mbedtls_pk_context *pk, char names[][TLSCERT_MAX_NAME + 1], size_t n,
		unsigned char *out, size_t outsz, const unsigned char **der, size_t *derlen)
{
	mbedtls_x509write_csr w;
	unsigned char san[4096];
	char subject[TLSCERT_MAX_NAME + 8];
	int sanlen = san_der(names, n, san, sizeof(san));
	if (!n || sanlen < 0 || strpbrk(names[0], ",=+\\\"<>;"))
		return -1;
	snprintf(subject, sizeof(subject), "CN=%s", names[0]);
	mbedtls_x509write_csr_init(&w);
	mbedtls_x509write_csr_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_csr_set_key(&w, pk);
	int r = mbedtls_x509write_csr_set_subject_name(&w, subject);
	if (!r)
		r = mbedtls_x509write_csr_set_extension(&w, MBEDTLS_OID_SUBJECT_ALT_NAME,
							MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME),
							san, (size_t)sanlen);
	int len = r ? -1 : mbedtls_x509write_csr_der(&w, out, outsz, tlscert_rng, NULL);
	mbedtls_x509write_csr_free(&w);
	if (len <= 0)
		return -1;
	*der = out + outsz - (size_t)len;
	*derlen = (size_t)len;
	return 0;
}

void tlscert_fingerprint(const mbedtls_x509_crt *crt, char hex[TLSCERT_FP_HEX + 1])
{
	unsigned char h[32];
	mbedtls_sha256_ret(crt->raw.p, crt->raw.len, h, 0);
	for (size_t i = 0; i < sizeof(h); i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
}

bool tlscert_name_match(const char *pattern, size_t plen, const char *host)
{
	size_t hl = strlen(host);
	// A wildcard stands for exactly one label (RFC 6125 6.4.3), never a bare suffix.
	if (plen > 2 && pattern[0] == '*' && pattern[1] == '.') {
		const char *dot = strchr(host, '.');
		if (!dot || dot == host)
			return false;
		size_t rest = hl - (size_t)(dot + 1 - host);
		return rest == plen - 2 && strncasecmp(dot + 1, pattern + 2, rest) == 0;
	}
	return hl == plen && strncasecmp(host, pattern, hl) == 0;
}

bool tlscert_covers(const mbedtls_x509_crt *crt, const char *host)
{
	unsigned char ip[16];
	size_t iplen = inet_pton(AF_INET, host, ip) == 1 ? 4 : inet_pton(AF_INET6, host, ip) == 1 ? 16 : 0;
	for (const mbedtls_x509_sequence *s = &crt->subject_alt_names; s && s->buf.p; s = s->next) {
		int type = s->buf.tag & MBEDTLS_ASN1_TAG_VALUE_MASK;
		if (type == 2 && !iplen &&
		    tlscert_name_match((const char *)s->buf.p, s->buf.len, host))
			return true;
		if (type == 7 && iplen && s->buf.len == iplen && memcmp(s->buf.p, ip, iplen) == 0)
			return true;
	}
	return false;
}

int tlscert_write_file(const char *path, const void *data, size_t len, unsigned mode)
{
	char tmp[4200];
	if (util_path(tmp, sizeof(tmp), "%s.tmp", path) < 0)
		return -1;
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -1;
	if (util_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		return -1;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}

char *tlscert_read_file(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	char *b = malloc(max + 1);
	size_t n = 0;
	while (b && n <= max) {
		ssize_t r = read(fd, b + n, max + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(b);
			b = NULL;
		}
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (b && n > max) {
		free(b);
		errno = EFBIG;
		return NULL;
	}
	if (b) {
		b[n] = '\0';
		if (len)
			*len = n;
	}
	return b;
}

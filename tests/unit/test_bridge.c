// SPDX-License-Identifier: MIT
// End-to-end tests of silo-bridge without a sandbox: this program runs build/silo-bridge
// (or $SILO_BRIDGE) with fd 3 = one end of a socketpair and, as its app, itself in "--app"
// mode: a small HTTP server on a kernel-chosen 127.0.0.1 port that echoes requests as JSON
// and can answer chunked, slowly, hugely, wrongly, or as a WebSocket echo. The tests drive
// the bridge with grain_client on an event loop (raw frames where the front would never send
// them), and check identity headers, multiplexing, flow control, errors, keep-alive
// connections to the app, the app's life cycle, reaping, and the bridge's memory.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <mbedtls/base64.h>
#include <mbedtls/sha1.h>
#include <mbedtls/version.h>

#include "buf.h"
#include "ev.h"
#include "grain_client.h"
#include "http.h"
#include "util.h"
#include "wire.h"
#include "test.h"

#define USER_ID "0123456789abcdef0123456789abcdef"
#define WS_KEY "dGhlIHNhbXBsZSBub25jZQ=="             // RFC 6455 1.3's example
#define WS_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define RSS_LIMIT_KIB 512

static char self_path[PATH_MAX];
static char bridge_path[PATH_MAX];
static char bridge_comm[16];
static bool bridge_asan;     // the sanitizer build: its memory is not measured
// A process's memory from /proc/PID/status, in KiB: all resident pages, and its private
// (anonymous) part. The rest is the executable's text, file pages shared with every other
// process running the same file.
struct mem {
	long rss, anon;
};
static struct mem mem_peak = {-1, -1};   // the release bridge's largest figures while serving
static struct mem mem_idle = {-1, -1};   // and after it said HELLO, before any request

static char pattern_byte(uint64_t i)
{
	return (char)('a' + i % 26);
}

static uint32_t fnv1a(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

// ======================= The app (this program with --app) =======================

static volatile sig_atomic_t app_exit_code = -1;
static long *app_conns;    // connections the app accepted (shared with its children)
static int app_nreq;       // requests served on this child's connection so far
static long app_linger_ms = 10000; // how long this child waits for the next request
static bool app_drop_next; // read the next request on this connection and close unanswered
static bool app_had_fd3;   // the wire leaked into the app

static void app_on_usr2(int sig)
{
	(void)sig;
	app_exit_code = 7;
}

static void write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(0);
		c += w;
		n -= (size_t)w;
	}
}

static void write_str(int fd, const char *s)
{
	write_all(fd, s, strlen(s));
}

static bool read_n(int fd, void *p, size_t n)
{
	char *c = p;
	while (n) {
		ssize_t r = read(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		c += r;
		n -= (size_t)r;
	}
	return true;
}

static long query_num(const char *query, const char *key, long def)
{
	size_t kl = strlen(key);
	for (const char *p = query; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL)
		if (strncmp(p, key, kl) == 0 && p[kl] == '=')
			return strtol(p + kl + 1, NULL, 10);
	return def;
}

struct app_req {
	struct http_request h;
	struct buf body;
};

// Reads one request: 0, or an HTTP status to answer.
static int app_read_request(int fd, struct app_req *r)
{
	struct buf in;
	buf_init(&in);
	int st;
	for (;;) {
		if (buf_reserve(&in, 4096) < 0)
			return 500;
		ssize_t n = read(fd, in.data + in.len, 4096);
		if (n <= 0)
			return -1;
		in.len += (size_t)n;
		st = http_parse_head(in.data, in.len, &r->h);
		if (st != HTTP_PARSE_INCOMPLETE)
			break;
	}
	if (st != HTTP_PARSE_OK)
		return st;
	// ?sleep=MS: a slow reader, so the request body backs up into the bridge and the front.
	usleep((useconds_t)query_num(r->h.query, "sleep", 0) * 1000);
	size_t off = r->h.head_len;
	if (r->h.chunked) {
		struct http_chunked c;
		http_chunked_init(&c);
		for (;;) {
			size_t used;
			int cr = http_chunked_feed(&c, in.data + off, in.len - off, &r->body, 8 << 20, &used);
			if (cr == HTTP_CHUNKED_DONE)
				break;
			if (cr != HTTP_CHUNKED_MORE)
				return cr;
			buf_reset(&in);
			off = 0;
			buf_reserve(&in, 65536);
			ssize_t n = read(fd, in.data, 65536);
			if (n <= 0)
				return 400;
			in.len = (size_t)n;
		}
	} else if (r->h.content_length > 0) {
		size_t want = (size_t)r->h.content_length;
		buf_append(&r->body, in.data + off, in.len - off < want ? in.len - off : want);
		while (r->body.len < want) {
			char tmp[65536];
			size_t k = want - r->body.len < sizeof(tmp) ? want - r->body.len : sizeof(tmp);
			ssize_t n = read(fd, tmp, k);
			if (n <= 0)
				return 400;
			buf_append(&r->body, tmp, (size_t)n);
		}
	}
	buf_free(&in);
	return 0;
}

static void respond(int fd, int status, const char *type, const char *body, size_t n)
{
	char head[256];
	snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n",
		 status, http_reason(status), type, n);
	write_str(fd, head);
	write_all(fd, body, n);
}

static void app_echo(int fd, struct app_req *r)
{
	json_t *o = json_object(), *hs = json_array();
	json_object_set_new(o, "method", json_string(r->h.method_name));
	json_object_set_new(o, "target", json_string(r->h.target));
	for (size_t i = 0; i < r->h.nheaders; i++) {
		json_t *v = json_string(r->h.headers[i].value);
		json_array_append_new(hs, json_pack("[so]", r->h.headers[i].name, v ? v : json_string("?")));
	}
	json_object_set_new(o, "headers", hs);
	json_object_set_new(o, "body_len", json_integer((json_int_t)r->body.len));
	json_object_set_new(o, "body_fnv", json_integer(fnv1a(r->body.data, r->body.len)));
	if (r->body.len <= 4096)
		json_object_set_new(o, "body", json_stringn(r->body.data ? r->body.data : "", r->body.len));
	json_object_set_new(o, "pid", json_integer(getppid()));
	json_object_set_new(o, "child", json_integer(getpid())); // one child per connection
	json_object_set_new(o, "nreq", json_integer(app_nreq));
	json_object_set_new(o, "fd3", json_boolean(app_had_fd3));
	const char *env = getenv("SILO_TEST_ENV");
	json_object_set_new(o, "env", json_string(env ? env : ""));
	char *s = json_dumps(o, JSON_COMPACT);
	respond(fd, 200, "application/json", s, strlen(s));
	free(s);
	json_decref(o);
}

static void app_big(int fd, long size)
{
	char head[128], block[65536];
	snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
		 "Content-Length: %ld\r\n\r\n", size);
	write_str(fd, head);
	for (long off = 0; off < size;) {
		size_t n = (size_t)(size - off) < sizeof(block) ? (size_t)(size - off) : sizeof(block);
		for (size_t i = 0; i < n; i++)
			block[i] = pattern_byte((uint64_t)off + i);
		write_all(fd, block, n);
		off += (long)n;
	}
}

static void app_chunked(int fd, long chunks, long size)
{
	write_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n");
	char *block = malloc((size_t)size + 32);
	uint64_t off = 0;
	for (long c = 0; c < chunks; c++) {
		int h = sprintf(block, "%lx;n=%ld\r\n", size, c);
		for (long i = 0; i < size; i++)
			block[h + i] = pattern_byte(off + (uint64_t)i);
		memcpy(block + h + size, "\r\n", 2);
		write_all(fd, block, (size_t)(h + size + 2));
		off += (uint64_t)size;
		if (c % 7 == 3)
			usleep(2000); // let some chunks arrive split from the others
	}
	write_str(fd, "0\r\nX-Trailer: t\r\n\r\n");
	free(block);
}

static void ws_accept(const char *key, char *out, size_t outsz)
{
	char in[128];
	unsigned char sha[20];
	snprintf(in, sizeof(in), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
#if MBEDTLS_VERSION_MAJOR >= 3
	mbedtls_sha1((const unsigned char *)in, strlen(in), sha);
#else
	mbedtls_sha1_ret((const unsigned char *)in, strlen(in), sha);
#endif
	size_t olen = 0;
	mbedtls_base64_encode((unsigned char *)out, outsz, &olen, sha, sizeof(sha));
	out[olen < outsz ? olen : outsz - 1] = '\0';
}

// A WebSocket echo (RFC 6455): every frame comes back unmasked; a close frame is answered
// and ends the connection.
static void app_ws(int fd, struct app_req *r)
{
	const char *key = http_header(&r->h, "Sec-WebSocket-Key");
	const char *up = http_header(&r->h, "Upgrade"), *conn = http_header(&r->h, "Connection");
	if (!key || !up || strcasecmp(up, "websocket") != 0 || !conn || strcasecmp(conn, "Upgrade") != 0) {
		respond(fd, 400, "text/plain", "not an upgrade\n", 15);
		return;
	}
	char acc[64], head[512];
	ws_accept(key, acc, sizeof(acc));
	const char *proto = http_header(&r->h, "Sec-WebSocket-Protocol");
	snprintf(head, sizeof(head), "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s%s%s\r\n", acc,
		 proto ? "Sec-WebSocket-Protocol: " : "", proto ? proto : "", proto ? "\r\n" : "");
	write_str(fd, head);
	for (;;) {
		unsigned char h[2], ext[8], mask[4] = {0};
		if (!read_n(fd, h, 2))
			return;
		unsigned op = h[0] & 15;
		uint64_t len = h[1] & 127;
		if (len == 126) {
			if (!read_n(fd, ext, 2))
				return;
			len = (uint64_t)ext[0] << 8 | ext[1];
		} else if (len == 127) {
			return; // not needed here
		}
		if ((h[1] & 0x80) && !read_n(fd, mask, 4))
			return;
		unsigned char *p = malloc(len + 1);
		if (!p || !read_n(fd, p, len))
			return;
		for (uint64_t i = 0; i < len; i++)
			p[i] ^= mask[i % 4];
		unsigned char oh[4] = {(unsigned char)(0x80 | op)};
		size_t ohl = 2;
		if (len < 126) {
			oh[1] = (unsigned char)len;
		} else {
			oh[1] = 126;
			oh[2] = (unsigned char)(len >> 8);
			oh[3] = (unsigned char)len;
			ohl = 4;
		}
		write_all(fd, oh, ohl);
		write_all(fd, p, len);
		free(p);
		if (op == 8)
			return;
	}
}

// Serves one request; true when the connection stays open for another (HTTP/1.1
// keep-alive, the response framed by its length or chunked).
static bool app_handle(int fd)
{
	struct app_req r;
	memset(&r, 0, sizeof(r));
	buf_init(&r.body);
	int st = app_read_request(fd, &r);
	if (st < 0 || app_drop_next)
		return false; // ?drop=1 before: as if the app closed the idle connection just then
	app_nreq++;
	if (st) {
		char msg[64];
		int n = snprintf(msg, sizeof(msg), "app: request refused with %d\n", st);
		respond(fd, st, "text/plain", msg, (size_t)n);
		return false;
	}
	const char *path = r.h.path, *q = r.h.query;
	bool keep = r.h.keep_alive;
	app_linger_ms = query_num(q, "linger", 10000);
	app_drop_next = query_num(q, "drop", 0) != 0;
	if (strcmp(path, "/echo") == 0) {
		app_echo(fd, &r);
	} else if (strcmp(path, "/conns") == 0) {
		char msg[64];
		int n = snprintf(msg, sizeof(msg), "{\"conns\":%ld,\"child\":%d}", *app_conns, (int)getpid());
		respond(fd, 200, "application/json", msg, (size_t)n);
	} else if (strcmp(path, "/big") == 0) {
		app_big(fd, query_num(q, "size", 1000));
	} else if (strcmp(path, "/chunked") == 0) {
		app_chunked(fd, query_num(q, "n", 10), query_num(q, "size", 100));
	} else if (strcmp(path, "/slow") == 0) {
		usleep((useconds_t)query_num(q, "ms", 100) * 1000);
		respond(fd, 200, "text/plain", "slow\n", 5);
	} else if (strcmp(path, "/cl-close") == 0) {
		// Says it closes, then keeps serving: only the header tells the bridge not to reuse.
		write_str(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 4\r\n\r\nbye\n");
	} else if (strcmp(path, "/http10") == 0) {
		// HTTP/1.0 without keep-alive closes by default (RFC 9112 9.3); this app keeps serving.
		write_str(fd, "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhttp0");
	} else if (strcmp(path, "/close") == 0) {
		write_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n");
		write_str(fd, "until the connection closes\n");
	} else if (strcmp(path, "/early-close") == 0) {
		// nothing: closing is the answer
	} else if (strcmp(path, "/half") == 0) {
		write_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
	} else if (strcmp(path, "/pieces") == 0) {
		// Python's wsgiref writes the status line, each header and the body separately.
		write_str(fd, "HTTP/1.0 200 OK\r\n");
		usleep(20 * 1000);
		write_str(fd, "Content-Type: text/plain\r\n");
		usleep(20 * 1000);
		write_str(fd, "Content-Length: 6\r\n\r");
		usleep(20 * 1000);
		write_str(fd, "\npieces");
	} else if (strcmp(path, "/garbage") == 0) {
		write_str(fd, "HTLP/1.1 200 OK\r\n\r\n");
	} else if (strcmp(path, "/inject") == 0) {
		write_str(fd, "HTTP/1.1 200 OK\r\nX-A: b\nX-Injected: 1\r\nContent-Length: 0\r\n\r\n");
	} else if (strcmp(path, "/badchunk") == 0) {
		write_str(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX");
	} else if (strcmp(path, "/continue") == 0) {
		write_str(fd,
			"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
	} else if (strcmp(path, "/ws") == 0) {
		app_ws(fd, &r);
	} else if (strcmp(path, "/orphan") == 0) {
		// A grandchild outlives its parent (this handler): it is reparented to the bridge,
		// which must reap it.
		pid_t g = fork();
		if (g == 0) {
			usleep(200 * 1000);
			_exit(0);
		}
		char msg[32];
		int n = snprintf(msg, sizeof(msg), "%d", (int)g);
		respond(fd, 200, "text/plain", msg, (size_t)n);
	} else if (strcmp(path, "/exit") == 0) {
		respond(fd, 200, "text/plain", "bye\n", 4);
		kill(getppid(), SIGUSR2);
	} else {
		respond(fd, 404, "text/plain", "no such endpoint\n", 17);
	}
	// The broken and close-delimited answers end the connection, as their app would.
	static const char *const closing[] = {"/close", "/early-close", "/half", "/pieces", "/garbage",
					      "/inject", "/badchunk", "/ws", "/exit", "/orphan"};
	for (size_t i = 0; i < sizeof(closing) / sizeof(closing[0]); i++)
		if (strcmp(path, closing[i]) == 0)
			keep = false;
	buf_free(&r.body);
	http_request_free(&r.h);
	return keep;
}

// Whether another request arrives on fd within the linger time (an idle timeout like notes').
static bool app_next_request(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, (int)app_linger_ms) > 0;
}

// app: --app FD [delay=MS | never | serial]; FD is a bound, not yet listening socket.
static int app_main(int argc, char **argv)
{
	app_had_fd3 = fcntl(3, F_GETFD) != -1; // before this program opens anything
	int lfd = atoi(argv[2]);
	const char *opt = argc > 3 ? argv[3] : "";
	prctl(PR_SET_PDEATHSIG, SIGKILL); // never outlive the bridge, whatever happens to it
	signal(SIGCHLD, SIG_IGN);
	struct sigaction sa = {.sa_handler = app_on_usr2}; // no SA_RESTART: accept sees EINTR
	sigaction(SIGUSR2, &sa, NULL);
	if (strcmp(opt, "never") == 0)
		for (;;)
			pause();
	if (strncmp(opt, "delay=", 6) == 0)
		usleep((useconds_t)atoi(opt + 6) * 1000);
	if (listen(lfd, 128) < 0)
		_exit(2);
	app_conns = mmap(NULL, sizeof(*app_conns), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			 -1, 0);
	if (app_conns == MAP_FAILED)
		_exit(2);
	for (;;) {
		// The flag is checked at least every 20 ms: the signal may land outside accept.
		struct pollfd p = {.fd = lfd, .events = POLLIN};
		if (app_exit_code >= 0)
			_exit(app_exit_code);
		if (poll(&p, 1, 20) <= 0)
			continue;
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		__atomic_add_fetch(app_conns, 1, __ATOMIC_SEQ_CST);
		if (strcmp(opt, "serial") == 0) {
			// One connection at a time, kept alive: the next is accepted only once the
			// client closes this one (or it idles past the linger time).
			while (app_handle(c) && app_next_request(c))
				;
			close(c);
			continue;
		}
		pid_t pid = fork();
		if (pid == 0) {
			close(lfd);
			while (app_handle(c) && app_next_request(c))
				;
			_exit(0);
		}
		close(c);
	}
}

// ======================= Running a bridge =======================

struct bproc {
	pid_t pid;
	int wire;
	int port;
	char log[64];
	int status;    // wait status once reaped, -1 before
};

static const char *bridge_pool_idle; // --pool-idle MS for the next bridge started, or NULL

// Starts the bridge: --port P, extra options, then the app (this program, or app_cmd).
static bool bproc_start(struct bproc *bp, const char *extra, const char *app_opt, const char *app_cmd)
{
	memset(bp, 0, sizeof(*bp));
	bp->status = -1;
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int sv[2];
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return false;
	bp->port = ntohs(sa.sin_port);
	snprintf(bp->log, sizeof(bp->log), "/tmp/silo-test-bridge-XXXXXX");
	int logfd = mkostemp(bp->log, O_CLOEXEC);
	if (logfd < 0)
		return false;
	char port[16], timeout[32] = "";
	snprintf(port, sizeof(port), "%d", bp->port);
	const char *argv[16];
	int n = 0;
	argv[n++] = bridge_path;
	argv[n++] = "--port";
	argv[n++] = port;
	if (extra) {
		snprintf(timeout, sizeof(timeout), "%s", extra);
		argv[n++] = "--start-timeout";
		argv[n++] = timeout;
	}
	if (bridge_pool_idle) {
		argv[n++] = "--pool-idle";
		argv[n++] = bridge_pool_idle;
	}
	argv[n++] = "--";
	if (app_cmd) {
		argv[n++] = app_cmd;
	} else {
		argv[n++] = self_path;
		argv[n++] = "--app";
		argv[n++] = "4";
		argv[n++] = app_opt ? app_opt : "";
	}
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
		int w = fcntl(sv[1], F_DUPFD_CLOEXEC, 10), l = fcntl(lfd, F_DUPFD_CLOEXEC, 10);
		int g = fcntl(logfd, F_DUPFD_CLOEXEC, 10);
		if (dup2(nul, 0) < 0 || dup2(g, 1) < 0 || dup2(g, 2) < 0 || dup2(w, 3) < 0 || dup2(l, 4) < 0)
			_exit(126);
		execv(bridge_path, (char *const *)argv);
		_exit(127);
	}
	close(sv[1]);
	close(lfd);
	close(logfd);
	bp->pid = pid;
	bp->wire = sv[0];
	return pid > 0;
}

// Waits up to ms for the bridge to exit; its wait status, or -1 (then it is killed).
static int bproc_wait(struct bproc *bp, int ms)
{
	if (bp->status >= 0 || bp->pid <= 0)
		return bp->status;
	for (int waited = 0;; waited += 5) {
		int st;
		pid_t r = waitpid(bp->pid, &st, WNOHANG);
		if (r == bp->pid) {
			bp->status = st;
			return st;
		}
		if (waited >= ms)
			break;
		usleep(5000);
	}
	kill(bp->pid, SIGKILL);
	waitpid(bp->pid, NULL, 0);
	bp->pid = 0;
	return -1;
}

static bool log_has(const struct bproc *bp, const char *text)
{
	FILE *f = fopen(bp->log, "r");
	if (!f)
		return false;
	char line[2048];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	fclose(f);
	return found;
}

// Shows the bridge's log as TAP comments (after a failure).
static void log_dump(const struct bproc *bp)
{
	FILE *f = fopen(bp->log, "r");
	if (!f)
		return;
	char line[2048];
	while (fgets(line, sizeof(line), f))
		printf("# log: %s", line);
	fclose(f);
}

static void bproc_cleanup(struct bproc *bp, int failed_before)
{
	if (test_failed > failed_before)
		log_dump(bp);
	if (bp->wire >= 0)
		close(bp->wire);
	bp->wire = -1;
	bproc_wait(bp, 5000);
	unlink(bp->log);
}

static struct mem proc_mem(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	struct mem m = {-1, -1};
	FILE *f = fopen(path, "r");
	if (!f)
		return m;
	char name[32] = "";
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "Name: %31s", name);
		sscanf(line, "VmRSS: %ld kB", &m.rss);
		sscanf(line, "RssAnon: %ld kB", &m.anon);
	}
	fclose(f);
	if (strcmp(name, bridge_comm) != 0)
		return (struct mem){-1, -1}; // not yet exec'd: still a copy of this program
	return m;
}

static void mem_max(struct mem *peak, struct mem m)
{
	if (m.rss > peak->rss)
		peak->rss = m.rss;
	if (m.anon > peak->anon)
		peak->anon = m.anon;
}

// ======================= Driving it with grain_client =======================

struct scen {
	struct bproc bp;
	struct ev_loop *loop;
	struct gc *gc;
	bool dead;
	char why[160];
	int outstanding;
	bool timed_out;
	bool until_dead;              // run until the wire dies, not until the exchanges end
	void (*then)(struct scen *);  // when every exchange ended: may open more
	struct mem peak;
	struct ev_timer timeout, sampler;
};

// ev_run cannot be entered again once stopped, so a scenario is one run: callbacks
// decide when it is over.
static void scen_idle(struct scen *sc)
{
	if (sc->outstanding)
		return;
	if (sc->then) {
		void (*fn)(struct scen *) = sc->then;
		sc->then = NULL;
		fn(sc);
	}
	if (!sc->outstanding && !sc->until_dead)
		ev_stop(sc->loop);
}

static struct scen *cur;   // the scenario the callbacks belong to

static void on_dead(struct gc *gc, void *arg, const char *why)
{
	(void)gc;
	struct scen *sc = arg;
	sc->dead = true;
	snprintf(sc->why, sizeof(sc->why), "%s", why);
	if (!sc->outstanding || sc->until_dead)
		ev_stop(sc->loop);
}

static void on_sample(struct ev_loop *loop, void *arg)
{
	struct scen *sc = arg;
	mem_max(&sc->peak, proc_mem(sc->bp.pid));
	ev_timer_set(loop, &sc->sampler, 5, on_sample, sc);
}

static void on_timeout(struct ev_loop *loop, void *arg)
{
	struct scen *sc = arg;
	sc->timed_out = true;
	ev_stop(loop);
}

static bool scen_start(struct scen *sc, const char *timeout, const char *app_opt, const char *app_cmd)
{
	memset(sc, 0, sizeof(*sc));
	sc->peak = (struct mem){-1, -1};
	cur = sc;
	if (!bproc_start(&sc->bp, timeout, app_opt, app_cmd))
		return false;
	sc->loop = ev_new();
	sc->gc = gc_new(sc->loop, sc->bp.wire, on_dead, sc);
	sc->bp.wire = -1; // the gc owns it now
	return sc->loop && sc->gc;
}

// Runs until every exchange is done (or the wire died with none left), at most ms.
static bool scen_run(struct scen *sc, int ms)
{
	sc->timed_out = false;
	ev_timer_set(sc->loop, &sc->timeout, ms, on_timeout, sc);
	ev_timer_set(sc->loop, &sc->sampler, 0, on_sample, sc);
	ev_run(sc->loop);
	ev_timer_cancel(sc->loop, &sc->timeout);
	ev_timer_cancel(sc->loop, &sc->sampler);
	if (!bridge_asan)
		mem_max(&mem_peak, sc->peak);
	return !sc->timed_out;
}

// Closes the wire (the front hangs up) and waits for the bridge: its wait status.
static int scen_end(struct scen *sc, int failed_before)
{
	gc_free(sc->gc);
	sc->gc = NULL;
	int st = bproc_wait(&sc->bp, 5000);
	ev_free(sc->loop);
	bproc_cleanup(&sc->bp, failed_before);
	return st;
}

// One HTTP exchange and what came back.
struct ex {
	struct gc_stream *s;
	int status;
	int64_t clen;
	struct buf headers, body;
	bool keep_body;
	size_t nbody;
	bool pattern_ok;
	bool ended;
	unsigned reset;
	bool done;
	bool pause;               // pause the stream when the response head arrives
	int first_seq, last_seq;  // order of the first and last body delivery among all streams
	int64_t opened_ms, done_ms;
};

static int body_seq;

static void ex_finish(struct ex *e)
{
	e->done = true;
	e->done_ms = util_now_ms();
	gc_stream_close(e->s);
	e->s = NULL;
	cur->outstanding--;
	scen_idle(cur);
}

static void ex_response(struct gc_stream *s, void *arg, const struct wire_response *r)
{
	struct ex *e = arg;
	e->status = r->status;
	e->clen = r->content_length;
	for (size_t i = 0; i < r->nheaders; i++) {
		buf_append(&e->headers, r->headers[i].name.p, r->headers[i].name.len);
		buf_puts(&e->headers, ": ");
		buf_append(&e->headers, r->headers[i].value.p, r->headers[i].value.len);
		buf_putc(&e->headers, '\n');
	}
	buf_cstr(&e->headers);
	if (e->pause)
		gc_stream_pause(s);
}

static void ex_body(struct gc_stream *s, void *arg, const char *p, size_t n)
{
	(void)s;
	struct ex *e = arg;
	for (size_t i = 0; i < n; i++)
		if (p[i] != pattern_byte(e->nbody + i))
			e->pattern_ok = false;
	if (e->keep_body)
		buf_append(&e->body, p, n);
	if (!e->first_seq)
		e->first_seq = ++body_seq;
	e->last_seq = ++body_seq;
	e->nbody += n;
}

static void ex_end(struct gc_stream *s, void *arg)
{
	(void)s;
	struct ex *e = arg;
	e->ended = true;
	buf_cstr(&e->body);
	ex_finish(e);
}

static void ex_reset(struct gc_stream *s, void *arg, unsigned code)
{
	(void)s;
	struct ex *e = arg;
	e->reset = code;
	ex_finish(e);
}

static const struct gc_stream_cbs ex_cbs = {
	.on_response = ex_response,
	.on_body = ex_body,
	.on_end = ex_end,
	.on_reset = ex_reset,
};

static const char *perms_ev[] = {"edit", "view"};

// A request as the front would frame it for a signed-in user with two permissions.
static void mkreq(struct wire_request *r, const char *method, const char *path, const char *query,
		  int64_t clen)
{
	memset(r, 0, sizeof(*r));
	r->https = true;
	r->content_length = clen;
	r->method = wire_s(method);
	r->host = wire_s("ui-0f0f0f.example.org");
	r->path = wire_s(path);
	r->query = wire_s(query);
	r->user_id = wire_s(USER_ID);
	r->username = wire_s("Alice%20Smith");
	r->session_id = wire_s("sess-1");
	r->tab_id = wire_s("tab-1");
	r->permissions[0] = wire_s(perms_ev[0]);
	r->permissions[1] = wire_s(perms_ev[1]);
	r->npermissions = 2;
}

static void add_header(struct wire_request *r, const char *name, const char *value)
{
	r->headers[r->nheaders++] = (struct wire_header){wire_s(name), wire_s(value)};
}

static bool ex_open(struct ex *e, const struct wire_request *r, const void *body, size_t n)
{
	memset(e, 0, sizeof(*e)); // callers set keep_body / pause after
	buf_init(&e->headers);
	buf_init(&e->body);
	e->pattern_ok = true;
	e->keep_body = true;
	e->opened_ms = util_now_ms();
	enum wire_err err;
	e->s = gc_open(cur->gc, r, &ex_cbs, e, &err);
	if (!e->s)
		return false;
	cur->outstanding++;
	if (n)
		gc_send_body(e->s, body, n);
	if (r->content_length != 0)
		gc_send_end(e->s);
	return true;
}

static void ex_free(struct ex *e)
{
	buf_free(&e->headers);
	buf_free(&e->body);
}

static bool ex_has_header(const struct ex *e, const char *line)
{
	return e->headers.data && strstr(e->headers.data, line) != NULL;
}

// The app's echo of a request, parsed.
static json_t *echo_json(const struct ex *e)
{
	return e->body.len ? json_loadb(e->body.data, e->body.len, 0, NULL) : NULL;
}

// The value of the first header the app received named name, or NULL; *count: how many.
static const char *echo_header(json_t *o, const char *name, int *count)
{
	const char *found = NULL;
	int n = 0;
	size_t i;
	json_t *h;
	json_array_foreach(json_object_get(o, "headers"), i, h) {
		if (strcasecmp(json_string_value(json_array_get(h, 0)), name) == 0) {
			if (!found)
				found = json_string_value(json_array_get(h, 1));
			n++;
		}
	}
	if (count)
		*count = n;
	return found;
}

static bool echo_is(json_t *o, const char *name, const char *want)
{
	int n;
	const char *v = echo_header(o, name, &n);
	return v && n == 1 && strcmp(v, want) == 0;
}

// ======================= The tests =======================

static void test_identity(void)
{
	int failed = test_failed;
	struct scen sc;
	if (!scen_start(&sc, NULL, NULL, NULL)) {
		CHECK(false, "bridge: starts");
		return;
	}
	static struct wire_request r;
	struct ex user, anon, post, chunked_up;
	usleep(200 * 1000); // started, HELLO sent, app probed: the bridge at rest
	if (!bridge_asan)
		mem_idle = proc_mem(sc.bp.pid);
	mkreq(&r, "GET", "/echo", "a=1&b=%2F", 0);
	add_header(&r, "Accept", "text/html");
	add_header(&r, "Cookie", "c=1; d=2");
	add_header(&r, "X-Sandstorm-User-Id", "ffffffffffffffffffffffffffffffff"); // as a browser would
	add_header(&r, "x-sandstorm-permissions", "admin");
	add_header(&r, "X-Sandstorm-App-Theme", "dark");
	CHECK(ex_open(&user, &r, NULL, 0), "bridge: a GET opens a stream");

	mkreq(&r, "GET", "/echo", "", 0);
	r.user_id = wire_s("");
	r.username = wire_s("");
	r.npermissions = 0;
	r.https = false;
	r.host = wire_s("");
	CHECK(ex_open(&anon, &r, NULL, 0), "bridge: an anonymous GET opens a stream");

	size_t big = 1 << 20;
	char *body = malloc(big);
	for (size_t i = 0; i < big; i++)
		body[i] = (char)(i * 7 + (i >> 9));
	mkreq(&r, "POST", "/echo", "", (int64_t)big);
	add_header(&r, "Content-Type", "application/octet-stream");
	CHECK(ex_open(&post, &r, body, big), "bridge: a 1 MiB POST opens a stream");
	mkreq(&r, "PUT", "/echo", "", -1);
	CHECK(ex_open(&chunked_up, &r, body, 200000), "bridge: a PUT of unknown length opens a stream");

	CHECK(scen_run(&sc, 20000), "bridge: the four exchanges finish");
	json_t *o = echo_json(&user);
	CHECK(user.status == 200 && user.ended && o, "bridge: GET /echo answered 200 with JSON");
	CHECK(o && strcmp(json_string_value(json_object_get(o, "method")), "GET") == 0 &&
	      strcmp(json_string_value(json_object_get(o, "target")), "/echo?a=1&b=%2F") == 0,
	      "bridge: request line is METHOD PATH?QUERY HTTP/1.1");
	CHECK(o && echo_is(o, "Host", "ui-0f0f0f.example.org"), "bridge: Host is the one the front passed");
	CHECK(o && echo_is(o, "X-Sandstorm-User-Id", USER_ID),
	      "bridge: X-Sandstorm-User-Id is the caller's, once");
	CHECK(o && echo_is(o, "X-Sandstorm-Username", "Alice%20Smith"), "bridge: X-Sandstorm-Username");
	CHECK(o && echo_is(o, "X-Sandstorm-Permissions", "edit,view"),
	      "bridge: X-Sandstorm-Permissions is the caller's list, not the browser's");
	CHECK(o && echo_is(o, "X-Sandstorm-Session-Id", "sess-1"), "bridge: X-Sandstorm-Session-Id");
	CHECK(o && echo_is(o, "X-Sandstorm-Tab-Id", "tab-1"), "bridge: X-Sandstorm-Tab-Id");
	CHECK(o && echo_is(o, "X-Sandstorm-App-Theme", "dark"),
	      "bridge: X-Sandstorm-App-* from the browser passes");
	CHECK(o && echo_is(o, "X-Forwarded-Proto", "https"), "bridge: X-Forwarded-Proto");
	CHECK(o && echo_is(o, "X-Sandstorm-Base-Path", "https://ui-0f0f0f.example.org"),
	      "bridge: X-Sandstorm-Base-Path");
	CHECK(o && echo_is(o, "Accept", "text/html") && echo_is(o, "Cookie", "c=1; d=2"),
	      "bridge: whitelisted headers pass as given");
	CHECK(o && !echo_header(o, "Connection", NULL) && !echo_header(o, "Content-Length", NULL),
	      "bridge: no Connection header (kept alive), no Content-Length on a GET");
	CHECK(o && json_is_false(json_object_get(o, "fd3")),
	      "bridge: the app does not inherit the wire (fd 3)");
	CHECK(o && strcmp(json_string_value(json_object_get(o, "env")), "passed") == 0,
	      "bridge: the app gets the bridge's environment");
	CHECK(ex_has_header(&user, "Content-Type: application/json\n") &&
	      user.clen == (int64_t)user.body.len &&
	      !ex_has_header(&user, "Content-Length"),
	      "bridge: RESPONSE carries the length as a field, not a header");
	json_decref(o);

	o = echo_json(&anon);
	CHECK(o && !echo_header(o, "X-Sandstorm-User-Id", NULL),
	      "bridge: no X-Sandstorm-User-Id for anonymous");
	CHECK(o && echo_is(o, "X-Sandstorm-Username", "Anonymous%20User"),
	      "bridge: anonymous is Anonymous%%20User");
	CHECK(o && echo_is(o, "X-Sandstorm-Permissions", ""), "bridge: anonymous without permissions");
	CHECK(o && echo_is(o, "Host", "127.0.0.1:" ) == false && echo_header(o, "Host", NULL) &&
	      strncmp(echo_header(o, "Host", NULL), "127.0.0.1:", 10) == 0 && !echo_header(o,
	      "X-Sandstorm-Base-Path", NULL),
	      "bridge: no host from the front: Host 127.0.0.1:PORT");
	CHECK(o && echo_is(o, "X-Forwarded-Proto", "http"), "bridge: X-Forwarded-Proto http");
	json_decref(o);

	o = echo_json(&post);
	CHECK(post.status == 200 && o && json_integer_value(json_object_get(o,
	      "body_len")) == (json_int_t)big &&
	      json_integer_value(json_object_get(o, "body_fnv")) == fnv1a(body, big),
	      "bridge: a 1 MiB request body arrives whole and in order");
	CHECK(o && echo_is(o, "Content-Length", "1048576") && echo_is(o, "Content-Type",
	      "application/octet-stream"),
	      "bridge: the app sees Content-Length");
	json_decref(o);
	o = echo_json(&chunked_up);
	CHECK(chunked_up.status == 200 && o && json_integer_value(json_object_get(o, "body_len")) == 200000 &&
	      json_integer_value(json_object_get(o, "body_fnv")) == fnv1a(body, 200000) &&
	      echo_is(o, "Transfer-Encoding", "chunked"),
	      "bridge: a body of unknown length goes to the app chunked");
	json_decref(o);
	free(body);
	ex_free(&user);
	ex_free(&anon);
	ex_free(&post);
	ex_free(&chunked_up);
	int st = scen_end(&sc, failed);
	CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "bridge: exits 0 when the front hangs up");
}

static void test_responses(void)
{
	int failed = test_failed;
	struct scen sc;
	if (!scen_start(&sc, NULL, NULL, NULL)) {
		CHECK(false, "bridge: starts");
		return;
	}
	static struct wire_request r;
	enum { CHUNKED, CLOSE, CONT, HEAD, EARLY, HALF, GARBAGE, INJECT, BADCHUNK, MISSING, PIECES, N };
	static const char *const paths[N][3] = {
		[CHUNKED] = {"GET", "/chunked", "n=60&size=1000"},
		[CLOSE] = {"GET", "/close", ""},
		[CONT] = {"POST", "/continue", ""},
		[HEAD] = {"HEAD", "/big", "size=1234"},
		[EARLY] = {"GET", "/early-close", ""},
		[HALF] = {"GET", "/half", ""},
		[GARBAGE] = {"GET", "/garbage", ""},
		[INJECT] = {"GET", "/inject", ""},
		[BADCHUNK] = {"GET", "/badchunk", ""},
		[MISSING] = {"DELETE", "/nothing-here", ""},
		[PIECES] = {"GET", "/pieces", ""},
	};
	struct ex e[N];
	for (int i = 0; i < N; i++) {
		mkreq(&r, paths[i][0], paths[i][1], paths[i][2], 0);
		ex_open(&e[i], &r, NULL, 0);
		if (i == CHUNKED)
			e[i].keep_body = false;
	}
	CHECK(scen_run(&sc, 10000), "bridge: eleven exchanges with odd responses finish");
	CHECK(e[CHUNKED].status == 200 && e[CHUNKED].ended && e[CHUNKED].nbody == 60000 &&
	      e[CHUNKED].pattern_ok &&
	      e[CHUNKED].clen == -1, "bridge: a chunked response arrives decoded, length unknown");
	CHECK(!ex_has_header(&e[CHUNKED], "Transfer-Encoding"),
	      "bridge: no Transfer-Encoding header is passed on");
	CHECK(e[CLOSE].status == 200 && e[CLOSE].ended &&
	      strcmp(e[CLOSE].body.data, "until the connection closes\n") == 0 && !ex_has_header(&e[CLOSE],
	      "Connection"),
	      "bridge: a close-delimited response ends with END");
	CHECK(e[CONT].status == 201 && e[CONT].ended && strcmp(e[CONT].body.data, "ok") == 0,
	      "bridge: an interim 100 Continue is dropped, the final response passed");
	CHECK(e[HEAD].status == 200 && e[HEAD].ended && e[HEAD].nbody == 0 && e[HEAD].clen == 1234,
	      "bridge: HEAD has the length and no body");
	CHECK(e[EARLY].status == 502 && e[EARLY].ended && strstr(e[EARLY].body.data, "without a response"),
	      "bridge: the app closing without a response is a 502");
	CHECK(e[HALF].status == 200 && e[HALF].reset == WIRE_RESET_APP_CLOSED && e[HALF].nbody == 10,
	      "bridge: the app closing mid-body resets the stream (APP_CLOSED)");
	CHECK(e[GARBAGE].status == 502 && strstr(e[GARBAGE].body.data, "malformed status line"),
	      "bridge: a garbage status line is a 502");
	CHECK(e[INJECT].status == 502 && !ex_has_header(&e[INJECT], "X-Injected"),
	      "bridge: a header with a bare LF is a 502, nothing injected");
	CHECK(e[BADCHUNK].status == 200 && e[BADCHUNK].reset == WIRE_RESET_APP_BAD,
	      "bridge: a malformed chunk after the head resets the stream (APP_BAD)");
	CHECK(e[MISSING].status == 404 && e[MISSING].ended, "bridge: the app's own 404 passes");
	CHECK(e[PIECES].status == 200 && e[PIECES].ended && e[PIECES].body.data &&
	      strcmp(e[PIECES].body.data, "pieces") == 0,
	      "bridge: a response head written in pieces is put back together");
	for (int i = 0; i < N; i++)
		ex_free(&e[i]);
	scen_end(&sc, failed);
}

// Many streams at once on one wire, their bodies interleaved; and the bridge's memory.
static void test_concurrency(void)
{
	int failed = test_failed;
	struct scen sc;
	if (!scen_start(&sc, NULL, NULL, NULL)) {
		CHECK(false, "bridge: starts");
		return;
	}
	enum { N = 64 };
	static struct wire_request r;
	static struct ex e[N];
	char q[64];
	for (int i = 0; i < N; i++) {
		switch (i % 4) {
		case 0:
			snprintf(q, sizeof(q), "size=%d", 100000 + i * 3000);
			mkreq(&r, "GET", "/big", q, 0);
			break;
		case 1:
			snprintf(q, sizeof(q), "ms=%d", (i * 37) % 200);
			mkreq(&r, "GET", "/slow", q, 0);
			break;
		case 2:
			snprintf(q, sizeof(q), "n=%d&size=%d", 20 + i, 1500 + i);
			mkreq(&r, "GET", "/chunked", q, 0);
			break;
		default:
			snprintf(q, sizeof(q), "i=%d", i);
			mkreq(&r, "GET", "/echo", q, 0);
			break;
		}
		ex_open(&e[i], &r, NULL, 0);
		e[i].keep_body = i % 4 == 3;
	}
	CHECK(scen_run(&sc, 30000), "bridge: 64 concurrent streams finish");
	bool ok = true, interleaved = false;
	for (int i = 0; i < N; i++) {
		if (!e[i].ended || e[i].status != 200)
			ok = false;
		else if (i % 4 == 0 && (e[i].nbody != (size_t)(100000 + i * 3000) || !e[i].pattern_ok))
			ok = false;
		else if (i % 4 == 2 && (e[i].nbody != (size_t)((20 + i) * (1500 + i)) || !e[i].pattern_ok))
			ok = false;
		else if (i % 4 == 3) {
			json_t *o = echo_json(&e[i]);
			snprintf(q, sizeof(q), "/echo?i=%d", i);
			if (!o || strcmp(json_string_value(json_object_get(o, "target")), q) != 0)
				ok = false;
			json_decref(o);
		}
		for (int j = 0; j < i; j++)
			if (i % 4 == 0 && j % 4 == 0 && e[i].first_seq < e[j].last_seq &&
				e[j].first_seq < e[i].last_seq)
				interleaved = true;
	}
	CHECK(ok, "bridge: every one of 64 concurrent responses is complete and correct");
	CHECK(interleaved, "bridge: the bodies of concurrent streams interleave on the wire");
	if (!bridge_asan) {
		printf("# bridge serving 64 concurrent streams: VmRSS peak %ld KiB, of it private %ld KiB\n",
		       sc.peak.rss, sc.peak.anon);
		CHECK(sc.peak.anon > 0 && sc.peak.anon <= RSS_LIMIT_KIB,
		      "bridge: private memory stays within %d KiB serving 64 concurrent streams (%ld KiB)",
		      RSS_LIMIT_KIB, sc.peak.anon);
	}
	for (int i = 0; i < N; i++)
		ex_free(&e[i]);
	scen_end(&sc, failed);
}

// A 5 MiB response to a front that stops reading: the bridge stops reading the app.
struct bp_state {
	struct ex ex;
	struct ev_timer t;
	size_t at_pause_check;
	struct mem mem_paused;
	bool resumed;
};

static void bp_check(struct ev_loop *loop, void *arg)
{
	(void)loop;
	struct bp_state *b = arg;
	b->at_pause_check = b->ex.nbody;
	b->mem_paused = proc_mem(cur->bp.pid);
	b->resumed = true;
	if (b->ex.s)
		gc_stream_resume(b->ex.s);
}

static void test_backpressure(void)
{
	int failed = test_failed;
	struct scen sc;
	if (!scen_start(&sc, NULL, NULL, NULL)) {
		CHECK(false, "bridge: starts");
		return;
	}
	static struct wire_request r;
	static struct bp_state b;
	size_t size = 5u << 20;
	char q[32];
	snprintf(q, sizeof(q), "size=%zu", size);
	mkreq(&r, "GET", "/big", q, 0);
	ex_open(&b.ex, &r, NULL, 0);
	b.ex.keep_body = false;
	b.ex.pause = true;
	ev_timer_set(sc.loop, &b.t, 600, bp_check, &b);
	CHECK(scen_run(&sc, 30000), "bridge: a 5 MiB response finishes");
	CHECK(b.resumed && b.at_pause_check > 0 && b.at_pause_check <= WIRE_INITIAL_WINDOW,
	      "bridge: while the front is paused at most one window arrives (%zu bytes)", b.at_pause_check);
	CHECK(b.ex.ended && b.ex.nbody == size && b.ex.pattern_ok && b.ex.clen == (int64_t)size,
	      "bridge: after resuming, all 5 MiB arrive intact");
	if (!bridge_asan) {
		printf("# bridge paused mid 5 MiB: VmRSS %ld KiB, private %ld KiB; peak during the transfer: "
		       "VmRSS %ld KiB, private %ld KiB\n", b.mem_paused.rss, b.mem_paused.anon, sc.peak.rss,
		       sc.peak.anon);
		CHECK(sc.peak.anon > 0 && sc.peak.anon <= RSS_LIMIT_KIB,
		      "bridge: private memory stays within %d KiB through 5 MiB with backpressure (%ld KiB)",
		      RSS_LIMIT_KIB, sc.peak.anon);
	}
	ex_free(&b.ex);
	scen_end(&sc, failed);
}

// The front gives up on streams mid-response and mid-upload; the app reads its upload slowly.
static struct ex cancel_big, cancel_after;

static void cancel_body(struct gc_stream *s, void *arg, const char *p, size_t n)
{
	ex_body(s, arg, p, n);
	struct ex *e = arg;
	if (e->nbody >= 100000 && e->s) { // enough: the browser went away
		gc_stream_close(e->s);
		e->s = NULL;
		e->done = true;
		cur->outstanding--;
		scen_idle(cur);
	}
}

static void cancel_then(struct scen *sc)
{
	(void)sc;
	static struct wire_request r;
	mkreq(&r, "GET", "/echo", "after=1", 0);
	ex_open(&cancel_after, &r, NULL, 0);
}

static void test_cancel(void)
{
	int failed = test_failed;
	struct scen sc;
	if (!scen_start(&sc, NULL, NULL, NULL)) {
		CHECK(false, "bridge: starts");
		return;
	}
	static const struct gc_stream_cbs cbs = {
		.on_response = ex_response, .on_body = cancel_body, .on_end = ex_end, .on_reset = ex_reset,
	};
	static struct wire_request r;
	mkreq(&r, "GET", "/big", "size=5242880", 0);
	memset(&cancel_big, 0, sizeof(cancel_big));
	cancel_big.pattern_ok = true;
	cancel_big.s = gc_open(sc.gc, &r, &cbs, &cancel_big, NULL);
	sc.outstanding++;
	// 2 MiB to an app that waits 300 ms before reading: the upload backs up through the bridge.
	size_t n = 2u << 20;
	char *body = malloc(n);
	for (size_t i = 0; i < n; i++)
		body[i] = (char)(i * 13 + (i >> 11));
	struct ex slow;
	mkreq(&r, "POST", "/echo", "sleep=300", (int64_t)n);
	ex_open(&slow, &r, body, n);
	sc.then = cancel_then;
	CHECK(scen_run(&sc, 20000), "bridge: cancelled and slow-read exchanges finish");
	CHECK(cancel_big.done && !cancel_big.reset && cancel_big.pattern_ok,
	      "bridge: the front cancels a 5 MiB response after 100 KB");
	json_t *o = echo_json(&slow);
	CHECK(slow.status == 200 && o && json_integer_value(json_object_get(o,
	      "body_len")) == (json_int_t)n &&
	      json_integer_value(json_object_get(o, "body_fnv")) == fnv1a(body, n),
	      "bridge: a 2 MiB upload to an app that reads late arrives intact");
	json_decref(o);
	CHECK(cancel_after.status == 200 && cancel_after.ended, "bridge: the wire serves on after a cancel");
	if (!bridge_asan) {
		printf("# bridge with a cancelled stream and a backed-up upload: VmRSS peak %ld KiB, "
		       "private %ld KiB\n", sc.peak.rss, sc.peak.anon);
		CHECK(sc.peak.anon > 0 && sc.peak.anon <= RSS_LIMIT_KIB,
		      "bridge: private memory stays within %d KiB while an upload backs up (%ld KiB)",
		      RSS_LIMIT_KIB, sc.peak.anon);
	}
	free(body);
	ex_free(&cancel_big);
	ex_free(&cancel_after);
	ex_free(&slow);
	scen_end(&sc, failed);
}

// WebSocket: 101, then bytes both ways, the app's close, our END.
struct ws_state {
	struct gc_stream *s;
	int status;
	struct buf hdrs, got;
	int step;
	bool ended, echoed, close_echoed;
	unsigned reset;
};

static void ws_send(struct gc_stream *s, unsigned op, const char *payload, size_t n)
{
	unsigned char f[256];
	const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
	f[0] = (unsigned char)(0x80 | op);
	f[1] = (unsigned char)(0x80 | n);
	memcpy(f + 2, mask, 4);
	for (size_t i = 0; i < n; i++)
		f[6 + i] = (unsigned char)payload[i] ^ mask[i % 4];
	gc_send_body(s, f, 6 + n);
}

static void ws_response(struct gc_stream *s, void *arg, const struct wire_response *r)
{
	struct ws_state *w = arg;
	w->status = r->status;
	for (size_t i = 0; i < r->nheaders; i++) {
		buf_append(&w->hdrs, r->headers[i].name.p, r->headers[i].name.len);
		buf_puts(&w->hdrs, ": ");
		buf_append(&w->hdrs, r->headers[i].value.p, r->headers[i].value.len);
		buf_putc(&w->hdrs, '\n');
	}
	buf_cstr(&w->hdrs);
	if (r->status == 101)
		ws_send(s, 1, "hello over the wire", 19);
}

static void ws_body(struct gc_stream *s, void *arg, const char *p, size_t n)
{
	struct ws_state *w = arg;
	buf_append(&w->got, p, n);
	if (w->step == 0 && w->got.len >= 21) {
		w->echoed = memcmp(w->got.data, "\x81\x13hello over the wire", 21) == 0;
		buf_consume(&w->got, 21);
		w->step = 1;
		ws_send(s, 8, "\x03\xe8", 2); // close, 1000
	}
	if (w->step == 1 && w->got.len >= 4) {
		w->close_echoed = memcmp(w->got.data, "\x88\x02\x03\xe8", 4) == 0;
		w->step = 2;
	}
}

static void ws_end(struct gc_stream *s, void *arg)
{
	struct ws_state *w = arg;
	w->ended = true;
	gc_send_end(s); // our side is done too: the exchange completes without a RESET
	gc_stream_close(s);
	cur->outstanding--;
	scen_idle(cur);
}

static void ws_reset(struct gc_stream *s, void *arg, unsigned code)
{
	struct ws_state *w = arg;
	w->reset = code;
	gc_stream_close(s);
	cur->outstanding--;
	scen_idle(cur);
}

static void test_websocket(void)
{
	int failed = test_failed;
	struct scen sc;
	if (!scen_start(&sc, NULL, NULL, NULL)) {
		CHECK(false, "bridge: starts");
		return;
	}
	static const struct gc_stream_cbs cbs = {
		.on_response = ws_response, .on_body = ws_body, .on_end = ws_end, .on_reset = ws_reset,
	};
	static struct wire_request r;
	struct ws_state w = {0};
	buf_init(&w.hdrs);
	buf_init(&w.got);
	mkreq(&r, "GET", "/ws", "", 0);
	add_header(&r, "Upgrade", "websocket");
	add_header(&r, "Connection", "Upgrade");
	add_header(&r, "Sec-WebSocket-Key", WS_KEY);
	add_header(&r, "Sec-WebSocket-Version", "13");
	add_header(&r, "Sec-WebSocket-Protocol", "chat");
	w.s = gc_open(sc.gc, &r, &cbs, &w, NULL);
	sc.outstanding = w.s ? 1 : 0;
	CHECK(w.s && scen_run(&sc, 10000), "bridge: a WebSocket exchange finishes");
	CHECK(w.status == 101 && strstr(w.hdrs.data, "Sec-WebSocket-Accept: " WS_ACCEPT "\n") &&
	      strstr(w.hdrs.data, "Upgrade: websocket\n") && strstr(w.hdrs.data,
	      "Sec-WebSocket-Protocol: chat\n"),
	      "bridge: 101 with the app's Sec-WebSocket-Accept, Upgrade and protocol");
	CHECK(w.echoed, "bridge: a WebSocket frame goes to the app and its echo comes back");
	CHECK(w.close_echoed && w.ended && !w.reset, "bridge: the close handshake ends the stream with END");
	buf_free(&w.hdrs);
	buf_free(&w.got);
	scen_end(&sc, failed);
}

static bool pid_gone(pid_t pid);

// Keep-alive: requests one after the other, each opened when the previous one ended.
enum { KA_MAX = 48 };
struct ka_step {
	const char *method, *path, *query, *body;
	int sleep_ms;   // before opening it
};
static const struct ka_step *ka_steps;
static size_t ka_n, ka_i;
static struct ex ka_ex[KA_MAX];

static void ka_next(struct scen *sc)
{
	if (ka_i >= ka_n)
		return;
	const struct ka_step *st = &ka_steps[ka_i];
	if (st->sleep_ms)
		usleep((useconds_t)st->sleep_ms * 1000);
	static struct wire_request r;
	size_t n = st->body ? strlen(st->body) : 0;
	mkreq(&r, st->method, st->path, st->query, (int64_t)n);
	ex_open(&ka_ex[ka_i], &r, st->body, n);
	ka_i++;
	sc->then = ka_next;
}

// A number field of a JSON response body, or -1.
static long ka_num(const struct ex *e, const char *field)
{
	json_t *o = echo_json(e);
	long v = o && json_is_integer(json_object_get(o, field)) ?
		 (long)json_integer_value(json_object_get(o, field)) : -1;
	json_decref(o);
	return v;
}

static void test_keepalive(void)
{
	int failed = test_failed;
	struct scen sc;
	bridge_pool_idle = "400";
	bool started = scen_start(&sc, NULL, NULL, NULL);
	bridge_pool_idle = NULL;
	if (!started) {
		CHECK(false, "bridge: starts");
		return;
	}
	enum { C0, E1, E20 = E1 + 19, C1, CLCLOSE, C2, HTTP10, C3, CLOSE, C4, DROP1, RETRIED, C5,
	       DROP2, POSTDEAD, C6, LINGER, AFTER_LINGER, C7, IDLE, C8, N };
	static struct ka_step steps[N];
	for (int i = 0; i < N; i++)
		steps[i] = (struct ka_step){"GET", "/conns", "", NULL, 0};
	for (int i = E1; i <= E20; i++)
		steps[i] = (struct ka_step){"GET", "/echo", "", NULL, 0};
	steps[CLCLOSE].path = "/cl-close";
	steps[HTTP10].path = "/http10";
	steps[CLOSE].path = "/close";
	steps[DROP1] = (struct ka_step){"GET", "/echo", "drop=1", NULL, 0};
	steps[RETRIED] = (struct ka_step){"GET", "/echo", "", NULL, 0};
	steps[DROP2] = (struct ka_step){"GET", "/echo", "drop=1", NULL, 0};
	steps[POSTDEAD] = (struct ka_step){"POST", "/echo", "", "not twice", 0};
	steps[LINGER] = (struct ka_step){"GET", "/echo", "linger=30", NULL, 0};
	steps[AFTER_LINGER] = (struct ka_step){"GET", "/echo", "", NULL, 200};
	steps[IDLE] = (struct ka_step){"GET", "/echo", "", NULL, 0};
	steps[C8].sleep_ms = 1000; // past --pool-idle 400: the bridge closed the idle connection
	ka_steps = steps;
	ka_n = N;
	ka_i = 0;
	sc.then = ka_next;
	scen_idle(&sc);
	CHECK(scen_run(&sc, 20000), "bridge: %d sequential keep-alive exchanges finish", N);
	long c0 = ka_num(&ka_ex[C0], "conns");
	long child = ka_num(&ka_ex[C0], "child");
	bool same = c0 > 0 && child > 0;
	for (int i = E1; i <= E20; i++)
		same = same && ka_ex[i].status == 200 && ka_num(&ka_ex[i], "child") == child;
	CHECK(same && ka_num(&ka_ex[E20], "nreq") == 21 && ka_num(&ka_ex[C1], "conns") == c0,
	      "bridge: 21 sequential requests reuse one app connection (nreq %ld, conns %ld -> %ld)",
	      ka_num(&ka_ex[E20], "nreq"), c0, ka_num(&ka_ex[C1], "conns"));
	CHECK(ka_ex[CLCLOSE].status == 200 && ka_ex[CLCLOSE].body.data &&
	      strcmp(ka_ex[CLCLOSE].body.data, "bye\n") == 0 && ka_num(&ka_ex[C2], "conns") == c0 + 1,
	      "bridge: a response with Connection: close is not reused (the app would have served on)");
	CHECK(ka_ex[HTTP10].status == 200 && ka_num(&ka_ex[C3], "conns") == c0 + 2,
	      "bridge: an HTTP/1.0 response without keep-alive is not reused");
	CHECK(ka_ex[CLOSE].status == 200 && ka_ex[CLOSE].ended && ka_num(&ka_ex[C4], "conns") == c0 + 3,
	      "bridge: a close-delimited response is not reused");
	CHECK(ka_ex[DROP1].status == 200 && ka_ex[RETRIED].status == 200 && ka_ex[RETRIED].ended &&
	      ka_num(&ka_ex[RETRIED], "nreq") == 1 && ka_num(&ka_ex[C5], "conns") == c0 + 4 &&
	      log_has(&sc.bp, "retrying the request on a new one"),
	      "bridge: a GET on a pooled connection the app closed unanswered is retried once, fresh");
	CHECK(ka_ex[DROP2].status == 200 && ka_ex[POSTDEAD].status == 502 && ka_ex[POSTDEAD].ended &&
	      ka_num(&ka_ex[C6], "conns") == c0 + 5,
	      "bridge: a POST on such a connection is not sent again: 502");
	CHECK(ka_ex[LINGER].status == 200 && ka_ex[AFTER_LINGER].status == 200 &&
	      ka_num(&ka_ex[AFTER_LINGER], "nreq") == 1 && ka_num(&ka_ex[C7], "conns") == c0 + 6,
	      "bridge: a pooled connection the app closed while idle is not used (a fresh one is)");
	long idle_child = ka_num(&ka_ex[IDLE], "child");
	CHECK(ka_ex[IDLE].status == 200 && ka_num(&ka_ex[C8], "conns") == c0 + 7 && idle_child > 0 &&
	      pid_gone((pid_t)idle_child),
	      "bridge: an idle pooled connection is closed after --pool-idle (the app saw it close)");
	for (int i = 0; i < N; i++)
		ex_free(&ka_ex[i]);

	// At once: one request per connection, never two on one (no pipelining); the idle ones
	// are then reused.
	static struct wire_request r;
	struct ex par[6];
	long r0conns = -1;
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 4; i++) {
			mkreq(&r, "GET", "/echo", "sleep=150", 0);
			ex_open(&par[i], &r, NULL, 0);
		}
		if (round == 0) {
			mkreq(&r, "GET", "/conns", "", 0);
			ex_open(&par[4], &r, NULL, 0);
		}
		int64_t t0 = util_now_ms();
		bool ran = scen_run(&sc, 10000);
		long pids[4];
		bool distinct = ran;
		for (int i = 0; i < 4; i++) {
			pids[i] = ka_num(&par[i], "child");
			for (int j = 0; j < i; j++)
				distinct = distinct && pids[i] > 0 && pids[i] != pids[j];
		}
		if (round == 0) {
			CHECK(distinct && util_now_ms() - t0 < 450,
			      "bridge: 4 concurrent requests go on 4 connections, not pipelined on one");
			r0conns = ka_num(&par[4], "conns");
			ex_free(&par[4]);
		} else {
			mkreq(&r, "GET", "/conns", "", 0);
			ex_open(&par[5], &r, NULL, 0);
			scen_run(&sc, 5000);
			CHECK(distinct && r0conns > 0 && ka_num(&par[5], "conns") == r0conns,
			      "bridge: and the next 4 reuse the idle ones (conns %ld -> %ld)", r0conns,
			      ka_num(&par[5], "conns"));
			ex_free(&par[5]);
		}
		for (int i = 0; i < 4; i++)
			ex_free(&par[i]);
	}
	scen_end(&sc, failed);
}

// An app that serves one kept-alive connection at a time: a request on a second connection
// is not accepted while the bridge holds the first idle; the bridge closes idle ones then.
static void test_serial_app(void)
{
	int failed = test_failed;
	struct scen sc;
	if (!scen_start(&sc, NULL, "serial", NULL)) {
		CHECK(false, "bridge: starts");
		return;
	}
	static struct wire_request r;
	struct ex e[3];
	mkreq(&r, "GET", "/echo", "", 0);
	ex_open(&e[0], &r, NULL, 0);
	CHECK(scen_run(&sc, 5000) && e[0].status == 200, "bridge: a single-threaded app answers");
	ex_free(&e[0]);
	int64_t t0 = util_now_ms();
	mkreq(&r, "GET", "/slow", "ms=100", 0);
	ex_open(&e[1], &r, NULL, 0);
	mkreq(&r, "GET", "/echo", "", 0);
	ex_open(&e[2], &r, NULL, 0);
	bool ran = scen_run(&sc, 5000);
	int64_t took = util_now_ms() - t0;
	CHECK(ran && e[1].status == 200 && e[2].status == 200 && took < 2000,
	      "bridge: two requests at once to it both finish, in %lld ms (not after its 10 s linger)",
	      (long long)took);
	CHECK(log_has(&sc.bp, "may serve one connection at a time"), "bridge: which it logs");
	ex_free(&e[1]);
	ex_free(&e[2]);
	scen_end(&sc, failed);
}

// A grandchild of the app outlives its parent: the bridge, as PID 1 (here: subreaper), reaps it.
// The state and parent of pid, from /proc; false once it is gone (reaped).
static bool proc_state(pid_t pid, char *state, int *ppid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	return p && sscanf(p + 1, " %c %d", state, ppid) == 2;
}

static void test_reaping(void)
{
	int failed = test_failed;
	struct scen sc;
	if (!scen_start(&sc, NULL, NULL, NULL)) {
		CHECK(false, "bridge: starts");
		return;
	}
	static struct wire_request r;
	struct ex e[3];
	for (int i = 0; i < 3; i++) {
		mkreq(&r, "GET", "/orphan", "", 0);
		ex_open(&e[i], &r, NULL, 0);
	}
	CHECK(scen_run(&sc, 10000) && e[0].status == 200 && e[2].status == 200, "bridge: three orphans made");
	pid_t g[3];
	for (int i = 0; i < 3; i++)
		g[i] = (pid_t)atoi(e[i].body.data ? e[i].body.data : "0");
	// Each lives 200 ms as the bridge's adopted child, then must vanish: a zombie nobody
	// reaps would stay in /proc.
	bool adopted = false, gone = false;
	for (int waited = 0; waited < 5000 && !gone; waited += 10) {
		gone = true;
		for (int i = 0; i < 3; i++) {
			char st;
			int ppid;
			if (g[i] > 0 && proc_state(g[i], &st, &ppid)) {
				gone = false;
				adopted |= ppid == sc.bp.pid;
			}
		}
		usleep(10 * 1000);
	}
	CHECK(g[0] > 0 && g[1] > 0 && g[2] > 0 && adopted, "bridge: the orphans were reparented to the bridge");
	CHECK(gone, "bridge: and reaped when they exited, no zombies");
	for (int i = 0; i < 3; i++)
		ex_free(&e[i]);
	scen_end(&sc, failed);
}

static struct ex slow_e2;

static void slow_then(struct scen *sc)
{
	(void)sc;
	static struct wire_request r;
	mkreq(&r, "GET", "/echo", "", 0);
	ex_open(&slow_e2, &r, NULL, 0);
}

// The app is not listening yet: the request waits and is served once it is.
static void test_slow_start(void)
{
	int failed = test_failed;
	struct scen sc;
	if (!scen_start(&sc, NULL, "delay=400", NULL)) {
		CHECK(false, "bridge: starts");
		return;
	}
	static struct wire_request r;
	struct ex e;
	mkreq(&r, "GET", "/echo", "", 0);
	ex_open(&e, &r, NULL, 0);
	CHECK(scen_run(&sc, 10000), "bridge: a request to a slow-starting app finishes");
	CHECK(e.status == 200 && e.done_ms - e.opened_ms >= 300,
	      "bridge: it waited for the app (%lld ms) and was served", (long long)(e.done_ms - e.opened_ms));
	CHECK(log_has(&sc.bp, "the app accepts connections on 127.0.0.1:"),
	      "bridge: logs when the app is up");
	ex_free(&e);
	scen_end(&sc, failed);

	// An app that never listens: after the bound, 503 with a clear log line.
	failed = test_failed;
	if (!scen_start(&sc, "300", "never", NULL)) {
		CHECK(false, "bridge: starts");
		return;
	}
	ex_open(&e, &r, NULL, 0);
	sc.then = slow_then;
	CHECK(scen_run(&sc, 10000), "bridge: requests to an app that never listens finish");
	CHECK(e.status == 503 && e.ended && e.done_ms - e.opened_ms >= 250,
	      "bridge: answered 503 once the start timeout passed");
	CHECK(log_has(&sc.bp, "did not accept connections on 127.0.0.1:") && log_has(&sc.bp, "within 300 ms"),
	      "bridge: logs that it gave up waiting");
	CHECK(slow_e2.status == 503 && slow_e2.body.data && strstr(slow_e2.body.data, "Connection refused"),
	      "bridge: later requests are tried and refused with 503");
	ex_free(&e);
	ex_free(&slow_e2);
	scen_end(&sc, failed);
}

// The app exits: the bridge finishes what it has and exits with the app's status.
static void test_app_exit(void)
{
	int failed = test_failed;
	struct scen sc;
	if (!scen_start(&sc, NULL, NULL, NULL)) {
		CHECK(false, "bridge: starts");
		return;
	}
	static struct wire_request r;
	struct ex e;
	mkreq(&r, "GET", "/exit", "", 0);
	ex_open(&e, &r, NULL, 0);
	sc.until_dead = true;
	scen_run(&sc, 10000);
	CHECK(e.status == 200 && e.ended && strcmp(e.body.data, "bye\n") == 0,
	      "bridge: the last response arrives");
	CHECK(sc.dead && strstr(sc.why, "closed the wire"),
	      "bridge: the wire closes when the app exits (%s)", sc.why);
	int st = bproc_wait(&sc.bp, 5000);
	CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 7, "bridge: exits with the app's status 7");
	CHECK(log_has(&sc.bp, "the app exited with status 7"), "bridge: logs the app's exit status");
	ex_free(&e);
	scen_end(&sc, failed);
}

static bool pid_gone(pid_t pid)
{
	return kill(pid, 0) < 0 && errno == ESRCH;
}

// The front hangs up: the bridge stops the app and exits.
static void test_hangup(void)
{
	int failed = test_failed;
	struct scen sc;
	if (!scen_start(&sc, NULL, NULL, NULL)) {
		CHECK(false, "bridge: starts");
		return;
	}
	static struct wire_request r;
	struct ex e;
	mkreq(&r, "GET", "/echo", "", 0);
	ex_open(&e, &r, NULL, 0);
	scen_run(&sc, 10000);
	json_t *o = echo_json(&e);
	pid_t app = o ? (pid_t)json_integer_value(json_object_get(o, "pid")) : 0;
	json_decref(o);
	CHECK(app > 0 && !pid_gone(app), "bridge: the app runs (pid %d)", (int)app);
	pid_t bridge = sc.bp.pid;
	int64_t t0 = util_now_ms();
	gc_free(sc.gc);
	sc.gc = NULL;
	int st = bproc_wait(&sc.bp, 5000);
	CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "bridge: exits 0 when fd 3 closes (in %lld ms)", (long long)(util_now_ms() - t0));
	CHECK(app > 0 && pid_gone(app) && pid_gone(bridge), "bridge: the app was stopped and reaped first");
	CHECK(log_has(&sc.bp, "the front closed the wire") && log_has(&sc.bp, "killed by signal 15"),
	      "bridge: logs the hang-up and the app's end");
	ex_free(&e);
	scen_end(&sc, failed);

	// SIGTERM to the bridge goes to the app; the bridge exits with the app's status.
	failed = test_failed;
	if (!scen_start(&sc, NULL, NULL, NULL)) {
		CHECK(false, "bridge: starts");
		return;
	}
	ex_open(&e, &r, NULL, 0);
	scen_run(&sc, 10000);
	kill(sc.bp.pid, SIGTERM);
	st = bproc_wait(&sc.bp, 5000);
	CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGTERM,
	      "bridge: passes SIGTERM to the app and exits with its status (143)");
	CHECK(log_has(&sc.bp, "passing Terminated on to the app"), "bridge: logs the forwarded signal");
	ex_free(&e);
	scen_end(&sc, failed);

	// An app that cannot be run.
	failed = test_failed;
	if (!scen_start(&sc, NULL, NULL, "/nonexistent/app")) {
		CHECK(false, "bridge: starts");
		return;
	}
	st = bproc_wait(&sc.bp, 5000);
	CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 127 &&
	      log_has(&sc.bp, "cannot run /nonexistent/app: No such file or directory"),
	      "bridge: an app that cannot be run: logged, exit 127");
	scen_end(&sc, failed);
}

// --- Raw frames, as no front of ours would send them ---

static void raw_send(int fd, struct buf *b)
{
	const char *p = b->data;
	size_t n = b->len;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			break;
		p += w;
		n -= (size_t)w;
	}
	buf_reset(b);
}

// Reads the next frame into *f (payload valid until the next call); false on EOF or timeout.
static bool raw_frame(int fd, struct buf *in, size_t *consumed, struct wire_frame *f, int ms)
{
	buf_consume(in, *consumed);
	*consumed = 0;
	for (;;) {
		size_t used;
		enum wire_err e = wire_decode_frame(in->data, in->len, f, &used);
		if (e == WIRE_OK) {
			*consumed = used;
			return true;
		}
		if (e != WIRE_INCOMPLETE)
			return false;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, ms) <= 0)
			return false;
		buf_reserve(in, 65536);
		ssize_t n = read(fd, in->data + in->len, 65536);
		if (n <= 0)
			return false;
		in->len += (size_t)n;
	}
}

// Reads frames until one of type on stream arrives (others are kept in mind: RESPONSE
// status, BODY bytes); false if the wire ends first.
static bool raw_until(int fd, struct buf *in, size_t *consumed, uint32_t stream, unsigned type,
		      struct wire_frame *f, struct buf *body)
{
	while (raw_frame(fd, in, consumed, f, 5000)) {
		if (f->stream == stream && f->type == WIRE_BODY && body)
			buf_append(body, f->payload, f->len);
		if (f->stream == stream && (f->type == type || f->type == WIRE_RESET))
			return f->type == type;
	}
	return false;
}

static void test_raw(void)
{
	int failed = test_failed;
	struct bproc bp;
	if (!bproc_start(&bp, NULL, NULL, NULL)) {
		CHECK(false, "bridge: starts");
		return;
	}
	struct buf out, in, body;
	buf_init(&out);
	buf_init(&in);
	buf_init(&body);
	size_t consumed = 0;
	struct wire_frame f;
	static struct wire_request r;
	wire_put_hello(&out);
	mkreq(&r, "GET", "/echo", "", 0);
	// What a broken front might pass: the bridge drops these itself.
	add_header(&r, "X-Sandstorm-User-Id", "ffffffffffffffffffffffffffffffff");
	add_header(&r, "X-Sandstorm-Permissions", "admin");
	add_header(&r, "X-Sandstorm-Username", "Mallory");
	add_header(&r, "X-Sandstorm-App-Foo", "ok");
	add_header(&r, "Host", "evil.example");
	add_header(&r, "Content-Length", "5");
	add_header(&r, "Transfer-Encoding", "chunked");
	add_header(&r, "Connection", "keep-alive");
	add_header(&r, "Upgrade", "h2c");
	wire_put_request(&out, 1, &r);
	wire_put_end(&out, 1);
	raw_send(bp.wire, &out);
	CHECK(raw_frame(bp.wire, &in, &consumed, &f, 5000) && f.type == WIRE_HELLO && f.version == 1,
	      "bridge: says HELLO version 1 first");
	bool got = raw_until(bp.wire, &in, &consumed, 1, WIRE_END, &f, &body);
	json_t *o = got ? json_loadb(body.data, body.len, 0, NULL) : NULL;
	CHECK(o && echo_is(o, "X-Sandstorm-User-Id", USER_ID) && echo_is(o, "X-Sandstorm-Permissions",
	      "edit,view") &&
	      echo_is(o, "X-Sandstorm-Username", "Alice%20Smith"),
	      "bridge: X-Sandstorm-* in the header list is dropped; only the identity fields count");
	CHECK(o && echo_is(o, "X-Sandstorm-App-Foo", "ok"), "bridge: X-Sandstorm-App-* in the list passes");
	CHECK(o && echo_is(o, "Host", "ui-0f0f0f.example.org") && !echo_header(o, "Content-Length", NULL) &&
	      !echo_header(o, "Transfer-Encoding", NULL) && !echo_header(o, "Connection", NULL) &&
	      !echo_header(o, "Upgrade", NULL),
	      "bridge: Host, framing, Connection and a non-WebSocket Upgrade from the list are dropped");
	json_decref(o);

	// Past the window: 70000 bytes in one frame, without waiting for credit (in smaller
	// frames the bridge, writing them to a kept-alive connection at once, may grant more
	// credit before the last one is checked).
	mkreq(&r, "POST", "/echo", "", 200000);
	wire_put_request(&out, 3, &r);
	char *chunk = calloc(1, 70000);
	wire_put_body(&out, 3, chunk, 70000);
	free(chunk);
	raw_send(bp.wire, &out);
	CHECK(!raw_until(bp.wire, &in, &consumed, 3, WIRE_END, &f, NULL) && f.type == WIRE_RESET &&
	      f.code == WIRE_RESET_FLOW, "bridge: BODY past the window resets the stream (FLOW)");
	mkreq(&r, "GET", "/echo", "", 0);
	wire_put_request(&out, 2, &r);
	raw_send(bp.wire, &out);
	CHECK(!raw_until(bp.wire, &in, &consumed, 2, WIRE_END, &f, NULL) && f.type == WIRE_RESET &&
	      f.code == WIRE_RESET_PROTOCOL,
	      "bridge: a REQUEST reusing a lower stream id is reset (PROTOCOL)");
	wire_put_body(&out, 99, "x", 1);
	raw_send(bp.wire, &out);
	CHECK(!raw_until(bp.wire, &in, &consumed, 99, WIRE_END, &f, NULL) && f.type == WIRE_RESET &&
	      f.code == WIRE_RESET_PROTOCOL, "bridge: BODY on a stream never opened is reset (PROTOCOL)");
	// A frame that breaks the format: the wire is unusable, the bridge stops.
	static const char bad[] = {0, 0, 0, 5, 0, 0, 0, 5, 9};
	buf_append(&out, bad, sizeof(bad));
	raw_send(bp.wire, &out);
	int st = bproc_wait(&bp, 5000);
	CHECK(st >= 0 && WIFEXITED(st) && log_has(&bp, "bad frame from the front: unknown frame type"),
	      "bridge: an unknown frame type stops the bridge, logged");
	buf_free(&out);
	buf_free(&in);
	buf_free(&body);
	bproc_cleanup(&bp, failed);

	// A front of another wire version.
	failed = test_failed;
	if (!bproc_start(&bp, NULL, NULL, NULL)) {
		CHECK(false, "bridge: starts");
		return;
	}
	static const char hello2[] = {0, 0, 0, 9, 0, 0, 0, 0, 1, 0, 2, 0, 0};
	ssize_t w = write(bp.wire, hello2, sizeof(hello2));
	st = bproc_wait(&bp, 5000);
	CHECK(w == (ssize_t)sizeof(hello2) && st >= 0 && WIFEXITED(st) &&
	      log_has(&bp, "unsupported wire version"), "bridge: HELLO version 2 stops the bridge, logged");
	bproc_cleanup(&bp, failed);
}

// The synchronous helper, for tools and tests.
static void test_fetch(void)
{
	int failed = test_failed;
	struct bproc bp;
	if (!bproc_start(&bp, NULL, NULL, NULL)) {
		CHECK(false, "bridge: starts");
		return;
	}
	static struct wire_request r;
	mkreq(&r, "POST", "/echo", "via=fetch", 5);
	struct gc_result res;
	int rc = gc_fetch(bp.wire, &r, "hello", 5, 5000, &res);
	json_t *o = rc == 0 ? json_loadb(res.body.data, res.body.len, 0, NULL) : NULL;
	CHECK(rc == 0 && res.status == 200 && strstr(buf_cstr(&res.headers), "Content-Type: application/json\n") &&
	      o && strcmp(json_string_value(json_object_get(o, "body")), "hello") == 0,
	      "gc_fetch: a synchronous exchange over a fresh wire");
	json_decref(o);
	gc_result_free(&res);
	bproc_cleanup(&bp, failed);
}

// Whether the file at path holds the bytes s (a sanitizer build names its runtime).
static bool file_has(const char *path, const char *s)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	size_t n = strlen(s), have = 0;
	char buf[65536 + 64];
	bool found = false;
	while (!found) {
		size_t r = fread(buf + have, 1, sizeof(buf) - have, f);
		if (!r)
			break;
		have += r;
		found = memmem(buf, have, s, n) != NULL;
		if (have >= n) { // keep the tail: a match may straddle two reads
			memmove(buf, buf + have - (n - 1), n - 1);
			have = n - 1;
		}
	}
	fclose(f);
	return found;
}

// The bridge under test: $SILO_BRIDGE; else next to this program's build directory:
// build/tests/test_bridge runs build/silo-bridge, build/debug/tests/test_bridge runs
// build/debug/silo-bridge-asan (the sanitizer build) when it was built, else
// build/debug/silo-bridge (a copy of the static one, which sandboxes can run).
static void find_paths(void)
{
	ssize_t n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	self_path[n > 0 ? n : 0] = '\0';
	const char *env = getenv("SILO_BRIDGE");
	if (env && *env) {
		if (!realpath(env, bridge_path))
			snprintf(bridge_path, sizeof(bridge_path), "%s", env);
	} else {
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s", self_path);
		for (int i = 0; i < 2; i++) {
			char *slash = strrchr(dir, '/');
			if (slash)
				*slash = '\0';
		}
		int len = (int)(sizeof(bridge_path) - 32);
		snprintf(bridge_path, sizeof(bridge_path), "%.*s/silo-bridge-asan", len, dir);
		if (access(bridge_path, X_OK) != 0)
			snprintf(bridge_path, sizeof(bridge_path), "%.*s/silo-bridge", len, dir);
	}
	bridge_asan = file_has(bridge_path, "__asan_init"); // its memory is ASan's, not measured
	// The kernel's name for the process: the first 15 bytes of the file's name.
	const char *base = strrchr(bridge_path, '/');
	base = base ? base + 1 : bridge_path;
	size_t bl = strlen(base) < sizeof(bridge_comm) - 1 ? strlen(base) : sizeof(bridge_comm) - 1;
	memcpy(bridge_comm, base, bl);
	bridge_comm[bl] = '\0';
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "--app") == 0)
		return app_main(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	setenv("SILO_TEST_ENV", "passed", 1);
	find_paths();
	printf("# bridge under test: %s\n", bridge_path);
	if (access(bridge_path, X_OK) != 0) {
		CHECK(false, "bridge: %s exists (build it first)", bridge_path);
		return test_done();
	}
	test_identity();
	test_responses();
	test_concurrency();
	test_backpressure();
	test_cancel();
	test_websocket();
	test_keepalive();
	test_serial_app();
	test_reaping();
	test_slow_start();
	test_app_exit();
	test_hangup();
	test_raw();
	test_fetch();
	if (!bridge_asan)
		printf("# bridge memory: idle VmRSS %ld KiB (private %ld KiB); "
		       "peak while serving VmRSS %ld KiB (private %ld KiB)\n",
		       mem_idle.rss, mem_idle.anon, mem_peak.rss, mem_peak.anon);
	return test_done();
}

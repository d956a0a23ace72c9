// SPDX-License-Identifier: MIT
// The probe's quick attacks: each tries one thing a grain must not be able to do and
// returns the errno it got (0 if it worked, which inside a grain is a finding).
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/netlink.h>
#include <linux/reboot.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/acct.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/quota.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static int result(long r)
{
	return r < 0 ? errno : 0;
}

// A descriptor that should not have been obtained: close it, report success.
static int got_fd(long fd)
{
	if (fd < 0)
		return errno;
	close((int)fd);
	return 0;
}

static int create_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno;
	close(fd);
	unlink(path);
	return 0;
}

static int a_write_root(const struct probe_opts *o)
{
	(void)o;
	return create_file("/probe-attack");
}

static int a_write_dev(const struct probe_opts *o)
{
	(void)o;
	return create_file("/dev/probe-attack");
}

static int a_write_bridge(const struct probe_opts *o)
{
	(void)o;
	return got_fd(open("/silo-bridge", O_WRONLY | O_CLOEXEC));
}

static int a_chmod_root(const struct probe_opts *o)
{
	(void)o;
	return result(chmod("/", 0777));
}

static int a_mount_tmpfs(const struct probe_opts *o)
{
	(void)o;
	if (mount("tmpfs", "/tmp", "tmpfs", 0, "size=1m") < 0)
		return errno;
	umount2("/tmp", MNT_DETACH);
	return 0;
}

static int a_umount_var(const struct probe_opts *o)
{
	(void)o;
	return result(umount2("/var", MNT_DETACH));
}

static int a_fsopen(const struct probe_opts *o)
{
	(void)o;
	return got_fd(syscall(SYS_fsopen, "tmpfs", 0));
}

static int a_pivot_root(const struct probe_opts *o)
{
	(void)o;
	return result(syscall(SYS_pivot_root, "/tmp", "/tmp"));
}

static int a_chroot(const struct probe_opts *o)
{
	(void)o;
	return result(chroot("/tmp"));
}

static int a_unshare_user(const struct probe_opts *o)
{
	(void)o;
	return result(unshare(CLONE_NEWUSER));
}

static int a_unshare_net(const struct probe_opts *o)
{
	(void)o;
	return result(unshare(CLONE_NEWNET));
}

static int a_unshare_mount(const struct probe_opts *o)
{
	(void)o;
	return result(unshare(CLONE_NEWNS));
}

static int a_setns(const struct probe_opts *o)
{
	(void)o;
	return result(setns(0, 0));
}

// A raw clone that, if it ever succeeds, exits at once in the child.
static int clone_with(unsigned long flags)
{
	long pid = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return errno;
	waitpid((pid_t)pid, NULL, 0);
	return 0;
}

static int a_clone_newuser(const struct probe_opts *o)
{
	(void)o;
	return clone_with(CLONE_NEWUSER);
}

static int a_clone_newns(const struct probe_opts *o)
{
	(void)o;
	return clone_with(CLONE_NEWNS);
}

static int a_clone_plain(const struct probe_opts *o)
{
	(void)o;
	return clone_with(0);
}

static int a_clone3(const struct probe_opts *o)
{
	(void)o;
	uint64_t args[11] = { 0 };
	args[4] = SIGCHLD; // exit_signal
	long pid = syscall(SYS_clone3, args, sizeof(args));
	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return errno;
	waitpid((pid_t)pid, NULL, 0);
	return 0;
}

static int a_ptrace_traceme(const struct probe_opts *o)
{
	(void)o;
	return result(ptrace(PTRACE_TRACEME, 0, NULL, NULL));
}

static int a_ptrace_attach_1(const struct probe_opts *o)
{
	(void)o;
	if (ptrace(PTRACE_ATTACH, 1, NULL, NULL) < 0)
		return errno;
	ptrace(PTRACE_DETACH, 1, NULL, NULL);
	return 0;
}

static int a_process_vm_readv(const struct probe_opts *o)
{
	(void)o;
	char buf[8];
	struct iovec local = { buf, sizeof(buf) }, remote = { (void *)0x400000, sizeof(buf) };
	return result(syscall(SYS_process_vm_readv, 1, &local, 1, &remote, 1, 0));
}

static int a_keyctl(const struct probe_opts *o)
{
	(void)o;
	return result(syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0));
}

static int a_add_key(const struct probe_opts *o)
{
	(void)o;
	return result(syscall(SYS_add_key, "user", "silo-probe", "x", 1, -3));
}

static int a_request_key(const struct probe_opts *o)
{
	(void)o;
	return result(syscall(SYS_request_key, "user", "silo-probe", NULL, -3));
}

static int a_bpf(const struct probe_opts *o)
{
	(void)o;
	char attr[128] = { 0 };
	return got_fd(syscall(SYS_bpf, 0 /* BPF_MAP_CREATE */, attr, sizeof(attr)));
}

static int a_perf_event_open(const struct probe_opts *o)
{
	(void)o;
	uint32_t attr[32] = { 0 };
	attr[1] = sizeof(attr); // size
	return got_fd(syscall(SYS_perf_event_open, attr, 0, -1, -1, 0));
}

static int a_userfaultfd(const struct probe_opts *o)
{
	(void)o;
	return got_fd(syscall(SYS_userfaultfd, O_CLOEXEC));
}

static int a_io_uring_setup(const struct probe_opts *o)
{
	(void)o;
	char params[120] = { 0 };
	return got_fd(syscall(SYS_io_uring_setup, 1, params));
}

static int a_socket_packet(const struct probe_opts *o)
{
	(void)o;
	return got_fd(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(0x0003)));
}

// The family with bits above 32 set: the kernel reads an int, the filter must too.
static int a_socket_packet_high(const struct probe_opts *o)
{
	(void)o;
	return got_fd(syscall(SYS_socket, (1ul << 32) | AF_PACKET, SOCK_RAW, 0));
}

static int a_socket_netlink(const struct probe_opts *o)
{
	(void)o;
	return got_fd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
}

static int a_socket_raw(const struct probe_opts *o)
{
	(void)o;
	return got_fd(socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP));
}

static int a_socket_unix(const struct probe_opts *o)
{
	(void)o;
	return got_fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
}

static int a_socketpair_inet(const struct probe_opts *o)
{
	(void)o;
	int sv[2];
	if (socketpair(AF_INET, SOCK_STREAM, 0, sv) < 0)
		return errno;
	close(sv[0]);
	close(sv[1]);
	return 0;
}

static int a_tiocsti(const struct probe_opts *o)
{
	(void)o;
	char ch = 'x';
	return result(ioctl(0, TIOCSTI, &ch));
}

static int a_tiocsti_high(const struct probe_opts *o)
{
	(void)o;
	char ch = 'x';
	return result(syscall(SYS_ioctl, 0, (1ul << 32) | TIOCSTI, &ch));
}

static int a_ioctl_fionread(const struct probe_opts *o)
{
	(void)o;
	int p[2], n = 0;
	if (pipe(p) < 0)
		return errno;
	int r = result(ioctl(p[0], FIONREAD, &n));
	close(p[0]);
	close(p[1]);
	return r;
}

static int a_personality_bsd(const struct probe_opts *o)
{
	(void)o;
	if (personality(PER_BSD) < 0)
		return errno;
	personality(PER_LINUX);
	return 0;
}

static int a_personality_query(const struct probe_opts *o)
{
	(void)o;
	return result(personality(0xffffffff));
}

static int a_reboot(const struct probe_opts *o)
{
	(void)o;
	// The mildest command: even if it got through it only disables Ctrl-Alt-Del.
	return result(syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
			      LINUX_REBOOT_CMD_CAD_OFF, NULL));
}

static int a_kexec_load(const struct probe_opts *o)
{
	(void)o;
	return result(syscall(SYS_kexec_load, 0, 0, NULL, 0));
}

static int a_init_module(const struct probe_opts *o)
{
	(void)o;
	return result(syscall(SYS_init_module, NULL, 0, ""));
}

static int a_swapon(const struct probe_opts *o)
{
	(void)o;
	return result(swapon("/tmp/probe-swap", 0));
}

static int a_acct(const struct probe_opts *o)
{
	(void)o;
	return result(acct(NULL));
}

static int a_quotactl(const struct probe_opts *o)
{
	(void)o;
	return result(quotactl(QCMD(Q_SYNC, USRQUOTA), NULL, 0, NULL));
}

static int a_syslog(const struct probe_opts *o)
{
	(void)o;
	return result(klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0));
}

static int a_open_by_handle_at(const struct probe_opts *o)
{
	(void)o;
	char handle[64] = { 0 };
	return got_fd(syscall(SYS_open_by_handle_at, AT_FDCWD, handle, O_RDONLY));
}

static int a_clock_settime(const struct probe_opts *o)
{
	(void)o;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return result(clock_settime(CLOCK_REALTIME, &ts));
}

static int a_unlisted_syscall(const struct probe_opts *o)
{
	(void)o;
	return result(syscall(SYS_sysfs, 3)); // in neither list: the default action
}

static int a_mknod_char(const struct probe_opts *o)
{
	(void)o;
	if (mknod("/tmp/probe-null", S_IFCHR | 0600, makedev(1, 3)) < 0)
		return errno;
	unlink("/tmp/probe-null");
	return 0;
}

static int a_setuid_0(const struct probe_opts *o)
{
	(void)o;
	return result(setuid(0));
}

static int a_setgid_0(const struct probe_opts *o)
{
	(void)o;
	return result(setgid(0));
}

static int a_setgroups(const struct probe_opts *o)
{
	(void)o;
	return result(setgroups(0, NULL));
}

static int a_sethostname(const struct probe_opts *o)
{
	(void)o;
	return result(sethostname("evil", 4));
}

static int a_open_proc_1(const struct probe_opts *o)
{
	(void)o;
	return got_fd(open("/proc/1/status", O_RDONLY | O_CLOEXEC));
}

static int a_open_sys(const struct probe_opts *o)
{
	(void)o;
	return got_fd(open("/sys/kernel", O_RDONLY | O_CLOEXEC));
}

static int a_dev_mem(const struct probe_opts *o)
{
	(void)o;
	return got_fd(open("/dev/mem", O_RDONLY | O_CLOEXEC));
}

static int a_dotdot(const struct probe_opts *o)
{
	(void)o;
	return got_fd(open("/../../../etc/passwd", O_RDONLY | O_CLOEXEC));
}

static int a_write_dev_null(const struct probe_opts *o)
{
	(void)o;
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	int r = write(fd, "x", 1) == 1 ? 0 : errno;
	close(fd);
	return r;
}

static int a_read_dev_urandom(const struct probe_opts *o)
{
	(void)o;
	char buf[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	int r = read(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf) ? 0 : errno;
	close(fd);
	return r;
}

static int a_host_port(const struct probe_opts *o)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return errno;
	struct timeval tv = { 2, 0 };
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o->host_port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int r = result(connect(s, (struct sockaddr *)&a, sizeof(a)));
	close(s);
	return r;
}

static int a_other_var(const struct probe_opts *o)
{
	struct stat st;
	return result(stat(o->other_var, &st));
}

struct attack {
	const char *name;
	int (*fn)(const struct probe_opts *o);
};

static const struct attack attacks[] = {
	{ "write_root", a_write_root },
	{ "write_dev", a_write_dev },
	{ "write_bridge", a_write_bridge },
	{ "chmod_root", a_chmod_root },
	{ "mount_tmpfs", a_mount_tmpfs },
	{ "umount_var", a_umount_var },
	{ "fsopen", a_fsopen },
	{ "pivot_root", a_pivot_root },
	{ "chroot", a_chroot },
	{ "unshare_user", a_unshare_user },
	{ "unshare_net", a_unshare_net },
	{ "unshare_mount", a_unshare_mount },
	{ "setns", a_setns },
	{ "clone_newuser", a_clone_newuser },
	{ "clone_newns", a_clone_newns },
	{ "clone_plain", a_clone_plain },
	{ "clone3", a_clone3 },
	{ "ptrace_traceme", a_ptrace_traceme },
	{ "ptrace_attach_1", a_ptrace_attach_1 },
	{ "process_vm_readv", a_process_vm_readv },
	{ "keyctl", a_keyctl },
	{ "add_key", a_add_key },
	{ "request_key", a_request_key },
	{ "bpf", a_bpf },
	{ "perf_event_open", a_perf_event_open },
	{ "userfaultfd", a_userfaultfd },
	{ "io_uring_setup", a_io_uring_setup },
	{ "socket_packet", a_socket_packet },
	{ "socket_packet_high_bits", a_socket_packet_high },
	{ "socket_netlink", a_socket_netlink },
	{ "socket_raw", a_socket_raw },
	{ "socket_unix", a_socket_unix },
	{ "socketpair_inet", a_socketpair_inet },
	{ "tiocsti", a_tiocsti },
	{ "tiocsti_high_bits", a_tiocsti_high },
	{ "ioctl_fionread", a_ioctl_fionread },
	{ "personality_bsd", a_personality_bsd },
	{ "personality_query", a_personality_query },
	{ "reboot", a_reboot },
	{ "kexec_load", a_kexec_load },
	{ "init_module", a_init_module },
	{ "swapon", a_swapon },
	{ "acct", a_acct },
	{ "quotactl", a_quotactl },
	{ "syslog", a_syslog },
	{ "open_by_handle_at", a_open_by_handle_at },
	{ "clock_settime", a_clock_settime },
	{ "unlisted_syscall", a_unlisted_syscall },
	{ "mknod_char", a_mknod_char },
	{ "setuid_0", a_setuid_0 },
	{ "setgid_0", a_setgid_0 },
	{ "setgroups", a_setgroups },
	{ "sethostname", a_sethostname },
	{ "open_proc_1", a_open_proc_1 },
	{ "open_sys", a_open_sys },
	{ "dev_mem", a_dev_mem },
	{ "dotdot", a_dotdot },
	{ "write_dev_null", a_write_dev_null },
	{ "read_dev_urandom", a_read_dev_urandom },
	{ "host_port", a_host_port },
	{ "other_var", a_other_var },
};

static bool applies(const struct attack *a, const struct probe_opts *o)
{
	if (a->fn == a_host_port)
		return o->host_port > 0;
	if (a->fn == a_other_var)
		return o->other_var != NULL;
	return true;
}

void probe_attacks(struct json *j, const struct probe_opts *o)
{
	const char *why = probe_refusal();
	json_open(j, "attacks", '{');
	if (why) {
		json_str(j, "refused", why);
	} else {
		for (size_t i = 0; i < ARRAY_LEN(attacks); i++)
			if (applies(&attacks[i], o))
				json_str(j, attacks[i].name, probe_errname(attacks[i].fn(o)));
	}
	json_close(j, '}');
}

int probe_attack(struct json *j, const char *name, const struct probe_opts *o)
{
	const char *why = probe_refusal();
	json_open(j, NULL, '{');
	json_str(j, "attack", name);
	int found = -1;
	if (why) {
		json_str(j, "refused", why);
		found = 0;
	} else if (probe_load(j, name, o) == 0) {
		found = 0;
	} else {
		for (size_t i = 0; i < ARRAY_LEN(attacks); i++) {
			if (strcmp(attacks[i].name, name) == 0 && applies(&attacks[i], o)) {
				json_str(j, "result", probe_errname(attacks[i].fn(o)));
				found = 0;
			}
		}
	}
	json_close(j, '}');
	return found;
}

const char *probe_errname(int err)
{
	static const struct {
		int e;
		const char *name;
	} names[] = {
		{ 0, "ok" },
		{ EPERM, "EPERM" },
		{ ENOENT, "ENOENT" },
		{ ESRCH, "ESRCH" },
		{ EIO, "EIO" },
		{ ENXIO, "ENXIO" },
		{ E2BIG, "E2BIG" },
		{ EBADF, "EBADF" },
		{ EAGAIN, "EAGAIN" },
		{ ENOMEM, "ENOMEM" },
		{ EACCES, "EACCES" },
		{ EFAULT, "EFAULT" },
		{ EBUSY, "EBUSY" },
		{ EEXIST, "EEXIST" },
		{ EXDEV, "EXDEV" },
		{ ENODEV, "ENODEV" },
		{ ENOTDIR, "ENOTDIR" },
		{ EISDIR, "EISDIR" },
		{ EINVAL, "EINVAL" },
		{ EMFILE, "EMFILE" },
		{ ENOTTY, "ENOTTY" },
		{ ENOSPC, "ENOSPC" },
		{ EROFS, "EROFS" },
		{ ENOSYS, "ENOSYS" },
		{ EOPNOTSUPP, "EOPNOTSUPP" },
		{ EPROTONOSUPPORT, "EPROTONOSUPPORT" },
		{ EAFNOSUPPORT, "EAFNOSUPPORT" },
		{ ENETUNREACH, "ENETUNREACH" },
		{ ECONNREFUSED, "ECONNREFUSED" },
		{ EHOSTUNREACH, "EHOSTUNREACH" },
		{ ETIMEDOUT, "ETIMEDOUT" },
		{ EINPROGRESS, "EINPROGRESS" },
		{ EDQUOT, "EDQUOT" },
		{ ELOOP, "ELOOP" },
		{ ENAMETOOLONG, "ENAMETOOLONG" },
	};
	static char other[16];
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (names[i].e == err)
			return names[i].name;
	snprintf(other, sizeof(other), "E%d", err);
	return other;
}

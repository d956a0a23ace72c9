// SPDX-License-Identifier: MIT
// Interface set-up with the classic SIOC* ioctls: enough for one link and a default route.
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "netif.h"

static int first_ethernet(char name[NETIF_NAME])
{
	DIR *d = opendir("/sys/class/net");
	if (!d)
		return -1;
	struct dirent *e;
	int found = -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, "lo") == 0 ||
		    strlen(e->d_name) >= NETIF_NAME)
			continue;
		char path[300], type[16] = "";
		snprintf(path, sizeof(path), "/sys/class/net/%s/type", e->d_name);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		if (!fgets(type, sizeof(type), f))
			type[0] = '\0';
		fclose(f);
		// ARPHRD_ETHER; the lowest name wins so the choice is stable across boots.
		if (atoi(type) == 1 && (found < 0 || strcmp(e->d_name, name) < 0)) {
			snprintf(name, NETIF_NAME, "%.15s", e->d_name);
			found = 0;
		}
	}
	closedir(d);
	return found;
}

int netif_first_ethernet(char name[NETIF_NAME], int wait_ms)
{
	for (int waited = 0;; waited += 50) {
		if (first_ethernet(name) == 0)
			return 0;
		if (waited >= wait_ms)
			return -1;
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL);
	}
}

static int ifreq_ioctl(const char *name, unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", name);
	int r = ioctl(s, req, ifr);
	int saved = errno;
	close(s);
	errno = saved;
	return r;
}

int netif_up(const char *name)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	if (ifreq_ioctl(name, SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP;
	return ifreq_ioctl(name, SIOCSIFFLAGS, &ifr);
}

int netif_mac(const char *name, uint8_t mac[6])
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	if (ifreq_ioctl(name, SIOCGIFHWADDR, &ifr) < 0)
		return -1;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

static void set_sin(struct sockaddr *sa, uint32_t addr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = addr };
	memcpy(sa, &sin, sizeof(sin));
}

int netif_configure(const char *name, uint32_t addr, uint32_t mask, uint32_t gateway)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	set_sin(&ifr.ifr_addr, addr);
	if (ifreq_ioctl(name, SIOCSIFADDR, &ifr) < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	set_sin(&ifr.ifr_netmask, mask);
	if (ifreq_ioctl(name, SIOCSIFNETMASK, &ifr) < 0)
		return -1;
	if (!gateway)
		return 0;
	struct rtentry rt;
	memset(&rt, 0, sizeof(rt));
	set_sin(&rt.rt_dst, 0);
	set_sin(&rt.rt_genmask, 0);
	set_sin(&rt.rt_gateway, gateway);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	char dev[NETIF_NAME];
	snprintf(dev, sizeof(dev), "%s", name);
	rt.rt_dev = dev;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	int r = ioctl(s, SIOCADDRT, &rt);
	int saved = errno;
	close(s);
	errno = saved;
	// A renewal re-adds the same route.
	return r < 0 && errno != EEXIST ? -1 : 0;
}

void netif_write_resolv(const uint32_t *dns, int n)
{
	char buf[256];
	size_t len = 0;
	for (int i = 0; i < n; i++) {
		char ip[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &dns[i], ip, sizeof(ip));
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "nameserver %s\n", ip);
	}
	int fd = open("/run/resolv.conf.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		console_errno("cannot write /run/resolv.conf");
		return;
	}
	int ok = write(fd, buf, len) == (ssize_t)len;
	ok &= close(fd) == 0;
	if (!ok || rename("/run/resolv.conf.tmp", "/run/resolv.conf") < 0)
		console_errno("cannot write /run/resolv.conf");
}

/* tap.c - TAP interfaces and Linux bridges for virtio-net.
 *
 * Everything here uses ioctls on /dev/net/tun and on an AF_UNIX datagram
 * socket (the classic bridge ioctls SIOCBRADDBR / SIOCBRADDIF do what
 * `ip link add type bridge` / `ip link set master` do). All fds are
 * O_CLOEXEC; the tap fd is non-blocking because the device thread polls it.
 * The tap carries a 12-byte virtio_net_hdr_v1, so frames move between the
 * tap and guest buffers without reformatting; no offloads are enabled, so
 * the kernel never hands us GSO or partial-checksum frames. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include "tap.h"

static int ifreq_init(struct ifreq *ifr, const char *name)
{
	memset(ifr, 0, sizeof(*ifr));
	if (!name || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	memcpy(ifr->ifr_name, name, strlen(name));
	return 0;
}

static int ctl_socket(void)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	return fd < 0 ? -errno : fd;
}

int vmm_tap_open(const char *name, char ret_name[IFNAMSIZ], int *ret_fd)
{
	struct ifreq ifr;
	int fd, hdr = VMM_TAP_VNET_HDR_LEN, r;

	if (ifreq_init(&ifr, name && *name ? name : "tap%d") < 0)
		return -EINVAL;
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD, 0) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	memcpy(ret_name, ifr.ifr_name, IFNAMSIZ);
	ret_name[IFNAMSIZ - 1] = '\0';
	*ret_fd = fd;
	return 0;
}

static int set_up(int sock, const char *ifname)
{
	struct ifreq ifr;

	if (ifreq_init(&ifr, ifname) < 0)
		return -EINVAL;
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	if (ifr.ifr_flags & IFF_UP)
		return 0;
	ifr.ifr_flags |= IFF_UP;
	return ioctl(sock, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

int vmm_tap_set_up(const char *ifname)
{
	int sock = ctl_socket(), r;

	if (sock < 0)
		return sock;
	r = set_up(sock, ifname);
	close(sock);
	return r;
}

int vmm_tap_attach_bridge(const char *ifname, const char *bridge)
{
	struct ifreq ifr;
	unsigned idx;
	int sock, r;

	if (!bridge || strlen(bridge) >= IFNAMSIZ)
		return -EINVAL;
	idx = if_nametoindex(ifname);
	if (idx == 0)
		return -errno;
	sock = ctl_socket();
	if (sock < 0)
		return sock;
	if (ioctl(sock, SIOCBRADDBR, bridge) < 0 && errno != EEXIST) {
		r = -errno;
		goto out;
	}
	r = set_up(sock, bridge);
	if (r < 0)
		goto out;
	ifreq_init(&ifr, bridge);
	ifr.ifr_ifindex = (int)idx;
	/* EBUSY: the interface already has a master; fine if it is this one */
	if (ioctl(sock, SIOCBRADDIF, &ifr) < 0) {
		r = -errno;
		if (r == -EBUSY) {
			char path[64 + 2 * IFNAMSIZ];

			snprintf(path, sizeof(path), "/sys/class/net/%s/brif/%s", bridge, ifname);
			if (access(path, F_OK) == 0)
				r = 0;
		}
		if (r < 0)
			goto out;
	}
	r = set_up(sock, ifname);
out:
	close(sock);
	return r;
}

int vmm_tap_bridge_delete(const char *bridge)
{
	struct ifreq ifr;
	int sock, r = 0;

	if (ifreq_init(&ifr, bridge) < 0)
		return -EINVAL;
	sock = ctl_socket();
	if (sock < 0)
		return sock;
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) {
		r = -errno;
		goto out;
	}
	ifr.ifr_flags &= ~IFF_UP;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0 || ioctl(sock, SIOCBRDELBR, bridge) < 0)
		r = -errno;
out:
	close(sock);
	return r;
}

int vmm_tap_create(const char *name, const char *bridge, char ret_name[IFNAMSIZ], int *ret_fd)
{
	char ifname[IFNAMSIZ];
	int fd, r;

	r = vmm_tap_open(name, ifname, &fd);
	if (r < 0)
		return r;
	r = bridge ? vmm_tap_attach_bridge(ifname, bridge) : vmm_tap_set_up(ifname);
	if (r < 0) {
		close(fd);
		return r;
	}
	memcpy(ret_name, ifname, IFNAMSIZ);
	*ret_fd = fd;
	return 0;
}

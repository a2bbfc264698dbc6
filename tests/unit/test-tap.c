/* test-tap.c - real TAP interfaces and Linux bridges, and virtio-net moving
 * frames both ways through a real tap with fake guest memory. Needs
 * /dev/net/tun and CAP_NET_ADMIN: without them it exits 77 (skipped) and
 * says what was missing. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_config.h>
#include "tap.h"
#include "virtio-net.h"
#include "virtio-test-driver.h"

#define ETH_TEST 0x88b5   /* IEEE local experimental ethertype */

/* names are made once in main from its pid; tests run one after another
 * and main deletes the bridge at the end even if a test failed midway */
static char tap[IFNAMSIZ], bridge[IFNAMSIZ], tap_want[IFNAMSIZ];
static int tap_fd = -1;

static bool path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static bool if_exists(const char *ifname)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/net/%s", ifname);
	return path_exists(path);
}

static bool in_bridge(const char *br, const char *ifname)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/net/%s/brif/%s", br, ifname);
	return path_exists(path);
}

static bool is_up(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool up;

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	ck_assert_int_eq(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	up = ifr.ifr_flags & IFF_UP;
	close(s);
	return up;
}

static void setup(void)
{
	tap[0] = '\0';
	tap_fd = -1;
	vmm_tap_bridge_delete(bridge);   /* left over by a failed test */
}

static void teardown(void)
{
	if (tap_fd >= 0)
		close(tap_fd);
	vmm_tap_bridge_delete(bridge);
}

static void open_tap(void)
{
	ck_assert_int_eq(vmm_tap_open(tap_want, tap, &tap_fd), 0);
	ck_assert_str_eq(tap, tap_want);
}

START_TEST(tap_open)
{
	struct ifreq ifr;
	char auto_name[IFNAMSIZ];
	int fd2, flags;

	open_tap();
	ck_assert(if_exists(tap));
	ck_assert_int_eq(ioctl(tap_fd, TUNGETIFF, &ifr), 0);
	ck_assert(ifr.ifr_flags & IFF_TAP);
	ck_assert(ifr.ifr_flags & IFF_NO_PI);
	ck_assert(ifr.ifr_flags & IFF_VNET_HDR);
	flags = fcntl(tap_fd, F_GETFD);
	ck_assert(flags & FD_CLOEXEC);
	ck_assert(fcntl(tap_fd, F_GETFL) & O_NONBLOCK);
	/* kernel-chosen name */
	ck_assert_int_eq(vmm_tap_open(NULL, auto_name, &fd2), 0);
	ck_assert_int_eq(strncmp(auto_name, "tap", 3), 0);
	close(fd2);
	ck_assert(!if_exists(auto_name));   /* gone with its fd */
	ck_assert_int_eq(vmm_tap_open("a-name-far-too-long-for-ifnamsiz", auto_name, &fd2), -EINVAL);
}
END_TEST

START_TEST(tap_set_up)
{
	open_tap();
	ck_assert(!is_up(tap));
	ck_assert_int_eq(vmm_tap_set_up(tap), 0);
	ck_assert(is_up(tap));
	ck_assert_int_eq(vmm_tap_set_up("hvd-no-such-if"), -ENODEV);
}
END_TEST

START_TEST(tap_attach_bridge)
{
	open_tap();
	ck_assert(!if_exists(bridge));
	ck_assert_int_eq(vmm_tap_attach_bridge(tap, bridge), 0);
	ck_assert(in_bridge(bridge, tap));
	ck_assert(is_up(bridge));
	ck_assert(is_up(tap));
	ck_assert_int_eq(vmm_tap_attach_bridge(tap, bridge), 0);   /* again: fine */
	ck_assert_int_ne(vmm_tap_attach_bridge("hvd-no-such-if", bridge), 0);
}
END_TEST

START_TEST(tap_bridge_delete)
{
	open_tap();
	ck_assert_int_eq(vmm_tap_attach_bridge(tap, bridge), 0);
	ck_assert_int_eq(vmm_tap_bridge_delete(bridge), 0);
	ck_assert(!if_exists(bridge));
	ck_assert_int_lt(vmm_tap_bridge_delete(bridge), 0);
}
END_TEST

START_TEST(tap_create)
{
	ck_assert_int_eq(vmm_tap_create(tap_want, bridge, tap, &tap_fd), 0);
	ck_assert_str_eq(tap, tap_want);
	ck_assert(in_bridge(bridge, tap));
	ck_assert(is_up(tap));
}
END_TEST

/* AF_PACKET socket on the tap interface. ETH_P_ALL: a bridge port's
 * received frames reach only "all protocols" taps before the bridge takes
 * them. */
static int packet_socket(int *ret_ifindex)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

	ck_assert_int_ge(s, 0);
	sll.sll_ifindex = (int)if_nametoindex(tap);
	ck_assert_int_gt(sll.sll_ifindex, 0);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sll, sizeof(sll)), 0);
	*ret_ifindex = sll.sll_ifindex;
	return s;
}

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };

static size_t make_frame(uint8_t *f, const uint8_t *dst, const uint8_t *src, const char *msg)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = ETH_TEST >> 8;
	f[13] = ETH_TEST & 0xff;
	memset(f + 14, 0, 46);
	memcpy(f + 14, msg, strlen(msg));
	return 60;
}

START_TEST(net_over_real_tap)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t host_mac[6] = { 0x02, 0, 0, 0, 0, 1 };
	struct virtio_net_params p = { .mac = { 0 } };
	struct tguest g;
	struct tirq irq;
	struct virtio_net *net;
	struct virtio_mmio *v;
	struct tvq rxq, txq;
	struct tbuf hdr, data, rx[16];
	uint8_t frame[64], got[256];
	int ps, ifindex, found = 0;
	uint32_t id, len;
	ssize_t n;

	ck_assert_int_eq(vmm_tap_create(NULL, bridge, tap, &tap_fd), 0);
	ps = packet_socket(&ifindex);
	tguest_init(&g);
	tirq_init(&irq, 9);
	p.tap_fd = tap_fd;
	memcpy(p.mac, guest_mac, 6);
	ck_assert_int_eq(virtio_net_create(&p, &g.mem, &irq.irq, 0xd0003000, &net), 0);
	v = virtio_net_mmio(net);
	ck_assert(tdriver_negotiate(v, ~0ull) & VIRTIO_CONFIG_S_FEATURES_OK);
	tvq_setup(&g, v, &rxq, VIRTIO_NET_RXQ, 16);
	tvq_setup(&g, v, &txq, VIRTIO_NET_TXQ, 16);
	tdriver_ok(v);

	/* guest -> tap: the host sees the frame on the tap interface */
	hdr = tbuf_new(&g, 12, 0, 0);
	data = tbuf_new(&g, 60, 0, 0);
	make_frame(tguest_ptr(&g, data.gpa), bcast, guest_mac, "hvd guest to host");
	tvq_add(&g, &txq, (struct tbuf[]){ hdr, data }, 2);
	tvq_kick(v, &txq);
	ck_assert_int_eq(tvq_get_used(&g, &txq, &id, &len), 1);
	for (int tries = 0; tries < 20 && !found; tries++) {
		struct pollfd pfd = { .fd = ps, .events = POLLIN };

		if (poll(&pfd, 1, 100) != 1)
			continue;
		n = recv(ps, got, sizeof(got), 0);
		if (n == 60 && memcmp(got, tguest_ptr(&g, data.gpa), 60) == 0)
			found = 1;
	}
	ck_assert_msg(found, "frame the guest sent never appeared on %s", tap);
	found = 0;

	/* tap -> guest: a frame the host sends out of the tap reaches the
	 * guest's buffers (skipping whatever else the kernel sent, e.g. IPv6
	 * neighbour discovery) */
	for (int i = 0; i < 16; i++)
		rx[i] = tbuf_new(&g, 12 + 1518, 1, 0);
	for (int i = 0; i < 16; i++)
		tvq_add(&g, &rxq, &rx[i], 1);
	tvq_kick(v, &rxq);
	{
		struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = ifindex,
					  .sll_halen = 6 };
		size_t flen = make_frame(frame, guest_mac, host_mac, "hvd host to guest");

		memcpy(to.sll_addr, guest_mac, 6);
		ck_assert_int_eq(sendto(ps, frame, flen, 0, (struct sockaddr *)&to, sizeof(to)),
				 (ssize_t)flen);
	}
	for (int tries = 0; tries < 20 && !found; tries++) {
		struct pollfd pfd = { .fd = tap_fd, .events = POLLIN };

		if (poll(&pfd, 1, 100) != 1)
			continue;
		ck_assert_int_ge(virtio_net_rx_ready(net), -ENOBUFS);
		while (tvq_get_used(&g, &rxq, &id, &len)) {
			uint8_t *b = tguest_ptr(&g, rx[id].gpa);

			ck_assert_uint_ge(len, 12);
			ck_assert_uint_eq(b[10], 1);   /* num_buffers */
			if (len == 12 + 60 && memcmp(b + 12, frame, 60) == 0)
				found = 1;
		}
	}
	ck_assert_msg(found, "frame sent out of %s never reached the guest", tap);
	ck_assert_int_eq(irq.level, 1);

	virtio_net_free(net);
	close(ps);
	tguest_fini(&g);
}
END_TEST

static Suite *tap_suite(void)
{
	Suite *s = suite_create("tap");
	struct {
		const char *name;
		const TTest *test;
	} cases[] = {
		{ "vmm_tap_open", tap_open },
		{ "vmm_tap_set_up", tap_set_up },
		{ "vmm_tap_attach_bridge", tap_attach_bridge },
		{ "vmm_tap_bridge_delete", tap_bridge_delete },
		{ "vmm_tap_create", tap_create },
		{ "virtio-net over a tap", net_over_real_tap },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TCase *t = tcase_create(cases[i].name);

		tcase_add_checked_fixture(t, setup, teardown);
		tcase_add_test(t, cases[i].test);
		suite_add_tcase(s, t);
	}
	return s;
}

/* What the machine lacks for these tests, or NULL. */
static const char *missing(void)
{
	char name[IFNAMSIZ];
	int fd, r;

	if (access("/dev/net/tun", F_OK) < 0)
		return "/dev/net/tun does not exist";
	r = vmm_tap_open(NULL, name, &fd);
	if (r == -EACCES)
		return "no permission to open /dev/net/tun";
	if (r == -EPERM)
		return "creating a tap needs CAP_NET_ADMIN";
	if (r < 0)
		return "/dev/net/tun cannot create a tap";
	close(fd);
	return NULL;
}

int main(void)
{
	const char *why = missing();
	SRunner *sr;
	int failed;

	if (why) {
		printf("SKIP: %s\n", why);
		return 77;
	}
	snprintf(bridge, sizeof(bridge), "hvdtbr%d", (int)(getpid() % 100000));
	snprintf(tap_want, sizeof(tap_want), "hvdt%d", (int)(getpid() % 100000));
	sr = srunner_create(tap_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	vmm_tap_bridge_delete(bridge);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

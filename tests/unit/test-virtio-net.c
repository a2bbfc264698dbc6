/* test-virtio-net.c - virtio-net driven through the MMIO transport. The tap
 * is replaced by one end of a SOCK_SEQPACKET socketpair, which keeps frame
 * boundaries as a tap does; test-tap.c runs the same paths on a real tap. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include "virtio-net.h"
#include "virtio-test-driver.h"

static struct tguest g;
static struct tirq irq;
static struct virtio_net *net;
static struct virtio_mmio *v;
static struct tvq rxq, txq;
static int sv[2];   /* sv[0] is the device's "tap", sv[1] the outside world */
static int errors, resumes;
static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static void on_error(void *opaque, const char *device, int err, const char *what)
{
	errors++;
}

static void on_resume(void *opaque)
{
	ck_assert_ptr_eq(opaque, &resumes);
	resumes++;
}

static void create(void)
{
	struct virtio_net_params p = { .tap_fd = sv[0], .rx_resume = on_resume, .opaque = &resumes };

	memcpy(p.mac, mac, 6);
	ck_assert_int_eq(virtio_net_create(&p, &g.mem, &irq.irq, 0xd0002000, &net), 0);
	v = virtio_net_mmio(net);
	virtio_mmio_set_error_handler(v, on_error, NULL);
}

static void bring_up(void)
{
	ck_assert(tdriver_negotiate(v, ~0ull) & VIRTIO_CONFIG_S_FEATURES_OK);
	tvq_setup(&g, v, &rxq, VIRTIO_NET_RXQ, 16);
	tvq_setup(&g, v, &txq, VIRTIO_NET_TXQ, 16);
	tdriver_ok(v);
}

static void setup(void)
{
	tguest_init(&g);
	tirq_init(&irq, 8);
	errors = resumes = 0;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	create();
}

static void teardown(void)
{
	net = virtio_net_free(net);
	close(sv[0]);
	close(sv[1]);
	tguest_fini(&g);
}

static void make_frame(uint8_t *f, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		f[i] = (uint8_t)(seed + i);
}

START_TEST(create_config)
{
	uint8_t cfg[8];
	uint32_t f;

	ck_assert_int_eq(mmio_r32(v, VIRTIO_MMIO_DEVICE_ID), 1);
	for (unsigned i = 0; i < 8; i++)
		v->mmio.ops->read(&v->mmio, VIRTIO_MMIO_CONFIG + i, &cfg[i], 1);
	ck_assert_int_eq(memcmp(cfg, mac, 6), 0);
	ck_assert_uint_eq(cfg[6], VIRTIO_NET_S_LINK_UP);
	mmio_w32(v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = mmio_r32(v, VIRTIO_MMIO_DEVICE_FEATURES);
	ck_assert(f & (1u << VIRTIO_NET_F_MAC));
	ck_assert(f & (1u << VIRTIO_NET_F_STATUS));
	ck_assert(!(f & (1u << VIRTIO_NET_F_CSUM)));
	{
		struct virtio_net_params p = { .tap_fd = -1 };
		struct virtio_net *n2 = NULL;

		ck_assert_int_eq(virtio_net_create(&p, &g.mem, NULL, 0, &n2), -EINVAL);
		ck_assert_ptr_null(n2);
	}
}
END_TEST

START_TEST(tx_frame)
{
	struct tbuf b[2] = { tbuf_new(&g, 12, 0, 0xcc), tbuf_new(&g, 60, 0, 0) };
	uint8_t got[128];
	uint32_t id, len;
	ssize_t n;

	bring_up();
	/* a garbage header must not reach the tap */
	make_frame(tguest_ptr(&g, b[1].gpa), 60, 3);
	tvq_add(&g, &txq, b, 2);
	tvq_kick(v, &txq);
	ck_assert_int_eq(tvq_get_used(&g, &txq, &id, &len), 1);
	ck_assert_uint_eq(len, 0);
	n = recv(sv[1], got, sizeof(got), 0);
	ck_assert_int_eq(n, 72);
	for (int i = 0; i < 12; i++)
		ck_assert_uint_eq(got[i], 0);
	ck_assert_int_eq(memcmp(got + 12, tguest_ptr(&g, b[1].gpa), 60), 0);
	ck_assert_int_eq(irq.level, 1);
}
END_TEST

START_TEST(tx_bad_frames_dropped)
{
	struct tbuf small = tbuf_new(&g, 8, 0, 0);
	struct tbuf big[2] = { tbuf_new(&g, 12, 0, 0), tbuf_new(&g, 70000, 0, 0) };
	uint32_t id, len;
	uint8_t got[16];

	bring_up();
	tvq_add(&g, &txq, &small, 1);
	tvq_add(&g, &txq, big, 2);
	tvq_kick(v, &txq);
	ck_assert_int_eq(tvq_get_used(&g, &txq, &id, &len), 1);
	ck_assert_int_eq(tvq_get_used(&g, &txq, &id, &len), 1);
	ck_assert_int_eq(recv(sv[1], got, sizeof(got), 0), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(errors, 0);
}
END_TEST

START_TEST(rx_frame)
{
	struct tbuf b = tbuf_new(&g, 12 + 1518, 1, 0xee);
	uint8_t pkt[12 + 100] = { 0 };
	uint8_t *p = tguest_ptr(&g, b.gpa);
	uint32_t id, len;

	bring_up();
	tvq_add(&g, &rxq, &b, 1);
	tvq_kick(v, &rxq);
	make_frame(pkt + 12, 100, 9);
	ck_assert_int_eq(send(sv[1], pkt, sizeof(pkt), 0), sizeof(pkt));
	ck_assert_int_eq(virtio_net_rx_ready(net), -ENOBUFS);   /* used its only buffer */
	ck_assert_int_eq(tvq_get_used(&g, &rxq, &id, &len), 1);
	ck_assert_uint_eq(len, sizeof(pkt));
	ck_assert_uint_eq(p[10] | p[11] << 8, 1);                /* num_buffers */
	ck_assert_int_eq(memcmp(p + 12, pkt + 12, 100), 0);
	ck_assert_int_eq(irq.level, 1);
}
END_TEST

START_TEST(rx_flow_control)
{
	struct tbuf b[3];
	uint8_t pkt[12 + 60] = { 0 };
	uint32_t id, len;

	/* not running yet: stop polling; DRIVER_OK with a stalled rx resumes */
	ck_assert_int_eq(virtio_net_rx_ready(net), -ENOBUFS);
	bring_up();
	ck_assert_int_eq(resumes, 1);
	ck_assert_int_eq(virtio_net_rx_ready(net), -ENOBUFS);   /* no buffers */
	for (int i = 0; i < 3; i++)
		b[i] = tbuf_new(&g, 2048, 1, 0);
	tvq_add(&g, &rxq, &b[0], 1);
	tvq_add(&g, &rxq, &b[1], 1);
	tvq_add(&g, &rxq, &b[2], 1);
	tvq_kick(v, &rxq);
	ck_assert_int_eq(resumes, 2);
	tvq_kick(v, &rxq);
	ck_assert_int_eq(resumes, 2);                             /* only once */
	ck_assert_int_eq(virtio_net_rx_ready(net), 0);            /* tap empty */
	ck_assert_int_eq(tvq_used_idx(&g, &rxq), 0);              /* buffer given back */
	send(sv[1], pkt, sizeof(pkt), 0);
	send(sv[1], pkt, sizeof(pkt), 0);
	ck_assert_int_eq(virtio_net_rx_ready(net), 0);
	ck_assert_int_eq(tvq_get_used(&g, &rxq, &id, &len), 1);
	ck_assert_int_eq(tvq_get_used(&g, &rxq, &id, &len), 1);
	ck_assert_uint_eq(len, sizeof(pkt));
	ck_assert_int_eq(tvq_get_used(&g, &rxq, &id, &len), 0);
	ck_assert_int_eq(errors, 0);
}
END_TEST

START_TEST(rx_bad_buffers)
{
	struct tbuf tiny = tbuf_new(&g, 8, 1, 0), ro = tbuf_new(&g, 2048, 0, 0);
	struct tbuf good = tbuf_new(&g, 2048, 1, 0);
	uint8_t pkt[12 + 60] = { 0 };
	uint32_t id, len;

	bring_up();
	tvq_add(&g, &rxq, &tiny, 1);
	tvq_add(&g, &rxq, &ro, 1);
	tvq_add(&g, &rxq, &good, 1);
	send(sv[1], pkt, sizeof(pkt), 0);
	ck_assert_int_eq(virtio_net_rx_ready(net), -ENOBUFS);
	ck_assert_int_eq(tvq_get_used(&g, &rxq, &id, &len), 1);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(tvq_get_used(&g, &rxq, &id, &len), 1);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(tvq_get_used(&g, &rxq, &id, &len), 1);
	ck_assert_uint_eq(len, sizeof(pkt));   /* the frame went to the good one */
	ck_assert_int_eq(errors, 0);
}
END_TEST

START_TEST(rx_hostile_ring)
{
	uint8_t pkt[12 + 60] = { 0 };

	bring_up();
	tvq_set_desc(&g, &rxq, 0, 0, 0xffffffffu, VRING_DESC_F_WRITE, 0);   /* len past RAM */
	tvq_publish(&g, &rxq, 0);
	send(sv[1], pkt, sizeof(pkt), 0);
	ck_assert_int_eq(virtio_net_rx_ready(net), -EIO);
	ck_assert_int_eq(errors, 1);
	ck_assert(mmio_r32(v, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	ck_assert_int_eq(virtio_net_rx_ready(net), -ENOBUFS);   /* failed: not running */
}
END_TEST

START_TEST(tx_hostile_ring)
{
	bring_up();
	/* chain longer than the queue via indirect, nested */
	{
		uint64_t tbl = tguest_alloc(&g, 16, 16);
		struct tdesc_raw *t = tguest_ptr(&g, tbl);

		t[0] = (struct tdesc_raw){ tbl, 16, VRING_DESC_F_INDIRECT, 0 };
		tvq_set_desc(&g, &txq, 0, tbl, 16, VRING_DESC_F_INDIRECT, 0);
		tvq_publish(&g, &txq, 0);
	}
	tvq_kick(v, &txq);
	ck_assert_int_eq(errors, 1);
	ck_assert(v->failed);
	ck_assert_int_eq(v->fail_err, -EINVAL);
}
END_TEST

START_TEST(save_restore)
{
	struct virtio_net_state st;

	bring_up();
	virtio_net_save(net, &st);
	ck_assert_int_eq(memcmp(st.mac, mac, 6), 0);
	ck_assert_int_eq(virtio_net_restore(net, &st), 0);
	ck_assert(virtio_mmio_running(v));
	st.mac[5] ^= 1;
	ck_assert_int_eq(virtio_net_restore(net, &st), -EINVAL);
}
END_TEST

START_TEST(free_null)
{
	ck_assert_ptr_null(virtio_net_free(NULL));
}
END_TEST

static TCase *tc(Suite *s, const char *name)
{
	TCase *t = tcase_create(name);

	tcase_add_checked_fixture(t, setup, teardown);
	suite_add_tcase(s, t);
	return t;
}

static Suite *net_suite(void)
{
	Suite *s = suite_create("virtio-net");
	TCase *t;

	t = tc(s, "virtio_net_create");
	tcase_add_test(t, create_config);
	t = tc(s, "transmit");
	tcase_add_test(t, tx_frame);
	tcase_add_test(t, tx_bad_frames_dropped);
	tcase_add_test(t, tx_hostile_ring);
	t = tc(s, "virtio_net_rx_ready");
	tcase_add_test(t, rx_frame);
	tcase_add_test(t, rx_flow_control);
	tcase_add_test(t, rx_bad_buffers);
	tcase_add_test(t, rx_hostile_ring);
	t = tc(s, "virtio_net_save");
	tcase_add_test(t, save_restore);
	t = tc(s, "virtio_net_free");
	tcase_add_test(t, free_null);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(net_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* test-virtio-rng.c - virtio-rng driven through the MMIO transport. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include "virtio-rng.h"
#include "virtio-test-driver.h"

static struct tguest g;
static struct tirq irq;
static struct virtio_rng *rng;
static struct virtio_mmio *v;
static struct tvq q;
static int errors;

static void on_error(void *opaque, const char *device, int err, const char *what)
{
	errors++;
}

static void setup(void)
{
	tguest_init(&g);
	tirq_init(&irq, 7);
	errors = 0;
	ck_assert_int_eq(virtio_rng_create(&g.mem, &irq.irq, 0xd0001000, &rng), 0);
	v = virtio_rng_mmio(rng);
	virtio_mmio_set_error_handler(v, on_error, NULL);
	ck_assert(tdriver_negotiate(v, ~0ull) & VIRTIO_CONFIG_S_FEATURES_OK);
	tvq_setup(&g, v, &q, 0, 64);
	tdriver_ok(v);
}

static void teardown(void)
{
	rng = virtio_rng_free(rng);
	tguest_fini(&g);
}

static int count_nonzero(const uint8_t *p, size_t n)
{
	int c = 0;

	for (size_t i = 0; i < n; i++)
		c += p[i] != 0;
	return c;
}

START_TEST(create_identity)
{
	ck_assert_uint_eq(mmio_r32(v, VIRTIO_MMIO_DEVICE_ID), 4);
	ck_assert_uint_eq(mmio_r32(v, VIRTIO_MMIO_QUEUE_NUM_MAX), 64);
	ck_assert_uint_eq(mmio_r32(v, VIRTIO_MMIO_CONFIG), 0);   /* no config space */
}
END_TEST

START_TEST(fills_buffers)
{
	struct tbuf b[2] = { tbuf_new(&g, 256, 1, 0), tbuf_new(&g, 256, 1, 0) };
	uint32_t id, len;

	tvq_add(&g, &q, b, 2);
	tvq_kick(v, &q);
	ck_assert_int_eq(tvq_get_used(&g, &q, &id, &len), 1);
	ck_assert_uint_eq(len, 512);
	/* 256 random bytes with fewer than 200 non-zero ones: p ~ 0 */
	ck_assert_int_gt(count_nonzero(tguest_ptr(&g, b[0].gpa), 256), 200);
	ck_assert_int_gt(count_nonzero(tguest_ptr(&g, b[1].gpa), 256), 200);
	ck_assert_int_eq(irq.level, 1);
}
END_TEST

START_TEST(bounded_and_readable_only)
{
	struct tbuf big = tbuf_new(&g, 1u << 20, 1, 0), ro = tbuf_new(&g, 64, 0, 0);
	uint32_t id, len;

	tvq_add(&g, &q, &big, 1);
	tvq_add(&g, &q, &ro, 1);
	tvq_kick(v, &q);
	ck_assert_int_eq(tvq_get_used(&g, &q, &id, &len), 1);
	ck_assert_uint_eq(len, 65536);   /* at most 64 KiB per request */
	ck_assert_int_eq(tvq_get_used(&g, &q, &id, &len), 1);
	ck_assert_uint_eq(len, 0);       /* nothing writable: nothing given */
	ck_assert_int_eq(count_nonzero(tguest_ptr(&g, ro.gpa), 64), 0);
	ck_assert_int_eq(errors, 0);
}
END_TEST

START_TEST(hostile_fails_device)
{
	tvq_set_desc(&g, &q, 0, g.mem.size, 1, VRING_DESC_F_WRITE, 0);
	tvq_publish(&g, &q, 0);
	tvq_kick(v, &q);
	ck_assert_int_eq(errors, 1);
	ck_assert(mmio_r32(v, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
}
END_TEST

START_TEST(save_restore)
{
	struct virtio_rng_state st;
	struct virtio_rng *r2;
	struct tbuf b = tbuf_new(&g, 16, 1, 0);

	tvq_add(&g, &q, &b, 1);
	tvq_kick(v, &q);
	virtio_rng_save(rng, &st);
	ck_assert_int_eq(virtio_rng_create(&g.mem, &irq.irq, 0xd0001000, &r2), 0);
	ck_assert_int_eq(virtio_rng_restore(r2, &st), 0);
	ck_assert_uint_eq(virtio_rng_mmio(r2)->vq[0].used_idx, 1);
	st.mmio.status = 0x100;   /* not a status bit */
	ck_assert_int_eq(virtio_rng_restore(r2, &st), -EINVAL);
	virtio_rng_free(r2);
}
END_TEST

START_TEST(free_null)
{
	ck_assert_ptr_null(virtio_rng_free(NULL));
}
END_TEST

static TCase *tc(Suite *s, const char *name)
{
	TCase *t = tcase_create(name);

	tcase_add_checked_fixture(t, setup, teardown);
	suite_add_tcase(s, t);
	return t;
}

static Suite *rng_suite(void)
{
	Suite *s = suite_create("virtio-rng");
	TCase *t;

	t = tc(s, "virtio_rng_create");
	tcase_add_test(t, create_identity);
	t = tc(s, "requests");
	tcase_add_test(t, fills_buffers);
	tcase_add_test(t, bounded_and_readable_only);
	tcase_add_test(t, hostile_fails_device);
	t = tc(s, "virtio_rng_save");
	tcase_add_test(t, save_restore);
	t = tc(s, "virtio_rng_free");
	tcase_add_test(t, free_null);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(rng_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

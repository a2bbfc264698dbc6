/* test-virtio-mmio.c - the virtio-mmio transport, driven through its MMIO
 * ops by a test driver, with a dummy two-queue device behind it. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include "virtio-mmio.h"
#include "virtio-test-driver.h"

#define BASE 0xd0000000ull
#define DUMMY_FEATURE 3

struct dummy {
	struct virtio_mmio vdev;
	struct virtq_chain chain;
	int notified[2];
	int resets;
	int popped;
};

static struct tguest g;
static struct tirq irq;
static struct dummy dev;
static struct tvq q0;
static int errors, last_err;
static const char *last_device;

static int dummy_notify(struct virtio_mmio *vdev, unsigned q)
{
	struct dummy *d = container_of(vdev, struct dummy, vdev);
	int r;

	d->notified[q]++;
	while ((r = virtq_pop(&vdev->vq[q], &d->chain)) == 1) {
		d->popped++;
		virtq_push(&vdev->vq[q], d->chain.head, (uint32_t)d->chain.in_len);
	}
	virtio_mmio_signal_used(vdev, q);
	return r;
}

static void dummy_get_config(struct virtio_mmio *vdev, uint8_t *buf)
{
	memcpy(buf, "ABCDEFGH", 8);
}

static void dummy_reset(struct virtio_mmio *vdev)
{
	container_of(vdev, struct dummy, vdev)->resets++;
}

static const struct virtio_mmio_ops dummy_ops = {
	.name = "dummy",
	.device_id = 42,
	.num_queues = 2,
	.config_size = 8,
	.get_config = dummy_get_config,
	.notify = dummy_notify,
	.reset = dummy_reset,
};

static void on_error(void *opaque, const char *device, int err, const char *what)
{
	ck_assert_ptr_eq(opaque, &dev);
	ck_assert_ptr_nonnull(what);
	errors++;
	last_err = err;
	last_device = device;
}

static void setup(void)
{
	tguest_init(&g);
	tirq_init(&irq, 5);
	memset(&dev, 0, sizeof(dev));
	errors = 0;
	ck_assert_int_eq(virtio_mmio_init(&dev.vdev, &dummy_ops, &g.mem, &irq.irq, BASE,
					  1ull << DUMMY_FEATURE, 16), 0);
	virtio_mmio_set_error_handler(&dev.vdev, on_error, &dev);
}

static void teardown(void)
{
	virtio_mmio_destroy(&dev.vdev);
	tguest_fini(&g);
}

/* negotiate everything offered, set up queue 0, DRIVER_OK */
static void bring_up(void)
{
	ck_assert(tdriver_negotiate(&dev.vdev, ~0ull) & VIRTIO_CONFIG_S_FEATURES_OK);
	tvq_setup(&g, &dev.vdev, &q0, 0, 16);
	tdriver_ok(&dev.vdev);
}

static uint32_t status(void)
{
	return mmio_r32(&dev.vdev, VIRTIO_MMIO_STATUS);
}

START_TEST(init_identity)
{
	struct dummy d2;
	struct virtio_mmio_ops bad = dummy_ops;

	ck_assert_uint_eq(mmio_r32(&dev.vdev, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	ck_assert_uint_eq(mmio_r32(&dev.vdev, VIRTIO_MMIO_VERSION), 2);
	ck_assert_uint_eq(mmio_r32(&dev.vdev, VIRTIO_MMIO_DEVICE_ID), 42);
	ck_assert_uint_ne(mmio_r32(&dev.vdev, VIRTIO_MMIO_VENDOR_ID), 0);
	ck_assert_uint_eq(dev.vdev.mmio.base, BASE);
	ck_assert_uint_eq(dev.vdev.mmio.size, VIRTIO_MMIO_WINDOW);
	ck_assert_int_eq(virtio_mmio_init(&d2.vdev, &dummy_ops, &g.mem, NULL, 0, 0, 12), -EINVAL);
	ck_assert_int_eq(virtio_mmio_init(&d2.vdev, &dummy_ops, &g.mem, NULL, 0, 0, 512), -EINVAL);
	bad.num_queues = VIRTIO_MMIO_MAX_QUEUES + 1;
	ck_assert_int_eq(virtio_mmio_init(&d2.vdev, &bad, &g.mem, NULL, 0, 0, 16), -EINVAL);
}
END_TEST

START_TEST(features_negotiation)
{
	struct virtio_mmio *v = &dev.vdev;

	mmio_w32(v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ck_assert_uint_eq(mmio_r32(v, VIRTIO_MMIO_DEVICE_FEATURES),
			  (1u << DUMMY_FEATURE) | (1u << VIRTIO_RING_F_INDIRECT_DESC) |
			  (1u << VIRTIO_RING_F_EVENT_IDX));
	mmio_w32(v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	ck_assert_uint_eq(mmio_r32(v, VIRTIO_MMIO_DEVICE_FEATURES), 1);   /* VERSION_1 */
	mmio_w32(v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	ck_assert_uint_eq(mmio_r32(v, VIRTIO_MMIO_DEVICE_FEATURES), 0);

	/* a legacy driver (no VERSION_1) is refused */
	ck_assert(!(tdriver_negotiate(v, 1ull << DUMMY_FEATURE) & VIRTIO_CONFIG_S_FEATURES_OK));
	/* a feature that was not offered is refused */
	mmio_w32(v, VIRTIO_MMIO_STATUS, 0);
	mmio_w32(v, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_w32(v, VIRTIO_MMIO_DRIVER_FEATURES, 3);   /* VERSION_1 + bit 33 */
	mmio_w32(v, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_FEATURES_OK);
	ck_assert_uint_eq(status() & VIRTIO_CONFIG_S_FEATURES_OK, 0);
	/* a proper one is accepted, and then features are frozen */
	ck_assert(tdriver_negotiate(v, ~0ull) & VIRTIO_CONFIG_S_FEATURES_OK);
	ck_assert_uint_eq(v->driver_features, v->device_features);
	mmio_w32(v, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_w32(v, VIRTIO_MMIO_DRIVER_FEATURES, 0);
	ck_assert_uint_eq(v->driver_features, v->device_features);
	/* DRIVER_OK without FEATURES_OK does not stick */
	mmio_w32(v, VIRTIO_MMIO_STATUS, 0);
	mmio_w32(v, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK);
	ck_assert_uint_eq(status(), VIRTIO_CONFIG_S_DRIVER);
}
END_TEST

START_TEST(queue_registers)
{
	struct virtio_mmio *v = &dev.vdev;

	tdriver_negotiate(v, ~0ull);
	mmio_w32(v, VIRTIO_MMIO_QUEUE_SEL, 1);
	ck_assert_uint_eq(mmio_r32(v, VIRTIO_MMIO_QUEUE_NUM_MAX), 16);
	mmio_w32(v, VIRTIO_MMIO_QUEUE_SEL, 2);   /* no such queue */
	ck_assert_uint_eq(mmio_r32(v, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	mmio_w32(v, VIRTIO_MMIO_QUEUE_READY, 1);   /* ignored */
	tvq_setup(&g, v, &q0, 0, 8);
	ck_assert_uint_eq(mmio_r32(v, VIRTIO_MMIO_QUEUE_READY), 1);
	ck_assert_uint_eq(mmio_r32(v, VIRTIO_MMIO_QUEUE_NUM), 8);
	ck_assert_uint_eq(mmio_r32(v, VIRTIO_MMIO_QUEUE_DESC_LOW), (uint32_t)q0.desc);
	ck_assert(v->vq[0].event_idx && v->vq[0].indirect);
	/* settings are frozen while ready */
	mmio_w32(v, VIRTIO_MMIO_QUEUE_NUM, 4);
	mmio_w32(v, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x100);
	ck_assert_uint_eq(v->vq[0].size, 8);
	ck_assert_uint_eq(v->vq[0].desc_gpa, q0.desc);
	mmio_w32(v, VIRTIO_MMIO_QUEUE_READY, 0);
	ck_assert_uint_eq(mmio_r32(v, VIRTIO_MMIO_QUEUE_READY), 0);
	mmio_w32(v, VIRTIO_MMIO_QUEUE_NUM, 4);
	ck_assert_uint_eq(v->vq[0].size, 4);
	mmio_w32(v, VIRTIO_MMIO_QUEUE_NUM, 32);   /* above QueueNumMax */
	ck_assert_uint_eq(v->vq[0].size, 0);
	ck_assert_int_eq(errors, 0);
}
END_TEST

START_TEST(queue_rings_outside_ram)
{
	struct virtio_mmio *v = &dev.vdev;

	tdriver_negotiate(v, ~0ull);
	mmio_w32(v, VIRTIO_MMIO_QUEUE_SEL, 0);
	mmio_w32(v, VIRTIO_MMIO_QUEUE_NUM, 16);
	mmio_w32(v, VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
	mmio_w32(v, VIRTIO_MMIO_QUEUE_DESC_HIGH, 1);   /* 4 GiB: past RAM */
	mmio_w32(v, VIRTIO_MMIO_QUEUE_READY, 1);
	ck_assert_uint_eq(mmio_r32(v, VIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert(status() & VIRTIO_CONFIG_S_NEEDS_RESET);
	ck_assert_int_eq(errors, 1);
	ck_assert_int_eq(last_err, -EFAULT);
	ck_assert_str_eq(last_device, "dummy");
}
END_TEST

START_TEST(access_widths_and_config)
{
	struct virtio_mmio *v = &dev.vdev;
	uint64_t v8 = 0;
	uint16_t v2 = 0;
	uint8_t b = 0xff;

	v->mmio.ops->read(&v->mmio, VIRTIO_MMIO_MAGIC_VALUE, &v2, 2);
	ck_assert_uint_eq(v2, 0);   /* registers are 32-bit only */
	v->mmio.ops->read(&v->mmio, VIRTIO_MMIO_CONFIG + 2, &v2, 2);
	ck_assert_uint_eq(v2, 'C' | ('D' << 8));
	v->mmio.ops->read(&v->mmio, VIRTIO_MMIO_CONFIG, &v8, 8);
	ck_assert_int_eq(memcmp(&v8, "ABCDEFGH", 8), 0);
	v->mmio.ops->read(&v->mmio, VIRTIO_MMIO_CONFIG + 7, &v2, 2);   /* crosses the end */
	ck_assert_uint_eq(v2, 0);
	v->mmio.ops->read(&v->mmio, VIRTIO_MMIO_WINDOW - 1, &b, 1);
	ck_assert_uint_eq(b, 0);
	ck_assert_uint_eq(mmio_r32(v, 0x0c8), 0);   /* undefined register */
	mmio_w32(v, 0x0c8, 0xffffffff);             /* ignored */
	v->mmio.ops->write(&v->mmio, VIRTIO_MMIO_STATUS, &b, 1);   /* wrong width */
	ck_assert_uint_eq(status(), 0);
	ck_assert_uint_eq(mmio_r32(v, VIRTIO_MMIO_CONFIG_GENERATION), 0);
	virtio_mmio_config_changed(v);
	ck_assert_uint_eq(mmio_r32(v, VIRTIO_MMIO_CONFIG_GENERATION), 1);
	ck_assert_uint_eq(mmio_r32(v, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffffu);
}
END_TEST

START_TEST(notify_and_interrupt)
{
	struct virtio_mmio *v = &dev.vdev;
	struct tbuf b = tbuf_new(&g, 64, 1, 0);
	uint32_t id, len;

	bring_up();
	tvq_add(&g, &q0, &b, 1);
	tvq_kick(v, &q0);
	ck_assert_int_eq(dev.popped, 1);
	ck_assert_int_eq(tvq_get_used(&g, &q0, &id, &len), 1);
	ck_assert_uint_eq(len, 64);
	ck_assert_uint_eq(mmio_r32(v, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	ck_assert_int_eq(irq.level, 1);
	mmio_w32(v, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(mmio_r32(v, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	ck_assert_int_eq(irq.level, 0);
	/* kicks for queues that do not exist or are not ready are ignored */
	mmio_w32(v, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	mmio_w32(v, VIRTIO_MMIO_QUEUE_NOTIFY, 7);
	ck_assert_int_eq(dev.notified[1], 0);
	/* the ioeventfd path does the same as the register */
	tvq_add(&g, &q0, &b, 1);
	virtio_mmio_notify(v, 0);
	ck_assert_int_eq(dev.popped, 2);
	virtio_mmio_notify(v, 99);
	ck_assert_int_eq(errors, 0);
}
END_TEST

START_TEST(notify_before_driver_ok)
{
	struct virtio_mmio *v = &dev.vdev;
	struct tbuf b = tbuf_new(&g, 8, 1, 0);

	tdriver_negotiate(v, ~0ull);
	tvq_setup(&g, v, &q0, 0, 16);
	tvq_add(&g, &q0, &b, 1);
	tvq_kick(v, &q0);
	ck_assert_int_eq(dev.popped, 0);   /* not before DRIVER_OK */
	tdriver_ok(v);
	ck_assert_int_eq(dev.popped, 1);   /* but right after it */
}
END_TEST

START_TEST(notify_addr_and_cmdline)
{
	char buf[128];

	ck_assert_uint_eq(virtio_mmio_notify_addr(&dev.vdev), BASE + 0x50);
	ck_assert_int_gt(virtio_mmio_cmdline(&dev.vdev, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "virtio_mmio.device=512@0xd0000000:5");
	ck_assert_int_eq(virtio_mmio_cmdline(&dev.vdev, buf, 10), -ENOSPC);
}
END_TEST

START_TEST(hostile_ring_fails_device)
{
	struct virtio_mmio *v = &dev.vdev;
	struct tbuf b = tbuf_new(&g, 8, 1, 0);
	int kicks;

	bring_up();
	tvq_set_desc(&g, &q0, 0, b.gpa, 8, VRING_DESC_F_NEXT, 0);   /* loop */
	tvq_publish(&g, &q0, 0);
	irq.raised = 0;
	tvq_kick(v, &q0);
	ck_assert_int_eq(errors, 1);
	ck_assert_int_eq(last_err, -ELOOP);
	ck_assert_uint_eq(status() & VIRTIO_CONFIG_S_NEEDS_RESET, VIRTIO_CONFIG_S_NEEDS_RESET);
	ck_assert_uint_eq(mmio_r32(v, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	ck_assert_int_eq(irq.raised, 1);
	/* further kicks do nothing, the error is reported once */
	kicks = dev.notified[0];
	tvq_kick(v, &q0);
	ck_assert_int_eq(dev.notified[0], kicks);
	ck_assert_int_eq(errors, 1);
	kicks = dev.resets;
	/* the driver cannot clear NEEDS_RESET except by a reset */
	mmio_w32(v, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	ck_assert(status() & VIRTIO_CONFIG_S_NEEDS_RESET);
	mmio_w32(v, VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(status(), 0);
	ck_assert(!v->failed);
	ck_assert_int_eq(dev.resets, kicks + 1);
	ck_assert_int_eq(irq.level, 0);
	ck_assert_uint_eq(mmio_r32(v, VIRTIO_MMIO_QUEUE_READY), 0);
	/* and the device works again */
	bring_up();
	b = tbuf_new(&g, 8, 1, 0);
	tvq_add(&g, &q0, &b, 1);
	tvq_kick(v, &q0);
	ck_assert_int_eq(dev.popped, 1);
}
END_TEST

START_TEST(fail_direct)
{
	struct virtio_mmio *v = &dev.vdev;

	/* before DRIVER_OK: no interrupt, but the status and the callback */
	pthread_mutex_lock(&v->lock);
	virtio_mmio_fail(v, -EIO, "test");
	virtio_mmio_fail(v, -EIO, "test");
	pthread_mutex_unlock(&v->lock);
	ck_assert_int_eq(errors, 1);
	ck_assert_int_eq(irq.raised, 0);
	ck_assert(status() & VIRTIO_CONFIG_S_NEEDS_RESET);
	ck_assert(!virtio_mmio_running(v));
}
END_TEST

START_TEST(running_state)
{
	ck_assert(!virtio_mmio_running(&dev.vdev));
	bring_up();
	ck_assert(virtio_mmio_running(&dev.vdev));
}
END_TEST

START_TEST(error_handler_cleared)
{
	virtio_mmio_set_error_handler(&dev.vdev, NULL, NULL);
	pthread_mutex_lock(&dev.vdev.lock);
	virtio_mmio_fail(&dev.vdev, -EIO, "test");
	pthread_mutex_unlock(&dev.vdev.lock);
	ck_assert_int_eq(errors, 0);
	ck_assert(dev.vdev.failed);
}
END_TEST

START_TEST(signal_used_event_idx)
{
	struct virtio_mmio *v = &dev.vdev;
	struct tbuf b = tbuf_new(&g, 8, 1, 0);
	uint16_t *avail;

	bring_up();
	avail = tguest_ptr(&g, q0.avail);
	avail[2 + 16] = 5;   /* used_event: only after the 6th buffer */
	for (int i = 0; i < 5; i++)
		tvq_add(&g, &q0, &b, 1);
	tvq_kick(v, &q0);
	ck_assert_int_eq(dev.popped, 5);
	ck_assert_int_eq(irq.raised, 0);
	tvq_add(&g, &q0, &b, 1);
	tvq_kick(v, &q0);
	ck_assert_int_eq(irq.raised, 1);
}
END_TEST

START_TEST(save_restore)
{
	struct virtio_mmio *v = &dev.vdev;
	struct virtio_mmio_state st, bad;
	struct tbuf b = tbuf_new(&g, 8, 1, 0);
	struct dummy d2;

	bring_up();
	tvq_add(&g, &q0, &b, 1);
	tvq_kick(v, &q0);
	virtio_mmio_save(v, &st);
	ck_assert_uint_eq(st.interrupt_status, VIRTIO_MMIO_INT_VRING);

	memset(&d2, 0, sizeof(d2));
	ck_assert_int_eq(virtio_mmio_init(&d2.vdev, &dummy_ops, &g.mem, &irq.irq, BASE,
					  1ull << DUMMY_FEATURE, 16), 0);
	irq.level = 0;
	ck_assert_int_eq(virtio_mmio_restore(&d2.vdev, &st), 0);
	ck_assert_int_eq(irq.level, 1);
	ck_assert_uint_eq(mmio_r32(&d2.vdev, VIRTIO_MMIO_STATUS), status());
	ck_assert_uint_eq(d2.vdev.vq[0].used_idx, 1);
	/* the restored device carries on with the same ring */
	tvq_add(&g, &q0, &b, 1);
	tvq_kick(&d2.vdev, &q0);
	ck_assert_int_eq(d2.popped, 1);
	ck_assert_int_eq(tvq_used_idx(&g, &q0), 2);

	bad = st;
	bad.driver_features |= 1ull << 40;   /* never offered */
	ck_assert_int_eq(virtio_mmio_restore(&d2.vdev, &bad), -EINVAL);
	bad = st;
	bad.vq[0].desc_gpa = g.mem.size;
	ck_assert_int_eq(virtio_mmio_restore(&d2.vdev, &bad), -EFAULT);
	bad = st;
	bad.num_queues = 3;
	ck_assert_int_eq(virtio_mmio_restore(&d2.vdev, &bad), -EINVAL);
	bad = st;
	bad.failed = 1;   /* failed without NEEDS_RESET */
	ck_assert_int_eq(virtio_mmio_restore(&d2.vdev, &bad), -EINVAL);
	ck_assert_uint_eq(d2.vdev.vq[0].used_idx, 2);   /* unchanged by refusals */
	virtio_mmio_destroy(&d2.vdev);
}
END_TEST

START_TEST(destroy_twice)
{
	struct virtio_mmio z;

	memset(&z, 0, sizeof(z));
	virtio_mmio_destroy(&z);
	virtio_mmio_destroy(NULL);
	virtio_mmio_destroy(&dev.vdev);
	virtio_mmio_destroy(&dev.vdev);   /* teardown destroys a third time */
}
END_TEST

static TCase *tc(Suite *s, const char *name)
{
	TCase *t = tcase_create(name);

	tcase_add_checked_fixture(t, setup, teardown);
	suite_add_tcase(s, t);
	return t;
}

static Suite *mmio_suite(void)
{
	Suite *s = suite_create("virtio-mmio");
	TCase *t;

	t = tc(s, "virtio_mmio_init");
	tcase_add_test(t, init_identity);
	t = tc(s, "registers");
	tcase_add_test(t, features_negotiation);
	tcase_add_test(t, queue_registers);
	tcase_add_test(t, queue_rings_outside_ram);
	tcase_add_test(t, access_widths_and_config);
	t = tc(s, "virtio_mmio_notify");
	tcase_add_test(t, notify_and_interrupt);
	tcase_add_test(t, notify_before_driver_ok);
	tcase_add_test(t, hostile_ring_fails_device);
	t = tc(s, "virtio_mmio_notify_addr");
	tcase_add_test(t, notify_addr_and_cmdline);
	t = tc(s, "virtio_mmio_fail");
	tcase_add_test(t, fail_direct);
	t = tc(s, "virtio_mmio_running");
	tcase_add_test(t, running_state);
	t = tc(s, "virtio_mmio_set_error_handler");
	tcase_add_test(t, error_handler_cleared);
	t = tc(s, "virtio_mmio_signal_used");
	tcase_add_test(t, signal_used_event_idx);
	t = tc(s, "virtio_mmio_save");
	tcase_add_test(t, save_restore);
	t = tc(s, "virtio_mmio_destroy");
	tcase_add_test(t, destroy_twice);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(mmio_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* test-vmm-i8042.c - i8042.c: controller and keyboard probe answers, the
 * Ctrl-Alt-Del sequence in set 2 and (translated) set 1, one IRQ 1 pulse
 * per keyboard byte only while the guest enabled the interrupt, a full
 * buffer refusing a second request, reset as a reboot. */
#include <check.h>
#include <errno.h>
#include <string.h>
#include "i8042.h"

static unsigned rises, falls;
static int level;
static enum vmm_stop_reason stopped;

static void irq_set(struct vmm_irq *irq, int l)
{
	if (l && !level)
		rises++;
	if (!l && level)
		falls++;
	level = l;
}

static struct vmm_irq irq = { .set = irq_set, .gsi = 1 };

static void on_stop(void *o, enum vmm_stop_reason reason, int code, const char *detail)
{
	stopped = reason;
}

static void setup(struct vmm_i8042 *k)
{
	rises = falls = 0;
	level = 0;
	stopped = VMM_STOP_NONE;
	ck_assert_int_eq(vmm_i8042_init(k, &irq, on_stop, NULL), 0);
}

static uint8_t in(struct vmm_i8042 *k, uint16_t port)
{
	uint32_t v = 0;

	vmm_i8042_io_ops.in(k, port, 1, &v);
	return (uint8_t)v;
}

static void out(struct vmm_i8042 *k, uint16_t port, uint8_t v)
{
	vmm_i8042_io_ops.out(k, port, 1, v);
}

/* Reads everything waiting into buf; returns the count. */
static size_t drain(struct vmm_i8042 *k, uint8_t *buf, size_t cap)
{
	size_t n = 0;

	while (n < cap && (in(k, VMM_I8042_CMD) & 1))
		buf[n++] = in(k, VMM_I8042_DATA);
	return n;
}

START_TEST(test_io_ops)
{
	struct vmm_i8042 k;
	uint8_t b[16];

	setup(&k);
	ck_assert_uint_eq(in(&k, VMM_I8042_CMD) & 1, 0);
	out(&k, VMM_I8042_CMD, 0xaa);                     /* self-test */
	ck_assert_uint_eq(drain(&k, b, sizeof(b)), 1);
	ck_assert_uint_eq(b[0], 0x55);
	out(&k, VMM_I8042_CMD, 0x20);                     /* read config */
	ck_assert_uint_eq(drain(&k, b, sizeof(b)), 1);
	ck_assert_uint_eq(b[0], 0x05);
	ck_assert_uint_eq(rises, 0);                      /* controller answers: no IRQ */
	out(&k, VMM_I8042_DATA, 0xf2);                    /* keyboard: get id */
	ck_assert_uint_eq(rises, 1);
	ck_assert_uint_eq(drain(&k, b, sizeof(b)), 3);
	ck_assert_uint_eq(b[0], 0xfa);
	ck_assert_uint_eq(b[1], 0xab);
	ck_assert_uint_eq(b[2], 0x83);
	ck_assert_uint_eq(rises, 3);                      /* one per byte */
	ck_assert_uint_eq(falls, 3);
	ck_assert_uint_eq(in(&k, VMM_I8042_DATA), 0x83);  /* empty: last byte again */
	out(&k, VMM_I8042_DATA, 0xf0);                    /* get scancode set */
	out(&k, VMM_I8042_DATA, 0x00);
	ck_assert_uint_eq(drain(&k, b, sizeof(b)), 3);
	ck_assert_uint_eq(b[2], 2);
	out(&k, VMM_I8042_CMD, 0x60);                     /* interrupt off */
	out(&k, VMM_I8042_DATA, 0x04);
	rises = 0;
	out(&k, VMM_I8042_DATA, 0xff);                    /* reset: ack, BAT ok */
	ck_assert_uint_eq(rises, 0);
	out(&k, VMM_I8042_CMD, 0x60);                     /* on again: data waits */
	out(&k, VMM_I8042_DATA, 0x05);
	ck_assert_uint_eq(rises, 1);
	ck_assert_uint_eq(drain(&k, b, sizeof(b)), 2);
	ck_assert_uint_eq(b[1], 0xaa);
	ck_assert_int_eq(stopped, VMM_STOP_NONE);
	out(&k, VMM_I8042_CMD, 0xfe);
	ck_assert_int_eq(stopped, VMM_STOP_REBOOT);
	vmm_i8042_destroy(&k);
}
END_TEST

START_TEST(test_ctrl_alt_del)
{
	static const uint8_t set2[] = { 0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0, 0x71,
					0xf0, 0x11, 0xf0, 0x14 };
	static const uint8_t set1[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };
	struct vmm_i8042 k;
	uint8_t b[32];

	setup(&k);
	ck_assert_int_eq(vmm_i8042_ctrl_alt_del(&k), 0);
	ck_assert_uint_eq(rises, 1);
	/* 11 of 16 bytes used: a second sequence does not fit, and nothing of
	 * it is queued. */
	ck_assert_int_eq(vmm_i8042_ctrl_alt_del(&k), -EAGAIN);
	ck_assert_uint_eq(drain(&k, b, sizeof(b)), sizeof(set2));
	ck_assert_mem_eq(b, set2, sizeof(set2));
	ck_assert_uint_eq(rises, sizeof(set2));
	/* translation on: set 1 */
	out(&k, VMM_I8042_CMD, 0x60);
	out(&k, VMM_I8042_DATA, 0x45);
	ck_assert_int_eq(vmm_i8042_ctrl_alt_del(&k), 0);
	ck_assert_uint_eq(drain(&k, b, sizeof(b)), sizeof(set1));
	ck_assert_mem_eq(b, set1, sizeof(set1));
	/* without an IRQ line (no irqchip) it still queues */
	vmm_i8042_destroy(&k);
	ck_assert_int_eq(vmm_i8042_init(&k, NULL, NULL, NULL), 0);
	ck_assert_int_eq(vmm_i8042_ctrl_alt_del(&k), 0);
	ck_assert_uint_eq(drain(&k, b, sizeof(b)), sizeof(set2));
	vmm_i8042_destroy(&k);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vmm-i8042");
	TCase *tc;

	tc = tcase_create("vmm_i8042_io_ops");
	tcase_add_test(tc, test_io_ops);
	suite_add_tcase(s, tc);
	tc = tcase_create("vmm_i8042_ctrl_alt_del");
	tcase_add_test(tc, test_ctrl_alt_del);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

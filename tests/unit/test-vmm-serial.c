/* test-vmm-serial.c - serial.c: output reaches the history ring, a slow
 * reader is told what it lost, input comes out of RBR, the interrupt line
 * follows IER/IIR, divisor latch and loopback behave. */
#include <check.h>
#include <string.h>
#include "serial.h"

static int irq_level, outputs;

static void irq_set(struct vmm_irq *irq, int level)
{
	irq_level = level;
}

static struct vmm_irq irq = { .set = irq_set, .gsi = 4 };

static void on_output(void *o, uint8_t byte)
{
	outputs++;
}

static void out8(struct vmm_serial *s, unsigned reg, uint8_t v)
{
	vmm_serial_io_ops.out(s, (uint16_t)(VMM_SERIAL_COM1 + reg), 1, v);
}

static uint8_t in8(struct vmm_serial *s, unsigned reg)
{
	uint32_t v = 0;

	vmm_serial_io_ops.in(s, (uint16_t)(VMM_SERIAL_COM1 + reg), 1, &v);
	return (uint8_t)v;
}

static struct vmm_serial s;

START_TEST(test_output)
{
	char buf[16];
	uint64_t cursor = 0, dropped = 9;

	vmm_serial_init(&s, &irq, on_output, NULL);
	outputs = 0;
	for (const char *p = "hello"; *p; p++)
		out8(&s, 0, (uint8_t)*p);
	ck_assert_int_eq(outputs, 5);
	ck_assert_uint_eq(vmm_serial_output_total(&s), 5);
	ck_assert_uint_eq(vmm_serial_read_output(&s, &cursor, buf, sizeof(buf), &dropped), 5);
	ck_assert(!memcmp(buf, "hello", 5));
	ck_assert_uint_eq(dropped, 0);
	ck_assert_uint_eq(cursor, 5);
	/* LSR: transmitter always empty */
	ck_assert_uint_eq(in8(&s, 5) & 0x60, 0x60);
	/* overflow the ring: the reader learns how much it lost */
	for (unsigned i = 0; i < VMM_SERIAL_RING + 100; i++)
		out8(&s, 0, 'x');
	size_t n = vmm_serial_read_output(&s, &cursor, buf, sizeof(buf), &dropped);
	ck_assert_uint_eq(n, sizeof(buf));
	ck_assert_uint_eq(dropped, 100);
	vmm_serial_destroy(&s);
}
END_TEST

START_TEST(test_input_and_irq)
{
	vmm_serial_init(&s, &irq, NULL, NULL);
	irq_level = 0;
	ck_assert_uint_eq(in8(&s, 2) & 0x0f, 0x01);       /* no interrupt */
	out8(&s, 1, 0x01);                                /* IER: RDI */
	ck_assert_uint_eq(vmm_serial_input(&s, "ab", 2), 2);
	ck_assert_int_eq(irq_level, 1);
	ck_assert_uint_eq(in8(&s, 2) & 0x0f, 0x04);
	ck_assert_uint_eq(in8(&s, 5) & 0x01, 0x01);       /* data ready */
	ck_assert_uint_eq(in8(&s, 0), 'a');
	ck_assert_uint_eq(in8(&s, 0), 'b');
	ck_assert_int_eq(irq_level, 0);
	/* THRI: pending once enabled, cleared by reading IIR */
	out8(&s, 1, 0x02);
	ck_assert_int_eq(irq_level, 1);
	ck_assert_uint_eq(in8(&s, 2) & 0x0f, 0x02);
	ck_assert_int_eq(irq_level, 0);
	/* FIFO full: the rest is refused */
	char big[VMM_SERIAL_RX_FIFO + 10];
	memset(big, 'z', sizeof(big));
	ck_assert_uint_eq(vmm_serial_input(&s, big, sizeof(big)), VMM_SERIAL_RX_FIFO);
	vmm_serial_destroy(&s);
}
END_TEST

START_TEST(test_dlab_loopback_state)
{
	struct vmm_serial_state st;
	uint64_t before;

	vmm_serial_init(&s, NULL, NULL, NULL);
	out8(&s, 3, 0x80);                /* DLAB */
	out8(&s, 0, 0x01);
	out8(&s, 1, 0x00);
	ck_assert_uint_eq(in8(&s, 0), 0x01);
	out8(&s, 3, 0x03);
	before = vmm_serial_output_total(&s);
	out8(&s, 4, 0x10);                /* loopback: THR goes to RBR */
	out8(&s, 0, 'q');
	ck_assert_uint_eq(vmm_serial_output_total(&s), before);
	ck_assert_uint_eq(in8(&s, 0), 'q');
	vmm_serial_save(&s, &st);
	ck_assert_uint_eq(st.lcr, 0x03);
	st.rx_count = VMM_SERIAL_RX_FIFO + 1;
	ck_assert_int_eq(vmm_serial_restore(&s, &st), -22);
	st.rx_count = 0;
	ck_assert_int_eq(vmm_serial_restore(&s, &st), 0);
	vmm_serial_destroy(&s);
}
END_TEST

static Suite *suite(void)
{
	Suite *su = suite_create("vmm-serial");
	TCase *tc;

	tc = tcase_create("vmm_serial_read_output");
	tcase_add_test(tc, test_output);
	suite_add_tcase(su, tc);
	tc = tcase_create("vmm_serial_input");
	tcase_add_test(tc, test_input_and_irq);
	suite_add_tcase(su, tc);
	tc = tcase_create("vmm_serial_save_restore");
	tcase_add_test(tc, test_dlab_loopback_state);
	suite_add_tcase(su, tc);
	return su;
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

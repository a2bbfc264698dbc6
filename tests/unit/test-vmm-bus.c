/* test-vmm-bus.c - io-bus.c and mmio-bus.c: registration refuses overlaps
 * and bad windows; dispatch range-checks offsets and sizes once. */
#include <check.h>
#include <errno.h>
#include <string.h>
#include "io-bus.h"
#include "mmio-bus.h"

static unsigned last_port, last_len, writes;
static uint32_t last_val;

static void t_in(void *o, uint16_t port, unsigned len, uint32_t *val)
{
	last_port = port;
	last_len = len;
	*val = 0x12345678;
}

static void t_out(void *o, uint16_t port, unsigned len, uint32_t val)
{
	last_port = port;
	last_len = len;
	last_val = val;
	writes++;
}

static const struct vmm_io_ops t_io = { .in = t_in, .out = t_out };

START_TEST(test_io_bus_add)
{
	struct vmm_io_bus bus = { 0 };

	ck_assert_int_eq(vmm_io_bus_add(&bus, 0x3f8, 8, &t_io, NULL), 0);
	ck_assert_int_eq(vmm_io_bus_add(&bus, 0x3ff, 1, &t_io, NULL), -EEXIST);
	ck_assert_int_eq(vmm_io_bus_add(&bus, 0x3f0, 9, &t_io, NULL), -EEXIST);
	ck_assert_int_eq(vmm_io_bus_add(&bus, 0x3f0, 8, &t_io, NULL), 0);
	ck_assert_int_eq(vmm_io_bus_add(&bus, 0xffff, 2, &t_io, NULL), -EINVAL);
	ck_assert_int_eq(vmm_io_bus_add(&bus, 0x10, 0, &t_io, NULL), -EINVAL);
}
END_TEST

START_TEST(test_io_bus_access)
{
	struct vmm_io_bus bus = { 0 };
	uint32_t v = 0;
	uint8_t b = 0x41;

	vmm_io_bus_add(&bus, 0x3f8, 8, &t_io, NULL);
	vmm_io_bus_access(&bus, 0x3f9, &v, 2, false);
	ck_assert_uint_eq(v, 0x5678);
	ck_assert_uint_eq(last_port, 0x3f9);
	vmm_io_bus_access(&bus, 0x3f8, &b, 1, true);
	ck_assert_uint_eq(last_val, 0x41);
	v = 0;
	vmm_io_bus_access(&bus, 0x80, &v, 4, false);   /* nobody's port */
	ck_assert_uint_eq(v, 0xffffffffu);
	ck_assert_uint_eq(bus.unhandled, 1);
	v = 0;
	vmm_io_bus_access(&bus, 0x3f8, &v, 3, false);  /* odd size */
	ck_assert_uint_eq(v, 0xffffff);
	ck_assert_uint_eq(bus.unhandled, 2);
}
END_TEST

static uint64_t m_off;
static unsigned m_len, m_calls;

static void m_read(struct mmio_dev *d, uint64_t off, void *data, unsigned len)
{
	m_off = off;
	m_len = len;
	m_calls++;
	memset(data, 0xab, len);
}

static void m_write(struct mmio_dev *d, uint64_t off, const void *data, unsigned len)
{
	m_off = off;
	m_len = len;
	m_calls++;
}

static const struct mmio_ops m_ops = { .read = m_read, .write = m_write };

START_TEST(test_mmio_bus_add)
{
	struct vmm_mmio_bus bus = { 0 };
	struct mmio_dev a = { .base = 0xd0000000, .size = 0x200, .ops = &m_ops };
	struct mmio_dev b = { .base = 0xd00001ff, .size = 0x10, .ops = &m_ops };
	struct mmio_dev c = { .base = UINT64_MAX - 4, .size = 0x10, .ops = &m_ops };
	struct mmio_dev d = { .base = 0xd0001000, .size = 0, .ops = &m_ops };

	ck_assert_int_eq(vmm_mmio_bus_add(&bus, &a), 0);
	ck_assert_int_eq(vmm_mmio_bus_add(&bus, &b), -EEXIST);
	ck_assert_int_eq(vmm_mmio_bus_add(&bus, &c), -EINVAL);
	ck_assert_int_eq(vmm_mmio_bus_add(&bus, &d), -EINVAL);
}
END_TEST

START_TEST(test_mmio_bus_access)
{
	struct vmm_mmio_bus bus = { 0 };
	struct mmio_dev a = { .base = 0xd0000000, .size = 0x200, .ops = &m_ops };
	uint64_t v = 0;

	vmm_mmio_bus_add(&bus, &a);
	m_calls = 0;
	vmm_mmio_bus_access(&bus, 0xd0000070, &v, 4, false);
	ck_assert_uint_eq(m_calls, 1);
	ck_assert_uint_eq(m_off, 0x70);
	ck_assert_uint_eq(v, 0xabababab);
	/* straddles the end of the window: dropped, reads zero */
	v = 1;
	vmm_mmio_bus_access(&bus, 0xd00001fc, &v, 8, false);
	ck_assert_uint_eq(m_calls, 1);
	ck_assert_uint_eq(v, 0);
	/* bad size, outside, below */
	vmm_mmio_bus_access(&bus, 0xd0000000, &v, 3, true);
	vmm_mmio_bus_access(&bus, 0xd0000200, &v, 4, true);
	vmm_mmio_bus_access(&bus, 0xcffffffc, &v, 4, true);
	ck_assert_uint_eq(m_calls, 1);
	ck_assert_uint_eq(bus.unhandled, 4);
	vmm_mmio_bus_access(&bus, 0xd00001f8, &v, 8, true);
	ck_assert_uint_eq(m_calls, 2);
	ck_assert_uint_eq(m_len, 8);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vmm-bus");
	TCase *tc;

	tc = tcase_create("vmm_io_bus_add");
	tcase_add_test(tc, test_io_bus_add);
	suite_add_tcase(s, tc);
	tc = tcase_create("vmm_io_bus_access");
	tcase_add_test(tc, test_io_bus_access);
	suite_add_tcase(s, tc);
	tc = tcase_create("vmm_mmio_bus_add");
	tcase_add_test(tc, test_mmio_bus_add);
	suite_add_tcase(s, tc);
	tc = tcase_create("vmm_mmio_bus_access");
	tcase_add_test(tc, test_mmio_bus_access);
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

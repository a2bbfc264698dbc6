/* test-vmm-coalesced.c - coalesced.c replays KVM's ring of queued port
 * writes in order on the port bus, wraps around, and trusts neither index
 * nor entry: the ring here is a page of this test's memory laid out as KVM
 * lays it out (the real ring is tested through `hvd vmm` in the vmm-guest
 * integration test). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "coalesced.h"

static char seen[64];
static unsigned nseen;
static uint16_t ports[64];

static void rec_in(void *o, uint16_t port, unsigned len, uint32_t *val)
{
	*val = 0;
}

static void rec_out(void *o, uint16_t port, unsigned len, uint32_t val)
{
	if (nseen < sizeof(seen)) {
		ports[nseen] = port;
		seen[nseen++] = (char)val;
	}
}

static const struct vmm_io_ops rec_ops = { .in = rec_in, .out = rec_out };

static struct vmm_io_bus bus;
static struct vmm_coalesced c;
static void *run;     /* a vCPU's mapping: kvm_run, PIO page, ring page */
static struct kvm_coalesced_mmio_ring *ring;

static void setup(void)
{
	long page = sysconf(_SC_PAGESIZE);

	memset(&bus, 0, sizeof(bus));
	vmm_io_bus_add(&bus, 0x3f8, 8, &rec_ops, NULL);
	nseen = 0;
	memset(seen, 0, sizeof(seen));
	run = calloc(3, (size_t)page);
	/* what vmm_coalesced_init sets once KVM accepted the zone */
	memset(&c, 0, sizeof(c));
	c.page_offset = 2;
	c.io = &bus;
	pthread_mutex_init(&c.lock, NULL);
	vmm_coalesced_attach(&c, run, 3 * (size_t)page);
	ring = (void *)((char *)run + 2 * page);
}

static void teardown(void)
{
	vmm_coalesced_destroy(&c);
	free(run);
}

/* What KVM does for a guest's `out port, al`. */
static void queue(uint16_t port, char byte, uint32_t pio)
{
	struct kvm_coalesced_mmio *e = &ring->coalesced_mmio[ring->last];

	memset(e, 0, sizeof(*e));
	e->phys_addr = port;
	e->len = 1;
	e->pio = pio;
	e->data[0] = (uint8_t)byte;
	ring->last = (ring->last + 1) % c.max;
}

START_TEST(test_attach)
{
	long page = sysconf(_SC_PAGESIZE);
	struct vmm_coalesced small;

	ck_assert_ptr_eq(c.ring, ring);
	ck_assert_uint_eq(c.max, (page - 8) / 24);
	/* a mapping without the ring page leaves the ring unused */
	memset(&small, 0, sizeof(small));
	small.page_offset = 2;
	small.io = &bus;
	vmm_coalesced_attach(&small, run, 2 * (size_t)page);
	ck_assert_ptr_null(small.ring);
	ck_assert_uint_eq(vmm_coalesced_drain(&small), 0);
}
END_TEST

START_TEST(test_in_order)
{
	const char *text = "hello\r\n";

	ck_assert_uint_eq(vmm_coalesced_drain(&c), 0);
	for (const char *p = text; *p; p++)
		queue(0x3f8, *p, 1);
	ck_assert_uint_eq(vmm_coalesced_drain(&c), strlen(text));
	ck_assert_str_eq(seen, text);
	ck_assert_uint_eq(ports[0], 0x3f8);
	ck_assert_uint_eq(ring->first, ring->last);
	ck_assert_uint_eq(c.replayed, strlen(text));
	ck_assert_uint_eq(vmm_coalesced_drain(&c), 0);
}
END_TEST

START_TEST(test_wraps)
{
	/* start three entries before the end of the ring */
	ring->first = ring->last = c.max - 3;
	for (int i = 0; i < 6; i++)
		queue(0x3f8, (char)('a' + i), 1);
	ck_assert_uint_eq(ring->last, 3);
	ck_assert_uint_eq(vmm_coalesced_drain(&c), 6);
	ck_assert_str_eq(seen, "abcdef");
	ck_assert_uint_eq(ring->first, 3);
}
END_TEST

START_TEST(test_distrusts)
{
	/* an MMIO entry or a bad length is consumed, never dispatched */
	queue(0x3f8, 'x', 0);
	queue(0x3f8, 'y', 1);
	ring->coalesced_mmio[1].len = 9;
	queue(0x3f8, 'z', 1);
	ck_assert_uint_eq(vmm_coalesced_drain(&c), 3);
	ck_assert_str_eq(seen, "z");
	/* indexes out of range: nothing is read past the ring */
	ring->first = 0;
	ring->last = c.max + 5;
	ck_assert_uint_eq(vmm_coalesced_drain(&c), 0);
	ring->first = c.max;
	ring->last = 1;
	ck_assert_uint_eq(vmm_coalesced_drain(&c), 0);
	ck_assert_uint_eq(nseen, 1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vmm-coalesced");
	TCase *tc = tcase_create("drain");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_attach);
	tcase_add_test(tc, test_in_order);
	tcase_add_test(tc, test_wraps);
	tcase_add_test(tc, test_distrusts);
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

/* test-virtqueue.c - split virtqueue parsing, including hostile rings. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_ring.h>
#include "virtqueue.h"
#include "virtio-test-driver.h"

#define QSIZE 8

static struct tguest g;
static struct tvq tq;     /* driver view */
static struct virtq q;    /* device view */
static struct virtq_chain chain;

/* lays out a queue in fake RAM; enable with event_idx/indirect as given */
static void setup_queue(bool event_idx, bool indirect)
{
	tguest_fini(&g);
	tguest_init(&g);
	tq = (struct tvq){ .size = QSIZE };
	tq.desc = tguest_alloc(&g, 16 * QSIZE, 4096);
	tq.avail = tguest_alloc(&g, 6 + 2 * QSIZE, 4096);
	tq.used = tguest_alloc(&g, 6 + 8 * QSIZE, 4096);
	virtq_reset(&q, QSIZE);
	q.desc_gpa = tq.desc;
	q.avail_gpa = tq.avail;
	q.used_gpa = tq.used;
	ck_assert_int_eq(virtq_enable(&q, &g.mem, event_idx, indirect), 0);
}

static void setup(void)
{
	setup_queue(false, true);
}

static void teardown(void)
{
	tguest_fini(&g);
}

static uint16_t *avail_ring(void)
{
	return tguest_ptr(&g, tq.avail);
}

START_TEST(reset_defaults)
{
	struct virtq t;

	memset(&t, 0xab, sizeof(t));
	virtq_reset(&t, 64);
	ck_assert_int_eq(t.size, 64);
	ck_assert_int_eq(t.max_size, 64);
	ck_assert(!t.ready);
	ck_assert_uint_eq(t.desc_gpa, 0);
	ck_assert_int_eq(t.last_avail, 0);
	ck_assert_int_eq(virtq_pop(&t, &chain), 0);   /* not ready: nothing */
}
END_TEST

START_TEST(enable_checks)
{
	struct virtq t = q;

	t.ready = false;
	t.size = 6;                                   /* not a power of two */
	ck_assert_int_eq(virtq_enable(&t, &g.mem, false, false), -EINVAL);
	t.size = 16;                                  /* above max_size */
	ck_assert_int_eq(virtq_enable(&t, &g.mem, false, false), -EINVAL);
	t.size = QSIZE;
	t.desc_gpa = tq.desc + 8;                     /* misaligned */
	ck_assert_int_eq(virtq_enable(&t, &g.mem, false, false), -EINVAL);
	t.desc_gpa = g.mem.size - 16;                 /* table runs past RAM */
	ck_assert_int_eq(virtq_enable(&t, &g.mem, false, false), -EFAULT);
	t.desc_gpa = UINT64_MAX - 15;                 /* gpa + len overflows */
	ck_assert_int_eq(virtq_enable(&t, &g.mem, false, false), -EFAULT);
	ck_assert(!t.ready);
	t.desc_gpa = tq.desc;
	t.used_gpa = g.mem.size - 8;
	ck_assert_int_eq(virtq_enable(&t, &g.mem, false, false), -EFAULT);
	t.used_gpa = tq.used;
	ck_assert_int_eq(virtq_enable(&t, &g.mem, false, false), 0);
	ck_assert(t.ready);
}
END_TEST

START_TEST(pop_simple_chain)
{
	struct tbuf b[3] = {
		tbuf_new(&g, 16, 0, 1), tbuf_new(&g, 100, 0, 2), tbuf_new(&g, 33, 1, 3),
	};
	uint16_t head;

	ck_assert_int_eq(virtq_pop(&q, &chain), 0);
	head = tvq_add(&g, &tq, b, 3);
	ck_assert_int_eq(virtq_pop(&q, &chain), 1);
	ck_assert_int_eq(chain.head, head);
	ck_assert_uint_eq(chain.nseg, 3);
	ck_assert_uint_eq(chain.nout, 2);
	ck_assert_uint_eq(chain.out_len, 116);
	ck_assert_uint_eq(chain.in_len, 33);
	ck_assert_ptr_eq(chain.seg[1].ptr, tguest_ptr(&g, b[1].gpa));
	ck_assert(chain.seg[2].writable);
	ck_assert_int_eq(virtq_pop(&q, &chain), 0);
}
END_TEST

START_TEST(pop_loop)
{
	struct tbuf b = tbuf_new(&g, 8, 0, 0);

	tvq_set_desc(&g, &tq, 0, b.gpa, 8, VRING_DESC_F_NEXT, 1);
	tvq_set_desc(&g, &tq, 1, b.gpa, 8, VRING_DESC_F_NEXT, 0);
	tvq_publish(&g, &tq, 0);
	ck_assert_int_eq(virtq_pop(&q, &chain), -ELOOP);
}
END_TEST

START_TEST(pop_self_loop)
{
	struct tbuf b = tbuf_new(&g, 8, 0, 0);

	tvq_set_desc(&g, &tq, 3, b.gpa, 8, VRING_DESC_F_NEXT, 3);
	tvq_publish(&g, &tq, 3);
	ck_assert_int_eq(virtq_pop(&q, &chain), -ELOOP);
}
END_TEST

START_TEST(pop_chain_longer_than_queue)
{
	/* an indirect table of QSIZE + 1 descriptors, no loop in it */
	uint64_t tbl = tguest_alloc(&g, 16 * (QSIZE + 1), 16);
	struct tdesc_raw *t = tguest_ptr(&g, tbl);
	struct tbuf b = tbuf_new(&g, 8, 0, 0);

	for (unsigned i = 0; i <= QSIZE; i++)
		t[i] = (struct tdesc_raw){ b.gpa, 8, i < QSIZE ? VRING_DESC_F_NEXT : 0, i + 1 };
	tvq_set_desc(&g, &tq, 0, tbl, 16 * (QSIZE + 1), VRING_DESC_F_INDIRECT, 0);
	tvq_publish(&g, &tq, 0);
	ck_assert_int_eq(virtq_pop(&q, &chain), -ELOOP);
}
END_TEST

START_TEST(pop_addr_past_ram)
{
	tvq_set_desc(&g, &tq, 0, g.mem.size - 4, 8, 0, 0);
	tvq_publish(&g, &tq, 0);
	ck_assert_int_eq(virtq_pop(&q, &chain), -EFAULT);
}
END_TEST

START_TEST(pop_len_overflow)
{
	/* addr + len wraps around 2^64 */
	tvq_set_desc(&g, &tq, 0, UINT64_MAX - 0x10, 0xffffffffu, 0, 0);
	tvq_publish(&g, &tq, 0);
	ck_assert_int_eq(virtq_pop(&q, &chain), -EFAULT);
}
END_TEST

START_TEST(pop_avail_idx_jump)
{
	struct tbuf b = tbuf_new(&g, 8, 0, 0);

	tvq_set_desc(&g, &tq, 0, b.gpa, 8, 0, 0);
	avail_ring()[2] = 0;
	avail_ring()[1] = QSIZE + 1;   /* more than the queue holds */
	ck_assert_int_eq(virtq_pop(&q, &chain), -ERANGE);
	avail_ring()[1] = 0xffff;      /* "negative" jump */
	ck_assert_int_eq(virtq_pop(&q, &chain), -ERANGE);
	avail_ring()[1] = QSIZE;       /* exactly full is fine */
	ck_assert_int_eq(virtq_pop(&q, &chain), 1);
}
END_TEST

START_TEST(pop_bad_indexes)
{
	struct tbuf b = tbuf_new(&g, 8, 0, 0);

	tvq_publish(&g, &tq, QSIZE);   /* head out of range */
	ck_assert_int_eq(virtq_pop(&q, &chain), -EINVAL);
	setup_queue(false, false);
	tvq_set_desc(&g, &tq, 0, b.gpa, 8, VRING_DESC_F_NEXT, QSIZE + 5);
	tvq_publish(&g, &tq, 0);
	ck_assert_int_eq(virtq_pop(&q, &chain), -EINVAL);
}
END_TEST

START_TEST(pop_readable_after_writable)
{
	struct tbuf b[2] = { tbuf_new(&g, 8, 1, 0), tbuf_new(&g, 8, 0, 0) };

	tvq_add(&g, &tq, b, 2);
	ck_assert_int_eq(virtq_pop(&q, &chain), -EINVAL);
}
END_TEST

START_TEST(pop_indirect)
{
	uint64_t tbl = tguest_alloc(&g, 48, 16);
	struct tdesc_raw *t = tguest_ptr(&g, tbl);
	struct tbuf b[3] = {
		tbuf_new(&g, 16, 0, 1), tbuf_new(&g, 512, 1, 2), tbuf_new(&g, 1, 1, 3),
	};

	t[0] = (struct tdesc_raw){ b[0].gpa, 16, VRING_DESC_F_NEXT, 2 };
	t[2] = (struct tdesc_raw){ b[1].gpa, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1 };
	t[1] = (struct tdesc_raw){ b[2].gpa, 1, VRING_DESC_F_WRITE, 0 };
	tvq_set_desc(&g, &tq, 5, tbl, 48, VRING_DESC_F_INDIRECT, 0);
	tvq_publish(&g, &tq, 5);
	ck_assert_int_eq(virtq_pop(&q, &chain), 1);
	ck_assert_int_eq(chain.head, 5);
	ck_assert_uint_eq(chain.nseg, 3);
	ck_assert_uint_eq(chain.in_len, 513);
	ck_assert_ptr_eq(chain.seg[2].ptr, tguest_ptr(&g, b[2].gpa));
}
END_TEST

START_TEST(pop_indirect_hostile)
{
	uint64_t tbl = tguest_alloc(&g, 32, 16);
	struct tdesc_raw *t = tguest_ptr(&g, tbl);
	struct tbuf b = tbuf_new(&g, 8, 0, 0);

	/* table out of range */
	tvq_set_desc(&g, &tq, 0, g.mem.size - 16, 32, VRING_DESC_F_INDIRECT, 0);
	tvq_publish(&g, &tq, 0);
	ck_assert_int_eq(virtq_pop(&q, &chain), -EFAULT);

	/* nested indirect */
	setup_queue(false, true);
	tbl = tguest_alloc(&g, 32, 16);
	t = tguest_ptr(&g, tbl);
	t[0] = (struct tdesc_raw){ tbl, 32, VRING_DESC_F_INDIRECT, 0 };
	tvq_set_desc(&g, &tq, 0, tbl, 32, VRING_DESC_F_INDIRECT, 0);
	tvq_publish(&g, &tq, 0);
	ck_assert_int_eq(virtq_pop(&q, &chain), -EINVAL);

	/* INDIRECT together with NEXT */
	setup_queue(false, true);
	tbl = tguest_alloc(&g, 32, 16);
	tvq_set_desc(&g, &tq, 0, tbl, 32, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	tvq_publish(&g, &tq, 0);
	ck_assert_int_eq(virtq_pop(&q, &chain), -EINVAL);

	/* length not a multiple of a descriptor */
	setup_queue(false, true);
	tbl = tguest_alloc(&g, 32, 16);
	tvq_set_desc(&g, &tq, 0, tbl, 24, VRING_DESC_F_INDIRECT, 0);
	tvq_publish(&g, &tq, 0);
	ck_assert_int_eq(virtq_pop(&q, &chain), -EINVAL);

	/* next pointing outside the table */
	setup_queue(false, true);
	tbl = tguest_alloc(&g, 32, 16);
	t = tguest_ptr(&g, tbl);
	t[0] = (struct tdesc_raw){ b.gpa, 8, VRING_DESC_F_NEXT, 2 };
	tvq_set_desc(&g, &tq, 0, tbl, 32, VRING_DESC_F_INDIRECT, 0);
	tvq_publish(&g, &tq, 0);
	ck_assert_int_eq(virtq_pop(&q, &chain), -EINVAL);

	/* indirect not negotiated */
	setup_queue(false, false);
	tbl = tguest_alloc(&g, 32, 16);
	t = tguest_ptr(&g, tbl);
	t[0] = (struct tdesc_raw){ b.gpa, 8, 0, 0 };
	tvq_set_desc(&g, &tq, 0, tbl, 16, VRING_DESC_F_INDIRECT, 0);
	tvq_publish(&g, &tq, 0);
	ck_assert_int_eq(virtq_pop(&q, &chain), -EINVAL);
}
END_TEST

START_TEST(unpop_gives_back)
{
	struct tbuf b = tbuf_new(&g, 8, 1, 0);
	uint16_t head = tvq_add(&g, &tq, &b, 1);

	ck_assert_int_eq(virtq_pop(&q, &chain), 1);
	virtq_unpop(&q);
	ck_assert_int_eq(virtq_pop(&q, &chain), 1);
	ck_assert_int_eq(chain.head, head);
	ck_assert_int_eq(virtq_pop(&q, &chain), 0);
}
END_TEST

START_TEST(push_used)
{
	struct tbuf b = tbuf_new(&g, 8, 1, 0);
	uint32_t id, len;

	for (int i = 0; i < QSIZE + 3; i++) {   /* wraps around the ring */
		uint16_t head = tvq_add(&g, &tq, &b, 1);

		ck_assert_int_eq(virtq_pop(&q, &chain), 1);
		virtq_push(&q, chain.head, 5 + i);
		ck_assert_int_eq(tvq_used_idx(&g, &tq), i + 1);
		ck_assert_int_eq(tvq_get_used(&g, &tq, &id, &len), 1);
		ck_assert_uint_eq(id, head);
		ck_assert_uint_eq(len, 5 + i);
	}
}
END_TEST

START_TEST(should_notify_flags)
{
	struct tbuf b = tbuf_new(&g, 8, 1, 0);

	ck_assert(!virtq_should_notify(&q));   /* nothing pushed */
	tvq_add(&g, &tq, &b, 1);
	virtq_pop(&q, &chain);
	virtq_push(&q, chain.head, 0);
	ck_assert(virtq_should_notify(&q));
	ck_assert(!virtq_should_notify(&q));   /* already told */
	avail_ring()[0] = VRING_AVAIL_F_NO_INTERRUPT;
	tvq_add(&g, &tq, &b, 1);
	virtq_pop(&q, &chain);
	virtq_push(&q, chain.head, 0);
	ck_assert(!virtq_should_notify(&q));
}
END_TEST

START_TEST(should_notify_event_idx)
{
	struct tbuf b;
	uint16_t *used;

	setup_queue(true, false);
	b = tbuf_new(&g, 8, 1, 0);
	used = tguest_ptr(&g, tq.used);
	avail_ring()[2 + QSIZE] = 1;   /* used_event: interrupt after the 2nd */
	for (int i = 0; i < 3; i++)
		tvq_add(&g, &tq, &b, 1);
	ck_assert_int_eq(virtq_pop(&q, &chain), 1);
	ck_assert_int_eq(used[2 + 4 * QSIZE], 1);   /* avail_event follows us */
	virtq_push(&q, chain.head, 0);
	ck_assert(!virtq_should_notify(&q));
	virtq_pop(&q, &chain);
	virtq_push(&q, chain.head, 0);
	ck_assert(virtq_should_notify(&q));
	virtq_pop(&q, &chain);
	virtq_push(&q, chain.head, 0);
	ck_assert(!virtq_should_notify(&q));
	ck_assert_int_eq(virtq_pop(&q, &chain), 0);
	ck_assert_int_eq(used[2 + 4 * QSIZE], 3);
}
END_TEST

static void two_segment_chain(struct tbuf *b)
{
	b[0] = tbuf_new(&g, 5, 0, 0);
	b[1] = tbuf_new(&g, 7, 0, 0);
	b[2] = tbuf_new(&g, 3, 1, 0);
	b[3] = tbuf_new(&g, 4, 1, 0);
	memcpy(tguest_ptr(&g, b[0].gpa), "hello", 5);
	memcpy(tguest_ptr(&g, b[1].gpa), " world!", 7);
	tvq_add(&g, &tq, b, 4);
	ck_assert_int_eq(virtq_pop(&q, &chain), 1);
}

START_TEST(chain_read_across)
{
	struct tbuf b[4];
	char buf[32] = { 0 };

	two_segment_chain(b);
	ck_assert_uint_eq(virtq_chain_read(&chain, 3, buf, 6), 6);
	ck_assert_str_eq(buf, "lo wor");
	memset(buf, 0, sizeof(buf));
	ck_assert_uint_eq(virtq_chain_read(&chain, 8, buf, sizeof(buf)), 4);   /* short */
	ck_assert_str_eq(buf, "rld!");
	ck_assert_uint_eq(virtq_chain_read(&chain, 12, buf, 1), 0);
}
END_TEST

START_TEST(chain_write_across)
{
	struct tbuf b[4];

	two_segment_chain(b);
	ck_assert_uint_eq(virtq_chain_write(&chain, 1, "abcdefgh", 8), 6);
	ck_assert_int_eq(memcmp(tguest_ptr(&g, b[2].gpa), "\0ab", 3), 0);
	ck_assert_int_eq(memcmp(tguest_ptr(&g, b[3].gpa), "cdef", 4), 0);
	ck_assert_int_eq(memcmp(tguest_ptr(&g, b[1].gpa), " world!", 7), 0);
}
END_TEST

START_TEST(chain_iov_ranges)
{
	struct tbuf b[4];
	struct iovec iov[4];

	two_segment_chain(b);
	ck_assert_int_eq(virtq_chain_iov(&chain, false, 2, 8, iov, 4), 2);
	ck_assert_ptr_eq(iov[0].iov_base, tguest_ptr(&g, b[0].gpa + 2));
	ck_assert_uint_eq(iov[0].iov_len, 3);
	ck_assert_uint_eq(iov[1].iov_len, 5);
	ck_assert_int_eq(virtq_chain_iov(&chain, true, 0, 7, iov, 4), 2);
	ck_assert_int_eq(virtq_chain_iov(&chain, true, 0, 8, iov, 4), -ENOBUFS);
	ck_assert_int_eq(virtq_chain_iov(&chain, true, 0, 7, iov, 1), -ENOBUFS);
	ck_assert_int_eq(virtq_chain_iov(&chain, false, UINT64_MAX, 2, iov, 4), -ENOBUFS);
	ck_assert_int_eq(virtq_chain_iov(&chain, false, 12, 0, iov, 4), 0);
}
END_TEST

START_TEST(strerror_texts)
{
	ck_assert_str_ne(virtq_strerror(-ELOOP), virtq_strerror(-EFAULT));
	ck_assert_str_ne(virtq_strerror(-ERANGE), virtq_strerror(-EINVAL));
	ck_assert_ptr_nonnull(virtq_strerror(-ENOMEM));
}
END_TEST

START_TEST(save_restore_roundtrip)
{
	struct tbuf b = tbuf_new(&g, 8, 1, 0);
	struct virtq_state st;
	struct virtq t;

	tvq_add(&g, &tq, &b, 1);
	tvq_add(&g, &tq, &b, 1);
	virtq_pop(&q, &chain);
	virtq_push(&q, chain.head, 1);
	virtq_save(&q, &st);
	virtq_reset(&t, QSIZE);
	ck_assert_int_eq(virtq_restore(&t, &st, &g.mem), 0);
	ck_assert(t.ready);
	ck_assert_int_eq(t.last_avail, 1);
	ck_assert_int_eq(t.used_idx, 1);
	ck_assert_ptr_eq(t.avail, q.avail);
	ck_assert_int_eq(virtq_pop(&t, &chain), 1);   /* continues where q was */
	ck_assert_int_eq(virtq_pop(&t, &chain), 0);
}
END_TEST

START_TEST(restore_validates)
{
	struct virtq_state st;
	struct virtq t;

	virtq_save(&q, &st);
	virtq_reset(&t, QSIZE);
	st.used_gpa = g.mem.size;            /* outside RAM */
	ck_assert_int_eq(virtq_restore(&t, &st, &g.mem), -EFAULT);
	ck_assert(!t.ready);
	virtq_save(&q, &st);
	st.size = 3;
	ck_assert_int_eq(virtq_restore(&t, &st, &g.mem), -EINVAL);
	virtq_save(&q, &st);
	st.size = 2 * QSIZE;
	ck_assert_int_eq(virtq_restore(&t, &st, &g.mem), -EINVAL);
	virtq_save(&q, &st);
	st.ready = 7;
	ck_assert_int_eq(virtq_restore(&t, &st, &g.mem), -EINVAL);
	ck_assert(!t.ready);
}
END_TEST

static TCase *tc(const char *name)
{
	TCase *t = tcase_create(name);

	tcase_add_checked_fixture(t, setup, teardown);
	return t;
}

static Suite *virtqueue_suite(void)
{
	Suite *s = suite_create("virtqueue");
	TCase *t;

	t = tc("virtq_reset");
	tcase_add_test(t, reset_defaults);
	suite_add_tcase(s, t);
	t = tc("virtq_enable");
	tcase_add_test(t, enable_checks);
	suite_add_tcase(s, t);
	t = tc("virtq_pop");
	tcase_add_test(t, pop_simple_chain);
	tcase_add_test(t, pop_loop);
	tcase_add_test(t, pop_self_loop);
	tcase_add_test(t, pop_chain_longer_than_queue);
	tcase_add_test(t, pop_addr_past_ram);
	tcase_add_test(t, pop_len_overflow);
	tcase_add_test(t, pop_avail_idx_jump);
	tcase_add_test(t, pop_bad_indexes);
	tcase_add_test(t, pop_readable_after_writable);
	tcase_add_test(t, pop_indirect);
	tcase_add_test(t, pop_indirect_hostile);
	suite_add_tcase(s, t);
	t = tc("virtq_unpop");
	tcase_add_test(t, unpop_gives_back);
	suite_add_tcase(s, t);
	t = tc("virtq_push");
	tcase_add_test(t, push_used);
	suite_add_tcase(s, t);
	t = tc("virtq_should_notify");
	tcase_add_test(t, should_notify_flags);
	tcase_add_test(t, should_notify_event_idx);
	suite_add_tcase(s, t);
	t = tc("virtq_chain_read");
	tcase_add_test(t, chain_read_across);
	suite_add_tcase(s, t);
	t = tc("virtq_chain_write");
	tcase_add_test(t, chain_write_across);
	suite_add_tcase(s, t);
	t = tc("virtq_chain_iov");
	tcase_add_test(t, chain_iov_ranges);
	suite_add_tcase(s, t);
	t = tc("virtq_strerror");
	tcase_add_test(t, strerror_texts);
	suite_add_tcase(s, t);
	t = tc("virtq_save");
	tcase_add_test(t, save_restore_roundtrip);
	suite_add_tcase(s, t);
	t = tc("virtq_restore");
	tcase_add_test(t, restore_validates);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(virtqueue_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

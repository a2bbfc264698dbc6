/* test-cli-sse.c - the server-sent events parser of `hvadm events` (cli/sse.c): events split
 * at every byte, line ends, comments, multi-line data, ids kept across reconnections, bounds. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/sse.h"

struct seen {
	char log[4096];
	int n;
	int stop_after;	/* return non-zero from the n-th event */
};

static int record(const char *type, const char *data, const char *id, void *userdata)
{
	struct seen *s = userdata;
	size_t used = strlen(s->log);

	snprintf(s->log + used, sizeof(s->log) - used, "[%s|%s|%s]", type, data, id ? id : "-");
	s->n++;
	return s->stop_after && s->n == s->stop_after ? 42 : 0;
}

static const char stream[] =
	": keepalive\n"
	"id: 41\n"
	"event: vm.defined\n"
	"data: {\"id\": 41}\n"
	"\n"
	"id: 42\r\n"
	"event: vm.state\r\n"
	"data: line1\r\n"
	"data:line2\r\n"
	"\r\n"
	"data: no type\r"
	"\r"
	"retry: 100\n"
	"\n";

static const char expected[] =
	"[vm.defined|{\"id\": 41}|41][vm.state|line1\nline2|42][message|no type|42]";

START_TEST(whole)
{
	struct seen s = { .n = 0 };
	struct hvadm_sse p;

	hvadm_sse_init(&p, record, &s);
	ck_assert_int_eq(hvadm_sse_feed(&p, stream, strlen(stream)), 0);
	ck_assert_str_eq(s.log, expected);
	ck_assert_str_eq(p.last_id, "42");
	hvadm_sse_reset(&p, 0);
	ck_assert_ptr_null(p.last_id);
}
END_TEST

/* The same stream cut in two at every position, and fed a byte at a time. */
START_TEST(split_anywhere)
{
	size_t len = strlen(stream);

	for (size_t cut = 0; cut <= len; cut++) {
		struct seen s = { .n = 0 };
		struct hvadm_sse p;

		hvadm_sse_init(&p, record, &s);
		ck_assert_int_eq(hvadm_sse_feed(&p, stream, cut), 0);
		ck_assert_int_eq(hvadm_sse_feed(&p, stream + cut, len - cut), 0);
		ck_assert_msg(strcmp(s.log, expected) == 0, "cut at %zu: %s", cut, s.log);
		hvadm_sse_reset(&p, 0);
	}
	{
		struct seen s = { .n = 0 };
		struct hvadm_sse p;

		hvadm_sse_init(&p, record, &s);
		for (size_t i = 0; i < len; i++)
			ck_assert_int_eq(hvadm_sse_feed(&p, stream + i, 1), 0);
		ck_assert_str_eq(s.log, expected);
		hvadm_sse_reset(&p, 0);
	}
}
END_TEST

START_TEST(incomplete_not_dispatched)
{
	struct seen s = { .n = 0 };
	struct hvadm_sse p;
	const char part[] = "id: 7\nevent: x\ndata: half";

	hvadm_sse_init(&p, record, &s);
	ck_assert_int_eq(hvadm_sse_feed(&p, part, strlen(part)), 0);
	ck_assert_int_eq(s.n, 0);
	/* a reconnection drops the half event and keeps the id for Last-Event-ID */
	hvadm_sse_reset(&p, 1);
	ck_assert_str_eq(p.last_id, "7");
	ck_assert_int_eq(hvadm_sse_feed(&p, "data: next\n\n", 12), 0);
	ck_assert_str_eq(s.log, "[message|next|7]");
	hvadm_sse_reset(&p, 0);
}
END_TEST

START_TEST(callback_stops)
{
	struct seen s = { .stop_after = 1 };
	struct hvadm_sse p;

	hvadm_sse_init(&p, record, &s);
	ck_assert_int_eq(hvadm_sse_feed(&p, stream, strlen(stream)), 42);
	ck_assert_int_eq(s.n, 1);
	hvadm_sse_reset(&p, 0);
}
END_TEST

START_TEST(too_long)
{
	struct seen s = { .n = 0 };
	struct hvadm_sse p;
	size_t n = HVADM_SSE_MAX + 10;
	char *big = malloc(n);
	int r = 0;

	memset(big, 'a', n);
	memcpy(big, "data: ", 6);
	hvadm_sse_init(&p, record, &s);
	/* fed in pieces, as the network would */
	for (size_t off = 0; off < n && r == 0; off += 65536)
		r = hvadm_sse_feed(&p, big + off, n - off < 65536 ? n - off : 65536);
	ck_assert_int_eq(r, -E2BIG);
	ck_assert_int_eq(s.n, 0);
	hvadm_sse_reset(&p, 0);
	free(big);
}
END_TEST

static Suite *sse_suite(void)
{
	Suite *s = suite_create("cli-sse");
	TCase *tc = tcase_create("feed");

	tcase_add_test(tc, whole);
	tcase_add_test(tc, split_anywhere);
	tcase_add_test(tc, incomplete_not_dispatched);
	tcase_add_test(tc, callback_stops);
	tcase_add_test(tc, too_long);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sse_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

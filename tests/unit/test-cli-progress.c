/* test-cli-progress.c - the progress line hvadm redraws while it waits for an operation
 * (cli/progress.c): bar, percentage, message cut to the terminal width. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.h"
#include "cli/progress.h"

START_TEST(bar)
{
	char buf[256];

	ck_assert_str_eq(hvadm_progress_line(0, NULL, 80, buf, sizeof(buf)),
			 "[........................]   0%");
	ck_assert_str_eq(hvadm_progress_line(50, "copying disk root", 80, buf, sizeof(buf)),
			 "[############............]  50% copying disk root");
	ck_assert_str_eq(hvadm_progress_line(100, "", 80, buf, sizeof(buf)),
			 "[########################] 100%");
	/* out-of-range progress is clamped */
	ck_assert_str_eq(hvadm_progress_line(250, NULL, 80, buf, sizeof(buf)),
			 "[########################] 100%");
	ck_assert_str_eq(hvadm_progress_line(-5, NULL, 80, buf, sizeof(buf)),
			 "[........................]   0%");
}
END_TEST

START_TEST(fits_width)
{
	char buf[256], msg[200];

	memset(msg, 'x', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	for (size_t w = 20; w <= 120; w++) {
		hvadm_progress_line(42, msg, w, buf, sizeof(buf));
		/* one column is left free so the cursor never wraps */
		ck_assert_msg(hvadm_text_width(buf) < w || hvadm_text_width(buf) == 31,
			      "width %zu: %zu columns", w, hvadm_text_width(buf));
	}
	/* UTF-8 is cut between characters, control characters become spaces */
	hvadm_progress_line(1, "d\xc3\xa9j\xc3\xa0\tvu", 37, buf, sizeof(buf));
	ck_assert_str_eq(buf, "[........................]   1% d\xc3\xa9j\xc3\xa0");
	hvadm_progress_line(1, "a\tb\nc", 80, buf, sizeof(buf));
	ck_assert_str_eq(buf, "[........................]   1% a b c");
	/* a tiny buffer is never overrun */
	hvadm_progress_line(1, msg, 80, buf, 40);
	ck_assert_uint_lt(strlen(buf), 40);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli-progress");
	TCase *tc = tcase_create("progress_line");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, bar);
	tcase_add_test(tc, fits_width);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

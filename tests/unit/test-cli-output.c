/* test-cli-output.c - hvadm's output formatting (cli/output.c): human sizes and ages, table
 * column widths and alignment, labels, JSON getters. One TCase per function. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.h"

static const char *size(uint64_t bytes)
{
	static char buf[HVADM_SIZE_BUF];

	return hvadm_format_size(bytes, buf, sizeof(buf));
}

START_TEST(format_size)
{
	ck_assert_str_eq(size(0), "0B");
	ck_assert_str_eq(size(1023), "1023B");
	ck_assert_str_eq(size(1024), "1.0K");
	ck_assert_str_eq(size(1536), "1.5K");
	ck_assert_str_eq(size(10 * 1024), "10K");
	ck_assert_str_eq(size(2ULL << 30), "2.0G");
	ck_assert_str_eq(size(3ULL << 29), "1.5G");
	ck_assert_str_eq(size(16ULL << 30), "16G");
	ck_assert_str_eq(size(512ULL << 20), "512M");
	ck_assert_str_eq(size(1ULL << 40), "1.0T");
	/* rounding never shows 1024 of a unit or 10.0 with a decimal */
	ck_assert_str_eq(size((1ULL << 30) - 1), "1.0G");
	ck_assert_str_eq(size(1023ULL * 1024 + 1000), "1.0M");
	ck_assert_str_eq(size(10ULL * 1024 - 10), "10K");
	ck_assert_str_eq(size(UINT64_MAX), "16E");
}
END_TEST

START_TEST(format_mib)
{
	char buf[HVADM_SIZE_BUF];

	ck_assert_str_eq(hvadm_format_mib(2048, buf, sizeof(buf)), "2.0G");
	ck_assert_str_eq(hvadm_format_mib(64, buf, sizeof(buf)), "64M");
	ck_assert_str_eq(hvadm_format_mib(24105, buf, sizeof(buf)), "24G");
	ck_assert_str_eq(hvadm_format_mib(1536, buf, sizeof(buf)), "1.5G");
	ck_assert_str_eq(hvadm_format_mib(0, buf, sizeof(buf)), "0M");
	/* beyond 2^44 MiB the byte count would overflow: printed in MiB */
	ck_assert_str_eq(hvadm_format_mib(1ULL << 44, buf, sizeof(buf)), "17592186044416M");
}
END_TEST

START_TEST(format_age)
{
	char buf[32];
	time_t now = 1795269787;	/* 2026-11-21T14:03:07Z */

	ck_assert_str_eq(hvadm_format_age("2026-11-21T14:03:07.123Z", now, buf, sizeof(buf)), "0s");
	ck_assert_str_eq(hvadm_format_age("2026-11-21T14:02:07Z", now, buf, sizeof(buf)), "60s");
	ck_assert_str_eq(hvadm_format_age("2026-11-21T13:58:07Z", now, buf, sizeof(buf)), "5m");
	ck_assert_str_eq(hvadm_format_age("2026-11-21T11:03:07Z", now, buf, sizeof(buf)), "3h");
	ck_assert_str_eq(hvadm_format_age("2026-11-17T14:03:07Z", now, buf, sizeof(buf)), "4d");
	/* clocks apart: a future time stamp is "0s", not negative */
	ck_assert_str_eq(hvadm_format_age("2026-11-21T14:04:07Z", now, buf, sizeof(buf)), "0s");
	ck_assert_ptr_null(hvadm_format_age("yesterday", now, buf, sizeof(buf)));
	ck_assert_ptr_null(hvadm_format_age(NULL, now, buf, sizeof(buf)));
}
END_TEST

START_TEST(text_width)
{
	ck_assert_uint_eq(hvadm_text_width(""), 0);
	ck_assert_uint_eq(hvadm_text_width("web01"), 5);
	ck_assert_uint_eq(hvadm_text_width("caf\xc3\xa9"), 4);		/* café */
	ck_assert_uint_eq(hvadm_text_width("\xe2\x82\xac" "5"), 2);	/* €5 */
}
END_TEST

static char *render(struct hvadm_table *t)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(hvadm_table_print(t, f), 0);
	fclose(f);
	return out;
}

START_TEST(table_widths)
{
	struct hvadm_table *t = hvadm_table_new(3, (const char *[]){ "NAME", "STATE", "MEMORY" });
	char *out;

	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(hvadm_table_width(t, 0), 4);
	ck_assert_int_eq(hvadm_table_add(t, (const char *[]){ "web01-long", "running", "2.0G" }), 0);
	ck_assert_int_eq(hvadm_table_add(t, (const char *[]){ "db", NULL, "16G" }), 0);
	ck_assert_int_eq(hvadm_table_add(t, (const char *[]){ "caf\xc3\xa9", "", "512M" }), 0);
	ck_assert_uint_eq(hvadm_table_width(t, 0), 10);
	ck_assert_uint_eq(hvadm_table_width(t, 1), 7);
	ck_assert_uint_eq(hvadm_table_width(t, 2), 6);
	ck_assert_uint_eq(hvadm_table_width(t, 3), 0);
	out = render(t);
	/* two spaces between columns, missing cells as "-", no trailing blanks; the accented
	 * name takes 4 columns, not 5 bytes */
	ck_assert_str_eq(out,
		"NAME        STATE    MEMORY\n"
		"web01-long  running  2.0G\n"
		"db          -        16G\n"
		"caf\xc3\xa9        -        512M\n");
	free(out);
	hvadm_table_free(t);
}
END_TEST

START_TEST(table_right_align)
{
	struct hvadm_table *t = hvadm_table_new(3, (const char *[]){ "NAME", "VCPUS", "HOST" });
	char *out;

	hvadm_table_align_right(t, 1);
	hvadm_table_align_right(t, 9);	/* out of range: ignored */
	hvadm_table_add(t, (const char *[]){ "a", "2", "h1" });
	hvadm_table_add(t, (const char *[]){ "b", "128", "h2" });
	out = render(t);
	ck_assert_str_eq(out,
		"NAME  VCPUS  HOST\n"
		"a         2  h1\n"
		"b       128  h2\n");
	free(out);
	ck_assert_ptr_null(hvadm_table_free(t));
	ck_assert_ptr_null(hvadm_table_free(NULL));
}
END_TEST

START_TEST(table_header_only)
{
	struct hvadm_table *t = hvadm_table_new(2, (const char *[]){ "ID", "NAME" });
	char *out = render(t);

	ck_assert_str_eq(out, "ID  NAME\n");
	free(out);
	hvadm_table_free(t);
}
END_TEST

START_TEST(table_many_rows)
{
	struct hvadm_table *t = hvadm_table_new(1, (const char *[]){ "N" });
	char name[32];

	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "vm-%d", i);
		ck_assert_int_eq(hvadm_table_add(t, (const char *[]){ name }), 0);
	}
	ck_assert_uint_eq(hvadm_table_width(t, 0), strlen("vm-999"));
	hvadm_table_free(t);
}
END_TEST

START_TEST(format_labels)
{
	json_t *l = json_pack("{s:s, s:s}", "role", "web", "tier", "prod");
	char buf[64], tiny[12];

	ck_assert_str_eq(hvadm_format_labels(l, buf, sizeof(buf)), "role=web,tier=prod");
	ck_assert_str_eq(hvadm_format_labels(l, tiny, sizeof(tiny)), "role=web...");
	ck_assert_str_eq(hvadm_format_labels(NULL, buf, sizeof(buf)), "");
	json_decref(l);
}
END_TEST

START_TEST(json_getters)
{
	json_t *o = json_pack("{s:s, s:i, s:f, s:n}", "name", "web01", "vcpus", 2, "ratio", 4.5,
			      "nothing");

	ck_assert_str_eq(hvadm_jstr(o, "name"), "web01");
	ck_assert_ptr_null(hvadm_jstr(o, "vcpus"));
	ck_assert_ptr_null(hvadm_jstr(o, "missing"));
	ck_assert_ptr_null(hvadm_jstr(NULL, "name"));
	ck_assert_int_eq(hvadm_jint(o, "vcpus", -1), 2);
	ck_assert_int_eq(hvadm_jint(o, "ratio", -1), 4);
	ck_assert_int_eq(hvadm_jint(o, "name", -1), -1);
	ck_assert_int_eq(hvadm_jint(o, "nothing", -1), -1);
	json_decref(o);
}
END_TEST

START_TEST(print_json)
{
	json_t *o = json_pack("{s:s, s:[i]}", "b", "x", "a", 1);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	ck_assert_int_eq(hvadm_print_json(o, f), 0);
	fclose(f);
	/* keys in the server's order, 2-space indent, final newline */
	ck_assert_str_eq(out, "{\n  \"b\": \"x\",\n  \"a\": [\n    1\n  ]\n}\n");
	free(out);
	json_decref(o);
}
END_TEST

static Suite *output_suite(void)
{
	Suite *s = suite_create("cli-output");
	TCase *tc;

	tc = tcase_create("format_size");
	tcase_add_test(tc, format_size);
	suite_add_tcase(s, tc);
	tc = tcase_create("format_mib");
	tcase_add_test(tc, format_mib);
	suite_add_tcase(s, tc);
	tc = tcase_create("format_age");
	tcase_add_test(tc, format_age);
	suite_add_tcase(s, tc);
	tc = tcase_create("text_width");
	tcase_add_test(tc, text_width);
	suite_add_tcase(s, tc);
	tc = tcase_create("table");
	tcase_add_test(tc, table_widths);
	tcase_add_test(tc, table_right_align);
	tcase_add_test(tc, table_header_only);
	tcase_add_test(tc, table_many_rows);
	suite_add_tcase(s, tc);
	tc = tcase_create("format_labels");
	tcase_add_test(tc, format_labels);
	suite_add_tcase(s, tc);
	tc = tcase_create("json_getters");
	tcase_add_test(tc, json_getters);
	suite_add_tcase(s, tc);
	tc = tcase_create("print_json");
	tcase_add_test(tc, print_json);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(output_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* test-cli-http.c - hvadm's HTTP client (cli/http.c): path escaping, error descriptions, and
 * what a request reports when nothing answers. One TCase per function. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/http.h"

START_TEST(escape)
{
	char *s;

	s = hvadm_http_escape("web01-a.b_c~");
	ck_assert_str_eq(s, "web01-a.b_c~");
	free(s);
	/* nothing that could leave the path segment survives: '/', '?', '#', '%', '..' parts */
	s = hvadm_http_escape("../a/b?c#d%e f");
	ck_assert_str_eq(s, "..%2Fa%2Fb%3Fc%23d%25e%20f");
	free(s);
	s = hvadm_http_escape("role=web&x");
	ck_assert_str_eq(s, "role%3Dweb%26x");
	free(s);
	s = hvadm_http_escape("\xc3\xa9");
	ck_assert_str_eq(s, "%C3%A9");
	free(s);
	s = hvadm_http_escape("");
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

START_TEST(path)
{
	char *p;

	p = hvadm_http_path("/v1/vms/", "web 1", "/start");
	ck_assert_str_eq(p, "/v1/vms/web%201/start");
	free(p);
	p = hvadm_http_path("/v1/vms/", "../../metrics", NULL);
	ck_assert_str_eq(p, "/v1/vms/..%2F..%2Fmetrics");
	free(p);
}
END_TEST

static const char *describe(const char *body, long status)
{
	static char buf[512];
	struct hvadm_response r = { .status = status };

	r.body = body ? json_loads(body, 0, NULL) : NULL;
	hvadm_http_describe_error(&r, buf, sizeof(buf));
	json_decref(r.body);
	return buf;
}

START_TEST(describe_error)
{
	ck_assert_str_eq(describe("{\"error\":{\"code\":\"not_found\",\"message\":\"not found\"}}",
				  404), "not found (not_found)");
	/* the field, unless the message starts with it */
	ck_assert_str_eq(describe("{\"error\":{\"code\":\"validation_failed\",\"message\":\"too "
				  "small\",\"field\":\"disks.0.path\"}}", 400),
			 "too small (validation_failed, field disks.0.path)");
	ck_assert_str_eq(describe("{\"error\":{\"code\":\"validation_failed\",\"message\":\"vcpus: "
				  "0 is less than the minimum 1\",\"field\":\"vcpus\"}}", 400),
			 "vcpus: 0 is less than the minimum 1 (validation_failed)");
	ck_assert_str_eq(describe("{\"error\":{\"code\":\"wrong_state\",\"message\":\"VM is "
				  "running\",\"state\":\"running\"}}", 409),
			 "VM is running (wrong_state, state running)");
	ck_assert_str_eq(describe("{\"error\":{\"code\":\"insufficient_capacity\",\"message\":"
				  "\"does not fit\",\"short\":[\"vcpus\",\"memory_mib\"]}}", 409),
			 "does not fit (insufficient_capacity, short: vcpus memory_mib)");
	ck_assert_str_eq(describe("{\"error\":{\"code\":\"busy\"}}", 409), "busy (busy)");
	/* not an API error: the status */
	ck_assert_str_eq(describe("<html>bad gateway</html>", 502), "HTTP 502 Bad Gateway");
	ck_assert_str_eq(describe(NULL, 599), "HTTP 599");
	ck_assert_str_eq(describe("{\"error\":\"plain\"}", 500), "HTTP 500 Internal Server Error");
}
END_TEST

START_TEST(request_no_daemon)
{
	struct hvadm_conn conn = { .socket_path = "/nonexistent-hvd-test/hvd.sock" };
	struct hvadm_response r = { .status = 7 };
	struct hvadm_http *h = NULL;

	ck_assert_int_eq(hvadm_http_new(&conn, &h), 0);
	ck_assert_str_eq(hvadm_http_target(h), "/nonexistent-hvd-test/hvd.sock");
	ck_assert_int_eq(hvadm_http_request(h, "GET", "/v1", NULL, NULL, &r), -ENOENT);
	ck_assert_str_eq(hvadm_http_strerror(h), "cannot connect to /nonexistent-hvd-test/hvd.sock: "
			 "No such file or directory");
	ck_assert_int_eq(r.status, 7);	/* untouched */
	ck_assert_ptr_null(hvadm_http_free(h));
}
END_TEST

START_TEST(request_bad_url)
{
	struct hvadm_conn conn = { .url = "ftp://example.invalid/" };
	struct hvadm_response r = { 0 };
	struct hvadm_http *h = NULL;

	ck_assert_int_eq(hvadm_http_new(&conn, &h), 0);
	ck_assert_str_eq(hvadm_http_target(h), "ftp://example.invalid");
	ck_assert_int_lt(hvadm_http_request(h, "GET", "/v1", NULL, NULL, &r), 0);
	ck_assert_ptr_nonnull(strstr(hvadm_http_strerror(h), "ftp://example.invalid"));
	hvadm_http_free(h);
}
END_TEST

static Suite *http_suite(void)
{
	Suite *s = suite_create("cli-http");
	TCase *tc;

	tc = tcase_create("escape");
	tcase_add_test(tc, escape);
	suite_add_tcase(s, tc);
	tc = tcase_create("path");
	tcase_add_test(tc, path);
	suite_add_tcase(s, tc);
	tc = tcase_create("describe_error");
	tcase_add_test(tc, describe_error);
	suite_add_tcase(s, tc);
	tc = tcase_create("request");
	tcase_add_test(tc, request_no_daemon);
	tcase_add_test(tc, request_bad_url);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(http_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of daemon/api/router.c: every route of the table is reachable
 * through its own pattern with its parameters extracted; a known path with
 * another method is -EPERM with the Allow list the client is told; unknown
 * paths are -ENOENT; malformed paths (empty, overlong or too many segments)
 * are -EINVAL; "." and ".." are not interpreted. One TCase per public
 * function (api_route_match), plus one for the table itself.
 */

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

struct result {
	int r;
	int index;
	int nparams;
	char params[API_MAX_PARAMS][API_PARAM_LEN];
	char allow[128];
};

static struct result route(const char *method, const char *path)
{
	struct result res;

	memset(&res, 0, sizeof(res));
	res.index = -1;
	res.nparams = -1;
	res.r = api_route_match(method, path, &res.index, res.params, &res.nparams, res.allow,
				sizeof(res.allow));
	return res;
}

/* The index of the route method + pattern in the table, or -1. */
static int route_index(const char *method, const char *pattern)
{
	for (int i = 0; i < api_nroutes; i++)
		if (strcmp(api_routes[i].method, method) == 0 &&
		    strcmp(api_routes[i].pattern, pattern) == 0)
			return i;
	return -1;
}

/* Expects path to reach method + pattern with the given parameters. */
static void expect_route(const char *method, const char *path, const char *pattern,
			 int nparams, const char *p0, const char *p1, int line)
{
	struct result res = route(method, path);
	int want = route_index(method, pattern);

	ck_assert_msg(want >= 0, "line %d: %s %s is not in the table", line, method, pattern);
	ck_assert_msg(res.r == 0, "line %d: %s %s: got %d, want 0", line, method, path, res.r);
	ck_assert_msg(res.index == want, "line %d: %s %s: route %d (%s %s), want %d", line,
		      method, path, res.index, api_routes[res.index].method,
		      api_routes[res.index].pattern, want);
	ck_assert_msg(res.nparams == nparams, "line %d: %s: %d params, want %d", line, path,
		      res.nparams, nparams);
	if (nparams > 0)
		ck_assert_msg(strcmp(res.params[0], p0) == 0, "line %d: %s: param 0 '%s', want '%s'",
			      line, path, res.params[0], p0);
	if (nparams > 1)
		ck_assert_msg(strcmp(res.params[1], p1) == 0, "line %d: %s: param 1 '%s', want '%s'",
			      line, path, res.params[1], p1);
}

#define ROUTE(m, path, pattern) expect_route(m, path, pattern, 0, NULL, NULL, __LINE__)
#define ROUTE1(m, path, pattern, a) expect_route(m, path, pattern, 1, a, NULL, __LINE__)
#define ROUTE2(m, path, pattern, a, b) expect_route(m, path, pattern, 2, a, b, __LINE__)

static void expect_error(const char *method, const char *path, int want, int line)
{
	struct result res = route(method, path);

	ck_assert_msg(res.r == want, "line %d: %s '%.60s': got %d, want %d", line, method, path,
		      res.r, want);
}

#define NOT_FOUND(m, path) expect_error(m, path, -ENOENT, __LINE__)
#define INVALID(m, path) expect_error(m, path, -EINVAL, __LINE__)

static void expect_allow(const char *method, const char *path, const char *allow, int line)
{
	struct result res = route(method, path);

	ck_assert_msg(res.r == -EPERM, "line %d: %s %s: got %d, want -EPERM", line, method, path,
		      res.r);
	ck_assert_msg(strcmp(res.allow, allow) == 0, "line %d: %s %s: Allow '%s', want '%s'",
		      line, method, path, res.allow, allow);
}

#define NOT_ALLOWED(m, path, allow) expect_allow(m, path, allow, __LINE__)

/* pattern with each "{}" replaced by "p0", "p1", ... */
static void instantiate(const char *pattern, char *out, size_t outlen, int *ret_nparams)
{
	size_t o = 0;
	int n = 0;

	for (const char *p = pattern; *p && o + 4 < outlen; ) {
		if (p[0] == '{' && p[1] == '}') {
			o += (size_t)snprintf(out + o, outlen - o, "p%d", n++);
			p += 2;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	*ret_nparams = n;
}

/* ---- the table ---- */

START_TEST(test_table_sane)
{
	ck_assert_int_gt(api_nroutes, 0);
	for (int i = 0; i < api_nroutes; i++) {
		const struct api_route *rt = &api_routes[i];
		int nparams = 0;
		char path[256];

		ck_assert_msg(rt->pattern[0] == '/', "route %d: pattern '%s'", i, rt->pattern);
		ck_assert_msg(rt->handler != NULL, "route %d has no handler", i);
		instantiate(rt->pattern, path, sizeof(path), &nparams);
		ck_assert_msg(nparams <= API_MAX_PARAMS, "%s: too many parameters", rt->pattern);
		/* no route is listed twice: the second would never be reached */
		ck_assert_msg(route_index(rt->method, rt->pattern) == i, "%s %s is listed twice",
			      rt->method, rt->pattern);
		/* bodies are only parsed for methods that carry them */
		if (strcmp(rt->method, "GET") == 0 || strcmp(rt->method, "DELETE") == 0)
			ck_assert_msg(rt->schema == NULL, "%s %s has a body schema", rt->method,
				      rt->pattern);
	}
	/* token management needs the admin role even to read */
	ck_assert(api_routes[route_index("GET", "/v1/tokens")].admin);
	ck_assert(api_routes[route_index("POST", "/v1/tokens")].admin);
	ck_assert(api_routes[route_index("DELETE", "/v1/tokens/{}")].admin);
	ck_assert(!api_routes[route_index("GET", "/v1/vms")].admin);
	/* the create bodies are validated */
	ck_assert_str_eq(api_routes[route_index("POST", "/v1/vms")].schema, "vm-create.schema.json");
	ck_assert_str_eq(api_routes[route_index("PATCH", "/v1/vms/{}")].schema, "vm-patch.schema.json");
	ck_assert_str_eq(api_routes[route_index("POST", "/v1/vms/{}/console")].schema, API_RAW_BODY);
}
END_TEST

/* ---- api_route_match ---- */

/* Every route matches its own pattern, with its parameters in order. */
START_TEST(test_every_route_matches_itself)
{
	for (int i = 0; i < api_nroutes; i++) {
		const struct api_route *rt = &api_routes[i];
		struct result res;
		char path[256];
		int nparams;

		instantiate(rt->pattern, path, sizeof(path), &nparams);
		res = route(rt->method, path);
		ck_assert_msg(res.r == 0, "%s %s: got %d", rt->method, path, res.r);
		ck_assert_msg(res.index == i, "%s %s: route %d, want %d", rt->method, path,
			      res.index, i);
		ck_assert_msg(res.nparams == nparams, "%s: %d params, want %d", path, res.nparams,
			      nparams);
		for (int k = 0; k < nparams; k++) {
			char want[16];

			/* a "{}suffix" parameter is the whole segment: pK + suffix */
			snprintf(want, sizeof(want), "p%d", k);
			ck_assert_msg(strncmp(res.params[k], want, strlen(want)) == 0 &&
				      (res.params[k][strlen(want)] == '\0' || res.params[k][strlen(want)] == '.'),
				      "%s: param %d is '%s'", path, k, res.params[k]);
		}
	}
}
END_TEST

/* The paths of DESIGN.md's table, spelled as clients send them. */
START_TEST(test_known_paths)
{
	ROUTE("GET", "/v1", "/v1");
	ROUTE("GET", "/v1/openapi.json", "/v1/openapi.json");
	ROUTE1("GET", "/v1/schemas/vm.schema.json", "/v1/schemas/{}", "vm.schema.json");
	ROUTE("GET", "/v1/vms", "/v1/vms");
	ROUTE("POST", "/v1/vms", "/v1/vms");
	ROUTE1("GET", "/v1/vms/web01", "/v1/vms/{}", "web01");
	ROUTE1("PATCH", "/v1/vms/web01", "/v1/vms/{}", "web01");
	ROUTE1("DELETE", "/v1/vms/0b6c3f4e-8a1d-4c2b-9e57-3d2f1a0c9b88", "/v1/vms/{}",
	       "0b6c3f4e-8a1d-4c2b-9e57-3d2f1a0c9b88");
	ROUTE1("POST", "/v1/vms/web01/start", "/v1/vms/{}/start", "web01");
	ROUTE1("POST", "/v1/vms/web01/stop", "/v1/vms/{}/stop", "web01");
	ROUTE1("GET", "/v1/vms/web01/console", "/v1/vms/{}/console", "web01");
	ROUTE1("POST", "/v1/vms/web01/console", "/v1/vms/{}/console", "web01");
	ROUTE2("POST", "/v1/vms/web01/snapshots/snap1/restore", "/v1/vms/{}/snapshots/{}/restore",
	       "web01", "snap1");
	ROUTE2("DELETE", "/v1/vms/web01/snapshots/snap1", "/v1/vms/{}/snapshots/{}", "web01",
	       "snap1");
	ROUTE1("GET", "/v1/operations/abc/wait", "/v1/operations/{}/wait", "abc");
	ROUTE1("DELETE", "/v1/operations/abc", "/v1/operations/{}", "abc");
	ROUTE1("DELETE", "/v1/hosts/node2", "/v1/hosts/{}", "node2");
	ROUTE1("DELETE", "/v1/tokens/ci", "/v1/tokens/{}", "ci");
	ROUTE("GET", "/metrics", "/metrics");
}
END_TEST

START_TEST(test_trailing_slash)
{
	ROUTE("GET", "/v1/", "/v1");
	ROUTE("GET", "/v1/vms/", "/v1/vms");
	ROUTE("POST", "/v1/vms/", "/v1/vms");
	ROUTE1("GET", "/v1/vms/web01/", "/v1/vms/{}", "web01");
	ROUTE2("POST", "/v1/vms/a/snapshots/b/restore/", "/v1/vms/{}/snapshots/{}/restore", "a", "b");
	ROUTE("GET", "/metrics/", "/metrics");
	/* only one: a second one is an empty segment */
	INVALID("GET", "/v1/vms//");
}
END_TEST

START_TEST(test_wrong_method)
{
	NOT_ALLOWED("PUT", "/v1/vms", "GET, POST");
	NOT_ALLOWED("DELETE", "/v1/vms/", "GET, POST");
	NOT_ALLOWED("POST", "/v1/vms/web01", "GET, PATCH, DELETE");
	NOT_ALLOWED("PUT", "/v1/vms/web01", "GET, PATCH, DELETE");
	NOT_ALLOWED("GET", "/v1/vms/web01/start", "POST");
	NOT_ALLOWED("DELETE", "/v1/vms/web01/console", "GET, POST");
	NOT_ALLOWED("GET", "/v1/vms/web01/snapshots/s1", "DELETE");
	NOT_ALLOWED("GET", "/v1/vms/web01/snapshots/s1/restore", "POST");
	NOT_ALLOWED("POST", "/v1/operations/x", "GET, DELETE");
	NOT_ALLOWED("POST", "/v1/operations/x/wait", "GET");
	NOT_ALLOWED("POST", "/v1/events", "GET");
	NOT_ALLOWED("PATCH", "/v1/hosts/h", "GET, DELETE");
	NOT_ALLOWED("PATCH", "/v1/tokens", "GET, POST");
	NOT_ALLOWED("POST", "/metrics", "GET");
	NOT_ALLOWED("DELETE", "/v1", "GET");
	/* methods are case-sensitive (RFC 9110) */
	NOT_ALLOWED("get", "/v1/vms", "GET, POST");
	NOT_ALLOWED("HEAD", "/v1/vms", "GET, POST");
	NOT_ALLOWED("", "/v1/vms", "GET, POST");
}
END_TEST

/* For every route, a method that no route of that path has gets exactly
 * the methods of the routes sharing its pattern, in table order. */
START_TEST(test_allow_lists_complete)
{
	for (int i = 0; i < api_nroutes; i++) {
		char path[256], want[128] = "";
		struct result res;
		int nparams;

		instantiate(api_routes[i].pattern, path, sizeof(path), &nparams);
		for (int k = 0; k < api_nroutes; k++) {
			if (strcmp(api_routes[k].pattern, api_routes[i].pattern) != 0)
				continue;
			if (want[0])
				strcat(want, ", ");
			strcat(want, api_routes[k].method);
		}
		res = route("OPTIONS", path);
		ck_assert_msg(res.r == -EPERM, "OPTIONS %s: got %d", path, res.r);
		ck_assert_msg(strcmp(res.allow, want) == 0, "%s: Allow '%s', want '%s'", path,
			      res.allow, want);
	}
}
END_TEST

START_TEST(test_allow_truncated)
{
	int index = -1, nparams = -1;
	char params[API_MAX_PARAMS][API_PARAM_LEN];
	char allow[8];

	memset(allow, 'x', sizeof(allow));
	ck_assert_int_eq(api_route_match("PUT", "/v1/vms/a", &index, params, &nparams, allow, 6),
			 -EPERM);
	ck_assert_str_eq(allow, "GET, ");
	ck_assert_int_eq(allow[6], 'x');
	/* no buffer: the error alone */
	ck_assert_int_eq(api_route_match("PUT", "/v1/vms/a", &index, params, &nparams, NULL, 0),
			 -EPERM);
	/* the outputs are written only on success */
	ck_assert_int_eq(index, -1);
	ck_assert_int_eq(nparams, -1);
}
END_TEST

START_TEST(test_unknown_paths)
{
	NOT_FOUND("GET", "/");
	NOT_FOUND("GET", "/v2/vms");
	NOT_FOUND("GET", "/v1/vm");
	NOT_FOUND("GET", "/v1/VMS");
	NOT_FOUND("GET", "/v1/vms/web01/shutdown");
	NOT_FOUND("POST", "/v1/vms/web01/start/now");
	NOT_FOUND("GET", "/v1/vms/web01/snapshots/s1/restore/x");
	NOT_FOUND("GET", "/metrics/x");
	NOT_FOUND("GET", "/v1/openapi.yaml");
	NOT_FOUND("GET", "/index.html");
	/* the query string is the server's to strip, not part of a segment */
	NOT_FOUND("GET", "/v1/vms?state=running");
	/* eight segments are allowed, they just do not exist */
	NOT_FOUND("GET", "/a/b/c/d/e/f/g/h");
}
END_TEST

START_TEST(test_malformed_paths)
{
	char path[700];

	INVALID("GET", "");
	INVALID("GET", "v1/vms");
	INVALID("GET", "//v1");
	INVALID("GET", "/v1//vms");
	INVALID("GET", "/v1/vms//start");
	INVALID("POST", "/v1/vms/web01//start");
	INVALID("GET", "///");
	/* too many segments */
	INVALID("GET", "/a/b/c/d/e/f/g/h/i");
	INVALID("GET", "/v1/vms/a/b/c/d/e/f/g/h/i/j/k/l");

	/* a parameter of API_PARAM_LEN - 1 bytes fits, one more does not */
	strcpy(path, "/v1/vms/");
	memset(path + 8, 'a', API_PARAM_LEN - 1);
	path[8 + API_PARAM_LEN - 1] = '\0';
	{
		struct result res = route("GET", path);

		ck_assert_int_eq(res.r, 0);
		ck_assert_uint_eq(strlen(res.params[0]), API_PARAM_LEN - 1);
	}
	strcat(path, "a");
	INVALID("GET", path);
	/* many short segments */
	path[0] = '\0';
	for (int i = 0; i < 100; i++)
		strcat(path, "/v1");
	INVALID("GET", path);
	/* the longest parameters in the deepest route still match */
	{
		char a[API_PARAM_LEN], b[API_PARAM_LEN];
		struct result res;

		memset(a, 'a', sizeof(a) - 1);
		a[sizeof(a) - 1] = '\0';
		memset(b, 'b', sizeof(b) - 1);
		b[sizeof(b) - 1] = '\0';
		snprintf(path, sizeof(path), "/v1/vms/%s/snapshots/%s/restore", a, b);
		res = route("POST", path);
		ck_assert_int_eq(res.r, 0);
		ck_assert_str_eq(res.params[0], a);
		ck_assert_str_eq(res.params[1], b);
	}
	/* an overlong path */
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	INVALID("GET", path);
}
END_TEST

/* "//" is an empty segment followed by a slash, like "/v1//": -EINVAL as
 * the contract in api.h says, not the root path "/" with a tolerated
 * trailing slash (-ENOENT). */
START_TEST(test_double_slash_alone)
{
	INVALID("GET", "//");
	INVALID("GET", "/v1//");
}
END_TEST

/* The router compares segments literally: "." and ".." are not resolved,
 * so a traversal never reaches another route with shifted parameters.
 * When it lands in a parameter, the handler sees ".." as a name or id,
 * which no VM, host, token or operation can have (names are
 * [a-z0-9][a-z0-9-]*), so the request ends as 404 there. */
START_TEST(test_traversal_not_resolved)
{
	NOT_FOUND("GET", "/v1/vms/../hosts");
	NOT_FOUND("GET", "/v1/hosts/../vms");
	NOT_FOUND("GET", "/v1/../v1/vms");
	NOT_FOUND("GET", "/v1/./vms");
	NOT_FOUND("DELETE", "/v1/vms/../tokens/admin");
	NOT_FOUND("GET", "/v1/vms/web01/../../hosts/h1");
	NOT_FOUND("GET", "/../etc/passwd");
	/* ".." where a parameter goes is just a parameter */
	ROUTE1("GET", "/v1/vms/..", "/v1/vms/{}", "..");
	ROUTE1("GET", "/v1/vms/../", "/v1/vms/{}", "..");
	ROUTE1("DELETE", "/v1/hosts/.", "/v1/hosts/{}", ".");
	ROUTE1("POST", "/v1/vms/../start", "/v1/vms/{}/start", "..");
	ROUTE2("POST", "/v1/vms/web01/snapshots/../restore", "/v1/vms/{}/snapshots/{}/restore",
	       "web01", "..");
	ROUTE1("GET", "/v1/schemas/..%2f..%2fetc%2fpasswd", "/v1/schemas/{}",
	       "..%2f..%2fetc%2fpasswd");
}
END_TEST

/* Parameters are copied as sent: no decoding, no case folding. */
START_TEST(test_params_verbatim)
{
	ROUTE1("GET", "/v1/vms/Web%2001", "/v1/vms/{}", "Web%2001");
	ROUTE1("GET", "/v1/vms/a b", "/v1/vms/{}", "a b");
	ROUTE1("GET", "/v1/vms/\xc3\xa9t\xc3\xa9", "/v1/vms/{}", "\xc3\xa9t\xc3\xa9");
	ROUTE1("GET", "/v1/vms/{}", "/v1/vms/{}", "{}");
}
END_TEST

static Suite *router_suite(void)
{
	Suite *s = suite_create("router");
	TCase *tc;

	tc = tcase_create("api_routes");
	tcase_add_test(tc, test_table_sane);
	suite_add_tcase(s, tc);

	tc = tcase_create("api_route_match");
	tcase_add_test(tc, test_every_route_matches_itself);
	tcase_add_test(tc, test_known_paths);
	tcase_add_test(tc, test_trailing_slash);
	tcase_add_test(tc, test_wrong_method);
	tcase_add_test(tc, test_allow_lists_complete);
	tcase_add_test(tc, test_allow_truncated);
	tcase_add_test(tc, test_unknown_paths);
	tcase_add_test(tc, test_malformed_paths);
	tcase_add_test(tc, test_double_slash_alone);
	tcase_add_test(tc, test_traversal_not_resolved);
	tcase_add_test(tc, test_params_verbatim);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(router_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

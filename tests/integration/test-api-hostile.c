/* test-api-hostile.c - more than 1,000 malformed or hostile requests over a
 * raw Unix socket.
 *
 * Broken HTTP (truncated request lines and headers, Content-Length lies,
 * bad chunking, oversized headers and URLs, 2 MiB bodies), hostile JSON
 * (nesting 100,000 deep, wrong types in every member, NUL bytes, invalid
 * UTF-8, lone surrogates, huge numbers, duplicate keys, unicode escapes,
 * path traversal in names and in disk/kernel paths, random byte mutations)
 * and hostile URLs (%00, ..%2f, overlong segments, bad query values).
 * Every request that gets an answer must get a 4xx; the daemon must stay
 * up, answer GET /v1 afterwards, keep its state unchanged, and its RSS
 * after the batch must stay within 8 MiB of its RSS after a warm-up pass
 * of the same requests (not checked under AddressSanitizer, whose
 * quarantine holds freed memory on purpose). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define RSS_BOUND_KIB (8 * 1024)

static struct hvd_proc H;

struct req {
	char *data;
	size_t len;
	bool truncated;      /* the server may rightly wait for more: close our
			      * side and wait for an answer only briefly */
	char label[96];
};

static struct req *reqs;
static size_t nreqs, capreqs;

static void add_raw(const char *label, bool truncated, const void *data, size_t len)
{
	struct req *r;

	if (nreqs == capreqs) {
		capreqs = capreqs ? capreqs * 2 : 256;
		reqs = realloc(reqs, capreqs * sizeof(*reqs));
		REQUIRE(reqs, "out of memory");
	}
	r = &reqs[nreqs++];
	r->data = malloc(len + 1);
	REQUIRE(r->data, "out of memory");
	memcpy(r->data, data, len);
	r->data[len] = '\0';
	r->len = len;
	r->truncated = truncated;
	snprintf(r->label, sizeof(r->label), "%s", label);
}

/* A well-formed HTTP request around a (possibly hostile) body. */
static void add_http(const char *label, const char *method, const char *path, const char *body, size_t blen,
		     const char *extra_headers)
{
	size_t hcap = strlen(path) + (extra_headers ? strlen(extra_headers) : 0) + 256;
	char *head = malloc(hcap);
	char *all;
	int n;

	REQUIRE(head, "out of memory");
	n = snprintf(head, hcap, "%s %s HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n%s", method, path,
		     extra_headers ? extra_headers : "");
	if (body)
		n += snprintf(head + n, hcap - (size_t)n, "Content-Type: application/json\r\nContent-Length: %zu\r\n", blen);
	n += snprintf(head + n, hcap - (size_t)n, "\r\n");
	all = malloc((size_t)n + blen);
	REQUIRE(all, "out of memory");
	memcpy(all, head, (size_t)n);
	if (body)
		memcpy(all + n, body, blen);
	add_raw(label, false, all, (size_t)n + (body ? blen : 0));
	free(head);
	free(all);
}

static void add_json(const char *label, const char *method, const char *path, const char *body)
{
	add_http(label, method, path, body, strlen(body), NULL);
}

/* a literal with NUL bytes in it: its size, not strlen */
#define ADD_LIT(label, truncated, lit) add_raw((label), (truncated), (lit), sizeof(lit) - 1)

/* ---- the request set ---- */

static const char VALID_TAIL[] = "\"boot\": {\"kernel\": \"/boot/vmlinuz\"}";

/* Endpoints with a body schema; every hostile body is wrong for each. */
static const char *const BODY_ROUTES[][2] = {
	{ "POST", "/v1/vms" },
	{ "PATCH", "/v1/vms/web01" },
	{ "POST", "/v1/vms/web01/clone" },
	{ "POST", "/v1/vms/web01/stop" },
	{ "POST", "/v1/vms/web01/snapshots" },
	{ "POST", "/v1/vms/web01/migrate" },
	{ "POST", "/v1/hosts" },
	{ "POST", "/v1/tokens" },
	{ "POST", "/v1/vms/web01/start" },
	{ "DELETE", "/v1/vms/nope" },
	{ "POST", "/v1/vms/nope/clone" },
};
#define NROUTES (sizeof(BODY_ROUTES) / sizeof(BODY_ROUTES[0]))

static char *repeat(const char *unit, size_t times, const char *prefix, const char *suffix)
{
	size_t ul = strlen(unit), pl = strlen(prefix), sl = strlen(suffix);
	char *s = malloc(pl + ul * times + sl + 1), *p;

	REQUIRE(s, "out of memory");
	memcpy(s, prefix, pl);
	p = s + pl;
	for (size_t i = 0; i < times; i++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, suffix, sl + 1);
	return s;
}

static void generic_bodies(void)
{
	static const char *const bodies[] = {
		"{", "}", "[", "]", "{}}", "{\"a\":}", "{\"a\" 1}", "{'name': 'x'}", "nul", "tru", "{\"name\": \"x\",}",
		"[1, 2, 3]", "\"string\"", "12", "null", "true", "{\"bogus\": 1}", "{\"name\": \"x\"} trailing",
		"{\"name\": \"a\", \"name\": \"b\"}",
		"{\"name\": \"x\\u0000y\"}", "{\"na\\u0000me\": 1}", "{\"name\": \"\\ud800\"}", "{\"name\": \"\\udc00\\ud800\"}",
		"{\"name\": \"\\uZZZZ\"}", "{\"name\": \"\\x41\"}", "{\"name\": \"tab\tinside\"}",
		"{\"name\": \"\xff\xfe\"}", "{\"name\": \"\xc0\x80\"}", "{\"name\": \"\xe2\x82\"}", "{\"\xed\xa0\x80\": 1}",
		"{\"name\": \"\xf4\x90\x80\x80\"}", "\xef\xbb\xbf{\"name\": \"bom\"}",
		"{\"n\": 1e400}", "{\"n\": -1e400}", "{\"n\": 123456789012345678901234567890}", "{\"n\": 1.7976931348623157e309}",
		"{\"n\": NaN}", "{\"n\": Infinity}", "{\"n\": 0x10}", "{\"n\": 01}", "{\"n\": -}", "{\"n\": 1.}",
		"{\"name\": \"\\u0041BC\"}", "{\"\\u006e\\u0061me\": \"\\u00e9\"}", "{\"name\": \"\xf0\x9f\x92\xa9\", \"x\": 1}",
		"{\"name\": \"..\"}", "{\"name\": \"../../etc/passwd\"}", "{\"name\": \"a/b\"}", "{\"name\": \"%2e%2e\"}",
		"{\"components\": [\"disks\", \"disks\"]}", "{\"count\": -1}", "{\"count\": 1e2}", "{\"force\": \"yes\"}",
		"{\"target\": null}", "{\"role\": \"root\"}", "{\"url\": \"file:///etc/passwd\"}",
		"{\"labels\": {\"\": \"x\"}, \"q\": 1}", "{\"disks\": [{\"id\": \"d\", \"path\": \"/../../etc/shadow\"}], \"q\": 1}",
	};
	char label[96];

	for (size_t b = 0; b < sizeof(bodies) / sizeof(bodies[0]); b++)
		for (size_t r = 0; r < NROUTES; r++) {
			snprintf(label, sizeof(label), "generic body %zu to %s %s", b, BODY_ROUTES[r][0], BODY_ROUTES[r][1]);
			add_http(label, BODY_ROUTES[r][0], BODY_ROUTES[r][1], bodies[b], strlen(bodies[b]), NULL);
		}
	/* a NUL byte in the middle of the body */
	for (size_t r = 0; r < NROUTES; r++)
		add_http("raw NUL in body", BODY_ROUTES[r][0], BODY_ROUTES[r][1], "{\"name\": \"a\0b\"}",
			 sizeof("{\"name\": \"a\0b\"}") - 1, NULL);
}

static void nesting(void)
{
	char *deep;

	deep = repeat("[", 100000, "", "");
	add_json("100k [ unclosed", "POST", "/v1/vms", deep);
	free(deep);
	{
		char *open = repeat("[", 100000, "", ""), *both = malloc(200001);

		REQUIRE(both, "out of memory");
		memcpy(both, open, 100000);
		memset(both + 100000, ']', 100000);
		both[200000] = '\0';
		add_json("100k [[...]] balanced", "POST", "/v1/vms", both);
		add_json("100k [[...]] to clone", "POST", "/v1/vms/web01/clone", both);
		add_json("100k [[...]] to patch", "PATCH", "/v1/vms/web01", both);
		free(both);
		free(open);
	}
	deep = repeat("{\"a\":", 50000, "", "1");
	add_json("50k {\"a\": unclosed", "POST", "/v1/vms", deep);
	free(deep);
	{
		char *d = repeat("{\"a\":", 20000, "", "1"), *full;
		size_t l = strlen(d);

		full = malloc(l + 20001);
		REQUIRE(full, "out of memory");
		memcpy(full, d, l);
		memset(full + l, '}', 20000);
		full[l + 20000] = '\0';
		add_json("20k nested objects", "POST", "/v1/vms", full);
		add_json("20k nested objects to hosts", "POST", "/v1/hosts", full);
		free(full);
		free(d);
	}
	/* just over the documented depth of 32, inside a valid-looking VM */
	{
		char *arr = repeat("[", 40, "{\"name\": \"deep\", \"vcpus\": 1, \"memory_mib\": 64, \"labels\": ", "");
		char *all = repeat("]", 40, arr, "}");

		add_json("depth 40 in labels", "POST", "/v1/vms", all);
		free(arr);
		free(all);
	}
}

static void wrong_types(void)
{
	static const struct {
		const char *field;
		const char *values[14];
	} fields[] = {
		{ "name", { "null", "1", "true", "[]", "{}", "\"\"", "\"A\"", "\"a b\"", "\"../x\"", "\"x\\u0000\"",
			    "\"a1234567890123456789012345678901234567890123456789012345678901234\"", "\"web01\\n\"", NULL } },
		{ "vcpus", { "null", "\"1\"", "0", "-1", "1.5", "99999999999999999999", "[]", "{}", "true", "289",
			     "-9223372036854775809", "1e3", NULL } },
		{ "memory_mib", { "null", "\"64\"", "0", "15", "-64", "1.5", "16777217", "[]", "true",
				  "18446744073709551616", NULL } },
		{ "boot", { "null", "1", "\"s\"", "[]", "{\"kernel\": 1}", "{\"kernel\": \"rel/k\"}",
			    "{\"kernel\": \"/k\", \"x\": 1}", "{\"kernel\": \"/a/../../k\"}", "{\"kernel\": \"/k\\u0001\"}",
			    "{\"kernel\": \"/k\", \"cmdline\": 5}", "{\"kernel\": \"..\"}", "{\"kernel\": \"/..\"}", NULL } },
		{ "disks", { "null", "{}", "\"s\"", "1", "[1]", "[{}]", "[{\"id\": \"d\"}]", "[{\"path\": \"/p\"}]",
			     "[{\"id\": \"D\", \"path\": \"/p\"}]", "[{\"id\": \"d\", \"path\": \"/../etc/passwd\"}]",
			     "[{\"id\": \"d\", \"path\": \"relative\"}]", "[{\"id\": \"d\", \"path\": \"/a\\u0000b\"}]",
			     "[{\"id\": \"d\", \"path\": \"/x/..\"}]", NULL } },
		{ "nics", { "null", "{}", "[1]", "[{}]", "[{\"id\": \"n\"}]", "[{\"id\": \"n\", \"mac\": 1, \"network\": \"b\"}]",
			    "[{\"id\": \"n\", \"mac\": \"ff:ff:ff:ff:ff:ff\", \"network\": \"b\"}]",
			    "[{\"id\": \"n\", \"network\": \"../../x\"}]", "[{\"id\": \"n\", \"tap\": \"tap-name-too-long-for-linux\"}]",
			    NULL } },
		{ "labels", { "null", "[]", "1", "\"s\"", "{\"K\": \"v\"}", "{\"k\": 1}", "{\"k\": null}", "{\"../k\": \"v\"}",
			      "{\"k\": \"\\u0007\"}", NULL } },
		{ "on_crash", { "null", "1", "\"never\"", "[]", "true", NULL } },
		{ "autostart", { "null", "\"true\"", "1", "[]", "{}", NULL } },
		{ "image", { "null", "1", "\"../../bin\"", "\"NOPE\"", "[]", NULL } },
		{ "id", { "\"00000000-0000-4000-8000-000000000000\"", "1", NULL } },
		{ "state", { "\"running\"", NULL } },
	};
	char body[1024], label[96];

	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
		for (size_t v = 0; fields[f].values[v]; v++) {
			const char *val = fields[f].values[v];
			bool base_has = strcmp(fields[f].field, "name") == 0 || strcmp(fields[f].field, "vcpus") == 0 ||
					strcmp(fields[f].field, "memory_mib") == 0 || strcmp(fields[f].field, "boot") == 0;

			/* the whole definition with one member wrong */
			snprintf(body, sizeof(body), "{%s%s%s%s%s%s \"%s\": %s}",
				 strcmp(fields[f].field, "name") ? "\"name\": \"hostile\", " : "",
				 strcmp(fields[f].field, "vcpus") ? "\"vcpus\": 1, " : "",
				 strcmp(fields[f].field, "memory_mib") ? "\"memory_mib\": 64, " : "",
				 strcmp(fields[f].field, "boot") ? VALID_TAIL : "",
				 strcmp(fields[f].field, "boot") ? "," : "", "", fields[f].field, val);
			(void)base_has;
			snprintf(label, sizeof(label), "create with %s: %.40s", fields[f].field, val);
			add_json(label, "POST", "/v1/vms", body);
			/* a patch of just that member (null and {} are valid patches) */
			if (strcmp(val, "null") && strcmp(val, "{}") && strcmp(val, "{\"k\": null}")) {
				snprintf(body, sizeof(body), "{\"%s\": %s}", fields[f].field, val);
				snprintf(label, sizeof(label), "patch %s: %.40s", fields[f].field, val);
				add_json(label, "PATCH", "/v1/vms/web01", body);
			}
		}
	/* limits */
	{
		char *labels = malloc(65 * 16 + 64);
		int n = 0;

		REQUIRE(labels, "out of memory");
		n += sprintf(labels + n, "{\"labels\": {");
		for (int i = 0; i < 65; i++)
			n += sprintf(labels + n, "%s\"k%d\": \"v\"", i ? ", " : "", i);
		sprintf(labels + n, "}}");
		add_json("65 labels", "PATCH", "/v1/vms/web01", labels);
		free(labels);
	}
	{
		char *disks = malloc(17 * 48 + 64);
		int n = 0;

		REQUIRE(disks, "out of memory");
		n += sprintf(disks + n, "{\"disks\": [");
		for (int i = 0; i < 17; i++)
			n += sprintf(disks + n, "%s{\"id\": \"d%d\", \"path\": \"/d%d\"}", i ? ", " : "", i, i);
		sprintf(disks + n, "]}");
		add_json("17 disks", "PATCH", "/v1/vms/web01", disks);
		free(disks);
	}
	{
		char *v = repeat("x", 256, "{\"labels\": {\"k\": \"", "\"}}");

		add_json("label value of 256", "PATCH", "/v1/vms/web01", v);
		free(v);
		v = repeat("a", 4096, "{\"disks\": [{\"id\": \"d\", \"path\": \"/", "\"}]}");
		add_json("path of 4097 bytes", "PATCH", "/v1/vms/web01", v);
		free(v);
		v = repeat("c", 2049, "{\"boot\": {\"kernel\": \"/k\", \"cmdline\": \"", "\"}}");
		add_json("cmdline of 2049", "PATCH", "/v1/vms/web01", v);
		free(v);
		v = repeat("\\u00e9", 1200, "{\"boot\": {\"kernel\": \"/k\", \"cmdline\": \"", "\"}}");
		add_json("cmdline of 2400 bytes in 1200 chars", "PATCH", "/v1/vms/web01", v);
		free(v);
		v = repeat("x", 500000, "{\"labels\": {\"k\": \"", "\"}}");
		add_json("label value of 500 KB", "PATCH", "/v1/vms/web01", v);
		free(v);
	}
}

static void broken_http(void)
{
	static const char *const lines[] = {
		"GARBAGE\r\n\r\n",
		"GET\r\n\r\n",
		"GET /v1\r\n\r\n",
		"GET /v2 HTTP/9.9\r\nHost: hvd\r\n\r\n",
		"GET /v2 HTTP/1.1 extra\r\nHost: hvd\r\n\r\n",
		"GET v1 HTTP/1.1\r\nHost: hvd\r\n\r\n",
		"GET /v2 HTTP/1.1\r\nHost hvd\r\n\r\n",
		"GET /v2 HTTP/1.1\r\n: empty-name\r\n\r\n",
		"GET /v2 HTTP/1.1\r\nHost: hvd\r\n folded: header\r\n\r\n",
		"FOO /v1 HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"DELETE /v1 HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"PUT /v1/vms/web01 HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"POST /v1/operations HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
		"POST /v1/vms HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\nContent-Length: -1\r\n\r\n{}",
		"POST /v1/vms HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\nContent-Length: abc\r\n\r\n{}",
		"POST /v1/vms HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\nContent-Length: 99999999999999999999999\r\n\r\n{}",
		"POST /v1/vms HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\nContent-Length: 18446744073709551615\r\n\r\n{}",
		"POST /v1/vms HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\n{}",
		"POST /v1/vms HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}GARBAGE AFTER\r\n\r\n",
		"POST /v1/vms HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\nContent-Length: 5\r\n\r\n{\"name\": \"much longer than five\"}",
		"POST /v1/vms HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n",
		"POST /v1/vms HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
		"POST /v1/vms HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n{}\r\n0\r\n\r\n",
		"POST /v1/vms HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n"
		"2\r\n{}\r\n0\r\n\r\n",
		"GET /v1/vms/%00 HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/vms/a%00b HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/vms/..%2f..%2fetc HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/vms/..%2f..%2f..%2fetc%2fpasswd HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"DELETE /v1/vms/..%2fweb01 HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/vms/%2e%2e HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/../../etc/passwd HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/vms/../../../etc/passwd HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET //v1//vms HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/vms/%ff%fe HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/vms/%zz HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/vms/% HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/vms?state=%00 HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/vms?state=%ff HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/vms?label=%ff=%fe HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/vms?label==x HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/vms?host=%00 HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/vms/web01/x/y/z/a/b/c/d/e/f HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/operations?status=%00 HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/operations?limit=0 HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/operations?limit=-1 HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/operations?limit=99999999999999999999999 HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/operations/x/wait?timeout=-1 HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/operations/x/wait?timeout=%00 HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/operations/x/wait?timeout=99999999999999999999 HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/operations/..%2f..%2f HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"DELETE /v1/operations/%00 HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/events?since=-5 HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/events?since=abc HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/events?since=1x HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/events HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\nLast-Event-ID: %00\r\n\r\n",
		"GET /v1/events HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\nLast-Event-ID: -1\r\n\r\n",
		"GET /v1/hosts/%00 HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"DELETE /v1/hosts/..%2f HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"DELETE /v1/tokens/%00 HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/schemas/..%2f..%2f..%2fetc%2fpasswd HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/schemas/../../etc/passwd HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"GET /v1/schemas/%2e%2e HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n",
		"PATCH /v1/vms/web01 HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\nIf-Match: \"999\"\r\n"
		"Content-Length: 19\r\n\r\n{\"autostart\": true}",
		"PATCH /v1/vms/web01 HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\nIf-Match: W/\"x\", \"\r\n"
		"Content-Length: 19\r\n\r\n{\"autostart\": true}",
		"POST /v1/vms HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\nContent-Type: application/xml\r\n"
		"Content-Length: 2\r\n\r\n{}",
		"POST /v1/vms HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary=x\r\n"
		"Content-Length: 2\r\n\r\n{}",
		"GET /v1/vms/web01 HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
	};
	char label[96];

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		snprintf(label, sizeof(label), "http %zu: %.60s", i, lines[i]);
		add_raw(label, false, lines[i], strlen(lines[i]));
	}
	/* NUL bytes in the request line and in a header */
	ADD_LIT("NUL in request line", false, "GET /v1/vms/a\0b HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n");
	ADD_LIT("NUL in header", false, "GET /v1/vms/x HTTP/1.1\r\nHost: h\0vd\r\nConnection: close\r\n\r\n");
	ADD_LIT("NUL as method", false, "\0\0\0 /v1 HTTP/1.1\r\nHost: hvd\r\n\r\n");
	ADD_LIT("high bytes in path", false, "GET /v1/vms/\xff\xfe\x80 HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n");
	ADD_LIT("control chars in path", false, "GET /v1/vms/\x01\x1b[2J HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n");

	/* truncated: the server may wait for the rest; we close our side */
	ADD_LIT("truncated request line", true, "GET /v1/vm");
	ADD_LIT("truncated headers", true, "GET /v1 HTTP/1.1\r\nHost: hvd\r\n");
	ADD_LIT("truncated header line", true, "GET /v1 HTTP/1.1\r\nHo");
	ADD_LIT("body shorter than Content-Length", true, "POST /v1/vms HTTP/1.1\r\nHost: hvd\r\nContent-Length: 100\r\n\r\n{\"name\": \"x\"");
	ADD_LIT("truncated chunked body", true, "POST /v1/vms HTTP/1.1\r\nHost: hvd\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"name\"");
	ADD_LIT("nothing", true, "");
	/* a chunk that claims 2^64-1 bytes, an unknown coding: may wait for more */
	ADD_LIT("chunk of 2^64-1 bytes", true, "POST /v1/vms HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n"
		"Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n");
	ADD_LIT("gzip, chunked", true, "POST /v1/vms HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n"
		"Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
	ADD_LIT("just CRLF", true, "\r\n\r\n");

	/* oversized: headers, URL, header count */
	{
		char *v = repeat("A", 100000, "GET /v1 HTTP/1.1\r\nHost: hvd\r\nX-Big: ", "\r\nConnection: close\r\n\r\n");

		add_raw("header of 100 KB", false, v, strlen(v));
		free(v);
		v = repeat("a", 100000, "GET /v1/vms/", " HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n");
		add_raw("URL of 100 KB", false, v, strlen(v));
		free(v);
		v = repeat("x", 600, "GET /v1/vms/", " HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n");
		add_raw("segment of 600", false, v, strlen(v));
		free(v);
		v = repeat("X-H: 1\r\n", 5000, "GET /v1 HTTP/1.1\r\nHost: hvd\r\n", "Connection: close\r\n\r\n");
		add_raw("5000 headers", false, v, strlen(v));
		free(v);
		v = repeat("a", 10000, "GET /v1 HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\nX-Request-Id: ", "\r\n\r\n");
		/* a long client request id is replaced, the request is fine:
		 * GET /v1 would be 200, so ask for something that does not exist */
		memcpy(v, "GET /v2", 7);
		add_raw("request id of 10 KB", false, v, strlen(v));
		free(v);
		v = repeat("/a", 3000, "GET /v1/vms", " HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n\r\n");
		add_raw("3000 segments", false, v, strlen(v));
		free(v);
	}
	/* 2 MiB bodies, with and without a Content-Length */
	{
		size_t len = 2u << 20;
		char *body = malloc(len), *chunked;
		size_t n = 0;

		REQUIRE(body, "out of memory");
		memset(body, ' ', len);
		memcpy(body, "{\"name\": \"", 10);
		memset(body + 10, 'a', len - 20);
		memcpy(body + len - 10, "\"}        ", 10);
		add_http("2 MiB body", "POST", "/v1/vms", body, len, NULL);
		add_http("2 MiB body to patch", "PATCH", "/v1/vms/web01", body, len, NULL);
		add_http("2 MiB body to tokens", "POST", "/v1/tokens", body, len, NULL);
		add_http("2 MiB body, Content-Length says 10", "POST", "/v1/vms", body, len, NULL);
		memcpy(strstr(reqs[nreqs - 1].data, "Content-Length: ") + 16, "10     ", 7);
		/* chunked, no length up front: the limit must hold while reading */
		chunked = malloc(len + 65536);
		REQUIRE(chunked, "out of memory");
		n += (size_t)sprintf(chunked, "POST /v1/vms HTTP/1.1\r\nHost: hvd\r\nConnection: close\r\n"
					      "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
		for (size_t off = 0; off < len; off += 32768) {
			n += (size_t)sprintf(chunked + n, "8000\r\n");
			memcpy(chunked + n, body + off, 32768);
			n += 32768;
			n += (size_t)sprintf(chunked + n, "\r\n");
		}
		n += (size_t)sprintf(chunked + n, "0\r\n\r\n");
		add_raw("2 MiB chunked body", false, chunked, n);
		free(chunked);
		free(body);
	}
}

/* Random single-byte changes and truncations of an invalid definition
 * (its name is upper case, so no single change makes it valid). */
static void mutations(int count)
{
	static const char base[] =
		"{\"name\": \"BAD\", \"vcpus\": 1, \"memory_mib\": 64, \"boot\": {\"kernel\": \"/boot/vmlinuz\","
		" \"cmdline\": \"console=ttyS0\"}, \"disks\": [{\"id\": \"root\", \"path\": \"/var/lib/d.img\"}],"
		" \"nics\": [{\"id\": \"net0\", \"mac\": \"52:54:00:12:34:56\", \"network\": \"br0\"}],"
		" \"labels\": {\"a\": \"b\"}}";
	uint32_t x = 12345;
	char buf[sizeof(base)], label[96];

	for (int i = 0; i < count; i++) {
		size_t len = sizeof(base) - 1, pos;

		memcpy(buf, base, sizeof(base));
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		pos = x % len;
		switch (i % 4) {
		case 0: /* random byte */
			buf[pos] = (char)(x >> 24);
			break;
		case 1: /* truncation */
			len = pos;
			break;
		case 2: /* a structural character */
			buf[pos] = "{}[]\",:\\\0\xff"[(x >> 20) % 11];
			break;
		case 3: /* doubled quote: unbalances strings */
			buf[pos] = '"';
			break;
		}
		snprintf(label, sizeof(label), "mutation %d (kind %d at %zu)", i, i % 4, pos);
		add_http(label, "POST", "/v1/vms", buf, len, NULL);
	}
}

/* ---- running ---- */

struct outcome {
	int answered, no_answer, bad;
};

static void run_batch(struct outcome *o, bool report)
{
	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < nreqs; i++) {
		int fd = raw_connect(&H);
		char *out = NULL;
		ssize_t n;
		int status;

		struct timespec t0;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		REQUIRE(fd >= 0, "connect to hvd for request %zu (%s): %s", i, reqs[i].label, strerror(-fd));
		/* bounds for a peer that never answers a broken request, not
		 * timing assertions */
		n = raw_exchange(fd, reqs[i].data, reqs[i].len, reqs[i].truncated, reqs[i].truncated ? 1000 : 15000, &out);
		status = raw_status(out, (size_t)n);
		if (getenv("HVD_TEST_VERBOSE")) {
			struct timespec t1;

			clock_gettime(CLOCK_MONOTONIC, &t1);
			t_note("request %zu (%.40s): %d after %ld ms", i, reqs[i].label, status,
			       (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
		}
		if (status) {
			o->answered++;
			/* the one 5xx allowed: RFC 9110's answer to an HTTP version the
			 * server does not speak, which libmicrohttpd sends itself
			 * (documented in docs/api.md) */
			bool version_refused = status == 505 && strstr(reqs[i].data, " HTTP/9.9\r\n");

			if ((status < 400 || status > 499) && !version_refused) {
				o->bad++;
				if (report)
					t_fail_at(__FILE__, __LINE__, "request %zu (%s) got %d: %.200s", i, reqs[i].label,
						  status, out);
			}
		} else {
			o->no_answer++;
			if (report && getenv("HVD_TEST_VERBOSE"))
				t_note("no answer to request %zu (%s)", i, reqs[i].label);
		}
		free(out);
		if (!hvd_alive(&H))
			t_abort_at(__FILE__, __LINE__, "hvd died on request %zu (%s)", i, reqs[i].label);
	}
}

int main(void)
{
	struct outcome warm, batch;
	struct http_resp *r;
	long rss_warm, rss_after;
	char *before;

	harness_init("test-api-hostile");
	hvd_setup(&H, "host_vcpus = 8\nhost_memory_mib = 8192\n");
	hvd_start(&H);
	r = http_req(&H, "POST", "/v1/vms", "{\"name\": \"web01\", \"vcpus\": 1, \"memory_mib\": 64,"
		     " \"boot\": {\"kernel\": \"/boot/vmlinuz\"}}", NULL);
	REQUIRE(r->status == 201, "defining web01: %ld %s", r->status, r->body);
	resp_free(r);
	r = http_req(&H, "GET", "/v1/vms", NULL, NULL);
	before = strdup(r->body);
	resp_free(r);

	generic_bodies();
	nesting();
	wrong_types();
	broken_http();
	mutations(200);
	t_note("%zu hostile requests per pass", nreqs);
	REQUIRE(nreqs >= 1000, "only %zu requests", nreqs);

	/* warm-up pass: caches, allocator arenas, SQLite pages */
	run_batch(&warm, true);
	rss_warm = hvd_rss_kib(&H);
	run_batch(&batch, true);
	rss_after = hvd_rss_kib(&H);
	t_note("pass 1: %d answered (%d not 4xx), %d not answered; pass 2: %d answered (%d not 4xx), %d not answered",
	       warm.answered, warm.bad, warm.no_answer, batch.answered, batch.bad, batch.no_answer);
	t_note("RSS after warm-up %ld KiB, after the batch %ld KiB (%+ld KiB)", rss_warm, rss_after, rss_after - rss_warm);
	CHECK(batch.answered > (int)nreqs / 2, "most requests should get an answer: %d of %zu", batch.answered, nreqs);

	CHECK(hvd_alive(&H), "hvd died");
	r = http_req(&H, "GET", "/v1", NULL, NULL);
	CHECK_STATUS(r, 200);
	resp_free(r);
	r = http_req(&H, "GET", "/v1/vms", NULL, NULL);
	CHECK(r->status == 200 && strcmp(r->body, before) == 0, "hostile requests changed the VMs:\n#   %.400s\n#   %.400s",
	      before, r->body);
	resp_free(r);
	free(before);
	r = http_req(&H, "GET", "/v1/tokens", NULL, NULL);
	CHECK(r->status == 200 && json_array_size(jget(r->json, "tokens")) == 0, "hostile requests made tokens: %s", r->body);
	resp_free(r);
	r = http_req(&H, "GET", "/v1/hosts", NULL, NULL);
	CHECK(r->status == 200 && json_array_size(jget(r->json, "hosts")) == 1, "hostile requests made hosts: %s", r->body);
	resp_free(r);

	if (hvd_is_asan(&H))
		t_note("hvd runs with AddressSanitizer: RSS bound not checked");
	else
		CHECK(rss_warm > 0 && rss_after - rss_warm < RSS_BOUND_KIB,
		      "memory not flat: RSS %ld KiB after warm-up, %ld KiB after the batch", rss_warm, rss_after);
	{
		int st = hvd_stop(&H, SIGTERM);

		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "hvd did not exit 0 on SIGTERM (0x%x)", st);
	}
	t_done();
}

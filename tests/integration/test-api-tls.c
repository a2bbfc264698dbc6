/* test-api-tls.c - TLS and bearer tokens over TCP.
 *
 * hvd listens on its Unix socket and on tcp:127.0.0.1:<free port> with a
 * self-signed certificate made for this run. Tokens are created over the
 * Unix socket (whose permissions are its authentication); over HTTPS,
 * checked against that certificate: no token and unknown tokens get 401,
 * a read-only token may GET but gets 403 for writes and for the token
 * admin endpoints, an admin token may write; plain HTTP to the TLS port
 * gets no HTTP response; a revoked token gets 401. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include "harness.h"

static struct hvd_proc H;

static char *create_token(const char *name, const char *role)
{
	struct http_resp *r = http_reqf(&H, "POST", "/v1/tokens", NULL, "{\"name\": \"%s\", \"role\": \"%s\"}", name, role);
	char *tok = NULL;

	REQUIRE(CHECK_STATUS(r, 201) && jstr(r->json, "token"), "creating token %s: %s", name, r->body);
	tok = strdup(jstr(r->json, "token"));
	resp_free(r);
	return tok;
}

static void expect(const char *token, const char *method, const char *path, const char *body, long status,
		   const char *code)
{
	struct http_resp *r = https_req(&H, token, method, path, body);

	if (code) {
		if (!CHECK_ERROR(r, status, code, NULL))
			printf("#   (%s %s with %s)\n", method, path, token ? token : "no token");
	} else if (!CHECK_STATUS(r, status)) {
		printf("#   (%s %s with %s)\n", method, path, token ? token : "no token");
	}
	if (status == 401) {
		char buf[128];

		CHECK(resp_header(r, "WWW-Authenticate", buf, sizeof(buf)) && strncasecmp(buf, "Bearer", 6) == 0,
		      "401 without WWW-Authenticate: Bearer");
	}
	resp_free(r);
}

int main(void)
{
	static const char vm[] = "{\"name\": \"%s\", \"vcpus\": 1, \"memory_mib\": 64, \"boot\": {\"kernel\": \"/k\"}}";
	char *admin, *ro, *ro2, body[256];
	struct http_resp *r;

	harness_init("test-api-tls");
	hvd_setup(&H, "host_vcpus = 8\nhost_memory_mib = 8192\n");
	hvd_setup_tls(&H);
	hvd_start(&H);

	admin = create_token("admin1", "admin");
	ro = create_token("viewer", "read-only");
	ro2 = create_token("viewer2", "read-only");

	/* no token, unknown tokens */
	expect(NULL, "GET", "/v1", NULL, 401, "unauthorized");
	expect(NULL, "GET", "/v1/vms", NULL, 401, "unauthorized");
	snprintf(body, sizeof(body), vm, "anon");
	expect(NULL, "POST", "/v1/vms", body, 401, "unauthorized");
	expect("hvd_0000000000000000000000000000000000000000000000000000000000000000", "GET", "/v1", NULL, 401,
	       "unauthorized");
	expect("garbage", "GET", "/v1", NULL, 401, "unauthorized");
	expect("", "GET", "/v1", NULL, 401, "unauthorized");
	{
		/* the admin token with one character changed */
		char *bad = strdup(admin);

		bad[10] = bad[10] == 'a' ? 'b' : 'a';
		expect(bad, "GET", "/v1", NULL, 401, "unauthorized");
		free(bad);
	}
	r = http_req(&H, "GET", "/v1/vms?name_prefix=anon", NULL, NULL);
	CHECK(r->status == 200 && json_array_size(jget(r->json, "vms")) == 0, "an unauthenticated POST defined a VM");
	resp_free(r);

	/* read-only */
	expect(ro, "GET", "/v1", NULL, 200, NULL);
	expect(ro, "GET", "/v1/vms", NULL, 200, NULL);
	expect(ro, "GET", "/v1/hosts", NULL, 200, NULL);
	expect(ro, "GET", "/metrics", NULL, 200, NULL);
	snprintf(body, sizeof(body), vm, "ro-vm");
	expect(ro, "POST", "/v1/vms", body, 403, "forbidden");
	expect(ro, "DELETE", "/v1/vms/ro-vm", NULL, 403, "forbidden");
	expect(ro, "GET", "/v1/tokens", NULL, 403, "forbidden");
	expect(ro, "POST", "/v1/tokens", "{\"name\": \"escalate\", \"role\": \"admin\"}", 403, "forbidden");
	expect(ro, "DELETE", "/v1/tokens/viewer2", NULL, 403, "forbidden");
	expect(ro, "POST", "/v1/hosts", "{\"name\": \"h2\", \"url\": \"https://h2:1\", \"capacity\": {\"vcpus\": 1,"
	       " \"memory_mib\": 64}}", 403, "forbidden");
	r = http_req(&H, "GET", "/v1/vms?name_prefix=ro-vm", NULL, NULL);
	CHECK(r->status == 200 && json_array_size(jget(r->json, "vms")) == 0, "a read-only token defined a VM");
	resp_free(r);

	/* admin */
	snprintf(body, sizeof(body), vm, "tls-vm");
	expect(admin, "POST", "/v1/vms", body, 201, NULL);
	expect(admin, "GET", "/v1/vms/tls-vm", NULL, 200, NULL);
	expect(ro, "GET", "/v1/vms/tls-vm", NULL, 200, NULL);
	expect(admin, "PATCH", "/v1/vms/tls-vm", "{\"labels\": {\"via\": \"tls\"}}", 200, NULL);
	expect(ro, "PATCH", "/v1/vms/tls-vm", "{\"labels\": {\"via\": \"ro\"}}", 403, "forbidden");
	expect(admin, "GET", "/v1/tokens", NULL, 200, NULL);
	expect(admin, "POST", "/v1/vms", "{\"name\": \"BAD\"}", 400, "validation_failed");
	expect(admin, "GET", "/v1/vms/nope", NULL, 404, "not_found");
	{
		struct http_resp *t = https_req(&H, admin, "POST", "/v1/tokens", "{\"name\": \"made-over-tls\", \"role\": \"read-only\"}");

		if (CHECK_STATUS(t, 201) && jstr(t->json, "token")) {
			char *tok = strdup(jstr(t->json, "token"));

			expect(tok, "GET", "/v1", NULL, 200, NULL);
			expect(tok, "POST", "/v1/vms", body, 403, "forbidden");
			expect(admin, "DELETE", "/v1/tokens/made-over-tls", NULL, 204, NULL);
			expect(tok, "GET", "/v1", NULL, 401, "unauthorized");
			free(tok);
		}
		resp_free(t);
	}

	/* the Unix socket needs no token */
	r = http_req(&H, "GET", "/v1/tokens", NULL, NULL);
	if (CHECK_STATUS(r, 200)) {
		json_t *t;
		size_t i;
		bool used = false;

		CHECK(!strstr(r->body, admin) && !strstr(r->body, ro), "token list shows a secret");
		json_array_foreach(jget(r->json, "tokens"), i, t)
			if (strcmp(jstr(t, "name"), "admin1") == 0)
				used = jstr(t, "last_used_at") != NULL;
		CHECK(used, "admin1's last_used_at was not recorded: %s", r->body);
	}
	resp_free(r);

	/* plain HTTP to the TLS port: no HTTP response */
	{
		static const char plain[] = "GET /v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
		int fd = raw_connect_tcp(H.tcp_port);
		char *out;
		ssize_t n;

		REQUIRE(fd >= 0, "connect to 127.0.0.1:%d", H.tcp_port);
		n = raw_exchange(fd, plain, sizeof(plain) - 1, false, 5000, &out);
		CHECK(raw_status(out, (size_t)n) == 0 && !strstr(out, "HTTP/1."),
		      "plain HTTP to the TLS port got an HTTP answer: %.200s", out);
		CHECK(!strstr(out, "\"vms\"") && !strstr(out, "hvd"), "plain HTTP got data: %.200s", out);
		free(out);
	}
	/* revoked tokens */
	r = http_req(&H, "DELETE", "/v1/tokens/viewer", NULL, NULL);
	CHECK_STATUS(r, 204);
	resp_free(r);
	expect(ro, "GET", "/v1", NULL, 401, "unauthorized");
	expect(ro2, "GET", "/v1", NULL, 200, NULL);
	expect(admin, "DELETE", "/v1/tokens/viewer2", NULL, 204, NULL);
	expect(ro2, "GET", "/v1", NULL, 401, "unauthorized");
	expect(admin, "GET", "/v1", NULL, 200, NULL);

	CHECK(hvd_alive(&H), "hvd is no longer running");
	{
		int st = hvd_stop(&H, SIGTERM);

		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "hvd did not exit 0 on SIGTERM (0x%x)", st);
	}
	free(admin);
	free(ro);
	free(ro2);
	t_done();
}

/* test-api-restart.c - what survives a daemon restart.
 *
 * 1. Orderly: define VMs, register a host, create a token, run a clone to
 *    completion; SIGTERM; a new hvd on the same state dir shows every
 *    definition (byte for byte), every allocation (GET /v1/hosts) and the
 *    finished operation unchanged, and keeps enforcing uniqueness.
 * 2. Crash: SIGKILL while a long clone copies disks; after the restart that
 *    operation is `failure` with an "interrupted" error, no clone VM exists
 *    and its half-made copies under state_dir/disks are gone; the daemon
 *    works normally (the source is not busy, a new clone succeeds). */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static struct hvd_proc H;

static struct http_resp *get(const char *path)
{
	return http_req(&H, "GET", path, NULL, NULL);
}

static json_t *get_json(const char *path)
{
	struct http_resp *r = get(path);
	json_t *j = NULL;

	if (CHECK_STATUS(r, 200))
		j = json_incref(r->json);
	resp_free(r);
	return j;
}

static json_t *local_host(void)
{
	json_t *hosts = get_json("/v1/hosts"), *h = NULL, *item;
	size_t i;

	json_array_foreach(jget(hosts, "hosts"), i, item)
		if (json_is_true(json_object_get(item, "local")))
			h = json_incref(item);
	json_decref(hosts);
	REQUIRE(h, "no local host in GET /v1/hosts");
	return h;
}

static void check_same(json_t *before, json_t *after, const char *what)
{
	char *a = json_dumps(before, JSON_SORT_KEYS | JSON_COMPACT);
	char *b = json_dumps(after, JSON_SORT_KEYS | JSON_COMPACT);

	CHECK(a && b && strcmp(a, b) == 0, "%s changed across the restart:\n#   before %.600s\n#   after  %.600s", what,
	      a ? a : "(null)", b ? b : "(null)");
	free(a);
	free(b);
}

static char *start_clone(const char *vm, const char *body)
{
	char path[128];
	struct http_resp *r;
	char *id;

	snprintf(path, sizeof(path), "/v1/vms/%s/clone", vm);
	r = http_req(&H, "POST", path, body, NULL);
	REQUIRE(CHECK_STATUS(r, 202) && jstr(r->json, "id"), "clone of %s not accepted: %s", vm, r->body);
	id = strdup(jstr(r->json, "id"));
	resp_free(r);
	return id;
}

static void orderly_restart(void)
{
	char disk[PATH_LEN], path[PATH_LEN];
	json_t *vms, *host, *op, *tokens, *rack, *after;
	struct http_resp *r;
	char *op_id;

	snprintf(disk, sizeof(disk), "%s/web01-root.img", H.dir);
	make_sparse_disk(disk, 32ULL << 20, 0, 1 << 20, 7);
	make_sparse_disk(disk, 0, 20ULL << 20, 256 << 10, 8);
	r = http_reqf(&H, "POST", "/v1/vms", NULL,
		      "{\"name\": \"web01\", \"vcpus\": 2, \"memory_mib\": 256,"
		      " \"boot\": {\"kernel\": \"/boot/vmlinuz\", \"cmdline\": \"console=ttyS0\"},"
		      " \"disks\": [{\"id\": \"root\", \"path\": \"%s\"}],"
		      " \"nics\": [{\"id\": \"net0\", \"mac\": \"52:54:00:00:00:01\", \"network\": \"br0\"}],"
		      " \"labels\": {\"role\": \"web\"}, \"on_crash\": \"restart\"}", disk);
	CHECK_STATUS(r, 201);
	resp_free(r);
	r = http_req(&H, "POST", "/v1/vms", "{\"name\": \"db01\", \"vcpus\": 1, \"memory_mib\": 128, \"image\": \"tiny\"}", NULL);
	/* no image is installed: that one is refused, and must stay absent */
	CHECK_ERROR(r, 400, "validation_failed", "image");
	resp_free(r);
	r = http_req(&H, "POST", "/v1/vms", "{\"name\": \"db01\", \"vcpus\": 1, \"memory_mib\": 128,"
		     " \"boot\": {\"kernel\": \"/k\"}}", NULL);
	CHECK_STATUS(r, 201);
	resp_free(r);
	r = http_req(&H, "PATCH", "/v1/vms/db01", "{\"labels\": {\"tier\": \"back\"}}", NULL);
	CHECK_STATUS(r, 200);
	resp_free(r);
	r = http_req(&H, "POST", "/v1/hosts", "{\"name\": \"rack9\", \"url\": \"https://10.9.9.9:8443\","
		     " \"capacity\": {\"vcpus\": 8, \"memory_mib\": 8192}}", NULL);
	CHECK_STATUS(r, 201);
	resp_free(r);
	r = http_req(&H, "POST", "/v1/tokens", "{\"name\": \"ci\", \"role\": \"admin\"}", NULL);
	CHECK_STATUS(r, 201);
	resp_free(r);

	op_id = start_clone("web01", "{\"name\": \"web02\"}");
	op = wait_op(&H, op_id);
	REQUIRE(op && strcmp(jstr(op, "status"), "success") == 0, "clone did not succeed");
	json_decref(op);

	vms = get_json("/v1/vms");
	host = local_host();
	snprintf(path, sizeof(path), "/v1/operations/%s", op_id);
	op = get_json(path);
	tokens = get_json("/v1/tokens");
	rack = get_json("/v1/hosts/rack9");
	CHECK(json_array_size(jget(vms, "vms")) == 3, "3 VMs before the restart: %s", json_dumps(vms, 0));
	CHECK(jint(host, "allocated.vcpus") == 5 && jint(host, "allocated.memory_mib") == 640,
	      "allocation before the restart: %s", json_dumps(host, 0));

	{
		int st = hvd_stop(&H, SIGTERM);

		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "hvd did not exit 0 on SIGTERM (0x%x)", st);
	}
	hvd_start(&H);

	after = get_json("/v1/vms");
	check_same(vms, after, "GET /v1/vms");
	json_decref(after);
	after = local_host();
	/* created_at and everything else, allocations included */
	check_same(host, after, "the local host (capacity, allocated, free)");
	json_decref(after);
	after = get_json(path);
	check_same(op, after, "the finished clone operation");
	json_decref(after);
	after = get_json("/v1/tokens");
	check_same(tokens, after, "GET /v1/tokens");
	json_decref(after);
	after = get_json("/v1/hosts/rack9");
	/* the remote host's allocations are computed; they are 0 both times */
	check_same(rack, after, "GET /v1/hosts/rack9");
	json_decref(after);

	r = get("/v1/vms/web01");
	{
		char etag[32];

		CHECK(resp_header(r, "ETag", etag, sizeof(etag)) && strcmp(etag, "\"1\"") == 0, "ETag after restart: %s", etag);
	}
	resp_free(r);
	r = get("/v1/vms/web02");
	if (CHECK_STATUS(r, 200) && jstr(r->json, "disks.0.path"))
		CHECK(files_equal(disk, jstr(r->json, "disks.0.path")), "web02's disk copy differs after the restart");
	resp_free(r);
	/* uniqueness still holds: name and MAC */
	r = http_req(&H, "POST", "/v1/vms", "{\"name\": \"web01\", \"vcpus\": 1, \"memory_mib\": 64,"
		     " \"boot\": {\"kernel\": \"/k\"}}", NULL);
	CHECK_ERROR(r, 409, "conflict", NULL);
	resp_free(r);
	r = http_req(&H, "POST", "/v1/vms", "{\"name\": \"web03\", \"vcpus\": 1, \"memory_mib\": 64,"
		     " \"boot\": {\"kernel\": \"/k\"}, \"nics\": [{\"id\": \"n\", \"mac\": \"52:54:00:00:00:01\", \"tap\": \"t1\"}]}",
		     NULL);
	CHECK_ERROR(r, 409, "conflict", NULL);
	resp_free(r);
	/* and capacity keeps counting what was allocated before */
	r = http_reqf(&H, "POST", "/v1/vms", NULL, "{\"name\": \"fill\", \"vcpus\": %lld, \"memory_mib\": 64,"
		      " \"boot\": {\"kernel\": \"/k\"}}", jint(host, "free.vcpus") + 1);
	CHECK_ERROR(r, 409, "insufficient_capacity", NULL);
	resp_free(r);

	json_decref(vms);
	json_decref(host);
	json_decref(op);
	json_decref(tokens);
	json_decref(rack);
	free(op_id);
}

static void crash_restart(void)
{
	char disk[PATH_LEN], path[PATH_LEN + 16], disks_dir[PATH_LEN];
	struct http_resp *r;
	json_t *op, *host_before, *host_after;
	char *op_id, *op2;
	bool copying = false;
	int st;

	/* 1 GiB with 256 MiB of data, sixteen copies: long enough to be
	 * killed in the middle */
	snprintf(disk, sizeof(disk), "%s/big-root.img", H.dir);
	make_sparse_disk(disk, 1ULL << 30, 0, 256ULL << 20, 9);
	r = http_reqf(&H, "POST", "/v1/vms", NULL, "{\"name\": \"big\", \"vcpus\": 1, \"memory_mib\": 64,"
		      " \"boot\": {\"kernel\": \"/k\"}, \"disks\": [{\"id\": \"root\", \"path\": \"%s\"}]}", disk);
	CHECK_STATUS(r, 201);
	resp_free(r);
	host_before = local_host();

	op_id = start_clone("big", "{\"count\": 16}");
	/* wait (bounded) until a copy is on disk, then kill */
	snprintf(disks_dir, sizeof(disks_dir), "%s/disks", H.state);
	for (int i = 0; i < 600 && !copying; i++) {
		DIR *d = opendir(disks_dir);
		struct dirent *de;
		int n = 0;

		while (d && (de = readdir(d)))
			if (de->d_name[0] != '.')
				n++;
		if (d)
			closedir(d);
		/* web02 from the orderly part owns one directory */
		copying = n >= 2;
		if (!copying)
			usleep(50 * 1000);
	}
	REQUIRE(copying, "the clone never started copying into %s", disks_dir);
	snprintf(path, sizeof(path), "/v1/operations/%s", op_id);
	r = get(path);
	REQUIRE(r->status == 200 && jstr(r->json, "status") && strcmp(jstr(r->json, "status"), "running") == 0,
		"the long clone is not running when it should be killed: %s", r->body);
	resp_free(r);

	st = hvd_stop(&H, SIGKILL);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "hvd was not killed (0x%x)", st);
	CHECK(dir_entries(disks_dir) >= 2, "no half-made copy was left by the kill (test did not test anything)");
	hvd_start(&H);

	op = get_json(path);
	CHECK(op && jstr(op, "status") && strcmp(jstr(op, "status"), "failure") == 0, "interrupted op status: %s",
	      op ? json_dumps(op, 0) : "(none)");
	CHECK(op && json_is_object(jget(op, "error")) && jstr(op, "error.code") && jstr(op, "error.message") &&
	      (strstr(jstr(op, "error.code"), "interrupted") || strstr(jstr(op, "error.message"), "interrupted")),
	      "interrupted op error: %s", op ? json_dumps(op, 0) : "(none)");
	CHECK(op && jstr(op, "finished_at"), "interrupted op has no finished_at");
	json_decref(op);
	r = get("/v1/operations?status=failure");
	CHECK(r->status == 200 && strstr(r->body, op_id), "the interrupted op is not listed as failed: %s", r->body);
	resp_free(r);
	r = get("/v1/vms?name_prefix=big-");
	CHECK(r->status == 200 && json_array_size(jget(r->json, "vms")) == 0, "clone VMs after the crash: %s", r->body);
	resp_free(r);
	check_no_orphan_disks(&H);
	CHECK(dir_entries(disks_dir) == 1, "%s should hold only web02's disks, has %d entries", disks_dir,
	      dir_entries(disks_dir));
	host_after = local_host();
	check_same(jget(host_before, "allocated"), jget(host_after, "allocated"), "allocations after the crash");
	json_decref(host_before);
	json_decref(host_after);

	/* the daemon works: the source is not busy, a clone succeeds */
	r = http_req(&H, "PATCH", "/v1/vms/big", "{\"labels\": {\"after\": \"crash\"}}", NULL);
	CHECK_STATUS(r, 200);
	resp_free(r);
	r = http_req(&H, "PATCH", "/v1/vms/big", "{\"disks\": null}", NULL);
	CHECK_STATUS(r, 200);
	resp_free(r);
	op2 = start_clone("web01", "{\"name\": \"web04\"}");
	op = wait_op(&H, op2);
	CHECK(op && strcmp(jstr(op, "status"), "success") == 0, "clone after the crash");
	json_decref(op);
	free(op2);
	free(op_id);
}

int main(void)
{
	harness_init("test-api-restart");
	hvd_setup(&H, "host_vcpus = 32\nhost_memory_mib = 32768\ncpu_overcommit = 1.0\nmemory_overcommit = 1.0\n");
	hvd_start(&H);
	orderly_restart();
	crash_restart();
	CHECK(hvd_alive(&H), "hvd is no longer running");
	{
		int st = hvd_stop(&H, SIGTERM);

		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "hvd did not exit 0 on SIGTERM (0x%x)", st);
	}
	t_done();
}

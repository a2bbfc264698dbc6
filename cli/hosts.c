/* hosts.c - `hvadm hosts [list|show|add|remove]`: the cluster members and their capacity.
 *
 * The list shows allocations against what can be allocated (capacity times overcommit), since
 * that, not raw capacity, is what decides whether the next VM fits. */
#include <stdio.h>
#include <stdlib.h>

#include "action.h"
#include "args.h"
#include "cleanup.h"
#include "cmd-table.h"
#include "output.h"

/* "allocated/allocatable" for vcpus ("6/256") or memory ("6.0G/256G"). */
static void usage_of(const json_t *h, const char *key, bool mib, char *buf, size_t len)
{
	json_t *alloc = json_object_get(h, "allocated"), *cap = json_object_get(h, "allocatable");
	char a[HVADM_SIZE_BUF], b[HVADM_SIZE_BUF];

	if (!cap)
		cap = json_object_get(h, "capacity");
	if (mib) {
		hvadm_format_mib((uint64_t)hvadm_jint(alloc, key, 0), a, sizeof(a));
		hvadm_format_mib((uint64_t)hvadm_jint(cap, key, 0), b, sizeof(b));
		snprintf(buf, len, "%s/%s", a, b);
	} else {
		snprintf(buf, len, "%lld/%lld", (long long)hvadm_jint(alloc, key, 0),
			 (long long)hvadm_jint(cap, key, 0));
	}
}

static int no_options(struct hvadm_ctx *ctx, int argc, char **argv, int n)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	while ((c = hvadm_getopt(ctx, argc, argv, ":h", opts)) != -1) {
		if (c == 'h') {
			hvadm_help(ctx);
			return -1;
		}
		return HVADM_EXIT_USAGE;
	}
	return hvadm_operands(ctx, argc, argv, n, n);
}

int hvadm_cmd_hosts_list(struct hvadm_ctx *ctx, int argc, char **argv)
{
	_cleanup_json_ json_t *body = NULL;
	struct hvadm_table *t;
	json_t *hosts, *h;
	size_t i;
	int r;

	if ((r = no_options(ctx, argc, argv, 0)))
		return r < 0 ? HVADM_EXIT_OK : r;
	if ((r = hvadm_get_json(ctx, "/v1/hosts", NULL, &body)))
		return r;
	if (ctx->output == HVADM_OUTPUT_JSON)
		return hvadm_print_json(body, stdout) < 0 ? HVADM_EXIT_FAIL : HVADM_EXIT_OK;
	hosts = json_object_get(body, "hosts");
	t = hvadm_table_new(6, (const char *[]){ "NAME", "STATE", "VCPUS", "MEMORY", "VMS", "URL" });
	if (!t)
		return hvadm_fail("out of memory");
	hvadm_table_align_right(t, 2);
	hvadm_table_align_right(t, 3);
	hvadm_table_align_right(t, 4);
	json_array_foreach(hosts, i, h) {
		char vcpus[48], mem[48], vms[24];

		usage_of(h, "vcpus", false, vcpus, sizeof(vcpus));
		usage_of(h, "memory_mib", true, mem, sizeof(mem));
		snprintf(vms, sizeof(vms), "%lld", (long long)hvadm_jint(h, "vms", 0));
		hvadm_table_add(t, (const char *[]){ hvadm_jstr(h, "name"), hvadm_jstr(h, "state"),
			vcpus, mem, vms,
			json_is_true(json_object_get(h, "local")) ? "(local)" : hvadm_jstr(h, "url") });
	}
	r = hvadm_table_print(t, stdout);
	hvadm_table_free(t);
	return r < 0 ? HVADM_EXIT_FAIL : HVADM_EXIT_OK;
}

static void kv(const char *key, const char *value)
{
	printf("%-13s %s\n", key, value && *value ? value : "-");
}

int hvadm_cmd_hosts_show(struct hvadm_ctx *ctx, int argc, char **argv)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_json_ json_t *h = NULL;
	char buf[128], a[HVADM_SIZE_BUF];
	json_t *oc;
	int r;

	if ((r = no_options(ctx, argc, argv, 1)))
		return r < 0 ? HVADM_EXIT_OK : r;
	if (!(path = hvadm_http_path("/v1/hosts/", argv[optind], NULL)))
		return hvadm_fail("out of memory");
	if ((r = hvadm_get_json(ctx, path, argv[optind], &h)))
		return r;
	if (ctx->output == HVADM_OUTPUT_JSON)
		return hvadm_print_json(h, stdout) < 0 ? HVADM_EXIT_FAIL : HVADM_EXIT_OK;
	kv("Name:", hvadm_jstr(h, "name"));
	kv("ID:", hvadm_jstr(h, "id"));
	kv("State:", hvadm_jstr(h, "state"));
	kv("URL:", json_is_true(json_object_get(h, "local")) ? "(local)" : hvadm_jstr(h, "url"));
	for (int i = 0; i < 4; i++) {
		static const char *const keys[] = { "capacity", "allocatable", "allocated", "free" };
		static const char *const labels[] = { "Capacity:", "Allocatable:", "Allocated:",
						      "Free:" };
		json_t *o = json_object_get(h, keys[i]);

		if (!o)
			continue;
		hvadm_format_mib((uint64_t)hvadm_jint(o, "memory_mib", 0), a, sizeof(a));
		snprintf(buf, sizeof(buf), "%lld vCPUs, %s memory",
			 (long long)hvadm_jint(o, "vcpus", 0), a);
		kv(labels[i], buf);
	}
	oc = json_object_get(h, "overcommit");
	if (oc) {
		json_t *cpu = json_object_get(oc, "cpu"), *m = json_object_get(oc, "memory");

		snprintf(buf, sizeof(buf), "cpu %g, memory %g", json_number_value(cpu),
			 json_number_value(m));
		kv("Overcommit:", buf);
	}
	snprintf(buf, sizeof(buf), "%lld", (long long)hvadm_jint(h, "vms", 0));
	kv("VMs:", buf);
	return HVADM_EXIT_OK;
}

int hvadm_cmd_hosts_add(struct hvadm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "vcpus", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	_cleanup_json_ json_t *body = NULL;
	_cleanup_free_ char *done = NULL;
	uint64_t vcpus = 0, mib = 0;
	const char *url = NULL, *name;
	struct hvadm_err err;
	int c, r;

	while ((c = hvadm_getopt(ctx, argc, argv, ":h", opts)) != -1) {
		switch (c) {
		case 'u': url = optarg; break;
		case 'c':
			if (hvadm_parse_uint(optarg, 1, INT32_MAX, &err, &vcpus) < 0)
				return hvadm_usage_error(ctx, "--vcpus: %s", err.msg);
			break;
		case 'm':
			if (hvadm_parse_memory_mib(optarg, &err, &mib) < 0)
				return hvadm_usage_error(ctx, "--memory: %s", err.msg);
			break;
		HVADM_OPT_COMMON_CASES;
		}
	}
	if ((r = hvadm_operands(ctx, argc, argv, 1, 1)))
		return r;
	if (!url || !vcpus || !mib)
		return hvadm_usage_error(ctx, "--url, --vcpus and --memory are all needed");
	name = argv[optind];
	body = json_pack("{s:s, s:s, s:{s:I, s:I}}", "name", name, "url", url, "capacity",
			 "vcpus", (json_int_t)vcpus, "memory_mib", (json_int_t)mib);
	if (!body)
		return hvadm_usage_error(ctx, "the name or URL is not valid UTF-8");
	if (asprintf(&done, "added host %s", name) < 0)
		return hvadm_fail("out of memory");
	return hvadm_act(ctx, &(struct hvadm_action){ .method = "POST", .path = "/v1/hosts",
						      .body = body, .subject = name, .done = done });
}

int hvadm_cmd_hosts_remove(struct hvadm_ctx *ctx, int argc, char **argv)
{
	_cleanup_free_ char *path = NULL, *done = NULL;
	int r;

	if ((r = no_options(ctx, argc, argv, 1)))
		return r < 0 ? HVADM_EXIT_OK : r;
	if (!(path = hvadm_http_path("/v1/hosts/", argv[optind], NULL)) ||
	    asprintf(&done, "removed host %s", argv[optind]) < 0)
		return hvadm_fail("out of memory");
	return hvadm_act(ctx, &(struct hvadm_action){ .method = "DELETE", .path = path,
						      .subject = argv[optind], .done = done });
}

/* snapshot.c - `hvadm snapshot create|list|restore|delete`: the /v1/vms/{vm}/snapshots resource.
 *
 * create, restore and delete may take time (disk and memory state) and are waited for like any
 * operation; list is a plain GET. Both the VM and the snapshot name are percent-encoded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "action.h"
#include "cleanup.h"
#include "cmd-table.h"
#include "output.h"

/* "/v1/vms/<vm>/snapshots[/<snap>][<suffix>]" */
static char *snap_path(const char *vm, const char *snap, const char *suffix)
{
	_cleanup_free_ char *base = hvadm_http_path("/v1/vms/", vm, "/snapshots/");

	if (!base)
		return NULL;
	if (!snap) {
		base[strlen(base) - 1] = '\0';
		return HVADM_TAKE_PTR(base);
	}
	return hvadm_http_path(base, snap, suffix);
}

/* Parses [--no-wait] [--memory when allow_memory] and exactly n operands. Returns 0 or an exit
 * status. */
static int parse(struct hvadm_ctx *ctx, int argc, char **argv, int n, bool allow_memory,
		 bool *no_wait, bool *memory)
{
	static const struct option opts[] = {
		{ "no-wait", no_argument, NULL, 'W' },
		{ "memory", no_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	while ((c = hvadm_getopt(ctx, argc, argv, ":h", opts)) != -1) {
		switch (c) {
		case 'W':
			*no_wait = true;
			break;
		case 'M':
			if (!allow_memory)
				return hvadm_usage_error(ctx, "unknown option '--memory'");
			*memory = true;
			break;
		case 'h':
			hvadm_help(ctx);
			return -1;
		default:
			return HVADM_EXIT_USAGE;
		}
	}
	return hvadm_operands(ctx, argc, argv, n, n);
}

int hvadm_cmd_snapshot_create(struct hvadm_ctx *ctx, int argc, char **argv)
{
	_cleanup_free_ char *path = NULL, *done = NULL;
	_cleanup_json_ json_t *body = NULL;
	bool no_wait = false, memory = false;
	const char *vm, *snap;
	int r;

	if ((r = parse(ctx, argc, argv, 2, true, &no_wait, &memory)))
		return r < 0 ? HVADM_EXIT_OK : r;
	vm = argv[optind];
	snap = argv[optind + 1];
	body = json_pack("{s:s, s:b}", "name", snap, "memory", memory);
	if (!body)
		return hvadm_usage_error(ctx, "the snapshot name is not valid UTF-8");
	if (!(path = snap_path(vm, NULL, NULL)) ||
	    asprintf(&done, "created snapshot %s of %s", snap, vm) < 0)
		return hvadm_fail("out of memory");
	return hvadm_act(ctx, &(struct hvadm_action){ .method = "POST", .path = path, .body = body,
						      .subject = vm, .no_wait = no_wait,
						      .done = done });
}

int hvadm_cmd_snapshot_restore(struct hvadm_ctx *ctx, int argc, char **argv)
{
	_cleanup_free_ char *path = NULL, *done = NULL, *subject = NULL;
	bool no_wait = false, memory = false;
	const char *vm, *snap;
	int r;

	if ((r = parse(ctx, argc, argv, 2, false, &no_wait, &memory)))
		return r < 0 ? HVADM_EXIT_OK : r;
	vm = argv[optind];
	snap = argv[optind + 1];
	if (!(path = snap_path(vm, snap, "/restore")) ||
	    asprintf(&done, "restored %s to snapshot %s", vm, snap) < 0 ||
	    asprintf(&subject, "%s: snapshot %s", vm, snap) < 0)
		return hvadm_fail("out of memory");
	return hvadm_act(ctx, &(struct hvadm_action){ .method = "POST", .path = path,
						      .subject = subject, .no_wait = no_wait,
						      .done = done });
}

int hvadm_cmd_snapshot_delete(struct hvadm_ctx *ctx, int argc, char **argv)
{
	_cleanup_free_ char *path = NULL, *done = NULL, *subject = NULL;
	bool no_wait = false, memory = false;
	const char *vm, *snap;
	int r;

	if ((r = parse(ctx, argc, argv, 2, false, &no_wait, &memory)))
		return r < 0 ? HVADM_EXIT_OK : r;
	vm = argv[optind];
	snap = argv[optind + 1];
	if (!(path = snap_path(vm, snap, NULL)) ||
	    asprintf(&done, "deleted snapshot %s of %s", snap, vm) < 0 ||
	    asprintf(&subject, "%s: snapshot %s", vm, snap) < 0)
		return hvadm_fail("out of memory");
	return hvadm_act(ctx, &(struct hvadm_action){ .method = "DELETE", .path = path,
						      .subject = subject, .no_wait = no_wait,
						      .done = done });
}

int hvadm_cmd_snapshot_list(struct hvadm_ctx *ctx, int argc, char **argv)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_json_ json_t *body = NULL;
	bool no_wait = false, memory = false;
	struct hvadm_table *t;
	time_t now = time(NULL);
	json_t *snaps, *s;
	const char *vm;
	size_t i;
	int r;

	if ((r = parse(ctx, argc, argv, 1, false, &no_wait, &memory)))
		return r < 0 ? HVADM_EXIT_OK : r;
	if (no_wait)
		return hvadm_usage_error(ctx, "unknown option '--no-wait'");
	vm = argv[optind];
	if (!(path = snap_path(vm, NULL, NULL)))
		return hvadm_fail("out of memory");
	if ((r = hvadm_get_json(ctx, path, vm, &body)))
		return r;
	if (ctx->output == HVADM_OUTPUT_JSON)
		return hvadm_print_json(body, stdout) < 0 ? HVADM_EXIT_FAIL : HVADM_EXIT_OK;
	snaps = json_is_array(body) ? body : json_object_get(body, "snapshots");
	t = hvadm_table_new(4, (const char *[]){ "NAME", "MEMORY", "CREATED", "AGE" });
	if (!t)
		return hvadm_fail("out of memory");
	json_array_foreach(snaps, i, s) {
		char age[32];
		json_t *m = json_object_get(s, "memory");

		hvadm_table_add(t, (const char *[]){ hvadm_jstr(s, "name"),
			json_is_true(m) ? "yes" : json_is_false(m) ? "no" : NULL,
			hvadm_jstr(s, "created_at"),
			hvadm_format_age(hvadm_jstr(s, "created_at"), now, age, sizeof(age)) });
	}
	r = hvadm_table_print(t, stdout);
	hvadm_table_free(t);
	return r < 0 ? HVADM_EXIT_FAIL : HVADM_EXIT_OK;
}

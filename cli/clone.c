/* clone.c - `hvadm clone VM [NAME]`: POST /v1/vms/{vm}/clone and wait for the operation.
 *
 * Only what the user gave goes into the body, so the daemon's defaults (every component, one
 * clone, name VM-N) apply otherwise. On success the clones' names are printed one a line, which
 * is what a script wants: `for vm in $(hvadm clone web01 --count 3); do ...`. */
#include <stdio.h>
#include <stdlib.h>

#include "action.h"
#include "args.h"
#include "cleanup.h"
#include "cmd-table.h"

int hvadm_cmd_clone(struct hvadm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "components", required_argument, NULL, 'c' },
		{ "count", required_argument, NULL, 'n' },
		{ "start", no_argument, NULL, 's' },
		{ "no-wait", no_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	_cleanup_json_ json_t *body = json_object(), *components = NULL;
	_cleanup_free_ char *path = NULL, *done = NULL;
	bool no_wait = false, start = false;
	uint64_t count = 0;
	struct hvadm_err err;
	const char *vm;
	int c, r;

	if (!body)
		return hvadm_fail("out of memory");
	while ((c = hvadm_getopt(ctx, argc, argv, ":h", opts)) != -1) {
		switch (c) {
		case 'c':
			json_decref(components);
			components = NULL;
			if (hvadm_parse_components(optarg, &err, &components) < 0)
				return hvadm_usage_error(ctx, "--components: %s", err.msg);
			break;
		case 'n':
			if (hvadm_parse_uint(optarg, 1, INT32_MAX, &err, &count) < 0)
				return hvadm_usage_error(ctx, "--count: %s", err.msg);
			break;
		case 's': start = true; break;
		case 'W': no_wait = true; break;
		HVADM_OPT_COMMON_CASES;
		}
	}
	if ((r = hvadm_operands(ctx, argc, argv, 1, 2)))
		return r;
	vm = argv[optind];
	if (optind + 1 < argc && json_object_set_new(body, "name", json_string(argv[optind + 1])))
		return hvadm_usage_error(ctx, "the clone's name is not valid UTF-8");
	if (components)
		json_object_set(body, "components", components);
	if (count)
		json_object_set_new(body, "count", json_integer((json_int_t)count));
	if (start)
		json_object_set_new(body, "start", json_true());
	if (!(path = hvadm_http_path("/v1/vms/", vm, "/clone")) ||
	    asprintf(&done, "cloned %s", vm) < 0)
		return hvadm_fail("out of memory");
	return hvadm_act(ctx, &(struct hvadm_action){ .method = "POST", .path = path, .body = body,
						      .subject = vm, .no_wait = no_wait,
						      .done = done });
}

/* migrate.c - `hvadm migrate VM --target HOST`: POST /v1/vms/{vm}/migrate, then wait.
 *
 * Live unless --offline; the daemon decides what live means for a stopped VM. */
#include <stdio.h>
#include <stdlib.h>

#include "action.h"
#include "cleanup.h"
#include "cmd-table.h"

int hvadm_cmd_migrate(struct hvadm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "target", required_argument, NULL, 't' },
		{ "offline", no_argument, NULL, 'O' },
		{ "no-wait", no_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	_cleanup_json_ json_t *body = NULL;
	_cleanup_free_ char *path = NULL, *done = NULL;
	bool no_wait = false, offline = false;
	const char *target = NULL, *vm;
	int c, r;

	while ((c = hvadm_getopt(ctx, argc, argv, ":h", opts)) != -1) {
		switch (c) {
		case 't': target = optarg; break;
		case 'O': offline = true; break;
		case 'W': no_wait = true; break;
		HVADM_OPT_COMMON_CASES;
		}
	}
	if ((r = hvadm_operands(ctx, argc, argv, 1, 1)))
		return r;
	if (!target || !*target)
		return hvadm_usage_error(ctx, "missing --target HOST");
	vm = argv[optind];
	body = json_pack("{s:s, s:b}", "target", target, "live", !offline);
	if (!body)
		return hvadm_usage_error(ctx, "--target is not valid UTF-8");
	if (!(path = hvadm_http_path("/v1/vms/", vm, "/migrate")) ||
	    asprintf(&done, "migrated %s to %s", vm, target) < 0)
		return hvadm_fail("out of memory");
	return hvadm_act(ctx, &(struct hvadm_action){ .method = "POST", .path = path, .body = body,
						      .subject = vm, .no_wait = no_wait,
						      .done = done });
}

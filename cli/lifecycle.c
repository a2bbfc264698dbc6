/* lifecycle.c - start, stop, reboot, pause, resume: POST /v1/vms/{vm}/<action>.
 *
 * The action's name is the command's name, so one handler serves the four that take no body;
 * stop has its own for --force and --timeout. hvd may answer at once or with an operation (once
 * the engine makes these asynchronous); hvadm_act handles both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "args.h"
#include "cleanup.h"
#include "cmd-table.h"

/* "start" -> "started", ... for the line printed on success. */
static const char *past_tense(const char *action)
{
	static const char *const words[][2] = {
		{ "start", "started" }, { "stop", "stopped" }, { "reboot", "rebooted" },
		{ "pause", "paused" }, { "resume", "resumed" },
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(words[i][0], action) == 0)
			return words[i][1];
	return action;
}

static int run_action(struct hvadm_ctx *ctx, const char *action, const char *vm,
		      const json_t *body, bool no_wait)
{
	_cleanup_free_ char *suffix = NULL, *path = NULL, *done = NULL;

	if (asprintf(&suffix, "/%s", action) < 0 ||
	    !(path = hvadm_http_path("/v1/vms/", vm, suffix)) ||
	    asprintf(&done, "%s %s", past_tense(action), vm) < 0)
		return hvadm_fail("out of memory");
	return hvadm_act(ctx, &(struct hvadm_action){ .method = "POST", .path = path,
						      .body = body, .subject = vm,
						      .no_wait = no_wait, .done = done });
}

int hvadm_cmd_lifecycle(struct hvadm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "no-wait", no_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool no_wait = false;
	int c, r;

	while ((c = hvadm_getopt(ctx, argc, argv, ":h", opts)) != -1) {
		switch (c) {
		case 'W': no_wait = true; break;
		HVADM_OPT_COMMON_CASES;
		}
	}
	if ((r = hvadm_operands(ctx, argc, argv, 1, 1)))
		return r;
	return run_action(ctx, ctx->cmd->name, argv[optind], NULL, no_wait);
}

int hvadm_cmd_stop(struct hvadm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'F' },
		{ "timeout", required_argument, NULL, 't' },
		{ "no-wait", no_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	_cleanup_json_ json_t *body = NULL;
	bool no_wait = false, force = false, timeout_set = false;
	uint64_t timeout_s = 0;
	struct hvadm_err err;
	int c, r;

	while ((c = hvadm_getopt(ctx, argc, argv, ":h", opts)) != -1) {
		switch (c) {
		case 'F': force = true; break;
		case 'W': no_wait = true; break;
		case 't':
			if (hvadm_parse_duration(optarg, 3600, &err, &timeout_s) < 0)
				return hvadm_usage_error(ctx, "--timeout: %s", err.msg);
			timeout_set = true;
			break;
		HVADM_OPT_COMMON_CASES;
		}
	}
	if ((r = hvadm_operands(ctx, argc, argv, 1, 1)))
		return r;
	body = json_pack("{s:b}", "force", force);
	if (!body)
		return hvadm_fail("out of memory");
	if (timeout_set)
		json_object_set_new(body, "timeout_s", json_integer((json_int_t)timeout_s));
	return run_action(ctx, "stop", argv[optind], body, no_wait);
}

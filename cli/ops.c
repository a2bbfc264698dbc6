/* ops.c - `hvadm ops` (list operations) and `hvadm wait OP_ID`.
 *
 * wait is the same loop every long command runs (progress.c), exposed on its own so an operation
 * started with --no-wait, or left with Ctrl-C, can be followed again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "action.h"
#include "args.h"
#include "cleanup.h"
#include "cmd-table.h"
#include "output.h"
#include "progress.h"

int hvadm_cmd_ops(struct hvadm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "status", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	_cleanup_free_ char *path = NULL;
	_cleanup_json_ json_t *body = NULL;
	const char *status = NULL;
	struct hvadm_table *t;
	time_t now = time(NULL);
	json_t *ops, *op;
	size_t i;
	int c, r;

	while ((c = hvadm_getopt(ctx, argc, argv, ":h", opts)) != -1) {
		switch (c) {
		case 's': status = optarg; break;
		HVADM_OPT_COMMON_CASES;
		}
	}
	if ((r = hvadm_operands(ctx, argc, argv, 0, 0)))
		return r;
	path = status ? hvadm_http_path("/v1/operations?status=", status, NULL) :
			strdup("/v1/operations");
	if (!path)
		return hvadm_fail("out of memory");
	if ((r = hvadm_get_json(ctx, path, NULL, &body)))
		return r;
	if (ctx->output == HVADM_OUTPUT_JSON)
		return hvadm_print_json(body, stdout) < 0 ? HVADM_EXIT_FAIL : HVADM_EXIT_OK;
	ops = json_object_get(body, "operations");
	t = hvadm_table_new(7, (const char *[]){ "ID", "KIND", "VM", "STATUS", "PROGRESS", "AGE",
						 "MESSAGE" });
	if (!t)
		return hvadm_fail("out of memory");
	hvadm_table_align_right(t, 4);
	json_array_foreach(ops, i, op) {
		char progress[16], age[32];
		const char *msg = hvadm_jstr(op, "message");
		json_t *err = json_object_get(op, "error");

		/* a failed operation's message is its error */
		if (json_is_object(err) && hvadm_jstr(err, "message"))
			msg = hvadm_jstr(err, "message");
		snprintf(progress, sizeof(progress), "%lld%%",
			 (long long)hvadm_jint(op, "progress", 0));
		hvadm_table_add(t, (const char *[]){ hvadm_jstr(op, "id"), hvadm_jstr(op, "kind"),
			hvadm_jstr(op, "vm"), hvadm_jstr(op, "status"), progress,
			hvadm_format_age(hvadm_jstr(op, "created_at"), now, age, sizeof(age)),
			msg });
	}
	r = hvadm_table_print(t, stdout);
	hvadm_table_free(t);
	return r < 0 ? HVADM_EXIT_FAIL : HVADM_EXIT_OK;
}

int hvadm_cmd_wait(struct hvadm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	_cleanup_json_ json_t *op = NULL;
	_cleanup_free_ char *done = NULL;
	uint64_t timeout_s = 0;
	struct hvadm_err err;
	const char *id;
	int c, r;

	while ((c = hvadm_getopt(ctx, argc, argv, ":h", opts)) != -1) {
		switch (c) {
		case 't':
			if (hvadm_parse_duration(optarg, 7 * 86400, &err, &timeout_s) < 0)
				return hvadm_usage_error(ctx, "--timeout: %s", err.msg);
			if (timeout_s == 0)
				return hvadm_usage_error(ctx, "--timeout: must be at least 1s");
			break;
		HVADM_OPT_COMMON_CASES;
		}
	}
	if ((r = hvadm_operands(ctx, argc, argv, 1, 1)))
		return r;
	id = argv[optind];
	if ((r = hvadm_op_wait(ctx, id, timeout_s, &op)))
		return r;
	if (asprintf(&done, "%s %s: success", hvadm_jstr(op, "kind") ? hvadm_jstr(op, "kind") :
		     "operation", id) < 0)
		return hvadm_fail("out of memory");
	return hvadm_op_finish(ctx, hvadm_jstr(op, "vm") ? hvadm_jstr(op, "vm") : id, op, done);
}

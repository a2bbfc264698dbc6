/* action.c - sending a request that changes something, and seeing through the operation it may
 * start.
 *
 * Slow requests (clone, snapshot, migrate, delete of a running VM, and lifecycle actions once the
 * engine answers them that way) come back 202 with an operation. Every mutating command goes
 * through hvadm_act, so each of them waits the same way, honours --no-wait the same way and
 * reports a failed operation the same way as a refused request. */
#include <string.h>

#include "action.h"
#include "cleanup.h"
#include "output.h"
#include "progress.h"

/* The operation id of a 202 answer: the body's "id", else the last segment of Location. */
static const char *op_id_of(const struct hvadm_response *resp)
{
	const char *id = hvadm_jstr(resp->body, "id");
	const char *slash;

	if (id)
		return id;
	if (resp->location && (slash = strrchr(resp->location, '/')) && slash[1])
		return slash + 1;
	return NULL;
}

int hvadm_op_finish(struct hvadm_ctx *ctx, const char *subject, const json_t *op,
		    const char *done)
{
	const char *status = hvadm_jstr(op, "status");
	json_t *vms = json_object_get(json_object_get(op, "result"), "vms");
	struct hvadm_response fake = { .status = 0 };
	size_t i;
	json_t *v;

	if (status && strcmp(status, "success") == 0) {
		if (ctx->output == HVADM_OUTPUT_JSON) {
			hvadm_print_json(op, stdout);
		} else if (json_array_size(vms) > 0) {
			json_array_foreach(vms, i, v) {
				const char *name = json_is_string(v) ? json_string_value(v) :
						   hvadm_jstr(v, "name");

				if (name)
					puts(name);
			}
		} else if (done) {
			puts(done);
		}
		return HVADM_EXIT_OK;
	}
	if (ctx->output == HVADM_OUTPUT_JSON)
		hvadm_print_json(op, stdout);
	if (status && strcmp(status, "cancelled") == 0)
		return hvadm_fail("%s: operation %s was cancelled", subject,
				  hvadm_jstr(op, "id") ? hvadm_jstr(op, "id") : "?");
	/* describe the operation's error object as if it were an error answer */
	fake.body = json_pack("{s:O?}", "error", json_object_get(op, "error"));
	if (!json_object_get(fake.body, "error") ||
	    json_is_null(json_object_get(fake.body, "error"))) {
		json_decref(fake.body);
		return hvadm_fail("%s: operation %s ended with status %s", subject,
				  hvadm_jstr(op, "id") ? hvadm_jstr(op, "id") : "?",
				  status ? status : "unknown");
	}
	hvadm_fail_response(subject, &fake);
	json_decref(fake.body);
	return HVADM_EXIT_FAIL;
}

int hvadm_act(struct hvadm_ctx *ctx, const struct hvadm_action *a)
{
	struct hvadm_response resp = { 0 };
	_cleanup_json_ json_t *op = NULL;
	const char *id;
	int r;

	r = hvadm_http_request(ctx->http, a->method, a->path, a->body, NULL, &resp);
	if (r < 0)
		return hvadm_fail_transport(ctx, r);
	if (resp.status < 200 || resp.status > 299) {
		r = hvadm_fail_response(a->subject, &resp);
		goto out;
	}
	if (resp.status != 202 || !(id = op_id_of(&resp))) {
		if (ctx->output == HVADM_OUTPUT_JSON && resp.body)
			hvadm_print_json(resp.body, stdout);
		else if (ctx->output == HVADM_OUTPUT_TABLE && a->done)
			puts(a->done);
		r = HVADM_EXIT_OK;
		goto out;
	}
	if (a->no_wait) {
		if (ctx->output == HVADM_OUTPUT_JSON && resp.body)
			hvadm_print_json(resp.body, stdout);
		else
			puts(id);
		r = HVADM_EXIT_OK;
		goto out;
	}
	r = hvadm_op_wait(ctx, id, 0, &op);
	if (r == HVADM_EXIT_OK)
		r = hvadm_op_finish(ctx, a->subject, op, a->done);
out:
	hvadm_response_clear(&resp);
	return r;
}

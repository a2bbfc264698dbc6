/* operations.c - /v1/operations: list, read, wait for and cancel.
 *
 * A wait suspends the request; it is woken when the operation finishes
 * (ops.c wakes its waiters) or when its own timer fires, and then answers
 * with the operation as it is at that moment. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "hvd.h"
#include "ops.h"

static const char *const statuses[] = { "running", "success", "failure", "cancelled", NULL };

static int list_one(const struct store_op *op, void *ud)
{
	return json_array_append_new(ud, ops_to_json(op)) == 0 ? 0 : -ENOMEM;
}

void api_ops_list(struct api_request *req)
{
	const char *status = api_query(req, "status");
	unsigned long limit;
	json_t *arr;
	int r;

	if (status) {
		int i;

		for (i = 0; statuses[i] && strcmp(statuses[i], status) != 0; i++)
			;
		if (!statuses[i]) {
			api_reply_error(req, 400, "bad_request", "status",
					"status: must be running, success, failure or cancelled");
			return;
		}
	}
	if (api_query_uint(req, "limit", 1, 500, 500, &limit) < 0)
		return;
	arr = json_array();
	r = store_op_list(req->hvd->store, status, (int)limit, list_one, arr);
	if (r < 0) {
		json_decref(arr);
		api_reply_errno(req, r, "listing operations");
		return;
	}
	api_reply_json(req, 200, json_pack("{s:o}", "operations", arr));
}

static void reply_op(struct api_request *req, const char *id)
{
	struct store_op op;
	int r = store_op_get(req->hvd->store, id, &op);

	if (r == -ENOENT) {
		api_reply_error(req, 404, "not_found", NULL, "operation %.64s not found", id);
		return;
	}
	if (r < 0) {
		api_reply_errno(req, r, "operation");
		return;
	}
	api_reply_json(req, 200, ops_to_json(&op));
	store_op_clear(&op);
}

void api_ops_get(struct api_request *req)
{
	reply_op(req, req->params[0]);
}

struct waiter {
	struct api_request *req;
	struct hvd *hvd;
	uv_timer_t timer;
	char op_id[37];
};

static void waiter_closed(uv_handle_t *h)
{
	free(h->data);
}

static void waiter_free(void *p)
{
	struct waiter *w = p;
	struct ops_run *run = ops_find(w->hvd, w->op_id);

	if (run)
		ops_remove_waiter(run, w->req);
	uv_timer_stop(&w->timer);
	uv_close((uv_handle_t *)&w->timer, waiter_closed);
}

static void on_wait_timeout(uv_timer_t *t)
{
	struct waiter *w = t->data;
	struct ops_run *run = ops_find(w->hvd, w->op_id);

	if (run)
		ops_remove_waiter(run, w->req);
	api_request_wake(w->req);
}

static void wait_resume(struct api_request *req)
{
	struct waiter *w = req->data;

	uv_timer_stop(&w->timer);
	reply_op(req, w->op_id);
}

void api_ops_wait(struct api_request *req)
{
	struct store_op op;
	struct ops_run *run;
	struct waiter *w;
	unsigned long timeout;
	int r;

	if (api_query_uint(req, "timeout", 0, 3600, 60, &timeout) < 0)
		return;
	r = store_op_get(req->hvd->store, req->params[0], &op);
	if (r < 0) {
		if (r == -ENOENT)
			api_reply_error(req, 404, "not_found", NULL, "operation %.64s not found", req->params[0]);
		else
			api_reply_errno(req, r, "operation");
		return;
	}
	run = strcmp(op.status, "running") == 0 ? ops_find(req->hvd, op.id) : NULL;
	if (!run || timeout == 0 || req->hvd->stopping) {
		api_reply_json(req, 200, ops_to_json(&op));
		store_op_clear(&op);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		store_op_clear(&op);
		api_reply_errno(req, -ENOMEM, "wait");
		return;
	}
	w->req = req;
	w->hvd = req->hvd;
	snprintf(w->op_id, sizeof(w->op_id), "%s", op.id);
	store_op_clear(&op);
	uv_timer_init(req->hvd->loop, &w->timer);
	w->timer.data = w;
	uv_timer_start(&w->timer, on_wait_timeout, timeout * 1000, 0);
	req->data = w;
	req->data_free = waiter_free;
	ops_add_waiter(run, req);
	api_request_suspend(req, wait_resume);
}

void api_ops_cancel(struct api_request *req)
{
	struct store_op op;
	struct ops_run *run;
	int r;

	r = store_op_get(req->hvd->store, req->params[0], &op);
	if (r < 0) {
		if (r == -ENOENT)
			api_reply_error(req, 404, "not_found", NULL, "operation %.64s not found", req->params[0]);
		else
			api_reply_errno(req, r, "operation");
		return;
	}
	run = ops_find(req->hvd, op.id);
	if (!run) {
		api_reply_error_extra(req, 409, "wrong_state", NULL, json_pack("{s:s}", "status", op.status),
				      "operation %s already finished (%s)", op.id, op.status);
		store_op_clear(&op);
		return;
	}
	ops_cancel(run);
	/* the work notices at its next check; the answer says it is on its way */
	api_reply_json(req, 202, ops_to_json(&run->op));
	store_op_clear(&op);
}

/* ops.c - the operation runtime.
 *
 * Invariants: a run is in the runtime's list from ops_start until its done
 * callback finished; its row in SQLite says 'running' exactly as long. The
 * worker thread only writes the fields under run->lock and wakes the loop
 * with uv_async_send; the loop writes progress to SQLite (and an event at
 * most every 250 ms). Waiters (GET .../wait) are woken when it finishes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "events.h"
#include "hvd.h"
#include "log.h"
#include "ops.h"

struct ops_runtime {
	struct hvd *hvd;
	struct ops_run *runs;
};

int ops_runtime_new(struct hvd *hvd, struct ops_runtime **ret)
{
	struct ops_runtime *rt = calloc(1, sizeof(*rt));

	if (!rt)
		return -ENOMEM;
	rt->hvd = hvd;
	*ret = rt;
	return 0;
}

void ops_runtime_shutdown(struct ops_runtime *rt)
{
	struct ops_run *r, *next;

	for (r = rt ? rt->runs : NULL; r; r = next) {
		next = r->next;
		ops_set_error(r, "interrupted", "interrupted: the daemon is stopping");
		atomic_store(&r->cancel, true);
		if (r->pending) {
			/* nothing runs on the pool for it: it ends now */
			if (r->on_interrupt)
				r->on_interrupt(r);
			ops_finish(r, -ECANCELED);
		}
	}
}

struct ops_runtime *ops_runtime_free(struct ops_runtime *rt)
{
	free(rt);
	return NULL;
}

json_t *ops_to_json(const struct store_op *op)
{
	char created[32], updated[32], finished[32];
	json_t *j;

	store_format_time(op->created_at, created);
	store_format_time(op->updated_at, updated);
	store_format_time(op->finished_at, finished);
	j = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s}",
		      "id", op->id, "kind", op->kind, "vm", op->vm_name, "status", op->status,
		      "progress", op->progress, "message", op->message,
		      "created_at", created, "updated_at", updated);
	if (!j)
		return NULL;
	json_object_set_new(j, "finished_at", op->finished_at ? json_string(finished) : json_null());
	json_object_set(j, "error", op->error ? op->error : json_null());
	json_object_set(j, "result", op->result ? op->result : json_null());
	return j;
}

static void wake_waiters(struct ops_run *run)
{
	while (run->waiters) {
		struct api_request *req = run->waiters;

		run->waiters = req->op_next;
		req->op_next = NULL;
		api_request_wake(req);
	}
}

static void publish(struct ops_run *run, const char *type)
{
	json_t *j = ops_to_json(&run->op);

	if (j)
		events_publish(run->hvd, type, json_pack("{s:o}", "operation", j));
}

/* The operation's row and its event, in one commit (the caller's, if one
 * is open); what is the part of the operation named in errors. */
static void record(struct ops_run *run, const char *event, const char *what)
{
	struct store *st = run->hvd->store;
	bool own = store_begin_unless_open(st);

	run->progress_unrecorded = false;
	if (store_op_update(st, &run->op) < 0)
		log_error("ops: cannot record the %s of operation %s: %s", what, run->op.id,
			  store_errmsg(st));
	publish(run, event);
	if (own && store_commit(st) < 0)
		log_error("ops: cannot record the %s of operation %s: %s", what, run->op.id,
			  store_errmsg(st));
}

/* The worker's progress into run->op, recorded (row and event) at most
 * every 250 ms, or not at all with defer (the caller records soon). */
static void sync_progress(struct ops_run *run, bool defer)
{
	int64_t now = store_now_ms();
	bool changed;

	pthread_mutex_lock(&run->lock);
	changed = run->w_dirty;
	if (changed) {
		run->op.progress = run->w_progress;
		snprintf(run->op.message, sizeof(run->op.message), "%s", run->w_message);
		run->w_dirty = false;
	}
	pthread_mutex_unlock(&run->lock);
	if (!changed)
		return;
	run->op.updated_at = now;
	run->progress_unrecorded = true;
	if (!defer && now - run->last_progress_event_ms >= 250) {
		run->last_progress_event_ms = now;
		record(run, "operation.progress", "progress");
	}
}

static void on_async(uv_async_t *a)
{
	sync_progress(a->data, false);
}

static void work_cb(uv_work_t *w)
{
	struct ops_run *run = w->data;
	int r;

	r = run->work_fn(run);
	if (r == 0 && ops_cancelled(run))
		r = -ECANCELED;
	run->w_result = r; /* read by after_cb on the loop after the pool hands back */
}

static void on_async_closed(uv_handle_t *h)
{
	struct ops_run *run = h->data;

	pthread_mutex_destroy(&run->lock);
	store_op_clear(&run->op);
	free(run);
}

static void after_cb(uv_work_t *w, int status)
{
	struct ops_run *run = w->data;
	int r = status == UV_ECANCELED ? -ECANCELED : run->w_result;

	/* the operation's end (or its next step) records it: one commit */
	sync_progress(run, true);
	if (ops_cancelled(run) && r == 0)
		r = -ECANCELED;
	r = run->done_fn(run, r);
	if (r == OPS_PENDING) {
		run->pending = true;
		if (run->progress_unrecorded)
			record(run, "operation.progress", "progress");
		return;
	}
	ops_finish(run, r);
}

void ops_finish(struct ops_run *run, int r)
{
	struct ops_runtime *rt = run->hvd->ops;
	int64_t now = store_now_ms();
	struct ops_run **pp;

	run->pending = false;
	run->op.updated_at = now;
	run->op.finished_at = now;
	json_decref(run->op.error);
	run->op.error = NULL;
	if (r == 0) {
		snprintf(run->op.status, sizeof(run->op.status), "success");
		run->op.progress = 100;
	} else {
		pthread_mutex_lock(&run->lock);
		if (r == -ECANCELED && !run->err_code[0]) {
			snprintf(run->op.status, sizeof(run->op.status), "cancelled");
			run->op.error = json_pack("{s:s, s:s}", "code", "cancelled", "message",
						  "the operation was cancelled");
		} else {
			snprintf(run->op.status, sizeof(run->op.status), "failure");
			run->op.error = json_pack("{s:s, s:s}", "code", run->err_code[0] ? run->err_code : "failed",
						  "message", run->err_message[0] ? run->err_message : strerror(-r));
		}
		pthread_mutex_unlock(&run->lock);
	}
	record(run, "operation.done", "end");
	log_info("ops: %s %s of %s: %s", run->op.kind, run->op.id, run->op.vm_name, run->op.status);
	for (pp = &rt->runs; *pp && *pp != run; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = run->next;
	wake_waiters(run);
	if (run->data_free)
		run->data_free(run->data);
	uv_close((uv_handle_t *)&run->async, on_async_closed);
}

int ops_start(struct hvd *hvd, const char *kind, const char *vm_id, const char *vm_name,
	      const json_t *request, ops_work_fn work, ops_done_fn done, void *data,
	      void (*data_free)(void *data), struct ops_run **ret_run)
{
	struct ops_run *run;
	int64_t now = store_now_ms();
	int r;

	run = calloc(1, sizeof(*run));
	if (!run)
		return -ENOMEM;
	run->hvd = hvd;
	hvd_uuid(run->op.id);
	snprintf(run->op.kind, sizeof(run->op.kind), "%s", kind);
	snprintf(run->op.vm_id, sizeof(run->op.vm_id), "%s", vm_id ? vm_id : "");
	snprintf(run->op.vm_name, sizeof(run->op.vm_name), "%s", vm_name ? vm_name : "");
	snprintf(run->op.status, sizeof(run->op.status), "running");
	snprintf(run->op.message, sizeof(run->op.message), "queued");
	run->op.request = request ? json_deep_copy(request) : NULL;
	run->op.created_at = run->op.updated_at = now;
	run->work_fn = work;
	run->done_fn = done;
	pthread_mutex_init(&run->lock, NULL);
	r = store_op_insert(hvd->store, &run->op);
	if (r < 0)
		goto fail;
	r = uv_async_init(hvd->loop, &run->async, on_async);
	if (r < 0)
		goto fail;
	run->async.data = run;
	run->work.data = run;
	run->data = data;
	run->data_free = data_free;
	r = uv_queue_work(hvd->loop, &run->work, work_cb, after_cb);
	if (r < 0) {
		/* the row stays, closed as failed, so the client's 202 is never a lie */
		run->op.finished_at = now;
		snprintf(run->op.status, sizeof(run->op.status), "failure");
		store_op_update(hvd->store, &run->op);
		uv_close((uv_handle_t *)&run->async, on_async_closed);
		return r;
	}
	run->next = hvd->ops->runs;
	hvd->ops->runs = run;
	publish(run, "operation.progress");
	*ret_run = run;
	return 0;
fail:
	pthread_mutex_destroy(&run->lock);
	store_op_clear(&run->op);
	free(run);
	return r;
}

void ops_progress(struct ops_run *run, int percent, const char *fmt, ...)
{
	va_list ap;

	if (percent < 0)
		percent = 0;
	if (percent > 99)
		percent = 99; /* 100 is for success */
	pthread_mutex_lock(&run->lock);
	run->w_progress = percent;
	va_start(ap, fmt);
	vsnprintf(run->w_message, sizeof(run->w_message), fmt, ap);
	va_end(ap);
	run->w_dirty = true;
	pthread_mutex_unlock(&run->lock);
	uv_async_send(&run->async);
}

void ops_set_error(struct ops_run *run, const char *code, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&run->lock);
	if (!run->err_code[0]) {
		snprintf(run->err_code, sizeof(run->err_code), "%s", code);
		va_start(ap, fmt);
		vsnprintf(run->err_message, sizeof(run->err_message), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&run->lock);
}

bool ops_cancelled(struct ops_run *run)
{
	return atomic_load(&run->cancel);
}

struct ops_run *ops_find(struct hvd *hvd, const char *id)
{
	for (struct ops_run *r = hvd->ops->runs; r; r = r->next)
		if (strcmp(r->op.id, id) == 0)
			return r;
	return NULL;
}

struct ops_run *ops_find_vm(struct hvd *hvd, const char *vm_id)
{
	for (struct ops_run *r = hvd->ops->runs; r; r = r->next)
		if (strcmp(r->op.vm_id, vm_id) == 0)
			return r;
	return NULL;
}

void ops_cancel(struct ops_run *run)
{
	atomic_store(&run->cancel, true);
}

void ops_add_waiter(struct ops_run *run, struct api_request *req)
{
	req->op_next = run->waiters;
	run->waiters = req;
}

void ops_remove_waiter(struct ops_run *run, struct api_request *req)
{
	struct api_request **pp = &run->waiters;

	while (*pp && *pp != req)
		pp = &(*pp)->op_next;
	if (*pp)
		*pp = req->op_next;
	req->op_next = NULL;
}

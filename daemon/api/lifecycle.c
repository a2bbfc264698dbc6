/* lifecycle.c - start, stop, reboot, pause and resume.
 *
 * One table says in which states each action is allowed (anything else is
 * 409 wrong_state). Actions are carried out by the supervisor; the request
 * then waits (suspended, the loop keeps serving) until the VM reaches a
 * state that ends the action, or a deadline passes, and answers with the
 * VM as it is then. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/vm-def.h"
#include "hvd.h"
#include "ops.h"
#include "supervisor.h"

enum action { ACT_START, ACT_STOP, ACT_REBOOT, ACT_PAUSE, ACT_RESUME };

static const struct {
	const char *name;
	const char *allowed[5];    /* states the action may start from */
	const char *done[4];       /* states that end the wait */
} actions[] = {
	[ACT_START] = { "start", { "stopped", "crashed" }, { "running", "paused", "stopped", "crashed" } },
	[ACT_STOP] = { "stop", { "running", "paused", "starting", "stopping" }, { "stopped", "crashed" } },
	[ACT_REBOOT] = { "reboot", { "running", "paused" }, { "running", "stopped", "crashed" } },
	[ACT_PAUSE] = { "pause", { "running" }, { "paused", "stopped", "crashed" } },
	[ACT_RESUME] = { "resume", { "paused" }, { "running", "stopped", "crashed" } },
};

static bool in(const char *state, const char *const *set, int n)
{
	for (int i = 0; i < n && set[i]; i++)
		if (strcmp(state, set[i]) == 0)
			return true;
	return false;
}

struct lc_wait {
	struct hvd *hvd;
	struct api_request *req;
	enum action act;
	char vm_id[37];
	uv_timer_t *deadline;
	bool expired;
};

static void timer_closed(uv_handle_t *h)
{
	free(h);
}

static void lc_wait_free(void *p)
{
	struct lc_wait *w = p;

	sup_unwatch(w->hvd->sup, w->vm_id, w->req);
	if (w->deadline) {
		uv_timer_stop(w->deadline);
		uv_close((uv_handle_t *)w->deadline, timer_closed);
	}
	free(w);
}

static void on_deadline(uv_timer_t *t)
{
	struct lc_wait *w = t->data;

	w->expired = true;
	sup_unwatch(w->hvd->sup, w->vm_id, w->req);
	api_request_wake(w->req);
}

static void reply_vm(struct api_request *req, const struct store_vm *vm)
{
	char etag[32];

	snprintf(etag, sizeof(etag), "\"%lld\"", (long long)vm->generation);
	api_add_header(req, "ETag", etag);
	api_reply_json(req, 200, vmdef_to_json(req->hvd, vm));
}

static void lc_resume(struct api_request *req)
{
	struct lc_wait *w = req->data;
	struct store_vm vm;

	if (vmdef_load(req, &vm) < 0)
		return;
	if (in(vm.state, actions[w->act].done, 4) || w->expired || req->hvd->stopping) {
		if (w->act == ACT_START && strcmp(vm.state, "stopped") == 0)
			api_reply_error_extra(req, 409, "start_failed", NULL, json_pack("{s:s}", "state", vm.state),
					      "VM %s did not start: %s", vm.name, vm.state_reason);
		else
			reply_vm(req, &vm);
	} else {
		sup_watch(req->hvd->sup, w->vm_id, req);
		api_request_suspend(req, lc_resume);
	}
	store_vm_clear(&vm);
}

/* Waits for the action to finish (or deadline_s), then answers. */
static void wait_for(struct api_request *req, enum action act, const char *vm_id, unsigned deadline_s)
{
	struct lc_wait *w = calloc(1, sizeof(*w));

	if (!w || !(w->deadline = malloc(sizeof(*w->deadline)))) {
		free(w);
		api_reply_errno(req, -ENOMEM, "waiting");
		return;
	}
	w->hvd = req->hvd;
	w->req = req;
	w->act = act;
	snprintf(w->vm_id, sizeof(w->vm_id), "%s", vm_id);
	uv_timer_init(req->hvd->loop, w->deadline);
	w->deadline->data = w;
	uv_timer_start(w->deadline, on_deadline, (uint64_t)deadline_s * 1000, 0);
	req->data = w;
	req->data_free = lc_wait_free;
	/* the state may already be final (a fast failure): check once now */
	lc_resume(req);
}

/* Loads the VM and checks the action may start; answers and returns
 * -errno when not. */
static int prepare(struct api_request *req, enum action act, struct store_vm *vm)
{
	if (vmdef_load(req, vm) < 0)
		return -ENOENT;
	if (!in(vm->state, actions[act].allowed, 5)) {
		api_reply_error_extra(req, 409, "wrong_state", NULL, json_pack("{s:s}", "state", vm->state),
				      "cannot %s VM %s: it is %s", actions[act].name, vm->name, vm->state);
		store_vm_clear(vm);
		return -EBUSY;
	}
	if (ops_find_vm(req->hvd, vm->id)) {
		api_reply_error(req, 409, "busy", NULL, "VM %s has an operation in progress", vm->name);
		store_vm_clear(vm);
		return -EBUSY;
	}
	return 0;
}

void api_vm_start(struct api_request *req)
{
	struct store_vm vm;
	char err[256];
	int r;

	if (prepare(req, ACT_START, &vm) < 0)
		return;
	r = sup_start(req->hvd->sup, &vm, err, sizeof(err));
	if (r < 0)
		api_reply_error(req, r == -EBUSY ? 409 : 503, r == -EBUSY ? "busy" : "unavailable", NULL,
				"VM %s: %s", vm.name, err);
	else
		wait_for(req, ACT_START, vm.id, 60);
	store_vm_clear(&vm);
}

void api_vm_stop(struct api_request *req)
{
	bool force = json_is_true(json_object_get(req->json, "force"));
	json_t *t = json_object_get(req->json, "timeout_s");
	unsigned timeout = t ? (unsigned)json_integer_value(t) : 30;
	struct store_vm vm;
	int r;

	if (prepare(req, ACT_STOP, &vm) < 0)
		return;
	r = sup_stop(req->hvd->sup, vm.id, force, timeout);
	if (r == -ENOENT) {
		/* SQLite says it runs but no VMM does: record the truth */
		store_vm_set_state(req->hvd->store, vm.id, "stopped", "no VMM process was running");
		store_vm_clear(&vm);
		vmdef_load(req, &vm);
		reply_vm(req, &vm);
	} else {
		wait_for(req, ACT_STOP, vm.id, (force ? 0 : timeout) + 15);
	}
	store_vm_clear(&vm);
}

void api_vm_reboot(struct api_request *req)
{
	struct store_vm vm;

	if (prepare(req, ACT_REBOOT, &vm) < 0)
		return;
	if (sup_reboot(req->hvd->sup, vm.id) < 0)
		api_reply_error(req, 409, "wrong_state", NULL, "VM %s has no running VMM", vm.name);
	else
		wait_for(req, ACT_REBOOT, vm.id, 60);
	store_vm_clear(&vm);
}

struct cmd_req {
	struct api_request *req;
	enum action act;
	char vm_id[37];
	bool gone;         /* the request completed before the answer came */
	bool refused;      /* the VMM said no (or went away) */
	char why[160];
};

static void cmd_req_detach(void *p)
{
	struct cmd_req *c = p;

	c->gone = true; /* freed by on_cmd_reply, which always comes */
}

static void cmd_resume(struct api_request *req)
{
	struct cmd_req *c = req->data;
	struct store_vm vm;

	if (vmdef_load(req, &vm) < 0)
		return;
	if (c->refused)
		api_reply_error_extra(req, 409, "wrong_state", NULL, json_pack("{s:s}", "state", vm.state),
				      "VM %s cannot %s now: %s", vm.name, actions[c->act].name, c->why);
	else
		reply_vm(req, &vm);
	store_vm_clear(&vm);
}

static void on_cmd_reply(json_t *resp, void *ud)
{
	struct cmd_req *c = ud;
	struct api_request *req = c->req;

	if (c->gone) {
		free(c);
		return;
	}
	req->data_free = free;
	/* the answer is given from the resume callback, which runs inside MHD */
	const char *err = json_string_value(json_object_get(resp, "error"));
	const char *want = c->act == ACT_PAUSE ? "paused" : "running";

	/* "already paused" from the VMM: it is what was asked for (hvd's
	 * record was behind), so the record follows the VMM */
	if (resp && (json_is_true(json_object_get(resp, "ok")) ||
		     (err && !strncmp(err, "already ", 8) && !strcmp(err + 8, want)))) {
		store_vm_set_state(req->hvd->store, c->vm_id, want, "");
	} else {
		c->refused = true;
		snprintf(c->why, sizeof(c->why), "%s", resp ? json_string_value(json_object_get(resp, "error")) ?: "refused"
							     : "its VMM went away");
	}
	api_request_wake(req);
}

static void pause_resume(struct api_request *req, enum action act)
{
	struct store_vm vm;
	struct cmd_req *c;
	int r;

	if (prepare(req, act, &vm) < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c) {
		api_reply_errno(req, -ENOMEM, actions[act].name);
		store_vm_clear(&vm);
		return;
	}
	c->req = req;
	c->act = act;
	snprintf(c->vm_id, sizeof(c->vm_id), "%s", vm.id);
	r = sup_command(req->hvd->sup, vm.id, actions[act].name, NULL, on_cmd_reply, c);
	if (r < 0) {
		free(c);
		api_reply_error(req, 409, "wrong_state", NULL, "VM %s has no running VMM to %s", vm.name,
				actions[act].name);
	} else {
		req->data = c;
		req->data_free = cmd_req_detach;
		api_request_suspend(req, cmd_resume);
	}
	store_vm_clear(&vm);
}

void api_vm_pause(struct api_request *req)
{
	pause_resume(req, ACT_PAUSE);
}

void api_vm_resume(struct api_request *req)
{
	pause_resume(req, ACT_RESUME);
}

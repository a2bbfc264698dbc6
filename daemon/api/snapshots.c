/* snapshots.c - /v1/vms/{vm}/snapshots: disk snapshots, and migrate (501).
 *
 * A snapshot is a directory state_dir/snapshots/<vm id>/<snapshot id>/
 * holding a sparse copy of every disk and the VM's definition (in SQLite).
 * Taking one is an operation: the row is inserted as 'creating' (so the
 * name is taken), the disks are copied on the thread pool, and the row
 * becomes 'ready'; a failure, cancellation or daemon restart removes the
 * row and the files. A running VM is paused while its disks are copied,
 * so the copies are consistent, and resumed after. Restoring copies the
 * disks back (to a temporary name, then rename) and restores the
 * definition.
 *
 * A memory snapshot (of a running or paused VM) also holds the VM's state
 * file ("state") and its RAM ("memory", sparse): the worker freezes the VM
 * (vm-freeze.h), copies the disks while it is paused, lets it run, and
 * then copies the frozen RAM image, which the VM no longer writes to.
 * Restoring one checks the state file first (a damaged or foreign one is
 * refused and nothing changes), copies the disks back, restores the
 * definition and starts the VM from the snapshot (`hvd vmm --restore`,
 * RAM mapped copy-on-write from the snapshot's file: nothing is read up
 * front). Invariant: a 'ready' row always has complete files. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/handlers.h"
#include "api/vm-def.h"
#include "disk-copy.h"
#include "events.h"
#include "hvd.h"
#include "log.h"
#include "ops.h"
#include "supervisor.h"
#include "vm-disks.h"
#include "vm-freeze.h"
#include "vmm/snapshot-file.h"

#define MAX_DISKS 16

struct snap_job {
	struct store_snapshot snap;
	char vm_name[64];
	bool restore;               /* else: take */
	bool resume_after;          /* the VM was running: resume when done */
	int ndisks;
	char src[MAX_DISKS][PATH_MAX];
	char dst[MAX_DISKS][PATH_MAX];
	uint64_t total, done;
	struct ops_run *run;
	/* memory snapshots */
	bool memory;
	struct vm_frozen frozen;
	char state_path[PATH_MAX];
	char memory_path[PATH_MAX];
};

static void job_free(void *p)
{
	struct snap_job *j = p;

	if (!j)
		return;
	store_snapshot_clear(&j->snap);
	vm_freeze_release(&j->frozen);
	free(j);
}

static void snapshot_dir(struct hvd *hvd, const char *vm_id, const char *snap_id, char *buf, size_t len)
{
	snprintf(buf, len, "%.400s/snapshots/%.36s/%.36s", hvd->cfg.state_dir, vm_id, snap_id);
}

static json_t *snap_json(const struct store_snapshot *snap, const char *vm_name)
{
	char created[32];

	store_format_time(snap->created_at, created);
	return json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:I, s:s}", "id", snap->id, "name", snap->name,
			 "vm", vm_name, "memory", snap->memory, "state", snap->state, "vm_state", snap->vm_state,
			 "size_bytes", (json_int_t)snap->size_bytes, "created_at", created);
}

struct list_ctx {
	json_t *arr;
	const char *vm_name;
};

static int list_one(const struct store_snapshot *snap, void *ud)
{
	struct list_ctx *c = ud;

	return json_array_append_new(c->arr, snap_json(snap, c->vm_name)) == 0 ? 0 : -ENOMEM;
}

void api_snapshots_list(struct api_request *req)
{
	struct store_vm vm;
	struct list_ctx c;
	int r;

	if (vmdef_load(req, &vm) < 0)
		return;
	c.arr = json_array();
	c.vm_name = vm.name;
	r = store_snapshot_list(req->hvd->store, vm.id, NULL, list_one, &c);
	if (r < 0) {
		json_decref(c.arr);
		api_reply_errno(req, r, "snapshots");
	} else {
		api_reply_json(req, 200, json_pack("{s:o}", "snapshots", c.arr));
	}
	store_vm_clear(&vm);
}

/* ---- the work (thread pool) ---- */

static bool cb_cancelled(void *ud)
{
	return ops_cancelled(((struct snap_job *)ud)->run);
}

static void cb_progress(void *ud, uint64_t done, uint64_t total)
{
	struct snap_job *j = ud;

	(void)total;
	ops_progress(j->run, j->total ? (int)((j->done + done) * 100 / j->total) : 50, "%s disks of %s",
		     j->restore ? "restoring" : "copying", j->vm_name);
}

static int copy_disks(struct ops_run *run);

/* A memory snapshot: freeze, disks while paused, thaw, then the RAM. */
static int snap_work_memory(struct ops_run *run)
{
	struct snap_job *j = run->data;
	struct disk_copy_cb cb = { cb_cancelled, cb_progress, j };
	char err[256], src[64];
	int r, t;

	ops_progress(run, 0, "freezing %s", j->vm_name);
	r = vm_freeze(run->hvd, j->snap.vm_id, true, j->state_path, &j->frozen, err, sizeof(err));
	if (r < 0) {
		ops_set_error(run, "conflict", "cannot freeze %s: %s", j->vm_name, err);
		return r;
	}
	r = copy_disks(run);
	t = vm_freeze_thaw(&j->frozen);
	if (t < 0)
		log_warning("snapshots: %s: could not resume the VM: %s", j->vm_name, strerror(-t));
	if (r < 0)
		return r;
	snprintf(src, sizeof(src), "/proc/self/fd/%d", j->frozen.memory_fd);
	r = disk_copy_sparse(src, j->memory_path, &cb, NULL);
	if (r < 0 && r != -ECANCELED)
		ops_set_error(run, r == -ENOSPC ? "insufficient_storage" : "io_error",
			      "saving the memory of %s: %s", j->vm_name, strerror(-r));
	if (r == 0)
		disk_allocated_bytes(j->memory_path, &j->frozen.memory_bytes);
	return r;
}

static int snap_work(struct ops_run *run)
{
	struct snap_job *j = run->data;

	j->run = run;
	if (j->memory && !j->restore)
		return snap_work_memory(run);
	return copy_disks(run);
}

static int copy_disks(struct ops_run *run)
{
	struct snap_job *j = run->data;
	char tmp[PATH_MAX + 16];
	int r;

	for (int i = 0; i < j->ndisks; i++) {
		struct disk_copy_cb cb = { cb_cancelled, cb_progress, j };
		uint64_t bytes = 0;

		disk_allocated_bytes(j->src[i], &bytes);
		/* restore writes next to the target and renames: a failure
		 * leaves the VM's disk as it was */
		snprintf(tmp, sizeof(tmp), "%s%s", j->dst[i], j->restore ? ".hvd-restore" : "");
		if (j->restore)
			unlink(tmp);
		r = disk_copy_sparse(j->src[i], tmp, &cb, NULL);
		if (r == -ECANCELED)
			return r;
		if (r < 0) {
			ops_set_error(run, r == -ENOSPC ? "insufficient_storage" : "io_error", "copying %s: %s",
				      j->src[i], strerror(-r));
			return r;
		}
		j->done += bytes;
	}
	if (j->restore) {
		for (int i = 0; i < j->ndisks; i++) {
			snprintf(tmp, sizeof(tmp), "%s.hvd-restore", j->dst[i]);
			if (rename(tmp, j->dst[i]) < 0) {
				ops_set_error(run, "io_error", "replacing %s: %s", j->dst[i], strerror(errno));
				return -errno;
			}
		}
	}
	return 0;
}

static void on_resumed(json_t *resp, void *ud)
{
	(void)resp;
	free(ud);
}

static void restored(struct ops_run *run)
{
	struct snap_job *j = run->data;

	events_publish(run->hvd, "vm.restored", json_pack("{s:o, s:s}", "vm",
							  events_vm_ref(j->snap.vm_id, j->vm_name),
							  "snapshot", j->snap.name));
	snprintf(run->op.message, sizeof(run->op.message), "restored %s from %s", j->vm_name, j->snap.name);
}

/* The VM restored from a memory snapshot changed state: the operation
 * ends once it runs, or fails if it stopped instead. */
static void restore_watch(void *ud)
{
	struct ops_run *run = ud;
	struct snap_job *j = run->data;
	struct hvd *hvd = run->hvd;
	struct store_vm vm;

	if (store_vm_get(hvd->store, j->snap.vm_id, &vm) < 0) {
		ops_set_error(run, "start_failed", "%s was deleted while it started", j->vm_name);
		ops_finish(run, -ENOENT);
		return;
	}
	if (strcmp(vm.state, "running") == 0 || strcmp(vm.state, "paused") == 0) {
		/* its event and the operation's end: one commit (with the VM's
		 * state: watchers are called inside set_state's transaction) */
		bool own = store_begin_unless_open(hvd->store);

		restored(run);
		ops_finish(run, 0);
		if (own && store_commit(hvd->store) < 0)
			log_error("snapshots: %s: cannot record the end of the restore: %s", j->vm_name,
				  store_errmsg(hvd->store));
	} else if (strcmp(vm.state, "stopped") == 0 || strcmp(vm.state, "crashed") == 0) {
		ops_set_error(run, "start_failed", "disks restored, but %s did not start from the snapshot: %s",
			      j->vm_name, vm.state_reason[0] ? vm.state_reason : vm.state);
		ops_finish(run, -EIO);
	} else if (sup_watch_fn(hvd->sup, j->snap.vm_id, restore_watch, run) < 0) {
		restored(run);   /* cannot follow it further: it was started */
		ops_finish(run, 0);
	}
	store_vm_clear(&vm);
}

static void restore_interrupted(struct ops_run *run)
{
	sup_unwatch_fn(run->hvd->sup, run);
}

/* A restore's disks are back: the definition comes back too (name and id
 * stay) and, for a memory snapshot, the VM starts from it. */
static int snap_restore_start(struct ops_run *run)
{
	struct snap_job *j = run->data;
	struct hvd *hvd = run->hvd;
	struct store_vm vm;
	int r;

	if (j->snap.definition && store_vm_get(hvd->store, j->snap.vm_id, &vm) == 0) {
		json_t *def = json_deep_copy(j->snap.definition);

		json_object_set_new(def, "name", json_string(vm.name));
		json_decref(vm.definition);
		vm.definition = def;
		if (store_vm_update(hvd->store, &vm) < 0)
			log_warning("snapshots: %s: could not restore the definition", vm.name);
		store_vm_clear(&vm);
	}
	if (j->memory && store_vm_get(hvd->store, j->snap.vm_id, &vm) == 0) {
		struct sup_restore rs = { j->state_path, j->memory_path };
		char err[256];

		/* the guest goes on from the moment of the snapshot */
		r = sup_start_restore(hvd->sup, &vm, &rs, err, sizeof(err));
		store_vm_clear(&vm);
		if (r < 0) {
			ops_set_error(run, "start_failed", "disks restored, but %s did not start "
				      "from the snapshot: %s", j->vm_name, err);
			return r;
		}
		/* the operation ends when the VM runs (or did not start) */
		if (sup_watch_fn(hvd->sup, j->snap.vm_id, restore_watch, run) == 0) {
			run->on_interrupt = restore_interrupted;
			ops_progress(run, 99, "starting %s from %s", j->vm_name, j->snap.name);
			return OPS_PENDING;
		}
	}
	restored(run);
	return 0;
}

static int snap_done(struct ops_run *run, int r)
{
	struct snap_job *j = run->data;
	struct hvd *hvd = run->hvd;

	if (j->resume_after && sup_command(hvd->sup, j->snap.vm_id, "resume", NULL, on_resumed, NULL) < 0)
		log_warning("snapshots: %s: could not resume the VM after copying its disks", j->vm_name);
	if (j->restore) {
		bool own;

		if (r < 0)
			return r;
		/* the definition and the VM's start: one commit */
		own = store_begin_unless_open(hvd->store);
		r = snap_restore_start(run);
		if (own && store_commit(hvd->store) < 0)
			log_error("snapshots: %s: cannot record the restore: %s", j->vm_name,
				  store_errmsg(hvd->store));
		return r;
	}
	j->snap.size_bytes = (int64_t)(j->total + (j->memory ? j->frozen.memory_bytes : 0));
	if (r == 0)
		r = store_snapshot_set_ready(hvd->store, j->snap.id, j->snap.size_bytes);
	if (r < 0) {
		vm_disks_remove_path(j->snap.path);
		store_snapshot_delete(hvd->store, j->snap.id);
		return r;
	}
	json_decref(run->op.result);
	run->op.result = json_pack("{s:o}", "snapshot", snap_json(&j->snap, j->vm_name));
	json_object_set_new(json_object_get(run->op.result, "snapshot"), "state", json_string("ready"));
	snprintf(run->op.message, sizeof(run->op.message), "snapshot %s of %s taken", j->snap.name, j->vm_name);
	events_publish(hvd, "vm.snapshot", json_pack("{s:o, s:s}", "vm", events_vm_ref(j->snap.vm_id, j->vm_name),
						     "snapshot", j->snap.name));
	return 0;
}

static void start_op(struct api_request *req, struct snap_job *j, const char *kind, const char *vm_id)
{
	struct ops_run *run;
	char loc[80];
	int r;

	r = ops_start(req->hvd, kind, vm_id, j->vm_name, req->json, snap_work, snap_done, j, job_free, &run);
	if (r < 0) {
		if (!j->restore) {
			vm_disks_remove_path(j->snap.path);
			store_snapshot_delete(req->hvd->store, j->snap.id);
		}
		job_free(j);
		api_reply_errno(req, r, kind);
		return;
	}
	snprintf(loc, sizeof(loc), "/v1/operations/%s", run->op.id);
	api_add_header(req, "Location", loc);
	api_reply_json(req, 202, ops_to_json(&run->op));
}

/* Fills the job's disk list from a definition: src from the VM's paths,
 * dst in the snapshot dir (take), or the other way round (restore). */
static void plan_disks(struct snap_job *j, json_t *def)
{
	json_t *item;
	size_t i;

	json_array_foreach(json_object_get(def, "disks"), i, item) {
		char in_snap[PATH_MAX];
		const char *path = json_string_value(json_object_get(item, "path"));

		if (j->ndisks == MAX_DISKS)
			break;
		snprintf(in_snap, sizeof(in_snap), "%.3000s/%s.img", j->snap.path,
			 json_string_value(json_object_get(item, "id")));
		snprintf(j->src[j->ndisks], PATH_MAX, "%s", j->restore ? in_snap : path);
		snprintf(j->dst[j->ndisks], PATH_MAX, "%s", j->restore ? path : in_snap);
		if (!j->restore) {
			uint64_t b = 0;

			disk_allocated_bytes(path, &b);
			j->total += b;
		}
		j->ndisks++;
	}
}

struct pause_ctx {
	struct api_request *req;
	bool gone;
	bool failed;
	struct snap_job *job;
	char vm_id[37];
};

static void pause_detach(void *p)
{
	((struct pause_ctx *)p)->gone = true;
}

static void pause_resume_req(struct api_request *req)
{
	struct pause_ctx *pc = req->data;
	struct snap_job *j = pc->job;

	pc->job = NULL;
	if (pc->failed) {
		vm_disks_remove_path(j->snap.path);
		store_snapshot_delete(req->hvd->store, j->snap.id);
		job_free(j);
		api_reply_error(req, 409, "wrong_state", NULL, "the VM could not be paused for its snapshot");
		return;
	}
	start_op(req, j, "snapshot", pc->vm_id);
}

static void on_paused(json_t *resp, void *ud)
{
	struct pause_ctx *pc = ud;

	if (pc->gone) {
		/* the client left: undo what was started */
		if (pc->job) {
			vm_disks_remove_path(pc->job->snap.path);
			job_free(pc->job);
		}
		free(pc);
		return;
	}
	pc->failed = !resp || !json_is_true(json_object_get(resp, "ok"));
	pc->req->data_free = free;
	api_request_wake(pc->req);
}

void api_snapshots_create(struct api_request *req)
{
	struct hvd *hvd = req->hvd;
	const char *name = json_string_value(json_object_get(req->json, "name"));
	bool memory = json_is_true(json_object_get(req->json, "memory"));
	bool running;
	struct snap_job *j = NULL;
	struct store_vm vm;
	uint64_t avail = 0;
	int r;

	if (vmdef_load(req, &vm) < 0)
		return;
	running = strcmp(vm.state, "running") == 0 || strcmp(vm.state, "paused") == 0;
	if (memory && !running) {
		api_reply_error(req, 409, "wrong_state", "memory",
				"a memory snapshot needs a running or paused VM; %s is %s", vm.name, vm.state);
		goto out;
	}
	if (!running && strcmp(vm.state, "stopped") != 0 && strcmp(vm.state, "crashed") != 0) {
		api_reply_error_extra(req, 409, "wrong_state", NULL, json_pack("{s:s}", "state", vm.state),
				      "VM %s is %s; try again when it is running or stopped", vm.name, vm.state);
		goto out;
	}
	if (ops_find_vm(hvd, vm.id)) {
		api_reply_error(req, 409, "busy", NULL, "VM %s has an operation in progress", vm.name);
		goto out;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		api_reply_errno(req, -ENOMEM, "snapshot");
		goto out;
	}
	hvd_uuid(j->snap.id);
	snprintf(j->snap.vm_id, sizeof(j->snap.vm_id), "%s", vm.id);
	snprintf(j->snap.name, sizeof(j->snap.name), "%s", name);
	snprintf(j->snap.state, sizeof(j->snap.state), "creating");
	snprintf(j->snap.vm_state, sizeof(j->snap.vm_state), "%s", vm.state);
	snprintf(j->vm_name, sizeof(j->vm_name), "%s", vm.name);
	snapshot_dir(hvd, vm.id, j->snap.id, j->snap.path, sizeof(j->snap.path));
	j->snap.definition = json_deep_copy(vm.definition);
	j->snap.created_at = store_now_ms();
	plan_disks(j, vm.definition);
	j->memory = j->snap.memory = memory;
	j->frozen = (struct vm_frozen){ .ctl_fd = -1, .memory_fd = -1 };
	snprintf(j->state_path, sizeof(j->state_path), "%.3000s/state", j->snap.path);
	snprintf(j->memory_path, sizeof(j->memory_path), "%.3000s/memory", j->snap.path);
	{
		/* RAM counted whole: how much of it is data is known only later */
		uint64_t need = j->total + (memory ? (uint64_t)json_integer_value(
			json_object_get(vm.definition, "memory_mib")) << 20 : 0);

		if (disk_free_bytes(hvd->cfg.state_dir, &avail) == 0 && avail < need + need / 20) {
			api_reply_error(req, 507, "insufficient_storage", NULL,
					"the snapshot needs %llu MiB in %s but only %llu MiB are free",
					(unsigned long long)(need >> 20), hvd->cfg.state_dir,
					(unsigned long long)(avail >> 20));
			goto out;
		}
	}
	{
		char parent[PATH_MAX];

		snprintf(parent, sizeof(parent), "%.3000s/snapshots", hvd->cfg.state_dir);
		mkdir(parent, 0700);
		snprintf(parent, sizeof(parent), "%.3000s/snapshots/%s", hvd->cfg.state_dir, vm.id);
		mkdir(parent, 0700);
		if (mkdir(j->snap.path, 0700) < 0) {
			api_reply_errno(req, -errno, "snapshot directory");
			goto out;
		}
	}
	r = store_snapshot_insert(hvd->store, &j->snap);
	if (r < 0) {
		rmdir(j->snap.path);
		if (r == -EEXIST)
			api_reply_error(req, 409, "conflict", "name", "VM %s already has a snapshot named %s", vm.name, name);
		else
			api_reply_errno(req, r, "snapshot");
		goto out;
	}
	if (strcmp(vm.state, "running") == 0 && !memory) {
		/* pause for consistent disk copies; the operation resumes it */
		struct pause_ctx *pc = calloc(1, sizeof(*pc));

		j->resume_after = true;
		if (!pc || sup_command(hvd->sup, vm.id, "pause", NULL, on_paused, pc) < 0) {
			free(pc);
			vm_disks_remove_path(j->snap.path);
			store_snapshot_delete(hvd->store, j->snap.id);
			api_reply_error(req, 409, "wrong_state", NULL, "VM %s could not be paused", vm.name);
			goto out;
		}
		pc->req = req;
		pc->job = j;
		snprintf(pc->vm_id, sizeof(pc->vm_id), "%s", vm.id);
		j = NULL;
		req->data = pc;
		req->data_free = pause_detach;
		api_request_suspend(req, pause_resume_req);
		goto out;
	}
	start_op(req, j, "snapshot", vm.id);
	j = NULL;
out:
	job_free(j);
	store_vm_clear(&vm);
}

/* A memory snapshot is restored only if its state file reads back whole
 * and its RAM file has the size of the VM's RAM: else 409 and nothing is
 * touched. (The VMM checks the state against the machine again.) */
static int check_memory_snapshot(struct api_request *req, const struct store_vm *vm,
				 const struct store_snapshot *snap)
{
	struct snapshot_image *img = NULL;
	char path[PATH_MAX], err[256] = "";
	json_t *def = snap->definition ? snap->definition : vm->definition;
	uint64_t ram = (uint64_t)json_integer_value(json_object_get(def, "memory_mib")) << 20;
	struct stat st;
	int r;

	snprintf(path, sizeof(path), "%.3000s/state", snap->path);
	r = snapshot_file_read(path, &img, err, sizeof(err));
	if (r == 0 && img->memory_size != ram) {
		snprintf(err, sizeof(err), "snapshot: made for %llu MiB of RAM, the definition says %llu",
			 (unsigned long long)(img->memory_size >> 20), (unsigned long long)(ram >> 20));
		r = -EBADMSG;
	}
	snapshot_image_free(img);
	snprintf(path, sizeof(path), "%.3000s/memory", snap->path);
	if (r == 0 && (stat(path, &st) < 0 || (uint64_t)st.st_size != ram)) {
		snprintf(err, sizeof(err), "snapshot: its memory file is missing or not %llu MiB",
			 (unsigned long long)(ram >> 20));
		r = -EBADMSG;
	}
	if (r < 0)
		api_reply_error(req, 409, "snapshot_damaged", NULL,
				"snapshot %s of %s cannot be restored: %s", snap->name, vm->name, err);
	return r;
}

void api_snapshot_restore(struct api_request *req)
{
	struct hvd *hvd = req->hvd;
	struct store_snapshot snap;
	struct snap_job *j;
	struct store_vm vm;

	if (vmdef_load(req, &vm) < 0)
		return;
	if (store_snapshot_get(hvd->store, vm.id, req->params[1], &snap) < 0 || strcmp(snap.state, "ready") != 0) {
		api_reply_error(req, 404, "not_found", NULL, "VM %s has no snapshot %.64s", vm.name, req->params[1]);
		goto out;
	}
	if (strcmp(vm.state, "stopped") != 0 && strcmp(vm.state, "crashed") != 0) {
		api_reply_error_extra(req, 409, "wrong_state", NULL, json_pack("{s:s}", "state", vm.state),
				      "VM %s is %s; stop it before restoring a disk snapshot", vm.name, vm.state);
		store_snapshot_clear(&snap);
		goto out;
	}
	if (ops_find_vm(hvd, vm.id)) {
		api_reply_error(req, 409, "busy", NULL, "VM %s has an operation in progress", vm.name);
		store_snapshot_clear(&snap);
		goto out;
	}
	if (snap.memory && check_memory_snapshot(req, &vm, &snap) < 0) {
		store_snapshot_clear(&snap);
		goto out;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		store_snapshot_clear(&snap);
		api_reply_errno(req, -ENOMEM, "restore");
		goto out;
	}
	j->snap = snap;
	j->restore = true;
	j->memory = snap.memory;
	j->frozen = (struct vm_frozen){ .ctl_fd = -1, .memory_fd = -1 };
	snprintf(j->state_path, sizeof(j->state_path), "%.3000s/state", snap.path);
	snprintf(j->memory_path, sizeof(j->memory_path), "%.3000s/memory", snap.path);
	snprintf(j->vm_name, sizeof(j->vm_name), "%s", vm.name);
	plan_disks(j, snap.definition ? snap.definition : vm.definition);
	start_op(req, j, "restore", vm.id);
out:
	store_vm_clear(&vm);
}

void api_snapshot_delete(struct api_request *req)
{
	struct hvd *hvd = req->hvd;
	struct store_snapshot snap;
	struct store_vm vm;

	if (vmdef_load(req, &vm) < 0)
		return;
	if (store_snapshot_get(hvd->store, vm.id, req->params[1], &snap) < 0) {
		api_reply_error(req, 404, "not_found", NULL, "VM %s has no snapshot %.64s", vm.name, req->params[1]);
		goto out;
	}
	if (ops_find_vm(hvd, vm.id)) {
		api_reply_error(req, 409, "busy", NULL, "VM %s has an operation in progress", vm.name);
	} else if (store_snapshot_delete(hvd->store, snap.id) < 0) {
		api_reply_errno(req, -EIO, "snapshot");
	} else {
		vm_disks_remove_path(snap.path);
		events_publish(hvd, "vm.snapshot_deleted", json_pack("{s:o, s:s}", "vm", events_vm_ref(vm.id, vm.name),
								     "snapshot", snap.name));
		api_reply_empty(req, 204);
	}
	store_snapshot_clear(&snap);
out:
	store_vm_clear(&vm);
}

void api_snapshots_remove_files(struct hvd *hvd, const char *vm_id)
{
	char dir[PATH_MAX], sub[PATH_MAX + 300];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%.3000s/snapshots/%.36s", hvd->cfg.state_dir, vm_id);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
			vm_disks_remove_path(sub);
		}
	closedir(d);
	vm_disks_remove_path(dir);
}

/* Removes snapshots a previous daemon did not finish (rows 'creating'). */
static int sweep_one(const struct store_snapshot *snap, void *ud)
{
	struct hvd *hvd = ud;

	log_notice("recovery: removing unfinished snapshot %s (%s)", snap->name, snap->path);
	vm_disks_remove_path(snap->path);
	store_snapshot_delete(hvd->store, snap->id);
	return 0;
}

void api_snapshots_recover(struct hvd *hvd)
{
	store_snapshot_list(hvd->store, NULL, "creating", sweep_one, hvd);
	/* those of VMs deleted while an older hvd, which left them, ran */
	vm_dirs_sweep_orphans(hvd, "snapshots", "the snapshots", api_snapshots_remove_files);
}

void api_vm_migrate(struct api_request *req)
{
	struct store_vm vm;

	if (vmdef_load(req, &vm) < 0)
		return;
	api_reply_error(req, 501, "not_implemented", NULL, "migration of VM %s has not landed yet", vm.name);
	store_vm_clear(&vm);
}

/* clone.c - POST /v1/vms/{vm}/clone: copies of a VM, stopped or running.
 *
 * The request is checked up front (names free, capacity, disk space) and
 * answered 202 with an operation. The disk copies run on the thread pool
 * into state_dir/disks/<new id>/; the new VMs are inserted only when every
 * copy succeeded, in one transaction that re-checks names and capacity.
 * On failure, cancellation or a daemon restart, the half-made copies are
 * removed (the restart case by the startup sweep of orphan directories).
 *
 * A running (or paused) source is frozen first (vm-freeze.h): with the
 * memory component its state and a frozen image of its RAM are taken, the
 * disks are copied while it stays paused (consistent with that memory),
 * then it runs on. Every clone then starts from that image (`hvd vmm
 * --restore`, RAM mapped copy-on-write from the one frozen image), so what
 * ran in the guest continues in the source and in each clone. Without the
 * memory component the source is only paused for the disk copies. The
 * daemon keeps the image open until the clones have mapped it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
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

#define MAX_CLONES 100

struct clone_disk {
	char src[PATH_MAX];
	char dst[PATH_MAX];
};

struct clone_job {
	int count;
	struct store_vm vms[MAX_CLONES];   /* the new VMs, definitions ready */
	struct clone_disk *disks;          /* count * ndisks */
	int ndisks;
	uint64_t total_bytes;
	uint64_t done_bytes;               /* worker thread only */
	uint64_t vcpus, memory_mib;        /* of one clone */
	char source_name[64];
	struct ops_run *run;
	int current;                       /* worker: clone being copied */
	/* a running source */
	bool live;                         /* freeze (or pause) it for the copies */
	bool with_memory;                  /* clones resume its frozen state */
	bool start;                        /* start the clones (always with memory) */
	char source_id[37];
	char state_path[PATH_MAX];
	struct vm_frozen frozen;
};

/* The frozen image stays open after the clones were spawned until each
 * VMM has opened it (and the state file): until no clone is "starting"
 * any more, checked every IMAGE_CHECK_MS, at most IMAGE_HOLD_MS. */
#define IMAGE_HOLD_MS 120000
#define IMAGE_CHECK_MS 100

struct image_hold {
	uv_timer_t timer;
	struct hvd *hvd;
	int fd;
	char state_path[PATH_MAX];
	uint64_t waited_ms;
	int count;
	char ids[MAX_CLONES][37];
};

static void hold_closed(uv_handle_t *h)
{
	free(h->data);
}

static bool clones_started(struct image_hold *h)
{
	for (int i = 0; i < h->count; i++) {
		struct store_vm vm;
		bool starting;

		if (store_vm_get(h->hvd->store, h->ids[i], &vm) < 0)
			continue;   /* deleted meanwhile */
		starting = !strcmp(vm.state, "starting");
		store_vm_clear(&vm);
		if (starting)
			return false;
	}
	return true;
}

static void hold_expired(uv_timer_t *t)
{
	struct image_hold *h = t->data;

	h->waited_ms += IMAGE_CHECK_MS;
	if (h->waited_ms < IMAGE_HOLD_MS && !clones_started(h))
		return;
	uv_timer_stop(&h->timer);
	close(h->fd);
	unlink(h->state_path);
	uv_close((uv_handle_t *)&h->timer, hold_closed);
}

static void hold_image(struct hvd *hvd, const struct clone_job *job, int fd,
		       const char *state_path)
{
	struct image_hold *h = calloc(1, sizeof(*h));

	if (!h) {
		close(fd);   /* clones already running keep their mapping */
		return;
	}
	h->hvd = hvd;
	h->fd = fd;
	h->count = job->count;
	for (int i = 0; i < job->count; i++)
		snprintf(h->ids[i], sizeof(h->ids[i]), "%s", job->vms[i].id);
	snprintf(h->state_path, sizeof(h->state_path), "%s", state_path);
	uv_timer_init(hvd->loop, &h->timer);
	h->timer.data = h;
	uv_timer_start(&h->timer, hold_expired, IMAGE_CHECK_MS, IMAGE_CHECK_MS);
	uv_unref((uv_handle_t *)&h->timer);
}

static void job_free(void *p)
{
	struct clone_job *job = p;

	if (!job)
		return;
	for (int i = 0; i < job->count; i++)
		store_vm_clear(&job->vms[i]);
	vm_freeze_release(&job->frozen);
	if (job->state_path[0])
		unlink(job->state_path);
	free(job->disks);
	free(job);
}

static bool has_component(json_t *components, const char *name)
{
	size_t i;
	json_t *c;

	if (!components)
		return true; /* default: everything */
	json_array_foreach(components, i, c)
		if (strcmp(json_string_value(c), name) == 0)
			return true;
	return false;
}

static bool name_taken(struct hvd *hvd, const char *name)
{
	struct store_vm vm;

	if (store_vm_get(hvd->store, name, &vm) < 0)
		return false;
	store_vm_clear(&vm);
	return true;
}

/* Picks the clone names: NAME, or NAME-1..N, or SOURCE-k with the first
 * free k. Answers and returns -errno when a name is taken or too long. */
static int pick_names(struct api_request *req, struct clone_job *job, const char *src, const char *name)
{
	int k = 1;

	for (int i = 0; i < job->count; i++) {
		char *out = job->vms[i].name;
		char buf[96];

		if (name && job->count == 1) {
			snprintf(buf, sizeof(buf), "%s", name);
		} else if (name) {
			snprintf(buf, sizeof(buf), "%s-%d", name, i + 1);
		} else {
			do {
				snprintf(buf, sizeof(buf), "%s-%d", src, k++);
			} while (strlen(buf) <= 63 && name_taken(req->hvd, buf) && k < 100000);
		}
		if (strlen(buf) > 63) {
			api_reply_error(req, 400, "validation_failed", "name",
					"name: clone name %s is longer than 63 characters", buf);
			return -EINVAL;
		}
		if (name_taken(req->hvd, buf)) {
			api_reply_error(req, 409, "conflict", "name", "a VM named %s already exists", buf);
			return -EEXIST;
		}
		memcpy(out, buf, strlen(buf) + 1); /* <= 63 bytes, checked above */
	}
	return 0;
}

/* Builds the definition of clone i from the source's. */
static json_t *clone_definition(struct hvd *hvd, const json_t *src_def, json_t *components,
				struct clone_job *job, int i)
{
	json_t *def = json_deep_copy(src_def), *disks, *nics, *item;
	size_t k;

	if (!def)
		return NULL;
	json_object_set_new(def, "name", json_string(job->vms[i].name));
	if (!has_component(components, "labels"))
		json_object_set_new(def, "labels", json_object());
	if (!has_component(components, "nics")) {
		json_object_set_new(def, "nics", json_array());
	} else {
		nics = json_object_get(def, "nics");
		json_array_foreach(nics, k, item) {
			char mac[18];

			vmdef_random_mac(mac);
			json_object_set_new(item, "mac", json_string(mac));
			if (json_object_get(item, "tap")) {
				/* a TAP name belongs to one VM: give the clone its own */
				char tap[16];
				uint8_t b[4];

				hvd_random(b, sizeof(b));
				snprintf(tap, sizeof(tap), "hvd%02x%02x%02x%02x", b[0], b[1], b[2], b[3]);
				json_object_set_new(item, "tap", json_string(tap));
			}
		}
	}
	if (!has_component(components, "disks")) {
		json_object_set_new(def, "disks", json_array());
	} else {
		disks = json_object_get(def, "disks");
		json_array_foreach(disks, k, item) {
			struct clone_disk *d = &job->disks[i * job->ndisks + (int)k];
			char dir[PATH_MAX - 64];

			snprintf(d->src, sizeof(d->src), "%s", json_string_value(json_object_get(item, "path")));
			vm_disks_dir(hvd, job->vms[i].id, dir, sizeof(dir));
			snprintf(d->dst, sizeof(d->dst), "%s/%s.img", dir,
				 json_string_value(json_object_get(item, "id")));
			json_object_set_new(item, "path", json_string(d->dst));
		}
	}
	return def;
}

static bool cb_cancelled(void *ud)
{
	struct clone_job *job = ud;

	return ops_cancelled(job->run);
}

static void cb_progress(void *ud, uint64_t done, uint64_t total)
{
	struct clone_job *job = ud;
	uint64_t all = job->done_bytes + done;
	int pct = job->total_bytes ? (int)(all * 100 / job->total_bytes) : 0;

	(void)total;
	ops_progress(job->run, pct, "copying disks of %s (%d/%d)", job->vms[job->current].name,
		     job->current + 1, job->count);
}

static int copy_disks(struct ops_run *run);

static int clone_work(struct ops_run *run)
{
	struct clone_job *job = run->data;
	char err[256];
	int r, t;

	job->run = run;
	if (!job->live)
		return copy_disks(run);
	ops_progress(run, 0, "%s %s", job->with_memory ? "freezing" : "pausing", job->source_name);
	r = vm_freeze(run->hvd, job->source_id, job->with_memory, job->state_path, &job->frozen,
		      err, sizeof(err));
	if (r < 0) {
		ops_set_error(run, "conflict", "cannot freeze %s: %s", job->source_name, err);
		return r;
	}
	r = copy_disks(run);
	t = vm_freeze_thaw(&job->frozen);
	if (r == 0 && t < 0) {
		ops_set_error(run, "io_error", "%s did not resume after the copy: %s",
			      job->source_name, strerror(-t));
		r = t;
	}
	return r;
}

static int copy_disks(struct ops_run *run)
{
	struct clone_job *job = run->data;
	struct hvd *hvd = run->hvd;
	int r;

	for (int i = 0; i < job->count; i++) {
		job->current = i;
		if (ops_cancelled(run))
			return -ECANCELED;
		if (job->ndisks == 0)
			continue;
		r = vm_disks_mkdir(hvd, job->vms[i].id);
		if (r < 0) {
			ops_set_error(run, "io_error", "cannot create the disk directory of %s: %s",
				      job->vms[i].name, strerror(-r));
			return r;
		}
		for (int k = 0; k < job->ndisks; k++) {
			struct clone_disk *d = &job->disks[i * job->ndisks + k];
			struct disk_copy_cb cb = { cb_cancelled, cb_progress, job };
			uint64_t bytes = 0;

			disk_allocated_bytes(d->src, &bytes);
			r = disk_copy_sparse(d->src, d->dst, &cb, NULL);
			if (r == -ECANCELED)
				return r;
			if (r < 0) {
				ops_set_error(run, r == -ENOSPC ? "insufficient_storage" : "io_error",
					      "copying %s to %s: %s", d->src, d->dst, strerror(-r));
				return r;
			}
			job->done_bytes += bytes;
		}
	}
	return 0;
}

static void remove_copies(struct hvd *hvd, struct clone_job *job)
{
	for (int i = 0; i < job->count; i++)
		vm_disks_remove_dir(hvd, job->vms[i].id);
}

/* Starts the new VMs: from the frozen image for a live clone with memory
 * (a clone that cannot start is reported, the others go on), else booted. */
static void start_clones(struct hvd *hvd, struct clone_job *job, struct ops_run *run)
{
	char mem[64], err[256];
	struct sup_restore rs = { .state_path = job->state_path, .memory_path = mem };
	json_t *failed = json_array();

	snprintf(mem, sizeof(mem), "/proc/%d/fd/%d", (int)getpid(), job->frozen.memory_fd);
	for (int i = 0; i < job->count; i++) {
		int r = job->with_memory ?
			sup_start_restore(hvd->sup, &job->vms[i], &rs, err, sizeof(err)) :
			sup_start(hvd->sup, &job->vms[i], err, sizeof(err));

		if (r < 0) {
			log_warning("clone %s: cannot start: %s", job->vms[i].name, err);
			json_array_append_new(failed, json_pack("{s:s, s:s}", "vm", job->vms[i].name,
								"error", err));
		}
	}
	if (json_array_size(failed))
		json_object_set(run->op.result, "start_failed", failed);
	json_decref(failed);
	if (job->with_memory) {
		hold_image(hvd, job, job->frozen.memory_fd, job->state_path);
		job->frozen.memory_fd = -1;
		job->state_path[0] = 0;   /* the hold removes it */
	}
}

static int clone_done(struct ops_run *run, int r)
{
	struct clone_job *job = run->data;
	struct hvd *hvd = run->hvd;
	json_t *names;
	int i;

	if (r < 0)
		goto fail;
	r = store_begin(hvd->store);
	if (r < 0)
		goto fail;
	for (i = 0; i < job->count; i++) {
		job->vms[i].created_at = job->vms[i].updated_at = store_now_ms();
		r = store_vm_insert(hvd->store, &job->vms[i]);
		if (r == 0)
			r = store_alloc_set(hvd->store, job->vms[i].id, hvd->host_id, job->vcpus, job->memory_mib);
		if (r < 0) {
			ops_set_error(run, r == -EEXIST || r == -EADDRINUSE ? "conflict" : "io_error",
				      "defining clone %s: %s", job->vms[i].name,
				      r == -EEXIST ? "the name was taken meanwhile" :
				      r == -EADDRINUSE ? "a MAC was taken meanwhile" : strerror(-r));
			store_rollback(hvd->store);
			goto fail;
		}
		events_publish(hvd, "vm.defined",
			       json_pack("{s:o, s:o, s:s}", "vm", events_vm_ref(job->vms[i].id, job->vms[i].name),
					 "definition", vmdef_to_json(hvd, &job->vms[i]),
					 "cloned_from", job->source_name));
	}
	r = store_commit(hvd->store);
	if (r < 0) {
		ops_set_error(run, "io_error", "saving the clones: %s", strerror(-r));
		goto fail;
	}
	names = json_array();
	for (i = 0; i < job->count; i++)
		json_array_append_new(names, json_string(job->vms[i].name));
	json_decref(run->op.result);
	run->op.result = json_pack("{s:o}", "vms", names);
	if (job->live)
		json_object_set_new(run->op.result, "source_paused_ms",
				    json_real((double)job->frozen.paused_us / 1000.0));
	if (job->start || job->with_memory)
		start_clones(hvd, job, run);
	snprintf(run->op.message, sizeof(run->op.message), "cloned %s into %d VM%s", job->source_name,
		 job->count, job->count == 1 ? "" : "s");
	return 0;
fail:
	remove_copies(hvd, job);
	return r < 0 ? r : -EIO;
}

void api_vm_clone(struct api_request *req)
{
	struct hvd *hvd = req->hvd;
	struct clone_job *job = NULL;
	struct store_vm src;
	struct ops_run *run;
	json_t *components = json_object_get(req->json, "components");
	const char *name = json_string_value(json_object_get(req->json, "name"));
	json_t *disks;
	uint64_t need = 0, avail = 0;
	char loc[80];
	int count, r;

	if (vmdef_load(req, &src) < 0)
		return;
	count = json_is_integer(json_object_get(req->json, "count")) ?
		(int)json_integer_value(json_object_get(req->json, "count")) : 1;
	if (count < 1 || count > MAX_CLONES) {
		api_reply_error(req, 400, "validation_failed", "count", "count: must be from 1 to %d", MAX_CLONES);
		goto out;
	}
	bool live = !strcmp(src.state, "running") || !strcmp(src.state, "paused");

	if (!live && strcmp(src.state, "stopped") != 0 && strcmp(src.state, "crashed") != 0) {
		api_reply_error(req, 409, "conflict", NULL, "VM %s is %s; clone it once it is "
				"running, paused or stopped", src.name, src.state);
		goto out;
	}
	if (live && has_component(components, "memory") &&
	    (!has_component(components, "disks") || !has_component(components, "nics"))) {
		api_reply_error(req, 400, "validation_failed", "components",
				"components: a clone of a running VM's memory needs its disks and nics "
				"too (the guest expects the same devices); leave out \"memory\" for a "
				"cold copy");
		goto out;
	}
	if (ops_find_vm(hvd, src.id)) {
		api_reply_error(req, 409, "busy", NULL, "VM %s has an operation in progress", src.name);
		goto out;
	}
	job = calloc(1, sizeof(*job));
	if (!job) {
		api_reply_errno(req, -ENOMEM, "clone");
		goto out;
	}
	job->count = count;
	job->frozen = (struct vm_frozen){ .ctl_fd = -1, .memory_fd = -1 };
	snprintf(job->source_name, sizeof(job->source_name), "%s", src.name);
	snprintf(job->source_id, sizeof(job->source_id), "%s", src.id);
	job->live = live;
	job->with_memory = live && has_component(components, "memory");
	job->start = json_is_true(json_object_get(req->json, "start"));
	disks = json_object_get(src.definition, "disks");
	job->ndisks = has_component(components, "disks") ? (int)json_array_size(disks) : 0;
	job->disks = calloc((size_t)count * (size_t)(job->ndisks ? job->ndisks : 1), sizeof(*job->disks));
	if (!job->disks) {
		api_reply_errno(req, -ENOMEM, "clone");
		goto out;
	}
	if (pick_names(req, job, src.name, name) < 0)
		goto out;
	job->vcpus = (uint64_t)json_integer_value(json_object_get(src.definition, "vcpus"));
	job->memory_mib = (uint64_t)json_integer_value(json_object_get(src.definition, "memory_mib"));
	if (vmdef_check_capacity(req, job->vcpus * (uint64_t)count, job->memory_mib * (uint64_t)count, 0, 0) < 0)
		goto out;

	for (int k = 0; k < job->ndisks; k++) {
		const char *p = json_string_value(json_object_get(json_array_get(disks, (size_t)k), "path"));
		uint64_t b;

		r = disk_allocated_bytes(p, &b);
		if (r < 0) {
			api_reply_error(req, 409, "conflict", "disks",
					"disk %s of %s cannot be read: %s", p, src.name, strerror(-r));
			goto out;
		}
		need += b;
	}
	need *= (uint64_t)count;
	job->total_bytes = need;
	if (need && (disk_free_bytes(hvd->cfg.state_dir, &avail) < 0 || avail < need + need / 20)) {
		api_reply_error_extra(req, 507, "insufficient_storage", NULL,
				      json_pack("{s:I, s:I}", "needed_bytes", (json_int_t)need,
						"available_bytes", (json_int_t)avail),
				      "cloning needs %llu MiB in %s but only %llu MiB are free",
				      (unsigned long long)(need >> 20), hvd->cfg.state_dir,
				      (unsigned long long)(avail >> 20));
		goto out;
	}

	for (int i = 0; i < count; i++) {
		struct store_vm *vm = &job->vms[i];

		hvd_uuid(vm->id);
		vm->definition = clone_definition(hvd, src.definition, components, job, i);
		if (!vm->definition) {
			api_reply_errno(req, -ENOMEM, "clone");
			goto out;
		}
		snprintf(vm->state, sizeof(vm->state), "stopped");
		snprintf(vm->desired_state, sizeof(vm->desired_state), "stopped");
		snprintf(vm->host_id, sizeof(vm->host_id), "%s", hvd->host_id);
		vm->generation = 1;
	}

	if (job->with_memory)
		snprintf(job->state_path, sizeof(job->state_path), "%s/clone-%s.state",
			 hvd->cfg.runtime_dir, job->vms[0].id);
	r = ops_start(hvd, "clone", src.id, src.name, req->json, clone_work, clone_done, job, job_free, &run);
	if (r < 0) {
		api_reply_errno(req, r, "starting the clone");
		goto out;
	}
	job = NULL; /* the operation owns it now */
	snprintf(loc, sizeof(loc), "/v1/operations/%s", run->op.id);
	api_add_header(req, "Location", loc);
	api_reply_json(req, 202, ops_to_json(&run->op));
out:
	job_free(job);
	store_vm_clear(&src);
}

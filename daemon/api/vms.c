/* vms.c - /v1/vms: define, list, read, change and remove VM definitions.
 *
 * Every write is one SQLite transaction holding the VM row, its
 * allocation and the event that announces it; the client hears 201/200/204
 * only after that transaction committed. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/schema.h"
#include "api/vm-def.h"
#include "events.h"
#include "hvd.h"
#include "log.h"
#include "ops.h"
#include "vm-disks.h"

static const char *const vm_states[] = {
	"stopped", "starting", "running", "paused", "stopping", "crashed", "migrating", NULL,
};

static bool valid_state(const char *s)
{
	for (int i = 0; vm_states[i]; i++)
		if (strcmp(s, vm_states[i]) == 0)
			return true;
	return false;
}

static void reply_vm(struct api_request *req, unsigned status, const struct store_vm *vm)
{
	char etag[32], loc[128];
	json_t *j = vmdef_to_json(req->hvd, vm);

	snprintf(etag, sizeof(etag), "\"%lld\"", (long long)vm->generation);
	api_add_header(req, "ETag", etag);
	if (status == 201) {
		snprintf(loc, sizeof(loc), "/v1/vms/%s", vm->name);
		api_add_header(req, "Location", loc);
	}
	api_reply_json(req, status, j);
}

void api_vms_list(struct api_request *req)
{
	struct store_vm_filter f = { 0 };
	struct store_host host;
	char label[320];
	const char *v;
	int r;

	if ((v = api_query(req, "state"))) {
		if (!valid_state(v)) {
			api_reply_error(req, 400, "bad_request", "state", "state: '%.32s' is not a VM state", v);
			goto out;
		}
		f.state = v;
	}
	if ((v = api_query(req, "host"))) {
		if (store_host_get(req->hvd->store, v, &host) < 0) {
			api_reply_error(req, 400, "bad_request", "host", "host: '%.64s' is not a known host", v);
			goto out;
		}
		f.host_id = host.id;
	}
	if ((v = api_query(req, "name_prefix")))
		f.name_prefix = v;
	if ((v = api_query(req, "label"))) {
		char *eq;

		snprintf(label, sizeof(label), "%s", v);
		eq = strchr(label, '=');
		if (!eq || eq == label || strlen(v) >= sizeof(label) ||
		    strspn(label, "abcdefghijklmnopqrstuvwxyz0123456789._/-") != (size_t)(eq - label)) {
			api_reply_error(req, 400, "bad_request", "label", "label: expected key=value");
			goto out;
		}
		*eq = '\0';
		f.label_key = label;
		f.label_value = eq + 1;
	}
	{
		char *text;
		size_t len;

		r = store_vm_list_json(req->hvd->store, &f, &text, &len);
		if (r < 0) {
			api_reply_errno(req, r, "listing VMs");
			goto out;
		}
		api_reply_text(req, 200, "application/json", text, len);
		free(text);
	}
out:
	return;
}

void api_vms_get(struct api_request *req)
{
	struct store_vm vm;

	if (vmdef_load(req, &vm) < 0)
		return;
	reply_vm(req, 200, &vm);
	store_vm_clear(&vm);
}

/* Commits a write that already succeeded in the open transaction; answers
 * and returns -errno when the commit fails. */
static int commit(struct api_request *req)
{
	int r = store_commit(req->hvd->store);

	if (r < 0)
		api_reply_errno(req, r, "saving");
	return r;
}

void api_vms_create(struct api_request *req)
{
	struct hvd *hvd = req->hvd;
	struct store_vm vm = { 0 };
	json_t *def = json_deep_copy(req->json);
	uint64_t vcpus, mem;
	int r;

	if (!def || vmdef_complete(req, def) < 0)
		goto out;
	vcpus = (uint64_t)json_integer_value(json_object_get(def, "vcpus"));
	mem = (uint64_t)json_integer_value(json_object_get(def, "memory_mib"));

	hvd_uuid(vm.id);
	if (vmdef_expand_image(req, def, vm.id) < 0)
		goto out;
	snprintf(vm.name, sizeof(vm.name), "%s", json_string_value(json_object_get(def, "name")));
	vm.definition = def;
	def = NULL;
	snprintf(vm.state, sizeof(vm.state), "stopped");
	snprintf(vm.desired_state, sizeof(vm.desired_state), "stopped");
	snprintf(vm.host_id, sizeof(vm.host_id), "%s", hvd->host_id);
	vm.generation = 1;
	vm.created_at = vm.updated_at = store_now_ms();

	if ((r = store_begin(hvd->store)) < 0) {
		api_reply_errno(req, r, "saving");
		goto out;
	}
	if (vmdef_check_capacity(req, vcpus, mem, 0, 0) < 0)
		goto rollback;
	r = store_vm_insert(hvd->store, &vm);
	if (r < 0) {
		api_reply_errno(req, r, vm.name);
		goto rollback;
	}
	if ((r = store_alloc_set(hvd->store, vm.id, hvd->host_id, vcpus, mem)) < 0) {
		api_reply_errno(req, r, "allocating");
		goto rollback;
	}
	events_publish(hvd, "vm.defined", json_pack("{s:o, s:o}", "vm", events_vm_ref(vm.id, vm.name),
						     "definition", vmdef_to_json(hvd, &vm)));
	if (commit(req) < 0)
		goto out;
	log_info("api: defined VM %s (%s, %llu vCPUs, %llu MiB)", vm.name, vm.id,
		 (unsigned long long)vcpus, (unsigned long long)mem);
	reply_vm(req, 201, &vm);
	goto out;
rollback:
	store_rollback(hvd->store);
	vm_disks_remove_dir(hvd, vm.id); /* an image's root disk copy, if any */
out:
	json_decref(def);
	store_vm_clear(&vm);
}

/* RFC 7396: null removes a member, objects merge, anything else replaces. */
static void merge_patch(json_t *target, json_t *patch)
{
	const char *key;
	json_t *v;

	json_object_foreach(patch, key, v) {
		json_t *cur = json_object_get(target, key);

		if (json_is_null(v))
			json_object_del(target, key);
		else if (json_is_object(v) && json_is_object(cur))
			merge_patch(cur, v);
		else
			json_object_set(target, key, v);
	}
}

/* Members that may change while the VM is not stopped. */
static bool only_live_changes(json_t *patch)
{
	const char *key;
	json_t *v;

	json_object_foreach(patch, key, v) {
		if (strcmp(key, "labels") != 0 && strcmp(key, "on_crash") != 0 && strcmp(key, "autostart") != 0)
			return false;
	}
	return true;
}

/* If-Match: "*" or a list of ETags ("3", W/"3"). */
static bool if_match_ok(const char *hdr, int64_t generation)
{
	char want[32];

	if (!hdr)
		return true;
	while (*hdr == ' ')
		hdr++;
	if (strcmp(hdr, "*") == 0)
		return true;
	snprintf(want, sizeof(want), "\"%lld\"", (long long)generation);
	if (strstr(hdr, want))
		return true;
	/* tolerate an unquoted generation, as shells make easy to send */
	snprintf(want, sizeof(want), "%lld", (long long)generation);
	return strcmp(hdr, want) == 0;
}

void api_vms_patch(struct api_request *req)
{
	struct hvd *hvd = req->hvd;
	struct store_vm vm;
	struct schema_error serr;
	json_t *def = NULL, *old;
	uint64_t vcpus, mem, old_vcpus, old_mem;
	int r;

	if (vmdef_load(req, &vm) < 0)
		return;
	if (!if_match_ok(api_header(req, "If-Match"), vm.generation)) {
		api_reply_error(req, 412, "precondition_failed", NULL,
				"VM %s is at generation %lld; If-Match does not match", vm.name,
				(long long)vm.generation);
		goto out;
	}
	if (strcmp(vm.state, "stopped") != 0 && strcmp(vm.state, "crashed") != 0 && !only_live_changes(req->json)) {
		api_reply_error_extra(req, 409, "wrong_state", NULL, json_pack("{s:s}", "state", vm.state),
				      "VM %s is %s: only labels, on_crash and autostart change while it is not stopped",
				      vm.name, vm.state);
		goto out;
	}
	if (ops_find_vm(hvd, vm.id)) {
		api_reply_error(req, 409, "busy", NULL, "VM %s has an operation in progress", vm.name);
		goto out;
	}
	old = vm.definition;
	def = json_deep_copy(old);
	if (!def) {
		api_reply_errno(req, -ENOMEM, "patch");
		goto out;
	}
	merge_patch(def, req->json);
	r = schema_validate("vm-create.schema.json", def, &serr);
	if (r < 0) {
		api_reply_error(req, 400, "validation_failed", serr.field[0] ? serr.field : NULL,
				"after the patch: %s", serr.message);
		goto out;
	}
	if (vmdef_complete(req, def) < 0)
		goto out;
	old_vcpus = (uint64_t)json_integer_value(json_object_get(old, "vcpus"));
	old_mem = (uint64_t)json_integer_value(json_object_get(old, "memory_mib"));
	vcpus = (uint64_t)json_integer_value(json_object_get(def, "vcpus"));
	mem = (uint64_t)json_integer_value(json_object_get(def, "memory_mib"));

	if ((r = store_begin(hvd->store)) < 0) {
		api_reply_errno(req, r, "saving");
		goto out;
	}
	if ((vcpus > old_vcpus || mem > old_mem) &&
	    vmdef_check_capacity(req, vcpus, mem, old_vcpus, old_mem) < 0)
		goto rollback;
	vm.definition = def;
	def = old;
	snprintf(vm.name, sizeof(vm.name), "%s", json_string_value(json_object_get(vm.definition, "name")));
	r = store_vm_update(hvd->store, &vm);
	if (r < 0) {
		api_reply_errno(req, r, vm.name);
		goto rollback;
	}
	if ((r = store_alloc_set(hvd->store, vm.id, vm.host_id[0] ? vm.host_id : hvd->host_id, vcpus, mem)) < 0) {
		api_reply_errno(req, r, "allocating");
		goto rollback;
	}
	events_publish(hvd, "vm.changed", json_pack("{s:o, s:O}", "vm", events_vm_ref(vm.id, vm.name),
						    "patch", req->json));
	if (commit(req) < 0)
		goto out;
	reply_vm(req, 200, &vm);
	goto out;
rollback:
	store_rollback(hvd->store);
out:
	json_decref(def);
	store_vm_clear(&vm);
}

void api_vms_delete(struct api_request *req)
{
	struct hvd *hvd = req->hvd;
	struct store_vm vm;
	int r;

	if (vmdef_load(req, &vm) < 0)
		return;
	if (strcmp(vm.state, "stopped") != 0 && strcmp(vm.state, "crashed") != 0) {
		api_reply_error_extra(req, 409, "wrong_state", NULL, json_pack("{s:s}", "state", vm.state),
				      "VM %s is %s; stop it first", vm.name, vm.state);
		goto out;
	}
	if (ops_find_vm(hvd, vm.id)) {
		api_reply_error(req, 409, "busy", NULL, "VM %s has an operation in progress", vm.name);
		goto out;
	}
	if ((r = store_begin(hvd->store)) < 0) {
		api_reply_errno(req, r, "saving");
		goto out;
	}
	r = store_vm_delete(hvd->store, vm.id);
	if (r < 0) {
		api_reply_errno(req, r, vm.name);
		store_rollback(hvd->store);
		goto out;
	}
	events_publish(hvd, "vm.deleted", json_pack("{s:o}", "vm", events_vm_ref(vm.id, vm.name)));
	if (commit(req) < 0)
		goto out;
	/* disks hvd made itself (clones) go with the VM; others are the user's;
	 * its snapshots (rows gone with the VM) take their files along */
	vm_disks_remove_owned(hvd, &vm);
	api_snapshots_remove_files(hvd, vm.id);
	log_info("api: deleted VM %s (%s)", vm.name, vm.id);
	api_reply_empty(req, 204);
out:
	store_vm_clear(&vm);
}

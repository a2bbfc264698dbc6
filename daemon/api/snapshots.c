/* snapshots.c - VM snapshots and migration: validated, then 501 until the
 * engine that takes them lands (see lifecycle.c). */
#include "api/handlers.h"
#include "api/vm-def.h"

static void not_yet(struct api_request *req, const char *what)
{
	struct store_vm vm;

	if (vmdef_load(req, &vm) < 0)
		return;
	api_reply_error(req, 501, "not_implemented", NULL, "%s of VM %s has not landed yet", what, vm.name);
	store_vm_clear(&vm);
}

void api_snapshots_list(struct api_request *req)
{
	struct store_vm vm;

	/* no snapshot can exist yet: the list is honestly empty */
	if (vmdef_load(req, &vm) < 0)
		return;
	api_reply_json(req, 200, json_pack("{s:[]}", "snapshots"));
	store_vm_clear(&vm);
}

void api_snapshots_create(struct api_request *req)
{
	not_yet(req, "snapshots");
}

void api_snapshot_restore(struct api_request *req)
{
	not_yet(req, "snapshot restore");
}

void api_snapshot_delete(struct api_request *req)
{
	struct store_vm vm;

	if (vmdef_load(req, &vm) < 0)
		return;
	api_reply_error(req, 404, "not_found", NULL, "VM %s has no snapshot %.64s", vm.name, req->params[1]);
	store_vm_clear(&vm);
}

void api_vm_migrate(struct api_request *req)
{
	not_yet(req, "migration");
}

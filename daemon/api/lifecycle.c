/* lifecycle.c - start, stop, reboot, pause, resume and the console.
 *
 * The KVM engine that carries these out has not landed yet: each endpoint
 * checks that the VM exists (404) and then answers 501 with a JSON error,
 * so clients can already be written against the final paths. */
#include "api/handlers.h"
#include "api/vm-def.h"

static void not_yet(struct api_request *req, const char *what)
{
	struct store_vm vm;

	if (vmdef_load(req, &vm) < 0)
		return;
	api_reply_error(req, 501, "not_implemented", NULL,
			"%s of VM %s needs the KVM engine, which has not landed yet", what, vm.name);
	store_vm_clear(&vm);
}

void api_vm_start(struct api_request *req)
{
	not_yet(req, "start");
}

void api_vm_stop(struct api_request *req)
{
	not_yet(req, "stop");
}

void api_vm_reboot(struct api_request *req)
{
	not_yet(req, "reboot");
}

void api_vm_pause(struct api_request *req)
{
	not_yet(req, "pause");
}

void api_vm_resume(struct api_request *req)
{
	not_yet(req, "resume");
}

void api_vm_console_get(struct api_request *req)
{
	not_yet(req, "the console");
}

void api_vm_console_post(struct api_request *req)
{
	not_yet(req, "console input");
}

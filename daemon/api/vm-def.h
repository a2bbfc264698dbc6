/* vm-def.h - VM definitions beyond their schema: defaults, cross-field
 * rules, generated MACs, and the JSON a VM is shown as. */
#pragma once
#include <jansson.h>

#include "store/store.h"

struct hvd;
struct api_request;

/* Fills defaults (labels {}, disks [], nics [], on_crash "stop",
 * autostart false, generated MACs) and checks what a schema cannot:
 * vcpus within the host, unique disk and NIC ids, one of network/tap per
 * NIC, no duplicate MAC within the VM, a kernel or an installed image.
 * On a violation answers 400 and returns -EINVAL. def was already checked
 * against vm-create.schema.json. */
int vmdef_complete(struct api_request *req, json_t *def);

/* For a definition naming an image: fills boot (kernel, initrd, cmdline)
 * from state_dir/images/<image>/ unless given, and gives the VM its own
 * copy of the image's root disk (disk "root") unless it has one. Answers
 * and returns -errno on failure (nothing left behind). */
int vmdef_expand_image(struct api_request *req, json_t *def, const char *vm_id);

/* A new locally administered unicast MAC (52:54:00:xx:xx:xx). */
void vmdef_random_mac(char out[18]);

/* The VM as the API shows it: its definition plus id, state, host, ...
 * NULL on out of memory. */
json_t *vmdef_to_json(struct hvd *hvd, const struct store_vm *vm);

/* Looks the VM of the request's first path parameter up; answers 404 and
 * returns -ENOENT (or another -errno, answered) when it cannot. */
int vmdef_load(struct api_request *req, struct store_vm *ret_vm);

/* Checks that vcpus/memory_mib fit on the local host after releasing the
 * given reservation; answers 409 insufficient_capacity and returns -ENOSPC
 * when not. */
int vmdef_check_capacity(struct api_request *req, uint64_t vcpus, uint64_t memory_mib,
			 uint64_t release_vcpus, uint64_t release_memory_mib);

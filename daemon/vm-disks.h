/* vm-disks.h - disks hvd owns: those it made itself, under
 * state_dir/disks/<vm id>/. A user's own disk paths are never touched. */
#pragma once
#include <stddef.h>

#include "store/store.h"

struct hvd;

/* state_dir/disks/<vm_id> into buf. */
void vm_disks_dir(struct hvd *hvd, const char *vm_id, char *buf, size_t len);
/* Creates that directory (and state_dir/disks). -errno. */
int vm_disks_mkdir(struct hvd *hvd, const char *vm_id);
/* Removes the files directly in dir, then dir; ignores ENOENT, logs the
 * rest (best effort). */
void vm_disks_remove_path(const char *dir);
/* Removes the files in that directory and the directory; ignores ENOENT. */
void vm_disks_remove_dir(struct hvd *hvd, const char *vm_id);
/* Same, for a VM being deleted. */
void vm_disks_remove_owned(struct hvd *hvd, const struct store_vm *vm);
/* Start-up recovery: for every entry of state_dir/<sub>/ named like a VM id
 * whose VM does not exist, logs that its <what> go and calls
 * remove(hvd, vm_id). */
void vm_dirs_sweep_orphans(struct hvd *hvd, const char *sub, const char *what,
			   void (*remove)(struct hvd *hvd, const char *vm_id));

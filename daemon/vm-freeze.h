/* vm-freeze.h - freezing a running VM for a live clone or a memory
 * snapshot, from an operation's worker thread.
 *
 * The worker talks to the VM's control socket on a connection of its own
 * (blocking, with a timeout), next to the supervisor's: it asks "freeze"
 * with the vCPUs left paused, copies the state file out of the VMM's memfd
 * into state_path, and keeps an fd of the frozen memory image. The caller
 * copies the disks while the VM is paused, then vm_freeze_thaw() lets it
 * run again (unless it was paused before). The memory image stays valid
 * for as long as someone holds an fd or a mapping of it: the source's
 * later writes go to its private copy-on-write pages. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hvd.h"

struct vm_frozen {
	int ctl_fd;            /* control connection, -1 once thawed */
	int memory_fd;         /* the frozen RAM image (read-only), -1 if none */
	uint64_t memory_bytes;
	bool was_running;      /* thaw resumes it */
	uint64_t started_ns;   /* CLOCK_MONOTONIC at the freeze request */
	uint64_t paused_us;    /* set by thaw: how long the guest was paused */
	unsigned generation;
};

/* Freezes VM vm_id (running or paused), writing its state file to
 * state_path (mode 0600, fsynced). with_memory false only pauses (a clone
 * of the disks). Returns 0, or -errno with a sentence in err; on error the
 * VM runs as before. */
int vm_freeze(struct hvd *hvd, const char *vm_id, bool with_memory, const char *state_path,
	      struct vm_frozen *ret, char *err, size_t errlen);

/* Lets the VM run again if it ran before the freeze, and closes the
 * control connection. Idempotent. Returns 0 or -errno (the VMM is gone). */
int vm_freeze_thaw(struct vm_frozen *f);

/* Thaws if needed and closes the memory image fd. */
void vm_freeze_release(struct vm_frozen *f);

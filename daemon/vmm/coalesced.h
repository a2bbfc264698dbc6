/* coalesced.h - port writes KVM queues in a ring instead of exiting. */
#pragma once
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>
#include "io-bus.h"
#include "kvm.h"

/* The VM's coalesced I/O ring (one page KVM shares through every vCPU's
 * kvm_run mapping) and the port bus its entries are replayed on. */
struct vmm_coalesced {
	struct kvm_coalesced_mmio_ring *ring;   /* NULL: not in use */
	unsigned max;                           /* entries in the ring */
	unsigned page_offset;                   /* ring page in a vCPU's mapping */
	struct vmm_io_bus *io;
	pthread_mutex_t lock;                   /* one consumer at a time */
	uint64_t replayed;                      /* entries replayed (atomic) */
};

/* Registers the write-only ports [port, port + len) of vm_fd as coalesced:
 * a guest write there is queued without an exit. Returns 0, -ENOTSUP when
 * KVM has no coalesced port I/O (c then stays unused: every write exits as
 * before), or -errno of the ioctl. The ring is used from
 * vmm_coalesced_attach on. */
int vmm_coalesced_init(struct vmm_coalesced *c, const struct vmm_kvm *kvm, int vm_fd,
		       struct vmm_io_bus *io, uint16_t port, uint16_t len);

/* Finds the ring in a vCPU's kvm_run mapping of run_size bytes. */
void vmm_coalesced_attach(struct vmm_coalesced *c, struct kvm_run *run, size_t run_size);

/* Replays every queued write, in order, on the port bus. Any thread; a
 * vCPU calls it after each KVM_RUN so that whatever it does next (the
 * exit it handles) comes after the writes before it. Returns the number
 * replayed. */
unsigned vmm_coalesced_drain(struct vmm_coalesced *c);

void vmm_coalesced_destroy(struct vmm_coalesced *c);

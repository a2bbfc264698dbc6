/* coalesced.c - port writes KVM queues in a ring instead of exiting.
 *
 * Every exit costs this host about 50 us; a guest printing on the serial
 * console pays two per byte (LSR read, THR write). With KVM's coalesced
 * port I/O the THR write does not exit: KVM appends it to a ring page
 * shared with us. Order is what makes it safe: a vCPU replays the ring
 * after each KVM_RUN, before it handles the exit that returned, so a
 * register read or a power-off sees every byte written before it. A guest
 * that writes and then halts without any exit leaves bytes in the ring;
 * the device thread drains it from a timer (machine-run.c). A full ring
 * makes KVM exit as before, so nothing is ever dropped. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "coalesced.h"

int vmm_coalesced_init(struct vmm_coalesced *c, const struct vmm_kvm *kvm, int vm_fd,
		       struct vmm_io_bus *io, uint16_t port, uint16_t len)
{
	struct kvm_coalesced_mmio_zone zone = { .addr = port, .size = len, .pio = 1 };
	memset(c, 0, sizeof(*c));
	if (kvm->coalesced_page <= 0 || !kvm->coalesced_pio)
		return -ENOTSUP;
	if (ioctl(vm_fd, KVM_REGISTER_COALESCED_MMIO, &zone) < 0)
		return -errno;
	c->page_offset = (unsigned)kvm->coalesced_page;
	c->io = io;
	pthread_mutex_init(&c->lock, NULL);
	return 0;
}

void vmm_coalesced_attach(struct vmm_coalesced *c, struct kvm_run *run, size_t run_size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (!c->io || c->ring || (c->page_offset + 1) * page > run_size)
		return;
	c->max = (unsigned)((page - sizeof(struct kvm_coalesced_mmio_ring)) /
			    sizeof(struct kvm_coalesced_mmio));
	__atomic_store_n(&c->ring, (void *)((char *)run + c->page_offset * page), __ATOMIC_RELEASE);
}

unsigned vmm_coalesced_drain(struct vmm_coalesced *c)
{
	struct kvm_coalesced_mmio_ring *ring = __atomic_load_n(&c->ring, __ATOMIC_ACQUIRE);
	unsigned n = 0;

	/* the common case, nothing queued, takes no lock */
	if (!ring || __atomic_load_n(&ring->first, __ATOMIC_RELAXED) ==
		     __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&c->lock);
	for (;;) {
		/* both indexes live in memory the guest's KVM writes and we
		 * write: checked, never trusted to be in range */
		uint32_t first = __atomic_load_n(&ring->first, __ATOMIC_RELAXED);
		uint32_t last = __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE);
		struct kvm_coalesced_mmio e;

		if (first == last || first >= c->max || last >= c->max)
			break;
		e = ring->coalesced_mmio[first];
		if (e.pio == 1 && e.len >= 1 && e.len <= 4 && e.phys_addr <= 0xffff)
			vmm_io_bus_access(c->io, (uint16_t)e.phys_addr, e.data, e.len, true);
		__atomic_store_n(&ring->first, (first + 1) % c->max, __ATOMIC_RELEASE);
		n++;
	}
	pthread_mutex_unlock(&c->lock);
	__atomic_add_fetch(&c->replayed, n, __ATOMIC_RELAXED);
	return n;
}

void vmm_coalesced_destroy(struct vmm_coalesced *c)
{
	if (c->io)
		pthread_mutex_destroy(&c->lock);
	c->ring = NULL;
	c->io = NULL;
}

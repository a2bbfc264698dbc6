/* virtio-rng.h - virtio entropy device fed by getrandom(2). */
#pragma once
#include "virtio-mmio.h"

#define VIRTIO_RNG_QUEUE_SIZE 64

struct virtio_rng;

/* Plain-data state for snapshots. */
struct virtio_rng_state {
	struct virtio_mmio_state mmio;
};

/* Creates the device at MMIO address base with interrupt irq over guest
 * memory mem. Returns 0 and *ret_rng, or -ENOMEM / -EINVAL. */
int virtio_rng_create(const struct guest_mem *mem, struct vmm_irq *irq, uint64_t base,
		      struct virtio_rng **ret_rng);

/* Frees the device. Accepts NULL; returns NULL. */
struct virtio_rng *virtio_rng_free(struct virtio_rng *rng);

/* The transport: register &virtio_rng_mmio(rng)->mmio on the bus. */
struct virtio_mmio *virtio_rng_mmio(struct virtio_rng *rng);

void virtio_rng_save(const struct virtio_rng *rng, struct virtio_rng_state *st);

/* Restores the transport state; -EINVAL / -EFAULT as virtio_mmio_restore. */
int virtio_rng_restore(struct virtio_rng *rng, const struct virtio_rng_state *st);

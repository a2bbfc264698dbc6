/* virtio-blk.h - virtio block device over a raw file or block device. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "virtio-mmio.h"

#define VIRTIO_BLK_SERIAL_MAX 20   /* bytes of the GET_ID string */
#define VIRTIO_BLK_QUEUE_SIZE 256

struct virtio_blk;

struct virtio_blk_params {
	const char *path;       /* raw image (regular file) or block device */
	bool readonly;          /* opened O_RDONLY, VIRTIO_BLK_F_RO offered */
	const char *serial;     /* GET_ID string, NULL for none; cut at 20 bytes */
};

/* Plain-data state for snapshots. The disk's shape is kept so restore can
 * refuse a different disk. */
struct virtio_blk_state {
	struct virtio_mmio_state mmio;
	uint64_t capacity;      /* 512-byte sectors */
	uint8_t readonly;
	uint8_t pad[7];
};

/* Opens p->path (O_CLOEXEC; read-only if p->readonly) and creates the
 * device at MMIO address base with interrupt irq, over guest memory mem.
 * Offers FLUSH, SEG_MAX, BLK_SIZE, RO (read-only disks), and DISCARD and
 * WRITE_ZEROES (writable regular files). Returns 0 and *ret_blk, or -errno
 * (open/stat failure, -EINVAL for something that is neither a regular file
 * nor a block device, -ENOMEM). */
int virtio_blk_create(const struct virtio_blk_params *p, const struct guest_mem *mem,
		      struct vmm_irq *irq, uint64_t base, struct virtio_blk **ret_blk);

/* Closes the file and frees the device. Accepts NULL; returns NULL. */
struct virtio_blk *virtio_blk_free(struct virtio_blk *blk);

/* The transport: register &virtio_blk_mmio(blk)->mmio on the bus. */
struct virtio_mmio *virtio_blk_mmio(struct virtio_blk *blk);

/* Capacity in 512-byte sectors. */
uint64_t virtio_blk_capacity(const struct virtio_blk *blk);

void virtio_blk_save(const struct virtio_blk *blk, struct virtio_blk_state *st);

/* Restores the transport state; -EINVAL if st describes another disk shape
 * or an invalid transport state (see virtio_mmio_restore). */
int virtio_blk_restore(struct virtio_blk *blk, const struct virtio_blk_state *st);

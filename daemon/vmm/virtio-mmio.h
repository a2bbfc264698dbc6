/* virtio-mmio.h - the virtio-mmio transport (version 2, virtio 1.x) and the
 * generic virtio device every hvd device embeds.
 *
 * A device (virtio-blk, virtio-net, virtio-rng) embeds struct virtio_mmio,
 * fills a static const struct virtio_mmio_ops and reaches itself from the
 * ops callbacks with container_of. The transport owns the registers, the
 * feature negotiation, the queues, the interrupt status and the failed
 * state; the device only processes queues and provides its config space.
 *
 * Locking: one mutex per device (vdev->lock). The MMIO handlers,
 * virtio_mmio_notify() and the device's own entry points (e.g.
 * virtio_net_rx_ready) take it; every ops callback runs with it held. */
#pragma once
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "guest-mem.h"
#include "mmio-bus.h"
#include "virtqueue.h"

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#endif

#define VIRTIO_MMIO_MAGIC 0x74726976u    /* "virt" */
#define VIRTIO_MMIO_WINDOW 0x200u        /* bytes of MMIO space per device */
#define VIRTIO_MMIO_MAX_QUEUES 4
#define VIRTIO_MMIO_MAX_CONFIG 64        /* bytes of device config space */

struct virtio_mmio;

struct virtio_mmio_ops {
	const char *name;          /* "virtio-blk", used in error reports */
	uint32_t device_id;        /* VIRTIO_ID_* */
	unsigned num_queues;       /* <= VIRTIO_MMIO_MAX_QUEUES */
	uint32_t config_size;      /* <= VIRTIO_MMIO_MAX_CONFIG */
	/* Fills buf (config_size bytes, little-endian) with the config space. */
	void (*get_config)(struct virtio_mmio *vdev, uint8_t *buf);
	/* The driver made buffers available on queue q (q < num_queues, queue
	 * ready, DRIVER_OK set, device not failed). A negative errno marks the
	 * device failed (see virtio_mmio_fail); the device reports malformed
	 * rings that way and never loops on them. */
	int (*notify)(struct virtio_mmio *vdev, unsigned q);
	/* The driver reset the device (Status = 0); queues are already reset.
	 * May be NULL. */
	void (*reset)(struct virtio_mmio *vdev);
};

/* Called (with the device lock held, on the thread that found the error)
 * when the device enters its failed state. It must not call back into the
 * device; it should only record or forward the event. */
typedef void virtio_mmio_error_fn(void *opaque, const char *device, int err, const char *what);

struct virtio_mmio {
	struct mmio_dev mmio;               /* register this on the MMIO bus */
	const struct virtio_mmio_ops *ops;
	const struct guest_mem *mem;
	struct vmm_irq *irq;                /* may be NULL (no interrupts) */
	pthread_mutex_t lock;
	virtio_mmio_error_fn *on_error;
	void *on_error_opaque;

	uint64_t device_features;           /* offered, transport bits included */
	uint64_t driver_features;           /* accepted by the driver */
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	uint32_t queue_sel;
	uint32_t status;
	uint32_t interrupt_status;
	uint32_t config_generation;
	bool failed;
	int fail_err;                       /* -errno that failed the device */
	struct virtq vq[VIRTIO_MMIO_MAX_QUEUES];
};

/* Plain-data transport state for snapshots. */
struct virtio_mmio_state {
	uint64_t driver_features;
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	uint32_t queue_sel;
	uint32_t status;
	uint32_t interrupt_status;
	uint32_t config_generation;
	uint32_t num_queues;
	uint8_t failed;
	uint8_t pad[3];
	struct virtq_state vq[VIRTIO_MMIO_MAX_QUEUES];
};

/* Initialises the transport of a device at guest physical address base.
 * features: the device-specific feature bits; the transport adds
 * VIRTIO_F_VERSION_1, VIRTIO_RING_F_INDIRECT_DESC and VIRTIO_RING_F_EVENT_IDX.
 * queue_max: QueueNumMax of every queue (power of two <= VIRTQ_MAX_SIZE).
 * Returns 0, or -EINVAL for bad ops/queue_max, or the pthread error. */
int virtio_mmio_init(struct virtio_mmio *vdev, const struct virtio_mmio_ops *ops,
		     const struct guest_mem *mem, struct vmm_irq *irq, uint64_t base,
		     uint64_t features, uint16_t queue_max);

/* Releases what virtio_mmio_init set up. Accepts a zeroed struct. */
void virtio_mmio_destroy(struct virtio_mmio *vdev);

/* Sets the failure callback (NULL to clear). */
void virtio_mmio_set_error_handler(struct virtio_mmio *vdev, virtio_mmio_error_fn *fn,
				   void *opaque);

/* Queue-notify path for an ioeventfd on QueueNotify: the same as the guest
 * writing q to QueueNotify. Any thread; takes the device lock. Out-of-range
 * or not-ready queues are ignored. */
void virtio_mmio_notify(struct virtio_mmio *vdev, unsigned q);

/* Guest physical address of the QueueNotify register (for an ioeventfd). */
uint64_t virtio_mmio_notify_addr(const struct virtio_mmio *vdev);

/* Writes "virtio_mmio.device=512@0x<base>:<gsi>" for the kernel command
 * line into buf. Returns its length or -ENOSPC. */
int virtio_mmio_cmdline(const struct virtio_mmio *vdev, char *buf, size_t size);

/* For devices (lock held). Puts the device in its failed state: sets
 * DEVICE_NEEDS_RESET, raises a config interrupt if the driver is up, calls
 * the error callback once, and ignores notifications until the driver
 * resets the device. what is a static string saying what was wrong. */
void virtio_mmio_fail(struct virtio_mmio *vdev, int err, const char *what);

/* For devices (lock held): raise the used-buffer interrupt for queue q if
 * the driver wants one for what was pushed since the last call. */
void virtio_mmio_signal_used(struct virtio_mmio *vdev, unsigned q);

/* For devices (lock held): the config space changed; bumps
 * ConfigGeneration and raises the config interrupt. */
void virtio_mmio_config_changed(struct virtio_mmio *vdev);

/* For devices (lock held): DRIVER_OK set and the device not failed. */
bool virtio_mmio_running(const struct virtio_mmio *vdev);

/* Saves the transport state; takes the device lock. */
void virtio_mmio_save(const struct virtio_mmio *vdev, struct virtio_mmio_state *st);

/* Restores the transport state after validating it (features offered,
 * status bits, queue settings inside guest RAM). Returns 0 or -EINVAL /
 * -EFAULT; the device is unchanged on error. Re-raises the interrupt line
 * if interrupt_status is non-zero. */
int virtio_mmio_restore(struct virtio_mmio *vdev, const struct virtio_mmio_state *st);

/* virtio-mmio.c - virtio-mmio transport, version 2 (virtio 1.x only).
 *
 * Registers are 32-bit; any other access width below the config space is
 * ignored (reads return zero), as are offsets the spec does not define.
 * Invariants the transport keeps:
 *  - queue settings change only while the queue is not ready, and become
 *    live only through virtq_enable (range-checked once);
 *  - driver features change only before FEATURES_OK, and FEATURES_OK sticks
 *    only for a subset of the offered features that includes VERSION_1;
 *  - the device sees notifications only while DRIVER_OK is set and it has
 *    not failed; a failed device stays failed (DEVICE_NEEDS_RESET) until the
 *    driver writes 0 to Status;
 *  - the interrupt line is high exactly while InterruptStatus is non-zero
 *    (set(1) is repeated for each new event so edge-backed lines fire). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include "virtio-mmio.h"

#define VENDOR_ID 0x00445648u   /* "HVD" */
#define TRANSPORT_FEATURES ((1ull << VIRTIO_F_VERSION_1) | \
			    (1ull << VIRTIO_RING_F_INDIRECT_DESC) | \
			    (1ull << VIRTIO_RING_F_EVENT_IDX))
#define STATUS_BITS (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | \
		     VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FEATURES_OK | \
		     VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED)
#define INT_BITS (VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG)

static struct virtio_mmio *to_vdev(struct mmio_dev *dev)
{
	return container_of(dev, struct virtio_mmio, mmio);
}

static bool has_feature(const struct virtio_mmio *vdev, unsigned bit)
{
	return vdev->driver_features & (1ull << bit);
}

static struct virtq *selected_queue(struct virtio_mmio *vdev)
{
	if (vdev->queue_sel >= vdev->ops->num_queues)
		return NULL;
	return &vdev->vq[vdev->queue_sel];
}

static void irq_raise(struct virtio_mmio *vdev, uint32_t bits)
{
	vdev->interrupt_status |= bits;
	if (vdev->irq)
		vdev->irq->set(vdev->irq, 1);
}

static void irq_ack(struct virtio_mmio *vdev, uint32_t bits)
{
	uint32_t before = vdev->interrupt_status;

	vdev->interrupt_status &= ~bits;
	if (before && !vdev->interrupt_status && vdev->irq)
		vdev->irq->set(vdev->irq, 0);
}

bool virtio_mmio_running(const struct virtio_mmio *vdev)
{
	return (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) && !vdev->failed;
}

void virtio_mmio_fail(struct virtio_mmio *vdev, int err, const char *what)
{
	if (vdev->failed)
		return;
	vdev->failed = true;
	vdev->fail_err = err;
	vdev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	if (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK)
		irq_raise(vdev, VIRTIO_MMIO_INT_CONFIG);
	if (vdev->on_error)
		vdev->on_error(vdev->on_error_opaque, vdev->ops->name, err, what);
}

void virtio_mmio_signal_used(struct virtio_mmio *vdev, unsigned q)
{
	if (q < vdev->ops->num_queues && virtq_should_notify(&vdev->vq[q]))
		irq_raise(vdev, VIRTIO_MMIO_INT_VRING);
}

void virtio_mmio_config_changed(struct virtio_mmio *vdev)
{
	vdev->config_generation++;
	if (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK)
		irq_raise(vdev, VIRTIO_MMIO_INT_CONFIG);
}

static void run_queue(struct virtio_mmio *vdev, unsigned q)
{
	int r;

	if (q >= vdev->ops->num_queues || !vdev->vq[q].ready || !virtio_mmio_running(vdev))
		return;
	r = vdev->ops->notify(vdev, q);
	if (r < 0)
		virtio_mmio_fail(vdev, r, virtq_strerror(r));
}

static void device_reset(struct virtio_mmio *vdev)
{
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		virtq_reset(&vdev->vq[i], vdev->vq[i].max_size);
	vdev->driver_features = 0;
	vdev->device_features_sel = 0;
	vdev->driver_features_sel = 0;
	vdev->queue_sel = 0;
	vdev->status = 0;
	vdev->failed = false;
	vdev->fail_err = 0;
	irq_ack(vdev, INT_BITS);
	if (vdev->ops->reset)
		vdev->ops->reset(vdev);
}

static void status_write(struct virtio_mmio *vdev, uint32_t val)
{
	uint32_t old = vdev->status;

	if (val == 0) {
		device_reset(vdev);
		return;
	}
	val &= STATUS_BITS & ~VIRTIO_CONFIG_S_NEEDS_RESET;
	if ((val & VIRTIO_CONFIG_S_FEATURES_OK) && !(old & VIRTIO_CONFIG_S_FEATURES_OK)) {
		/* accept only what we offered, and only a modern driver */
		if ((vdev->driver_features & ~vdev->device_features) ||
		    !has_feature(vdev, VIRTIO_F_VERSION_1))
			val &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	}
	if (!(val & VIRTIO_CONFIG_S_FEATURES_OK))
		val &= ~VIRTIO_CONFIG_S_DRIVER_OK;
	vdev->status = val | (vdev->failed ? VIRTIO_CONFIG_S_NEEDS_RESET : 0);
	if ((val & VIRTIO_CONFIG_S_DRIVER_OK) && !(old & VIRTIO_CONFIG_S_DRIVER_OK)) {
		/* buffers made available before DRIVER_OK were not consumed */
		for (unsigned q = 0; q < vdev->ops->num_queues; q++)
			run_queue(vdev, q);
	}
}

static void queue_ready_write(struct virtio_mmio *vdev, struct virtq *q, uint32_t val)
{
	int r;

	if (val == 0) {
		q->ready = false;
		return;
	}
	if (q->ready)
		return;
	r = virtq_enable(q, vdev->mem, has_feature(vdev, VIRTIO_RING_F_EVENT_IDX),
			 has_feature(vdev, VIRTIO_RING_F_INDIRECT_DESC));
	if (r < 0)
		virtio_mmio_fail(vdev, r, r == -EFAULT ? "queue rings outside guest RAM"
					    : "invalid queue size or alignment");
}

static void set_half(uint64_t *v, bool high, uint32_t val)
{
	if (high)
		*v = (*v & 0xffffffffull) | ((uint64_t)val << 32);
	else
		*v = (*v & ~0xffffffffull) | val;
}

static void reg_write(struct virtio_mmio *vdev, uint64_t off, uint32_t val)
{
	struct virtq *q = selected_queue(vdev);
	bool queue_writable = q && !q->ready;

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		vdev->device_features_sel = val;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (!(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK) && vdev->driver_features_sel < 2)
			set_half(&vdev->driver_features, vdev->driver_features_sel == 1, val);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		vdev->driver_features_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		vdev->queue_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (queue_writable)
			q->size = val <= q->max_size ? (uint16_t)val : 0;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (q)
			queue_ready_write(vdev, q, val);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		run_queue(vdev, val);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		irq_ack(vdev, val);
		break;
	case VIRTIO_MMIO_STATUS:
		status_write(vdev, val);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		if (queue_writable)
			set_half(&q->desc_gpa, off == VIRTIO_MMIO_QUEUE_DESC_HIGH, val);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		if (queue_writable)
			set_half(&q->avail_gpa, off == VIRTIO_MMIO_QUEUE_AVAIL_HIGH, val);
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		if (queue_writable)
			set_half(&q->used_gpa, off == VIRTIO_MMIO_QUEUE_USED_HIGH, val);
		break;
	default:
		break;   /* read-only or undefined: ignored */
	}
}

static uint32_t reg_read(struct virtio_mmio *vdev, uint64_t off)
{
	struct virtq *q = selected_queue(vdev);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE: return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION: return 2;
	case VIRTIO_MMIO_DEVICE_ID: return vdev->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID: return VENDOR_ID;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (vdev->device_features_sel >= 2)
			return 0;
		return (uint32_t)(vdev->device_features >> (32 * vdev->device_features_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX: return q ? q->max_size : 0;
	case VIRTIO_MMIO_QUEUE_NUM: return q ? q->size : 0;
	case VIRTIO_MMIO_QUEUE_READY: return q ? q->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS: return vdev->interrupt_status;
	case VIRTIO_MMIO_STATUS: return vdev->status;
	case VIRTIO_MMIO_QUEUE_DESC_LOW: return q ? (uint32_t)q->desc_gpa : 0;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH: return q ? (uint32_t)(q->desc_gpa >> 32) : 0;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW: return q ? (uint32_t)q->avail_gpa : 0;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH: return q ? (uint32_t)(q->avail_gpa >> 32) : 0;
	case VIRTIO_MMIO_QUEUE_USED_LOW: return q ? (uint32_t)q->used_gpa : 0;
	case VIRTIO_MMIO_QUEUE_USED_HIGH: return q ? (uint32_t)(q->used_gpa >> 32) : 0;
	/* no shared memory regions: length ~0 means "does not exist" */
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffffu;
	case VIRTIO_MMIO_CONFIG_GENERATION: return vdev->config_generation;
	default: return 0;
	}
}

static void mmio_read(struct mmio_dev *dev, uint64_t off, void *data, unsigned len)
{
	struct virtio_mmio *vdev = to_vdev(dev);
	uint8_t cfg[VIRTIO_MMIO_MAX_CONFIG];

	memset(data, 0, len);
	pthread_mutex_lock(&vdev->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		uint64_t c = off - VIRTIO_MMIO_CONFIG;

		if (c < vdev->ops->config_size && len <= vdev->ops->config_size - c) {
			vdev->ops->get_config(vdev, cfg);
			memcpy(data, cfg + c, len);
		}
	} else if (len == 4) {
		uint32_t v = reg_read(vdev, off);

		memcpy(data, &v, 4);
	}
	pthread_mutex_unlock(&vdev->lock);
}

static void mmio_write(struct mmio_dev *dev, uint64_t off, const void *data, unsigned len)
{
	struct virtio_mmio *vdev = to_vdev(dev);
	uint32_t v;

	/* config space has no writable fields in hvd's devices */
	if (off >= VIRTIO_MMIO_CONFIG || len != 4)
		return;
	memcpy(&v, data, 4);
	pthread_mutex_lock(&vdev->lock);
	reg_write(vdev, off, v);
	pthread_mutex_unlock(&vdev->lock);
}

static const struct mmio_ops virtio_mmio_bus_ops = {
	.read = mmio_read,
	.write = mmio_write,
};

int virtio_mmio_init(struct virtio_mmio *vdev, const struct virtio_mmio_ops *ops,
		     const struct guest_mem *mem, struct vmm_irq *irq, uint64_t base,
		     uint64_t features, uint16_t queue_max)
{
	int r;

	if (!ops || !ops->notify || !ops->get_config || ops->num_queues == 0 ||
	    ops->num_queues > VIRTIO_MMIO_MAX_QUEUES || ops->config_size > VIRTIO_MMIO_MAX_CONFIG ||
	    queue_max == 0 || queue_max > VIRTQ_MAX_SIZE || (queue_max & (queue_max - 1)))
		return -EINVAL;
	*vdev = (struct virtio_mmio){
		.mmio = { .base = base, .size = VIRTIO_MMIO_WINDOW, .ops = &virtio_mmio_bus_ops },
		.ops = ops,
		.mem = mem,
		.irq = irq,
		.device_features = features | TRANSPORT_FEATURES,
	};
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		virtq_reset(&vdev->vq[i], i < ops->num_queues ? queue_max : 0);
	r = pthread_mutex_init(&vdev->lock, NULL);
	if (r != 0) {
		vdev->ops = NULL;
		return -r;
	}
	return 0;
}

void virtio_mmio_destroy(struct virtio_mmio *vdev)
{
	if (!vdev || !vdev->ops)
		return;
	pthread_mutex_destroy(&vdev->lock);
	vdev->ops = NULL;
}

void virtio_mmio_set_error_handler(struct virtio_mmio *vdev, virtio_mmio_error_fn *fn,
				   void *opaque)
{
	pthread_mutex_lock(&vdev->lock);
	vdev->on_error = fn;
	vdev->on_error_opaque = opaque;
	pthread_mutex_unlock(&vdev->lock);
}

void virtio_mmio_notify(struct virtio_mmio *vdev, unsigned q)
{
	pthread_mutex_lock(&vdev->lock);
	run_queue(vdev, q);
	pthread_mutex_unlock(&vdev->lock);
}

uint64_t virtio_mmio_notify_addr(const struct virtio_mmio *vdev)
{
	return vdev->mmio.base + VIRTIO_MMIO_QUEUE_NOTIFY;
}

int virtio_mmio_cmdline(const struct virtio_mmio *vdev, char *buf, size_t size)
{
	int n = snprintf(buf, size, "virtio_mmio.device=%" PRIu64 "@0x%" PRIx64 ":%u",
			 vdev->mmio.size, vdev->mmio.base, vdev->irq ? vdev->irq->gsi : 0);

	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}

void virtio_mmio_save(const struct virtio_mmio *vdev, struct virtio_mmio_state *st)
{
	/* the lock is not part of the state; saving does not change it */
	pthread_mutex_t *lock = (pthread_mutex_t *)&vdev->lock;

	pthread_mutex_lock(lock);
	*st = (struct virtio_mmio_state){
		.driver_features = vdev->driver_features,
		.device_features_sel = vdev->device_features_sel,
		.driver_features_sel = vdev->driver_features_sel,
		.queue_sel = vdev->queue_sel,
		.status = vdev->status,
		.interrupt_status = vdev->interrupt_status,
		.config_generation = vdev->config_generation,
		.num_queues = vdev->ops->num_queues,
		.failed = vdev->failed,
	};
	for (unsigned i = 0; i < vdev->ops->num_queues; i++)
		virtq_save(&vdev->vq[i], &st->vq[i]);
	pthread_mutex_unlock(lock);
}

int virtio_mmio_restore(struct virtio_mmio *vdev, const struct virtio_mmio_state *st)
{
	struct virtq vq[VIRTIO_MMIO_MAX_QUEUES];
	int r = 0;

	if (st->num_queues != vdev->ops->num_queues || st->failed > 1 ||
	    (st->driver_features & ~vdev->device_features) || (st->status & ~STATUS_BITS) ||
	    (st->interrupt_status & ~INT_BITS) ||
	    (st->failed && !(st->status & VIRTIO_CONFIG_S_NEEDS_RESET)))
		return -EINVAL;
	pthread_mutex_lock(&vdev->lock);
	memcpy(vq, vdev->vq, sizeof(vq));
	for (unsigned i = 0; i < st->num_queues && r == 0; i++)
		r = virtq_restore(&vq[i], &st->vq[i], vdev->mem);
	if (r == 0) {
		memcpy(vdev->vq, vq, sizeof(vq));
		vdev->driver_features = st->driver_features;
		vdev->device_features_sel = st->device_features_sel;
		vdev->driver_features_sel = st->driver_features_sel;
		vdev->queue_sel = st->queue_sel;
		vdev->status = st->status;
		vdev->config_generation = st->config_generation;
		vdev->failed = st->failed;
		vdev->fail_err = st->failed ? -EIO : 0;
		vdev->interrupt_status = 0;
		if (st->interrupt_status)
			irq_raise(vdev, st->interrupt_status);
	}
	pthread_mutex_unlock(&vdev->lock);
	return r;
}

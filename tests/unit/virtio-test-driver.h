/* virtio-test-driver.h - a minimal virtio driver for the device unit tests.
 *
 * Fake guest RAM is a malloc'd buffer in a struct guest_mem; the "driver"
 * programs the transport only through its MMIO read/write ops, exactly as
 * a guest would, and lays out split virtqueues in that RAM. Everything is
 * static inline so each test executable takes what it uses. */
#pragma once
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include "guest-mem.h"
#include "mmio-bus.h"
#include "virtio-mmio.h"

#define TG_RAM (4u << 20)

struct tguest {
	struct guest_mem mem;
	uint64_t next;          /* bump allocator for rings and buffers */
};

static inline void tguest_init(struct tguest *g)
{
	/* the whole struct: a tguest on the stack holds garbage otherwise
	 * (guest_mem has more fields than these, e.g. low_size) */
	*g = (struct tguest){ .mem = { .host = aligned_alloc(4096, TG_RAM), .size = TG_RAM, .fd = -1 },
			      .next = 0x1000 };
	memset(g->mem.host, 0, TG_RAM);
}

static inline void tguest_fini(struct tguest *g)
{
	free(g->mem.host);
	g->mem.host = NULL;
}

static inline uint64_t tguest_alloc(struct tguest *g, uint64_t len, uint64_t align)
{
	uint64_t gpa = (g->next + align - 1) & ~(align - 1);

	g->next = gpa + len;
	if (g->next > g->mem.size)
		abort();
	return gpa;
}

static inline void *tguest_ptr(struct tguest *g, uint64_t gpa)
{
	return g->mem.host + gpa;
}

/* interrupt line that records what the device did with it */
struct tirq {
	struct vmm_irq irq;
	int level;
	int raised;
};

static inline void tirq_set(struct vmm_irq *irq, int level)
{
	struct tirq *t = container_of(irq, struct tirq, irq);

	t->level = level;
	if (level)
		t->raised++;
}

static inline void tirq_init(struct tirq *t, unsigned gsi)
{
	*t = (struct tirq){ .irq = { .set = tirq_set, .gsi = gsi } };
}

static inline void mmio_w32(struct virtio_mmio *v, uint64_t off, uint32_t val)
{
	v->mmio.ops->write(&v->mmio, off, &val, 4);
}

static inline uint32_t mmio_r32(struct virtio_mmio *v, uint64_t off)
{
	uint32_t val;

	v->mmio.ops->read(&v->mmio, off, &val, 4);
	return val;
}

/* Driver-side view of one split queue. */
struct tvq {
	unsigned index;
	uint16_t size;
	uint64_t desc, avail, used;
	uint16_t avail_idx;     /* driver's next avail->idx */
	uint16_t next_desc;     /* next free descriptor slot */
	uint16_t last_used;
};

struct tdesc_raw {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* Resets the device and negotiates offered & wanted. Returns the status
 * register after the driver wrote FEATURES_OK. */
static inline uint32_t tdriver_negotiate(struct virtio_mmio *v, uint64_t wanted)
{
	uint64_t offered;

	mmio_w32(v, VIRTIO_MMIO_STATUS, 0);
	mmio_w32(v, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	mmio_w32(v, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	mmio_w32(v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	offered = (uint64_t)mmio_r32(v, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	mmio_w32(v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	offered |= mmio_r32(v, VIRTIO_MMIO_DEVICE_FEATURES);
	offered &= wanted;
	mmio_w32(v, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_w32(v, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)offered);
	mmio_w32(v, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_w32(v, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(offered >> 32));
	mmio_w32(v, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		 VIRTIO_CONFIG_S_FEATURES_OK);
	return mmio_r32(v, VIRTIO_MMIO_STATUS);
}

/* Lays out queue index (size entries) in guest RAM and enables it. */
static inline void tvq_setup(struct tguest *g, struct virtio_mmio *v, struct tvq *q,
			     unsigned index, uint16_t size)
{
	*q = (struct tvq){ .index = index, .size = size };
	q->desc = tguest_alloc(g, 16ull * size, 4096);
	q->avail = tguest_alloc(g, 6ull + 2ull * size, 4096);
	q->used = tguest_alloc(g, 6ull + 8ull * size, 4096);
	mmio_w32(v, VIRTIO_MMIO_QUEUE_SEL, index);
	mmio_w32(v, VIRTIO_MMIO_QUEUE_NUM, size);
	mmio_w32(v, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q->desc);
	mmio_w32(v, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(q->desc >> 32));
	mmio_w32(v, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)q->avail);
	mmio_w32(v, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(q->avail >> 32));
	mmio_w32(v, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)q->used);
	mmio_w32(v, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(q->used >> 32));
	mmio_w32(v, VIRTIO_MMIO_QUEUE_READY, 1);
}

static inline void tdriver_ok(struct virtio_mmio *v)
{
	mmio_w32(v, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

static inline struct tdesc_raw *tvq_desc(struct tguest *g, struct tvq *q, uint16_t i)
{
	return (struct tdesc_raw *)tguest_ptr(g, q->desc) + i;
}

static inline void tvq_set_desc(struct tguest *g, struct tvq *q, uint16_t i, uint64_t addr,
				uint32_t len, uint16_t flags, uint16_t next)
{
	*tvq_desc(g, q, i) = (struct tdesc_raw){ addr, len, flags, next };
}

/* Publishes head in the avail ring (no kick). */
static inline void tvq_publish(struct tguest *g, struct tvq *q, uint16_t head)
{
	uint16_t *avail = tguest_ptr(g, q->avail);

	avail[2 + (q->avail_idx % q->size)] = head;
	q->avail_idx++;
	__atomic_store_n(&avail[1], q->avail_idx, __ATOMIC_RELEASE);
}

/* One buffer of a chain the test builds. */
struct tbuf {
	uint64_t gpa;
	uint32_t len;
	int writable;
};

/* Writes a chain of n buffers into free descriptors and publishes it.
 * Returns the head. */
static inline uint16_t tvq_add(struct tguest *g, struct tvq *q, const struct tbuf *b, unsigned n)
{
	uint16_t head = q->next_desc % q->size;

	for (unsigned i = 0; i < n; i++) {
		uint16_t d = (q->next_desc + i) % q->size;
		uint16_t next = (q->next_desc + i + 1) % q->size;
		uint16_t flags = (b[i].writable ? VRING_DESC_F_WRITE : 0) |
				 (i + 1 < n ? VRING_DESC_F_NEXT : 0);

		tvq_set_desc(g, q, d, b[i].gpa, b[i].len, flags, next);
	}
	q->next_desc = (q->next_desc + n) % q->size;
	tvq_publish(g, q, head);
	return head;
}

static inline void tvq_kick(struct virtio_mmio *v, struct tvq *q)
{
	mmio_w32(v, VIRTIO_MMIO_QUEUE_NOTIFY, q->index);
}

static inline uint16_t tvq_used_idx(struct tguest *g, struct tvq *q)
{
	uint16_t *used = tguest_ptr(g, q->used);

	return __atomic_load_n(&used[1], __ATOMIC_ACQUIRE);
}

/* Takes the next used element; returns 1, or 0 if there is none. */
static inline int tvq_get_used(struct tguest *g, struct tvq *q, uint32_t *id, uint32_t *len)
{
	uint8_t *used = tguest_ptr(g, q->used);
	uint32_t *e;

	if (tvq_used_idx(g, q) == q->last_used)
		return 0;
	e = (uint32_t *)(used + 4 + 8 * (q->last_used % q->size));
	*id = e[0];
	*len = e[1];
	q->last_used++;
	return 1;
}

/* A device-writable or readable buffer in guest RAM filled with fill. */
static inline struct tbuf tbuf_new(struct tguest *g, uint32_t len, int writable, uint8_t fill)
{
	struct tbuf b = { .gpa = tguest_alloc(g, len, 16), .len = len, .writable = writable };

	memset(tguest_ptr(g, b.gpa), fill, len);
	return b;
}

/* vio.h - a polling virtio-mmio driver for the test guest: one device, one
 * queue, legacy (version 1) and modern (version 2) register layouts, so the
 * guest runs on hvd and on QEMU microvm's legacy default alike. */
#pragma once
#include "guest.h"

#define VIRTIO_ID_BLOCK 2

#define VRING_DESC_F_NEXT  1
#define VRING_DESC_F_WRITE 2

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];
};

struct vio_dev {
	volatile uint8_t *base;
	uint32_t version;
	uint32_t device_id;
	uint64_t features;         /* negotiated */
	uint16_t qsize;
	uint16_t avail_idx;
	uint16_t last_used;
	volatile struct vring_desc *desc;
	volatile struct vring_avail *avail;
	volatile struct vring_used *used;
};

uint32_t vio_read32(struct vio_dev *d, unsigned off);
void vio_write32(struct vio_dev *d, unsigned off, uint32_t v);
/* Finds the first device of type device_id among virtio_mmio.device= words. */
bool vio_find(struct vio_dev *d, uint32_t device_id);
/* Reset, negotiate (want & offered), set up queue 0 in the guest's ring
 * pages, DRIVER_OK. Returns 0 or a short reason string's index (<0). */
int vio_setup(struct vio_dev *d, uint64_t want);
/* Queue 0 at explicit guest physical ring addresses (garbage mode). */
int vio_setup_at(struct vio_dev *d, uint64_t want, uint64_t desc, uint64_t avail,
		 uint64_t used, uint16_t qsize);
void vio_reset(struct vio_dev *d);
/* Publishes head, notifies queue 0, polls the used ring up to max_cycles
 * TSC cycles. Returns 0 when the device returned a buffer, -1 on timeout. */
int vio_kick_wait(struct vio_dev *d, uint16_t head, uint64_t max_cycles, uint32_t *ret_len);
uint8_t vio_status(struct vio_dev *d);

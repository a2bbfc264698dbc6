/* vio.c - polling virtio-mmio driver of the test guest (see vio.h).
 *
 * Rings live in static page-aligned guest memory. The guest never takes
 * the device's interrupt (IF=0); it acknowledges InterruptStatus after each
 * completion so the level-triggered line is left low. */
#include "vio.h"

#define VIRTIO_MMIO_MAGIC        0x000
#define VIRTIO_MMIO_VERSION      0x004
#define VIRTIO_MMIO_DEVICE_ID    0x008
#define VIRTIO_MMIO_DEV_FEATURES 0x010
#define VIRTIO_MMIO_DEV_FEAT_SEL 0x014
#define VIRTIO_MMIO_DRV_FEATURES 0x020
#define VIRTIO_MMIO_DRV_FEAT_SEL 0x024
#define VIRTIO_MMIO_GUEST_PAGE   0x028
#define VIRTIO_MMIO_QUEUE_SEL    0x030
#define VIRTIO_MMIO_QUEUE_MAX    0x034
#define VIRTIO_MMIO_QUEUE_NUM    0x038
#define VIRTIO_MMIO_QUEUE_ALIGN  0x03c
#define VIRTIO_MMIO_QUEUE_PFN    0x040
#define VIRTIO_MMIO_QUEUE_READY  0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INT_STATUS   0x060
#define VIRTIO_MMIO_INT_ACK      0x064
#define VIRTIO_MMIO_STATUS       0x070
#define VIRTIO_MMIO_DESC_LO      0x080
#define VIRTIO_MMIO_DESC_HI      0x084
#define VIRTIO_MMIO_AVAIL_LO     0x090
#define VIRTIO_MMIO_AVAIL_HI     0x094
#define VIRTIO_MMIO_USED_LO      0x0a0
#define VIRTIO_MMIO_USED_HI      0x0a4

#define STATUS_ACK         1
#define STATUS_DRIVER      2
#define STATUS_DRIVER_OK   4
#define STATUS_FEATURES_OK 8

#define VIRTIO_F_VERSION_1 (1ull << 32)
#define QSIZE 8

static uint8_t ring_pages[2 * 4096] __attribute__((aligned(4096)));

uint32_t vio_read32(struct vio_dev *d, unsigned off)
{
	return *(volatile uint32_t *)(d->base + off);
}

void vio_write32(struct vio_dev *d, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(d->base + off) = v;
}

uint8_t vio_status(struct vio_dev *d)
{
	return (uint8_t)vio_read32(d, VIRTIO_MMIO_STATUS);
}

bool vio_find(struct vio_dev *d, uint32_t device_id)
{
	uint64_t addr, size;

	for (unsigned i = 0; cmdline_virtio_mmio(i, &addr, &size); i++) {
		if (addr >= (1ull << 32) || size < 0x200)
			continue;
		d->base = (volatile uint8_t *)(uintptr_t)addr;
		if (vio_read32(d, VIRTIO_MMIO_MAGIC) != 0x74726976)
			continue;
		d->version = vio_read32(d, VIRTIO_MMIO_VERSION);
		d->device_id = vio_read32(d, VIRTIO_MMIO_DEVICE_ID);
		if (d->device_id == device_id && (d->version == 1 || d->version == 2))
			return true;
	}
	return false;
}

void vio_reset(struct vio_dev *d)
{
	vio_write32(d, VIRTIO_MMIO_STATUS, 0);
}

static int negotiate(struct vio_dev *d, uint64_t want)
{
	uint64_t offered;

	vio_reset(d);
	vio_write32(d, VIRTIO_MMIO_STATUS, STATUS_ACK);
	vio_write32(d, VIRTIO_MMIO_STATUS, STATUS_ACK | STATUS_DRIVER);
	vio_write32(d, VIRTIO_MMIO_DEV_FEAT_SEL, 0);
	offered = vio_read32(d, VIRTIO_MMIO_DEV_FEATURES);
	vio_write32(d, VIRTIO_MMIO_DEV_FEAT_SEL, 1);
	offered |= (uint64_t)vio_read32(d, VIRTIO_MMIO_DEV_FEATURES) << 32;
	if (d->version == 2) {
		if (!(offered & VIRTIO_F_VERSION_1))
			return -1;
		want |= VIRTIO_F_VERSION_1;
	}
	d->features = offered & want;
	vio_write32(d, VIRTIO_MMIO_DRV_FEAT_SEL, 0);
	vio_write32(d, VIRTIO_MMIO_DRV_FEATURES, (uint32_t)d->features);
	vio_write32(d, VIRTIO_MMIO_DRV_FEAT_SEL, 1);
	vio_write32(d, VIRTIO_MMIO_DRV_FEATURES, (uint32_t)(d->features >> 32));
	if (d->version == 2) {
		vio_write32(d, VIRTIO_MMIO_STATUS,
			    STATUS_ACK | STATUS_DRIVER | STATUS_FEATURES_OK);
		if (!(vio_status(d) & STATUS_FEATURES_OK))
			return -2;
	} else {
		vio_write32(d, VIRTIO_MMIO_GUEST_PAGE, 4096);
	}
	return 0;
}

int vio_setup_at(struct vio_dev *d, uint64_t want, uint64_t desc, uint64_t avail,
		 uint64_t used, uint16_t qsize)
{
	uint32_t max;
	int r = negotiate(d, want);

	if (r < 0)
		return r;
	vio_write32(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	max = vio_read32(d, VIRTIO_MMIO_QUEUE_MAX);
	if (max == 0)
		return -3;
	d->qsize = qsize;
	d->avail_idx = 0;
	d->last_used = 0;
	d->desc = (volatile struct vring_desc *)(uintptr_t)desc;
	d->avail = (volatile struct vring_avail *)(uintptr_t)avail;
	d->used = (volatile struct vring_used *)(uintptr_t)used;
	vio_write32(d, VIRTIO_MMIO_QUEUE_NUM, qsize);
	if (d->version == 1) {
		/* Legacy layout: avail follows desc, used on the next page. */
		vio_write32(d, VIRTIO_MMIO_QUEUE_ALIGN, 4096);
		vio_write32(d, VIRTIO_MMIO_QUEUE_PFN, (uint32_t)(desc >> 12));
	} else {
		vio_write32(d, VIRTIO_MMIO_DESC_LO, (uint32_t)desc);
		vio_write32(d, VIRTIO_MMIO_DESC_HI, (uint32_t)(desc >> 32));
		vio_write32(d, VIRTIO_MMIO_AVAIL_LO, (uint32_t)avail);
		vio_write32(d, VIRTIO_MMIO_AVAIL_HI, (uint32_t)(avail >> 32));
		vio_write32(d, VIRTIO_MMIO_USED_LO, (uint32_t)used);
		vio_write32(d, VIRTIO_MMIO_USED_HI, (uint32_t)(used >> 32));
		vio_write32(d, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	vio_write32(d, VIRTIO_MMIO_STATUS, STATUS_ACK | STATUS_DRIVER | STATUS_DRIVER_OK |
		    (d->version == 2 ? STATUS_FEATURES_OK : 0));
	return 0;
}

int vio_setup(struct vio_dev *d, uint64_t want)
{
	uint64_t desc = (uintptr_t)ring_pages;
	uint32_t max;
	uint16_t n;

	memset(ring_pages, 0, sizeof(ring_pages));
	vio_write32(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	max = vio_read32(d, VIRTIO_MMIO_QUEUE_MAX);
	n = max && max < QSIZE ? (uint16_t)max : QSIZE;
	return vio_setup_at(d, want, desc, desc + n * sizeof(struct vring_desc),
			    desc + 4096, n);
}

int vio_kick_wait(struct vio_dev *d, uint16_t head, uint64_t max_cycles, uint32_t *ret_len)
{
	uint64_t t0 = rdtsc();

	d->avail->ring[d->avail_idx % d->qsize] = head;
	mb();
	d->avail->idx = ++d->avail_idx;
	mb();
	vio_write32(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	while (d->used->idx == d->last_used) {
		if (rdtsc() - t0 > max_cycles)
			return -1;
		cpu_relax();
	}
	mb();
	if (ret_len)
		*ret_len = d->used->ring[d->last_used % d->qsize].len;
	d->last_used++;
	vio_write32(d, VIRTIO_MMIO_INT_ACK, vio_read32(d, VIRTIO_MMIO_INT_STATUS));
	return 0;
}

/* blk.c - the test guest's virtio-blk check: write a seeded pattern to
 * sectors [sector, sector + sectors), flush, read it back, compare, and
 * print a checksum of what was read:
 *   BLK OK sectors=N sum=0x... | BLK FAIL <reason> ...
 * Parameters: sectors= (default 64), sector= (first, default 0), seed=
 * (default 1). verify_only (mode=verify) skips the write: it checks a
 * pattern left by an earlier boot. A read-only disk is only read and summed. */
#include "vio.h"

#define VIRTIO_BLK_F_RO    (1ull << 5)
#define VIRTIO_BLK_F_FLUSH (1ull << 9)

#define VIRTIO_BLK_T_IN    0
#define VIRTIO_BLK_T_OUT   1
#define VIRTIO_BLK_T_FLUSH 4

#define CHUNK_SECTORS 8
#define TIMEOUT_CYCLES (1ull << 35)

struct blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

static struct blk_req_hdr req_hdr __attribute__((aligned(64)));
static uint8_t req_status __attribute__((aligned(64)));
static uint64_t wbuf[CHUNK_SECTORS * 512 / 8] __attribute__((aligned(4096)));
static uint64_t rbuf[CHUNK_SECTORS * 512 / 8] __attribute__((aligned(4096)));

static uint64_t pattern(uint64_t seed, uint64_t sector, uint64_t word)
{
	uint64_t z = seed * 0x9e3779b97f4a7c15ull + (sector << 8) + word;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* One request: header, optional data, status. Returns the status byte, or
 * 0xff when the device did not answer in time. */
static int blk_request(struct vio_dev *d, uint32_t type, uint64_t sector, void *buf, uint32_t len)
{
	volatile struct vring_desc *desc = d->desc;
	uint16_t n = 0;

	req_hdr.type = type;
	req_hdr.reserved = 0;
	req_hdr.sector = sector;
	req_status = 0xee;
	desc[0].addr = (uintptr_t)&req_hdr;
	desc[0].len = sizeof(req_hdr);
	desc[0].flags = VRING_DESC_F_NEXT;
	desc[0].next = 1;
	n = 1;
	if (len) {
		desc[1].addr = (uintptr_t)buf;
		desc[1].len = len;
		desc[1].flags = VRING_DESC_F_NEXT | (type == VIRTIO_BLK_T_IN ? VRING_DESC_F_WRITE : 0);
		desc[1].next = 2;
		n = 2;
	}
	desc[n].addr = (uintptr_t)&req_status;
	desc[n].len = 1;
	desc[n].flags = VRING_DESC_F_WRITE;
	desc[n].next = 0;
	if (vio_kick_wait(d, 0, TIMEOUT_CYCLES, NULL) < 0)
		return 0xff;
	return *(volatile uint8_t *)&req_status;
}

int mode_blk(bool verify_only)
{
	struct vio_dev dev;
	uint64_t sectors = cmdline_get_u64("sectors", 64);
	uint64_t first = cmdline_get_u64("sector", 0);
	uint64_t seed = cmdline_get_u64("seed", 1);
	uint64_t capacity, sum = 0xcbf29ce484222325ull;
	bool ro;
	int st;

	if (!vio_find(&dev, VIRTIO_ID_BLOCK)) {
		con_puts("BLK FAIL no-device\n");
		return 1;
	}
	if (vio_setup(&dev, VIRTIO_BLK_F_RO | VIRTIO_BLK_F_FLUSH) < 0) {
		con_printf("BLK FAIL setup status=%x\n", (uint64_t)vio_status(&dev));
		return 1;
	}
	capacity = vio_read32(&dev, 0x100) | (uint64_t)vio_read32(&dev, 0x104) << 32;
	ro = dev.features & VIRTIO_BLK_F_RO;
	con_printf("BLK device version=%u capacity=%u%s\n", (uint64_t)dev.version, capacity,
		   ro ? " ro" : "");
	if (first > capacity || sectors > capacity - first) {
		con_printf("BLK FAIL capacity=%u\n", capacity);
		return 1;
	}

	for (uint64_t s = first; !ro && !verify_only && s < first + sectors; s += CHUNK_SECTORS) {
		uint64_t n = first + sectors - s < CHUNK_SECTORS ? first + sectors - s : CHUNK_SECTORS;

		for (uint64_t w = 0; w < n * 64; w++)
			wbuf[w] = pattern(seed, s + w / 64, w % 64);
		st = blk_request(&dev, VIRTIO_BLK_T_OUT, s, wbuf, (uint32_t)(n * 512));
		if (st) {
			con_printf("BLK FAIL write sector=%u status=%x\n", s, (uint64_t)st);
			return 1;
		}
	}
	if (!ro && !verify_only && (dev.features & VIRTIO_BLK_F_FLUSH)) {
		st = blk_request(&dev, VIRTIO_BLK_T_FLUSH, 0, NULL, 0);
		if (st) {
			con_printf("BLK FAIL flush status=%x\n", (uint64_t)st);
			return 1;
		}
	}
	for (uint64_t s = first; s < first + sectors; s += CHUNK_SECTORS) {
		uint64_t n = first + sectors - s < CHUNK_SECTORS ? first + sectors - s : CHUNK_SECTORS;

		memset(rbuf, 0, sizeof(rbuf));
		st = blk_request(&dev, VIRTIO_BLK_T_IN, s, rbuf, (uint32_t)(n * 512));
		if (st) {
			con_printf("BLK FAIL read sector=%u status=%x\n", s, (uint64_t)st);
			return 1;
		}
		for (uint64_t w = 0; w < n * 64; w++) {
			if (!ro && rbuf[w] != pattern(seed, s + w / 64, w % 64)) {
				con_printf("BLK FAIL mismatch sector=%u word=%u\n", s + w / 64, w % 64);
				return 1;
			}
			sum = (sum ^ rbuf[w]) * 0x100000001b3ull;
		}
	}
	con_printf("BLK OK sectors=%u sum=%x%s\n", sectors, sum, ro ? " ro" : "");
	return 0;
}

/* virtio-blk.c - virtio block device over a raw image file or block device.
 *
 * One request queue; requests are served synchronously on the thread that
 * delivered the notification (vCPU or device thread), with preadv/pwritev
 * straight between the file and guest buffers.
 * Invariants:
 *  - a request's header is copied out of guest memory once and its fields
 *    are checked before use: [sector, sector + n) must lie inside the
 *    capacity (overflow-checked), data lengths must be whole sectors and at
 *    most BLK_MAX_DATA; anything else completes with VIRTIO_BLK_S_IOERR or
 *    VIRTIO_BLK_S_UNSUPP, never with a device failure;
 *  - the status byte is the last writable byte of the chain; a chain with no
 *    writable byte is returned with length 0 (there is nowhere to answer);
 *  - a read-only disk is opened O_RDONLY and refuses every writing request
 *    with IOERR; DISCARD / WRITE_ZEROES are offered only for writable
 *    regular files (fallocate). */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include "virtio-blk.h"

#define SECTOR 512u
#define BLK_MAX_DATA (1ull << 30)           /* bytes of data in one request */
#define BLK_DISCARD_SEG_MAX 16u
#define BLK_DISCARD_SECTORS_MAX (1u << 22)  /* 2 GiB per segment */
#define BLK_CONFIG_SIZE offsetof(struct virtio_blk_config, max_secure_erase_sectors)

struct virtio_blk {
	struct virtio_mmio vdev;
	int fd;
	bool readonly;
	bool can_discard;
	uint64_t capacity;                       /* sectors */
	char serial[VIRTIO_BLK_SERIAL_MAX];      /* zero-padded, not terminated */
	/* scratch for the request being served (under vdev.lock) */
	struct virtq_chain chain;
	struct iovec iov[VIRTQ_MAX_SIZE];
};

static struct virtio_blk *to_blk(struct virtio_mmio *vdev)
{
	return container_of(vdev, struct virtio_blk, vdev);
}

static bool range_ok(const struct virtio_blk *b, uint64_t sector, uint64_t nsect)
{
	return sector <= b->capacity && nsect <= b->capacity - sector;
}

/* Moves all of iov to or from the file at off, resuming short transfers. */
static int blk_rw(int fd, struct iovec *iov, int n, uint64_t off, bool write)
{
	for (;;) {
		ssize_t r;

		while (n > 0 && iov->iov_len == 0) {
			iov++;
			n--;
		}
		if (n == 0)
			return 0;
		r = write ? pwritev(fd, iov, n, (off_t)off) : preadv(fd, iov, n, (off_t)off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO;   /* the file shrank under us */
		off += (uint64_t)r;
		/* drop the segments done, shorten the one in progress */
		while (r > 0 && n > 0) {
			if ((size_t)r >= iov->iov_len) {
				r -= (ssize_t)iov->iov_len;
				iov->iov_len = 0;
				iov++;
				n--;
			} else {
				iov->iov_base = (uint8_t *)iov->iov_base + r;
				iov->iov_len -= (size_t)r;
				r = 0;
			}
		}
	}
}

static uint8_t blk_transfer(struct virtio_blk *b, const struct virtq_chain *c, bool write,
			    uint64_t sector, uint64_t *ret_written)
{
	/* data follows the 16-byte header (write) or precedes the status (read) */
	uint64_t len = write ? c->out_len - sizeof(struct virtio_blk_outhdr) : c->in_len - 1;
	int n;

	if (write && b->readonly)
		return VIRTIO_BLK_S_IOERR;
	if (len % SECTOR || len > BLK_MAX_DATA || !range_ok(b, sector, len / SECTOR))
		return VIRTIO_BLK_S_IOERR;
	n = virtq_chain_iov(c, !write, write ? sizeof(struct virtio_blk_outhdr) : 0, len,
			    b->iov, VIRTQ_MAX_SIZE);
	if (n < 0 || blk_rw(b->fd, b->iov, n, sector * SECTOR, write) < 0)
		return VIRTIO_BLK_S_IOERR;
	if (!write)
		*ret_written = len;
	return VIRTIO_BLK_S_OK;
}

static int write_zeroes_slow(int fd, uint64_t off, uint64_t len)
{
	static const uint8_t zero[65536];

	while (len > 0) {
		size_t n = len < sizeof(zero) ? len : sizeof(zero);
		ssize_t r = pwrite(fd, zero, n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

static int zero_range(int fd, uint64_t off, uint64_t len, bool discard, bool unmap)
{
	if (discard || unmap) {
		/* holes in a regular file read back as zeroes */
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
			return 0;
		if (discard)
			return errno == EOPNOTSUPP ? 0 : -errno;   /* discard is a hint */
	}
	if (fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
		return 0;
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
		return 0;
	return write_zeroes_slow(fd, off, len);
}

static uint8_t blk_discard(struct virtio_blk *b, const struct virtq_chain *c, bool discard)
{
	uint64_t data = c->out_len - sizeof(struct virtio_blk_outhdr);
	uint64_t nseg = data / sizeof(struct virtio_blk_discard_write_zeroes);

	if (b->readonly)
		return VIRTIO_BLK_S_IOERR;
	if (!b->can_discard)
		return VIRTIO_BLK_S_UNSUPP;
	if (data % sizeof(struct virtio_blk_discard_write_zeroes) || nseg == 0 ||
	    nseg > BLK_DISCARD_SEG_MAX)
		return VIRTIO_BLK_S_IOERR;
	for (uint64_t i = 0; i < nseg; i++) {
		struct virtio_blk_discard_write_zeroes s;
		uint64_t sector;
		uint32_t num, flags;

		virtq_chain_read(c, sizeof(struct virtio_blk_outhdr) + i * sizeof(s), &s, sizeof(s));
		sector = le64toh(s.sector);
		num = le32toh(s.num_sectors);
		flags = le32toh(s.flags);
		if (discard ? flags != 0 : (flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP))
			return VIRTIO_BLK_S_UNSUPP;
		if (num > BLK_DISCARD_SECTORS_MAX || !range_ok(b, sector, num))
			return VIRTIO_BLK_S_IOERR;
		if (zero_range(b->fd, sector * SECTOR, (uint64_t)num * SECTOR, discard,
			       flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) < 0)
			return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

static uint8_t blk_execute(struct virtio_blk *b, const struct virtq_chain *c,
			   const struct virtio_blk_outhdr *hdr, uint64_t *ret_written)
{
	uint64_t n;

	switch (le32toh(hdr->type)) {
	case VIRTIO_BLK_T_IN:
		return blk_transfer(b, c, false, le64toh(hdr->sector), ret_written);
	case VIRTIO_BLK_T_OUT:
		return blk_transfer(b, c, true, le64toh(hdr->sector), ret_written);
	case VIRTIO_BLK_T_FLUSH:
		if (!b->readonly && fdatasync(b->fd) < 0)
			return VIRTIO_BLK_S_IOERR;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID:
		n = c->in_len - 1 < VIRTIO_BLK_SERIAL_MAX ? c->in_len - 1 : VIRTIO_BLK_SERIAL_MAX;
		*ret_written = virtq_chain_write(c, 0, b->serial, n);
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_DISCARD:
		return blk_discard(b, c, true);
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return blk_discard(b, c, false);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

/* Serves one request; returns the used length (bytes written, status
 * included). */
static uint32_t blk_request(struct virtio_blk *b, const struct virtq_chain *c)
{
	struct virtio_blk_outhdr hdr;
	uint64_t written = 0;
	uint8_t status;

	if (c->in_len == 0)
		return 0;
	if (virtq_chain_read(c, 0, &hdr, sizeof(hdr)) != sizeof(hdr))
		status = VIRTIO_BLK_S_IOERR;
	else
		status = blk_execute(b, c, &hdr, &written);
	if (status != VIRTIO_BLK_S_OK)
		written = 0;
	virtq_chain_write(c, c->in_len - 1, &status, 1);
	return (uint32_t)(written + 1);   /* written <= BLK_MAX_DATA */
}

static int blk_notify(struct virtio_mmio *vdev, unsigned qi)
{
	struct virtio_blk *b = to_blk(vdev);
	struct virtq *q = &vdev->vq[qi];
	int r;

	while ((r = virtq_pop(q, &b->chain)) == 1)
		virtq_push(q, b->chain.head, blk_request(b, &b->chain));
	virtio_mmio_signal_used(vdev, qi);
	return r;
}

static void blk_get_config(struct virtio_mmio *vdev, uint8_t *buf)
{
	struct virtio_blk *b = to_blk(vdev);
	struct virtio_blk_config cfg = {
		.capacity = htole64(b->capacity),
		.seg_max = htole32(VIRTIO_BLK_QUEUE_SIZE - 2),
		.blk_size = htole32(SECTOR),
		.num_queues = htole16(1),
	};

	if (b->can_discard) {
		cfg.max_discard_sectors = htole32(BLK_DISCARD_SECTORS_MAX);
		cfg.max_discard_seg = htole32(BLK_DISCARD_SEG_MAX);
		cfg.discard_sector_alignment = htole32(4096 / SECTOR);
		cfg.max_write_zeroes_sectors = htole32(BLK_DISCARD_SECTORS_MAX);
		cfg.max_write_zeroes_seg = htole32(BLK_DISCARD_SEG_MAX);
		cfg.write_zeroes_may_unmap = 1;
	}
	memcpy(buf, &cfg, BLK_CONFIG_SIZE);
}

static const struct virtio_mmio_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.num_queues = 1,
	.config_size = BLK_CONFIG_SIZE,
	.get_config = blk_get_config,
	.notify = blk_notify,
};

static int disk_size(int fd, bool *ret_regular, uint64_t *ret_bytes)
{
	struct stat st;
	uint64_t bytes;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		bytes = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
			return -errno;
	} else {
		return -EINVAL;
	}
	*ret_regular = S_ISREG(st.st_mode);
	*ret_bytes = bytes;
	return 0;
}

int virtio_blk_create(const struct virtio_blk_params *p, const struct guest_mem *mem,
		      struct vmm_irq *irq, uint64_t base, struct virtio_blk **ret_blk)
{
	struct virtio_blk *b;
	uint64_t features, bytes = 0;
	bool regular = false;
	int r;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->fd = open(p->path, (p->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0) {
		r = -errno;
		goto fail;
	}
	r = disk_size(b->fd, &regular, &bytes);
	if (r < 0)
		goto fail;
	b->capacity = bytes / SECTOR;   /* a partial last sector is not exposed */
	b->readonly = p->readonly;
	b->can_discard = regular && !p->readonly;
	if (p->serial)   /* not NUL-terminated when 20 bytes long */
		memcpy(b->serial, p->serial, strnlen(p->serial, sizeof(b->serial)));
	features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
		   (1ull << VIRTIO_BLK_F_FLUSH);
	if (b->readonly)
		features |= 1ull << VIRTIO_BLK_F_RO;
	if (b->can_discard)
		features |= (1ull << VIRTIO_BLK_F_DISCARD) | (1ull << VIRTIO_BLK_F_WRITE_ZEROES);
	r = virtio_mmio_init(&b->vdev, &blk_ops, mem, irq, base, features, VIRTIO_BLK_QUEUE_SIZE);
	if (r < 0)
		goto fail;
	*ret_blk = b;
	return 0;
fail:
	if (b->fd >= 0)
		close(b->fd);
	free(b);
	return r;
}

struct virtio_blk *virtio_blk_free(struct virtio_blk *blk)
{
	if (!blk)
		return NULL;
	virtio_mmio_destroy(&blk->vdev);
	if (blk->fd >= 0)
		close(blk->fd);
	free(blk);
	return NULL;
}

struct virtio_mmio *virtio_blk_mmio(struct virtio_blk *blk)
{
	return &blk->vdev;
}

uint64_t virtio_blk_capacity(const struct virtio_blk *blk)
{
	return blk->capacity;
}

void virtio_blk_save(const struct virtio_blk *blk, struct virtio_blk_state *st)
{
	*st = (struct virtio_blk_state){ .capacity = blk->capacity, .readonly = blk->readonly };
	virtio_mmio_save(&blk->vdev, &st->mmio);
}

int virtio_blk_restore(struct virtio_blk *blk, const struct virtio_blk_state *st)
{
	if (st->capacity != blk->capacity || st->readonly != blk->readonly)
		return -EINVAL;
	return virtio_mmio_restore(&blk->vdev, &st->mmio);
}

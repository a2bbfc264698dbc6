/* virtqueue.h - split virtqueues (virtio 1.x) seen from the device side.
 *
 * The driver (the guest) places the descriptor table, the available ring and
 * the used ring anywhere in guest RAM. virtq_enable() range-checks the three
 * areas once and keeps host pointers to them; after that every guest value
 * read from them (ring entries, descriptor fields, indexes) is fetched exactly
 * once and checked before use. A malformed ring makes virtq_pop() return a
 * negative errno; the transport then marks the whole device failed. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include "guest-mem.h"

/* Largest queue size any hvd device offers (QueueNumMax). A chain never has
 * more segments than its queue's size, so a chain always fits. */
#define VIRTQ_MAX_SIZE 256

struct virtq_desc;
struct virtq_avail;
struct virtq_used;

/* One guest buffer of a chain, already translated to a host pointer. */
struct virtq_seg {
	void *ptr;
	uint32_t len;
	bool writable;
};

/* A popped descriptor chain: device-readable segments first, then
 * device-writable ones (virtq_pop refuses any other order). */
struct virtq_chain {
	uint16_t head;      /* id to hand back to virtq_push */
	unsigned nseg;
	unsigned nout;      /* seg[0 .. nout) readable, seg[nout .. nseg) writable */
	uint64_t out_len;   /* bytes the device may read */
	uint64_t in_len;    /* bytes the device may write */
	struct virtq_seg seg[VIRTQ_MAX_SIZE];
};

struct virtq {
	/* written by the driver through the transport while the queue is off */
	uint16_t size;
	uint16_t max_size;
	bool ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* negotiated features in force while ready */
	bool event_idx;
	bool indirect;
	/* device progress */
	uint16_t last_avail;      /* next avail ring slot to consume */
	uint16_t used_idx;        /* our copy of used->idx (never read back) */
	uint16_t signalled_used;  /* used_idx when the driver was last interrupted */
	/* resolved by virtq_enable */
	const struct guest_mem *mem;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
};

/* Plain-data state of one queue for snapshots (no pointers). */
struct virtq_state {
	uint16_t size;
	uint8_t ready;
	uint8_t event_idx;
	uint8_t indirect;
	uint8_t pad[3];
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t last_avail;
	uint16_t used_idx;
	uint16_t signalled_used;
	uint16_t pad2;
};

/* Puts q in its reset state: not ready, size = max_size, addresses 0,
 * indexes 0. max_size must be a power of two <= VIRTQ_MAX_SIZE. */
void virtq_reset(struct virtq *q, uint16_t max_size);

/* Validates the driver's settings (size a power of two <= max_size,
 * alignment 16/2/4, the three areas inside guest RAM) and makes the queue
 * ready. Returns 0, or -EINVAL (size or alignment) / -EFAULT (outside RAM);
 * q is unchanged on error. */
int virtq_enable(struct virtq *q, const struct guest_mem *mem, bool event_idx, bool indirect);

/* Takes the next available chain. Returns 1 and fills *chain, 0 when the
 * ring is empty (or the queue is not ready), or a negative errno when the
 * ring is malformed: -ERANGE avail idx moved by more than the queue size,
 * -EINVAL bad index, flags or layout, -EFAULT a buffer outside guest RAM,
 * -ELOOP a chain longer than the queue (loops included). After an error the
 * queue must not be used until reset, and *chain holds garbage (it is the
 * caller's scratch space, not a result). */
int virtq_pop(struct virtq *q, struct virtq_chain *chain);

/* Gives back the chain popped last (nothing was done with it). */
void virtq_unpop(struct virtq *q);

/* Returns chain head to the driver with len bytes written into it. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t len);

/* True when the driver wants an interrupt for what was pushed since the
 * previous call (VIRTIO_F_EVENT_IDX or VRING_AVAIL_F_NO_INTERRUPT). */
bool virtq_should_notify(struct virtq *q);

/* Copies up to len bytes from the chain's readable bytes at offset off.
 * Returns the number of bytes copied (short at the end of the chain). */
size_t virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *buf, size_t len);

/* Copies up to len bytes into the chain's writable bytes at offset off.
 * Returns the number of bytes copied. */
size_t virtq_chain_write(const struct virtq_chain *c, uint64_t off, const void *buf, size_t len);

/* Describes readable (writable == false) or writable bytes [off, off + len)
 * of the chain as at most max iovecs. Returns the number of iovecs, or
 * -ENOBUFS if the range is not entirely inside the chain or needs more than
 * max entries. */
int virtq_chain_iov(const struct virtq_chain *c, bool writable, uint64_t off, uint64_t len,
		    struct iovec *iov, unsigned max);

/* A static description of a virtq_pop error, for error reports. */
const char *virtq_strerror(int err);

void virtq_save(const struct virtq *q, struct virtq_state *st);

/* Restores q from st, re-validating it against mem as virtq_enable does.
 * Returns 0 or -EINVAL / -EFAULT; q is unchanged on error. */
int virtq_restore(struct virtq *q, const struct virtq_state *st, const struct guest_mem *mem);

/* virtqueue.c - device side of virtio 1.x split virtqueues.
 *
 * Invariants:
 *  - desc, avail and used point into guest RAM and cover the whole area of a
 *    queue of `size` entries; they were range-checked once by virtq_enable
 *    (or virtq_restore), so ring slots reduced modulo size need no checks.
 *  - Every field the guest may change concurrently is read with one atomic
 *    load into a local and only the local is used afterwards (no double
 *    fetch); descriptor buffers are translated with guest_mem_ptr.
 *  - A chain visits at most `size` data descriptors, counting those in an
 *    indirect table, so loops and over-long chains end with -ELOOP.
 *  - Used elements are published with a release store of used->idx; the
 *    driver's notification-suppression fields are read after a full fence.
 *
 * VIRTIO_F_EVENT_IDX is supported: avail_event is kept equal to last_avail
 * so the driver kicks for the next buffer, and used_event decides interrupts.
 * Guest memory is little-endian; hvd only runs on x86-64, and the le*toh
 * conversions below document where the byte order matters. */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <linux/virtio_ring.h>
#include "virtqueue.h"

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];   /* size entries, then used_event */
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];   /* size entries, then avail_event */
};

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

void virtq_reset(struct virtq *q, uint16_t max_size)
{
	*q = (struct virtq){ .size = max_size, .max_size = max_size };
}

static int virtq_resolve(const struct virtq *q, const struct guest_mem *mem, uint16_t size,
			 struct virtq_desc **ret_desc, struct virtq_avail **ret_avail,
			 struct virtq_used **ret_used)
{
	void *desc, *avail, *used;

	if (size == 0 || size > q->max_size || (size & (size - 1)) != 0)
		return -EINVAL;
	if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3))
		return -EINVAL;
	/* sizes from the spec: 16*N, 6 + 2*N, 6 + 8*N (event fields included) */
	desc = guest_mem_ptr(mem, q->desc_gpa, 16ull * size);
	avail = guest_mem_ptr(mem, q->avail_gpa, 6ull + 2ull * size);
	used = guest_mem_ptr(mem, q->used_gpa, 6ull + 8ull * size);
	if (!desc || !avail || !used)
		return -EFAULT;
	*ret_desc = desc;
	*ret_avail = avail;
	*ret_used = used;
	return 0;
}

int virtq_enable(struct virtq *q, const struct guest_mem *mem, bool event_idx, bool indirect)
{
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	int r;

	r = virtq_resolve(q, mem, q->size, &desc, &avail, &used);
	if (r < 0)
		return r;
	q->mem = mem;
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	q->event_idx = event_idx;
	q->indirect = indirect;
	q->last_avail = 0;
	q->used_idx = 0;
	q->signalled_used = 0;
	q->ready = true;
	return 0;
}

static void virtq_set_avail_event(struct virtq *q)
{
	uint16_t *avail_event = (uint16_t *)&q->used->ring[q->size];

	STORE(avail_event, htole16(q->last_avail));
}

/* One fetch of each field of descriptor d. */
static struct virtq_desc virtq_read_desc(const struct virtq_desc *d)
{
	return (struct virtq_desc){
		.addr = le64toh(LOAD(&d->addr)),
		.len = le32toh(LOAD(&d->len)),
		.flags = le16toh(LOAD(&d->flags)),
		.next = le16toh(LOAD(&d->next)),
	};
}

static int virtq_walk(const struct virtq *q, uint16_t head, struct virtq_chain *c)
{
	const struct virtq_desc *table = q->desc;
	uint32_t table_n = q->size;
	uint16_t idx = head;
	unsigned count = 0;
	bool in_indirect = false;

	c->head = head;
	c->nseg = c->nout = 0;
	c->out_len = c->in_len = 0;
	for (;;) {
		struct virtq_desc d = virtq_read_desc(&table[idx]);
		bool writable = d.flags & VRING_DESC_F_WRITE;
		void *p;

		if (d.flags & VRING_DESC_F_INDIRECT) {
			/* an indirect descriptor ends the main chain and may
			 * not appear inside a table */
			if (!q->indirect || in_indirect || (d.flags & VRING_DESC_F_NEXT))
				return -EINVAL;
			/* the spec sets no alignment for indirect tables; Linux
			 * kmallocs them (8-byte aligned at least), and 8 is
			 * what the single-copy atomic loads below need */
			if (d.len == 0 || d.len % sizeof(struct virtq_desc) || (d.addr & 7))
				return -EINVAL;
			table = guest_mem_ptr(q->mem, d.addr, d.len);
			if (!table)
				return -EFAULT;
			table_n = d.len / sizeof(struct virtq_desc);
			in_indirect = true;
			idx = 0;
			continue;
		}
		if (++count > q->size)
			return -ELOOP;
		p = guest_mem_ptr(q->mem, d.addr, d.len);
		if (!p)
			return -EFAULT;
		if (!writable && c->nseg > c->nout)
			return -EINVAL;   /* readable after writable */
		c->seg[c->nseg++] = (struct virtq_seg){ .ptr = p, .len = d.len, .writable = writable };
		if (writable) {
			c->in_len += d.len;
		} else {
			c->nout++;
			c->out_len += d.len;
		}
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= table_n)
			return -EINVAL;
		idx = d.next;
	}
}

int virtq_pop(struct virtq *q, struct virtq_chain *chain)
{
	uint16_t avail_idx, pending, head;
	int r;

	if (!q->ready)
		return 0;
	avail_idx = le16toh(__atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE));
	pending = (uint16_t)(avail_idx - q->last_avail);
	if (pending == 0 && q->event_idx) {
		/* ask for a kick on the next buffer, then look again so a
		 * buffer added in between is not missed */
		virtq_set_avail_event(q);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail_idx = le16toh(__atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE));
		pending = (uint16_t)(avail_idx - q->last_avail);
	}
	if (pending == 0)
		return 0;
	if (pending > q->size)
		return -ERANGE;
	head = le16toh(LOAD(&q->avail->ring[q->last_avail & (q->size - 1)]));
	if (head >= q->size)
		return -EINVAL;
	r = virtq_walk(q, head, chain);
	if (r < 0)
		return r;
	q->last_avail++;
	if (q->event_idx)
		virtq_set_avail_event(q);
	return 1;
}

void virtq_unpop(struct virtq *q)
{
	q->last_avail--;
	if (q->event_idx)
		virtq_set_avail_event(q);
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	struct virtq_used_elem *e = &q->used->ring[q->used_idx & (q->size - 1)];

	STORE(&e->id, htole32(head));
	STORE(&e->len, htole32(len));
	q->used_idx++;
	/* the element must be visible before the index that publishes it */
	__atomic_store_n(&q->used->idx, htole16(q->used_idx), __ATOMIC_RELEASE);
}

bool virtq_should_notify(struct virtq *q)
{
	uint16_t old = q->signalled_used, used_event;

	if (!q->ready)
		return false;
	/* order our used->idx store before reading the driver's wishes */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	q->signalled_used = q->used_idx;
	if (q->event_idx) {
		used_event = le16toh(LOAD(&q->avail->ring[q->size]));
		return vring_need_event(used_event, q->used_idx, old);
	}
	if (old == q->used_idx)
		return false;
	return !(le16toh(LOAD(&q->avail->flags)) & VRING_AVAIL_F_NO_INTERRUPT);
}

size_t virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < c->nout && done < len; i++) {
		const struct virtq_seg *s = &c->seg[i];
		size_t n;

		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = s->len - off;
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)buf + done, (uint8_t *)s->ptr + off, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t virtq_chain_write(const struct virtq_chain *c, uint64_t off, const void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned i = c->nout; i < c->nseg && done < len; i++) {
		const struct virtq_seg *s = &c->seg[i];
		size_t n;

		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = s->len - off;
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)s->ptr + off, (const uint8_t *)buf + done, n);
		done += n;
		off = 0;
	}
	return done;
}

int virtq_chain_iov(const struct virtq_chain *c, bool writable, uint64_t off, uint64_t len,
		    struct iovec *iov, unsigned max)
{
	unsigned first = writable ? c->nout : 0, last = writable ? c->nseg : c->nout;
	uint64_t total = writable ? c->in_len : c->out_len, end;
	unsigned n = 0;

	if (__builtin_add_overflow(off, len, &end) || end > total)
		return -ENOBUFS;
	for (unsigned i = first; i < last && len > 0; i++) {
		const struct virtq_seg *s = &c->seg[i];
		uint64_t take;

		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		if (n == max)
			return -ENOBUFS;
		take = s->len - off;
		if (take > len)
			take = len;
		iov[n++] = (struct iovec){ .iov_base = (uint8_t *)s->ptr + off, .iov_len = take };
		len -= take;
		off = 0;
	}
	return (int)n;
}

void virtq_save(const struct virtq *q, struct virtq_state *st)
{
	*st = (struct virtq_state){
		.size = q->size,
		.ready = q->ready,
		.event_idx = q->event_idx,
		.indirect = q->indirect,
		.desc_gpa = q->desc_gpa,
		.avail_gpa = q->avail_gpa,
		.used_gpa = q->used_gpa,
		.last_avail = q->last_avail,
		.used_idx = q->used_idx,
		.signalled_used = q->signalled_used,
	};
}

int virtq_restore(struct virtq *q, const struct virtq_state *st, const struct guest_mem *mem)
{
	struct virtq t;
	int r;

	virtq_reset(&t, q->max_size);
	if (st->ready > 1 || st->event_idx > 1 || st->indirect > 1)
		return -EINVAL;
	/* a queue that is off may hold any size the driver wrote; a ready
	 * one is checked in full by virtq_enable below */
	if (st->size > q->max_size)
		return -EINVAL;
	t.size = st->size;
	t.desc_gpa = st->desc_gpa;
	t.avail_gpa = st->avail_gpa;
	t.used_gpa = st->used_gpa;
	if (st->ready) {
		r = virtq_enable(&t, mem, st->event_idx, st->indirect);
		if (r < 0)
			return r;
		t.last_avail = st->last_avail;
		t.used_idx = st->used_idx;
		t.signalled_used = st->signalled_used;
	}
	*q = t;
	return 0;
}

const char *virtq_strerror(int err)
{
	switch (err) {
	case -ERANGE: return "available index moved by more than the queue size";
	case -ELOOP: return "descriptor chain longer than the queue (or a loop)";
	case -EFAULT: return "buffer or ring outside guest RAM";
	case -EINVAL: return "malformed descriptor or ring";
	default: return "device error";
	}
}

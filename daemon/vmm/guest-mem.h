/* guest-mem.h - guest physical memory as seen by the VMM and its devices.
 *
 * Guest RAM is one memfd mapped once into the VMM. Every guest-controlled
 * address goes through guest_mem_ptr(), which range-checks [gpa, gpa+len)
 * with overflow-checked arithmetic and returns NULL when any byte falls
 * outside RAM. Devices never compute host pointers themselves. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

/* RAM above 3 GiB continues at 4 GiB: [3 GiB, 4 GiB) holds the 32-bit device
 * window (virtio-mmio, IOAPIC, LAPIC). */
#define GUEST_MEM_HOLE_START 0xc0000000ull
#define GUEST_MEM_HIGH_START 0x100000000ull

struct guest_mem {
	uint8_t *host;  /* mapping of the whole of guest RAM, low part first */
	uint64_t size;  /* bytes of RAM in all */
	uint64_t low_size; /* bytes at guest physical 0 (0: all of size); the
			    * rest sits at GUEST_MEM_HIGH_START */
	int fd;         /* the memfd backing it, -1 for anonymous memory */
	bool frozen;    /* mapped MAP_PRIVATE over fd: fd holds a frozen image
	                 * (snapshot or clone source) that the guest's writes
	                 * no longer reach */
};

/* Host pointer to guest range [gpa, gpa + len), or NULL if the range is
 * empty-overflowing or not entirely inside guest RAM. len == 0 is allowed
 * and checks only gpa <= size. */
/* How much of size bytes of RAM sits at guest physical 0. */
static inline uint64_t guest_mem_low_part(uint64_t size)
{
	return size < GUEST_MEM_HOLE_START ? size : GUEST_MEM_HOLE_START;
}

/* Bytes of RAM at guest physical 0. */
static inline uint64_t guest_mem_low(const struct guest_mem *m)
{
	return m->low_size ? m->low_size : m->size;
}

/* Host address of [gpa, gpa + len), or NULL unless the whole range is RAM
 * of one part (low or high). */
static inline void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	uint64_t end, low = guest_mem_low(m);

	if (__builtin_add_overflow(gpa, len, &end))
		return NULL;
	if (end <= low)
		return m->host + gpa;
	if (low < m->size && gpa >= GUEST_MEM_HIGH_START &&
	    end - GUEST_MEM_HIGH_START <= m->size - low)
		return m->host + low + (gpa - GUEST_MEM_HIGH_START);
	return NULL;
}

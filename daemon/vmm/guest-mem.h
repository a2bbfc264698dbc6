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

struct guest_mem {
	uint8_t *host;  /* mapping of the whole of guest RAM */
	uint64_t size;  /* bytes of RAM, starting at guest physical 0 */
	int fd;         /* the memfd backing it, -1 for anonymous memory */
	bool frozen;    /* mapped MAP_PRIVATE over fd: fd holds a frozen image
	                 * (snapshot or clone source) that the guest's writes
	                 * no longer reach */
};

/* Host pointer to guest range [gpa, gpa + len), or NULL if the range is
 * empty-overflowing or not entirely inside guest RAM. len == 0 is allowed
 * and checks only gpa <= size. */
static inline void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	uint64_t end;

	if (__builtin_add_overflow(gpa, len, &end) || end > m->size)
		return NULL;
	return m->host + gpa;
}

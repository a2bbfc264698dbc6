/* memory.h - guest RAM: one memfd, mapped once, filling struct guest_mem. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "guest-mem.h"

/* RAM is one range at guest physical 0, so it must end below the 32-bit
 * device window (virtio-mmio at 0xd0000000, IOAPIC, LAPIC). */
#define VMM_RAM_MAX 0xc0000000ull

/* Creates size bytes of zeroed guest RAM (size a multiple of 2 MiB, at
 * most VMM_RAM_MAX) in a memfd named name, backed by 2 MiB hugepages when
 * hugepages is true. Returns 0, -EINVAL (size), -ENOMEM, or the memfd /
 * ftruncate / mmap error (hugepages unavailable: -ENOMEM or -EINVAL). */
int vmm_memory_create(const char *name, uint64_t size, bool hugepages, struct guest_mem *ret);

/* Unmaps and closes. Accepts NULL, a zeroed struct or a destroyed one. */
void vmm_memory_destroy(struct guest_mem *mem);

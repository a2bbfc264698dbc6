/* memory.h - guest RAM: one memfd, mapped once, filling struct guest_mem. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "guest-mem.h"

/* RAM is one mapping; the guest sees up to 3 GiB of it at guest physical 0
 * and the rest at 4 GiB, around the 32-bit device window (virtio-mmio at
 * 0xd0000000, IOAPIC, LAPIC): guest-mem.h. */
#define VMM_RAM_MAX (256ull << 30)

/* Creates size bytes of zeroed guest RAM (size a multiple of 2 MiB, at
 * most VMM_RAM_MAX) in a memfd named name, backed by 2 MiB hugepages when
 * hugepages is true. Returns 0, -EINVAL (size), -ENOMEM, or the memfd /
 * ftruncate / mmap error (hugepages unavailable: -ENOMEM or -EINVAL). */
int vmm_memory_create(const char *name, uint64_t size, bool hugepages, struct guest_mem *ret);

/* Guest RAM from a frozen memory image (a snapshot's memory file, or
 * /proc/PID/fd/N of a frozen VM's memfd): opened read-only and mapped
 * MAP_PRIVATE, so nothing is read up front (pages fault in when the guest
 * touches them) and the guest's writes stay in this process. The file must
 * be exactly size bytes. Returns 0, -EINVAL (size, or not a regular
 * file), or the open / mmap error. */
int vmm_memory_open_image(const char *path, uint64_t size, struct guest_mem *ret);

/* Makes the memory as it is now a frozen image, with the VM paused: the
 * first time, the running memfd itself (the mapping is replaced, at the
 * same address, by a MAP_PRIVATE one of the same memfd: no copy, whatever
 * the size); when mem is already frozen, a new memfd named name receives a
 * copy of the current contents (pages never touched stay holes) and
 * becomes the image. After it, mem->fd is the image and mem->frozen is
 * set; the old image's fd is closed (whoever needs it opened it already).
 * Returns 0 or -errno of the copy (mem unchanged), or -ENOTRECOVERABLE
 * when replacing the mapping failed: the guest may have lost its RAM and
 * the VM must stop. */
int vmm_memory_freeze(struct guest_mem *mem, const char *name);

/* Unmaps and closes. Accepts NULL, a zeroed struct or a destroyed one. */
void vmm_memory_destroy(struct guest_mem *mem);

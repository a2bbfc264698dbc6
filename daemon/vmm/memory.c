/* memory.c - guest RAM in a memfd.
 *
 * A memfd (rather than anonymous memory) lets snapshot, clone and migration
 * code share or map the same pages later, and shows up named in
 * /proc/PID/maps. The mapping is MAP_SHARED and MADV_DONTDUMP (guest RAM
 * has no place in a VMM core dump). Pages are touched only by the guest, so
 * RSS grows with what the guest uses. */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "memory.h"

#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21 << 26)
#endif

int vmm_memory_create(const char *name, uint64_t size, bool hugepages, struct guest_mem *ret)
{
	unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	void *p;
	int fd, r;

	if (size == 0 || size > VMM_RAM_MAX || size % (2u << 20))
		return -EINVAL;
	if (hugepages)
		flags = MFD_CLOEXEC | MFD_HUGETLB | MFD_HUGE_2MB;
	fd = memfd_create(name, flags);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	/* The size is fixed from now on: no one can shrink it under the guest. */
	if (!hugepages)
		(void)fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED) {
		r = -errno;
		close(fd);
		return r;
	}
	(void)madvise(p, size, MADV_DONTDUMP);
	*ret = (struct guest_mem){ .host = p, .size = size, .fd = fd };
	return 0;
}

void vmm_memory_destroy(struct guest_mem *mem)
{
	/* Only a created mapping owns its fd: a zeroed struct has fd 0. */
	if (!mem || !mem->host)
		return;
	munmap(mem->host, mem->size);
	if (mem->fd >= 0)
		close(mem->fd);
	mem->host = NULL;
	mem->size = 0;
	mem->fd = -1;
}

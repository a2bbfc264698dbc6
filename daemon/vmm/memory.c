/* memory.c - guest RAM in a memfd.
 *
 * A memfd (rather than anonymous memory) lets snapshot, clone and migration
 * code share or map the same pages later, and shows up named in
 * /proc/PID/maps. The mapping is MAP_SHARED and MADV_DONTDUMP (guest RAM
 * has no place in a VMM core dump). Pages are touched only by the guest, so
 * RSS grows with what the guest uses.
 *
 * Freezing (snapshots, live clones) swaps the MAP_SHARED mapping for a
 * MAP_PRIVATE one of the same memfd at the same address: from then on the
 * guest's writes go to private copy-on-write pages and the memfd keeps the
 * contents of the moment of the freeze, which other processes map
 * MAP_PRIVATE in turn. KVM's memory slot names the address range, not the
 * pages; its MMU notifier drops the old translations when the mapping is
 * replaced, so the slot stays as it is. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
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
	/* 2 MiB pages where the host allows them for shared memory
	 * (transparent_hugepage/shmem_enabled = advise): fewer TLB misses and
	 * nested page faults for the guest, and a freeze has 512 times fewer
	 * page table entries to drop */
	if (!hugepages)
		(void)madvise(p, size, MADV_HUGEPAGE);
	*ret = (struct guest_mem){ .host = p, .size = size, .fd = fd,
				   .low_size = guest_mem_low_part(size) };
	return 0;
}

int vmm_memory_open_image(const char *path, uint64_t size, struct guest_mem *ret)
{
	struct stat st;
	void *p;
	int fd, r;

	if (size == 0 || size > VMM_RAM_MAX || size % (2u << 20))
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != size) {
		r = -EINVAL;
		goto fail;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	(void)madvise(p, size, MADV_DONTDUMP);
	(void)madvise(p, size, MADV_HUGEPAGE);   /* the image's 2 MiB pages, mapped whole */
	*ret = (struct guest_mem){ .host = p, .size = size, .fd = fd, .frozen = true,
				   .low_size = guest_mem_low_part(size) };
	return 0;
fail:
	close(fd);
	return r;
}

/* A copy of the current contents into a new memfd, skipping the pages
 * that read as zero (they stay holes). */
static int copy_to_memfd(const struct guest_mem *mem, const char *name, int *ret_fd)
{
	static const uint8_t zero[4096];
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING), r;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)mem->size) < 0)
		goto fail;
	for (uint64_t off = 0; off < mem->size; off += sizeof(zero)) {
		const uint8_t *page = mem->host + off;

		if (!memcmp(page, zero, sizeof(zero)))
			continue;
		if (pwrite(fd, page, sizeof(zero), (off_t)off) != (ssize_t)sizeof(zero)) {
			if (errno == 0)
				errno = EIO;
			goto fail;
		}
	}
	*ret_fd = fd;
	return 0;
fail:
	r = -errno;
	close(fd);
	return r;
}

int vmm_memory_freeze(struct guest_mem *mem, const char *name)
{
	int fd = mem->fd, r;
	void *p;

	if (!mem->host || fd < 0)
		return -EINVAL;
	if (mem->frozen) {
		r = copy_to_memfd(mem, name, &fd);
		if (r < 0)
			return r;
	}
	p = mmap(mem->host, mem->size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_NORESERVE | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED) {
		/* a failed MAP_FIXED may have unmapped the old range already */
		if (fd != mem->fd)
			close(fd);
		return -ENOTRECOVERABLE;
	}
	(void)madvise(p, mem->size, MADV_DONTDUMP);
	if (fd != mem->fd)
		close(mem->fd);
	mem->fd = fd;
	mem->frozen = true;
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

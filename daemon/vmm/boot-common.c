/* boot-common.c - what both kernel formats share: format detection, the
 * e820 map, the command line, the initrd, the entry GDT and the identity
 * page tables.
 *
 * Every write into guest memory goes through guest_mem_ptr() with the
 * exact length, so a kernel or initrd that does not fit fails the load
 * with -ENOMEM instead of writing past RAM. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "boot.h"

unsigned vmm_e820_build(uint64_t ram_size, struct vmm_e820_entry *out, unsigned max)
{
	uint64_t low = guest_mem_low_part(ram_size);
	struct vmm_e820_entry e[] = {
		{ 0, VMM_MPTABLE_START, VMM_E820_RAM },
		{ VMM_MPTABLE_START, VMM_EBDA_END - VMM_MPTABLE_START, VMM_E820_RESERVED },
		{ 0xf0000, 0x10000, VMM_E820_RESERVED },   /* where a BIOS would be */
		{ VMM_HIMEM_START, low - VMM_HIMEM_START, VMM_E820_RAM },
		/* what does not fit below the device window (guest-mem.h) */
		{ GUEST_MEM_HIGH_START, ram_size - low, VMM_E820_RAM },
	};
	unsigned n = sizeof(e) / sizeof(e[0]) - (ram_size > low ? 0 : 1);

	if (n > max)
		n = max;
	memcpy(out, e, n * sizeof(e[0]));
	return n;
}

int vmm_boot_read_into(const struct guest_mem *mem, int fd, uint64_t off, uint64_t gpa,
		       uint64_t len)
{
	uint8_t *p = guest_mem_ptr(mem, gpa, len);

	if (!p)
		return -ENOMEM;
	while (len) {
		ssize_t n = pread(fd, p, len > (1u << 30) ? (1u << 30) : len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ENOEXEC;   /* file shorter than its headers say */
		p += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

int vmm_boot_write_cmdline(const struct guest_mem *mem, const char *cmdline, size_t max)
{
	size_t len = strlen(cmdline ? cmdline : "") + 1;
	char *p;

	if (len > max)
		return -E2BIG;
	p = guest_mem_ptr(mem, VMM_BOOT_CMDLINE, len);
	if (!p)
		return -ENOMEM;
	memcpy(p, cmdline ? cmdline : "", len);
	return 0;
}

int vmm_boot_load_initrd(const struct guest_mem *mem, const char *path, uint64_t limit,
			 uint64_t *ret_addr, uint64_t *ret_size)
{
	struct stat st;
	uint64_t top = limit < guest_mem_low(mem) ? limit : guest_mem_low(mem);
	uint64_t addr;
	int fd, r;

	if (!path) {
		*ret_addr = 0;
		*ret_size = 0;
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	r = -ENOMEM;
	if ((uint64_t)st.st_size + 0x1000 > top - (16u << 20) || top < (16u << 20))
		goto out;   /* keep the low 16 MiB for the kernel */
	addr = (top - (uint64_t)st.st_size) & ~0xfffull;
	r = vmm_boot_read_into(mem, fd, 0, addr, (uint64_t)st.st_size);
	if (r == 0) {
		*ret_addr = addr;
		*ret_size = (uint64_t)st.st_size;
	}
out:
	close(fd);
	return r;
}

static int write_gdt_and_page_tables(const struct guest_mem *mem)
{
	static const uint64_t gdt[VMM_GDT_ENTRIES] = VMM_GDT_INIT;
	uint64_t *g = guest_mem_ptr(mem, VMM_BOOT_GDT, sizeof(gdt));
	uint64_t *pt = guest_mem_ptr(mem, VMM_BOOT_PML4, 6 * 4096);

	if (!g || !pt)
		return -ENOMEM;
	memcpy(g, gdt, sizeof(gdt));
	memset(pt, 0, 6 * 4096);
	/* PML4[0] -> PDPT; PDPT[0..3] -> four PDs of 2 MiB pages: 0-4 GiB. */
	pt[0] = (VMM_BOOT_PML4 + 0x1000) | 0x3;
	for (unsigned i = 0; i < 4; i++)
		pt[512 + i] = (VMM_BOOT_PML4 + 0x2000 + i * 0x1000) | 0x3;
	for (unsigned i = 0; i < 4 * 512; i++)
		pt[1024 + i] = ((uint64_t)i << 21) | 0x83;
	return 0;
}

int vmm_boot_load(const struct guest_mem *mem, const struct vmm_boot_config *cfg,
		  struct vmm_boot *ret)
{
	int fd, r;

	if (mem->size < (16u << 20))
		return -ENOMEM;
	r = write_gdt_and_page_tables(mem);
	if (r < 0)
		return r;
	fd = open(cfg->kernel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = vmm_boot_pvh_load(mem, fd, cfg, ret);
	if (r == -ENOEXEC)
		r = vmm_boot_bzimage_load(mem, fd, cfg, ret);
	close(fd);
	return r;
}

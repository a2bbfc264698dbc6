/* boot.h - low-memory layout of a booting guest and the kernel loaders.
 *
 *   0x00500  GDT used at entry: 0x08 code32, 0x10 code64, 0x18 data, 0x20
 *            TSS (Linux's boot protocol wants __BOOT_CS 0x10, __BOOT_DS 0x18)
 *   0x06000  PVH hvm_start_info, module list, memory map
 *   0x07000  Linux boot_params (zero page)
 *   0x09000  page tables for the 64-bit Linux entry (PML4, PDPT, 4 PDs:
 *            identity map of 4 GiB with 2 MiB pages)
 *   0x20000  kernel command line (VMM_CMDLINE_MAX bytes)
 *   0x9fc00  MP tables (reserved in e820 up to 0xa0000)
 *   0x100000 kernel (PVH ELF segments go where they say, at or above this)
 *   top      initrd, page aligned, just below the end of RAM
 */
#pragma once
#include <stdint.h>
#include "cpu.h"
#include "guest-mem.h"

#define VMM_BOOT_GDT        0x500ull
#define VMM_GDT_CODE32      0x08
#define VMM_GDT_CODE64      0x10
#define VMM_GDT_DATA        0x18
#define VMM_GDT_TSS         0x20
#define VMM_GDT_ENTRIES     5
/* The descriptors, as written to VMM_BOOT_GDT (boot-common.c) and loaded
 * into the segment registers (regs.c). */
#define VMM_GDT_INIT { 0, 0x00cf9b000000ffffull, 0x00af9b000000ffffull, \
		       0x00cf93000000ffffull, 0x00008b0000000067ull }
#define VMM_BOOT_START_INFO 0x6000ull
#define VMM_BOOT_ZERO_PAGE  0x7000ull
#define VMM_BOOT_PML4       0x9000ull
#define VMM_BOOT_CMDLINE    0x20000ull
#define VMM_CMDLINE_MAX     4096
#define VMM_MPTABLE_START   0x9fc00ull
#define VMM_EBDA_END        0xa0000ull
#define VMM_HIMEM_START     0x100000ull

#define VMM_E820_RAM      1
#define VMM_E820_RESERVED 2
#define VMM_E820_MAX      8

struct vmm_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/* The guest's memory map for ram_size bytes of RAM. Returns the count. */
unsigned vmm_e820_build(uint64_t ram_size, struct vmm_e820_entry *out, unsigned max);

struct vmm_boot_config {
	const char *kernel;   /* path: ELF with a PVH note, or a bzImage */
	const char *initrd;   /* path or NULL */
	const char *cmdline;  /* full command line, devices included */
	uint64_t rsdp;        /* ACPI RSDP guest address, 0: none */
};

/* Loads the kernel (format detected from its header), the initrd and the
 * command line into mem, writes the boot structures (start_info or
 * boot_params, e820, page tables, GDT) and fills *ret with the entry.
 * Returns 0, -errno of a file operation, -ENOEXEC (not an ELF with a PVH
 * note nor a 64-bit-capable bzImage), -E2BIG (cmdline too long), -ENOMEM
 * (kernel or initrd do not fit in RAM). */
int vmm_boot_load(const struct guest_mem *mem, const struct vmm_boot_config *cfg,
		  struct vmm_boot *ret);

/* The two formats (boot-pvh.c, boot-bzimage.c). fd is the open kernel.
 * They return -ENOEXEC quickly when the file is not theirs. */
int vmm_boot_pvh_load(const struct guest_mem *mem, int fd, const struct vmm_boot_config *cfg,
		      struct vmm_boot *ret);
int vmm_boot_bzimage_load(const struct guest_mem *mem, int fd, const struct vmm_boot_config *cfg,
			  struct vmm_boot *ret);

/* Shared by both (boot-common.c): reads the initrd to the top of RAM below
 * limit; *ret_addr = 0 and *ret_size = 0 when cfg->initrd is NULL. */
int vmm_boot_load_initrd(const struct guest_mem *mem, const char *path, uint64_t limit,
			 uint64_t *ret_addr, uint64_t *ret_size);
/* Copies cmdline (NUL included) to VMM_BOOT_CMDLINE; -E2BIG past max. */
int vmm_boot_write_cmdline(const struct guest_mem *mem, const char *cmdline, size_t max);
/* Reads exactly len bytes at off of fd into guest range [gpa, gpa + len). */
int vmm_boot_read_into(const struct guest_mem *mem, int fd, uint64_t off, uint64_t gpa,
		       uint64_t len);

/* MP table for nr_vcpus CPUs and an IOAPIC with 24 pins at
 * VMM_MPTABLE_START (mptable.c); the pins in level_irqs (bit mask) are
 * level-triggered active-high, the rest ISA-conforming. Returns 0 or
 * -E2BIG when nr_vcpus does not fit in the 1 KiB area. */
int vmm_mptable_write(const struct guest_mem *mem, unsigned nr_vcpus, uint32_t level_irqs);
#define VMM_MPTABLE_MAX_CPUS 32

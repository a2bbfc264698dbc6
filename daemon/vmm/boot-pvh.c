/* boot-pvh.c - loads an ELF kernel that carries a Xen PVH entry note
 * (XEN_ELFNOTE_PHYS32_ENTRY): Linux's vmlinux and hvd's test guest.
 *
 * The file is untrusted input as much as the guest is: header counts and
 * sizes are bounded, every segment must lie at or above 1 MiB (below are
 * the boot structures) and inside RAM, and file ranges are read with
 * pread, so a short or lying file fails with -ENOEXEC. The guest receives
 * hvm_start_info version 1 at VMM_BOOT_START_INFO with the command line,
 * the e820 map and, if there is one, the initrd as module 0. */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "boot.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC 0x336ec578u
#define MAX_PHDRS 64
#define MAX_NOTES (64u * 1024)

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

static int read_exact(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t n = pread(fd, buf, len, (off_t)off);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -ENOEXEC;
}

/* Finds the PVH entry among the notes of one PT_NOTE segment. */
static int find_pvh_note(int fd, const Elf64_Phdr *ph, uint64_t *ret_entry)
{
	uint8_t *buf;
	uint64_t off = 0;
	int r;

	if (ph->p_filesz > MAX_NOTES || ph->p_filesz < sizeof(Elf64_Nhdr))
		return -ENOENT;
	buf = malloc(ph->p_filesz);
	if (!buf)
		return -ENOMEM;
	r = read_exact(fd, buf, ph->p_filesz, ph->p_offset);
	if (r < 0)
		goto out;
	r = -ENOENT;
	while (off + sizeof(Elf64_Nhdr) <= ph->p_filesz) {
		Elf64_Nhdr nh;
		uint64_t name_off = off + sizeof(nh), desc_off, next;

		memcpy(&nh, buf + off, sizeof(nh));
		desc_off = name_off + ((nh.n_namesz + 3ull) & ~3ull);
		next = desc_off + ((nh.n_descsz + 3ull) & ~3ull);
		if (next > ph->p_filesz)
			break;
		if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
		    !memcmp(buf + name_off, "Xen", 4) && (nh.n_descsz == 4 || nh.n_descsz == 8)) {
			uint32_t e32;
			uint64_t e64;

			if (nh.n_descsz == 4) {
				memcpy(&e32, buf + desc_off, 4);
				e64 = e32;
			} else {
				memcpy(&e64, buf + desc_off, 8);
			}
			*ret_entry = e64;
			r = 0;
			break;
		}
		off = next;
	}
out:
	free(buf);
	return r;
}

static int write_start_info(const struct guest_mem *mem, uint64_t initrd, uint64_t initrd_size,
			    uint64_t rsdp)
{
	struct vmm_e820_entry e820[VMM_E820_MAX];
	unsigned n = vmm_e820_build(mem->size, e820, VMM_E820_MAX);
	uint64_t modlist = VMM_BOOT_START_INFO + 0x40, memmap = VMM_BOOT_START_INFO + 0x80;
	struct hvm_start_info *si = guest_mem_ptr(mem, VMM_BOOT_START_INFO, sizeof(*si));
	struct hvm_modlist_entry *mod = guest_mem_ptr(mem, modlist, sizeof(*mod));
	struct hvm_memmap_table_entry *mm = guest_mem_ptr(mem, memmap, n * sizeof(*mm));

	if (!si || !mod || !mm)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++)
		mm[i] = (struct hvm_memmap_table_entry){ e820[i].addr, e820[i].size, e820[i].type, 0 };
	*mod = (struct hvm_modlist_entry){ .paddr = initrd, .size = initrd_size };
	*si = (struct hvm_start_info){
		.magic = HVM_START_MAGIC,
		.version = 1,
		.nr_modules = initrd_size ? 1 : 0,
		.modlist_paddr = initrd_size ? modlist : 0,
		.cmdline_paddr = VMM_BOOT_CMDLINE,
		.memmap_paddr = memmap,
		.memmap_entries = n,
		.rsdp_paddr = rsdp,
	};
	return 0;
}

int vmm_boot_pvh_load(const struct guest_mem *mem, int fd, const struct vmm_boot_config *cfg,
		      struct vmm_boot *ret)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[MAX_PHDRS];
	uint64_t entry = 0, kernel_end = 0, initrd, initrd_size;
	bool have_entry = false;
	int r;

	if (read_exact(fd, &eh, sizeof(eh), 0) < 0 || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64)
		return -ENOEXEC;
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > MAX_PHDRS)
		return -ENOEXEC;
	r = read_exact(fd, ph, eh.e_phnum * sizeof(Elf64_Phdr), eh.e_phoff);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < eh.e_phnum && !have_entry; i++)
		if (ph[i].p_type == PT_NOTE && find_pvh_note(fd, &ph[i], &entry) == 0)
			have_entry = true;
	if (!have_entry)
		return -ENOEXEC;

	for (unsigned i = 0; i < eh.e_phnum; i++) {
		const Elf64_Phdr *p = &ph[i];
		uint64_t end;
		uint8_t *dst;

		if (p->p_type != PT_LOAD || p->p_memsz == 0)
			continue;
		if (p->p_filesz > p->p_memsz || p->p_paddr < VMM_HIMEM_START ||
		    __builtin_add_overflow(p->p_paddr, p->p_memsz, &end))
			return -ENOEXEC;
		dst = guest_mem_ptr(mem, p->p_paddr, p->p_memsz);
		if (!dst)
			return -ENOMEM;
		r = vmm_boot_read_into(mem, fd, p->p_offset, p->p_paddr, p->p_filesz);
		if (r < 0)
			return r;
		memset(dst + p->p_filesz, 0, p->p_memsz - p->p_filesz);
		if (end > kernel_end)
			kernel_end = end;
	}
	if (entry < VMM_HIMEM_START || entry >= kernel_end)
		return -ENOEXEC;

	r = vmm_boot_load_initrd(mem, cfg->initrd, guest_mem_low(mem), &initrd, &initrd_size);
	if (r < 0)
		return r;
	if (initrd_size && initrd < kernel_end)
		return -ENOMEM;
	r = vmm_boot_write_cmdline(mem, cfg->cmdline, VMM_CMDLINE_MAX);
	if (r < 0)
		return r;
	r = write_start_info(mem, initrd, initrd_size, cfg->rsdp);
	if (r < 0)
		return r;
	*ret = (struct vmm_boot){ .kind = VMM_BOOT_PVH, .entry = entry, .arg = VMM_BOOT_START_INFO };
	return 0;
}

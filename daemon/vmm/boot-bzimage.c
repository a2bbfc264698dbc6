/* boot-bzimage.c - loads a Linux bzImage by the x86 boot protocol (2.12 or
 * later, 64-bit entry): the setup header is copied into a fresh zero page
 * (boot_params) at VMM_BOOT_ZERO_PAGE, the protected-mode kernel goes to
 * its aligned load address, the command line, initrd and e820 map are
 * filled in, and vCPU 0 enters startup_64 (load address + 0x200) in long
 * mode on the VMM's identity map with rsi = boot_params.
 *
 * Header fields are read from the file and used only after range checks:
 * setup_sects bounded, the header length bounded by the zero page, the
 * load address and init_size inside RAM. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "boot.h"

/* Offsets in boot_params / the setup header (Documentation/arch/x86/boot.rst). */
#define BP_ACPI_RSDP_ADDR    0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_E820_ENTRIES      0x1e8
#define HDR_SETUP_SECTS      0x1f1
#define HDR_VID_MODE         0x1fa
#define HDR_BOOT_FLAG        0x1fe
#define HDR_JUMP             0x200
#define HDR_MAGIC            0x202
#define HDR_VERSION          0x206
#define HDR_TYPE_OF_LOADER   0x210
#define HDR_LOADFLAGS        0x211
#define HDR_CODE32_START     0x214
#define HDR_RAMDISK_IMAGE    0x218
#define HDR_RAMDISK_SIZE     0x21c
#define HDR_HEAP_END_PTR     0x224
#define HDR_CMD_LINE_PTR     0x228
#define HDR_INITRD_ADDR_MAX  0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE      0x234
#define HDR_XLOADFLAGS       0x236
#define HDR_CMDLINE_SIZE     0x238
#define HDR_PREF_ADDRESS     0x258
#define HDR_INIT_SIZE        0x260
#define BP_E820_TABLE        0x2d0
#define BP_E820_MAX          128

#define LOADED_HIGH   0x01
#define CAN_USE_HEAP  0x80
#define XLF_KERNEL_64 0x01

static uint16_t get16(const uint8_t *b, unsigned off) { uint16_t v; memcpy(&v, b + off, 2); return v; }
static uint32_t get32(const uint8_t *b, unsigned off) { uint32_t v; memcpy(&v, b + off, 4); return v; }
static uint64_t get64(const uint8_t *b, unsigned off) { uint64_t v; memcpy(&v, b + off, 8); return v; }
static void put16(uint8_t *b, unsigned off, uint16_t v) { memcpy(b + off, &v, 2); }
static void put32(uint8_t *b, unsigned off, uint32_t v) { memcpy(b + off, &v, 4); }

int vmm_boot_bzimage_load(const struct guest_mem *mem, int fd, const struct vmm_boot_config *cfg,
			  struct vmm_boot *ret)
{
	uint8_t hdr[0x1000];
	uint8_t *bp;
	struct stat st;
	struct vmm_e820_entry e820[VMM_E820_MAX];
	uint64_t setup_size, kernel_size, load, align, init_size, end, initrd, initrd_size;
	uint64_t initrd_max, cmdline_max;
	unsigned setup_sects, hdr_end, n;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size < (off_t)sizeof(hdr) || pread(fd, hdr, sizeof(hdr), 0) != sizeof(hdr))
		return -ENOEXEC;
	if (get16(hdr, HDR_BOOT_FLAG) != 0xaa55 || memcmp(hdr + HDR_MAGIC, "HdrS", 4) ||
	    get16(hdr, HDR_VERSION) < 0x020c || !(get16(hdr, HDR_XLOADFLAGS) & XLF_KERNEL_64))
		return -ENOEXEC;
	setup_sects = hdr[HDR_SETUP_SECTS] ? hdr[HDR_SETUP_SECTS] : 4;
	setup_size = (setup_sects + 1ull) * 512;
	if (setup_size >= (uint64_t)st.st_size)
		return -ENOEXEC;
	kernel_size = (uint64_t)st.st_size - setup_size;
	hdr_end = HDR_JUMP + 2 + hdr[HDR_JUMP + 1];   /* the jump skips the header */
	if (hdr_end > sizeof(hdr) || hdr_end > setup_size)
		return -ENOEXEC;

	align = get32(hdr, HDR_KERNEL_ALIGNMENT);
	if (hdr[HDR_RELOCATABLE] && align && !(align & (align - 1)) && align <= (1u << 30))
		load = (VMM_HIMEM_START + align - 1) & ~(align - 1);
	else
		load = get64(hdr, HDR_PREF_ADDRESS);
	init_size = get32(hdr, HDR_INIT_SIZE);
	if (init_size < kernel_size)
		init_size = kernel_size;
	if (load < VMM_HIMEM_START || __builtin_add_overflow(load, init_size, &end) ||
	    end > guest_mem_low(mem))
		return -ENOMEM;
	r = vmm_boot_read_into(mem, fd, setup_size, load, kernel_size);
	if (r < 0)
		return r;

	initrd_max = get32(hdr, HDR_INITRD_ADDR_MAX);
	if (!initrd_max)
		initrd_max = 0x37ffffff;
	r = vmm_boot_load_initrd(mem, cfg->initrd, initrd_max + 1, &initrd, &initrd_size);
	if (r < 0)
		return r;
	if (initrd_size && initrd < end)
		return -ENOMEM;
	cmdline_max = get32(hdr, HDR_CMDLINE_SIZE) + 1ull;
	r = vmm_boot_write_cmdline(mem, cfg->cmdline,
				   cmdline_max < VMM_CMDLINE_MAX ? cmdline_max : VMM_CMDLINE_MAX);
	if (r < 0)
		return r;

	bp = guest_mem_ptr(mem, VMM_BOOT_ZERO_PAGE, 4096);
	if (!bp)
		return -ENOMEM;
	memset(bp, 0, 4096);
	memcpy(bp + HDR_SETUP_SECTS, hdr + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
	put16(bp, HDR_VID_MODE, 0xffff);
	bp[HDR_TYPE_OF_LOADER] = 0xff;
	bp[HDR_LOADFLAGS] |= LOADED_HIGH | CAN_USE_HEAP;
	put32(bp, HDR_CODE32_START, (uint32_t)load);
	put16(bp, HDR_HEAP_END_PTR, 0xfe00);
	put32(bp, HDR_CMD_LINE_PTR, (uint32_t)VMM_BOOT_CMDLINE);
	put32(bp, HDR_RAMDISK_IMAGE, (uint32_t)initrd);
	put32(bp, HDR_RAMDISK_SIZE, (uint32_t)initrd_size);
	put32(bp, BP_EXT_RAMDISK_IMAGE, 0);
	memcpy(bp + BP_ACPI_RSDP_ADDR, &cfg->rsdp, 8);
	n = vmm_e820_build(mem->size, e820, VMM_E820_MAX);
	if (n > BP_E820_MAX)
		n = BP_E820_MAX;
	bp[BP_E820_ENTRIES] = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = bp + BP_E820_TABLE + i * 20;

		memcpy(e, &e820[i].addr, 8);
		memcpy(e + 8, &e820[i].size, 8);
		memcpy(e + 16, &e820[i].type, 4);
	}
	*ret = (struct vmm_boot){ .kind = VMM_BOOT_LINUX64, .entry = load + 0x200,
				  .arg = VMM_BOOT_ZERO_PAGE };
	return 0;
}

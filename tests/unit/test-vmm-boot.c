/* test-vmm-boot.c - the kernel loaders and boot tables, on plain memory
 * (no /dev/kvm): e820 map, MP table checksums, PVH ELF loading and its
 * refusals, bzImage loading and boot_params. */
#include <check.h>
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "boot.h"

#define RAM (64ull << 20)

static struct guest_mem mem;

static void setup(void)
{
	mem.host = calloc(1, RAM);
	mem.size = RAM;
	mem.fd = -1;
}

static void teardown(void)
{
	free(mem.host);
}

static char *write_tmp(const void *data, size_t len)
{
	/* a few paths live at once (kernel + initrd): rotate static buffers so
	 * nothing is allocated and LeakSanitizer stays quiet */
	static char paths[8][64];
	static unsigned next;
	char *path = paths[next++ % 8];
	int fd;

	strcpy(path, "/tmp/test-vmm-boot.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

/* A minimal PVH ELF: one PT_LOAD at paddr with 16 bytes, one PT_NOTE. */
static char *make_elf(uint64_t paddr, uint32_t entry, bool with_note)
{
	static uint8_t f[4096];
	Elf64_Ehdr *eh = (Elf64_Ehdr *)f;
	Elf64_Phdr *ph = (Elf64_Phdr *)(f + sizeof(*eh));
	uint8_t *note = f + 512;

	memset(f, 0, sizeof(f));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_machine = EM_X86_64;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 2;
	ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 1024, .p_paddr = paddr,
			      .p_filesz = 16, .p_memsz = 4096 };
	ph[1] = (Elf64_Phdr){ .p_type = with_note ? PT_NOTE : PT_NULL, .p_offset = 512,
			      .p_filesz = 20 };
	uint32_t nh[3] = { 4, 4, 18 };
	memcpy(note, nh, 12);
	memcpy(note + 12, "Xen", 4);
	memcpy(note + 16, &entry, 4);
	memset(f + 1024, 0x90, 16);
	return write_tmp(f, sizeof(f));
}

START_TEST(test_e820)
{
	struct vmm_e820_entry e[VMM_E820_MAX];
	unsigned n = vmm_e820_build(RAM, e, VMM_E820_MAX);
	uint64_t ram = 0;

	ck_assert_uint_ge(n, 2);
	for (unsigned i = 0; i < n; i++) {
		if (e[i].type == VMM_E820_RAM)
			ram += e[i].size;
		ck_assert(e[i].addr + e[i].size <= RAM);
		if (i)
			ck_assert(e[i].addr >= e[i - 1].addr + e[i - 1].size);
	}
	ck_assert_uint_gt(ram, RAM - (1u << 20));
}
END_TEST

/* 5 GiB of RAM: 3 GiB below the device window, 2 GiB from 4 GiB up; host
 * addresses follow the one mapping, and no range straddles the hole. */
START_TEST(test_e820_above_4g)
{
	const uint64_t total = 5ull << 30, gib = 1ull << 30;
	struct vmm_e820_entry e[VMM_E820_MAX];
	unsigned n = vmm_e820_build(total, e, VMM_E820_MAX);
	struct guest_mem m = { .host = (uint8_t *)0x10000000, .size = total, .low_size = 3 * gib };
	uint64_t ram = 0;

	for (unsigned i = 0; i < n; i++) {
		if (e[i].type == VMM_E820_RAM)
			ram += e[i].size;
		ck_assert(e[i].addr + e[i].size <= 3 * gib || e[i].addr >= 4 * gib);
	}
	ck_assert_uint_eq(e[n - 1].addr, 4 * gib);
	ck_assert_uint_eq(e[n - 1].size, 2 * gib);
	ck_assert_uint_gt(ram, total - (1u << 20));
	ck_assert_ptr_eq(guest_mem_ptr(&m, 0, 4096), m.host);
	ck_assert_ptr_eq(guest_mem_ptr(&m, 3 * gib - 4096, 4096), m.host + 3 * gib - 4096);
	ck_assert_ptr_null(guest_mem_ptr(&m, 3 * gib - 4096, 8192));      /* into the hole */
	ck_assert_ptr_null(guest_mem_ptr(&m, 3 * gib, 1));
	ck_assert_ptr_null(guest_mem_ptr(&m, 4 * gib - 1, 2));            /* straddles 4 GiB */
	ck_assert_ptr_eq(guest_mem_ptr(&m, 4 * gib, 4096), m.host + 3 * gib);
	ck_assert_ptr_eq(guest_mem_ptr(&m, 6 * gib - 4096, 4096), m.host + 5 * gib - 4096);
	ck_assert_ptr_null(guest_mem_ptr(&m, 6 * gib - 4096, 4097));      /* past the end */
	ck_assert_ptr_null(guest_mem_ptr(&m, UINT64_MAX - 10, 100));       /* overflow */
	/* 2 GiB: no high part, one RAM range */
	n = vmm_e820_build(2 * gib, e, VMM_E820_MAX);
	ck_assert(e[n - 1].addr + e[n - 1].size == 2 * gib);
}
END_TEST

START_TEST(test_mptable)
{
	uint8_t *mpf = mem.host + VMM_MPTABLE_START, sum = 0;
	uint32_t table;
	uint16_t len;

	ck_assert_int_eq(vmm_mptable_write(&mem, 4, 1u << 5), 0);
	ck_assert(!memcmp(mpf, "_MP_", 4));
	for (int i = 0; i < 16; i++)
		sum = (uint8_t)(sum + mpf[i]);
	ck_assert_uint_eq(sum, 0);
	memcpy(&table, mpf + 4, 4);
	ck_assert(!memcmp(mem.host + table, "PCMP", 4));
	memcpy(&len, mem.host + table + 4, 2);
	sum = 0;
	for (unsigned i = 0; i < len; i++)
		sum = (uint8_t)(sum + mem.host[table + i]);
	ck_assert_uint_eq(sum, 0);
	ck_assert_uint_le(table + len, VMM_EBDA_END);
	ck_assert_int_eq(vmm_mptable_write(&mem, 0, 0), -E2BIG);
	ck_assert_int_eq(vmm_mptable_write(&mem, VMM_MPTABLE_MAX_CPUS + 1, 0), -E2BIG);
	ck_assert_int_eq(vmm_mptable_write(&mem, VMM_MPTABLE_MAX_CPUS, 0), 0);
}
END_TEST

START_TEST(test_pvh)
{
	struct vmm_boot_config cfg = { .cmdline = "console=ttyS0 mode=dirty" };
	struct vmm_boot b;
	uint32_t magic, nr_mod;
	uint64_t cmdline;

	cfg.kernel = make_elf(0x100000, 0x100000, true);
	ck_assert_int_eq(vmm_boot_load(&mem, &cfg, &b), 0);
	unlink(cfg.kernel);
	ck_assert_int_eq(b.kind, VMM_BOOT_PVH);
	ck_assert_uint_eq(b.entry, 0x100000);
	ck_assert_uint_eq(mem.host[0x100000], 0x90);
	memcpy(&magic, mem.host + b.arg, 4);
	ck_assert_uint_eq(magic, 0x336ec578);
	memcpy(&nr_mod, mem.host + b.arg + 12, 4);
	ck_assert_uint_eq(nr_mod, 0);
	memcpy(&cmdline, mem.host + b.arg + 24, 8);
	ck_assert_str_eq((char *)mem.host + cmdline, cfg.cmdline);

	/* with an initrd: module 0, page aligned, below the end of RAM */
	cfg.kernel = make_elf(0x100000, 0x100000, true);
	cfg.initrd = write_tmp("initrd-bytes", 12);
	ck_assert_int_eq(vmm_boot_load(&mem, &cfg, &b), 0);
	memcpy(&nr_mod, mem.host + b.arg + 12, 4);
	ck_assert_uint_eq(nr_mod, 1);
	unlink(cfg.initrd);
	unlink(cfg.kernel);
}
END_TEST

START_TEST(test_pvh_refusals)
{
	struct vmm_boot_config cfg = { .cmdline = "" };
	struct vmm_boot b;
	char longline[VMM_CMDLINE_MAX + 10];

	cfg.kernel = make_elf(0x100000, 0x100000, false);      /* no note, no HdrS */
	ck_assert_int_eq(vmm_boot_load(&mem, &cfg, &b), -ENOEXEC);
	unlink(cfg.kernel);
	cfg.kernel = make_elf(0x1000, 0x1000, true);           /* over the boot data */
	ck_assert_int_eq(vmm_boot_load(&mem, &cfg, &b), -ENOEXEC);
	unlink(cfg.kernel);
	cfg.kernel = make_elf(RAM - 16, (uint32_t)(RAM - 16), true);   /* past RAM */
	ck_assert_int_eq(vmm_boot_load(&mem, &cfg, &b), -ENOMEM);
	unlink(cfg.kernel);
	cfg.kernel = make_elf(0x100000, 0x900000, true);       /* entry outside */
	ck_assert_int_eq(vmm_boot_load(&mem, &cfg, &b), -ENOEXEC);
	unlink(cfg.kernel);
	memset(longline, 'a', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = 0;
	cfg.cmdline = longline;
	cfg.kernel = make_elf(0x100000, 0x100000, true);
	ck_assert_int_eq(vmm_boot_load(&mem, &cfg, &b), -E2BIG);
	unlink(cfg.kernel);
	cfg.kernel = "/nonexistent/kernel";
	ck_assert_int_eq(vmm_boot_load(&mem, &cfg, &b), -ENOENT);
}
END_TEST

START_TEST(test_bzimage)
{
	static uint8_t f[0x3000];
	struct vmm_boot_config cfg = { .cmdline = "console=ttyS0" };
	struct vmm_boot b;
	uint16_t v16;
	uint32_t v32;
	uint8_t *bp;

	memset(f, 0, sizeof(f));
	f[0x1f1] = 1;                          /* setup_sects: 2 * 512 bytes of setup */
	v16 = 0xaa55; memcpy(f + 0x1fe, &v16, 2);
	f[0x200] = 0xeb; f[0x201] = 0x66;      /* jump over a 0x68-byte header */
	memcpy(f + 0x202, "HdrS", 4);
	v16 = 0x020f; memcpy(f + 0x206, &v16, 2);
	v32 = 0x200000; memcpy(f + 0x230, &v32, 4);
	f[0x234] = 1;                          /* relocatable */
	v16 = 1; memcpy(f + 0x236, &v16, 2);   /* XLF_KERNEL_64 */
	v32 = 2047; memcpy(f + 0x238, &v32, 4);
	v32 = 0x10000; memcpy(f + 0x260, &v32, 4);
	f[0x400 + 0x200] = 0xcc;               /* startup_64 of the payload */
	cfg.kernel = write_tmp(f, sizeof(f));
	ck_assert_int_eq(vmm_boot_load(&mem, &cfg, &b), 0);
	ck_assert_int_eq(b.kind, VMM_BOOT_LINUX64);
	ck_assert_uint_eq(b.entry, 0x200200);
	ck_assert_uint_eq(mem.host[b.entry], 0xcc);
	bp = mem.host + b.arg;
	ck_assert_uint_eq(bp[0x210], 0xff);                /* type_of_loader */
	memcpy(&v32, bp + 0x228, 4);
	ck_assert_str_eq((char *)mem.host + v32, "console=ttyS0");
	ck_assert_uint_ge(bp[0x1e8], 2);                   /* e820 entries */
	memcpy(&v32, bp + 0x202, 4);
	ck_assert(!memcmp(&v32, "HdrS", 4));
	/* page tables: PML4[0] present */
	ck_assert_uint_eq(mem.host[VMM_BOOT_PML4] & 1, 1);
	unlink(cfg.kernel);

	f[0x236] = 0;                          /* no 64-bit entry: refused */
	cfg.kernel = write_tmp(f, sizeof(f));
	ck_assert_int_eq(vmm_boot_load(&mem, &cfg, &b), -ENOEXEC);
	unlink(cfg.kernel);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vmm-boot");
	TCase *tc;

	tc = tcase_create("vmm_e820_build");
	tcase_add_test(tc, test_e820);
	tcase_add_test(tc, test_e820_above_4g);
	suite_add_tcase(s, tc);
	tc = tcase_create("vmm_mptable_write");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_mptable);
	suite_add_tcase(s, tc);
	tc = tcase_create("vmm_boot_pvh_load");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pvh);
	tcase_add_test(tc, test_pvh_refusals);
	suite_add_tcase(s, tc);
	tc = tcase_create("vmm_boot_bzimage_load");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_bzimage);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

/* main.c - ring-3 entry of the test guest: read start_info, print the
 * marker, run the modes named on the command line, power off.
 *
 * Command line (space-separated; unknown words are ignored):
 *   mode=a,b,...   any of exit, fault, reboot, blk, verify, garbage, seccomp-probe,
 *                  dirty, idle, blkloop, flood, himem; run in that order (exit and
 *                  reboot at once, blkloop and flood never end,
 *                  dirty, then idle last); default dirty. reboot pulses the
 *                  i8042 reset line; seccomp-probe writes to hvd's seccomp
 *                  test port (0x4f0); idle waits for a shutdown request
 *                  (Ctrl-Alt-Del).
 *   virtio_mmio.device=4K@0xd0000000:5   where the virtio devices are
 *   sectors= sector= seed=   blk/verify parameters (see blk.c)
 *   pages= tick= loops=      dirty parameters (see dirty.c)
 * Power-off code: 0 when every mode succeeded, 1 otherwise. */
#include "guest.h"

void guest_main(void) __attribute__((noreturn));

static const struct hvm_start_info *start_info(void)
{
	const struct hvm_start_info *si = (const void *)(uintptr_t)guest_start_info;

	return si && si->magic == HVM_START_MAGIC ? si : NULL;
}

/* Bytes of RAM the start_info map lists, and whether any of it starts at
 * 4 GiB (hvd puts RAM beyond 3 GiB there). */
static uint64_t guest_ram_total(uint64_t *ret_high)
{
	const struct hvm_start_info *si = start_info();
	uint64_t total = 0;

	*ret_high = 0;
	if (!si || si->version < 1 || !si->memmap_paddr)
		return 0;
	const struct hvm_memmap_table_entry *e = (const void *)(uintptr_t)si->memmap_paddr;
	for (uint32_t i = 0; i < si->memmap_entries && i < 128; i++) {
		if (e[i].type != 1)
			continue;
		total += e[i].size;
		if (e[i].addr == (1ull << 32))
			*ret_high = e[i].size;
	}
	return total;
}

/* himem: RAM above 4 GiB is there and holds what is written to it (the
 * first 1 GiB of it, what the page tables map). */
static int mode_himem(void)
{
	uint64_t high, total = guest_ram_total(&high), n;

	con_printf("HIMEM total_kib=%u high_kib=%u\n", total >> 10, high >> 10);
	if (!high)
		return 1;
	n = high < (1ull << 30) ? high : (1ull << 30);
	for (uint64_t off = 0; off < n; off += 1ull << 20)
		*(volatile uint64_t *)(uintptr_t)((1ull << 32) + off) = off ^ 0x5a5a5a5aull;
	for (uint64_t off = 0; off < n; off += 1ull << 20)
		if (*(volatile uint64_t *)(uintptr_t)((1ull << 32) + off) != (off ^ 0x5a5a5a5aull)) {
			con_printf("HIMEM FAIL at %x\n", (1ull << 32) + off);
			return 1;
		}
	con_printf("HIMEM OK checked_mib=%u\n", n >> 20);
	return 0;
}

uint64_t guest_ram_top(void)
{
	const struct hvm_start_info *si = start_info();
	uint64_t top = 0;

	if (!si || si->version < 1 || !si->memmap_paddr)
		return 64ull << 20;  /* no map: assume the smallest VM we make */
	const struct hvm_memmap_table_entry *e = (const void *)(uintptr_t)si->memmap_paddr;
	for (uint32_t i = 0; i < si->memmap_entries && i < 128; i++) {
		uint64_t end = e[i].addr + e[i].size;

		if (e[i].type == 1 && end <= (1ull << 32) && end > top)
			top = end;
	}
	/* Stay below the 32-bit device window whatever the map says. */
	return top > 0xc0000000ull ? 0xc0000000ull : top;
}

void guest_main(void)
{
	const struct hvm_start_info *si = start_info();
	int rc = 0;

	cmdline_init(si && si->cmdline_paddr ? (const char *)(uintptr_t)si->cmdline_paddr : NULL);
	con_puts("HVD-TEST-GUEST READY\n");
	if (!si)
		con_puts("WARN no start_info\n");
	else if (si->cmdline_paddr)
		con_printf("cmdline: %s\n", (const char *)(uintptr_t)si->cmdline_paddr);
	if (cmdline_has_mode("exit"))
		guest_poweroff(0);
	if (cmdline_has_mode("fault")) {
		/* an exception in ring 3 with an empty IDT: a triple fault */
		con_puts("FAULT\n");
		__asm__ volatile("ud2");
	}
	if (cmdline_has_mode("reboot")) {
		outb(GUEST_I8042_CMD, 0xfe);
		for (;;)
			cpu_relax();
	}
	if (cmdline_has_mode("blk"))
		rc |= mode_blk(false);
	if (cmdline_has_mode("verify"))
		rc |= mode_blk(true);
	if (cmdline_has_mode("himem"))
		rc |= mode_himem();
	if (cmdline_has_mode("garbage"))
		rc |= mode_garbage();
	if (cmdline_has_mode("seccomp-probe")) {
		/* hvd vmm --debug-seccomp-probe dies of SIGSYS on this write */
		con_puts("SECCOMP-PROBE\n");
		/* time for the VMM to copy the line out before it dies */
		for (uint64_t t0 = rdtsc(); rdtsc() - t0 < (1ull << 27);)
			cpu_relax();
		outb(GUEST_SECCOMP_PROBE_PORT, 1);
		con_puts("SECCOMP-PROBE SURVIVED\n");
		rc |= 1;
	}
	if (cmdline_has_mode("blkloop")) {
		/* disk I/O and console output forever: one "BLKLOOP n" line per
		 * pass, for isolation tests that watch the rate */
		for (uint64_t n = 1;; n++) {
			if (mode_blk(false))
				rc |= 1;
			con_printf("BLKLOOP %u\n", n);
		}
	}
	if (cmdline_has_mode("flood")) {
		/* a hostile guest: malformed rings against its disk, forever
		 * (each pass resets the device and breaks it again) */
		for (uint64_t n = 1;; n++) {
			mode_garbage();
			con_printf("FLOOD %u\n", n);
		}
	}
	if (cmdline_has_mode("dirty") || !cmdline_get("mode", &(size_t){ 0 }))
		rc |= mode_dirty();
	if (cmdline_has_mode("idle"))
		mode_idle();
	con_printf("HVD-TEST-GUEST DONE rc=%u\n", (uint64_t)rc);
	guest_poweroff((uint32_t)rc);
}

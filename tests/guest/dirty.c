/* dirty.c - the memory-dirtying loop: each pass writes one word into each
 * of `pages=` 4 KiB pages (default 1024) above the image, and about every
 * `tick=` TSC cycles (default 2^28) it prints `counter=<passes> gen=<hvd's
 * generation counter>`. Before writing a page it checks that the page
 * still holds what the last pass wrote: another VM's writes showing
 * through (shared memory after a clone) print `DIRTY MISMATCH` once. It
 * stops after `loops=` printed ticks (default 0: never). The working set
 * is clamped to the RAM that start_info reports. Between passes it polls
 * the keyboard (kbd.c), so a shutdown request ends it. */
#include "guest.h"

int mode_dirty(void)
{
	uint64_t npages = cmdline_get_u64("pages", 1024);
	uint64_t tick = cmdline_get_u64("tick", 1ull << 28);
	uint64_t loops = cmdline_get_u64("loops", 0);
	uint64_t base = ((uint64_t)(uintptr_t)_end + 0x1fffff) & ~0x1fffffull;
	uint64_t top = guest_ram_top();
	uint64_t passes = 0, printed = 0, last, kbd = 0;
	int mismatch = 0;

	if (base >= top) {
		con_puts("DIRTY FAIL no-ram\n");
		return 1;
	}
	if (npages > (top - base) / 4096)
		npages = (top - base) / 4096;
	con_printf("DIRTY pages=%u base=%x\n", npages, base);
	last = rdtsc();
	for (;;) {
		volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)base;

		for (uint64_t i = 0; i < npages; i++, p += 512) {
			if (passes && *p != passes - 1 && !mismatch) {
				con_printf("DIRTY MISMATCH page=%u value=%u pass=%u\n", i, (uint64_t)*p,
					   passes);
				mismatch = 1;
			}
			*p = passes;
		}
		passes++;
		kbd_poll_every(&kbd);
		if (rdtsc() - last >= tick) {
			last = rdtsc();
			con_printf("counter=%u gen=%u\n", passes, (uint64_t)inl(GEN_PORT));
			if (loops && ++printed >= loops)
				return 0;
		}
	}
}

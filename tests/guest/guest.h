/* guest.h - shared declarations of the freestanding test guest (ring 3).
 *
 * Everything here runs in ring 3 with IOPL=3 on identity-mapped memory:
 * virtual address == guest physical address. No libc, no interrupts, no
 * exceptions; devices are polled. */
#pragma once
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

/* Ports the guest uses. GUEST_EXIT_PORT is hvd's power-off port, laid out
 * like QEMU's isa-debug-exit (iobase 0xf4) so the same binary stops QEMU
 * when run with -device isa-debug-exit,iobase=0xf4,iosize=4. */
#define GUEST_COM1       0x3f8
#define GUEST_EXIT_PORT  0xf4
#define GUEST_I8042_CMD  0x64
#define GUEST_SECCOMP_PROBE_PORT 0x4f0   /* hvd vmm --debug-seccomp-probe */

/* Xen's hvm_start_info, as filled by the PVH loader. */
struct hvm_start_info {
	uint32_t magic;           /* 0x336ec578 */
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;    /* version >= 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;            /* 1 = RAM */
	uint32_t reserved;
};

#define HVM_START_MAGIC 0x336ec578u

extern uint32_t guest_start_info;   /* set by entry.S from %ebx */
extern char _end[];                 /* end of the image (linker script) */

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* hvd's VM generation counter: 0 after a boot, +1 in a live clone or a
 * restored memory snapshot (all ones where nothing decodes the port). */
#define GEN_PORT 0x4f4

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline void mb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* lib.c: serial output and the few string helpers the guest needs. */
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
void con_puts(const char *s);
void con_putu(uint64_t v);
void con_putx(uint64_t v);
void con_printf(const char *fmt, ...);
void guest_poweroff(uint32_t code) __attribute__((noreturn));

/* cmdline.c: "key=value" lookups in the kernel command line. */
void cmdline_init(const char *cmdline);
const char *cmdline_get(const char *key, size_t *ret_len);
uint64_t cmdline_get_u64(const char *key, uint64_t def);
bool cmdline_has_mode(const char *mode);
/* Parses virtio_mmio.device=<size>@<addr>:<irq>, the index-th one. */
bool cmdline_virtio_mmio(unsigned index, uint64_t *ret_addr, uint64_t *ret_size);

/* Highest RAM address + 1 below 4 GiB, from the start_info memory map. */
uint64_t guest_ram_top(void);

/* kbd.c: Ctrl-Alt-Del on the i8042 powers the guest off (code 0) after
 * printing HVD-TEST-GUEST SHUTDOWN. kbd_poll reads what is waiting;
 * kbd_poll_every does so when KBD_POLL_CYCLES TSC cycles passed since
 * *last (start with 0). */
#define KBD_POLL_CYCLES (1ull << 22)
void kbd_poll(void);
void kbd_poll_every(uint64_t *last);

/* dirty.c, blk.c, garbage.c, idle.c: the modes. Each returns 0 on success
 * (idle never returns). */
int mode_idle(void) __attribute__((noreturn));
int mode_dirty(void);
int mode_blk(bool verify_only);
int mode_garbage(void);

/* idle.c - mode idle: wait for Ctrl-Alt-Del without using the CPU.
 *
 * Like an idle kernel, the guest halts until an interrupt. All of the set-up
 * runs in ring 3 (port I/O through the I/O bitmap, the local APIC through
 * its MMIO page, the IDT through its user-accessible page); ring 0 only
 * halts (entry.S, guest_halt_entry, entered with int $0x80, or through the
 * #UD that the development machine's /dev/kvm raises for it). The keyboard
 * interrupt comes in through the 8259 PIC: IRQ 1 only, auto-EOI, vectors
 * 0x20-0x2f, delivered as ExtINT on LINT0 of the local APIC. Each wake-up
 * polls the keyboard, so a Ctrl-Alt-Del typed while the guest was in ring 3
 * (its interrupt then waits in the PIC) is not missed.
 *
 * Without an in-kernel irqchip (the local APIC's version register reads 0)
 * nothing could wake a halted guest, so it polls as the other modes do. */
#include "guest.h"

#define PIC1_CMD   0x20
#define PIC1_DATA  0x21
#define PIC2_CMD   0xa0
#define PIC2_DATA  0xa1
#define PIC_VECTOR 0x20
#define UD_VECTOR  6
#define HALT_VECTOR 0x80
#define SPURIOUS_VECTOR 0xff

#define LAPIC_BASE 0xfee00000ull
#define LAPIC_VERSION 0x30
#define LAPIC_SVR     0xf0
#define LAPIC_LVT0    0x350
#define LVT_EXTINT    0x700

#define I8042_DATA  0x60
#define I8042_WRITE_CONFIG 0x60
#define CONFIG_KBD_INT 0x01
#define CONFIG_SYS     0x04

#define SEL_KCODE 0x08

extern uint8_t guest_idt[];
extern char guest_irq_entry[], guest_halt_entry[], guest_ud_entry[];

static volatile uint32_t *lapic(unsigned reg)
{
	return (volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg);
}

/* A 64-bit interrupt gate to handler in the kernel code segment. */
static void set_gate(unsigned vector, const void *handler, unsigned dpl)
{
	uint64_t off = (uint64_t)(uintptr_t)handler;
	uint8_t *g = guest_idt + vector * 16;

	memset(g, 0, 16);
	g[0] = (uint8_t)off;
	g[1] = (uint8_t)(off >> 8);
	g[2] = SEL_KCODE;
	g[5] = (uint8_t)(0x8e | (dpl << 5));     /* present, interrupt gate */
	g[6] = (uint8_t)(off >> 16);
	g[7] = (uint8_t)(off >> 24);
	for (int i = 0; i < 4; i++)
		g[8 + i] = (uint8_t)(off >> (32 + 8 * i));
}

static void i8042_wait_input_empty(void)
{
	for (int i = 0; i < 100000 && (inb(GUEST_I8042_CMD) & 0x02); i++)
		cpu_relax();
}

/* The controller's configuration byte with the keyboard interrupt on. It
 * is written, not read first: keys typed before (a shutdown request that
 * waited for a resume) may already be in the output buffer, ahead of the
 * controller's answer. What is written is what a PC's firmware leaves,
 * without translation (kbd.c decodes both scancode sets anyway). */
static void i8042_enable_irq(void)
{
	i8042_wait_input_empty();
	outb(GUEST_I8042_CMD, I8042_WRITE_CONFIG);
	i8042_wait_input_empty();
	outb(I8042_DATA, CONFIG_SYS | CONFIG_KBD_INT);
}

static void pic_init(void)
{
	outb(PIC1_CMD, 0x11);                /* ICW1: edge, cascade, ICW4 */
	outb(PIC1_DATA, PIC_VECTOR);         /* ICW2 */
	outb(PIC1_DATA, 0x04);               /* ICW3: slave on IRQ 2 */
	outb(PIC1_DATA, 0x03);               /* ICW4: 8086, auto-EOI */
	outb(PIC2_CMD, 0x11);
	outb(PIC2_DATA, PIC_VECTOR + 8);
	outb(PIC2_DATA, 0x02);
	outb(PIC2_DATA, 0x03);
	outb(PIC1_DATA, 0xfd);               /* IRQ 1 only */
	outb(PIC2_DATA, 0xff);
}

static bool sleep_setup(void)
{
	if ((*lapic(LAPIC_VERSION) & 0xff) == 0)
		return false;
	for (unsigned v = PIC_VECTOR; v < PIC_VECTOR + 16; v++)
		set_gate(v, guest_irq_entry, 0);
	set_gate(SPURIOUS_VECTOR, guest_irq_entry, 0);
	set_gate(HALT_VECTOR, guest_halt_entry, 3);
	set_gate(UD_VECTOR, guest_ud_entry, 0);
	pic_init();
	*lapic(LAPIC_SVR) = 0x100 | SPURIOUS_VECTOR;   /* software-enable */
	*lapic(LAPIC_LVT0) = LVT_EXTINT;              /* unmasked */
	i8042_enable_irq();
	return true;
}

int mode_idle(void)
{
	uint64_t last = 0;

	if (!sleep_setup()) {
		con_puts("IDLE (polling: no interrupt controller)\n");
		for (;;) {
			kbd_poll_every(&last);
			cpu_relax();
		}
	}
	/* and a prompt without a line end, as a shell leaves one: the
	 * console shows it while the guest sleeps */
	con_puts("IDLE\nidle> ");
	for (;;) {
		kbd_poll();
		__asm__ volatile("int $0x80" ::: "memory");
	}
}

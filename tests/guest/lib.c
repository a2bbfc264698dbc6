/* lib.c - the test guest's tiny libc: serial console output and the memory
 * functions gcc may emit calls to even when freestanding.
 *
 * The console is COM1 polled through its line status register; every write
 * is one port I/O exit, which is the only cost the guest pays for output. */
#include <stdarg.h>
#include "guest.h"

void *memset(void *s, int c, size_t n)
{
	unsigned char *p = s;

	while (n--)
		*p++ = (unsigned char)c;
	return s;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

/* Bytes the 16550A's transmit FIFO still takes since THRE was last seen
 * (THRE: the FIFO is empty, 16 bytes fit), as Linux's 8250 console writes:
 * one LSR read per 16 bytes rather than per byte. */
static unsigned con_fifo_room;

static void con_putc(char c)
{
	if (!con_fifo_room) {
		/* THRE, bounded: a UART that never drains must not hang the guest. */
		for (int i = 0; i < 100000 && !(inb(GUEST_COM1 + 5) & 0x20); i++)
			cpu_relax();
		con_fifo_room = 16;
	}
	outb(GUEST_COM1, (uint8_t)c);
	con_fifo_room--;
}

void con_puts(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			con_putc('\r');
		con_putc(*s);
	}
}

static void con_putnum(uint64_t v, unsigned base)
{
	char buf[24];
	int i = (int)sizeof(buf) - 1;

	buf[i] = 0;
	do {
		buf[--i] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	con_puts(buf + i);
}

void con_putu(uint64_t v)
{
	con_putnum(v, 10);
}

void con_putx(uint64_t v)
{
	con_puts("0x");
	con_putnum(v, 16);
}

/* %s, %u (64-bit), %x (64-bit, 0x-prefixed), %c, %%. Arguments of %u and
 * %x must be passed as uint64_t. */
void con_printf(const char *fmt, ...)
{
	va_list ap;
	char tmp[2] = { 0, 0 };

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%' || !fmt[1]) {
			tmp[0] = *fmt;
			con_puts(tmp);
			continue;
		}
		switch (*++fmt) {
		case 's': con_puts(va_arg(ap, const char *)); break;
		case 'u': con_putu(va_arg(ap, uint64_t)); break;
		case 'x': con_putx(va_arg(ap, uint64_t)); break;
		case 'c': tmp[0] = (char)va_arg(ap, int); con_puts(tmp); break;
		default: tmp[0] = *fmt; con_puts(tmp); break;
		}
	}
	va_end(ap);
}

/* hvd's exit port first; QEMU without isa-debug-exit ignores it, so then the
 * i8042 reset line (QEMU -no-reboot turns it into an exit); then spin. */
void guest_poweroff(uint32_t code)
{
	outl(GUEST_EXIT_PORT, code);
	outb(GUEST_I8042_CMD, 0xfe);
	for (;;)
		cpu_relax();
}

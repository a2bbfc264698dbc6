/* kbd.c - the test guest's keyboard: polls the i8042 for the Ctrl-Alt-Del
 * that hvd types on a graceful shutdown request (control command
 * "shutdown"), and then prints HVD-TEST-GUEST SHUTDOWN and powers off with
 * code 0, as an init's ctrlaltdel action would.
 *
 * hvd's controller leaves translation off, so the keys come in scancode set
 * 2; set 1 (a translating controller) is decoded too. The two sets' codes
 * for Ctrl, Alt and Del do not collide with each other's, and nobody types
 * other keys here. At most 16 bytes are taken per poll, and a status of
 * 0xff (no controller decoding the port) reads as empty, so a machine
 * without an i8042 cannot trap the guest in here. */
#include "guest.h"

#define I8042_DATA 0x60
#define STATUS_OBF 0x01

static bool e0, f0, ctrl, alt;

static void key(uint8_t b)
{
	bool brk = f0, ext = e0;

	e0 = f0 = false;
	if (!brk && (b & 0x80)) {       /* set 1 break code */
		brk = true;
		b &= 0x7f;
	}
	if (b == 0x14 || b == 0x1d)
		ctrl = !brk;
	else if (b == 0x11 || b == 0x38)
		alt = !brk;
	else if (ext && (b == 0x71 || b == 0x53) && !brk && ctrl && alt) {
		con_puts("HVD-TEST-GUEST SHUTDOWN\n");
		guest_poweroff(0);
	}
}

void kbd_poll(void)
{
	for (int i = 0; i < 16; i++) {
		uint8_t st = inb(GUEST_I8042_CMD), b;

		if (st == 0xff || !(st & STATUS_OBF))
			return;
		b = inb(I8042_DATA);
		if (b == 0xe0)
			e0 = true;
		else if (b == 0xf0)
			f0 = true;
		else
			key(b);
	}
}

/* Port I/O is a VM exit, so the loops ask at most every KBD_POLL_CYCLES. */
void kbd_poll_every(uint64_t *last)
{
	uint64_t now = rdtsc();

	if (now - *last >= KBD_POLL_CYCLES) {
		*last = now;
		kbd_poll();
	}
}

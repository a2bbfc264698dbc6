/* i8042.c - the PS/2 controller and a keyboard with three keys.
 *
 * What guests need of it without a real keyboard: Linux probes the
 * controller (self-test, configuration byte) and the keyboard (ACK, GETID),
 * pulses the reset line (command 0xfe) to reboot, and turns Ctrl-Alt-Del on
 * its keyboard into SIGINT for init, which is how the VMM asks a guest to
 * shut down (the way Firecracker's SendCtrlAltDel does). Reset ends this
 * VM process with the reboot reason; the daemon decides whether to start
 * it again.
 *
 * Invariants: the output FIFO's head is the output buffer (status OBF set
 * iff count > 0); a keyboard byte that becomes the head while the guest
 * enabled the keyboard interrupt (configuration bit 0) pulses IRQ 1, one
 * pulse per byte, as the guest's handler reads one byte per interrupt.
 * Controller command answers raise no interrupt (the guest polls for them).
 * Reads of an empty buffer return the last byte read; unknown commands are
 * ignored. Everything is under k->lock; the IRQ is pulsed under it too, so
 * pulses from the vCPU and device threads cannot interleave. */
#include <errno.h>
#include <string.h>
#include "legacy-ports.h"

#define STATUS_OBF   0x01
#define STATUS_SYS   0x04
#define STATUS_CMD   0x08

#define CTR_KBDINT   0x01
#define CTR_SYS      0x04
#define CTR_XLATE    0x40

/* Keyboard answers (scancode-set independent). */
#define KBD_ACK      0xfa
#define KBD_BAT_OK   0xaa

static void pulse_irq(struct vmm_i8042 *k)
{
	if (k->irq) {
		k->irq->set(k->irq, 1);
		k->irq->set(k->irq, 0);
	}
}

/* The head byte just became visible in the output buffer. */
static void head_changed(struct vmm_i8042 *k)
{
	if (k->count && k->from_kbd[k->head] && (k->cmd_byte & CTR_KBDINT))
		pulse_irq(k);
}

static int push(struct vmm_i8042 *k, uint8_t v, uint8_t kbd)
{
	unsigned tail;

	if (k->count == VMM_I8042_FIFO)
		return -EAGAIN;
	tail = (k->head + k->count) % VMM_I8042_FIFO;
	k->fifo[tail] = v;
	k->from_kbd[tail] = kbd;
	if (k->count++ == 0)
		head_changed(k);
	return 0;
}

static uint8_t pop(struct vmm_i8042 *k)
{
	if (!k->count)
		return k->last;
	k->last = k->fifo[k->head];
	k->head = (k->head + 1) % VMM_I8042_FIFO;
	k->count--;
	head_changed(k);
	return k->last;
}

/* A byte the guest sent to the keyboard (data port, no controller command
 * pending). The keyboard ACKs everything; a few commands answer more. */
static void keyboard_write(struct vmm_i8042 *k, uint8_t v)
{
	if (k->kbd_pending) {
		uint8_t cmd = k->kbd_pending;

		k->kbd_pending = 0;
		push(k, KBD_ACK, 1);
		if (cmd == 0xf0 && v == 0)         /* which scancode set: 2 */
			push(k, 2, 1);
		return;
	}
	switch (v) {
	case 0xed:              /* set LEDs */
	case 0xf3:              /* set typematic rate */
	case 0xf0:              /* get/set scancode set */
		k->kbd_pending = v;
		push(k, KBD_ACK, 1);
		break;
	case 0xee:              /* echo */
		push(k, 0xee, 1);
		break;
	case 0xf2:              /* get id: MF2 keyboard */
		push(k, KBD_ACK, 1);
		push(k, 0xab, 1);
		push(k, 0x83, 1);
		break;
	case 0xff:              /* reset and self-test */
		push(k, KBD_ACK, 1);
		push(k, KBD_BAT_OK, 1);
		break;
	default:                /* enable, disable, set defaults, resend ... */
		push(k, KBD_ACK, 1);
		break;
	}
}

static void i8042_in(void *opaque, uint16_t port, unsigned len, uint32_t *val)
{
	struct vmm_i8042 *k = opaque;

	pthread_mutex_lock(&k->lock);
	if (port == VMM_I8042_CMD)
		*val = STATUS_SYS | STATUS_CMD | (k->count ? STATUS_OBF : 0);
	else
		*val = pop(k);
	pthread_mutex_unlock(&k->lock);
}

static void i8042_out(void *opaque, uint16_t port, unsigned len, uint32_t val)
{
	struct vmm_i8042 *k = opaque;
	uint8_t v = (uint8_t)val;
	int reset = 0;

	pthread_mutex_lock(&k->lock);
	if (port == VMM_I8042_CMD) {
		k->pending_cmd = 0;
		switch (v) {
		case 0x20: push(k, k->cmd_byte, 0); break;   /* read config */
		case 0x60:                                   /* write config */
		case 0xd2:                                   /* write keyboard output */
			k->pending_cmd = v;
			break;
		case 0xaa: push(k, 0x55, 0); break;          /* self-test */
		case 0xab: push(k, 0x00, 0); break;          /* keyboard port test */
		case 0xfe: reset = 1; break;                 /* pulse reset line */
		default: break;
		}
	} else if (k->pending_cmd == 0x60) {
		uint8_t old = k->cmd_byte;

		k->cmd_byte = v;
		k->pending_cmd = 0;
		/* Enabling the interrupt with a key byte waiting raises it. */
		if (!(old & CTR_KBDINT))
			head_changed(k);
	} else if (k->pending_cmd == 0xd2) {
		k->pending_cmd = 0;
		push(k, v, 1);
	} else {
		keyboard_write(k, v);
	}
	pthread_mutex_unlock(&k->lock);
	if (reset && k->stop)
		k->stop(k->opaque, VMM_STOP_REBOOT, 0, "i8042 reset");
}

const struct vmm_io_ops vmm_i8042_io_ops = {
	.in = i8042_in,
	.out = i8042_out,
};

/* Ctrl, Alt, Del pressed, then released in reverse order. Set 2 is what the
 * keyboard sends; set 1 is what the controller hands the guest when it
 * translates (configuration bit 6). */
static const uint8_t cad_set2[] = {
	0x14, 0x11, 0xe0, 0x71,                      /* make: LCtrl, LAlt, Del */
	0xe0, 0xf0, 0x71, 0xf0, 0x11, 0xf0, 0x14,    /* break: Del, LAlt, LCtrl */
};
static const uint8_t cad_set1[] = {
	0x1d, 0x38, 0xe0, 0x53,
	0xe0, 0xd3, 0xb8, 0x9d,
};

int vmm_i8042_ctrl_alt_del(struct vmm_i8042 *k)
{
	const uint8_t *seq = cad_set2;
	size_t n = sizeof(cad_set2);
	int r = 0;

	pthread_mutex_lock(&k->lock);
	if (k->cmd_byte & CTR_XLATE) {
		seq = cad_set1;
		n = sizeof(cad_set1);
	}
	if (VMM_I8042_FIFO - k->count < n)
		r = -EAGAIN;
	for (size_t i = 0; r == 0 && i < n; i++)
		push(k, seq[i], 1);
	pthread_mutex_unlock(&k->lock);
	return r;
}

int vmm_i8042_init(struct vmm_i8042 *k, struct vmm_irq *irq, vmm_stop_fn *stop, void *opaque)
{
	memset(k, 0, sizeof(*k));
	k->irq = irq;
	k->stop = stop;
	k->opaque = opaque;
	/* Keyboard interrupt on, translation off: as Firecracker leaves it, so
	 * Linux drives the keyboard in set 2 without translation. */
	k->cmd_byte = CTR_KBDINT | CTR_SYS;
	return pthread_mutex_init(&k->lock, NULL);
}

void vmm_i8042_destroy(struct vmm_i8042 *k)
{
	if (k)
		pthread_mutex_destroy(&k->lock);
}

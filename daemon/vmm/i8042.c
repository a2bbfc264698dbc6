/* i8042.c - the PS/2 controller, as far as guests need one without a
 * keyboard: Linux probes it, and pulses the reset line (command 0xfe) to
 * reboot. Reset ends this VM process with the reboot reason; the daemon
 * decides whether to start it again. Reads of an empty output buffer return
 * 0; unknown commands are ignored. */
#include <string.h>
#include "legacy-ports.h"

#define STATUS_OBF   0x01
#define STATUS_SYS   0x04
#define STATUS_CMD   0x08

static void i8042_in(void *opaque, uint16_t port, unsigned len, uint32_t *val)
{
	struct vmm_i8042 *k = opaque;

	pthread_mutex_lock(&k->lock);
	if (port == VMM_I8042_CMD) {
		*val = STATUS_SYS | STATUS_CMD | (k->out_full ? STATUS_OBF : 0);
	} else {
		*val = k->out;
		k->out_full = 0;
	}
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
		case 0x20: k->out = k->cmd_byte; k->out_full = 1; break;  /* read config */
		case 0x60: k->pending_cmd = v; break;                     /* write config */
		case 0xaa: k->out = 0x55; k->out_full = 1; break;         /* self-test */
		case 0xab: k->out = 0x00; k->out_full = 1; break;         /* port test */
		case 0xfe: reset = 1; break;
		default: break;
		}
	} else if (k->pending_cmd == 0x60) {
		k->cmd_byte = v;
		k->pending_cmd = 0;
	}
	pthread_mutex_unlock(&k->lock);
	if (reset && k->stop)
		k->stop(k->opaque, VMM_STOP_REBOOT, 0, "i8042 reset");
}

const struct vmm_io_ops vmm_i8042_io_ops = {
	.in = i8042_in,
	.out = i8042_out,
};

int vmm_i8042_init(struct vmm_i8042 *k, vmm_stop_fn *stop, void *opaque)
{
	memset(k, 0, sizeof(*k));
	k->stop = stop;
	k->opaque = opaque;
	return pthread_mutex_init(&k->lock, NULL);
}

void vmm_i8042_destroy(struct vmm_i8042 *k)
{
	if (k)
		pthread_mutex_destroy(&k->lock);
}

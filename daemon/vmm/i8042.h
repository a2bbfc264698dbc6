/* i8042.h - the PS/2 controller at ports 0x60 (data) and 0x64
 * (command/status), with a keyboard that answers the usual probe commands
 * and whose only keys are the Ctrl-Alt-Del the VMM types for a graceful
 * shutdown request. Command 0xfe (pulse reset line) stops the VM with
 * VMM_STOP_REBOOT. No mouse (aux port). */
#pragma once
#include <pthread.h>
#include <stdint.h>
#include "io-bus.h"
#include "mmio-bus.h"
#include "stop-reason.h"

#define VMM_I8042_DATA 0x60
#define VMM_I8042_CMD  0x64
#define VMM_I8042_GSI  1      /* keyboard IRQ, edge-triggered ISA line */
#define VMM_I8042_FIFO 16     /* output buffer plus what queues behind it */

struct vmm_i8042 {
	pthread_mutex_t lock;
	vmm_stop_fn *stop;
	void *opaque;
	struct vmm_irq *irq;  /* IRQ 1, may be NULL */
	uint8_t cmd_byte;     /* controller configuration byte */
	uint8_t pending_cmd;  /* controller command waiting for its data byte */
	uint8_t kbd_pending;  /* keyboard command waiting for its argument */
	uint8_t last;         /* last byte read: what an empty buffer returns */
	/* output FIFO; the head is the output buffer (status OBF) */
	uint8_t fifo[VMM_I8042_FIFO];
	uint8_t from_kbd[VMM_I8042_FIFO];  /* byte came from the keyboard: IRQ 1 */
	unsigned head, count;
};

extern const struct vmm_io_ops vmm_i8042_io_ops;

/* irq may be NULL (no interrupt; the guest polls). Returns 0 or the
 * pthread error. */
int vmm_i8042_init(struct vmm_i8042 *k, struct vmm_irq *irq, vmm_stop_fn *stop,
		   void *opaque);
void vmm_i8042_destroy(struct vmm_i8042 *k);

/* Types Ctrl-Alt-Del (make codes, then break codes, in scancode set 2, or
 * set 1 when the guest turned on the controller's translation) into the
 * keyboard's output buffer and raises IRQ 1 if the guest enabled it.
 * Returns 0, or -EAGAIN when the buffer has no room for the whole
 * sequence (the guest is not reading its keyboard). Any thread. */
int vmm_i8042_ctrl_alt_del(struct vmm_i8042 *k);

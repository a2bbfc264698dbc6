/* serial.h - 16550A UART (COM1) with an output history ring. */
#pragma once
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "io-bus.h"
#include "mmio-bus.h"

#define VMM_SERIAL_COM1      0x3f8
#define VMM_SERIAL_COM1_GSI  4
#define VMM_SERIAL_RING      (64u * 1024)   /* recent output kept, power of 2 */
#define VMM_SERIAL_RX_FIFO   64

struct vmm_serial {
	pthread_mutex_t lock;
	struct vmm_irq *irq;              /* may be NULL */
	/* called after each byte of output (the byte), lock not held */
	void (*on_output)(void *opaque, uint8_t byte);
	void *opaque;
	/* registers */
	uint8_t ier, lcr, mcr, lsr_extra, msr, scr, dll, dlm;
	bool thr_ipending;
	int irq_level;
	/* receive FIFO */
	uint8_t rx[VMM_SERIAL_RX_FIFO];
	unsigned rx_head, rx_count;
	/* output history: byte i of all output ever is out[i % RING] */
	uint8_t out[VMM_SERIAL_RING];
	uint64_t out_total;
};

/* Plain-data register state for snapshots (the history is not saved). */
struct vmm_serial_state {
	uint8_t ier, lcr, mcr, msr, scr, dll, dlm, thr_ipending;
	uint8_t rx[VMM_SERIAL_RX_FIFO];
	uint32_t rx_count;
};

extern const struct vmm_io_ops vmm_serial_io_ops;

/* irq and on_output may be NULL. Returns 0 or the pthread error. */
int vmm_serial_init(struct vmm_serial *s, struct vmm_irq *irq, void (*on_output)(void *, uint8_t),
		    void *opaque);
void vmm_serial_destroy(struct vmm_serial *s);

/* Copies output produced since *cursor (an absolute byte count, start at
 * 0) into buf, up to size bytes, and advances *cursor. Output that fell out
 * of the ring before it was read is skipped and counted in *ret_dropped.
 * Returns the number of bytes copied. Any thread. */
size_t vmm_serial_read_output(struct vmm_serial *s, uint64_t *cursor, void *buf, size_t size,
			      uint64_t *ret_dropped);

/* Total bytes the guest has written. */
uint64_t vmm_serial_output_total(struct vmm_serial *s);

/* Queues input for the guest; returns how many bytes fit in the FIFO. */
size_t vmm_serial_input(struct vmm_serial *s, const void *data, size_t len);

void vmm_serial_save(struct vmm_serial *s, struct vmm_serial_state *st);
/* Returns 0 or -EINVAL (rx_count out of range); s unchanged on error. */
int vmm_serial_restore(struct vmm_serial *s, const struct vmm_serial_state *st);

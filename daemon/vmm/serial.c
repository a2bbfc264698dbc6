/* serial.c - a 16550A UART: the guest console.
 *
 * Transmission is instant: a byte written to THR lands in the output ring
 * at once, THR is always empty and the THRE interrupt is pending again
 * right after each write (as kvmtool and Firecracker do). The ring keeps the
 * last VMM_SERIAL_RING bytes; the device thread copies them to the console
 * log and stdout (vmm_serial_read_output), so a vCPU never blocks on file
 * I/O. The interrupt line is level: high while IIR reports a cause. The
 * guest may program any divisor or line setting; they are stored, never
 * acted upon. */
#include <errno.h>
#include <string.h>
#include "serial.h"

#define UART_IER_RDI  0x01
#define UART_IER_THRI 0x02
#define UART_IIR_NONE 0x01
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI  0x04
#define UART_IIR_FIFO 0xc0
#define UART_LCR_DLAB 0x80
#define UART_MCR_LOOP 0x10
#define UART_LSR_DR   0x01
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_MSR_DEFAULT 0xb0  /* DCD, DSR, CTS */

static uint8_t iir(const struct vmm_serial *s)
{
	if ((s->ier & UART_IER_RDI) && s->rx_count)
		return UART_IIR_FIFO | UART_IIR_RDI;
	if ((s->ier & UART_IER_THRI) && s->thr_ipending)
		return UART_IIR_FIFO | UART_IIR_THRI;
	return UART_IIR_FIFO | UART_IIR_NONE;
}

static void update_irq(struct vmm_serial *s)
{
	int level = !(iir(s) & UART_IIR_NONE);

	if (level != s->irq_level && s->irq) {
		s->irq->set(s->irq, level);
	}
	s->irq_level = level;
}

static void emit(struct vmm_serial *s, uint8_t c)
{
	s->out[s->out_total % VMM_SERIAL_RING] = c;
	__atomic_store_n(&s->out_total, s->out_total + 1, __ATOMIC_RELEASE);
}

static void serial_out(void *opaque, uint16_t port, unsigned len, uint32_t val)
{
	struct vmm_serial *s = opaque;
	uint8_t v = (uint8_t)val;
	bool output = false;

	pthread_mutex_lock(&s->lock);
	switch (port - VMM_SERIAL_COM1) {
	case 0:
		if (s->lcr & UART_LCR_DLAB) {
			s->dll = v;
		} else if (s->mcr & UART_MCR_LOOP) {
			if (s->rx_count < VMM_SERIAL_RX_FIFO) {
				s->rx[(s->rx_head + s->rx_count) % VMM_SERIAL_RX_FIFO] = v;
				s->rx_count++;
			}
		} else {
			emit(s, v);
			output = true;
		}
		s->thr_ipending = true;
		break;
	case 1:
		if (s->lcr & UART_LCR_DLAB) {
			s->dlm = v;
		} else {
			/* Enabling THRI with THR empty raises the interrupt. */
			if (!(s->ier & UART_IER_THRI) && (v & UART_IER_THRI))
				s->thr_ipending = true;
			s->ier = v & 0x0f;
		}
		break;
	case 2:  /* FCR: FIFOs are always on; a receive-FIFO reset empties it */
		if (v & 0x02)
			s->rx_count = 0;
		break;
	case 3: s->lcr = v; break;
	case 4: s->mcr = v & 0x1f; break;
	case 7: s->scr = v; break;
	default: break;  /* LSR, MSR are read-only */
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	if (output && s->on_output)
		s->on_output(s->opaque, v);
}

static void serial_in(void *opaque, uint16_t port, unsigned len, uint32_t *val)
{
	struct vmm_serial *s = opaque;
	uint8_t v = 0;

	pthread_mutex_lock(&s->lock);
	switch (port - VMM_SERIAL_COM1) {
	case 0:
		if (s->lcr & UART_LCR_DLAB) {
			v = s->dll;
		} else if (s->rx_count) {
			v = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % VMM_SERIAL_RX_FIFO;
			s->rx_count--;
		}
		break;
	case 1: v = s->lcr & UART_LCR_DLAB ? s->dlm : s->ier; break;
	case 2:
		v = iir(s);
		if ((v & 0x0f) == UART_IIR_THRI)
			s->thr_ipending = false;
		break;
	case 3: v = s->lcr; break;
	case 4: v = s->mcr; break;
	case 5: v = UART_LSR_THRE | UART_LSR_TEMT | (s->rx_count ? UART_LSR_DR : 0); break;
	case 6:
		if (s->mcr & UART_MCR_LOOP)  /* DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD */
			v = (uint8_t)(((s->mcr & 0x01) << 5) | ((s->mcr & 0x02) << 3) |
				      ((s->mcr & 0x04) << 4) | ((s->mcr & 0x08) << 4));
		else
			v = UART_MSR_DEFAULT;
		break;
	case 7: v = s->scr; break;
	default: break;
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	*val = v;
}

const struct vmm_io_ops vmm_serial_io_ops = {
	.in = serial_in,
	.out = serial_out,
};

int vmm_serial_init(struct vmm_serial *s, struct vmm_irq *irq, void (*on_output)(void *, uint8_t),
		    void *opaque)
{
	memset(s, 0, sizeof(*s));
	s->irq = irq;
	s->on_output = on_output;
	s->opaque = opaque;
	s->msr = UART_MSR_DEFAULT;
	s->mcr = 0x08;  /* OUT2 */
	s->dll = 12;    /* 9600 baud */
	return pthread_mutex_init(&s->lock, NULL);
}

void vmm_serial_destroy(struct vmm_serial *s)
{
	if (s)
		pthread_mutex_destroy(&s->lock);
}

uint64_t vmm_serial_output_total(struct vmm_serial *s)
{
	return __atomic_load_n(&s->out_total, __ATOMIC_ACQUIRE);
}

size_t vmm_serial_read_output(struct vmm_serial *s, uint64_t *cursor, void *buf, size_t size,
			      uint64_t *ret_dropped)
{
	uint64_t total, from = *cursor, dropped = 0;
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	total = s->out_total;
	if (from > total)
		from = total;
	if (total - from > VMM_SERIAL_RING) {
		dropped = total - from - VMM_SERIAL_RING;
		from = total - VMM_SERIAL_RING;
	}
	while (from < total && n < size)
		((uint8_t *)buf)[n++] = s->out[from++ % VMM_SERIAL_RING];
	pthread_mutex_unlock(&s->lock);
	*cursor = from;
	if (ret_dropped)
		*ret_dropped = dropped;
	return n;
}

size_t vmm_serial_input(struct vmm_serial *s, const void *data, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	for (; n < len && s->rx_count < VMM_SERIAL_RX_FIFO; n++) {
		s->rx[(s->rx_head + s->rx_count) % VMM_SERIAL_RX_FIFO] = ((const uint8_t *)data)[n];
		s->rx_count++;
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

void vmm_serial_save(struct vmm_serial *s, struct vmm_serial_state *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&s->lock);
	st->ier = s->ier;
	st->lcr = s->lcr;
	st->mcr = s->mcr;
	st->msr = s->msr;
	st->scr = s->scr;
	st->dll = s->dll;
	st->dlm = s->dlm;
	st->thr_ipending = s->thr_ipending;
	for (unsigned i = 0; i < s->rx_count; i++)
		st->rx[i] = s->rx[(s->rx_head + i) % VMM_SERIAL_RX_FIFO];
	st->rx_count = s->rx_count;
	pthread_mutex_unlock(&s->lock);
}

int vmm_serial_restore(struct vmm_serial *s, const struct vmm_serial_state *st)
{
	if (st->rx_count > VMM_SERIAL_RX_FIFO)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	s->ier = st->ier & 0x0f;
	s->lcr = st->lcr;
	s->mcr = st->mcr & 0x1f;
	s->msr = st->msr;
	s->scr = st->scr;
	s->dll = st->dll;
	s->dlm = st->dlm;
	s->thr_ipending = st->thr_ipending != 0;
	memcpy(s->rx, st->rx, st->rx_count);
	s->rx_head = 0;
	s->rx_count = st->rx_count;
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

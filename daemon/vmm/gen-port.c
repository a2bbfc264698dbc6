/* gen-port.c - the VM generation counter (see legacy-ports.h): a 32-bit
 * read-only port. Reads of 1 or 2 bytes return the low bytes; writes are
 * ignored. */
#include "legacy-ports.h"

static void gen_port_in(void *opaque, uint16_t port, unsigned len, uint32_t *val)
{
	const struct vmm_gen_port *g = opaque;
	uint32_t v = __atomic_load_n(&g->generation, __ATOMIC_RELAXED);

	(void)port;
	*val = len >= 4 ? v : v & ((1u << (8 * len)) - 1);
}

const struct vmm_io_ops vmm_gen_port_io_ops = {
	.in = gen_port_in,
	.out = NULL,
};

/* gen-port.c - the VM generation counter (see legacy-ports.h), readable two
 * ways: a 32-bit little-endian read-only register over ports 0x4f4-0x4f7
 * (a 4-byte read of 0x4f4 and byte reads of each port agree), and the same
 * value at the start of a 4 KiB MMIO page (VMM_GEN_MMIO), which a Linux
 * guest's userspace reads through /dev/mem (busybox `devmem`); kernels such
 * as Debian's cloud one have no /dev/port. Writes are ignored. */
#include <stddef.h>
#include <string.h>
#include "legacy-ports.h"

static uint32_t value(const struct vmm_gen_port *g)
{
	return __atomic_load_n(&g->generation, __ATOMIC_RELAXED);
}

static void gen_port_in(void *opaque, uint16_t port, unsigned len, uint32_t *val)
{
	uint32_t v = value(opaque) >> (8u * (unsigned)((port - VMM_GEN_PORT) & 3));

	*val = len >= 4 ? v : v & ((1u << (8 * len)) - 1);
}

const struct vmm_io_ops vmm_gen_port_io_ops = {
	.in = gen_port_in,
	.out = NULL,
};

static void gen_mmio_read(struct mmio_dev *dev, uint64_t off, void *data, unsigned len)
{
	const struct vmm_gen_port *g = (const void *)((const char *)dev -
						     offsetof(struct vmm_gen_port, mmio));
	uint8_t bytes[8] = { 0 };
	uint32_t v = value(g);

	memcpy(bytes, &v, sizeof(v));   /* x86: little-endian */
	memset(data, 0, len);
	if (off < sizeof(bytes))
		memcpy(data, bytes + off, len <= sizeof(bytes) - off ? len : sizeof(bytes) - off);
}

static void gen_mmio_write(struct mmio_dev *dev, uint64_t off, const void *data, unsigned len)
{
}

static const struct mmio_ops gen_mmio_ops = {
	.read = gen_mmio_read,
	.write = gen_mmio_write,
};

void vmm_gen_port_init(struct vmm_gen_port *g)
{
	g->generation = 0;
	g->mmio = (struct mmio_dev){ .base = VMM_GEN_MMIO, .size = 0x1000, .ops = &gen_mmio_ops };
}

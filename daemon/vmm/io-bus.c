/* io-bus.c - port I/O dispatch: a small fixed table of port ranges
 * registered at machine build time, read without locks by vCPU threads. */
#include <errno.h>
#include <string.h>
#include "io-bus.h"

int vmm_io_bus_add(struct vmm_io_bus *bus, uint16_t base, uint16_t len,
		   const struct vmm_io_ops *ops, void *opaque)
{
	if (!len || (uint32_t)base + len > 0x10000)
		return -EINVAL;
	for (unsigned i = 0; i < bus->n; i++) {
		const struct vmm_io_range *o = &bus->r[i];

		if (base < o->base + o->len && o->base < base + len)
			return -EEXIST;
	}
	if (bus->n == VMM_IO_BUS_MAX)
		return -ENOSPC;
	bus->r[bus->n++] = (struct vmm_io_range){ base, len, ops, opaque };
	return 0;
}

void vmm_io_bus_access(struct vmm_io_bus *bus, uint16_t port, void *data, unsigned len,
		       bool is_write)
{
	uint32_t val = 0;

	if (len == 1 || len == 2 || len == 4) {
		for (unsigned i = 0; i < bus->n; i++) {
			const struct vmm_io_range *r = &bus->r[i];

			if (port < r->base || port >= r->base + r->len)
				continue;
			if (is_write) {
				memcpy(&val, data, len);
				if (r->ops->out)
					r->ops->out(r->opaque, port, len, val);
			} else {
				val = 0xffffffffu;
				if (r->ops->in)
					r->ops->in(r->opaque, port, len, &val);
				memcpy(data, &val, len);
			}
			return;
		}
	}
	__atomic_add_fetch(&bus->unhandled, 1, __ATOMIC_RELAXED);
	if (!is_write)
		memset(data, 0xff, len > 4 ? 4 : len);
}

/* mmio-bus.c - dispatch of MMIO exits to device windows.
 *
 * Windows are registered before any vCPU runs and never change afterwards,
 * so vCPU threads read the table without locking. The offset and size
 * handed to a device are checked here once (mmio-bus.h contract): the
 * device sees only off + len <= size and len in {1, 2, 4, 8}. */
#include <errno.h>
#include <string.h>
#include "mmio-bus.h"

int vmm_mmio_bus_add(struct vmm_mmio_bus *bus, struct mmio_dev *dev)
{
	uint64_t end;

	if (!dev->size || __builtin_add_overflow(dev->base, dev->size, &end))
		return -EINVAL;
	for (unsigned i = 0; i < bus->n; i++) {
		const struct mmio_dev *o = bus->dev[i];

		if (dev->base < o->base + o->size && o->base < end)
			return -EEXIST;
	}
	if (bus->n == VMM_MMIO_BUS_MAX)
		return -ENOSPC;
	bus->dev[bus->n++] = dev;
	return 0;
}

void vmm_mmio_bus_access(struct vmm_mmio_bus *bus, uint64_t gpa, void *data, unsigned len,
			 bool is_write)
{
	if (len == 1 || len == 2 || len == 4 || len == 8) {
		for (unsigned i = 0; i < bus->n; i++) {
			struct mmio_dev *d = bus->dev[i];
			uint64_t off = gpa - d->base;

			if (gpa < d->base || off >= d->size)
				continue;
			if (len > d->size - off)
				break;
			if (is_write)
				d->ops->write(d, off, data, len);
			else
				d->ops->read(d, off, data, len);
			return;
		}
	}
	__atomic_add_fetch(&bus->unhandled, 1, __ATOMIC_RELAXED);
	if (!is_write)
		memset(data, 0, len > 8 ? 8 : len);
}

/* mmio-bus.h - the contract between the vCPU exit path and MMIO devices.
 *
 * A device registers one window [base, base + size). The bus calls read or
 * write with the offset inside the window (already range-checked: off + len
 * <= size) and an access of 1, 2, 4 or 8 bytes. Handlers run on vCPU threads
 * and must take their own device lock. A handler never fails the vCPU: a bad
 * access by the guest is ignored (reads return zeroes) or puts the device in
 * its failed state. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct mmio_dev;

struct mmio_ops {
	void (*read)(struct mmio_dev *dev, uint64_t off, void *data, unsigned len);
	void (*write)(struct mmio_dev *dev, uint64_t off, const void *data, unsigned len);
};

struct mmio_dev {
	uint64_t base;
	uint64_t size;
	const struct mmio_ops *ops;
};

/* Interrupt line of a device: level-triggered GSI on the in-kernel irqchip
 * (or an irqfd/resamplefd pair when the machine provides one). set(level)
 * may be called from any thread. */
struct vmm_irq {
	void (*set)(struct vmm_irq *irq, int level);
	unsigned gsi;
};

/* The bus itself (mmio-bus.c): a fixed table of windows filled before the
 * vCPUs start and read-only afterwards, so dispatch takes no lock. */
#define VMM_MMIO_BUS_MAX 32

struct vmm_mmio_bus {
	struct mmio_dev *dev[VMM_MMIO_BUS_MAX];
	unsigned n;
	uint64_t unhandled;   /* accesses that hit no window (statistics) */
};

/* Adds dev's window. Returns 0, -EINVAL (empty or wrapping window),
 * -EEXIST (overlaps another) or -ENOSPC. */
int vmm_mmio_bus_add(struct vmm_mmio_bus *bus, struct mmio_dev *dev);

/* Dispatches a guest access of len bytes at gpa. Accesses that hit no
 * window, straddle a window's end or have an odd size are dropped (reads
 * return zeroes) and counted. */
void vmm_mmio_bus_access(struct vmm_mmio_bus *bus, uint64_t gpa, void *data, unsigned len,
			 bool is_write);

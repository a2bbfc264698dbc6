/* io-bus.h - x86 port I/O dispatch to the legacy devices. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct vmm_io_ops {
	/* Access of len (1, 2 or 4) bytes at port (port - base is the offset).
	 * in fills *val (low len bytes). Runs on vCPU threads: devices lock. */
	void (*in)(void *opaque, uint16_t port, unsigned len, uint32_t *val);
	void (*out)(void *opaque, uint16_t port, unsigned len, uint32_t val);
};

#define VMM_IO_BUS_MAX 16

struct vmm_io_range {
	uint16_t base;
	uint16_t len;
	const struct vmm_io_ops *ops;
	void *opaque;
};

/* Filled before the vCPUs start, read-only afterwards (no lock). */
struct vmm_io_bus {
	struct vmm_io_range r[VMM_IO_BUS_MAX];
	unsigned n;
	uint64_t unhandled;   /* accesses to ports nobody owns (statistics) */
};

/* Returns 0, -EINVAL (empty or past 0xffff), -EEXIST (overlap), -ENOSPC. */
int vmm_io_bus_add(struct vmm_io_bus *bus, uint16_t base, uint16_t len,
		   const struct vmm_io_ops *ops, void *opaque);

/* One access of len bytes. Unowned ports read as all ones and ignore
 * writes, as on a PC with nothing decoding them. */
void vmm_io_bus_access(struct vmm_io_bus *bus, uint16_t port, void *data, unsigned len,
		       bool is_write);

/* legacy-ports.h - the small PC devices on port I/O besides the UART:
 * i8042 (its own header, i8042.h), CMOS RTC, hvd's power-off port and its
 * generation counter. One file each (i8042.c, rtc.c, exit-port.c,
 * gen-port.c); the last three share this header because each is a handful
 * of lines of state. */
#pragma once
#include <pthread.h>
#include <stdint.h>
#include "i8042.h"
#include "io-bus.h"
#include "mmio-bus.h"
#include "stop-reason.h"

/* CMOS RTC at ports 0x70 (index) and 0x71 (data): wall-clock time of the
 * host (UTC) in BCD, 24-hour mode; the 128 bytes of CMOS RAM; no alarms or
 * periodic interrupts. */
#define VMM_RTC_PORT 0x70

struct vmm_rtc {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t cmos[128];
};

extern const struct vmm_io_ops vmm_rtc_io_ops;
/* ram_size: guest RAM, recorded in the CMOS memory-size bytes firmware-less
 * guests sometimes read. */
int vmm_rtc_init(struct vmm_rtc *rtc, uint64_t ram_size);
void vmm_rtc_destroy(struct vmm_rtc *rtc);

/* hvd's power-off port, laid out like QEMU's isa-debug-exit at 0xf4 (4
 * ports): a write of v stops the VM with VMM_STOP_POWEROFF and guest exit
 * code v. The test guest uses it; Linux guests power off another way. */
#define VMM_EXIT_PORT 0xf4

struct vmm_exit_port {
	vmm_stop_fn *stop;
	void *opaque;
};

extern const struct vmm_io_ops vmm_exit_port_io_ops;

/* The VM generation counter at port 0x4f4 (4 bytes, read-only; also the
 * first 4 bytes of the MMIO page VMM_GEN_MMIO, for guests whose userspace
 * has /dev/mem but no /dev/port), in the
 * spirit of VMGenID: 0 for a VM that booted, and one more than its source
 * for a VM that resumed from a frozen image (a live clone, a restored
 * memory snapshot), so a guest can tell that it runs a second time from the
 * same state (re-seed random numbers, renew identities). The test guest
 * prints it next to its counter. */
#define VMM_GEN_PORT 0x4f4
#define VMM_GEN_MMIO 0xd0100000ull   /* after the virtio-mmio windows */

struct vmm_gen_port {
	uint32_t generation;   /* relaxed atomic */
	struct mmio_dev mmio;  /* register on the MMIO bus */
};

extern const struct vmm_io_ops vmm_gen_port_io_ops;
void vmm_gen_port_init(struct vmm_gen_port *g);

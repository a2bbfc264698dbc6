/* acpi.h - ACPI tables for a hardware-reduced x86 guest, and the two tiny
 * devices they describe: the sleep control/status registers (guest
 * power-off) and the Generic Event Device's power button.
 *
 * Guest memory layout (all inside [VMM_ACPI_START, +VMM_ACPI_SIZE), the
 * top 64 KiB below 1 MiB, which the e820 map already reports reserved
 * "where a BIOS would be" and which Linux searches for an RSDP):
 *
 *   0xf0000  RSDP (ACPI 2.0+, 36 bytes, 16-byte aligned)
 *   0xf0040  XSDT -> FADT, MADT
 *   ...      FADT (revision 6, HW_REDUCED_ACPI) -> DSDT
 *   ...      MADT (local APICs, IOAPIC, overrides, LAPIC NMI)
 *   ...      DSDT (devices, \_S5)
 *            each table 16-byte aligned, in that order
 *
 * The RSDP address also reaches the guest directly: PVH
 * hvm_start_info.rsdp_paddr, bzImage boot_params.acpi_rsdp_addr (0x070). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "guest-mem.h"
#include "io-bus.h"
#include "mmio-bus.h"
#include "stop-reason.h"

#define VMM_ACPI_START      0xf0000ull
#define VMM_ACPI_SIZE       0x10000ull
#define VMM_ACPI_RSDP       VMM_ACPI_START

#define VMM_ACPI_MAX_CPUS   254    /* APIC ids 0..253; the IOAPIC takes nr_vcpus */
#define VMM_ACPI_MAX_VIRTIO 64
#define VMM_ACPI_IOAPIC_PINS 24    /* KVM's in-kernel IOAPIC: GSIs 0-23 */

/* Suggested ports of the sleep registers (the VGA attribute range; hvd has
 * no VGA) and GSI of the power button (the IOAPIC's last pin). */
#define VMM_ACPI_SLEEP_CONTROL_PORT 0x3c0
#define VMM_ACPI_SLEEP_STATUS_PORT  0x3c1
#define VMM_ACPI_GED_GSI            23

/* Sleep Control Register (ACPI 6.5 §4.8.3.7): SLP_TYPx in bits 2-4,
 * SLP_EN bit 5; \_S5 gives SLP_TYP 5. Sleep Status: WAK_STS bit 7. */
#define VMM_ACPI_SLP_TYP_SHIFT 2
#define VMM_ACPI_SLP_TYP_MASK  0x1c
#define VMM_ACPI_SLP_EN        0x20
#define VMM_ACPI_WAK_STS       0x80
#define VMM_ACPI_S5_SLP_TYP    5

struct vmm_acpi_virtio {
	uint64_t base;      /* MMIO window, any 64-bit address */
	uint64_t size;
	unsigned gsi;       /* level-triggered, active-high, < VMM_ACPI_IOAPIC_PINS */
};

struct vmm_acpi_config {
	unsigned nr_vcpus;                    /* 1..VMM_ACPI_MAX_CPUS, APIC id = index */
	const struct vmm_acpi_virtio *virtio; /* DSDT devices LNRO0005, _UID = index */
	unsigned nvirtio;                     /* 0..VMM_ACPI_MAX_VIRTIO */
	uint16_t sleep_control_port;          /* FADT SLEEP_CONTROL_REG, not 0 */
	uint16_t sleep_status_port;           /* FADT SLEEP_STATUS_REG, not 0 */
	bool com1;          /* PNP0501 at 0x3f8, IRQ 4 */
	bool i8042;         /* FADT 8042 flag, PNP0303 at 0x60/0x64, IRQ 1 */
	bool cmos_rtc;      /* else FADT "CMOS RTC not present" */
	bool power_button;  /* GED (ACPI0013) + power button (PNP0C0C) */
	unsigned power_button_gsi;  /* edge-triggered, active-high, < 24 */
};

/* Writes the RSDP and every table into [VMM_ACPI_START, +VMM_ACPI_SIZE) of
 * mem (the rest of that range is zeroed) and sets *ret_rsdp to the RSDP's
 * guest physical address. Returns 0; -EINVAL for a config outside the
 * limits above (or two virtio devices of one GSI); -ENOMEM when RAM does
 * not cover the range or memory runs out; -E2BIG when the tables do not
 * fit in it. On error the range may be partly written. */
int vmm_acpi_build(const struct vmm_acpi_config *cfg, const struct guest_mem *mem,
		   uint64_t *ret_rsdp);

/* The sleep registers as port I/O (register both ports with one opaque).
 * A write to the control port of SLP_EN with SLP_TYP 5 stops the machine
 * with VMM_STOP_POWEROFF; other writes are ignored; both read as 0, so a
 * guest that polls WAK_STS after its S5 write waits for the stop. */
struct vmm_acpi_pm {
	uint16_t control_port;
	uint16_t status_port;
	vmm_stop_fn *stop;
	void *opaque;
};

extern const struct vmm_io_ops vmm_acpi_pm_io_ops;

/* One press of the power button: a rising then falling edge on the GED's
 * line (the DSDT's _EVT notifies \_SB.PWRB with 0x80). A press before the
 * guest's GED driver unmasks the pin is lost; callers retry or time out. */
void vmm_acpi_power_button(struct vmm_irq *irq);

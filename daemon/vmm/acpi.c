/* acpi.c - the ACPI tables of a guest (layout in acpi.h) and the sleep
 * register device.
 *
 * The platform is hardware-reduced ACPI (FADT flag HW_REDUCED_ACPI): no
 * PM1 blocks, GPEs, SCI or FACS; power-off goes through the FADT's sleep
 * control register, a power-button press through a Generic Event Device.
 * Linux on such a platform leaves the 8259 PIC and PIT alone and maps
 * every interrupt through the IOAPIC from the DSDT's resources, which is
 * why COM1 and the i8042 appear there as PNP devices.
 *
 * The MADT agrees with mptable.c: APIC id = vCPU index, one IOAPIC with id
 * nr_vcpus at 0xfec00000 and GSI base 0, ISA IRQs identity-mapped (KVM's
 * default routing sends GSI n, the in-kernel PIT's included, to IOAPIC pin
 * n; so there is no IRQ0 -> GSI2 override), virtio lines below 16 marked
 * level-triggered active-high by overrides, LINT1 = NMI.
 *
 * Invariants: every table's Length covers exactly its bytes and its
 * checksum makes them sum to zero; the RSDP checksum covers its first 20
 * bytes and the extended checksum all 36; nothing is written outside
 * [VMM_ACPI_START, +VMM_ACPI_SIZE). Section numbers: ACPI 6.5. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "acpi.h"
#include "aml.h"

#define OEM_ID          "HVD   "     /* 6 bytes */
#define OEM_REVISION    1
#define CREATOR_ID      "HVD "
#define CREATOR_REV     1
#define LAPIC_ADDR      0xfee00000u
#define IOAPIC_ADDR     0xfec00000u

/* 5.2.6 System Description Table Header */
struct __attribute__((packed)) sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
};

/* 5.2.5.3 Root System Description Pointer (revision 2) */
struct __attribute__((packed)) rsdp {
	char signature[8];
	uint8_t checksum;           /* of bytes 0-19 */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum;  /* of all 36 bytes */
	uint8_t reserved[3];
};

_Static_assert(sizeof(struct sdt_header) == 36, "SDT header");
_Static_assert(sizeof(struct rsdp) == 36, "RSDP");

/* 5.2.9 FADT, Table 5.9: byte offsets of the fields hvd fills (length 276
 * for revision 6, ending with the Hypervisor Vendor Identity). */
#define FADT_LENGTH          276
#define FADT_REVISION        6
#define FADT_MINOR_REVISION  5
#define FADT_FIRMWARE_CTRL   36
#define FADT_DSDT            40
#define FADT_IAPC_BOOT_ARCH  109
#define FADT_FLAGS           112
#define FADT_MINOR_VERSION   131
#define FADT_X_DSDT          140
#define FADT_SLEEP_CONTROL   244
#define FADT_SLEEP_STATUS    256
#define FADT_HYPERVISOR_ID   268
/* 5.2.9.3 IA-PC Boot Architecture Flags */
#define BOOT_LEGACY_DEVICES  (1u << 0)
#define BOOT_8042            (1u << 1)
#define BOOT_VGA_NOT_PRESENT (1u << 2)
#define BOOT_MSI_NOT_SUPPORTED (1u << 3)
#define BOOT_CMOS_RTC_NOT_PRESENT (1u << 5)
/* 5.2.9 Table 5.10 Fixed ACPI Description Table Fixed Feature Flags */
#define FADT_F_WBINVD        (1u << 0)
#define FADT_F_PWR_BUTTON    (1u << 4)    /* no fixed power button */
#define FADT_F_SLP_BUTTON    (1u << 5)    /* no fixed sleep button */
#define FADT_F_HW_REDUCED    (1u << 20)

/* 5.2.3.2 Generic Address Structure */
#define GAS_SYSTEM_IO        1
#define GAS_ACCESS_BYTE      1

/* 5.2.12 MADT */
#define MADT_REVISION        5
#define MADT_PCAT_COMPAT     1u           /* the in-kernel 8259s exist */
#define MADT_LAPIC           0            /* 5.2.12.2 */
#define MADT_IOAPIC          1            /* 5.2.12.3 */
#define MADT_ISO             2            /* 5.2.12.5 */
#define MADT_LAPIC_NMI       4            /* 5.2.12.7 */
#define MPS_INTI_LEVEL_HIGH  0x000d       /* 5.2.12.5 Table 5.50: polarity 01, trigger 11 */

static uint64_t align16(uint64_t v)
{
	return (v + 15) & ~15ull;
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)-sum;
}

/* Header fields at p (the table's first byte); length and checksum are set
 * by finish_table once the body is there. */
static void fill_header(uint8_t *p, const char sig[4], uint8_t revision, const char table_id[8])
{
	struct sdt_header h = { .revision = revision, .oem_revision = OEM_REVISION,
				.creator_revision = CREATOR_REV };

	memcpy(h.signature, sig, 4);
	memcpy(h.oem_id, OEM_ID, 6);
	memcpy(h.oem_table_id, table_id, 8);
	memcpy(h.creator_id, CREATOR_ID, 4);
	memcpy(p, &h, sizeof(h));
}

static void finish_table(uint8_t *p, uint32_t length)
{
	put32(p + offsetof(struct sdt_header, length), length);
	p[offsetof(struct sdt_header, checksum)] = 0;
	p[offsetof(struct sdt_header, checksum)] = checksum(p, length);
}

/* 5.2.3.2: a byte-wide register at an I/O port. */
static void put_gas_io(uint8_t *p, uint16_t port)
{
	p[0] = GAS_SYSTEM_IO;
	p[1] = 8;          /* register bit width */
	p[2] = 0;          /* bit offset */
	p[3] = GAS_ACCESS_BYTE;
	put64(p + 4, port);
}

static uint32_t fadt_build(uint8_t *p, const struct vmm_acpi_config *cfg, uint64_t dsdt)
{
	uint16_t boot = BOOT_VGA_NOT_PRESENT | BOOT_MSI_NOT_SUPPORTED;

	if (cfg->com1 || cfg->i8042)
		boot |= BOOT_LEGACY_DEVICES;
	if (cfg->i8042)
		boot |= BOOT_8042;    /* else Linux takes the 8042 for absent */
	if (!cfg->cmos_rtc)
		boot |= BOOT_CMOS_RTC_NOT_PRESENT;
	fill_header(p, "FACP", FADT_REVISION, "HVDFACP ");
	put32(p + FADT_FIRMWARE_CTRL, 0);          /* no FACS: hardware-reduced */
	put32(p + FADT_DSDT, (uint32_t)dsdt);
	put16(p + FADT_IAPC_BOOT_ARCH, boot);
	put32(p + FADT_FLAGS, FADT_F_WBINVD | FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON |
			      FADT_F_HW_REDUCED);
	p[FADT_MINOR_VERSION] = FADT_MINOR_REVISION;
	put64(p + FADT_X_DSDT, dsdt);
	put_gas_io(p + FADT_SLEEP_CONTROL, cfg->sleep_control_port);
	put_gas_io(p + FADT_SLEEP_STATUS, cfg->sleep_status_port);
	memcpy(p + FADT_HYPERVISOR_ID, "HVD     ", 8);
	finish_table(p, FADT_LENGTH);
	return FADT_LENGTH;
}

/* Bit n set: GSI n gets a level-triggered override in the MADT. */
static uint32_t level_legacy_irqs(const struct vmm_acpi_config *cfg)
{
	uint32_t mask = 0;

	for (unsigned i = 0; i < cfg->nvirtio; i++)
		if (cfg->virtio[i].gsi < 16)
			mask |= 1u << cfg->virtio[i].gsi;
	return mask;
}

static uint32_t madt_size(const struct vmm_acpi_config *cfg)
{
	return 36 + 8 + cfg->nr_vcpus * 8 + 12 +
	       (uint32_t)__builtin_popcount(level_legacy_irqs(cfg)) * 10 + 6;
}

static uint32_t madt_build(uint8_t *p, const struct vmm_acpi_config *cfg)
{
	uint32_t level = level_legacy_irqs(cfg);
	uint8_t *e = p + 44;

	fill_header(p, "APIC", MADT_REVISION, "HVDAPIC ");
	put32(p + 36, LAPIC_ADDR);       /* Local Interrupt Controller Address */
	put32(p + 40, MADT_PCAT_COMPAT);
	for (unsigned i = 0; i < cfg->nr_vcpus; i++, e += 8) {
		/* 5.2.12.2: type, length, ACPI Processor UID, APIC ID, flags (enabled) */
		e[0] = MADT_LAPIC;
		e[1] = 8;
		e[2] = (uint8_t)i;
		e[3] = (uint8_t)i;
		put32(e + 4, 1);
	}
	/* 5.2.12.3: type, length, I/O APIC ID, reserved, address, GSI base */
	e[0] = MADT_IOAPIC;
	e[1] = 12;
	e[2] = (uint8_t)cfg->nr_vcpus;
	e[3] = 0;
	put32(e + 4, IOAPIC_ADDR);
	put32(e + 8, 0);
	e += 12;
	for (unsigned irq = 0; irq < 16; irq++) {
		if (!(level >> irq & 1))
			continue;
		/* 5.2.12.5: type, length, bus (0 = ISA), source IRQ, GSI, MPS INTI flags */
		e[0] = MADT_ISO;
		e[1] = 10;
		e[2] = 0;
		e[3] = (uint8_t)irq;
		put32(e + 4, irq);
		put16(e + 8, MPS_INTI_LEVEL_HIGH);
		e += 10;
	}
	/* 5.2.12.7: type, length, ACPI Processor UID (0xff: all), flags, LINT# */
	e[0] = MADT_LAPIC_NMI;
	e[1] = 6;
	e[2] = 0xff;
	put16(e + 3, 0);
	e[5] = 1;
	e += 6;
	finish_table(p, (uint32_t)(e - p));
	return (uint32_t)(e - p);
}

/* Name(name, integer) and Name(name, "string"). */
static int name_int(struct aml *a, const char *name, uint64_t v)
{
	return aml_name(a, name) ?: aml_integer(a, v);
}

static int name_eisaid(struct aml *a, const char *name, const char *id)
{
	return aml_name(a, name) ?: aml_eisaid(a, id);
}

/* Device(name) { _HID EisaId(hid), _UID, _CRS: IO ports + ISA IRQ } */
static int dsdt_isa_device(struct aml *a, const char *name, const char *hid,
			   const uint16_t *ports, const uint8_t *lens, unsigned nports, unsigned irq)
{
	aml_device(a, name);
	name_eisaid(a, "_HID", hid);
	name_int(a, "_UID", 0);
	aml_name(a, "_CRS");
	aml_resource_template(a);
	for (unsigned i = 0; i < nports; i++)
		aml_res_io(a, ports[i], lens[i]);
	aml_res_irq_noflags(a, irq);
	aml_resource_template_end(a);
	return aml_end(a);
}

/* Device(Vnnn) { _HID "LNRO0005", _UID n, _CCA One, _CRS: window + line }:
 * how Linux's virtio_mmio driver finds its devices through ACPI. */
static int dsdt_virtio(struct aml *a, unsigned n, const struct vmm_acpi_virtio *v)
{
	char name[5];

	snprintf(name, sizeof(name), "V%03X", n & 0xfffu);   /* n < VMM_ACPI_MAX_VIRTIO */
	aml_device(a, name);
	aml_name(a, "_HID");
	aml_string(a, "LNRO0005");
	name_int(a, "_UID", n);
	name_int(a, "_CCA", 1);
	aml_name(a, "_CRS");
	aml_resource_template(a);
	aml_res_memory(a, v->base, v->size, true);
	aml_res_interrupt(a, v->gsi, 0);      /* level, active-high, exclusive */
	aml_resource_template_end(a);
	return aml_end(a);
}

/* Device(PWRB) { _HID PNP0C0C } and Device(GED0) { _HID "ACPI0013", _CRS:
 * one edge interrupt, Method(_EVT, 1) { Notify(\_SB.PWRB, 0x80) } }: the
 * 5.6.9 Generic Event Device runs _EVT on its interrupt; 0x80 on a control
 * method power button (4.8.2.2.1.2) is "button pressed". */
static int dsdt_power_button(struct aml *a, unsigned gsi)
{
	aml_device(a, "PWRB");
	name_eisaid(a, "_HID", "PNP0C0C");
	name_int(a, "_UID", 0);
	aml_end(a);
	aml_device(a, "GED0");
	aml_name(a, "_HID");
	aml_string(a, "ACPI0013");
	name_int(a, "_UID", 0);
	aml_name(a, "_CRS");
	aml_resource_template(a);
	aml_res_interrupt(a, gsi, AML_IRQ_EDGE);
	aml_resource_template_end(a);
	aml_method(a, "_EVT", 1, false);
	aml_notify(a, "\\_SB.PWRB", 0x80);
	aml_end(a);
	return aml_end(a);
}

/* The DSDT, header included, into a (its checksum is set by the caller
 * once the table is in place). The builders' errors stick in a (aml.h):
 * aml_finish reports the first one. */
static int dsdt_build(struct aml *a, const struct vmm_acpi_config *cfg)
{
	static const uint16_t com1_port[] = { 0x3f8 }, kbd_ports[] = { 0x60, 0x64 };
	static const uint8_t com1_len[] = { 8 }, kbd_lens[] = { 1, 1 };
	uint8_t header[36];

	fill_header(header, "DSDT", 2, "HVDDSDT ");   /* revision 2: 64-bit integers */
	aml_append(a, header, sizeof(header));
	/* 7.4.2.6 \_S5: SLP_TYPa, SLP_TYPb, reserved, reserved. A hardware-
	 * reduced OSPM writes SLP_TYPa to the sleep control register. */
	aml_name(a, "_S5");
	aml_package(a, 4);
	aml_integer(a, VMM_ACPI_S5_SLP_TYP);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_end(a);
	aml_scope(a, "\\_SB");
	if (cfg->com1)
		dsdt_isa_device(a, "COM1", "PNP0501", com1_port, com1_len, 1, 4);
	if (cfg->i8042)
		dsdt_isa_device(a, "PS2K", "PNP0303", kbd_ports, kbd_lens, 2, 1);
	if (cfg->power_button)
		dsdt_power_button(a, cfg->power_button_gsi);
	for (unsigned i = 0; i < cfg->nvirtio; i++)
		dsdt_virtio(a, i, &cfg->virtio[i]);
	aml_end(a);
	return aml_finish(a);
}

static int check_config(const struct vmm_acpi_config *cfg)
{
	uint32_t gsis = 0;

	if (cfg->nr_vcpus < 1 || cfg->nr_vcpus > VMM_ACPI_MAX_CPUS ||
	    cfg->nvirtio > VMM_ACPI_MAX_VIRTIO || (cfg->nvirtio && !cfg->virtio) ||
	    !cfg->sleep_control_port || !cfg->sleep_status_port)
		return -EINVAL;
	if (cfg->power_button) {
		if (cfg->power_button_gsi >= VMM_ACPI_IOAPIC_PINS)
			return -EINVAL;
		gsis |= 1u << cfg->power_button_gsi;
	}
	for (unsigned i = 0; i < cfg->nvirtio; i++) {
		const struct vmm_acpi_virtio *v = &cfg->virtio[i];
		uint64_t last;

		if (v->gsi >= VMM_ACPI_IOAPIC_PINS || (gsis >> v->gsi & 1) || v->size == 0 ||
		    __builtin_add_overflow(v->base, v->size - 1, &last))
			return -EINVAL;
		gsis |= 1u << v->gsi;
	}
	return 0;
}

int vmm_acpi_build(const struct vmm_acpi_config *cfg, const struct guest_mem *mem,
		   uint64_t *ret_rsdp)
{
	const uint64_t base = VMM_ACPI_START;
	uint64_t xsdt, fadt, madt, dsdt, end;
	uint8_t *area;
	struct aml a;
	struct rsdp rp = { .revision = 2, .length = sizeof(struct rsdp) };
	int r;

	r = check_config(cfg);
	if (r < 0)
		return r;
	area = guest_mem_ptr(mem, base, VMM_ACPI_SIZE);
	if (!area)
		return -ENOMEM;
	aml_init(&a);
	r = dsdt_build(&a, cfg);
	if (r < 0)
		goto out;

	xsdt = base + 0x40;     /* the RSDP's 36 bytes, padded */
	fadt = xsdt + align16(36 + 2 * 8);
	madt = fadt + align16(FADT_LENGTH);
	dsdt = madt + align16(madt_size(cfg));
	end = dsdt + a.len;
	r = -E2BIG;
	if (end > base + VMM_ACPI_SIZE)
		goto out;

	memset(area, 0, VMM_ACPI_SIZE);
	memcpy(area + (dsdt - base), a.data, a.len);
	finish_table(area + (dsdt - base), (uint32_t)a.len);
	madt_build(area + (madt - base), cfg);
	fadt_build(area + (fadt - base), cfg, dsdt);
	/* 5.2.8 XSDT: the header, then 64-bit addresses of the other tables */
	fill_header(area + (xsdt - base), "XSDT", 1, "HVDXSDT ");
	put64(area + (xsdt - base) + 36, fadt);
	put64(area + (xsdt - base) + 44, madt);
	finish_table(area + (xsdt - base), 36 + 2 * 8);

	memcpy(rp.signature, "RSD PTR ", 8);
	memcpy(rp.oem_id, OEM_ID, 6);
	rp.xsdt_address = xsdt;           /* no RSDT: every OSPM of ACPI 2.0+ uses the XSDT */
	rp.checksum = checksum((const uint8_t *)&rp, 20);
	rp.extended_checksum = checksum((const uint8_t *)&rp, sizeof(rp));
	memcpy(area, &rp, sizeof(rp));
	*ret_rsdp = base;
	r = 0;
out:
	aml_release(&a);
	return r;
}

static void pm_in(void *opaque __attribute__((unused)), uint16_t port __attribute__((unused)),
		  unsigned len __attribute__((unused)), uint32_t *val)
{
	*val = 0;    /* WAK_STS clear: a guest that polls it waits for the stop */
}

static void pm_out(void *opaque, uint16_t port, unsigned len __attribute__((unused)),
		   uint32_t val)
{
	struct vmm_acpi_pm *pm = opaque;

	/* 4.8.3.7: the OSPM writes SLP_TYP | SLP_EN; only S5 is advertised, so
	 * other types (and the status port's WAK_STS clears) are ignored. */
	if (port != pm->control_port || !(val & VMM_ACPI_SLP_EN) ||
	    (val & VMM_ACPI_SLP_TYP_MASK) >> VMM_ACPI_SLP_TYP_SHIFT != VMM_ACPI_S5_SLP_TYP)
		return;
	if (pm->stop)
		pm->stop(pm->opaque, VMM_STOP_POWEROFF, 0, "ACPI S5");
}

const struct vmm_io_ops vmm_acpi_pm_io_ops = {
	.in = pm_in,
	.out = pm_out,
};

void vmm_acpi_power_button(struct vmm_irq *irq)
{
	irq->set(irq, 1);
	irq->set(irq, 0);
}

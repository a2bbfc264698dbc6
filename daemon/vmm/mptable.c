/* mptable.c - Intel MultiProcessor Specification 1.4 tables, which is how
 * a firmware-less, ACPI-less Linux guest finds its CPUs, its IOAPIC and
 * how ISA interrupts are wired. Layout at VMM_MPTABLE_START (reserved in
 * the e820 map): the floating pointer, then the configuration table with
 * one processor entry per vCPU (APIC id = index), one ISA bus, one IOAPIC
 * (id = nr_vcpus, 24 pins at 0xfec00000), an interrupt entry per pin, and
 * the LINT0 (ExtINT) / LINT1 (NMI) entries. */
#include <errno.h>
#include <string.h>
#include "boot.h"

#define MPC_APIC_ADDR   0xfee00000u
#define IOAPIC_ADDR     0xfec00000u
#define IOAPIC_PINS     24
#define MPTABLE_AREA    (VMM_EBDA_END - VMM_MPTABLE_START)

struct __attribute__((packed)) mpf {
	char signature[4];
	uint32_t physptr;
	uint8_t length, specification, checksum, feature1;
	uint8_t feature2, feature3, feature4, feature5;
};

struct __attribute__((packed)) mpc_table {
	char signature[4];
	uint16_t length;
	uint8_t spec, checksum;
	char oem[8], product[12];
	uint32_t oemptr;
	uint16_t oemsize, oemcount;
	uint32_t lapic;
	uint32_t reserved;
};

struct __attribute__((packed)) mpc_cpu {
	uint8_t type, apicid, apicver, cpuflag;
	uint32_t cpufeature, featureflag, reserved[2];
};

struct __attribute__((packed)) mpc_bus {
	uint8_t type, busid;
	char bustype[6];
};

struct __attribute__((packed)) mpc_ioapic {
	uint8_t type, apicid, apicver, flags;
	uint32_t apicaddr;
};

struct __attribute__((packed)) mpc_intsrc {
	uint8_t type, irqtype;
	uint16_t irqflag;
	uint8_t srcbus, srcbusirq, dstapic, dstirq;
};

static uint8_t checksum(const void *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + ((const uint8_t *)p)[i]);
	return (uint8_t)-sum;
}

int vmm_mptable_write(const struct guest_mem *mem, unsigned nr_vcpus, uint32_t level_irqs)
{
	size_t size = sizeof(struct mpf) + sizeof(struct mpc_table) +
		      nr_vcpus * sizeof(struct mpc_cpu) + sizeof(struct mpc_bus) +
		      sizeof(struct mpc_ioapic) + (IOAPIC_PINS + 2) * sizeof(struct mpc_intsrc);
	uint8_t *base, *p;
	struct mpf *mpf;
	struct mpc_table *mpc;
	uint16_t count = 0;

	if (nr_vcpus == 0 || nr_vcpus > VMM_MPTABLE_MAX_CPUS || size > MPTABLE_AREA)
		return -E2BIG;
	base = guest_mem_ptr(mem, VMM_MPTABLE_START, MPTABLE_AREA);
	if (!base)
		return -ENOMEM;
	memset(base, 0, MPTABLE_AREA);
	mpf = (struct mpf *)base;
	mpc = (struct mpc_table *)(base + sizeof(*mpf));
	p = (uint8_t *)(mpc + 1);

	for (unsigned i = 0; i < nr_vcpus; i++, count++) {
		struct mpc_cpu c = {
			.type = 0, .apicid = (uint8_t)i, .apicver = 0x14,
			.cpuflag = 1 | (i == 0 ? 2 : 0),   /* enabled, boot processor */
			.cpufeature = 0x600, .featureflag = 0x201,  /* FPU, APIC */
		};
		memcpy(p, &c, sizeof(c));
		p += sizeof(c);
	}
	struct mpc_bus bus = { .type = 1, .busid = 0, .bustype = { 'I', 'S', 'A', ' ', ' ', ' ' } };
	memcpy(p, &bus, sizeof(bus));
	p += sizeof(bus);
	count++;
	struct mpc_ioapic io = { .type = 2, .apicid = (uint8_t)nr_vcpus, .apicver = 0x11,
				 .flags = 1, .apicaddr = IOAPIC_ADDR };
	memcpy(p, &io, sizeof(io));
	p += sizeof(io);
	count++;
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++, count++) {
		/* irqflag: polarity bits 0-1 (1 = high), trigger bits 2-3 (3 = level) */
		struct mpc_intsrc s = {
			.type = 3, .irqtype = 0,
			.irqflag = (level_irqs >> pin) & 1 ? 0x0d : 0,
			.srcbus = 0, .srcbusirq = (uint8_t)pin,
			.dstapic = (uint8_t)nr_vcpus, .dstirq = (uint8_t)pin,
		};
		memcpy(p, &s, sizeof(s));
		p += sizeof(s);
	}
	struct mpc_intsrc lint0 = { .type = 4, .irqtype = 3, .dstapic = 0xff, .dstirq = 0 };
	struct mpc_intsrc lint1 = { .type = 4, .irqtype = 1, .dstapic = 0xff, .dstirq = 1 };
	memcpy(p, &lint0, sizeof(lint0));
	p += sizeof(lint0);
	memcpy(p, &lint1, sizeof(lint1));
	p += sizeof(lint1);
	count += 2;

	memcpy(mpc->signature, "PCMP", 4);
	mpc->length = (uint16_t)(p - (uint8_t *)mpc);
	mpc->spec = 4;
	memcpy(mpc->oem, "HVD     ", 8);
	memcpy(mpc->product, "HVD-VM      ", 12);
	mpc->oemcount = count;
	mpc->lapic = MPC_APIC_ADDR;
	mpc->checksum = checksum(mpc, mpc->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = (uint32_t)(VMM_MPTABLE_START + sizeof(*mpf));
	mpf->length = 1;
	mpf->specification = 4;
	mpf->checksum = checksum(mpf, sizeof(*mpf));
	return 0;
}

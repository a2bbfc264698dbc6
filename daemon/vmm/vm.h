/* vm.h - the KVM VM fd: in-kernel irqchip and PIT, RAM slot, IRQ lines. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "guest-mem.h"
#include "kvm.h"
#include "mmio-bus.h"

/* Addresses KVM needs for its own use on Intel (3 pages for the TSS, one
 * for the identity-mapped page table), just below the BIOS ROM window. */
#define VMM_TSS_ADDR          0xfffbd000ull
#define VMM_IDENTITY_MAP_ADDR 0xfffbc000ull

struct vmm_vm {
	int fd;
	const struct vmm_kvm *kvm;
	bool irqchip;   /* in-kernel PIC + IOAPIC + LAPICs */
	bool pit;       /* in-kernel PIT (speaker port 0x61 included) */
};

/* An interrupt line on the in-kernel irqchip (implements struct vmm_irq
 * from mmio-bus.h): KVM_IRQ_LINE, or for level-triggered device lines an
 * irqfd with a resample fd (vmm_vm_irq_line_use_irqfd). */
struct vmm_irq_line {
	struct vmm_irq irq;
	int vm_fd;
	int trigger_fd;    /* irqfd; -1: KVM_IRQ_LINE */
	int resample_fd;   /* KVM signals it when the guest EOIs the line */
	int level;         /* what the device asks for (atomic) */
};

/* Creates the VM (identity map and TSS addresses set). Returns 0 or -errno
 * of the failing ioctl; nothing is left open on error. */
int vmm_vm_create(const struct vmm_kvm *kvm, struct vmm_vm *ret);

/* Maps guest RAM: slot 0 at guest physical 0, slot 1 from 4 GiB for RAM
 * beyond the low part. */
int vmm_vm_add_ram(struct vmm_vm *vm, const struct guest_mem *mem);
/* Creates the in-kernel irqchip and PIT where KVM offers them; called after
 * vmm_vm_add_ram (a slot change with an irqchip waits for an SRCU grace
 * period) and before the vCPUs. */
int vmm_vm_create_irqchip(struct vmm_vm *vm);

/* Prepares line as GSI gsi of vm, driven by KVM_IRQ_LINE. */
void vmm_vm_irq_line_init(struct vmm_vm *vm, struct vmm_irq_line *line, unsigned gsi);

/* Moves an initialised level-triggered line to an irqfd with a resample
 * fd: raising it is then one eventfd write, with no ioctl and no KVM lock
 * taken by the caller; lowering it costs nothing (KVM lowers the line when
 * the guest EOIs it and signals resample_fd; whoever polls resample_fd
 * calls vmm_vm_irq_line_resample, which raises it again while the device
 * still asks for it). Returns 0, or -errno (no irqchip, no
 * KVM_CAP_IRQFD_RESAMPLE, eventfd or ioctl failure) with the line left on
 * KVM_IRQ_LINE. Call before any thread uses the line. */
int vmm_vm_irq_line_use_irqfd(struct vmm_vm *vm, struct vmm_irq_line *line);

/* resample_fd is readable: consume it, re-raise the line if the device
 * still asks for it. Any thread; no-op for a KVM_IRQ_LINE line. */
void vmm_vm_irq_line_resample(struct vmm_irq_line *line);

/* Closes the irqfd's eventfds (KVM drops the irqfd when the trigger fd
 * goes). Accepts a zeroed or KVM_IRQ_LINE line. */
void vmm_vm_irq_line_destroy(struct vmm_irq_line *line);

void vmm_vm_destroy(struct vmm_vm *vm);

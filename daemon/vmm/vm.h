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
 * from mmio-bus.h with KVM_IRQ_LINE). */
struct vmm_irq_line {
	struct vmm_irq irq;
	int vm_fd;
};

/* Creates the VM and, where KVM offers them, the in-kernel irqchip and PIT.
 * Returns 0 or -errno of the failing ioctl; nothing is left open on error. */
int vmm_vm_create(const struct vmm_kvm *kvm, struct vmm_vm *ret);

/* Maps guest RAM as memory slot 0 at guest physical 0. */
int vmm_vm_add_ram(struct vmm_vm *vm, const struct guest_mem *mem);

/* Prepares line as GSI gsi of vm. */
void vmm_vm_irq_line_init(struct vmm_vm *vm, struct vmm_irq_line *line, unsigned gsi);

void vmm_vm_destroy(struct vmm_vm *vm);

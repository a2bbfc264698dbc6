/* vm-state.h - the machine-wide state KVM keeps for a VM, as plain data:
 * the in-kernel PICs and IOAPIC, the in-kernel PIT, and kvmclock.
 *
 * Fixed size, no pointers or fds; written to a snapshot file as it is
 * (snapshot-file.h) and re-validated before use (vmm_vm_state_check). The
 * KVM structs are kernel UAPI; a change to this struct bumps the snapshot
 * format version. */
#pragma once
#include <stdint.h>
#include <linux/kvm.h>

#define VMM_VM_STATE_IRQCHIP   (1u << 0)  /* pic[] and ioapic are valid */
#define VMM_VM_STATE_PIT       (1u << 1)
#define VMM_VM_STATE_CLOCK     (1u << 2)
#define VMM_VM_STATE_ALL_FLAGS 0x7u

struct vmm_vm_state {
	uint32_t flags;                /* VMM_VM_STATE_* */
	uint32_t reserved;             /* 0 */
	struct kvm_irqchip pic[2];     /* chip_id KVM_IRQCHIP_PIC_MASTER, _SLAVE */
	struct kvm_irqchip ioapic;     /* chip_id KVM_IRQCHIP_IOAPIC */
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;   /* kvmclock at save time */
};

/* Reads the irqchip (if the VM has one), PIT (if it has one) and kvmclock
 * of the VM behind vm_fd into *ret. Call with every vCPU paused (the
 * clock is the guest's time at the pause). Returns 0 or -errno of the
 * failing ioctl; *ret is written only on success. */
int vmm_vm_state_save(int vm_fd, struct vmm_vm_state *ret);

/* Checks st without touching KVM: known flags, zero reserved fields,
 * chip ids in their places, PIT channel modes and flags in range. Returns
 * 0 or -EINVAL. */
int vmm_vm_state_check(const struct vmm_vm_state *st);

/* Puts st into the VM behind vm_fd, created like the source (irqchip and
 * PIT where the source had them), before its vCPUs run. Order: PICs,
 * IOAPIC, PIT, clock. The clock is set to the saved value alone (no
 * KVM_CLOCK_REALTIME): the guest's clock continues from the pause, as it
 * does after a pause/resume, and a clone does not see time jump.
 * st is checked first and the VM probed for each part st has, so -EINVAL
 * (bad state) and -ENOTSUP (no irqchip / PIT in this VM) leave it
 * untouched; a failing ioctl after that returns its -errno with the VM
 * partly written. */
int vmm_vm_state_restore(int vm_fd, const struct vmm_vm_state *st);

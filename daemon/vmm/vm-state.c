/* vm-state.c - saving and restoring a VM's in-kernel irqchip (two 8259
 * PICs, the IOAPIC), in-kernel PIT and kvmclock.
 *
 * Invariants: save writes *ret only on success; restore checks the state
 * and that the VM has every part the state has before its first write.
 * The LAPICs are per vCPU and live in vcpu-state.c. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include "vm-state.h"

#define PIT_FLAGS (KVM_PIT_FLAGS_HPET_LEGACY | KVM_PIT_FLAGS_SPEAKER_DATA_ON)

static int get_chip(int vm_fd, uint32_t id, struct kvm_irqchip *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->chip_id = id;
	return ioctl(vm_fd, KVM_GET_IRQCHIP, ret) < 0 ? -errno : 0;
}

int vmm_vm_state_save(int vm_fd, struct vmm_vm_state *ret)
{
	struct vmm_vm_state st;
	int r;

	memset(&st, 0, sizeof(st));
	r = get_chip(vm_fd, KVM_IRQCHIP_PIC_MASTER, &st.pic[0]);
	if (r == 0) {
		r = get_chip(vm_fd, KVM_IRQCHIP_PIC_SLAVE, &st.pic[1]);
		if (r == 0)
			r = get_chip(vm_fd, KVM_IRQCHIP_IOAPIC, &st.ioapic);
		if (r < 0)
			return r;
		st.flags |= VMM_VM_STATE_IRQCHIP;
	} else if (r != -ENXIO) {
		return r;
	} else {
		memset(st.pic, 0, sizeof(st.pic));  /* no irqchip: leave zeros */
	}
	if (ioctl(vm_fd, KVM_GET_PIT2, &st.pit) == 0)
		st.flags |= VMM_VM_STATE_PIT;
	else if (errno != ENXIO)
		return -errno;
	else
		memset(&st.pit, 0, sizeof(st.pit));
	if (ioctl(vm_fd, KVM_GET_CLOCK, &st.clock) < 0)
		return -errno;
	st.flags |= VMM_VM_STATE_CLOCK;
	*ret = st;
	return 0;
}

static int check_pit(const struct kvm_pit_state2 *pit)
{
	if (pit->flags & ~(uint32_t)PIT_FLAGS)
		return -EINVAL;
	for (unsigned i = 0; i < 3; i++) {
		const struct kvm_pit_channel_state *c = &pit->channels[i];

		/* KVM loads count as a 16-bit reload value (0 = 65536); modes 6
		 * and 7 alias 2 and 3; 0xff is a channel never programmed */
		if (c->count > 0x10000 || (c->mode > 7 && c->mode != 0xff) || c->rw_mode > 3 ||
		    c->bcd > 1 || c->gate > 1)
			return -EINVAL;
	}
	return 0;
}

int vmm_vm_state_check(const struct vmm_vm_state *st)
{
	if (st->flags & ~VMM_VM_STATE_ALL_FLAGS || st->reserved)
		return -EINVAL;
	if ((st->flags & VMM_VM_STATE_IRQCHIP) &&
	    (st->pic[0].chip_id != KVM_IRQCHIP_PIC_MASTER ||
	     st->pic[1].chip_id != KVM_IRQCHIP_PIC_SLAVE ||
	     st->ioapic.chip_id != KVM_IRQCHIP_IOAPIC))
		return -EINVAL;
	if ((st->flags & VMM_VM_STATE_PIT) && check_pit(&st->pit) < 0)
		return -EINVAL;
	return 0;
}

int vmm_vm_state_restore(int vm_fd, const struct vmm_vm_state *st)
{
	struct kvm_irqchip probe_chip;
	struct kvm_pit_state2 probe_pit;
	struct kvm_clock_data clock;
	int r;

	r = vmm_vm_state_check(st);
	if (r < 0)
		return r;
	if ((st->flags & VMM_VM_STATE_IRQCHIP) &&
	    get_chip(vm_fd, KVM_IRQCHIP_PIC_MASTER, &probe_chip) < 0)
		return -ENOTSUP;
	if ((st->flags & VMM_VM_STATE_PIT) && ioctl(vm_fd, KVM_GET_PIT2, &probe_pit) < 0)
		return -ENOTSUP;

	if (st->flags & VMM_VM_STATE_IRQCHIP) {
		if (ioctl(vm_fd, KVM_SET_IRQCHIP, &st->pic[0]) < 0 ||
		    ioctl(vm_fd, KVM_SET_IRQCHIP, &st->pic[1]) < 0 ||
		    ioctl(vm_fd, KVM_SET_IRQCHIP, &st->ioapic) < 0)
			return -errno;
	}
	if ((st->flags & VMM_VM_STATE_PIT) && ioctl(vm_fd, KVM_SET_PIT2, &st->pit) < 0)
		return -errno;
	if (st->flags & VMM_VM_STATE_CLOCK) {
		memset(&clock, 0, sizeof(clock));
		clock.clock = st->clock.clock;
		if (ioctl(vm_fd, KVM_SET_CLOCK, &clock) < 0)
			return -errno;
	}
	return 0;
}

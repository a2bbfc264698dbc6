/* vm.c - the VM fd and its machine-wide state: in-kernel irqchip (PIC,
 * IOAPIC, LAPICs), in-kernel PIT, the RAM memory slot and interrupt lines.
 *
 * The irqchip and PIT are used whenever KVM offers them (it does on this
 * machine and in the testbed); without them the VM still runs the polling
 * test guest, and interrupt lines become no-ops. Level-triggered device
 * lines can use an irqfd with a resample fd instead of KVM_IRQ_LINE: the
 * device thread then raises an interrupt with one eventfd write. */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "vm.h"

int vmm_vm_create(const struct vmm_kvm *kvm, struct vmm_vm *ret)
{
	struct vmm_vm vm = { .kvm = kvm };
	int r;

	vm.fd = ioctl(kvm->fd, KVM_CREATE_VM, 0);
	if (vm.fd < 0)
		return -errno;
	if (kvm->identity_map) {
		uint64_t addr = VMM_IDENTITY_MAP_ADDR;

		if (ioctl(vm.fd, KVM_SET_IDENTITY_MAP_ADDR, &addr) < 0)
			goto fail;
	}
	if (kvm->tss_addr && ioctl(vm.fd, KVM_SET_TSS_ADDR, (unsigned long)VMM_TSS_ADDR) < 0)
		goto fail;
	*ret = vm;
	return 0;
fail:
	r = -errno;
	close(vm.fd);
	return r;
}

/* After the RAM slots: a memory slot change once the irqchip exists waits
 * for an SRCU grace period (5-10 ms measured here, asleep), before it
 * costs nothing. */
int vmm_vm_create_irqchip(struct vmm_vm *vm)
{
	if (vm->kvm->irqchip) {
		if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0)
			return -errno;
		vm->irqchip = true;
	}
	if (vm->irqchip && vm->kvm->pit2) {
		struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

		if (ioctl(vm->fd, KVM_CREATE_PIT2, &pit) < 0)
			return -errno;
		vm->pit = true;
	}
	return 0;
}

int vmm_vm_add_ram(struct vmm_vm *vm, const struct guest_mem *mem)
{
	uint64_t low = guest_mem_low(mem);
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = low,
		.userspace_addr = (uint64_t)(uintptr_t)mem->host,
	};

	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return -errno;
	if (low == mem->size)
		return 0;
	/* the rest above the 32-bit device window */
	region = (struct kvm_userspace_memory_region){
		.slot = 1,
		.guest_phys_addr = GUEST_MEM_HIGH_START,
		.memory_size = mem->size - low,
		.userspace_addr = (uint64_t)(uintptr_t)(mem->host + low),
	};
	return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0 ? -errno : 0;
}

static void irq_line_set(struct vmm_irq *irq, int level)
{
	struct vmm_irq_line *line = (struct vmm_irq_line *)irq;
	struct kvm_irq_level l = { .irq = irq->gsi, .level = level ? 1 : 0 };

	if (line->vm_fd >= 0)
		(void)ioctl(line->vm_fd, KVM_IRQ_LINE, &l);
}

static void trigger(struct vmm_irq_line *line)
{
	uint64_t one = 1;

	/* EAGAIN (counter saturated) means it is raised already */
	(void)!write(line->trigger_fd, &one, sizeof(one));
}

/* Only a rising edge of the device's level writes: while the level stays
 * up, the line is either still raised or lowered by an EOI whose resample
 * event re-raises it. */
static void irqfd_set(struct vmm_irq *irq, int level)
{
	struct vmm_irq_line *line = (struct vmm_irq_line *)irq;
	int old = __atomic_exchange_n(&line->level, level ? 1 : 0, __ATOMIC_SEQ_CST);

	if (level && !old)
		trigger(line);
}

void vmm_vm_irq_line_init(struct vmm_vm *vm, struct vmm_irq_line *line, unsigned gsi)
{
	line->irq.set = irq_line_set;
	line->irq.gsi = gsi;
	line->vm_fd = vm->irqchip ? vm->fd : -1;
	line->trigger_fd = -1;
	line->resample_fd = -1;
	line->level = 0;
}

int vmm_vm_irq_line_use_irqfd(struct vmm_vm *vm, struct vmm_irq_line *line)
{
	struct kvm_irqfd req = { .gsi = line->irq.gsi, .flags = KVM_IRQFD_FLAG_RESAMPLE };
	int r;

	if (!vm->irqchip || !vm->kvm->irqfd || !vm->kvm->irqfd_resample)
		return -ENOTSUP;
	line->trigger_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	line->resample_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (line->trigger_fd < 0 || line->resample_fd < 0) {
		r = -errno;
		goto fail;
	}
	req.fd = (uint32_t)line->trigger_fd;
	req.resamplefd = (uint32_t)line->resample_fd;
	if (ioctl(vm->fd, KVM_IRQFD, &req) < 0) {
		r = -errno;
		goto fail;
	}
	line->irq.set = irqfd_set;
	return 0;
fail:
	vmm_vm_irq_line_destroy(line);
	return r;
}

void vmm_vm_irq_line_resample(struct vmm_irq_line *line)
{
	uint64_t v;

	if (line->resample_fd < 0)
		return;
	(void)!read(line->resample_fd, &v, sizeof(v));
	if (__atomic_load_n(&line->level, __ATOMIC_SEQ_CST))
		trigger(line);
}

void vmm_vm_irq_line_destroy(struct vmm_irq_line *line)
{
	if (!line)
		return;
	if (line->trigger_fd > 0)
		close(line->trigger_fd);
	if (line->resample_fd > 0)
		close(line->resample_fd);
	line->trigger_fd = line->resample_fd = -1;
	if (line->irq.set == irqfd_set)
		line->irq.set = irq_line_set;
}

void vmm_vm_destroy(struct vmm_vm *vm)
{
	if (vm && vm->fd > 0) {
		close(vm->fd);
		vm->fd = -1;
	}
}

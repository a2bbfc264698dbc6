/* kvm.c - opening /dev/kvm and probing it.
 *
 * Found on the development machine (nested KVM without vmx/svm, kernel
 * 6.18): API 12; IRQCHIP, PIT2, PIT_STATE2, IRQFD, IRQFD_RESAMPLE,
 * IOEVENTFD (any length), IRQ_ROUTING (4096 routes), SPLIT_IRQCHIP,
 * SET_TSS_ADDR, SET_IDENTITY_MAP_ADDR, EXT_CPUID, XSAVE, XCRS, KVMCLOCK_CTRL,
 * ADJUST_CLOCK, IMMEDIATE_EXIT, SYNC_MMU, MP_STATE, VCPU_EVENTS, DEBUGREGS,
 * GET_MSR_FEATURES, X86_DISABLE_EXITS, DIRTY_LOG_RING, MANUAL_DIRTY_LOG_PROTECT2,
 * COALESCED_MMIO/PIO, X2APIC_API, READONLY_MEM, SIGNAL_MSI, TSC_DEADLINE_TIMER
 * all present; TSC_CONTROL, HYPERV and PV_MMU absent; NR_VCPUS 2, MAX_VCPUS
 * 1024, NR_MEMSLOTS 32764. Creating the irqchip and PIT2 works; what fails
 * is emulating ring-0 code, not the API. The struct keeps the answers so
 * the VM can use the optional features where they exist and do without
 * them elsewhere. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "kvm.h"

int vmm_kvm_check(const struct vmm_kvm *kvm, int cap)
{
	int r = ioctl(kvm->fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}

int vmm_kvm_open(const char *path, struct vmm_kvm *ret)
{
	struct vmm_kvm k = { .fd = -1 };
	int r;

	k.fd = open(path ? path : "/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k.fd < 0)
		return -errno;
	r = -ENOTSUP;
	if (ioctl(k.fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		goto fail;
	if (!vmm_kvm_check(&k, KVM_CAP_USER_MEMORY) || !vmm_kvm_check(&k, KVM_CAP_IMMEDIATE_EXIT) ||
	    !vmm_kvm_check(&k, KVM_CAP_EXT_CPUID))
		goto fail;
	k.run_size = ioctl(k.fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (k.run_size <= 0)
		goto fail;
	k.max_vcpus = vmm_kvm_check(&k, KVM_CAP_MAX_VCPUS);
	if (k.max_vcpus <= 0)
		k.max_vcpus = vmm_kvm_check(&k, KVM_CAP_NR_VCPUS);
	if (k.max_vcpus <= 0)
		k.max_vcpus = 4;  /* documented default when the cap is absent */
	k.irqchip = vmm_kvm_check(&k, KVM_CAP_IRQCHIP) > 0;
	k.pit2 = vmm_kvm_check(&k, KVM_CAP_PIT2) > 0;
	k.irqfd = vmm_kvm_check(&k, KVM_CAP_IRQFD) > 0;
	k.irqfd_resample = vmm_kvm_check(&k, KVM_CAP_IRQFD_RESAMPLE) > 0;
	k.ioeventfd = vmm_kvm_check(&k, KVM_CAP_IOEVENTFD) > 0;
	k.immediate_exit = true;
	k.tss_addr = vmm_kvm_check(&k, KVM_CAP_SET_TSS_ADDR) > 0;
	k.identity_map = vmm_kvm_check(&k, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0;
	k.xsave = vmm_kvm_check(&k, KVM_CAP_XSAVE) > 0;
	k.dirty_log_ring = vmm_kvm_check(&k, KVM_CAP_DIRTY_LOG_RING) > 0;
	k.coalesced_page = vmm_kvm_check(&k, KVM_CAP_COALESCED_MMIO);
	k.coalesced_pio = vmm_kvm_check(&k, KVM_CAP_COALESCED_PIO) > 0;
	k.supported_cpuid = calloc(1, sizeof(*k.supported_cpuid) +
				   VMM_KVM_CPUID_MAX * sizeof(k.supported_cpuid->entries[0]));
	r = -ENOMEM;
	if (!k.supported_cpuid)
		goto fail;
	k.supported_cpuid->nent = VMM_KVM_CPUID_MAX;
	if (ioctl(k.fd, KVM_GET_SUPPORTED_CPUID, k.supported_cpuid) < 0) {
		r = -errno;
		goto fail;
	}
	*ret = k;
	return 0;
fail:
	free(k.supported_cpuid);
	close(k.fd);
	return r;
}

void vmm_kvm_close(struct vmm_kvm *kvm)
{
	if (!kvm)
		return;
	free(kvm->supported_cpuid);
	kvm->supported_cpuid = NULL;
	if (kvm->fd >= 0) {
		close(kvm->fd);
		kvm->fd = -1;
	}
}

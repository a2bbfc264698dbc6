/* kvm.h - the /dev/kvm system fd and what it offers. */
#pragma once
#include <stdbool.h>

#define VMM_KVM_CPUID_MAX 256   /* entries room for KVM_GET_SUPPORTED_CPUID */

struct vmm_kvm {
	int fd;
	int run_size;        /* bytes to mmap for each vCPU's kvm_run */
	int max_vcpus;
	bool irqchip;        /* KVM_CAP_IRQCHIP */
	bool pit2;           /* KVM_CAP_PIT2 */
	bool irqfd;          /* KVM_CAP_IRQFD */
	bool irqfd_resample; /* KVM_CAP_IRQFD_RESAMPLE */
	bool ioeventfd;      /* KVM_CAP_IOEVENTFD */
	bool immediate_exit; /* KVM_CAP_IMMEDIATE_EXIT */
	bool tss_addr;       /* KVM_CAP_SET_TSS_ADDR */
	bool identity_map;   /* KVM_CAP_SET_IDENTITY_MAP_ADDR */
	bool xsave;          /* KVM_CAP_XSAVE */
	bool dirty_log_ring; /* KVM_CAP_DIRTY_LOG_RING */
	int coalesced_page;  /* KVM_CAP_COALESCED_MMIO: the ring's page in a
			      * vCPU's mapping; 0 none */
	bool coalesced_pio;  /* KVM_CAP_COALESCED_PIO */
	/* KVM_GET_SUPPORTED_CPUID, read once (0.5 ms here) for every vCPU */
	struct kvm_cpuid2 *supported_cpuid;
};

/* Opens path (NULL: /dev/kvm), checks the API version (12) and reads the
 * capabilities and the supported CPUID above. Returns 0, -ENOENT/-EACCES from open, or -ENOTSUP
 * when the API version or a capability hvd cannot do without
 * (USER_MEMORY, IMMEDIATE_EXIT, EXT_CPUID) is missing. */
int vmm_kvm_open(const char *path, struct vmm_kvm *ret);

/* KVM_CHECK_EXTENSION on the system fd: > 0 supported (often a count),
 * 0 not supported. */
int vmm_kvm_check(const struct vmm_kvm *kvm, int cap);

void vmm_kvm_close(struct vmm_kvm *kvm);

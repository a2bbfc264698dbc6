/* cpu.h - per-vCPU x86 set-up before the first KVM_RUN: CPUID, MSRs, and
 * the registers of each boot protocol. */
#pragma once
#include <stdint.h>
#include "kvm.h"

/* KVM_GET_SUPPORTED_CPUID, filtered for a guest of nr_vcpus vCPUs (see
 * cpuid.c), set on vcpu_fd for vCPU index. Returns 0 or -errno. */
int vmm_cpuid_setup(const struct vmm_kvm *kvm, int vcpu_fd, unsigned index, unsigned nr_vcpus);

/* Boot-time MSR values (see msr.c). Returns 0, -errno, or -EIO when KVM
 * refused one of them. */
int vmm_msr_setup(int vcpu_fd);

enum vmm_boot_kind {
	VMM_BOOT_PVH,      /* 32-bit protected mode, paging off, rbx = start_info */
	VMM_BOOT_LINUX64,  /* long mode, identity map, rsi = boot_params */
};

/* Where the loader left the kernel, and how to enter it. */
struct vmm_boot {
	enum vmm_boot_kind kind;
	uint64_t entry;   /* guest physical entry point */
	uint64_t arg;     /* start_info (PVH) or boot_params (Linux) address */
};

/* With an in-kernel irqchip, wires the LAPIC's LINT0/LINT1 (ExtINT, NMI);
 * then, when boot is not NULL (vCPU 0), sets the registers (general,
 * segment, control, FPU) for the entry. Secondary vCPUs pass NULL: they
 * wait for INIT/SIPI.
 * The GDT and page tables are in guest memory (see boot.h). Returns 0 or
 * -errno. */
int vmm_regs_setup(int vcpu_fd, const struct vmm_boot *boot, int irqchip);

/* msr.c - MSRs a vCPU starts with: the SYSCALL/SYSENTER MSRs cleared,
 * fast strings enabled in MISC_ENABLE, and MTRRs on with write-back as the
 * default type (without MTRRs Linux maps all memory uncached). */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include "cpu.h"

#define MSR_IA32_SYSENTER_CS  0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_STAR              0xc0000081
#define MSR_LSTAR             0xc0000082
#define MSR_CSTAR             0xc0000083
#define MSR_SYSCALL_MASK      0xc0000084
#define MSR_KERNEL_GS_BASE    0xc0000102
#define MSR_IA32_MISC_ENABLE  0x1a0
#define MSR_MTRR_DEF_TYPE     0x2ff

int vmm_msr_setup(int vcpu_fd)
{
	static const struct { uint32_t index; uint64_t data; } boot_msrs[] = {
		{ MSR_IA32_SYSENTER_CS, 0 }, { MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 }, { MSR_STAR, 0 }, { MSR_LSTAR, 0 },
		{ MSR_CSTAR, 0 }, { MSR_SYSCALL_MASK, 0 }, { MSR_KERNEL_GS_BASE, 0 },
		{ MSR_IA32_MISC_ENABLE, 1 },             /* fast strings */
		{ MSR_MTRR_DEF_TYPE, (1u << 11) | 6 },   /* MTRRs on, default WB */
	};
	const unsigned n = sizeof(boot_msrs) / sizeof(boot_msrs[0]);
	struct kvm_msrs *m;
	int r;

	m = calloc(1, sizeof(*m) + n * sizeof(m->entries[0]));
	if (!m)
		return -ENOMEM;
	m->nmsrs = n;
	for (unsigned i = 0; i < n; i++) {
		m->entries[i].index = boot_msrs[i].index;
		m->entries[i].data = boot_msrs[i].data;
	}
	r = ioctl(vcpu_fd, KVM_SET_MSRS, m);
	free(m);
	if (r < 0)
		return -errno;
	return r == (int)n ? 0 : -EIO;
}

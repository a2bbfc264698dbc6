/* cpuid.c - the CPUID a guest sees: what KVM supports on this host, minus
 * what hvd does not back, plus what describes this VM.
 *
 * Changes to KVM_GET_SUPPORTED_CPUID's answer:
 *  - leaf 1: hypervisor bit set; initial APIC id = vCPU index; logical
 *    processor count = vCPUs (HTT when > 1); no VMX (no nested VMX here).
 *  - leaf 4 (Intel caches) and 0xb (topology): nr_vcpus cores, one thread
 *    each, one package; leaf 0x8000001e left as KVM reports it.
 *  - leaf 7: no ARCH_CAPABILITIES (the host refuses MSR 0x10a; QEMU needs
 *    -cpu host,-arch-capabilities on it for the same reason).
 *  - leaf 0x80000001: no SVM.
 *  - leaf 0xa (PMU): zeroed; hvd does not expose a PMU (migration would
 *    need its state).
 * The KVM leaves (0x40000000...) come through as KVM reports them, so the
 * guest finds kvmclock. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include "cpu.h"

static unsigned order_base_2(unsigned n)
{
	unsigned s = 0;

	while ((1u << s) < n)
		s++;
	return s;
}

static void filter(struct kvm_cpuid_entry2 *e, unsigned index, unsigned nr)
{
	switch (e->function) {
	case 1:
		e->ecx |= 1u << 31;                 /* hypervisor */
		e->ecx &= ~(1u << 5);               /* VMX */
		e->ebx &= 0x0000ffff;
		e->ebx |= (index << 24) | ((nr & 0xff) << 16);
		e->ebx = (e->ebx & ~0xff00u) | (8u << 8);  /* CLFLUSH 64 bytes */
		if (nr > 1)
			e->edx |= 1u << 28;             /* HTT */
		break;
	case 4:
		e->eax &= 0x3fff;                   /* keep type, level, ... */
		e->eax |= (nr - 1) << 26;           /* cores per package - 1 */
		if (((e->eax >> 5) & 7) == 3)       /* L3 shared by all */
			e->eax |= (nr - 1) << 14;
		break;
	case 7:
		if (e->index == 0)
			e->edx &= ~(1u << 29);          /* ARCH_CAPABILITIES */
		break;
	case 0xa:
		e->eax = e->ebx = e->ecx = e->edx = 0;
		break;
	case 0xb:
		e->edx = index;
		if (e->index == 0) {
			e->eax = 0;
			e->ebx = 1;
			e->ecx = (1u << 8) | 0;         /* SMT level */
		} else if (e->index == 1) {
			e->eax = order_base_2(nr);
			e->ebx = nr;
			e->ecx = (2u << 8) | 1;         /* core level */
		} else {
			e->eax = e->ebx = 0;
			e->ecx = e->index;
		}
		break;
	case 0x80000001:
		e->ecx &= ~(1u << 2);               /* SVM */
		break;
	default:
		break;
	}
}

int vmm_cpuid_setup(const struct vmm_kvm *kvm, int vcpu_fd, unsigned index, unsigned nr_vcpus)
{
	struct kvm_cpuid2 *c;
	size_t size;
	int r = 0;

	if (!kvm->supported_cpuid)
		return -EINVAL;
	size = sizeof(*c) + kvm->supported_cpuid->nent * sizeof(c->entries[0]);
	c = malloc(size);
	if (!c)
		return -ENOMEM;
	memcpy(c, kvm->supported_cpuid, size);
	for (unsigned i = 0; i < c->nent; i++)
		filter(&c->entries[i], index, nr_vcpus);
	if (ioctl(vcpu_fd, KVM_SET_CPUID2, c) < 0)
		r = -errno;
	free(c);
	return r;
}

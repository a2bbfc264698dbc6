/* vcpu-state.h - everything KVM holds for one x86-64 vCPU, as plain data,
 * and the ioctls that read it out of a vCPU and put it into another.
 *
 * The struct has a fixed size and no pointers or fds: it is written to a
 * snapshot file as it is (snapshot-file.h) and re-validated before use
 * (vcpu_state_check). The KVM structs inside are the kernel's UAPI, whose
 * layout never changes; a change to this struct bumps the snapshot format
 * version. */
#pragma once
#include <stdint.h>
#include <linux/kvm.h>

#define VCPU_STATE_MAX_MSRS  64
#define VCPU_STATE_XSAVE_MAX 16384   /* room for AMX (about 11 KiB) */

/* Which parts were saved: a part KVM did not offer on the source (no
 * in-kernel irqchip: no LAPIC) is absent, and restore skips it. */
#define VCPU_STATE_SREGS2    (1u << 0)  /* sregs came from KVM_GET_SREGS2 (pdptrs valid) */
#define VCPU_STATE_XSAVE     (1u << 1)  /* xsave[] holds the FPU/SSE/AVX state, else fpu */
#define VCPU_STATE_XCRS      (1u << 2)
#define VCPU_STATE_LAPIC     (1u << 3)
#define VCPU_STATE_EVENTS    (1u << 4)
#define VCPU_STATE_DEBUGREGS (1u << 5)
#define VCPU_STATE_MP_STATE  (1u << 6)
#define VCPU_STATE_ALL_FLAGS 0x7fu

struct vcpu_state_msr {
	uint32_t index;
	uint32_t reserved;   /* 0 */
	uint64_t data;
};

struct vcpu_state {
	uint32_t flags;           /* VCPU_STATE_* */
	uint32_t nmsrs;           /* entries used in msrs[] */
	uint32_t xsave_size;      /* bytes used in xsave[] (0 without XSAVE) */
	uint32_t reserved;        /* 0 */
	struct kvm_mp_state mp_state;
	uint32_t reserved2;       /* 0; keeps what follows 8-aligned */
	struct kvm_regs regs;
	/* KVM_GET_SREGS2 when KVM has it; otherwise KVM_GET_SREGS converted
	 * (the pending-interrupt bitmap of kvm_sregs is carried by events). */
	struct kvm_sregs2 sregs;
	struct kvm_fpu fpu;       /* without XSAVE */
	struct kvm_xcrs xcrs;
	struct kvm_debugregs debugregs;
	struct kvm_vcpu_events events;
	struct kvm_lapic_state lapic;
	/* In restore order; APIC_BASE is not here: it travels in sregs, which
	 * is set before the LAPIC (an APIC_BASE write after KVM_SET_LAPIC
	 * could reset it). TSC_DEADLINE is set after the LAPIC. */
	struct vcpu_state_msr msrs[VCPU_STATE_MAX_MSRS];
	uint8_t xsave[VCPU_STATE_XSAVE_MAX];
};

/* Reads the state of the vCPU behind vcpu_fd, of the VM behind vm_fd (its
 * KVM_CAP_XSAVE2 answer sizes the XSAVE buffer), into *ret, which may be
 * large (about 21 KiB): callers allocate it. The vCPU must not be in
 * KVM_RUN (pause it first); any thread may call this. Order: MP state
 * first (reading it makes KVM accept pending INIT/SIPI), then registers,
 * FPU, LAPIC, MSRs, and vCPU events last (the other reads may change
 * them). MSRs are the ones vcpu-state.c lists as mattering; one that KVM
 * refuses to read for this vCPU (its CPUID lacks the feature) is left
 * out. Returns 0, or -errno of
 * the failing ioctl (-E2BIG: KVM's XSAVE area is larger than
 * VCPU_STATE_XSAVE_MAX); *ret is written only on success. */
int vcpu_state_save(int vm_fd, int vcpu_fd, struct vcpu_state *ret);

/* Checks st without touching KVM: known flags, zero reserved fields,
 * counts and sizes in range, no MSR twice. Returns 0 or -EINVAL. */
int vcpu_state_check(const struct vcpu_state *st);

/* Puts st into the vCPU behind vcpu_fd, of the VM behind vm_fd (KVM_SET_XSAVE
 * reads as many bytes as that VM's KVM_CAP_XSAVE2 says, so the buffer is
 * sized from it): a new vCPU of a VM set up like
 * the source (same CPUID already set, in-kernel irqchip if the source had
 * one, guest RAM mapped: kvmclock and steal-time MSRs point into it). The
 * vCPU must not be running. Order: sregs (control registers, EFER,
 * APIC_BASE), regs, XSAVE/FPU, XCRs, debug registers, MSRs but
 * TSC_DEADLINE, MP state, LAPIC, TSC_DEADLINE (only meaningful once the
 * LAPIC is in TSC-deadline mode), vCPU events last (setting regs clears
 * a pending exception; events put it back).
 * MSRs the target already holds with the saved value are not written
 * (KVM refuses some writes even of the value it reads back).
 * st is checked first and the target probed for every part st has, so
 * -EINVAL (bad state) and -ENOTSUP (st has a part this vCPU cannot take,
 * e.g. a LAPIC without in-kernel irqchip) leave the vCPU untouched. A
 * failing ioctl after that returns its -errno (-EIO when KVM refused an
 * MSR) with the vCPU partly written: throw that vCPU away. */
int vcpu_state_restore(int vm_fd, int vcpu_fd, const struct vcpu_state *st);

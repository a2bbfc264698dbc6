/* vcpu-state.c - saving a paused x86-64 vCPU's KVM state into a struct
 * vcpu_state and putting it into another vCPU.
 *
 * The ioctl order is what KVM's side effects require (the same order QEMU
 * and Firecracker arrived at):
 *  save:    MP state (KVM_GET_MP_STATE accepts pending INIT/SIPI, which
 *           changes LAPIC and registers), regs, sregs, FPU/XSAVE, XCRs,
 *           debug registers, LAPIC, MSRs, vCPU events last.
 *  restore: sregs (CR0/CR4/EFER/APIC_BASE; CR8 writes the TPR), regs
 *           (clears a pending exception), XSAVE/FPU, XCRs (checked against
 *           the guest's CPUID, so CPUID must be set already), debug
 *           registers, MSRs (TSC, kvmclock: RAM must be mapped), MP state,
 *           LAPIC, TSC_DEADLINE (ignored unless the LAPIC timer is in
 *           TSC-deadline mode), vCPU events (pending exception, interrupt,
 *           NMI, interrupt shadow) last.
 *
 * Which MSRs: the table below, the ones hvd's guests use (SYSCALL and
 * SYSENTER, TSC and its offsets, kvmclock and the other KVM PV MSRs, PAT,
 * MTRRs, MISC_ENABLE, speculation control, XSS, CET). KVM_GET_MSR_INDEX_LIST
 * is a /dev/kvm ioctl and answers for the host; instead each save asks
 * the vCPU itself: KVM_GET_MSRS stops at the first MSR it cannot read for
 * this vCPU (its CPUID lacks the feature), which is dropped and the rest
 * read again. Restore writes only the MSRs whose value on the target
 * differs, after reading them all (which also proves the target has
 * them). APIC_BASE travels in sregs, not here.
 *
 * Not saved: the CET shadow-stack pointer (KVM_GET_ONE_REG; hvd's CPUID
 * should hide CET until it is), nested-virtualization state (hvd hides
 * VMX/SVM), the PMU (hidden), SMM (unused).
 *
 * Invariants: save writes *ret only on success; restore validates the
 * whole state and probes the target for every part before its first
 * write, so bad input or a target lacking a part leaves the vCPU as it
 * was. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include "vcpu-state.h"

#define MSR_IA32_TSC            0x10u
#define MSR_IA32_TSC_ADJUST     0x3bu
#define MSR_IA32_SPEC_CTRL      0x48u
#define MSR_IA32_SYSENTER_CS    0x174u
#define MSR_IA32_SYSENTER_ESP   0x175u
#define MSR_IA32_SYSENTER_EIP   0x176u
#define MSR_IA32_MISC_ENABLE    0x1a0u
#define MSR_MTRR_PHYS_BASE0     0x200u   /* ... 0x20f: 8 base/mask pairs */
#define MSR_MTRR_FIX64K_00000   0x250u
#define MSR_MTRR_FIX16K_80000   0x258u
#define MSR_MTRR_FIX16K_A0000   0x259u
#define MSR_MTRR_FIX4K_C0000    0x268u   /* ... 0x26f */
#define MSR_IA32_CR_PAT         0x277u
#define MSR_MTRR_DEF_TYPE       0x2ffu
#define MSR_IA32_U_CET          0x6a0u
#define MSR_IA32_S_CET          0x6a2u
#define MSR_IA32_PL0_SSP        0x6a4u   /* ... PL3 0x6a7 */
#define MSR_IA32_INT_SSP_TAB    0x6a8u
#define MSR_IA32_TSC_DEADLINE   0x6e0u
#define MSR_IA32_XSS            0xda0u
#define MSR_STAR                0xc0000081u
#define MSR_LSTAR               0xc0000082u
#define MSR_CSTAR               0xc0000083u
#define MSR_SYSCALL_MASK        0xc0000084u
#define MSR_KERNEL_GS_BASE      0xc0000102u
#define MSR_TSC_AUX             0xc0000103u
#define MSR_AMD64_VIRT_SPEC_CTRL 0xc001011fu
#define MSR_KVM_WALL_CLOCK      0x11u
#define MSR_KVM_SYSTEM_TIME     0x12u
#define MSR_KVM_WALL_CLOCK_NEW  0x4b564d00u
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01u
#define MSR_KVM_ASYNC_PF_EN     0x4b564d02u
#define MSR_KVM_STEAL_TIME      0x4b564d03u
#define MSR_KVM_PV_EOI_EN       0x4b564d04u
#define MSR_KVM_POLL_CONTROL    0x4b564d05u
#define MSR_KVM_ASYNC_PF_INT    0x4b564d06u

/* In restore order: ASYNC_PF_INT before ASYNC_PF_EN (enabling delivery as
 * an interrupt needs the vector); TSC_DEADLINE last, set on its own after
 * the LAPIC. */
static const uint32_t wanted_msrs[] = {
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK, MSR_KERNEL_GS_BASE, MSR_TSC_AUX,
	MSR_IA32_CR_PAT, MSR_IA32_MISC_ENABLE,
	MSR_MTRR_DEF_TYPE, MSR_MTRR_FIX64K_00000, MSR_MTRR_FIX16K_80000, MSR_MTRR_FIX16K_A0000,
	MSR_MTRR_FIX4K_C0000 + 0, MSR_MTRR_FIX4K_C0000 + 1, MSR_MTRR_FIX4K_C0000 + 2,
	MSR_MTRR_FIX4K_C0000 + 3, MSR_MTRR_FIX4K_C0000 + 4, MSR_MTRR_FIX4K_C0000 + 5,
	MSR_MTRR_FIX4K_C0000 + 6, MSR_MTRR_FIX4K_C0000 + 7,
	MSR_MTRR_PHYS_BASE0 + 0, MSR_MTRR_PHYS_BASE0 + 1, MSR_MTRR_PHYS_BASE0 + 2,
	MSR_MTRR_PHYS_BASE0 + 3, MSR_MTRR_PHYS_BASE0 + 4, MSR_MTRR_PHYS_BASE0 + 5,
	MSR_MTRR_PHYS_BASE0 + 6, MSR_MTRR_PHYS_BASE0 + 7, MSR_MTRR_PHYS_BASE0 + 8,
	MSR_MTRR_PHYS_BASE0 + 9, MSR_MTRR_PHYS_BASE0 + 10, MSR_MTRR_PHYS_BASE0 + 11,
	MSR_MTRR_PHYS_BASE0 + 12, MSR_MTRR_PHYS_BASE0 + 13, MSR_MTRR_PHYS_BASE0 + 14,
	MSR_MTRR_PHYS_BASE0 + 15,
	MSR_IA32_SPEC_CTRL, MSR_AMD64_VIRT_SPEC_CTRL, MSR_IA32_XSS,
	MSR_IA32_U_CET, MSR_IA32_S_CET, MSR_IA32_PL0_SSP + 0, MSR_IA32_PL0_SSP + 1,
	MSR_IA32_PL0_SSP + 2, MSR_IA32_PL0_SSP + 3, MSR_IA32_INT_SSP_TAB,
	MSR_IA32_TSC, MSR_IA32_TSC_ADJUST,
	MSR_KVM_WALL_CLOCK, MSR_KVM_SYSTEM_TIME, MSR_KVM_WALL_CLOCK_NEW, MSR_KVM_SYSTEM_TIME_NEW,
	MSR_KVM_STEAL_TIME, MSR_KVM_PV_EOI_EN, MSR_KVM_POLL_CONTROL,
	MSR_KVM_ASYNC_PF_INT, MSR_KVM_ASYNC_PF_EN,
	MSR_IA32_TSC_DEADLINE,
};
#define NR_WANTED (sizeof(wanted_msrs) / sizeof(wanted_msrs[0]))
_Static_assert(NR_WANTED <= VCPU_STATE_MAX_MSRS, "vcpu_state.msrs too small");

/* The legacy KVM_GET_XSAVE area; KVM_CAP_XSAVE2 answers at least this. */
#define XSAVE_LEGACY_SIZE 4096u

/* struct kvm_msrs with room for every wanted MSR (spelled out: a struct
 * with a flexible array cannot portably head another struct). */
struct msr_buf {
	uint32_t nmsrs;
	uint32_t pad;
	struct kvm_msr_entry e[VCPU_STATE_MAX_MSRS];
};
_Static_assert(__builtin_offsetof(struct msr_buf, e) == __builtin_offsetof(struct kvm_msrs, entries),
	       "msr_buf must match struct kvm_msrs");

static int check_ext(int vm_fd, long cap)
{
	int r = ioctl(vm_fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}

/* Bytes KVM_GET_XSAVE2 writes and KVM_SET_XSAVE reads for vCPUs of vm_fd;
 * 0 when KVM has no XSAVE at all. */
static uint32_t xsave_size(int vm_fd)
{
	int r = check_ext(vm_fd, KVM_CAP_XSAVE2);

	if (r > 0)
		return (uint32_t)r < XSAVE_LEGACY_SIZE ? XSAVE_LEGACY_SIZE : (uint32_t)r;
	return check_ext(vm_fd, KVM_CAP_XSAVE) > 0 ? XSAVE_LEGACY_SIZE : 0;
}

/* The fields kvm_sregs and kvm_sregs2 share, from s into a zeroed *ret. */
#define COPY_COMMON_SREGS(ret, s) do {						\
	memset((ret), 0, sizeof(*(ret)));					\
	(ret)->cs = (s)->cs; (ret)->ds = (s)->ds; (ret)->es = (s)->es;		\
	(ret)->fs = (s)->fs; (ret)->gs = (s)->gs; (ret)->ss = (s)->ss;		\
	(ret)->tr = (s)->tr; (ret)->ldt = (s)->ldt;				\
	(ret)->gdt = (s)->gdt; (ret)->idt = (s)->idt;				\
	(ret)->cr0 = (s)->cr0; (ret)->cr2 = (s)->cr2; (ret)->cr3 = (s)->cr3;	\
	(ret)->cr4 = (s)->cr4; (ret)->cr8 = (s)->cr8;				\
	(ret)->efer = (s)->efer;						\
	(ret)->apic_base = (s)->apic_base;					\
} while (0)

static void sregs_to_sregs2(const struct kvm_sregs *s, struct kvm_sregs2 *ret)
{
	COPY_COMMON_SREGS(ret, s);
}

/* No pending-interrupt bit: vCPU events carry the injected interrupt. */
static void sregs2_to_sregs(const struct kvm_sregs2 *s, struct kvm_sregs *ret)
{
	COPY_COMMON_SREGS(ret, s);
}

/* Reads every wanted MSR this vCPU has into st->msrs. */
static int save_msrs(int vcpu_fd, struct vcpu_state *st)
{
	struct msr_buf *b = calloc(1, sizeof(*b));
	uint32_t n = NR_WANTED;
	int r;

	if (!b)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		b->e[i].index = wanted_msrs[i];
	for (;;) {
		b->nmsrs = n;
		r = ioctl(vcpu_fd, KVM_GET_MSRS, b);
		if (r < 0) {
			r = -errno;
			goto out;
		}
		if ((uint32_t)r >= n)
			break;
		/* entry r is one this vCPU does not have: drop it, read again */
		memmove(&b->e[r], &b->e[r + 1], (n - (uint32_t)r - 1) * sizeof(b->e[0]));
		n--;
	}
	st->nmsrs = n;
	for (uint32_t i = 0; i < n; i++) {
		st->msrs[i].index = b->e[i].index;
		st->msrs[i].data = b->e[i].data;
	}
	r = 0;
out:
	free(b);
	return r;
}

/* An optional part: an ioctl failing with one of these means "KVM (or
 * this VM's set-up) has no such thing", and the part is left out. */
static bool absent(int err)
{
	return err == ENXIO || err == EINVAL || err == ENOTTY || err == ENOSYS;
}

int vcpu_state_save(int vm_fd, int vcpu_fd, struct vcpu_state *ret)
{
	struct vcpu_state *st;
	uint32_t xs = xsave_size(vm_fd);
	int r;

	if (xs > VCPU_STATE_XSAVE_MAX)
		return -E2BIG;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	if (ioctl(vcpu_fd, KVM_GET_MP_STATE, &st->mp_state) == 0)
		st->flags |= VCPU_STATE_MP_STATE;
	else if (!absent(errno))
		goto fail_errno;
	if (ioctl(vcpu_fd, KVM_GET_REGS, &st->regs) < 0)
		goto fail_errno;
	if (check_ext(vm_fd, KVM_CAP_SREGS2) > 0) {
		if (ioctl(vcpu_fd, KVM_GET_SREGS2, &st->sregs) < 0)
			goto fail_errno;
		st->flags |= VCPU_STATE_SREGS2;
	} else {
		struct kvm_sregs s;

		if (ioctl(vcpu_fd, KVM_GET_SREGS, &s) < 0)
			goto fail_errno;
		sregs_to_sregs2(&s, &st->sregs);
	}
	if (xs > 0) {
		unsigned long req = xs > XSAVE_LEGACY_SIZE ? KVM_GET_XSAVE2 : KVM_GET_XSAVE;

		/* KVM writes exactly xs bytes, which fit in st->xsave */
		if (ioctl(vcpu_fd, req, st->xsave) < 0)
			goto fail_errno;
		st->xsave_size = xs;
		st->flags |= VCPU_STATE_XSAVE;
	} else if (ioctl(vcpu_fd, KVM_GET_FPU, &st->fpu) < 0) {
		goto fail_errno;
	}
	if (check_ext(vm_fd, KVM_CAP_XCRS) > 0) {
		if (ioctl(vcpu_fd, KVM_GET_XCRS, &st->xcrs) < 0)
			goto fail_errno;
		st->flags |= VCPU_STATE_XCRS;
	}
	if (ioctl(vcpu_fd, KVM_GET_DEBUGREGS, &st->debugregs) == 0)
		st->flags |= VCPU_STATE_DEBUGREGS;
	else if (!absent(errno))
		goto fail_errno;
	if (ioctl(vcpu_fd, KVM_GET_LAPIC, &st->lapic) == 0)
		st->flags |= VCPU_STATE_LAPIC;
	else if (!absent(errno))
		goto fail_errno;
	r = save_msrs(vcpu_fd, st);
	if (r < 0)
		goto fail;
	if (ioctl(vcpu_fd, KVM_GET_VCPU_EVENTS, &st->events) == 0)
		st->flags |= VCPU_STATE_EVENTS;
	else if (!absent(errno))
		goto fail_errno;
	memcpy(ret, st, sizeof(*st));
	free(st);
	return 0;
fail_errno:
	r = -errno;
fail:
	free(st);
	return r;
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

int vcpu_state_check(const struct vcpu_state *st)
{
	if (st->flags & ~VCPU_STATE_ALL_FLAGS || st->reserved || st->reserved2)
		return -EINVAL;
	if (st->nmsrs > VCPU_STATE_MAX_MSRS)
		return -EINVAL;
	if (st->flags & VCPU_STATE_XSAVE) {
		if (st->xsave_size < XSAVE_LEGACY_SIZE || st->xsave_size > VCPU_STATE_XSAVE_MAX)
			return -EINVAL;
	} else if (st->xsave_size != 0) {
		return -EINVAL;
	}
	if ((st->flags & VCPU_STATE_MP_STATE) && st->mp_state.mp_state > KVM_MP_STATE_SUSPENDED)
		return -EINVAL;
	if ((st->flags & VCPU_STATE_XCRS) &&
	    (st->xcrs.nr_xcrs > KVM_MAX_XCRS || st->xcrs.flags))
		return -EINVAL;
	if ((st->flags & VCPU_STATE_DEBUGREGS) && st->debugregs.flags)
		return -EINVAL;
	/* Only 64-bit KVM's own kinds of flags; anything else KVM refuses
	 * anyway, but only after the parts before it were written. */
	if ((st->flags & VCPU_STATE_EVENTS) &&
	    (st->events.flags & ~(uint32_t)(KVM_VCPUEVENT_VALID_NMI_PENDING |
					     KVM_VCPUEVENT_VALID_SIPI_VECTOR |
					     KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM |
					     KVM_VCPUEVENT_VALID_PAYLOAD |
					     KVM_VCPUEVENT_VALID_TRIPLE_FAULT)))
		return -EINVAL;
	for (uint32_t i = 0; i < st->nmsrs; i++) {
		if (st->msrs[i].reserved)
			return -EINVAL;
		for (uint32_t j = 0; j < i; j++)
			if (st->msrs[j].index == st->msrs[i].index)
				return -EINVAL;
	}
	if (!all_zero(&st->msrs[st->nmsrs], (VCPU_STATE_MAX_MSRS - st->nmsrs) * sizeof(st->msrs[0])))
		return -EINVAL;
	return 0;
}

/* Every part st has can go into this vCPU: checked by reading the same
 * part (the values are thrown away but the MSRs', which go to cur in the
 * order of st->msrs). Nothing is written. */
static int probe_target(int vm_fd, int vcpu_fd, const struct vcpu_state *st, uint32_t xs,
			struct msr_buf *cur)
{
	union {
		struct kvm_mp_state mp;
		struct kvm_xcrs xcrs;
		struct kvm_debugregs dr;
		struct kvm_lapic_state lapic;
		struct kvm_vcpu_events ev;
	} u;
	struct msr_buf *b;
	int r;

	cur->nmsrs = 0;
	if ((st->flags & VCPU_STATE_XSAVE) && st->xsave_size > xs)
		return -ENOTSUP;
	if ((st->flags & VCPU_STATE_XCRS) && check_ext(vm_fd, KVM_CAP_XCRS) <= 0)
		return -ENOTSUP;
	if ((st->flags & VCPU_STATE_MP_STATE) && ioctl(vcpu_fd, KVM_GET_MP_STATE, &u.mp) < 0)
		return -ENOTSUP;
	if ((st->flags & VCPU_STATE_DEBUGREGS) && ioctl(vcpu_fd, KVM_GET_DEBUGREGS, &u.dr) < 0)
		return -ENOTSUP;
	/* KVM takes an MP state other than runnable only with a LAPIC */
	if (((st->flags & VCPU_STATE_LAPIC) || ((st->flags & VCPU_STATE_MP_STATE) &&
						 st->mp_state.mp_state != KVM_MP_STATE_RUNNABLE)) &&
	    ioctl(vcpu_fd, KVM_GET_LAPIC, &u.lapic) < 0)
		return -ENOTSUP;
	if ((st->flags & VCPU_STATE_EVENTS) && ioctl(vcpu_fd, KVM_GET_VCPU_EVENTS, &u.ev) < 0)
		return -ENOTSUP;
	if (st->nmsrs == 0)
		return 0;
	b = cur;
	b->nmsrs = st->nmsrs;
	for (uint32_t i = 0; i < st->nmsrs; i++)
		b->e[i].index = st->msrs[i].index;
	r = ioctl(vcpu_fd, KVM_GET_MSRS, b);
	return r < 0 ? -errno : (uint32_t)r == st->nmsrs ? 0 : -ENOTSUP;
}

/* KVM_SET_MSRS of st's MSRs, all but (deadline false) or only (deadline
 * true) TSC_DEADLINE, skipping those the target holds already (cur, read
 * by probe_target): KVM refuses some writes even of the value it reads
 * (0 to XSS or ASYNC_PF_INT when the guest's CPUID or set-up lacks the
 * feature), and an MSR that has its value needs no write. */
static int restore_msrs(int vcpu_fd, const struct vcpu_state *st, const struct msr_buf *cur,
			bool deadline)
{
	struct msr_buf *b = calloc(1, sizeof(*b));
	uint32_t n = 0;
	int r;

	if (!b)
		return -ENOMEM;
	for (uint32_t i = 0; i < st->nmsrs; i++) {
		if ((st->msrs[i].index == MSR_IA32_TSC_DEADLINE) != deadline)
			continue;
		if (i < cur->nmsrs && cur->e[i].data == st->msrs[i].data)
			continue;
		b->e[n].index = st->msrs[i].index;
		b->e[n].data = st->msrs[i].data;
		n++;
	}
	b->nmsrs = n;
	r = n ? ioctl(vcpu_fd, KVM_SET_MSRS, b) : 0;
	r = r < 0 ? -errno : (uint32_t)r == n ? 0 : -EIO;
	free(b);
	return r;
}

int vcpu_state_restore(int vm_fd, int vcpu_fd, const struct vcpu_state *st)
{
	uint32_t xs = xsave_size(vm_fd);
	struct msr_buf *cur;
	void *xbuf = NULL;
	int r;

	r = vcpu_state_check(st);
	if (r < 0)
		return r;
	cur = calloc(1, sizeof(*cur));
	if (!cur)
		return -ENOMEM;
	r = probe_target(vm_fd, vcpu_fd, st, xs, cur);
	if (r < 0)
		goto fail;
	if (st->flags & VCPU_STATE_XSAVE) {
		/* KVM_SET_XSAVE reads xs bytes, whatever the source's size was */
		xbuf = calloc(1, xs);
		if (!xbuf) {
			r = -ENOMEM;
			goto fail;
		}
		memcpy(xbuf, st->xsave, st->xsave_size);
	}

	if ((st->flags & VCPU_STATE_SREGS2) && check_ext(vm_fd, KVM_CAP_SREGS2) > 0) {
		if (ioctl(vcpu_fd, KVM_SET_SREGS2, &st->sregs) < 0)
			goto fail_errno;
	} else {
		/* Without SREGS2 KVM reloads PAE PDPTRs from guest memory. */
		struct kvm_sregs s;

		sregs2_to_sregs(&st->sregs, &s);
		if (ioctl(vcpu_fd, KVM_SET_SREGS, &s) < 0)
			goto fail_errno;
	}
	if (ioctl(vcpu_fd, KVM_SET_REGS, &st->regs) < 0)
		goto fail_errno;
	if (xbuf) {
		if (ioctl(vcpu_fd, KVM_SET_XSAVE, xbuf) < 0)
			goto fail_errno;
	} else if (ioctl(vcpu_fd, KVM_SET_FPU, &st->fpu) < 0) {
		goto fail_errno;
	}
	if ((st->flags & VCPU_STATE_XCRS) && ioctl(vcpu_fd, KVM_SET_XCRS, &st->xcrs) < 0)
		goto fail_errno;
	if ((st->flags & VCPU_STATE_DEBUGREGS) &&
	    ioctl(vcpu_fd, KVM_SET_DEBUGREGS, &st->debugregs) < 0)
		goto fail_errno;
	r = restore_msrs(vcpu_fd, st, cur, false);
	if (r < 0)
		goto fail;
	if ((st->flags & VCPU_STATE_MP_STATE) && ioctl(vcpu_fd, KVM_SET_MP_STATE, &st->mp_state) < 0)
		goto fail_errno;
	if ((st->flags & VCPU_STATE_LAPIC) && ioctl(vcpu_fd, KVM_SET_LAPIC, &st->lapic) < 0)
		goto fail_errno;
	r = restore_msrs(vcpu_fd, st, cur, true);
	if (r < 0)
		goto fail;
	if (st->flags & VCPU_STATE_EVENTS) {
		struct kvm_vcpu_events ev = st->events;

		/* GET does not mark the SIPI vector valid; it is state all the same */
		ev.flags |= KVM_VCPUEVENT_VALID_SIPI_VECTOR;
		if (ioctl(vcpu_fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
			goto fail_errno;
	}
	free(xbuf);
	free(cur);
	return 0;
fail_errno:
	r = -errno;
fail:
	free(xbuf);
	free(cur);
	return r;
}

/* test-vmm-vcpu-state.c - vcpu-state.c and vm-state.c on the real
 * /dev/kvm: a vCPU given distinctive values in every part (registers,
 * long-mode control registers and segments, MSRs, LAPIC with a TSC-deadline
 * timer, FPU/SSE, XCR0, debug registers, NMI mask, MP state) is saved,
 * restored into a vCPU of a second VM, read back and compared field by
 * field; likewise the PICs, IOAPIC, PIT and kvmclock. Bad states and
 * targets that lack a part are refused with the vCPU left untouched.
 * Nothing runs the vCPU (ring-0 code is emulated on this host). Without
 * /dev/kvm it exits 77 (skipped) and says why. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "cpu.h"
#include "kvm.h"
#include "memory.h"
#include "vcpu-state.h"
#include "vm.h"
#include "vm-state.h"

#define RAM (2ull << 20)
#define MSR_IA32_TSC          0x10u
#define MSR_IA32_SYSENTER_CS  0x174u
#define MSR_IA32_SYSENTER_ESP 0x175u
#define MSR_IA32_SYSENTER_EIP 0x176u
#define MSR_IA32_CR_PAT       0x277u
#define MSR_IA32_TSC_DEADLINE 0x6e0u
#define MSR_STAR              0xc0000081u
#define MSR_LSTAR             0xc0000082u
#define MSR_CSTAR             0xc0000083u
#define MSR_SYSCALL_MASK      0xc0000084u
#define MSR_KERNEL_GS_BASE    0xc0000102u
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01u
#define APIC_TPR   0x80
#define APIC_SVR   0xf0
#define APIC_LVTT  0x320
#define APIC_TMCCT 0x390

struct machine {
	struct vmm_kvm kvm;
	struct vmm_vm vm;
	struct guest_mem mem;
	int vcpu;
};

/* A VM with (irqchip true) or without in-kernel irqchip and PIT, 2 MiB of
 * RAM and one vCPU with hvd's CPUID. */
static void machine_create(struct machine *m, bool irqchip)
{
	memset(m, 0, sizeof(*m));
	ck_assert_int_eq(vmm_kvm_open(NULL, &m->kvm), 0);
	if (irqchip) {
		ck_assert_int_eq(vmm_vm_create(&m->kvm, &m->vm), 0);
	} else {
		m->vm.kvm = &m->kvm;
		m->vm.fd = ioctl(m->kvm.fd, KVM_CREATE_VM, 0);
		ck_assert_int_ge(m->vm.fd, 0);
	}
	ck_assert_int_eq(vmm_memory_create("test-vcpu-state", RAM, false, &m->mem), 0);
	ck_assert_int_eq(vmm_vm_add_ram(&m->vm, &m->mem), 0);
	if (irqchip)
		ck_assert_int_eq(vmm_vm_create_irqchip(&m->vm), 0);
	m->vcpu = ioctl(m->vm.fd, KVM_CREATE_VCPU, 0);
	ck_assert_int_ge(m->vcpu, 0);
	ck_assert_int_eq(vmm_cpuid_setup(&m->kvm, m->vcpu, 0, 1), 0);
}

static void machine_destroy(struct machine *m)
{
	close(m->vcpu);
	vmm_memory_destroy(&m->mem);
	vmm_vm_destroy(&m->vm);
	vmm_kvm_close(&m->kvm);
}

static void set_msr(int fd, uint32_t index, uint64_t data)
{
	struct { uint32_t nmsrs, pad; struct kvm_msr_entry e; } m = {
		.nmsrs = 1, .e = { .index = index, .data = data },
	};

	ck_assert_msg(ioctl(fd, KVM_SET_MSRS, &m) == 1, "KVM_SET_MSRS 0x%x refused", index);
}

static uint64_t get_msr(int fd, uint32_t index)
{
	struct { uint32_t nmsrs, pad; struct kvm_msr_entry e; } m = {
		.nmsrs = 1, .e = { .index = index },
	};

	ck_assert_msg(ioctl(fd, KVM_GET_MSRS, &m) == 1, "KVM_GET_MSRS 0x%x refused", index);
	return m.e.data;
}

static uint32_t lapic_reg(const struct kvm_lapic_state *l, unsigned off)
{
	uint32_t v;

	memcpy(&v, l->regs + off, 4);
	return v;
}

static void set_lapic_reg(struct kvm_lapic_state *l, unsigned off, uint32_t v)
{
	memcpy(l->regs + off, &v, 4);
}

static struct kvm_segment seg(uint16_t sel, uint8_t type, uint8_t s, uint8_t l, uint8_t db,
			      uint64_t base, uint32_t limit)
{
	return (struct kvm_segment){
		.base = base, .limit = limit, .selector = sel, .type = type, .present = 1,
		.s = s, .l = l, .db = db, .g = limit > 0xfffff,
	};
}

/* Distinctive values in every part of the vCPU state. */
static void program_vcpu(int fd)
{
	struct kvm_sregs sr;
	struct kvm_regs regs;
	struct kvm_lapic_state lapic;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs dr;
	struct kvm_vcpu_events ev;
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_HALTED };
	uint8_t *xsave = calloc(1, 4096);
	__u64 *r;

	ck_assert_int_eq(ioctl(fd, KVM_GET_SREGS, &sr), 0);
	sr.cs = seg(0x10, 0xb, 1, 1, 0, 0, 0xffffffff);
	sr.ds = sr.es = sr.ss = seg(0x18, 0x3, 1, 0, 1, 0, 0xffffffff);
	sr.fs = seg(0, 0x3, 1, 0, 1, 0x7f1234561000ull, 0xffffffff);
	sr.gs = seg(0, 0x3, 1, 0, 1, 0xffff888012345000ull, 0xffffffff);
	sr.tr = seg(0x20, 0xb, 0, 0, 0, 0x2000, 0x67);
	sr.gdt = (struct kvm_dtable){ .base = 0x3000, .limit = 0x2f };
	sr.idt = (struct kvm_dtable){ .base = 0x4000, .limit = 0xfff };
	sr.cr0 = 0x80050033;                /* PG AM WP NE ET MP PE */
	sr.cr2 = 0xdeadb000;
	sr.cr3 = 0x1000;
	sr.cr4 = 0x406a0;                   /* OSXSAVE OSXMMEXCPT OSFXSR PGE PAE */
	sr.cr8 = 5;
	sr.efer = 0xd01;                    /* NXE LMA LME SCE */
	ck_assert_int_eq(ioctl(fd, KVM_SET_SREGS, &sr), 0);

	memset(&regs, 0, sizeof(regs));
	r = &regs.rax;
	for (unsigned i = 0; i < 16; i++)   /* rax .. r15 */
		r[i] = 0x0101010101010101ull * (i + 1) + i;
	regs.rip = 0xffffffff81000123ull;
	regs.rflags = 0x246;
	ck_assert_int_eq(ioctl(fd, KVM_SET_REGS, &regs), 0);

	ck_assert_int_eq(ioctl(fd, KVM_GET_XSAVE, xsave), 0);
	memset(xsave + 160, 0x5a, 16);      /* XMM0 */
	xsave[512] |= 2;                    /* XSTATE_BV: SSE */
	xsave[0] = 0x7f; xsave[1] = 0x02;   /* FCW 0x27f */
	ck_assert_int_eq(ioctl(fd, KVM_SET_XSAVE, xsave), 0);
	free(xsave);

	memset(&xcrs, 0, sizeof(xcrs));
	xcrs.nr_xcrs = 1;
	xcrs.xcrs[0].xcr = 0;
	xcrs.xcrs[0].value = 3;             /* x87 | SSE */
	ck_assert_int_eq(ioctl(fd, KVM_SET_XCRS, &xcrs), 0);

	memset(&dr, 0, sizeof(dr));
	dr.db[0] = 0x1000; dr.db[1] = 0x2008; dr.db[2] = 0x3010; dr.db[3] = 0x4018;
	dr.dr6 = 0xffff0ff1;
	dr.dr7 = 0x455;
	ck_assert_int_eq(ioctl(fd, KVM_SET_DEBUGREGS, &dr), 0);

	set_msr(fd, MSR_STAR, 0x0023001000000000ull);
	set_msr(fd, MSR_LSTAR, 0xffffffff81a00000ull);
	set_msr(fd, MSR_CSTAR, 0xffffffff81a00100ull);
	set_msr(fd, MSR_SYSCALL_MASK, 0x47700);
	set_msr(fd, MSR_KERNEL_GS_BASE, 0xffff888076540000ull);
	set_msr(fd, MSR_IA32_SYSENTER_CS, 0x10);
	set_msr(fd, MSR_IA32_SYSENTER_ESP, 0xfffffe0000001000ull);
	set_msr(fd, MSR_IA32_SYSENTER_EIP, 0xffffffff81a01000ull);
	set_msr(fd, MSR_IA32_CR_PAT, 0x0007010600070106ull);
	set_msr(fd, MSR_IA32_TSC, 0x123456789000ull);
	set_msr(fd, MSR_KVM_SYSTEM_TIME_NEW, 0x10001);   /* kvmclock page at 64 KiB */

	ck_assert_int_eq(ioctl(fd, KVM_GET_LAPIC, &lapic), 0);
	set_lapic_reg(&lapic, APIC_SVR, 0x1ff);           /* enabled */
	set_lapic_reg(&lapic, APIC_TPR, 0x50);
	set_lapic_reg(&lapic, APIC_LVTT, (2u << 17) | 0xec);   /* TSC-deadline mode */
	ck_assert_int_eq(ioctl(fd, KVM_SET_LAPIC, &lapic), 0);
	/* far in the future: only meaningful because the LAPIC is in deadline mode */
	set_msr(fd, MSR_IA32_TSC_DEADLINE, 0x7000000000000000ull);

	ck_assert_int_eq(ioctl(fd, KVM_GET_VCPU_EVENTS, &ev), 0);
	ev.nmi.masked = 1;
	ev.interrupt.shadow = 1;            /* after a MOV SS / STI */
	ev.flags |= KVM_VCPUEVENT_VALID_SHADOW;
	ck_assert_int_eq(ioctl(fd, KVM_SET_VCPU_EVENTS, &ev), 0);
	ck_assert_int_eq(ioctl(fd, KVM_SET_MP_STATE, &mp), 0);
}

static const struct vcpu_state_msr *find_msr(const struct vcpu_state *s, uint32_t index)
{
	for (uint32_t i = 0; i < s->nmsrs; i++)
		if (s->msrs[i].index == index)
			return &s->msrs[i];
	return NULL;
}

#define SEG_EQ(f) ck_assert_msg(memcmp(&a->sregs.f, &b->sregs.f, sizeof(a->sregs.f)) == 0, \
				"segment " #f " differs")
#define U64_EQ(x) ck_assert_msg(a->x == b->x, #x ": 0x%llx != 0x%llx", \
				(unsigned long long)a->x, (unsigned long long)b->x)

static void compare_vcpu(const struct vcpu_state *a, const struct vcpu_state *b)
{
	const __u64 *ra = &a->regs.rax, *rb = &b->regs.rax;

	ck_assert_uint_eq(a->flags, b->flags);
	ck_assert_uint_eq(a->mp_state.mp_state, b->mp_state.mp_state);
	for (unsigned i = 0; i < sizeof(a->regs) / 8; i++)
		ck_assert_msg(ra[i] == rb[i], "kvm_regs word %u: 0x%llx != 0x%llx", i,
			      (unsigned long long)ra[i], (unsigned long long)rb[i]);
	SEG_EQ(cs); SEG_EQ(ds); SEG_EQ(es); SEG_EQ(fs); SEG_EQ(gs); SEG_EQ(ss);
	SEG_EQ(tr); SEG_EQ(ldt); SEG_EQ(gdt); SEG_EQ(idt);
	U64_EQ(sregs.cr0); U64_EQ(sregs.cr2); U64_EQ(sregs.cr3); U64_EQ(sregs.cr4);
	U64_EQ(sregs.cr8); U64_EQ(sregs.efer); U64_EQ(sregs.apic_base);
	ck_assert_uint_eq(a->xsave_size, b->xsave_size);
	ck_assert_msg(memcmp(a->xsave, b->xsave, a->xsave_size) == 0, "xsave differs");
	ck_assert_msg(memcmp(&a->fpu, &b->fpu, sizeof(a->fpu)) == 0, "fpu differs");
	ck_assert_msg(memcmp(&a->xcrs, &b->xcrs, sizeof(a->xcrs)) == 0, "xcrs differ");
	ck_assert_msg(memcmp(&a->debugregs, &b->debugregs, sizeof(a->debugregs)) == 0,
		      "debug registers differ");
	ck_assert_msg(memcmp(&a->events, &b->events, sizeof(a->events)) == 0, "events differ");
	for (unsigned off = 0; off < KVM_APIC_REG_SIZE; off += 16)
		if (off != APIC_TMCCT)   /* the timer's live count */
			ck_assert_msg(lapic_reg(&a->lapic, off) == lapic_reg(&b->lapic, off),
				      "LAPIC register 0x%x: 0x%x != 0x%x", off,
				      lapic_reg(&a->lapic, off), lapic_reg(&b->lapic, off));
	ck_assert_uint_eq(a->nmsrs, b->nmsrs);
	for (uint32_t i = 0; i < a->nmsrs; i++) {
		const struct vcpu_state_msr *ma = &a->msrs[i], *mb = &b->msrs[i];

		ck_assert_uint_eq(ma->index, mb->index);
		if (ma->index == MSR_IA32_TSC)   /* kept counting between save and read-back */
			ck_assert_msg(mb->data >= ma->data && mb->data - ma->data < 100000000000ull,
				      "TSC 0x%llx then 0x%llx", (unsigned long long)ma->data,
				      (unsigned long long)mb->data);
		else
			ck_assert_msg(ma->data == mb->data, "MSR 0x%x: 0x%llx != 0x%llx", ma->index,
				      (unsigned long long)ma->data, (unsigned long long)mb->data);
	}
}

START_TEST(test_vcpu_round_trip)
{
	struct machine src, dst;
	struct vcpu_state *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	const struct vcpu_state_msr *m;
	struct kvm_regs regs;

	machine_create(&src, true);
	program_vcpu(src.vcpu);
	ck_assert_int_eq(vcpu_state_save(src.vm.fd, src.vcpu, a), 0);
	ck_assert_int_eq(vcpu_state_check(a), 0);
	/* what was programmed is what was saved */
	ck_assert_uint_eq(a->regs.rip, 0xffffffff81000123ull);
	ck_assert_uint_eq(a->regs.r15, 0x0101010101010101ull * 16 + 15);
	ck_assert_uint_eq(a->sregs.efer, 0xd01);
	ck_assert_uint_eq(a->sregs.cs.l, 1);
	ck_assert(a->flags & VCPU_STATE_LAPIC);
	ck_assert(a->flags & VCPU_STATE_XSAVE);
	ck_assert_uint_eq(lapic_reg(&a->lapic, APIC_TPR), 0x50);
	ck_assert_uint_eq(a->xcrs.xcrs[0].value, 3);
	ck_assert_uint_eq(a->xsave[160], 0x5a);
	ck_assert_uint_eq(a->debugregs.db[3], 0x4018);
	ck_assert_uint_eq(a->events.nmi.masked, 1);
	ck_assert_uint_eq(a->mp_state.mp_state, KVM_MP_STATE_HALTED);
	m = find_msr(a, MSR_LSTAR);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->data, 0xffffffff81a00000ull);
	ck_assert_uint_eq(find_msr(a, MSR_KERNEL_GS_BASE)->data, 0xffff888076540000ull);
	ck_assert_uint_eq(find_msr(a, MSR_STAR)->data, 0x0023001000000000ull);
	ck_assert_uint_eq(find_msr(a, MSR_IA32_CR_PAT)->data, 0x0007010600070106ull);
	ck_assert_uint_eq(find_msr(a, MSR_KVM_SYSTEM_TIME_NEW)->data, 0x10001);
	/* this host's KVM ignores TSC writes (guest TSC = host TSC) */
	if (find_msr(a, MSR_IA32_TSC)->data < 0x123456789000ull)
		fprintf(stderr, "note: this KVM ignored the TSC write; TSC compared as host time\n");
	ck_assert_ptr_nonnull(find_msr(a, MSR_IA32_TSC_DEADLINE));

	machine_create(&dst, true);
	ck_assert_int_eq(ioctl(dst.vcpu, KVM_GET_REGS, &regs), 0);
	ck_assert_uint_eq(regs.rip, 0xfff0);   /* reset state before */
	ck_assert_int_eq(vcpu_state_restore(dst.vm.fd, dst.vcpu, a), 0);
	ck_assert_int_eq(vcpu_state_save(dst.vm.fd, dst.vcpu, b), 0);
	compare_vcpu(a, b);
	/* the deadline survived: set after the LAPIC went into deadline mode */
	ck_assert_uint_eq(get_msr(dst.vcpu, MSR_IA32_TSC_DEADLINE),
			  find_msr(a, MSR_IA32_TSC_DEADLINE)->data);
	if (find_msr(a, MSR_IA32_TSC_DEADLINE)->data == 0)
		fprintf(stderr, "note: no TSC-deadline timer in this CPUID; deadline compared as 0\n");
	machine_destroy(&src);
	machine_destroy(&dst);
	free(a);
	free(b);
}
END_TEST

/* Refusals change nothing in the target vCPU. */
START_TEST(test_vcpu_refusals)
{
	struct machine src, plain;
	struct vcpu_state *a = calloc(1, sizeof(*a)), *bad = calloc(1, sizeof(*bad));
	struct kvm_regs regs;
	struct kvm_sregs sr;

	machine_create(&src, true);
	program_vcpu(src.vcpu);
	ck_assert_int_eq(vcpu_state_save(src.vm.fd, src.vcpu, a), 0);

	machine_create(&plain, false);   /* no in-kernel irqchip: no LAPIC */
	ck_assert_int_eq(vcpu_state_restore(plain.vm.fd, plain.vcpu, a), -ENOTSUP);
	memcpy(bad, a, sizeof(*a));
	bad->nmsrs = VCPU_STATE_MAX_MSRS + 1;
	ck_assert_int_eq(vcpu_state_restore(plain.vm.fd, plain.vcpu, bad), -EINVAL);
	memcpy(bad, a, sizeof(*a));
	bad->msrs[bad->nmsrs].index = 0x10;   /* garbage after the used entries */
	ck_assert_int_eq(vcpu_state_check(bad), -EINVAL);
	memcpy(bad, a, sizeof(*a));
	bad->flags &= ~VCPU_STATE_LAPIC;
	bad->msrs[0].index = 0x12345678;      /* an MSR KVM does not have */
	ck_assert_int_eq(vcpu_state_restore(plain.vm.fd, plain.vcpu, bad), -ENOTSUP);
	ck_assert_int_eq(ioctl(plain.vcpu, KVM_GET_REGS, &regs), 0);
	ck_assert_uint_eq(regs.rip, 0xfff0);
	ck_assert_uint_eq(regs.rax, 0);
	ck_assert_int_eq(ioctl(plain.vcpu, KVM_GET_SREGS, &sr), 0);
	ck_assert_uint_eq(sr.efer, 0);
	ck_assert_uint_eq(sr.cr0 & 1, 0);
	ck_assert_uint_eq(get_msr(plain.vcpu, MSR_LSTAR), 0);

	memcpy(bad, a, sizeof(*a));
	bad->flags &= ~VCPU_STATE_LAPIC;      /* but still halted: needs a LAPIC */
	ck_assert_int_eq(vcpu_state_restore(plain.vm.fd, plain.vcpu, bad), -ENOTSUP);
	ck_assert_int_eq(ioctl(plain.vcpu, KVM_GET_REGS, &regs), 0);
	ck_assert_uint_eq(regs.rip, 0xfff0);
	ck_assert_int_eq(ioctl(plain.vcpu, KVM_GET_SREGS, &sr), 0);
	ck_assert_uint_eq(sr.efer, 0);
	ck_assert_uint_eq(get_msr(plain.vcpu, MSR_LSTAR), 0);

	/* without the LAPIC and runnable, the same state goes in */
	bad->mp_state.mp_state = KVM_MP_STATE_RUNNABLE;
	ck_assert_int_eq(vcpu_state_restore(plain.vm.fd, plain.vcpu, bad), 0);
	ck_assert_int_eq(ioctl(plain.vcpu, KVM_GET_REGS, &regs), 0);
	ck_assert_uint_eq(regs.rip, 0xffffffff81000123ull);
	ck_assert_uint_eq(get_msr(plain.vcpu, MSR_LSTAR), 0xffffffff81a00000ull);
	machine_destroy(&src);
	machine_destroy(&plain);
	free(a);
	free(bad);
}
END_TEST

START_TEST(test_vm_round_trip)
{
	struct machine src, dst, plain;
	struct vmm_vm_state a, b, bad;
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };
	struct kvm_irqchip pic = { .chip_id = KVM_IRQCHIP_PIC_MASTER };
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock = { .clock = 5000000000ull };

	machine_create(&src, true);
	ck_assert_int_eq(ioctl(src.vm.fd, KVM_GET_IRQCHIP, &chip), 0);
	chip.chip.ioapic.redirtbl[4].bits = 0x0000000000010034ull;   /* masked, vector 0x34 */
	chip.chip.ioapic.redirtbl[9].bits = 0x0300000000008039ull;   /* level, dest 3 */
	chip.chip.ioapic.id = 0;
	ck_assert_int_eq(ioctl(src.vm.fd, KVM_SET_IRQCHIP, &chip), 0);
	ck_assert_int_eq(ioctl(src.vm.fd, KVM_GET_IRQCHIP, &pic), 0);
	pic.chip.pic.imr = 0xb8;
	pic.chip.pic.irq_base = 0x20;
	ck_assert_int_eq(ioctl(src.vm.fd, KVM_SET_IRQCHIP, &pic), 0);
	ck_assert_int_eq(ioctl(src.vm.fd, KVM_GET_PIT2, &pit), 0);
	pit.channels[0].count = 0x2e9c;
	pit.channels[0].mode = 2;
	pit.channels[0].rw_mode = 3;
	ck_assert_int_eq(ioctl(src.vm.fd, KVM_SET_PIT2, &pit), 0);
	ck_assert_int_eq(ioctl(src.vm.fd, KVM_SET_CLOCK, &clock), 0);
	ck_assert_int_eq(vmm_vm_state_save(src.vm.fd, &a), 0);
	ck_assert_uint_eq(a.flags, VMM_VM_STATE_IRQCHIP | VMM_VM_STATE_PIT | VMM_VM_STATE_CLOCK);
	ck_assert_uint_eq(a.ioapic.chip.ioapic.redirtbl[9].bits, 0x0300000000008039ull);
	ck_assert_uint_ge(a.clock.clock, 5000000000ull);

	machine_create(&dst, true);
	ck_assert_int_eq(vmm_vm_state_restore(dst.vm.fd, &a), 0);
	ck_assert_int_eq(vmm_vm_state_save(dst.vm.fd, &b), 0);
	ck_assert_msg(memcmp(&a.pic, &b.pic, sizeof(a.pic)) == 0, "PICs differ");
	ck_assert_msg(memcmp(&a.ioapic, &b.ioapic, sizeof(a.ioapic)) == 0, "IOAPIC differs");
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_uint_eq(a.pit.channels[i].count, b.pit.channels[i].count);
		ck_assert_uint_eq(a.pit.channels[i].mode, b.pit.channels[i].mode);
		ck_assert_uint_eq(a.pit.channels[i].rw_mode, b.pit.channels[i].rw_mode);
		ck_assert_uint_eq(a.pit.channels[i].gate, b.pit.channels[i].gate);
	}
	ck_assert_uint_eq(a.pit.flags, b.pit.flags);
	/* the clock continues from the saved value: no jump back, none ahead */
	ck_assert_msg(b.clock.clock >= a.clock.clock && b.clock.clock - a.clock.clock < 1000000000ull,
		      "clock %llu then %llu", (unsigned long long)a.clock.clock,
		      (unsigned long long)b.clock.clock);

	/* refusals leave the VM as it was */
	machine_create(&plain, false);
	ck_assert_int_eq(vmm_vm_state_restore(plain.vm.fd, &a), -ENOTSUP);
	bad = a;
	bad.ioapic.chip_id = KVM_IRQCHIP_PIC_MASTER;
	ck_assert_int_eq(vmm_vm_state_restore(dst.vm.fd, &bad), -EINVAL);
	bad = a;
	bad.pit.channels[1].mode = 9;
	ck_assert_int_eq(vmm_vm_state_restore(dst.vm.fd, &bad), -EINVAL);
	ck_assert_int_eq(vmm_vm_state_save(plain.vm.fd, &b), 0);
	ck_assert_uint_eq(b.flags, VMM_VM_STATE_CLOCK);
	machine_destroy(&src);
	machine_destroy(&dst);
	machine_destroy(&plain);
}
END_TEST

static Suite *suite(void)
{
	Suite *su = suite_create("vmm-vcpu-state");
	TCase *tc;

	tc = tcase_create("vcpu_state_save_restore");
	tcase_add_test(tc, test_vcpu_round_trip);
	tcase_add_test(tc, test_vcpu_refusals);
	suite_add_tcase(su, tc);
	tc = tcase_create("vmm_vm_state_save_restore");
	tcase_add_test(tc, test_vm_round_trip);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	struct vmm_kvm kvm;
	SRunner *sr;
	int failed, r;

	r = vmm_kvm_open(NULL, &kvm);
	if (r < 0) {
		fprintf(stderr, "test-vmm-vcpu-state: skipped: cannot use /dev/kvm: %s\n", strerror(-r));
		return 77;
	}
	if (!kvm.irqchip || !kvm.xsave) {
		fprintf(stderr, "test-vmm-vcpu-state: skipped: /dev/kvm lacks %s\n",
			!kvm.irqchip ? "KVM_CAP_IRQCHIP" : "KVM_CAP_XSAVE");
		vmm_kvm_close(&kvm);
		return 77;
	}
	vmm_kvm_close(&kvm);
	sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

/* regs.c - registers of vCPU 0 at the kernel entry, per boot protocol.
 *
 * PVH: 32-bit protected mode, paging off, flat 4 GiB segments, rbx =
 * start_info. Linux 64-bit: long mode on the VMM's identity map (boot.h),
 * CS = 0x10 (64-bit), DS/ES/SS = 0x18, rsi = boot_params, interrupts off.
 * The segment registers' hidden parts come from the same descriptors that
 * are written to the GDT in guest memory, so a reload by the guest gives
 * the same segments. */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include "boot.h"
#include "cpu.h"

#define CR0_PE 0x1ull
#define CR0_ET 0x10ull
#define CR0_PG 0x80000000ull
#define CR4_PAE 0x20ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull

static struct kvm_segment segment(uint64_t desc, uint16_t selector)
{
	return (struct kvm_segment){
		.base = ((desc >> 16) & 0xffffff) | (((desc >> 56) & 0xff) << 24),
		.limit = (uint32_t)(((desc & 0xffff) | (((desc >> 48) & 0xf) << 16))),
		.selector = selector,
		.type = (desc >> 40) & 0xf,
		.present = (desc >> 47) & 1,
		.dpl = (desc >> 45) & 3,
		.db = (desc >> 54) & 1,
		.s = (desc >> 44) & 1,
		.l = (desc >> 53) & 1,
		.g = (desc >> 55) & 1,
		.avl = (desc >> 52) & 1,
	};
}

static void fix_granularity(struct kvm_segment *s)
{
	if (s->g)
		s->limit = (s->limit << 12) | 0xfff;
}

static int set_sregs(int fd, const struct vmm_boot *boot)
{
	static const uint64_t gdt[VMM_GDT_ENTRIES] = VMM_GDT_INIT;
	struct kvm_sregs sr;
	struct kvm_segment code, data, tss;

	if (ioctl(fd, KVM_GET_SREGS, &sr) < 0)
		return -errno;
	code = boot->kind == VMM_BOOT_PVH ? segment(gdt[1], VMM_GDT_CODE32)
					  : segment(gdt[2], VMM_GDT_CODE64);
	data = segment(gdt[3], VMM_GDT_DATA);
	tss = segment(gdt[4], VMM_GDT_TSS);
	fix_granularity(&code);
	fix_granularity(&data);
	sr.cs = code;
	sr.ds = sr.es = sr.fs = sr.gs = sr.ss = data;
	sr.tr = tss;
	sr.gdt.base = VMM_BOOT_GDT;
	sr.gdt.limit = sizeof(gdt) - 1;
	sr.idt.base = 0;
	sr.idt.limit = 0;
	if (boot->kind == VMM_BOOT_PVH) {
		sr.cr0 = CR0_PE | CR0_ET;
		sr.cr4 = 0;
		sr.efer = 0;
	} else {
		sr.cr3 = VMM_BOOT_PML4;
		sr.cr4 = CR4_PAE;
		sr.cr0 = CR0_PE | CR0_ET | CR0_PG;
		sr.efer = EFER_LME | EFER_LMA;
	}
	return ioctl(fd, KVM_SET_SREGS, &sr) < 0 ? -errno : 0;
}

static int set_regs(int fd, const struct vmm_boot *boot)
{
	struct kvm_regs r;

	memset(&r, 0, sizeof(r));
	r.rflags = 0x2;
	r.rip = boot->entry;
	if (boot->kind == VMM_BOOT_PVH)
		r.rbx = boot->arg;
	else
		r.rsi = boot->arg;
	return ioctl(fd, KVM_SET_REGS, &r) < 0 ? -errno : 0;
}

static int set_fpu(int fd)
{
	struct kvm_fpu fpu;

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	return ioctl(fd, KVM_SET_FPU, &fpu) < 0 ? -errno : 0;
}

/* LINT0 as ExtINT (the PIC), LINT1 as NMI: what a PC's firmware leaves. */
static int set_lapic_lints(int fd)
{
	struct kvm_lapic_state l;
	uint32_t v;

	if (ioctl(fd, KVM_GET_LAPIC, &l) < 0)
		return -errno;
	memcpy(&v, &l.regs[0x350], 4);
	v = (v & ~0x700u) | (7u << 8);       /* LVT LINT0: ExtINT */
	memcpy(&l.regs[0x350], &v, 4);
	memcpy(&v, &l.regs[0x360], 4);
	v = (v & ~0x700u) | (4u << 8);       /* LVT LINT1: NMI */
	memcpy(&l.regs[0x360], &v, 4);
	return ioctl(fd, KVM_SET_LAPIC, &l) < 0 ? -errno : 0;
}

int vmm_regs_setup(int vcpu_fd, const struct vmm_boot *boot, int irqchip)
{
	int r;

	if (irqchip && (r = set_lapic_lints(vcpu_fd)) < 0)
		return r;
	if (!boot)
		return 0;
	if ((r = set_fpu(vcpu_fd)) < 0)
		return r;
	if ((r = set_sregs(vcpu_fd, boot)) < 0)
		return r;
	return set_regs(vcpu_fd, boot);
}

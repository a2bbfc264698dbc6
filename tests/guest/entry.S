/* entry.S - ring-0 start of the test guest: PVH entry to ring 3 in as few
 * instructions as possible.
 *
 * Ring-0 code on the development machine's /dev/kvm is emulated (about a
 * million instructions a second) and any exception raised in ring 0 ends the
 * VM, so this file does only what the emulator is known to handle: lgdt,
 * control registers, EFER, a far jump into long mode, ltr and iretq. The page
 * tables are built by the assembler (.rept), not by a loop at run time. They
 * identity-map the first 4 GiB with 2 MiB pages, user-accessible, so ring 3
 * reaches RAM and the virtio-mmio window at 0xd0000000. Ring 3 runs with
 * IOPL=3 (port I/O to the serial port and the exit port) and IF=0: the guest
 * polls and takes no interrupt in ring 3. Only mode idle sleeps: it fills
 * gates in the IDT loaded here (empty until then) and enters ring 0 with
 * int $0x80 to sti; hlt until the keyboard's interrupt (idle.c).
 *
 * Entry contract (PVH, Xen's hvm_start_info ABI): 32-bit protected mode,
 * paging off, flat segments, %ebx = guest physical address of start_info. */

#define PTE_P   0x001
#define PTE_RW  0x002
#define PTE_US  0x004
#define PTE_PS  0x080

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UDATA 0x1b  /* 0x18 | RPL 3 */
#define SEL_UCODE 0x23  /* 0x20 | RPL 3 */
#define SEL_TSS   0x28

	.section .note.Xen, "a", @note
	.balign 4
	.long 4                 /* name size: "Xen\0" */
	.long 4                 /* desc size */
	.long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long pvh_entry
	.balign 4

	.section .text.entry, "ax"
	.code32
	.globl pvh_entry
pvh_entry:
	movl $kernel_stack_top, %esp   /* PVH gives no stack; iretq needs one */
	movl %ebx, guest_start_info
	/* TSS base into its descriptor: the assembler cannot split a symbol. */
	movl $guest_tss, %eax
	movw %ax, gdt_tss + 2
	shrl $16, %eax
	movb %al, gdt_tss + 4
	movb %ah, gdt_tss + 7
	lgdt gdt_desc
	movl $pml4, %eax
	movl %eax, %cr3
	movl $0x20, %eax         /* CR4.PAE */
	movl %eax, %cr4
	movl $0xc0000080, %ecx   /* EFER */
	rdmsr
	orl $0x100, %eax         /* LME */
	wrmsr
	movl $0x80000011, %eax   /* PG | ET | PE */
	movl %eax, %cr0
	ljmp $SEL_KCODE, $entry64

	.code64
entry64:
	movl $SEL_KDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl $SEL_TSS, %eax
	ltr %ax
	lidt idt_desc
	pushq $SEL_UDATA
	pushq $user_stack_top
	pushq $0x3002            /* IOPL=3, IF=0, reserved bit 1 */
	pushq $SEL_UCODE
	pushq $guest_main
	iretq

	/* Ring 0 entry points of idle.c's gates. The PIC runs in auto-EOI
	 * mode, so an interrupt needs no acknowledgement. */
	.globl guest_irq_entry
guest_irq_entry:
	iretq

	/* int $0x80 from ring 3 (interrupt gate: IF=0 here): sleep until an
	 * interrupt. sti holds interrupts off for one more instruction, so one
	 * that is already pending wakes the hlt rather than being taken before
	 * it. iretq restores ring 3's flags (IF=0). */
	.globl guest_halt_entry
guest_halt_entry:
	sti
	hlt
	cli
	iretq

	/* #UD. The development machine's /dev/kvm (PVM) raises it for int $0x80
	 * in ring 3 instead of taking the gate: that one is the halt call, past
	 * the instruction's two bytes. Any other ends the VM as before the IDT
	 * existed (an empty IDT, then a fault: triple fault). */
	.globl guest_ud_entry
guest_ud_entry:
	pushq %rax
	movq 8(%rsp), %rax       /* the faulting RIP */
	cmpw $0x80cd, (%rax)     /* cd 80: int $0x80 */
	jne 1f
	addq $2, 8(%rsp)
	popq %rax
	jmp guest_halt_entry
1:	lidt idt_none
	ud2

	.section .data
	.balign 16
gdt:
	.quad 0
	.quad 0x00af9b000000ffff /* 0x08 kernel code, 64-bit */
	.quad 0x00cf93000000ffff /* 0x10 kernel data */
	.quad 0x00cff3000000ffff /* 0x18 user data, DPL 3 */
	.quad 0x00affb000000ffff /* 0x20 user code, 64-bit, DPL 3 */
gdt_tss:
	.quad 0x0000890000002068 /* 0x28 TSS + I/O bitmap (base patched at entry) */
	.quad 0
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	.balign 16
	.globl guest_tss
guest_tss:                       /* 64-bit TSS: rsp0, and an I/O bitmap */
	.long 0
	.quad kernel_stack_top
	.fill 0x66 - 12, 1, 0
	.word 0x68                       /* I/O bitmap right after the TSS */
	/* All ports allowed. IOPL=3 should make the bitmap moot, but the nested
	 * /dev/kvm this was developed on runs ring 3 with IOPL forced to 0, so
	 * ring-3 port I/O passes only through the bitmap. */
	.fill 8192, 1, 0
	.byte 0xff

	.globl guest_start_info
guest_start_info:
	.long 0

	.balign 8
idt_none:
	.word 0
	.quad 0
	.balign 8
idt_desc:
	.word 256 * 16 - 1
	.quad guest_idt

	.balign 4096
	.globl guest_idt
guest_idt:                       /* 256 gates, not present until idle.c fills some */
	.fill 256 * 16, 1, 0

	.section .data.pagetables, "aw"
	.balign 4096
pml4:
	.quad pdpt + PTE_P + PTE_RW + PTE_US
	.fill 511, 8, 0
pdpt:
	.quad pd + 0x0000 + PTE_P + PTE_RW + PTE_US
	.quad pd + 0x1000 + PTE_P + PTE_RW + PTE_US
	.quad pd + 0x2000 + PTE_P + PTE_RW + PTE_US
	.quad pd + 0x3000 + PTE_P + PTE_RW + PTE_US
	.quad pd + 0x4000 + PTE_P + PTE_RW + PTE_US   /* 4-5 GiB: RAM above the hole */
	.fill 507, 8, 0
pd:
	.set addr, 0
	.rept 2560
	.quad addr + PTE_P + PTE_RW + PTE_US + PTE_PS
	.set addr, addr + 0x200000
	.endr

	.section .bss
	.balign 4096
	.space 4096
kernel_stack_top:
	.space 65536
	.globl user_stack_top
user_stack_top:

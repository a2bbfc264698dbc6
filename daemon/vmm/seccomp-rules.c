/* seccomp-rules.c - the syscalls each thread role of a VMM process may
 * make, written down one per line with why, as libseccomp filters.
 *
 * How the lists were made: `strace -f` of `hvd vmm` with --no-seccomp over
 * every scenario of tests/integration/test-vmm-guest.sh (power-off, reboot,
 * dirty loop with pause/resume/stats/stop over the control socket, SIGTERM,
 * virtio-blk write/verify/read-only, garbage rings, shutdown), in the
 * normal and the sanitizer build, keeping what each thread did after its
 * filter would have been loaded; then the same scenarios with the filters
 * on. Anything else kills the process (SCMP_ACT_KILL_PROCESS): a syscall
 * a VMM never makes is one a compromised VMM does not get. Foreign
 * architectures (i386 int 0x80, x32) are killed by libseccomp's bad-arch
 * action.
 *
 * ioctl is allowed per (fd, request) pair; fds and requests are compared
 * on their low 32 bits, which is all the kernel reads of them. */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include "sandbox.h"

struct allow {
	int nr;
	const char *why;
};

/* vCPU threads: KVM_RUN and the exits they handle themselves (port I/O and
 * MMIO to the device models, which lock, count and wake the loop).
 * Measured: ioctl, futex, write, rt_sigreturn, mmap, munmap, mprotect,
 * madvise, rt_sigprocmask, exit; brk by reading glibc (a thread may share
 * the main arena). */
static const struct allow vcpu_allow[] = {
	{ SCMP_SYS(ioctl), "KVM_RUN, KVM_GET_REGS/SREGS (crash report) on its own vCPU fd; "
			   "KVM_IRQ_LINE on the VM fd (interrupts raised by an exit)" },
	{ SCMP_SYS(futex), "vCPU command handshake (mutex, condvar), device locks" },
	{ SCMP_SYS(write), "uv_async_send: wake the device thread (its eventfd only)" },
	{ SCMP_SYS(rt_sigreturn), "return from the kick signal's handler" },
	{ SCMP_SYS(mmap), "malloc: a device_error event built on this thread, new arena" },
	{ SCMP_SYS(munmap), "free of large blocks, arena trimming" },
	{ SCMP_SYS(mprotect), "malloc growing this thread's arena" },
	{ SCMP_SYS(madvise), "free trimming the arena; glibc releases the stack at exit" },
	{ SCMP_SYS(brk), "malloc when this thread shares the main arena" },
	{ SCMP_SYS(rt_sigprocmask), "glibc blocks all signals as the thread exits" },
	{ SCMP_SYS(exit), "thread end after a stop" },
};

/* Only when a queue notification is handled on the vCPU (KVM refused an
 * ioeventfd, or --no-ioeventfd): the device requests run here. Measured:
 * preadv, pwritev, fdatasync; the rest by reading virtio-blk.c,
 * virtio-net.c and virtio-rng.c (the test guest drives neither discard nor
 * the tap nor the rng). */
static const struct allow vcpu_device_io_allow[] = {
	{ SCMP_SYS(preadv), "virtio-blk read" },
	{ SCMP_SYS(pwritev), "virtio-blk write" },
	{ SCMP_SYS(fdatasync), "virtio-blk flush" },
	{ SCMP_SYS(pwrite64), "virtio-blk write zeroes fallback" },
	{ SCMP_SYS(fallocate), "virtio-blk discard / write zeroes" },
	{ SCMP_SYS(readv), "virtio-net receive from the tap" },
	{ SCMP_SYS(writev), "virtio-net transmit to the tap" },
	{ SCMP_SYS(getrandom), "virtio-rng" },
};

/* The device/event thread: libuv loop, control socket, console log, the
 * virtio devices' requests, the stop path and process exit. Measured: all
 * but the last block. */
static const struct allow device_allow[] = {
	{ SCMP_SYS(epoll_wait), "libuv loop" },
	{ SCMP_SYS(epoll_ctl), "libuv: (un)watching fds, control clients" },
	{ SCMP_SYS(read), "eventfds (ioeventfd, wake-ups), signal pipe, control clients" },
	{ SCMP_SYS(write), "console log, stdout/stderr, control clients, wake-ups" },
	{ SCMP_SYS(accept4), "control socket clients" },
	{ SCMP_SYS(shutdown), "control clients at stop (flush the stopped event)" },
	{ SCMP_SYS(close), "control clients, handles at stop, fds at exit" },
	{ SCMP_SYS(ioctl), "KVM_IRQ_LINE on the VM fd (virtio interrupts); KVM_GET_IRQCHIP "
			   "(does the guest listen to the power button)" },
	{ SCMP_SYS(preadv), "virtio-blk read" },
	{ SCMP_SYS(pwritev), "virtio-blk write" },
	{ SCMP_SYS(fdatasync), "virtio-blk flush" },
	{ SCMP_SYS(pread64), "/proc/self/status for stats (opened before the sandbox)" },
	{ SCMP_SYS(futex), "vCPU commands, device locks, joining vCPU threads" },
	{ SCMP_SYS(tgkill), "kicking a vCPU out of KVM_RUN (pthread_kill)" },
	{ SCMP_SYS(getpid), "pthread_kill's tgkill target; status" },
	{ SCMP_SYS(getuid), "status: the sandbox's uid" },
	{ SCMP_SYS(sched_yield), "libuv waits for a concurrent uv_async_send at close" },
	{ SCMP_SYS(rt_sigreturn), "return from the SIGTERM/SIGINT/SIGHUP handler" },
	{ SCMP_SYS(rt_sigprocmask), "libuv signal handles (start/stop, at exit)" },
	{ SCMP_SYS(rt_sigaction), "libuv restores signal dispositions at exit" },
	{ SCMP_SYS(brk), "malloc" },
	{ SCMP_SYS(munmap), "free; guest RAM and kvm_run unmapped at exit" },
	{ SCMP_SYS(exit_group), "the end" },
	/* not seen in the scenarios, needed by code paths they do not reach */
	{ SCMP_SYS(mmap), "malloc of large blocks (a 64 KiB control line)" },
	{ SCMP_SYS(mprotect), "malloc growing an arena" },
	{ SCMP_SYS(madvise), "free trimming an arena" },
	{ SCMP_SYS(pwrite64), "virtio-blk write zeroes fallback" },
	{ SCMP_SYS(fallocate), "virtio-blk discard / write zeroes" },
	{ SCMP_SYS(readv), "virtio-net receive from the tap" },
	{ SCMP_SYS(writev), "virtio-net transmit to the tap" },
	{ SCMP_SYS(getrandom), "virtio-rng" },
	{ SCMP_SYS(clock_gettime), "vDSO fallback on hosts whose clocksource has none" },
	{ SCMP_SYS(memfd_create), "freeze: the state file, a second image of frozen RAM" },
	{ SCMP_SYS(ftruncate), "freeze: sizing the new image of guest RAM" },
};

/* Sanitizer builds only (meson -Db_sanitize=address,undefined): what the
 * ASan/LSan runtime does after the filters are loaded, found with the
 * filters in SCMP_ACT_LOG mode (the kernel's audit lines name each call).
 * LeakSanitizer's exit-time check runs a tracer task (clone, ptrace of
 * every thread, /proc/self/task and /proc/self/maps), which inherits the
 * device thread's filter; a vCPU thread's exit releases ASan's alternate
 * signal stack. Never in a release build, and not counted. */
#if defined(__SANITIZE_ADDRESS__)
#define VMM_SECCOMP_SANITIZER 1
static const struct allow sanitizer_vcpu_allow[] = {
	{ SCMP_SYS(sigaltstack), "ASan: alternate signal stack released at thread exit" },
	{ SCMP_SYS(gettid), "ASan: thread registry" },
	{ SCMP_SYS(getpid), "ASan: reports" },
};
static const struct allow sanitizer_device_allow[] = {
	{ SCMP_SYS(sigaltstack), "ASan: alternate signal stacks" },
	{ SCMP_SYS(gettid), "ASan/LSan: thread registry" },
	{ SCMP_SYS(getppid), "LSan tracer: is the parent alive" },
	{ SCMP_SYS(prctl), "LSan: PR_SET_DUMPABLE, PR_SET_PTRACER, PR_SET_PDEATHSIG" },
	{ SCMP_SYS(clone), "LSan: the tracer task" },
	{ SCMP_SYS(wait4), "LSan: waiting for the tracer and for stopped threads" },
	{ SCMP_SYS(ptrace), "LSan tracer: stop the threads, read their registers" },
	{ SCMP_SYS(open), "LSan: /proc/self/maps, /proc/self/task" },
	{ SCMP_SYS(openat), "LSan: /proc/self/maps, /proc/self/task" },
	{ SCMP_SYS(getdents), "LSan tracer: listing /proc/self/task" },
	{ SCMP_SYS(getdents64), "LSan tracer: listing /proc/self/task" },
	{ SCMP_SYS(readlink), "sanitizer: /proc/self/exe for module names" },
	{ SCMP_SYS(sched_yield), "LSan: waiting for the tracer" },
	{ SCMP_SYS(exit), "LSan tracer end" },
	{ SCMP_SYS(tgkill), "LSan tracer" },
	{ SCMP_SYS(kill), "LSan tracer: signals to stopped threads" },
	{ SCMP_SYS(rt_sigtimedwait), "LSan tracer" },
	{ SCMP_SYS(fstat), "sanitizer: file sizes of /proc files" },
	{ SCMP_SYS(newfstatat), "sanitizer: file sizes of /proc files" },
	{ SCMP_SYS(lseek), "sanitizer" },
};
#endif

static int add_list(scmp_filter_ctx ctx, const struct allow *a, size_t n, unsigned *count,
		    int skip1, int skip2)
{
	for (size_t i = 0; i < n; i++) {
		int r;

		if (a[i].nr == skip1 || a[i].nr == skip2)
			continue;
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, a[i].nr, 0);
		if (r < 0 && r != -EEXIST)
			return r;
		if (r == 0)
			(*count)++;
	}
	return 0;
}

static int allow_ioctl(scmp_filter_ctx ctx, int fd, unsigned long req)
{
	if (fd < 0)
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					SCMP_A1_32(SCMP_CMP_EQ, (uint32_t)req));
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 2,
				SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)fd),
				SCMP_A1_32(SCMP_CMP_EQ, (uint32_t)req));
}

static int vcpu_rules(scmp_filter_ctx ctx, const struct vmm_seccomp_params *p, unsigned *count)
{
	int r;

	/* ioctl and write get argument rules below */
	r = add_list(ctx, vcpu_allow, sizeof(vcpu_allow) / sizeof(vcpu_allow[0]), count,
		     SCMP_SYS(ioctl), SCMP_SYS(write));
	if (r == 0 && p->device_io)
		r = add_list(ctx, vcpu_device_io_allow,
			     sizeof(vcpu_device_io_allow) / sizeof(vcpu_device_io_allow[0]), count,
			     -1, -1);
#ifdef VMM_SECCOMP_SANITIZER
	unsigned uncounted = 0;

	if (r == 0)
		r = add_list(ctx, sanitizer_vcpu_allow,
			     sizeof(sanitizer_vcpu_allow) / sizeof(sanitizer_vcpu_allow[0]), &uncounted,
			     -1, -1);
#endif
	if (r == 0 && (r = allow_ioctl(ctx, p->vcpu_fd, KVM_RUN)) == 0 &&
	    (r = allow_ioctl(ctx, p->vcpu_fd, KVM_GET_REGS)) == 0 &&
	    (r = allow_ioctl(ctx, p->vcpu_fd, KVM_GET_SREGS)) == 0 &&
	    (r = allow_ioctl(ctx, p->vm_fd, KVM_IRQ_LINE)) == 0)
		(*count)++;
	if (r < 0)
		return r;
	if (p->nwake_fds == 0 || p->device_io) {
		/* the device requests write to taps: no fd restriction */
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 0);
	} else {
		for (unsigned i = 0; r == 0 && i < p->nwake_fds; i++)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
					     SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)p->wake_fds[i]));
	}
	if (r == 0)
		(*count)++;
	return r;
}

/* Everything vmm_vm_state_save and vcpu_state_save call. */
static const unsigned long freeze_ioctls[] = {
	KVM_CHECK_EXTENSION, KVM_GET_PIT2, KVM_GET_CLOCK, KVM_GET_MP_STATE, KVM_GET_REGS,
	KVM_GET_SREGS, KVM_GET_SREGS2, KVM_GET_FPU, KVM_GET_XSAVE, KVM_GET_XSAVE2, KVM_GET_XCRS,
	KVM_GET_DEBUGREGS, KVM_GET_VCPU_EVENTS, KVM_GET_LAPIC, KVM_GET_MSRS,
};

static int device_rules(scmp_filter_ctx ctx, const struct vmm_seccomp_params *p, unsigned *count)
{
	int r = add_list(ctx, device_allow, sizeof(device_allow) / sizeof(device_allow[0]), count,
			 SCMP_SYS(ioctl), -1);

	if (r == 0 && (r = allow_ioctl(ctx, p->vm_fd, KVM_IRQ_LINE)) == 0 &&
	    (r = allow_ioctl(ctx, p->vm_fd, KVM_GET_IRQCHIP)) == 0)
		(*count)++;
	/* freeze (machine-snapshot.c): read-only KVM state of the VM and of
	 * every vCPU (any fd: they are all KVM's), with the vCPUs paused */
	for (size_t i = 0; r == 0 && i < sizeof(freeze_ioctls) / sizeof(freeze_ioctls[0]); i++)
		r = allow_ioctl(ctx, -1, freeze_ioctls[i]);
#ifdef VMM_SECCOMP_SANITIZER
	unsigned uncounted = 0;

	if (r == 0)
		r = add_list(ctx, sanitizer_device_allow,
			     sizeof(sanitizer_device_allow) / sizeof(sanitizer_device_allow[0]),
			     &uncounted, -1, -1);
	if (r == 0)   /* isatty() of stderr before a report */
		r = allow_ioctl(ctx, -1, TCGETS);
#endif
	return r;
}

/* libseccomp 2.5 exports only to an fd; a memfd holds the program. */
static int export_bpf(scmp_filter_ctx ctx, struct sock_fprog *ret)
{
	struct stat st;
	void *buf = NULL;
	int fd = memfd_create("hvd-seccomp", MFD_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = seccomp_export_bpf(ctx, fd);
	if (r == 0 && fstat(fd, &st) < 0)
		r = -errno;
	if (r == 0 && (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) ||
		       st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS))
		r = -E2BIG;
	if (r == 0 && !(buf = malloc((size_t)st.st_size)))
		r = -ENOMEM;
	if (r == 0 && pread(fd, buf, (size_t)st.st_size, 0) != st.st_size)
		r = -EIO;
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	ret->filter = buf;
	ret->len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
	return 0;
}

int vmm_seccomp_build(enum vmm_seccomp_role role, const struct vmm_seccomp_params *p,
		      struct sock_fprog *ret, unsigned *ret_count)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	unsigned count = 0;
	int r;

	if (!ctx)
		return -ENOMEM;
	/* no_new_privs is the sandbox's own step, done for the whole process */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r == 0)
		r = role == VMM_ROLE_VCPU ? vcpu_rules(ctx, p, &count) : device_rules(ctx, p, &count);
	if (r == 0)
		r = export_bpf(ctx, ret);
	seccomp_release(ctx);
	if (r == 0)
		*ret_count = count;
	return r;
}

int vmm_seccomp_load(const struct sock_fprog *prog)
{
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog, 0, 0) < 0 ? -errno : 0;
}

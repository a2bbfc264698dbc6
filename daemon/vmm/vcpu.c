/* vcpu.c - the vCPU threads and their state machine.
 *
 * Each vCPU thread loops on KVM_RUN while its state is running. The device
 * thread changes the state only through vmm_vcpu_command(): it posts the
 * command under the vCPU's lock, sets kvm_run.immediate_exit and sends the
 * kick signal, then waits on the condition variable until the thread has
 * applied the command. immediate_exit closes the race where the signal
 * lands just before KVM_RUN is entered; the thread clears it when it takes
 * the command. All other signals are blocked in vCPU threads.
 *
 * Exits: port I/O and MMIO go to the buses; guest power events come back
 * from the devices through env->stop; HLT (only seen without an in-kernel
 * irqchip), SHUTDOWN (triple fault), INTERNAL_ERROR (e.g. the nested
 * emulator giving up on a ring-0 instruction), FAIL_ENTRY and unknown exits
 * stop this vCPU and report through env->stop. A stopped vCPU never runs
 * again.
 *
 * A new thread loads its seccomp program (v->filter, see sandbox.c) and
 * primes KVM_RUN before vmm_vcpu_start() returns; failing either it stops
 * and vmm_vcpu_start() says why. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <linux/seccomp.h>
#include <unistd.h>
#include "trace.h"
#include "vcpu.h"

#define KICK_SIGNAL (SIGRTMIN)

static void kick_handler(int sig)
{
	(void)sig;  /* only interrupts KVM_RUN */
}

static pthread_once_t kick_once = PTHREAD_ONCE_INIT;

static void install_kick_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;   /* no SA_RESTART: KVM_RUN returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(KICK_SIGNAL, &sa, NULL);
}

int vmm_vcpu_create(struct vmm_vm *vm, unsigned index, const struct vmm_vcpu_env *env,
		    struct vmm_vcpu *v)
{
	int r;

	memset(v, 0, sizeof(*v));
	v->fd = -1;
	v->index = index;
	v->env = env;
	v->state = VMM_VCPU_PAUSED;
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->cond, NULL);
	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (v->fd < 0)
		return -errno;
	v->run_size = (size_t)vm->kvm->run_size;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		r = -errno;
		v->run = NULL;
		return r;
	}
	return 0;
}

static void count(uint64_t *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

static int fatal(struct vmm_vcpu *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fatal(struct vmm_vcpu *v, const char *fmt, ...)
{
	char detail[224];
	int n;
	va_list ap;

	n = snprintf(detail, sizeof(detail), "vcpu%u: ", v->index);
	va_start(ap, fmt);
	n += vsnprintf(detail + n, sizeof(detail) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(detail)) {
		struct kvm_regs regs;
		struct kvm_sregs sregs;

		/* Where the guest was: the one thing a crash report needs. */
		if (ioctl(v->fd, KVM_GET_REGS, &regs) == 0 && ioctl(v->fd, KVM_GET_SREGS, &sregs) == 0)
			n += snprintf(detail + n, sizeof(detail) - (size_t)n,
				      " at rip 0x%llx rflags 0x%llx cs 0x%x cr0 0x%llx cpl %u",
				      (unsigned long long)regs.rip, (unsigned long long)regs.rflags,
				      sregs.cs.selector, (unsigned long long)sregs.cr0, sregs.cs.dpl);
	}
	/* On AMD, KVM resets the vCPU before it reports a triple fault, so
	 * the registers above may be the reset's: the last exit tells more */
	if (n > 0 && (size_t)n < sizeof(detail) && v->last_exit_kind)
		snprintf(detail + n, sizeof(detail) - (size_t)n, ", after %s %s 0x%llx",
			 v->last_exit_kind == 'p' ? "port" : "MMIO", v->last_exit_write ? "write" : "read",
			 (unsigned long long)v->last_exit_addr);
	v->env->stop(v->env->opaque, VMM_STOP_CRASH, 0, detail);
	return -1;
}

/* The exit being handled, kept for a crash report and counted when
 * tracing. */
static void note_exit(struct vmm_vcpu *v, char kind, bool write, uint64_t addr)
{
	v->last_exit_kind = kind;
	v->last_exit_write = write;
	v->last_exit_addr = addr;
	if (vmm_trace_on())
		vmm_trace_exit(kind, addr);
}

/* One KVM_RUN and its exit. Returns 0 to go on, -1 when the vCPU must stop. */
static int run_once(struct vmm_vcpu *v)
{
	struct kvm_run *run = v->run;
	int r = ioctl(v->fd, KVM_RUN, 0), err = errno;

	/* writes the guest made without exiting come before this exit */
	if (v->env->coalesced)
		vmm_coalesced_drain(v->env->coalesced);
	if (r < 0) {
		if (err == EINTR || err == EAGAIN) {
			count(&v->stats.intr);
			return 0;
		}
		return fatal(v, "KVM_RUN failed: %s", strerror(err));
	}
	count(&v->stats.runs);
	switch (run->exit_reason) {
	case KVM_EXIT_IO: {
		uint64_t bytes = (uint64_t)run->io.size * run->io.count;
		uint8_t *data = (uint8_t *)run + run->io.data_offset;

		count(&v->stats.io);
		note_exit(v, 'p', run->io.direction == KVM_EXIT_IO_OUT, run->io.port);
		if (run->io.data_offset > v->run_size || bytes > v->run_size - run->io.data_offset)
			return fatal(v, "bad I/O exit offset %llu size %llu",
				     (unsigned long long)run->io.data_offset, (unsigned long long)bytes);
		for (uint32_t i = 0; i < run->io.count; i++)
			vmm_io_bus_access(v->env->io, run->io.port, data + i * run->io.size,
					  run->io.size, run->io.direction == KVM_EXIT_IO_OUT);
		return 0;
	}
	case KVM_EXIT_MMIO:
		count(&v->stats.mmio);
		note_exit(v, 'm', run->mmio.is_write, run->mmio.phys_addr);
		vmm_mmio_bus_access(v->env->mmio, run->mmio.phys_addr, run->mmio.data,
				    run->mmio.len > 8 ? 8 : run->mmio.len, run->mmio.is_write);
		return 0;
	case KVM_EXIT_INTR:
		count(&v->stats.intr);
		return 0;
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		count(&v->stats.other);
		return 0;
	case KVM_EXIT_HLT:
		v->env->stop(v->env->opaque, VMM_STOP_POWEROFF, 0, "hlt without irqchip");
		return -1;
	case KVM_EXIT_SHUTDOWN:
		return fatal(v, "triple fault (shutdown exit)");
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			v->env->stop(v->env->opaque, VMM_STOP_POWEROFF, 0, "system event shutdown");
			return -1;
		case KVM_SYSTEM_EVENT_RESET:
			v->env->stop(v->env->opaque, VMM_STOP_REBOOT, 0, "system event reset");
			return -1;
		default:
			return fatal(v, "system event %u", run->system_event.type);
		}
	case KVM_EXIT_INTERNAL_ERROR:
		return fatal(v, "KVM internal error, suberror %u%s", run->internal.suberror,
			     run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
			     " (emulation failure)" : "");
	case KVM_EXIT_FAIL_ENTRY:
		return fatal(v, "entry failed, hardware reason 0x%llx",
			     (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	default:
		count(&v->stats.other);
		return fatal(v, "unhandled exit %u", run->exit_reason);
	}
}

static void take_command(struct vmm_vcpu *v)
{
	switch (v->cmd) {
	case VMM_VCPU_CMD_PAUSE:
		if (v->state == VMM_VCPU_RUNNING)
			v->state = VMM_VCPU_PAUSED;
		break;
	case VMM_VCPU_CMD_RESUME:
		if (v->state == VMM_VCPU_PAUSED)
			v->state = VMM_VCPU_RUNNING;
		break;
	case VMM_VCPU_CMD_STOP:
		v->state = VMM_VCPU_STOPPED;
		break;
	default:
		break;
	}
	v->cmd = VMM_VCPU_CMD_NONE;
	v->run->immediate_exit = 0;
	pthread_cond_broadcast(&v->cond);
}

/* What a new thread does before it can take commands: load its seccomp
 * filter (before any guest code runs), then one KVM_RUN that returns at
 * once (immediate_exit): the first KVM_RUN of a vCPU makes the kernel
 * create its per-VM worker task (NX huge page recovery, 6.13+), which must
 * happen before the sandbox sets RLIMIT_NPROC to 0 (under any uid but root
 * it then fails, and every KVM_RUN with it, with EAGAIN). Called with
 * v->lock held, so no command can touch immediate_exit meanwhile. Returns
 * 0 or -errno. */
static int prime(struct vmm_vcpu *v)
{
	int r = 0;

	if (v->filter && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, v->filter, 0, 0) < 0)
		return -errno;
	v->run->immediate_exit = 1;
	if (ioctl(v->fd, KVM_RUN, 0) == 0)
		r = -EPROTO;            /* it ran the guest: never with immediate_exit */
	else if (errno != EINTR)
		r = -errno;
	v->run->immediate_exit = 0;
	return r;
}

static void *vcpu_thread(void *arg)
{
	struct vmm_vcpu *v = arg;
	sigset_t set;
	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", v->index);
	pthread_setname_np(pthread_self(), name);
	sigemptyset(&set);
	sigaddset(&set, KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	pthread_mutex_lock(&v->lock);
	v->start_error = prime(v);
	v->ready = true;
	pthread_cond_broadcast(&v->cond);
	if (v->start_error) {
		v->state = VMM_VCPU_STOPPED;
		pthread_mutex_unlock(&v->lock);
		return NULL;
	}
	for (;;) {
		while (v->state == VMM_VCPU_PAUSED && v->cmd == VMM_VCPU_CMD_NONE)
			pthread_cond_wait(&v->cond, &v->lock);
		if (v->cmd != VMM_VCPU_CMD_NONE)
			take_command(v);
		if (v->state == VMM_VCPU_STOPPED)
			break;
		if (v->state != VMM_VCPU_RUNNING)
			continue;
		pthread_mutex_unlock(&v->lock);
		int r = run_once(v);
		pthread_mutex_lock(&v->lock);
		if (r < 0) {
			v->state = VMM_VCPU_STOPPED;
			if (v->cmd != VMM_VCPU_CMD_NONE)
				take_command(v);
			pthread_cond_broadcast(&v->cond);
			break;
		}
	}
	pthread_mutex_unlock(&v->lock);
	return NULL;
}

int vmm_vcpu_start(struct vmm_vcpu *v)
{
	sigset_t all, old;
	int r;

	pthread_once(&kick_once, install_kick_handler);
	/* The thread inherits a full mask and unblocks only the kick. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&v->thread, NULL, vcpu_thread, v);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		return -r;
	v->thread_started = true;
	pthread_mutex_lock(&v->lock);
	while (!v->ready)
		pthread_cond_wait(&v->cond, &v->lock);
	r = v->start_error;
	pthread_mutex_unlock(&v->lock);
	return r;
}

enum vmm_vcpu_state vmm_vcpu_command(struct vmm_vcpu *v, enum vmm_vcpu_cmd cmd)
{
	enum vmm_vcpu_state s;

	pthread_mutex_lock(&v->lock);
	if (v->state == VMM_VCPU_STOPPED || !v->thread_started) {
		s = v->state;
		pthread_mutex_unlock(&v->lock);
		return s;
	}
	v->cmd = cmd;
	v->run->immediate_exit = 1;
	pthread_cond_broadcast(&v->cond);
	pthread_kill(v->thread, KICK_SIGNAL);
	while (v->cmd != VMM_VCPU_CMD_NONE && v->state != VMM_VCPU_STOPPED)
		pthread_cond_wait(&v->cond, &v->lock);
	s = v->state;
	pthread_mutex_unlock(&v->lock);
	return s;
}

enum vmm_vcpu_state vmm_vcpu_state(struct vmm_vcpu *v)
{
	enum vmm_vcpu_state s;

	pthread_mutex_lock(&v->lock);
	s = v->state;
	pthread_mutex_unlock(&v->lock);
	return s;
}

void vmm_vcpu_get_stats(struct vmm_vcpu *v, struct vmm_vcpu_stats *ret)
{
	ret->runs = __atomic_load_n(&v->stats.runs, __ATOMIC_RELAXED);
	ret->io = __atomic_load_n(&v->stats.io, __ATOMIC_RELAXED);
	ret->mmio = __atomic_load_n(&v->stats.mmio, __ATOMIC_RELAXED);
	ret->intr = __atomic_load_n(&v->stats.intr, __ATOMIC_RELAXED);
	ret->other = __atomic_load_n(&v->stats.other, __ATOMIC_RELAXED);
}

void vmm_vcpu_destroy(struct vmm_vcpu *v)
{
	if (!v)
		return;
	if (v->thread_started) {
		vmm_vcpu_command(v, VMM_VCPU_CMD_STOP);
		pthread_join(v->thread, NULL);
		v->thread_started = false;
	}
	if (v->run)
		munmap(v->run, v->run_size);
	v->run = NULL;
	if (v->fd > 0)
		close(v->fd);
	v->fd = -1;
}

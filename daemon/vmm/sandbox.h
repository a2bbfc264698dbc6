/* sandbox.h - what a VMM process gives up once its VM is built: inherited
 * fds, the /dev/kvm fd, core dumps, root, the right to gain privileges, and
 * every syscall its thread roles do not make (seccomp, one filter per
 * role). See sandbox.c for the order and seccomp-rules.c for the lists. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <linux/filter.h>
#include "io-bus.h"

struct vmm_machine;

/* Default user of VM processes (systemd/hvd.sysusers), used when hvd vmm
 * runs as root, no --user is given and the user exists. */
#define VMM_SANDBOX_DEFAULT_USER "hvd-vm"

/* Closes every fd above 2 but keep (-1: none; a standby VMM's assignment
 * socket): whatever else the parent left open is not ours. Called first
 * thing in `hvd vmm`, before anything is opened. Returns 0 or -errno. */
int vmm_sandbox_close_inherited_fds(int keep);

/* Step 1, while the process has one thread and after everything is open
 * (KVM, RAM, disks, taps, control socket, console log, eventfds): closes
 * the /dev/kvm system fd, sets RLIMIT_CORE (0 unless core dumps were asked
 * for) and RLIMIT_NOFILE (the fds open now plus room for control clients),
 * drops to the VM user (setgroups, setresgid, setresuid), sets
 * PR_SET_NO_NEW_PRIVS, and builds the seccomp programs: one per vCPU
 * (stored in the vCPU, loaded by its thread before it first enters the
 * guest) and the device thread's. On error returns -errno and writes a
 * one-line reason into err; the process must not run the guest then. */
int vmm_sandbox_prepare(struct vmm_machine *m, char *err, size_t errlen);

/* Step 2, on the device thread once the vCPU threads exist: RLIMIT_NPROC
 * 0 (no more threads or processes) and the device thread's seccomp filter.
 * Same error convention. */
int vmm_sandbox_finish(struct vmm_machine *m, char *err, size_t errlen);

/* Frees the seccomp programs (the loaded filters stay). Accepts a machine
 * on which prepare never ran. */
void vmm_sandbox_free(struct vmm_machine *m);

/* Test hook (--debug-seccomp-probe): a guest write to this port makes the
 * vCPU thread call socket(2), which no filter allows, so the kernel kills
 * the process with SIGSYS. Without seccomp the call succeeds and the
 * socket is closed at once. */
#define VMM_SECCOMP_PROBE_PORT 0x4f0
extern const struct vmm_io_ops vmm_seccomp_probe_io_ops;

/* seccomp-rules.c: the allow-lists, as libseccomp filters. */
enum vmm_seccomp_role {
	VMM_ROLE_VCPU,
	VMM_ROLE_DEVICE,
};

struct vmm_seccomp_params {
	int vcpu_fd;          /* VCPU role: the only vCPU fd its ioctls may use */
	int vm_fd;            /* KVM_IRQ_LINE target */
	const int *wake_fds;  /* VCPU role: fds write(2) may use (eventfds); */
	unsigned nwake_fds;   /*   0 fds: write unrestricted */
	bool device_io;       /* VCPU role: some queue has no ioeventfd, so the
			       * vCPU runs device requests (disk, tap, rng) */
};

/* Builds the filter of role as a BPF program; *ret->filter is malloc'd
 * (free it). ret_count gets the number of distinct syscalls allowed.
 * Returns 0 or -errno (-EINVAL: a syscall unknown to libseccomp). */
int vmm_seccomp_build(enum vmm_seccomp_role role, const struct vmm_seccomp_params *p,
		      struct sock_fprog *ret, unsigned *ret_count);

/* Loads prog on the calling thread. The thread needs no_new_privs or
 * CAP_SYS_ADMIN. Returns 0 or -errno. */
int vmm_seccomp_load(const struct sock_fprog *prog);

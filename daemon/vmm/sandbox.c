/* sandbox.c - hardening a VMM process once its VM is built.
 *
 * Order, and why:
 *  1. first thing in `hvd vmm`: close inherited fds (nothing the parent
 *     leaves open is ours to keep);
 *  2. the machine opens everything it will ever need: /dev/kvm, the VM and
 *     vCPU fds, the guest RAM memfd, disks, taps, eventfds, the control
 *     socket, the console log, /proc/self/status (stats);
 *  3. vmm_sandbox_prepare(), still single-threaded: credential changes are
 *     process-wide, and glibc applies setuid to other threads by signalling
 *     them, which their seccomp filters would not allow. The /dev/kvm
 *     system fd goes (a VM process never creates another VM); rlimits;
 *     setgroups/setresgid/setresuid to the VM user; no_new_privs, which
 *     every thread created afterwards inherits and which lets an
 *     unprivileged thread load a filter; the seccomp programs are built;
 *  4. each vCPU thread loads its own program before it first enters the
 *     guest (vcpu.c), so it never carries the device thread's list;
 *  5. vmm_sandbox_finish() on the device thread: RLIMIT_NPROC 0 (threads
 *     count as processes: this must follow the vCPU threads' creation) and
 *     the device thread's filter.
 * A syscall outside a role's list kills the whole process (SIGSYS,
 * SCMP_ACT_KILL_PROCESS): only this VM dies, and its parent sees why. */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include "control.h"
#include "machine.h"
#include "sandbox.h"
#include "virtio-mmio.h"

int vmm_sandbox_close_inherited_fds(int keep)
{
	if (keep < 3)
		return close_range(3, ~0u, 0) < 0 ? -errno : 0;
	if ((keep > 3 && close_range(3, (unsigned)keep - 1, 0) < 0) ||
	    close_range((unsigned)keep + 1, ~0u, 0) < 0)
		return -errno;
	return 0;
}

static int fail(char *err, size_t errlen, int r, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, strerror(-r));
	return r;
}

/* Highest open fd number, from /proc/self/fd. */
static int highest_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int max = 2;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (fd > max && fd != dirfd(d))
			max = fd;
	}
	closedir(d);
	return max;
}

static int set_limit(int resource, rlim_t n)
{
	struct rlimit rl = { .rlim_cur = n, .rlim_max = n };

	return setrlimit(resource, &rl) < 0 ? -errno : 0;
}

/* "UID:GID", both decimal: 1 with the ids, 0 when name is not of that
 * form. */
static int numeric_user(const char *name, uid_t *uid, gid_t *gid)
{
	unsigned long u, g;
	char *end;

	if (*name < '0' || *name > '9')
		return 0;
	errno = 0;
	u = strtoul(name, &end, 10);
	if (errno || *end != ':' || end[1] < '0' || end[1] > '9' || u > (uid_t)-2)
		return 0;
	g = strtoul(end + 1, &end, 10);
	if (errno || *end || g > (gid_t)-2)
		return 0;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 1;
}

/* Resolves the VM user: the configured one (a name, or UID:GID as the
 * daemon passes it, which needs no NSS lookup), else hvd-vm when we are
 * root and it exists, else none (stay). Returns 1 with the ids in uid and
 * gid, 0 to stay, -errno. */
static int vm_user(const char *name, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int r;

	if (name && numeric_user(name, uid, gid))
		return *uid == geteuid() && *gid == getegid() ? 0 : 1;
	if (!name) {
		if (geteuid() != 0)
			return 0;
		r = getpwnam_r(VMM_SANDBOX_DEFAULT_USER, &pw, buf, sizeof(buf), &res);
		return r == 0 && res ? (*uid = pw.pw_uid, *gid = pw.pw_gid, 1) : 0;
	}
	r = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
	if (r != 0 || !res) {
		snprintf(err, errlen, "--user %s: %s", name, r ? strerror(r) : "no such user");
		return -(r ? r : ENOENT);
	}
	if (pw.pw_uid == geteuid() && pw.pw_gid == getegid())
		return 0;
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 1;
}

static int drop_user(struct vmm_machine *m, char *err, size_t errlen)
{
	uid_t uid, ruid, euid, suid;
	gid_t gid;
	int r = vm_user(m->cfg.user, &uid, &gid, err, errlen);

	if (r <= 0)
		return r;
	/* No supplementary groups: the fds are open, nothing else is needed. */
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return fail(err, errlen, -errno, "dropping to the VM user");
	if (getresuid(&ruid, &euid, &suid) < 0 || ruid != uid || euid != uid || suid != uid ||
	    setuid(0) == 0)
		return fail(err, errlen, -EPERM, "the VM user's uid did not stick");
	m->sandbox_uid = (long)uid;
	return 0;
}

/* The fds a vCPU thread may write to: the event loop's wake-up eventfd
 * (uv_async_send; libuv 1.x on Linux keeps it in async_io_watcher, or
 * async_wfd when it uses a pipe pair) and the virtio irqfds (an MMIO
 * access can raise a device's interrupt). Returns 0 when the loop's fd is
 * unknown: write then stays unrestricted. */
static unsigned wake_fds(struct vmm_machine *m, int *fds, unsigned cap)
{
	unsigned n = 0;

	if (m->loop.async_wfd >= 0)
		fds[n++] = m->loop.async_wfd;
	else if (m->loop.async_io_watcher.fd >= 0)
		fds[n++] = m->loop.async_io_watcher.fd;
	else
		return 0;
	for (unsigned i = 0; i < m->nvirtio && n < cap; i++)
		if (m->virtio_irq[i].trigger_fd >= 0)
			fds[n++] = m->virtio_irq[i].trigger_fd;
	return n;
}

static int build_filters(struct vmm_machine *m, char *err, size_t errlen)
{
	struct vmm_seccomp_params p = { .vm_fd = m->vm.fd, .vcpu_fd = -1 };
	unsigned queues = 0, count;
	int fds[1 + VMM_MAX_VIRTIO], r;

	for (unsigned i = 0; i < m->nvirtio; i++)
		queues += m->virtio[i]->ops->num_queues;
	p.device_io = m->nioevents < queues;
	p.nwake_fds = wake_fds(m, fds, 1 + VMM_MAX_VIRTIO);
	p.wake_fds = fds;
	r = vmm_seccomp_build(VMM_ROLE_DEVICE, &p, &m->device_filter, &count);
	if (r < 0)
		return fail(err, errlen, r, "building the device thread's seccomp filter");
	m->seccomp_counts[VMM_ROLE_DEVICE] = count;
	for (unsigned i = 0; i < m->nvcpus; i++) {
		struct sock_fprog *f = calloc(1, sizeof(*f));

		if (!f)
			return fail(err, errlen, -ENOMEM, "vCPU seccomp filter");
		p.vcpu_fd = m->vcpus[i].fd;
		r = vmm_seccomp_build(VMM_ROLE_VCPU, &p, f, &count);
		if (r < 0) {
			free(f);
			return fail(err, errlen, r, "building a vCPU's seccomp filter");
		}
		m->vcpus[i].filter = f;
		m->seccomp_counts[VMM_ROLE_VCPU] = count;
	}
	return 0;
}

int vmm_sandbox_prepare(struct vmm_machine *m, char *err, size_t errlen)
{
	int r, maxfd;

	vmm_kvm_close(&m->kvm);
	if ((r = set_limit(RLIMIT_CORE, m->cfg.core_dumps ? RLIM_INFINITY : 0)) < 0)
		return fail(err, errlen, r, "RLIMIT_CORE");
	/* Non-dumpable also keeps other processes of the VM user from
	 * ptrace-attaching to this one. */
	if (!m->cfg.core_dumps && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return fail(err, errlen, -errno, "PR_SET_DUMPABLE");
	maxfd = highest_fd();
	if (maxfd < 0)
		return fail(err, errlen, maxfd, "listing /proc/self/fd");
	/* Room for every control client plus the one over the limit that is
	 * accepted only to be closed, and libuv's spare fd for EMFILE. */
	if ((r = set_limit(RLIMIT_NOFILE, (rlim_t)maxfd + 1 + VMM_CONTROL_MAX_CLIENTS + 4)) < 0)
		return fail(err, errlen, r, "RLIMIT_NOFILE");
	if ((r = drop_user(m, err, errlen)) < 0)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail(err, errlen, -errno, "PR_SET_NO_NEW_PRIVS");
	if (m->cfg.seccomp && (r = build_filters(m, err, errlen)) < 0)
		return r;
	return 0;
}

int vmm_sandbox_finish(struct vmm_machine *m, char *err, size_t errlen)
{
	int r;

#if !defined(__SANITIZE_ADDRESS__)
	/* Not in sanitizer builds: LeakSanitizer's exit-time check clones a
	 * tracer task, which RLIMIT_NPROC 0 refuses to any uid but root. */
	if ((r = set_limit(RLIMIT_NPROC, 0)) < 0)
		return fail(err, errlen, r, "RLIMIT_NPROC");
#endif
	if (m->cfg.seccomp && (r = vmm_seccomp_load(&m->device_filter)) < 0)
		return fail(err, errlen, r, "loading the device thread's seccomp filter");
	return 0;
}

void vmm_sandbox_free(struct vmm_machine *m)
{
	free(m->device_filter.filter);
	m->device_filter.filter = NULL;
	for (unsigned i = 0; m->vcpus && i < m->nvcpus; i++) {
		struct sock_fprog *f = (struct sock_fprog *)m->vcpus[i].filter;

		if (f)
			free(f->filter);
		free(f);
		m->vcpus[i].filter = NULL;
	}
}

static void probe_out(void *opaque, uint16_t port, unsigned len, uint32_t val)
{
	/* Forbidden in every role: with seccomp on, the process ends here. */
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0)
		close(fd);
}

const struct vmm_io_ops vmm_seccomp_probe_io_ops = {
	.in = NULL,
	.out = probe_out,
};

/* test-vmm-seccomp.c - seccomp-rules.c: the filters build, stay within
 * their budgets, and do what the lists say when loaded (each case in a
 * forked child, which is killed by SIGSYS or exits 0). */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/kvm.h>
#include "sandbox.h"

/* Runs fn in a child under the filter of role; returns its wait status. */
static int run_filtered(enum vmm_seccomp_role role, const struct vmm_seccomp_params *p,
			void (*fn)(const struct vmm_seccomp_params *))
{
	struct sock_fprog prog;
	unsigned n;
	int st;
	pid_t pid;

	ck_assert_int_eq(vmm_seccomp_build(role, p, &prog, &n), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || vmm_seccomp_load(&prog) < 0)
			_exit(100);
		fn(p);
		syscall(SYS_exit_group, 0);   /* exit_group is in the device list only */
	}
	free(prog.filter);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return st;
}

static void do_socket(const struct vmm_seccomp_params *p)
{
	(void)socket(AF_INET, SOCK_STREAM, 0);
}

static void do_wake(const struct vmm_seccomp_params *p)
{
	uint64_t one = 1;

	(void)!write(p->wake_fds[0], &one, sizeof(one));
	syscall(SYS_exit, 0);   /* thread exit: in the vCPU list */
}

static void do_write_other(const struct vmm_seccomp_params *p)
{
	(void)!write(2, "", 0);   /* stderr: not a wake-up fd */
}

static void do_bad_ioctl(const struct vmm_seccomp_params *p)
{
	(void)ioctl(p->vcpu_fd, KVM_SET_REGS, NULL);   /* not one the vCPU makes */
}

static void do_run_other_fd(const struct vmm_seccomp_params *p)
{
	(void)ioctl(p->vcpu_fd + 1, KVM_RUN, 0);       /* another fd than its own */
}

static void do_new_eventfd(const struct vmm_seccomp_params *p)
{
	(void)eventfd(0, EFD_CLOEXEC);   /* eventfd2: everything is open already */
}

START_TEST(test_build)
{
	int wake[1] = { 7 };
	struct vmm_seccomp_params p = { .vcpu_fd = 5, .vm_fd = 4, .wake_fds = wake, .nwake_fds = 1 };
	struct sock_fprog prog;
	unsigned nv, nvio, nd;

	ck_assert_int_eq(vmm_seccomp_build(VMM_ROLE_VCPU, &p, &prog, &nv), 0);
	free(prog.filter);
	p.device_io = true;
	ck_assert_int_eq(vmm_seccomp_build(VMM_ROLE_VCPU, &p, &prog, &nvio), 0);
	free(prog.filter);
	ck_assert_int_eq(vmm_seccomp_build(VMM_ROLE_DEVICE, &p, &prog, &nd), 0);
	ck_assert_uint_gt(prog.len, 0);
	free(prog.filter);
	ck_assert_uint_le(nv, 30);
	ck_assert_uint_le(nvio, 30);
	ck_assert_uint_gt(nvio, nv);
	ck_assert_uint_gt(nd, nv);
}
END_TEST

START_TEST(test_load)
{
	int wake[1];
	struct vmm_seccomp_params p = { .vcpu_fd = 5, .vm_fd = 4, .wake_fds = wake, .nwake_fds = 1 };
	int st;

	wake[0] = eventfd(0, EFD_CLOEXEC);
	ck_assert_int_ge(wake[0], 0);
	st = run_filtered(VMM_ROLE_VCPU, &p, do_socket);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	st = run_filtered(VMM_ROLE_DEVICE, &p, do_socket);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	st = run_filtered(VMM_ROLE_VCPU, &p, do_wake);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = run_filtered(VMM_ROLE_VCPU, &p, do_write_other);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	st = run_filtered(VMM_ROLE_VCPU, &p, do_bad_ioctl);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	st = run_filtered(VMM_ROLE_VCPU, &p, do_run_other_fd);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	/* the device thread opens nothing either, eventfds included */
	st = run_filtered(VMM_ROLE_DEVICE, &p, do_new_eventfd);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	close(wake[0]);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vmm-seccomp");
	TCase *tc;

	tc = tcase_create("vmm_seccomp_build");
	tcase_add_test(tc, test_build);
	suite_add_tcase(s, tc);
	tc = tcase_create("vmm_seccomp_load");
	tcase_add_test(tc, test_load);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

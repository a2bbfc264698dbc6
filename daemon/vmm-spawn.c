/* vmm-spawn.c - starting `hvd vmm` processes from the daemon's binary.
 * posix_spawn (vfork + exec): the daemon's pages are not copied, and
 * nothing of its state (fds are O_CLOEXEC) reaches the VMM. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <unistd.h>
#include "vmm/sandbox.h"
#include "vmm-spawn.h"

extern char **environ;

int vmm_spawn(char *const argv[], const char *log_path, int pass_fd, pid_t *ret_pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dflt;
	pid_t pid;
	int r;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (log_path)
		posix_spawn_file_actions_addopen(&fa, 1, log_path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	else
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	if (pass_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, pass_fd, 3);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGPIPE);
	sigaddset(&dflt, SIGTERM);
	sigaddset(&dflt, SIGINT);
	sigaddset(&dflt, SIGHUP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dflt);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	r = posix_spawn(&pid, "/proc/self/exe", &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (r != 0)
		return -r;
	*ret_pid = pid;
	return 0;
}

bool vmm_spawn_user_arg(char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char pwbuf[4096];

	if (geteuid() == 0 &&
	    getpwnam_r(VMM_SANDBOX_DEFAULT_USER, &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res) {
		snprintf(buf, len, "--user=%lu:%lu", (unsigned long)pw.pw_uid, (unsigned long)pw.pw_gid);
		return true;
	}
	snprintf(buf, len, "--user=%lu:%lu", (unsigned long)geteuid(), (unsigned long)getegid());
	return false;
}

/* vmm-spawn.h - starting `hvd vmm` processes from the daemon's binary. */
#pragma once
#include <sys/types.h>

/* Spawns argv (argv[0] "hvd", argv[1] "vmm") from /proc/self/exe: the
 * daemon's own binary even after a package upgrade replaced the file, so
 * VMMs match the daemon that starts them. The process gets its own
 * session (a Ctrl-C or a signal to the daemon's group does not reach it,
 * and it outlives the daemon), default signal handling, stdin from
 * /dev/null, stdout and stderr to log_path (created, truncated; NULL:
 * /dev/null) and, when pass_fd >= 0, pass_fd as its fd 3. Returns 0 or
 * -errno. */
int vmm_spawn(char *const argv[], const char *log_path, int pass_fd, pid_t *ret_pid);

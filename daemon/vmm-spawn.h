/* vmm-spawn.h - starting `hvd vmm` processes from the daemon's binary. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
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

/* The `--user=UID:GID` word for the VMMs this daemon starts: hvd-vm's ids
 * when the daemon runs as root and that user exists, else the daemon's
 * own (the VMM then stays who it is). Looked up once here, so no VMM
 * loads NSS modules (with `passwd: files systemd`, a lookup of a missing
 * user costs a VMM about 5 ms of CPU). Returns true when VMMs drop to
 * hvd-vm, false when they run as the daemon's user. */
bool vmm_spawn_user_arg(char *buf, size_t len);

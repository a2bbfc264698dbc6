/* standby-pool.h - VMM processes waiting for a VM (`hvd vmm --standby`).
 *
 * Starting a VM through a waiting VMM skips the exec and dynamic loading
 * of hvd and opening /dev/kvm: the start or restore of a VM costs what is
 * particular to it. The pool keeps cfg.standby_vmms of them (0: none),
 * spawns a replacement after each one it hands out, and spawns again with
 * a growing delay (1 s up to 60 s) when they die unused (no /dev/kvm). */
#pragma once
#include <sys/types.h>

struct hvd;
struct standby_pool;

int standby_pool_new(struct hvd *hvd, struct standby_pool **ret);

/* Hands argv (as for vmm_spawn) and the VMM's log path to a waiting VMM,
 * which becomes that VM's process. Returns 0 with its pid (a child of
 * this daemon) and the socket the VMM was told on, which becomes a
 * connection to its control socket (the caller's to close; requests may
 * be sent at once), or -EAGAIN when none is waiting (pool NULL, empty, or
 * the one tried was gone): the caller spawns one. */
int standby_pool_assign(struct standby_pool *pool, char *const argv[], const char *log_path,
			pid_t *ret_pid, int *ret_sock);

/* cfg.standby_vmms changed: spawns the missing ones now (after a failure
 * at the next try), ends any beyond the count. */
void standby_pool_resize(struct standby_pool *pool);

/* Ends the waiting VMMs (they see their socket close and exit) and frees
 * the pool once its handles are closed. NULL is fine. */
void standby_pool_close(struct standby_pool *pool);

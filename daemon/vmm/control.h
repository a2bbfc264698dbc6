/* control.h - the VM's control socket: JSON lines over a Unix socket
 * (protocol: schemas/vmm-control.schema.json). */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

struct vmm_machine;
struct vmm_control;

#define VMM_CONTROL_MAX_LINE  (64u * 1024)
#define VMM_CONTROL_MAX_CLIENTS 16

/* Listens on path (an existing file there is replaced; mode 0600) on loop.
 * Returns 0 and *ret, or -errno / a libuv error mapped to -errno. */
int vmm_control_open(uv_loop_t *loop, const char *path, struct vmm_machine *m,
		     struct vmm_control **ret);

/* Makes the connected socket fd a client, as if it had connected (the
 * daemon's end of a standby VMM's assignment socket): the fd is the
 * control's from then on, closed on error too. Returns 0 or -errno. */
int vmm_control_adopt(struct vmm_control *ctl, int fd);

/* Sends msg (one line) to every connected client; does not take msg. */
void vmm_control_broadcast(struct vmm_control *ctl, json_t *msg);

/* Flushes and closes every client, closes the socket and, with unlink_path,
 * removes its file (a process under seccomp may not: whoever owns the
 * runtime directory does); the memory goes in the close callbacks, so the
 * loop must run afterwards. Accepts NULL. */
void vmm_control_close(struct vmm_control *ctl, bool unlink_path);

/* vmm-client.h - the daemon's side of a VMM control socket.
 *
 * JSON lines over a Unix socket (schemas/vmm-control.schema.json): each
 * request gets exactly one response, in order; events arrive between
 * responses. Every line received is size-limited and must be a JSON
 * object; anything else closes the connection. */
#pragma once
#include <jansson.h>
#include <uv.h>

struct vmmc;

/* A response (ok or not), or NULL when the connection closed before it
 * came. resp is borrowed. */
typedef void (*vmmc_reply_cb)(struct vmmc *c, json_t *resp, void *ud);

struct vmmc_ops {
	/* an event line ({"event": ...}), borrowed */
	void (*event)(struct vmmc *c, json_t *ev, void *ud);
	/* the connection is gone (EOF, error, protocol violation); the client
	 * must be freed with vmmc_free (not from inside a callback) */
	void (*closed)(struct vmmc *c, const char *why, void *ud);
	/* the connection is up (after vmmc_connect) */
	void (*connected)(struct vmmc *c, void *ud);
	/* connecting failed; err is a libuv error */
	void (*connect_failed)(struct vmmc *c, int err, void *ud);
};

/* Starts connecting to path. On success, exactly one of connected or
 * connect_failed is called later. -errno on immediate failure (no
 * callback then). */
int vmmc_connect(uv_loop_t *loop, const char *path, const struct vmmc_ops *ops, void *ud,
		 struct vmmc **ret_client);

/* A client on fd, a socket already connected to a VMM (a standby VMM's
 * assignment socket, which it takes as a control client). No connected
 * callback: requests can be sent at once. fd is the client's from then
 * on (closed on error too). Returns 0 or a libuv error. */
int vmmc_adopt(uv_loop_t *loop, int fd, const struct vmmc_ops *ops, void *ud, struct vmmc **ret_client);

/* Sends {"cmd": cmd, ...extra} (extra borrowed, may be NULL). cb gets the
 * response or NULL if the connection closes first. -errno when it cannot
 * be sent (no callback then). */
int vmmc_request(struct vmmc *c, const char *cmd, const json_t *extra, vmmc_reply_cb cb, void *ud);

/* Closes the connection; pending callbacks get NULL. Memory goes when
 * libuv has closed the handle. Safe with NULL. */
void vmmc_free(struct vmmc *c);

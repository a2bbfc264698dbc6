/* progress.h - waiting for a long-running operation, with a progress bar on a terminal. */
#ifndef HVADM_PROGRESS_H
#define HVADM_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "cmd-table.h"

/* Lays out one progress line "[#######.............]  35% message" in at most width columns
 * (message cut at a character boundary). Writes into buf and returns it. */
char *hvadm_progress_line(int percent, const char *message, size_t width, char *buf, size_t len);

/* Waits until operation op_id is no longer running, polling hvd (the wait endpoint, or plain GETs
 * every 250 ms when that is missing) and, when ctx->tty, redrawing a progress bar on stderr.
 * timeout_s 0 waits for ever. Returns HVADM_EXIT_OK with the finished operation in *ret_op
 * (whatever its status), or reports why not and returns the exit status: FAIL on timeout or error,
 * INTERRUPTED on Ctrl-C (saying the operation goes on). */
int hvadm_op_wait(struct hvadm_ctx *ctx, const char *op_id, uint64_t timeout_s, json_t **ret_op);

#endif

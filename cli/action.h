/* action.h - a request that changes something and may answer with an operation to wait for. */
#ifndef HVADM_ACTION_H
#define HVADM_ACTION_H

#include <stdbool.h>
#include <jansson.h>

#include "cmd-table.h"

struct hvadm_action {
	const char *method;
	const char *path;
	const json_t *body;	/* JSON body, or NULL */
	const char *subject;	/* prefix of error messages: the VM name, ... */
	bool no_wait;		/* on 202, print the operation id instead of waiting */
	const char *done;	/* printed in table mode on success, or NULL */
};

/* Sends the request. A 202 operation is waited for (progress bar on a terminal) unless no_wait;
 * see hvadm_op_finish for what is printed then. Any other 2xx: with -o json the body is printed,
 * else a->done. An error answer is reported. Returns the exit status. */
int hvadm_act(struct hvadm_ctx *ctx, const struct hvadm_action *a);

/* Reports a finished operation. success: with -o json the operation is printed; else the names
 * in result.vms, one a line, or done when there are none; returns OK. failure or cancelled: the
 * operation's error; returns FAIL. */
int hvadm_op_finish(struct hvadm_ctx *ctx, const char *subject, const json_t *op,
		    const char *done);

#endif

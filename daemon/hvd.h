/* hvd.h - the daemon's context: what the loop thread owns.
 *
 * There is one struct hvd per process. Everything in it is touched only by
 * the libuv loop thread, except where a member says otherwise. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"

struct store;
struct api_server;
struct events_hub;
struct ops_runtime;
struct sup;

struct hvd {
	uv_loop_t *loop;
	struct hvd_config cfg;
	struct store *store;
	struct api_server *api;
	struct events_hub *events;
	struct ops_runtime *ops;
	struct sup *sup;
	char host_id[37];
	char host_name[64];
	int64_t started_at_ms;
	bool stopping;
	uv_signal_t sig_term;
	uv_signal_t sig_int;
	uv_signal_t sig_hup;
};

/* Writes a new random (version 4) UUID into out. */
void hvd_uuid(char out[37]);
/* Random bytes from getrandom(2); -errno. */
int hvd_random(void *buf, size_t len);

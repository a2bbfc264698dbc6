/* ops.h - running long operations: work on the thread pool, state in SQLite.
 *
 * An operation is stored when it starts and updated as it goes. Its work
 * function runs on libuv's thread pool and must not touch the store; it
 * reports with ops_progress() and checks ops_cancelled(). Its done
 * function runs on the loop thread afterwards and makes the outcome
 * durable (or removes what the work half-made). */
#pragma once
#include <stdatomic.h>
#include <stdbool.h>
#include <pthread.h>
#include <uv.h>

#include "store/store.h"

struct hvd;
struct api_request;
struct ops_run;

/* Thread pool. Returns 0 or -errno; on failure it may have called
 * ops_set_error() to say why. */
typedef int (*ops_work_fn)(struct ops_run *run);
/* Loop thread, after the work. r is the work's result (-ECANCELED when
 * cancelled). Returns the final result: 0 success, -ECANCELED cancelled,
 * other -errno failure (with ops_set_error for the message), or
 * OPS_PENDING: the operation goes on (waiting for a VM to run) until its
 * owner calls ops_finish(). */
typedef int (*ops_done_fn)(struct ops_run *run, int r);
#define OPS_PENDING 1

struct ops_run {
	struct hvd *hvd;
	struct store_op op;          /* loop thread only */
	void *data;
	void (*data_free)(void *data);
	/* ---- private ---- */
	ops_work_fn work_fn;
	ops_done_fn done_fn;
	uv_work_t work;
	uv_async_t async;
	pthread_mutex_t lock;
	int w_progress;              /* under lock */
	char w_message[256];         /* under lock */
	char err_code[32];           /* under lock */
	char err_message[512];       /* under lock */
	bool w_dirty;
	int w_result;                /* the work's return value */
	atomic_bool cancel;
	bool pending;                /* done_fn said OPS_PENDING */
	void (*on_interrupt)(struct ops_run *run);  /* pending: the daemon stops */
	int64_t last_progress_event_ms;
	bool progress_unrecorded;   /* run->op's progress is newer than its row */
	struct api_request *waiters;
	struct ops_run *next;
};

int ops_runtime_new(struct hvd *hvd, struct ops_runtime **ret);
/* Cancels what runs; the runtime is freed when the last work ends. */
void ops_runtime_shutdown(struct ops_runtime *rt);
struct ops_runtime *ops_runtime_free(struct ops_runtime *rt);

/* Stores a new running operation and queues its work. request is borrowed.
 * On error nothing is stored and data_free(data) has not been called. */
int ops_start(struct hvd *hvd, const char *kind, const char *vm_id, const char *vm_name,
	      const json_t *request, ops_work_fn work, ops_done_fn done, void *data,
	      void (*data_free)(void *data), struct ops_run **ret_run);

/* Any thread: report progress (0..100) with a short message. */
void ops_progress(struct ops_run *run, int percent, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Any thread: record why the operation fails (code like the API's). */
void ops_set_error(struct ops_run *run, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool ops_cancelled(struct ops_run *run);

/* Loop thread: ends an operation whose done_fn returned OPS_PENDING, with
 * the final result as done_fn would have returned it. */
void ops_finish(struct ops_run *run, int r);

/* Loop thread. */
struct ops_run *ops_find(struct hvd *hvd, const char *id);
struct ops_run *ops_find_vm(struct hvd *hvd, const char *vm_id);
void ops_cancel(struct ops_run *run);
void ops_add_waiter(struct ops_run *run, struct api_request *req);
void ops_remove_waiter(struct ops_run *run, struct api_request *req);
/* JSON of an operation as the API shows it. */
json_t *ops_to_json(const struct store_op *op);

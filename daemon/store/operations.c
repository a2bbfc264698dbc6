/* operations.c - the operations table: long-running work and its outcome.
 *
 * An operation row is written when the work starts, updated as it makes
 * progress and finished exactly once. Rows still 'running' when the daemon
 * starts belonged to a daemon that died: store_op_fail_running closes them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-internal.h"

void store_op_clear(struct store_op *op)
{
	if (!op)
		return;
	json_decref(op->error);
	json_decref(op->result);
	json_decref(op->request);
	memset(op, 0, sizeof(*op));
}

static void bind_json(sqlite3_stmt *st, int col, const json_t *j)
{
	char *text;

	if (!j) {
		sqlite3_bind_null(st, col);
		return;
	}
	text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	if (text)
		sqlite3_bind_text(st, col, text, -1, free);
	else
		sqlite3_bind_null(st, col);
}

static json_t *column_json(sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);

	return t ? json_loads(t, JSON_DECODE_ANY, NULL) : NULL;
}

int store_op_insert(struct store *s, const struct store_op *op)
{
	sqlite3_stmt *st;

	if (store_stmt(s, "INSERT INTO operations (id, kind, vm_id, vm_name, status, progress, message,"
		       " error, result, request, created_at, updated_at, finished_at)"
		       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, op->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op->vm_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, op->vm_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, op->status, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, op->progress);
	sqlite3_bind_text(st, 7, op->message, -1, SQLITE_STATIC);
	bind_json(st, 8, op->error);
	bind_json(st, 9, op->result);
	bind_json(st, 10, op->request);
	sqlite3_bind_int64(st, 11, op->created_at);
	sqlite3_bind_int64(st, 12, op->updated_at);
	if (op->finished_at)
		sqlite3_bind_int64(st, 13, op->finished_at);
	else
		sqlite3_bind_null(st, 13);
	return store_step_done(st);
}

int store_op_update(struct store *s, const struct store_op *op)
{
	sqlite3_stmt *st;
	int r;

	if (store_stmt(s, "UPDATE operations SET status = ?2, progress = ?3, message = ?4, error = ?5,"
		       " result = ?6, updated_at = ?7, finished_at = ?8 WHERE id = ?1", &st) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, op->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->status, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, op->progress);
	sqlite3_bind_text(st, 4, op->message, -1, SQLITE_STATIC);
	bind_json(st, 5, op->error);
	bind_json(st, 6, op->result);
	sqlite3_bind_int64(st, 7, op->updated_at);
	if (op->finished_at)
		sqlite3_bind_int64(st, 8, op->finished_at);
	else
		sqlite3_bind_null(st, 8);
	r = store_step_done(st);
	if (r == 0 && sqlite3_changes(s->db) == 0)
		r = -ENOENT;
	return r;
}

#define OP_COLUMNS "id, kind, vm_id, vm_name, status, progress, message, error, result, request," \
	" created_at, updated_at, coalesce(finished_at, 0)"

static void read_op(sqlite3_stmt *st, struct store_op *op)
{
	memset(op, 0, sizeof(*op));
	store_copy_text(op->id, sizeof(op->id), st, 0);
	store_copy_text(op->kind, sizeof(op->kind), st, 1);
	store_copy_text(op->vm_id, sizeof(op->vm_id), st, 2);
	store_copy_text(op->vm_name, sizeof(op->vm_name), st, 3);
	store_copy_text(op->status, sizeof(op->status), st, 4);
	op->progress = sqlite3_column_int(st, 5);
	store_copy_text(op->message, sizeof(op->message), st, 6);
	op->error = column_json(st, 7);
	op->result = column_json(st, 8);
	op->request = column_json(st, 9);
	op->created_at = sqlite3_column_int64(st, 10);
	op->updated_at = sqlite3_column_int64(st, 11);
	op->finished_at = sqlite3_column_int64(st, 12);
}

int store_op_get(struct store *s, const char *id, struct store_op *ret_op)
{
	sqlite3_stmt *st;
	int rc;

	if (store_stmt(s, "SELECT " OP_COLUMNS " FROM operations WHERE id = ?", &st) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_op(st, ret_op);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int store_op_list(struct store *s, const char *status, int limit,
		  int (*cb)(const struct store_op *op, void *ud), void *ud)
{
	sqlite3_stmt *st;
	int rc, r = 0;

	if (store_stmt(s, "SELECT " OP_COLUMNS " FROM operations WHERE (?1 IS NULL OR status = ?1)"
		       " ORDER BY created_at DESC, rowid DESC LIMIT ?2", &st) < 0)
		return -EIO;
	if (status)
		sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_op op;

		read_op(st, &op);
		r = cb(&op, ud);
		store_op_clear(&op);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r >= 0 && rc != SQLITE_DONE)
		r = -EIO;
	return r;
}

int store_op_fail_running(struct store *s, const char *reason)
{
	int64_t now = store_now_ms();
	sqlite3_stmt *st;
	json_t *err;
	int r;

	err = json_pack("{s:s, s:s}", "code", "interrupted", "message", reason);
	if (!err)
		return -ENOMEM;
	if (store_stmt(s, "UPDATE operations SET status = 'failure', error = ?1, message = ?2,"
		       " updated_at = ?3, finished_at = ?3 WHERE status = 'running'", &st) < 0) {
		json_decref(err);
		return -EIO;
	}
	bind_json(st, 1, err);
	sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	json_decref(err);
	r = store_step_done(st);
	return r < 0 ? r : sqlite3_changes(s->db);
}

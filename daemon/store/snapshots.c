/* snapshots.c - the snapshots table. A row in state 'creating' reserves
 * the name while the files are written; it becomes 'ready' when they are
 * complete. Rows still 'creating' at start-up are a daemon's unfinished
 * work: the caller removes them with their files. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-internal.h"

void store_snapshot_clear(struct store_snapshot *snap)
{
	if (!snap)
		return;
	json_decref(snap->definition);
	memset(snap, 0, sizeof(*snap));
}

int store_snapshot_insert(struct store *s, const struct store_snapshot *snap)
{
	sqlite3_stmt *st;
	char *def = snap->definition ? json_dumps(snap->definition, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	if (store_stmt(s, "INSERT INTO snapshots (id, vm_id, name, memory, path, created_at, state,"
		       " definition, vm_state, size_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st) < 0) {
		free(def);
		return -EIO;
	}
	sqlite3_bind_text(st, 1, snap->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, snap->vm_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, snap->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, snap->memory);
	sqlite3_bind_text(st, 5, snap->path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, snap->created_at);
	sqlite3_bind_text(st, 7, snap->state[0] ? snap->state : "creating", -1, SQLITE_STATIC);
	if (def)
		sqlite3_bind_text(st, 8, def, -1, free);
	else
		sqlite3_bind_null(st, 8);
	sqlite3_bind_text(st, 9, snap->vm_state[0] ? snap->vm_state : "stopped", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, snap->size_bytes);
	return store_step_done(st);
}

#define SNAP_COLUMNS "id, vm_id, name, memory, path, created_at, state, definition, vm_state, size_bytes"

static void read_snap(sqlite3_stmt *st, struct store_snapshot *snap)
{
	const char *def;

	memset(snap, 0, sizeof(*snap));
	store_copy_text(snap->id, sizeof(snap->id), st, 0);
	store_copy_text(snap->vm_id, sizeof(snap->vm_id), st, 1);
	store_copy_text(snap->name, sizeof(snap->name), st, 2);
	snap->memory = sqlite3_column_int(st, 3);
	store_copy_text(snap->path, sizeof(snap->path), st, 4);
	snap->created_at = sqlite3_column_int64(st, 5);
	store_copy_text(snap->state, sizeof(snap->state), st, 6);
	def = (const char *)sqlite3_column_text(st, 7);
	snap->definition = def ? json_loads(def, 0, NULL) : NULL;
	store_copy_text(snap->vm_state, sizeof(snap->vm_state), st, 8);
	snap->size_bytes = sqlite3_column_int64(st, 9);
}

int store_snapshot_get(struct store *s, const char *vm_id, const char *name_or_id,
		       struct store_snapshot *ret_snap)
{
	sqlite3_stmt *st;
	int rc;

	if (store_stmt(s, "SELECT " SNAP_COLUMNS " FROM snapshots WHERE vm_id = ?1 AND (name = ?2 OR id = ?2)",
		       &st) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, vm_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name_or_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_snap(st, ret_snap);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int store_snapshot_list(struct store *s, const char *vm_id, const char *state,
			int (*cb)(const struct store_snapshot *snap, void *ud), void *ud)
{
	sqlite3_stmt *st;
	int rc, r = 0;

	if (store_stmt(s, "SELECT " SNAP_COLUMNS " FROM snapshots WHERE (?1 IS NULL OR vm_id = ?1)"
		       " AND (?2 IS NULL OR state = ?2) ORDER BY created_at, name", &st) < 0)
		return -EIO;
	if (vm_id)
		sqlite3_bind_text(st, 1, vm_id, -1, SQLITE_STATIC);
	if (state)
		sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_snapshot snap;

		read_snap(st, &snap);
		r = cb(&snap, ud);
		store_snapshot_clear(&snap);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r >= 0 && rc != SQLITE_DONE)
		r = -EIO;
	return r;
}

int store_snapshot_set_ready(struct store *s, const char *id, int64_t size_bytes)
{
	sqlite3_stmt *st;
	int r;

	if (store_stmt(s, "UPDATE snapshots SET state = 'ready', size_bytes = ? WHERE id = ?", &st) < 0)
		return -EIO;
	sqlite3_bind_int64(st, 1, size_bytes);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	r = store_step_done(st);
	if (r == 0 && sqlite3_changes(s->db) == 0)
		r = -ENOENT;
	return r;
}

int store_snapshot_delete(struct store *s, const char *id)
{
	sqlite3_stmt *st;
	int r;

	if (store_stmt(s, "DELETE FROM snapshots WHERE id = ?", &st) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	r = store_step_done(st);
	if (r == 0 && sqlite3_changes(s->db) == 0)
		r = -ENOENT;
	return r;
}

/* events.c - the bounded backlog of events for Last-Event-ID replay.
 *
 * Event ids come from an AUTOINCREMENT key, so they never go backwards,
 * even after the oldest rows are trimmed away. */
#include <errno.h>
#include <stdlib.h>

#include "store/store-internal.h"

int store_event_append(struct store *s, const char *type, int64_t time_ms, const json_t *data,
		       int64_t *ret_id)
{
	sqlite3_stmt *st;
	char *text;
	int r;

	text = json_dumps(data, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	if (store_stmt(s, "INSERT INTO events (type, time, data) VALUES (?, ?, ?)", &st) < 0) {
		free(text);
		return -EIO;
	}
	sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, time_ms);
	sqlite3_bind_text(st, 3, text, -1, free);
	r = store_step_done(st);
	if (r == 0)
		*ret_id = sqlite3_last_insert_rowid(s->db);
	return r;
}

int store_event_since(struct store *s, int64_t after_id, int limit,
		      int (*cb)(int64_t id, const char *type, int64_t time_ms, const char *data, void *ud),
		      void *ud)
{
	sqlite3_stmt *st;
	int rc, r = 0;

	if (store_stmt(s, "SELECT id, type, time, data FROM events WHERE id > ? ORDER BY id LIMIT ?", &st) < 0)
		return -EIO;
	sqlite3_bind_int64(st, 1, after_id);
	sqlite3_bind_int(st, 2, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = cb(sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
		       sqlite3_column_int64(st, 2), (const char *)sqlite3_column_text(st, 3), ud);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r >= 0 && rc != SQLITE_DONE)
		r = -EIO;
	return r;
}

int store_event_trim(struct store *s, unsigned keep)
{
	sqlite3_stmt *st;

	if (store_stmt(s, "DELETE FROM events WHERE id <= (SELECT max(id) FROM events) - ?", &st) < 0)
		return -EIO;
	sqlite3_bind_int64(st, 1, keep);
	return store_step_done(st);
}

int64_t store_event_last_id(struct store *s)
{
	sqlite3_stmt *st;
	int64_t id = 0;

	if (store_stmt(s, "SELECT coalesce(max(id), 0) FROM events", &st) < 0)
		return -EIO;
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

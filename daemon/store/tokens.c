/* tokens.c - API bearer tokens, stored as SHA-256 hashes of their secrets. */
#include <errno.h>
#include <string.h>

#include "store/store-internal.h"

int store_token_insert(struct store *s, const struct store_token *t)
{
	sqlite3_stmt *st;

	if (store_stmt(s, "INSERT INTO tokens (id, name, role, hash, created_at) VALUES (?, ?, ?, ?, ?)", &st) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, t->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, t->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, t->role, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, t->hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, t->created_at);
	return store_step_done(st);
}

static int get_one(struct store *s, const char *sql, const char *key, struct store_token *ret)
{
	sqlite3_stmt *st;
	int rc;

	if (store_stmt(s, sql, &st) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(ret, 0, sizeof(*ret));
		store_copy_text(ret->id, sizeof(ret->id), st, 0);
		store_copy_text(ret->name, sizeof(ret->name), st, 1);
		store_copy_text(ret->role, sizeof(ret->role), st, 2);
		store_copy_text(ret->hash, sizeof(ret->hash), st, 3);
		ret->created_at = sqlite3_column_int64(st, 4);
		ret->last_used_at = sqlite3_column_int64(st, 5);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

#define TOKEN_COLUMNS "SELECT id, name, role, hash, created_at, last_used_at FROM tokens"

int store_token_find_hash(struct store *s, const char *hash, struct store_token *ret_token)
{
	return get_one(s, TOKEN_COLUMNS " WHERE hash = ?1", hash, ret_token);
}

int store_token_get(struct store *s, const char *name_or_id, struct store_token *ret_token)
{
	return get_one(s, TOKEN_COLUMNS " WHERE id = ?1 OR name = ?1", name_or_id, ret_token);
}

int store_token_list(struct store *s, int (*cb)(const struct store_token *t, void *ud), void *ud)
{
	sqlite3_stmt *st;
	int rc, r = 0;

	if (store_stmt(s, TOKEN_COLUMNS " ORDER BY name", &st) < 0)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_token t;

		memset(&t, 0, sizeof(t));
		store_copy_text(t.id, sizeof(t.id), st, 0);
		store_copy_text(t.name, sizeof(t.name), st, 1);
		store_copy_text(t.role, sizeof(t.role), st, 2);
		store_copy_text(t.hash, sizeof(t.hash), st, 3);
		t.created_at = sqlite3_column_int64(st, 4);
		t.last_used_at = sqlite3_column_int64(st, 5);
		r = cb(&t, ud);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r >= 0 && rc != SQLITE_DONE)
		r = -EIO;
	return r;
}

int store_token_touch(struct store *s, const char *id, int64_t when_ms)
{
	sqlite3_stmt *st;

	if (store_stmt(s, "UPDATE tokens SET last_used_at = ? WHERE id = ?", &st) < 0)
		return -EIO;
	sqlite3_bind_int64(st, 1, when_ms);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	return store_step_done(st);
}

int store_token_delete(struct store *s, const char *id)
{
	sqlite3_stmt *st;
	int r;

	if (store_stmt(s, "DELETE FROM tokens WHERE id = ?", &st) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	r = store_step_done(st);
	if (r == 0 && sqlite3_changes(s->db) == 0)
		r = -ENOENT;
	return r;
}

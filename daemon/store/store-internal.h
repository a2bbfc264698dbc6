/* store-internal.h - what the store's files share and nobody else sees. */
#pragma once
#include <stddef.h>
#include "store/store.h"

struct store {
	sqlite3 *db;
};

/* Prepares sql on s; -EIO. */
int store_stmt(struct store *s, const char *sql, sqlite3_stmt **ret_st);
/* Steps a statement that returns no rows and finalizes it. Maps SQLite
 * errors: unique/primary key -> -EEXIST, other constraints -> -EINVAL,
 * full -> -ENOSPC, busy -> -EBUSY, else -EIO. */
int store_step_done(sqlite3_stmt *st);
/* Copies column col (text or NULL) into dst, truncating. */
void store_copy_text(char *dst, size_t len, sqlite3_stmt *st, int col);

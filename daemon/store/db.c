/* db.c - opening the SQLite database, pragmas, schema migrations, transactions.
 *
 * The schema is a list of forward migrations; PRAGMA user_version records
 * how many have been applied. Each migration runs in its own transaction
 * together with the user_version bump, so a crash leaves the database at
 * one version or the next, never between. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store-internal.h"

static const char *const migrations[STORE_SCHEMA_VERSION] = {
	/* 1: the base tables */
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE hosts ("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  url TEXT NOT NULL DEFAULT '',"
	"  local INTEGER NOT NULL DEFAULT 0 CHECK (local IN (0, 1)),"
	"  state TEXT NOT NULL DEFAULT 'up',"
	"  cap_vcpus INTEGER NOT NULL CHECK (cap_vcpus >= 0),"
	"  cap_memory_mib INTEGER NOT NULL CHECK (cap_memory_mib >= 0),"
	"  cpu_overcommit REAL NOT NULL DEFAULT 4.0 CHECK (cpu_overcommit > 0),"
	"  memory_overcommit REAL NOT NULL DEFAULT 1.0 CHECK (memory_overcommit > 0),"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE vms ("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  definition TEXT NOT NULL CHECK (json_valid(definition)),"
	"  vcpus INTEGER NOT NULL CHECK (vcpus >= 1),"
	"  memory_mib INTEGER NOT NULL CHECK (memory_mib >= 16),"
	"  state TEXT NOT NULL DEFAULT 'stopped' CHECK (state IN ('stopped', 'starting',"
	"    'running', 'paused', 'stopping', 'crashed', 'migrating')),"
	"  desired_state TEXT NOT NULL DEFAULT 'stopped',"
	"  state_reason TEXT NOT NULL DEFAULT '',"
	"  host_id TEXT REFERENCES hosts(id),"
	"  generation INTEGER NOT NULL DEFAULT 1,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE TABLE disks ("
	"  vm_id TEXT NOT NULL REFERENCES vms(id) ON DELETE CASCADE,"
	"  disk_id TEXT NOT NULL,"
	"  path TEXT NOT NULL,"
	"  readonly INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (vm_id, disk_id));"
	"CREATE TABLE nics ("
	"  vm_id TEXT NOT NULL REFERENCES vms(id) ON DELETE CASCADE,"
	"  nic_id TEXT NOT NULL,"
	"  mac TEXT NOT NULL UNIQUE,"
	"  network TEXT,"
	"  tap TEXT,"
	"  PRIMARY KEY (vm_id, nic_id));"
	"CREATE TABLE allocations ("
	"  vm_id TEXT PRIMARY KEY REFERENCES vms(id) ON DELETE CASCADE,"
	"  host_id TEXT NOT NULL REFERENCES hosts(id),"
	"  vcpus INTEGER NOT NULL CHECK (vcpus >= 0),"
	"  memory_mib INTEGER NOT NULL CHECK (memory_mib >= 0));"
	"CREATE TABLE operations ("
	"  id TEXT PRIMARY KEY,"
	"  kind TEXT NOT NULL,"
	"  vm_id TEXT NOT NULL DEFAULT '',"
	"  vm_name TEXT NOT NULL DEFAULT '',"
	"  status TEXT NOT NULL CHECK (status IN ('running', 'success', 'failure', 'cancelled')),"
	"  progress INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),"
	"  message TEXT NOT NULL DEFAULT '',"
	"  error TEXT,"
	"  result TEXT,"
	"  request TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  finished_at INTEGER);"
	"CREATE TABLE snapshots ("
	"  id TEXT PRIMARY KEY,"
	"  vm_id TEXT NOT NULL REFERENCES vms(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL,"
	"  memory INTEGER NOT NULL DEFAULT 0,"
	"  path TEXT NOT NULL DEFAULT '',"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE (vm_id, name));",

	/* 2: API tokens and the event backlog */
	"CREATE TABLE tokens ("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  role TEXT NOT NULL CHECK (role IN ('admin', 'read-only')),"
	"  hash TEXT NOT NULL UNIQUE,"
	"  created_at INTEGER NOT NULL,"
	"  last_used_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  type TEXT NOT NULL,"
	"  time INTEGER NOT NULL,"
	"  data TEXT NOT NULL);",

	/* 3: crash policy and autostart as columns (the supervisor queries
	 * them at start-up), backfilled from the stored definitions */
	"ALTER TABLE vms ADD COLUMN on_crash TEXT NOT NULL DEFAULT 'stop'"
	"  CHECK (on_crash IN ('stop', 'restart'));"
	"ALTER TABLE vms ADD COLUMN autostart INTEGER NOT NULL DEFAULT 0;"
	"UPDATE vms SET"
	"  on_crash = coalesce(json_extract(definition, '$.on_crash'), 'stop'),"
	"  autostart = coalesce(json_extract(definition, '$.autostart'), 0);"
	"CREATE INDEX operations_status ON operations(status, created_at);"
	"CREATE INDEX allocations_host ON allocations(host_id);",

	/* 4: snapshots being made are visible (and cleaned up after a crash);
	 * a snapshot keeps the definition and state of its VM */
	"ALTER TABLE snapshots ADD COLUMN state TEXT NOT NULL DEFAULT 'ready'"
	"  CHECK (state IN ('creating', 'ready'));"
	"ALTER TABLE snapshots ADD COLUMN definition TEXT;"
	"ALTER TABLE snapshots ADD COLUMN vm_state TEXT NOT NULL DEFAULT 'stopped';"
	"ALTER TABLE snapshots ADD COLUMN size_bytes INTEGER NOT NULL DEFAULT 0;",
};

int store_user_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = -EIO;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

int store_migrate(sqlite3 *db, int target)
{
	int v = store_user_version(db);

	if (v < 0)
		return v;
	if (v > STORE_SCHEMA_VERSION)
		return -EPROTO;
	if (target < 0 || target > STORE_SCHEMA_VERSION)
		return -EINVAL;
	while (v < target) {
		char bump[64];

		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
			return -EIO;
		snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", v + 1);
		if (sqlite3_exec(db, migrations[v], NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(db, bump, NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -EIO;
		}
		v++;
	}
	return 0;
}

int store_open(const char *path, struct store **ret_store)
{
	struct store *s;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		r = -EIO;
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	sqlite3_extended_result_codes(s->db, 1);
	if (sqlite3_exec(s->db,
			 "PRAGMA journal_mode = WAL;"
			 "PRAGMA synchronous = FULL;"
			 "PRAGMA foreign_keys = ON;",
			 NULL, NULL, NULL) != SQLITE_OK) {
		r = -EIO;
		goto fail;
	}
	r = store_migrate(s->db, STORE_SCHEMA_VERSION);
	if (r < 0)
		goto fail;
	*ret_store = s;
	return 0;
fail:
	store_close(s);
	return r;
}

struct store *store_close(struct store *s)
{
	if (!s)
		return NULL;
	if (s->db)
		sqlite3_close_v2(s->db);
	free(s);
	return NULL;
}

sqlite3 *store_db(struct store *s)
{
	return s->db;
}

const char *store_errmsg(struct store *s)
{
	return sqlite3_errmsg(s->db);
}

int store_begin(struct store *s)
{
	return sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

/* Whether a transaction is open (store_begin without its commit yet). */
static bool store_in_transaction(struct store *s)
{
	return !sqlite3_get_autocommit(s->db);
}

bool store_begin_unless_open(struct store *s)
{
	return !store_in_transaction(s) && store_begin(s) == 0;
}

int store_commit(struct store *s)
{
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -EIO;
	}
	return 0;
}

void store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int64_t store_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void store_format_time(int64_t ms, char buf[32])
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;

	size_t n;

	if (ms < 0)
		ms = 0;
	sec = (time_t)(ms / 1000);
	gmtime_r(&sec, &tm);
	n = strftime(buf, 24, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, 32 - n, ".%03uZ", (unsigned)(ms % 1000));
}

int store_stmt(struct store *s, const char *sql, sqlite3_stmt **ret_st)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, ret_st, NULL) != SQLITE_OK)
		return -EIO;
	return 0;
}

int store_step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return -EEXIST;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return -EINVAL;
	if ((rc & 0xff) == SQLITE_FULL)
		return -ENOSPC;
	if ((rc & 0xff) == SQLITE_BUSY)
		return -EBUSY;
	return -EIO;
}

void store_copy_text(char *dst, size_t len, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(dst, len, "%s", t ? (const char *)t : "");
}

int store_meta_get(struct store *s, const char *key, char *buf, size_t buflen)
{
	sqlite3_stmt *st;
	int r = -ENOENT;

	if (store_stmt(s, "SELECT value FROM meta WHERE key = ?", &st) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		store_copy_text(buf, buflen, st, 0);
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

int store_meta_set(struct store *s, const char *key, const char *value)
{
	sqlite3_stmt *st;

	if (store_stmt(s, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", &st) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	return store_step_done(st);
}

/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of daemon/store/: the database file's settings (WAL,
 * synchronous=FULL, foreign keys, busy timeout); migrations from every
 * earlier schema version with representative rows, and refusal of a newer
 * one; the constraints users meet through the API (duplicate names and
 * MACs, stale generations, cascading deletes, busy hosts), each failed
 * write leaving nothing behind; operations interrupted by a restart;
 * the event backlog's ids; tokens by hash; and writers SIGKILLed in the
 * middle of a transaction, after which a fresh open sees exactly the
 * committed rows and an intact database. One TCase per public function
 * (store_begin/commit/rollback share the transaction ones).
 */

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

/* base: one directory per run, made and removed by main(); dir: one per
 * test inside it. */
static char base[64];
static char dir[128];
static char db_path[PATH_MAX];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Removes path and what is under it, also what failed tests left (their
 * teardown does not run). */
static void rm_rf(const char *path)
{
	if (path[0])
		nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s/t-XXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(db_path, sizeof(db_path), "%s/hvd.db", dir);
}

static void teardown(void)
{
	rm_rf(dir);
}

static struct store *open_store(void)
{
	struct store *s = NULL;
	int r = store_open(db_path, &s);

	ck_assert_msg(r == 0, "store_open: %d", r);
	ck_assert_ptr_nonnull(s);
	return s;
}

/* ---- raw SQL helpers ---- */

/* The first column of the first row of sql as an integer. */
static int64_t sql_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v;

	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
		      sqlite3_errmsg(db));
	ck_assert_msg(sqlite3_step(st) == SQLITE_ROW, "%s: no row", sql);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* The first column of the first row of sql as text, in buf. */
static const char *sql_text(sqlite3 *db, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *st;
	const unsigned char *t;

	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
		      sqlite3_errmsg(db));
	ck_assert_msg(sqlite3_step(st) == SQLITE_ROW, "%s: no row", sql);
	t = sqlite3_column_text(st, 0);
	snprintf(buf, len, "%s", t ? (const char *)t : "(null)");
	sqlite3_finalize(st);
	return buf;
}

static void sql_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql,
		      msg ? msg : "?");
}

static int64_t count(struct store *s, const char *sql)
{
	return sql_int(store_db(s), sql);
}

static void assert_integrity(sqlite3 *db)
{
	char buf[256];

	ck_assert_str_eq(sql_text(db, "PRAGMA integrity_check", buf, sizeof(buf)), "ok");
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
}

/* ---- VM helpers ---- */

static void vm_id(char id[37], unsigned n)
{
	snprintf(id, 37, "00000000-0000-4000-8000-%012u", n);
}

/* A definition with one disk and the given NIC MACs (NULL-terminated). */
static json_t *vm_def(const char *name, int vcpus, int memory_mib, const char *const *macs)
{
	json_t *nics = json_array();
	char nic_id[16];

	for (int i = 0; macs && macs[i]; i++) {
		snprintf(nic_id, sizeof(nic_id), "net%d", i);
		json_array_append_new(nics, json_pack("{s:s, s:s, s:s}", "id", nic_id, "mac", macs[i],
						      "network", "br0"));
	}
	return json_pack("{s:s, s:i, s:i, s:{s:s, s:s}, s:[{s:s, s:s, s:b}], s:o, s:{s:s}}",
			 "name", name, "vcpus", vcpus, "memory_mib", memory_mib,
			 "boot", "kernel", "/img/vmlinuz", "cmdline", "console=ttyS0",
			 "disks", "id", "root", "path", "/var/lib/hvd/disks/x.img", "readonly", 0,
			 "nics", nics, "labels", "role", "web");
}

static void make_vm(struct store_vm *vm, unsigned n, const char *name, json_t *def)
{
	memset(vm, 0, sizeof(*vm));
	vm_id(vm->id, n);
	snprintf(vm->name, sizeof(vm->name), "%s", name);
	vm->definition = def;
	vm->created_at = vm->updated_at = 1700000000000 + n;
}

/* Inserts a VM with one disk and NICs with macs; returns its number. */
static int insert_vm(struct store *s, unsigned n, const char *name, const char *const *macs)
{
	struct store_vm vm;
	int r;

	make_vm(&vm, n, name, vm_def(name, 2, 1024, macs));
	r = store_vm_insert(s, &vm);
	store_vm_clear(&vm);
	return r;
}

#define MACS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static int64_t rows_of(struct store *s, const char *table, unsigned n)
{
	char sql[160], id[37];

	vm_id(id, n);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE vm_id = '%s'", table, id);
	return count(s, sql);
}

static void put_host(struct store *s, const char *id, const char *name)
{
	struct store_host h = {
		.local = true, .cap_vcpus = 16, .cap_memory_mib = 65536,
		.cpu_overcommit = 4.0, .memory_overcommit = 1.0, .created_at = 1,
	};

	snprintf(h.id, sizeof(h.id), "%s", id);
	snprintf(h.name, sizeof(h.name), "%s", name);
	ck_assert_int_eq(store_host_put(s, &h), 0);
}

/* ---- store_open ---- */

START_TEST(test_open_creates_wal_database)
{
	struct store *s = open_store();
	sqlite3 *db = store_db(s);
	char buf[32];
	struct stat st;

	ck_assert_str_eq(sql_text(db, "PRAGMA journal_mode", buf, sizeof(buf)), "wal");
	ck_assert_int_eq(sql_int(db, "PRAGMA synchronous"), 2); /* FULL */
	ck_assert_int_eq(sql_int(db, "PRAGMA foreign_keys"), 1);
	ck_assert_int_gt(sql_int(db, "PRAGMA busy_timeout"), 0);
	ck_assert_int_eq(store_user_version(db), STORE_SCHEMA_VERSION);
	/* every table of the design exists */
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND"
				 " name IN ('vms', 'disks', 'nics', 'snapshots', 'operations', 'hosts',"
				 " 'allocations', 'tokens', 'events', 'meta')"), 10);
	store_close(s);
	/* WAL is a property of the file: a plain connection sees it too */
	ck_assert_int_eq(stat(db_path, &st), 0);
	{
		sqlite3 *raw;

		ck_assert_int_eq(sqlite3_open(db_path, &raw), SQLITE_OK);
		ck_assert_str_eq(sql_text(raw, "PRAGMA journal_mode", buf, sizeof(buf)), "wal");
		sqlite3_close(raw);
	}
}
END_TEST

START_TEST(test_open_reopen_keeps_data)
{
	struct store *s = open_store();
	struct store_vm vm;

	ck_assert_int_eq(insert_vm(s, 1, "web01", MACS("52:54:00:00:00:01")), 0);
	ck_assert_int_eq(store_meta_set(s, "host_id", "h-1"), 0);
	store_close(s);
	s = open_store();
	ck_assert_int_eq(store_vm_get(s, "web01", &vm), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(vm.definition, "vcpus")), 2);
	store_vm_clear(&vm);
	ck_assert_int_eq(store_user_version(store_db(s)), STORE_SCHEMA_VERSION);
	store_close(s);
}
END_TEST

/* A database written by a newer hvd is refused and left as it was. */
START_TEST(test_open_refuses_newer_schema)
{
	struct store *s = (struct store *)0x1;
	sqlite3 *raw;
	char sql[64];

	ck_assert_int_eq(sqlite3_open(db_path, &raw), SQLITE_OK);
	ck_assert_int_eq(store_migrate(raw, STORE_SCHEMA_VERSION), 0);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", STORE_SCHEMA_VERSION + 1);
	sql_exec(raw, sql);
	sql_exec(raw, "CREATE TABLE from_the_future (x)");
	sqlite3_close(raw);

	ck_assert_int_eq(store_open(db_path, &s), -EPROTO);
	ck_assert_ptr_eq(s, (struct store *)0x1); /* not written on failure */

	ck_assert_int_eq(sqlite3_open(db_path, &raw), SQLITE_OK);
	ck_assert_int_eq(store_user_version(raw), STORE_SCHEMA_VERSION + 1);
	ck_assert_int_eq(sql_int(raw, "SELECT count(*) FROM from_the_future"), 0);
	/* store_migrate refuses it the same way */
	ck_assert_int_eq(store_migrate(raw, STORE_SCHEMA_VERSION), -EPROTO);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", 1000);
	sql_exec(raw, sql);
	sqlite3_close(raw);
	ck_assert_int_eq(store_open(db_path, &s), -EPROTO);
}
END_TEST

START_TEST(test_open_bad_paths)
{
	struct store *s = NULL;
	char p[PATH_MAX + 32];
	int fd;

	snprintf(p, sizeof(p), "%s/missing/hvd.db", dir);
	ck_assert_int_lt(store_open(p, &s), 0);
	ck_assert_ptr_null(s);
	/* a file that is not a database */
	fd = open(db_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	{
		char junk[512];

		memset(junk, '.', sizeof(junk));
		memcpy(junk, "this is not an SQLite database", 30);
		ck_assert_int_eq(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	}
	close(fd);
	ck_assert_int_lt(store_open(db_path, &s), 0);
	ck_assert_ptr_null(s);
	ck_assert_ptr_null(store_close(NULL));
}
END_TEST

/* ---- store_migrate ---- */

/* Rows a database of version v could hold, written with plain SQL as the
 * hvd of that version did. */
static void fill_version(sqlite3 *db, int v)
{
	if (v >= 1) {
		sql_exec(db, "INSERT INTO meta (key, value) VALUES ('host_id', 'h-local')");
		sql_exec(db, "INSERT INTO hosts (id, name, local, cap_vcpus, cap_memory_mib, created_at)"
			     " VALUES ('h-local', 'node1', 1, 16, 65536, 1)");
		/* restart + autostart in the definition only (no columns yet) */
		sql_exec(db, "INSERT INTO vms (id, name, definition, vcpus, memory_mib, state,"
			     " desired_state, host_id, generation, created_at, updated_at) VALUES"
			     " ('vm-a', 'alpha', '{\"name\":\"alpha\",\"vcpus\":2,\"memory_mib\":512,"
			     "\"on_crash\":\"restart\",\"autostart\":true,"
			     "\"disks\":[{\"id\":\"root\",\"path\":\"/d/a.img\",\"readonly\":false}],"
			     "\"nics\":[{\"id\":\"net0\",\"mac\":\"52:54:00:00:00:0a\",\"network\":\"br0\"}]}',"
			     " 2, 512, 'running', 'running', 'h-local', 7, 10, 20)");
		/* neither key: the defaults */
		sql_exec(db, "INSERT INTO vms (id, name, definition, vcpus, memory_mib, created_at,"
			     " updated_at) VALUES ('vm-b', 'bravo', '{\"name\":\"bravo\",\"vcpus\":1,"
			     "\"memory_mib\":256}', 1, 256, 11, 11)");
		/* explicit stop / false */
		sql_exec(db, "INSERT INTO vms (id, name, definition, vcpus, memory_mib, created_at,"
			     " updated_at) VALUES ('vm-c', 'charlie', '{\"name\":\"charlie\",\"vcpus\":4,"
			     "\"memory_mib\":1024,\"on_crash\":\"stop\",\"autostart\":false}', 4, 1024, 12, 12)");
		/* only autostart */
		sql_exec(db, "INSERT INTO vms (id, name, definition, vcpus, memory_mib, created_at,"
			     " updated_at) VALUES ('vm-d', 'delta', '{\"name\":\"delta\",\"vcpus\":1,"
			     "\"memory_mib\":128,\"autostart\":true}', 1, 128, 13, 13)");
		sql_exec(db, "INSERT INTO disks (vm_id, disk_id, path, readonly) VALUES"
			     " ('vm-a', 'root', '/d/a.img', 0)");
		sql_exec(db, "INSERT INTO nics (vm_id, nic_id, mac, network) VALUES"
			     " ('vm-a', 'net0', '52:54:00:00:00:0a', 'br0')");
		sql_exec(db, "INSERT INTO allocations (vm_id, host_id, vcpus, memory_mib) VALUES"
			     " ('vm-a', 'h-local', 2, 512), ('vm-c', 'h-local', 4, 1024)");
		sql_exec(db, "INSERT INTO snapshots (id, vm_id, name, created_at) VALUES"
			     " ('snap-1', 'vm-a', 'before-upgrade', 30)");
		sql_exec(db, "INSERT INTO operations (id, kind, vm_id, vm_name, status, progress,"
			     " created_at, updated_at) VALUES ('op-run', 'clone', 'vm-a', 'alpha',"
			     " 'running', 40, 50, 51), ('op-done', 'create', 'vm-b', 'bravo', 'success',"
			     " 100, 52, 53)");
	}
	if (v >= 2) {
		sql_exec(db, "INSERT INTO tokens (id, name, role, hash, created_at) VALUES"
			     " ('t-1', 'ci', 'read-only', '"
			     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 60)");
		for (int i = 0; i < 5; i++)
			sql_exec(db, "INSERT INTO events (type, time, data) VALUES ('vm.defined', 70, '{}')");
		/* the backlog was trimmed: ids 1 and 2 are gone */
		sql_exec(db, "DELETE FROM events WHERE id <= 2");
	}
	if (v >= 3) {
		/* a v3 daemon writes the crash policy columns with each VM */
		sql_exec(db, "UPDATE vms SET on_crash = coalesce(json_extract(definition, '$.on_crash'), 'stop'),"
			     " autostart = coalesce(json_extract(definition, '$.autostart'), 0)");
	}
}

static void check_migrated(struct store *s, int from)
{
	sqlite3 *db = store_db(s);
	struct store_vm vm;
	struct store_op op;
	struct store_token t;
	char buf[64];
	uint64_t vcpus, mem, nvms;
	int64_t id;

	ck_assert_int_eq(store_user_version(db), STORE_SCHEMA_VERSION);
	assert_integrity(db);
	if (from == 0) {
		ck_assert_int_eq(count(s, "SELECT count(*) FROM vms"), 0);
		return;
	}
	/* the rows of the old version are all there */
	ck_assert_int_eq(count(s, "SELECT count(*) FROM vms"), 4);
	ck_assert_int_eq(store_vm_get(s, "alpha", &vm), 0);
	ck_assert_str_eq(vm.id, "vm-a");
	ck_assert_str_eq(vm.state, "running");
	ck_assert_str_eq(vm.host_id, "h-local");
	ck_assert_int_eq(vm.generation, 7);
	ck_assert_str_eq(json_string_value(json_object_get(vm.definition, "on_crash")), "restart");
	store_vm_clear(&vm);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM disks"), 1);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM snapshots WHERE vm_id = 'vm-a'"), 1);
	/* v4: snapshots made before it are complete ones */
	ck_assert_int_eq(count(s, "SELECT count(*) FROM snapshots WHERE state = 'ready'"), 1);
	ck_assert_int_eq(store_alloc_totals(s, "h-local", &vcpus, &mem, &nvms), 0);
	ck_assert_uint_eq(vcpus, 6);
	ck_assert_uint_eq(mem, 1536);
	ck_assert_uint_eq(nvms, 2);
	ck_assert_int_eq(store_meta_get(s, "host_id", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "h-local");

	/* v3 backfilled the crash policy and autostart from the definitions */
	ck_assert_str_eq(sql_text(db, "SELECT on_crash FROM vms WHERE id = 'vm-a'", buf, sizeof(buf)),
			 "restart");
	ck_assert_int_eq(sql_int(db, "SELECT autostart FROM vms WHERE id = 'vm-a'"), 1);
	ck_assert_str_eq(sql_text(db, "SELECT on_crash FROM vms WHERE id = 'vm-b'", buf, sizeof(buf)),
			 "stop");
	ck_assert_int_eq(sql_int(db, "SELECT autostart FROM vms WHERE id = 'vm-b'"), 0);
	ck_assert_str_eq(sql_text(db, "SELECT on_crash FROM vms WHERE id = 'vm-c'", buf, sizeof(buf)),
			 "stop");
	ck_assert_int_eq(sql_int(db, "SELECT autostart FROM vms WHERE id = 'vm-c'"), 0);
	ck_assert_str_eq(sql_text(db, "SELECT on_crash FROM vms WHERE id = 'vm-d'", buf, sizeof(buf)),
			 "stop");
	ck_assert_int_eq(sql_int(db, "SELECT autostart FROM vms WHERE id = 'vm-d'"), 1);

	/* the operation that was running when the old daemon stopped */
	ck_assert_int_eq(store_op_fail_running(s, "interrupted by the upgrade"), 1);
	ck_assert_int_eq(store_op_get(s, "op-run", &op), 0);
	ck_assert_str_eq(op.status, "failure");
	store_op_clear(&op);
	ck_assert_int_eq(store_op_get(s, "op-done", &op), 0);
	ck_assert_str_eq(op.status, "success");
	store_op_clear(&op);

	/* the constraints still hold on the old rows */
	ck_assert_int_eq(insert_vm(s, 99, "alpha", NULL), -EEXIST);
	ck_assert_int_eq(insert_vm(s, 99, "echo", MACS("52:54:00:00:00:0a")), -EADDRINUSE);
	ck_assert_int_eq(store_vm_delete(s, "vm-a"), 0);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM nics"), 0);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM snapshots"), 0);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM allocations WHERE vm_id = 'vm-a'"), 0);

	if (from >= 2) {
		ck_assert_int_eq(store_token_find_hash(s, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
						       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &t), 0);
		ck_assert_str_eq(t.name, "ci");
		ck_assert_str_eq(t.role, "read-only");
		/* event ids continue after the old ones, trimmed or not */
		ck_assert_int_eq(store_event_last_id(s), 5);
		json_t *data = json_object();

		ck_assert_int_eq(store_event_append(s, "vm.deleted", 80, data, &id), 0);
		json_decref(data);
		ck_assert_int_eq(id, 6);
	}
	/* and new rows use the new columns */
	{
		json_t *def = vm_def("foxtrot", 1, 128, NULL);

		json_object_set_new(def, "on_crash", json_string("restart"));
		json_object_set_new(def, "autostart", json_true());
		make_vm(&vm, 100, "foxtrot", def);
		ck_assert_int_eq(store_vm_insert(s, &vm), 0);
		store_vm_clear(&vm);
		ck_assert_str_eq(sql_text(db, "SELECT on_crash || autostart FROM vms WHERE name = 'foxtrot'",
					  buf, sizeof(buf)), "restart1");
	}
}

/* For each earlier version v: build it, fill it, open it with the store. */
START_TEST(test_migrate_from_every_version)
{
	const int v = _i;
	struct store *s;
	sqlite3 *raw;

	ck_assert_int_eq(sqlite3_open(db_path, &raw), SQLITE_OK);
	ck_assert_int_eq(store_user_version(raw), 0);
	ck_assert_int_eq(store_migrate(raw, v), 0);
	ck_assert_int_eq(store_user_version(raw), v);
	fill_version(raw, v);
	sqlite3_close(raw);

	s = open_store();
	check_migrated(s, v);
	store_close(s);
	/* opening again changes nothing */
	s = open_store();
	ck_assert_int_eq(store_user_version(store_db(s)), STORE_SCHEMA_VERSION);
	assert_integrity(store_db(s));
	store_close(s);
}
END_TEST

/* Migrating step by step gives the same schema as migrating at once. */
START_TEST(test_migrate_stepwise_same_schema)
{
	static const char schema_sql[] =
		"SELECT group_concat(line, ';') FROM (SELECT m.name || '.' || p.name || ':' || p.type"
		" || ':' || p.\"notnull\" || ':' || coalesce(p.dflt_value, '') || ':' || p.pk AS line"
		" FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'"
		" UNION ALL SELECT 'index ' || name || ' on ' || tbl_name FROM sqlite_master"
		" WHERE type = 'index' ORDER BY 1)";
	char once[8192], steps[8192], p2[PATH_MAX + 8];
	sqlite3 *a, *b;

	snprintf(p2, sizeof(p2), "%s.2", db_path);
	ck_assert_int_eq(sqlite3_open(db_path, &a), SQLITE_OK);
	ck_assert_int_eq(sqlite3_open(p2, &b), SQLITE_OK);
	ck_assert_int_eq(store_migrate(a, STORE_SCHEMA_VERSION), 0);
	for (int v = 1; v <= STORE_SCHEMA_VERSION; v++) {
		ck_assert_int_eq(store_migrate(b, v), 0);
		/* again: a no-op */
		ck_assert_int_eq(store_migrate(b, v), 0);
		ck_assert_int_eq(store_user_version(b), v);
	}
	sql_text(a, schema_sql, once, sizeof(once));
	sql_text(b, schema_sql, steps, sizeof(steps));
	ck_assert_str_eq(once, steps);
	ck_assert_ptr_nonnull(strstr(once, "vms.on_crash"));
	/* migrating down is not a thing */
	ck_assert_int_eq(store_migrate(a, 1), 0);
	ck_assert_int_eq(store_user_version(a), STORE_SCHEMA_VERSION);
	sqlite3_close(a);
	sqlite3_close(b);
	unlink(p2);
}
END_TEST

START_TEST(test_migrate_bad_target)
{
	sqlite3 *raw;

	ck_assert_int_eq(sqlite3_open(db_path, &raw), SQLITE_OK);
	ck_assert_int_eq(store_migrate(raw, -1), -EINVAL);
	ck_assert_int_eq(store_migrate(raw, STORE_SCHEMA_VERSION + 1), -EINVAL);
	ck_assert_int_eq(store_user_version(raw), 0);
	sqlite3_close(raw);
}
END_TEST

/* A migration that fails half-way leaves the database at the version
 * before it, with no trace of the failed step: here a v2 row whose
 * on_crash value the v3 CHECK constraint does not accept. */
START_TEST(test_migrate_failure_is_atomic)
{
	struct store *s = NULL;
	sqlite3 *raw;

	ck_assert_int_eq(sqlite3_open(db_path, &raw), SQLITE_OK);
	ck_assert_int_eq(store_migrate(raw, 2), 0);
	fill_version(raw, 2);
	sql_exec(raw, "INSERT INTO vms (id, name, definition, vcpus, memory_mib, created_at,"
		      " updated_at) VALUES ('vm-x', 'xray', '{\"on_crash\":\"reboot\"}', 1, 64, 1, 1)");
	sqlite3_close(raw);

	ck_assert_int_lt(store_open(db_path, &s), 0);
	ck_assert_ptr_null(s);

	ck_assert_int_eq(sqlite3_open(db_path, &raw), SQLITE_OK);
	ck_assert_int_eq(store_user_version(raw), 2);
	ck_assert_int_eq(sql_int(raw, "SELECT count(*) FROM pragma_table_info('vms')"
				 " WHERE name IN ('on_crash', 'autostart')"), 0);
	ck_assert_int_eq(sql_int(raw, "SELECT count(*) FROM sqlite_master WHERE name = 'operations_status'"), 0);
	ck_assert_int_eq(sql_int(raw, "SELECT count(*) FROM vms"), 5);
	/* fixed by hand, the upgrade goes through */
	sql_exec(raw, "UPDATE vms SET definition = '{\"on_crash\":\"restart\"}' WHERE id = 'vm-x'");
	sqlite3_close(raw);
	s = open_store();
	ck_assert_int_eq(count(s, "SELECT count(*) FROM vms WHERE on_crash = 'restart'"), 2);
	store_close(s);
}
END_TEST

/* ---- store_user_version ---- */

START_TEST(test_user_version)
{
	sqlite3 *raw;

	ck_assert_int_eq(sqlite3_open(db_path, &raw), SQLITE_OK);
	ck_assert_int_eq(store_user_version(raw), 0);
	sql_exec(raw, "PRAGMA user_version = 42");
	ck_assert_int_eq(store_user_version(raw), 42);
	sqlite3_close(raw);
}
END_TEST

/* ---- store_begin / store_commit / store_rollback ---- */

START_TEST(test_transaction_commit_and_rollback)
{
	struct store *s = open_store();

	ck_assert_int_eq(store_begin(s), 0);
	ck_assert_int_eq(insert_vm(s, 1, "one", MACS("52:54:00:00:00:01")), 0);
	ck_assert_int_eq(insert_vm(s, 2, "two", MACS("52:54:00:00:00:02")), 0);
	store_rollback(s);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM vms"), 0);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM nics"), 0);
	/* rollback outside a transaction is harmless */
	store_rollback(s);

	ck_assert_int_eq(store_begin(s), 0);
	ck_assert_int_eq(insert_vm(s, 1, "one", MACS("52:54:00:00:00:01")), 0);
	ck_assert_int_eq(store_commit(s), 0);
	store_close(s);
	s = open_store();
	ck_assert_int_eq(count(s, "SELECT count(*) FROM vms"), 1);
	/* commit without begin fails, nested begin fails */
	ck_assert_int_lt(store_commit(s), 0);
	ck_assert_int_eq(store_begin(s), 0);
	ck_assert_int_lt(store_begin(s), 0);
	store_rollback(s);
	store_close(s);
}
END_TEST

/* A second connection (another hvd, hvadm reading the file) does not see
 * a transaction before it commits. */
START_TEST(test_transaction_isolated)
{
	struct store *s = open_store(), *other = open_store();

	ck_assert_int_eq(store_begin(s), 0);
	ck_assert_int_eq(insert_vm(s, 1, "one", NULL), 0);
	ck_assert_int_eq(count(other, "SELECT count(*) FROM vms"), 0);
	ck_assert_int_eq(store_commit(s), 0);
	ck_assert_int_eq(count(other, "SELECT count(*) FROM vms"), 1);
	store_close(other);
	store_close(s);
}
END_TEST

/* The child writes ~4 KiB VMs inside one transaction with a tiny page
 * cache, so uncommitted pages spill into the WAL, then tells the parent
 * and waits to be killed. */
static void child_uncommitted_writer(int ready_fd, int committed, int uncommitted)
{
	struct store *s;
	char pad[4000], name[64];

	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	if (store_open(db_path, &s) < 0)
		_exit(10);
	for (int i = 0; i < committed; i++) {
		char mac[24];

		snprintf(name, sizeof(name), "committed-%d", i);
		snprintf(mac, sizeof(mac), "52:54:00:00:%02x:%02x", (i / 256) & 0xff, i % 256);
		if (insert_vm(s, (unsigned)i, name, MACS(mac)) < 0)
			_exit(11);
	}
	if (sqlite3_exec(store_db(s), "PRAGMA cache_size = 4", NULL, NULL, NULL) != SQLITE_OK)
		_exit(12);
	{
		char wal[PATH_MAX + 8];
		struct stat st;
		off_t size;

		snprintf(wal, sizeof(wal), "%s-wal", db_path);
		size = stat(wal, &st) == 0 ? st.st_size : 0;
		if (write(ready_fd, &size, sizeof(size)) != sizeof(size))
			_exit(17);
	}
	if (store_begin(s) < 0)
		_exit(13);
	for (int i = 0; i < uncommitted; i++) {
		struct store_vm vm;
		json_t *def;
		char mac[24];

		snprintf(name, sizeof(name), "uncommitted-%d", i);
		snprintf(mac, sizeof(mac), "52:54:00:01:%02x:%02x", (i / 256) & 0xff, i % 256);
		def = vm_def(name, 1, 64, MACS(mac));
		json_object_set_new(def, "pad", json_string(pad));
		make_vm(&vm, 100000 + (unsigned)i, name, def);
		if (store_vm_insert(s, &vm) < 0)
			_exit(14);
		store_vm_clear(&vm);
	}
	/* also rewrite rows that are committed, so old pages are dirty too */
	if (sqlite3_exec(store_db(s), "UPDATE vms SET state = 'crashed' WHERE name LIKE 'committed-%'",
			 NULL, NULL, NULL) != SQLITE_OK)
		_exit(15);
	if (write(ready_fd, "r", 1) != 1)
		_exit(16);
	for (;;)
		pause();
}

static pid_t spawn(void (*fn)(int, int, int), int a, int b, int *ret_read_fd)
{
	int fds[2];
	pid_t pid;

	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		fn(fds[1], a, b);
		_exit(0);
	}
	close(fds[1]);
	*ret_read_fd = fds[0];
	return pid;
}

static void kill_and_reap(pid_t pid)
{
	int status;

	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		      "the writer ended on its own (status 0x%x) before it was killed", status);
}

START_TEST(test_killed_with_open_transaction)
{
	const int committed = 50, uncommitted = 1500;
	char wal[PATH_MAX + 8], c;
	off_t wal_before = -1;
	struct stat st;
	struct store *s;
	int fd;
	pid_t pid;

	pid = spawn(child_uncommitted_writer, committed, uncommitted, &fd);
	ck_assert_msg(read(fd, &wal_before, sizeof(wal_before)) == sizeof(wal_before),
		      "the writer died before its transaction was open");
	ck_assert_msg(read(fd, &c, 1) == 1, "the writer died inside its transaction");
	close(fd);
	kill_and_reap(pid);

	/* the uncommitted transaction really reached the WAL file: recovery
	 * has frames without a commit record to ignore */
	snprintf(wal, sizeof(wal), "%s-wal", db_path);
	ck_assert_int_eq(stat(wal, &st), 0);
	ck_assert_msg(st.st_size > wal_before + 1024 * 1024, "WAL grew from %lld to only %lld bytes",
		      (long long)wal_before, (long long)st.st_size);

	s = open_store();
	assert_integrity(store_db(s));
	ck_assert_int_eq(count(s, "SELECT count(*) FROM vms"), committed);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM vms WHERE name LIKE 'committed-%'"), committed);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM vms WHERE state = 'crashed'"), 0);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM disks"), committed);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM nics"), committed);
	/* the MACs of the lost transaction are free again */
	ck_assert_int_eq(insert_vm(s, 200000, "after", MACS("52:54:00:01:00:00")), 0);
	store_close(s);
}
END_TEST

/* The child commits batches of 10 VMs (with a disk and a NIC each) and
 * reports each batch after store_commit returned; it is killed at an
 * arbitrary point of the loop. */
#define BATCH 10

static void child_batch_writer(int ack_fd, int first_batch, int unused)
{
	struct store *s;

	if (store_open(db_path, &s) < 0)
		_exit(10);
	for (int b = first_batch; ; b++) {
		if (store_begin(s) < 0)
			_exit(11);
		for (int i = 0; i < BATCH; i++) {
			unsigned n = (unsigned)(b * BATCH + i);
			char name[64], mac[24];

			snprintf(name, sizeof(name), "vm-%u", n);
			snprintf(mac, sizeof(mac), "52:54:00:%02x:%02x:%02x", (n >> 16) & 0xff,
				 (n >> 8) & 0xff, n & 0xff);
			if (insert_vm(s, n, name, MACS(mac)) < 0)
				_exit(12);
		}
		if (store_commit(s) < 0)
			_exit(13);
		if (write(ack_fd, &b, sizeof(b)) != sizeof(b))
			_exit(14);
	}
}

START_TEST(test_killed_between_statements)
{
	int batches_done = 0;

	for (int round = 0; round < 6; round++) {
		int fd, b = -1, last_acked = -1;
		struct timespec delay = { 0, (round * 7 + 3) * 1000000L };
		struct store *s;
		int64_t vms;
		pid_t pid;

		pid = spawn(child_batch_writer, batches_done, 0, &fd);
		/* let it commit something first, then kill it at some point */
		for (int k = 0; k < 3; k++) {
			ck_assert_msg(read(fd, &b, sizeof(b)) == sizeof(b), "round %d: the writer died",
				      round);
			last_acked = b;
		}
		nanosleep(&delay, NULL);
		kill_and_reap(pid);
		while (read(fd, &b, sizeof(b)) == sizeof(b))
			last_acked = b;
		close(fd);

		s = open_store();
		assert_integrity(store_db(s));
		vms = count(s, "SELECT count(*) FROM vms");
		/* whole batches only, every acknowledged one, at most one more
		 * (committed but killed before it could say so) */
		ck_assert_msg(vms % BATCH == 0, "round %d: %lld VMs, a torn batch", round, (long long)vms);
		ck_assert_msg(vms / BATCH >= last_acked + 1, "round %d: %lld VMs, batch %d was acknowledged",
			      round, (long long)vms, last_acked);
		ck_assert_msg(vms / BATCH <= last_acked + 2, "round %d: %lld VMs after batch %d", round,
			      (long long)vms, last_acked);
		ck_assert_int_eq(count(s, "SELECT count(*) FROM disks"), vms);
		ck_assert_int_eq(count(s, "SELECT count(*) FROM nics"), vms);
		ck_assert_int_eq(count(s, "SELECT count(*) FROM vms v WHERE NOT EXISTS"
				       " (SELECT 1 FROM nics n WHERE n.vm_id = v.id)"), 0);
		batches_done = (int)(vms / BATCH);
		store_close(s);
	}
}
END_TEST

/* ---- store_vm_insert ---- */

START_TEST(test_vm_insert_roundtrip)
{
	struct store *s = open_store();
	struct store_vm vm, got;
	json_t *def = vm_def("web01", 4, 2048, MACS("52:54:00:12:34:56", "52:54:00:12:34:57"));

	json_object_set_new(def, "on_crash", json_string("restart"));
	json_object_set_new(def, "autostart", json_true());
	make_vm(&vm, 1, "web01", def);
	snprintf(vm.desired_state, sizeof(vm.desired_state), "running");
	ck_assert_int_eq(store_vm_insert(s, &vm), 0);

	ck_assert_int_eq(store_vm_get(s, "web01", &got), 0);
	ck_assert_str_eq(got.id, vm.id);
	ck_assert_str_eq(got.name, "web01");
	ck_assert(json_equal(got.definition, vm.definition));
	ck_assert_str_eq(got.state, "stopped");        /* the default */
	ck_assert_str_eq(got.desired_state, "running");
	ck_assert_str_eq(got.host_id, "");
	ck_assert_int_eq(got.generation, 1);
	ck_assert_int_eq(got.created_at, vm.created_at);
	store_vm_clear(&got);
	ck_assert_int_eq(rows_of(s, "disks", 1), 1);
	ck_assert_int_eq(rows_of(s, "nics", 1), 2);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM vms WHERE on_crash = 'restart' AND"
			       " autostart = 1"), 1);
	store_vm_clear(&vm);
	store_close(s);
}
END_TEST

START_TEST(test_vm_insert_duplicate_name)
{
	struct store *s = open_store();

	ck_assert_int_eq(insert_vm(s, 1, "web01", MACS("52:54:00:00:00:01")), 0);
	ck_assert_int_eq(insert_vm(s, 2, "web01", MACS("52:54:00:00:00:02")), -EEXIST);
	/* the same id is taken too */
	ck_assert_int_eq(insert_vm(s, 1, "web02", MACS("52:54:00:00:00:03")), -EEXIST);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM vms"), 1);
	ck_assert_int_eq(rows_of(s, "disks", 2), 0);
	ck_assert_int_eq(rows_of(s, "nics", 2), 0);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM nics"), 1);
	/* the MAC of the refused VM is not reserved */
	ck_assert_int_eq(insert_vm(s, 3, "web03", MACS("52:54:00:00:00:02")), 0);
	store_close(s);
}
END_TEST

START_TEST(test_vm_insert_duplicate_mac)
{
	struct store *s = open_store();
	struct store_vm got;

	ck_assert_int_eq(insert_vm(s, 1, "web01", MACS("52:54:00:00:00:01")), 0);
	/* the second NIC collides: the VM row, its disk and first NIC, all
	 * written before the failure, must be gone */
	ck_assert_int_eq(insert_vm(s, 2, "web02", MACS("52:54:00:00:00:02", "52:54:00:00:00:01")),
			 -EADDRINUSE);
	ck_assert_int_eq(store_vm_get(s, "web02", &got), -ENOENT);
	ck_assert_int_eq(rows_of(s, "disks", 2), 0);
	ck_assert_int_eq(rows_of(s, "nics", 2), 0);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM vms"), 1);
	ck_assert_int_eq(rows_of(s, "nics", 1), 1);
	/* name and the first MAC are free for the next try */
	ck_assert_int_eq(insert_vm(s, 2, "web02", MACS("52:54:00:00:00:02")), 0);
	store_close(s);
}
END_TEST

/* A refused insert inside the caller's transaction undoes only itself. */
START_TEST(test_vm_insert_failure_keeps_transaction)
{
	struct store *s = open_store();

	ck_assert_int_eq(store_begin(s), 0);
	ck_assert_int_eq(insert_vm(s, 1, "web01", MACS("52:54:00:00:00:01")), 0);
	ck_assert_int_eq(insert_vm(s, 2, "web02", MACS("52:54:00:00:00:01")), -EADDRINUSE);
	ck_assert_int_eq(insert_vm(s, 3, "web01", NULL), -EEXIST);
	ck_assert_int_eq(insert_vm(s, 4, "web04", MACS("52:54:00:00:00:04")), 0);
	ck_assert_int_eq(store_commit(s), 0);
	store_close(s);
	s = open_store();
	ck_assert_int_eq(count(s, "SELECT count(*) FROM vms"), 2);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM disks"), 2);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM nics"), 2);
	store_close(s);
}
END_TEST

START_TEST(test_vm_insert_invalid_rows)
{
	struct store *s = open_store();
	struct store_vm vm;

	/* what the schema layer should have refused is still refused here */
	make_vm(&vm, 1, "tiny", vm_def("tiny", 0, 1024, NULL));
	ck_assert_int_eq(store_vm_insert(s, &vm), -EINVAL);
	store_vm_clear(&vm);
	make_vm(&vm, 2, "tiny", vm_def("tiny", 1, 8, NULL));
	ck_assert_int_eq(store_vm_insert(s, &vm), -EINVAL);
	store_vm_clear(&vm);
	make_vm(&vm, 3, "ghost", vm_def("ghost", 1, 64, NULL));
	snprintf(vm.host_id, sizeof(vm.host_id), "no-such-host");
	ck_assert_int_eq(store_vm_insert(s, &vm), -EINVAL);
	store_vm_clear(&vm);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM vms"), 0);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM disks"), 0);
	store_close(s);
}
END_TEST

/* ---- store_vm_get ---- */

START_TEST(test_vm_get)
{
	struct store *s = open_store();
	struct store_vm got;
	char id[37];

	ck_assert_int_eq(insert_vm(s, 7, "web07", NULL), 0);
	vm_id(id, 7);
	ck_assert_int_eq(store_vm_get(s, id, &got), 0);
	ck_assert_str_eq(got.name, "web07");
	store_vm_clear(&got);
	ck_assert_int_eq(store_vm_get(s, "web07", &got), 0);
	ck_assert_str_eq(got.id, id);
	store_vm_clear(&got);
	ck_assert_int_eq(store_vm_get(s, "web08", &got), -ENOENT);
	ck_assert_int_eq(store_vm_get(s, "", &got), -ENOENT);
	ck_assert_int_eq(store_vm_get(s, "web0%", &got), -ENOENT);
	store_vm_clear(NULL);
	store_close(s);
}
END_TEST

/* ---- store_vm_list ---- */

struct names {
	char list[512];
	int n;
	int stop_after;
};

static int collect(const struct store_vm *vm, void *ud)
{
	struct names *nm = ud;

	if (nm->stop_after && nm->n == nm->stop_after)
		return -ECANCELED;
	if (nm->n++)
		strcat(nm->list, " ");
	strcat(nm->list, vm->name);
	return 0;
}

static const char *list(struct store *s, const struct store_vm_filter *f, struct names *nm)
{
	memset(nm, 0, sizeof(*nm));
	ck_assert_int_eq(store_vm_list(s, f, collect, nm), 0);
	return nm->list;
}

START_TEST(test_vm_list_filters)
{
	struct store *s = open_store();
	struct store_vm_filter f;
	struct names nm;
	struct store_vm vm;
	char id[37];

	put_host(s, "h-1", "node1");
	ck_assert_int_eq(insert_vm(s, 3, "web02", NULL), 0);
	ck_assert_int_eq(insert_vm(s, 1, "db01", NULL), 0);
	ck_assert_int_eq(insert_vm(s, 2, "web01", NULL), 0);
	ck_assert_int_eq(insert_vm(s, 4, "xweb", NULL), 0);
	{
		json_t *def = vm_def("cache", 1, 64, NULL);

		json_object_set_new(json_object_get(def, "labels"), "role", json_string("cache"));
		json_object_set_new(json_object_get(def, "labels"), "tier.name", json_string("gold"));
		make_vm(&vm, 5, "cache", def);
		snprintf(vm.host_id, sizeof(vm.host_id), "h-1");
		ck_assert_int_eq(store_vm_insert(s, &vm), 0);
		store_vm_clear(&vm);
	}
	vm_id(id, 2);
	ck_assert_int_eq(store_vm_set_state(s, id, "running", NULL), 0);

	ck_assert_str_eq(list(s, NULL, &nm), "cache db01 web01 web02 xweb");
	memset(&f, 0, sizeof(f));
	f.name_prefix = "web";
	ck_assert_str_eq(list(s, &f, &nm), "web01 web02");
	f.name_prefix = "we_";  /* literal, not a LIKE pattern */
	ck_assert_str_eq(list(s, &f, &nm), "");
	f.name_prefix = "%";
	ck_assert_str_eq(list(s, &f, &nm), "");
	memset(&f, 0, sizeof(f));
	f.state = "running";
	ck_assert_str_eq(list(s, &f, &nm), "web01");
	f.state = "stopped";
	ck_assert_str_eq(list(s, &f, &nm), "cache db01 web02 xweb");
	memset(&f, 0, sizeof(f));
	f.host_id = "h-1";
	ck_assert_str_eq(list(s, &f, &nm), "cache");
	memset(&f, 0, sizeof(f));
	f.label_key = "role";
	f.label_value = "web";
	ck_assert_str_eq(list(s, &f, &nm), "db01 web01 web02 xweb");
	f.label_key = "tier.name";  /* a dot in a key is not a path */
	f.label_value = "gold";
	ck_assert_str_eq(list(s, &f, &nm), "cache");
	f.label_key = "role";
	f.label_value = "nope";
	ck_assert_str_eq(list(s, &f, &nm), "");
	/* filters combine */
	memset(&f, 0, sizeof(f));
	f.name_prefix = "web";
	f.state = "stopped";
	ck_assert_str_eq(list(s, &f, &nm), "web02");

	/* a callback error stops the walk and is returned */
	memset(&nm, 0, sizeof(nm));
	nm.stop_after = 2;
	ck_assert_int_eq(store_vm_list(s, NULL, collect, &nm), -ECANCELED);
	ck_assert_str_eq(nm.list, "cache db01");
	store_close(s);
}
END_TEST

/* ---- store_vm_update ---- */

static json_t *stored_definition(struct store *s, const char *name)
{
	struct store_vm vm;
	json_t *d;

	ck_assert_int_eq(store_vm_get(s, name, &vm), 0);
	d = json_incref(vm.definition);
	store_vm_clear(&vm);
	return d;
}

START_TEST(test_vm_update_generation)
{
	struct store *s = open_store();
	struct store_vm a, b, got;

	ck_assert_int_eq(insert_vm(s, 1, "web01", MACS("52:54:00:00:00:01")), 0);
	/* two clients read generation 1 */
	ck_assert_int_eq(store_vm_get(s, "web01", &a), 0);
	ck_assert_int_eq(store_vm_get(s, "web01", &b), 0);
	ck_assert_int_eq(a.generation, 1);

	json_object_set_new(a.definition, "vcpus", json_integer(8));
	ck_assert_int_eq(store_vm_update(s, &a), 0);
	ck_assert_int_eq(a.generation, 2);
	ck_assert_int_gt(a.updated_at, 0);

	/* the second writes on top of what it read: refused */
	json_object_set_new(b.definition, "vcpus", json_integer(1));
	ck_assert_int_eq(store_vm_update(s, &b), -ESTALE);
	ck_assert_int_eq(b.generation, 1);
	ck_assert_int_eq(store_vm_get(s, "web01", &got), 0);
	ck_assert_int_eq(got.generation, 2);
	ck_assert_int_eq(json_integer_value(json_object_get(got.definition, "vcpus")), 8);
	ck_assert_int_eq(count(s, "SELECT vcpus FROM vms"), 8);
	store_vm_clear(&got);

	/* and again with what is current */
	json_object_set_new(a.definition, "memory_mib", json_integer(4096));
	ck_assert_int_eq(store_vm_update(s, &a), 0);
	ck_assert_int_eq(a.generation, 3);
	ck_assert_int_eq(count(s, "SELECT memory_mib FROM vms"), 4096);

	store_vm_clear(&a);
	store_vm_clear(&b);
	store_close(s);
}
END_TEST

/* Leaves non-zero garbage on the stack below the caller, so reading an
 * uninitialized local in the next call does not go unnoticed by luck. */
static __attribute__((noinline)) void dirty_stack(void)
{
	volatile unsigned char junk[16384];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = 0x5a;
}

/* Updating a VM that was deleted meanwhile (another request, hvadm on
 * another connection) is -ENOENT, not a crash. */
START_TEST(test_vm_update_unknown)
{
	struct store *s = open_store();
	struct store_vm b;
	char id[37];

	ck_assert_int_eq(insert_vm(s, 1, "web01", NULL), 0);
	ck_assert_int_eq(store_vm_get(s, "web01", &b), 0);
	vm_id(id, 1);
	ck_assert_int_eq(store_vm_delete(s, id), 0);
	dirty_stack();
	ck_assert_int_eq(store_vm_update(s, &b), -ENOENT);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM vms"), 0);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM disks"), 0);
	store_vm_clear(&b);
	store_close(s);
}
END_TEST

START_TEST(test_vm_update_rewrites_children)
{
	struct store *s = open_store();
	struct store_vm a;
	json_t *nics;

	ck_assert_int_eq(insert_vm(s, 1, "web01", MACS("52:54:00:00:00:01", "52:54:00:00:00:02")), 0);
	ck_assert_int_eq(store_vm_get(s, "web01", &a), 0);
	nics = json_pack("[{s:s, s:s}]", "id", "eth0", "mac", "52:54:00:00:00:03");
	json_object_set_new(a.definition, "nics", nics);
	json_object_set_new(a.definition, "on_crash", json_string("restart"));
	snprintf(a.name, sizeof(a.name), "web01-renamed");
	ck_assert_int_eq(store_vm_update(s, &a), 0);
	ck_assert_int_eq(rows_of(s, "nics", 1), 1);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM nics WHERE mac = '52:54:00:00:00:03'"
			       " AND nic_id = 'eth0'"), 1);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM vms WHERE on_crash = 'restart'"), 1);
	/* renamed: the old name is free, the new one taken */
	ck_assert_int_eq(insert_vm(s, 2, "web01", MACS("52:54:00:00:00:01")), 0);
	ck_assert_int_eq(insert_vm(s, 3, "web01-renamed", NULL), -EEXIST);
	store_vm_clear(&a);
	store_close(s);
}
END_TEST

/* A refused update leaves the VM exactly as it was, disks and NICs too
 * (they are deleted and rewritten inside the update). */
START_TEST(test_vm_update_conflicts_leave_vm_alone)
{
	struct store *s = open_store();
	struct store_vm b;
	json_t *before;

	ck_assert_int_eq(insert_vm(s, 1, "web01", MACS("52:54:00:00:00:01")), 0);
	ck_assert_int_eq(insert_vm(s, 2, "web02", MACS("52:54:00:00:00:02")), 0);
	before = stored_definition(s, "web02");

	/* a MAC of web01 */
	ck_assert_int_eq(store_vm_get(s, "web02", &b), 0);
	json_object_set_new(b.definition, "nics",
			    json_pack("[{s:s, s:s}, {s:s, s:s}]", "id", "net0", "mac",
				      "52:54:00:00:00:09", "id", "net1", "mac", "52:54:00:00:00:01"));
	json_object_set_new(b.definition, "disks", json_array());
	ck_assert_int_eq(store_vm_update(s, &b), -EADDRINUSE);
	ck_assert_int_eq(b.generation, 1);
	store_vm_clear(&b);

	/* web01's name */
	ck_assert_int_eq(store_vm_get(s, "web02", &b), 0);
	snprintf(b.name, sizeof(b.name), "web01");
	json_object_set_new(b.definition, "vcpus", json_integer(16));
	ck_assert_int_eq(store_vm_update(s, &b), -EEXIST);
	store_vm_clear(&b);

	{
		json_t *after = stored_definition(s, "web02");

		ck_assert(json_equal(before, after));
		json_decref(after);
	}
	ck_assert_int_eq(rows_of(s, "nics", 2), 1);
	ck_assert_int_eq(rows_of(s, "disks", 2), 1);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM nics WHERE mac = '52:54:00:00:00:02'"), 1);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM nics WHERE mac = '52:54:00:00:00:09'"), 0);
	ck_assert_int_eq(count(s, "SELECT generation FROM vms WHERE name = 'web02'"), 1);
	ck_assert_int_eq(count(s, "SELECT vcpus FROM vms WHERE name = 'web02'"), 2);
	json_decref(before);
	store_close(s);
}
END_TEST

/* ---- store_vm_set_state ---- */

START_TEST(test_vm_set_state)
{
	struct store *s = open_store();
	struct store_vm got;
	char id[37];

	ck_assert_int_eq(insert_vm(s, 1, "web01", NULL), 0);
	vm_id(id, 1);
	ck_assert_int_eq(store_vm_set_state(s, id, "crashed", "vcpu 0: triple fault"), 0);
	ck_assert_int_eq(store_vm_get(s, "web01", &got), 0);
	ck_assert_str_eq(got.state, "crashed");
	ck_assert_str_eq(got.state_reason, "vcpu 0: triple fault");
	ck_assert_int_eq(got.generation, 1); /* state is not configuration */
	store_vm_clear(&got);
	ck_assert_int_eq(store_vm_set_state(s, id, "running", NULL), 0);
	ck_assert_int_eq(store_vm_get(s, "web01", &got), 0);
	ck_assert_str_eq(got.state_reason, "");
	store_vm_clear(&got);
	ck_assert_int_eq(store_vm_set_state(s, id, "exploded", NULL), -EINVAL);
	ck_assert_int_eq(store_vm_set_state(s, "web01", "stopped", NULL), -ENOENT); /* by id only */
	ck_assert_int_eq(store_vm_set_state(s, "nope", "stopped", NULL), -ENOENT);
	store_close(s);
}
END_TEST

/* ---- store_vm_delete ---- */

START_TEST(test_vm_delete_cascades)
{
	struct store *s = open_store();
	char id[37];

	put_host(s, "h-1", "node1");
	ck_assert_int_eq(insert_vm(s, 1, "web01", MACS("52:54:00:00:00:01", "52:54:00:00:00:02")), 0);
	ck_assert_int_eq(insert_vm(s, 2, "web02", MACS("52:54:00:00:00:03")), 0);
	vm_id(id, 1);
	ck_assert_int_eq(store_alloc_set(s, id, "h-1", 2, 1024), 0);
	{
		char sql[256];

		snprintf(sql, sizeof(sql), "INSERT INTO snapshots (id, vm_id, name, created_at)"
			 " VALUES ('s1', '%s', 'snap', 1)", id);
		sql_exec(store_db(s), sql);
	}
	ck_assert_int_eq(store_vm_delete(s, id), 0);
	ck_assert_int_eq(rows_of(s, "disks", 1), 0);
	ck_assert_int_eq(rows_of(s, "nics", 1), 0);
	ck_assert_int_eq(rows_of(s, "allocations", 1), 0);
	ck_assert_int_eq(rows_of(s, "snapshots", 1), 0);
	/* the other VM is untouched */
	ck_assert_int_eq(rows_of(s, "nics", 2), 1);
	ck_assert_int_eq(rows_of(s, "disks", 2), 1);
	/* its name and MACs can be used again */
	ck_assert_int_eq(insert_vm(s, 3, "web01", MACS("52:54:00:00:00:02")), 0);
	/* twice, or never there */
	ck_assert_int_eq(store_vm_delete(s, id), -ENOENT);
	ck_assert_int_eq(store_vm_delete(s, "web02"), -ENOENT); /* by id only */
	assert_integrity(store_db(s));
	store_close(s);
}
END_TEST

/* ---- store_vm_count_states ---- */

struct state_counts {
	int64_t stopped, running, other;
	int calls;
};

static void count_state(const char *state, int64_t n, void *ud)
{
	struct state_counts *c = ud;

	c->calls++;
	if (strcmp(state, "stopped") == 0)
		c->stopped = n;
	else if (strcmp(state, "running") == 0)
		c->running = n;
	else
		c->other += n;
}

START_TEST(test_vm_count_states)
{
	struct store *s = open_store();
	struct state_counts c = { 0 };
	char id[37];

	ck_assert_int_eq(store_vm_count_states(s, count_state, &c), 0);
	ck_assert_int_eq(c.calls, 0);
	for (unsigned i = 1; i <= 5; i++) {
		char name[16];

		snprintf(name, sizeof(name), "vm%u", i);
		ck_assert_int_eq(insert_vm(s, i, name, NULL), 0);
	}
	vm_id(id, 2);
	ck_assert_int_eq(store_vm_set_state(s, id, "running", NULL), 0);
	vm_id(id, 4);
	ck_assert_int_eq(store_vm_set_state(s, id, "running", NULL), 0);
	ck_assert_int_eq(store_vm_count_states(s, count_state, &c), 0);
	ck_assert_int_eq(c.calls, 2);
	ck_assert_int_eq(c.stopped, 3);
	ck_assert_int_eq(c.running, 2);
	ck_assert_int_eq(c.other, 0);
	store_close(s);
}
END_TEST

/* ---- store_host_put / store_host_get / store_host_list ---- */

static int host_names(const struct store_host *h, void *ud)
{
	char *out = ud;

	if (*out)
		strcat(out, " ");
	strcat(out, h->name);
	return 0;
}

START_TEST(test_host_put_and_get)
{
	struct store *s = open_store();
	struct store_host h = {
		.id = "h-2", .name = "node2", .url = "https://node2:8443", .local = false,
		.cap_vcpus = 32, .cap_memory_mib = 131072, .cpu_overcommit = 2.5,
		.memory_overcommit = 1.25, .created_at = 5,
	}, got;
	char names[128] = "";

	put_host(s, "h-1", "node1");
	ck_assert_int_eq(store_host_put(s, &h), 0);
	ck_assert_int_eq(store_host_get(s, "node2", &got), 0);
	ck_assert_str_eq(got.id, "h-2");
	ck_assert_str_eq(got.url, "https://node2:8443");
	ck_assert(!got.local);
	ck_assert_str_eq(got.state, "up");
	ck_assert_uint_eq(got.cap_vcpus, 32);
	ck_assert_uint_eq(got.cap_memory_mib, 131072);
	ck_assert(got.cpu_overcommit == 2.5);
	ck_assert(got.memory_overcommit == 1.25);
	ck_assert_int_eq(store_host_get(s, "h-2", &got), 0);
	ck_assert_int_eq(store_host_get(s, "node3", &got), -ENOENT);

	/* put again by id: an update, created_at kept */
	h.cap_vcpus = 64;
	h.created_at = 999;
	snprintf(h.state, sizeof(h.state), "down");
	ck_assert_int_eq(store_host_put(s, &h), 0);
	ck_assert_int_eq(store_host_get(s, "h-2", &got), 0);
	ck_assert_uint_eq(got.cap_vcpus, 64);
	ck_assert_str_eq(got.state, "down");
	ck_assert_int_eq(got.created_at, 5);
	ck_assert_int_eq(count(s, "SELECT count(*) FROM hosts"), 2);

	/* another id with a taken name */
	snprintf(h.id, sizeof(h.id), "h-3");
	ck_assert_int_eq(store_host_put(s, &h), -EEXIST);
	/* renaming onto another host's name */
	snprintf(h.id, sizeof(h.id), "h-2");
	snprintf(h.name, sizeof(h.name), "node1");
	ck_assert_int_eq(store_host_put(s, &h), -EEXIST);
	/* invalid capacity */
	snprintf(h.name, sizeof(h.name), "node2");
	h.cpu_overcommit = 0;
	ck_assert_int_eq(store_host_put(s, &h), -EINVAL);

	/* the local host first, then by name */
	ck_assert_int_eq(store_host_list(s, host_names, names), 0);
	ck_assert_str_eq(names, "node1 node2");
	store_close(s);
}
END_TEST

/* ---- store_host_delete ---- */

START_TEST(test_host_delete_busy)
{
	struct store *s = open_store();
	struct store_host got;
	struct store_vm vm;
	char id[37];

	put_host(s, "h-1", "node1");
	put_host(s, "h-2", "node2");
	ck_assert_int_eq(insert_vm(s, 1, "web01", NULL), 0);
	vm_id(id, 1);
	ck_assert_int_eq(store_alloc_set(s, id, "h-1", 2, 1024), 0);
	ck_assert_int_eq(store_host_delete(s, "h-1"), -EBUSY);
	ck_assert_int_eq(store_host_get(s, "h-1", &got), 0);

	/* a VM placed there without a reservation also pins it */
	make_vm(&vm, 2, "web02", vm_def("web02", 1, 64, NULL));
	snprintf(vm.host_id, sizeof(vm.host_id), "h-2");
	ck_assert_int_eq(store_vm_insert(s, &vm), 0);
	store_vm_clear(&vm);
	ck_assert_int_eq(store_host_delete(s, "h-2"), -EBUSY);
	ck_assert_int_eq(store_host_get(s, "h-2", &got), 0);

	/* once the VM is gone (its allocation with it), the host can go */
	ck_assert_int_eq(store_vm_delete(s, id), 0);
	ck_assert_int_eq(store_host_delete(s, "h-1"), 0);
	ck_assert_int_eq(store_host_get(s, "h-1", &got), -ENOENT);
	ck_assert_int_eq(store_host_delete(s, "h-1"), -ENOENT);
	ck_assert_int_eq(store_host_delete(s, "node2"), -ENOENT); /* by id only */
	store_close(s);
}
END_TEST

/* ---- store_alloc_set / store_alloc_totals / store_alloc_delete ---- */

START_TEST(test_alloc_totals)
{
	struct store *s = open_store();
	uint64_t vcpus = 1, mem = 1, n = 1;
	char id1[37], id2[37], id3[37];

	put_host(s, "h-1", "node1");
	put_host(s, "h-2", "node2");
	ck_assert_int_eq(store_alloc_totals(s, "h-1", &vcpus, &mem, &n), 0);
	ck_assert_uint_eq(vcpus, 0);
	ck_assert_uint_eq(mem, 0);
	ck_assert_uint_eq(n, 0);
	for (unsigned i = 1; i <= 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "vm%u", i);
		ck_assert_int_eq(insert_vm(s, i, name, NULL), 0);
	}
	vm_id(id1, 1);
	vm_id(id2, 2);
	vm_id(id3, 3);
	ck_assert_int_eq(store_alloc_set(s, id1, "h-1", 2, 2048), 0);
	ck_assert_int_eq(store_alloc_set(s, id2, "h-1", 4, 1024), 0);
	ck_assert_int_eq(store_alloc_set(s, id3, "h-2", 8, 8192), 0);
	ck_assert_int_eq(store_alloc_totals(s, "h-1", &vcpus, &mem, &n), 0);
	ck_assert_uint_eq(vcpus, 6);
	ck_assert_uint_eq(mem, 3072);
	ck_assert_uint_eq(n, 2);
	/* a resize replaces, it does not add */
	ck_assert_int_eq(store_alloc_set(s, id1, "h-1", 1, 512), 0);
	ck_assert_int_eq(store_alloc_totals(s, "h-1", &vcpus, &mem, &n), 0);
	ck_assert_uint_eq(vcpus, 5);
	ck_assert_uint_eq(mem, 1536);
	ck_assert_uint_eq(n, 2);
	/* moving to another host */
	ck_assert_int_eq(store_alloc_set(s, id1, "h-2", 1, 512), 0);
	ck_assert_int_eq(store_alloc_totals(s, "h-2", &vcpus, &mem, &n), 0);
	ck_assert_uint_eq(vcpus, 9);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(store_alloc_delete(s, id3), 0);
	ck_assert_int_eq(store_alloc_delete(s, id3), 0);
	ck_assert_int_eq(store_alloc_totals(s, "h-2", &vcpus, &mem, &n), 0);
	ck_assert_uint_eq(vcpus, 1);
	ck_assert_uint_eq(mem, 512);
	ck_assert_uint_eq(n, 1);
	/* reservations for unknown hosts or VMs, or beyond int64 */
	ck_assert_int_eq(store_alloc_set(s, id2, "h-9", 1, 1), -EINVAL);
	ck_assert_int_eq(store_alloc_set(s, "no-such-vm", "h-1", 1, 1), -EINVAL);
	ck_assert_int_eq(store_alloc_set(s, id2, "h-1", UINT64_MAX, 1), -EINVAL);
	ck_assert_int_eq(store_alloc_totals(s, "h-1", &vcpus, &mem, &n), 0);
	ck_assert_uint_eq(vcpus, 4);
	ck_assert_uint_eq(n, 1);
	store_close(s);
}
END_TEST

/* ---- operations ---- */

static void make_op(struct store_op *op, const char *id, const char *status, int64_t created)
{
	memset(op, 0, sizeof(*op));
	snprintf(op->id, sizeof(op->id), "%s", id);
	snprintf(op->kind, sizeof(op->kind), "clone");
	snprintf(op->vm_id, sizeof(op->vm_id), "vm-1");
	snprintf(op->vm_name, sizeof(op->vm_name), "web01");
	snprintf(op->status, sizeof(op->status), "%s", status);
	op->created_at = op->updated_at = created;
}

START_TEST(test_op_insert_get_update)
{
	struct store *s = open_store();
	struct store_op op, got;

	make_op(&op, "op-1", "running", 100);
	op.request = json_pack("{s:s}", "name", "web02");
	ck_assert_int_eq(store_op_insert(s, &op), 0);
	ck_assert_int_eq(store_op_insert(s, &op), -EEXIST);
	ck_assert_int_eq(store_op_get(s, "op-1", &got), 0);
	ck_assert_str_eq(got.kind, "clone");
	ck_assert_str_eq(got.status, "running");
	ck_assert_int_eq(got.finished_at, 0);
	ck_assert_ptr_null(got.error);
	ck_assert(json_equal(got.request, op.request));
	store_op_clear(&got);

	op.progress = 100;
	snprintf(op.status, sizeof(op.status), "success");
	snprintf(op.message, sizeof(op.message), "copied 2 disks");
	op.result = json_pack("{s:s}", "vm", "web02");
	op.updated_at = op.finished_at = 200;
	ck_assert_int_eq(store_op_update(s, &op), 0);
	ck_assert_int_eq(store_op_get(s, "op-1", &got), 0);
	ck_assert_str_eq(got.status, "success");
	ck_assert_int_eq(got.progress, 100);
	ck_assert_str_eq(got.message, "copied 2 disks");
	ck_assert_int_eq(got.finished_at, 200);
	ck_assert(json_equal(got.result, op.result));
	ck_assert(json_equal(got.request, op.request)); /* kept */
	store_op_clear(&got);

	op.progress = 101;
	ck_assert_int_eq(store_op_update(s, &op), -EINVAL);
	op.progress = 100;
	snprintf(op.status, sizeof(op.status), "done");
	ck_assert_int_eq(store_op_update(s, &op), -EINVAL);
	snprintf(op.id, sizeof(op.id), "op-2");
	snprintf(op.status, sizeof(op.status), "success");
	ck_assert_int_eq(store_op_update(s, &op), -ENOENT);
	ck_assert_int_eq(store_op_get(s, "op-2", &got), -ENOENT);
	store_op_clear(&op);
	store_op_clear(NULL);
	store_close(s);
}
END_TEST

static int op_ids(const struct store_op *op, void *ud)
{
	char *out = ud;

	if (*out)
		strcat(out, " ");
	strcat(out, op->id);
	return 0;
}

START_TEST(test_op_list)
{
	struct store *s = open_store();
	struct store_op op;
	char ids[256] = "";

	make_op(&op, "a", "success", 1);
	ck_assert_int_eq(store_op_insert(s, &op), 0);
	make_op(&op, "b", "running", 3);
	ck_assert_int_eq(store_op_insert(s, &op), 0);
	make_op(&op, "c", "running", 2);
	ck_assert_int_eq(store_op_insert(s, &op), 0);
	make_op(&op, "d", "failure", 3);
	ck_assert_int_eq(store_op_insert(s, &op), 0);
	/* newest first; the later insert first among equal times */
	ck_assert_int_eq(store_op_list(s, NULL, 10, op_ids, ids), 0);
	ck_assert_str_eq(ids, "d b c a");
	ids[0] = '\0';
	ck_assert_int_eq(store_op_list(s, "running", 10, op_ids, ids), 0);
	ck_assert_str_eq(ids, "b c");
	ids[0] = '\0';
	ck_assert_int_eq(store_op_list(s, NULL, 2, op_ids, ids), 0);
	ck_assert_str_eq(ids, "d b");
	store_close(s);
}
END_TEST

START_TEST(test_op_fail_running)
{
	struct store *s = open_store();
	struct store_op op, got;

	make_op(&op, "a", "running", 1);
	op.progress = 40;
	ck_assert_int_eq(store_op_insert(s, &op), 0);
	make_op(&op, "b", "running", 2);
	ck_assert_int_eq(store_op_insert(s, &op), 0);
	make_op(&op, "c", "success", 3);
	op.finished_at = 4;
	ck_assert_int_eq(store_op_insert(s, &op), 0);
	make_op(&op, "d", "cancelled", 5);
	ck_assert_int_eq(store_op_insert(s, &op), 0);

	ck_assert_int_eq(store_op_fail_running(s, "interrupted: the daemon restarted while it ran"), 2);
	ck_assert_int_eq(store_op_get(s, "a", &got), 0);
	ck_assert_str_eq(got.status, "failure");
	ck_assert_str_eq(got.message, "interrupted: the daemon restarted while it ran");
	ck_assert_int_gt(got.finished_at, 0);
	ck_assert_int_eq(got.finished_at, got.updated_at);
	ck_assert_int_eq(got.progress, 40);
	ck_assert_ptr_nonnull(got.error);
	ck_assert_str_eq(json_string_value(json_object_get(got.error, "code")), "interrupted");
	ck_assert_str_eq(json_string_value(json_object_get(got.error, "message")),
			 "interrupted: the daemon restarted while it ran");
	store_op_clear(&got);
	ck_assert_int_eq(store_op_get(s, "c", &got), 0);
	ck_assert_str_eq(got.status, "success");
	ck_assert_int_eq(got.finished_at, 4);
	ck_assert_ptr_null(got.error);
	store_op_clear(&got);
	ck_assert_int_eq(store_op_get(s, "d", &got), 0);
	ck_assert_str_eq(got.status, "cancelled");
	store_op_clear(&got);
	/* nothing left to fail */
	ck_assert_int_eq(store_op_fail_running(s, "again"), 0);
	store_close(s);
}
END_TEST

/* ---- events ---- */

struct event_log {
	int64_t ids[64];
	int n;
	bool ordered;
	char last_type[32];
};

static int on_event(int64_t id, const char *type, int64_t time_ms, const char *data, void *ud)
{
	struct event_log *e = ud;

	if (e->n > 0 && id <= e->ids[e->n - 1])
		e->ordered = false;
	if (e->n < 64)
		e->ids[e->n++] = id;
	snprintf(e->last_type, sizeof(e->last_type), "%s", type);
	ck_assert_ptr_nonnull(data);
	ck_assert_int_eq(time_ms, 1000 + id);
	return 0;
}

static struct event_log since(struct store *s, int64_t after, int limit)
{
	struct event_log e = { .ordered = true };

	ck_assert_int_eq(store_event_since(s, after, limit, on_event, &e), 0);
	ck_assert(e.ordered);
	return e;
}

static int64_t append(struct store *s, const char *type)
{
	json_t *data = json_pack("{s:s}", "vm", "web01");
	int64_t id = -1, next = store_event_last_id(s) + 1;

	/* time is 1000 + the id the event will (presumably) get */
	ck_assert_int_eq(store_event_append(s, type, 1000 + next, data, &id), 0);
	json_decref(data);
	return id;
}

START_TEST(test_event_append_since)
{
	struct store *s = open_store();
	struct event_log e;
	int64_t prev = 0;

	ck_assert_int_eq(store_event_last_id(s), 0);
	e = since(s, 0, 100);
	ck_assert_int_eq(e.n, 0);
	for (int i = 0; i < 10; i++) {
		int64_t id = append(s, i % 2 ? "vm.changed" : "vm.defined");

		ck_assert_int_gt(id, prev);
		prev = id;
	}
	ck_assert_int_eq(store_event_last_id(s), prev);
	e = since(s, 0, 100);
	ck_assert_int_eq(e.n, 10);
	e = since(s, 7, 100);
	ck_assert_int_eq(e.n, 3);
	ck_assert_int_eq(e.ids[0], 8);
	ck_assert_str_eq(e.last_type, "vm.changed");
	e = since(s, 0, 4);
	ck_assert_int_eq(e.n, 4);
	ck_assert_int_eq(e.ids[3], 4);
	e = since(s, prev, 100);
	ck_assert_int_eq(e.n, 0);
	/* data is stored as given */
	{
		char buf[128];

		ck_assert_str_eq(sql_text(store_db(s), "SELECT data FROM events WHERE id = 1", buf,
					  sizeof(buf)), "{\"vm\":\"web01\"}");
	}
	store_close(s);
}
END_TEST

START_TEST(test_event_trim_keeps_ids_monotonic)
{
	struct store *s = open_store();
	struct event_log e;
	int64_t id;

	for (int i = 0; i < 10; i++)
		append(s, "vm.defined");
	ck_assert_int_eq(store_event_trim(s, 3), 0);
	e = since(s, 0, 100);
	ck_assert_int_eq(e.n, 3);
	ck_assert_int_eq(e.ids[0], 8);
	ck_assert_int_eq(e.ids[2], 10);
	ck_assert_int_eq(store_event_last_id(s), 10);
	/* trimming to more than there is keeps everything */
	ck_assert_int_eq(store_event_trim(s, 1000), 0);
	ck_assert_int_eq(since(s, 0, 100).n, 3);

	/* a client that last saw 5 gets what is left after it */
	e = since(s, 5, 100);
	ck_assert_int_eq(e.n, 3);
	ck_assert_int_eq(e.ids[0], 8);

	/* trim everything: new ids still go up, also after a reopen */
	ck_assert_int_eq(store_event_trim(s, 0), 0);
	ck_assert_int_eq(since(s, 0, 100).n, 0);
	id = append(s, "vm.deleted");
	ck_assert_int_eq(id, 11);
	ck_assert_int_eq(store_event_trim(s, 0), 0);
	store_close(s);
	s = open_store();
	id = -1;
	{
		json_t *data = json_object();

		ck_assert_int_eq(store_event_append(s, "vm.defined", 1012, data, &id), 0);
		json_decref(data);
	}
	ck_assert_int_eq(id, 12);
	store_close(s);
}
END_TEST

/* ---- tokens ---- */

static void make_token(struct store_token *t, const char *id, const char *name, const char *role,
		       char hash_char)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->id, sizeof(t->id), "%s", id);
	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(t->role, sizeof(t->role), "%s", role);
	memset(t->hash, hash_char, 64);
	t->created_at = 10;
}

static int token_names(const struct store_token *t, void *ud)
{
	char *out = ud;

	if (*out)
		strcat(out, " ");
	strcat(out, t->name);
	return 0;
}

START_TEST(test_token_find_hash)
{
	struct store *s = open_store();
	struct store_token t, got;
	char hash[65], names[64] = "";

	make_token(&t, "t-1", "ci", "read-only", 'a');
	ck_assert_int_eq(store_token_insert(s, &t), 0);
	make_token(&t, "t-2", "admin", "admin", 'b');
	ck_assert_int_eq(store_token_insert(s, &t), 0);

	memset(hash, 'b', 64);
	hash[64] = '\0';
	ck_assert_int_eq(store_token_find_hash(s, hash, &got), 0);
	ck_assert_str_eq(got.id, "t-2");
	ck_assert_str_eq(got.name, "admin");
	ck_assert_str_eq(got.role, "admin");
	ck_assert_str_eq(got.hash, hash);
	hash[0] = 'c';
	ck_assert_int_eq(store_token_find_hash(s, hash, &got), -ENOENT);
	ck_assert_int_eq(store_token_find_hash(s, "", &got), -ENOENT);
	/* a prefix of a hash is not the hash */
	ck_assert_int_eq(store_token_find_hash(s, "bbbb", &got), -ENOENT);

	/* names and hashes are unique; roles are checked */
	make_token(&t, "t-3", "ci", "admin", 'd');
	ck_assert_int_eq(store_token_insert(s, &t), -EEXIST);
	make_token(&t, "t-3", "ci2", "admin", 'a');
	ck_assert_int_eq(store_token_insert(s, &t), -EEXIST);
	make_token(&t, "t-3", "ci3", "root", 'e');
	ck_assert_int_eq(store_token_insert(s, &t), -EINVAL);

	ck_assert_int_eq(store_token_list(s, token_names, names), 0);
	ck_assert_str_eq(names, "admin ci");
	store_close(s);
}
END_TEST

START_TEST(test_token_get_touch_delete)
{
	struct store *s = open_store();
	struct store_token t, got;

	make_token(&t, "t-1", "ci", "read-only", 'a');
	ck_assert_int_eq(store_token_insert(s, &t), 0);
	ck_assert_int_eq(store_token_get(s, "ci", &got), 0);
	ck_assert_str_eq(got.id, "t-1");
	ck_assert_int_eq(got.last_used_at, 0);
	ck_assert_int_eq(store_token_touch(s, "t-1", 12345), 0);
	ck_assert_int_eq(store_token_get(s, "t-1", &got), 0);
	ck_assert_int_eq(got.last_used_at, 12345);
	ck_assert_int_eq(store_token_delete(s, "t-1"), 0);
	ck_assert_int_eq(store_token_get(s, "t-1", &got), -ENOENT);
	{
		char hash[65];

		memset(hash, 'a', 64);
		hash[64] = '\0';
		/* a revoked token no longer authenticates */
		ck_assert_int_eq(store_token_find_hash(s, hash, &got), -ENOENT);
	}
	ck_assert_int_eq(store_token_delete(s, "t-1"), -ENOENT);
	store_close(s);
}
END_TEST

/* ---- meta ---- */

START_TEST(test_meta)
{
	struct store *s = open_store();
	char buf[8];

	ck_assert_int_eq(store_meta_get(s, "host_id", buf, sizeof(buf)), -ENOENT);
	ck_assert_int_eq(store_meta_set(s, "host_id", "abc"), 0);
	ck_assert_int_eq(store_meta_get(s, "host_id", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "abc");
	ck_assert_int_eq(store_meta_set(s, "host_id", "a-much-longer-value"), 0);
	ck_assert_int_eq(store_meta_get(s, "host_id", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "a-much-"); /* truncated to the buffer */
	store_close(s);
}
END_TEST

/* ---- store_format_time ---- */

START_TEST(test_format_time)
{
	char buf[32];

	store_format_time(0, buf);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00.000Z");
	store_format_time(1795701787123LL, buf);
	ck_assert_str_eq(buf, "2026-11-26T14:03:07.123Z");
	store_format_time(999, buf);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00.999Z");
	store_format_time(-5, buf);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00.000Z");
	ck_assert_int_gt(store_now_ms(), 1700000000000LL);
}
END_TEST

static TCase *tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	suite_add_tcase(s, tc);
	return tc;
}

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc;

	tc = tcase(s, "store_open");
	tcase_add_test(tc, test_open_creates_wal_database);
	tcase_add_test(tc, test_open_reopen_keeps_data);
	tcase_add_test(tc, test_open_refuses_newer_schema);
	tcase_add_test(tc, test_open_bad_paths);

	tc = tcase(s, "store_migrate");
	tcase_add_loop_test(tc, test_migrate_from_every_version, 0, STORE_SCHEMA_VERSION);
	tcase_add_test(tc, test_migrate_stepwise_same_schema);
	tcase_add_test(tc, test_migrate_bad_target);
	tcase_add_test(tc, test_migrate_failure_is_atomic);

	tc = tcase(s, "store_user_version");
	tcase_add_test(tc, test_user_version);

	tc = tcase(s, "store_commit");
	tcase_add_test(tc, test_transaction_commit_and_rollback);
	tcase_add_test(tc, test_transaction_isolated);
	tcase_add_test(tc, test_killed_with_open_transaction);
	tcase_add_test(tc, test_killed_between_statements);
	tcase_set_timeout(tc, 120);

	tc = tcase(s, "store_vm_insert");
	tcase_add_test(tc, test_vm_insert_roundtrip);
	tcase_add_test(tc, test_vm_insert_duplicate_name);
	tcase_add_test(tc, test_vm_insert_duplicate_mac);
	tcase_add_test(tc, test_vm_insert_failure_keeps_transaction);
	tcase_add_test(tc, test_vm_insert_invalid_rows);

	tc = tcase(s, "store_vm_get");
	tcase_add_test(tc, test_vm_get);

	tc = tcase(s, "store_vm_list");
	tcase_add_test(tc, test_vm_list_filters);

	tc = tcase(s, "store_vm_update");
	tcase_add_test(tc, test_vm_update_generation);
	tcase_add_test(tc, test_vm_update_unknown);
	tcase_add_test(tc, test_vm_update_rewrites_children);
	tcase_add_test(tc, test_vm_update_conflicts_leave_vm_alone);

	tc = tcase(s, "store_vm_set_state");
	tcase_add_test(tc, test_vm_set_state);

	tc = tcase(s, "store_vm_delete");
	tcase_add_test(tc, test_vm_delete_cascades);

	tc = tcase(s, "store_vm_count_states");
	tcase_add_test(tc, test_vm_count_states);

	tc = tcase(s, "store_host_put");
	tcase_add_test(tc, test_host_put_and_get);

	tc = tcase(s, "store_host_delete");
	tcase_add_test(tc, test_host_delete_busy);

	tc = tcase(s, "store_alloc_totals");
	tcase_add_test(tc, test_alloc_totals);

	tc = tcase(s, "store_op_update");
	tcase_add_test(tc, test_op_insert_get_update);

	tc = tcase(s, "store_op_list");
	tcase_add_test(tc, test_op_list);

	tc = tcase(s, "store_op_fail_running");
	tcase_add_test(tc, test_op_fail_running);

	tc = tcase(s, "store_event_since");
	tcase_add_test(tc, test_event_append_since);

	tc = tcase(s, "store_event_trim");
	tcase_add_test(tc, test_event_trim_keeps_ids_monotonic);

	tc = tcase(s, "store_token_find_hash");
	tcase_add_test(tc, test_token_find_hash);

	tc = tcase(s, "store_token_delete");
	tcase_add_test(tc, test_token_get_touch_delete);

	tc = tcase(s, "store_meta_get");
	tcase_add_test(tc, test_meta);

	tc = tcase(s, "store_format_time");
	tcase_add_test(tc, test_format_time);
	return s;
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	SRunner *sr;
	int failed;

	snprintf(base, sizeof(base), "%s/hvd-test-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(base)) {
		perror("test-store: mkdtemp");
		return EXIT_FAILURE;
	}
	sr = srunner_create(store_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rm_rf(base);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

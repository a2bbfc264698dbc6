/* vms.c - the vms table and its disks and nics rows.
 *
 * The definition JSON is the source of truth for a VM's configuration; the
 * disks and nics rows mirror its arrays so that SQLite enforces what must be
 * unique across VMs (MAC addresses) and so queries need not parse JSON.
 * Insert and update rewrite both inside one savepoint. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-internal.h"

void store_vm_clear(struct store_vm *vm)
{
	if (!vm)
		return;
	json_decref(vm->definition);
	memset(vm, 0, sizeof(*vm));
}

static int savepoint(struct store *s, const char *what)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "%s vm_write", what);
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

static int write_children(struct store *s, const struct store_vm *vm)
{
	json_t *disks = json_object_get(vm->definition, "disks");
	json_t *nics = json_object_get(vm->definition, "nics");
	sqlite3_stmt *st;
	json_t *item;
	size_t i;
	int r;

	if (store_stmt(s, "DELETE FROM disks WHERE vm_id = ?", &st) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, vm->id, -1, SQLITE_STATIC);
	if ((r = store_step_done(st)) < 0)
		return r;
	if (store_stmt(s, "DELETE FROM nics WHERE vm_id = ?", &st) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, vm->id, -1, SQLITE_STATIC);
	if ((r = store_step_done(st)) < 0)
		return r;

	json_array_foreach(disks, i, item) {
		if (store_stmt(s, "INSERT INTO disks (vm_id, disk_id, path, readonly) VALUES (?, ?, ?, ?)", &st) < 0)
			return -EIO;
		sqlite3_bind_text(st, 1, vm->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, json_string_value(json_object_get(item, "id")), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, json_string_value(json_object_get(item, "path")), -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 4, json_is_true(json_object_get(item, "readonly")));
		if ((r = store_step_done(st)) < 0)
			return r;
	}
	json_array_foreach(nics, i, item) {
		if (store_stmt(s, "INSERT INTO nics (vm_id, nic_id, mac, network, tap) VALUES (?, ?, ?, ?, ?)", &st) < 0)
			return -EIO;
		sqlite3_bind_text(st, 1, vm->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, json_string_value(json_object_get(item, "id")), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, json_string_value(json_object_get(item, "mac")), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, json_string_value(json_object_get(item, "network")), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, json_string_value(json_object_get(item, "tap")), -1, SQLITE_STATIC);
		r = store_step_done(st);
		if (r == -EEXIST) {
			/* the (vm, nic id) key is checked by the schema layer, so a
			 * unique failure here is the MAC */
			return -EADDRINUSE;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static void bind_columns(sqlite3_stmt *st, const struct store_vm *vm, char *def)
{
	json_t *d = vm->definition;
	const char *on_crash = json_string_value(json_object_get(d, "on_crash"));

	sqlite3_bind_text(st, 1, vm->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, vm->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, def, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, json_integer_value(json_object_get(d, "vcpus")));
	sqlite3_bind_int64(st, 5, json_integer_value(json_object_get(d, "memory_mib")));
	sqlite3_bind_text(st, 6, on_crash ? on_crash : "stop", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, json_is_true(json_object_get(d, "autostart")));
}

int store_vm_insert(struct store *s, const struct store_vm *vm)
{
	sqlite3_stmt *st;
	char *def;
	int r;

	def = json_dumps(vm->definition, JSON_COMPACT | JSON_SORT_KEYS);
	if (!def)
		return -ENOMEM;
	if ((r = savepoint(s, "SAVEPOINT")) < 0)
		goto out;
	r = store_stmt(s, "INSERT INTO vms (id, name, definition, vcpus, memory_mib, on_crash,"
		       " autostart, state, desired_state, state_reason, host_id, generation,"
		       " created_at, updated_at)"
		       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st);
	if (r < 0)
		goto rollback;
	bind_columns(st, vm, def);
	sqlite3_bind_text(st, 8, vm->state[0] ? vm->state : "stopped", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, vm->desired_state[0] ? vm->desired_state : "stopped", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, vm->state_reason, -1, SQLITE_STATIC);
	if (vm->host_id[0])
		sqlite3_bind_text(st, 11, vm->host_id, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 11);
	sqlite3_bind_int64(st, 12, vm->generation > 0 ? vm->generation : 1);
	sqlite3_bind_int64(st, 13, vm->created_at);
	sqlite3_bind_int64(st, 14, vm->updated_at);
	if ((r = store_step_done(st)) < 0)
		goto rollback;
	if ((r = write_children(s, vm)) < 0)
		goto rollback;
	r = savepoint(s, "RELEASE");
	goto out;
rollback:
	savepoint(s, "ROLLBACK TO");
	savepoint(s, "RELEASE");
out:
	free(def);
	return r;
}

/* The WHERE/ORDER of a VM list; bind_filter binds its parameters. */
#define VM_FILTER_SQL " WHERE (?1 IS NULL OR state = ?1)" \
	"   AND (?2 IS NULL OR host_id = ?2)" \
	"   AND (?3 IS NULL OR substr(name, 1, length(?3)) = ?3)" \
	"   AND (?4 IS NULL OR json_extract(definition, ?4) = ?5)" \
	" ORDER BY name"

/* label_path is the caller's buffer: SQLite keeps a pointer to it */
static void bind_filter(sqlite3_stmt *st, const struct store_vm_filter *f, char *label_path, size_t len)
{
	if (f->state)
		sqlite3_bind_text(st, 1, f->state, -1, SQLITE_STATIC);
	if (f->host_id)
		sqlite3_bind_text(st, 2, f->host_id, -1, SQLITE_STATIC);
	if (f->name_prefix)
		sqlite3_bind_text(st, 3, f->name_prefix, -1, SQLITE_STATIC);
	if (f->label_key && f->label_value) {
		/* keys are limited to [a-z0-9._/-] by the schema; quote them for
		 * json_extract so dots are not path separators */
		snprintf(label_path, len, "$.labels.\"%s\"", f->label_key);
		sqlite3_bind_text(st, 4, label_path, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, f->label_value, -1, SQLITE_STATIC);
	}
}

#define VM_COLUMNS "id, name, definition, state, desired_state, state_reason," \
	" coalesce(host_id, ''), generation, created_at, updated_at"

static int read_row(sqlite3_stmt *st, struct store_vm *vm)
{
	const char *def = (const char *)sqlite3_column_text(st, 2);

	memset(vm, 0, sizeof(*vm));
	store_copy_text(vm->id, sizeof(vm->id), st, 0);
	store_copy_text(vm->name, sizeof(vm->name), st, 1);
	vm->definition = json_loads(def ? def : "{}", 0, NULL);
	if (!vm->definition)
		return -EIO;
	store_copy_text(vm->state, sizeof(vm->state), st, 3);
	store_copy_text(vm->desired_state, sizeof(vm->desired_state), st, 4);
	store_copy_text(vm->state_reason, sizeof(vm->state_reason), st, 5);
	store_copy_text(vm->host_id, sizeof(vm->host_id), st, 6);
	vm->generation = sqlite3_column_int64(st, 7);
	vm->created_at = sqlite3_column_int64(st, 8);
	vm->updated_at = sqlite3_column_int64(st, 9);
	return 0;
}

int store_vm_get(struct store *s, const char *name_or_id, struct store_vm *ret_vm)
{
	sqlite3_stmt *st;
	int rc, r;

	if (store_stmt(s, "SELECT " VM_COLUMNS " FROM vms WHERE name = ?1 OR id = ?1", &st) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, name_or_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = read_row(st, ret_vm);
	else
		r = rc == SQLITE_DONE ? -ENOENT : -EIO;
	sqlite3_finalize(st);
	return r;
}

int store_vm_list(struct store *s, const struct store_vm_filter *f, store_vm_cb cb, void *userdata)
{
	static const struct store_vm_filter none;
	sqlite3_stmt *st;
	char label_path[160];
	int rc, r = 0;

	if (!f)
		f = &none;
	if (store_stmt(s, "SELECT " VM_COLUMNS " FROM vms"
 VM_FILTER_SQL, &st) < 0)
		return -EIO;
	bind_filter(st, f, label_path, sizeof(label_path));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_vm vm;

		r = read_row(st, &vm);
		if (r >= 0)
			r = cb(&vm, userdata);
		store_vm_clear(&vm);
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = -EIO;
	sqlite3_finalize(st);
	return r;
}

#define TIME_SQL(col) "strftime('%Y-%m-%dT%H:%M:%S', " col " / 1000, 'unixepoch') || printf('.%03dZ', " col " % 1000)"

int store_vm_list_json(struct store *s, const struct store_vm_filter *f, char **ret_text, size_t *ret_len)
{
	static const struct store_vm_filter none;
	sqlite3_stmt *st;
	char label_path[160];
	char *buf = NULL;
	size_t len = 0;
	FILE *out;
	int rc, n = 0;

	if (!f)
		f = &none;
	if (store_stmt(s, "SELECT json_set(definition, '$.id', id, '$.state', state,"
		       " '$.desired_state', desired_state, '$.state_reason', state_reason,"
		       " '$.host', coalesce((SELECT name FROM hosts WHERE hosts.id = vms.host_id), ''),"
		       " '$.created_at', " TIME_SQL("created_at") ", '$.updated_at', " TIME_SQL("updated_at") ","
		       " '$.generation', generation) FROM vms"
 VM_FILTER_SQL, &st) < 0)
		return -EIO;
	bind_filter(st, f, label_path, sizeof(label_path));
	out = open_memstream(&buf, &len);
	if (!out) {
		sqlite3_finalize(st);
		return -ENOMEM;
	}
	fputs("{\"vms\":[", out);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++)
			fputc(',', out);
		fwrite(sqlite3_column_text(st, 0), 1, (size_t)sqlite3_column_bytes(st, 0), out);
	}
	fputs("]}\n", out);
	sqlite3_finalize(st);
	if (fclose(out) != 0 || rc != SQLITE_DONE) {
		free(buf);
		return rc != SQLITE_DONE ? -EIO : -ENOMEM;
	}
	*ret_text = buf;
	*ret_len = len;
	return 0;
}

int store_vm_update(struct store *s, struct store_vm *vm)
{
	int64_t now = store_now_ms();
	sqlite3_stmt *st;
	char *def;
	int r;

	def = json_dumps(vm->definition, JSON_COMPACT | JSON_SORT_KEYS);
	if (!def)
		return -ENOMEM;
	if ((r = savepoint(s, "SAVEPOINT")) < 0)
		goto out;
	r = store_stmt(s, "UPDATE vms SET name = ?2, definition = ?3, vcpus = ?4, memory_mib = ?5,"
		       " on_crash = ?6, autostart = ?7, generation = generation + 1, updated_at = ?8"
		       " WHERE id = ?1 AND generation = ?9", &st);
	if (r < 0)
		goto rollback;
	bind_columns(st, vm, def);
	sqlite3_bind_int64(st, 8, now);
	sqlite3_bind_int64(st, 9, vm->generation);
	if ((r = store_step_done(st)) < 0)
		goto rollback;
	if (sqlite3_changes(s->db) == 0) {
		struct store_vm cur = { 0 };

		r = store_vm_get(s, vm->id, &cur);
		store_vm_clear(&cur);
		r = r == -ENOENT ? -ENOENT : -ESTALE;
		goto rollback;
	}
	if ((r = write_children(s, vm)) < 0)
		goto rollback;
	if ((r = savepoint(s, "RELEASE")) < 0)
		goto out;
	vm->generation++;
	vm->updated_at = now;
	goto out;
rollback:
	savepoint(s, "ROLLBACK TO");
	savepoint(s, "RELEASE");
out:
	free(def);
	return r;
}

int store_vm_set_state(struct store *s, const char *id, const char *state, const char *reason)
{
	sqlite3_stmt *st;
	int r;

	if (store_stmt(s, "UPDATE vms SET state = ?2, state_reason = ?3, updated_at = ?4 WHERE id = ?1", &st) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, reason ? reason : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, store_now_ms());
	r = store_step_done(st);
	if (r == 0 && sqlite3_changes(s->db) == 0)
		r = -ENOENT;
	return r;
}

int store_vm_set_desired(struct store *s, const char *id, const char *desired)
{
	sqlite3_stmt *st;
	int r;

	if (store_stmt(s, "UPDATE vms SET desired_state = ?2 WHERE id = ?1", &st) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, desired, -1, SQLITE_STATIC);
	r = store_step_done(st);
	if (r == 0 && sqlite3_changes(s->db) == 0)
		r = -ENOENT;
	return r;
}

int store_vm_delete(struct store *s, const char *id)
{
	sqlite3_stmt *st;
	int r;

	if (store_stmt(s, "DELETE FROM vms WHERE id = ?", &st) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	r = store_step_done(st);
	if (r == 0 && sqlite3_changes(s->db) == 0)
		r = -ENOENT;
	return r;
}

int store_vm_count_states(struct store *s, void (*cb)(const char *state, int64_t n, void *ud), void *ud)
{
	sqlite3_stmt *st;
	int rc;

	if (store_stmt(s, "SELECT state, count(*) FROM vms GROUP BY state", &st) < 0)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1), ud);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

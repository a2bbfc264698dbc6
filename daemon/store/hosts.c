/* hosts.c - cluster members and the resources VMs reserve on them.
 *
 * An allocation row exists for every VM defined on a host; the capacity
 * checks in sched_ sum these rows, so creating a VM and reserving its
 * resources happen in one transaction in the caller. */
#include <errno.h>
#include <string.h>

#include "store/store-internal.h"

int store_host_put(struct store *s, const struct store_host *h)
{
	sqlite3_stmt *st;

	if (store_stmt(s, "INSERT INTO hosts (id, name, url, local, state, cap_vcpus, cap_memory_mib,"
		       " cpu_overcommit, memory_overcommit, created_at)"
		       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
		       " ON CONFLICT(id) DO UPDATE SET name = ?2, url = ?3, local = ?4, state = ?5,"
		       " cap_vcpus = ?6, cap_memory_mib = ?7, cpu_overcommit = ?8, memory_overcommit = ?9",
		       &st) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, h->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, h->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, h->url, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, h->local);
	sqlite3_bind_text(st, 5, h->state[0] ? h->state : "up", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)h->cap_vcpus);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)h->cap_memory_mib);
	sqlite3_bind_double(st, 8, h->cpu_overcommit);
	sqlite3_bind_double(st, 9, h->memory_overcommit);
	sqlite3_bind_int64(st, 10, h->created_at);
	return store_step_done(st);
}

static void read_host(sqlite3_stmt *st, struct store_host *h)
{
	memset(h, 0, sizeof(*h));
	store_copy_text(h->id, sizeof(h->id), st, 0);
	store_copy_text(h->name, sizeof(h->name), st, 1);
	store_copy_text(h->url, sizeof(h->url), st, 2);
	h->local = sqlite3_column_int(st, 3);
	store_copy_text(h->state, sizeof(h->state), st, 4);
	h->cap_vcpus = (uint64_t)sqlite3_column_int64(st, 5);
	h->cap_memory_mib = (uint64_t)sqlite3_column_int64(st, 6);
	h->cpu_overcommit = sqlite3_column_double(st, 7);
	h->memory_overcommit = sqlite3_column_double(st, 8);
	h->created_at = sqlite3_column_int64(st, 9);
}

#define HOST_COLUMNS "id, name, url, local, state, cap_vcpus, cap_memory_mib," \
	" cpu_overcommit, memory_overcommit, created_at"

int store_host_get(struct store *s, const char *name_or_id, struct store_host *ret_host)
{
	sqlite3_stmt *st;
	int rc;

	if (store_stmt(s, "SELECT " HOST_COLUMNS " FROM hosts WHERE id = ?1 OR name = ?1", &st) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, name_or_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_host(st, ret_host);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int store_host_list(struct store *s, int (*cb)(const struct store_host *h, void *ud), void *ud)
{
	sqlite3_stmt *st;
	int rc, r = 0;

	if (store_stmt(s, "SELECT " HOST_COLUMNS " FROM hosts ORDER BY local DESC, name", &st) < 0)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_host h;

		read_host(st, &h);
		r = cb(&h, ud);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r >= 0 && rc != SQLITE_DONE)
		r = -EIO;
	return r;
}

int store_host_delete(struct store *s, const char *id)
{
	uint64_t vcpus, mem, vms;
	sqlite3_stmt *st;
	int r;

	r = store_alloc_totals(s, id, &vcpus, &mem, &vms);
	if (r < 0)
		return r;
	if (vms > 0)
		return -EBUSY;
	if (store_stmt(s, "DELETE FROM hosts WHERE id = ?", &st) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	r = store_step_done(st);
	if (r == 0 && sqlite3_changes(s->db) == 0)
		return -ENOENT;
	return r == -EINVAL ? -EBUSY : r;
}

int store_alloc_totals(struct store *s, const char *host_id, uint64_t *ret_vcpus,
		       uint64_t *ret_memory_mib, uint64_t *ret_vms)
{
	sqlite3_stmt *st;
	int rc;

	if (store_stmt(s, "SELECT coalesce(sum(vcpus), 0), coalesce(sum(memory_mib), 0), count(*)"
		       " FROM allocations WHERE host_id = ?", &st) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, host_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret_vcpus = (uint64_t)sqlite3_column_int64(st, 0);
		*ret_memory_mib = (uint64_t)sqlite3_column_int64(st, 1);
		*ret_vms = (uint64_t)sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -EIO;
}

int store_alloc_set(struct store *s, const char *vm_id, const char *host_id, uint64_t vcpus,
		    uint64_t memory_mib)
{
	sqlite3_stmt *st;

	if (store_stmt(s, "INSERT OR REPLACE INTO allocations (vm_id, host_id, vcpus, memory_mib)"
		       " VALUES (?, ?, ?, ?)", &st) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, vm_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, host_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)vcpus);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)memory_mib);
	return store_step_done(st);
}

int store_alloc_delete(struct store *s, const char *vm_id)
{
	sqlite3_stmt *st;

	if (store_stmt(s, "DELETE FROM allocations WHERE vm_id = ?", &st) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, vm_id, -1, SQLITE_STATIC);
	return store_step_done(st);
}

/* store.h - hvd's durable state in SQLite.
 *
 * One database file (state_dir/hvd.db) in WAL mode with synchronous=FULL,
 * foreign keys on and a busy timeout. Only the libuv loop thread uses it.
 * Callers group writes with store_begin/store_commit; a write is
 * acknowledged to an API client only after store_commit returned 0.
 * Every function returns >= 0 on success and -errno on failure; the
 * SQLite message of the last failure is in store_errmsg(). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <sqlite3.h>

#define STORE_SCHEMA_VERSION 4

struct store;

/* Opens (creating if needed) and migrates the database at path to
 * STORE_SCHEMA_VERSION. -errno; a database newer than this binary is
 * -EPROTO. */
int store_open(const char *path, struct store **ret_store);
struct store *store_close(struct store *s);

/* Applies migrations up to target (1..STORE_SCHEMA_VERSION) on a raw
 * handle; for tests that build databases of earlier versions. */
int store_migrate(sqlite3 *db, int target);
int store_user_version(sqlite3 *db);
sqlite3 *store_db(struct store *s);
const char *store_errmsg(struct store *s);

int store_begin(struct store *s);
/* Begins a transaction unless one is open: true when this call began one,
 * which its caller then commits; false inside the caller's transaction
 * (or when BEGIN failed: each statement then commits by itself). */
bool store_begin_unless_open(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

/* Milliseconds since the epoch, and RFC 3339 formatting of it. */
int64_t store_now_ms(void);
void store_format_time(int64_t ms, char buf[32]);

/* ---- VMs (vms, disks, nics) ---- */

struct store_vm {
	char id[37];
	char name[64];
	json_t *definition;   /* owned: name, vcpus, memory_mib, boot, disks, ... */
	char state[16];
	char desired_state[16];
	char state_reason[256];
	char host_id[37];
	int64_t generation;
	int64_t created_at;
	int64_t updated_at;
};

void store_vm_clear(struct store_vm *vm);

/* Inserts vm and its disks and NICs (taken from vm->definition).
 * -EEXIST: the name is taken; -EADDRINUSE: a MAC is taken. */
int store_vm_insert(struct store *s, const struct store_vm *vm);

/* Looks a VM up by id or name. -ENOENT. */
int store_vm_get(struct store *s, const char *name_or_id, struct store_vm *ret_vm);

struct store_vm_filter {
	const char *state;        /* NULL: any */
	const char *host_id;
	const char *name_prefix;
	const char *label_key;    /* with label_value: definition.labels[key] == value */
	const char *label_value;
};

typedef int (*store_vm_cb)(const struct store_vm *vm, void *userdata);

/* Calls cb for each matching VM by name; a negative return from cb stops
 * the walk and is returned. */
int store_vm_list(struct store *s, const struct store_vm_filter *f, store_vm_cb cb, void *userdata);

/* The same VMs as store_vm_list, as the API shows them, rendered by SQLite
 * into one JSON text {"vms": [...]} (no parse/serialise round trip per
 * VM: listing 1,000 VMs stays cheap). *ret_text is malloc'd. */
int store_vm_list_json(struct store *s, const struct store_vm_filter *f, char **ret_text, size_t *ret_len);

/* Replaces the definition (and name, disks, NICs) of vm->id if its stored
 * generation equals vm->generation; bumps the generation and updated_at in
 * vm on success. -ESTALE: generation mismatch; -ENOENT; -EEXIST;
 * -EADDRINUSE as for insert. */
int store_vm_update(struct store *s, struct store_vm *vm);

/* Records the last known state (and why). -ENOENT. */
int store_vm_set_state(struct store *s, const char *id, const char *state, const char *reason);

/* Records what the operator asked for (running, stopped). -ENOENT. */
int store_vm_set_desired(struct store *s, const char *id, const char *desired);

int store_vm_delete(struct store *s, const char *id);

/* Number of VMs per state; cb is called once per state that has VMs. */
int store_vm_count_states(struct store *s, void (*cb)(const char *state, int64_t n, void *ud), void *ud);

/* ---- hosts and allocations ---- */

struct store_host {
	char id[37];
	char name[64];
	char url[256];        /* "" for the local host */
	bool local;
	char state[16];
	uint64_t cap_vcpus;
	uint64_t cap_memory_mib;
	double cpu_overcommit;
	double memory_overcommit;
	int64_t created_at;
};

/* Inserts or updates (by id) a host. -EEXIST: name taken by another id. */
int store_host_put(struct store *s, const struct store_host *h);
int store_host_get(struct store *s, const char *name_or_id, struct store_host *ret_host);
int store_host_list(struct store *s, int (*cb)(const struct store_host *h, void *ud), void *ud);
/* -ENOENT; -EBUSY: the host still has allocations. */
int store_host_delete(struct store *s, const char *id);

/* Sums of what VMs reserve on host_id. */
int store_alloc_totals(struct store *s, const char *host_id, uint64_t *ret_vcpus,
		       uint64_t *ret_memory_mib, uint64_t *ret_vms);
/* Sets (insert or replace) the reservation of vm_id. */
int store_alloc_set(struct store *s, const char *vm_id, const char *host_id, uint64_t vcpus,
		    uint64_t memory_mib);
int store_alloc_delete(struct store *s, const char *vm_id);

/* ---- operations ---- */

struct store_op {
	char id[37];
	char kind[32];
	char vm_id[37];
	char vm_name[64];
	char status[16];      /* running, success, failure, cancelled */
	int progress;
	char message[256];
	json_t *error;        /* owned, may be NULL */
	json_t *result;       /* owned, may be NULL */
	json_t *request;      /* owned, may be NULL: the body that started it */
	int64_t created_at;
	int64_t updated_at;
	int64_t finished_at;  /* 0: not finished */
};

void store_op_clear(struct store_op *op);
int store_op_insert(struct store *s, const struct store_op *op);
/* Writes status, progress, message, error, result, updated/finished_at. */
int store_op_update(struct store *s, const struct store_op *op);
int store_op_get(struct store *s, const char *id, struct store_op *ret_op);
int store_op_list(struct store *s, const char *status, int limit,
		  int (*cb)(const struct store_op *op, void *ud), void *ud);
/* Marks every running operation failed with reason; returns how many. */
int store_op_fail_running(struct store *s, const char *reason);

/* ---- events ---- */

/* Appends an event; data is borrowed. Returns its id (> 0) in ret_id. */
int store_event_append(struct store *s, const char *type, int64_t time_ms, const json_t *data,
		       int64_t *ret_id);
/* Calls cb for events with id > after_id, oldest first, at most limit. */
int store_event_since(struct store *s, int64_t after_id, int limit,
		      int (*cb)(int64_t id, const char *type, int64_t time_ms, const char *data, void *ud),
		      void *ud);
/* Keeps only the newest keep events. */
int store_event_trim(struct store *s, unsigned keep);
int64_t store_event_last_id(struct store *s);

/* ---- API tokens ---- */

struct store_token {
	char id[37];
	char name[64];
	char role[16];        /* admin, read-only */
	char hash[65];        /* hex SHA-256 of the secret */
	int64_t created_at;
	int64_t last_used_at;
};

/* -EEXIST: name taken. */
int store_token_insert(struct store *s, const struct store_token *t);
int store_token_find_hash(struct store *s, const char *hash, struct store_token *ret_token);
int store_token_get(struct store *s, const char *name_or_id, struct store_token *ret_token);
int store_token_list(struct store *s, int (*cb)(const struct store_token *t, void *ud), void *ud);
int store_token_touch(struct store *s, const char *id, int64_t when_ms);
int store_token_delete(struct store *s, const char *id);

/* ---- snapshots ---- */

struct store_snapshot {
	char id[37];
	char vm_id[37];
	char name[64];
	bool memory;
	char state[16];       /* creating, ready */
	char vm_state[16];    /* the VM's state when it was taken */
	char path[512];       /* its directory */
	json_t *definition;   /* owned, may be NULL */
	int64_t size_bytes;
	int64_t created_at;
};

void store_snapshot_clear(struct store_snapshot *snap);
/* -EEXIST: the VM has a snapshot of that name. */
int store_snapshot_insert(struct store *s, const struct store_snapshot *snap);
int store_snapshot_get(struct store *s, const char *vm_id, const char *name_or_id,
		       struct store_snapshot *ret_snap);
int store_snapshot_list(struct store *s, const char *vm_id, const char *state,
			int (*cb)(const struct store_snapshot *snap, void *ud), void *ud);
int store_snapshot_set_ready(struct store *s, const char *id, int64_t size_bytes);
int store_snapshot_delete(struct store *s, const char *id);

/* ---- key/value metadata (host id, ...) ---- */
int store_meta_get(struct store *s, const char *key, char *buf, size_t buflen);
int store_meta_set(struct store *s, const char *key, const char *value);

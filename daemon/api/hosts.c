/* hosts.c - /v1/hosts: cluster members, their capacity and what is
 * allocated on them. The local host is registered at start-up from the
 * configuration; remote hosts are registered here (scheduling across them
 * comes with the cluster work). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/handlers.h"
#include "cluster/capacity.h"
#include "events.h"
#include "hvd.h"
#include "store/store.h"

static json_t *host_json(struct hvd *hvd, const struct store_host *h)
{
	struct sched_usage u = {
		.cap_vcpus = h->cap_vcpus, .cap_memory_mib = h->cap_memory_mib,
		.cpu_overcommit = h->cpu_overcommit, .memory_overcommit = h->memory_overcommit,
	};
	uint64_t vms = 0;
	char created[32];

	store_alloc_totals(hvd->store, h->id, &u.alloc_vcpus, &u.alloc_memory_mib, &vms);
	store_format_time(h->created_at, created);
	return json_pack("{s:s, s:s, s:o, s:b, s:s, s:{s:I, s:I}, s:{s:f, s:f}, s:{s:I, s:I},"
			 " s:{s:I, s:I}, s:{s:I, s:I}, s:I, s:s}",
			 "id", h->id, "name", h->name, "url", h->url[0] ? json_string(h->url) : json_null(),
			 "local", h->local, "state", h->state,
			 "capacity", "vcpus", (json_int_t)h->cap_vcpus, "memory_mib", (json_int_t)h->cap_memory_mib,
			 "overcommit", "cpu", h->cpu_overcommit, "memory", h->memory_overcommit,
			 "allocatable", "vcpus", (json_int_t)sched_allocatable(h->cap_vcpus, h->cpu_overcommit),
			 "memory_mib", (json_int_t)sched_allocatable(h->cap_memory_mib, h->memory_overcommit),
			 "allocated", "vcpus", (json_int_t)u.alloc_vcpus, "memory_mib", (json_int_t)u.alloc_memory_mib,
			 "free", "vcpus", (json_int_t)sched_free_vcpus(&u), "memory_mib",
			 (json_int_t)sched_free_memory_mib(&u),
			 "vms", (json_int_t)vms, "created_at", created);
}

struct list_ctx {
	struct hvd *hvd;
	json_t *arr;
};

static int list_one(const struct store_host *h, void *ud)
{
	struct list_ctx *c = ud;

	return json_array_append_new(c->arr, host_json(c->hvd, h)) == 0 ? 0 : -ENOMEM;
}

void api_hosts_list(struct api_request *req)
{
	struct list_ctx c = { req->hvd, json_array() };
	int r = store_host_list(req->hvd->store, list_one, &c);

	if (r < 0) {
		json_decref(c.arr);
		api_reply_errno(req, r, "listing hosts");
		return;
	}
	api_reply_json(req, 200, json_pack("{s:o}", "hosts", c.arr));
}

void api_hosts_get(struct api_request *req)
{
	struct store_host h;
	int r = store_host_get(req->hvd->store, req->params[0], &h);

	if (r < 0) {
		if (r == -ENOENT)
			api_reply_error(req, 404, "not_found", NULL, "host %.64s not found", req->params[0]);
		else
			api_reply_errno(req, r, "host");
		return;
	}
	api_reply_json(req, 200, host_json(req->hvd, &h));
}

void api_hosts_create(struct api_request *req)
{
	struct hvd *hvd = req->hvd;
	struct store_host h = { 0 };
	json_t *cap = json_object_get(req->json, "capacity");
	char loc[128];
	int r;

	hvd_uuid(h.id);
	snprintf(h.name, sizeof(h.name), "%s", json_string_value(json_object_get(req->json, "name")));
	snprintf(h.url, sizeof(h.url), "%s", json_string_value(json_object_get(req->json, "url")));
	snprintf(h.state, sizeof(h.state), "unknown");
	h.cap_vcpus = (uint64_t)json_integer_value(json_object_get(cap, "vcpus"));
	h.cap_memory_mib = (uint64_t)json_integer_value(json_object_get(cap, "memory_mib"));
	h.cpu_overcommit = hvd->cfg.cpu_overcommit;
	h.memory_overcommit = hvd->cfg.memory_overcommit;
	h.created_at = store_now_ms();
	if ((r = store_begin(hvd->store)) < 0) {
		api_reply_errno(req, r, "saving");
		return;
	}
	r = store_host_put(hvd->store, &h);
	if (r < 0) {
		store_rollback(hvd->store);
		if (r == -EEXIST)
			api_reply_error(req, 409, "conflict", "name", "a host named %s already exists", h.name);
		else
			api_reply_errno(req, r, h.name);
		return;
	}
	events_publish(hvd, "host.added", json_pack("{s:{s:s, s:s}}", "host", "id", h.id, "name", h.name));
	if ((r = store_commit(hvd->store)) < 0) {
		api_reply_errno(req, r, "saving");
		return;
	}
	snprintf(loc, sizeof(loc), "/v1/hosts/%s", h.name);
	api_add_header(req, "Location", loc);
	api_reply_json(req, 201, host_json(hvd, &h));
}

void api_hosts_delete(struct api_request *req)
{
	struct hvd *hvd = req->hvd;
	struct store_host h;
	int r = store_host_get(hvd->store, req->params[0], &h);

	if (r < 0) {
		if (r == -ENOENT)
			api_reply_error(req, 404, "not_found", NULL, "host %.64s not found", req->params[0]);
		else
			api_reply_errno(req, r, "host");
		return;
	}
	if (h.local) {
		api_reply_error(req, 409, "conflict", NULL, "host %s is this daemon's own host", h.name);
		return;
	}
	if ((r = store_begin(hvd->store)) < 0) {
		api_reply_errno(req, r, "saving");
		return;
	}
	r = store_host_delete(hvd->store, h.id);
	if (r < 0) {
		store_rollback(hvd->store);
		if (r == -EBUSY)
			api_reply_error(req, 409, "conflict", NULL, "host %s still has VMs allocated", h.name);
		else
			api_reply_errno(req, r, h.name);
		return;
	}
	events_publish(hvd, "host.removed", json_pack("{s:{s:s, s:s}}", "host", "id", h.id, "name", h.name));
	if ((r = store_commit(hvd->store)) < 0) {
		api_reply_errno(req, r, "saving");
		return;
	}
	api_reply_empty(req, 204);
}

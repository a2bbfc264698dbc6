/* metrics.c - GET /metrics in the Prometheus text format, and the request
 * counters behind it. Counters live in memory (they restart at 0 with the
 * daemon, as Prometheus expects); gauges are read from SQLite when scraped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "cluster/capacity.h"
#include "hvd.h"
#include "ops.h"
#include "store/store.h"

#define MAX_ROUTES 64
#define MAX_STATUSES 16

static const double buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5 };
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

static struct {
	struct {
		unsigned status;
		uint64_t count;
	} by_status[MAX_ROUTES + 1][MAX_STATUSES];
	uint64_t bucket[NBUCKETS];
	uint64_t count;
	double sum;
} m;

void api_metrics_record(int route_index, unsigned status, uint64_t duration_ns)
{
	int r = route_index >= 0 && route_index < MAX_ROUTES ? route_index : MAX_ROUTES;
	double secs = (double)duration_ns / 1e9;

	for (int i = 0; i < MAX_STATUSES; i++) {
		if (m.by_status[r][i].status == status || m.by_status[r][i].status == 0) {
			m.by_status[r][i].status = status;
			m.by_status[r][i].count++;
			break;
		}
	}
	for (size_t b = 0; b < NBUCKETS; b++)
		if (secs <= buckets[b])
			m.bucket[b]++;
	m.count++;
	m.sum += secs;
}

struct out {
	char *buf;
	size_t len;
};

static const char *const states[] = { "stopped", "starting", "running", "paused", "stopping",
				      "crashed", "migrating" };
#define NSTATES (sizeof(states) / sizeof(states[0]))

static void count_state(const char *state, int64_t n, void *ud)
{
	int64_t *counts = ud;

	for (size_t i = 0; i < NSTATES; i++)
		if (strcmp(states[i], state) == 0)
			counts[i] = n;
}

static int host_line(const struct store_host *h, void *ud)
{
	return fprintf(ud, "hvd_host_info{host=\"%s\",local=\"%d\"} 1\n", h->name, h->local) < 0 ? -1 : 0;
}

static int op_count(const struct store_op *op, void *ud)
{
	uint64_t *c = ud;

	if (strcmp(op->status, "running") == 0)
		c[0]++;
	else if (strcmp(op->status, "success") == 0)
		c[1]++;
	else if (strcmp(op->status, "failure") == 0)
		c[2]++;
	else
		c[3]++;
	return 0;
}

void api_metrics_get(struct api_request *req)
{
	struct hvd *hvd = req->hvd;
	int64_t counts[NSTATES] = { 0 };
	struct store_host h;
	struct out o = { 0 };
	uint64_t av = 0, am = 0, n = 0, ops[4] = { 0 };
	FILE *f;

	f = open_memstream(&o.buf, &o.len);
	if (!f) {
		api_reply_errno(req, -ENOMEM, "metrics");
		return;
	}
	fprintf(f, "# HELP hvd_vms VMs defined on this host by last known state.\n# TYPE hvd_vms gauge\n");
	/* every state appears, zero or not, so dashboards see gaps as 0 */
	store_vm_count_states(hvd->store, count_state, counts);
	for (size_t i = 0; i < NSTATES; i++)
		fprintf(f, "hvd_vms{state=\"%s\"} %lld\n", states[i], (long long)counts[i]);
	if (store_host_get(hvd->store, hvd->host_id, &h) == 0) {
		store_alloc_totals(hvd->store, h.id, &av, &am, &n);
		fprintf(f, "# HELP hvd_host_vcpus_capacity vCPUs this host offers before overcommit.\n"
			   "# TYPE hvd_host_vcpus_capacity gauge\nhvd_host_vcpus_capacity %llu\n",
			(unsigned long long)h.cap_vcpus);
		fprintf(f, "# HELP hvd_host_vcpus_allocatable vCPUs after the overcommit ratio.\n"
			   "# TYPE hvd_host_vcpus_allocatable gauge\nhvd_host_vcpus_allocatable %llu\n",
			(unsigned long long)sched_allocatable(h.cap_vcpus, h.cpu_overcommit));
		fprintf(f, "# HELP hvd_host_vcpus_allocated vCPUs reserved by defined VMs.\n"
			   "# TYPE hvd_host_vcpus_allocated gauge\nhvd_host_vcpus_allocated %llu\n",
			(unsigned long long)av);
		fprintf(f, "# HELP hvd_host_memory_mib_capacity Memory this host offers, MiB.\n"
			   "# TYPE hvd_host_memory_mib_capacity gauge\nhvd_host_memory_mib_capacity %llu\n",
			(unsigned long long)h.cap_memory_mib);
		fprintf(f, "# HELP hvd_host_memory_mib_allocatable Memory after the overcommit ratio, MiB.\n"
			   "# TYPE hvd_host_memory_mib_allocatable gauge\nhvd_host_memory_mib_allocatable %llu\n",
			(unsigned long long)sched_allocatable(h.cap_memory_mib, h.memory_overcommit));
		fprintf(f, "# HELP hvd_host_memory_mib_allocated Memory reserved by defined VMs, MiB.\n"
			   "# TYPE hvd_host_memory_mib_allocated gauge\nhvd_host_memory_mib_allocated %llu\n",
			(unsigned long long)am);
	}
	fprintf(f, "# HELP hvd_host_info Known cluster hosts.\n# TYPE hvd_host_info gauge\n");
	store_host_list(hvd->store, host_line, f);
	store_op_list(hvd->store, NULL, 100000, op_count, ops);
	fprintf(f, "# HELP hvd_operations Stored operations by status.\n# TYPE hvd_operations gauge\n"
		   "hvd_operations{status=\"running\"} %llu\nhvd_operations{status=\"success\"} %llu\n"
		   "hvd_operations{status=\"failure\"} %llu\nhvd_operations{status=\"cancelled\"} %llu\n",
		(unsigned long long)ops[0], (unsigned long long)ops[1], (unsigned long long)ops[2],
		(unsigned long long)ops[3]);
	fprintf(f, "# HELP hvd_api_requests_total API requests by route and status.\n"
		   "# TYPE hvd_api_requests_total counter\n");
	for (int r = 0; r <= MAX_ROUTES; r++) {
		const char *route = r < api_nroutes ? api_routes[r].pattern : "other";
		const char *method = r < api_nroutes ? api_routes[r].method : "";

		if (r >= api_nroutes && r != MAX_ROUTES)
			continue;
		for (int i = 0; i < MAX_STATUSES && m.by_status[r][i].status; i++)
			fprintf(f, "hvd_api_requests_total{method=\"%s\",route=\"%s\",status=\"%u\"} %llu\n", method,
				route, m.by_status[r][i].status, (unsigned long long)m.by_status[r][i].count);
	}
	fprintf(f, "# HELP hvd_api_request_duration_seconds Time from request start to completion.\n"
		   "# TYPE hvd_api_request_duration_seconds histogram\n");
	for (size_t b = 0; b < NBUCKETS; b++)
		fprintf(f, "hvd_api_request_duration_seconds_bucket{le=\"%g\"} %llu\n", buckets[b],
			(unsigned long long)m.bucket[b]);
	fprintf(f, "hvd_api_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
		   "hvd_api_request_duration_seconds_sum %.6f\nhvd_api_request_duration_seconds_count %llu\n",
		(unsigned long long)m.count, m.sum, (unsigned long long)m.count);
	fclose(f);
	api_reply_text(req, 200, "text/plain; version=0.0.4", o.buf, o.len);
	free(o.buf);
}

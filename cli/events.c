/* events.c - `hvadm events`: follows GET /v1/events (server-sent events) and prints one line per
 * event: time, type, subject and details; with -o json, the event's JSON on one line.
 *
 * When the stream ends or the connection drops after it was established, hvadm reconnects with
 * Last-Event-ID so nothing is lost or shown twice (hvd replays from its backlog). A first
 * connection that fails, or an error answer, ends the command with status 1. Each line is flushed
 * as it is printed so the command can feed a pipe. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "cleanup.h"
#include "cmd-table.h"
#include "output.h"
#include "sse.h"

struct events_state {
	struct hvadm_ctx *ctx;
	struct hvadm_sse sse;
	bool received;	/* this connection was established (answered 2xx or sent bytes) */
};

/* The name of the thing an event is about: vm, operation, host or token. */
static const char *subject_of(const json_t *ev, const char **kind)
{
	static const char *const keys[] = { "vm", "operation", "host", "token" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *o = json_object_get(ev, keys[i]);

		if (json_is_object(o)) {
			*kind = keys[i];
			return hvadm_jstr(o, "name") ? hvadm_jstr(o, "name") : hvadm_jstr(o, "id");
		}
		if (json_is_string(o)) {
			*kind = keys[i];
			return json_string_value(o);
		}
	}
	*kind = NULL;
	return NULL;
}

/* Human line: "TIME TYPE SUBJECT key=value ..." with the event's other scalar fields. */
static void print_human(const char *type, const json_t *ev)
{
	const char *kind, *subject = subject_of(ev, &kind), *key;
	json_t *v, *sub = kind ? json_object_get(ev, kind) : NULL;

	printf("%s  %s", hvadm_jstr(ev, "time") ? hvadm_jstr(ev, "time") : "-", type);
	if (subject)
		printf("  %s", subject);
	/* details: scalars of the event and of its subject (state, status, progress, ...) */
	for (int pass = 0; pass < 2; pass++) {
		const json_t *o = pass == 0 ? ev : sub;

		if (!json_is_object(o))
			continue;
		json_object_foreach((json_t *)o, key, v) {
			if (pass == 0 && (!strcmp(key, "id") || !strcmp(key, "type") ||
					  !strcmp(key, "time")))
				continue;
			if (pass == 1 && (!strcmp(key, "id") || !strcmp(key, "name") ||
					  (strlen(key) > 3 && !strcmp(key + strlen(key) - 3, "_at"))))
				continue;
			if (json_is_string(v))
				printf(" %s=%s", key, json_string_value(v));
			else if (json_is_integer(v))
				printf(" %s=%lld", key, (long long)json_integer_value(v));
			else if (json_is_boolean(v))
				printf(" %s=%s", key, json_is_true(v) ? "true" : "false");
		}
	}
	putchar('\n');
}

static int on_event(const char *type, const char *data, const char *id, void *userdata)
{
	struct events_state *st = userdata;
	json_t *ev;

	if (st->ctx->output == HVADM_OUTPUT_JSON) {
		/* data is the event's JSON as hvd sent it; one line per event */
		puts(data);
	} else {
		ev = json_loads(data, 0, NULL);
		if (json_is_object(ev))
			print_human(hvadm_jstr(ev, "type") ? hvadm_jstr(ev, "type") : type, ev);
		else
			printf("-  %s  %s\n", type, data);
		json_decref(ev);
	}
	fflush(stdout);
	return ferror(stdout) ? -EPIPE : 0;
}

static int on_data(const char *data, size_t len, void *userdata)
{
	struct events_state *st = userdata;

	st->received = true;
	return hvadm_sse_feed(&st->sse, data, len);
}

int hvadm_cmd_events(struct hvadm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct events_state st = { .ctx = ctx };
	struct hvadm_stream s = { .on_data = on_data, .fd = -1, .userdata = &st };
	struct hvadm_err err;
	bool ever_connected = false, said_retry = false;
	unsigned delay = 1;
	uint64_t since;
	int c, r;

	hvadm_sse_init(&st.sse, on_event, &st);
	while ((c = hvadm_getopt(ctx, argc, argv, ":h", opts)) != -1) {
		switch (c) {
		case 's':
			if (hvadm_parse_uint(optarg, 0, INT64_MAX, &err, &since) < 0)
				return hvadm_usage_error(ctx, "--since: %s", err.msg);
			free(st.sse.last_id);
			st.sse.last_id = strdup(optarg);
			break;
		HVADM_OPT_COMMON_CASES;
		}
	}
	if ((r = hvadm_operands(ctx, argc, argv, 0, 0)))
		goto out;
	for (;;) {
		struct hvadm_response resp = { 0 };

		st.received = false;
		s.last_event_id = st.sse.last_id;
		r = hvadm_http_stream(ctx->http, "/v1/events", &s, &resp);
		if (resp.status && (resp.status < 200 || resp.status > 299)) {
			r = hvadm_fail_response(NULL, &resp);
			hvadm_response_clear(&resp);
			break;
		}
		/* a 2xx answer means the stream was established, even if no event came */
		if (resp.status >= 200 && resp.status <= 299)
			st.received = true;
		hvadm_response_clear(&resp);
		if (ferror(stdout)) {
			r = HVADM_EXIT_FAIL;
			break;
		}
		if (r == 1 || r == -EINTR) {
			/* a callback stopped: output closed or a malformed stream */
			r = r == 1 ? HVADM_EXIT_OK : HVADM_EXIT_INTERRUPTED;
			break;
		}
		if (r < 0 && !ever_connected && !st.received) {
			r = hvadm_fail_transport(ctx, r);
			break;
		}
		if (st.received) {
			ever_connected = true;
			said_retry = false;
			delay = 1;
		}
		if (!said_retry) {
			fprintf(stderr, "hvadm: event stream ended%s%s; reconnecting\n",
				r < 0 ? ": " : "", r < 0 ? hvadm_http_strerror(ctx->http) : "");
			said_retry = true;
		}
		/* keep the last id, drop a half-received event */
		hvadm_sse_reset(&st.sse, 1);
		sleep(delay);
		if (delay < 5)
			delay++;
	}
out:
	hvadm_sse_reset(&st.sse, 0);
	return r;
}

/* events.c - GET /v1/events: the server-sent event stream.
 *
 * Each stream keeps only its position (the last event id sent) and a small
 * buffer; it reads further events from the SQLite backlog when it has sent
 * what it had, and suspends its connection when there is nothing new. The
 * hub wakes it on every publish, a timer every 15 s for a keepalive
 * comment. Two owners share the stream state: the request (until MHD
 * reports it complete) and the response (until MHD destroys it). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "api/handlers.h"
#include "events.h"
#include "hvd.h"
#include "store/store.h"

#define KEEPALIVE_MS 15000
#define BATCH 64

struct sse {
	struct api_request *req;    /* NULL once the request completed */
	struct hvd *hvd;
	struct events_sub *sub;
	uv_timer_t *keepalive;
	int64_t last_id;
	char *buf;
	size_t len, off, cap;
	bool keepalive_due;
	int refs;
};

static void sse_unref(struct sse *s)
{
	if (--s->refs > 0)
		return;
	free(s->buf);
	free(s);
}

static void timer_closed(uv_handle_t *h)
{
	free(h);
}

/* the request completed: stop everything that could touch it */
static void sse_detach(void *p)
{
	struct sse *s = p;

	s->req = NULL;
	if (s->sub)
		events_unsubscribe(s->hvd->events, s->sub);
	s->sub = NULL;
	if (s->keepalive) {
		uv_timer_stop(s->keepalive);
		uv_close((uv_handle_t *)s->keepalive, timer_closed);
		s->keepalive = NULL;
	}
	sse_unref(s);
}

static void sse_free_cls(void *p)
{
	sse_unref(p);
}

static void sse_wake(void *ud)
{
	struct sse *s = ud;

	if (s->req)
		api_request_wake(s->req);
}

static void on_keepalive(uv_timer_t *t)
{
	struct sse *s = t->data;

	s->keepalive_due = true;
	sse_wake(s);
}

static int append(struct sse *s, const char *text, size_t len)
{
	if (s->len + len > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		char *p;

		while (cap < s->len + len)
			cap *= 2;
		p = realloc(s->buf, cap);
		if (!p)
			return -ENOMEM;
		s->buf = p;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, text, len);
	s->len += len;
	return 0;
}

static int format_event(int64_t id, const char *type, int64_t time_ms, const char *data, void *ud)
{
	struct sse *s = ud;
	char head[160];
	int n;

	(void)time_ms;
	/* data is a compact JSON object: splice the id in as its first member */
	n = snprintf(head, sizeof(head), "id: %lld\nevent: %s\ndata: {\"id\":%lld%s", (long long)id, type,
		     (long long)id, data[1] == '}' ? "" : ",");
	if (append(s, head, (size_t)n) < 0 || append(s, data + 1, strlen(data + 1)) < 0 ||
	    append(s, "\n\n", 2) < 0)
		return -ENOMEM;
	s->last_id = id;
	return 0;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct sse *s = cls;
	size_t n;

	(void)pos;
	if (!s->req || s->hvd->stopping)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (s->off == s->len) {
		s->off = s->len = 0;
		if (store_event_since(s->hvd->store, s->last_id, BATCH, format_event, s) < 0 && s->len == 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (s->len == 0 && s->keepalive_due)
			append(s, ": keepalive\n\n", 13);
		s->keepalive_due = false;
	}
	if (s->off < s->len) {
		n = s->len - s->off < max ? s->len - s->off : max;
		memcpy(out, s->buf + s->off, n);
		s->off += n;
		return (ssize_t)n;
	}
	api_request_suspend(s->req, NULL);
	return 0;
}

void api_events_get(struct api_request *req)
{
	const char *since = api_header(req, "Last-Event-ID");
	struct sse *s;
	char *end;

	s = calloc(1, sizeof(*s));
	if (!s) {
		api_reply_errno(req, -ENOMEM, "events");
		return;
	}
	s->req = req;
	s->hvd = req->hvd;
	s->refs = 2;
	if (!since)
		since = api_query(req, "since");
	if (since) {
		long long v = strtoll(since, &end, 10);

		if (*since < '0' || *since > '9' || *end || v < 0) {
			free(s);
			api_reply_error(req, 400, "bad_request", "since", "Last-Event-ID / since must be an event id");
			return;
		}
		s->last_id = v;
	} else {
		s->last_id = store_event_last_id(req->hvd->store);
	}
	s->sub = events_subscribe(req->hvd->events, sse_wake, s);
	s->keepalive = malloc(sizeof(*s->keepalive));
	if (!s->sub || !s->keepalive) {
		if (s->sub)
			events_unsubscribe(req->hvd->events, s->sub);
		free(s->keepalive);
		free(s);
		api_reply_errno(req, -ENOMEM, "events");
		return;
	}
	uv_timer_init(req->hvd->loop, s->keepalive);
	s->keepalive->data = s;
	uv_timer_start(s->keepalive, on_keepalive, KEEPALIVE_MS, KEEPALIVE_MS);
	req->data = s;
	req->data_free = sse_detach;
	api_request_set_timeout(req, 0);
	api_reply_stream(req, 200, "text/event-stream", sse_read, s, sse_free_cls);
	/* a stream with an early failure keeps both owners consistent: if the
	 * response was not created, only the request reference remains */
	if (req->status == 0)
		s->refs = 1;
}

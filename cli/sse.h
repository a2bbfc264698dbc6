/* sse.h - an incremental parser of server-sent events (text/event-stream). */
#ifndef HVADM_SSE_H
#define HVADM_SSE_H

#include <stddef.h>

/* Called once per complete event: its type ("message" when none was given), its data (lines
 * joined with '\n') and its id (NULL when none so far). Returns 0 to go on, non-zero to stop
 * parsing; hvadm_sse_feed then returns that value. */
typedef int (*hvadm_sse_event_fn)(const char *type, const char *data, const char *id,
				  void *userdata);

struct hvadm_sse {
	char *line;		/* the line being assembled */
	size_t line_len, line_cap;
	char *data;		/* data of the event being assembled */
	size_t data_len, data_cap;
	char *type;
	char *last_id;		/* the last id seen: what Last-Event-ID sends on reconnection */
	int after_cr;		/* the previous byte was '\r' (a "\r\n" counts as one end of line) */
	hvadm_sse_event_fn on_event;
	void *userdata;
};

/* Lines and events longer than this are refused (-E2BIG) rather than buffered without bound. */
#define HVADM_SSE_MAX (1u << 20)

void hvadm_sse_init(struct hvadm_sse *p, hvadm_sse_event_fn on_event, void *userdata);
/* Frees the buffers; keeps last_id when keep_id (reconnection), else frees it too. */
void hvadm_sse_reset(struct hvadm_sse *p, int keep_id);

/* Feeds bytes; may call on_event any number of times. Returns 0, the callback's non-zero value,
 * -E2BIG for an over-long line or event, or -ENOMEM. */
int hvadm_sse_feed(struct hvadm_sse *p, const char *buf, size_t len);

#endif

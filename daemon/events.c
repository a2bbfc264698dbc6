/* events.c - the event hub.
 *
 * Events go to SQLite first (the backlog that Last-Event-ID replays from),
 * then subscribers are told that something new exists; they read it back
 * from the store themselves, so a slow client never holds a copy of the
 * stream in memory. The backlog is trimmed every 256 events. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "hvd.h"
#include "log.h"
#include "store/store.h"

struct events_sub {
	void (*notify)(void *ud);
	void *ud;
	struct events_sub *next;
};

struct events_hub {
	struct hvd *hvd;
	struct events_sub *subs;
	unsigned since_trim;
};

int events_hub_new(struct hvd *hvd, struct events_hub **ret_hub)
{
	struct events_hub *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->hvd = hvd;
	*ret_hub = h;
	return 0;
}

struct events_hub *events_hub_free(struct events_hub *hub)
{
	if (!hub)
		return NULL;
	while (hub->subs) {
		struct events_sub *s = hub->subs;

		hub->subs = s->next;
		free(s);
	}
	free(hub);
	return NULL;
}

int64_t events_publish(struct hvd *hvd, const char *type, json_t *data)
{
	struct events_hub *hub = hvd->events;
	int64_t now = store_now_ms(), id = 0;
	char when[32];
	int r;

	if (!data)
		return -ENOMEM;
	store_format_time(now, when);
	json_object_set_new(data, "type", json_string(type));
	json_object_set_new(data, "time", json_string(when));
	r = store_event_append(hvd->store, type, now, data, &id);
	json_decref(data);
	if (r < 0) {
		log_warning("events: cannot record %s: %s", type, strerror(-r));
		return r;
	}
	if (++hub->since_trim >= 256) {
		hub->since_trim = 0;
		store_event_trim(hvd->store, hvd->cfg.event_backlog);
	}
	for (struct events_sub *s = hub->subs, *next; s; s = next) {
		next = s->next;
		s->notify(s->ud);
	}
	return id;
}

struct events_sub *events_subscribe(struct events_hub *hub, void (*notify)(void *ud), void *ud)
{
	struct events_sub *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->notify = notify;
	s->ud = ud;
	s->next = hub->subs;
	hub->subs = s;
	return s;
}

void events_unsubscribe(struct events_hub *hub, struct events_sub *sub)
{
	struct events_sub **pp = &hub->subs;

	while (*pp && *pp != sub)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = sub->next;
		free(sub);
	}
}

json_t *events_vm_ref(const char *id, const char *name)
{
	return json_pack("{s:s, s:s}", "id", id, "name", name);
}

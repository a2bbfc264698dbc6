/* events.h - publishing events: stored for replay, pushed to subscribers. */
#pragma once
#include <stdint.h>
#include <jansson.h>

struct hvd;
struct events_hub;
struct events_sub;

int events_hub_new(struct hvd *hvd, struct events_hub **ret_hub);
struct events_hub *events_hub_free(struct events_hub *hub);

/* Records an event of type with data (stolen; "id", "type" and "time" are
 * added) and wakes every subscriber. Runs inside the caller's transaction
 * when there is one, so an event is durable exactly when the change it
 * describes is. Returns the event id or -errno (logged). */
int64_t events_publish(struct hvd *hvd, const char *type, json_t *data);

/* notify(ud) is called on the loop thread after each publish until
 * events_unsubscribe. */
struct events_sub *events_subscribe(struct events_hub *hub, void (*notify)(void *ud), void *ud);
void events_unsubscribe(struct events_hub *hub, struct events_sub *sub);

/* A VM summary for event payloads: {"id", "name"}. */
json_t *events_vm_ref(const char *id, const char *name);

/* sse.c - incremental parser of server-sent events, as the WHATWG HTML standard describes the
 * event-stream format: lines end in "\n", "\r\n" or "\r"; "field: value" lines; ':' comments (hvd's
 * keepalives); a blank line dispatches the event. Only the fields hvd uses matter: data, event, id
 * (retry is ignored: hvadm reconnects on its own schedule).
 *
 * Bytes may arrive split anywhere, even inside a "\r\n" pair; nothing is dispatched before its
 * blank line. Memory is bounded by HVADM_SSE_MAX per line and per event. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sse.h"

void hvadm_sse_init(struct hvadm_sse *p, hvadm_sse_event_fn on_event, void *userdata)
{
	*p = (struct hvadm_sse){ .on_event = on_event, .userdata = userdata };
}

void hvadm_sse_reset(struct hvadm_sse *p, int keep_id)
{
	char *id = p->last_id;

	free(p->line);
	free(p->data);
	free(p->type);
	if (!keep_id) {
		free(id);
		id = NULL;
	}
	hvadm_sse_init(p, p->on_event, p->userdata);
	p->last_id = id;
}

static int append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (n > HVADM_SSE_MAX - *len)
		return -E2BIG;
	if (*len + n + 1 > *cap) {
		size_t c = *cap ? *cap : 256;
		char *b;

		while (c < *len + n + 1)
			c *= 2;
		b = realloc(*buf, c);
		if (!b)
			return -ENOMEM;
		*buf = b;
		*cap = c;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

static int dispatch(struct hvadm_sse *p)
{
	int r = 0;

	if (p->data_len > 0) {
		/* the data buffer ends with the '\n' added after its last line */
		p->data[--p->data_len] = '\0';
		r = p->on_event(p->type ? p->type : "message", p->data, p->last_id, p->userdata);
	}
	p->data_len = 0;
	free(p->type);
	p->type = NULL;
	return r;
}

static int process_line(struct hvadm_sse *p)
{
	char *line = p->line ? p->line : (char *)"";
	char *colon, *value;
	int r;

	if (p->line_len == 0)
		return dispatch(p);
	if (line[0] == ':')
		return 0;
	colon = strchr(line, ':');
	if (colon) {
		*colon = '\0';
		value = colon + 1;
		if (*value == ' ')
			value++;
	} else {
		value = line + p->line_len;	/* a field with no value */
	}
	if (strcmp(line, "data") == 0) {
		if ((r = append(&p->data, &p->data_len, &p->data_cap, value, strlen(value))) < 0)
			return r;
		return append(&p->data, &p->data_len, &p->data_cap, "\n", 1);
	}
	if (strcmp(line, "event") == 0) {
		free(p->type);
		p->type = strdup(value);
		return p->type ? 0 : -ENOMEM;
	}
	if (strcmp(line, "id") == 0) {
		free(p->last_id);
		p->last_id = strdup(value);
		return p->last_id ? 0 : -ENOMEM;
	}
	return 0;
}

int hvadm_sse_feed(struct hvadm_sse *p, const char *buf, size_t len)
{
	size_t i = 0;
	int r;

	while (i < len) {
		size_t start = i;

		if (p->after_cr && buf[i] == '\n') {
			p->after_cr = 0;
			i++;
			continue;
		}
		p->after_cr = 0;
		while (i < len && buf[i] != '\n' && buf[i] != '\r')
			i++;
		if ((r = append(&p->line, &p->line_len, &p->line_cap, buf + start, i - start)) < 0)
			return r;
		if (i == len)
			break;
		p->after_cr = buf[i] == '\r';
		i++;
		r = process_line(p);
		p->line_len = 0;
		if (p->line)
			p->line[0] = '\0';
		if (r)
			return r;
	}
	return 0;
}

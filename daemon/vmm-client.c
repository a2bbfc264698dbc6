/* vmm-client.c - JSON-lines client for a VMM's control socket.
 *
 * Responses are matched to requests by order (the VMM answers in order);
 * a response with no request waiting, a line over 64 KiB, or a line that
 * is not a JSON object is a protocol violation and closes the connection:
 * the daemon trusts its VMM processes no more than it must. The memory of
 * a client is released in the pipe's close callback, so vmmc_free may be
 * called from any callback. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vmm-client.h"

#define MAX_LINE (64 * 1024)

struct pending {
	vmmc_reply_cb cb;
	void *ud;
	struct pending *next;
};

struct write_req {
	uv_write_t req;
	char *data;
};

struct vmmc {
	uv_pipe_t pipe;
	uv_connect_t conn;
	const struct vmmc_ops *ops;
	void *ud;
	char *buf;
	size_t len;
	struct pending *head, *tail;
	bool closing;
	bool connected;
};

static void fail_pending(struct vmmc *c)
{
	while (c->head) {
		struct pending *p = c->head;

		c->head = p->next;
		if (!c->head)
			c->tail = NULL;
		p->cb(c, NULL, p->ud);
		free(p);
	}
}

static void on_closed(uv_handle_t *h)
{
	struct vmmc *c = h->data;

	free(c->buf);
	free(c);
}

void vmmc_free(struct vmmc *c)
{
	if (!c || c->closing)
		return;
	c->closing = true;
	fail_pending(c);
	uv_close((uv_handle_t *)&c->pipe, on_closed);
}

/* the connection ends: tell pending requesters, then the owner */
static void lost(struct vmmc *c, const char *why)
{
	if (c->closing)
		return;
	uv_read_stop((uv_stream_t *)&c->pipe);
	fail_pending(c);
	if (c->ops->closed)
		c->ops->closed(c, why, c->ud);
}

static void handle_line(struct vmmc *c, const char *line, size_t len)
{
	json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	struct pending *p;

	if (!json_is_object(j)) {
		json_decref(j);
		lost(c, "protocol error: a line is not a JSON object");
		return;
	}
	if (json_is_string(json_object_get(j, "event"))) {
		if (c->ops->event)
			c->ops->event(c, j, c->ud);
		json_decref(j);
		return;
	}
	p = c->head;
	if (!p) {
		json_decref(j);
		lost(c, "protocol error: a response nobody asked for");
		return;
	}
	c->head = p->next;
	if (!c->head)
		c->tail = NULL;
	p->cb(c, j, p->ud);
	free(p);
	json_decref(j);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char scratch[16384];

	(void)h;
	(void)suggested;
	/* one loop thread: a static buffer is safe, lines are copied out */
	*buf = uv_buf_init(scratch, sizeof(scratch));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct vmmc *c = s->data;
	char *nl;

	if (n < 0) {
		lost(c, n == UV_EOF ? "the VMM closed its control socket" : uv_strerror((int)n));
		return;
	}
	if (n == 0 || c->closing)
		return;
	if (c->len + (size_t)n > MAX_LINE + 16384) {
		lost(c, "protocol error: line too long");
		return;
	}
	{
		char *p = realloc(c->buf, c->len + (size_t)n);

		if (!p) {
			lost(c, "out of memory");
			return;
		}
		c->buf = p;
	}
	memcpy(c->buf + c->len, buf->base, (size_t)n);
	c->len += (size_t)n;
	while (!c->closing && (nl = memchr(c->buf, '\n', c->len))) {
		size_t line = (size_t)(nl - c->buf);

		handle_line(c, c->buf, line);
		if (c->closing)
			return;
		memmove(c->buf, nl + 1, c->len - line - 1);
		c->len -= line + 1;
	}
	if (c->len > MAX_LINE)
		lost(c, "protocol error: line too long");
}

static void on_connect(uv_connect_t *req, int status)
{
	struct vmmc *c = req->data;

	if (c->closing)
		return;
	if (status < 0) {
		if (c->ops->connect_failed)
			c->ops->connect_failed(c, status, c->ud);
		return;
	}
	c->connected = true;
	uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
	if (c->ops->connected)
		c->ops->connected(c, c->ud);
}

static int client_new(uv_loop_t *loop, const struct vmmc_ops *ops, void *ud, struct vmmc **ret)
{
	struct vmmc *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	r = uv_pipe_init(loop, &c->pipe, 0);
	if (r < 0) {
		free(c);
		return r;
	}
	c->pipe.data = c;
	c->conn.data = c;
	c->ops = ops;
	c->ud = ud;
	*ret = c;
	return 0;
}

int vmmc_connect(uv_loop_t *loop, const char *path, const struct vmmc_ops *ops, void *ud,
		 struct vmmc **ret_client)
{
	struct vmmc *c;
	int r = client_new(loop, ops, ud, &c);

	if (r < 0)
		return r;
	uv_pipe_connect(&c->conn, &c->pipe, path, on_connect);
	*ret_client = c;
	return 0;
}

int vmmc_adopt(uv_loop_t *loop, int fd, const struct vmmc_ops *ops, void *ud, struct vmmc **ret_client)
{
	struct vmmc *c;
	int r = client_new(loop, ops, ud, &c);

	if (r < 0) {
		close(fd);
		return r;
	}
	r = uv_pipe_open(&c->pipe, fd);
	if (r < 0)
		close(fd);
	else
		r = uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
	if (r < 0) {
		vmmc_free(c);
		return r;
	}
	c->connected = true;
	*ret_client = c;
	return 0;
}

static void on_written(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;

	(void)status; /* a failed write shows up as a read error too */
	free(w->data);
	free(w);
}

int vmmc_request(struct vmmc *c, const char *cmd, const json_t *extra, vmmc_reply_cb cb, void *ud)
{
	struct write_req *w;
	struct pending *p;
	json_t *msg;
	uv_buf_t b;
	char *text;
	size_t n;
	int r;

	if (c->closing || !c->connected)
		return -ENOTCONN;
	msg = extra ? json_deep_copy(extra) : json_object();
	if (!msg)
		return -ENOMEM;
	json_object_set_new(msg, "cmd", json_string(cmd));
	text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	w = calloc(1, sizeof(*w));
	p = calloc(1, sizeof(*p));
	if (!text || !w || !p)
		goto nomem;
	n = strlen(text);
	w->data = malloc(n + 1);
	if (!w->data)
		goto nomem;
	memcpy(w->data, text, n);
	w->data[n] = '\n';
	free(text);
	b = uv_buf_init(w->data, (unsigned)(n + 1));
	r = uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, on_written);
	if (r < 0) {
		free(w->data);
		free(w);
		free(p);
		return r;
	}
	p->cb = cb;
	p->ud = ud;
	if (c->tail)
		c->tail->next = p;
	else
		c->head = p;
	c->tail = p;
	return 0;
nomem:
	free(text);
	if (w)
		free(w->data);
	free(w);
	free(p);
	return -ENOMEM;
}

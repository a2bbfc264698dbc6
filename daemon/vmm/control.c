/* control.c - the control socket of one VM process.
 *
 * Each line a client sends is one JSON object {"cmd": NAME, "id": any?,
 * ...}; each gets exactly one answer line {"id": ..., "ok": true, ...} or
 * {"id": ..., "ok": false, "error": TEXT}, in order. Events ({"event": ...})
 * go to every client, between answers. A line longer than
 * VMM_CONTROL_MAX_LINE gets an error and the connection is closed; at most
 * VMM_CONTROL_MAX_CLIENTS clients at a time (more are closed at once).
 * Everything runs on the device thread's loop; a handle's memory is freed
 * only in its close callback. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "control.h"
#include "machine.h"

struct client {
	uv_pipe_t pipe;
	struct vmm_control *ctl;
	struct client *next;
	char *buf;
	size_t len;
	bool closing;
};

struct vmm_control {
	/* the client whose freeze left the vCPUs paused: if it goes away
	 * before anyone resumes them, the VM resumes by itself (a clone or
	 * snapshot whose daemon died must not leave its source paused) */
	struct client *frozen_by;
	uv_pipe_t server;
	struct vmm_machine *m;
	struct client *clients;
	unsigned nclients;
	char *path;
	bool closing;
	bool server_closed;
	unsigned nclosing;     /* clients whose close callback is pending */
};

/* ctl goes once its server and its last client are closed. */
static void maybe_free(struct vmm_control *ctl)
{
	if (ctl->server_closed && !ctl->clients && !ctl->nclients && !ctl->nclosing) {
		free(ctl->path);
		free(ctl);
	}
}

static void server_closed(uv_handle_t *h);

struct write_req {
	uv_write_t req;
	char *data;
};

static void client_closed(uv_handle_t *h)
{
	struct client *c = h->data;
	struct vmm_control *ctl = c->ctl;

	free(c->buf);
	free(c);
	ctl->nclosing--;
	maybe_free(ctl);
}

static void client_close(struct client *c)
{
	struct vmm_control *ctl = c->ctl;

	if (c->closing)
		return;
	c->closing = true;
	if (ctl->frozen_by == c) {
		ctl->frozen_by = NULL;
		vmm_machine_thaw(ctl->m);
	}
	for (struct client **p = &ctl->clients; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	ctl->nclients--;
	ctl->nclosing++;
	uv_close((uv_handle_t *)&c->pipe, client_closed);
}

static void write_done(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;

	free(w->data);
	free(w);
}

static void client_send(struct client *c, json_t *msg)
{
	struct write_req *w;
	char *s;
	size_t n;
	uv_buf_t buf;

	if (c->closing)
		return;
	s = json_dumps(msg, JSON_COMPACT);
	w = calloc(1, sizeof(*w));
	if (!s || !w) {
		free(s);
		free(w);
		return;
	}
	n = strlen(s);
	/* a fresh buffer with room for the newline (json_dumps sized s exactly) */
	w->data = malloc(n + 2);
	if (!w->data) {
		free(s);
		free(w);
		return;
	}
	memcpy(w->data, s, n);
	free(s);
	w->data[n] = '\n';
	w->data[n + 1] = 0;
	buf = uv_buf_init(w->data, (unsigned)(n + 1));
	if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &buf, 1, write_done) < 0) {
		free(w->data);
		free(w);
	}
}

static json_t *error_reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static json_t *error_reply(const char *fmt, ...)
{
	char text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s}", "ok", 0, "error", text);
}

static json_t *state_reply(struct vmm_machine *m, int r, const char *verb)
{
	if (r == -EALREADY)
		return error_reply("already %s", verb);
	if (r < 0)
		return error_reply("cannot do that while %s",
				   vmm_machine_state_name(m->state));
	return json_pack("{s:b, s:s}", "ok", 1, "state", vmm_machine_state_name(m->state));
}

/* Answers one request; the returned object gets the request's id. */
static json_t *handle(struct vmm_control *ctl, struct client *c, json_t *req)
{
	struct vmm_machine *m = ctl->m;
	const char *cmd = json_string_value(json_object_get(req, "cmd"));

	if (!cmd)
		return error_reply("request needs a \"cmd\" string");
	if (!strcmp(cmd, "status"))
		return vmm_machine_status(m);
	if (!strcmp(cmd, "stats"))
		return vmm_machine_stats(m);
	if (!strcmp(cmd, "pause") || !strcmp(cmd, "resume") || !strcmp(cmd, "stop"))
		ctl->frozen_by = NULL;   /* someone decides now */
	if (!strcmp(cmd, "pause"))
		return state_reply(m, vmm_machine_pause(m), "paused");
	if (!strcmp(cmd, "resume"))
		return state_reply(m, vmm_machine_resume(m), "running");
	if (!strcmp(cmd, "stop")) {
		vmm_machine_request_stop(m, VMM_STOP_KILLED, 0, "stop request");
		return json_pack("{s:b, s:s}", "ok", 1, "state", "stopping");
	}
	if (!strcmp(cmd, "shutdown")) {
		int r = vmm_machine_shutdown(m);

		if (r == -EAGAIN)
			return error_reply("the guest has not read the keyboard since the last "
					   "shutdown request");
		return state_reply(m, r, "");
	}
	if (!strcmp(cmd, "freeze")) {
		json_t *resume = json_object_get(req, "resume"), *reply = NULL;
		int r;

		if (resume && !json_is_boolean(resume))
			return error_reply("freeze: \"resume\" must be a boolean");
		bool was_running = m->state == VMM_MACHINE_RUNNING;

		r = vmm_machine_freeze(m, !resume || json_is_true(resume), &reply);
		if (r == 0 && was_running && m->state == VMM_MACHINE_PAUSED)
			ctl->frozen_by = c;
		if (r == -ENOTSUP)
			return error_reply("freeze: guest RAM in hugepages cannot be frozen");
		if (r == -EBUSY)
			return state_reply(m, r, "");
		if (r < 0)
			return error_reply("freeze failed: %s", strerror(-r));
		return reply;
	}
	if (!strcmp(cmd, "console_input")) {
		const char *data = json_string_value(json_object_get(req, "data"));

		if (!data)
			return error_reply("console_input needs a \"data\" string");
		return json_pack("{s:b, s:I}", "ok", 1, "accepted",
				 (json_int_t)vmm_machine_console_input(m, data, strlen(data)));
	}
	return error_reply("unknown command \"%s\"", cmd);
}

static void handle_line(struct client *c, const char *line)
{
	json_error_t jerr;
	json_t *req = json_loads(line, 0, &jerr), *reply;

	if (!req || !json_is_object(req)) {
		reply = error_reply("not a JSON object%s%s", req ? "" : ": ", req ? "" : jerr.text);
	} else {
		reply = handle(c->ctl, c, req);
		json_t *id = json_object_get(req, "id");

		if (reply && id)
			json_object_set(reply, "id", id);
	}
	if (reply)
		client_send(c, reply);
	json_decref(reply);
	json_decref(req);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char chunk[16384];   /* one loop thread: data is consumed at once */

	(void)h;
	(void)suggested;
	*buf = uv_buf_init(chunk, sizeof(chunk));
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct client *c = s->data;
	size_t start = 0;

	if (nread < 0) {
		client_close(c);
		return;
	}
	for (ssize_t i = 0; i < nread && !c->closing; i++) {
		if (buf->base[i] != '\n')
			continue;
		size_t part = (size_t)i - start;
		char *line = malloc(c->len + part + 1);

		if (!line) {
			client_close(c);
			return;
		}
		if (c->len)   /* c->buf is NULL until a partial line was kept */
			memcpy(line, c->buf, c->len);
		memcpy(line + c->len, buf->base + start, part);
		line[c->len + part] = 0;
		c->len = 0;
		start = (size_t)i + 1;
		if (line[0])
			handle_line(c, line);
		free(line);
	}
	if (c->closing || start >= (size_t)nread)
		return;
	size_t rest = (size_t)nread - start;
	if (c->len + rest > VMM_CONTROL_MAX_LINE) {
		json_t *e = error_reply("request line longer than %u bytes", VMM_CONTROL_MAX_LINE);

		client_send(c, e);
		json_decref(e);
		client_close(c);
		return;
	}
	char *nb = realloc(c->buf, c->len + rest);
	if (!nb) {
		client_close(c);
		return;
	}
	memcpy(nb + c->len, buf->base + start, rest);
	c->buf = nb;
	c->len += rest;
}

/* A new client on the control's list, its pipe initialized but not yet
 * open; NULL without memory. */
static struct client *client_add(struct vmm_control *ctl)
{
	struct client *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->ctl = ctl;
	uv_pipe_init(ctl->server.loop, &c->pipe, 0);
	c->pipe.data = c;
	c->next = ctl->clients;
	ctl->clients = c;
	ctl->nclients++;
	return c;
}

static void connection_cb(uv_stream_t *server, int status)
{
	struct vmm_control *ctl = server->data;
	struct client *c;

	if (status < 0 || ctl->closing || !(c = client_add(ctl)))
		return;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0 ||
	    ctl->nclients > VMM_CONTROL_MAX_CLIENTS ||
	    uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, read_cb) < 0)
		client_close(c);
}

int vmm_control_adopt(struct vmm_control *ctl, int fd)
{
	struct client *c;
	int r;

	r = ctl->closing || ctl->nclients >= VMM_CONTROL_MAX_CLIENTS ? -EBUSY :
	    !(c = client_add(ctl)) ? -ENOMEM : 0;
	if (r < 0) {
		close(fd);
		return r;
	}
	r = uv_pipe_open(&c->pipe, fd);
	if (r < 0)
		close(fd);
	else
		r = uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, read_cb);
	if (r < 0)
		client_close(c);
	return r;
}

/* The listening socket is made here rather than by uv_pipe_bind: libuv
 * would unlink the path when the handle closes, and a process under
 * seccomp may not (vmm_control_close decides). Returns the fd or -errno. */
static int listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 8) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int vmm_control_open(uv_loop_t *loop, const char *path, struct vmm_machine *m,
		     struct vmm_control **ret)
{
	struct vmm_control *ctl = calloc(1, sizeof(*ctl));
	int r;

	if (!ctl)
		return -ENOMEM;
	ctl->m = m;
	ctl->path = strdup(path);
	if (!ctl->path) {
		free(ctl);
		return -ENOMEM;
	}
	uv_pipe_init(loop, &ctl->server, 0);
	ctl->server.data = ctl;
	r = listen_unix(path);
	if (r >= 0) {
		int fd = r;

		r = uv_pipe_open(&ctl->server, fd);
		if (r < 0)
			close(fd);
	}
	if (r == 0)
		r = uv_listen((uv_stream_t *)&ctl->server, 8, connection_cb);
	if (r < 0) {
		ctl->closing = true;
		uv_close((uv_handle_t *)&ctl->server, server_closed);
		return r;
	}
	*ret = ctl;
	return 0;
}

void vmm_control_broadcast(struct vmm_control *ctl, json_t *msg)
{
	if (!ctl)
		return;
	for (struct client *c = ctl->clients; c; c = c->next)
		client_send(c, msg);
}

static void server_closed(uv_handle_t *h)
{
	struct vmm_control *ctl = h->data;

	ctl->server_closed = true;
	maybe_free(ctl);
}

static void shutdown_done(uv_shutdown_t *req, int status)
{
	struct client *c = req->handle->data;

	free(req);
	client_close(c);
}

void vmm_control_close(struct vmm_control *ctl, bool unlink_path)
{
	if (!ctl || ctl->closing)
		return;
	ctl->closing = true;
	/* shutdown waits for queued writes (the "stopped" event) to leave. */
	for (struct client *c = ctl->clients, *next; c; c = next) {
		uv_shutdown_t *req = malloc(sizeof(*req));

		next = c->next;
		if (!req || uv_shutdown(req, (uv_stream_t *)&c->pipe, shutdown_done) < 0) {
			free(req);
			client_close(c);
		}
	}
	if (unlink_path)
		(void)unlink(ctl->path);
	uv_close((uv_handle_t *)&ctl->server, server_closed);
}


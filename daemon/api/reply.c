/* reply.c - building and queueing HTTP responses.
 *
 * Every reply carries X-Request-Id and the headers the handler added; JSON
 * bodies end with a newline so that curl output is friendly. A request is
 * answered at most once: a second reply is a bug, logged and ignored. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "api/api.h"
#include "log.h"

void api_add_header(struct api_request *req, const char *name, const char *value)
{
	if (req->nheaders == API_MAX_HEADERS)
		return;
	snprintf(req->headers[req->nheaders].name, sizeof(req->headers[0].name), "%s", name);
	snprintf(req->headers[req->nheaders].value, sizeof(req->headers[0].value), "%s", value);
	req->nheaders++;
}

static void queue(struct api_request *req, unsigned status, struct MHD_Response *resp,
		  const char *content_type)
{
	if (!resp) {
		log_error("api: request %s: out of memory building a response", req->id);
		return;
	}
	if (req->status) {
		log_error("api: request %s answered twice (%u then %u)", req->id, req->status, status);
		MHD_destroy_response(resp);
		return;
	}
	MHD_add_response_header(resp, "X-Request-Id", req->id);
	if (content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	for (int i = 0; i < req->nheaders; i++)
		MHD_add_response_header(resp, req->headers[i].name, req->headers[i].value);
	req->status = status;
	if (MHD_queue_response(req->conn, status, resp) != MHD_YES)
		log_warning("api: request %s: could not queue the %u response", req->id, status);
	MHD_destroy_response(resp);
}

void api_reply_text(struct api_request *req, unsigned status, const char *content_type,
		    const char *text, size_t len)
{
	queue(req, status, MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY),
	      content_type);
}

void api_reply_json(struct api_request *req, unsigned status, json_t *body)
{
	struct MHD_Response *resp;
	char *text;
	size_t len;

	if (!body) {
		api_reply_empty(req, status);
		return;
	}
	text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(body);
	if (!text) {
		queue(req, 500, MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT), NULL);
		return;
	}
	len = strlen(text);
	/* the NUL becomes a trailing newline; the length says where to stop */
	text[len] = '\n';
	resp = MHD_create_response_from_buffer(len + 1, text, MHD_RESPMEM_MUST_COPY);
	free(text);
	queue(req, status, resp, "application/json");
}

void api_reply_error_extra(struct api_request *req, unsigned status, const char *code,
			   const char *field, json_t *extra, const char *fmt, ...)
{
	char msg[1024];
	json_t *err, *probe;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* messages may quote client input: keep them valid UTF-8 */
	probe = json_string(msg);
	if (!probe) {
		for (char *p = msg; *p; p++)
			if ((unsigned char)*p >= 0x80 || (unsigned char)*p < 0x20)
				*p = '?';
	}
	json_decref(probe);
	err = json_pack("{s:s, s:s, s:s}", "code", code, "message", msg, "request_id", req->id);
	if (err && field)
		json_object_set_new(err, "field", json_string(field));
	if (err && extra)
		json_object_update(err, extra);
	json_decref(extra);
	api_reply_json(req, status, json_pack("{s:o}", "error", err ? err : json_object()));
}

void api_reply_empty(struct api_request *req, unsigned status)
{
	queue(req, status, MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT), NULL);
}

void api_reply_stream(struct api_request *req, unsigned status, const char *content_type,
		      ssize_t (*reader)(void *cls, uint64_t pos, char *buf, size_t max),
		      void *cls, void (*free_cls)(void *cls))
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, reader, cls, free_cls);
	if (resp)
		MHD_add_response_header(resp, "Cache-Control", "no-cache");
	queue(req, status, resp, content_type);
}

void api_reply_errno(struct api_request *req, int err, const char *what)
{
	switch (err) {
	case -ENOENT:
		api_reply_error(req, 404, "not_found", NULL, "%s: not found", what);
		break;
	case -EEXIST:
		api_reply_error(req, 409, "conflict", "name", "%s: the name is already taken", what);
		break;
	case -EADDRINUSE:
		api_reply_error(req, 409, "conflict", "nics", "%s: a MAC address is already used by another VM", what);
		break;
	case -ESTALE:
		api_reply_error(req, 412, "precondition_failed", NULL,
				"%s: changed since it was read (If-Match does not match)", what);
		break;
	case -EBUSY:
		api_reply_error(req, 409, "busy", NULL, "%s: busy, try again", what);
		break;
	case -ENOSPC:
		api_reply_error(req, 507, "insufficient_storage", NULL, "%s: no space left on the state device", what);
		break;
	default:
		log_error("api: request %s: %s: %s", req->id, what, strerror(-err));
		api_reply_error(req, 503, "unavailable", NULL, "%s: %s; try again", what, strerror(-err));
		break;
	}
}

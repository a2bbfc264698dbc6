/* http.h - hvadm's HTTP client for the hvd API (libcurl): one request at a time, JSON in and out,
 * plus long-lived streams for events and the console. */
#ifndef HVADM_HTTP_H
#define HVADM_HTTP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

/* How to reach hvd: a Unix socket, or a URL (TLS verified against the system CAs or cacert). */
struct hvadm_conn {
	const char *socket_path;	/* used when url is NULL */
	const char *url;		/* base URL, e.g. https://rack1-07:8443 */
	const char *token;		/* bearer token, or NULL */
	const char *cacert;		/* CA bundle for TLS, or NULL for the system's */
	bool insecure;			/* skip TLS certificate and host name checks */
};

struct hvadm_response {
	long status;		/* HTTP status */
	json_t *body;		/* parsed JSON body, NULL when empty or not JSON */
	char *etag;		/* ETag header, or NULL */
	char *location;		/* Location header, or NULL */
	char *raw;		/* body bytes, NUL-terminated (NULL when empty) */
	size_t raw_len;
};

void hvadm_response_clear(struct hvadm_response *r);

struct hvadm_http;

/* Copies what it needs from conn. -ENOMEM, or -EIO when libcurl cannot start. */
int hvadm_http_new(const struct hvadm_conn *conn, struct hvadm_http **ret);
struct hvadm_http *hvadm_http_free(struct hvadm_http *h);

/* What a request goes to, for messages: the socket path or the URL. */
const char *hvadm_http_target(const struct hvadm_http *h);

/* Why the last request got no HTTP answer, e.g. "cannot connect to /run/hvd/hvd.sock: No such
 * file or directory". Valid until the next request. */
const char *hvadm_http_strerror(const struct hvadm_http *h);

/* A flag the transfers watch (set from a SIGINT handler): once it is non-zero, a request or stream
 * in progress stops and returns -EINTR. NULL to stop watching. */
void hvadm_http_watch_interrupt(volatile sig_atomic_t *flag);

/* Sends method path (e.g. "/v1/vms") with an optional JSON body and If-Match value, and fills ret
 * with the answer whatever its status. Returns 0 when an HTTP answer came back (ret is set; clear
 * it), -EINTR when interrupted, or another -errno when there was no answer (the reason is in
 * hvadm_http_strerror; ret is untouched). */
int hvadm_http_request(struct hvadm_http *h, const char *method, const char *path,
		       const json_t *body, const char *if_match, struct hvadm_response *ret);

/* Same with raw body bytes of the given content type. */
int hvadm_http_request_raw(struct hvadm_http *h, const char *method, const char *path,
			   const void *data, size_t len, const char *content_type,
			   struct hvadm_response *ret);

/* A long-lived GET: body bytes go to on_data as they arrive. While it runs, fd (when >= 0) is
 * watched and on_fd is called when it is readable. A callback returning < 0 ends the stream with
 * that error, > 0 ends it cleanly. */
struct hvadm_stream {
	int (*on_data)(const char *data, size_t len, void *userdata);
	int fd;
	int (*on_fd)(int fd, void *userdata);
	const char *last_event_id;	/* sent as Last-Event-ID when not NULL */
	void *userdata;
};

/* Runs a stream. ret->status is the HTTP status; when it is not 2xx the body is not streamed but
 * collected into ret like hvadm_http_request. Returns 0 when the server ended the stream, 1 when
 * a callback ended it, -EINTR when interrupted, another -errno when the transfer failed (reason
 * in hvadm_http_strerror; ret->status is 0 when no answer came). */
int hvadm_http_stream(struct hvadm_http *h, const char *path, const struct hvadm_stream *s,
		      struct hvadm_response *ret);

/* Percent-encodes a path segment or query value (everything but A-Z a-z 0-9 - . _ ~). NULL on
 * out of memory. */
char *hvadm_http_escape(const char *s);

/* prefix, the percent-encoded segment, then suffix (may be NULL): ("/v1/vms/", "web 1",
 * "/start") -> "/v1/vms/web%201/start". NULL on out of memory. */
char *hvadm_http_path(const char *prefix, const char *segment, const char *suffix);

/* Describes an error answer in one line: "<message> (<code>[, field F][, state S])", or
 * "HTTP 502 Bad Gateway" when the body is not an API error. Writes into buf and returns it. */
char *hvadm_http_describe_error(const struct hvadm_response *r, char *buf, size_t len);

#endif

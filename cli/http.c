/* http.c - hvadm's libcurl client for the hvd API.
 *
 * One easy handle serves the plain requests, so the connection (and its TLS session) is reused
 * from one request to the next; streams (events, console) get their own handle in a multi stack so
 * that a plain request (console input) can go out while a stream is open. Responses are held in
 * memory up to HVADM_HTTP_MAX_BODY; a bigger answer is an error, not an allocation without bound.
 * A request either fills its hvadm_response (any HTTP status) or leaves it untouched and says in
 * h->errmsg why no answer came, naming the socket path or URL it tried. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "cleanup.h"
#include "http.h"

#define HVADM_HTTP_MAX_BODY (64u << 20)
#define HVADM_HTTP_TIMEOUT_S 300

struct hvadm_http {
	CURL *easy;
	char *socket_path;
	char *base;		/* "http://localhost" for the socket, else the URL without a final '/' */
	char *token;
	char *cacert;
	bool insecure;
	char errbuf[CURL_ERROR_SIZE];
	char errmsg[CURL_ERROR_SIZE + 512];
};

static volatile sig_atomic_t *interrupt_flag;

void hvadm_http_watch_interrupt(volatile sig_atomic_t *flag)
{
	interrupt_flag = flag;
}

static bool interrupted(void)
{
	return interrupt_flag && *interrupt_flag;
}

void hvadm_response_clear(struct hvadm_response *r)
{
	if (!r)
		return;
	json_decref(r->body);
	free(r->etag);
	free(r->location);
	free(r->raw);
	*r = (struct hvadm_response){ 0 };
}

struct hvadm_http *hvadm_http_free(struct hvadm_http *h)
{
	if (!h)
		return NULL;
	if (h->easy)
		curl_easy_cleanup(h->easy);
	free(h->socket_path);
	free(h->base);
	free(h->token);
	free(h->cacert);
	free(h);
	return NULL;
}

static int dup_opt(const char *s, char **ret)
{
	*ret = NULL;
	if (!s)
		return 0;
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

int hvadm_http_new(const struct hvadm_conn *conn, struct hvadm_http **ret)
{
	static bool global_done;
	struct hvadm_http *h;
	size_t n;

	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return -EIO;
		global_done = true;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	if (dup_opt(conn->token, &h->token) < 0 || dup_opt(conn->cacert, &h->cacert) < 0 ||
	    dup_opt(conn->url ? NULL : conn->socket_path, &h->socket_path) < 0 ||
	    dup_opt(conn->url ? conn->url : "http://localhost", &h->base) < 0) {
		hvadm_http_free(h);
		return -ENOMEM;
	}
	n = strlen(h->base);
	while (n > 0 && h->base[n - 1] == '/')
		h->base[--n] = '\0';
	h->insecure = conn->insecure;
	h->easy = curl_easy_init();
	if (!h->easy) {
		hvadm_http_free(h);
		return -EIO;
	}
	*ret = h;
	return 0;
}

const char *hvadm_http_target(const struct hvadm_http *h)
{
	return h->socket_path ? h->socket_path : h->base;
}

const char *hvadm_http_strerror(const struct hvadm_http *h)
{
	return h->errmsg;
}

struct body_buf {
	char *data;
	size_t len;
	size_t cap;
	bool too_big;
};

static size_t body_append(struct body_buf *b, const char *p, size_t n)
{
	if (n > HVADM_HTTP_MAX_BODY - b->len) {
		b->too_big = true;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *d;

		while (cap < b->len + n + 1)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d)
			return 0;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

static size_t write_body(char *p, size_t size, size_t nmemb, void *userdata)
{
	return body_append(userdata, p, size * nmemb);
}

static int xferinfo(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	return interrupted() ? 1 : 0;
}

/* Options every transfer gets: where to connect, TLS, authentication, no redirects. */
static int setup(struct hvadm_http *h, CURL *e, const char *path, struct curl_slist **headers)
{
	_cleanup_free_ char *url = NULL, *auth = NULL;
	struct curl_slist *l = *headers;

	if (asprintf(&url, "%s%s", h->base, path) < 0)
		return -ENOMEM;
	curl_easy_setopt(e, CURLOPT_URL, url);
	if (h->socket_path)
		curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, h->socket_path);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "hvadm/" HVD_VERSION);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, xferinfo);
	if (h->cacert)
		curl_easy_setopt(e, CURLOPT_CAINFO, h->cacert);
	if (h->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	l = curl_slist_append(l, "Accept: application/json");
	if (l)
		l = curl_slist_append(l, "Expect:");
	if (l && h->token) {
		if (asprintf(&auth, "Authorization: Bearer %s", h->token) < 0)
			return -ENOMEM;
		l = curl_slist_append(l, auth);
	}
	if (!l)
		return -ENOMEM;
	*headers = l;
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, l);
	h->errbuf[0] = '\0';
	h->errmsg[0] = '\0';
	return 0;
}

/* Turns a libcurl failure into -errno and a message that says what was tried. */
static int transfer_error(struct hvadm_http *h, CURL *e, CURLcode c)
{
	long os_errno = 0;
	const char *why = h->errbuf[0] ? h->errbuf : curl_easy_strerror(c);

	if (c == CURLE_ABORTED_BY_CALLBACK && interrupted()) {
		snprintf(h->errmsg, sizeof(h->errmsg), "interrupted");
		return -EINTR;
	}
	curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &os_errno);
	switch (c) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		if (os_errno)
			why = strerror((int)os_errno);
		snprintf(h->errmsg, sizeof(h->errmsg), "cannot connect to %s: %s%s",
			 hvadm_http_target(h), why,
			 os_errno == EACCES && h->socket_path ?
			 " (is this user in the hvd group?)" : "");
		return os_errno ? -(int)os_errno : -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(h->errmsg, sizeof(h->errmsg), "%s: timed out (%s)",
			 hvadm_http_target(h), why);
		return -ETIMEDOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		snprintf(h->errmsg, sizeof(h->errmsg), "%s: TLS: %s (see --cacert)",
			 hvadm_http_target(h), why);
		return -EPROTO;
	case CURLE_GOT_NOTHING:
		snprintf(h->errmsg, sizeof(h->errmsg), "%s: %s%s", hvadm_http_target(h), why,
			 strncmp(h->base, "http://", 7) == 0 && !h->socket_path ?
			 " (does it want https://?)" : "");
		return -ECONNRESET;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		snprintf(h->errmsg, sizeof(h->errmsg), "%s: not a usable http:// or https:// URL "
			 "(%s)", hvadm_http_target(h), why);
		return -EINVAL;
	default:
		snprintf(h->errmsg, sizeof(h->errmsg), "%s: %s", hvadm_http_target(h), why);
		return -EIO;
	}
}

static char *header_value(CURL *e, const char *name)
{
	struct curl_header *hdr;

	if (curl_easy_header(e, name, 0, CURLH_HEADER, -1, &hdr) != CURLHE_OK)
		return NULL;
	return strdup(hdr->value);
}

/* Fills ret from a finished transfer: status, headers, body (parsed when it is JSON). */
static void collect(CURL *e, struct body_buf *b, struct hvadm_response *ret)
{
	struct hvadm_response r = { 0 };

	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r.status);
	r.etag = header_value(e, "ETag");
	r.location = header_value(e, "Location");
	r.raw = b->data;
	r.raw_len = b->len;
	if (b->len)
		r.body = json_loadb(b->data, b->len, JSON_DECODE_ANY, NULL);
	*b = (struct body_buf){ 0 };
	*ret = r;
}

static int perform(struct hvadm_http *h, const char *method, const char *path,
		   const void *data, size_t len, const char *content_type, const char *if_match,
		   struct hvadm_response *ret)
{
	struct curl_slist *headers = NULL;
	struct body_buf b = { 0 };
	_cleanup_free_ char *ct = NULL, *im = NULL;
	CURL *e = h->easy;
	CURLcode c;
	int r;

	curl_easy_reset(e);
	r = setup(h, e, path, &headers);
	/* Without a body, send no Content-Type (libcurl would claim a form). */
	if (r == 0) {
		if (asprintf(&ct, "Content-Type:%s%s", content_type ? " " : "",
			     content_type ? content_type : "") < 0 ||
		    !(headers = curl_slist_append(headers, ct)))
			r = -ENOMEM;
	}
	if (r == 0 && if_match) {
		if (asprintf(&im, "If-Match: %s", if_match) < 0 ||
		    !(headers = curl_slist_append(headers, im)))
			r = -ENOMEM;
	}
	if (r < 0) {
		curl_slist_free_all(headers);
		snprintf(h->errmsg, sizeof(h->errmsg), "out of memory");
		return r;
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	if (data || strcmp(method, "POST") == 0 || strcmp(method, "PATCH") == 0 ||
	    strcmp(method, "PUT") == 0) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, data ? data : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(data ? len : 0));
	}
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
	/* slow work answers 202 at once and is waited for in 1 s polls: a plain request that takes
	 * minutes means a stuck daemon, and hvadm should say so rather than hang */
	curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)HVADM_HTTP_TIMEOUT_S);
	c = curl_easy_perform(e);
	curl_slist_free_all(headers);
	if (c != CURLE_OK) {
		if (b.too_big) {
			snprintf(h->errmsg, sizeof(h->errmsg), "%s: answer larger than %u MiB",
				 hvadm_http_target(h), HVADM_HTTP_MAX_BODY >> 20);
			r = -EFBIG;
		} else {
			r = transfer_error(h, e, c);
		}
		free(b.data);
		return r;
	}
	collect(e, &b, ret);
	return 0;
}

int hvadm_http_request(struct hvadm_http *h, const char *method, const char *path,
		       const json_t *body, const char *if_match, struct hvadm_response *ret)
{
	_cleanup_free_ char *data = NULL;

	if (body) {
		data = json_dumps(body, JSON_COMPACT);
		if (!data) {
			snprintf(h->errmsg, sizeof(h->errmsg), "cannot encode the request as JSON");
			return -EINVAL;
		}
	}
	return perform(h, method, path, data, data ? strlen(data) : 0,
		       data ? "application/json" : NULL, if_match, ret);
}

int hvadm_http_request_raw(struct hvadm_http *h, const char *method, const char *path,
			   const void *data, size_t len, const char *content_type,
			   struct hvadm_response *ret)
{
	return perform(h, method, path, data, len, content_type, NULL, ret);
}

struct stream_state {
	CURL *e;
	const struct hvadm_stream *s;
	struct body_buf err_body;	/* body of a non-2xx answer */
	int stop;			/* what a callback asked: 0 go on, <0 error, >0 done */
};

static size_t write_stream(char *p, size_t size, size_t nmemb, void *userdata)
{
	struct stream_state *st = userdata;
	size_t n = size * nmemb;
	long status = 0;

	curl_easy_getinfo(st->e, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299)
		return body_append(&st->err_body, p, n);
	st->stop = st->s->on_data(p, n, st->s->userdata);
	return st->stop == 0 ? n : 0;
}

int hvadm_http_stream(struct hvadm_http *h, const char *path, const struct hvadm_stream *s,
		      struct hvadm_response *ret)
{
	struct stream_state st = { .s = s };
	struct curl_slist *headers = NULL;
	_cleanup_free_ char *lei = NULL;
	CURLM *m = NULL;
	CURLMsg *msg;
	CURLcode c = CURLE_OK;
	int running = 1, left, r;

	*ret = (struct hvadm_response){ 0 };
	st.e = curl_easy_init();
	m = curl_multi_init();
	r = st.e && m ? setup(h, st.e, path, &headers) : -ENOMEM;
	if (r == 0 && s->last_event_id) {
		if (asprintf(&lei, "Last-Event-ID: %s", s->last_event_id) < 0 ||
		    !(headers = curl_slist_append(headers, lei)))
			r = -ENOMEM;
		else
			curl_easy_setopt(st.e, CURLOPT_HTTPHEADER, headers);
	}
	if (r < 0) {
		snprintf(h->errmsg, sizeof(h->errmsg), "out of memory");
		goto out;
	}
	curl_easy_setopt(st.e, CURLOPT_WRITEFUNCTION, write_stream);
	curl_easy_setopt(st.e, CURLOPT_WRITEDATA, &st);
	/* TCP keepalive notices a peer that vanished while the stream is idle. */
	curl_easy_setopt(st.e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_multi_add_handle(m, st.e);

	while (running) {
		struct curl_waitfd wfd = { .fd = s->fd, .events = CURL_WAIT_POLLIN };

		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		if (!running || st.stop)
			break;
		curl_multi_poll(m, s->fd >= 0 ? &wfd : NULL, s->fd >= 0 ? 1 : 0, 250, NULL);
		if (interrupted()) {
			snprintf(h->errmsg, sizeof(h->errmsg), "interrupted");
			r = -EINTR;
			goto out;
		}
		if (s->fd >= 0 && (wfd.revents & (CURL_WAIT_POLLIN | POLLHUP))) {
			st.stop = s->on_fd(s->fd, s->userdata);
			if (st.stop)
				break;
		}
	}
	while ((msg = curl_multi_info_read(m, &left)))
		if (msg->msg == CURLMSG_DONE)
			c = msg->data.result;
	curl_easy_getinfo(st.e, CURLINFO_RESPONSE_CODE, &ret->status);
	if (st.stop) {
		r = st.stop < 0 ? st.stop : 1;
	} else if (c != CURLE_OK) {
		r = transfer_error(h, st.e, c);
	} else {
		r = 0;
	}
	if (ret->status && (ret->status < 200 || ret->status > 299)) {
		collect(st.e, &st.err_body, ret);
		r = 0;
	}
out:
	free(st.err_body.data);
	if (m && st.e)
		curl_multi_remove_handle(m, st.e);
	if (st.e)
		curl_easy_cleanup(st.e);
	if (m)
		curl_multi_cleanup(m);
	curl_slist_free_all(headers);
	return r;
}

char *hvadm_http_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out, *o;

	if (n > (SIZE_MAX - 1) / 3)
		return NULL;
	out = o = malloc(n * 3 + 1);
	if (!out)
		return NULL;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			*o++ = (char)ch;
		} else {
			*o++ = '%';
			*o++ = hex[ch >> 4];
			*o++ = hex[ch & 15];
		}
	}
	*o = '\0';
	return out;
}

char *hvadm_http_path(const char *prefix, const char *segment, const char *suffix)
{
	_cleanup_free_ char *e = hvadm_http_escape(segment);
	char *p;

	if (!e || asprintf(&p, "%s%s%s", prefix, e, suffix ? suffix : "") < 0)
		return NULL;
	return p;
}

static const char *reason_phrase(long status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 412: return "Precondition Failed";
	case 413: return "Payload Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 507: return "Insufficient Storage";
	default: return "";
	}
}

char *hvadm_http_describe_error(const struct hvadm_response *r, char *buf, size_t len)
{
	json_t *err = json_object_get(r->body, "error");
	const char *msg = json_string_value(json_object_get(err, "message"));
	const char *code = json_string_value(json_object_get(err, "code"));
	const char *field = json_string_value(json_object_get(err, "field"));
	const char *state = json_string_value(json_object_get(err, "state"));
	json_t *shortv = json_object_get(err, "short");
	char extra[256] = "";
	size_t used = 0;

	if (!json_is_object(err) || (!msg && !code)) {
		snprintf(buf, len, "HTTP %ld %s", r->status, reason_phrase(r->status));
		/* trim the space left when the reason is unknown */
		if (buf[0] && buf[strlen(buf) - 1] == ' ')
			buf[strlen(buf) - 1] = '\0';
		return buf;
	}
	/* the field, unless the message already starts with it ("vcpus: 0 is less ...") */
	if (field && !(msg && strncmp(msg, field, strlen(field)) == 0 && msg[strlen(field)] == ':'))
		used += (size_t)snprintf(extra + used, sizeof(extra) - used, ", field %s", field);
	if (state && used < sizeof(extra))
		used += (size_t)snprintf(extra + used, sizeof(extra) - used, ", state %s", state);
	if (json_is_array(shortv) && used < sizeof(extra)) {
		size_t i;
		json_t *v;

		used += (size_t)snprintf(extra + used, sizeof(extra) - used, ", short:");
		json_array_foreach(shortv, i, v)
			if (json_is_string(v) && used < sizeof(extra))
				used += (size_t)snprintf(extra + used, sizeof(extra) - used, " %s",
							 json_string_value(v));
	}
	snprintf(buf, len, "%s (%s%s)", msg ? msg : code, code ? code : "error", extra);
	return buf;
}

/* server.c - the HTTP server: libmicrohttpd driven from the libuv loop.
 *
 * Each listen address gets its own MHD daemon in external-epoll mode. Its
 * epoll fd is watched with a uv_poll handle and MHD's timeout with a
 * uv_timer, so every request runs on the loop thread and may use SQLite
 * directly. Requests are received completely (bodies up to the configured
 * limit), authenticated, routed, schema-checked and only then handed to
 * their handler. Handlers that wait (operation waits, event streams)
 * suspend their connection; api_server_stop resumes every one of them
 * before MHD is stopped, as MHD requires. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/schema.h"
#include "hvd.h"
#include "log.h"
#include "notify.h"

#define MAX_JSON_DEPTH 32

struct api_listener {
	struct api_server *server;
	struct MHD_Daemon *mhd;
	uv_poll_t poll;
	uv_timer_t timer;
	bool tcp;
	char addr[256];
	char unix_path[108];
	char *tls_cert;
	char *tls_key;
};

struct api_server {
	struct hvd *hvd;
	struct api_listener *ls[CONFIG_MAX_LISTEN];
	int n;
	int open_handles;
	bool stopping;
	struct api_request *suspended;   /* every suspended request */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- driving MHD from the loop ---- */

static void on_timer(uv_timer_t *t);

static void arm(struct api_listener *l)
{
	MHD_UNSIGNED_LONG_LONG timeout;

	if (l->server->stopping)
		return;
	if (MHD_get_timeout(l->mhd, &timeout) == MHD_YES)
		uv_timer_start(&l->timer, on_timer, timeout, 0);
	else
		uv_timer_stop(&l->timer);
}

static void on_timer(uv_timer_t *t)
{
	struct api_listener *l = t->data;

	MHD_run(l->mhd);
	arm(l);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	struct api_listener *l = p->data;

	(void)status;
	(void)events;
	MHD_run(l->mhd);
	arm(l);
}

void api_server_kick(struct api_server *server)
{
	for (int i = 0; i < server->n; i++)
		if (!server->stopping)
			uv_timer_start(&server->ls[i]->timer, on_timer, 0, 0);
}

/* ---- suspension ---- */

void api_request_suspend(struct api_request *req, void (*resume)(struct api_request *req))
{
	req->resume = resume;
	if (req->suspended)
		return;
	req->suspended = true;
	req->wait_next = NULL;
	/* push on the server's list so that stop can resume everyone */
	req->wait_next = req->server->suspended;
	req->server->suspended = req;
	MHD_suspend_connection(req->conn);
}

static void unlink_suspended(struct api_request *req)
{
	struct api_request **pp = &req->server->suspended;

	while (*pp && *pp != req)
		pp = &(*pp)->wait_next;
	if (*pp)
		*pp = req->wait_next;
	req->wait_next = NULL;
}

void api_request_wake(struct api_request *req)
{
	if (!req->suspended)
		return;
	req->suspended = false;
	unlink_suspended(req);
	MHD_resume_connection(req->conn);
	api_server_kick(req->server);
}

void api_request_set_timeout(struct api_request *req, unsigned seconds)
{
	MHD_set_connection_option(req->conn, MHD_CONNECTION_OPTION_TIMEOUT, seconds);
}

/* ---- request helpers ---- */

const char *api_query(struct api_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *api_header(struct api_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

int api_query_uint(struct api_request *req, const char *name, unsigned long min,
		   unsigned long max, unsigned long def, unsigned long *ret)
{
	const char *v = api_query(req, name);
	unsigned long x;
	char *end;

	if (!v) {
		*ret = def;
		return 0;
	}
	errno = 0;
	x = strtoul(v, &end, 10);
	if (*v < '0' || *v > '9' || errno || *end || x < min || x > max) {
		api_reply_error(req, 400, "bad_request", name,
				"query argument %s must be an integer from %lu to %lu", name, min, max);
		return -EINVAL;
	}
	*ret = x;
	return 0;
}

/* ---- the request pipeline ---- */

static int json_depth(const json_t *j, int depth)
{
	const char *key;
	json_t *v;
	size_t i;
	int max = depth;

	if (depth > MAX_JSON_DEPTH)
		return depth;
	if (json_is_object(j)) {
		json_object_foreach((json_t *)j, key, v) {
			int d = json_depth(v, depth + 1);
			if (d > max)
				max = d;
			if (max > MAX_JSON_DEPTH)
				break;
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) {
			int d = json_depth(v, depth + 1);
			if (d > max)
				max = d;
			if (max > MAX_JSON_DEPTH)
				break;
		}
	}
	return max;
}

static bool content_type_ok(const char *ct)
{
	if (!ct || !*ct)
		return true;
	return strncasecmp(ct, "application/json", 16) == 0 ||
	       strncasecmp(ct, "application/merge-patch+json", 28) == 0 ||
	       /* what `curl -d` sends unless told otherwise */
	       strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0 ||
	       strncasecmp(ct, "text/plain", 10) == 0;
}

static bool body_is_blank(const struct api_request *req)
{
	for (size_t i = 0; i < req->body_len; i++)
		if (req->body[i] != ' ' && req->body[i] != '\n' && req->body[i] != '\r' && req->body[i] != '\t')
			return false;
	return true;
}

/* Parses and checks the body against the route's schema. Answers and
 * returns -EINVAL when it is wrong. */
static int prepare_body(struct api_request *req)
{
	const struct api_route *rt = req->route;
	struct schema_error serr;
	json_error_t jerr;
	int r;

	if (req->body_too_large) {
		api_reply_error(req, 413, "payload_too_large", NULL, "request body is larger than %zu bytes",
				req->hvd->cfg.max_body_bytes);
		return -EINVAL;
	}
	if (rt->schema && strcmp(rt->schema, API_RAW_BODY) == 0)
		return 0;
	if (!body_is_blank(req) && !content_type_ok(api_header(req, MHD_HTTP_HEADER_CONTENT_TYPE))) {
		api_reply_error(req, 415, "unsupported_media_type", NULL, "request bodies must be application/json");
		return -EINVAL;
	}
	if (body_is_blank(req)) {
		if (!rt->schema)
			return 0;
		/* an absent body is an empty object: schemas say what is required */
		req->json = json_object();
	} else {
		/* any JSON value parses; the schema then says "must be an object" */
		req->json = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
		if (!req->json) {
			api_reply_error(req, 400, "invalid_json", NULL, "body is not valid JSON: %s at line %d column %d",
					jerr.text, jerr.line, jerr.column);
			return -EINVAL;
		}
		if (json_depth(req->json, 0) > MAX_JSON_DEPTH) {
			api_reply_error(req, 400, "invalid_json", NULL, "body nests deeper than %d levels", MAX_JSON_DEPTH);
			return -EINVAL;
		}
	}
	if (!rt->schema) {
		if (!json_is_object(req->json) || json_object_size(req->json) != 0) {
			api_reply_error(req, 400, "validation_failed", NULL, "%s %s takes no body", rt->method, rt->pattern);
			return -EINVAL;
		}
		return 0;
	}
	r = schema_validate(rt->schema, req->json, &serr);
	if (r == -EINVAL) {
		api_reply_error(req, 400, "validation_failed", serr.field[0] ? serr.field : NULL, "%s", serr.message);
		return -EINVAL;
	}
	if (r < 0) {
		log_error("api: schema %s: %s", rt->schema, strerror(-r));
		api_reply_error(req, 503, "unavailable", NULL, "request schema %s is not available", rt->schema);
		return -EINVAL;
	}
	return 0;
}

static void dispatch(struct api_request *req, const char *url, const char *method)
{
	char allow[64];
	int r;

	req->dispatched = true;
	snprintf(req->method, sizeof(req->method), "%s", method);
	snprintf(req->path, sizeof(req->path), "%s", url);
	r = api_route_match(method, url, &req->route_index, req->params, &req->nparams, allow, sizeof(allow));
	if (r == -EPERM) {
		api_add_header(req, "Allow", allow);
		api_reply_error(req, 405, "method_not_allowed", NULL, "%s is not allowed on %.128s (allowed: %s)",
				method, url, allow);
		return;
	}
	if (r < 0) {
		api_reply_error(req, 404, "not_found", NULL, "no such endpoint: %.128s", url);
		return;
	}
	req->route = &api_routes[req->route_index];
	if (req->role != API_ROLE_ADMIN && (req->route->admin || strcmp(method, "GET") != 0)) {
		api_reply_error(req, 403, "forbidden", NULL, "this token may not %s %s", method, req->route->pattern);
		return;
	}
	if (prepare_body(req) < 0)
		return;
	req->route->handler(req);
	if (!req->status && !req->suspended) {
		log_error("api: request %s: %s %s: handler gave no answer", req->id, method, url);
		api_reply_error(req, 500, "internal_error", NULL, "the handler gave no answer");
	}
}

static void request_id(struct api_request *req)
{
	const char *given = api_header(req, "X-Request-Id");
	uint8_t b[16];

	if (given && strlen(given) <= 32 && strspn(given, "abcdefghijklmnopqrstuvwxyz"
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == strlen(given) && *given) {
		snprintf(req->id, sizeof(req->id), "%s", given);
		return;
	}
	hvd_random(b, sizeof(b));
	for (int i = 0; i < 16; i++)
		snprintf(req->id + 2 * i, 3, "%02x", b[i]);
}

#define BODY_DRAIN_FACTOR 16

static bool too_large_now(struct api_request *req, unsigned long long len, size_t limit)
{
	const char *expect = api_header(req, MHD_HTTP_HEADER_EXPECT);

	if (len <= limit)
		return false;
	if (expect && strcasecmp(expect, "100-continue") == 0)
		return true;
	return len / BODY_DRAIN_FACTOR >= limit;
}

/* First call for a request: set up, authenticate, pre-check the length.
 * Returns false when it already answered. */
static bool begin(struct api_listener *l, struct api_request *req, const char *url, const char *method)
{
	const char *cl;

	request_id(req);
	req->role = API_ROLE_ADMIN;
	if (l->tcp) {
		int r = api_auth_check(req, api_header(req, MHD_HTTP_HEADER_AUTHORIZATION));

		if (r < 0) {
			snprintf(req->method, sizeof(req->method), "%s", method);
			snprintf(req->path, sizeof(req->path), "%s", url);
			req->dispatched = true;
			api_add_header(req, "WWW-Authenticate", "Bearer realm=\"hvd\"");
			api_reply_error(req, 401, "unauthorized", NULL, "a valid bearer token is required");
			return false;
		}
	}
	/* A body over the limit is answered 413 once it has been read (and
	 * dropped: append_body): a client that is still sending when the
	 * answer comes and the connection closes gets a reset instead of the
	 * answer. Early, before the body, only when the client waits for a
	 * go-ahead (Expect: 100-continue) or announces a body too big to be
	 * worth reading. */
	cl = api_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && too_large_now(req, strtoull(cl, NULL, 10), l->server->hvd->cfg.max_body_bytes)) {
		snprintf(req->method, sizeof(req->method), "%s", method);
		snprintf(req->path, sizeof(req->path), "%s", url);
		req->dispatched = true;
		api_reply_error(req, 413, "payload_too_large", NULL, "request body is larger than %zu bytes",
				l->server->hvd->cfg.max_body_bytes);
		return false;
	}
	return true;
}

static void append_body(struct api_request *req, const char *data, size_t len)
{
	size_t limit = req->hvd->cfg.max_body_bytes;

	if (req->body_too_large)
		return;
	if (len > limit - req->body_len) {
		req->body_too_large = true;
		free(req->body);
		req->body = NULL;
		req->body_len = req->body_cap = 0;
		return;
	}
	if (req->body_len + len > req->body_cap) {
		size_t cap = req->body_cap ? req->body_cap : 4096;
		char *p;

		while (cap < req->body_len + len)
			cap *= 2;
		if (cap > limit)
			cap = limit;
		p = realloc(req->body, cap);
		if (!p) {
			req->body_too_large = true;
			return;
		}
		req->body = p;
		req->body_cap = cap;
	}
	memcpy(req->body + req->body_len, data, len);
	req->body_len += len;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **con_cls)
{
	struct api_listener *l = cls;
	struct api_request *req = *con_cls;

	(void)version;
	if (!req) {
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		req->hvd = l->server->hvd;
		req->server = l->server;
		req->conn = conn;
		req->tcp = l->tcp;
		req->route_index = -1;
		req->start_ns = now_ns();
		*con_cls = req;
		begin(l, req, url, method);
		return MHD_YES;
	}
	if (*upload_data_size) {
		append_body(req, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (req->resume) {
		void (*fn)(struct api_request *) = req->resume;

		req->resume = NULL;
		fn(req);
		return MHD_YES;
	}
	if (!req->dispatched)
		dispatch(req, url, method);
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct api_request *req = *con_cls;
	uint64_t dur;

	(void)cls;
	(void)conn;
	if (!req)
		return;
	*con_cls = NULL;
	if (req->suspended)
		unlink_suspended(req);
	dur = now_ns() - req->start_ns;
	api_metrics_record(req->route_index, req->status, dur);
	log_debug("api: request %s %s %s -> %u (%.3f ms)%s", req->id, req->method, req->path,
		  req->status, (double)dur / 1e6,
		  toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection ended early)");
	if (req->data_free)
		req->data_free(req->data);
	json_decref(req->json);
	free(req->body);
	free(req);
}

/* Percent-decoding of URLs and query arguments, in place. Unlike MHD's
 * default, "%00" is left as it is: a decoded NUL would silently cut the
 * path short ("/v1/vms/%00" would become "/v1/vms/"). */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	char *r = s, *w = s;

	(void)cls;
	(void)conn;
	while (*r) {
		if (r[0] == '%' && isxdigit((unsigned char)r[1]) && isxdigit((unsigned char)r[2]) &&
		    !(r[1] == '0' && r[2] == '0')) {
			char hex[3] = { r[1], r[2], 0 };

			*w++ = (char)strtol(hex, NULL, 16);
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("api: libmicrohttpd: %s", msg);
}

/* ---- listening sockets ---- */

static int listen_unix(struct api_listener *l, const char *path, const char *group)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	struct group *gr;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	snprintf(l->unix_path, sizeof(l->unix_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* a socket left behind by a daemon that died is in the way */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(fd);
			return -EADDRINUSE;
		}
		unlink(path);
	}
	/* created 0660 from the start: no window where others can connect */
	mode_t old = umask(0117);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(fd, 256) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	gr = group ? getgrnam(group) : NULL;
	if (gr && chown(path, (uid_t)-1, gr->gr_gid) < 0)
		log_warning("api: cannot give %s to group %s: %m", path, group);
	if (chmod(path, 0660) < 0)
		log_warning("api: chmod 0660 %s: %m", path);
	return fd;
}

static int listen_tcp(const char *spec)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	char host[256], *colon;
	const char *port;
	int fd = -EADDRNOTAVAIL, one = 1;

	snprintf(host, sizeof(host), "%s", spec);
	colon = strrchr(host, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	port = colon + 1;
	/* [::1]:8443 */
	if (host[0] == '[' && colon[-1] == ']') {
		colon[-1] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	if (getaddrinfo(host[0] ? host : NULL, port, &hints, &res) != 0)
		return -EINVAL;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0) {
			fd = -errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 256) == 0)
			break;
		close(fd);
		fd = -errno;
	}
	freeaddrinfo(res);
	return fd;
}

static int read_file(const char *path, char **ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int r = 0;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	buf = malloc(256 * 1024);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	len = fread(buf, 1, 256 * 1024 - 1, f);
	if (ferror(f))
		r = -EIO;
	else if (!feof(f))
		r = -EFBIG;
	fclose(f);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[len] = '\0';
	*ret = buf;
	return 0;
}

static void on_handle_closed(uv_handle_t *h)
{
	struct api_listener *l = h->data;
	struct api_server *s = l->server;

	if (--s->open_handles > 0)
		return;
	for (int i = 0; i < s->n; i++) {
		free(s->ls[i]->tls_cert);
		free(s->ls[i]->tls_key);
		free(s->ls[i]);
	}
	free(s);
}

/* spec: "unix:PATH" or "tcp:HOST:PORT" to open; with fd >= 0 the socket
 * was handed over by systemd and spec only names it. */
static int start_listener(struct api_server *s, const char *spec, int given_fd)
{
	struct hvd_config *cfg = &s->hvd->cfg;
	struct api_listener *l;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	int fd, r;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->server = s;
	snprintf(l->addr, sizeof(l->addr), "%s", spec);
	if (strncmp(spec, "unix:", 5) == 0) {
		fd = given_fd >= 0 ? given_fd : listen_unix(l, spec + 5, cfg->socket_group);
	} else {
		l->tcp = true;
		if (!cfg->tls_cert || !cfg->tls_key) {
			log_error("api: %s: TCP needs --tls-cert and --tls-key (plain HTTP is not offered)", spec);
			free(l);
			return -EINVAL;
		}
		if ((r = read_file(cfg->tls_cert, &l->tls_cert)) < 0) {
			log_error("api: cannot read TLS certificate %s: %s", cfg->tls_cert, strerror(-r));
			free(l);
			return r;
		}
		if ((r = read_file(cfg->tls_key, &l->tls_key)) < 0) {
			log_error("api: cannot read TLS key %s: %s", cfg->tls_key, strerror(-r));
			free(l->tls_cert);
			free(l);
			return r;
		}
		flags |= MHD_USE_TLS;
		fd = given_fd >= 0 ? given_fd : listen_tcp(spec + 4);
	}
	if (fd < 0) {
		log_error("api: cannot listen on %s: %s", spec, strerror(-fd));
		free(l->tls_cert);
		free(l->tls_key);
		free(l);
		return fd;
	}
	if (l->tcp)
		l->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_access, l,
					  MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, l,
					  MHD_OPTION_LISTEN_SOCKET, fd,
					  MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
					  MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout_s,
					  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
					  MHD_OPTION_NOTIFY_COMPLETED, on_completed, l,
					  MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
					  MHD_OPTION_HTTPS_MEM_CERT, l->tls_cert,
					  MHD_OPTION_HTTPS_MEM_KEY, l->tls_key,
					  MHD_OPTION_END);
	else
		l->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_access, l,
					  MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, l,
					  MHD_OPTION_LISTEN_SOCKET, fd,
					  MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
					  MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout_s,
					  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
					  MHD_OPTION_NOTIFY_COMPLETED, on_completed, l,
					  MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
					  MHD_OPTION_END);
	if (!l->mhd) {
		log_error("api: cannot start the HTTP server on %s", spec);
		close(fd);
		free(l->tls_cert);
		free(l->tls_key);
		free(l);
		return -EIO;
	}
	info = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	uv_poll_init(s->hvd->loop, &l->poll, info->epoll_fd);
	uv_timer_init(s->hvd->loop, &l->timer);
	l->poll.data = l;
	l->timer.data = l;
	s->open_handles += 2;
	uv_poll_start(&l->poll, UV_READABLE, on_poll);
	s->ls[s->n++] = l;
	log_info("api: listening on %s%s", spec, l->tcp ? " (TLS, bearer tokens)" : "");
	arm(l);
	return 0;
}

/* Sockets from systemd (hvd.socket): their addresses replace the
 * configured ones. */
static int start_activated(struct api_server *s, int n)
{
	for (int i = 0; i < n && i < CONFIG_MAX_LISTEN; i++) {
		int fd = 3 + i, r;
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char spec[160];

		if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
			return -errno;
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		if (ss.ss_family == AF_UNIX)
			snprintf(spec, sizeof(spec), "unix:%s (socket activation)",
				 ((struct sockaddr_un *)&ss)->sun_path);
		else
			snprintf(spec, sizeof(spec), "tcp:fd%d (socket activation)", fd);
		r = start_listener(s, spec, fd);
		if (r < 0)
			return r;
	}
	return 0;
}

int api_server_start(struct hvd *hvd, struct api_server **ret_server)
{
	struct api_server *s;
	int r, n;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->hvd = hvd;
	n = notify_listen_fds();
	if (n > 0) {
		r = start_activated(s, n);
		if (r < 0) {
			api_server_stop(s);
			return r;
		}
		*ret_server = s;
		return 0;
	}
	for (int i = 0; i < hvd->cfg.n_listen; i++) {
		r = start_listener(s, hvd->cfg.listen[i], -1);
		if (r < 0) {
			api_server_stop(s);
			return r;
		}
	}
	*ret_server = s;
	return 0;
}

struct api_server *api_server_stop(struct api_server *s)
{
	if (!s)
		return NULL;
	/* MHD must not be stopped with suspended connections: wake them, let
	 * their handlers answer (they see hvd->stopping), then stop */
	while (s->suspended)
		api_request_wake(s->suspended);
	s->stopping = true;
	for (int i = 0; i < s->n; i++) {
		struct api_listener *l = s->ls[i];

		MHD_run(l->mhd);
		MHD_stop_daemon(l->mhd);
		l->mhd = NULL;
		if (l->unix_path[0])
			unlink(l->unix_path);
		uv_close((uv_handle_t *)&l->poll, on_handle_closed);
		uv_close((uv_handle_t *)&l->timer, on_handle_closed);
	}
	if (s->open_handles == 0)
		free(s);
	return NULL;
}

void api_server_reload(struct api_server *s)
{
	/* the body limit is read per request from hvd->cfg; connection limits
	 * and addresses are fixed for the life of an MHD daemon */
	(void)s;
}

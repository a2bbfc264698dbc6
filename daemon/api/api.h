/* api.h - the HTTP API's request object, route table and reply helpers.
 *
 * Every handler runs on the loop thread with a fully received and parsed
 * request. It must answer exactly once with one of the api_reply_*
 * functions, or suspend the request with api_request_suspend() and answer
 * when its resume callback runs. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

struct hvd;
struct api_server;
struct MHD_Connection;
struct api_request;

#define API_MAX_PARAMS 3
#define API_PARAM_LEN 128
#define API_MAX_HEADERS 4
#define API_RAW_BODY "raw"

enum api_role {
	API_ROLE_NONE = 0,
	API_ROLE_READ,    /* read-only token: GET only */
	API_ROLE_ADMIN,   /* admin token or the Unix socket */
};

typedef void (*api_handler)(struct api_request *req);

struct api_route {
	const char *method;
	const char *pattern;     /* "/v1/vms/{}/start": {} matches one segment */
	api_handler handler;
	const char *schema;      /* request body schema file; NULL: no body
				  * (or "{}"); API_RAW_BODY: bytes as sent */
	bool admin;              /* needs the admin role even for GET */
};

struct api_request {
	struct hvd *hvd;
	struct api_server *server;
	struct MHD_Connection *conn;
	bool tcp;                         /* came over TCP (TLS) */
	char id[33];                      /* X-Request-Id */
	char method[8];
	char path[256];
	const struct api_route *route;
	int route_index;
	char params[API_MAX_PARAMS][API_PARAM_LEN];
	int nparams;
	char *body;
	size_t body_len;
	size_t body_cap;
	bool body_too_large;
	json_t *json;                     /* parsed body, NULL when none */
	enum api_role role;
	char token_id[37];
	uint64_t start_ns;
	int status;                       /* what was answered, 0 until then */
	bool dispatched;
	bool suspended;
	void (*resume)(struct api_request *req);
	void *data;                       /* the handler's, freed with data_free */
	void (*data_free)(void *data);
	struct {
		char name[32];
		char value[256];
	} headers[API_MAX_HEADERS];
	int nheaders;
	struct api_request *wait_next;    /* link in the server's suspended list */
	struct api_request *op_next;      /* link in an operation's waiter list */
};

/* ---- routing (router.c) ---- */

extern const struct api_route api_routes[];
extern const int api_nroutes;

/* Finds the route for method and path. 0 with ret_index and params filled;
 * -ENOENT: no such path; -EPERM: path exists with other methods, whose
 * names are written to allow ("GET, POST"). -EINVAL: a segment is empty,
 * too long or the path has too many segments. */
int api_route_match(const char *method, const char *path, int *ret_index,
		    char params[API_MAX_PARAMS][API_PARAM_LEN], int *ret_nparams,
		    char *allow, size_t allow_len);

/* ---- replies (reply.c) ---- */

/* Adds a response header (Location, ETag, ...) to the coming reply. */
void api_add_header(struct api_request *req, const char *name, const char *value);
/* Answers with body as JSON (reference stolen; NULL: an empty body). */
void api_reply_json(struct api_request *req, unsigned status, json_t *body);
/* Answers {"error": {code, message, field, request_id}}; field may be NULL.
 * extra (stolen, may be NULL) is merged into the error object. */
void api_reply_error_extra(struct api_request *req, unsigned status, const char *code,
			   const char *field, json_t *extra, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
#define api_reply_error(req, status, code, field, ...) \
	api_reply_error_extra(req, status, code, field, NULL, __VA_ARGS__)
void api_reply_text(struct api_request *req, unsigned status, const char *content_type,
		    const char *text, size_t len);
void api_reply_empty(struct api_request *req, unsigned status);
/* Answers a streaming body produced by reader (MHD content reader). */
void api_reply_stream(struct api_request *req, unsigned status, const char *content_type,
		      ssize_t (*reader)(void *cls, uint64_t pos, char *buf, size_t max),
		      void *cls, void (*free_cls)(void *cls));
/* The error reply for a -errno from the store or a handler helper. */
void api_reply_errno(struct api_request *req, int err, const char *what);

/* ---- request helpers (server.c) ---- */

/* Value of a query argument or header, NULL if absent. */
const char *api_query(struct api_request *req, const char *name);
const char *api_header(struct api_request *req, const char *name);
/* Parses an unsigned query argument in [min, max]; absent: def.
 * On a bad value answers 400 and returns -EINVAL. */
int api_query_uint(struct api_request *req, const char *name, unsigned long min,
		   unsigned long max, unsigned long def, unsigned long *ret);

/* Takes the request off MHD's loop until api_request_wake(); resume is
 * called then, on the loop thread, and must answer or suspend again. */
void api_request_suspend(struct api_request *req, void (*resume)(struct api_request *req));
void api_request_wake(struct api_request *req);
/* Sets the connection's idle timeout (0: none), e.g. for streams. */
void api_request_set_timeout(struct api_request *req, unsigned seconds);
/* Asks the server to run MHD soon (after resuming from outside MHD). */
void api_server_kick(struct api_server *server);

/* ---- server lifecycle (server.c) ---- */

/* Starts listening on every address of hvd->cfg. -errno; on failure
 * nothing is left listening and the reason has been logged. */
int api_server_start(struct hvd *hvd, struct api_server **ret_server);
/* Stops accepting, resumes and ends streams, frees everything. */
struct api_server *api_server_stop(struct api_server *server);
/* Applies reloadable settings (limits) from hvd->cfg. */
void api_server_reload(struct api_server *server);

/* ---- metrics (metrics.c) ---- */
void api_metrics_record(int route_index, unsigned status, uint64_t duration_ns);

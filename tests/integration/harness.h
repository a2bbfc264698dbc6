/* harness.h - running a real hvd for the integration tests.
 *
 * Each test executable starts its daemons on private temporary directories,
 * talks to them over real sockets (libcurl over the Unix socket or over TLS,
 * and raw sockets for requests libcurl will not send), and removes every
 * daemon and directory it made when it exits, also on failure or on a
 * signal (meson's timeout). Checks are soft: a failed CHECK is printed with
 * its location and the test goes on, so one run reports every mismatch;
 * REQUIRE ends the test. The exit status is 0 when every check held, 1
 * otherwise, 77 when the machine lacks something (t_skip). */
#ifndef HVD_TEST_HARNESS_H
#define HVD_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

#define DIR_LEN 128
#define PATH_LEN 512

struct hvd_proc {
	char dir[DIR_LEN];       /* private temporary root */
	char state[DIR_LEN + 8];  /* --state-dir */
	char run[PATH_LEN];      /* --runtime-dir */
	char sock[PATH_LEN];     /* unix: listener */
	char conf[PATH_LEN];     /* --config, written by hvd_setup */
	char log[PATH_LEN];      /* stderr of every daemon started on dir */
	char cert[PATH_LEN];     /* TLS (hvd_setup_tls) */
	char key[PATH_LEN];
	int tcp_port;            /* 0: no TCP listener */
	pid_t pid;               /* 0 when not running */
};

struct http_resp {
	long status;             /* 0: no HTTP response */
	char *body;
	size_t len;
	char *headers;           /* raw header block of the final response */
	json_t *json;            /* parsed body, or NULL */
	char curl_error[256];
};

extern int t_failures;
extern int t_checks;

void t_fail_at(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
_Noreturn void t_abort_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
_Noreturn void t_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints a summary, cleans up and exits 0 or 1. */
_Noreturn void t_done(void);
void t_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define CHECK(cond, ...) do { t_checks++; if (!(cond)) t_fail_at(__FILE__, __LINE__, __VA_ARGS__); } while (0)
#define REQUIRE(cond, ...) do { t_checks++; if (!(cond)) t_abort_at(__FILE__, __LINE__, __VA_ARGS__); } while (0)

/* Sets up cleanup on exit and signals, libcurl, and finds HVD_BIN (skips
 * the test when it is not set or not executable). */
void harness_init(const char *test_name);
const char *harness_hvd_bin(void);

/* Makes a private temporary directory and writes a config file whose body
 * is conf (may be NULL). The daemon is not started. */
void hvd_setup(struct hvd_proc *h, const char *conf);
/* Generates a self-signed certificate for 127.0.0.1 in h->dir and picks a
 * free TCP port; the next hvd_start adds the TLS listener. Skips the test
 * when neither openssl nor certtool is installed. */
void hvd_setup_tls(struct hvd_proc *h);
/* Starts hvd on h's directories and waits until GET /v1 answers 200 on
 * the Unix socket. Aborts the test (printing the daemon log) if it does
 * not come up. */
void hvd_start(struct hvd_proc *h);
/* Sends sig and reaps the daemon; returns its wait status. */
int hvd_stop(struct hvd_proc *h, int sig);
bool hvd_alive(struct hvd_proc *h);
/* VmRSS of the daemon in KiB, -1 if unreadable. */
long hvd_rss_kib(struct hvd_proc *h);
/* True when the daemon runs with AddressSanitizer (its RSS means little). */
bool hvd_is_asan(struct hvd_proc *h);
void hvd_dump_log(struct hvd_proc *h, int lines);

/* One request over the Unix socket. body may be NULL; hdrs is a
 * NULL-terminated list of "Name: value" or NULL. Never returns NULL. */
struct http_resp *http_req(struct hvd_proc *h, const char *method, const char *path,
			   const char *body, const char *const *hdrs);
struct http_resp *http_reqf(struct hvd_proc *h, const char *method, const char *path,
			    const char *const *hdrs, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* One request over HTTPS to h's TCP listener, trusting h's certificate;
 * token may be NULL (no Authorization header). */
struct http_resp *https_req(struct hvd_proc *h, const char *token, const char *method,
			    const char *path, const char *body);
void resp_free(struct http_resp *r);
/* Value of a response header (case-insensitive name) in buf, or NULL. */
const char *resp_header(const struct http_resp *r, const char *name, char *buf, size_t len);
/* Shorthands for members of r->json ("a.b.c" paths, array indexes as numbers). */
json_t *jget(json_t *root, const char *dotted);
const char *jstr(json_t *root, const char *dotted);
long long jint(json_t *root, const char *dotted);

/* Checks r is an error response: status, code, the documented shape
 * {"error":{"code","message","request_id"[,"field"]}}, X-Request-Id equal
 * to request_id, and field when want_field is not NULL. Returns true when
 * everything matched (each mismatch is a failed check at file:line). */
bool check_error_at(const char *file, int line, const struct http_resp *r, long status,
		    const char *code, const char *want_field);
#define CHECK_ERROR(r, status, code, field) check_error_at(__FILE__, __LINE__, (r), (status), (code), (field))
/* Checks the status and that X-Request-Id is present. */
bool check_status_at(const char *file, int line, const struct http_resp *r, long status);
#define CHECK_STATUS(r, status) check_status_at(__FILE__, __LINE__, (r), (status))

/* Raw sockets, for requests libcurl will not send. */
int raw_connect(struct hvd_proc *h);              /* Unix socket; -errno */
int raw_connect_tcp(int port);                    /* 127.0.0.1:port; -errno */
/* Sends data (ignoring a peer that stops reading); when shut_wr, closes
 * the write side after it. Then reads until the peer closes, a complete
 * response (headers + Content-Length body) arrived, or timeout_ms passed
 * without data. Returns the bytes read (malloc'd, NUL-terminated) in
 * *ret_out and their count; the connection is closed. */
ssize_t raw_exchange(int fd, const void *data, size_t len, bool shut_wr, int timeout_ms, char **ret_out);
/* Status code of a raw response ("HTTP/1.1 404 ..."), 0 if none. */
int raw_status(const char *resp, size_t len);

/* Files */
int write_file(const char *path, const void *data, size_t len);
/* Compares two files byte by byte; true when equal. */
bool files_equal(const char *a, const char *b);
/* Number of entries (other than . and ..) in a directory; 0 when absent. */
int dir_entries(const char *path);
void rm_rf(const char *path);
/* Makes (or extends) a sparse file: sized to size bytes unless size is 0,
 * with data_len bytes of pseudo-random data (from seed) written at
 * data_off; what was never written stays a hole. */
void make_sparse_disk(const char *path, unsigned long long size, unsigned long long data_off,
		      unsigned long long data_len, unsigned seed);
/* Waits (bounded) until GET /v1/operations/{id}/wait returns a finished
 * operation; returns it (json owned by the caller) or NULL. */
json_t *wait_op(struct hvd_proc *h, const char *id);
/* Checks that every directory under state/disks belongs to a VM that
 * exists (no half-made clone copies are left). */
void check_no_orphan_disks(struct hvd_proc *h);

#endif

/* progress.c - waiting for an operation: polls hvd and draws a progress bar in place.
 *
 * The bar goes to stderr and only when stdout and stderr are terminals (ctx->tty), so piped output
 * holds nothing but results. It is redrawn with '\r' and erased before anything else is printed.
 * Ctrl-C while waiting is caught only for the duration of the wait: the transfer in flight stops,
 * the line is erased and the user is told the operation continues and how to wait for it again. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "output.h"
#include "progress.h"

#define BAR_WIDTH 24

char *hvadm_progress_line(int percent, const char *message, size_t width, char *buf, size_t len)
{
	size_t used, fill, cols;
	char bar[BAR_WIDTH + 1];

	if (percent < 0)
		percent = 0;
	if (percent > 100)
		percent = 100;
	fill = (size_t)percent * BAR_WIDTH / 100;
	memset(bar, '#', fill);
	memset(bar + fill, '.', BAR_WIDTH - fill);
	bar[BAR_WIDTH] = '\0';
	snprintf(buf, len, "[%s] %3d%%", bar, percent);
	used = strlen(buf);
	cols = used;
	if (message && *message && cols + 2 < width && used + 2 < len) {
		const char *m = message;

		buf[used++] = ' ';
		cols++;
		/* copy whole UTF-8 characters while they fit in the columns and the buffer */
		while (*m && cols < width - 1) {
			size_t n = 1;

			while ((m[n] & 0xc0) == 0x80)
				n++;
			if (used + n + 1 > len)
				break;
			/* control characters would break the line: show them as spaces */
			if ((unsigned char)*m < 0x20 || *m == 0x7f)
				buf[used] = ' ';
			else
				memcpy(buf + used, m, n);
			used += ((unsigned char)*m < 0x20 || *m == 0x7f) ? 1 : n;
			m += n;
			cols++;
		}
		buf[used] = '\0';
	}
	return buf;
}

static volatile sig_atomic_t got_sigint;

static void on_sigint(int sig)
{
	got_sigint = 1;
}

static size_t term_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 80;
}

static void draw(const json_t *op)
{
	char line[1024];

	hvadm_progress_line((int)hvadm_jint(op, "progress", 0), hvadm_jstr(op, "message"),
			    term_width(), line, sizeof(line));
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
}

static void erase(void)
{
	fputs("\r\033[K", stderr);
	fflush(stderr);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One poll: the wait endpoint for up to 1 s, or a plain GET when it is unavailable. */
static int poll_once(struct hvadm_ctx *ctx, const char *id, bool *use_wait,
		     struct hvadm_response *resp)
{
	_cleanup_free_ char *path = NULL;
	int r;

	if (*use_wait) {
		if (asprintf(&path, "/v1/operations/%s/wait?timeout=1", id) < 0)
			return -ENOMEM;
		r = hvadm_http_request(ctx->http, "GET", path, NULL, NULL, resp);
		if (r < 0 || (resp->status != 404 && resp->status != 405 && resp->status != 501))
			return r;
		/* a daemon without the wait endpoint: fall back to GET */
		hvadm_response_clear(resp);
		*use_wait = false;
		free(path);
		path = NULL;
	}
	if (asprintf(&path, "/v1/operations/%s", id) < 0)
		return -ENOMEM;
	usleep(250 * 1000);
	if (got_sigint)
		return -EINTR;
	return hvadm_http_request(ctx->http, "GET", path, NULL, NULL, resp);
}

int hvadm_op_wait(struct hvadm_ctx *ctx, const char *op_id, uint64_t timeout_s, json_t **ret_op)
{
	struct sigaction sa = { .sa_handler = on_sigint }, old;
	_cleanup_free_ char *escaped = hvadm_http_escape(op_id);
	uint64_t deadline = timeout_s ? now_ms() + timeout_s * 1000 : 0;
	bool use_wait = true, drawn = false;
	int r, ret;

	if (!escaped)
		return hvadm_fail("out of memory");
	got_sigint = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);
	hvadm_http_watch_interrupt(&got_sigint);
	for (;;) {
		struct hvadm_response resp = { 0 };
		const char *status;
		uint64_t start = now_ms();

		r = poll_once(ctx, escaped, &use_wait, &resp);
		if (r < 0) {
			if (drawn)
				erase();
			if (r == -EINTR) {
				fprintf(stderr, "hvadm: stopped waiting; operation %s goes on "
					"(`hvadm wait %s` to wait again)\n", op_id, op_id);
				ret = HVADM_EXIT_INTERRUPTED;
			} else {
				ret = hvadm_fail_transport(ctx, r);
			}
			break;
		}
		if (resp.status != 200 || !json_is_object(resp.body)) {
			if (drawn)
				erase();
			ret = resp.status == 200 ?
			      hvadm_fail("operation %s: hvd's answer is not an operation", op_id) :
			      hvadm_fail_response(op_id, &resp);
			hvadm_response_clear(&resp);
			break;
		}
		status = hvadm_jstr(resp.body, "status");
		if (status && strcmp(status, "running") != 0) {
			if (drawn)
				erase();
			*ret_op = HVADM_TAKE_PTR(resp.body);
			hvadm_response_clear(&resp);
			ret = HVADM_EXIT_OK;
			break;
		}
		if (ctx->tty) {
			draw(resp.body);
			drawn = true;
		}
		hvadm_response_clear(&resp);
		/* a daemon that answers the wait at once must not make this loop spin */
		if (now_ms() - start < 200)
			usleep(250 * 1000);
		if (got_sigint)
			continue;
		if (deadline && now_ms() >= deadline) {
			if (drawn)
				erase();
			ret = hvadm_fail("operation %s still running after %llus (it goes on)", op_id,
					 (unsigned long long)timeout_s);
			break;
		}
	}
	hvadm_http_watch_interrupt(NULL);
	sigaction(SIGINT, &old, NULL);
	return ret;
}

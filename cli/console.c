/* console.c - `hvadm console VM`: the VM's serial console.
 *
 * Three modes: a dump (GET /v1/vms/{vm}/console, printed as is); --follow (the same with
 * ?follow=1, streamed until hvd ends it); and, when stdin and stdout are terminals, an attach:
 * the terminal goes to raw mode, output streams as with --follow, and what is typed is sent with
 * POST /v1/vms/{vm}/console (application/octet-stream, the bytes as the body) until Ctrl-]
 * detaches. The terminal is restored on every way out: detach, stream end, error, SIGTERM/SIGHUP
 * (raw mode turns Ctrl-C into a byte for the guest, so SIGINT does not come from the keyboard). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cleanup.h"
#include "cmd-table.h"

#define DETACH_BYTE 0x1d	/* Ctrl-] */

static struct termios saved_termios;
static volatile sig_atomic_t termios_saved;

static void restore_terminal(void)
{
	if (termios_saved) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
		termios_saved = 0;
	}
}

static void on_fatal_signal(int sig)
{
	restore_terminal();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int raw_terminal(void)
{
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &saved_termios) < 0)
		return -errno;
	t = saved_termios;
	cfmakeraw(&t);
	termios_saved = 1;
	signal(SIGTERM, on_fatal_signal);
	signal(SIGHUP, on_fatal_signal);
	atexit(restore_terminal);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) < 0) {
		termios_saved = 0;
		return -errno;
	}
	return 0;
}

struct console_state {
	struct hvadm_ctx *ctx;
	const char *vm;
	char *input_path;
	struct hvadm_response input_err;	/* the answer that refused input, if any */
	int input_errno;			/* or the transport error */
	bool detached;
};

static int on_output(const char *data, size_t len, void *userdata)
{
	if (fwrite(data, 1, len, stdout) != len)
		return -EPIPE;
	fflush(stdout);
	return 0;
}

static int send_input(struct console_state *st, const char *buf, size_t len)
{
	struct hvadm_response resp = { 0 };
	int r;

	if (len == 0)
		return 0;
	r = hvadm_http_request_raw(st->ctx->http, "POST", st->input_path, buf, len,
				   "application/octet-stream", &resp);
	if (r < 0) {
		st->input_errno = r;
		return r;
	}
	if (resp.status < 200 || resp.status > 299) {
		st->input_err = resp;
		return -EIO;
	}
	hvadm_response_clear(&resp);
	return 0;
}

static int on_input(int fd, void *userdata)
{
	struct console_state *st = userdata;
	char buf[4096], *detach;
	ssize_t n;
	int r;

	n = read(fd, buf, sizeof(buf));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	if (n == 0) {
		st->detached = true;	/* end of input: nothing more to send */
		return 1;
	}
	detach = memchr(buf, DETACH_BYTE, (size_t)n);
	r = send_input(st, buf, detach ? (size_t)(detach - buf) : (size_t)n);
	if (r < 0)
		return r;
	if (detach) {
		st->detached = true;
		return 1;
	}
	return 0;
}

int hvadm_cmd_console(struct hvadm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	_cleanup_free_ char *path = NULL, *input_path = NULL;
	struct console_state st = { .ctx = ctx };
	struct hvadm_stream s = { .on_data = on_output, .fd = -1, .userdata = &st };
	struct hvadm_response resp = { 0 };
	bool follow = false, attach;
	int c, r;

	while ((c = hvadm_getopt(ctx, argc, argv, ":hf", opts)) != -1) {
		switch (c) {
		case 'f': follow = true; break;
		HVADM_OPT_COMMON_CASES;
		}
	}
	if ((r = hvadm_operands(ctx, argc, argv, 1, 1)))
		return r;
	st.vm = argv[optind];
	attach = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	path = hvadm_http_path("/v1/vms/", st.vm, follow || attach ? "/console?follow=1" :
			       "/console");
	input_path = hvadm_http_path("/v1/vms/", st.vm, "/console");
	if (!path || !input_path)
		return hvadm_fail("out of memory");

	if (!follow && !attach) {
		r = hvadm_http_request(ctx->http, "GET", path, NULL, NULL, &resp);
		if (r < 0)
			return hvadm_fail_transport(ctx, r);
		if (resp.status < 200 || resp.status > 299)
			r = hvadm_fail_response(st.vm, &resp);
		else if (resp.raw_len && fwrite(resp.raw, 1, resp.raw_len, stdout) != resp.raw_len)
			r = hvadm_fail("writing the console output: %s", strerror(errno));
		else
			r = HVADM_EXIT_OK;
		hvadm_response_clear(&resp);
		return r;
	}

	if (attach) {
		st.input_path = input_path;
		s.fd = STDIN_FILENO;
		s.on_fd = on_input;
		if ((r = raw_terminal()) < 0)
			return hvadm_fail("cannot put the terminal in raw mode: %s", strerror(-r));
		fprintf(stderr, "Connected to the console of %s; detach with Ctrl-]\r\n", st.vm);
	}
	r = hvadm_http_stream(ctx->http, path, &s, &resp);
	restore_terminal();
	if (resp.status && (resp.status < 200 || resp.status > 299)) {
		if (attach)
			fputc('\n', stderr);
		r = hvadm_fail_response(st.vm, &resp);
	} else if (st.input_err.status) {
		fputc('\n', stderr);
		r = hvadm_fail_response(st.vm, &st.input_err);
	} else if (st.input_errno) {
		fputc('\n', stderr);
		r = hvadm_fail_transport(ctx, st.input_errno);
	} else if (r < 0 && r != -EPIPE) {
		r = hvadm_fail_transport(ctx, r);
	} else {
		if (attach)
			fprintf(stderr, "\n%s from the console of %s\n",
				st.detached ? "Detached" : "Disconnected", st.vm);
		r = HVADM_EXIT_OK;
	}
	hvadm_response_clear(&resp);
	hvadm_response_clear(&st.input_err);
	return r;
}

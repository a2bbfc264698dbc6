/* console.c - GET/POST /v1/vms/{vm}/console: the serial console.
 *
 * The VMM appends everything the guest writes to its serial port to
 * runtime_dir/vms/<id>/console.log. GET answers its tail (?tail=BYTES,
 * default 64 KiB); with ?follow=1 it keeps streaming what is appended,
 * checking the file every 100 ms while the stream is idle. POST sends the
 * body (raw bytes, up to 4 KiB) to the guest's serial input. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <microhttpd.h>

#include "api/handlers.h"
#include "api/vm-def.h"
#include "hvd.h"
#include "supervisor.h"

#define POLL_MS 100
#define CONSOLE_MAX_INPUT 4096

struct follow {
	struct api_request *req;    /* NULL once the request completed */
	char path[PATH_MAX];
	int fd;
	off_t pos;
	uv_timer_t *timer;
	int refs;
};

static void console_path(struct api_request *req, const char *vm_id, char *buf, size_t len)
{
	char dir[PATH_MAX - 16];

	sup_vm_dir(req->hvd, vm_id, dir, sizeof(dir));
	snprintf(buf, len, "%s/console.log", dir);
}

static void follow_unref(struct follow *f)
{
	if (--f->refs > 0)
		return;
	if (f->fd >= 0)
		close(f->fd);
	free(f);
}

static void timer_closed(uv_handle_t *h)
{
	free(h);
}

static void follow_detach(void *p)
{
	struct follow *f = p;

	f->req = NULL;
	if (f->timer) {
		uv_timer_stop(f->timer);
		uv_close((uv_handle_t *)f->timer, timer_closed);
		f->timer = NULL;
	}
	follow_unref(f);
}

static void follow_free_cls(void *p)
{
	follow_unref(p);
}

static void on_poll(uv_timer_t *t)
{
	struct follow *f = t->data;

	if (f->req)
		api_request_wake(f->req);
}

static ssize_t follow_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct follow *f = cls;
	ssize_t n;

	(void)pos;
	if (!f->req || f->req->hvd->stopping)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (f->fd < 0)
		f->fd = open(f->path, O_RDONLY | O_CLOEXEC); /* appears when the VM first starts */
	if (f->fd >= 0) {
		struct stat cur, now;

		n = pread(f->fd, buf, max, f->pos);
		if (n > 0) {
			f->pos += n;
			return n;
		}
		/* all read: a new run of the VM starts a new log file */
		if (fstat(f->fd, &cur) == 0 && stat(f->path, &now) == 0 && now.st_ino != cur.st_ino) {
			close(f->fd);
			f->fd = open(f->path, O_RDONLY | O_CLOEXEC);
			f->pos = 0;
		}
	}
	uv_timer_start(f->timer, on_poll, POLL_MS, 0);
	api_request_suspend(f->req, NULL);
	return 0;
}

void api_vm_console_get(struct api_request *req)
{
	unsigned long tail, follow;
	char path[PATH_MAX];
	struct store_vm vm;
	struct follow *f;
	struct stat st;
	int fd;

	if (api_query_uint(req, "tail", 0, 16 << 20, 64 * 1024, &tail) < 0 ||
	    api_query_uint(req, "follow", 0, 1, 0, &follow) < 0)
		return;
	if (vmdef_load(req, &vm) < 0)
		return;
	console_path(req, vm.id, path, sizeof(path));
	store_vm_clear(&vm);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT) {
		api_reply_errno(req, -errno, "console log");
		return;
	}
	if (!follow) {
		char *buf;
		ssize_t n = 0;
		off_t start = 0;

		if (fd >= 0 && fstat(fd, &st) == 0 && (unsigned long)st.st_size > tail)
			start = st.st_size - (off_t)tail;
		buf = malloc(tail + 1);
		if (!buf) {
			if (fd >= 0)
				close(fd);
			api_reply_errno(req, -ENOMEM, "console");
			return;
		}
		if (fd >= 0) {
			n = pread(fd, buf, tail, start);
			close(fd);
		}
		api_reply_text(req, 200, "text/plain; charset=utf-8", buf, n > 0 ? (size_t)n : 0);
		free(buf);
		return;
	}
	f = calloc(1, sizeof(*f));
	if (!f || !(f->timer = malloc(sizeof(*f->timer)))) {
		free(f);
		if (fd >= 0)
			close(fd);
		api_reply_errno(req, -ENOMEM, "console");
		return;
	}
	f->req = req;
	f->fd = fd;
	f->refs = 2;
	snprintf(f->path, sizeof(f->path), "%s", path);
	if (fd >= 0 && fstat(fd, &st) == 0 && (unsigned long)st.st_size > tail)
		f->pos = st.st_size - (off_t)tail;
	uv_timer_init(req->hvd->loop, f->timer);
	f->timer->data = f;
	req->data = f;
	req->data_free = follow_detach;
	api_request_set_timeout(req, 0);
	api_reply_stream(req, 200, "text/plain; charset=utf-8", follow_read, f, follow_free_cls);
	if (req->status == 0)
		f->refs = 1;
}

struct input {
	struct api_request *req;
	bool gone;
	long accepted;
	bool failed;
	char error[200];
};

static void input_detach(void *p)
{
	struct input *in = p;

	in->gone = true; /* on_reply frees it */
}

static void input_resume(struct api_request *req)
{
	struct input *in = req->data;

	if (in->failed)
		api_reply_error(req, 409, "wrong_state", NULL, "console input refused: %s", in->error);
	else
		api_reply_json(req, 200, json_pack("{s:I}", "accepted", (json_int_t)in->accepted));
}

static void on_reply(json_t *resp, void *ud)
{
	struct input *in = ud;

	if (in->gone) {
		free(in);
		return;
	}
	if (!resp || !json_is_true(json_object_get(resp, "ok"))) {
		in->failed = true;
		snprintf(in->error, sizeof(in->error), "%s",
			 resp ? json_string_value(json_object_get(resp, "error")) ?: "?" : "the VM stopped");
	} else {
		in->accepted = (long)json_integer_value(json_object_get(resp, "accepted"));
	}
	in->req->data_free = free;
	api_request_wake(in->req);
}

void api_vm_console_post(struct api_request *req)
{
	struct store_vm vm;
	struct input *in;
	json_t *extra;
	int r;

	if (vmdef_load(req, &vm) < 0)
		return;
	if (req->body_len > CONSOLE_MAX_INPUT) {
		api_reply_error(req, 413, "payload_too_large", NULL, "console input is limited to %d bytes", CONSOLE_MAX_INPUT);
		goto out;
	}
	extra = json_pack("{s:s%}", "data", req->body ? req->body : "", req->body_len);
	if (!extra) {
		api_reply_error(req, 400, "bad_request", NULL, "console input must be UTF-8 text");
		goto out;
	}
	in = calloc(1, sizeof(*in));
	if (!in) {
		json_decref(extra);
		api_reply_errno(req, -ENOMEM, "console");
		goto out;
	}
	in->req = req;
	r = sup_command(req->hvd->sup, vm.id, "console_input", extra, on_reply, in);
	json_decref(extra);
	if (r < 0) {
		free(in);
		api_reply_error_extra(req, 409, "wrong_state", NULL, json_pack("{s:s}", "state", vm.state),
				      "VM %s is not running", vm.name);
		goto out;
	}
	req->data = in;
	req->data_free = input_detach;
	api_request_suspend(req, input_resume);
out:
	store_vm_clear(&vm);
}

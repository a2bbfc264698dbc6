/* vm-freeze.c - see vm-freeze.h. JSON lines on a blocking Unix socket:
 * one request, then lines until the answer (events in between are
 * skipped). Every read and write has a timeout, so a VMM that hangs fails
 * the operation instead of the worker thread. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "disk-copy.h"
#include "supervisor.h"
#include "vm-freeze.h"

#define CTL_TIMEOUT_S 30
#define MAX_REPLY (1 << 20)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int ctl_connect(struct hvd *hvd, const char *vm_id, int *ret_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = CTL_TIMEOUT_S };
	char dir[PATH_MAX];
	int fd, n;

	sup_vm_dir(hvd, vm_id, dir, sizeof(dir));
	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control.sock", dir);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

/* Sends {"cmd": cmd, extra...} and returns the answer (new reference). */
static int ctl_request(int fd, const char *cmd, json_t *extra, json_t **ret)
{
	json_t *req = extra ? extra : json_object();
	char *line, *buf = NULL;
	size_t len = 0, cap = 0;
	int r = 0;

	json_object_set_new(req, "cmd", json_string(cmd));
	line = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!line)
		return -ENOMEM;
	len = strlen(line);
	line[len] = '\n';   /* json_dumps' NUL becomes the newline */
	if (send(fd, line, len + 1, MSG_NOSIGNAL) != (ssize_t)(len + 1))
		r = errno ? -errno : -EIO;
	free(line);
	len = 0;
	while (r == 0) {
		char *nl;
		ssize_t n;

		if (cap - len < 4096) {
			char *nb = cap >= MAX_REPLY ? NULL : realloc(buf, cap + 65536);

			if (!nb) {
				r = -EMSGSIZE;
				break;
			}
			buf = nb;
			cap += 65536;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n <= 0) {
			r = n == 0 ? -ECONNRESET : (errno == EAGAIN ? -ETIMEDOUT : -errno);
			break;
		}
		len += (size_t)n;
		buf[len] = 0;
		while ((nl = strchr(buf, '\n'))) {
			size_t used = (size_t)(nl - buf) + 1;
			json_t *o;

			*nl = 0;
			o = json_loads(buf, 0, NULL);
			memmove(buf, buf + used, len - used + 1);
			len -= used;
			if (o && !json_object_get(o, "event")) {
				*ret = o;
				free(buf);
				return 0;
			}
			json_decref(o);
		}
	}
	free(buf);
	return r;
}

int vm_freeze(struct hvd *hvd, const char *vm_id, bool with_memory, const char *state_path,
	      struct vm_frozen *ret, char *err, size_t errlen)
{
	struct vm_frozen f = { .ctl_fd = -1, .memory_fd = -1 };
	json_t *resp = NULL;
	const char *state;
	int r;

	r = ctl_connect(hvd, vm_id, &f.ctl_fd);
	if (r < 0) {
		snprintf(err, errlen, "cannot reach the VM's control socket: %s", strerror(-r));
		return r;
	}
	r = ctl_request(f.ctl_fd, "status", NULL, &resp);
	state = json_string_value(json_object_get(resp, "state"));
	f.was_running = state && !strcmp(state, "running");
	json_decref(resp);
	resp = NULL;
	f.started_ns = now_ns();
	if (r == 0 && with_memory)
		r = ctl_request(f.ctl_fd, "freeze", json_pack("{s:b}", "resume", 0), &resp);
	else if (r == 0 && f.was_running)
		r = ctl_request(f.ctl_fd, "pause", NULL, &resp);
	if (r < 0) {
		snprintf(err, errlen, "the VMM did not answer: %s", strerror(-r));
		goto fail;
	}
	if (resp && !json_is_true(json_object_get(resp, "ok"))) {
		snprintf(err, errlen, "the VMM refused: %s",
			 json_string_value(json_object_get(resp, "error")) ?: "no reason");
		r = -EBUSY;
		goto fail;
	}
	if (with_memory) {
		pid_t pid = (pid_t)json_integer_value(json_object_get(resp, "pid"));
		char path[64];

		f.memory_bytes = (uint64_t)json_integer_value(json_object_get(resp, "memory_bytes"));
		f.generation = (unsigned)json_integer_value(json_object_get(resp, "generation"));
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid,
			 (int)json_integer_value(json_object_get(resp, "memory_fd")));
		f.memory_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (f.memory_fd < 0) {
			r = -errno;
			snprintf(err, errlen, "cannot open the frozen memory of the VM (%s): %s", path,
				 strerror(-r));
			goto fail;
		}
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid,
			 (int)json_integer_value(json_object_get(resp, "state_fd")));
		r = disk_copy_sparse(path, state_path, NULL, NULL);   /* fsynced, 0600 */
		if (r < 0) {
			snprintf(err, errlen, "cannot save the VM state to %s: %s", state_path,
				 strerror(-r));
			goto fail;
		}
	}
	json_decref(resp);
	*ret = f;
	return 0;
fail:
	json_decref(resp);
	vm_freeze_release(&f);
	return r;
}

int vm_freeze_thaw(struct vm_frozen *f)
{
	json_t *resp = NULL;
	int r = 0;

	if (f->ctl_fd < 0)
		return 0;
	if (f->was_running)
		r = ctl_request(f->ctl_fd, "resume", NULL, &resp);
	f->paused_us = (now_ns() - f->started_ns) / 1000;
	json_decref(resp);
	close(f->ctl_fd);
	f->ctl_fd = -1;
	return r;
}

void vm_freeze_release(struct vm_frozen *f)
{
	vm_freeze_thaw(f);
	if (f->memory_fd >= 0)
		close(f->memory_fd);
	f->memory_fd = -1;
}

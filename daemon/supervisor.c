/* supervisor.c - the life of VMM processes, seen from the daemon.
 *
 * Invariants:
 * - a struct sup_vm exists exactly while its VMM process may be alive;
 *   its end is noticed through a pidfd (which works for processes a
 *   previous daemon started, too) and handled once, in vm_exited();
 * - every state change is written to SQLite before anything else learns
 *   of it (event, waiting requests);
 * - the daemon never kills a VMM it did not decide to stop: leaving (even
 *   crashing) only closes its connections.
 * Process exit statuses of `hvd vmm`: 0 poweroff, 3 reboot, 4 crash,
 * 5 killed, 1 setup error, 2 usage. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/api.h"
#include "events.h"
#include "hvd.h"
#include "log.h"
#include "standby-pool.h"
#include "supervisor.h"
#include "vmm-client.h"
#include "vmm-spawn.h"
#include "vmm/sandbox.h"

/* a VMM binds its control socket a few ms after it was spawned (3-15 ms
 * here): every 1 ms for the first CONNECT_FAST_TRIES (a failed connect
 * costs microseconds, a late one delays the VM's "running"), then every
 * 20 ms */
#define CONNECT_RETRY_FIRST_MS 1
#define CONNECT_FAST_TRIES 50
#define CONNECT_RETRY_MS 20
#define CONNECT_TIMEOUT_MS 15000
#define FORCE_GRACE_MS 5000
#define RESTART_LIMIT 5
#define RESTART_WINDOW_MS (5 * 60 * 1000)


struct watch {
	char vm_id[37];
	struct api_request *req;        /* woken, or: */
	void (*fn)(void *ud);           /* called */
	void *ud;
	struct watch *next;
};

struct restart_hist {
	char vm_id[37];
	int count;
	int64_t window_start;
	struct restart_hist *next;
};

struct sup {
	struct hvd *hvd;
	struct standby_pool *pool;
	char user_arg[48];              /* --user=UID:GID for every VMM */
	struct sup_vm *vms;
	struct watch *watches;
	struct restart_hist *restarts;
	bool shutting_down;
	void (*all_stopped)(void *ud);   /* sup_stop_all's callback, once */
	void *all_stopped_ud;
};

struct sup_vm {
	struct sup *sup;
	char id[37];
	char name[64];
	char dir[PATH_MAX - 32];
	pid_t pid;
	bool our_child;
	int pidfd;
	uv_poll_t pidpoll;
	uv_timer_t timer;
	int open_handles;
	struct vmmc *ctl;
	int64_t connect_deadline;
	unsigned tries;
	bool connected_once;
	bool adopted;               /* ctl is the standby VMM's assignment socket */
	bool stop_requested;
	bool forced;
	bool reboot_requested;
	bool exited;
	int64_t last_device_error_ms; /* device errors are rate-limited: a */
	unsigned suppressed_errors;   /* hostile guest must not flood SQLite */
	char ev_reason[16];           /* from the VMM's stopped event */
	char ev_detail[200];
	struct sup_vm *next;
};

static void vm_exited(struct sup_vm *v, const char *reason, const char *detail);

void sup_vm_dir(struct hvd *hvd, const char *vm_id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/vms/%s", hvd->cfg.runtime_dir, vm_id);
}

/* The --user=UID:GID every VMM gets, looked up now (at start and on
 * SIGHUP), said in the log when it changes. */
static void resolve_vm_user(struct sup *s)
{
	char arg[sizeof(s->user_arg)];
	bool dropped = vmm_spawn_user_arg(arg, sizeof(arg));

	if (strcmp(arg, s->user_arg) == 0)
		return;
	snprintf(s->user_arg, sizeof(s->user_arg), "%s", arg);
	if (dropped)
		log_info("supervisor: VMM processes run as %s (%s)", VMM_SANDBOX_DEFAULT_USER, arg + 7);
	else if (geteuid() == 0)
		log_warning("supervisor: no user %s: VMM processes run as root (systemd-sysusers "
			    "creates it; then reload or restart hvd)", VMM_SANDBOX_DEFAULT_USER);
}

int sup_new(struct hvd *hvd, struct sup **ret_sup)
{
	struct sup *s = calloc(1, sizeof(*s));
	char path[PATH_MAX];

	if (!s)
		return -ENOMEM;
	s->hvd = hvd;
	snprintf(path, sizeof(path), "%s/vms", hvd->cfg.runtime_dir);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		log_warning("supervisor: cannot create %s: %m", path);
	resolve_vm_user(s);
	if (standby_pool_new(hvd, &s->pool) < 0) {
		free(s);
		return -ENOMEM;
	}
	*ret_sup = s;
	return 0;
}

void sup_config_changed(struct sup *s)
{
	resolve_vm_user(s);
	standby_pool_resize(s->pool);
}

static struct sup_vm *find(struct sup *s, const char *id)
{
	for (struct sup_vm *v = s->vms; v; v = v->next)
		if (strcmp(v->id, id) == 0 && !v->exited)
			return v;
	return NULL;
}

bool sup_is_running(struct sup *s, const char *vm_id)
{
	return find(s, vm_id) != NULL;
}

int sup_count_running(struct sup *s)
{
	int n = 0;

	for (struct sup_vm *v = s ? s->vms : NULL; v; v = v->next)
		n += !v->exited;
	return n;
}

/* ---- watchers: API requests waiting for a state change ---- */

void sup_watch(struct sup *s, const char *vm_id, struct api_request *req)
{
	struct watch *w = calloc(1, sizeof(*w));

	if (!w)
		return;
	snprintf(w->vm_id, sizeof(w->vm_id), "%s", vm_id);
	w->req = req;
	w->next = s->watches;
	s->watches = w;
}

void sup_unwatch(struct sup *s, const char *vm_id, struct api_request *req)
{
	for (struct watch **pp = &s->watches; *pp; pp = &(*pp)->next) {
		if ((*pp)->req == req && strcmp((*pp)->vm_id, vm_id) == 0) {
			struct watch *w = *pp;

			*pp = w->next;
			free(w);
			return;
		}
	}
}

int sup_watch_fn(struct sup *s, const char *vm_id, void (*fn)(void *ud), void *ud)
{
	struct watch *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	snprintf(w->vm_id, sizeof(w->vm_id), "%s", vm_id);
	w->fn = fn;
	w->ud = ud;
	w->next = s->watches;
	s->watches = w;
	return 0;
}

void sup_unwatch_fn(struct sup *s, void *ud)
{
	for (struct watch **pp = &s->watches; *pp; pp = &(*pp)->next) {
		if ((*pp)->fn && (*pp)->ud == ud) {
			struct watch *w = *pp;

			*pp = w->next;
			free(w);
			return;
		}
	}
}

/* The matching watches (functions, or waiting API requests) leave the
 * list before any is woken or called: a function may watch again, for the
 * next change. */
static void wake_watchers(struct sup *s, const char *vm_id, bool functions)
{
	struct watch **pp = &s->watches, *woken = NULL;

	while (*pp) {
		struct watch *w = *pp;

		if (strcmp(w->vm_id, vm_id) == 0 && !w->fn == !functions) {
			*pp = w->next;
			w->next = woken;
			woken = w;
		} else {
			pp = &w->next;
		}
	}
	while (woken) {
		struct watch *w = woken;

		woken = w->next;
		if (w->fn)
			w->fn(w->ud);
		else
			api_request_wake(w->req);
		free(w);
	}
}

/* Records a state and the event announcing it (one transaction, one
 * fsync, unless the caller's transaction holds them), calls the functions
 * that watch the VM inside it and wakes the API requests waiting for it
 * after it. */
static void set_state(struct sup *s, const char *id, const char *name, const char *state,
		      const char *reason)
{
	struct store *st = s->hvd->store;
	bool own = store_begin_unless_open(st);
	int r = store_vm_set_state(st, id, state, reason);

	if (r < 0 && r != -ENOENT)
		log_error("supervisor: %s: cannot record state %s: %s", name, state, store_errmsg(st));
	if (r == 0)
		events_publish(s->hvd, "vm.state", json_pack("{s:o, s:s, s:s}", "vm", events_vm_ref(id, name),
							     "state", state, "reason", reason ? reason : ""));
	/* what functions record about it (an operation that ends when its VM
	 * runs) goes into the same commit */
	wake_watchers(s, id, true);
	if (own && store_commit(st) < 0)
		log_error("supervisor: %s: cannot record state %s: %s", name, state, store_errmsg(st));
	log_info("vm %s: %s%s%s", name, state, reason && *reason ? ": " : "", reason ? reason : "");
	wake_watchers(s, id, false);
}

/* set_state together with the desired state, in one commit. */
static void set_desired_state(struct sup *s, const char *id, const char *name, const char *desired,
			      const char *state, const char *reason)
{
	struct store *st = s->hvd->store;
	bool own = store_begin_unless_open(st);

	store_vm_set_desired(st, id, desired);
	set_state(s, id, name, state, reason);
	if (own && store_commit(st) < 0)
		log_error("supervisor: %s: cannot record state %s: %s", name, state, store_errmsg(st));
}

/* ---- handles ---- */

static void on_handle_closed(uv_handle_t *h)
{
	struct sup_vm *v = h->data;

	if (h == (uv_handle_t *)&v->pidpoll && v->pidfd >= 0) {
		close(v->pidfd);
		v->pidfd = -1;
	}
	if (--v->open_handles > 0)
		return;
	free(v);
}

static void unlink_vm(struct sup_vm *v)
{
	for (struct sup_vm **pp = &v->sup->vms; *pp; pp = &(*pp)->next)
		if (*pp == v) {
			*pp = v->next;
			return;
		}
}

/* Drops everything that watches the process; frees v when libuv is done. */
static void release(struct sup_vm *v)
{
	unlink_vm(v);
	vmmc_free(v->ctl);
	v->ctl = NULL;
	uv_timer_stop(&v->timer);
	if (v->pidfd >= 0) {
		uv_poll_stop(&v->pidpoll);
		uv_close((uv_handle_t *)&v->pidpoll, on_handle_closed);
	}
	uv_close((uv_handle_t *)&v->timer, on_handle_closed);
}

/* ---- control connection ---- */

static void ctl_event(struct vmmc *c, json_t *ev, void *ud)
{
	struct sup_vm *v = ud;
	const char *e = json_string_value(json_object_get(ev, "event"));

	(void)c;
	if (strcmp(e, "started") == 0) {
		if (!v->stop_requested)
			set_state(v->sup, v->id, v->name,
				  json_is_true(json_object_get(ev, "paused")) ? "paused" : "running", "");
	} else if (strcmp(e, "stopped") == 0) {
		snprintf(v->ev_reason, sizeof(v->ev_reason), "%s",
			 json_string_value(json_object_get(ev, "reason")) ?: "");
		snprintf(v->ev_detail, sizeof(v->ev_detail), "%s",
			 json_string_value(json_object_get(ev, "detail")) ?: "");
	} else if (strcmp(e, "paused") == 0) {
		set_state(v->sup, v->id, v->name, "paused", "");
	} else if (strcmp(e, "resumed") == 0) {
		set_state(v->sup, v->id, v->name, "running", "");
	} else if (strcmp(e, "device_error") == 0) {
		const char *dev = json_string_value(json_object_get(ev, "device"));
		const char *err = json_string_value(json_object_get(ev, "error"));
		const char *detail = json_string_value(json_object_get(ev, "detail"));
		int64_t now = store_now_ms();

		/* at most one per second and VM reaches the log and the event
		 * backlog (each event is a synchronous SQLite write) */
		if (now - v->last_device_error_ms < 1000) {
			v->suppressed_errors++;
			return;
		}
		v->last_device_error_ms = now;
		log_warning("vm %s: device %s failed: %s (%s)%s", v->name, dev ?: "?", err ?: "?", detail ?: "",
			    v->suppressed_errors ? " (and more errors not shown)" : "");
		events_publish(v->sup->hvd, "vm.device_error",
			       json_pack("{s:o, s:s, s:s, s:s, s:i}", "vm", events_vm_ref(v->id, v->name),
					 "device", dev ?: "", "error", err ?: "", "detail", detail ?: "",
					 "suppressed_before", (int)v->suppressed_errors));
		v->suppressed_errors = 0;
	}
}

static void retry_later(struct sup_vm *v);

static void ctl_closed(struct vmmc *c, const char *why, void *ud)
{
	struct sup_vm *v = ud;

	(void)c;
	log_debug("vm %s: control connection closed: %s", v->name, why);
	/* the pidfd says when the process is really gone */
	vmmc_free(v->ctl);
	v->ctl = NULL;
	/* a standby VMM that closed its assignment socket unanswered may
	 * still listen on its control socket (else it exits, and the pidfd
	 * ends the retries) */
	if (v->adopted && !v->connected_once && !v->exited)
		retry_later(v);
}

static void on_status(struct vmmc *c, json_t *resp, void *ud)
{
	struct sup_vm *v = ud;
	const char *state = json_string_value(json_object_get(resp, "state"));
	struct store_vm vm;

	(void)c;
	if (!resp)
		return;
	v->connected_once = true;   /* its control socket is up (adopted: the first sign) */
	if (!json_is_true(json_object_get(resp, "ok")) || !state)
		return;
	if (store_vm_get(v->sup->hvd->store, v->id, &vm) < 0)
		return;
	/* a stop in progress stays "stopping" until the process is gone */
	if (!v->stop_requested && strcmp(vm.state, state) != 0 &&
	    (strcmp(state, "running") == 0 || strcmp(state, "paused") == 0))
		set_state(v->sup, v->id, v->name, state, "");
	store_vm_clear(&vm);
}

static void ctl_connected(struct vmmc *c, void *ud)
{
	struct sup_vm *v = ud;

	v->connected_once = true;
	uv_timer_stop(&v->timer);
	if (vmmc_request(c, "status", NULL, on_status, v) < 0)
		log_warning("vm %s: cannot ask the VMM for its status", v->name);
}

static void try_connect(struct sup_vm *v);

static void on_retry(uv_timer_t *t)
{
	try_connect(t->data);
}

static void retry_later(struct sup_vm *v)
{
	uv_timer_start(&v->timer, on_retry,
		       ++v->tries <= CONNECT_FAST_TRIES ? CONNECT_RETRY_FIRST_MS : CONNECT_RETRY_MS, 0);
}

static void ctl_connect_failed(struct vmmc *c, int err, void *ud)
{
	struct sup_vm *v = ud;

	(void)c;
	vmmc_free(v->ctl);
	v->ctl = NULL;
	if (v->exited)
		return;
	if (store_now_ms() > v->connect_deadline) {
		log_error("vm %s: no control socket after %d ms (%s); stopping the VMM", v->name,
			  CONNECT_TIMEOUT_MS, uv_strerror(err));
		v->forced = true;
		v->stop_requested = true;
		kill(v->pid, SIGKILL);
		return;
	}
	retry_later(v);
}

static const struct vmmc_ops ctl_ops = {
	.event = ctl_event,
	.closed = ctl_closed,
	.connected = ctl_connected,
	.connect_failed = ctl_connect_failed,
};

static void try_connect(struct sup_vm *v)
{
	char path[PATH_MAX];

	if (v->ctl || v->exited)
		return;
	snprintf(path, sizeof(path), "%s/control.sock", v->dir);
	if (vmmc_connect(v->sup->hvd->loop, path, &ctl_ops, v, &v->ctl) < 0)
		retry_later(v);
}

/* ---- the process ---- */

/* The last non-empty line of the VMM's own log: why it failed to start. */
static void last_log_line(struct sup_vm *v, char *out, size_t len)
{
	char path[PATH_MAX], buf[2048];
	ssize_t n;
	int fd;

	snprintf(out, len, "see %.200s/vmm.log", v->dir);
	snprintf(path, sizeof(path), "%s/vmm.log", v->dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	off_t size = lseek(fd, 0, SEEK_END);
	n = pread(fd, buf, sizeof(buf) - 1, size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	char *line = strrchr(buf, '\n');
	line = line ? line + 1 : buf;
	if (*line)
		snprintf(out, len, "%.250s", line);
}

static void on_pidfd(uv_poll_t *p, int status, int events)
{
	struct sup_vm *v = p->data;
	char detail[300];
	const char *reason;
	int st = 0;

	(void)status;
	(void)events;
	if (v->exited)
		return;
	if (v->our_child && waitpid(v->pid, &st, WNOHANG) <= 0)
		st = -1;
	else if (!v->our_child)
		st = -1; /* not our child: the stopped event tells why */
	if (v->ev_reason[0]) {
		reason = v->ev_reason;
		snprintf(detail, sizeof(detail), "%s", v->ev_detail);
	} else if (st >= 0 && WIFEXITED(st)) {
		int code = WEXITSTATUS(st);

		reason = code == 0 ? "poweroff" : code == 3 ? "reboot" : code == 5 ? "killed" :
			 code == 1 || code == 2 ? "setup" : "crash";
		if (code == 1 || code == 2)
			last_log_line(v, detail, sizeof(detail));
		else
			snprintf(detail, sizeof(detail), "the VMM exited with status %d", code);
	} else if (st >= 0 && WIFSIGNALED(st)) {
		reason = "crash";
		snprintf(detail, sizeof(detail), "the VMM was killed by signal %d (%s)%s", WTERMSIG(st),
			 strsignal(WTERMSIG(st)), WTERMSIG(st) == SIGSYS ? ": a forbidden system call" : "");
	} else {
		reason = "crash";
		snprintf(detail, sizeof(detail), "the VMM process ended without saying why");
	}
	vm_exited(v, reason, detail);
}

/* ctl_sock: a connection to the VMM's control socket already (a standby
 * VMM's assignment socket), else -1: the control socket is connected to
 * by path, retrying until the VMM listens. */
static int start_watching(struct sup_vm *v, pid_t pid, bool child, int ctl_sock)
{
	v->pid = pid;
	v->our_child = child;
	v->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (v->pidfd < 0)
		return -errno;
	fcntl(v->pidfd, F_SETFD, FD_CLOEXEC);
	uv_poll_init(v->sup->hvd->loop, &v->pidpoll, v->pidfd);
	v->pidpoll.data = v;
	v->open_handles++;
	uv_poll_start(&v->pidpoll, UV_READABLE, on_pidfd);
	v->connect_deadline = store_now_ms() + CONNECT_TIMEOUT_MS;
	v->tries = 0;
	if (ctl_sock >= 0 && vmmc_adopt(v->sup->hvd->loop, ctl_sock, &ctl_ops, v, &v->ctl) == 0) {
		/* answered once the VMM's loop runs, with nothing to retry */
		v->adopted = true;
		if (vmmc_request(v->ctl, "status", NULL, on_status, v) < 0)
			log_warning("vm %s: cannot ask the VMM for its status", v->name);
		return 0;
	}
	try_connect(v);
	return 0;
}

static struct sup_vm *vm_new(struct sup *s, const char *id, const char *name)
{
	struct sup_vm *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->sup = s;
	v->pidfd = -1;
	snprintf(v->id, sizeof(v->id), "%s", id);
	snprintf(v->name, sizeof(v->name), "%s", name);
	sup_vm_dir(s->hvd, id, v->dir, sizeof(v->dir));
	uv_timer_init(s->hvd->loop, &v->timer);
	v->timer.data = v;
	v->pidpoll.data = v;
	v->open_handles = 1; /* the timer; the pidfd poll adds one */
	v->next = s->vms;
	s->vms = v;
	return v;
}

/* argv for `hvd vmm` from the definition; strings owned by the caller's
 * arena (a single buffer of json_t strings kept alive by def). */
struct argv {
	char *v[96];
	int n;
	char *owned[64];
	int nowned;
};

static void arg(struct argv *a, const char *s)
{
	if (a->n < 95)
		a->v[a->n++] = (char *)s;
}

static void argf(struct argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void argf(struct argv *a, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s || a->nowned == 64) {
		free(s);
		return;
	}
	a->owned[a->nowned++] = s;
	arg(a, s);
}

static void argv_free(struct argv *a)
{
	for (int i = 0; i < a->nowned; i++)
		free(a->owned[i]);
}

static int build_argv(struct sup *s, const struct sup_vm *v, json_t *def,
		      const struct sup_restore *rs, struct argv *a)
{
	json_t *boot = json_object_get(def, "boot"), *item;
	const char *image = json_string_value(json_object_get(def, "image"));
	size_t i;

	arg(a, "hvd");
	arg(a, "vmm");
	argf(a, "--name=%s", v->name);
	argf(a, "--runtime-dir=%s", v->dir);
	argf(a, "--vcpus=%lld", json_integer_value(json_object_get(def, "vcpus")));
	argf(a, "--memory-mib=%lld", json_integer_value(json_object_get(def, "memory_mib")));
	if (rs) {
		argf(a, "--restore=%s", rs->state_path);
		argf(a, "--memory-file=%s", rs->memory_path);
	} else if (boot) {
		argf(a, "--kernel=%s", json_string_value(json_object_get(boot, "kernel")));
		if (json_object_get(boot, "initrd"))
			argf(a, "--initrd=%s", json_string_value(json_object_get(boot, "initrd")));
		if (json_object_get(boot, "cmdline"))
			argf(a, "--cmdline=%s", json_string_value(json_object_get(boot, "cmdline")));
	} else if (image) {
		/* definitions made before images filled in boot at create time */
		argf(a, "--kernel=%s/images/%s/bzImage", s->hvd->cfg.state_dir, image);
		argf(a, "--initrd=%s/images/%s/initrd", s->hvd->cfg.state_dir, image);
		arg(a, "--cmdline=console=ttyS0 quiet");
	}
	json_array_foreach(json_object_get(def, "disks"), i, item)
		argf(a, "--disk=%s%s,serial=%s", json_string_value(json_object_get(item, "path")),
		     json_is_true(json_object_get(item, "readonly")) ? ",ro" : "",
		     json_string_value(json_object_get(item, "id")));
	json_array_foreach(json_object_get(def, "nics"), i, item) {
		const char *tap = json_string_value(json_object_get(item, "tap"));
		const char *net = json_string_value(json_object_get(item, "network"));

		if (tap)
			argf(a, "--net=tap=%s,mac=%s", tap, json_string_value(json_object_get(item, "mac")));
		else
			argf(a, "--net=bridge=%s,mac=%s", net, json_string_value(json_object_get(item, "mac")));
	}
	arg(a, "--rng");
	arg(a, s->user_arg);
	/* test hook: extra `hvd vmm` words (e.g. --debug-seccomp-probe) for
	 * integration tests; never set in production */
	{
		const char *extra = getenv("HVD_TEST_VMM_ARGS");

		if (extra && *extra)
			argf(a, "%s", extra);
	}
	a->v[a->n] = NULL;
	return 0;
}

static int spawn(struct sup *s, struct sup_vm *v, json_t *def, const struct sup_restore *rs,
		 pid_t *ret_pid, int *ret_ctl)
{
	struct argv a = { 0 };
	char log_path[PATH_MAX];
	int r;

	if (mkdir(v->dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	snprintf(log_path, sizeof(log_path), "%s/vmm.log", v->dir);
	/* each run of the VM gets a fresh console log; the previous one stays
	 * as console.log.1 (so logs cannot grow across reboots) */
	{
		char cur[PATH_MAX], old[PATH_MAX];

		snprintf(cur, sizeof(cur), "%.4000s/console.log", v->dir);
		snprintf(old, sizeof(old), "%.4000s/console.log.1", v->dir);
		if (rename(cur, old) < 0 && errno != ENOENT)
			log_warning("vm %s: cannot rotate %s: %m", v->name, cur);
	}
	build_argv(s, v, def, rs, &a);
	/* a VMM that is already loaded and has its VM fd, else a new one */
	*ret_ctl = -1;
	r = standby_pool_assign(s->pool, a.v, log_path, ret_pid, ret_ctl);
	if (r < 0)
		r = vmm_spawn(a.v, log_path, -1, ret_pid);
	argv_free(&a);
	return r;
}

/* What a restarted daemon re-attaches by. Losing it (full or read-only
 * runtime dir) costs the VM nothing now; it is reported. Written to a
 * temporary name and renamed, so a daemon killed meanwhile leaves the old
 * file or the new one; not fsynced: it only has to outlive the daemon, not
 * the machine (after a power cut its VMs are gone, and so should it be;
 * /run is a tmpfs anyway), and an fsync cost up to 7 ms of each start,
 * restore and clone where the runtime dir is on a disk. */
static void write_pid_file(struct sup_vm *v)
{
	char path[PATH_MAX], tmp[PATH_MAX], buf[32];
	int fd, n;

	snprintf(path, sizeof(path), "%s/vmm.pid", v->dir);
	snprintf(tmp, sizeof(tmp), "%s/.vmm.pid.tmp", v->dir);
	n = snprintf(buf, sizeof(buf), "%d\n", (int)v->pid);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf, (size_t)n) != n || rename(tmp, path) < 0) {
		log_warning("vm %s: cannot write %s (%m): a restarted hvd will not find this VM", v->name, path);
		events_publish(v->sup->hvd, "host.warning",
			       json_pack("{s:s}", "message", "cannot write runtime state; see the daemon log"));
	}
	if (fd >= 0)
		close(fd);
}

int sup_start_restore(struct sup *s, const struct store_vm *vm, const struct sup_restore *rs,
		      char *err, size_t errlen)
{
	struct sup_vm *v;
	pid_t pid;
	int r, ctl;

	if (find(s, vm->id)) {
		snprintf(err, errlen, "VM %s already has a VMM process", vm->name);
		return -EBUSY;
	}
	v = vm_new(s, vm->id, vm->name);
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r = spawn(s, v, vm->definition, rs, &pid, &ctl);
	if (r < 0) {
		snprintf(err, errlen, "cannot start the VMM process: %s", strerror(-r));
		release(v);
		return r;
	}
	r = start_watching(v, pid, true, ctl);
	if (r < 0) {
		if (ctl >= 0)
			close(ctl);
		snprintf(err, errlen, "cannot watch the VMM process: %s", strerror(-r));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		release(v);
		return r;
	}
	write_pid_file(v);
	log_info("vm %s: VMM started (pid %d)", vm->name, (int)pid);
	set_desired_state(s, vm->id, vm->name, "running", "starting", "");
	return 0;
}

int sup_start(struct sup *s, const struct store_vm *vm, char *err, size_t errlen)
{
	return sup_start_restore(s, vm, NULL, err, errlen);
}

static void on_stop_reply(struct vmmc *c, json_t *resp, void *ud)
{
	(void)c;
	(void)resp;
	(void)ud;
}

/* Forced stop: ask the VMM, and if it has not gone after a grace period,
 * SIGKILL it. */
static void force_timeout(uv_timer_t *t)
{
	struct sup_vm *v = t->data;

	if (v->exited)
		return;
	log_warning("vm %s: the VMM did not stop in %d ms; killing it", v->name, FORCE_GRACE_MS);
	kill(v->pid, SIGKILL);
}

static void force(struct sup_vm *v)
{
	v->forced = true;
	if (!v->ctl || vmmc_request(v->ctl, "stop", NULL, on_stop_reply, v) < 0)
		kill(v->pid, SIGKILL);
	uv_timer_start(&v->timer, force_timeout, FORCE_GRACE_MS, 0);
}

static void graceful_timeout(uv_timer_t *t)
{
	struct sup_vm *v = t->data;

	if (v->exited)
		return;
	log_notice("vm %s: the guest did not power off in time; forcing the stop", v->name);
	force(v);
}

static void on_shutdown_reply(struct vmmc *c, json_t *resp, void *ud)
{
	struct sup_vm *v = ud;

	(void)c;
	if (v->exited || !resp)
		return;
	if (!json_is_true(json_object_get(resp, "ok"))) {
		/* a VMM without a graceful path: stop it outright */
		log_notice("vm %s: graceful shutdown refused (%s); forcing", v->name,
			   json_string_value(json_object_get(resp, "error")) ?: "?");
		uv_timer_stop(&v->timer);
		force(v);
	}
}

int sup_stop(struct sup *s, const char *vm_id, bool forced, unsigned timeout_s)
{
	struct sup_vm *v = find(s, vm_id);

	if (!v)
		return -ENOENT;
	if (v->stop_requested && !forced) {
		store_vm_set_desired(s->hvd->store, vm_id, "stopped");
		return 0;
	}
	v->stop_requested = true;
	set_desired_state(s, v->id, v->name, "stopped", "stopping",
			  forced ? "forced stop requested" : "stop requested");
	if (forced || timeout_s == 0 || !v->ctl) {
		force(v);
		return 0;
	}
	if (vmmc_request(v->ctl, "shutdown", NULL, on_shutdown_reply, v) < 0) {
		force(v);
		return 0;
	}
	uv_timer_start(&v->timer, graceful_timeout, (uint64_t)timeout_s * 1000, 0);
	return 0;
}

int sup_reboot(struct sup *s, const char *vm_id)
{
	struct sup_vm *v = find(s, vm_id);

	if (!v)
		return -ENOENT;
	v->reboot_requested = true;
	v->stop_requested = true;
	/* "starting" until the new VMM reports: waiters see the reboot happen */
	set_state(s, v->id, v->name, "starting", "reboot requested");
	force(v);
	return 0;
}

struct cmd_ctx {
	sup_reply_cb cb;
	void *ud;
};

static void on_cmd_reply(struct vmmc *c, json_t *resp, void *ud)
{
	struct cmd_ctx *x = ud;

	(void)c;
	x->cb(resp, x->ud);
	free(x);
}

int sup_command(struct sup *s, const char *vm_id, const char *cmd, const json_t *extra,
		sup_reply_cb cb, void *ud)
{
	struct sup_vm *v = find(s, vm_id);
	struct cmd_ctx *x;
	int r;

	if (!v || !v->ctl)
		return -ENOENT;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->cb = cb;
	x->ud = ud;
	r = vmmc_request(v->ctl, cmd, extra, on_cmd_reply, x);
	if (r < 0)
		free(x);
	return r;
}

/* on_crash restarts are rate-limited: RESTART_LIMIT per RESTART_WINDOW_MS */
static bool may_restart(struct sup *s, const char *id)
{
	int64_t now = store_now_ms();
	struct restart_hist *h;

	for (h = s->restarts; h && strcmp(h->vm_id, id) != 0; h = h->next)
		;
	if (!h) {
		h = calloc(1, sizeof(*h));
		if (!h)
			return false;
		snprintf(h->vm_id, sizeof(h->vm_id), "%s", id);
		h->next = s->restarts;
		s->restarts = h;
	}
	if (now - h->window_start > RESTART_WINDOW_MS) {
		h->window_start = now;
		h->count = 0;
	}
	return ++h->count <= RESTART_LIMIT;
}

static void restart(struct sup *s, const char *id, const char *why)
{
	struct store_vm vm;
	char err[256];

	if (s->shutting_down || store_vm_get(s->hvd->store, id, &vm) < 0)
		return;
	log_notice("vm %s: starting again (%s)", vm.name, why);
	if (sup_start(s, &vm, err, sizeof(err)) < 0)
		set_state(s, vm.id, vm.name, "crashed", err);
	store_vm_clear(&vm);
}

static void check_all_stopped(struct sup *s)
{
	void (*cb)(void *ud) = s->all_stopped;

	if (!cb || sup_count_running(s) > 0)
		return;
	s->all_stopped = NULL;
	cb(s->all_stopped_ud);
}

void sup_stop_all(struct sup *s, unsigned timeout_s, void (*done)(void *ud), void *ud)
{
	s->all_stopped = done;
	s->all_stopped_ud = ud;
	s->shutting_down = true; /* no restarts from here on */
	for (struct sup_vm *v = s->vms; v; v = v->next)
		if (!v->exited) {
			log_notice("vm %s: stopping for the daemon's shutdown", v->name);
			sup_stop(s, v->id, false, timeout_s);
		}
	check_all_stopped(s);
}

static int autostart_one(const struct store_vm *vm, void *ud)
{
	struct sup *s = ud;
	char err[256];

	if (!json_is_true(json_object_get(vm->definition, "autostart")) ||
	    (strcmp(vm->state, "stopped") != 0 && strcmp(vm->state, "crashed") != 0))
		return 0;
	log_info("vm %s: autostart", vm->name);
	if (sup_start(s, vm, err, sizeof(err)) < 0)
		set_state(s, vm->id, vm->name, "stopped", err);
	return 0;
}

void sup_autostart(struct sup *s)
{
	store_vm_list(s->hvd->store, NULL, autostart_one, s);
}

static void vm_exited_inner(struct sup_vm *v, const char *reason, const char *detail);

static void vm_exited(struct sup_vm *v, const char *reason, const char *detail)
{
	struct sup *s = v->sup;

	vm_exited_inner(v, reason, detail);
	check_all_stopped(s);
}

static void vm_exited_inner(struct sup_vm *v, const char *reason, const char *detail)
{
	struct sup *s = v->sup;
	char why[400], id[37], name[64];
	bool requested = v->stop_requested, reboot = v->reboot_requested, forced = v->forced;
	bool started = v->connected_once;
	struct store_vm vm;
	bool on_crash_restart = false;

	v->exited = true;
	snprintf(id, sizeof(id), "%s", v->id);
	snprintf(name, sizeof(name), "%s", v->name);
	{
		/* the VMM cannot unlink under its seccomp filter: its socket is ours to remove */
		char sock[PATH_MAX];

		snprintf(sock, sizeof(sock), "%.4000s/control.sock", v->dir);
		unlink(sock);
	}
	log_info("vm %s: VMM pid %d ended: %s%s%s", name, (int)v->pid, reason, *detail ? ": " : "", detail);
	release(v);

	if (store_vm_get(s->hvd->store, id, &vm) == 0) {
		on_crash_restart = strcmp(json_string_value(json_object_get(vm.definition, "on_crash")) ?: "stop",
					  "restart") == 0;
		store_vm_clear(&vm);
	}
	if (reboot) {
		restart(s, id, "reboot requested");
		return;
	}
	if (strcmp(reason, "setup") == 0) {
		snprintf(why, sizeof(why), "failed to start: %s", detail);
		set_desired_state(s, id, name, "stopped", "stopped", why);
		return;
	}
	if (requested || strcmp(reason, "poweroff") == 0 || strcmp(reason, "killed") == 0) {
		snprintf(why, sizeof(why), "%s%s%s", requested ? (forced ? "stopped (forced)" : "stopped") :
			 strcmp(reason, "poweroff") == 0 ? "the guest powered off" : "stopped",
			 *detail && !requested ? ": " : "", !requested ? detail : "");
		set_desired_state(s, id, name, "stopped", "stopped", why);
		return;
	}
	if (strcmp(reason, "reboot") == 0 && started) {
		set_state(s, id, name, "starting", "the guest rebooted");
		restart(s, id, "the guest rebooted");
		return;
	}
	snprintf(why, sizeof(why), "%s", *detail ? detail : reason);
	set_state(s, id, name, "crashed", why);
	events_publish(s->hvd, "vm.crashed", json_pack("{s:o, s:s}", "vm", events_vm_ref(id, name), "reason", why));
	if (on_crash_restart && may_restart(s, id))
		restart(s, id, "on_crash is restart");
	else if (on_crash_restart)
		log_warning("vm %s: crashed %d times in %d minutes; leaving it crashed", name, RESTART_LIMIT,
			    RESTART_WINDOW_MS / 60000);
}

/* ---- re-attach after a daemon restart ---- */

static int reattach_one(const struct store_vm *vm, void *ud)
{
	struct sup *s = ud;
	char path[PATH_MAX - 16], pidpath[PATH_MAX], buf[32];
	struct sup_vm *v;
	pid_t pid = 0;
	int fd;

	if (strcmp(vm->state, "stopped") == 0 || strcmp(vm->state, "crashed") == 0)
		return 0;
	sup_vm_dir(s->hvd, vm->id, path, sizeof(path));
	snprintf(pidpath, sizeof(pidpath), "%s/vmm.pid", path);
	fd = open(pidpath, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);

		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			pid = (pid_t)atoi(buf);
		}
	}
	if (pid <= 0 || kill(pid, 0) < 0) {
		set_desired_state(s, vm->id, vm->name, "stopped", "stopped",
				  "the VMM exited while hvd was not running");
		return 0;
	}
	v = vm_new(s, vm->id, vm->name);
	if (!v)
		return -ENOMEM;
	if (start_watching(v, pid, false, -1) < 0) {
		release(v);
		set_state(s, vm->id, vm->name, "stopped", "the VMM exited while hvd was not running");
		return 0;
	}
	log_info("vm %s: re-attached to VMM pid %d", vm->name, (int)pid);
	return 0;
}

/* VMM processes in the runtime dir that SQLite does not know: reported
 * (log + event) and left running, never killed silently. */
static void report_unknown(struct sup *s)
{
	char dir[PATH_MAX], pidpath[PATH_MAX], buf[32];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%.4000s/vms", s->hvd->cfg.runtime_dir);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		struct store_vm vm;
		pid_t pid = 0;
		ssize_t n;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		if (store_vm_get(s->hvd->store, de->d_name, &vm) == 0) {
			store_vm_clear(&vm);
			continue;
		}
		snprintf(pidpath, sizeof(pidpath), "%.4000s/%.64s/vmm.pid", dir, de->d_name);
		fd = open(pidpath, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			pid = (pid_t)atoi(buf);
		}
		if (pid <= 0 || kill(pid, 0) < 0)
			continue;
		log_warning("supervisor: VMM pid %d in %s/%s belongs to no VM hvd knows; leaving it running",
			    (int)pid, dir, de->d_name);
		events_publish(s->hvd, "host.unknown_vmm",
			       json_pack("{s:i, s:s}", "pid", (int)pid, "runtime_dir", de->d_name));
	}
	closedir(d);
}

void sup_reattach_all(struct sup *s)
{
	store_vm_list(s->hvd->store, NULL, reattach_one, s);
	report_unknown(s);
}

void sup_shutdown(struct sup *s)
{
	if (!s)
		return;
	s->shutting_down = true;
	standby_pool_close(s->pool);
	s->pool = NULL;
	/* leave the VMs running: close only our side */
	while (s->vms) {
		struct sup_vm *v = s->vms;

		v->exited = true;
		release(v);
	}
	while (s->watches) {
		struct watch *w = s->watches;

		s->watches = w->next;
		if (w->req)
			api_request_wake(w->req);
		free(w);
	}
	while (s->restarts) {
		struct restart_hist *h = s->restarts;

		s->restarts = h->next;
		free(h);
	}
	free(s);
}

/* standby-pool.c - VMM processes waiting for a VM (`hvd vmm --standby`).
 *
 * Each waiting VMM is spawned with one end of a socketpair as its fd 3 and
 * watched through a pidfd. Handing it a VM is one JSON line on the socket
 * ({"argv": [...], "log": PATH}); then the pool forgets it and the
 * supervisor watches it as the VM's process. Invariant: every process in
 * the list is a child of this daemon that nobody else waits for; it leaves
 * the list either handed out or reaped. */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "hvd.h"
#include "log.h"
#include "standby-pool.h"
#include "vmm-spawn.h"

#define REFILL_AFTER_ASSIGN_MS 20
#define RETRY_FIRST_MS 1000
#define RETRY_MAX_MS 60000

struct standby {
	struct standby_pool *pool;
	struct standby *next;
	pid_t pid;
	int sock;
	int pidfd;
	uv_poll_t poll;
};

struct standby_pool {
	struct hvd *hvd;
	struct standby *list;
	unsigned count;
	unsigned retry_ms;         /* 0: refill at once */
	bool spawning;             /* a spawn_job is on the thread pool */
	uv_timer_t timer;
	unsigned open_handles;     /* the timer, the polls of standbys being closed, a spawn job */
	bool closing;
};

static void maybe_free(struct standby_pool *p)
{
	if (p->closing && p->open_handles == 0)
		free(p);
}

static void on_poll_closed(uv_handle_t *h)
{
	struct standby *sb = h->data;
	struct standby_pool *p = sb->pool;

	free(sb);
	p->open_handles--;
	maybe_free(p);
}

static void on_timer_closed(uv_handle_t *h)
{
	struct standby_pool *p = h->data;

	p->open_handles--;
	maybe_free(p);
}

/* Takes sb out of the list and closes what the pool holds of it. */
static void forget(struct standby *sb)
{
	struct standby_pool *p = sb->pool;

	for (struct standby **pp = &p->list; *pp; pp = &(*pp)->next) {
		if (*pp == sb) {
			*pp = sb->next;
			p->count--;
			break;
		}
	}
	if (sb->sock >= 0)
		close(sb->sock);
	sb->sock = -1;
	uv_poll_stop(&sb->poll);
	uv_close((uv_handle_t *)&sb->poll, on_poll_closed);  /* closes nothing of the fd */
	close(sb->pidfd);
}

static void schedule(struct standby_pool *p);

/* A standby died unused or could not be spawned: the next try waits
 * twice as long as the last (RETRY_FIRST_MS..RETRY_MAX_MS). */
static void back_off(struct standby_pool *p)
{
	p->retry_ms = p->retry_ms ? p->retry_ms * 2 : RETRY_FIRST_MS;
	if (p->retry_ms > RETRY_MAX_MS)
		p->retry_ms = RETRY_MAX_MS;
}

static void on_exit_unused(uv_poll_t *h, int status, int events)
{
	struct standby *sb = h->data;
	struct standby_pool *p = sb->pool;
	int st = 0;

	(void)status;
	(void)events;
	if (waitpid(sb->pid, &st, WNOHANG) <= 0)
		st = -1;
	back_off(p);
	log_warning("standby VMM %d ended before it was used (%s %d); next one in %u ms",
		    (int)sb->pid, st >= 0 && WIFEXITED(st) ? "exit status" : "signal",
		    st < 0 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), p->retry_ms);
	forget(sb);
	schedule(p);
}

/* A standby spawned on the thread pool: posix_spawn's vfork holds the
 * calling thread until the child execs, which on the loop would delay
 * the very start the refill follows. */
struct spawn_job {
	uv_work_t work;
	struct standby_pool *pool;
	pid_t pid;
	int sock, pidfd;
	int err;
};

static void spawn_work(uv_work_t *w)
{
	struct spawn_job *sj = w->data;
	char *argv[] = { "hvd", "vmm", "--standby=3", NULL };
	int sv[2];

	sj->sock = sj->pidfd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		sj->err = -errno;
		return;
	}
	sj->err = vmm_spawn(argv, NULL, sv[1], &sj->pid);
	close(sv[1]);
	if (sj->err < 0) {
		close(sv[0]);
		return;
	}
	sj->sock = sv[0];
	sj->pidfd = (int)syscall(SYS_pidfd_open, sj->pid, 0);
	if (sj->pidfd < 0) {
		sj->err = -errno;
		kill(sj->pid, SIGKILL);
		waitpid(sj->pid, NULL, 0);
		close(sj->sock);
		sj->sock = -1;
	}
}

static void spawn_done(uv_work_t *w, int status)
{
	struct spawn_job *sj = w->data;
	struct standby_pool *p = sj->pool;
	struct standby *sb = NULL;

	p->spawning = false;
	p->open_handles--;
	if (status == UV_ECANCELED && sj->err == 0)
		sj->err = -ECANCELED;
	if (sj->err == 0 && (p->closing || !(sb = calloc(1, sizeof(*sb))))) {
		/* not wanted any more (or no memory): it goes */
		kill(sj->pid, SIGKILL);
		waitpid(sj->pid, NULL, 0);
		close(sj->sock);
		close(sj->pidfd);
		sj->err = p->closing ? 0 : -ENOMEM;
	} else if (sj->err == 0) {
		sb->pool = p;
		sb->pid = sj->pid;
		sb->sock = sj->sock;
		sb->pidfd = sj->pidfd;
		uv_poll_init(p->hvd->loop, &sb->poll, sb->pidfd);
		sb->poll.data = sb;
		p->open_handles++;
		uv_poll_start(&sb->poll, UV_READABLE, on_exit_unused);
		sb->next = p->list;
		p->list = sb;
		p->count++;
	}
	if (sj->err < 0) {
		back_off(p);
		log_warning("cannot spawn a standby VMM: %s; next try in %u ms", strerror(-sj->err),
			    p->retry_ms);
	}
	free(sj);
	if (p->closing)
		maybe_free(p);
	else
		schedule(p);
}

static void on_refill(uv_timer_t *t)
{
	struct standby_pool *p = t->data;
	struct spawn_job *sj;

	if (p->closing || p->spawning || p->count >= p->hvd->cfg.standby_vmms)
		return;
	sj = calloc(1, sizeof(*sj));
	if (!sj)
		return;
	sj->pool = p;
	sj->work.data = sj;
	if (uv_queue_work(p->hvd->loop, &sj->work, spawn_work, spawn_done) < 0) {
		free(sj);
		return;
	}
	p->spawning = true;
	p->open_handles++;   /* the pool outlives the job */
}

static void schedule_in(struct standby_pool *p, unsigned ms)
{
	if (!p->closing && !p->spawning && p->count < p->hvd->cfg.standby_vmms &&
	    !uv_is_active((uv_handle_t *)&p->timer))
		uv_timer_start(&p->timer, on_refill, ms, 0);
}

static void schedule(struct standby_pool *p)
{
	schedule_in(p, p->retry_ms);
}

void standby_pool_resize(struct standby_pool *p)
{
	if (!p || p->closing)
		return;
	while (p->count > p->hvd->cfg.standby_vmms) {
		struct standby *sb = p->list;

		kill(sb->pid, SIGKILL);
		waitpid(sb->pid, NULL, 0);
		forget(sb);
	}
	schedule(p);
}

int standby_pool_new(struct hvd *hvd, struct standby_pool **ret)
{
	struct standby_pool *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->hvd = hvd;
	uv_timer_init(hvd->loop, &p->timer);
	p->timer.data = p;
	p->open_handles = 1;
	schedule(p);
	*ret = p;
	return 0;
}

int standby_pool_assign(struct standby_pool *p, char *const argv[], const char *log_path,
			pid_t *ret_pid, int *ret_sock)
{
	struct standby *sb;
	json_t *j, *args;
	char *line;
	size_t len;
	ssize_t n;
	pid_t pid;

	if (!p || p->closing || !p->list)
		return -EAGAIN;
	sb = p->list;
	args = json_array();
	for (int i = 0; argv[i]; i++)
		json_array_append_new(args, json_string(argv[i]));
	j = json_pack("{s:o, s:s}", "argv", args, "log", log_path);
	line = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!line)
		return -ENOMEM;
	len = strlen(line);
	line[len++] = '\n';  /* json_dumps leaves room: it was the NUL */
	n = send(sb->sock, line, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	free(line);
	pid = sb->pid;
	if (n != (ssize_t)len) {
		/* gone, or a socket buffer smaller than one line: it is not
		 * used, and not left half-told either */
		log_warning("standby VMM %d did not take its VM (%s); starting a new VMM",
			    (int)pid, n < 0 ? strerror(errno) : "short write");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		forget(sb);
		schedule(p);
		return -EAGAIN;
	}
	/* the socket stays open: the VMM takes it as a control client */
	*ret_sock = sb->sock;
	sb->sock = -1;
	forget(sb);
	p->retry_ms = 0;
	/* not at once: its exec, loading and KVM VM (~5 ms of CPU) would
	 * compete with the VM it follows, which is starting right now */
	schedule_in(p, REFILL_AFTER_ASSIGN_MS);
	*ret_pid = pid;
	return 0;
}

void standby_pool_close(struct standby_pool *p)
{
	if (!p)
		return;
	p->closing = true;
	/* a closed socket ends a waiting VMM; it is reaped by whoever
	 * outlives it (the daemon is stopping) */
	while (p->list)
		forget(p->list);
	uv_timer_stop(&p->timer);
	uv_close((uv_handle_t *)&p->timer, on_timer_closed);
}

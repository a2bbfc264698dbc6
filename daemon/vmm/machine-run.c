/* machine-run.c - the device/event thread of a VM: the libuv loop that
 * owns the control socket, copies console output to its log, polls the
 * virtio notification eventfds and tap fds, and turns stop requests from
 * any thread into an orderly end.
 *
 * Life of a machine: created -> running <-> paused -> stopping. Any thread
 * may ask for a stop (vmm_machine_request_stop: the first reason wins); the
 * loop then stops every vCPU (each acknowledges), flushes the console,
 * sends {"event":"stopped"} to the control clients, closes its handles and
 * returns. Pause and resume come only from the loop thread (control
 * requests), so the machine state changes under m->lock but is only ever
 * written here or by the stop path. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>
#include "control.h"
#include "machine.h"
#include "sandbox.h"
#include "trace.h"

uint64_t vmm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *vmm_machine_state_name(enum vmm_machine_state s)
{
	switch (s) {
	case VMM_MACHINE_CREATED: return "created";
	case VMM_MACHINE_RUNNING: return "running";
	case VMM_MACHINE_PAUSED: return "paused";
	default: return "stopping";
	}
}

void vmm_machine_post_event(struct vmm_machine *m, json_t *event)
{
	if (!event)
		return;
	pthread_mutex_lock(&m->lock);
	json_array_append_new(m->events, event);
	pthread_mutex_unlock(&m->lock);
	if (__atomic_load_n(&m->loop_ready, __ATOMIC_ACQUIRE))
		uv_async_send(&m->event_async);
}

void vmm_machine_request_stop(void *opaque, enum vmm_stop_reason reason, int code,
			      const char *detail)
{
	struct vmm_machine *m = opaque;
	bool first = false;

	pthread_mutex_lock(&m->lock);
	if (m->reason == VMM_STOP_NONE) {
		m->reason = reason;
		m->exit_code = code;
		snprintf(m->detail, sizeof(m->detail), "%s", detail ? detail : "");
		first = true;
	}
	pthread_mutex_unlock(&m->lock);
	if (first && __atomic_load_n(&m->loop_ready, __ATOMIC_ACQUIRE))
		uv_async_send(&m->stop_async);
}

static void set_state(struct vmm_machine *m, enum vmm_machine_state s)
{
	pthread_mutex_lock(&m->lock);
	m->state = s;
	pthread_mutex_unlock(&m->lock);
}

int vmm_machine_command_vcpus(struct vmm_machine *m, enum vmm_vcpu_cmd cmd)
{
	int stopped = 0;

	for (unsigned i = 0; i < m->nvcpus; i++)
		if (vmm_vcpu_command(&m->vcpus[i], cmd) == VMM_VCPU_STOPPED)
			stopped++;
	return stopped;
}

int vmm_machine_pause(struct vmm_machine *m)
{
	if (m->state == VMM_MACHINE_PAUSED)
		return -EALREADY;
	if (m->state != VMM_MACHINE_RUNNING)
		return -EBUSY;
	if (vmm_machine_command_vcpus(m, VMM_VCPU_CMD_PAUSE))
		return -EBUSY;  /* a vCPU died meanwhile: the stop is on its way */
	/* a paused VM's console.log holds all it wrote, a partial line too */
	vmm_machine_flush_console(m);
	set_state(m, VMM_MACHINE_PAUSED);
	vmm_machine_post_event(m, json_pack("{s:s}", "event", "paused"));
	return 0;
}

int vmm_machine_resume(struct vmm_machine *m)
{
	if (m->state == VMM_MACHINE_RUNNING)
		return -EALREADY;
	if (m->state != VMM_MACHINE_PAUSED)
		return -EBUSY;
	if (vmm_machine_command_vcpus(m, VMM_VCPU_CMD_RESUME))
		return -EBUSY;
	set_state(m, VMM_MACHINE_RUNNING);
	vmm_machine_post_event(m, json_pack("{s:s}", "event", "resumed"));
	return 0;
}

/* Whether the guest unmasked the IOAPIC pin of the ACPI power button: a
 * kernel with a driver for the GED listens to it (Linux with ACPI), one
 * without (the test guest, a kernel booted with acpi=off) leaves it
 * masked. */
static bool guest_listens_to_power_button(struct vmm_machine *m)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };

	if (!m->vm.irqchip || ioctl(m->vm.fd, KVM_GET_IRQCHIP, &chip) < 0)
		return false;
	return !chip.chip.ioapic.redirtbl[VMM_ACPI_GED_GSI].fields.mask;
}

int vmm_machine_shutdown(struct vmm_machine *m)
{
	if (m->state != VMM_MACHINE_RUNNING && m->state != VMM_MACHINE_PAUSED)
		return -EBUSY;
	/* One request, the one the guest understands: the ACPI power button
	 * (Linux powers off; Ctrl-Alt-Del would make Linux reboot, or systemd
	 * start ctrl-alt-del.target), else Ctrl-Alt-Del on the i8042 keyboard
	 * (the test guest powers off). A paused guest finds the key presses,
	 * or the button's edge latched in the IOAPIC, when it resumes. */
	if (guest_listens_to_power_button(m)) {
		vmm_acpi_power_button(&m->ged_irq.irq);
		return 0;
	}
	return vmm_i8042_ctrl_alt_del(&m->i8042);
}

size_t vmm_machine_console_input(struct vmm_machine *m, const void *data, size_t len)
{
	return vmm_serial_input(&m->serial, data, len);
}

/* /proc/self/status was opened before the sandbox (no open(2) after it);
 * procfs regenerates the text on every read from offset 0. */
static uint64_t proc_status_kib(struct vmm_machine *m, const char *key)
{
	char buf[4096];
	size_t klen = strlen(key);
	ssize_t n;

	if (m->proc_status_fd < 0)
		return 0;
	n = pread(m->proc_status_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	for (char *line = buf; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
		if (!strncmp(line, key, klen) && line[klen] == ':')
			return strtoull(line + klen + 1, NULL, 10);
	return 0;
}

json_t *vmm_machine_status(struct vmm_machine *m)
{
	json_t *seccomp = m->cfg.seccomp ?
		json_pack("{s:i, s:i}", "vcpu", (int)m->seccomp_counts[VMM_ROLE_VCPU],
			  "device", (int)m->seccomp_counts[VMM_ROLE_DEVICE]) : json_null();

	return json_pack("{s:b, s:s, s:s, s:i, s:i, s:I, s:I, s:s, s:{s:i, s:o}, s:i}",
			 "ok", 1, "name", m->cfg.name ? m->cfg.name : "",
			 "state", vmm_machine_state_name(m->state), "pid", (int)getpid(),
			 "vcpus", (int)m->nvcpus, "memory_mib", (json_int_t)m->cfg.memory_mib,
			 "uptime_ms", (json_int_t)((vmm_now_ns() - m->start_ns) / 1000000),
			 "kernel", m->cfg.kernel ? m->cfg.kernel : m->cfg.restore,
			 "sandbox", "uid", (int)getuid(), "seccomp", seccomp,
			 "generation", (int)__atomic_load_n(&m->gen_port.generation,
							    __ATOMIC_RELAXED));
}

json_t *vmm_machine_stats(struct vmm_machine *m)
{
	json_t *vcpus = json_array();
	static const char *const vstate[] = { "paused", "running", "stopped" };
	int irqfds = 0;

	for (unsigned i = 0; i < m->nvirtio; i++)
		irqfds += m->virtio_irq[i].trigger_fd >= 0;
	for (unsigned i = 0; i < m->nvcpus; i++) {
		struct vmm_vcpu_stats st;

		vmm_vcpu_get_stats(&m->vcpus[i], &st);
		json_array_append_new(vcpus, json_pack("{s:i, s:s, s:I, s:I, s:I, s:I}",
			"index", (int)i, "state", vstate[vmm_vcpu_state(&m->vcpus[i])],
			"runs", (json_int_t)st.runs, "io", (json_int_t)st.io,
			"mmio", (json_int_t)st.mmio, "intr", (json_int_t)st.intr));
	}
	return json_pack("{s:b, s:s, s:I, s:o, s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I}, s:{s:I, s:I},"
			 " s:{s:i, s:i}}",
		"ok", 1, "state", vmm_machine_state_name(m->state),
		"uptime_ms", (json_int_t)((vmm_now_ns() - m->start_ns) / 1000000),
		"vcpus", vcpus,
		"memory", "guest_bytes", (json_int_t)m->mem.size,
		"rss_bytes", (json_int_t)(proc_status_kib(m, "VmRSS") << 10),
		"anon_bytes", (json_int_t)(proc_status_kib(m, "RssAnon") << 10),
		"console", "bytes", (json_int_t)vmm_serial_output_total(&m->serial),
		"dropped", (json_int_t)m->console_dropped,
		"queued_writes", (json_int_t)__atomic_load_n(&m->coalesced.replayed, __ATOMIC_RELAXED),
		"unhandled", "io", (json_int_t)__atomic_load_n(&m->io.unhandled, __ATOMIC_RELAXED),
		"mmio", (json_int_t)__atomic_load_n(&m->mmio.unhandled, __ATOMIC_RELAXED),
		"virtio_irq", "irqfd", irqfds, "irq_line", (int)m->nvirtio - irqfds);
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;   /* a full disk or closed stdout loses console output only */
		p += w;
		n -= (size_t)w;
	}
}

/* Copies new console output out; returns its last byte, -1 if none. */
static int console_flush(struct vmm_machine *m)
{
	char buf[16384];
	size_t n;
	uint64_t dropped;
	int last = -1;

	while ((n = vmm_serial_read_output(&m->serial, &m->console_cursor, buf, sizeof(buf),
					   &dropped)) > 0) {
		m->console_dropped += dropped;
		if (m->console_fd >= 0)
			write_all(m->console_fd, buf, n);
		if (m->cfg.console_stdout)
			write_all(STDOUT_FILENO, buf, n);
		last = (unsigned char)buf[n - 1];
	}
	return last;
}

#define CONSOLE_LINE_WAIT_MS 10

static void console_timer_cb(uv_timer_t *t);

/* Disarmed before the flush: a byte that comes during it wakes us again
 * rather than waiting unseen. A line left without its end is flushed
 * again CONSOLE_LINE_WAIT_MS later; bytes until then need no wake-up. */
static void console_wake(struct vmm_machine *m)
{
	int last;

	__atomic_store_n(&m->console_armed, false, __ATOMIC_RELEASE);
	__atomic_store_n(&m->console_pending, 0, __ATOMIC_RELAXED);
	last = console_flush(m);
	if (last >= 0 && last != '\n' && m->state != VMM_MACHINE_STOPPING &&
	    !__atomic_exchange_n(&m->console_armed, true, __ATOMIC_ACQ_REL))
		uv_timer_start(&m->console_timer, console_timer_cb, CONSOLE_LINE_WAIT_MS, 0);
}

static void console_cb(uv_async_t *h)
{
	console_wake(h->data);
}

void vmm_machine_flush_console(struct vmm_machine *m)
{
	console_wake(m);
}

static void console_timer_cb(uv_timer_t *t)
{
	console_wake(t->data);
}

#define COALESCED_POLL_MIN_MS 10
#define COALESCED_POLL_MAX_MS 1000

/* Bytes a guest wrote just before it halted stay in the coalesced ring
 * until its next exit, which may never come: looked for every 10 ms while
 * the guest writes, backing off to once a second while it does not (an
 * idle VM costs one wake-up a second). */
static void coalesced_timer_cb(uv_timer_t *t)
{
	struct vmm_machine *m = t->data;
	uint64_t replayed;

	vmm_coalesced_drain(&m->coalesced);
	replayed = __atomic_load_n(&m->coalesced.replayed, __ATOMIC_RELAXED);
	if (replayed != m->coalesced_seen)
		m->coalesced_ms = COALESCED_POLL_MIN_MS;
	else if ((m->coalesced_ms *= 2) > COALESCED_POLL_MAX_MS)
		m->coalesced_ms = COALESCED_POLL_MAX_MS;
	m->coalesced_seen = replayed;
	uv_timer_start(t, coalesced_timer_cb, m->coalesced_ms, 0);
}

static void event_cb(uv_async_t *h)
{
	struct vmm_machine *m = h->data;
	json_t *events;

	pthread_mutex_lock(&m->lock);
	events = m->events;
	m->events = json_array();
	pthread_mutex_unlock(&m->lock);
	for (size_t i = 0; i < json_array_size(events); i++)
		vmm_control_broadcast(m->control, json_array_get(events, i));
	json_decref(events);
}

static void close_handle(uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void stop_cb(uv_async_t *h)
{
	struct vmm_machine *m = h->data;
	json_t *ev;

	if (m->state == VMM_MACHINE_STOPPING)
		return;
	set_state(m, VMM_MACHINE_STOPPING);
	vmm_machine_command_vcpus(m, VMM_VCPU_CMD_STOP);
	vmm_coalesced_drain(&m->coalesced);
	console_flush(m);
	event_cb(&m->event_async);
	ev = json_pack("{s:s, s:s, s:s, s:i}", "event", "stopped",
		       "reason", vmm_stop_reason_name(m->reason), "detail", m->detail,
		       "exit_code", m->exit_code);
	vmm_control_broadcast(m->control, ev);
	json_decref(ev);
	/* unlink(2) is in no seccomp list: it cannot be limited to one path */
	vmm_control_close(m->control, !m->cfg.seccomp);
	m->control = NULL;
	__atomic_store_n(&m->loop_ready, false, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < m->nioevents; i++)
		close_handle((uv_handle_t *)&m->ioevents[i].poll);
	for (unsigned i = 0; i < m->nvirtio; i++)
		if (m->resample_polling[i])
			close_handle((uv_handle_t *)&m->resample_poll[i]);
	for (unsigned i = 0; i < m->cfg.nnics; i++)
		if (m->nics[i].handles) {
			close_handle((uv_handle_t *)&m->nics[i].poll);
			close_handle((uv_handle_t *)&m->nics[i].resume);
		}
	close_handle((uv_handle_t *)&m->stop_async);
	close_handle((uv_handle_t *)&m->event_async);
	close_handle((uv_handle_t *)&m->console_async);
	close_handle((uv_handle_t *)&m->console_timer);
	close_handle((uv_handle_t *)&m->coalesced_timer);
	close_handle((uv_handle_t *)&m->sigterm);
	close_handle((uv_handle_t *)&m->sigint);
	close_handle((uv_handle_t *)&m->sighup);
}

static void signal_cb(uv_signal_t *h, int signum)
{
	char detail[32];

	snprintf(detail, sizeof(detail), "signal %d", signum);
	vmm_machine_request_stop(h->data, VMM_STOP_KILLED, 0, detail);
}

static int open_console(struct vmm_machine *m)
{
	char path[4096];
	const char *p = m->cfg.console_log;

	if (!p && m->cfg.runtime_dir) {
		snprintf(path, sizeof(path), "%s/console.log", m->cfg.runtime_dir);
		p = path;
	}
	if (!p)
		return 0;
	m->console_fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	return m->console_fd < 0 ? -errno : 0;
}

static int start_loop(struct vmm_machine *m)
{
	int r;

	uv_async_init(&m->loop, &m->stop_async, stop_cb);
	uv_async_init(&m->loop, &m->event_async, event_cb);
	uv_async_init(&m->loop, &m->console_async, console_cb);
	uv_timer_init(&m->loop, &m->console_timer);
	m->stop_async.data = m->event_async.data = m->console_async.data = m;
	m->console_timer.data = m;
	uv_timer_init(&m->loop, &m->coalesced_timer);
	m->coalesced_timer.data = m;
	if (m->env.coalesced) {
		m->coalesced_ms = COALESCED_POLL_MIN_MS;
		uv_timer_start(&m->coalesced_timer, coalesced_timer_cb, m->coalesced_ms, 0);
	}
	uv_signal_init(&m->loop, &m->sigterm);
	uv_signal_init(&m->loop, &m->sigint);
	uv_signal_init(&m->loop, &m->sighup);
	m->sigterm.data = m->sigint.data = m->sighup.data = m;
	uv_signal_start(&m->sigterm, signal_cb, SIGTERM);
	uv_signal_start(&m->sigint, signal_cb, SIGINT);
	uv_signal_start(&m->sighup, signal_cb, SIGHUP);
	__atomic_store_n(&m->loop_ready, true, __ATOMIC_RELEASE);
	if (m->cfg.runtime_dir) {
		size_t n = strlen(m->cfg.runtime_dir) + sizeof("/control.sock");

		m->control_path = malloc(n);
		if (!m->control_path)
			return -ENOMEM;
		snprintf(m->control_path, n, "%s/control.sock", m->cfg.runtime_dir);
		if ((r = vmm_control_open(&m->loop, m->control_path, m, &m->control)) < 0)
			return r;
		if (m->adopt_fd >= 0) {
			/* whoever assigned this standby VMM its VM is its first
			 * client; it may have sent requests already */
			r = vmm_control_adopt(m->control, m->adopt_fd);
			m->adopt_fd = -1;
			if (r < 0)
				return r;
		}
	}
	return vmm_machine_start_device_io(m);
}

int vmm_machine_run(struct vmm_machine *m)
{
	char why[200];
	int r;

	m->start_ns = vmm_now_ns();
	r = open_console(m);
	if (r < 0) {
		snprintf(why, sizeof(why), "opening the console log: %s", strerror(-r));
		vmm_machine_request_stop(m, VMM_STOP_CRASH, 0, why);
		return vmm_stop_reason_exit_status(m->reason);
	}
	m->proc_status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	r = uv_loop_init(&m->loop);
	if (r < 0) {
		snprintf(why, sizeof(why), "event loop: %s", uv_strerror(r));
		vmm_machine_request_stop(m, VMM_STOP_CRASH, 0, why);
		return vmm_stop_reason_exit_status(m->reason);
	}
	r = start_loop(m);
	vmm_trace("event loop and control socket");
	if (r < 0)
		snprintf(why, sizeof(why), "starting device I/O or the control socket: %s",
			 strerror(-r));
	/* Everything is open: from here on the process only uses what it has
	 * (sandbox.c for the order). */
	if (r == 0)
		r = vmm_sandbox_prepare(m, why, sizeof(why));
	vmm_trace("sandbox prepared");
	for (unsigned i = 0; r == 0 && i < m->nvcpus; i++) {
		r = vmm_vcpu_start(&m->vcpus[i]);
		if (r < 0)
			snprintf(why, sizeof(why), "starting vcpu %u: %s", i, strerror(-r));
	}
	vmm_trace("vCPU threads");
	if (r == 0)
		r = vmm_sandbox_finish(m, why, sizeof(why));
	vmm_trace("sandbox finished");
	if (r < 0) {
		vmm_machine_request_stop(m, VMM_STOP_CRASH, 0, why);
	} else if (m->cfg.start_paused) {
		set_state(m, VMM_MACHINE_PAUSED);
		vmm_machine_post_event(m, json_pack("{s:s, s:b}", "event", "started", "paused", 1));
	} else {
		vmm_machine_command_vcpus(m, VMM_VCPU_CMD_RESUME);
		set_state(m, VMM_MACHINE_RUNNING);
		vmm_machine_post_event(m, json_pack("{s:s, s:b}", "event", "started", "paused", 0));
		vmm_trace("running");
	}
	uv_run(&m->loop, UV_RUN_DEFAULT);
	console_flush(m);
	uv_loop_close(&m->loop);
	if (m->console_fd >= 0)
		close(m->console_fd);
	m->console_fd = -1;
	return vmm_stop_reason_exit_status(m->reason);
}

/* machine-devices.c - the VM's devices: where each sits (ports, MMIO
 * window, GSI), how its events reach the device thread, and the guest
 * command line words that announce the virtio ones.
 *
 * Layout: COM1 0x3f8 (GSI 4), i8042 0x60/0x64 (GSI 1), CMOS RTC 0x70, power-off
 * port 0xf4, generation counter 0x4f4 and MMIO 0xd0100000, ACPI sleep control/status 0x3c0/0x3c1, ACPI power button (GED)
 * GSI 23; virtio-mmio device i at 0xd0000000 + i * 0x1000 with GSI 5 + i,
 * disks first, then NICs, then the RNG. Queue notifications use one
 * ioeventfd per queue (datamatch on the queue index) polled by the loop, so
 * block I/O runs on the device thread, not the vCPU; where KVM refuses the
 * ioeventfd the MMIO write reaches the device on the vCPU thread instead.
 * Their interrupts (level-triggered) go through an irqfd with a resample
 * fd polled by the loop (vm.c), else KVM_IRQ_LINE.
 * Device failures (malformed rings) become "device_error" events. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>
#include "machine.h"
#include "sandbox.h"
#include "tap.h"
#include "virtio-blk.h"
#include "virtio-mmio.h"
#include "virtio-net.h"
#include "virtio-rng.h"

static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < errlen)
		snprintf(err + n, errlen - (size_t)n, ": %s", strerror(-r));
	return r;
}

/* The device thread copies console output to the log. Woken for every
 * byte, it cost a context switch and a write(2) per character; it is woken
 * at a line's end, at the first byte after a flush (it then flushes again
 * 10 ms later, so a prompt without a newline shows too), and every 4 KiB. */
static void console_notify(void *opaque, uint8_t byte)
{
	struct vmm_machine *m = opaque;
	unsigned pending = __atomic_add_fetch(&m->console_pending, 1, __ATOMIC_RELAXED);

	if (!__atomic_load_n(&m->loop_ready, __ATOMIC_ACQUIRE))
		return;
	if (byte == '\n' || pending >= 4096 ||
	    !__atomic_exchange_n(&m->console_armed, true, __ATOMIC_ACQ_REL))
		uv_async_send(&m->console_async);
}

static void on_device_error(void *opaque, const char *device, int err, const char *what)
{
	struct vmm_machine *m = opaque;

	vmm_machine_post_event(m, json_pack("{s:s, s:s, s:s, s:s}", "event", "device_error",
					    "device", device, "error", strerror(-err),
					    "detail", what ? what : ""));
}

static int add_legacy(struct vmm_machine *m, char *err, size_t errlen)
{
	int r;

	vmm_vm_irq_line_init(&m->vm, &m->serial_irq, VMM_SERIAL_COM1_GSI);
	vmm_vm_irq_line_init(&m->vm, &m->i8042_irq, VMM_I8042_GSI);
	vmm_vm_irq_line_init(&m->vm, &m->ged_irq, VMM_ACPI_GED_GSI);  /* edge: no irqfd */
	if ((r = -vmm_serial_init(&m->serial, &m->serial_irq.irq, console_notify, m)) < 0 ||
	    (r = -vmm_i8042_init(&m->i8042, &m->i8042_irq.irq, vmm_machine_request_stop, m)) < 0 ||
	    (r = -vmm_rtc_init(&m->rtc, m->mem.size)) < 0)
		return fail(err, errlen, r, "initialising legacy devices");
	if (m->cfg.coalesced_io) {
		/* COM1's THR/DLL only: every other register is read back or
		 * has effects a later exit must already see */
		r = vmm_coalesced_init(&m->coalesced, &m->kvm, m->vm.fd, &m->io, VMM_SERIAL_COM1, 1);
		if (r < 0 && r != -ENOTSUP)
			return fail(err, errlen, r, "coalesced I/O for the serial port");
		if (r == 0)
			m->env.coalesced = &m->coalesced;
	}
	m->exit_port = (struct vmm_exit_port){ .stop = vmm_machine_request_stop, .opaque = m };
	vmm_gen_port_init(&m->gen_port);
	m->acpi_pm = (struct vmm_acpi_pm){ .control_port = VMM_ACPI_SLEEP_CONTROL_PORT,
					   .status_port = VMM_ACPI_SLEEP_STATUS_PORT,
					   .stop = vmm_machine_request_stop, .opaque = m };
	if ((r = vmm_io_bus_add(&m->io, VMM_SERIAL_COM1, 8, &vmm_serial_io_ops, &m->serial)) < 0 ||
	    (r = vmm_io_bus_add(&m->io, VMM_I8042_DATA, 1, &vmm_i8042_io_ops, &m->i8042)) < 0 ||
	    (r = vmm_io_bus_add(&m->io, VMM_I8042_CMD, 1, &vmm_i8042_io_ops, &m->i8042)) < 0 ||
	    (r = vmm_io_bus_add(&m->io, VMM_RTC_PORT, 2, &vmm_rtc_io_ops, &m->rtc)) < 0 ||
	    (r = vmm_io_bus_add(&m->io, VMM_EXIT_PORT, 4, &vmm_exit_port_io_ops, &m->exit_port)) < 0 ||
	    (r = vmm_io_bus_add(&m->io, VMM_GEN_PORT, 4, &vmm_gen_port_io_ops, &m->gen_port)) < 0 ||
	    (r = vmm_mmio_bus_add(&m->mmio, &m->gen_port.mmio)) < 0 ||
	    (r = vmm_io_bus_add(&m->io, VMM_ACPI_SLEEP_CONTROL_PORT, 2, &vmm_acpi_pm_io_ops,
				&m->acpi_pm)) < 0 ||
	    (m->cfg.debug_seccomp_probe &&
	     (r = vmm_io_bus_add(&m->io, VMM_SECCOMP_PROBE_PORT, 1, &vmm_seccomp_probe_io_ops,
				 NULL)) < 0))
		return fail(err, errlen, r, "registering I/O ports");
	return 0;
}

/* Registers the transport of the next virtio device; the caller created it
 * at next_virtio_base(m) with next_virtio_irq(m). */
static uint64_t next_virtio_base(const struct vmm_machine *m)
{
	return VMM_VIRTIO_MMIO_BASE + m->nvirtio * VMM_VIRTIO_MMIO_STRIDE;
}

/* virtio lines are level-triggered: an irqfd with a resample fd where KVM
 * has them (the fallback, KVM_IRQ_LINE, needs nothing more). */
static struct vmm_irq *next_virtio_irq(struct vmm_machine *m)
{
	struct vmm_irq_line *l = &m->virtio_irq[m->nvirtio];

	vmm_vm_irq_line_init(&m->vm, l, VMM_VIRTIO_FIRST_GSI + m->nvirtio);
	if (m->cfg.irqfd)
		(void)vmm_vm_irq_line_use_irqfd(&m->vm, l);
	return &l->irq;
}

static int register_virtio(struct vmm_machine *m, struct virtio_mmio *vdev)
{
	int r;

	virtio_mmio_set_error_handler(vdev, on_device_error, m);
	r = vmm_mmio_bus_add(&m->mmio, &vdev->mmio);
	if (r < 0)
		return r;
	m->virtio[m->nvirtio++] = vdev;
	return 0;
}

/* Called by virtio-net (device lock held) when the guest posted receive
 * buffers after the tap was left unpolled; the loop's async handle exists
 * only once vmm_machine_start_device_io ran. */
static void nic_rx_resume(void *opaque)
{
	struct vmm_nic *n = opaque;

	if (__atomic_load_n(&n->handles, __ATOMIC_ACQUIRE))
		uv_async_send(&n->resume);
}

static int add_virtio(struct vmm_machine *m, char *err, size_t errlen)
{
	int r;

	for (unsigned i = 0; i < m->cfg.ndisks; i++) {
		const struct vmm_disk_config *d = &m->cfg.disks[i];
		struct virtio_blk_params p = { .path = d->path, .readonly = d->readonly,
					       .serial = d->serial };

		r = virtio_blk_create(&p, &m->mem, next_virtio_irq(m), next_virtio_base(m),
				      &m->disks[i]);
		if (r < 0)
			return fail(err, errlen, r, "disk %s", d->path);
		if ((r = register_virtio(m, virtio_blk_mmio(m->disks[i]))) < 0)
			return fail(err, errlen, r, "disk %s on the MMIO bus", d->path);
	}
	for (unsigned i = 0; i < m->cfg.nnics; i++) {
		const struct vmm_nic_config *c = &m->cfg.nics[i];
		struct vmm_nic *n = &m->nics[i];
		struct virtio_net_params p = { .rx_resume = nic_rx_resume, .opaque = n };

		n->tap_fd = -1;
		r = vmm_tap_create(c->tap, c->bridge, n->ifname, &n->tap_fd);
		if (r < 0)
			return fail(err, errlen, r, "tap %s%s%s", c->tap ? c->tap : "(auto)",
				    c->bridge ? " on bridge " : "", c->bridge ? c->bridge : "");
		p.tap_fd = n->tap_fd;
		memcpy(p.mac, c->mac, 6);
		r = virtio_net_create(&p, &m->mem, next_virtio_irq(m), next_virtio_base(m), &n->dev);
		if (r < 0)
			return fail(err, errlen, r, "virtio-net on %s", n->ifname);
		if ((r = register_virtio(m, virtio_net_mmio(n->dev))) < 0)
			return fail(err, errlen, r, "virtio-net on the MMIO bus");
	}
	if (m->cfg.rng) {
		r = virtio_rng_create(&m->mem, next_virtio_irq(m), next_virtio_base(m), &m->rng);
		if (r < 0)
			return fail(err, errlen, r, "virtio-rng");
		if ((r = register_virtio(m, virtio_rng_mmio(m->rng))) < 0)
			return fail(err, errlen, r, "virtio-rng on the MMIO bus");
	}
	return 0;
}

/* The virtio_mmio.device= words stay alongside the ACPI tables: the test
 * guest finds its devices only through them, and Linux kernels without
 * CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES (Debian's) ignore them. A kernel with
 * both would see each device twice; the second probe fails to claim the
 * already-requested MMIO window (-EBUSY), so one driver instance remains. */
static int build_cmdline(struct vmm_machine *m, char *err, size_t errlen)
{
	size_t cap = VMM_CMDLINE_MAX, len;
	char *s = calloc(1, cap);

	if (!s)
		return fail(err, errlen, -ENOMEM, "command line");
	len = (size_t)snprintf(s, cap, "%s", m->cfg.cmdline ? m->cfg.cmdline : "");
	for (unsigned i = 0; i < m->nvirtio && len < cap; i++) {
		if (len && len + 1 < cap)
			s[len++] = ' ';
		int n = virtio_mmio_cmdline(m->virtio[i], s + len, cap - len);

		if (n < 0) {
			len = cap;
			break;
		}
		len += (size_t)n;
	}
	if (len >= cap - 1) {
		free(s);
		return fail(err, errlen, -E2BIG, "kernel command line longer than %d bytes",
			    VMM_CMDLINE_MAX - 1);
	}
	m->guest_cmdline = s;
	return 0;
}

int vmm_machine_add_devices(struct vmm_machine *m, char *err, size_t errlen)
{
	int r;

	if ((r = add_legacy(m, err, errlen)) < 0 || (r = add_virtio(m, err, errlen)) < 0)
		return r;
	return build_cmdline(m, err, errlen);
}

static void resample_cb(uv_poll_t *h, int status, int events)
{
	if (status == 0)
		vmm_vm_irq_line_resample(h->data);
}

static void ioevent_cb(uv_poll_t *h, int status, int events)
{
	struct vmm_ioeventfd *e = h->data;
	uint64_t v;

	if (status < 0)
		return;
	if (read(e->fd, &v, sizeof(v)) == sizeof(v))
		virtio_mmio_notify(e->vdev, e->queue);
}

static void nic_poll_cb(uv_poll_t *h, int status, int events)
{
	struct vmm_nic *n = h->data;

	if (status < 0 || virtio_net_rx_ready(n->dev) == -ENOBUFS) {
		uv_poll_stop(&n->poll);
		n->polling = false;
	}
}

static void nic_resume_cb(uv_async_t *h)
{
	struct vmm_nic *n = h->data;

	if (!n->polling && uv_poll_start(&n->poll, UV_READABLE, nic_poll_cb) == 0)
		n->polling = true;
}

static int add_ioeventfd(struct vmm_machine *m, struct virtio_mmio *vdev, unsigned q)
{
	struct vmm_ioeventfd *e = &m->ioevents[m->nioevents];
	struct kvm_ioeventfd io = {
		.datamatch = q,
		.addr = virtio_mmio_notify_addr(vdev),
		.len = 4,
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
	};

	if (m->nioevents == VMM_MAX_VIRTIO * 4)
		return -ENOSPC;
	e->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (e->fd < 0)
		return -errno;
	io.fd = e->fd;
	if (ioctl(m->vm.fd, KVM_IOEVENTFD, &io) < 0) {
		int r = -errno;

		close(e->fd);
		e->fd = -1;
		return r;
	}
	e->vdev = vdev;
	e->queue = q;
	uv_poll_init(&m->loop, &e->poll, e->fd);
	e->poll.data = e;
	e->active = true;
	m->nioevents++;
	return uv_poll_start(&e->poll, UV_READABLE, ioevent_cb);
}

int vmm_machine_start_device_io(struct vmm_machine *m)
{
	int r;

	if (m->cfg.ioeventfd && m->kvm.ioeventfd)
		for (unsigned i = 0; i < m->nvirtio; i++)
			for (unsigned q = 0; q < m->virtio[i]->ops->num_queues; q++)
				if ((r = add_ioeventfd(m, m->virtio[i], q)) < 0)
					return r;
	for (unsigned i = 0; i < m->nvirtio; i++) {
		struct vmm_irq_line *l = &m->virtio_irq[i];

		if (l->resample_fd < 0)
			continue;
		if ((r = uv_poll_init(&m->loop, &m->resample_poll[i], l->resample_fd)) < 0)
			return r;
		m->resample_poll[i].data = l;
		m->resample_polling[i] = true;
		if ((r = uv_poll_start(&m->resample_poll[i], UV_READABLE, resample_cb)) < 0)
			return r;
	}
	for (unsigned i = 0; i < m->cfg.nnics; i++) {
		struct vmm_nic *n = &m->nics[i];

		uv_poll_init(&m->loop, &n->poll, n->tap_fd);
		uv_async_init(&m->loop, &n->resume, nic_resume_cb);
		n->poll.data = n->resume.data = n;
		__atomic_store_n(&n->handles, true, __ATOMIC_RELEASE);
		nic_resume_cb(&n->resume);
	}
	return 0;
}

void vmm_machine_free_devices(struct vmm_machine *m)
{
	vmm_coalesced_destroy(&m->coalesced);
	for (unsigned i = 0; i < m->nioevents; i++)
		if (m->ioevents[i].fd >= 0)
			close(m->ioevents[i].fd);
	for (unsigned i = 0; i < VMM_MAX_DISKS; i++)
		m->disks[i] = virtio_blk_free(m->disks[i]);
	for (unsigned i = 0; i < VMM_MAX_NICS; i++) {
		m->nics[i].dev = virtio_net_free(m->nics[i].dev);
		if (m->nics[i].tap_fd >= 0)
			close(m->nics[i].tap_fd);
	}
	m->rng = virtio_rng_free(m->rng);
	/* after the devices: nothing raises these lines any more */
	for (unsigned i = 0; i < VMM_MAX_VIRTIO; i++)
		vmm_vm_irq_line_destroy(&m->virtio_irq[i]);
	vmm_vm_irq_line_destroy(&m->ged_irq);
	vmm_serial_destroy(&m->serial);
	vmm_i8042_destroy(&m->i8042);
	vmm_rtc_destroy(&m->rtc);
}

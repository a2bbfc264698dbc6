/* machine.h - one VM: its configuration, its parts, and the device/event
 * thread's view of it (pause, resume, stop, status, stats, events). */
#pragma once
#include <jansson.h>
#include <linux/filter.h>
#include <net/if.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>
#include "acpi.h"
#include "boot.h"
#include "coalesced.h"
#include "io-bus.h"
#include "kvm.h"
#include "legacy-ports.h"
#include "mmio-bus.h"
#include "serial.h"
#include "stop-reason.h"
#include "vcpu.h"
#include "vm.h"

#define VMM_MAX_VCPUS   VMM_MPTABLE_MAX_CPUS
#define VMM_MAX_DISKS   8
#define VMM_MAX_NICS    4
#define VMM_MAX_VIRTIO  (VMM_MAX_DISKS + VMM_MAX_NICS + 1)
#define VMM_VIRTIO_MMIO_BASE 0xd0000000ull
#define VMM_VIRTIO_MMIO_STRIDE 0x1000ull
#define VMM_VIRTIO_FIRST_GSI 5

struct vmm_disk_config {
	const char *path;
	bool readonly;
	const char *serial;     /* GET_ID, may be NULL */
};

struct vmm_nic_config {
	const char *tap;        /* interface name, NULL: kernel picks */
	const char *bridge;     /* NULL: none */
	uint8_t mac[6];
};

struct vmm_config {
	const char *name;
	const char *runtime_dir;   /* control.sock and console.log go here */
	const char *console_log;   /* overrides runtime_dir/console.log */
	bool console_stdout;       /* also copy guest output to stdout */
	unsigned vcpus;
	uint64_t memory_mib;
	bool hugepages;
	bool start_paused;
	bool ioeventfd;            /* queue notifications via ioeventfd */
	bool irqfd;                /* virtio interrupts via irqfd + resample fd */
	bool coalesced_io;         /* serial output via KVM's coalesced port ring */
	bool rng;
	/* hardening (sandbox.c) */
	const char *user;          /* VM user; NULL: hvd-vm if root and it exists */
	bool seccomp;              /* per-role seccomp filters (default on) */
	bool core_dumps;           /* keep RLIMIT_CORE and dumpability */
	bool debug_seccomp_probe;  /* port 0x4f0 makes a forbidden syscall */
	const char *kernel;        /* not with restore */
	const char *initrd;
	/* resume from a frozen image instead of booting (machine-snapshot.c):
	 * the state file and the memory image (mapped MAP_PRIVATE) */
	const char *restore;
	const char *memory_file;
	const char *cmdline;
	struct vmm_disk_config disks[VMM_MAX_DISKS];
	unsigned ndisks;
	struct vmm_nic_config nics[VMM_MAX_NICS];
	unsigned nnics;
	/* /dev/kvm and the VM fd a standby VMM opened before it knew its VM
	 * (standby.c), taken over; NULL: vmm_machine_create opens them */
	struct vmm_prepared *prepared;
};

enum vmm_machine_state {
	VMM_MACHINE_CREATED,
	VMM_MACHINE_RUNNING,
	VMM_MACHINE_PAUSED,
	VMM_MACHINE_STOPPING,
};

struct vmm_control;
struct virtio_mmio;
struct virtio_blk;
struct virtio_net;
struct virtio_rng;

/* A virtio device's notification eventfd (one per queue) polled by the loop. */
struct vmm_ioeventfd {
	uv_poll_t poll;
	int fd;
	struct virtio_mmio *vdev;
	unsigned queue;
	bool active;
};

struct vmm_nic {
	struct virtio_net *dev;
	int tap_fd;
	char ifname[IFNAMSIZ];
	uv_poll_t poll;
	uv_async_t resume;
	bool polling;
	bool handles;
};

struct vmm_machine {
	struct vmm_config cfg;
	struct vmm_kvm kvm;
	struct vmm_vm vm;
	struct guest_mem mem;
	struct vmm_io_bus io;
	struct vmm_mmio_bus mmio;
	struct vmm_vcpu_env env;
	struct vmm_vcpu *vcpus;
	unsigned nvcpus;
	struct vmm_boot boot;
	char *guest_cmdline;

	/* devices */
	struct vmm_coalesced coalesced;    /* COM1's transmit register */
	struct vmm_irq_line serial_irq;
	struct vmm_serial serial;
	struct vmm_irq_line i8042_irq;
	struct vmm_i8042 i8042;
	struct vmm_rtc rtc;
	struct vmm_exit_port exit_port;
	struct vmm_gen_port gen_port;      /* generation counter 0x4f4 */
	struct vmm_acpi_pm acpi_pm;        /* S5 sleep registers 0x3c0/0x3c1 */
	struct vmm_irq_line ged_irq;       /* ACPI power button (GED), edge */
	struct vmm_irq_line virtio_irq[VMM_MAX_VIRTIO];
	uv_poll_t resample_poll[VMM_MAX_VIRTIO];   /* of the irqfd lines */
	bool resample_polling[VMM_MAX_VIRTIO];
	struct virtio_mmio *virtio[VMM_MAX_VIRTIO];
	unsigned nvirtio;
	struct virtio_blk *disks[VMM_MAX_DISKS];
	struct vmm_nic nics[VMM_MAX_NICS];
	struct virtio_rng *rng;
	struct vmm_ioeventfd ioevents[VMM_MAX_VIRTIO * 4];
	unsigned nioevents;

	/* device/event thread (the process's main thread) */
	uv_loop_t loop;
	uv_async_t stop_async, event_async, console_async;
	uv_timer_t console_timer;  /* flushes a line still without its end */
	uv_timer_t coalesced_timer;   /* drains writes queued before a halt */
	uint64_t coalesced_ms, coalesced_seen;
	bool console_armed;        /* atomic: a flush is coming, no wake-up needed */
	unsigned console_pending;  /* atomic: bytes since the last flush */
	uv_signal_t sigterm, sigint, sighup;
	bool loop_ready;
	struct vmm_control *control;
	char *control_path;
	int console_fd;            /* -1: none */
	int adopt_fd;              /* a standby's assignment socket, for the control socket; -1 */
	uint64_t console_cursor;
	uint64_t console_dropped;
	uint64_t start_ns;
	int proc_status_fd;        /* /proc/self/status, opened before the sandbox */
	int state_fd;              /* memfd of the last freeze's state file, -1 */

	/* sandbox.c */
	struct sock_fprog device_filter;
	unsigned seccomp_counts[2];  /* syscalls allowed per role (enum vmm_seccomp_role) */
	long sandbox_uid;          /* uid dropped to, -1: stayed */

	/* guarded by lock: written by any thread */
	pthread_mutex_t lock;
	enum vmm_machine_state state;
	enum vmm_stop_reason reason;
	int exit_code;
	char detail[224];
	json_t *events;            /* array of events waiting for the loop */
};

/* Builds the whole VM from cfg (copied; the strings must outlive m): KVM,
 * RAM, devices, kernel, vCPUs (created, not started). On error returns
 * -errno and writes a one-line reason into err; *ret is left NULL. */
int vmm_machine_create(const struct vmm_config *cfg, struct vmm_machine **ret, char *err,
		       size_t errlen);

/* Runs the VM on the calling thread's libuv loop until it stops; returns
 * the process exit status for the stop reason (stop-reason.h). */
int vmm_machine_run(struct vmm_machine *m);

/* Frees everything. Accepts NULL and half-built machines; returns NULL. */
struct vmm_machine *vmm_machine_free(struct vmm_machine *m);

/* Device thread: copies the console output not yet in the log (pause and
 * freeze call it, so that the log is whole when they answer). */
void vmm_machine_flush_console(struct vmm_machine *m);

/* Device-thread operations used by the control socket. pause/resume
 * return 0, or -EBUSY when the machine is stopping / not in the opposite
 * state (-EALREADY when it already is in the wanted state). */
int vmm_machine_pause(struct vmm_machine *m);
int vmm_machine_resume(struct vmm_machine *m);
/* Graceful shutdown request: presses the ACPI power button when the guest
 * unmasked its interrupt (Linux with ACPI powers off), else types
 * Ctrl-Alt-Del on the i8042 keyboard (the test guest powers off). Returns
 * at once: 0, -EBUSY when the machine is stopping, -EAGAIN when the
 * keyboard buffer is full (earlier requests not read yet). The VM stops
 * later by itself, if the guest obeys; timeouts are the caller's. */
int vmm_machine_shutdown(struct vmm_machine *m);
/* Any thread: first caller's reason wins (see stop-reason.h). */
void vmm_machine_request_stop(void *opaque, enum vmm_stop_reason reason, int code,
			      const char *detail);
/* Queue an event for the control socket clients; takes the reference.
 * Any thread. */
void vmm_machine_post_event(struct vmm_machine *m, json_t *event);
json_t *vmm_machine_status(struct vmm_machine *m);
json_t *vmm_machine_stats(struct vmm_machine *m);
const char *vmm_machine_state_name(enum vmm_machine_state s);
/* Serial console input; returns the bytes accepted. */
size_t vmm_machine_console_input(struct vmm_machine *m, const void *data, size_t len);

/* Device thread: freezes the VM (see machine-snapshot.c). Answers the
 * control reply: {"ok", "pid", "memory_fd", "memory_bytes", "state_fd",
 * "state_bytes", "paused_us", "state", "generation"}. With resume false a
 * running VM is left paused (state "paused", no event) until "resume".
 * Returns 0, -EBUSY (not running or paused), -ENOTSUP (RAM in hugepages or
 * not in a memfd), or -errno of a save (the VM runs on as before). */
int vmm_machine_freeze(struct vmm_machine *m, bool resume, json_t **ret);
/* Lets vCPUs that a freeze left paused run again, without a "resumed"
 * event (nobody was told they stopped). Device thread. */
void vmm_machine_thaw(struct vmm_machine *m);
/* Puts the state file at path into the just-created machine (vCPUs not
 * started). Returns 0, or -errno with the reason in err. */
int vmm_machine_restore(struct vmm_machine *m, const char *path, char *err, size_t errlen);
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t vmm_now_ns(void);
/* Sends cmd to every vCPU; returns how many are stopped. Device thread. */
int vmm_machine_command_vcpus(struct vmm_machine *m, enum vmm_vcpu_cmd cmd);

/* Device wiring done in machine-devices.c (vmm_machine_create calls it). */
int vmm_machine_add_devices(struct vmm_machine *m, char *err, size_t errlen);
int vmm_machine_start_device_io(struct vmm_machine *m);
void vmm_machine_free_devices(struct vmm_machine *m);

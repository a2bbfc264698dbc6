/* vcpu.h - one vCPU: a thread running KVM_RUN, driven by commands. */
#pragma once
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>
#include "coalesced.h"
#include "io-bus.h"
#include "mmio-bus.h"
#include "stop-reason.h"
#include "vm.h"

/* What a vCPU's exits are dispatched to; shared by all vCPUs of a VM. */
struct vmm_vcpu_env {
	struct vmm_io_bus *io;
	struct vmm_mmio_bus *mmio;
	struct vmm_coalesced *coalesced;  /* replayed after every KVM_RUN */
	vmm_stop_fn *stop;      /* fatal exits and guest power events */
	void *opaque;
};

/* running <-> paused -> stopped. A new vCPU is paused; stopped is final. */
enum vmm_vcpu_state {
	VMM_VCPU_PAUSED,
	VMM_VCPU_RUNNING,
	VMM_VCPU_STOPPED,
};

enum vmm_vcpu_cmd {
	VMM_VCPU_CMD_NONE,
	VMM_VCPU_CMD_PAUSE,
	VMM_VCPU_CMD_RESUME,
	VMM_VCPU_CMD_STOP,
};

struct vmm_vcpu_stats {
	uint64_t runs;       /* KVM_RUN calls that returned */
	uint64_t io;         /* port I/O exits */
	uint64_t mmio;       /* MMIO exits */
	uint64_t intr;       /* returns for a signal (kicks) */
	uint64_t other;
};

struct vmm_vcpu {
	unsigned index;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	const struct vmm_vcpu_env *env;
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum vmm_vcpu_state state;   /* written by the vCPU thread only */
	enum vmm_vcpu_cmd cmd;       /* pending command, NONE once answered */
	struct vmm_vcpu_stats stats; /* relaxed atomics */
	const void *filter;          /* struct sock_fprog loaded by the thread
				      * before it first runs the guest; NULL: none */
	/* the last I/O or MMIO exit, for crash reports (vCPU thread only) */
	char last_exit_kind;         /* 0 none, 'p' port, 'm' MMIO */
	bool last_exit_write;
	uint64_t last_exit_addr;
	bool ready;                  /* the thread finished its start (below) */
	int start_error;             /* -errno of the filter or first KVM_RUN */
};

/* Creates vCPU index of vm into *v (caller-owned storage that must stay in
 * place while the thread runs): the KVM vcpu fd and its mmapped kvm_run.
 * Returns 0 or -errno; v is left destroyable on error. */
int vmm_vcpu_create(struct vmm_vm *vm, unsigned index, const struct vmm_vcpu_env *env,
		    struct vmm_vcpu *v);

/* Starts the thread, in the paused state, and waits until it has loaded
 * v->filter (if any) and made a first KVM_RUN that does not enter the
 * guest. Returns 0, the pthread error, or that start's -errno (the thread
 * has then ended in the stopped state; vmm_vcpu_destroy joins it). */
int vmm_vcpu_start(struct vmm_vcpu *v);

/* Sends cmd and waits until the vCPU thread has acted on it (a running
 * guest is interrupted out of KVM_RUN). Returns the state after the
 * command. A stopped vCPU answers at once with VMM_VCPU_STOPPED. One caller
 * at a time per vCPU (the device thread). */
enum vmm_vcpu_state vmm_vcpu_command(struct vmm_vcpu *v, enum vmm_vcpu_cmd cmd);

enum vmm_vcpu_state vmm_vcpu_state(struct vmm_vcpu *v);
void vmm_vcpu_get_stats(struct vmm_vcpu *v, struct vmm_vcpu_stats *ret);

/* Stops the thread if it runs, joins it, unmaps and closes. Accepts a
 * zeroed or half-created vCPU (fd <= 0). */
void vmm_vcpu_destroy(struct vmm_vcpu *v);

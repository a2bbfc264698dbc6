/* stop-reason.h - why a VM stopped, as reported in the control protocol's
 * "stopped" event and in the exit status of `hvd vmm`. */
#pragma once

enum vmm_stop_reason {
	VMM_STOP_NONE = 0,
	VMM_STOP_POWEROFF,   /* guest powered off (exit port, ACPI-less halt) */
	VMM_STOP_REBOOT,     /* guest asked for a reset (i8042, system event) */
	VMM_STOP_CRASH,      /* triple fault, emulation failure, failed entry */
	VMM_STOP_KILLED,     /* the host stopped it: stop request, SIGTERM */
};

/* Exit status of `hvd vmm` for each reason (setup errors exit 1, usage 2). */
#define VMM_EXIT_POWEROFF 0
#define VMM_EXIT_REBOOT   3
#define VMM_EXIT_CRASH    4
#define VMM_EXIT_KILLED   5

/* Asks the machine to stop for reason; the first request wins. code is the
 * guest's exit code (exit port) or 0; detail a short static-or-copied text.
 * Callable from any thread, including vCPU threads inside exit handlers. */
typedef void vmm_stop_fn(void *opaque, enum vmm_stop_reason reason, int code,
			 const char *detail);

const char *vmm_stop_reason_name(enum vmm_stop_reason reason);
int vmm_stop_reason_exit_status(enum vmm_stop_reason reason);

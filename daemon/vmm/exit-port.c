/* exit-port.c - hvd's power-off port (see legacy-ports.h) and the names and
 * exit statuses of the stop reasons. A write of any width stops the VM;
 * reads return all ones, as from an undecoded port. */
#include "legacy-ports.h"

static void exit_port_out(void *opaque, uint16_t port, unsigned len, uint32_t val)
{
	struct vmm_exit_port *e = opaque;

	if (e->stop)
		e->stop(e->opaque, VMM_STOP_POWEROFF, (int)(val & 0xff), "exit port");
}

const struct vmm_io_ops vmm_exit_port_io_ops = {
	.in = NULL,
	.out = exit_port_out,
};

const char *vmm_stop_reason_name(enum vmm_stop_reason reason)
{
	switch (reason) {
	case VMM_STOP_POWEROFF: return "poweroff";
	case VMM_STOP_REBOOT: return "reboot";
	case VMM_STOP_CRASH: return "crash";
	case VMM_STOP_KILLED: return "killed";
	default: return "none";
	}
}

int vmm_stop_reason_exit_status(enum vmm_stop_reason reason)
{
	switch (reason) {
	case VMM_STOP_POWEROFF: return VMM_EXIT_POWEROFF;
	case VMM_STOP_REBOOT: return VMM_EXIT_REBOOT;
	case VMM_STOP_KILLED: return VMM_EXIT_KILLED;
	default: return VMM_EXIT_CRASH;
	}
}

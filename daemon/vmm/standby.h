/* standby.h - `hvd vmm --standby=FD`: a VMM process started before its VM
 * is known, so that starting or restoring a VM skips exec, loading and
 * opening /dev/kvm. */
#pragma once
#include "kvm.h"
#include "vm.h"

/* What a standby VMM prepared: /dev/kvm and an empty VM (no RAM, no
 * irqchip, no vCPUs). vmm_machine_create takes both over. ctl_fd is the
 * socket the assignment came on: the control socket's first client once
 * it listens (the daemon's supervisor needs no connect), -1 if none. */
struct vmm_prepared {
	struct vmm_kvm kvm;
	struct vmm_vm vm;
	int ctl_fd;
};

/* Prepares *pre, then waits on fd for the VM: one line of JSON,
 * {"argv": ["hvd", "vmm", OPTION...], "log": PATH}. Opens PATH (created,
 * truncated) as stdout and stderr, shows argv as the process's command
 * line where the kernel lets it (ps), keeps fd in pre->ctl_fd (anything
 * sent after the line is left unread) and returns 0 with the
 * arguments from "vmm" on in *ret_argc and *ret_argv (for vmm_main's
 * parser; allocated for the life of the process). Returns 1 when fd ends without a line (the
 * daemon no longer needs this VMM), -errno when preparing or the line
 * fails (said on stderr, which is the daemon's choice until then). */
int vmm_standby_wait(int fd, struct vmm_prepared *pre, int *ret_argc, char ***ret_argv);

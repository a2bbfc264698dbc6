/* supervisor.h - starting, watching and stopping VMM processes.
 *
 * One `hvd vmm` process per running VM, started from the daemon's own
 * binary in its own session (so it survives the daemon), with its runtime
 * files in runtime_dir/vms/<vm id>/. The supervisor follows each process
 * through its control socket and a pidfd, records every state change in
 * SQLite (state + reason), publishes vm.state events, applies the VM's
 * on_crash policy, and wakes API requests waiting for a state. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "store/store.h"

struct hvd;
struct api_request;
struct sup;
struct sup_vm;

int sup_new(struct hvd *hvd, struct sup **ret_sup);
/* Detaches from every VMM (they keep running) and frees the supervisor
 * once its handles are closed. */
void sup_shutdown(struct sup *sup);

/* The configuration was reloaded (SIGHUP): the standby VMM pool follows
 * standby_vmms, and the VM user (hvd-vm) is looked up again. */
void sup_config_changed(struct sup *sup);

/* Finds the VMMs a previous daemon left running (runtime dir + SQLite) and
 * re-attaches to them; VMs SQLite thinks are running whose VMM is gone are
 * marked stopped with the reason. Logs what it found. */
void sup_reattach_all(struct sup *sup);

/* Starts vm (which must be stopped or crashed). The state becomes
 * "starting" now and "running" once the VMM answers, or "stopped" with the
 * reason if it fails. -errno with err filled when it cannot even try. */
int sup_start(struct sup *sup, const struct store_vm *vm, char *err, size_t errlen);

/* A start that resumes a frozen image (live clone, memory snapshot)
 * instead of booting: `hvd vmm --restore state_path --memory-file
 * memory_path`. Both must stay readable until the VMM has opened them
 * (it reports "started" once it has). */
struct sup_restore {
	const char *state_path;
	const char *memory_path;
};
int sup_start_restore(struct sup *sup, const struct store_vm *vm, const struct sup_restore *rs,
		      char *err, size_t errlen);

/* Asks the running VM to stop: gracefully (the guest's power-off path;
 * forced after timeout_s) or at once. -ENOENT: not running. */
int sup_stop(struct sup *sup, const char *vm_id, bool force, unsigned timeout_s);

/* Restarts the VM's VMM process (stop now, start again). */
int sup_reboot(struct sup *sup, const char *vm_id);

/* pause/resume/console_input/stats through the control socket. cb gets
 * the VMM's response (NULL if it went away). -ENOENT: not running. */
typedef void (*sup_reply_cb)(json_t *resp, void *ud);
int sup_command(struct sup *sup, const char *vm_id, const char *cmd, const json_t *extra,
		sup_reply_cb cb, void *ud);

/* Wakes req (api_request_wake) at the VM's next state change. */
void sup_watch(struct sup *sup, const char *vm_id, struct api_request *req);
void sup_unwatch(struct sup *sup, const char *vm_id, struct api_request *req);
/* Calls fn(ud) once, at the VM's next state change (the state is in the
 * store by then). sup_unwatch_fn drops the watch with that ud. */
int sup_watch_fn(struct sup *sup, const char *vm_id, void (*fn)(void *ud), void *ud);
void sup_unwatch_fn(struct sup *sup, void *ud);

/* Whether a VMM process of vm_id is alive, and the VM's runtime dir. */
bool sup_is_running(struct sup *sup, const char *vm_id);
void sup_vm_dir(struct hvd *hvd, const char *vm_id, char *buf, size_t len);

/* Starts every stopped VM whose definition says autostart. */
void sup_autostart(struct sup *sup);

/* Stops every VM gracefully (forced after timeout_s) and calls done once
 * no VMM is left. */
void sup_stop_all(struct sup *sup, unsigned timeout_s, void (*done)(void *ud), void *ud);

/* Counts for sd_notify and metrics. */
int sup_count_running(struct sup *sup);

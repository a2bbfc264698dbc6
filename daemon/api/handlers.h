/* handlers.h - every API handler, one group per resource file. */
#pragma once
#include "api/api.h"

/* root.c */
void api_root_get(struct api_request *req);
void api_openapi_get(struct api_request *req);
void api_schema_get(struct api_request *req);

/* vms.c */
void api_vms_list(struct api_request *req);
void api_vms_create(struct api_request *req);
void api_vms_get(struct api_request *req);
void api_vms_patch(struct api_request *req);
void api_vms_delete(struct api_request *req);

/* lifecycle.c */
void api_vm_start(struct api_request *req);
void api_vm_stop(struct api_request *req);
void api_vm_reboot(struct api_request *req);
void api_vm_pause(struct api_request *req);
void api_vm_resume(struct api_request *req);
void api_vm_console_get(struct api_request *req);
void api_vm_console_post(struct api_request *req);

/* clone.c */
void api_vm_clone(struct api_request *req);

/* snapshots.c */
void api_snapshots_list(struct api_request *req);
void api_snapshots_create(struct api_request *req);
void api_snapshot_restore(struct api_request *req);
void api_snapshot_delete(struct api_request *req);
void api_vm_migrate(struct api_request *req);
/* start-up: removes snapshots a previous daemon did not finish */
struct hvd;
void api_snapshots_recover(struct hvd *hvd);
/* Removes the files of every snapshot of VM vm_id (its rows are gone). */
void api_snapshots_remove_files(struct hvd *hvd, const char *vm_id);

/* operations.c */
void api_ops_list(struct api_request *req);
void api_ops_get(struct api_request *req);
void api_ops_wait(struct api_request *req);
void api_ops_cancel(struct api_request *req);

/* events.c */
void api_events_get(struct api_request *req);

/* hosts.c */
void api_hosts_list(struct api_request *req);
void api_hosts_get(struct api_request *req);
void api_hosts_create(struct api_request *req);
void api_hosts_delete(struct api_request *req);

/* tokens.c */
void api_tokens_list(struct api_request *req);
void api_tokens_create(struct api_request *req);
void api_tokens_delete(struct api_request *req);

/* metrics.c */
void api_metrics_get(struct api_request *req);

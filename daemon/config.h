/* config.h - hvd's configuration: embedded defaults, /etc/hvd/hvd.conf, flags.
 *
 * Precedence: flags override the file, the file overrides the defaults.
 * The file is "key = value" lines; '#' starts a comment; `listen` may be
 * repeated. Unknown keys and bad values are errors that name the line. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_LISTEN 4
#define CONFIG_DEFAULT_PATH "/etc/hvd/hvd.conf"

struct hvd_config {
	char *config_path;          /* NULL: none */
	char *state_dir;
	char *runtime_dir;
	char *listen[CONFIG_MAX_LISTEN]; /* "unix:PATH" or "tcp:HOST:PORT" */
	int n_listen;
	char *tls_cert;
	char *tls_key;
	char *host_name;
	char *socket_group;         /* group owning the unix socket, default "hvd" */
	size_t max_body_bytes;      /* request body limit */
	unsigned max_connections;
	unsigned connection_timeout_s;
	unsigned host_vcpus;        /* 0: detect */
	uint64_t host_memory_mib;   /* 0: detect */
	double cpu_overcommit;
	double memory_overcommit;
	unsigned event_backlog;     /* events kept for Last-Event-ID replay */
	bool stop_vms_on_shutdown;  /* stop VMs gracefully when hvd stops */
	unsigned shutdown_timeout_s;/* ... forcing those still up after this */
	unsigned standby_vmms;      /* VMM processes kept waiting for a VM */
	int log_level;
};

/* Fills cfg with the embedded defaults (root or per-user paths). -ENOMEM. */
int config_defaults(struct hvd_config *cfg);

/* Reads path into cfg, overriding what it sets. On error writes a message
 * naming the line into err and returns -errno (-ENOENT if missing). */
int config_load_file(struct hvd_config *cfg, const char *path, char *err, size_t errlen);

/* Sets one key from a string, as the file would. -EINVAL with err filled. */
int config_set(struct hvd_config *cfg, const char *key, const char *value, char *err, size_t errlen);

/* Writes a human summary of what differs between a and b into out
 * ("cpu_overcommit 4 -> 2, ..."); returns the number of differences. */
int config_diff(const struct hvd_config *a, const struct hvd_config *b, char *out, size_t outlen);

/* Like config_diff, limited to the settings a running daemon cannot apply
 * (directories, listen addresses, TLS files, connection limits). */
int config_diff_needs_restart(const struct hvd_config *a, const struct hvd_config *b, char *out,
			      size_t outlen);

/* Deep copy; -ENOMEM. */
int config_copy(struct hvd_config *dst, const struct hvd_config *src);

void config_free(struct hvd_config *cfg);

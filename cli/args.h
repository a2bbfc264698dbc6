/* args.h - pure parsers for hvadm's option values and the JSON bodies built from them. */
#ifndef HVADM_ARGS_H
#define HVADM_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* Why a parse failed, in words fit for the user ("'2X' is not a size ..."). Parsers fill it only
 * when they fail; callers prefix the option name. */
struct hvadm_err {
	char msg[256];
};

/* Formats into err (when err is not NULL) and returns -EINVAL, so a parser can
 * `return hvadm_err_set(err, "...")`. */
int hvadm_err_set(struct hvadm_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A decimal integer in [min, max]: digits only (no sign, no blanks). -EINVAL on garbage, -ERANGE
 * outside the range. */
int hvadm_parse_uint(const char *s, uint64_t min, uint64_t max, struct hvadm_err *err,
		     uint64_t *ret);

/* A size: a positive number, optionally with a fraction ("1.5G"), and an optional binary suffix
 * K, M, G, T (case-insensitive; "KiB"/"KB" spellings accepted; "B" means bytes). A bare number is
 * multiplied by bare_unit. The result is a whole number of bytes greater than zero that fits in 64
 * bits. -EINVAL on garbage, a fraction of a byte, or zero; -ERANGE on overflow. */
int hvadm_parse_size(const char *s, uint64_t bare_unit, struct hvadm_err *err,
		     uint64_t *ret_bytes);

/* Memory for --memory: a size whose bare number means MiB, and which must be a whole number of
 * MiB ("2G" -> 2048, "512" -> 512, "1536K" -> error). */
int hvadm_parse_memory_mib(const char *s, struct hvadm_err *err, uint64_t *ret_mib);

/* A duration in seconds: "30", "30s", "5m", "2h"; 0 allowed; at most max_s. */
int hvadm_parse_duration(const char *s, uint64_t max_s, struct hvadm_err *err,
			 uint64_t *ret_seconds);

/* --disk PATH[,ro|,rw][,id=ID]: fields are owned by the struct (free with hvadm_disk_clear). */
struct hvadm_disk {
	char *id;	/* NULL: hvadm_create_json assigns disk0, disk1, ... */
	char *path;
	bool readonly;
};
int hvadm_parse_disk(const char *s, struct hvadm_err *err, struct hvadm_disk *ret);
void hvadm_disk_clear(struct hvadm_disk *d);

/* --nic network=BR[,mac=MAC][,id=ID] or --nic tap=NAME[,mac=MAC][,id=ID]. */
struct hvadm_nic {
	char *id;	/* NULL: assigned net0, net1, ... */
	char *mac;	/* NULL: the daemon generates one */
	char *network;
	char *tap;	/* exactly one of network, tap */
};
int hvadm_parse_nic(const char *s, struct hvadm_err *err, struct hvadm_nic *ret);
void hvadm_nic_clear(struct hvadm_nic *n);

/* --label KEY=VALUE (the value may be empty, the key not). */
struct hvadm_label {
	char *key;
	char *value;
};
int hvadm_parse_label(const char *s, struct hvadm_err *err, struct hvadm_label *ret);
void hvadm_label_clear(struct hvadm_label *l);

/* --components disks,memory,nics,labels -> a JSON array of those names, each at most once. */
int hvadm_parse_components(const char *s, struct hvadm_err *err, json_t **ret);

/* Everything `hvadm create` takes as flags. Zero/NULL means "not given". */
struct hvadm_create_opts {
	const char *name;
	uint64_t vcpus;
	uint64_t memory_mib;
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	const char *image;
	const struct hvadm_disk *disks;
	size_t n_disks;
	const struct hvadm_nic *nics;
	size_t n_nics;
	const struct hvadm_label *labels;
	size_t n_labels;
	const char *on_crash;
	bool autostart;
};

/* Builds the POST /v1/vms body. Fails (-EINVAL, err says why) when the flags contradict each
 * other: --kernel with --image, --initrd or --cmdline without --kernel, duplicate disk/NIC ids or
 * label keys, an on_crash other than restart/stop. Leaves range checks to the daemon. */
int hvadm_create_json(const struct hvadm_create_opts *o, struct hvadm_err *err, json_t **ret);

/* Everything `hvadm edit` takes as flags. */
struct hvadm_edit_opts {
	uint64_t vcpus;
	uint64_t memory_mib;
	const struct hvadm_label *labels;
	size_t n_labels;
	char *const *unlabels;
	size_t n_unlabels;
	const char *cmdline;
	const char *on_crash;
};

/* Builds the JSON merge patch (RFC 7396) for PATCH /v1/vms/{vm}: --unlabel k becomes
 * "labels": {"k": null}. -EINVAL when nothing is to change or a key is both set and removed. */
int hvadm_patch_json(const struct hvadm_edit_opts *o, struct hvadm_err *err, json_t **ret);

#endif

/* vm-def.c - semantic checks and presentation of VM definitions.
 *
 * The schema layer has already rejected wrong types, unknown fields and
 * out-of-range values; what is left here are rules that span fields or
 * depend on the host. Every rule failure names its field. */
#include <errno.h>
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "api/vm-def.h"
#include "cluster/capacity.h"
#include "hvd.h"
#include "log.h"
#include "disk-copy.h"
#include "vm-disks.h"

void vmdef_random_mac(char out[18])
{
	uint8_t b[3];

	hvd_random(b, sizeof(b));
	snprintf(out, 18, "52:54:00:%02x:%02x:%02x", b[0], b[1], b[2]);
}

static void set_default(json_t *def, const char *key, json_t *value)
{
	if (!json_object_get(def, key))
		json_object_set_new(def, key, value);
	else
		json_decref(value);
}

static bool has_dotdot(const char *path)
{
	for (const char *p = path; (p = strstr(p, "..")); p += 2)
		if ((p == path || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
			return true;
	return false;
}

/* Absolute, no ".." segment, no control characters. */
static int check_path(struct api_request *req, const char *field, const char *path)
{
	if (!path)
		return 0;
	if (path[0] != '/' || has_dotdot(path)) {
		api_reply_error(req, 400, "validation_failed", field,
				"%s: must be an absolute path without '..' segments", field);
		return -EINVAL;
	}
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			api_reply_error(req, 400, "validation_failed", field,
					"%s: control characters are not allowed in paths", field);
			return -EINVAL;
		}
	return 0;
}

static int check_ids(struct api_request *req, json_t *arr, const char *what)
{
	char field[64];
	size_t i, j;
	json_t *a, *b;

	json_array_foreach(arr, i, a) {
		for (j = 0; j < i; j++) {
			b = json_array_get(arr, j);
			if (json_equal(json_object_get(a, "id"), json_object_get(b, "id"))) {
				snprintf(field, sizeof(field), "%s.%zu.id", what, i);
				api_reply_error(req, 400, "validation_failed", field, "%s: id '%s' is used twice",
						field, json_string_value(json_object_get(a, "id")));
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int image_exists(struct hvd *hvd, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%.400s/images/%.64s/bzImage", hvd->cfg.state_dir, name);
	if (access(path, R_OK) == 0)
		return 1;
	snprintf(path, sizeof(path), "%.400s/images/%.64s/vmlinux", hvd->cfg.state_dir, name);
	return access(path, R_OK) == 0;
}

int vmdef_complete(struct api_request *req, json_t *def)
{
	struct store_host host;
	json_t *disks, *nics, *boot, *item;
	char field[64], mac[18];
	size_t i;
	int r;

	set_default(def, "labels", json_object());
	set_default(def, "disks", json_array());
	set_default(def, "nics", json_array());
	set_default(def, "on_crash", json_string("stop"));
	set_default(def, "autostart", json_false());

	r = store_host_get(req->hvd->store, req->hvd->host_id, &host);
	if (r < 0) {
		api_reply_errno(req, r, "local host");
		return r;
	}
	if ((uint64_t)json_integer_value(json_object_get(def, "vcpus")) > host.cap_vcpus) {
		api_reply_error(req, 400, "validation_failed", "vcpus", "vcpus: %lld is more than the host's %llu CPUs",
				json_integer_value(json_object_get(def, "vcpus")),
				(unsigned long long)host.cap_vcpus);
		return -EINVAL;
	}

	boot = json_object_get(def, "boot");
	if (!boot && !json_object_get(def, "image")) {
		api_reply_error(req, 400, "validation_failed", "boot", "boot: a kernel (boot.kernel) or an image is required");
		return -EINVAL;
	}
	if (boot && (check_path(req, "boot.kernel", json_string_value(json_object_get(boot, "kernel"))) < 0 ||
		     check_path(req, "boot.initrd", json_string_value(json_object_get(boot, "initrd"))) < 0))
		return -EINVAL;
	if (json_object_get(def, "image") && !image_exists(req->hvd, json_string_value(json_object_get(def, "image")))) {
		api_reply_error(req, 400, "validation_failed", "image",
				"image: '%s' is not installed in %s/images (scripts/mkimage --out %s/images builds one)",
				json_string_value(json_object_get(def, "image")), req->hvd->cfg.state_dir,
				req->hvd->cfg.state_dir);
		return -EINVAL;
	}

	disks = json_object_get(def, "disks");
	if (check_ids(req, disks, "disks") < 0)
		return -EINVAL;
	json_array_foreach(disks, i, item) {
		snprintf(field, sizeof(field), "disks.%zu.path", i);
		if (check_path(req, field, json_string_value(json_object_get(item, "path"))) < 0)
			return -EINVAL;
		set_default(item, "readonly", json_false());
	}

	nics = json_object_get(def, "nics");
	if (check_ids(req, nics, "nics") < 0)
		return -EINVAL;
	json_array_foreach(nics, i, item) {
		json_t *m = json_object_get(item, "mac");
		bool has_net = json_object_get(item, "network") != NULL;
		bool has_tap = json_object_get(item, "tap") != NULL;

		if (has_net == has_tap) {
			snprintf(field, sizeof(field), "nics.%zu", i);
			api_reply_error(req, 400, "validation_failed", field,
					"%s: give exactly one of network (a bridge) or tap", field);
			return -EINVAL;
		}
		if (m) {
			/* store MACs in one case so uniqueness means something */
			char lower[18];

			snprintf(lower, sizeof(lower), "%s", json_string_value(m));
			for (char *p = lower; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			if (strtol(lower, NULL, 16) & 1) {
				snprintf(field, sizeof(field), "nics.%zu.mac", i);
				api_reply_error(req, 400, "validation_failed", field,
						"%s: %s is a multicast address", field, lower);
				return -EINVAL;
			}
			json_object_set_new(item, "mac", json_string(lower));
		} else {
			vmdef_random_mac(mac);
			json_object_set_new(item, "mac", json_string(mac));
		}
		for (size_t j = 0; j < i; j++) {
			if (json_equal(json_object_get(json_array_get(nics, j), "mac"), json_object_get(item, "mac"))) {
				snprintf(field, sizeof(field), "nics.%zu.mac", i);
				api_reply_error(req, 400, "validation_failed", field, "%s: MAC used twice in this VM", field);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* Reads the first line of an image's cmdline file into out ("" if none). */
static void image_cmdline(const char *dir, char *out, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%.4000s/cmdline", dir);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

int vmdef_expand_image(struct api_request *req, json_t *def, const char *vm_id)
{
	const char *image = json_string_value(json_object_get(def, "image"));
	char dir[PATH_MAX - 64], path[PATH_MAX], cmdline[2048];
	json_t *disks = json_object_get(def, "disks"), *item;
	bool has_root = false;
	size_t i;
	int r;

	if (!image)
		return 0;
	snprintf(dir, sizeof(dir), "%.400s/images/%.64s", req->hvd->cfg.state_dir, image);
	if (!json_object_get(def, "boot")) {
		json_t *boot = json_object();

		/* the PVH vmlinux boots without the decompressor: prefer it */
		snprintf(path, sizeof(path), "%s/vmlinux", dir);
		if (access(path, R_OK) != 0)
			snprintf(path, sizeof(path), "%s/bzImage", dir);
		json_object_set_new(boot, "kernel", json_string(path));
		snprintf(path, sizeof(path), "%s/initrd", dir);
		if (access(path, R_OK) == 0)
			json_object_set_new(boot, "initrd", json_string(path));
		image_cmdline(dir, cmdline, sizeof(cmdline));
		json_object_set_new(boot, "cmdline", json_string(cmdline[0] ? cmdline : "console=ttyS0"));
		json_object_set_new(def, "boot", boot);
	}
	json_array_foreach(disks, i, item)
		has_root |= strcmp(json_string_value(json_object_get(item, "id")), "root") == 0;
	snprintf(path, sizeof(path), "%s/disk.img", dir);
	if (has_root || access(path, R_OK) != 0)
		return 0;
	/* the VM's own copy of the image's root disk (sparse; a reflink where
	 * the filesystem can), owned by hvd and removed with the VM */
	{
		char dst[PATH_MAX];

		r = vm_disks_mkdir(req->hvd, vm_id);
		if (r >= 0) {
			vm_disks_dir(req->hvd, vm_id, dir, sizeof(dir));
			snprintf(dst, sizeof(dst), "%s/root.img", dir);
			r = disk_copy_sparse(path, dst, NULL, NULL);
		}
		if (r < 0) {
			api_reply_errno(req, r == -ENOSPC ? -ENOSPC : r, "copying the image's root disk");
			vm_disks_remove_dir(req->hvd, vm_id);
			return r;
		}
		item = json_pack("{s:s, s:s, s:b}", "id", "root", "path", dst, "readonly", 0);
		json_array_insert_new(disks, 0, item);
	}
	return 0;
}

json_t *vmdef_to_json(struct hvd *hvd, const struct store_vm *vm)
{
	char created[32], updated[32];
	struct store_host h;
	const char *host = "";
	json_t *j;

	j = json_deep_copy(vm->definition);
	if (!j)
		return NULL;
	if (strcmp(vm->host_id, hvd->host_id) == 0)
		host = hvd->host_name;
	else if (vm->host_id[0] && store_host_get(hvd->store, vm->host_id, &h) == 0)
		host = h.name;
	store_format_time(vm->created_at, created);
	store_format_time(vm->updated_at, updated);
	json_object_set_new(j, "id", json_string(vm->id));
	json_object_set_new(j, "state", json_string(vm->state));
	json_object_set_new(j, "desired_state", json_string(vm->desired_state));
	json_object_set_new(j, "state_reason", json_string(vm->state_reason));
	json_object_set_new(j, "host", json_string(host));
	json_object_set_new(j, "created_at", json_string(created));
	json_object_set_new(j, "updated_at", json_string(updated));
	json_object_set_new(j, "generation", json_integer(vm->generation));
	return j;
}

int vmdef_load(struct api_request *req, struct store_vm *ret_vm)
{
	int r = store_vm_get(req->hvd->store, req->params[0], ret_vm);

	if (r == -ENOENT)
		api_reply_error(req, 404, "not_found", NULL, "VM '%.64s' not found", req->params[0]);
	else if (r < 0)
		api_reply_errno(req, r, "VM lookup");
	return r;
}

int vmdef_check_capacity(struct api_request *req, uint64_t vcpus, uint64_t memory_mib,
			 uint64_t release_vcpus, uint64_t release_memory_mib)
{
	struct store_host h;
	struct sched_usage u;
	uint64_t n;
	unsigned shortage;
	json_t *extra, *arr;
	int r;

	r = store_host_get(req->hvd->store, req->hvd->host_id, &h);
	if (r < 0) {
		api_reply_errno(req, r, "local host");
		return r;
	}
	u = (struct sched_usage){
		.cap_vcpus = h.cap_vcpus, .cap_memory_mib = h.cap_memory_mib,
		.cpu_overcommit = h.cpu_overcommit, .memory_overcommit = h.memory_overcommit,
	};
	r = store_alloc_totals(req->hvd->store, h.id, &u.alloc_vcpus, &u.alloc_memory_mib, &n);
	if (r < 0) {
		api_reply_errno(req, r, "allocations");
		return r;
	}
	if (sched_fit(&u, vcpus, memory_mib, release_vcpus, release_memory_mib, &shortage) == 0)
		return 0;
	arr = json_array();
	if (shortage & SCHED_SHORT_VCPUS)
		json_array_append_new(arr, json_string("vcpus"));
	if (shortage & SCHED_SHORT_MEMORY)
		json_array_append_new(arr, json_string("memory_mib"));
	extra = json_pack("{s:o, s:{s:I, s:I}}", "short", arr, "free",
			  "vcpus", (json_int_t)sched_free_vcpus(&u),
			  "memory_mib", (json_int_t)sched_free_memory_mib(&u));
	api_reply_error_extra(req, 409, "insufficient_capacity",
			      (shortage & SCHED_SHORT_VCPUS) ? "vcpus" : "memory_mib", extra,
			      "host %s has not enough%s%s free (free: %llu vCPUs, %llu MiB)", h.name,
			      (shortage & SCHED_SHORT_VCPUS) ? " vCPUs" : "",
			      (shortage & SCHED_SHORT_MEMORY) ? ((shortage & SCHED_SHORT_VCPUS) ? " and memory" : " memory") : "",
			      (unsigned long long)sched_free_vcpus(&u),
			      (unsigned long long)sched_free_memory_mib(&u));
	return -ENOSPC;
}

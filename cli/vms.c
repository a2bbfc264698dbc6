/* vms.c - the VM definition commands: list, show, create, edit, delete.
 *
 * Each command maps to one request of docs/api.md (edit to a GET for the ETag, then a PATCH).
 * Flags become JSON through the pure builders of args.c; what the daemon owns (name rules, ranges
 * against host capacity) it checks and its message is shown, so there is one wording of each rule.
 * VM names are percent-encoded into paths, so a name can never reach another resource. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "action.h"
#include "args.h"
#include "cleanup.h"
#include "cmd-table.h"
#include "output.h"

#define MAX_FILE_BYTES (1u << 20)	/* the API's body limit */

/* Appends "&key=escaped(value)" (or "?..." first) to *query. */
static int query_add(char **query, const char *key, const char *value)
{
	_cleanup_free_ char *e = hvadm_http_escape(value);
	char *q;

	if (!e || asprintf(&q, "%s%c%s=%s", *query ? *query : "", *query ? '&' : '?', key, e) < 0)
		return -ENOMEM;
	free(*query);
	*query = q;
	return 0;
}

/* Keeps in vms only the VMs that carry every label of want (an array of [key, value]):
 * docs/api.md takes one label= filter, so a second --label is applied here. */
static void keep_labelled(json_t *vms, const json_t *want)
{
	size_t i = 0;

	while (i < json_array_size(vms)) {
		json_t *have = json_object_get(json_array_get(vms, i), "labels"), *kv;
		bool all = true;
		size_t j;

		json_array_foreach(want, j, kv)
			if (!json_equal(json_object_get(have, json_string_value(json_array_get(kv, 0))),
					json_array_get(kv, 1)))
				all = false;
		if (all)
			i++;
		else
			json_array_remove(vms, i);
	}
}

int hvadm_cmd_list(struct hvadm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "label", required_argument, NULL, 'l' },
		{ "host", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	_cleanup_free_ char *query = NULL, *path = NULL;
	_cleanup_json_ json_t *body = NULL, *want = json_array();
	struct hvadm_table *t;
	struct hvadm_label l;
	struct hvadm_err err;
	json_t *vms, *vm;
	size_t i;
	int c, r;

	if (!want)
		return hvadm_fail("out of memory");
	while ((c = hvadm_getopt(ctx, argc, argv, ":h", opts)) != -1) {
		switch (c) {
		case 's':
			r = query_add(&query, "state", optarg);
			break;
		case 'l':
			if (hvadm_parse_label(optarg, &err, &l) < 0)
				return hvadm_usage_error(ctx, "--label: %s", err.msg);
			json_array_append_new(want, json_pack("[ss]", l.key, l.value));
			hvadm_label_clear(&l);
			/* the API filters on one label; the others are applied below */
			r = json_array_size(want) == 1 ? query_add(&query, "label", optarg) : 0;
			break;
		case 'H':
			r = query_add(&query, "host", optarg);
			break;
		HVADM_OPT_COMMON_CASES;
		}
		if (r < 0)
			return hvadm_fail("out of memory");
	}
	if ((r = hvadm_operands(ctx, argc, argv, 0, 0)))
		return r;
	if (asprintf(&path, "/v1/vms%s", query ? query : "") < 0)
		return hvadm_fail("out of memory");
	if ((r = hvadm_get_json(ctx, path, NULL, &body)))
		return r;
	vms = json_object_get(body, "vms");
	if (json_array_size(want) > 1)
		keep_labelled(vms, want);
	if (ctx->output == HVADM_OUTPUT_JSON)
		return hvadm_print_json(body, stdout) < 0 ? HVADM_EXIT_FAIL : HVADM_EXIT_OK;

	t = hvadm_table_new(6, (const char *[]){ "NAME", "STATE", "VCPUS", "MEMORY", "HOST",
						 "LABELS" });
	if (!t)
		return hvadm_fail("out of memory");
	hvadm_table_align_right(t, 2);
	hvadm_table_align_right(t, 3);
	json_array_foreach(vms, i, vm) {
		char vcpus[24], mem[HVADM_SIZE_BUF], labels[512];

		snprintf(vcpus, sizeof(vcpus), "%lld", (long long)hvadm_jint(vm, "vcpus", 0));
		hvadm_format_mib((uint64_t)hvadm_jint(vm, "memory_mib", 0), mem, sizeof(mem));
		hvadm_format_labels(json_object_get(vm, "labels"), labels, sizeof(labels));
		if (hvadm_table_add(t, (const char *[]){ hvadm_jstr(vm, "name"),
							 hvadm_jstr(vm, "state"), vcpus, mem,
							 hvadm_jstr(vm, "host"), labels }) < 0) {
			hvadm_table_free(t);
			return hvadm_fail("out of memory");
		}
	}
	r = hvadm_table_print(t, stdout);
	hvadm_table_free(t);
	return r < 0 ? HVADM_EXIT_FAIL : HVADM_EXIT_OK;
}

static void kv(const char *key, const char *value)
{
	printf("%-12s %s\n", key, value && *value ? value : "-");
}

static void show_vm(const json_t *vm)
{
	json_t *boot = json_object_get(vm, "boot"), *disks = json_object_get(vm, "disks");
	json_t *nics = json_object_get(vm, "nics"), *d;
	const char *state = hvadm_jstr(vm, "state"), *desired = hvadm_jstr(vm, "desired_state");
	const char *reason = hvadm_jstr(vm, "state_reason");
	char buf[1024], mem[HVADM_SIZE_BUF];
	size_t i;

	kv("Name:", hvadm_jstr(vm, "name"));
	kv("ID:", hvadm_jstr(vm, "id"));
	snprintf(buf, sizeof(buf), "%s%s%s%s%s%s", state ? state : "-",
		 desired && state && strcmp(desired, state) ? " (desired " : "",
		 desired && state && strcmp(desired, state) ? desired : "",
		 desired && state && strcmp(desired, state) ? ")" : "",
		 reason && *reason ? ": " : "", reason ? reason : "");
	kv("State:", buf);
	kv("Host:", hvadm_jstr(vm, "host"));
	snprintf(buf, sizeof(buf), "%lld", (long long)hvadm_jint(vm, "vcpus", 0));
	kv("vCPUs:", buf);
	hvadm_format_mib((uint64_t)hvadm_jint(vm, "memory_mib", 0), mem, sizeof(mem));
	snprintf(buf, sizeof(buf), "%s (%lld MiB)", mem, (long long)hvadm_jint(vm, "memory_mib", 0));
	kv("Memory:", buf);
	if (hvadm_jstr(vm, "image"))
		kv("Image:", hvadm_jstr(vm, "image"));
	if (boot) {
		kv("Kernel:", hvadm_jstr(boot, "kernel"));
		kv("Initrd:", hvadm_jstr(boot, "initrd"));
		kv("Cmdline:", hvadm_jstr(boot, "cmdline"));
	}
	kv("Labels:", hvadm_format_labels(json_object_get(vm, "labels"), buf, sizeof(buf)));
	kv("On crash:", hvadm_jstr(vm, "on_crash"));
	kv("Autostart:", json_is_true(json_object_get(vm, "autostart")) ? "yes" : "no");
	kv("Created:", hvadm_jstr(vm, "created_at"));
	kv("Updated:", hvadm_jstr(vm, "updated_at"));
	if (json_object_get(vm, "generation")) {
		snprintf(buf, sizeof(buf), "%lld", (long long)hvadm_jint(vm, "generation", 0));
		kv("Generation:", buf);
	}
	if (json_array_size(disks)) {
		struct hvadm_table *t = hvadm_table_new(3, (const char *[]){ "  ID", "MODE",
									     "PATH" });

		puts("Disks:");
		json_array_foreach(disks, i, d) {
			_cleanup_free_ char *id = NULL;

			if (asprintf(&id, "  %s", hvadm_jstr(d, "id") ? hvadm_jstr(d, "id") : "-") < 0)
				id = NULL;
			if (t)
				hvadm_table_add(t, (const char *[]){ id,
					json_is_true(json_object_get(d, "readonly")) ? "ro" : "rw",
					hvadm_jstr(d, "path") });
		}
		if (t)
			hvadm_table_print(t, stdout);
		hvadm_table_free(t);
	}
	if (json_array_size(nics)) {
		struct hvadm_table *t = hvadm_table_new(3, (const char *[]){ "  ID", "MAC",
									     "ATTACHMENT" });

		puts("NICs:");
		json_array_foreach(nics, i, d) {
			_cleanup_free_ char *id = NULL, *att = NULL;
			const char *net = hvadm_jstr(d, "network"), *tap = hvadm_jstr(d, "tap");

			if (asprintf(&id, "  %s", hvadm_jstr(d, "id") ? hvadm_jstr(d, "id") : "-") < 0)
				id = NULL;
			if (asprintf(&att, "%s=%s", net ? "network" : "tap",
				     net ? net : tap ? tap : "-") < 0)
				att = NULL;
			if (t)
				hvadm_table_add(t, (const char *[]){ id, hvadm_jstr(d, "mac"), att });
		}
		if (t)
			hvadm_table_print(t, stdout);
		hvadm_table_free(t);
	}
}

int hvadm_cmd_show(struct hvadm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	_cleanup_free_ char *path = NULL;
	_cleanup_json_ json_t *vm = NULL;
	const char *name;
	int c, r;

	while ((c = hvadm_getopt(ctx, argc, argv, ":h", opts)) != -1) {
		switch (c) {
		HVADM_OPT_COMMON_CASES;
		}
	}
	if ((r = hvadm_operands(ctx, argc, argv, 1, 1)))
		return r;
	name = argv[optind];
	if (!(path = hvadm_http_path("/v1/vms/", name, NULL)))
		return hvadm_fail("out of memory");
	if ((r = hvadm_get_json(ctx, path, name, &vm)))
		return r;
	if (ctx->output == HVADM_OUTPUT_JSON)
		return hvadm_print_json(vm, stdout) < 0 ? HVADM_EXIT_FAIL : HVADM_EXIT_OK;
	show_vm(vm);
	return HVADM_EXIT_OK;
}

/* Reads a JSON definition from file ("-": stdin), at most the API's body limit. */
static int read_definition(const char *file, json_t **ret)
{
	_cleanup_free_ char *buf = NULL;
	FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "re");
	const char *shown = strcmp(file, "-") == 0 ? "standard input" : file;
	json_error_t jerr;
	size_t n;
	json_t *v;

	if (!f)
		return hvadm_fail("%s: %s", file, strerror(errno));
	buf = malloc(MAX_FILE_BYTES + 1);
	if (!buf) {
		if (f != stdin)
			fclose(f);
		return hvadm_fail("out of memory");
	}
	n = fread(buf, 1, MAX_FILE_BYTES + 1, f);
	if (ferror(f)) {
		int e = errno;

		if (f != stdin)
			fclose(f);
		return hvadm_fail("%s: %s", shown, strerror(e));
	}
	if (f != stdin)
		fclose(f);
	if (n > MAX_FILE_BYTES)
		return hvadm_fail("%s: larger than %u KiB, the API's limit", shown,
				  MAX_FILE_BYTES >> 10);
	v = json_loadb(buf, n, 0, &jerr);
	if (!v)
		return hvadm_fail("%s:%d:%d: %s", shown, jerr.line, jerr.column, jerr.text);
	if (!json_is_object(v)) {
		json_decref(v);
		return hvadm_fail("%s: a VM definition is a JSON object", shown);
	}
	*ret = v;
	return HVADM_EXIT_OK;
}

/* Grows an array by one zeroed element; returns it, or NULL on out of memory. */
static void *push(void *arr, size_t *n, size_t size, void **ret_elem)
{
	char *a = reallocarray(arr, *n + 1, size);

	if (!a)
		return NULL;
	memset(a + *n * size, 0, size);
	*ret_elem = a + *n * size;
	(*n)++;
	return a;
}

struct create_flags {
	struct hvadm_create_opts o;
	struct hvadm_disk *disks;
	struct hvadm_nic *nics;
	struct hvadm_label *labels;
	size_t n_disks, n_nics, n_labels;
};

static void create_flags_clear(struct create_flags *f)
{
	for (size_t i = 0; i < f->n_disks; i++)
		hvadm_disk_clear(&f->disks[i]);
	for (size_t i = 0; i < f->n_nics; i++)
		hvadm_nic_clear(&f->nics[i]);
	for (size_t i = 0; i < f->n_labels; i++)
		hvadm_label_clear(&f->labels[i]);
	free(f->disks);
	free(f->nics);
	free(f->labels);
}

/* Parses one create/edit flag value that goes into an array. Returns 0, or an exit status. */
static int add_label(struct hvadm_ctx *ctx, struct hvadm_label **labels, size_t *n,
		     const char *arg)
{
	struct hvadm_err err;
	struct hvadm_label *l, *grown;

	if (!(grown = push(*labels, n, sizeof(**labels), (void **)&l)))
		return hvadm_fail("out of memory");
	*labels = grown;
	if (hvadm_parse_label(arg, &err, l) < 0) {
		(*n)--;
		return hvadm_usage_error(ctx, "--label: %s", err.msg);
	}
	return 0;
}

static int create_option(struct hvadm_ctx *ctx, struct create_flags *f, int c, bool *any)
{
	struct hvadm_err err;
	void *elem, *grown;

	*any = true;
	switch (c) {
	case 'c':
		if (hvadm_parse_uint(optarg, 1, INT32_MAX, &err, &f->o.vcpus) < 0)
			return hvadm_usage_error(ctx, "--vcpus: %s", err.msg);
		break;
	case 'm':
		if (hvadm_parse_memory_mib(optarg, &err, &f->o.memory_mib) < 0)
			return hvadm_usage_error(ctx, "--memory: %s", err.msg);
		break;
	case 'k': f->o.kernel = optarg; break;
	case 'i': f->o.initrd = optarg; break;
	case 'C': f->o.cmdline = optarg; break;
	case 'I': f->o.image = optarg; break;
	case 'r': f->o.on_crash = optarg; break;
	case 'a': f->o.autostart = true; break;
	case 'd':
		if (!(grown = push(f->disks, &f->n_disks, sizeof(*f->disks), &elem)))
			return hvadm_fail("out of memory");
		f->disks = grown;
		if (hvadm_parse_disk(optarg, &err, elem) < 0) {
			f->n_disks--;
			return hvadm_usage_error(ctx, "--disk '%s': %s", optarg, err.msg);
		}
		break;
	case 'n':
		if (!(grown = push(f->nics, &f->n_nics, sizeof(*f->nics), &elem)))
			return hvadm_fail("out of memory");
		f->nics = grown;
		if (hvadm_parse_nic(optarg, &err, elem) < 0) {
			f->n_nics--;
			return hvadm_usage_error(ctx, "--nic '%s': %s", optarg, err.msg);
		}
		break;
	case 'l':
		return add_label(ctx, &f->labels, &f->n_labels, optarg);
	default:
		*any = false;
		return -1;
	}
	return 0;
}

int hvadm_cmd_create(struct hvadm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vcpus", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "cmdline", required_argument, NULL, 'C' },
		{ "image", required_argument, NULL, 'I' },
		{ "disk", required_argument, NULL, 'd' },
		{ "nic", required_argument, NULL, 'n' },
		{ "label", required_argument, NULL, 'l' },
		{ "on-crash", required_argument, NULL, 'r' },
		{ "autostart", no_argument, NULL, 'a' },
		{ "file", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct create_flags flags = { 0 };
	_cleanup_json_ json_t *vm = NULL;
	_cleanup_free_ char *done = NULL;
	const char *file = NULL, *name;
	bool any_flag = false;
	struct hvadm_err err;
	int c, r = 0;

	while (r == 0 && (c = hvadm_getopt(ctx, argc, argv, ":hf:", opts)) != -1) {
		bool any;

		switch (c) {
		case 'f':
			file = optarg;
			break;
		case 'h':
			r = hvadm_help(ctx);
			goto out;
		case '?':
			r = HVADM_EXIT_USAGE;
			goto out;
		default:
			r = create_option(ctx, &flags, c, &any);
			any_flag |= any;
			break;
		}
	}
	if (r)
		goto out;
	if ((r = hvadm_operands(ctx, argc, argv, file ? 0 : 1, 1)))
		goto out;
	name = optind < argc ? argv[optind] : NULL;
	if (file) {
		if (any_flag) {
			r = hvadm_usage_error(ctx, "-f takes the whole definition; give no other "
					      "options with it");
			goto out;
		}
		if ((r = read_definition(file, &vm)))
			goto out;
		if (name)
			json_object_set_new(vm, "name", json_string(name));
	} else {
		flags.o.name = name;
		flags.o.disks = flags.disks;
		flags.o.n_disks = flags.n_disks;
		flags.o.nics = flags.nics;
		flags.o.n_nics = flags.n_nics;
		flags.o.labels = flags.labels;
		flags.o.n_labels = flags.n_labels;
		if (hvadm_create_json(&flags.o, &err, &vm) < 0) {
			r = hvadm_usage_error(ctx, "%s", err.msg);
			goto out;
		}
	}
	name = hvadm_jstr(vm, "name");
	if (asprintf(&done, "created %s", name ? name : "VM") < 0) {
		r = hvadm_fail("out of memory");
		goto out;
	}
	r = hvadm_act(ctx, &(struct hvadm_action){ .method = "POST", .path = "/v1/vms",
						   .body = vm, .subject = name, .done = done });
out:
	create_flags_clear(&flags);
	return r;
}

/* An ETag as given on the command line, quoted as HTTP wants it ("3" -> "\"3\""). */
static char *quote_etag(const char *e)
{
	char *q;

	if (e[0] == '"' || strncmp(e, "W/", 2) == 0)
		return strdup(e);
	return asprintf(&q, "\"%s\"", e) < 0 ? NULL : q;
}

int hvadm_cmd_edit(struct hvadm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vcpus", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "label", required_argument, NULL, 'l' },
		{ "unlabel", required_argument, NULL, 'u' },
		{ "cmdline", required_argument, NULL, 'C' },
		{ "on-crash", required_argument, NULL, 'r' },
		{ "if-match", required_argument, NULL, 'e' },
		{ "force", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct hvadm_edit_opts o = { 0 };
	struct hvadm_label *labels = NULL;
	size_t n_labels = 0, n_unlabels = 0;
	_cleanup_free_ char **unlabels = NULL;
	_cleanup_free_ char *path = NULL, *etag = NULL;
	_cleanup_json_ json_t *patch = NULL;
	struct hvadm_response resp = { 0 };
	const char *name, *if_match = NULL;
	bool force = false;
	struct hvadm_err err;
	char **grown;
	int c, r = 0;

	while (r == 0 && (c = hvadm_getopt(ctx, argc, argv, ":h", opts)) != -1) {
		switch (c) {
		case 'c':
			if (hvadm_parse_uint(optarg, 1, INT32_MAX, &err, &o.vcpus) < 0)
				r = hvadm_usage_error(ctx, "--vcpus: %s", err.msg);
			break;
		case 'm':
			if (hvadm_parse_memory_mib(optarg, &err, &o.memory_mib) < 0)
				r = hvadm_usage_error(ctx, "--memory: %s", err.msg);
			break;
		case 'l':
			r = add_label(ctx, &labels, &n_labels, optarg);
			break;
		case 'u':
			grown = reallocarray(unlabels, n_unlabels + 1, sizeof(*unlabels));
			if (!grown) {
				r = hvadm_fail("out of memory");
				break;
			}
			unlabels = grown;
			unlabels[n_unlabels++] = optarg;
			break;
		case 'C': o.cmdline = optarg; break;
		case 'r': o.on_crash = optarg; break;
		case 'e': if_match = optarg; break;
		case 'F': force = true; break;
		case 'h':
			r = hvadm_help(ctx);
			goto out;
		default:
			r = HVADM_EXIT_USAGE;
			break;
		}
	}
	if (r || (r = hvadm_operands(ctx, argc, argv, 1, 1)))
		goto out;
	name = argv[optind];
	if (force && if_match) {
		r = hvadm_usage_error(ctx, "--force and --if-match exclude each other");
		goto out;
	}
	o.labels = labels;
	o.n_labels = n_labels;
	o.unlabels = unlabels;
	o.n_unlabels = n_unlabels;
	if (hvadm_patch_json(&o, &err, &patch) < 0) {
		r = hvadm_usage_error(ctx, "%s", err.msg);
		goto out;
	}
	if (!(path = hvadm_http_path("/v1/vms/", name, NULL))) {
		r = hvadm_fail("out of memory");
		goto out;
	}
	if (if_match) {
		etag = quote_etag(if_match);
	} else if (!force) {
		/* a fresh read: its ETag makes the change conditional */
		r = hvadm_http_request(ctx->http, "GET", path, NULL, NULL, &resp);
		if (r < 0) {
			r = hvadm_fail_transport(ctx, r);
			goto out;
		}
		if (resp.status != 200) {
			r = hvadm_fail_response(name, &resp);
			goto out;
		}
		etag = resp.etag ? strdup(resp.etag) : NULL;
		hvadm_response_clear(&resp);
	}
	r = hvadm_http_request(ctx->http, "PATCH", path, patch, etag, &resp);
	if (r < 0) {
		r = hvadm_fail_transport(ctx, r);
		goto out;
	}
	if (resp.status == 412) {
		hvadm_fail_response(name, &resp);
		fprintf(stderr, "hvadm: %s changed since it was read; look again and retry\n", name);
		r = HVADM_EXIT_FAIL;
	} else if (resp.status < 200 || resp.status > 299) {
		r = hvadm_fail_response(name, &resp);
	} else if (ctx->output == HVADM_OUTPUT_JSON && resp.body) {
		r = hvadm_print_json(resp.body, stdout) < 0 ? HVADM_EXIT_FAIL : HVADM_EXIT_OK;
	} else {
		printf("changed %s\n", name);
		r = HVADM_EXIT_OK;
	}
out:
	hvadm_response_clear(&resp);
	for (size_t i = 0; i < n_labels; i++)
		hvadm_label_clear(&labels[i]);
	free(labels);
	return r;
}

/* Asks on the terminal; true for y/yes. */
static bool confirm(const char *question)
{
	char line[16];

	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	return strcmp(line, "y\n") == 0 || strcmp(line, "yes\n") == 0 ||
	       strcmp(line, "Y\n") == 0 || strcmp(line, "YES\n") == 0;
}

int hvadm_cmd_delete(struct hvadm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ "no-wait", no_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	_cleanup_free_ char *path = NULL, *done = NULL, *question = NULL;
	bool yes = false, no_wait = false;
	const char *name;
	int c, r;

	while ((c = hvadm_getopt(ctx, argc, argv, ":hy", opts)) != -1) {
		switch (c) {
		case 'y': yes = true; break;
		case 'W': no_wait = true; break;
		HVADM_OPT_COMMON_CASES;
		}
	}
	if ((r = hvadm_operands(ctx, argc, argv, 1, 1)))
		return r;
	name = argv[optind];
	if (!yes) {
		if (!isatty(STDIN_FILENO))
			return hvadm_usage_error(ctx, "not deleting %s without --yes (standard input "
						 "is not a terminal to ask on)", name);
		if (asprintf(&question, "Delete VM %s and its definition?", name) < 0)
			return hvadm_fail("out of memory");
		if (!confirm(question))
			return hvadm_fail("%s: not deleted", name);
	}
	if (!(path = hvadm_http_path("/v1/vms/", name, NULL)) || asprintf(&done, "deleted %s", name) < 0)
		return hvadm_fail("out of memory");
	return hvadm_act(ctx, &(struct hvadm_action){ .method = "DELETE", .path = path,
						      .subject = name, .no_wait = no_wait,
						      .done = done });
}

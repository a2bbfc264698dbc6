/* args.c - parsing of hvadm option values (sizes, durations, --disk, --nic, --label) and the JSON
 * request bodies of `create` and `edit` built from them.
 *
 * Everything here is pure: no I/O, no globals, so the unit tests drive it directly. Arithmetic on
 * user input is overflow-checked; a value that does not fit is refused, never wrapped. The parsers
 * check only what the client must know to build a body (syntax, contradictions); ranges the daemon
 * owns (vcpus against host capacity, name and path rules) are left to it so there is one source of
 * truth and one wording of the error. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cleanup.h"

int hvadm_err_set(struct hvadm_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Reads decimal digits at *p into *ret; returns the digit count, or -ERANGE on overflow. */
static int read_digits(const char **p, uint64_t *ret)
{
	uint64_t v = 0;
	int n = 0;

	while (**p >= '0' && **p <= '9') {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(**p - '0'), &v))
			return -ERANGE;
		(*p)++;
		n++;
	}
	*ret = v;
	return n;
}

int hvadm_parse_uint(const char *s, uint64_t min, uint64_t max, struct hvadm_err *err,
		     uint64_t *ret)
{
	const char *p = s;
	uint64_t v;
	int n;

	if (!s || !*s)
		return hvadm_err_set(err, "empty value (expected a number)");
	n = read_digits(&p, &v);
	if (n == -ERANGE) {
		hvadm_err_set(err, "'%s' is too large (at most %llu)", s, (unsigned long long)max);
		return -ERANGE;
	}
	if (n == 0 || *p)
		return hvadm_err_set(err, "'%s' is not a whole number", s);
	if (v < min || v > max) {
		hvadm_err_set(err, "'%s' is out of range (%llu to %llu)", s,
			      (unsigned long long)min, (unsigned long long)max);
		return -ERANGE;
	}
	*ret = v;
	return 0;
}

/* Binary multiplier of a size suffix ("", "B", "K", "KiB", "kb", ...), 0 if not a suffix. */
static uint64_t suffix_unit(const char *s, uint64_t bare_unit)
{
	static const char units[] = "KMGT";
	const char *u;
	uint64_t mult;

	if (!*s)
		return bare_unit;
	if ((s[0] == 'B' || s[0] == 'b') && !s[1])
		return 1;
	u = strchr(units, toupper((unsigned char)s[0]));
	if (!u || !s[0])
		return 0;
	mult = 1ULL << (10 * (u - units + 1));
	s++;
	if (!*s)
		return mult;
	if (*s == 'i' || *s == 'I')
		s++;
	if ((*s == 'B' || *s == 'b') && !s[1])
		return mult;
	return 0;
}

int hvadm_parse_size(const char *s, uint64_t bare_unit, struct hvadm_err *err,
		     uint64_t *ret_bytes)
{
	const char *p = s;
	uint64_t whole, frac = 0, mult, bytes, pow10 = 1;
	unsigned __int128 frac_bytes;
	int n, nfrac = 0;

	if (!s || !*s)
		return hvadm_err_set(err, "empty size (expected e.g. 512M or 2G)");
	if (*s == '-')
		return hvadm_err_set(err, "'%s' is negative (a size must be greater than zero)", s);
	n = read_digits(&p, &whole);
	if (n == -ERANGE) {
		hvadm_err_set(err, "'%s' is too large", s);
		return -ERANGE;
	}
	if (*p == '.') {
		const char *f = ++p;

		while (*p >= '0' && *p <= '9') {
			/* 18 fraction digits keep pow10 and frac below 10^18 < 2^63 */
			if (nfrac == 18)
				return hvadm_err_set(err, "'%s' has too many decimals", s);
			frac = frac * 10 + (uint64_t)(*p - '0');
			pow10 *= 10;
			nfrac++;
			p++;
		}
		if (p == f)
			n = 0;
	}
	if (n == 0)
		return hvadm_err_set(err, "'%s' is not a size (expected a number with an "
				     "optional K, M, G or T suffix, e.g. 512M or 2G)", s);
	mult = suffix_unit(p, bare_unit);
	if (mult == 0)
		return hvadm_err_set(err, "'%s' has an unknown unit '%s' (use K, M, G or T)", s, p);
	if (__builtin_mul_overflow(whole, mult, &bytes)) {
		hvadm_err_set(err, "'%s' is too large", s);
		return -ERANGE;
	}
	frac_bytes = (unsigned __int128)frac * mult;
	if (frac_bytes % pow10)
		return hvadm_err_set(err, "'%s' is not a whole number of bytes", s);
	if (__builtin_add_overflow(bytes, (uint64_t)(frac_bytes / pow10), &bytes)) {
		hvadm_err_set(err, "'%s' is too large", s);
		return -ERANGE;
	}
	if (bytes == 0)
		return hvadm_err_set(err, "'%s' is zero (a size must be greater than zero)", s);
	*ret_bytes = bytes;
	return 0;
}

int hvadm_parse_memory_mib(const char *s, struct hvadm_err *err, uint64_t *ret_mib)
{
	uint64_t bytes;
	int r;

	r = hvadm_parse_size(s, 1ULL << 20, err, &bytes);
	if (r < 0)
		return r;
	if (bytes & ((1ULL << 20) - 1))
		return hvadm_err_set(err, "'%s' is not a whole number of MiB", s);
	*ret_mib = bytes >> 20;
	return 0;
}

int hvadm_parse_duration(const char *s, uint64_t max_s, struct hvadm_err *err,
			 uint64_t *ret_seconds)
{
	const char *p = s;
	uint64_t v, mult = 1;
	int n;

	if (!s || !*s)
		return hvadm_err_set(err, "empty duration (expected e.g. 30, 30s, 5m or 1h)");
	n = read_digits(&p, &v);
	if (n == -ERANGE) {
		hvadm_err_set(err, "'%s' is too long (at most %llu seconds)", s,
			      (unsigned long long)max_s);
		return -ERANGE;
	}
	if (n == 0)
		return hvadm_err_set(err, "'%s' is not a duration (expected e.g. 30, 30s, 5m or 1h)", s);
	if (*p && p[1])
		n = -EINVAL;
	else if (*p == 'm')
		mult = 60;
	else if (*p == 'h')
		mult = 3600;
	else if (*p && *p != 's')
		n = -EINVAL;
	if (n == -EINVAL)
		return hvadm_err_set(err, "'%s' has an unknown unit '%s' (use s, m or h)", s, p);
	if (__builtin_mul_overflow(v, mult, &v) || v > max_s) {
		hvadm_err_set(err, "'%s' is too long (at most %llu seconds)", s,
			      (unsigned long long)max_s);
		return -ERANGE;
	}
	*ret_seconds = v;
	return 0;
}

/* Splits "a,b,c" in place: returns the next field and advances *rest past its comma. */
static char *next_field(char **rest)
{
	char *f = *rest, *c;

	if (!f)
		return NULL;
	c = strchr(f, ',');
	if (c) {
		*c = '\0';
		*rest = c + 1;
	} else {
		*rest = NULL;
	}
	return f;
}

/* If field is "key=value", returns value; else NULL. */
static const char *field_value(const char *field, const char *key)
{
	size_t n = strlen(key);

	if (strncmp(field, key, n) == 0 && field[n] == '=')
		return field + n + 1;
	return NULL;
}

static int set_once(char **dst, const char *val, const char *what, struct hvadm_err *err)
{
	if (*dst)
		return hvadm_err_set(err, "%s given twice", what);
	if (!*val)
		return hvadm_err_set(err, "empty %s", what);
	*dst = strdup(val);
	return *dst ? 0 : -ENOMEM;
}

void hvadm_disk_clear(struct hvadm_disk *d)
{
	if (!d)
		return;
	free(d->id);
	free(d->path);
	*d = (struct hvadm_disk){ 0 };
}

int hvadm_parse_disk(const char *s, struct hvadm_err *err, struct hvadm_disk *ret)
{
	_cleanup_free_ char *copy = NULL;
	struct hvadm_disk d = { 0 };
	char *rest, *f;
	const char *v;
	bool mode_set = false;
	int r = 0;

	if (!s || !*s)
		return hvadm_err_set(err, "empty disk (expected PATH[,ro][,id=ID])");
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	rest = copy;
	for (bool first = true; r == 0 && (f = next_field(&rest)); first = false) {
		if (first && !field_value(f, "id") && !field_value(f, "path")) {
			/* the path comes first, bare (it may hold '=', not ',') */
			r = set_once(&d.path, f, "path", err);
		} else if (strcmp(f, "ro") == 0 || strcmp(f, "readonly") == 0 ||
			   strcmp(f, "rw") == 0) {
			if (mode_set)
				r = hvadm_err_set(err, "ro/rw given twice");
			d.readonly = f[0] != 'r' || f[1] != 'w';
			mode_set = true;
		} else if ((v = field_value(f, "id"))) {
			r = set_once(&d.id, v, "id", err);
		} else if ((v = field_value(f, "path"))) {
			r = set_once(&d.path, v, "path", err);
		} else {
			r = hvadm_err_set(err, "unknown disk option '%s' (expected ro, rw or id=ID)", f);
		}
	}
	if (r == 0 && !d.path)
		r = hvadm_err_set(err, "missing the path (expected PATH[,ro][,id=ID])");
	if (r < 0) {
		hvadm_disk_clear(&d);
		return r;
	}
	*ret = d;
	return 0;
}

void hvadm_nic_clear(struct hvadm_nic *n)
{
	if (!n)
		return;
	free(n->id);
	free(n->mac);
	free(n->network);
	free(n->tap);
	*n = (struct hvadm_nic){ 0 };
}

static bool mac_valid(const char *m)
{
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)m[0]) || !isxdigit((unsigned char)m[1]))
			return false;
		m += 2;
		if (i < 5 && *m++ != ':')
			return false;
	}
	return *m == '\0';
}

int hvadm_parse_nic(const char *s, struct hvadm_err *err, struct hvadm_nic *ret)
{
	_cleanup_free_ char *copy = NULL;
	struct hvadm_nic n = { 0 };
	char *rest, *f;
	const char *v;
	int r = 0;

	if (!s || !*s)
		return hvadm_err_set(err, "empty NIC (expected network=BRIDGE or tap=NAME, "
				     "then [,mac=MAC][,id=ID])");
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	rest = copy;
	while (r == 0 && (f = next_field(&rest))) {
		if ((v = field_value(f, "network")))
			r = set_once(&n.network, v, "network", err);
		else if ((v = field_value(f, "tap")))
			r = set_once(&n.tap, v, "tap", err);
		else if ((v = field_value(f, "mac")))
			r = set_once(&n.mac, v, "mac", err);
		else if ((v = field_value(f, "id")))
			r = set_once(&n.id, v, "id", err);
		else
			r = hvadm_err_set(err, "unknown NIC option '%s' (expected network=, tap=, "
					  "mac= or id=)", f);
	}
	if (r == 0 && !n.network && !n.tap)
		r = hvadm_err_set(err, "a NIC needs network=BRIDGE or tap=NAME");
	if (r == 0 && n.network && n.tap)
		r = hvadm_err_set(err, "a NIC takes network= or tap=, not both");
	if (r == 0 && n.mac && !mac_valid(n.mac))
		r = hvadm_err_set(err, "'%s' is not a MAC address (expected xx:xx:xx:xx:xx:xx)",
				  n.mac);
	if (r < 0) {
		hvadm_nic_clear(&n);
		return r;
	}
	*ret = n;
	return 0;
}

void hvadm_label_clear(struct hvadm_label *l)
{
	if (!l)
		return;
	free(l->key);
	free(l->value);
	*l = (struct hvadm_label){ 0 };
}

int hvadm_parse_label(const char *s, struct hvadm_err *err, struct hvadm_label *ret)
{
	const char *eq;
	struct hvadm_label l;

	if (!s)
		return hvadm_err_set(err, "empty label (expected KEY=VALUE)");
	eq = strchr(s, '=');
	if (!eq)
		return hvadm_err_set(err, "'%s' is not KEY=VALUE", s);
	if (eq == s)
		return hvadm_err_set(err, "'%s' has an empty key", s);
	l.key = strndup(s, (size_t)(eq - s));
	l.value = strdup(eq + 1);
	if (!l.key || !l.value) {
		hvadm_label_clear(&l);
		return -ENOMEM;
	}
	*ret = l;
	return 0;
}

int hvadm_parse_components(const char *s, struct hvadm_err *err, json_t **ret)
{
	static const char *const known[] = { "disks", "memory", "nics", "labels" };
	_cleanup_free_ char *copy = NULL;
	_cleanup_json_ json_t *arr = NULL;
	char *rest, *f;
	unsigned seen = 0;

	if (!s || !*s)
		return hvadm_err_set(err, "empty component list (expected e.g. disks,nics)");
	copy = strdup(s);
	arr = json_array();
	if (!copy || !arr)
		return -ENOMEM;
	rest = copy;
	while ((f = next_field(&rest))) {
		size_t i;

		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(f, known[i]) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0]))
			return hvadm_err_set(err, "unknown component '%s' (expected disks, memory, "
					     "nics or labels)", f);
		if (seen & (1u << i))
			return hvadm_err_set(err, "component '%s' given twice", f);
		seen |= 1u << i;
		if (json_array_append_new(arr, json_string(f)) < 0)
			return -ENOMEM;
	}
	*ret = HVADM_TAKE_PTR(arr);
	return 0;
}

static bool on_crash_valid(const char *v)
{
	return strcmp(v, "restart") == 0 || strcmp(v, "stop") == 0;
}

/* Adds labels to obj (an object), refusing a key given twice. */
static int add_labels(json_t *obj, const struct hvadm_label *labels, size_t n,
		      struct hvadm_err *err)
{
	for (size_t i = 0; i < n; i++) {
		if (json_object_get(obj, labels[i].key))
			return hvadm_err_set(err, "label '%s' given twice", labels[i].key);
		if (json_object_set_new(obj, labels[i].key, json_string(labels[i].value)) < 0)
			return hvadm_err_set(err, "label '%s' is not valid UTF-8", labels[i].key);
	}
	return 0;
}

/* Picks "<prefix><k>" with the lowest k not in used (an object used as a set). */
static int free_id(json_t *used, const char *prefix, char *buf, size_t len)
{
	for (unsigned k = 0; k < 1000; k++) {
		snprintf(buf, len, "%s%u", prefix, k);
		if (!json_object_get(used, buf))
			return 0;
	}
	return -ENOSPC;
}

static int build_disks(const struct hvadm_create_opts *o, struct hvadm_err *err, json_t *vm)
{
	_cleanup_json_ json_t *used = json_object(), *arr = json_array();
	char id[32];

	if (!used || !arr)
		return -ENOMEM;
	for (size_t i = 0; i < o->n_disks; i++) {
		const char *d = o->disks[i].id;

		if (d && json_object_get(used, d))
			return hvadm_err_set(err, "disk id '%s' given twice", d);
		if (d)
			json_object_set_new(used, d, json_true());
	}
	for (size_t i = 0; i < o->n_disks; i++) {
		const char *d = o->disks[i].id;

		if (!d) {
			if (free_id(used, "disk", id, sizeof(id)) < 0)
				return hvadm_err_set(err, "too many disks");
			json_object_set_new(used, id, json_true());
			d = id;
		}
		if (json_array_append_new(arr, json_pack("{s:s, s:s, s:b}", "id", d, "path",
							 o->disks[i].path, "readonly",
							 o->disks[i].readonly)) < 0)
			return hvadm_err_set(err, "disk path '%s' is not valid UTF-8",
					     o->disks[i].path);
	}
	return json_object_set(vm, "disks", arr);
}

static int build_nics(const struct hvadm_create_opts *o, struct hvadm_err *err, json_t *vm)
{
	_cleanup_json_ json_t *used = json_object(), *arr = json_array();
	char id[32];

	if (!used || !arr)
		return -ENOMEM;
	for (size_t i = 0; i < o->n_nics; i++) {
		const char *d = o->nics[i].id;

		if (d && json_object_get(used, d))
			return hvadm_err_set(err, "NIC id '%s' given twice", d);
		if (d)
			json_object_set_new(used, d, json_true());
	}
	for (size_t i = 0; i < o->n_nics; i++) {
		const struct hvadm_nic *n = &o->nics[i];
		const char *d = n->id;
		json_t *nic;

		if (!d) {
			if (free_id(used, "net", id, sizeof(id)) < 0)
				return hvadm_err_set(err, "too many NICs");
			json_object_set_new(used, id, json_true());
			d = id;
		}
		nic = json_pack("{s:s}", "id", d);
		if (!nic || json_array_append_new(arr, nic) < 0)
			return -ENOMEM;
		if (n->mac)
			json_object_set_new(nic, "mac", json_string(n->mac));
		if (n->network && json_object_set_new(nic, "network", json_string(n->network)) < 0)
			return hvadm_err_set(err, "network '%s' is not valid UTF-8", n->network);
		if (n->tap && json_object_set_new(nic, "tap", json_string(n->tap)) < 0)
			return hvadm_err_set(err, "tap '%s' is not valid UTF-8", n->tap);
	}
	return json_object_set(vm, "nics", arr);
}

/* json_string() returns NULL on invalid UTF-8; turn that into a message naming the option. */
static int set_str(json_t *obj, const char *key, const char *val, const char *opt,
		   struct hvadm_err *err)
{
	if (json_object_set_new(obj, key, json_string(val)) < 0)
		return hvadm_err_set(err, "%s is not valid UTF-8", opt);
	return 0;
}

int hvadm_create_json(const struct hvadm_create_opts *o, struct hvadm_err *err, json_t **ret)
{
	_cleanup_json_ json_t *vm = json_object(), *labels = json_object();
	int r;

	if (!vm || !labels)
		return -ENOMEM;
	if (!o->name || !*o->name)
		return hvadm_err_set(err, "missing the VM name");
	if (o->kernel && o->image)
		return hvadm_err_set(err, "--kernel and --image exclude each other");
	if (!o->kernel && !o->image)
		return hvadm_err_set(err, "missing --kernel PATH (or --image NAME)");
	if (!o->kernel && o->initrd)
		return hvadm_err_set(err, "--initrd needs --kernel");
	if (!o->kernel && o->cmdline)
		return hvadm_err_set(err, "--cmdline needs --kernel");
	if (o->on_crash && !on_crash_valid(o->on_crash))
		return hvadm_err_set(err, "--on-crash '%s': expected restart or stop", o->on_crash);

	if ((r = set_str(vm, "name", o->name, "the name", err)) < 0)
		return r;
	if (o->vcpus)
		json_object_set_new(vm, "vcpus", json_integer((json_int_t)o->vcpus));
	if (o->memory_mib)
		json_object_set_new(vm, "memory_mib", json_integer((json_int_t)o->memory_mib));
	if (o->kernel) {
		json_t *boot = json_object();

		if (!boot || json_object_set_new(vm, "boot", boot) < 0)
			return -ENOMEM;
		if ((r = set_str(boot, "kernel", o->kernel, "--kernel", err)) < 0 ||
		    (o->initrd && (r = set_str(boot, "initrd", o->initrd, "--initrd", err)) < 0) ||
		    (o->cmdline && (r = set_str(boot, "cmdline", o->cmdline, "--cmdline", err)) < 0))
			return r;
	}
	if (o->image && (r = set_str(vm, "image", o->image, "--image", err)) < 0)
		return r;
	if (o->n_disks && (r = build_disks(o, err, vm)) < 0)
		return r;
	if (o->n_nics && (r = build_nics(o, err, vm)) < 0)
		return r;
	if (o->n_labels) {
		if ((r = add_labels(labels, o->labels, o->n_labels, err)) < 0)
			return r;
		json_object_set(vm, "labels", labels);
	}
	if (o->on_crash)
		json_object_set_new(vm, "on_crash", json_string(o->on_crash));
	if (o->autostart)
		json_object_set_new(vm, "autostart", json_true());
	*ret = HVADM_TAKE_PTR(vm);
	return 0;
}

int hvadm_patch_json(const struct hvadm_edit_opts *o, struct hvadm_err *err, json_t **ret)
{
	_cleanup_json_ json_t *patch = json_object(), *labels = json_object();
	int r;

	if (!patch || !labels)
		return -ENOMEM;
	if (o->on_crash && !on_crash_valid(o->on_crash))
		return hvadm_err_set(err, "--on-crash '%s': expected restart or stop", o->on_crash);
	if (o->vcpus)
		json_object_set_new(patch, "vcpus", json_integer((json_int_t)o->vcpus));
	if (o->memory_mib)
		json_object_set_new(patch, "memory_mib", json_integer((json_int_t)o->memory_mib));
	if (o->cmdline) {
		json_t *boot = json_object();

		if (!boot || json_object_set_new(patch, "boot", boot) < 0)
			return -ENOMEM;
		if ((r = set_str(boot, "cmdline", o->cmdline, "--cmdline", err)) < 0)
			return r;
	}
	if ((r = add_labels(labels, o->labels, o->n_labels, err)) < 0)
		return r;
	for (size_t i = 0; i < o->n_unlabels; i++) {
		const char *k = o->unlabels[i];

		if (!*k)
			return hvadm_err_set(err, "--unlabel needs a key");
		if (json_object_get(labels, k))
			return hvadm_err_set(err, "label '%s' is both set and removed", k);
		if (json_object_set_new(labels, k, json_null()) < 0)
			return hvadm_err_set(err, "label '%s' is not valid UTF-8", k);
	}
	if (json_object_size(labels))
		json_object_set(patch, "labels", labels);
	if (o->on_crash)
		json_object_set_new(patch, "on_crash", json_string(o->on_crash));
	if (json_object_size(patch) == 0)
		return hvadm_err_set(err, "nothing to change (give --vcpus, --memory, --label, "
				     "--unlabel, --cmdline or --on-crash)");
	*ret = HVADM_TAKE_PTR(patch);
	return 0;
}

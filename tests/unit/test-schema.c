/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of daemon/api/schema.c over the real embedded schemas: every
 * rule of a VM definition at and beyond its boundaries, unknown fields, wrong
 * types, hostile strings (NUL, control characters, path traversal, invalid
 * lengths in bytes vs characters), oversized arrays, the other request
 * bodies, samples of every response body from docs/api.md, and the shape of
 * the error reports. One TCase per public function.
 */

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/schema.h"

#define VM_UUID "0b6c3f4e-8a1d-4c2b-9e57-3d2f1a0c9b88"
#define TS "2026-11-21T14:03:07.123Z"

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);

	ck_assert_msg(v != NULL, "test JSON does not parse: %s: %s", jerr.text, text);
	return v;
}

/* Validates and checks the outcome; field/message NULL: not checked. */
static void expect(const char *schema, json_t *v, int want, const char *field,
		   const char *message_part, int line)
{
	struct schema_error err;
	int r = schema_validate(schema, v, &err);

	ck_assert_msg(r == want, "line %d: %s: got %d (%s: %s), want %d", line, schema,
		      r, err.field, err.message, want);
	if (field)
		ck_assert_msg(strcmp(err.field, field) == 0,
			      "line %d: field '%s', want '%s' (%s)", line, err.field,
			      field, err.message);
	if (message_part)
		ck_assert_msg(strstr(err.message, message_part) != NULL,
			      "line %d: message '%s' lacks '%s'", line, err.message,
			      message_part);
	/* the strings must be fit for json_string(): valid UTF-8 */
	json_t *f = json_string(err.field), *m = json_string(err.message);
	ck_assert_msg(f && m, "line %d: error strings are not UTF-8", line);
	json_decref(f);
	json_decref(m);
	json_decref(v);
}

#define VALID(schema, v) expect(schema, v, 0, "", "", __LINE__)
#define INVALID(schema, v, field, msg) expect(schema, v, -EINVAL, field, msg, __LINE__)
#define VALID_TEXT(schema, text) VALID(schema, parse(text))
#define INVALID_TEXT(schema, text, field, msg) INVALID(schema, parse(text), field, msg)

/* The VM definition of docs/api.md (without image, which is a choice). */
static json_t *vm(void)
{
	return parse("{\"name\": \"web01\", \"vcpus\": 2, \"memory_mib\": 2048,"
		     " \"boot\": {\"kernel\": \"/var/lib/hvd/images/tiny/vmlinuz\","
		     "  \"initrd\": \"/var/lib/hvd/images/tiny/initrd.img\","
		     "  \"cmdline\": \"console=ttyS0\"},"
		     " \"disks\": [{\"id\": \"root\", \"path\": \"/var/lib/hvd/disks/web01.img\","
		     "  \"readonly\": false}],"
		     " \"nics\": [{\"id\": \"net0\", \"mac\": \"52:54:00:12:34:56\","
		     "  \"network\": \"br0\"}],"
		     " \"labels\": {\"role\": \"web\"}, \"on_crash\": \"stop\","
		     " \"autostart\": false}");
}

/* vm() with member key (a dotted path such as "disks.0.path") set to value
 * (stolen); NULL value deletes it. */
static json_t *vm_with(const char *key, json_t *value)
{
	json_t *v = vm(), *parent = v;
	char buf[128], *seg, *next, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", key);
	seg = strtok_r(buf, ".", &save);
	while ((next = strtok_r(NULL, ".", &save))) {
		if (json_is_array(parent))
			parent = json_array_get(parent, strtoul(seg, NULL, 10));
		else
			parent = json_object_get(parent, seg);
		ck_assert_ptr_nonnull(parent);
		seg = next;
	}
	if (json_is_array(parent)) {
		if (value)
			json_array_set_new(parent, strtoul(seg, NULL, 10), value);
		else
			json_array_remove(parent, strtoul(seg, NULL, 10));
	} else {
		if (value)
			json_object_set_new(parent, seg, value);
		else
			json_object_del(parent, seg);
	}
	return v;
}

static json_t *repeat_string(const char *prefix, const char *unit, size_t n)
{
	size_t plen = strlen(prefix), ulen = strlen(unit);
	char *s = malloc(plen + ulen * n + 1);
	json_t *v;

	ck_assert_ptr_nonnull(s);
	memcpy(s, prefix, plen);
	for (size_t i = 0; i < n; i++)
		memcpy(s + plen + i * ulen, unit, ulen);
	s[plen + ulen * n] = '\0';
	v = json_string(s);
	free(s);
	ck_assert_ptr_nonnull(v);
	return v;
}

static json_t *disks(size_t n)
{
	json_t *a = json_array();
	char id[32];

	for (size_t i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "d%zu", i);
		json_array_append_new(a, json_pack("{s:s, s:s}", "id", id, "path", "/d/x.img"));
	}
	return a;
}

static json_t *nics(size_t n)
{
	json_t *a = json_array();
	char id[32];

	for (size_t i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "n%zu", i);
		json_array_append_new(a, json_pack("{s:s, s:s}", "id", id, "tap", "tap0"));
	}
	return a;
}

static json_t *labels(size_t n)
{
	json_t *o = json_object();
	char key[32];

	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		json_object_set_new(o, key, json_string("v"));
	}
	return o;
}

/* --- schema_init ------------------------------------------------------- */

START_TEST(test_init_ok_and_idempotent)
{
	ck_assert_int_eq(schema_init(), 0);
	ck_assert_int_eq(schema_init(), 0);
	schema_fini();
	ck_assert_int_eq(schema_init(), 0);
}
END_TEST

START_TEST(test_init_every_schema_loads)
{
	static const char *const files[] = {
		"vm-create.schema.json", "vm-patch.schema.json", "vm.schema.json",
		"vm-list.schema.json", "vm-stop.schema.json", "vm-clone.schema.json",
		"snapshot-create.schema.json", "snapshot.schema.json",
		"snapshot-list.schema.json", "vm-migrate.schema.json",
		"operation.schema.json", "operation-list.schema.json", "host.schema.json",
		"host-list.schema.json", "host-create.schema.json", "token.schema.json",
		"token-create.schema.json", "token-created.schema.json",
		"token-list.schema.json", "error.schema.json", "event.schema.json",
		"root.schema.json", "common.schema.json",
	};
	struct schema_error err;

	ck_assert_int_eq(schema_init(), 0);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		json_t *v = json_object();
		int r = schema_validate(files[i], v, &err);

		/* {} is valid for some, invalid for others, but never unknown */
		ck_assert_msg(r == 0 || r == -EINVAL, "%s: %d", files[i], r);
		json_decref(v);
	}
}
END_TEST

/* --- schema_validate: VM definitions ------------------------------------ */

START_TEST(test_vm_valid)
{
	VALID("vm-create.schema.json", vm());
	VALID_TEXT("vm-create.schema.json",
		   "{\"name\": \"a\", \"vcpus\": 1, \"memory_mib\": 16, \"image\": \"tiny\"}");
	VALID_TEXT("vm-create.schema.json",
		   "{\"name\": \"a\", \"vcpus\": 1, \"memory_mib\": 16,"
		   " \"boot\": {\"kernel\": \"/k\"}}");
	/* image and boot together: allowed, as the example in docs/api.md */
	VALID("vm-create.schema.json", vm_with("image", json_string("tiny")));
	VALID("vm-create.schema.json", vm_with("on_crash", json_string("restart")));
	VALID("vm-create.schema.json", vm_with("autostart", json_true()));
	VALID("vm-create.schema.json", vm_with("disks", json_array()));
	VALID("vm-create.schema.json", vm_with("nics", json_array()));
	VALID("vm-create.schema.json", vm_with("labels", json_object()));
}
END_TEST

START_TEST(test_vm_required)
{
	INVALID("vm-create.schema.json", vm_with("name", NULL), "name",
		"missing required field 'name'");
	INVALID("vm-create.schema.json", vm_with("vcpus", NULL), "vcpus",
		"missing required field 'vcpus'");
	INVALID("vm-create.schema.json", vm_with("memory_mib", NULL), "memory_mib",
		"missing required field 'memory_mib'");
	INVALID("vm-create.schema.json", vm_with("boot", NULL), "",
		"a kernel (boot.kernel) or an image is required");
	INVALID("vm-create.schema.json", vm_with("boot.kernel", NULL), "boot.kernel",
		"missing required field 'boot.kernel'");
	INVALID("vm-create.schema.json", vm_with("disks.0.path", NULL), "disks.0.path",
		"missing required field 'disks.0.path'");
	INVALID("vm-create.schema.json", vm_with("disks.0.id", NULL), "disks.0.id",
		"missing required field 'disks.0.id'");
	INVALID("vm-create.schema.json", vm_with("nics.0.id", NULL), "nics.0.id", NULL);
	INVALID("vm-create.schema.json", vm_with("nics.0.network", NULL), "nics.0",
		"nics.0: exactly one of 'network' or 'tap' is required");
	INVALID("vm-create.schema.json", vm_with("nics.0.tap", json_string("tap1")),
		"nics.0", "exactly one of 'network' or 'tap'");
	VALID("vm-create.schema.json", vm_with("nics.0.mac", NULL));
}
END_TEST

START_TEST(test_vm_unknown_fields)
{
	INVALID("vm-create.schema.json", vm_with("foo", json_true()), "foo",
		"unknown field 'foo'");
	INVALID("vm-create.schema.json", vm_with("boot.foo", json_true()), "boot.foo",
		"unknown field 'boot.foo'");
	INVALID("vm-create.schema.json", vm_with("disks.0.foo", json_true()), "disks.0.foo",
		"unknown field 'disks.0.foo'");
	INVALID("vm-create.schema.json", vm_with("nics.0.model", json_string("e1000")),
		"nics.0.model", "unknown field 'nics.0.model'");
	/* read-only members of the VM object are not part of a definition */
	INVALID("vm-create.schema.json", vm_with("id", json_string(VM_UUID)), "id",
		"unknown field 'id'");
	INVALID("vm-create.schema.json", vm_with("state", json_string("running")), "state",
		"unknown field 'state'");
}
END_TEST

START_TEST(test_vm_wrong_types)
{
	INVALID("vm-create.schema.json", vm_with("vcpus", json_string("2")), "vcpus",
		"vcpus: expected integer, got string");
	/* 2.0 is a number, not an integer, here: handlers read integers */
	INVALID("vm-create.schema.json", vm_with("vcpus", json_real(2.0)), "vcpus",
		"expected integer, got number");
	INVALID("vm-create.schema.json", vm_with("memory_mib", json_true()), "memory_mib",
		"expected integer, got boolean");
	INVALID("vm-create.schema.json", vm_with("name", json_integer(5)), "name",
		"expected string, got integer");
	INVALID("vm-create.schema.json", vm_with("boot", json_string("/k")), "boot",
		"expected object, got string");
	INVALID("vm-create.schema.json", vm_with("disks", json_object()), "disks",
		"expected array, got object");
	INVALID("vm-create.schema.json", vm_with("disks.0", json_string("/d")), "disks.0",
		"expected object");
	INVALID("vm-create.schema.json", vm_with("labels", json_array()), "labels",
		"expected object, got array");
	INVALID("vm-create.schema.json", vm_with("labels.role", json_integer(1)),
		"labels.role", "expected string, got integer");
	INVALID("vm-create.schema.json", vm_with("autostart", json_string("yes")),
		"autostart", "expected boolean, got string");
	INVALID("vm-create.schema.json", vm_with("disks.0.readonly", json_integer(0)),
		"disks.0.readonly", "expected boolean");
	INVALID("vm-create.schema.json", vm_with("name", json_null()), "name",
		"expected string, got null");
	INVALID("vm-create.schema.json", vm_with("on_crash", json_string("explode")),
		"on_crash", "on_crash: must be one of 'stop', 'restart'");
	INVALID_TEXT("vm-create.schema.json", "[]", "", "expected object, got array");
	INVALID_TEXT("vm-create.schema.json", "\"vm\"", "", "expected object, got string");
	INVALID_TEXT("vm-create.schema.json", "null", "", "expected object, got null");
	INVALID_TEXT("vm-create.schema.json", "42", "", "expected object, got integer");
}
END_TEST

START_TEST(test_vm_numbers)
{
	INVALID("vm-create.schema.json", vm_with("vcpus", json_integer(0)), "vcpus",
		"vcpus: 0 is less than the minimum 1");
	INVALID("vm-create.schema.json", vm_with("vcpus", json_integer(-1)), "vcpus",
		"-1 is less than the minimum 1");
	VALID("vm-create.schema.json", vm_with("vcpus", json_integer(1)));
	VALID("vm-create.schema.json", vm_with("vcpus", json_integer(288)));
	INVALID("vm-create.schema.json", vm_with("vcpus", json_integer(289)), "vcpus",
		"vcpus: 289 is greater than the maximum 288");
	INVALID("vm-create.schema.json", vm_with("vcpus", json_integer(LLONG_MAX)),
		"vcpus", "greater than the maximum");
	INVALID("vm-create.schema.json", vm_with("memory_mib", json_integer(15)),
		"memory_mib", "memory_mib: 15 is less than the minimum 16");
	VALID("vm-create.schema.json", vm_with("memory_mib", json_integer(16)));
	VALID("vm-create.schema.json", vm_with("memory_mib", json_integer(16777216)));
	INVALID("vm-create.schema.json", vm_with("memory_mib", json_integer(16777217)),
		"memory_mib", "greater than the maximum 16777216");
	INVALID("vm-create.schema.json", vm_with("memory_mib", json_integer(LLONG_MIN)),
		"memory_mib", "less than the minimum 16");
}
END_TEST

START_TEST(test_vm_names)
{
	static const char *const good[] = { "a", "0", "web01", "web-01", "a-", "9lives" };
	static const char *const bad[] = {
		"", "-web", "Web01", "web_01", "web.01", "web 01", "web01\n", "\nweb01",
		"w\xc3\xa9""b", "../etc", "web/01", "web01;", "*",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		VALID("vm-create.schema.json", vm_with("name", json_string(good[i])));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		INVALID("vm-create.schema.json", vm_with("name", json_string(bad[i])), "name",
			"name: must match ^[a-z0-9][a-z0-9-]{0,62}$");
	VALID("vm-create.schema.json", vm_with("name", repeat_string("a", "b", 62)));
	INVALID("vm-create.schema.json", vm_with("name", repeat_string("a", "b", 63)),
		"name", "must match");
	/* regexec() would stop at the NUL and see a valid "web" */
	INVALID("vm-create.schema.json", vm_with("name", json_stringn("web\0evil", 8)),
		"name", "name: must not contain NUL characters");
	INVALID("vm-create.schema.json", vm_with("name", json_stringn("web\0", 4)), "name",
		"NUL");
	INVALID("vm-create.schema.json", vm_with("image", json_string("Tiny")), "image",
		"must match");
}
END_TEST

START_TEST(test_vm_paths)
{
	static const char *const good[] = {
		"/", "/k", "/var/lib/hvd/k", "/a/.hidden", "/a/./b", "/a/...", "/a/..b",
		"/a/b..", "/a//b", "/a/b/", "/sp ace", "/\xc3\xa9t\xc3\xa9",
	};
	static const char *const bad[] = {
		"", "k", "relative/k", "./k", "../k", "/..", "/../", "/a/../b", "/a/..",
		"/a/b/../../etc/passwd", "/a\x01", "/a\x1f""b", "/a\x7f", "/a\tb", "/a\nb",
		"/a\rb", "/a/..\n",
	};
	const char *keys[] = { "boot.kernel", "boot.initrd", "disks.0.path" };

	for (size_t k = 0; k < 3; k++) {
		for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
			VALID("vm-create.schema.json", vm_with(keys[k], json_string(good[i])));
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			INVALID("vm-create.schema.json", vm_with(keys[k], json_string(bad[i])),
				keys[k], bad[i][0] ? "must be an absolute path without '..' segments"
						   : "must be at least 1 characters long");
		INVALID("vm-create.schema.json", vm_with(keys[k], json_stringn("/a\0/../b", 8)),
			keys[k], "must not contain NUL characters");
	}
	/* 4095 bytes is the limit; in bytes, not in characters */
	VALID("vm-create.schema.json", vm_with("boot.kernel", repeat_string("/", "a", 4094)));
	INVALID("vm-create.schema.json", vm_with("boot.kernel", repeat_string("/", "a", 4095)),
		"boot.kernel", "boot.kernel: must be at most 4095 characters long");
	VALID("vm-create.schema.json", vm_with("boot.kernel", repeat_string("/", "\xc3\xa9", 2047)));
	INVALID("vm-create.schema.json",
		vm_with("boot.kernel", repeat_string("/", "\xc3\xa9", 2048)), "boot.kernel",
		"boot.kernel: must be at most 4095 bytes long");
	INVALID("vm-create.schema.json", vm_with("boot.kernel", repeat_string("/", "a", 100000)),
		"boot.kernel", "at most 4095");
}
END_TEST

START_TEST(test_vm_cmdline)
{
	VALID("vm-create.schema.json", vm_with("boot.cmdline", json_string("")));
	VALID("vm-create.schema.json",
	      vm_with("boot.cmdline", json_string("console=ttyS0 root=/dev/vda rw quiet")));
	VALID("vm-create.schema.json", vm_with("boot.cmdline", repeat_string("", "x", 2048)));
	INVALID("vm-create.schema.json", vm_with("boot.cmdline", repeat_string("", "x", 2049)),
		"boot.cmdline", "boot.cmdline: must be at most 2048 characters long");
	INVALID("vm-create.schema.json",
		vm_with("boot.cmdline", repeat_string("", "\xc3\xa9", 1025)), "boot.cmdline",
		"must be at most 2048 bytes long");
	INVALID("vm-create.schema.json", vm_with("boot.cmdline", json_string("a\nb")),
		"boot.cmdline", "boot.cmdline: must not contain control characters");
	INVALID("vm-create.schema.json", vm_with("boot.cmdline", json_string("a\tb")),
		"boot.cmdline", "control characters");
	INVALID("vm-create.schema.json", vm_with("boot.cmdline", json_stringn("a\0b", 3)),
		"boot.cmdline", "NUL");
}
END_TEST

START_TEST(test_vm_macs)
{
	static const char *const good[] = {
		"52:54:00:12:34:56", "52:54:00:ab:cd:ef", "52:54:00:AB:CD:EF", "02:00:00:00:00:01",
		"fe:ff:ff:ff:ff:ff",
	};
	static const char *const bad[] = {
		"", "52:54:00:12:34", "52:54:00:12:34:56:78", "52-54-00-12-34-56",
		"525400123456", "52:54:00:12:34:5", "52:54:00:12:34:567", "52:54:00:12:34:5g",
		" 52:54:00:12:34:56", "52:54:00:12:34:56\n",
		/* multicast: low bit of the first octet */
		"01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", "53:54:00:12:34:56",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		VALID("vm-create.schema.json", vm_with("nics.0.mac", json_string(good[i])));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		INVALID("vm-create.schema.json", vm_with("nics.0.mac", json_string(bad[i])),
			"nics.0.mac", "nics.0.mac: must be a unicast MAC address");
	INVALID("vm-create.schema.json", vm_with("nics.0.mac", json_stringn("52:54:00:12:34:56\0", 18)),
		"nics.0.mac", "NUL");
}
END_TEST

START_TEST(test_vm_devices)
{
	VALID("vm-create.schema.json", vm_with("disks.0.id", repeat_string("a", "b", 31)));
	INVALID("vm-create.schema.json", vm_with("disks.0.id", repeat_string("a", "b", 32)),
		"disks.0.id", "disks.0.id: must match ^[a-z0-9][a-z0-9-]{0,31}$");
	INVALID("vm-create.schema.json", vm_with("disks.0.id", json_string("Root")),
		"disks.0.id", "must match");
	VALID("vm-create.schema.json", vm_with("nics.0.network", json_string("br-lan.10")));
	VALID("vm-create.schema.json", vm_with("nics.0.network", repeat_string("b", "r", 14)));
	INVALID("vm-create.schema.json", vm_with("nics.0.network", repeat_string("b", "r", 15)),
		"nics.0.network", "must match");
	INVALID("vm-create.schema.json", vm_with("nics.0.network", json_string("br0/../x")),
		"nics.0.network", "must match");
	INVALID("vm-create.schema.json", vm_with("nics.0.network", json_string("")),
		"nics.0.network", "must match");
}
END_TEST

START_TEST(test_vm_limits)
{
	VALID("vm-create.schema.json", vm_with("disks", disks(16)));
	INVALID("vm-create.schema.json", vm_with("disks", disks(17)), "disks",
		"disks: must have at most 16 items");
	INVALID("vm-create.schema.json", vm_with("disks", disks(100000)), "disks",
		"at most 16 items");
	VALID("vm-create.schema.json", vm_with("nics", nics(8)));
	INVALID("vm-create.schema.json", vm_with("nics", nics(9)), "nics",
		"nics: must have at most 8 items");
	VALID("vm-create.schema.json", vm_with("labels", labels(64)));
	INVALID("vm-create.schema.json", vm_with("labels", labels(65)), "labels",
		"labels: must have at most 64 members");
	INVALID("vm-create.schema.json", vm_with("labels", labels(10000)), "labels",
		"at most 64 members");
}
END_TEST

START_TEST(test_vm_labels)
{
	json_t *v = vm();

	json_object_set_new(json_object_get(v, "labels"), "app.kubernetes.io/name", json_string("x"));
	VALID("vm-create.schema.json", v);
	VALID("vm-create.schema.json", vm_with("labels.role", json_string("")));
	VALID("vm-create.schema.json", vm_with("labels.role", repeat_string("", "x", 255)));
	VALID("vm-create.schema.json", vm_with("labels.role", repeat_string("", "\xc3\xa9", 255)));
	INVALID("vm-create.schema.json", vm_with("labels.role", repeat_string("", "x", 256)),
		"labels.role", "labels.role: must be at most 255 characters long");
	INVALID("vm-create.schema.json", vm_with("labels.role", json_string("a\x01")),
		"labels.role", "control characters");
	INVALID("vm-create.schema.json", vm_with("labels.role", json_stringn("a\0", 2)),
		"labels.role", "NUL");
	INVALID("vm-create.schema.json", vm_with("labels.Role", json_string("x")),
		"labels.Role", "labels: key 'Role' must match ^[a-z0-9][a-z0-9._/-]{0,62}$");
	INVALID("vm-create.schema.json", vm_with("labels.-x", json_string("x")), "labels.-x",
		"key '-x' must match");
	VALID("vm-create.schema.json", vm_with("labels.k", json_string("x")));
}
END_TEST

START_TEST(test_vm_hostile)
{
	json_t *v, *deep;
	char *key;

	/* 10,000 nested arrays: refused at the first level, no deep recursion */
	deep = json_array();
	for (int i = 0; i < 10000; i++) {
		json_t *outer = json_array();

		json_array_append_new(outer, deep);
		deep = outer;
	}
	INVALID("vm-create.schema.json", vm_with("labels.role", deep), "labels.role",
		"expected string");
	/* a long multibyte unknown key: truncated reports stay valid UTF-8 */
	v = vm();
	key = malloc(1001);
	ck_assert_ptr_nonnull(key);
	for (int i = 0; i < 500; i++)
		memcpy(key + 2 * i, "\xc3\xa9", 2);
	key[1000] = '\0';
	json_object_set_new(v, key, json_true());
	INVALID("vm-create.schema.json", v, NULL, "unknown field '\xc3\xa9");
	free(key);
	/* a long pattern-breaking key in labels */
	v = vm();
	json_object_set_new(json_object_get(v, "labels"), "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", json_string("x"));
	INVALID("vm-create.schema.json", v, "labels.\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", "key '");
}
END_TEST

/* --- schema_validate: the other request bodies --------------------------- */

START_TEST(test_vm_patch)
{
	VALID_TEXT("vm-patch.schema.json", "{}");
	VALID_TEXT("vm-patch.schema.json", "{\"labels\": {\"role\": null, \"tier\": \"db\"}}");
	VALID_TEXT("vm-patch.schema.json", "{\"labels\": null}");
	VALID_TEXT("vm-patch.schema.json", "{\"boot\": {\"initrd\": null, \"cmdline\": null}}");
	VALID_TEXT("vm-patch.schema.json", "{\"boot\": {\"kernel\": \"/k2\"}}");
	VALID_TEXT("vm-patch.schema.json", "{\"image\": null, \"disks\": null, \"nics\": []}");
	VALID_TEXT("vm-patch.schema.json", "{\"vcpus\": 4, \"memory_mib\": 4096, \"name\": \"web02\","
		   " \"on_crash\": \"restart\", \"autostart\": true}");
	INVALID_TEXT("vm-patch.schema.json", "{\"boot\": {\"kernel\": null}}", "boot.kernel",
		     "expected string, got null");
	INVALID_TEXT("vm-patch.schema.json", "{\"boot\": {\"initrd\": \"/a/../b\"}}",
		     "boot.initrd", "absolute path");
	INVALID_TEXT("vm-patch.schema.json", "{\"vcpus\": null}", "vcpus", "expected integer");
	INVALID_TEXT("vm-patch.schema.json", "{\"vcpus\": 0}", "vcpus", "less than the minimum 1");
	INVALID_TEXT("vm-patch.schema.json", "{\"id\": \"" VM_UUID "\"}", "id", "id: is read-only");
	INVALID_TEXT("vm-patch.schema.json", "{\"state\": \"running\"}", "state", "is read-only");
	INVALID_TEXT("vm-patch.schema.json", "{\"created_at\": \"" TS "\"}", "created_at",
		     "is read-only");
	INVALID_TEXT("vm-patch.schema.json", "{\"generation\": 4}", "generation", "is read-only");
	INVALID_TEXT("vm-patch.schema.json", "{\"host\": null}", "host", "is read-only");
	INVALID_TEXT("vm-patch.schema.json", "{\"foo\": 1}", "foo", "unknown field 'foo'");
	INVALID_TEXT("vm-patch.schema.json", "{\"labels\": {\"Bad\": null}}", "labels.Bad", "key 'Bad'");
	INVALID_TEXT("vm-patch.schema.json", "{\"labels\": {\"k\": 1}}", "labels.k",
		     "expected string or null, got integer");
	INVALID_TEXT("vm-patch.schema.json", "{\"nics\": [{\"id\": \"n\"}]}", "nics.0", "exactly one");
	INVALID_TEXT("vm-patch.schema.json", "[]", "", "expected object");
}
END_TEST

START_TEST(test_small_bodies)
{
	VALID_TEXT("vm-stop.schema.json", "{}");
	VALID_TEXT("vm-stop.schema.json", "{\"force\": false, \"timeout_s\": 30}");
	VALID_TEXT("vm-stop.schema.json", "{\"force\": true, \"timeout_s\": 0}");
	VALID_TEXT("vm-stop.schema.json", "{\"timeout_s\": 3600}");
	INVALID_TEXT("vm-stop.schema.json", "{\"timeout_s\": 3601}", "timeout_s", "maximum 3600");
	INVALID_TEXT("vm-stop.schema.json", "{\"timeout_s\": -1}", "timeout_s", "minimum 0");
	INVALID_TEXT("vm-stop.schema.json", "{\"force\": \"yes\"}", "force", "expected boolean");
	INVALID_TEXT("vm-stop.schema.json", "{\"graceful\": true}", "graceful", "unknown field");

	VALID_TEXT("vm-clone.schema.json", "{}");
	VALID_TEXT("vm-clone.schema.json", "{\"name\": \"web02\", \"components\": [\"disks\","
		   " \"memory\", \"nics\", \"labels\"], \"count\": 1, \"start\": false}");
	VALID_TEXT("vm-clone.schema.json", "{\"components\": []}");
	VALID_TEXT("vm-clone.schema.json", "{\"count\": 100}");
	INVALID_TEXT("vm-clone.schema.json", "{\"count\": 0}", "count", "count: 0 is less than the minimum 1");
	INVALID_TEXT("vm-clone.schema.json", "{\"count\": 101}", "count", "maximum 100");
	INVALID_TEXT("vm-clone.schema.json", "{\"components\": [\"disks\", \"disks\"]}",
		     "components", "components: items 0 and 1 are the same");
	INVALID_TEXT("vm-clone.schema.json", "{\"components\": [\"cpu\"]}", "components.0",
		     "components.0: must be one of 'disks', 'memory', 'nics', 'labels'");
	INVALID_TEXT("vm-clone.schema.json", "{\"components\": [\"disks\", \"memory\", \"nics\","
		     " \"labels\", \"disks\"]}", "components", "at most 4 items");
	INVALID_TEXT("vm-clone.schema.json", "{\"components\": \"disks\"}", "components",
		     "expected array");
	INVALID_TEXT("vm-clone.schema.json", "{\"name\": \"Web\"}", "name", "must match");

	VALID_TEXT("snapshot-create.schema.json", "{\"name\": \"s1\", \"memory\": true}");
	VALID_TEXT("snapshot-create.schema.json", "{\"name\": \"s1\"}");
	INVALID_TEXT("snapshot-create.schema.json", "{}", "name", "missing required field 'name'");
	INVALID_TEXT("snapshot-create.schema.json", "{\"name\": \"../s1\"}", "name", "must match");

	VALID_TEXT("vm-migrate.schema.json", "{\"target\": \"host2\", \"live\": true}");
	VALID_TEXT("vm-migrate.schema.json", "{\"target\": \"" VM_UUID "\"}");
	VALID_TEXT("vm-migrate.schema.json", "{\"target\": \"rack1-08.dc1\", \"live\": false,"
		   " \"max_downtime_ms\": 300, \"max_bandwidth_mib_s\": 0}");
	INVALID_TEXT("vm-migrate.schema.json", "{\"live\": true}", "target", "missing required");
	INVALID_TEXT("vm-migrate.schema.json", "{\"target\": \"h\", \"max_downtime_ms\": 0}",
		     "max_downtime_ms", "minimum 1");

	VALID_TEXT("host-create.schema.json", "{\"name\": \"rack1-08\", \"url\":"
		   " \"https://10.0.0.8:8443\", \"capacity\": {\"vcpus\": 64, \"memory_mib\": 262144}}");
	VALID_TEXT("host-create.schema.json", "{\"name\": \"rack1-08\", \"url\":"
		   " \"https://[fd00::8]:8443/\", \"capacity\": {\"vcpus\": 1, \"memory_mib\": 16},"
		   " \"overcommit\": {\"cpu\": 4.0, \"memory\": 1}}");
	INVALID_TEXT("host-create.schema.json", "{\"name\": \"rack1-08\", \"url\":"
		     " \"http://10.0.0.8:8443\", \"capacity\": {\"vcpus\": 64, \"memory_mib\": 262144}}",
		     "url", "url: must be an https:// URL");
	INVALID_TEXT("host-create.schema.json", "{\"name\": \"rack1-08\", \"url\":"
		     " \"https://10.0.0.8\", \"capacity\": {\"vcpus\": 0, \"memory_mib\": 262144}}",
		     "capacity.vcpus", "minimum 1");
	INVALID_TEXT("host-create.schema.json", "{\"name\": \"rack1-08\", \"url\":"
		     " \"https://10.0.0.8\", \"capacity\": {\"vcpus\": 1, \"memory_mib\": 16},"
		     " \"overcommit\": {\"cpu\": 0}}", "overcommit.cpu", "must be greater than 0");
	INVALID_TEXT("host-create.schema.json", "{\"name\": \"rack1-08\", \"url\": \"https://h\"}",
		     "capacity", "missing required field 'capacity'");

	VALID_TEXT("token-create.schema.json", "{\"name\": \"ci\", \"role\": \"admin\"}");
	VALID_TEXT("token-create.schema.json", "{\"name\": \"ci\", \"role\": \"read-only\"}");
	VALID_TEXT("token-create.schema.json", "{\"name\": \"ci\"}");
	INVALID_TEXT("token-create.schema.json", "{\"name\": \"ci\", \"role\": \"root\"}", "role",
		     "role: must be one of 'admin', 'read-only'");
	INVALID_TEXT("token-create.schema.json", "{\"role\": \"admin\"}", "name", "missing");
}
END_TEST

/* --- schema_validate: responses ----------------------------------------- */

START_TEST(test_responses)
{
	const char *vm_resp =
		"{\"id\": \"" VM_UUID "\", \"name\": \"web01\", \"vcpus\": 2, \"memory_mib\": 2048,"
		" \"boot\": {\"kernel\": \"/k\"}, \"disks\": [{\"id\": \"root\", \"path\": \"/d\","
		" \"readonly\": false}], \"nics\": [{\"id\": \"net0\", \"mac\": \"52:54:00:12:34:56\","
		" \"network\": \"br0\"}], \"labels\": {}, \"on_crash\": \"stop\", \"autostart\": false,"
		" \"state\": \"stopped\", \"desired_state\": \"stopped\", \"state_reason\": \"\","
		" \"host\": \"rack1-07\", \"created_at\": \"" TS "\", \"updated_at\": \"2026-11-21T14:03:07Z\","
		" \"generation\": 3}";
	const char *op =
		"{\"id\": \"" VM_UUID "\", \"kind\": \"clone\", \"vm\": \"web01\", \"status\": \"running\","
		" \"progress\": 42, \"message\": \"copying disk root of web01-2 (2/3)\","
		" \"created_at\": \"" TS "\", \"updated_at\": \"" TS "\", \"finished_at\": null,"
		" \"error\": null, \"result\": {\"vms\": [\"web01-1\"]}}";
	const char *host =
		"{\"id\": \"" VM_UUID "\", \"name\": \"rack1-07\", \"url\": null, \"local\": true,"
		" \"state\": \"up\", \"capacity\": {\"vcpus\": 64, \"memory_mib\": 262144},"
		" \"overcommit\": {\"cpu\": 4.0, \"memory\": 1.0},"
		" \"allocatable\": {\"vcpus\": 256, \"memory_mib\": 262144},"
		" \"allocated\": {\"vcpus\": 6, \"memory_mib\": 6144},"
		" \"free\": {\"vcpus\": 250, \"memory_mib\": 256000}, \"vms\": 3}";
	char buf[4096];

	VALID_TEXT("vm.schema.json", vm_resp);
	snprintf(buf, sizeof(buf), "{\"vms\": [%s, %s]}", vm_resp, vm_resp);
	VALID_TEXT("vm-list.schema.json", buf);
	VALID_TEXT("vm-list.schema.json", "{\"vms\": []}");
	INVALID_TEXT("vm.schema.json", "{\"name\": \"web01\"}", "id", "missing required field 'id'");

	VALID_TEXT("operation.schema.json", op);
	snprintf(buf, sizeof(buf), "{\"operations\": [%s]}", op);
	VALID_TEXT("operation-list.schema.json", buf);
	VALID_TEXT("operation.schema.json",
		   "{\"id\": \"" VM_UUID "\", \"kind\": \"clone\", \"vm\": \"web01\","
		   " \"status\": \"failure\", \"progress\": 10, \"message\": \"failed\","
		   " \"created_at\": \"" TS "\", \"updated_at\": \"" TS "\", \"finished_at\": \"" TS "\","
		   " \"error\": {\"code\": \"interrupted\", \"message\": \"hvd restarted\"}, \"result\": null}");
	INVALID_TEXT("operation.schema.json",
		     "{\"id\": \"" VM_UUID "\", \"kind\": \"clone\", \"status\": \"done\","
		     " \"progress\": 100, \"created_at\": \"" TS "\", \"updated_at\": \"" TS "\"}",
		     "status", "must be one of");
	INVALID_TEXT("operation.schema.json",
		     "{\"id\": \"" VM_UUID "\", \"kind\": \"clone\", \"status\": \"running\","
		     " \"progress\": 101, \"created_at\": \"" TS "\", \"updated_at\": \"" TS "\"}",
		     "progress", "maximum 100");
	INVALID_TEXT("operation.schema.json",
		     "{\"id\": \"" VM_UUID "\", \"kind\": \"clone\", \"status\": \"running\","
		     " \"progress\": 1, \"created_at\": \"yesterday\", \"updated_at\": \"" TS "\"}",
		     "created_at", "must match");

	VALID_TEXT("host.schema.json", host);
	snprintf(buf, sizeof(buf), "{\"hosts\": [%s]}", host);
	VALID_TEXT("host-list.schema.json", buf);

	VALID_TEXT("error.schema.json",
		   "{\"error\": {\"code\": \"validation_failed\", \"message\": \"vcpus: 0 is less than"
		   " the minimum 1\", \"field\": \"vcpus\", \"request_id\": \"5f0c\"}}");
	VALID_TEXT("error.schema.json",
		   "{\"error\": {\"code\": \"insufficient_capacity\", \"message\": \"m\","
		   " \"request_id\": \"r\", \"short\": [\"vcpus\"], \"free\": {\"vcpus\": 0}}}");
	INVALID_TEXT("error.schema.json", "{\"error\": {\"code\": \"oops\", \"message\": \"m\","
		     " \"request_id\": \"r\"}}", "error.code", "must be one of");
	INVALID_TEXT("error.schema.json", "{\"error\": {\"code\": \"not_found\", \"message\": \"m\"}}",
		     "error.request_id", "missing required");

	VALID_TEXT("root.schema.json", "{\"name\": \"hvd\", \"version\": \"0.1.0\", \"api_level\": 1,"
		   " \"host_id\": \"" VM_UUID "\", \"host_name\": \"rack1-07\"}");
	INVALID_TEXT("root.schema.json", "{\"name\": \"qemu\", \"version\": \"0.1.0\", \"api_level\": 1,"
		     " \"host_id\": \"" VM_UUID "\", \"host_name\": \"rack1-07\"}", "name", "name: must be 'hvd'");

	VALID_TEXT("event.schema.json", "{\"id\": 42, \"type\": \"vm.defined\", \"time\": \"" TS "\","
		   " \"vm\": {\"id\": \"" VM_UUID "\", \"name\": \"web01\"}, \"extra\": 1}");
	INVALID_TEXT("event.schema.json", "{\"id\": 0, \"type\": \"vm.defined\", \"time\": \"" TS "\"}",
		     "id", "minimum 1");

	VALID_TEXT("token-created.schema.json", "{\"id\": \"7\", \"name\": \"ci\", \"role\": \"admin\","
		   " \"created_at\": \"" TS "\", \"last_used_at\": null,"
		   " \"token\": \"hvd_0123456789abcdef0123456789abcdef\"}");
	VALID_TEXT("token-list.schema.json", "{\"tokens\": [{\"id\": \"7\", \"name\": \"ci\","
		   " \"role\": \"read-only\", \"created_at\": \"" TS "\", \"last_used_at\": \"" TS "\"}]}");
	VALID_TEXT("snapshot-list.schema.json", "{\"snapshots\": [{\"name\": \"s1\", \"vm\": \"web01\","
		   " \"memory\": true, \"created_at\": \"" TS "\"}]}");
}
END_TEST

/* --- schema_validate: the contract itself -------------------------------- */

START_TEST(test_validate_contract)
{
	struct schema_error err;
	json_t *v = vm();

	ck_assert_int_eq(schema_validate("no-such.schema.json", v, &err), -ENOENT);
	ck_assert_int_eq(schema_validate(NULL, v, &err), -ENOENT);
	ck_assert_int_eq(schema_validate("vm-create.schema.json", NULL, &err), -EINVAL);
	ck_assert_str_eq(err.field, "");
	ck_assert_str_eq(err.message, "a JSON body is required");
	/* ret_err is optional */
	ck_assert_int_eq(schema_validate("vm-create.schema.json", v, NULL), 0);
	json_object_set_new(v, "vcpus", json_integer(0));
	ck_assert_int_eq(schema_validate("vm-create.schema.json", v, NULL), -EINVAL);
	/* a valid instance leaves empty strings behind */
	json_object_set_new(v, "vcpus", json_integer(1));
	memset(&err, 'x', sizeof(err));
	ck_assert_int_eq(schema_validate("vm-create.schema.json", v, &err), 0);
	ck_assert_str_eq(err.field, "");
	ck_assert_str_eq(err.message, "");
	/* the first error is reported: required comes before members */
	json_object_set_new(v, "vcpus", json_integer(0));
	json_object_del(v, "name");
	ck_assert_int_eq(schema_validate("vm-create.schema.json", v, &err), -EINVAL);
	ck_assert_str_eq(err.field, "name");
	json_decref(v);
	/* the instance is not modified */
	v = vm();
	json_t *copy = json_deep_copy(v);
	ck_assert_int_eq(schema_validate("vm-create.schema.json", v, &err), 0);
	ck_assert(json_equal(v, copy));
	json_decref(copy);
	json_decref(v);
}
END_TEST

/* --- schema_text ------------------------------------------------------- */

START_TEST(test_text)
{
	size_t len = 0;
	const char *t = schema_text("openapi.json", &len);
	json_error_t jerr;
	json_t *doc, *paths;

	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(len, strlen(t));
	doc = json_loadb(t, len, 0, &jerr);
	ck_assert_msg(doc != NULL, "openapi.json: %s", jerr.text);
	ck_assert(strncmp(json_string_value(json_object_get(doc, "openapi")), "3.1.", 4) == 0);
	paths = json_object_get(doc, "paths");
	ck_assert_ptr_nonnull(json_object_get(paths, "/v1/vms/{vm}/clone"));
	ck_assert_ptr_nonnull(json_object_get(paths, "/metrics"));
	ck_assert_ptr_nonnull(json_object_get(paths, "/v1/events"));
	json_decref(doc);

	t = schema_text("vm-create.schema.json", NULL);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_nonnull(strstr(t, "\"memory_mib\""));
	ck_assert_ptr_null(schema_text("nope.json", &len));
	ck_assert_ptr_null(schema_text("", &len));
	ck_assert_ptr_null(schema_text(NULL, &len));
	ck_assert_ptr_null(schema_text("../schemas/vm.schema.json", &len));
	/* needs no initialisation */
	schema_fini();
	ck_assert_ptr_nonnull(schema_text("vm.schema.json", &len));
}
END_TEST

/* --- schema_fini ------------------------------------------------------- */

START_TEST(test_fini)
{
	json_t *v = vm();

	schema_fini();
	schema_fini();
	/* validate initialises again on its own */
	ck_assert_int_eq(schema_validate("vm-create.schema.json", v, NULL), 0);
	schema_fini();
	ck_assert_int_eq(schema_init(), 0);
	ck_assert_int_eq(schema_validate("vm-create.schema.json", v, NULL), 0);
	schema_fini();
	json_decref(v);
}
END_TEST

static void teardown(void)
{
	schema_fini();
}

static Suite *schema_suite(void)
{
	Suite *s = suite_create("schema");
	TCase *tc;

	tc = tcase_create("schema_init");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_init_ok_and_idempotent);
	tcase_add_test(tc, test_init_every_schema_loads);
	suite_add_tcase(s, tc);

	tc = tcase_create("schema_validate");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_vm_valid);
	tcase_add_test(tc, test_vm_required);
	tcase_add_test(tc, test_vm_unknown_fields);
	tcase_add_test(tc, test_vm_wrong_types);
	tcase_add_test(tc, test_vm_numbers);
	tcase_add_test(tc, test_vm_names);
	tcase_add_test(tc, test_vm_paths);
	tcase_add_test(tc, test_vm_cmdline);
	tcase_add_test(tc, test_vm_macs);
	tcase_add_test(tc, test_vm_devices);
	tcase_add_test(tc, test_vm_limits);
	tcase_add_test(tc, test_vm_labels);
	tcase_add_test(tc, test_vm_hostile);
	tcase_add_test(tc, test_vm_patch);
	tcase_add_test(tc, test_small_bodies);
	tcase_add_test(tc, test_responses);
	tcase_add_test(tc, test_validate_contract);
	suite_add_tcase(s, tc);

	tc = tcase_create("schema_text");
	tcase_add_test(tc, test_text);
	suite_add_tcase(s, tc);

	tc = tcase_create("schema_fini");
	tcase_add_test(tc, test_fini);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(schema_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

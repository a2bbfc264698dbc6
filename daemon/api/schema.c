/* SPDX-License-Identifier: MIT */
/*
 * A JSON Schema (draft 2020-12) validator for the subset hvd's schemas use,
 * over jansson values. Every API request body goes through it.
 *
 * The schemas are embedded at build time (scripts/embed-files, driven by
 * schemas/meson.build). schema_init() parses them once, checks that every
 * $ref resolves and compiles every pattern with regcomp(REG_EXTENDED |
 * REG_NOSUB) into a table sorted by the address of the pattern text, so that
 * validating never compiles a regex.
 *
 * Keywords: type (a name or an array of names), enum, const, minimum,
 * maximum, exclusiveMinimum, exclusiveMaximum, minLength, maxLength (UTF-8
 * code points), pattern, items, minItems, maxItems, uniqueItems, required,
 * properties, patternProperties, additionalProperties, propertyNames,
 * minProperties, maxProperties, allOf, anyOf, oneOf, not, $ref ("#/json/
 * pointer", "file.schema.json" or "file.schema.json#/pointer"), boolean
 * schemas. Annotations ($schema, title, description, default, format ...)
 * are ignored. Two hvd extensions, which other validators ignore:
 * x-maxBytes (length limit in UTF-8 bytes) and x-error (the message used when
 * that schema's pattern, anyOf, oneOf or not fails).
 *
 * Deliberate differences from the standard:
 *  - "integer" matches JSON integers only, not 1.0: handlers read integers
 *    with json_integer_value(), which would read a real as 0.
 *  - a string containing NUL never matches a pattern: regexec() stops at the
 *    NUL, so "web\u0000anything" would otherwise pass as "web".
 *  - patterns are POSIX EREs, so the schemas use only the syntax ERE and
 *    ECMA-262 agree on, anchored with ^ and $.
 *
 * Invariants: validation stops at the first error, which is recorded once;
 * recursion is bounded by SCHEMA_DEPTH_MAX, so hostile nesting or a $ref
 * cycle ends in an error rather than a stack overflow; every uniqueItems has
 * a maxItems of at most UNIQUE_ITEMS_MAX beside it (checked at init), which
 * bounds its quadratic check; error strings are cut on UTF-8 boundaries.
 * After schema_init() the module only reads its tables.
 */

#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"

#define SCHEMA_DEPTH_MAX 128
#define INIT_DEPTH_MAX 64
#define UNIQUE_ITEMS_MAX 1024
#define POINTER_TOKEN_MAX 128

/* Layout written by scripts/embed-files into schemas-embedded.c. */
struct embedded_file {
	const char *name;
	const char *data;
	size_t len;
};
extern const struct embedded_file schema_embedded[];
extern const size_t schema_embedded_count;

struct schema_doc {
	const char *name;
	json_t *root;
};

struct schema_regex {
	const char *source; /* owned by a schema document; the sort key */
	regex_t re;
};

static struct schema_doc *docs;
static size_t n_docs;
static struct schema_regex *regexes;
static size_t n_regexes;
static bool ready;

struct vctx {
	const struct schema_doc *doc; /* where "#..." references resolve */
	struct schema_error *err;     /* NULL once recorded or while probing */
	const char *key;              /* property name under propertyNames */
	unsigned depth;
	size_t path_len;
	char path[SCHEMA_FIELD_MAX];
};

static int validate(struct vctx *c, const json_t *schema, const json_t *inst);

/* Cut s back so that it does not end inside a UTF-8 sequence. */
static void utf8_trim_tail(char *s)
{
	size_t n = strlen(s), start = n, need;
	unsigned char lead;

	while (start > 0 && ((unsigned char)s[start - 1] & 0xc0) == 0x80)
		start--;
	if (start == 0) {
		s[0] = '\0';
		return;
	}
	lead = (unsigned char)s[start - 1];
	need = lead < 0xc0 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
	if (n - (start - 1) < need)
		s[start - 1] = '\0';
}

static size_t utf8_count(const char *s, size_t n)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++)
		count += ((unsigned char)s[i] & 0xc0) != 0x80;
	return count;
}

static size_t path_push(struct vctx *c, const char *segment)
{
	size_t old = c->path_len;

	snprintf(c->path + old, sizeof(c->path) - old, "%s%s",
		 old > 0 ? "." : "", segment);
	utf8_trim_tail(c->path + old);
	c->path_len = old + strlen(c->path + old);
	return old;
}

static size_t path_push_index(struct vctx *c, size_t index)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%zu", index);
	return path_push(c, buf);
}

static void path_pop(struct vctx *c, size_t old)
{
	c->path_len = old;
	c->path[old] = '\0';
}

/* Copy src into dst[size], cut on a UTF-8 boundary when it does not fit. */
static void copy_trimmed(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
	utf8_trim_tail(dst);
}

/*
 * Record the first error. With prefix, the message is "<path>: <detail>"
 * ("<detail>" at the root); without, detail names the field itself. Under
 * propertyNames the failing value is a key, which the message says.
 * noinline keeps the buffers out of validate()'s recursive frames.
 */
static __attribute__((noinline)) int record(struct vctx *c, bool prefix,
					    const char *detail)
{
	struct schema_error *e = c->err;
	char field[SCHEMA_FIELD_MAX + 8];

	if (!e)
		return -EINVAL;
	c->err = NULL;
	if (c->key) {
		snprintf(field, sizeof(field), "%s%s%s", c->path,
			 c->path_len ? "." : "", c->key);
		copy_trimmed(e->field, sizeof(e->field), field);
		if (c->path_len)
			snprintf(e->message, sizeof(e->message), "%s: key '%s' %s",
				 c->path, c->key, detail);
		else
			snprintf(e->message, sizeof(e->message), "key '%s' %s",
				 c->key, detail);
	} else {
		copy_trimmed(e->field, sizeof(e->field), c->path);
		if (prefix && c->path_len)
			snprintf(e->message, sizeof(e->message), "%s: %s", c->path,
				 detail);
		else
			snprintf(e->message, sizeof(e->message), "%s", detail);
	}
	utf8_trim_tail(e->message);
	return -EINVAL;
}

static __attribute__((noinline, format(printf, 2, 3))) int
fail(struct vctx *c, const char *fmt, ...)
{
	char detail[SCHEMA_MESSAGE_MAX];
	va_list ap;

	if (!c->err)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	utf8_trim_tail(detail);
	return record(c, true, detail);
}

/* An error whose message names the field: "unknown field 'disks.0.foo'". */
static __attribute__((noinline)) int fail_named(struct vctx *c, const char *what)
{
	char detail[SCHEMA_MESSAGE_MAX];

	if (!c->err)
		return -EINVAL;
	snprintf(detail, sizeof(detail), "%s '%s'", what, c->path);
	utf8_trim_tail(detail);
	return record(c, false, detail);
}

/* The schema's x-error if it has one, else the default message. */
static int fail_custom(struct vctx *c, const json_t *schema, const char *dflt)
{
	const json_t *custom = json_object_get(schema, "x-error");

	return fail(c, "%s", json_is_string(custom) ? json_string_value(custom) : dflt);
}

static __attribute__((noinline)) int fail_pattern(struct vctx *c,
						  const json_t *schema,
						  const char *source)
{
	char shown[SCHEMA_MESSAGE_MAX / 2];
	size_t n = 0;

	if (json_is_string(json_object_get(schema, "x-error")))
		return fail_custom(c, schema, "");
	/* the patterns exclude control characters with raw bytes; show them */
	for (const unsigned char *p = (const unsigned char *)source;
	     *p && n + 5 < sizeof(shown); p++) {
		if (*p < 0x20 || *p == 0x7f)
			n += (size_t)snprintf(shown + n, sizeof(shown) - n, "\\x%02x", *p);
		else
			shown[n++] = (char)*p;
	}
	shown[n] = '\0';
	utf8_trim_tail(shown);
	return fail(c, "must match %s", shown);
}

/* A JSON value as the messages show it: strings in single quotes. */
static __attribute__((noinline)) void show_value(const json_t *v, char *buf,
						 size_t size)
{
	char *dump;

	if (json_is_string(v)) {
		snprintf(buf, size, "'%s'", json_string_value(v));
	} else if (json_is_integer(v)) {
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_real(v)) {
		snprintf(buf, size, "%g", json_real_value(v));
	} else {
		dump = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		snprintf(buf, size, "%s", dump ? dump : "?");
		free(dump);
	}
	utf8_trim_tail(buf);
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

static bool type_is(const char *type, const json_t *v)
{
	if (strcmp(type, "number") == 0)
		return json_is_number(v);
	if (strcmp(type, "integer") == 0)
		return json_is_integer(v);
	if (strcmp(type, "boolean") == 0)
		return json_is_boolean(v);
	return strcmp(type, type_name(v)) == 0;
}

static __attribute__((noinline)) int check_type(struct vctx *c,
						const json_t *type,
						const json_t *inst)
{
	char want[128] = "";
	size_t i, n = 0;
	const json_t *t;

	if (json_is_string(type)) {
		if (type_is(json_string_value(type), inst))
			return 0;
		return fail(c, "expected %s, got %s", json_string_value(type),
			    type_name(inst));
	}
	if (!json_is_array(type))
		return 0;
	json_array_foreach(type, i, t) {
		if (!json_is_string(t))
			continue;
		if (type_is(json_string_value(t), inst))
			return 0;
		if (n < sizeof(want))
			n += (size_t)snprintf(want + n, sizeof(want) - n, "%s%s",
					      i > 0 ? " or " : "",
					      json_string_value(t));
	}
	return fail(c, "expected %s, got %s", want, type_name(inst));
}

static int compare_numbers(const json_t *a, const json_t *b)
{
	double x, y;

	if (json_is_integer(a) && json_is_integer(b)) {
		json_int_t i = json_integer_value(a), j = json_integer_value(b);

		return (i > j) - (i < j);
	}
	x = json_number_value(a);
	y = json_number_value(b);
	return (x > y) - (x < y);
}

static __attribute__((noinline)) int fail_bound(struct vctx *c,
						const json_t *inst,
						const json_t *bound,
						const char *relation)
{
	char a[64], b[64];

	show_value(inst, a, sizeof(a));
	show_value(bound, b, sizeof(b));
	return fail(c, "%s %s %s", a, relation, b);
}

static int check_number(struct vctx *c, const json_t *schema, const json_t *inst)
{
	const json_t *k;

	k = json_object_get(schema, "minimum");
	if (json_is_number(k) && compare_numbers(inst, k) < 0)
		return fail_bound(c, inst, k, "is less than the minimum");
	k = json_object_get(schema, "maximum");
	if (json_is_number(k) && compare_numbers(inst, k) > 0)
		return fail_bound(c, inst, k, "is greater than the maximum");
	k = json_object_get(schema, "exclusiveMinimum");
	if (json_is_number(k) && compare_numbers(inst, k) <= 0)
		return fail_bound(c, inst, k, "must be greater than");
	k = json_object_get(schema, "exclusiveMaximum");
	if (json_is_number(k) && compare_numbers(inst, k) >= 0)
		return fail_bound(c, inst, k, "must be less than");
	return 0;
}

static int regex_compare(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct schema_regex *)a)->source;
	uintptr_t y = (uintptr_t)((const struct schema_regex *)b)->source;

	return (x > y) - (x < y);
}

static const regex_t *regex_find(const char *source)
{
	struct schema_regex key = { .source = source };
	const struct schema_regex *found;

	found = bsearch(&key, regexes, n_regexes, sizeof(*regexes), regex_compare);
	return found ? &found->re : NULL;
}

/* Does s (n bytes) match the cached pattern source? NUL never matches. */
static bool regex_matches(const char *source, const char *s, size_t n)
{
	const regex_t *re = regex_find(source);

	if (!re || memchr(s, '\0', n))
		return false;
	return regexec(re, s, 0, NULL, 0) == 0;
}

static int check_string(struct vctx *c, const json_t *schema, const json_t *inst)
{
	const char *s = json_string_value(inst);
	size_t n = json_string_length(inst);
	const json_t *k;

	k = json_object_get(schema, "minLength");
	if (json_is_integer(k) && (json_int_t)utf8_count(s, n) < json_integer_value(k))
		return fail(c, "must be at least %" JSON_INTEGER_FORMAT
			    " characters long", json_integer_value(k));
	k = json_object_get(schema, "maxLength");
	if (json_is_integer(k) && (json_int_t)utf8_count(s, n) > json_integer_value(k))
		return fail(c, "must be at most %" JSON_INTEGER_FORMAT
			    " characters long", json_integer_value(k));
	k = json_object_get(schema, "x-maxBytes");
	if (json_is_integer(k) && (json_int_t)n > json_integer_value(k))
		return fail(c, "must be at most %" JSON_INTEGER_FORMAT " bytes long",
			    json_integer_value(k));
	k = json_object_get(schema, "pattern");
	if (json_is_string(k)) {
		if (memchr(s, '\0', n))
			return fail(c, "must not contain NUL characters");
		if (!regex_matches(json_string_value(k), s, n))
			return fail_pattern(c, schema, json_string_value(k));
	}
	return 0;
}

static int check_array(struct vctx *c, const json_t *schema, const json_t *inst)
{
	size_t n = json_array_size(inst), i, j, old;
	const json_t *k, *items;
	int r;

	k = json_object_get(schema, "minItems");
	if (json_is_integer(k) && (json_int_t)n < json_integer_value(k))
		return fail(c, "must have at least %" JSON_INTEGER_FORMAT " items",
			    json_integer_value(k));
	k = json_object_get(schema, "maxItems");
	if (json_is_integer(k) && (json_int_t)n > json_integer_value(k))
		return fail(c, "must have at most %" JSON_INTEGER_FORMAT " items",
			    json_integer_value(k));
	/* quadratic, but init made sure maxItems bounds n */
	if (json_is_true(json_object_get(schema, "uniqueItems")))
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				if (json_equal(json_array_get(inst, i),
					       json_array_get(inst, j)))
					return fail(c, "items %zu and %zu are the same",
						    i, j);
	items = json_object_get(schema, "items");
	if (!items)
		return 0;
	for (i = 0; i < n; i++) {
		old = path_push_index(c, i);
		r = validate(c, items, json_array_get(inst, i));
		path_pop(c, old);
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_property_name(struct vctx *c, const json_t *schema,
			       const char *key)
{
	json_t *name = json_string(key);
	int r;

	if (!name)
		return fail(c, "out of memory");
	c->key = key;
	r = validate(c, schema, name);
	c->key = NULL;
	json_decref(name);
	return r;
}

/* One member against properties / patternProperties / additionalProperties. */
static int check_member(struct vctx *c, const json_t *schema, const char *key,
			const json_t *value)
{
	const json_t *props = json_object_get(schema, "properties");
	const json_t *patterns = json_object_get(schema, "patternProperties");
	const json_t *additional = json_object_get(schema, "additionalProperties");
	const json_t *sub;
	const char *pattern;
	bool matched = false;
	size_t old = path_push(c, key);
	int r = 0;

	sub = json_object_get(props, key);
	if (sub) {
		matched = true;
		r = validate(c, sub, value);
	}
	if (r == 0 && json_is_object(patterns)) {
		/* jansson's iteration API takes non-const objects; it only reads */
		json_object_foreach((json_t *)patterns, pattern, sub) {
			if (!regex_matches(pattern, key, strlen(key)))
				continue;
			matched = true;
			r = validate(c, sub, value);
			if (r < 0)
				break;
		}
	}
	if (r == 0 && !matched && additional) {
		if (json_is_false(additional))
			r = fail_named(c, "unknown field");
		else
			r = validate(c, additional, value);
	}
	path_pop(c, old);
	return r;
}

static int check_object(struct vctx *c, const json_t *schema, const json_t *inst)
{
	size_t n = json_object_size(inst), i, old;
	const json_t *k, *name, *value;
	const char *key;
	int r;

	k = json_object_get(schema, "minProperties");
	if (json_is_integer(k) && (json_int_t)n < json_integer_value(k))
		return fail(c, "must have at least %" JSON_INTEGER_FORMAT " members",
			    json_integer_value(k));
	k = json_object_get(schema, "maxProperties");
	if (json_is_integer(k) && (json_int_t)n > json_integer_value(k))
		return fail(c, "must have at most %" JSON_INTEGER_FORMAT " members",
			    json_integer_value(k));
	k = json_object_get(schema, "required");
	json_array_foreach(k, i, name) {
		if (!json_is_string(name) ||
		    json_object_get(inst, json_string_value(name)))
			continue;
		old = path_push(c, json_string_value(name));
		r = fail_named(c, "missing required field");
		path_pop(c, old);
		return r;
	}
	k = json_object_get(schema, "propertyNames");
	/* as in check_member: the iteration API wants a non-const object */
	json_object_foreach((json_t *)inst, key, value) {
		if (k) {
			r = check_property_name(c, k, key);
			if (r < 0)
				return r;
		}
		r = check_member(c, schema, key, value);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Probe sub quietly: does inst match it? Nothing is recorded. */
static bool matches(struct vctx *c, const json_t *sub, const json_t *inst)
{
	struct schema_error *saved = c->err;
	int r;

	c->err = NULL;
	r = validate(c, sub, inst);
	c->err = saved;
	return r == 0;
}

static int check_combinators(struct vctx *c, const json_t *schema,
			     const json_t *inst)
{
	const json_t *k, *sub;
	size_t i, count;
	int r;

	k = json_object_get(schema, "allOf");
	json_array_foreach(k, i, sub) {
		r = validate(c, sub, inst);
		if (r < 0)
			return r;
	}
	k = json_object_get(schema, "anyOf");
	if (json_is_array(k)) {
		count = 0;
		json_array_foreach(k, i, sub)
			if (matches(c, sub, inst) && ++count)
				break;
		if (count == 0)
			return fail_custom(c, schema,
					   "does not match any of the allowed forms");
	}
	k = json_object_get(schema, "oneOf");
	if (json_is_array(k)) {
		count = 0;
		json_array_foreach(k, i, sub)
			if (matches(c, sub, inst) && ++count > 1)
				break;
		if (count != 1)
			return fail_custom(c, schema, count == 0 ?
					   "does not match any of the allowed forms" :
					   "matches more than one of the allowed forms");
	}
	k = json_object_get(schema, "not");
	if (k && matches(c, k, inst))
		return fail_custom(c, schema, "is not allowed");
	return 0;
}

static int check_enum(struct vctx *c, const json_t *schema, const json_t *inst)
{
	const json_t *k, *v;
	char list[SCHEMA_MESSAGE_MAX / 2], one[96];
	size_t i, n = 0;

	k = json_object_get(schema, "const");
	if (k && !json_equal(k, inst)) {
		show_value(k, one, sizeof(one));
		return fail(c, "must be %s", one);
	}
	k = json_object_get(schema, "enum");
	if (!json_is_array(k))
		return 0;
	json_array_foreach(k, i, v)
		if (json_equal(v, inst))
			return 0;
	list[0] = '\0';
	json_array_foreach(k, i, v) {
		show_value(v, one, sizeof(one));
		if (n < sizeof(list))
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
					      i > 0 ? ", " : "", one);
	}
	utf8_trim_tail(list);
	return fail(c, "must be one of %s", list);
}

static int from_pointer_token(const char *p, size_t len, char *buf, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = p[i];

		if (ch == '~' && i + 1 < len && (p[i + 1] == '0' || p[i + 1] == '1'))
			ch = p[++i] == '0' ? '~' : '/';
		if (n + 1 >= size)
			return -ENAMETOOLONG;
		buf[n++] = ch;
	}
	buf[n] = '\0';
	return 0;
}

static const struct schema_doc *doc_find(const char *name, size_t len)
{
	for (size_t i = 0; i < n_docs; i++)
		if (strlen(docs[i].name) == len && memcmp(docs[i].name, name, len) == 0)
			return &docs[i];
	return NULL;
}

/* Resolve ref from document cur; NULL when it does not resolve. */
static const json_t *ref_resolve(const struct schema_doc *cur, const char *ref,
				 const struct schema_doc **ret_doc)
{
	const char *hash = strchr(ref, '#'), *p, *end;
	const struct schema_doc *doc = cur;
	char token[POINTER_TOKEN_MAX];
	const json_t *node;
	size_t flen = hash ? (size_t)(hash - ref) : strlen(ref);
	char *endp;
	unsigned long index;

	if (flen > 0)
		doc = doc_find(ref, flen);
	if (!doc)
		return NULL;
	node = doc->root;
	p = hash ? hash + 1 : "";
	if (*p != '\0' && *p != '/')
		return NULL; /* anchors ($anchor) are not supported */
	while (node && *p == '/') {
		p++;
		end = p + strcspn(p, "/");
		if (from_pointer_token(p, (size_t)(end - p), token, sizeof(token)) < 0)
			return NULL;
		if (json_is_object(node)) {
			node = json_object_get(node, token);
		} else if (json_is_array(node)) {
			errno = 0;
			index = strtoul(token, &endp, 10);
			if (token[0] < '0' || token[0] > '9' || *endp || errno)
				return NULL;
			node = json_array_get(node, index);
		} else {
			return NULL;
		}
		p = end;
	}
	if (node)
		*ret_doc = doc;
	return node;
}

static int check_ref(struct vctx *c, const char *ref, const json_t *inst)
{
	const struct schema_doc *saved = c->doc, *doc = NULL;
	const json_t *target = ref_resolve(c->doc, ref, &doc);
	int r;

	if (!target)
		return fail(c, "schema error: unresolved reference %s", ref);
	c->doc = doc;
	r = validate(c, target, inst);
	c->doc = saved;
	return r;
}

static int check_keywords(struct vctx *c, const json_t *schema, const json_t *inst)
{
	const json_t *k;
	int r;

	k = json_object_get(schema, "$ref");
	if (json_is_string(k)) {
		r = check_ref(c, json_string_value(k), inst);
		if (r < 0)
			return r;
	}
	k = json_object_get(schema, "type");
	if (k) {
		r = check_type(c, k, inst);
		if (r < 0)
			return r;
	}
	r = check_enum(c, schema, inst);
	if (r < 0)
		return r;
	if (json_is_number(inst))
		r = check_number(c, schema, inst);
	else if (json_is_string(inst))
		r = check_string(c, schema, inst);
	else if (json_is_array(inst))
		r = check_array(c, schema, inst);
	else if (json_is_object(inst))
		r = check_object(c, schema, inst);
	if (r < 0)
		return r;
	return check_combinators(c, schema, inst);
}

static int validate(struct vctx *c, const json_t *schema, const json_t *inst)
{
	int r;

	if (json_is_true(schema))
		return 0;
	if (json_is_false(schema))
		return fail(c, "is not allowed");
	if (!json_is_object(schema))
		return 0;
	if (c->depth >= SCHEMA_DEPTH_MAX)
		return fail(c, "is nested too deeply");
	c->depth++;
	r = check_keywords(c, schema, inst);
	c->depth--;
	return r;
}

static __attribute__((format(printf, 2, 3))) int
init_error(const struct schema_doc *doc, const char *fmt, ...)
{
	va_list ap;

	/* a broken embedded schema is a build defect; say which, once */
	fprintf(stderr, "<3>schema: %s: ", doc->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

static int regex_add(const struct schema_doc *doc, const char *source)
{
	struct schema_regex *grown;
	char msg[128];
	int r;

	grown = realloc(regexes, (n_regexes + 1) * sizeof(*regexes));
	if (!grown)
		return -ENOMEM;
	regexes = grown;
	r = regcomp(&regexes[n_regexes].re, source, REG_EXTENDED | REG_NOSUB);
	if (r != 0) {
		regerror(r, &regexes[n_regexes].re, msg, sizeof(msg));
		return init_error(doc, "pattern %s: %s", source, msg);
	}
	regexes[n_regexes++].source = source;
	return 0;
}

static bool is_data_keyword(const char *key)
{
	return strcmp(key, "enum") == 0 || strcmp(key, "const") == 0 ||
	       strcmp(key, "default") == 0 || strcmp(key, "examples") == 0 ||
	       strcmp(key, "example") == 0;
}

/* Check a schema object's own keywords that init can verify once. */
static int init_check_node(const struct schema_doc *doc, const json_t *node)
{
	const struct schema_doc *target_doc;
	const json_t *k, *max;
	const char *pattern;
	json_t *unused;
	int r;

	k = json_object_get(node, "$ref");
	if (json_is_string(k) && !ref_resolve(doc, json_string_value(k), &target_doc))
		return init_error(doc, "$ref %s does not resolve", json_string_value(k));
	k = json_object_get(node, "pattern");
	if (json_is_string(k)) {
		r = regex_add(doc, json_string_value(k));
		if (r < 0)
			return r;
	}
	k = json_object_get(node, "patternProperties");
	if (json_is_object(k)) {
		json_object_foreach((json_t *)k, pattern, unused) {
			r = regex_add(doc, pattern);
			if (r < 0)
				return r;
		}
	}
	max = json_object_get(node, "maxItems");
	if (json_is_true(json_object_get(node, "uniqueItems")) &&
	    (!json_is_integer(max) || json_integer_value(max) > UNIQUE_ITEMS_MAX))
		return init_error(doc, "uniqueItems without a maxItems <= %d",
				  UNIQUE_ITEMS_MAX);
	return 0;
}

static int init_walk(const struct schema_doc *doc, const json_t *node,
		     unsigned depth)
{
	const char *key;
	json_t *value;
	size_t i;
	int r;

	if (depth > INIT_DEPTH_MAX)
		return init_error(doc, "nested too deeply");
	if (json_is_array(node)) {
		json_array_foreach(node, i, value) {
			r = init_walk(doc, value, depth + 1);
			if (r < 0)
				return r;
		}
		return 0;
	}
	if (!json_is_object(node))
		return 0;
	r = init_check_node(doc, node);
	if (r < 0)
		return r;
	json_object_foreach((json_t *)node, key, value) {
		if (is_data_keyword(key))
			continue;
		r = init_walk(doc, value, depth + 1);
		if (r < 0)
			return r;
	}
	return 0;
}

int schema_init(void)
{
	json_error_t jerr;
	size_t i;
	int r;

	if (ready)
		return 0;
	docs = calloc(schema_embedded_count ? schema_embedded_count : 1,
		      sizeof(*docs));
	if (!docs)
		return -ENOMEM;
	for (i = 0; i < schema_embedded_count; i++) {
		docs[i].name = schema_embedded[i].name;
		docs[i].root = json_loadb(schema_embedded[i].data,
					  schema_embedded[i].len,
					  JSON_REJECT_DUPLICATES, &jerr);
		n_docs = i + 1;
		if (!docs[i].root) {
			r = init_error(&docs[i], "line %d: %s", jerr.line, jerr.text);
			goto fail;
		}
	}
	for (i = 0; i < n_docs; i++) {
		r = init_walk(&docs[i], docs[i].root, 0);
		if (r < 0)
			goto fail;
	}
	qsort(regexes, n_regexes, sizeof(*regexes), regex_compare);
	ready = true;
	return 0;
fail:
	schema_fini();
	return r;
}

void schema_fini(void)
{
	for (size_t i = 0; i < n_regexes; i++)
		regfree(&regexes[i].re);
	free(regexes);
	regexes = NULL;
	n_regexes = 0;
	for (size_t i = 0; i < n_docs; i++)
		json_decref(docs[i].root);
	free(docs);
	docs = NULL;
	n_docs = 0;
	ready = false;
}

int schema_validate(const char *schema_file, const json_t *instance,
		    struct schema_error *ret_err)
{
	const struct schema_doc *doc;
	struct vctx c = { .err = ret_err };
	int r;

	if (ret_err) {
		ret_err->field[0] = '\0';
		ret_err->message[0] = '\0';
	}
	if (!ready) {
		r = schema_init();
		if (r < 0)
			return r;
	}
	if (!schema_file)
		return -ENOENT;
	doc = doc_find(schema_file, strlen(schema_file));
	if (!doc)
		return -ENOENT;
	c.doc = doc;
	if (!instance)
		return fail(&c, "a JSON body is required");
	return validate(&c, doc->root, instance);
}

const char *schema_text(const char *file, size_t *ret_len)
{
	if (!file)
		return NULL;
	for (size_t i = 0; i < schema_embedded_count; i++) {
		if (strcmp(schema_embedded[i].name, file) != 0)
			continue;
		if (ret_len)
			*ret_len = schema_embedded[i].len;
		return schema_embedded[i].data;
	}
	return NULL;
}

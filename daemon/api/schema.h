/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * JSON Schema validation of API bodies against the schemas embedded from
 * schemas/ at build time (see schema.c for the supported keywords).
 */

#include <stddef.h>

#include <jansson.h>

#define SCHEMA_FIELD_MAX 256
#define SCHEMA_MESSAGE_MAX 512

/*
 * Where and why an instance failed its schema. Both strings are always
 * NUL-terminated valid UTF-8, so they can go straight into json_string().
 */
struct schema_error {
	/* dotted path of the offending member, e.g. "disks.0.path"; "" for
	 * the whole body */
	char field[SCHEMA_FIELD_MAX];
	/* human message that names the field, e.g.
	 * "vcpus: 0 is less than the minimum 1" or "unknown field 'foo'" */
	char message[SCHEMA_MESSAGE_MAX];
};

/*
 * Parse the embedded schemas, check that every $ref resolves and compile
 * every pattern. Idempotent. Returns 0, -ENOMEM, or -EINVAL when an embedded
 * schema is broken (a build defect: the unit tests catch it; the reason goes
 * to stderr). Call it at start-up: initialisation is not thread-safe, but
 * once done, schema_validate() only reads and may run on any thread.
 */
int schema_init(void);

/* Free everything schema_init() built. Safe to call when not initialised. */
void schema_fini(void);

/*
 * Validate instance against the embedded schema named schema_file (a base
 * name such as "vm-create.schema.json"). Initialises the module on first use.
 *
 * Returns 0 when valid; -EINVAL when invalid, with the first error found
 * written to *ret_err (unlike most ret_ parameters it is written on this
 * failure, which is its purpose; it may be NULL); -ENOENT when no such schema
 * is embedded; or an error from schema_init(). A NULL instance is invalid.
 */
int schema_validate(const char *schema_file, const json_t *instance,
		    struct schema_error *ret_err);

/*
 * The embedded text of file (a schema or "openapi.json"), NUL-terminated,
 * with its length in bytes in *ret_len (ret_len may be NULL). NULL when no
 * such file is embedded. Needs no initialisation.
 */
const char *schema_text(const char *file, size_t *ret_len);

/* output.h - what hvadm prints: aligned tables, human sizes and ages, pretty JSON. */
#ifndef HVADM_OUTPUT_H
#define HVADM_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <jansson.h>

/* Large enough for any hvadm_format_size() result ("1023.9E" and NUL). */
#define HVADM_SIZE_BUF 16

/* Human size of a byte count, binary units: "512B", "1.5K", "2.0G", "16G", "1.0T". One decimal
 * below 10 of a unit, none above; never prints 1024 of a unit. Writes into buf (len >=
 * HVADM_SIZE_BUF) and returns it. */
char *hvadm_format_size(uint64_t bytes, char *buf, size_t len);

/* Same for a MiB count (memory_mib). */
char *hvadm_format_mib(uint64_t mib, char *buf, size_t len);

/* Age of an RFC 3339 UTC time stamp relative to now: "12s", "5m", "3h", "4d". NULL when ts is
 * not a time stamp. Writes into buf and returns it. */
char *hvadm_format_age(const char *ts, time_t now, char *buf, size_t len);

/* A table of strings printed with aligned columns, two spaces apart, the last column unpadded. */
struct hvadm_table;

/* NULL on out of memory. headers has ncols entries. */
struct hvadm_table *hvadm_table_new(size_t ncols, const char *const *headers);
struct hvadm_table *hvadm_table_free(struct hvadm_table *t);

/* Right-aligns a column (numbers). */
void hvadm_table_align_right(struct hvadm_table *t, size_t col);

/* Appends a row of ncols cells (copied); a NULL or empty cell prints as "-". -ENOMEM on failure. */
int hvadm_table_add(struct hvadm_table *t, const char *const *cells);

/* Display width of a column (header included), in characters. */
size_t hvadm_table_width(const struct hvadm_table *t, size_t col);

/* Prints header and rows. -EIO when the stream fails. */
int hvadm_table_print(const struct hvadm_table *t, FILE *f);

/* Display width of a UTF-8 string: one column per character (no wide-character handling). */
size_t hvadm_text_width(const char *s);

/* Prints a JSON value pretty (2-space indent, keys in the server's order) and a newline. */
int hvadm_print_json(const json_t *v, FILE *f);

/* Small getters that tolerate missing keys and wrong types, for printing. */
const char *hvadm_jstr(const json_t *o, const char *key);
/* Integer value (a real is truncated); def when missing. */
int64_t hvadm_jint(const json_t *o, const char *key, int64_t def);

/* A JSON object of string values as "k=v,k2=v2" in the caller's buffer; "" when empty. */
char *hvadm_format_labels(const json_t *labels, char *buf, size_t len);

#endif

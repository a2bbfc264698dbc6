/* output.c - formatting of what hvadm prints: tables with aligned columns, human sizes and ages,
 * pretty JSON.
 *
 * Tables own copies of their cells, so callers may pass strings that die with the JSON they came
 * from. Widths count UTF-8 characters, not bytes, so a label value with an accent does not shift
 * the columns after it. The formatting functions write only into the caller's buffer. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

char *hvadm_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "BKMGTPE";
	unsigned u = 0;
	double v;

	if (bytes < 1024) {
		snprintf(buf, len, "%" PRIu64 "B", bytes);
		return buf;
	}
	while (u < 6 && bytes >= (1ULL << (10 * (u + 1))))
		u++;
	v = (double)bytes / (double)(1ULL << (10 * u));
	/* Rounding may reach 1024 of a unit (1023.96K): show it as 1.0 of the next one. */
	if (v >= 1023.95 && u < 6) {
		u++;
		v /= 1024.0;
	}
	if (v < 9.95)
		snprintf(buf, len, "%.1f%c", v, units[u]);
	else
		snprintf(buf, len, "%.0f%c", v, units[u]);
	return buf;
}

char *hvadm_format_mib(uint64_t mib, char *buf, size_t len)
{
	/* 2^44 MiB is 2^64 bytes: above it, print in MiB rather than overflow. */
	if (mib == 0 || mib >= (1ULL << 44)) {
		snprintf(buf, len, "%" PRIu64 "M", mib);
		return buf;
	}
	return hvadm_format_size(mib << 20, buf, len);
}

char *hvadm_format_age(const char *ts, time_t now, char *buf, size_t len)
{
	struct tm tm = { 0 };
	const char *end;
	time_t t;
	int64_t d;

	if (!ts)
		return NULL;
	end = strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return NULL;
	t = timegm(&tm);
	d = (int64_t)now - (int64_t)t;
	if (d < 0)
		d = 0;
	if (d < 120)
		snprintf(buf, len, "%" PRId64 "s", d);
	else if (d < 2 * 3600)
		snprintf(buf, len, "%" PRId64 "m", d / 60);
	else if (d < 2 * 86400)
		snprintf(buf, len, "%" PRId64 "h", d / 3600);
	else
		snprintf(buf, len, "%" PRId64 "d", d / 86400);
	return buf;
}

size_t hvadm_text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

struct hvadm_table {
	size_t ncols;
	size_t nrows;	/* header included */
	size_t cap;
	char **cells;	/* nrows * ncols */
	size_t *width;
	bool *right;
};

struct hvadm_table *hvadm_table_free(struct hvadm_table *t)
{
	if (!t)
		return NULL;
	for (size_t i = 0; t->cells && i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->width);
	free(t->right);
	free(t);
	return NULL;
}

struct hvadm_table *hvadm_table_new(size_t ncols, const char *const *headers)
{
	struct hvadm_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ncols = ncols;
	t->width = calloc(ncols, sizeof(*t->width));
	t->right = calloc(ncols, sizeof(*t->right));
	if (!t->width || !t->right || hvadm_table_add(t, headers) < 0)
		return hvadm_table_free(t);
	return t;
}

void hvadm_table_align_right(struct hvadm_table *t, size_t col)
{
	if (col < t->ncols)
		t->right[col] = true;
}

int hvadm_table_add(struct hvadm_table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **c = reallocarray(t->cells, cap * t->ncols, sizeof(*c));

		if (!c)
			return -ENOMEM;
		t->cells = c;
		t->cap = cap;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		const char *s = cells[i] && *cells[i] ? cells[i] : "-";
		char *dup = strdup(s);
		size_t w;

		if (!dup) {
			while (i--)
				free(t->cells[t->nrows * t->ncols + i]);
			return -ENOMEM;
		}
		t->cells[t->nrows * t->ncols + i] = dup;
		w = hvadm_text_width(dup);
		if (w > t->width[i])
			t->width[i] = w;
	}
	t->nrows++;
	return 0;
}

size_t hvadm_table_width(const struct hvadm_table *t, size_t col)
{
	return col < t->ncols ? t->width[col] : 0;
}

int hvadm_table_print(const struct hvadm_table *t, FILE *f)
{
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			size_t pad = t->width[c] - hvadm_text_width(s);
			bool last = c + 1 == t->ncols;

			if (c > 0)
				fputs("  ", f);
			if (t->right[c])
				fprintf(f, "%*s", (int)pad, "");
			fputs(s, f);
			if (!t->right[c] && !last)
				fprintf(f, "%*s", (int)pad, "");
		}
		fputc('\n', f);
	}
	return ferror(f) ? -EIO : 0;
}

int hvadm_print_json(const json_t *v, FILE *f)
{
	if (json_dumpf(v, f, JSON_INDENT(2) | JSON_ENCODE_ANY) < 0)
		return -EIO;
	fputc('\n', f);
	return ferror(f) ? -EIO : 0;
}

const char *hvadm_jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

int64_t hvadm_jint(const json_t *o, const char *key, int64_t def)
{
	json_t *v = json_object_get(o, key);

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (int64_t)json_real_value(v);
	return def;
}

char *hvadm_format_labels(const json_t *labels, char *buf, size_t len)
{
	const char *k;
	json_t *v;
	size_t used = 0;

	buf[0] = '\0';
	json_object_foreach((json_t *)labels, k, v) {
		const char *s = json_string_value(v);
		int n = snprintf(buf + used, len - used, "%s%s=%s", used ? "," : "", k, s ? s : "");

		if (n < 0 || (size_t)n >= len - used) {
			/* Truncated: end with "..." so the reader knows there is more. */
			if (len >= 4)
				strcpy(buf + len - 4, "...");
			break;
		}
		used += (size_t)n;
	}
	return buf;
}

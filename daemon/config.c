/* config.c - parse and compare hvd configurations.
 *
 * A struct hvd_config owns every string it points to; config_free releases
 * them and leaves the struct zeroed, so a half-filled config is safe to free. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

static int set_str(char **field, const char *value)
{
	char *s = strdup(value);

	if (!s)
		return -ENOMEM;
	free(*field);
	*field = s;
	return 0;
}

int config_defaults(struct hvd_config *cfg)
{
	const char *xdg_state = getenv("XDG_STATE_HOME");
	const char *xdg_run = getenv("XDG_RUNTIME_DIR");
	const char *home = getenv("HOME");
	char buf[PATH_MAX];
	int r;

	memset(cfg, 0, sizeof(*cfg));
	cfg->max_body_bytes = 1024 * 1024;
	cfg->max_connections = 512;
	cfg->connection_timeout_s = 120;
	cfg->cpu_overcommit = 4.0;
	cfg->memory_overcommit = 1.0;
	cfg->event_backlog = 10000;
	cfg->shutdown_timeout_s = 60;
	cfg->standby_vmms = 1;
	cfg->log_level = LOG_INFO;

	if (geteuid() == 0) {
		if ((r = set_str(&cfg->state_dir, "/var/lib/hvd")) < 0 ||
		    (r = set_str(&cfg->runtime_dir, "/run/hvd")) < 0)
			goto fail;
	} else {
		if (xdg_state)
			snprintf(buf, sizeof(buf), "%s/hvd", xdg_state);
		else
			snprintf(buf, sizeof(buf), "%s/.local/state/hvd", home ? home : "/tmp");
		if ((r = set_str(&cfg->state_dir, buf)) < 0)
			goto fail;
		if (xdg_run)
			snprintf(buf, sizeof(buf), "%s/hvd", xdg_run);
		else
			snprintf(buf, sizeof(buf), "/tmp/hvd-%u", (unsigned)geteuid());
		if ((r = set_str(&cfg->runtime_dir, buf)) < 0)
			goto fail;
	}
	if ((r = set_str(&cfg->socket_group, "hvd")) < 0)
		goto fail;
	return 0;
fail:
	config_free(cfg);
	return r;
}

static int parse_uint(const char *v, unsigned long long max, unsigned long long *ret)
{
	unsigned long long x;
	char *end;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || *end || x > max)
		return -EINVAL;
	*ret = x;
	return 0;
}

static int parse_ratio(const char *v, double *ret)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(v, &end);
	if (errno || *end || end == v || !isfinite(x) || x < 0.1 || x > 100.0)
		return -EINVAL;
	*ret = x;
	return 0;
}

int config_set(struct hvd_config *cfg, const char *key, const char *value, char *err, size_t errlen)
{
	unsigned long long u;
	int r;

	if (strcmp(key, "state_dir") == 0 || strcmp(key, "runtime_dir") == 0 ||
	    strcmp(key, "tls_cert") == 0 || strcmp(key, "tls_key") == 0) {
		char **f = key[0] == 's' ? &cfg->state_dir :
			   key[0] == 'r' ? &cfg->runtime_dir :
			   key[4] == 'c' ? &cfg->tls_cert : &cfg->tls_key;
		if (value[0] != '/' || strlen(value) > 256) {
			snprintf(err, errlen, "%s: must be an absolute path of at most 256 bytes", key);
			return -EINVAL;
		}
		return set_str(f, value);
	}
	if (strcmp(key, "host_name") == 0 || strcmp(key, "socket_group") == 0) {
		if (!*value || strlen(value) > 63) {
			snprintf(err, errlen, "%s: must be 1 to 63 characters", key);
			return -EINVAL;
		}
		return set_str(key[0] == 'h' ? &cfg->host_name : &cfg->socket_group, value);
	}
	if (strcmp(key, "listen") == 0) {
		if (strncmp(value, "unix:/", 6) != 0 && strncmp(value, "tcp:", 4) != 0) {
			snprintf(err, errlen, "listen: '%s' is neither unix:/PATH nor tcp:HOST:PORT", value);
			return -EINVAL;
		}
		if (cfg->n_listen == CONFIG_MAX_LISTEN) {
			snprintf(err, errlen, "listen: at most %d addresses", CONFIG_MAX_LISTEN);
			return -E2BIG;
		}
		cfg->listen[cfg->n_listen] = strdup(value);
		if (!cfg->listen[cfg->n_listen])
			return -ENOMEM;
		cfg->n_listen++;
		return 0;
	}
	if (strcmp(key, "max_body_bytes") == 0) {
		if (parse_uint(value, 64ULL << 20, &u) < 0 || u < 1024)
			goto bad_num;
		cfg->max_body_bytes = u;
		return 0;
	}
	if (strcmp(key, "max_connections") == 0) {
		if (parse_uint(value, 65536, &u) < 0 || u < 4)
			goto bad_num;
		cfg->max_connections = (unsigned)u;
		return 0;
	}
	if (strcmp(key, "connection_timeout_s") == 0) {
		if (parse_uint(value, 86400, &u) < 0 || u < 1)
			goto bad_num;
		cfg->connection_timeout_s = (unsigned)u;
		return 0;
	}
	if (strcmp(key, "host_vcpus") == 0) {
		if (parse_uint(value, 65536, &u) < 0)
			goto bad_num;
		cfg->host_vcpus = (unsigned)u;
		return 0;
	}
	if (strcmp(key, "host_memory_mib") == 0) {
		if (parse_uint(value, 1ULL << 40, &u) < 0)
			goto bad_num;
		cfg->host_memory_mib = u;
		return 0;
	}
	if (strcmp(key, "event_backlog") == 0) {
		if (parse_uint(value, 10000000, &u) < 0 || u < 10)
			goto bad_num;
		cfg->event_backlog = (unsigned)u;
		return 0;
	}
	if (strcmp(key, "cpu_overcommit") == 0 || strcmp(key, "memory_overcommit") == 0) {
		double *f = key[0] == 'c' ? &cfg->cpu_overcommit : &cfg->memory_overcommit;
		if (parse_ratio(value, f) < 0) {
			snprintf(err, errlen, "%s: '%s' is not a ratio between 0.1 and 100", key, value);
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "stop_vms_on_shutdown") == 0) {
		if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
			cfg->stop_vms_on_shutdown = true;
		else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
			cfg->stop_vms_on_shutdown = false;
		else {
			snprintf(err, errlen, "stop_vms_on_shutdown: '%s' is not yes or no", value);
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "shutdown_timeout_s") == 0) {
		if (parse_uint(value, 3600, &u) < 0)
			goto bad_num;
		cfg->shutdown_timeout_s = (unsigned)u;
		return 0;
	}
	if (strcmp(key, "standby_vmms") == 0) {
		if (parse_uint(value, 64, &u) < 0)
			goto bad_num;
		cfg->standby_vmms = (unsigned)u;
		return 0;
	}
	if (strcmp(key, "log_level") == 0) {
		r = log_level_parse(value);
		if (r < 0) {
			snprintf(err, errlen, "log_level: '%s' is not one of err, warning, notice, info, debug", value);
			return -EINVAL;
		}
		cfg->log_level = r;
		return 0;
	}
	snprintf(err, errlen, "unknown setting '%s'", key);
	return -EINVAL;
bad_num:
	snprintf(err, errlen, "%s: '%s' is not a valid number in range", key, value);
	return -EINVAL;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int config_load_file(struct hvd_config *cfg, const char *path, char *err, size_t errlen)
{
	char line[4096], msg[512];
	unsigned lineno = 0;
	bool listen_reset = false;
	FILE *f;
	int r = 0;

	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	while (fgets(line, sizeof(line), f)) {
		char *key, *value, *eq;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path, lineno);
			r = -EINVAL;
			break;
		}
		key = trim(line);
		if (*key == '#' || *key == '\0')
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%u: expected 'key = value'", path, lineno);
			r = -EINVAL;
			break;
		}
		*eq = '\0';
		key = trim(key);
		value = trim(eq + 1);
		/* listen lines in the file replace the defaults, not add to them */
		if (strcmp(key, "listen") == 0 && !listen_reset) {
			for (int i = 0; i < cfg->n_listen; i++) {
				free(cfg->listen[i]);
				cfg->listen[i] = NULL;
			}
			cfg->n_listen = 0;
			listen_reset = true;
		}
		r = config_set(cfg, key, value, msg, sizeof(msg));
		if (r < 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, msg);
			break;
		}
	}
	if (r == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: cannot read it", path);
		r = -EIO;
	}
	fclose(f);
	return r;
}

static int dup_field(char **dst, const char *src)
{
	if (!src) {
		*dst = NULL;
		return 0;
	}
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

int config_copy(struct hvd_config *dst, const struct hvd_config *src)
{
	*dst = *src;
	dst->config_path = dst->state_dir = dst->runtime_dir = NULL;
	dst->tls_cert = dst->tls_key = dst->host_name = dst->socket_group = NULL;
	for (int i = 0; i < CONFIG_MAX_LISTEN; i++)
		dst->listen[i] = NULL;
	if (dup_field(&dst->config_path, src->config_path) < 0 ||
	    dup_field(&dst->state_dir, src->state_dir) < 0 ||
	    dup_field(&dst->runtime_dir, src->runtime_dir) < 0 ||
	    dup_field(&dst->tls_cert, src->tls_cert) < 0 ||
	    dup_field(&dst->tls_key, src->tls_key) < 0 ||
	    dup_field(&dst->host_name, src->host_name) < 0 ||
	    dup_field(&dst->socket_group, src->socket_group) < 0)
		goto fail;
	for (int i = 0; i < src->n_listen; i++)
		if (dup_field(&dst->listen[i], src->listen[i]) < 0)
			goto fail;
	return 0;
fail:
	config_free(dst);
	return -ENOMEM;
}

static int streq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

#define DIFF_APPEND(...) do { \
	size_t used_ = outlen ? strlen(out) : 0; \
	if (used_ + 1 < outlen) \
		snprintf(out + used_, outlen - used_, __VA_ARGS__); \
	n++; \
} while (0)

int config_diff(const struct hvd_config *a, const struct hvd_config *b, char *out, size_t outlen)
{
	int n = 0;

	if (outlen)
		out[0] = '\0';
#define DIFF_STR(f) if (!streq(a->f, b->f)) \
		DIFF_APPEND("%s%s %s -> %s", n ? ", " : "", #f, a->f ? a->f : "(none)", b->f ? b->f : "(none)")
#define DIFF_NUM(f, fmt, cast) if (a->f != b->f) \
		DIFF_APPEND("%s%s " fmt " -> " fmt, n ? ", " : "", #f, (cast)a->f, (cast)b->f)
	DIFF_STR(state_dir);
	DIFF_STR(runtime_dir);
	DIFF_STR(tls_cert);
	DIFF_STR(tls_key);
	DIFF_STR(host_name);
	DIFF_STR(socket_group);
	DIFF_NUM(max_body_bytes, "%llu", unsigned long long);
	DIFF_NUM(max_connections, "%u", unsigned);
	DIFF_NUM(connection_timeout_s, "%u", unsigned);
	DIFF_NUM(host_vcpus, "%u", unsigned);
	DIFF_NUM(host_memory_mib, "%llu", unsigned long long);
	DIFF_NUM(cpu_overcommit, "%g", double);
	DIFF_NUM(memory_overcommit, "%g", double);
	DIFF_NUM(event_backlog, "%u", unsigned);
	DIFF_NUM(log_level, "%d", int);
	DIFF_NUM(stop_vms_on_shutdown, "%d", int);
	DIFF_NUM(shutdown_timeout_s, "%u", unsigned);
	DIFF_NUM(standby_vmms, "%u", unsigned);
	if (a->n_listen != b->n_listen) {
		DIFF_APPEND("%slisten (%d addresses -> %d)", n ? ", " : "", a->n_listen, b->n_listen);
	} else {
		for (int i = 0; i < a->n_listen; i++)
			if (!streq(a->listen[i], b->listen[i]))
				DIFF_APPEND("%slisten %s -> %s", n ? ", " : "", a->listen[i], b->listen[i]);
	}
#undef DIFF_STR
#undef DIFF_NUM
	return n;
}

void config_free(struct hvd_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->config_path);
	free(cfg->state_dir);
	free(cfg->runtime_dir);
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->host_name);
	free(cfg->socket_group);
	for (int i = 0; i < CONFIG_MAX_LISTEN; i++)
		free(cfg->listen[i]);
	memset(cfg, 0, sizeof(*cfg));
}

int config_diff_needs_restart(const struct hvd_config *a, const struct hvd_config *b, char *out,
			      size_t outlen)
{
	struct hvd_config x = *a;

	/* compare a against a copy of b that keeps a's live settings, so that
	 * only the fixed ones can differ */
	x.state_dir = b->state_dir;
	x.runtime_dir = b->runtime_dir;
	x.tls_cert = b->tls_cert;
	x.tls_key = b->tls_key;
	x.socket_group = b->socket_group;
	x.max_connections = b->max_connections;
	x.connection_timeout_s = b->connection_timeout_s;
	x.n_listen = b->n_listen;
	for (int i = 0; i < CONFIG_MAX_LISTEN; i++)
		x.listen[i] = b->listen[i];
	return config_diff(a, &x, out, outlen);
}

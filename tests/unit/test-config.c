/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of daemon/config.c: the embedded defaults (for root and for
 * an unprivileged user), parsing hvd.conf (comments, whitespace, repeated
 * listen lines replacing the defaults, errors naming the line), every
 * setting's range, what SIGHUP reports as changed and what it says needs a
 * restart, copies and freeing. log_level_parse (daemon/log.c) is tested
 * here too because it is how config parses log_level. One TCase per public
 * function.
 */

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

/* base: one directory per run, made and removed by main(); tmpdir: one
 * per test inside it. */
static char base[64];
static char tmpdir[128];
static char conf_path[PATH_MAX];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Removes path and what is under it, also what failed tests left (their
 * teardown does not run). */
static void rm_rf(const char *path)
{
	if (path[0])
		nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s/t-XXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(conf_path, sizeof(conf_path), "%s/hvd.conf", tmpdir);
}

static void teardown(void)
{
	rm_rf(tmpdir);
}

static void write_conf(const char *text)
{
	FILE *f = fopen(conf_path, "we");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

/* Loads text on top of the defaults; returns the result, err filled. */
static int load(struct hvd_config *cfg, const char *text, char *err, size_t errlen)
{
	ck_assert_int_eq(config_defaults(cfg), 0);
	write_conf(text);
	err[0] = '\0';
	return config_load_file(cfg, conf_path, err, errlen);
}

/* Expects text to be refused with r, an error naming conf_path:line and
 * containing what. */
static void expect_refused(const char *text, int r, unsigned line, const char *what, int src)
{
	struct hvd_config cfg;
	char err[512], where[PATH_MAX + 16];
	int got = load(&cfg, text, err, sizeof(err));

	snprintf(where, sizeof(where), "%s:%u: ", conf_path, line);
	ck_assert_msg(got == r, "line %d: got %d, want %d (%s)", src, got, r, err);
	ck_assert_msg(strncmp(err, where, strlen(where)) == 0, "line %d: error '%s' lacks '%s'",
		      src, err, where);
	ck_assert_msg(strstr(err, what) != NULL, "line %d: error '%s' lacks '%s'", src, err, what);
	config_free(&cfg);
}

#define REFUSED(text, r, line, what) expect_refused(text, r, line, what, __LINE__)

/* ---- config_defaults ---- */

static void check_common_defaults(const struct hvd_config *cfg)
{
	ck_assert_ptr_null(cfg->config_path);
	ck_assert_int_eq(cfg->n_listen, 0); /* main adds unix:RUNTIME_DIR/hvd.sock */
	ck_assert_ptr_null(cfg->tls_cert);
	ck_assert_ptr_null(cfg->tls_key);
	ck_assert_ptr_null(cfg->host_name);
	ck_assert_str_eq(cfg->socket_group, "hvd");
	ck_assert_uint_eq(cfg->max_body_bytes, 1024 * 1024);
	ck_assert_uint_eq(cfg->max_connections, 512);
	ck_assert_uint_eq(cfg->connection_timeout_s, 120);
	ck_assert_uint_eq(cfg->host_vcpus, 0);
	ck_assert_uint_eq(cfg->host_memory_mib, 0);
	ck_assert(cfg->cpu_overcommit == 4.0);
	ck_assert(cfg->memory_overcommit == 1.0);
	ck_assert_uint_eq(cfg->event_backlog, 10000);
	ck_assert_int_eq(cfg->log_level, LOG_INFO);
}

START_TEST(test_defaults_root)
{
	struct hvd_config cfg;

	if (geteuid() != 0)
		return; /* test_defaults_user covers this user */
	ck_assert_int_eq(config_defaults(&cfg), 0);
	check_common_defaults(&cfg);
	ck_assert_str_eq(cfg.state_dir, "/var/lib/hvd");
	ck_assert_str_eq(cfg.runtime_dir, "/run/hvd");
	config_free(&cfg);
}
END_TEST

/* Runs fn in a child as an unprivileged user when we are root, so the
 * per-user defaults are tested either way. */
static void as_user(void (*fn)(void))
{
	pid_t pid;
	int status;

	if (geteuid() != 0) {
		fn();
		return;
	}
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(77);
		fn();
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "child died with signal %d", WTERMSIG(status));
	if (WEXITSTATUS(status) == 77) {
		fprintf(stderr, "test-config: cannot become uid 65534, per-user defaults untested\n");
		return;
	}
	ck_assert_msg(WEXITSTATUS(status) == 0, "per-user defaults: child failed");
}

static void user_defaults_xdg(void)
{
	struct hvd_config cfg;

	setenv("XDG_STATE_HOME", "/home/u/.state", 1);
	setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
	if (config_defaults(&cfg) != 0)
		_exit(1);
	check_common_defaults(&cfg);
	if (strcmp(cfg.state_dir, "/home/u/.state/hvd") != 0 ||
	    strcmp(cfg.runtime_dir, "/run/user/1000/hvd") != 0) {
		fprintf(stderr, "xdg: state_dir %s runtime_dir %s\n", cfg.state_dir, cfg.runtime_dir);
		_exit(1);
	}
	config_free(&cfg);
}

static void user_defaults_home(void)
{
	struct hvd_config cfg;
	char want_run[64];

	unsetenv("XDG_STATE_HOME");
	unsetenv("XDG_RUNTIME_DIR");
	setenv("HOME", "/home/u", 1);
	if (config_defaults(&cfg) != 0)
		_exit(1);
	snprintf(want_run, sizeof(want_run), "/tmp/hvd-%u", (unsigned)geteuid());
	if (strcmp(cfg.state_dir, "/home/u/.local/state/hvd") != 0 ||
	    strcmp(cfg.runtime_dir, want_run) != 0) {
		fprintf(stderr, "home: state_dir %s runtime_dir %s\n", cfg.state_dir, cfg.runtime_dir);
		_exit(1);
	}
	config_free(&cfg);
}

START_TEST(test_defaults_user)
{
	/* a failed check in the child makes it exit non-zero, which fails
	 * this test in as_user() */
	as_user(user_defaults_xdg);
	as_user(user_defaults_home);
}
END_TEST

/* ---- config_load_file ---- */

START_TEST(test_load_full_file)
{
	struct hvd_config cfg;
	char err[512];

	ck_assert_int_eq(load(&cfg,
			      "# hvd configuration\n"
			      "\n"
			      "state_dir = /srv/hvd\n"
			      "runtime_dir=/run/hvd2\n"
			      "   # an indented comment\n"
			      "\tmax_body_bytes\t=\t2048  \n"
			      "max_connections = 64\r\n"
			      "connection_timeout_s = 30\n"
			      "host_vcpus = 8\n"
			      "host_memory_mib = 16384\n"
			      "cpu_overcommit = 2.5\n"
			      "memory_overcommit = 1.5\n"
			      "event_backlog = 100\n"
			      "log_level = debug\n"
			      "host_name = node1\n"
			      "socket_group = wheel\n"
			      "tls_cert = /etc/hvd/cert.pem\n"
			      "tls_key = /etc/hvd/key.pem\n"
			      "listen = tcp:0.0.0.0:8443\n"
			      "   \t  \n"
			      "# the end, without a newline\n"
			      "log_level = notice",
			      err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(cfg.state_dir, "/srv/hvd");
	ck_assert_str_eq(cfg.runtime_dir, "/run/hvd2");
	ck_assert_uint_eq(cfg.max_body_bytes, 2048);
	ck_assert_uint_eq(cfg.max_connections, 64);
	ck_assert_uint_eq(cfg.connection_timeout_s, 30);
	ck_assert_uint_eq(cfg.host_vcpus, 8);
	ck_assert_uint_eq(cfg.host_memory_mib, 16384);
	ck_assert(cfg.cpu_overcommit == 2.5);
	ck_assert(cfg.memory_overcommit == 1.5);
	ck_assert_uint_eq(cfg.event_backlog, 100);
	ck_assert_int_eq(cfg.log_level, LOG_NOTICE); /* the last one wins */
	ck_assert_str_eq(cfg.host_name, "node1");
	ck_assert_str_eq(cfg.socket_group, "wheel");
	ck_assert_str_eq(cfg.tls_cert, "/etc/hvd/cert.pem");
	ck_assert_str_eq(cfg.tls_key, "/etc/hvd/key.pem");
	ck_assert_int_eq(cfg.n_listen, 1);
	ck_assert_str_eq(cfg.listen[0], "tcp:0.0.0.0:8443");
	config_free(&cfg);
}
END_TEST

START_TEST(test_load_empty_file_keeps_defaults)
{
	struct hvd_config cfg, def;
	char err[512], diff[512];

	ck_assert_int_eq(load(&cfg, "", err, sizeof(err)), 0);
	ck_assert_int_eq(config_defaults(&def), 0);
	ck_assert_int_eq(config_diff(&def, &cfg, diff, sizeof(diff)), 0);
	config_free(&cfg);
	ck_assert_int_eq(load(&cfg, "# only comments\n\n#\n", err, sizeof(err)), 0);
	ck_assert_int_eq(config_diff(&def, &cfg, diff, sizeof(diff)), 0);
	config_free(&cfg);
	config_free(&def);
}
END_TEST

/* listen lines in the file replace what was there (defaults, earlier
 * settings) instead of adding to it, and accumulate among themselves. */
START_TEST(test_load_listen_replaces)
{
	struct hvd_config cfg;
	char err[512];

	ck_assert_int_eq(config_defaults(&cfg), 0);
	ck_assert_int_eq(config_set(&cfg, "listen", "unix:/run/hvd/old.sock", err, sizeof(err)), 0);
	ck_assert_int_eq(config_set(&cfg, "listen", "tcp:127.0.0.1:1", err, sizeof(err)), 0);
	write_conf("listen = unix:/run/hvd/hvd.sock\n"
		   "max_connections = 10\n"
		   "listen = tcp:[::]:8443\n");
	ck_assert_int_eq(config_load_file(&cfg, conf_path, err, sizeof(err)), 0);
	ck_assert_int_eq(cfg.n_listen, 2);
	ck_assert_str_eq(cfg.listen[0], "unix:/run/hvd/hvd.sock");
	ck_assert_str_eq(cfg.listen[1], "tcp:[::]:8443");
	ck_assert_ptr_null(cfg.listen[2]);

	/* a file without listen keeps them */
	write_conf("max_connections = 20\n");
	ck_assert_int_eq(config_load_file(&cfg, conf_path, err, sizeof(err)), 0);
	ck_assert_int_eq(cfg.n_listen, 2);
	ck_assert_str_eq(cfg.listen[1], "tcp:[::]:8443");
	config_free(&cfg);
}
END_TEST

START_TEST(test_load_errors_name_the_line)
{
	REFUSED("frobnicate = 1\n", -EINVAL, 1, "unknown setting 'frobnicate'");
	REFUSED("# fine\n\nstate_dir = /x\nbogus = 2\n", -EINVAL, 4, "unknown setting 'bogus'");
	REFUSED("max_connections = 64\nmax_connections = many\n", -EINVAL, 2, "max_connections");
	REFUSED("\n\n\ncpu_overcommit = 0\n", -EINVAL, 4, "cpu_overcommit");
	REFUSED("state_dir = var/lib/hvd\n", -EINVAL, 1, "absolute path");
	REFUSED("listen = http://0.0.0.0:80\n", -EINVAL, 1, "http://0.0.0.0:80");
	REFUSED("log_level = loud\n", -EINVAL, 1, "loud");
	REFUSED("host_name =\n", -EINVAL, 1, "host_name");
	REFUSED("just some words\n", -EINVAL, 1, "expected 'key = value'");
	REFUSED("= 5\n", -EINVAL, 1, "unknown setting ''");
	/* a trailing comment is not stripped from a number: it is refused,
	 * not half-read */
	REFUSED("max_connections = 64 # plenty\n", -EINVAL, 1, "max_connections");
	REFUSED("listen = unix:/a\nlisten = unix:/b\nlisten = unix:/c\nlisten = unix:/d\n"
		"listen = unix:/e\n", -E2BIG, 5, "at most 4");
}
END_TEST

START_TEST(test_load_line_too_long)
{
	size_t n = 5000;
	char *text = malloc(n + 64);

	ck_assert_ptr_nonnull(text);
	strcpy(text, "log_level = info\nstate_dir = /");
	memset(text + strlen(text), 'a', n);
	strcpy(text + 30 + n, "\n");
	REFUSED(text, -EINVAL, 2, "too long");
	free(text);
}
END_TEST

START_TEST(test_load_missing_file)
{
	struct hvd_config cfg;
	char err[512];

	ck_assert_int_eq(config_defaults(&cfg), 0);
	ck_assert_int_eq(config_load_file(&cfg, "/nonexistent/hvd.conf", err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/hvd.conf"));
	/* nothing was changed */
	ck_assert_uint_eq(cfg.max_connections, 512);
	config_free(&cfg);
}
END_TEST

/* A path that opens but cannot be read (a directory: fopen succeeds,
 * fgets fails with EISDIR) is an error, not an empty configuration:
 * `hvd --config /etc/hvd` must not start silently on the defaults. */
START_TEST(test_load_read_error)
{
	struct hvd_config cfg;
	char err[512] = "";

	ck_assert_int_eq(config_defaults(&cfg), 0);
	ck_assert_msg(config_load_file(&cfg, tmpdir, err, sizeof(err)) < 0,
		      "a directory loads as an empty configuration");
	ck_assert_ptr_nonnull(strstr(err, tmpdir));
	config_free(&cfg);
}
END_TEST

/* ---- config_set ---- */

static int set(struct hvd_config *cfg, const char *key, const char *value)
{
	char err[256];

	err[0] = '\0';
	return config_set(cfg, key, value, err, sizeof(err));
}

START_TEST(test_set_numbers_in_range)
{
	static const struct {
		const char *key, *ok_min, *bad_low, *ok_max, *bad_high;
	} cases[] = {
		{ "max_body_bytes", "1024", "1023", "67108864", "67108865" },
		{ "max_connections", "4", "3", "65536", "65537" },
		{ "connection_timeout_s", "1", "0", "86400", "86401" },
		{ "host_vcpus", "0", NULL, "65536", "65537" },
		{ "host_memory_mib", "0", NULL, "1099511627776", "1099511627777" },
		{ "event_backlog", "10", "9", "10000000", "10000001" },
	};
	static const char *const garbage[] = {
		"", "-1", "+5", " 5", "5 ", "0x10", "1e3", "12abc", "abc",
		"99999999999999999999999999", "18446744073709551616",
	};
	struct hvd_config cfg;

	ck_assert_int_eq(config_defaults(&cfg), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *key = cases[i].key;

		ck_assert_msg(set(&cfg, key, cases[i].ok_min) == 0, "%s = %s", key, cases[i].ok_min);
		ck_assert_msg(set(&cfg, key, cases[i].ok_max) == 0, "%s = %s", key, cases[i].ok_max);
		if (cases[i].bad_low)
			ck_assert_msg(set(&cfg, key, cases[i].bad_low) == -EINVAL, "%s = %s", key,
				      cases[i].bad_low);
		ck_assert_msg(set(&cfg, key, cases[i].bad_high) == -EINVAL, "%s = %s", key,
			      cases[i].bad_high);
		for (size_t k = 0; k < sizeof(garbage) / sizeof(garbage[0]); k++)
			ck_assert_msg(set(&cfg, key, garbage[k]) == -EINVAL, "%s = '%s' accepted", key,
				      garbage[k]);
	}
	/* refused values leave the previous one (the maximum) in place */
	ck_assert_uint_eq(cfg.max_body_bytes, 64 << 20);
	ck_assert_uint_eq(cfg.max_connections, 65536);
	ck_assert_uint_eq(cfg.connection_timeout_s, 86400);
	ck_assert_uint_eq(cfg.host_vcpus, 65536);
	ck_assert_uint_eq(cfg.host_memory_mib, 1ULL << 40);
	ck_assert_uint_eq(cfg.event_backlog, 10000000);
	config_free(&cfg);
}
END_TEST

START_TEST(test_set_ratios)
{
	static const char *const bad[] = {
		"0", "0.09", "100.01", "-1", "", "nan", "inf", "-inf", "2x", "two", "1e999", " ",
	};
	struct hvd_config cfg;
	char err[256];

	ck_assert_int_eq(config_defaults(&cfg), 0);
	ck_assert_int_eq(set(&cfg, "cpu_overcommit", "0.1"), 0);
	ck_assert(cfg.cpu_overcommit == 0.1);
	ck_assert_int_eq(set(&cfg, "cpu_overcommit", "100"), 0);
	ck_assert(cfg.cpu_overcommit == 100.0);
	ck_assert_int_eq(set(&cfg, "memory_overcommit", "1.25"), 0);
	ck_assert(cfg.memory_overcommit == 1.25);
	ck_assert(cfg.cpu_overcommit == 100.0); /* the other ratio is untouched */
	ck_assert_int_eq(set(&cfg, "memory_overcommit", "1e1"), 0);
	ck_assert(cfg.memory_overcommit == 10.0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(set(&cfg, "cpu_overcommit", bad[i]) == -EINVAL, "'%s' accepted", bad[i]);
		ck_assert_msg(set(&cfg, "memory_overcommit", bad[i]) == -EINVAL, "'%s' accepted", bad[i]);
	}
	ck_assert(cfg.cpu_overcommit == 100.0);
	ck_assert(cfg.memory_overcommit == 10.0);
	ck_assert_int_eq(config_set(&cfg, "cpu_overcommit", "0", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "cpu_overcommit: '0' is not a ratio between 0.1 and 100");
	config_free(&cfg);
}
END_TEST

START_TEST(test_set_strings)
{
	struct hvd_config cfg;
	char name[80], err[256];

	ck_assert_int_eq(config_defaults(&cfg), 0);
	ck_assert_int_eq(set(&cfg, "state_dir", "/srv/hvd"), 0);
	ck_assert_int_eq(set(&cfg, "runtime_dir", "/run/x"), 0);
	ck_assert_int_eq(set(&cfg, "tls_cert", "/etc/c.pem"), 0);
	ck_assert_int_eq(set(&cfg, "tls_key", "/etc/k.pem"), 0);
	ck_assert_str_eq(cfg.state_dir, "/srv/hvd");
	ck_assert_str_eq(cfg.runtime_dir, "/run/x");
	ck_assert_str_eq(cfg.tls_cert, "/etc/c.pem");
	ck_assert_str_eq(cfg.tls_key, "/etc/k.pem");
	for (int i = 0; i < 4; i++) {
		const char *key = (const char *[]){ "state_dir", "runtime_dir", "tls_cert", "tls_key" }[i];

		ck_assert_int_eq(set(&cfg, key, "relative/path"), -EINVAL);
		ck_assert_int_eq(set(&cfg, key, ""), -EINVAL);
	}
	ck_assert_str_eq(cfg.state_dir, "/srv/hvd");
	ck_assert_int_eq(config_set(&cfg, "tls_key", "k.pem", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "tls_key: must be an absolute path of at most 256 bytes");

	memset(name, 'n', 63);
	name[63] = '\0';
	ck_assert_int_eq(set(&cfg, "host_name", name), 0);
	ck_assert_str_eq(cfg.host_name, name);
	ck_assert_int_eq(set(&cfg, "socket_group", "kvm"), 0);
	ck_assert_str_eq(cfg.socket_group, "kvm");
	strcat(name, "n");
	ck_assert_int_eq(set(&cfg, "host_name", name), -EINVAL);
	ck_assert_int_eq(set(&cfg, "socket_group", name), -EINVAL);
	ck_assert_int_eq(set(&cfg, "host_name", ""), -EINVAL);
	ck_assert_int_eq(set(&cfg, "socket_group", ""), -EINVAL);
	ck_assert_uint_eq(strlen(cfg.host_name), 63);
	ck_assert_str_eq(cfg.socket_group, "kvm");
	config_free(&cfg);
}
END_TEST

START_TEST(test_set_listen)
{
	struct hvd_config cfg;
	char err[256];

	ck_assert_int_eq(config_defaults(&cfg), 0);
	ck_assert_int_eq(set(&cfg, "listen", "unix:/run/hvd/hvd.sock"), 0);
	ck_assert_int_eq(set(&cfg, "listen", "tcp:0.0.0.0:8443"), 0);
	ck_assert_int_eq(set(&cfg, "listen", "unix:relative.sock"), -EINVAL);
	ck_assert_int_eq(set(&cfg, "listen", "udp:1.2.3.4:5"), -EINVAL);
	ck_assert_int_eq(set(&cfg, "listen", ""), -EINVAL);
	ck_assert_int_eq(set(&cfg, "listen", "tcp:[::1]:8443"), 0);
	ck_assert_int_eq(set(&cfg, "listen", "unix:/b"), 0);
	ck_assert_int_eq(cfg.n_listen, CONFIG_MAX_LISTEN);
	ck_assert_int_eq(config_set(&cfg, "listen", "unix:/c", err, sizeof(err)), -E2BIG);
	ck_assert_str_eq(err, "listen: at most 4 addresses");
	ck_assert_int_eq(cfg.n_listen, CONFIG_MAX_LISTEN);
	ck_assert_str_eq(cfg.listen[0], "unix:/run/hvd/hvd.sock");
	ck_assert_str_eq(cfg.listen[3], "unix:/b");
	config_free(&cfg);
}
END_TEST

START_TEST(test_set_log_level_and_unknown)
{
	struct hvd_config cfg;
	char err[256];

	ck_assert_int_eq(config_defaults(&cfg), 0);
	ck_assert_int_eq(set(&cfg, "log_level", "debug"), 0);
	ck_assert_int_eq(cfg.log_level, LOG_DEBUG);
	ck_assert_int_eq(set(&cfg, "log_level", "3"), 0);
	ck_assert_int_eq(cfg.log_level, LOG_ERR);
	ck_assert_int_eq(set(&cfg, "log_level", "verbose"), -EINVAL);
	ck_assert_int_eq(cfg.log_level, LOG_ERR);
	ck_assert_int_eq(config_set(&cfg, "Log_Level", "info", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "unknown setting 'Log_Level'");
	ck_assert_int_eq(config_set(&cfg, "config_path", "/x", err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(config_set(&cfg, "", "1", err, sizeof(err)), -EINVAL);
	config_free(&cfg);
}
END_TEST

/* ---- config_diff ---- */

START_TEST(test_diff_none)
{
	struct hvd_config a, b;
	char out[256] = "garbage";

	ck_assert_int_eq(config_defaults(&a), 0);
	ck_assert_int_eq(config_defaults(&b), 0);
	ck_assert_int_eq(config_diff(&a, &b, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
	config_free(&a);
	config_free(&b);
}
END_TEST

START_TEST(test_diff_describes_changes)
{
	struct hvd_config a, b;
	char out[1024];

	ck_assert_int_eq(config_defaults(&a), 0);
	ck_assert_int_eq(config_defaults(&b), 0);
	ck_assert_int_eq(set(&b, "cpu_overcommit", "2"), 0);
	ck_assert_int_eq(config_diff(&a, &b, out, sizeof(out)), 1);
	ck_assert_str_eq(out, "cpu_overcommit 4 -> 2");

	ck_assert_int_eq(set(&b, "max_body_bytes", "2048"), 0);
	ck_assert_int_eq(set(&b, "tls_cert", "/etc/c.pem"), 0);
	ck_assert_int_eq(set(&b, "log_level", "debug"), 0);
	ck_assert_int_eq(config_diff(&a, &b, out, sizeof(out)), 4);
	ck_assert_ptr_nonnull(strstr(out, "cpu_overcommit 4 -> 2"));
	ck_assert_ptr_nonnull(strstr(out, "max_body_bytes 1048576 -> 2048"));
	ck_assert_ptr_nonnull(strstr(out, "tls_cert (none) -> /etc/c.pem"));
	ck_assert_ptr_nonnull(strstr(out, "log_level 6 -> 7"));
	/* and the other way round */
	ck_assert_int_eq(config_diff(&b, &a, out, sizeof(out)), 4);
	ck_assert_ptr_nonnull(strstr(out, "tls_cert /etc/c.pem -> (none)"));
	ck_assert_ptr_nonnull(strstr(out, "cpu_overcommit 2 -> 4"));
	config_free(&a);
	config_free(&b);
}
END_TEST

START_TEST(test_diff_listen)
{
	struct hvd_config a, b;
	char out[512];

	ck_assert_int_eq(config_defaults(&a), 0);
	ck_assert_int_eq(config_defaults(&b), 0);
	ck_assert_int_eq(set(&a, "listen", "unix:/a.sock"), 0);
	ck_assert_int_eq(set(&b, "listen", "unix:/a.sock"), 0);
	ck_assert_int_eq(config_diff(&a, &b, out, sizeof(out)), 0);
	ck_assert_int_eq(set(&b, "listen", "tcp:0.0.0.0:8443"), 0);
	ck_assert_int_eq(config_diff(&a, &b, out, sizeof(out)), 1);
	ck_assert_str_eq(out, "listen (1 addresses -> 2)");
	ck_assert_int_eq(set(&a, "listen", "tcp:0.0.0.0:9443"), 0);
	ck_assert_int_eq(config_diff(&a, &b, out, sizeof(out)), 1);
	ck_assert_str_eq(out, "listen tcp:0.0.0.0:9443 -> tcp:0.0.0.0:8443");
	config_free(&a);
	config_free(&b);
}
END_TEST

START_TEST(test_diff_small_buffer)
{
	struct hvd_config a, b;
	char out[16];

	memset(out, 'x', sizeof(out));
	ck_assert_int_eq(config_defaults(&a), 0);
	ck_assert_int_eq(config_defaults(&b), 0);
	ck_assert_int_eq(set(&b, "cpu_overcommit", "2"), 0);
	ck_assert_int_eq(set(&b, "memory_overcommit", "2"), 0);
	ck_assert_int_eq(set(&b, "state_dir", "/a/very/long/state/directory"), 0);
	/* still counts everything; the text is cut, terminated, in bounds */
	ck_assert_int_eq(config_diff(&a, &b, out, 10), 3);
	ck_assert_uint_eq(strlen(out), 9);
	ck_assert_int_eq(out[10], 'x');
	config_free(&a);
	config_free(&b);
}
END_TEST

/* ---- config_diff_needs_restart ---- */

START_TEST(test_restart_only_fixed_settings)
{
	static const struct {
		const char *key, *value;
		bool fixed;
	} cases[] = {
		{ "state_dir", "/srv/x", true },
		{ "runtime_dir", "/run/x", true },
		{ "tls_cert", "/c.pem", true },
		{ "tls_key", "/k.pem", true },
		{ "socket_group", "kvm", true },
		{ "max_connections", "10", true },
		{ "connection_timeout_s", "10", true },
		{ "listen", "tcp:0.0.0.0:1", true },
		{ "max_body_bytes", "4096", false },
		{ "cpu_overcommit", "2", false },
		{ "memory_overcommit", "2", false },
		{ "host_vcpus", "2", false },
		{ "host_memory_mib", "2048", false },
		{ "event_backlog", "50", false },
		{ "log_level", "debug", false },
		{ "host_name", "node9", false },
	};
	char out[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hvd_config a, b;

		ck_assert_int_eq(config_defaults(&a), 0);
		ck_assert_int_eq(config_defaults(&b), 0);
		ck_assert_int_eq(set(&b, cases[i].key, cases[i].value), 0);
		ck_assert_msg(config_diff(&a, &b, out, sizeof(out)) == 1, "%s: diff %s",
			      cases[i].key, out);
		ck_assert_msg(config_diff_needs_restart(&a, &b, out, sizeof(out)) ==
			      (cases[i].fixed ? 1 : 0), "%s: needs restart '%s'", cases[i].key, out);
		if (cases[i].fixed)
			ck_assert_msg(strncmp(out, cases[i].key, strlen(cases[i].key)) == 0,
				      "%s: '%s'", cases[i].key, out);
		else
			ck_assert_str_eq(out, "");
		config_free(&a);
		config_free(&b);
	}
}
END_TEST

START_TEST(test_restart_mixed)
{
	struct hvd_config a, b;
	char out[512];

	ck_assert_int_eq(config_defaults(&a), 0);
	ck_assert_int_eq(config_defaults(&b), 0);
	ck_assert_int_eq(set(&a, "listen", "unix:/a.sock"), 0);
	ck_assert_int_eq(set(&b, "listen", "unix:/b.sock"), 0);
	ck_assert_int_eq(set(&b, "cpu_overcommit", "8"), 0);
	ck_assert_int_eq(set(&b, "state_dir", "/srv/hvd"), 0);
	ck_assert_int_eq(set(&b, "log_level", "err"), 0);
	ck_assert_int_eq(config_diff(&a, &b, out, sizeof(out)), 4);
	ck_assert_int_eq(config_diff_needs_restart(&a, &b, out, sizeof(out)), 2);
	ck_assert_ptr_nonnull(strstr(out, "state_dir "));
	ck_assert_ptr_nonnull(strstr(out, " -> /srv/hvd"));
	ck_assert_ptr_nonnull(strstr(out, "listen unix:/a.sock -> unix:/b.sock"));
	ck_assert_ptr_null(strstr(out, "cpu_overcommit"));
	ck_assert_ptr_null(strstr(out, "log_level"));
	/* neither side was modified by the comparison */
	ck_assert(b.cpu_overcommit == 8.0);
	ck_assert_str_eq(b.listen[0], "unix:/b.sock");
	ck_assert_str_eq(a.listen[0], "unix:/a.sock");
	config_free(&a);
	config_free(&b);
}
END_TEST

/* ---- config_copy / config_free ---- */

START_TEST(test_copy_is_deep)
{
	struct hvd_config a, b;
	char out[256];

	ck_assert_int_eq(config_defaults(&a), 0);
	ck_assert_int_eq(set(&a, "listen", "unix:/a.sock"), 0);
	ck_assert_int_eq(set(&a, "tls_key", "/k.pem"), 0);
	a.config_path = strdup("/etc/hvd/hvd.conf");
	ck_assert_ptr_nonnull(a.config_path);
	ck_assert_int_eq(config_copy(&b, &a), 0);
	ck_assert_int_eq(config_diff(&a, &b, out, sizeof(out)), 0);
	ck_assert_ptr_ne(a.state_dir, b.state_dir);
	ck_assert_ptr_ne(a.listen[0], b.listen[0]);
	ck_assert_ptr_ne(a.config_path, b.config_path);
	ck_assert_str_eq(b.config_path, "/etc/hvd/hvd.conf");
	ck_assert_ptr_null(b.tls_cert);
	ck_assert_str_eq(b.tls_key, "/k.pem");
	/* the original outlives the copy */
	config_free(&b);
	ck_assert_str_eq(a.listen[0], "unix:/a.sock");
	ck_assert_str_eq(a.tls_key, "/k.pem");
	ck_assert_str_eq(a.config_path, "/etc/hvd/hvd.conf");
	config_free(&a);
}
END_TEST

START_TEST(test_free_twice_and_null)
{
	struct hvd_config cfg;

	config_free(NULL);
	ck_assert_int_eq(config_defaults(&cfg), 0);
	config_free(&cfg);
	ck_assert_ptr_null(cfg.state_dir);
	ck_assert_int_eq(cfg.n_listen, 0);
	config_free(&cfg);
}
END_TEST

/* ---- log_level_parse (daemon/log.c) ---- */

START_TEST(test_log_level_parse)
{
	static const struct {
		const char *s;
		int want;
	} cases[] = {
		{ "emerg", LOG_EMERG }, { "alert", LOG_ALERT }, { "crit", LOG_CRIT },
		{ "err", LOG_ERR }, { "error", LOG_ERR }, { "warning", LOG_WARNING },
		{ "warn", LOG_WARNING }, { "notice", LOG_NOTICE }, { "info", LOG_INFO },
		{ "debug", LOG_DEBUG }, { "DEBUG", LOG_DEBUG }, { "Info", LOG_INFO },
		{ "0", 0 }, { "7", 7 }, { "4", LOG_WARNING },
		{ "8", -EINVAL }, { "9", -EINVAL }, { "-1", -EINVAL }, { "07", -EINVAL },
		{ "10", -EINVAL }, { "", -EINVAL }, { "infos", -EINVAL }, { "inf", -EINVAL },
		{ " info", -EINVAL }, { "trace", -EINVAL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(log_level_parse(cases[i].s) == cases[i].want, "'%s': got %d, want %d",
			      cases[i].s, log_level_parse(cases[i].s), cases[i].want);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("config_defaults");
	tcase_add_test(tc, test_defaults_root);
	tcase_add_test(tc, test_defaults_user);
	suite_add_tcase(s, tc);

	tc = tcase_create("config_load_file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_load_full_file);
	tcase_add_test(tc, test_load_empty_file_keeps_defaults);
	tcase_add_test(tc, test_load_listen_replaces);
	tcase_add_test(tc, test_load_errors_name_the_line);
	tcase_add_test(tc, test_load_line_too_long);
	tcase_add_test(tc, test_load_missing_file);
	tcase_add_test(tc, test_load_read_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("config_set");
	tcase_add_test(tc, test_set_numbers_in_range);
	tcase_add_test(tc, test_set_ratios);
	tcase_add_test(tc, test_set_strings);
	tcase_add_test(tc, test_set_listen);
	tcase_add_test(tc, test_set_log_level_and_unknown);
	suite_add_tcase(s, tc);

	tc = tcase_create("config_diff");
	tcase_add_test(tc, test_diff_none);
	tcase_add_test(tc, test_diff_describes_changes);
	tcase_add_test(tc, test_diff_listen);
	tcase_add_test(tc, test_diff_small_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("config_diff_needs_restart");
	tcase_add_test(tc, test_restart_only_fixed_settings);
	tcase_add_test(tc, test_restart_mixed);
	suite_add_tcase(s, tc);

	tc = tcase_create("config_copy");
	tcase_add_test(tc, test_copy_is_deep);
	suite_add_tcase(s, tc);

	tc = tcase_create("config_free");
	tcase_add_test(tc, test_free_twice_and_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("log_level_parse");
	tcase_add_test(tc, test_log_level_parse);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	SRunner *sr;
	int failed;

	snprintf(base, sizeof(base), "%s/hvd-test-config-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(base)) {
		perror("test-config: mkdtemp");
		return EXIT_FAILURE;
	}
	sr = srunner_create(config_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rm_rf(base);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* main.c - hvd: the control plane daemon (the module hvd-daemon.so, which
 * the hvd executable loads for everything but `hvd vmm`, see launch.c).
 *
 * Start-up order: configuration (defaults < file < flags), directories and
 * the state lock, SQLite (migrated), this host's row, recovery of what a
 * previous daemon left (operations in flight, half-made disk copies), then
 * the API. Everything after start-up happens on the libuv loop. SIGTERM
 * and SIGINT stop in order; SIGHUP reloads the configuration file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/schema.h"
#include "config.h"
#include "events.h"
#include "hvd.h"
#include "log.h"
#include "notify.h"
#include "ops.h"
#include "store/store.h"
#include "supervisor.h"
#include "vm-disks.h"

#define MAX_OVERRIDES 32

/* flags given on the command line, re-applied over the file on reload */
static struct {
	const char *key;
	const char *value;
} overrides[MAX_OVERRIDES];
static int n_overrides;
static bool config_given;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: hvd [OPTIONS]\n"
		"       hvd vmm [VMM OPTIONS]    (run one VM; see hvd vmm --help)\n"
		"\n"
		"hvd is the hypervisor management daemon: it keeps VM definitions and\n"
		"resource allocations in SQLite and serves the REST API v1 that hvadm uses.\n"
		"\n"
		"Options (they override the configuration file):\n"
		"  -c, --config FILE        configuration file (default %s, if it exists)\n"
		"      --state-dir DIR      durable state: database, disks (root: /var/lib/hvd)\n"
		"      --runtime-dir DIR    sockets and VM runtime files (root: /run/hvd)\n"
		"  -l, --listen ADDR        unix:PATH or tcp:HOST:PORT; repeatable\n"
		"                           (default unix:RUNTIME_DIR/hvd.sock)\n"
		"      --tls-cert FILE      PEM certificate for TCP listeners (required for TCP)\n"
		"      --tls-key FILE       PEM private key for TCP listeners\n"
		"      --log-level LEVEL    err, warning, notice, info (default) or debug\n"
		"  -h, --help               show this help\n"
		"  -V, --version            show the version\n"
		"\n"
		"Signals: SIGTERM/SIGINT stop the daemon; SIGHUP reloads the configuration file.\n"
		"Logs go to stderr with syslog priority prefixes (<3>, <6>, ...) for journald.\n",
		CONFIG_DEFAULT_PATH);
}

static int add_override(const char *key, const char *value)
{
	if (n_overrides == MAX_OVERRIDES)
		return -E2BIG;
	overrides[n_overrides].key = key;
	overrides[n_overrides].value = value;
	n_overrides++;
	return 0;
}

/* defaults, then the file, then the flags */
static int build_config(struct hvd_config *cfg, const char *path)
{
	char err[512];
	bool listen_reset = false;
	int r;

	r = config_defaults(cfg);
	if (r < 0)
		return r;
	if (path) {
		r = config_load_file(cfg, path, err, sizeof(err));
		if (r == -ENOENT && !config_given) {
			r = 0; /* the default file is optional */
		} else if (r < 0) {
			log_error("config: %s", err);
			goto fail;
		}
		cfg->config_path = strdup(path);
	}
	for (int i = 0; i < n_overrides; i++) {
		if (strcmp(overrides[i].key, "listen") == 0 && !listen_reset) {
			for (int k = 0; k < cfg->n_listen; k++) {
				free(cfg->listen[k]);
				cfg->listen[k] = NULL;
			}
			cfg->n_listen = 0;
			listen_reset = true;
		}
		r = config_set(cfg, overrides[i].key, overrides[i].value, err, sizeof(err));
		if (r < 0) {
			log_error("--%s: %s", overrides[i].key, err);
			goto fail;
		}
	}
	if (cfg->n_listen == 0) {
		char buf[PATH_MAX + 8];

		snprintf(buf, sizeof(buf), "unix:%s/hvd.sock", cfg->runtime_dir);
		r = config_set(cfg, "listen", buf, err, sizeof(err));
		if (r < 0)
			goto fail;
	}
	return 0;
fail:
	config_free(cfg);
	return r;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static uint64_t host_memory_mib(void)
{
	unsigned long long kb = 0;
	char line[256];
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb / 1024;
}

/* Registers or refreshes this host's row from the configuration. */
static int register_host(struct hvd *hvd)
{
	struct store_host h = { 0 }, old;
	char name[64];
	int r;

	r = store_meta_get(hvd->store, "host_id", hvd->host_id, sizeof(hvd->host_id));
	if (r == -ENOENT) {
		hvd_uuid(hvd->host_id);
		r = store_meta_set(hvd->store, "host_id", hvd->host_id);
	}
	if (r < 0)
		return r;
	if (hvd->cfg.host_name) {
		snprintf(hvd->host_name, sizeof(hvd->host_name), "%s", hvd->cfg.host_name);
	} else {
		if (gethostname(name, sizeof(name)) < 0 || !name[0])
			snprintf(name, sizeof(name), "localhost");
		name[sizeof(name) - 1] = '\0';
		snprintf(hvd->host_name, sizeof(hvd->host_name), "%s", name);
	}
	snprintf(h.id, sizeof(h.id), "%s", hvd->host_id);
	snprintf(h.name, sizeof(h.name), "%s", hvd->host_name);
	snprintf(h.state, sizeof(h.state), "up");
	h.local = true;
	h.cap_vcpus = hvd->cfg.host_vcpus ? hvd->cfg.host_vcpus : (uint64_t)sysconf(_SC_NPROCESSORS_ONLN);
	h.cap_memory_mib = hvd->cfg.host_memory_mib ? hvd->cfg.host_memory_mib : host_memory_mib();
	h.cpu_overcommit = hvd->cfg.cpu_overcommit;
	h.memory_overcommit = hvd->cfg.memory_overcommit;
	h.created_at = store_host_get(hvd->store, h.id, &old) == 0 ? old.created_at : store_now_ms();
	return store_host_put(hvd->store, &h);
}

/* Removes the state files of live clones a previous daemon was making
 * (runtime_dir/clone-<id>.state); the clones that did start have read
 * theirs. */
static void sweep_clone_states(struct hvd *hvd)
{
	struct dirent *de;
	DIR *d = opendir(hvd->cfg.runtime_dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (strncmp(de->d_name, "clone-", 6) || n < 6 || strcmp(de->d_name + n - 6, ".state"))
			continue;
		log_notice("recovery: removing %s/%s left by an interrupted clone",
			   hvd->cfg.runtime_dir, de->d_name);
		unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

/* Guest RAM is a memfd marked MADV_HUGEPAGE; it gets 2 MiB pages only
 * when the host allows them for shared memory (hvd's tmpfiles.d entry sets
 * "advise"). Without them guests run slower and a live clone's pause grows
 * with RAM size: say so once at start. */
static void check_shmem_thp(void)
{
	char buf[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/shmem_enabled", "re");

	if (!f)
		return;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	if (strstr(buf, "[never]") || strstr(buf, "[deny]"))
		log_notice("guest RAM gets no 2 MiB pages: transparent_hugepage/shmem_enabled is "
			   "'never' (set it to 'advise', as hvd's tmpfiles.d entry does): guests run "
			   "slower and live clones pause their source ~60 ms per GiB of RAM");
}

static void reload(struct hvd *hvd)
{
	struct hvd_config fresh;
	char diff[2048];
	int n;

	if (build_config(&fresh, hvd->cfg.config_path) < 0) {
		log_error("reload: keeping the current configuration");
		return;
	}
	n = config_diff(&hvd->cfg, &fresh, diff, sizeof(diff));
	if (n == 0) {
		log_info("reload: %s: nothing changed", hvd->cfg.config_path ? hvd->cfg.config_path : "(no file)");
		config_free(&fresh);
		sup_config_changed(hvd->sup);   /* the VM user may exist now */
		return;
	}
	log_notice("reload: %s", diff);
	if (config_diff_needs_restart(&hvd->cfg, &fresh, diff, sizeof(diff)) > 0)
		log_warning("reload: %s take effect only after a restart", diff);
	/* apply what can change live; keep what the running daemon is bound to */
	hvd->cfg.max_body_bytes = fresh.max_body_bytes;
	hvd->cfg.cpu_overcommit = fresh.cpu_overcommit;
	hvd->cfg.memory_overcommit = fresh.memory_overcommit;
	hvd->cfg.host_vcpus = fresh.host_vcpus;
	hvd->cfg.host_memory_mib = fresh.host_memory_mib;
	hvd->cfg.event_backlog = fresh.event_backlog;
	hvd->cfg.log_level = fresh.log_level;
	hvd->cfg.standby_vmms = fresh.standby_vmms;
	sup_config_changed(hvd->sup);
	free(hvd->cfg.host_name);
	hvd->cfg.host_name = fresh.host_name;
	fresh.host_name = NULL;
	log_set_level(hvd->cfg.log_level);
	if (register_host(hvd) < 0)
		log_error("reload: cannot update this host's capacity: %s", store_errmsg(hvd->store));
	config_free(&fresh);
}

static void count_vm(const char *state, int64_t n, void *ud)
{
	int64_t *c = ud;

	c[0] += n;
	if (strcmp(state, "running") == 0)
		c[1] += n;
}

/* READY=1 with a STATUS line systemctl status shows */
static void notify_ready_status(struct hvd *hvd)
{
	int64_t c[2] = { 0, 0 };
	char status[200];

	store_vm_count_states(hvd->store, count_vm, c);
	snprintf(status, sizeof(status), "%lld VMs defined, %lld running", (long long)c[0], (long long)c[1]);
	notify_ready(status);
}

/* VMs keep running unless stop_vms_on_shutdown stopped them: only our
 * side of their control sockets closes */
static void finish_shutdown(void *ud)
{
	struct hvd *hvd = ud;

	sup_shutdown(hvd->sup);
	hvd->sup = NULL;
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct hvd *hvd = s->data;

	if (signum == SIGHUP) {
		notify_reloading();
		reload(hvd);
		notify_ready_status(hvd);
		return;
	}
	if (hvd->stopping)
		return;
	log_notice("received %s, stopping", strsignal(signum));
	notify_stopping();
	hvd->stopping = true;
	hvd->api = api_server_stop(hvd->api);
	ops_runtime_shutdown(hvd->ops);
	uv_close((uv_handle_t *)&hvd->sig_term, NULL);
	uv_close((uv_handle_t *)&hvd->sig_int, NULL);
	uv_close((uv_handle_t *)&hvd->sig_hup, NULL);
	if (hvd->cfg.stop_vms_on_shutdown && sup_count_running(hvd->sup) > 0) {
		log_notice("stopping %d VM(s) first (stop_vms_on_shutdown), forcing after %u s",
			   sup_count_running(hvd->sup), hvd->cfg.shutdown_timeout_s);
		sup_stop_all(hvd->sup, hvd->cfg.shutdown_timeout_s, finish_shutdown, hvd);
	} else {
		finish_shutdown(hvd);
	}
}

static int lock_state_dir(const char *dir)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/hvd.lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int r = -errno;

		close(fd);
		return r == -EWOULDBLOCK ? -EBUSY : r;
	}
	return fd; /* held for the life of the process */
}

int hvd_daemon_main(int argc, char **argv);

__attribute__((visibility("default"))) int hvd_daemon_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "runtime-dir", required_argument, NULL, 'r' },
		{ "listen", required_argument, NULL, 'l' },
		{ "tls-cert", required_argument, NULL, 'C' },
		{ "tls-key", required_argument, NULL, 'K' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *config_path = CONFIG_DEFAULT_PATH;
	struct hvd hvd = { 0 };
	char dbpath[PATH_MAX];
	int c, r, lock_fd;

	while ((c = getopt_long(argc, argv, "c:l:hV", opts, NULL)) != -1) {
		r = 0;
		switch (c) {
		case 'c':
			config_path = optarg;
			config_given = true;
			break;
		case 's':
			r = add_override("state_dir", optarg);
			break;
		case 'r':
			r = add_override("runtime_dir", optarg);
			break;
		case 'l':
			r = add_override("listen", optarg);
			break;
		case 'C':
			r = add_override("tls_cert", optarg);
			break;
		case 'K':
			r = add_override("tls_key", optarg);
			break;
		case 'L':
			r = add_override("log_level", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("hvd %s\n", HVD_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (r < 0) {
			fprintf(stderr, "hvd: too many options\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hvd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	signal(SIGPIPE, SIG_IGN);
	if (build_config(&hvd.cfg, config_path) < 0)
		return 1;
	log_set_level(hvd.cfg.log_level);

	if ((r = mkdir_p(hvd.cfg.state_dir, 0700)) < 0) {
		log_error("cannot create state dir %s: %s", hvd.cfg.state_dir, strerror(-r));
		return 1;
	}
	if ((r = mkdir_p(hvd.cfg.runtime_dir, 0755)) < 0) {
		log_error("cannot create runtime dir %s: %s", hvd.cfg.runtime_dir, strerror(-r));
		return 1;
	}
	lock_fd = lock_state_dir(hvd.cfg.state_dir);
	if (lock_fd < 0) {
		log_error("state dir %s: %s", hvd.cfg.state_dir,
			  lock_fd == -EBUSY ? "another hvd is using it" : strerror(-lock_fd));
		return 1;
	}
	if ((r = schema_init()) < 0) {
		log_error("cannot load the built-in JSON schemas: %s", strerror(-r));
		return 1;
	}

	snprintf(dbpath, sizeof(dbpath), "%s/hvd.db", hvd.cfg.state_dir);
	r = store_open(dbpath, &hvd.store);
	if (r < 0) {
		log_error("cannot open %s: %s", dbpath,
			  r == -EPROTO ? "it was written by a newer hvd" : strerror(-r));
		return 1;
	}
	if ((r = register_host(&hvd)) < 0) {
		log_error("cannot register this host: %s", store_errmsg(hvd.store));
		return 1;
	}
	r = store_op_fail_running(hvd.store, "interrupted: the daemon restarted while it ran");
	if (r > 0)
		log_notice("recovery: %d operation(s) interrupted by the previous daemon marked failed", r);
	/* disk copies a clone was making when the previous daemon died */
	vm_dirs_sweep_orphans(&hvd, "disks", "the half-made disks", vm_disks_remove_dir);
	sweep_clone_states(&hvd);
	check_shmem_thp();
	api_snapshots_recover(&hvd);

	hvd.loop = uv_default_loop();
	hvd.started_at_ms = store_now_ms();
	if (events_hub_new(&hvd, &hvd.events) < 0 || ops_runtime_new(&hvd, &hvd.ops) < 0 ||
	    sup_new(&hvd, &hvd.sup) < 0) {
		log_error("out of memory");
		return 1;
	}
	sup_reattach_all(hvd.sup);
	sup_autostart(hvd.sup);
	r = api_server_start(&hvd, &hvd.api);
	if (r < 0)
		return 1;

	uv_signal_init(hvd.loop, &hvd.sig_term);
	uv_signal_init(hvd.loop, &hvd.sig_int);
	uv_signal_init(hvd.loop, &hvd.sig_hup);
	hvd.sig_term.data = hvd.sig_int.data = hvd.sig_hup.data = &hvd;
	uv_signal_start(&hvd.sig_term, on_signal, SIGTERM);
	uv_signal_start(&hvd.sig_int, on_signal, SIGINT);
	uv_signal_start(&hvd.sig_hup, on_signal, SIGHUP);

	log_info("hvd %s ready: host %s (%s), state %s", HVD_VERSION, hvd.host_name, hvd.host_id,
		 hvd.cfg.state_dir);
	notify_ready_status(&hvd);
	uv_run(hvd.loop, UV_RUN_DEFAULT);

	uv_loop_close(hvd.loop);
	hvd.ops = ops_runtime_free(hvd.ops);
	hvd.events = events_hub_free(hvd.events);
	hvd.store = store_close(hvd.store);
	schema_fini();
	config_free(&hvd.cfg);
	close(lock_fd);
	log_info("stopped");
	return 0;
}

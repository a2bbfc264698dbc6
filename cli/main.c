/* main.c - hvadm, the command-line client of hvd: global options, finding the daemon, dispatch.
 *
 * Where the daemon is, in order: --socket or --url (not both), then HVD_URL, then HVD_SOCKET,
 * then the default socket: /run/hvd/hvd.sock for root; for other users
 * $XDG_RUNTIME_DIR/hvd/hvd.sock (a per-user daemon), or the system socket when only that one
 * exists (users in group hvd). Global options end at the command name; what follows belongs to
 * the command. Nothing connects before a command needs it, so help and usage errors work without
 * a daemon. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "cmd-table.h"

#define SYSTEM_SOCKET "/run/hvd/hvd.sock"

static bool is_socket(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* The default socket path (see the top of the file); malloc'd, NULL on out of memory. */
static char *default_socket(void)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char *p;

	if (geteuid() == 0 || !xdg || !*xdg)
		return strdup(SYSTEM_SOCKET);
	if (asprintf(&p, "%s/hvd/hvd.sock", xdg) < 0)
		return NULL;
	if (!is_socket(p) && is_socket(SYSTEM_SOCKET)) {
		free(p);
		return strdup(SYSTEM_SOCKET);
	}
	return p;
}

static int main_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int main_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("hvadm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nRun `hvadm --help` for the options and commands.\n", stderr);
	return HVADM_EXIT_USAGE;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "url", required_argument, NULL, 'U' },
		{ "token", required_argument, NULL, 'T' },
		{ "output", required_argument, NULL, 'o' },
		{ "cacert", required_argument, NULL, 'A' },
		{ "insecure", no_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	struct hvadm_conn conn = { 0 };
	struct hvadm_ctx ctx = { .output = HVADM_OUTPUT_TABLE };
	_cleanup_free_ char *socket_path = NULL;
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'S': conn.socket_path = optarg; break;
		case 'U': conn.url = optarg; break;
		case 'T': conn.token = optarg; break;
		case 'A': conn.cacert = optarg; break;
		case 'K': conn.insecure = true; break;
		case 'o':
			if (strcmp(optarg, "json") == 0)
				ctx.output = HVADM_OUTPUT_JSON;
			else if (strcmp(optarg, "table") == 0)
				ctx.output = HVADM_OUTPUT_TABLE;
			else
				return main_usage_error("-o '%s': expected table or json", optarg);
			break;
		case 'h':
			hvadm_print_main_help(stdout);
			return HVADM_EXIT_OK;
		case 'V':
			printf("hvadm %s\n", HVD_VERSION);
			return HVADM_EXIT_OK;
		case ':':
			return main_usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return main_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return main_usage_error("missing command\nusage: hvadm [OPTIONS] COMMAND [ARGS]...");
	if (conn.socket_path && conn.url)
		return main_usage_error("give --socket or --url, not both");
	if (!conn.socket_path && !conn.url) {
		conn.url = env("HVD_URL");
		if (!conn.url)
			conn.socket_path = env("HVD_SOCKET");
	}
	if (!conn.token)
		conn.token = env("HVD_TOKEN");
	if (!conn.socket_path && !conn.url) {
		socket_path = default_socket();
		if (!socket_path)
			return hvadm_fail("out of memory");
		conn.socket_path = socket_path;
	}
	if (conn.url && conn.token && strncmp(conn.url, "http://", 7) == 0)
		fprintf(stderr, "hvadm: warning: sending the token over plain http:// (%s)\n",
			conn.url);

	r = hvadm_http_new(&conn, &ctx.http);
	if (r < 0)
		return hvadm_fail("cannot set up the HTTP client: %s", strerror(-r));
	ctx.tty = isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
	r = hvadm_cmd_run(&ctx, hvadm_commands, argc - optind, argv + optind);
	hvadm_http_free(ctx.http);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "hvadm: writing the output failed\n");
		return r ? r : HVADM_EXIT_FAIL;
	}
	return r;
}

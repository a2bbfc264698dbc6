/* cmd-table.h - hvadm's command table (vmctl style: name, handler, usage) and what every command
 * handler shares: the context, option parsing, usage and failure reporting. */
#ifndef HVADM_CMD_TABLE_H
#define HVADM_CMD_TABLE_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "http.h"

/* Command handlers return the process exit status, not -errno: the status is what the user and
 * scripts see, and each handler is the one place that knows which of these applies. */
enum hvadm_exit {
	HVADM_EXIT_OK = 0,
	HVADM_EXIT_FAIL = 1,		/* the daemon refused, or could not be reached */
	HVADM_EXIT_USAGE = 2,		/* bad command line */
	HVADM_EXIT_INTERRUPTED = 130,	/* Ctrl-C while waiting for an operation */
};

enum hvadm_output {
	HVADM_OUTPUT_TABLE,
	HVADM_OUTPUT_JSON,
};

struct hvadm_ctx;

struct hvadm_cmd {
	const char *name;
	/* argv[0] is the command's name; options may come before or after operands. */
	int (*handler)(struct hvadm_ctx *ctx, int argc, char **argv);
	const char *usage;	/* synopsis, one "hvadm ..." line per form */
	const char *summary;	/* one line for `hvadm --help` */
	const char *help;	/* description, options, examples */
	const struct hvadm_cmd *subcmds;	/* ends with a NULL name; NULL when none */
};

struct hvadm_ctx {
	struct hvadm_http *http;
	enum hvadm_output output;
	const struct hvadm_cmd *cmd;	/* the command being run */
	char cmd_path[64];		/* its full name: "snapshot create" */
	bool tty;			/* stdout and stderr are terminals: progress may be drawn */
};

extern const struct hvadm_cmd hvadm_commands[];

/* The command called name in table (NULL-name terminated), or NULL. */
const struct hvadm_cmd *hvadm_cmd_find(const struct hvadm_cmd *table, const char *name);

/* Runs argv[0] from table, descending into subcommands. Unknown command: usage error. */
int hvadm_cmd_run(struct hvadm_ctx *ctx, const struct hvadm_cmd *table, int argc, char **argv);

/* Full help of a command (synopsis, text, subcommands) to f. path is its full name. */
void hvadm_cmd_print_help(const struct hvadm_cmd *cmd, const char *path, FILE *f);

/* `hvadm --help`: global options and one line per command. */
void hvadm_print_main_help(FILE *f);

/* `hvadm help [CMD [SUBCMD]]`. */
int hvadm_cmd_help(struct hvadm_ctx *ctx, int argc, char **argv);

/* getopt_long for a command: shortopts must start with ':' and include 'h'. Returns the option,
 * -1 after the last, or '?' after printing what is wrong and the usage (the handler then returns
 * HVADM_EXIT_USAGE). Set optind = 0 before the first call (hvadm_cmd_run does). */
int hvadm_getopt(struct hvadm_ctx *ctx, int argc, char **argv, const char *shortopts,
		 const struct option *longopts);

/* The cases every option switch ends with. */
#define HVADM_OPT_COMMON_CASES	\
	case 'h':		\
		return hvadm_help(ctx); \
	default:		\
		return HVADM_EXIT_USAGE

/* Prints the command's help to stdout; returns HVADM_EXIT_OK. */
int hvadm_help(struct hvadm_ctx *ctx);

/* Prints "hvadm CMD: <message>" (when fmt is not NULL) and the command's synopsis to stderr;
 * returns HVADM_EXIT_USAGE. */
int hvadm_usage_error(struct hvadm_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Checks the number of operands left after the options (argc - optind) is in [min, max]. Returns
 * 0, or prints a usage error and returns HVADM_EXIT_USAGE. */
int hvadm_operands(struct hvadm_ctx *ctx, int argc, char **argv, int min, int max);

/* Prints "hvadm: <message>" to stderr and returns HVADM_EXIT_FAIL. */
int hvadm_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reports a request that got no answer (r < 0 from hvadm_http_*): the transport's reason.
 * Returns HVADM_EXIT_FAIL, or HVADM_EXIT_INTERRUPTED for -EINTR. */
int hvadm_fail_transport(struct hvadm_ctx *ctx, int r);

/* Reports an error answer: "hvadm: SUBJECT: message (code, field F)". subject may be NULL.
 * Returns HVADM_EXIT_FAIL. */
int hvadm_fail_response(const char *subject, const struct hvadm_response *resp);

/* GET path and, on a 2xx JSON answer, hand the body to *ret. Otherwise report (as the two
 * functions above) and return the exit status; 0 on success. */
int hvadm_get_json(struct hvadm_ctx *ctx, const char *path, const char *subject, json_t **ret);

/* Command handlers, one group per file. */
int hvadm_cmd_list(struct hvadm_ctx *ctx, int argc, char **argv);
int hvadm_cmd_show(struct hvadm_ctx *ctx, int argc, char **argv);
int hvadm_cmd_create(struct hvadm_ctx *ctx, int argc, char **argv);
int hvadm_cmd_edit(struct hvadm_ctx *ctx, int argc, char **argv);
int hvadm_cmd_delete(struct hvadm_ctx *ctx, int argc, char **argv);
int hvadm_cmd_lifecycle(struct hvadm_ctx *ctx, int argc, char **argv);
int hvadm_cmd_stop(struct hvadm_ctx *ctx, int argc, char **argv);
int hvadm_cmd_console(struct hvadm_ctx *ctx, int argc, char **argv);
int hvadm_cmd_clone(struct hvadm_ctx *ctx, int argc, char **argv);
int hvadm_cmd_snapshot_create(struct hvadm_ctx *ctx, int argc, char **argv);
int hvadm_cmd_snapshot_list(struct hvadm_ctx *ctx, int argc, char **argv);
int hvadm_cmd_snapshot_restore(struct hvadm_ctx *ctx, int argc, char **argv);
int hvadm_cmd_snapshot_delete(struct hvadm_ctx *ctx, int argc, char **argv);
int hvadm_cmd_migrate(struct hvadm_ctx *ctx, int argc, char **argv);
int hvadm_cmd_ops(struct hvadm_ctx *ctx, int argc, char **argv);
int hvadm_cmd_wait(struct hvadm_ctx *ctx, int argc, char **argv);
int hvadm_cmd_events(struct hvadm_ctx *ctx, int argc, char **argv);
int hvadm_cmd_hosts_list(struct hvadm_ctx *ctx, int argc, char **argv);
int hvadm_cmd_hosts_show(struct hvadm_ctx *ctx, int argc, char **argv);
int hvadm_cmd_hosts_add(struct hvadm_ctx *ctx, int argc, char **argv);
int hvadm_cmd_hosts_remove(struct hvadm_ctx *ctx, int argc, char **argv);
int hvadm_cmd_token_create(struct hvadm_ctx *ctx, int argc, char **argv);
int hvadm_cmd_token_list(struct hvadm_ctx *ctx, int argc, char **argv);
int hvadm_cmd_token_revoke(struct hvadm_ctx *ctx, int argc, char **argv);
int hvadm_cmd_version(struct hvadm_ctx *ctx, int argc, char **argv);

#endif

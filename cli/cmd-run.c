/* cmd-run.c - running a command from the table: dispatch to subcommands, option parsing, help,
 * and the three ways a command ends badly (usage error, transport failure, daemon refusal), each
 * with its exit status.
 *
 * All messages go to stderr and start with "hvadm:" (or "hvadm CMD:" for usage errors) so they
 * are told apart from output on stdout, which stays parseable. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cmd-table.h"

const struct hvadm_cmd *hvadm_cmd_find(const struct hvadm_cmd *table, const char *name)
{
	for (const struct hvadm_cmd *c = table; c && c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* Prints usage lines, the first after "usage: ", each form prefixed with "hvadm ". */
static void print_usage(const char *usage, FILE *f)
{
	const char *p = usage;
	bool first = true;

	while (*p) {
		size_t n = strcspn(p, "\n");

		fputs(first ? "usage: " : "       ", f);
		if (*p != ' ')
			fputs("hvadm ", f);
		fwrite(p, 1, n, f);
		fputc('\n', f);
		first = false;
		p += n;
		if (*p == '\n')
			p++;
	}
}

void hvadm_cmd_print_help(const struct hvadm_cmd *cmd, const char *path, FILE *f)
{
	print_usage(cmd->usage, f);
	fputc('\n', f);
	fputs(cmd->help, f);
	if (cmd->subcmds) {
		fputs("\nSubcommands:\n", f);
		for (const struct hvadm_cmd *s = cmd->subcmds; s->name; s++)
			fprintf(f, "  %-10s %s\n", s->name, s->summary);
	}
	fputs("\nGlobal options (--socket, --url, --token, -o json, ...) go before the command;\n"
	      "see `hvadm --help`.\n", f);
}

int hvadm_help(struct hvadm_ctx *ctx)
{
	hvadm_cmd_print_help(ctx->cmd, ctx->cmd_path, stdout);
	return HVADM_EXIT_OK;
}

int hvadm_usage_error(struct hvadm_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		fprintf(stderr, "hvadm %s: ", ctx->cmd_path);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	print_usage(ctx->cmd->usage, stderr);
	fprintf(stderr, "Run `hvadm help %s` for more.\n", ctx->cmd_path);
	return HVADM_EXIT_USAGE;
}

int hvadm_operands(struct hvadm_ctx *ctx, int argc, char **argv, int min, int max)
{
	int n = argc - optind;

	if (n < min)
		return hvadm_usage_error(ctx, "missing argument%s", min - n > 1 ? "s" : "");
	if (n > max)
		return hvadm_usage_error(ctx, "unexpected argument '%s'", argv[optind + max]);
	return 0;
}

int hvadm_getopt(struct hvadm_ctx *ctx, int argc, char **argv, const char *shortopts,
		 const struct option *longopts)
{
	const char *arg;
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (c != '?' && c != ':')
		return c;
	arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	if (c == ':')
		hvadm_usage_error(ctx, "option '%s' needs a value", arg);
	else if (strncmp(arg, "--", 2) == 0 || !optopt)
		hvadm_usage_error(ctx, "unknown option '%s'", arg);
	else
		hvadm_usage_error(ctx, "unknown option '-%c'", optopt);
	return '?';
}

int hvadm_cmd_run(struct hvadm_ctx *ctx, const struct hvadm_cmd *table, int argc, char **argv)
{
	const struct hvadm_cmd *cmd = hvadm_cmd_find(table, argv[0]);
	size_t used = strlen(ctx->cmd_path);

	if (!cmd) {
		if (ctx->cmd)
			return hvadm_usage_error(ctx, "unknown subcommand '%s'", argv[0]);
		fprintf(stderr, "hvadm: unknown command '%s'\nRun `hvadm --help` for the list of "
			"commands.\n", argv[0]);
		return HVADM_EXIT_USAGE;
	}
	snprintf(ctx->cmd_path + used, sizeof(ctx->cmd_path) - used, "%s%s", used ? " " : "",
		 cmd->name);
	ctx->cmd = cmd;
	if (cmd->subcmds && argc > 1 && argv[1][0] != '-' &&
	    (hvadm_cmd_find(cmd->subcmds, argv[1]) || !cmd->handler))
		return hvadm_cmd_run(ctx, cmd->subcmds, argc - 1, argv + 1);
	if (!cmd->handler) {
		if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
			return hvadm_help(ctx);
		return hvadm_usage_error(ctx, "missing subcommand");
	}
	optind = 0;
	return cmd->handler(ctx, argc, argv);
}

int hvadm_cmd_help(struct hvadm_ctx *ctx, int argc, char **argv)
{
	const struct hvadm_cmd *cmd = NULL, *table = hvadm_commands;
	char path[64] = "";

	if (argc > 1 && argv[1][0] == '-') {
		if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
			return hvadm_help(ctx);
		return hvadm_usage_error(ctx, "unknown option '%s'", argv[1]);
	}
	if (argc == 1) {
		hvadm_print_main_help(stdout);
		return HVADM_EXIT_OK;
	}
	for (int i = 1; i < argc; i++) {
		const struct hvadm_cmd *c = hvadm_cmd_find(table, argv[i]);

		if (!c)
			return hvadm_usage_error(ctx, "no command '%s%s%s'", path, *path ? " " : "",
						 argv[i]);
		cmd = c;
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s%s",
			 *path ? " " : "", c->name);
		table = c->subcmds;
		if (!table && i + 1 < argc)
			return hvadm_usage_error(ctx, "'%s' has no subcommands", path);
	}
	hvadm_cmd_print_help(cmd, path, stdout);
	return HVADM_EXIT_OK;
}

int hvadm_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("hvadm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return HVADM_EXIT_FAIL;
}

int hvadm_fail_transport(struct hvadm_ctx *ctx, int r)
{
	if (r == -EINTR) {
		fputs("hvadm: interrupted\n", stderr);
		return HVADM_EXIT_INTERRUPTED;
	}
	return hvadm_fail("%s", hvadm_http_strerror(ctx->http));
}

/* Whether word occurs in text on its own (not inside a longer name like web01-1). */
static bool mentions(const char *text, const char *word)
{
	size_t n = strlen(word);

	if (n == 0)
		return false;
	for (const char *p = text; (p = strstr(p, word)); p++) {
		char before = p == text ? ' ' : p[-1], after = p[n];

		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789-_.", before ? before : ' ') &&
		    (!after || !strchr("abcdefghijklmnopqrstuvwxyz0123456789-_", after)))
			return true;
	}
	return false;
}

int hvadm_fail_response(const char *subject, const struct hvadm_response *resp)
{
	char why[1024];

	hvadm_http_describe_error(resp, why, sizeof(why));
	/* hvd's messages usually name the VM already: say it once */
	if (subject && !mentions(why, subject))
		return hvadm_fail("%s: %s", subject, why);
	return hvadm_fail("%s", why);
}

int hvadm_get_json(struct hvadm_ctx *ctx, const char *path, const char *subject, json_t **ret)
{
	struct hvadm_response resp = { 0 };
	int r;

	r = hvadm_http_request(ctx->http, "GET", path, NULL, NULL, &resp);
	if (r < 0)
		return hvadm_fail_transport(ctx, r);
	if (resp.status < 200 || resp.status > 299) {
		r = hvadm_fail_response(subject, &resp);
	} else if (!resp.body) {
		r = hvadm_fail("%s: hvd's answer to GET %s is not JSON", hvadm_http_target(ctx->http),
			       path);
	} else {
		*ret = HVADM_TAKE_PTR(resp.body);
		r = HVADM_EXIT_OK;
	}
	hvadm_response_clear(&resp);
	return r;
}

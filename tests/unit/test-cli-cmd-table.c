/* test-cli-cmd-table.c - hvadm's command table (cli/cmd-table.c, cli/cmd-run.c): every command
 * and subcommand has a handler (or subcommands), a usage naming it, a summary and a help with
 * examples; lookups and help printing. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd-table.h"

static void check_entry(const struct hvadm_cmd *c, const char *parent)
{
	char path[64];

	snprintf(path, sizeof(path), "%s%s%s", parent ? parent : "", parent ? " " : "", c->name);
	ck_assert_msg(c->handler || c->subcmds, "%s: neither handler nor subcommands", path);
	ck_assert_msg(c->usage && strncmp(c->usage, path, strlen(path)) == 0,
		      "%s: usage does not start with its name", path);
	ck_assert_msg(c->summary && *c->summary && !strchr(c->summary, '\n'),
		      "%s: summary must be one line", path);
	ck_assert_msg(c->help && c->help[strlen(c->help) - 1] == '\n', "%s: help must end in a "
		      "newline", path);
	if (!c->subcmds)
		ck_assert_msg(strstr(c->help, "Examples:\n  hvadm "), "%s: help lacks examples",
			      path);
	/* help lines fit an 80-column terminal */
	for (const char *p = c->help; *p; ) {
		size_t n = strcspn(p, "\n");

		ck_assert_msg(n <= 80, "%s: help line longer than 80: %.*s", path, (int)n, p);
		p += n + (p[n] == '\n');
	}
}

START_TEST(entries_complete)
{
	int n = 0;

	for (const struct hvadm_cmd *c = hvadm_commands; c->name; c++, n++) {
		check_entry(c, NULL);
		for (const struct hvadm_cmd *s = c->subcmds; s && s->name; s++)
			check_entry(s, c->name);
	}
	ck_assert_int_ge(n, 21);
}
END_TEST

START_TEST(required_commands)
{
	static const char *const names[] = {
		"list", "show", "create", "edit", "delete", "start", "stop", "reboot", "pause",
		"resume", "console", "clone", "snapshot", "migrate", "ops", "wait", "events",
		"hosts", "token", "version", "help",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ck_assert_msg(hvadm_cmd_find(hvadm_commands, names[i]), "no command %s", names[i]);
	ck_assert_ptr_null(hvadm_cmd_find(hvadm_commands, "lis"));
	ck_assert_ptr_null(hvadm_cmd_find(hvadm_commands, ""));
	ck_assert_ptr_nonnull(hvadm_cmd_find(hvadm_cmd_find(hvadm_commands, "snapshot")->subcmds,
					     "restore"));
	ck_assert_ptr_nonnull(hvadm_cmd_find(hvadm_cmd_find(hvadm_commands, "token")->subcmds,
					     "revoke"));
}
END_TEST

START_TEST(print_help)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	hvadm_cmd_print_help(hvadm_cmd_find(hvadm_commands, "snapshot"), "snapshot", f);
	fclose(f);
	/* every form of the synopsis gets "hvadm", then the subcommands are listed */
	ck_assert_ptr_nonnull(strstr(out, "usage: hvadm snapshot create VM NAME"));
	ck_assert_ptr_nonnull(strstr(out, "\n       hvadm snapshot restore VM NAME"));
	ck_assert_ptr_nonnull(strstr(out, "Subcommands:\n  create "));
	free(out);

	out = NULL;
	f = open_memstream(&out, &len);
	hvadm_cmd_print_help(hvadm_cmd_find(hvadm_commands, "create"), "create", f);
	fclose(f);
	/* continuation lines of a long synopsis are indented, not prefixed */
	ck_assert_ptr_nonnull(strstr(out, "\n                    [--cmdline ARGS]"));
	free(out);
}
END_TEST

START_TEST(main_help)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	hvadm_print_main_help(f);
	fclose(f);
	for (const struct hvadm_cmd *c = hvadm_commands; c->name; c++) {
		char line[128];

		snprintf(line, sizeof(line), "\n  %-10s %s\n", c->name, c->summary);
		ck_assert_msg(strstr(out, line), "main help lacks %s", c->name);
	}
	ck_assert_ptr_nonnull(strstr(out, "HVD_SOCKET"));
	ck_assert_ptr_nonnull(strstr(out, "Exit status"));
	free(out);
}
END_TEST

static Suite *cmd_table_suite(void)
{
	Suite *s = suite_create("cli-cmd-table");
	TCase *tc;

	tc = tcase_create("table");
	tcase_add_test(tc, entries_complete);
	tcase_add_test(tc, required_commands);
	suite_add_tcase(s, tc);
	tc = tcase_create("cmd_print_help");
	tcase_add_test(tc, print_help);
	suite_add_tcase(s, tc);
	tc = tcase_create("print_main_help");
	tcase_add_test(tc, main_help);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cmd_table_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

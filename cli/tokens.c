/* tokens.c - `hvadm token create|list|revoke`: bearer tokens of the TCP API.
 *
 * create prints the secret alone on stdout (so `T=$(hvadm token create ci)` works) and the
 * reminder that it is shown once on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "action.h"
#include "cleanup.h"
#include "cmd-table.h"
#include "output.h"

int hvadm_cmd_token_create(struct hvadm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "read-only", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	_cleanup_json_ json_t *body = NULL;
	struct hvadm_response resp = { 0 };
	bool read_only = false;
	const char *name, *secret;
	int c, r;

	while ((c = hvadm_getopt(ctx, argc, argv, ":h", opts)) != -1) {
		switch (c) {
		case 'r': read_only = true; break;
		HVADM_OPT_COMMON_CASES;
		}
	}
	if ((r = hvadm_operands(ctx, argc, argv, 1, 1)))
		return r;
	name = argv[optind];
	body = json_pack("{s:s, s:s}", "name", name, "role", read_only ? "read-only" : "admin");
	if (!body)
		return hvadm_usage_error(ctx, "the name is not valid UTF-8");
	r = hvadm_http_request(ctx->http, "POST", "/v1/tokens", body, NULL, &resp);
	if (r < 0)
		return hvadm_fail_transport(ctx, r);
	if (resp.status < 200 || resp.status > 299) {
		r = hvadm_fail_response(name, &resp);
	} else if (ctx->output == HVADM_OUTPUT_JSON) {
		r = hvadm_print_json(resp.body, stdout) < 0 ? HVADM_EXIT_FAIL : HVADM_EXIT_OK;
	} else if (!(secret = hvadm_jstr(resp.body, "token"))) {
		r = hvadm_fail("%s: hvd's answer holds no token", name);
	} else {
		puts(secret);
		fprintf(stderr, "hvadm: token %s (%s) created; the secret above is shown only "
			"this once\n", name, read_only ? "read-only" : "admin");
		r = HVADM_EXIT_OK;
	}
	hvadm_response_clear(&resp);
	return r;
}

int hvadm_cmd_token_list(struct hvadm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	_cleanup_json_ json_t *body = NULL;
	struct hvadm_table *t;
	time_t now = time(NULL);
	json_t *tokens, *tok;
	size_t i;
	int c, r;

	while ((c = hvadm_getopt(ctx, argc, argv, ":h", opts)) != -1) {
		switch (c) {
		HVADM_OPT_COMMON_CASES;
		}
	}
	if ((r = hvadm_operands(ctx, argc, argv, 0, 0)))
		return r;
	if ((r = hvadm_get_json(ctx, "/v1/tokens", NULL, &body)))
		return r;
	if (ctx->output == HVADM_OUTPUT_JSON)
		return hvadm_print_json(body, stdout) < 0 ? HVADM_EXIT_FAIL : HVADM_EXIT_OK;
	tokens = json_object_get(body, "tokens");
	t = hvadm_table_new(5, (const char *[]){ "ID", "NAME", "ROLE", "CREATED", "LAST USED" });
	if (!t)
		return hvadm_fail("out of memory");
	json_array_foreach(tokens, i, tok) {
		char created[32], used[40];
		const char *last = hvadm_jstr(tok, "last_used_at");

		if (last && hvadm_format_age(last, now, used, sizeof(used) - 4))
			strcat(used, " ago");
		else
			snprintf(used, sizeof(used), "never");
		hvadm_table_add(t, (const char *[]){ hvadm_jstr(tok, "id"), hvadm_jstr(tok, "name"),
			hvadm_jstr(tok, "role"),
			hvadm_format_age(hvadm_jstr(tok, "created_at"), now, created,
					 sizeof(created)) ? created : NULL,
			used });
	}
	r = hvadm_table_print(t, stdout);
	hvadm_table_free(t);
	return r < 0 ? HVADM_EXIT_FAIL : HVADM_EXIT_OK;
}

int hvadm_cmd_token_revoke(struct hvadm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	_cleanup_free_ char *path = NULL, *done = NULL;
	int c, r;

	while ((c = hvadm_getopt(ctx, argc, argv, ":h", opts)) != -1) {
		switch (c) {
		HVADM_OPT_COMMON_CASES;
		}
	}
	if ((r = hvadm_operands(ctx, argc, argv, 1, 1)))
		return r;
	if (!(path = hvadm_http_path("/v1/tokens/", argv[optind], NULL)) ||
	    asprintf(&done, "revoked token %s", argv[optind]) < 0)
		return hvadm_fail("out of memory");
	return hvadm_act(ctx, &(struct hvadm_action){ .method = "DELETE", .path = path,
						      .subject = argv[optind], .done = done });
}

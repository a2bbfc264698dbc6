/* version.c - `hvadm version`: the client's version and what GET /v1 says of the server.
 *
 * The client's line is printed even when the server cannot be reached, then the failure. */
#include <stdio.h>

#include "cleanup.h"
#include "cmd-table.h"
#include "output.h"

int hvadm_cmd_version(struct hvadm_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	_cleanup_json_ json_t *server = NULL, *out = NULL;
	int c, r;

	while ((c = hvadm_getopt(ctx, argc, argv, ":h", opts)) != -1) {
		switch (c) {
		HVADM_OPT_COMMON_CASES;
		}
	}
	if ((r = hvadm_operands(ctx, argc, argv, 0, 0)))
		return r;
	if (ctx->output == HVADM_OUTPUT_TABLE) {
		printf("client: hvadm %s\n", HVD_VERSION);
		fflush(stdout);
	}
	if ((r = hvadm_get_json(ctx, "/v1", NULL, &server)))
		return r;
	if (ctx->output == HVADM_OUTPUT_JSON) {
		out = json_pack("{s:{s:s}, s:O}", "client", "version", HVD_VERSION, "server", server);
		return out && hvadm_print_json(out, stdout) == 0 ? HVADM_EXIT_OK : HVADM_EXIT_FAIL;
	}
	printf("server: %s %s (API level %lld, host %s)\n",
	       hvadm_jstr(server, "name") ? hvadm_jstr(server, "name") : "hvd",
	       hvadm_jstr(server, "version") ? hvadm_jstr(server, "version") : "?",
	       (long long)hvadm_jint(server, "api_level", 0),
	       hvadm_jstr(server, "host_name") ? hvadm_jstr(server, "host_name") :
	       hvadm_jstr(server, "host_id") ? hvadm_jstr(server, "host_id") : "?");
	return HVADM_EXIT_OK;
}

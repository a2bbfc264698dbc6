/* root.c - GET /v1, the OpenAPI document and the schemas it references. */
#include <string.h>

#include "api/handlers.h"
#include "api/schema.h"
#include "hvd.h"

void api_root_get(struct api_request *req)
{
	api_reply_json(req, 200, json_pack("{s:s, s:s, s:i, s:s, s:s}", "name", "hvd", "version", HVD_VERSION,
					   "api_level", 1, "host_id", req->hvd->host_id,
					   "host_name", req->hvd->host_name));
}

void api_openapi_get(struct api_request *req)
{
	size_t len;
	const char *text = schema_text("openapi.json", &len);

	if (!text) {
		api_reply_error(req, 404, "not_found", NULL, "openapi.json is not built in");
		return;
	}
	api_reply_text(req, 200, "application/json", text, len);
}

void api_schema_get(struct api_request *req)
{
	size_t len;
	const char *text = NULL;

	/* only names the build embedded: no path ever reaches the filesystem */
	if (strstr(req->params[0], ".schema.json"))
		text = schema_text(req->params[0], &len);
	if (!text) {
		api_reply_error(req, 404, "not_found", NULL, "no schema named %.64s", req->params[0]);
		return;
	}
	api_reply_text(req, 200, "application/schema+json", text, len);
}

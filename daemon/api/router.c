/* router.c - the route table and matching a request path against it.
 *
 * Paths are matched segment by segment; "{}" in a pattern matches one
 * non-empty segment, which is copied into params in order; "{}.x" matches
 * a segment ending in ".x" (copied whole). The table is
 * the single place that says which schema a body must satisfy and which
 * routes need the admin role. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/handlers.h"

const struct api_route api_routes[] = {
	{ "GET", "/v1", api_root_get, NULL, false },
	{ "GET", "/v1/openapi.json", api_openapi_get, NULL, false },
	{ "GET", "/v1/schemas/{}", api_schema_get, NULL, false },
	{ "GET", "/v1/vms", api_vms_list, NULL, false },
	{ "POST", "/v1/vms", api_vms_create, "vm-create.schema.json", false },
	{ "GET", "/v1/vms/{}", api_vms_get, NULL, false },
	{ "PATCH", "/v1/vms/{}", api_vms_patch, "vm-patch.schema.json", false },
	{ "DELETE", "/v1/vms/{}", api_vms_delete, NULL, false },
	{ "POST", "/v1/vms/{}/start", api_vm_start, NULL, false },
	{ "POST", "/v1/vms/{}/stop", api_vm_stop, "vm-stop.schema.json", false },
	{ "POST", "/v1/vms/{}/reboot", api_vm_reboot, NULL, false },
	{ "POST", "/v1/vms/{}/pause", api_vm_pause, NULL, false },
	{ "POST", "/v1/vms/{}/resume", api_vm_resume, NULL, false },
	{ "GET", "/v1/vms/{}/console", api_vm_console_get, NULL, false },
	{ "POST", "/v1/vms/{}/console", api_vm_console_post, API_RAW_BODY, false },
	{ "POST", "/v1/vms/{}/clone", api_vm_clone, "vm-clone.schema.json", false },
	{ "GET", "/v1/vms/{}/snapshots", api_snapshots_list, NULL, false },
	{ "POST", "/v1/vms/{}/snapshots", api_snapshots_create, "snapshot-create.schema.json", false },
	{ "POST", "/v1/vms/{}/snapshots/{}/restore", api_snapshot_restore, NULL, false },
	{ "DELETE", "/v1/vms/{}/snapshots/{}", api_snapshot_delete, NULL, false },
	{ "POST", "/v1/vms/{}/migrate", api_vm_migrate, "vm-migrate.schema.json", false },
	{ "GET", "/v1/operations", api_ops_list, NULL, false },
	{ "GET", "/v1/operations/{}", api_ops_get, NULL, false },
	{ "DELETE", "/v1/operations/{}", api_ops_cancel, NULL, false },
	{ "GET", "/v1/operations/{}/wait", api_ops_wait, NULL, false },
	{ "GET", "/v1/events", api_events_get, NULL, false },
	{ "GET", "/v1/hosts", api_hosts_list, NULL, false },
	{ "POST", "/v1/hosts", api_hosts_create, "host-create.schema.json", false },
	{ "GET", "/v1/hosts/{}", api_hosts_get, NULL, false },
	{ "DELETE", "/v1/hosts/{}", api_hosts_delete, NULL, false },
	{ "GET", "/v1/tokens", api_tokens_list, NULL, true },
	{ "POST", "/v1/tokens", api_tokens_create, "token-create.schema.json", true },
	{ "DELETE", "/v1/tokens/{}", api_tokens_delete, NULL, true },
	{ "GET", "/metrics", api_metrics_get, NULL, false },
	/* the schema files openapi.json refers to, relative to /v1/openapi.json */
	{ "GET", "/v1/{}.schema.json", api_schema_get, NULL, false },
};
const int api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);

#define MAX_SEGMENTS 8

/* Splits path ("/a/b/c") into segments pointing into buf. -EINVAL for
 * empty or overlong segments, too many segments, or a missing leading /. */
static int split(const char *path, char *buf, size_t buflen, char *seg[MAX_SEGMENTS], int *ret_n)
{
	size_t len = strlen(path);
	int n = 0;
	char *p;

	if (path[0] != '/' || len >= buflen || strstr(path, "//"))
		return -EINVAL;
	memcpy(buf, path + 1, len);
	/* a trailing slash is tolerated: "/v1/vms/" is "/v1/vms" */
	if (len > 1 && buf[len - 2] == '/')
		buf[len - 2] = '\0';
	p = buf;
	while (*p) {
		char *slash = strchr(p, '/');

		if (n == MAX_SEGMENTS)
			return -EINVAL;
		if (slash)
			*slash = '\0';
		if (*p == '\0' || strlen(p) >= API_PARAM_LEN)
			return -EINVAL;
		seg[n++] = p;
		if (!slash)
			break;
		p = slash + 1;
		if (*p == '\0')
			return -EINVAL;
	}
	*ret_n = n;
	return 0;
}

static bool match(const char *pattern, char *seg[], int nseg,
		  char params[API_MAX_PARAMS][API_PARAM_LEN], int *ret_nparams)
{
	char pbuf[128];
	char *pseg[MAX_SEGMENTS];
	int np, nparams = 0;

	if (split(pattern, pbuf, sizeof(pbuf), pseg, &np) < 0 || np != nseg)
		return false;
	for (int i = 0; i < nseg; i++) {
		size_t plen = strlen(pseg[i]), slen = strlen(seg[i]);

		/* "{}suffix" matches a segment that ends with suffix */
		if (strncmp(pseg[i], "{}", 2) == 0 && plen > 2 &&
		    (slen <= plen - 2 || strcmp(seg[i] + slen - (plen - 2), pseg[i] + 2) != 0))
			return false;
		if (strncmp(pseg[i], "{}", 2) == 0) {
			if (params && nparams < API_MAX_PARAMS)
				snprintf(params[nparams], API_PARAM_LEN, "%s", seg[i]);
			nparams++;
		} else if (strcmp(pseg[i], seg[i]) != 0) {
			return false;
		}
	}
	if (ret_nparams)
		*ret_nparams = nparams;
	return true;
}

int api_route_match(const char *method, const char *path, int *ret_index,
		    char params[API_MAX_PARAMS][API_PARAM_LEN], int *ret_nparams,
		    char *allow, size_t allow_len)
{
	char buf[512];
	char *seg[MAX_SEGMENTS];
	bool path_known = false;
	int nseg;

	if (split(path, buf, sizeof(buf), seg, &nseg) < 0)
		return -EINVAL;
	if (allow_len)
		allow[0] = '\0';
	for (int i = 0; i < api_nroutes; i++) {
		if (!match(api_routes[i].pattern, seg, nseg, NULL, NULL))
			continue;
		if (strcmp(api_routes[i].method, method) == 0) {
			match(api_routes[i].pattern, seg, nseg, params, ret_nparams);
			*ret_index = i;
			return 0;
		}
		if (allow_len) {
			size_t used = strlen(allow);

			snprintf(allow + used, allow_len - used, "%s%s", path_known ? ", " : "",
				 api_routes[i].method);
		}
		path_known = true;
	}
	return path_known ? -EPERM : -ENOENT;
}

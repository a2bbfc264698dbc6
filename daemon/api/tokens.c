/* tokens.c - /v1/tokens: create, list and revoke API bearer tokens.
 * A token's secret is returned once, at creation; only its hash is kept. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/auth.h"
#include "api/handlers.h"
#include "events.h"
#include "hvd.h"
#include "log.h"
#include "store/store.h"

static json_t *token_json(const struct store_token *t)
{
	char created[32], used[32];

	store_format_time(t->created_at, created);
	store_format_time(t->last_used_at, used);
	return json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", t->id, "name", t->name, "role", t->role,
			 "created_at", created, "last_used_at", t->last_used_at ? json_string(used) : json_null());
}

static int list_one(const struct store_token *t, void *ud)
{
	return json_array_append_new(ud, token_json(t)) == 0 ? 0 : -ENOMEM;
}

void api_tokens_list(struct api_request *req)
{
	json_t *arr = json_array();
	int r = store_token_list(req->hvd->store, list_one, arr);

	if (r < 0) {
		json_decref(arr);
		api_reply_errno(req, r, "listing tokens");
		return;
	}
	api_reply_json(req, 200, json_pack("{s:o}", "tokens", arr));
}

void api_tokens_create(struct api_request *req)
{
	struct hvd *hvd = req->hvd;
	struct store_token t = { 0 };
	const char *role = json_string_value(json_object_get(req->json, "role"));
	char secret[72];
	json_t *j;
	int r;

	hvd_uuid(t.id);
	snprintf(t.name, sizeof(t.name), "%s", json_string_value(json_object_get(req->json, "name")));
	/* the safe default: a token that can only read */
	snprintf(t.role, sizeof(t.role), "%s", role ? role : "read-only");
	t.created_at = store_now_ms();
	if ((r = api_auth_new_token(secret)) < 0 || (r = api_auth_hash(secret, t.hash)) < 0) {
		api_reply_errno(req, r, "token");
		return;
	}
	if ((r = store_begin(hvd->store)) < 0) {
		api_reply_errno(req, r, "saving");
		return;
	}
	r = store_token_insert(hvd->store, &t);
	if (r < 0) {
		store_rollback(hvd->store);
		if (r == -EEXIST)
			api_reply_error(req, 409, "conflict", "name", "a token named %s already exists", t.name);
		else
			api_reply_errno(req, r, "token");
		return;
	}
	events_publish(hvd, "token.created", json_pack("{s:{s:s, s:s, s:s}}", "token", "id", t.id, "name", t.name,
						       "role", t.role));
	if ((r = store_commit(hvd->store)) < 0) {
		api_reply_errno(req, r, "saving");
		return;
	}
	log_info("api: token %s (%s) created", t.name, t.role);
	j = token_json(&t);
	json_object_set_new(j, "token", json_string(secret));
	api_reply_json(req, 201, j);
}

void api_tokens_delete(struct api_request *req)
{
	struct hvd *hvd = req->hvd;
	struct store_token t;
	int r = store_token_get(hvd->store, req->params[0], &t);

	if (r < 0) {
		if (r == -ENOENT)
			api_reply_error(req, 404, "not_found", NULL, "token %.64s not found", req->params[0]);
		else
			api_reply_errno(req, r, "token");
		return;
	}
	if ((r = store_begin(hvd->store)) < 0) {
		api_reply_errno(req, r, "saving");
		return;
	}
	r = store_token_delete(hvd->store, t.id);
	if (r == 0)
		events_publish(hvd, "token.revoked", json_pack("{s:{s:s, s:s}}", "token", "id", t.id, "name", t.name));
	if (r < 0 || (r = store_commit(hvd->store)) < 0) {
		store_rollback(hvd->store);
		api_reply_errno(req, r, "token");
		return;
	}
	log_info("api: token %s revoked", t.name);
	api_reply_empty(req, 204);
}

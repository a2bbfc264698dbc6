/* auth.h - bearer tokens for the TCP listener. */
#pragma once
#include "api/api.h"

#define API_TOKEN_PREFIX "hvd_"

/* Checks an "Authorization: Bearer <token>" header value (may be NULL) and
 * sets req->role and req->token_id. -EACCES when missing or unknown. */
int api_auth_check(struct api_request *req, const char *authorization);

/* Writes the hex SHA-256 of token into hex (65 bytes). -errno. */
int api_auth_hash(const char *token, char hex[65]);

/* Makes a new secret token string ("hvd_" + 64 hex digits). -errno. */
int api_auth_new_token(char out[72]);

/* auth.c - bearer token checks.
 *
 * Only the SHA-256 of a token is stored; a presented token is hashed and
 * looked up by hash, so the database never holds a usable secret. The
 * token's last use is recorded at most once a minute to keep reads from
 * turning into writes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <gnutls/crypto.h>

#include "api/auth.h"
#include "hvd.h"
#include "store/store.h"

int api_auth_hash(const char *token, char hex[65])
{
	unsigned char digest[32];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, token, strlen(token), digest) < 0)
		return -EIO;
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	return 0;
}

int api_auth_new_token(char out[72])
{
	unsigned char b[32];
	int r;

	r = hvd_random(b, sizeof(b));
	if (r < 0)
		return r;
	memcpy(out, API_TOKEN_PREFIX, 4);
	for (int i = 0; i < 32; i++)
		snprintf(out + 4 + 2 * i, 3, "%02x", b[i]);
	return 0;
}

int api_auth_check(struct api_request *req, const char *authorization)
{
	struct store_token t;
	char hash[65];
	const char *tok;
	int64_t now;

	req->role = API_ROLE_NONE;
	if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
		return -EACCES;
	tok = authorization + 7;
	while (*tok == ' ')
		tok++;
	if (strlen(tok) != 68 || strncmp(tok, API_TOKEN_PREFIX, 4) != 0)
		return -EACCES;
	if (api_auth_hash(tok, hash) < 0)
		return -EACCES;
	if (store_token_find_hash(req->hvd->store, hash, &t) < 0)
		return -EACCES;
	req->role = strcmp(t.role, "admin") == 0 ? API_ROLE_ADMIN : API_ROLE_READ;
	snprintf(req->token_id, sizeof(req->token_id), "%s", t.id);
	now = store_now_ms();
	if (now - t.last_used_at > 60 * 1000)
		store_token_touch(req->hvd->store, t.id, now);
	return 0;
}

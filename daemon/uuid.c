/* uuid.c - random identifiers (version 4 UUIDs) from the kernel's CSPRNG. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "hvd.h"

int hvd_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void hvd_uuid(char out[37])
{
	uint8_t b[16];

	if (hvd_random(b, sizeof(b)) < 0)
		memset(b, 0, sizeof(b)); /* getrandom does not fail after boot */
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		 b[12], b[13], b[14], b[15]);
}

/* cmdline.c - the test guest's parameters, read from the kernel command
 * line in start_info: space-separated key=value words. The command line is
 * copied (bounded) into the guest's own buffer at start, so later lookups
 * never read past what the loader wrote. */
#include "guest.h"

static char cmdline[4096];

void cmdline_init(const char *src)
{
	size_t i = 0;

	if (src)
		for (; i < sizeof(cmdline) - 1 && src[i]; i++)
			cmdline[i] = src[i];
	cmdline[i] = 0;
}

const char *cmdline_get(const char *key, size_t *ret_len)
{
	size_t klen = strlen(key);
	const char *p = cmdline;

	while (*p) {
		const char *w = p;
		size_t wlen = 0;

		while (w[wlen] && w[wlen] != ' ')
			wlen++;
		if (wlen > klen && w[klen] == '=' && !memcmp(w, key, klen)) {
			*ret_len = wlen - klen - 1;
			return w + klen + 1;
		}
		p = w + wlen;
		while (*p == ' ')
			p++;
	}
	return NULL;
}

static uint64_t parse_u64(const char *s, size_t len, size_t *ret_used)
{
	uint64_t v = 0;
	unsigned base = 10;
	size_t i = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	for (; i < len; i++) {
		char c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			break;
		v = v * base + d;
	}
	*ret_used = i;
	return v;
}

uint64_t cmdline_get_u64(const char *key, uint64_t def)
{
	size_t len, used;
	const char *v = cmdline_get(key, &len);
	uint64_t n;

	if (!v)
		return def;
	n = parse_u64(v, len, &used);
	return used ? n : def;
}

/* mode=a,b,c: true when mode is one of the listed words. */
bool cmdline_has_mode(const char *mode)
{
	size_t len, mlen = strlen(mode);
	const char *v = cmdline_get("mode", &len);

	while (v && len) {
		size_t n = 0;

		while (n < len && v[n] != ',')
			n++;
		if (n == mlen && !memcmp(v, mode, n))
			return true;
		v += n;
		len -= n;
		if (len) {
			v++;
			len--;
		}
	}
	return false;
}

/* Next word at or after p that starts with key; returns what follows key. */
static const char *cmdline_get_next(const char *p, const char *key)
{
	size_t klen = strlen(key);

	while (*p) {
		bool at_word = p == cmdline || p[-1] == ' ';

		if (at_word && !memcmp(p, key, klen))
			return p + klen;
		p++;
	}
	return NULL;
}

bool cmdline_virtio_mmio(unsigned index, uint64_t *ret_addr, uint64_t *ret_size)
{
	static const char key[] = "virtio_mmio.device=";
	const char *p = cmdline;
	unsigned seen = 0;

	while ((p = cmdline_get_next(p, key)) != NULL) {
		size_t used;
		uint64_t size, addr;

		size = parse_u64(p, 32, &used);
		if (!used)
			continue;
		p += used;
		if (*p == 'K' || *p == 'k')
			size <<= 10, p++;
		else if (*p == 'M' || *p == 'm')
			size <<= 20, p++;
		if (*p++ != '@')
			continue;
		addr = parse_u64(p, 32, &used);
		if (!used)
			continue;
		if (seen++ == index) {
			*ret_addr = addr;
			*ret_size = size;
			return true;
		}
	}
	return false;
}

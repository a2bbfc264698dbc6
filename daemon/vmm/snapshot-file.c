/* snapshot-file.c - encoding, writing, reading and validating VM state
 * files (format in snapshot-file.h).
 *
 * The parser trusts nothing in the file: every length is compared with
 * what is left before it is used, with no arithmetic that can overflow
 * (lengths are bounded by SNAPSHOT_MAX_FILE first), and it never reads
 * outside the buffer it was given. It checks in the order that gives the
 * most useful message: magic, version, size, end marker, checksum, then
 * the structure (which a file with a valid checksum can still get wrong).
 * The writer encodes only images the parser accepts, so a file hvd wrote
 * always reads back; parse(encode(x)) == x byte for byte.
 *
 * CRC32C (Castagnoli polynomial, reflected) uses SSE4.2's crc32
 * instruction where the CPU has it, a table otherwise; a 1-vCPU state
 * file is about 22 KiB, checked in a few microseconds. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "snapshot-file.h"
#include "vcpu-state.h"
#include "vm-state.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "state files are little-endian");

static const char file_magic[8] = "HVDSNAP";   /* NUL included */
static const char end_magic[8] = "HVDSEND";
#define HDR_SIZE     (8u + 4 + 4 + 4 + 4 + 8 + SNAPSHOT_CONFIG_MAX)
#define SEC_HDR_SIZE 16u
#define TRAILER_SIZE 16u
#define PAD8(n)      (((n) + 7u) & ~(uint64_t)7)

static uint32_t crc_table[256];
static bool crc_hw;
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
		crc_table[i] = c;
	}
	crc_hw = __builtin_cpu_supports("sse4.2");
}

/* SSE4.2's crc32 instruction computes exactly CRC32C, 8 bytes at a time. */
__attribute__((target("sse4.2")))
static uint32_t crc_sse42(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c = crc;

	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
	}
	crc = (uint32_t)c;
	while (len--)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}

uint32_t snapshot_crc32c(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	pthread_once(&crc_once, crc_init);
	crc = ~crc;
	if (crc_hw)
		return ~crc_sse42(crc, p, len);
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static int fail(int r, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(int r, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* For messages: "vcpu", "virtio-blk", or "tag 0x42". */
static const char *tag_name(uint32_t tag, char *buf, size_t len)
{
	switch (tag) {
	case SNAPSHOT_TAG_VM: return "vm";
	case SNAPSHOT_TAG_VCPU: return "vcpu";
	case SNAPSHOT_TAG_SERIAL: return "serial";
	case SNAPSHOT_TAG_I8042: return "i8042";
	case SNAPSHOT_TAG_RTC: return "rtc";
	case SNAPSHOT_TAG_VIRTIO_BLK: return "virtio-blk";
	case SNAPSHOT_TAG_VIRTIO_NET: return "virtio-net";
	case SNAPSHOT_TAG_VIRTIO_RNG: return "virtio-rng";
	case SNAPSHOT_TAG_MACHINE: return "machine";
	}
	snprintf(buf, len, "tag 0x%x", tag);
	return buf;
}

struct snapshot_image *snapshot_image_new(uint32_t nvcpus, uint64_t memory_size,
					  const char *config)
{
	struct snapshot_image *img;
	size_t n = strlen(config);

	if (nvcpus == 0 || nvcpus > SNAPSHOT_MAX_VCPUS || n >= SNAPSHOT_CONFIG_MAX)
		return NULL;
	img = calloc(1, sizeof(*img));
	if (!img)
		return NULL;
	img->nvcpus = nvcpus;
	img->memory_size = memory_size;
	memcpy(img->config, config, n);   /* the rest stays zero */
	return img;
}

struct snapshot_image *snapshot_image_free(struct snapshot_image *img)
{
	if (!img)
		return NULL;
	for (uint32_t i = 0; i < img->nsections; i++)
		free(img->sections[i].data);
	free(img->sections);
	free(img);
	return NULL;
}

const void *snapshot_image_find(const struct snapshot_image *img, uint32_t tag, uint32_t index,
				uint64_t *ret_size)
{
	for (uint32_t i = 0; i < img->nsections; i++) {
		const struct snapshot_section *s = &img->sections[i];

		if (s->tag == tag && s->index == index) {
			if (ret_size)
				*ret_size = s->size;
			return s->data;
		}
	}
	return NULL;
}

/* Appends a copy, without the duplicate check (validate_image does it). */
static int append(struct snapshot_image *img, uint32_t tag, uint32_t index, const void *data,
		  uint64_t size)
{
	void *copy;

	if (tag == 0)
		return -EINVAL;
	if (size > SNAPSHOT_MAX_SECTION || img->nsections >= SNAPSHOT_MAX_SECTIONS)
		return -E2BIG;
	if (img->nsections == img->capacity) {
		uint32_t cap = img->capacity ? img->capacity * 2 : 16;
		struct snapshot_section *s = realloc(img->sections, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		img->sections = s;
		img->capacity = cap;
	}
	copy = malloc(size ? size : 1);
	if (!copy)
		return -ENOMEM;
	if (size)
		memcpy(copy, data, size);
	img->sections[img->nsections++] = (struct snapshot_section){
		.tag = tag, .index = index, .size = size, .data = copy,
	};
	return 0;
}

int snapshot_image_add(struct snapshot_image *img, uint32_t tag, uint32_t index,
		       const void *data, uint64_t size)
{
	if (snapshot_image_find(img, tag, index, NULL))
		return -EEXIST;
	return append(img, tag, index, data, size);
}

static int cmp_key(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* No (tag, index) twice; sorting keeps a crafted file with thousands of
 * sections cheap. */
static int check_duplicates(const struct snapshot_image *img, char *err, size_t errlen)
{
	uint64_t *keys;
	char name[32];
	int r = 0;

	if (img->nsections < 2)
		return 0;
	keys = malloc(img->nsections * sizeof(*keys));
	if (!keys)
		return fail(-ENOMEM, err, errlen, "snapshot: out of memory");
	for (uint32_t i = 0; i < img->nsections; i++)
		keys[i] = (uint64_t)img->sections[i].tag << 32 | img->sections[i].index;
	qsort(keys, img->nsections, sizeof(*keys), cmp_key);
	for (uint32_t i = 1; i < img->nsections && r == 0; i++)
		if (keys[i] == keys[i - 1])
			r = fail(-EBADMSG, err, errlen, "snapshot: two %s #%u sections",
				 tag_name((uint32_t)(keys[i] >> 32), name, sizeof(name)),
				 (uint32_t)keys[i]);
	free(keys);
	return r;
}

/* Everything the reader requires of an image, for the writer too. */
static int validate_image(const struct snapshot_image *img, char *err, size_t errlen)
{
	const struct snapshot_section *vm = NULL;
	uint32_t nvcpu_sections = 0;
	size_t clen;
	int r;

	if (img->nvcpus == 0 || img->nvcpus > SNAPSHOT_MAX_VCPUS)
		return fail(-EBADMSG, err, errlen, "snapshot: %u vCPUs, out of range 1-%u",
			    img->nvcpus, SNAPSHOT_MAX_VCPUS);
	if (img->memory_size == 0 || img->memory_size % 4096)
		return fail(-EBADMSG, err, errlen, "snapshot: memory size %llu is not a number of pages",
			    (unsigned long long)img->memory_size);
	clen = strnlen(img->config, SNAPSHOT_CONFIG_MAX);
	if (clen == SNAPSHOT_CONFIG_MAX)
		return fail(-EBADMSG, err, errlen, "snapshot: machine description not terminated");
	if (img->nsections > SNAPSHOT_MAX_SECTIONS)
		return fail(-EBADMSG, err, errlen, "snapshot: %u sections, at most %u", img->nsections,
			    SNAPSHOT_MAX_SECTIONS);
	r = check_duplicates(img, err, errlen);
	if (r < 0)
		return r;
	for (uint32_t i = 0; i < img->nsections; i++) {
		const struct snapshot_section *s = &img->sections[i];

		if (s->tag == 0 || s->size > SNAPSHOT_MAX_SECTION)
			return fail(-EBADMSG, err, errlen, "snapshot: section %u: tag 0 or too large", i);
		if (s->tag == SNAPSHOT_TAG_VM) {
			if (s->index != 0)
				return fail(-EBADMSG, err, errlen, "snapshot: vm section #%u (only #0 exists)",
					    s->index);
			if (s->size != sizeof(struct vmm_vm_state))
				return fail(-EBADMSG, err, errlen,
					    "snapshot: vm section is %llu bytes, this hvd's is %zu",
					    (unsigned long long)s->size, sizeof(struct vmm_vm_state));
			if (vmm_vm_state_check(s->data) < 0)
				return fail(-EBADMSG, err, errlen, "snapshot: vm state is invalid");
			vm = s;
		} else if (s->tag == SNAPSHOT_TAG_VCPU) {
			if (s->index >= img->nvcpus)
				return fail(-EBADMSG, err, errlen,
					    "snapshot: vcpu #%u section, but the header says %u vCPUs",
					    s->index, img->nvcpus);
			if (s->size != sizeof(struct vcpu_state))
				return fail(-EBADMSG, err, errlen,
					    "snapshot: vcpu #%u section is %llu bytes, this hvd's is %zu",
					    s->index, (unsigned long long)s->size,
					    sizeof(struct vcpu_state));
			if (vcpu_state_check(s->data) < 0)
				return fail(-EBADMSG, err, errlen, "snapshot: vcpu #%u state is invalid",
					    s->index);
			nvcpu_sections++;
		}
	}
	if (!vm)
		return fail(-EBADMSG, err, errlen, "snapshot: no vm section");
	/* no duplicates and every index < nvcpus: the count says all are there */
	if (nvcpu_sections != img->nvcpus)
		return fail(-EBADMSG, err, errlen, "snapshot: %u vcpu sections for %u vCPUs",
			    nvcpu_sections, img->nvcpus);
	return 0;
}

int snapshot_file_encode(const struct snapshot_image *img, void **ret_buf, size_t *ret_len)
{
	uint64_t len = HDR_SIZE + TRAILER_SIZE;
	uint8_t *buf, *p;
	int r;

	r = validate_image(img, NULL, 0);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return -EINVAL;
	for (uint32_t i = 0; i < img->nsections; i++)
		len += SEC_HDR_SIZE + PAD8(img->sections[i].size);
	if (len > SNAPSHOT_MAX_FILE)
		return -E2BIG;
	buf = calloc(1, len);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, file_magic, 8);
	put32(buf + 8, SNAPSHOT_VERSION);
	put32(buf + 12, HDR_SIZE);
	put32(buf + 16, img->nvcpus);
	put32(buf + 20, img->nsections);
	put64(buf + 24, img->memory_size);
	memcpy(buf + 32, img->config, strlen(img->config));  /* zero padded */
	p = buf + HDR_SIZE;
	for (uint32_t i = 0; i < img->nsections; i++) {
		const struct snapshot_section *s = &img->sections[i];

		put32(p, s->tag);
		put32(p + 4, s->index);
		put64(p + 8, s->size);
		if (s->size)
			memcpy(p + SEC_HDR_SIZE, s->data, s->size);
		p += SEC_HDR_SIZE + PAD8(s->size);
	}
	memcpy(p, end_magic, 8);
	put32(p + 8, snapshot_crc32c(0, buf, (size_t)(p + 8 - buf)));
	*ret_buf = buf;
	*ret_len = (size_t)len;
	return 0;
}

/* The sections between the header and the trailer, into img. */
static int parse_sections(const uint8_t *b, size_t end, struct snapshot_image *img,
			  uint32_t nsections, char *err, size_t errlen)
{
	size_t off = HDR_SIZE;
	char name[32];
	int r;

	for (uint32_t i = 0; i < nsections; i++) {
		uint32_t tag, index;
		uint64_t size, padded;

		if (end - off < SEC_HDR_SIZE)
			return fail(-EBADMSG, err, errlen,
				    "snapshot: section %u of %u runs past the end of the file", i + 1,
				    nsections);
		tag = get32(b + off);
		index = get32(b + off + 4);
		size = get64(b + off + 8);
		off += SEC_HDR_SIZE;
		if (size > end - off || size > SNAPSHOT_MAX_SECTION || PAD8(size) > end - off)
			return fail(-EBADMSG, err, errlen,
				    "snapshot: section %u (%s #%u) claims %llu bytes, past the end of the file",
				    i + 1, tag_name(tag, name, sizeof(name)), index,
				    (unsigned long long)size);
		padded = PAD8(size);
		for (uint64_t k = size; k < padded; k++)
			if (b[off + k])
				return fail(-EBADMSG, err, errlen,
					    "snapshot: section %u (%s #%u) has non-zero padding", i + 1,
					    tag_name(tag, name, sizeof(name)), index);
		if (tag == 0)
			return fail(-EBADMSG, err, errlen, "snapshot: section %u has tag 0", i + 1);
		r = append(img, tag, index, b + off, size);
		if (r < 0)
			return fail(r, err, errlen, "snapshot: out of memory");
		off += padded;
	}
	if (off != end)
		return fail(-EBADMSG, err, errlen,
			    "snapshot: %zu stray bytes between the last section and the end marker",
			    end - off);
	return 0;
}

int snapshot_file_parse(const void *buf, size_t len, struct snapshot_image **ret, char *err,
			size_t errlen)
{
	const uint8_t *b = buf;
	struct snapshot_image *img;
	uint32_t version, hdr_size, nsections, stored, computed;
	size_t end;
	int r;

	if (len < 8)
		return fail(-EBADMSG, err, errlen,
			    "snapshot: file is %zu bytes, too short to be a snapshot (truncated?)", len);
	if (memcmp(b, file_magic, 8) != 0)
		return fail(-EBADMSG, err, errlen, "snapshot: not an hvd snapshot (bad magic)");
	if (len < 12)
		return fail(-EBADMSG, err, errlen, "snapshot: truncated at %zu bytes", len);
	version = get32(b + 8);
	if (version != SNAPSHOT_VERSION)
		return fail(-ENOTSUP, err, errlen, "snapshot: version %u, this hvd reads version %u",
			    version, SNAPSHOT_VERSION);
	if (len < HDR_SIZE + TRAILER_SIZE)
		return fail(-EBADMSG, err, errlen,
			    "snapshot: truncated at %zu bytes (header and end marker take %u)", len,
			    HDR_SIZE + TRAILER_SIZE);
	if (len > SNAPSHOT_MAX_FILE)
		return fail(-EBADMSG, err, errlen, "snapshot: %zu bytes, more than the %u MiB limit",
			    len, SNAPSHOT_MAX_FILE >> 20);
	end = len - TRAILER_SIZE;
	if (memcmp(b + end, end_magic, 8) != 0)
		return fail(-EBADMSG, err, errlen,
			    "snapshot: truncated or damaged: no end marker (file is %zu bytes)", len);
	if (get32(b + end + 12) != 0)
		return fail(-EBADMSG, err, errlen, "snapshot: damaged end marker");
	stored = get32(b + end + 8);
	computed = snapshot_crc32c(0, b, end + 8);
	if (stored != computed)
		return fail(-EBADMSG, err, errlen,
			    "snapshot: checksum mismatch (stored 0x%08x, computed 0x%08x): the file is damaged",
			    stored, computed);

	hdr_size = get32(b + 12);
	if (hdr_size != HDR_SIZE)
		return fail(-EBADMSG, err, errlen, "snapshot: header is %u bytes, version %u has %u",
			    hdr_size, SNAPSHOT_VERSION, HDR_SIZE);
	nsections = get32(b + 20);
	if (nsections > SNAPSHOT_MAX_SECTIONS)
		return fail(-EBADMSG, err, errlen, "snapshot: %u sections, at most %u", nsections,
			    SNAPSHOT_MAX_SECTIONS);
	{
		const char *cfg = (const char *)b + 32;
		size_t n = strnlen(cfg, SNAPSHOT_CONFIG_MAX);

		if (n == SNAPSHOT_CONFIG_MAX)
			return fail(-EBADMSG, err, errlen,
				    "snapshot: machine description not terminated");
		for (size_t k = n; k < SNAPSHOT_CONFIG_MAX; k++)
			if (cfg[k])
				return fail(-EBADMSG, err, errlen,
					    "snapshot: machine description has non-zero padding");
	}
	img = calloc(1, sizeof(*img));
	if (!img)
		return fail(-ENOMEM, err, errlen, "snapshot: out of memory");
	img->nvcpus = get32(b + 16);
	img->memory_size = get64(b + 24);
	memcpy(img->config, b + 32, SNAPSHOT_CONFIG_MAX);
	r = parse_sections(b, end, img, nsections, err, errlen);
	if (r == 0)
		r = validate_image(img, err, errlen);
	if (r < 0) {
		snapshot_image_free(img);
		return r;
	}
	*ret = img;
	return 0;
}

int snapshot_file_read(const char *path, struct snapshot_image **ret, char *err, size_t errlen)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		return fail(r, err, errlen, "snapshot: cannot open %s: %s", path, strerror(-r));
	}
	if (fstat(fd, &st) < 0) {
		r = fail(-errno, err, errlen, "snapshot: cannot stat %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = fail(-EBADMSG, err, errlen, "snapshot: %s is not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > SNAPSHOT_MAX_FILE) {
		r = fail(-EBADMSG, err, errlen, "snapshot: %s is %lld bytes, more than the %u MiB limit",
			 path, (long long)st.st_size, SNAPSHOT_MAX_FILE >> 20);
		goto out;
	}
	/* one byte more than the size: a file that grew is noticed, not cut */
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = fail(-ENOMEM, err, errlen, "snapshot: out of memory");
		goto out;
	}
	while (got < (size_t)st.st_size + 1) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = fail(-errno, err, errlen, "snapshot: cannot read %s: %s", path,
				 strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != (size_t)st.st_size) {
		r = fail(-EBADMSG, err, errlen, "snapshot: %s changed while it was read", path);
		goto out;
	}
	r = snapshot_file_parse(buf, got, ret, err, errlen);
out:
	free(buf);
	close(fd);
	return r;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync of the directory holding name (relative to dirfd). */
static int fsync_dir(int dirfd, const char *name)
{
	const char *slash = strrchr(name, '/');
	char *dir;
	int fd, r = 0;

	if (!slash && dirfd != AT_FDCWD)
		return fsync(dirfd) < 0 ? -errno : 0;
	if (!slash)
		dir = strdup(".");
	else if (slash == name)
		dir = strdup("/");
	else
		dir = strndup(name, (size_t)(slash - name));
	if (!dir)
		return -ENOMEM;
	fd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* A new temp file beside name: name.tmp-PID-N, created exclusively. */
static int open_temp(int dirfd, const char *name, char **ret_tmp)
{
	static unsigned counter;

	for (int tries = 0; tries < 100; tries++) {
		unsigned n = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
		char *tmp;
		int fd;

		if (asprintf(&tmp, "%s.tmp-%d-%u", name, (int)getpid(), n) < 0)
			return -ENOMEM;
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0) {
			*ret_tmp = tmp;
			return fd;
		}
		free(tmp);
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

int snapshot_file_write_at(int dirfd, const char *name, const struct snapshot_image *img)
{
	void *buf;
	size_t len;
	char *tmp = NULL;
	int fd, r;

	r = snapshot_file_encode(img, &buf, &len);
	if (r < 0)
		return r;
	fd = open_temp(dirfd, name, &tmp);
	if (fd < 0) {
		free(buf);
		return fd;
	}
	r = write_all(fd, buf, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(dirfd, tmp, 0);
	else
		r = fsync_dir(dirfd, name);
	free(tmp);
	free(buf);
	return r;
}

int snapshot_file_write(const char *path, const struct snapshot_image *img)
{
	return snapshot_file_write_at(AT_FDCWD, path, img);
}

int snapshot_image_check(const struct snapshot_image *img, uint32_t nvcpus, uint64_t memory_size,
			 const char *config, const struct snapshot_device_spec *specs,
			 size_t nspecs, char *err, size_t errlen)
{
	char name[32];

	if (img->nvcpus != nvcpus)
		return fail(-EINVAL, err, errlen, "snapshot: made for %u vCPUs, this VM has %u",
			    img->nvcpus, nvcpus);
	if (img->memory_size != memory_size)
		return fail(-EINVAL, err, errlen,
			    "snapshot: made for %llu bytes of RAM, this VM has %llu",
			    (unsigned long long)img->memory_size, (unsigned long long)memory_size);
	if (strcmp(img->config, config) != 0)
		return fail(-EINVAL, err, errlen, "snapshot: made for machine '%s', this VM is '%s'",
			    img->config, config);
	for (size_t k = 0; k < nspecs; k++) {
		const struct snapshot_device_spec *sp = &specs[k];

		for (uint32_t i = 0; i < sp->count; i++) {
			uint64_t size;

			if (!snapshot_image_find(img, sp->tag, i, &size))
				return fail(-EINVAL, err, errlen, "snapshot: no %s #%u section",
					    tag_name(sp->tag, name, sizeof(name)), i);
			if (size != sp->size)
				return fail(-EINVAL, err, errlen,
					    "snapshot: %s #%u section is %llu bytes, this hvd's is %llu",
					    tag_name(sp->tag, name, sizeof(name)), i,
					    (unsigned long long)size, (unsigned long long)sp->size);
		}
	}
	for (uint32_t i = 0; i < img->nsections; i++) {
		const struct snapshot_section *s = &img->sections[i];
		bool known = s->tag == SNAPSHOT_TAG_VM || s->tag == SNAPSHOT_TAG_VCPU;

		for (size_t k = 0; k < nspecs && !known; k++)
			known = specs[k].tag == s->tag && s->index < specs[k].count;
		if (!known)
			return fail(-EINVAL, err, errlen,
				    "snapshot: has a %s #%u section this VM has no device for",
				    tag_name(s->tag, name, sizeof(name)), s->index);
	}
	return 0;
}

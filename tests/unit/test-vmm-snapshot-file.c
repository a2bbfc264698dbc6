/* test-vmm-snapshot-file.c - snapshot-file.c: images round-trip through a
 * file byte for byte; every kind of bad file is refused with its own
 * message (bad magic, other version, truncation at every length, lengths
 * past the end, duplicate and missing sections, wrong sizes, invalid
 * states, checksum); 10,000 random mutations are each refused or
 * identical; the machine check refuses a mismatched VM.
 * Bad files are built two ways: by damaging an encoded file, and from
 * scratch by raw_*() below, an independent writer of the format (with its
 * own bitwise CRC32C) that can express what the module refuses to write. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "serial.h"
#include "snapshot-file.h"
#include "vcpu-state.h"
#include "vm-state.h"

#define CONFIG "x86_64 vcpus=2 mem=268435456 blk=1 net=0 rng=0"
#define MEM (256ull << 20)
#define HDR 288u
#define BLOB_SIZE 100u   /* not a multiple of 8: exercises the padding */

static char err[256];

static void fill_vm(struct vmm_vm_state *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->flags = VMM_VM_STATE_IRQCHIP | VMM_VM_STATE_PIT | VMM_VM_STATE_CLOCK;
	vm->pic[0].chip_id = KVM_IRQCHIP_PIC_MASTER;
	vm->pic[1].chip_id = KVM_IRQCHIP_PIC_SLAVE;
	vm->ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
	vm->pic[0].chip.pic.imr = 0xfb;
	vm->ioapic.chip.ioapic.redirtbl[4].bits = 0x10034;
	vm->pit.channels[0].count = 0x1234;
	vm->pit.channels[0].mode = 2;
	vm->clock.clock = 123456789;
}

static void fill_vcpu(struct vcpu_state *v, unsigned i)
{
	memset(v, 0, sizeof(*v));
	v->flags = VCPU_STATE_XSAVE | VCPU_STATE_LAPIC | VCPU_STATE_EVENTS | VCPU_STATE_MP_STATE;
	v->xsave_size = 4096;
	v->regs.rip = 0x100000 + i;
	v->regs.rax = 0xaaaa0000 + i;
	v->sregs.cr0 = 0x80050033;
	v->nmsrs = 2;
	v->msrs[0].index = 0xc0000082;
	v->msrs[0].data = 0xffffffff81000000ull;
	v->msrs[1].index = 0x10;
	v->msrs[1].data = 1000000 + i;
	v->xsave[24] = 0x80;   /* MXCSR */
	v->lapic.regs[0x80] = 0x50;
}

static void fill_blob(uint8_t *b, unsigned seed)
{
	for (unsigned i = 0; i < BLOB_SIZE; i++)
		b[i] = (uint8_t)(i * 7 + seed);
}

/* vm, nvcpus vCPUs, a serial state and one 100-byte virtio-blk blob */
static struct snapshot_image *make_image_n(uint32_t nvcpus)
{
	struct snapshot_image *img = snapshot_image_new(nvcpus, MEM, CONFIG);
	struct vmm_vm_state *vm = malloc(sizeof(*vm));
	struct vcpu_state *v = malloc(sizeof(*v));
	struct vmm_serial_state ser = { .ier = 3, .lcr = 3, .rx_count = 1, .rx = { 'x' } };
	uint8_t blob[BLOB_SIZE];

	ck_assert_ptr_nonnull(img);
	fill_vm(vm);
	ck_assert_int_eq(snapshot_image_add(img, SNAPSHOT_TAG_VM, 0, vm, sizeof(*vm)), 0);
	for (unsigned i = 0; i < nvcpus; i++) {
		fill_vcpu(v, i);
		ck_assert_int_eq(snapshot_image_add(img, SNAPSHOT_TAG_VCPU, i, v, sizeof(*v)), 0);
	}
	ck_assert_int_eq(snapshot_image_add(img, SNAPSHOT_TAG_SERIAL, 0, &ser, sizeof(ser)), 0);
	fill_blob(blob, 1);
	ck_assert_int_eq(snapshot_image_add(img, SNAPSHOT_TAG_VIRTIO_BLK, 0, blob, BLOB_SIZE), 0);
	free(vm);
	free(v);
	return img;
}

static struct snapshot_image *make_image(void)
{
	return make_image_n(2);
}

static void encode(const struct snapshot_image *img, uint8_t **buf, size_t *len)
{
	void *b;

	ck_assert_int_eq(snapshot_file_encode(img, &b, len), 0);
	*buf = b;
}

static int parse(const void *buf, size_t len)
{
	struct snapshot_image *img = NULL;
	int r;

	err[0] = 0;
	r = snapshot_file_parse(buf, len, &img, err, sizeof(err));
	if (r == 0)
		ck_assert_ptr_nonnull(img);
	snapshot_image_free(img);
	return r;
}

/* --- an independent writer of the format --- */

struct raw {
	uint8_t b[64 * 1024];
	size_t len;
};

static uint32_t bitwise_crc32c(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
	}
	return ~c;
}

static void raw_put(struct raw *r, const void *p, size_t n)
{
	ck_assert_uint_le(r->len + n, sizeof(r->b));
	memcpy(r->b + r->len, p, n);
	r->len += n;
}

static void raw_u32(struct raw *r, uint32_t v) { raw_put(r, &v, 4); }
static void raw_u64(struct raw *r, uint64_t v) { raw_put(r, &v, 8); }

static void raw_header(struct raw *r, uint32_t version, uint32_t nvcpus, uint32_t nsections)
{
	char cfg[256] = CONFIG;

	r->len = 0;
	raw_put(r, "HVDSNAP", 8);
	raw_u32(r, version);
	raw_u32(r, HDR);
	raw_u32(r, nvcpus);
	raw_u32(r, nsections);
	raw_u64(r, MEM);
	raw_put(r, cfg, sizeof(cfg));
}

/* size is what the section header claims; data holds PAD8(size) bytes */
static void raw_section(struct raw *r, uint32_t tag, uint32_t index, const void *data,
			uint64_t size)
{
	static const uint8_t zeros[8];

	raw_u32(r, tag);
	raw_u32(r, index);
	raw_u64(r, size);
	raw_put(r, data, size);
	raw_put(r, zeros, (8 - size % 8) % 8);
}

static void raw_trailer(struct raw *r)
{
	raw_put(r, "HVDSEND", 8);
	raw_u32(r, bitwise_crc32c(r->b, r->len));
	raw_u32(r, 0);
}

/* Recomputes the CRC of an encoded file after a deliberate change. */
static void fix_crc(uint8_t *b, size_t len)
{
	uint32_t c = bitwise_crc32c(b, len - 8);

	memcpy(b + len - 8, &c, 4);
}

/* A valid raw file with 1 vCPU; vcpu_tweak may damage the vCPU state. */
static void raw_valid(struct raw *r, void (*vcpu_tweak)(struct vcpu_state *))
{
	struct vmm_vm_state vm;
	static struct vcpu_state v;

	fill_vm(&vm);
	fill_vcpu(&v, 0);
	if (vcpu_tweak)
		vcpu_tweak(&v);
	raw_header(r, 1, 1, 2);
	raw_section(r, SNAPSHOT_TAG_VM, 0, &vm, sizeof(vm));
	raw_section(r, SNAPSHOT_TAG_VCPU, 0, &v, sizeof(v));
	raw_trailer(r);
}

static struct raw raw;

/* --- tests --- */

START_TEST(test_crc32c)
{
	ck_assert_uint_eq(snapshot_crc32c(0, "123456789", 9), 0xe3069283u);
	ck_assert_uint_eq(snapshot_crc32c(snapshot_crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);
	ck_assert_uint_eq(snapshot_crc32c(0, "", 0), 0);
	/* every length and alignment against the bitwise definition */
	uint8_t buf[300];
	unsigned seed = 7;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand_r(&seed);
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; n + off <= sizeof(buf); n++)
			ck_assert_uint_eq(snapshot_crc32c(0, buf + off, n), bitwise_crc32c(buf + off, n));
}
END_TEST

START_TEST(test_round_trip)
{
	char dir[] = "/tmp/hvd-test-snap-XXXXXX", path[64];
	struct snapshot_image *img = make_image(), *back = NULL;
	const struct vcpu_state *v;
	uint8_t *a, *b, blob[BLOB_SIZE];
	size_t alen, blen;
	uint64_t size;
	struct stat st;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
	ck_assert_int_eq(snapshot_file_write(path, img), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(snapshot_file_read(path, &back, err, sizeof(err)), 0);
	ck_assert_uint_eq(back->nvcpus, 2);
	ck_assert_uint_eq(back->memory_size, MEM);
	ck_assert_str_eq(back->config, CONFIG);
	ck_assert_uint_eq(back->nsections, 5);
	v = snapshot_image_find(back, SNAPSHOT_TAG_VCPU, 1, &size);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(size, sizeof(*v));
	ck_assert_uint_eq(v->regs.rip, 0x100001);
	ck_assert_uint_eq(v->msrs[1].data, 1000001);
	ck_assert_ptr_nonnull(snapshot_image_find(back, SNAPSHOT_TAG_VIRTIO_BLK, 0, &size));
	ck_assert_uint_eq(size, BLOB_SIZE);
	fill_blob(blob, 1);
	ck_assert_mem_eq(snapshot_image_find(back, SNAPSHOT_TAG_VIRTIO_BLK, 0, NULL), blob,
			 BLOB_SIZE);
	ck_assert_ptr_null(snapshot_image_find(back, SNAPSHOT_TAG_VIRTIO_BLK, 1, NULL));
	/* byte for byte: encode(read(write(x))) == encode(x) */
	encode(img, &a, &alen);
	encode(back, &b, &blen);
	ck_assert_uint_eq(alen, blen);
	ck_assert_uint_eq(alen, (size_t)st.st_size);
	ck_assert_mem_eq(a, b, alen);
	/* overwrite in place; no temp file left behind */
	ck_assert_int_eq(snapshot_file_write(path, back), 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);   /* fails if anything else is left */
	free(a);
	free(b);
	snapshot_image_free(img);
	snapshot_image_free(back);
}
END_TEST

START_TEST(test_write_refuses)
{
	char dir[] = "/tmp/hvd-test-snap-XXXXXX", path[64];
	struct snapshot_image *img = make_image();
	struct snapshot_image *no_vm = snapshot_image_new(1, MEM, CONFIG);
	struct vcpu_state *v = calloc(1, sizeof(*v));
	struct snapshot_image *back = NULL;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
	ck_assert_int_eq(snapshot_file_write(path, img), 0);
	/* an image the reader would refuse is not written; path unchanged */
	fill_vcpu(v, 0);
	ck_assert_int_eq(snapshot_image_add(no_vm, SNAPSHOT_TAG_VCPU, 0, v, sizeof(*v)), 0);
	ck_assert_int_eq(snapshot_file_write(path, no_vm), -EINVAL);
	ck_assert_int_eq(snapshot_file_read(path, &back, err, sizeof(err)), 0);
	ck_assert_uint_eq(back->nvcpus, 2);
	/* adding twice, tag 0 */
	ck_assert_int_eq(snapshot_image_add(no_vm, SNAPSHOT_TAG_VCPU, 0, v, sizeof(*v)), -EEXIST);
	ck_assert_int_eq(snapshot_image_add(no_vm, 0, 0, v, 8), -EINVAL);
	ck_assert_ptr_null(snapshot_image_new(0, MEM, CONFIG));
	/* a directory that does not exist */
	ck_assert_int_eq(snapshot_file_write("/nonexistent-hvd/state", img), -ENOENT);
	/* relative to a directory fd */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ck_assert_int_ge(dfd, 0);
	ck_assert_int_eq(snapshot_file_write_at(dfd, "state2", img), 0);
	snapshot_image_free(back);
	back = NULL;
	snprintf(path, sizeof(path), "%s/state2", dir);
	ck_assert_int_eq(snapshot_file_read(path, &back, err, sizeof(err)), 0);
	ck_assert_int_eq(unlinkat(dfd, "state2", 0), 0);
	ck_assert_int_eq(unlinkat(dfd, "state", 0), 0);
	close(dfd);
	ck_assert_int_eq(rmdir(dir), 0);   /* no temp file left behind */
	free(v);
	snapshot_image_free(img);
	snapshot_image_free(no_vm);
	snapshot_image_free(back);
}
END_TEST

START_TEST(test_read_errors)
{
	struct snapshot_image *img = NULL;

	ck_assert_int_eq(snapshot_file_read("/nonexistent-hvd/state", &img, err, sizeof(err)),
			 -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent-hvd/state"));
	ck_assert_int_eq(snapshot_file_read("/tmp", &img, err, sizeof(err)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
	ck_assert_int_eq(snapshot_file_read("/dev/null", &img, err, sizeof(err)), -EBADMSG);
	ck_assert_ptr_null(img);
}
END_TEST

START_TEST(test_bad_magic_and_version)
{
	struct snapshot_image *img = make_image();
	uint8_t *b;
	size_t len;

	encode(img, &b, &len);
	b[0] = 'X';
	ck_assert_int_eq(parse(b, len), -EBADMSG);
	ck_assert_str_eq(err, "snapshot: not an hvd snapshot (bad magic)");
	b[0] = 'H';
	b[8] = 3;   /* version, checked before the checksum */
	ck_assert_int_eq(parse(b, len), -ENOTSUP);
	ck_assert_str_eq(err, "snapshot: version 3, this hvd reads version 1");
	b[8] = 1;
	ck_assert_int_eq(parse(b, len), 0);
	ck_assert_int_eq(parse("ELF", 3), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "too short"));
	free(b);
	snapshot_image_free(img);
}
END_TEST

START_TEST(test_truncation)
{
	struct snapshot_image *img = make_image_n(1);
	uint8_t *b, *copy;
	size_t len;

	encode(img, &b, &len);
	ck_assert_int_eq(parse(b, len), 0);
	for (size_t n = 0; n < len; n++) {
		/* an exact-size copy, so ASan sees any read past n */
		copy = malloc(n ? n : 1);
		memcpy(copy, b, n);
		ck_assert_msg(parse(copy, n) < 0, "truncated at %zu accepted", n);
		ck_assert_msg(err[0] != 0, "no message at %zu", n);
		free(copy);
	}
	parse(b, 5000);
	ck_assert_str_eq(err, "snapshot: truncated or damaged: no end marker (file is 5000 bytes)");
	free(b);
	snapshot_image_free(img);
}
END_TEST

START_TEST(test_checksum_and_bit_flips)
{
	struct snapshot_image *img = make_image_n(1);
	uint8_t *b;
	size_t len;

	encode(img, &b, &len);
	b[HDR + 16 + 3] ^= 0x10;   /* inside the vm section's payload */
	ck_assert_int_eq(parse(b, len), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "checksum mismatch"));
	b[HDR + 16 + 3] ^= 0x10;
	/* every bit of the header, the first section headers and the trailer;
	 * a sample of the rest */
	for (size_t byte = 0; byte < len; byte += byte < 1024 || byte >= len - 32 ? 1 : 97) {
		for (int bit = 0; bit < 8; bit++) {
			b[byte] ^= (uint8_t)(1u << bit);
			ck_assert_msg(parse(b, len) < 0, "flip of bit %d of byte %zu accepted", bit, byte);
			b[byte] ^= (uint8_t)(1u << bit);
		}
	}
	ck_assert_int_eq(parse(b, len), 0);
	free(b);
	snapshot_image_free(img);
}
END_TEST

START_TEST(test_lengths_past_end)
{
	struct snapshot_image *img = make_image();
	uint8_t *b;
	size_t len;
	uint64_t huge = ~0ull, big = 1u << 20;

	encode(img, &b, &len);
	memcpy(b + HDR + 8, &huge, 8);   /* the vm section's size */
	fix_crc(b, len);
	ck_assert_int_eq(parse(b, len), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "section 1 (vm #0) claims 18446744073709551615 bytes, "
					  "past the end of the file"));
	memcpy(b + HDR + 8, &big, 8);
	fix_crc(b, len);
	ck_assert_int_eq(parse(b, len), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "past the end"));
	free(b);

	/* more sections announced than there are */
	encode(img, &b, &len);
	b[20] = 6;
	fix_crc(b, len);
	ck_assert_int_eq(parse(b, len), -EBADMSG);
	ck_assert_str_eq(err, "snapshot: section 6 of 6 runs past the end of the file");
	/* fewer: bytes left over */
	b[20] = 4;
	fix_crc(b, len);
	ck_assert_int_eq(parse(b, len), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "stray bytes"));
	/* absurd section count */
	memset(b + 20, 0xff, 4);
	fix_crc(b, len);
	ck_assert_int_eq(parse(b, len), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "sections, at most"));
	free(b);
	snapshot_image_free(img);
}
END_TEST

static void nothing(struct vcpu_state *v) { (void)v; }
static void too_many_msrs(struct vcpu_state *v) { v->nmsrs = VCPU_STATE_MAX_MSRS + 1; }
static void twice_msr(struct vcpu_state *v) { v->msrs[1].index = v->msrs[0].index; }
static void bad_xsave(struct vcpu_state *v) { v->xsave_size = VCPU_STATE_XSAVE_MAX + 8; }
static void bad_flags(struct vcpu_state *v) { v->flags |= 1u << 30; }

START_TEST(test_sections_structure)
{
	struct vmm_vm_state vm;
	static struct vcpu_state v;
	uint8_t blob[BLOB_SIZE] = { 0 }, pad_dirty[16] = { 1, 2, 3, 4, 5, 9 };

	raw_valid(&raw, nothing);
	ck_assert_int_eq(parse(raw.b, raw.len), 0);

	fill_vm(&vm);
	fill_vcpu(&v, 0);
	/* duplicate vcpu #0 */
	raw_header(&raw, 1, 1, 3);
	raw_section(&raw, SNAPSHOT_TAG_VM, 0, &vm, sizeof(vm));
	raw_section(&raw, SNAPSHOT_TAG_VCPU, 0, &v, sizeof(v));
	raw_section(&raw, SNAPSHOT_TAG_VCPU, 0, &v, sizeof(v));
	raw_trailer(&raw);
	ck_assert_int_eq(parse(raw.b, raw.len), -EBADMSG);
	ck_assert_str_eq(err, "snapshot: two vcpu #0 sections");
	/* duplicate device blob */
	raw_header(&raw, 1, 1, 4);
	raw_section(&raw, SNAPSHOT_TAG_VM, 0, &vm, sizeof(vm));
	raw_section(&raw, SNAPSHOT_TAG_VCPU, 0, &v, sizeof(v));
	raw_section(&raw, SNAPSHOT_TAG_VIRTIO_NET, 1, blob, sizeof(blob));
	raw_section(&raw, SNAPSHOT_TAG_VIRTIO_NET, 1, blob, sizeof(blob));
	raw_trailer(&raw);
	ck_assert_int_eq(parse(raw.b, raw.len), -EBADMSG);
	ck_assert_str_eq(err, "snapshot: two virtio-net #1 sections");
	/* missing vm */
	raw_header(&raw, 1, 1, 1);
	raw_section(&raw, SNAPSHOT_TAG_VCPU, 0, &v, sizeof(v));
	raw_trailer(&raw);
	ck_assert_int_eq(parse(raw.b, raw.len), -EBADMSG);
	ck_assert_str_eq(err, "snapshot: no vm section");
	/* missing vcpu #1 */
	raw_header(&raw, 1, 2, 2);
	raw_section(&raw, SNAPSHOT_TAG_VM, 0, &vm, sizeof(vm));
	raw_section(&raw, SNAPSHOT_TAG_VCPU, 0, &v, sizeof(v));
	raw_trailer(&raw);
	ck_assert_int_eq(parse(raw.b, raw.len), -EBADMSG);
	ck_assert_str_eq(err, "snapshot: 1 vcpu sections for 2 vCPUs");
	/* vcpu index beyond the header's count */
	raw_header(&raw, 1, 1, 2);
	raw_section(&raw, SNAPSHOT_TAG_VM, 0, &vm, sizeof(vm));
	raw_section(&raw, SNAPSHOT_TAG_VCPU, 7, &v, sizeof(v));
	raw_trailer(&raw);
	ck_assert_int_eq(parse(raw.b, raw.len), -EBADMSG);
	ck_assert_str_eq(err, "snapshot: vcpu #7 section, but the header says 1 vCPUs");
	/* sizes that do not match the structs */
	raw_header(&raw, 1, 1, 2);
	raw_section(&raw, SNAPSHOT_TAG_VM, 0, &vm, sizeof(vm) - 8);
	raw_section(&raw, SNAPSHOT_TAG_VCPU, 0, &v, sizeof(v));
	raw_trailer(&raw);
	ck_assert_int_eq(parse(raw.b, raw.len), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "vm section is"));
	raw_header(&raw, 1, 1, 2);
	raw_section(&raw, SNAPSHOT_TAG_VM, 0, &vm, sizeof(vm));
	raw_section(&raw, SNAPSHOT_TAG_VCPU, 0, &v, 4096);
	raw_trailer(&raw);
	ck_assert_int_eq(parse(raw.b, raw.len), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "vcpu #0 section is 4096 bytes, this hvd's is"));
	/* non-zero padding after a 5-byte blob */
	raw_header(&raw, 1, 1, 3);
	raw_section(&raw, SNAPSHOT_TAG_VM, 0, &vm, sizeof(vm));
	raw_section(&raw, SNAPSHOT_TAG_VCPU, 0, &v, sizeof(v));
	raw_u32(&raw, SNAPSHOT_TAG_RTC);
	raw_u32(&raw, 0);
	raw_u64(&raw, 5);
	raw_put(&raw, pad_dirty, 8);
	raw_trailer(&raw);
	ck_assert_int_eq(parse(raw.b, raw.len), -EBADMSG);
	ck_assert_str_eq(err, "snapshot: section 3 (rtc #0) has non-zero padding");
	/* header fields */
	raw_valid(&raw, nothing);
	memcpy(raw.b + 12, &(uint32_t){ 200 }, 4);   /* header size */
	fix_crc(raw.b, raw.len);
	ck_assert_int_eq(parse(raw.b, raw.len), -EBADMSG);
	ck_assert_str_eq(err, "snapshot: header is 200 bytes, version 1 has 288");
	raw_valid(&raw, nothing);
	memset(raw.b + 32, 'a', 256);   /* config without NUL */
	fix_crc(raw.b, raw.len);
	ck_assert_int_eq(parse(raw.b, raw.len), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "not terminated"));
	raw_valid(&raw, nothing);
	raw.b[24] = 1;   /* memory size not a number of pages */
	fix_crc(raw.b, raw.len);
	ck_assert_int_eq(parse(raw.b, raw.len), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "memory size"));
	/* the trailer's reserved word */
	raw_valid(&raw, nothing);
	raw.b[raw.len - 1] = 1;
	ck_assert_int_eq(parse(raw.b, raw.len), -EBADMSG);
	ck_assert_str_eq(err, "snapshot: damaged end marker");
}
END_TEST

START_TEST(test_invalid_states)
{
	void (*tweaks[])(struct vcpu_state *) = { too_many_msrs, twice_msr, bad_xsave, bad_flags };
	struct vmm_vm_state vm;
	static struct vcpu_state v;

	for (unsigned i = 0; i < sizeof(tweaks) / sizeof(tweaks[0]); i++) {
		raw_valid(&raw, tweaks[i]);
		ck_assert_int_eq(parse(raw.b, raw.len), -EBADMSG);
		ck_assert_str_eq(err, "snapshot: vcpu #0 state is invalid");
	}
	fill_vm(&vm);
	fill_vcpu(&v, 0);
	vm.ioapic.chip_id = KVM_IRQCHIP_PIC_SLAVE;
	raw_header(&raw, 1, 1, 2);
	raw_section(&raw, SNAPSHOT_TAG_VM, 0, &vm, sizeof(vm));
	raw_section(&raw, SNAPSHOT_TAG_VCPU, 0, &v, sizeof(v));
	raw_trailer(&raw);
	ck_assert_int_eq(parse(raw.b, raw.len), -EBADMSG);
	ck_assert_str_eq(err, "snapshot: vm state is invalid");
}
END_TEST

/* Random damage: each mutation is refused or leaves the bytes as they
 * were. A second round recomputes the checksum after the damage so the
 * structure checks see it: whatever is accepted then re-encodes to the
 * very same bytes (nothing is accepted and silently changed). */
START_TEST(test_fuzz)
{
	struct snapshot_image *img = make_image_n(1), *got;
	uint8_t *orig, *m;
	size_t len, mlen;
	unsigned seed = 12345, refused = 0, accepted = 0;

	encode(img, &orig, &len);
	m = malloc(len + 64);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 10000; i++) {
			unsigned kind = (unsigned)rand_r(&seed) % 4, n = 1 + (unsigned)rand_r(&seed) % 8;
			void *re;
			size_t relen;
			int r;

			memcpy(m, orig, len);
			mlen = len;
			for (unsigned k = 0; k < n; k++) {
				/* aim half of the hits at the structure: header, section headers */
				size_t pos = rand_r(&seed) % 2 ? (size_t)rand_r(&seed) % (HDR + 64)
							       : (size_t)rand_r(&seed) % mlen;

				if (kind == 0)
					m[pos] = (uint8_t)rand_r(&seed);
				else if (kind == 1)
					m[pos] ^= (uint8_t)(1u << (rand_r(&seed) % 8));
				else if (kind == 2)
					memset(m + pos, 0xff * (rand_r(&seed) % 2), mlen - pos < 8 ? mlen - pos : 8);
				else if (k == 0)
					mlen = (size_t)rand_r(&seed) % mlen;   /* truncation */
			}
			if (round == 1 && mlen >= 16)
				fix_crc(m, mlen);
			got = NULL;
			r = snapshot_file_parse(m, mlen, &got, err, sizeof(err));
			if (r < 0) {
				ck_assert_msg(err[0], "refused without a message");
				refused++;
				continue;
			}
			accepted++;
			if (round == 0) {
				ck_assert_uint_eq(mlen, len);
				ck_assert_msg(memcmp(m, orig, len) == 0, "damaged file accepted (mutation %d)", i);
			}
			ck_assert_int_eq(snapshot_file_encode(got, &re, &relen), 0);
			ck_assert_uint_eq(relen, mlen);
			ck_assert_msg(memcmp(re, m, mlen) == 0, "accepted file re-encodes differently");
			free(re);
			snapshot_image_free(got);
		}
	}
	ck_assert_uint_eq(refused + accepted, 20000);
	ck_assert_uint_gt(refused, 15000);
	free(m);
	free(orig);
	snapshot_image_free(img);
}
END_TEST

START_TEST(test_image_check)
{
	struct snapshot_image *img = make_image();
	struct snapshot_device_spec specs[] = {
		{ SNAPSHOT_TAG_SERIAL, 1, sizeof(struct vmm_serial_state) },
		{ SNAPSHOT_TAG_VIRTIO_BLK, 1, BLOB_SIZE },
	};
	struct snapshot_device_spec two_disks[] = {
		{ SNAPSHOT_TAG_SERIAL, 1, sizeof(struct vmm_serial_state) },
		{ SNAPSHOT_TAG_VIRTIO_BLK, 2, BLOB_SIZE },
	};
	struct snapshot_device_spec other_size[] = {
		{ SNAPSHOT_TAG_SERIAL, 1, sizeof(struct vmm_serial_state) },
		{ SNAPSHOT_TAG_VIRTIO_BLK, 1, BLOB_SIZE + 8 },
	};

	ck_assert_int_eq(snapshot_image_check(img, 2, MEM, CONFIG, specs, 2, err, sizeof(err)), 0);
	ck_assert_int_eq(snapshot_image_check(img, 1, MEM, CONFIG, specs, 2, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "snapshot: made for 2 vCPUs, this VM has 1");
	ck_assert_int_eq(snapshot_image_check(img, 2, MEM * 2, CONFIG, specs, 2, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "snapshot: made for 268435456 bytes of RAM, this VM has 536870912");
	ck_assert_int_eq(snapshot_image_check(img, 2, MEM, "x86_64 vcpus=2 blk=2", specs, 2, err,
					      sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "snapshot: made for machine '" CONFIG "', this VM is 'x86_64 vcpus=2 blk=2'");
	ck_assert_int_eq(snapshot_image_check(img, 2, MEM, CONFIG, two_disks, 2, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "snapshot: no virtio-blk #1 section");
	ck_assert_int_eq(snapshot_image_check(img, 2, MEM, CONFIG, other_size, 2, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "snapshot: virtio-blk #0 section is 100 bytes, this hvd's is 108");
	ck_assert_int_eq(snapshot_image_check(img, 2, MEM, CONFIG, specs, 1, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "snapshot: has a virtio-blk #0 section this VM has no device for");
	snapshot_image_free(img);
}
END_TEST

static Suite *suite(void)
{
	Suite *su = suite_create("vmm-snapshot-file");
	TCase *tc;

	tc = tcase_create("snapshot_crc32c");
	tcase_add_test(tc, test_crc32c);
	suite_add_tcase(su, tc);
	tc = tcase_create("snapshot_file_write");
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_write_refuses);
	suite_add_tcase(su, tc);
	tc = tcase_create("snapshot_file_read");
	tcase_add_test(tc, test_read_errors);
	suite_add_tcase(su, tc);
	tc = tcase_create("snapshot_file_parse");
	tcase_add_test(tc, test_bad_magic_and_version);
	tcase_add_test(tc, test_truncation);
	tcase_add_test(tc, test_checksum_and_bit_flips);
	tcase_add_test(tc, test_lengths_past_end);
	tcase_add_test(tc, test_sections_structure);
	tcase_add_test(tc, test_invalid_states);
	tcase_add_test(tc, test_fuzz);
	tcase_set_timeout(tc, 300);   /* the fuzz under ASan */
	suite_add_tcase(su, tc);
	tc = tcase_create("snapshot_image_check");
	tcase_add_test(tc, test_image_check);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

/* test-virtio-blk.c - virtio-blk over a temporary raw file, driven through
 * the MMIO transport by the test driver. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include "virtio-blk.h"
#include "virtio-test-driver.h"

#define DISK_BYTES (1024 * 1024 + 100)   /* a partial last sector */
#define DISK_SECTORS 2048

static struct tguest g;
static struct tirq irq;
static struct virtio_blk *blk;
static struct virtio_mmio *v;
static struct tvq q;
static char path[64];
static int errors, last_err;

static void on_error(void *opaque, const char *device, int err, const char *what)
{
	ck_assert_str_eq(device, "virtio-blk");
	errors++;
	last_err = err;
}

static void make_disk(void)
{
	int fd;

	strcpy(path, "/tmp/hvd-test-blk-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, DISK_BYTES), 0);
	close(fd);
}

static void open_blk(bool readonly, const char *serial)
{
	struct virtio_blk_params p = { .path = path, .readonly = readonly, .serial = serial };

	blk = virtio_blk_free(blk);
	ck_assert_int_eq(virtio_blk_create(&p, &g.mem, &irq.irq, 0xd0000000, &blk), 0);
	v = virtio_blk_mmio(blk);
	virtio_mmio_set_error_handler(v, on_error, NULL);
	ck_assert(tdriver_negotiate(v, ~0ull) & VIRTIO_CONFIG_S_FEATURES_OK);
	tvq_setup(&g, v, &q, 0, 16);
	tdriver_ok(v);
}

static void setup(void)
{
	tguest_init(&g);
	tirq_init(&irq, 6);
	errors = 0;
	blk = NULL;
	make_disk();
	open_blk(false, "disk-serial-1");
}

static void teardown(void)
{
	blk = virtio_blk_free(blk);
	unlink(path);
	tguest_fini(&g);
}

/* Sends one request: header, then len bytes of data (device-readable for
 * OUT-like types, device-writable for IN-like), then the status byte.
 * Returns the status; the used length in *used_len. */
static int blk_req(uint32_t type, uint64_t sector, void *data, uint32_t len, bool dev_writes,
		   uint32_t *used_len)
{
	struct virtio_blk_outhdr hdr = { .type = type, .sector = sector };
	struct tbuf b[3];
	unsigned n = 0;
	uint32_t id, ulen;
	uint8_t *status;

	b[n] = tbuf_new(&g, sizeof(hdr), 0, 0);
	memcpy(tguest_ptr(&g, b[n++].gpa), &hdr, sizeof(hdr));
	if (len) {
		b[n] = tbuf_new(&g, len, dev_writes, 0xee);
		if (!dev_writes)
			memcpy(tguest_ptr(&g, b[n].gpa), data, len);
		n++;
	}
	b[n] = tbuf_new(&g, 1, 1, 0xff);
	status = tguest_ptr(&g, b[n++].gpa);
	tvq_add(&g, &q, b, n);
	tvq_kick(v, &q);
	ck_assert_int_eq(tvq_get_used(&g, &q, &id, &ulen), 1);
	if (dev_writes && len)
		memcpy(data, tguest_ptr(&g, b[1].gpa), len);
	if (used_len)
		*used_len = ulen;
	return *status;
}

static uint8_t cfg8(unsigned off)
{
	uint8_t b;

	v->mmio.ops->read(&v->mmio, VIRTIO_MMIO_CONFIG + off, &b, 1);
	return b;
}

static uint64_t cfg64(unsigned off)
{
	uint64_t x;

	v->mmio.ops->read(&v->mmio, VIRTIO_MMIO_CONFIG + off, &x, 8);
	return x;
}

START_TEST(create_errors)
{
	struct virtio_blk_params p = { .path = "/nonexistent/disk.img" };
	struct virtio_blk *b = NULL;

	ck_assert_int_eq(virtio_blk_create(&p, &g.mem, NULL, 0, &b), -ENOENT);
	p.path = "/tmp";
	p.readonly = true;
	ck_assert_int_eq(virtio_blk_create(&p, &g.mem, NULL, 0, &b), -EINVAL);
	ck_assert_ptr_null(b);
}
END_TEST

START_TEST(create_config_and_features)
{
	uint32_t f;

	ck_assert_uint_eq(mmio_r32(v, VIRTIO_MMIO_DEVICE_ID), 2);
	ck_assert_uint_eq(virtio_blk_capacity(blk), DISK_SECTORS);
	ck_assert_uint_eq(cfg64(offsetof(struct virtio_blk_config, capacity)), DISK_SECTORS);
	ck_assert_uint_eq(cfg8(offsetof(struct virtio_blk_config, write_zeroes_may_unmap)), 1);
	mmio_w32(v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = mmio_r32(v, VIRTIO_MMIO_DEVICE_FEATURES);
	ck_assert(f & (1u << VIRTIO_BLK_F_FLUSH));
	ck_assert(f & (1u << VIRTIO_BLK_F_DISCARD));
	ck_assert(f & (1u << VIRTIO_BLK_F_WRITE_ZEROES));
	ck_assert(!(f & (1u << VIRTIO_BLK_F_RO)));
	open_blk(true, NULL);
	mmio_w32(v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = mmio_r32(v, VIRTIO_MMIO_DEVICE_FEATURES);
	ck_assert(f & (1u << VIRTIO_BLK_F_RO));
	ck_assert(!(f & (1u << VIRTIO_BLK_F_DISCARD)));
}
END_TEST

START_TEST(write_read_back)
{
	uint8_t out[4096], in[4096], file[4096];
	uint32_t used;
	int fd;

	for (unsigned i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 1);
	ck_assert_int_eq(blk_req(VIRTIO_BLK_T_OUT, 10, out, sizeof(out), false, &used),
			 VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(used, 1);
	memset(in, 0, sizeof(in));
	ck_assert_int_eq(blk_req(VIRTIO_BLK_T_IN, 10, in, sizeof(in), true, &used),
			 VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(used, sizeof(in) + 1);
	ck_assert_int_eq(memcmp(in, out, sizeof(in)), 0);
	/* and it really is in the file, at sector 10 */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_eq(pread(fd, file, sizeof(file), 10 * 512), sizeof(file));
	close(fd);
	ck_assert_int_eq(memcmp(file, out, sizeof(file)), 0);
	/* the last whole sector works, the partial one does not exist */
	ck_assert_int_eq(blk_req(VIRTIO_BLK_T_IN, DISK_SECTORS - 1, in, 512, true, NULL),
			 VIRTIO_BLK_S_OK);
	ck_assert_int_eq(irq.level, 1);
	ck_assert_int_eq(errors, 0);
}
END_TEST

START_TEST(write_read_indirect)
{
	/* a write whose header, data and status come from an indirect table */
	uint64_t tbl = tguest_alloc(&g, 3 * 16, 16);
	struct tdesc_raw *t = tguest_ptr(&g, tbl);
	struct virtio_blk_outhdr hdr = { .type = VIRTIO_BLK_T_OUT, .sector = 3 };
	struct tbuf h = tbuf_new(&g, 16, 0, 0), d = tbuf_new(&g, 1024, 0, 0x5a);
	struct tbuf s = tbuf_new(&g, 1, 1, 0xff);
	uint8_t in[1024];
	uint32_t id, len;

	memcpy(tguest_ptr(&g, h.gpa), &hdr, 16);
	t[0] = (struct tdesc_raw){ h.gpa, 16, VRING_DESC_F_NEXT, 1 };
	t[1] = (struct tdesc_raw){ d.gpa, 1024, VRING_DESC_F_NEXT, 2 };
	t[2] = (struct tdesc_raw){ s.gpa, 1, VRING_DESC_F_WRITE, 0 };
	tvq_set_desc(&g, &q, 0, tbl, 48, VRING_DESC_F_INDIRECT, 0);
	q.next_desc = 1;
	tvq_publish(&g, &q, 0);
	tvq_kick(v, &q);
	ck_assert_int_eq(tvq_get_used(&g, &q, &id, &len), 1);
	ck_assert_uint_eq(id, 0);
	ck_assert_int_eq(*(uint8_t *)tguest_ptr(&g, s.gpa), VIRTIO_BLK_S_OK);
	ck_assert_int_eq(blk_req(VIRTIO_BLK_T_IN, 3, in, sizeof(in), true, NULL), VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < sizeof(in); i++)
		ck_assert_uint_eq(in[i], 0x5a);
}
END_TEST

/* Linux splits a request's data into page-sized segments: a write and a
 * read whose data lies in several descriptors (4 x 1 KiB) move every byte
 * and complete (the device once spun forever on the second segment). */
START_TEST(multi_segment_data)
{
	struct virtio_blk_outhdr hdr = { .type = VIRTIO_BLK_T_OUT, .sector = 20 };
	struct tbuf b[6];
	uint8_t file[4096];
	uint32_t id, len;
	int fd;

	b[0] = tbuf_new(&g, sizeof(hdr), 0, 0);
	memcpy(tguest_ptr(&g, b[0].gpa), &hdr, sizeof(hdr));
	for (unsigned i = 1; i <= 4; i++)
		b[i] = tbuf_new(&g, 1024, 0, (uint8_t)(0x10 * i));
	b[5] = tbuf_new(&g, 1, 1, 0xff);
	tvq_add(&g, &q, b, 6);
	tvq_kick(v, &q);
	ck_assert_int_eq(tvq_get_used(&g, &q, &id, &len), 1);
	ck_assert_int_eq(*(uint8_t *)tguest_ptr(&g, b[5].gpa), VIRTIO_BLK_S_OK);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_eq(pread(fd, file, sizeof(file), 20 * 512), sizeof(file));
	close(fd);
	for (unsigned i = 0; i < sizeof(file); i++)
		ck_assert_uint_eq(file[i], 0x10 * (i / 1024 + 1));

	hdr.type = VIRTIO_BLK_T_IN;
	b[0] = tbuf_new(&g, sizeof(hdr), 0, 0);
	memcpy(tguest_ptr(&g, b[0].gpa), &hdr, sizeof(hdr));
	for (unsigned i = 1; i <= 4; i++)
		b[i] = tbuf_new(&g, 1024, 1, 0);
	b[5] = tbuf_new(&g, 1, 1, 0xff);
	tvq_add(&g, &q, b, 6);
	tvq_kick(v, &q);
	ck_assert_int_eq(tvq_get_used(&g, &q, &id, &len), 1);
	ck_assert_uint_eq(len, 4096 + 1);
	ck_assert_int_eq(*(uint8_t *)tguest_ptr(&g, b[5].gpa), VIRTIO_BLK_S_OK);
	for (unsigned i = 1; i <= 4; i++)
		for (unsigned j = 0; j < 1024; j++)
			ck_assert_uint_eq(((uint8_t *)tguest_ptr(&g, b[i].gpa))[j], 0x10 * i);
	ck_assert_int_eq(errors, 0);
}
END_TEST

START_TEST(flush_and_get_id)
{
	char id[20];
	uint32_t used;

	ck_assert_int_eq(blk_req(VIRTIO_BLK_T_FLUSH, 0, NULL, 0, false, &used), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(used, 1);
	ck_assert_int_eq(blk_req(VIRTIO_BLK_T_GET_ID, 0, id, sizeof(id), true, &used),
			 VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(used, 21);
	ck_assert_int_eq(memcmp(id, "disk-serial-1\0\0\0\0\0\0\0", 20), 0);
	/* a 20-byte serial is not terminated, a longer one is cut */
	open_blk(false, "0123456789abcdefghijKLMN");
	ck_assert_int_eq(blk_req(VIRTIO_BLK_T_GET_ID, 0, id, sizeof(id), true, NULL),
			 VIRTIO_BLK_S_OK);
	ck_assert_int_eq(memcmp(id, "0123456789abcdefghij", 20), 0);
}
END_TEST

START_TEST(readonly_refuses_writes)
{
	uint8_t out[512], in[512];
	struct virtio_blk_discard_write_zeroes dz = { .sector = 0, .num_sectors = 1 };

	memset(out, 0xab, sizeof(out));
	open_blk(true, NULL);
	ck_assert_int_eq(blk_req(VIRTIO_BLK_T_OUT, 0, out, sizeof(out), false, NULL),
			 VIRTIO_BLK_S_IOERR);
	ck_assert_int_eq(blk_req(VIRTIO_BLK_T_WRITE_ZEROES, 0, &dz, sizeof(dz), false, NULL),
			 VIRTIO_BLK_S_IOERR);
	ck_assert_int_eq(blk_req(VIRTIO_BLK_T_FLUSH, 0, NULL, 0, false, NULL), VIRTIO_BLK_S_OK);
	ck_assert_int_eq(blk_req(VIRTIO_BLK_T_IN, 0, in, sizeof(in), true, NULL), VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < sizeof(in); i++)
		ck_assert_uint_eq(in[i], 0);   /* the file is untouched */
	ck_assert_int_eq(errors, 0);
}
END_TEST

START_TEST(bad_requests_ioerr)
{
	uint8_t buf[1024];
	uint32_t used;

	memset(buf, 1, sizeof(buf));
	/* past the end, straddling the end, wrapping around 2^64 */
	ck_assert_int_eq(blk_req(VIRTIO_BLK_T_IN, DISK_SECTORS, buf, 512, true, NULL),
			 VIRTIO_BLK_S_IOERR);
	ck_assert_int_eq(blk_req(VIRTIO_BLK_T_OUT, DISK_SECTORS - 1, buf, 1024, false, NULL),
			 VIRTIO_BLK_S_IOERR);
	ck_assert_int_eq(blk_req(VIRTIO_BLK_T_IN, UINT64_MAX, buf, 512, true, NULL),
			 VIRTIO_BLK_S_IOERR);
	ck_assert_int_eq(blk_req(VIRTIO_BLK_T_OUT, UINT64_MAX / 512, buf, 512, false, NULL),
			 VIRTIO_BLK_S_IOERR);
	/* not whole sectors */
	ck_assert_int_eq(blk_req(VIRTIO_BLK_T_IN, 0, buf, 100, true, &used), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(used, 1);
	/* unknown type */
	ck_assert_int_eq(blk_req(99, 0, NULL, 0, false, NULL), VIRTIO_BLK_S_UNSUPP);
	/* discard with the unmap flag is unsupported, too many segments is an error */
	{
		struct virtio_blk_discard_write_zeroes dz[17] = { { .num_sectors = 1, .flags = 1 } };

		ck_assert_int_eq(blk_req(VIRTIO_BLK_T_DISCARD, 0, dz, 16, false, NULL),
				 VIRTIO_BLK_S_UNSUPP);
		memset(dz, 0, sizeof(dz));
		ck_assert_int_eq(blk_req(VIRTIO_BLK_T_DISCARD, 0, dz, sizeof(dz), false, NULL),
				 VIRTIO_BLK_S_IOERR);
		dz[0] = (struct virtio_blk_discard_write_zeroes){ .sector = DISK_SECTORS - 1,
								  .num_sectors = 2 };
		ck_assert_int_eq(blk_req(VIRTIO_BLK_T_DISCARD, 0, dz, 16, false, NULL),
				 VIRTIO_BLK_S_IOERR);
	}
	ck_assert_int_eq(errors, 0);
	ck_assert(virtio_mmio_running(v));
}
END_TEST

START_TEST(malformed_requests)
{
	struct tbuf h = tbuf_new(&g, 8, 0, 0), s = tbuf_new(&g, 1, 1, 0xff);
	struct tbuf two[2] = { h, s };
	uint32_t id, len;

	/* header shorter than 16 bytes */
	tvq_add(&g, &q, two, 2);
	tvq_kick(v, &q);
	ck_assert_int_eq(tvq_get_used(&g, &q, &id, &len), 1);
	ck_assert_uint_eq(len, 1);
	ck_assert_int_eq(*(uint8_t *)tguest_ptr(&g, s.gpa), VIRTIO_BLK_S_IOERR);
	/* no writable byte for the status: returned with length 0 */
	h = tbuf_new(&g, 16, 0, 0);
	tvq_add(&g, &q, &h, 1);
	tvq_kick(v, &q);
	ck_assert_int_eq(tvq_get_used(&g, &q, &id, &len), 1);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(errors, 0);
}
END_TEST

START_TEST(discard_and_write_zeroes)
{
	uint8_t out[8192], in[8192];
	struct virtio_blk_discard_write_zeroes dz[2] = {
		{ .sector = 8, .num_sectors = 8 },
		{ .sector = 20, .num_sectors = 1, .flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP },
	};

	memset(out, 0x77, sizeof(out));
	ck_assert_int_eq(blk_req(VIRTIO_BLK_T_OUT, 8, out, sizeof(out), false, NULL),
			 VIRTIO_BLK_S_OK);
	ck_assert_int_eq(blk_req(VIRTIO_BLK_T_WRITE_ZEROES, 0, dz, sizeof(dz), false, NULL),
			 VIRTIO_BLK_S_OK);
	ck_assert_int_eq(blk_req(VIRTIO_BLK_T_IN, 8, in, sizeof(in), true, NULL), VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < sizeof(in); i++) {
		bool zero = i < 8 * 512 || (i >= 12 * 512 && i < 13 * 512);

		ck_assert_uint_eq(in[i], zero ? 0 : 0x77);
	}
	dz[0] = (struct virtio_blk_discard_write_zeroes){ .sector = 9, .num_sectors = 4 };
	ck_assert_int_eq(blk_req(VIRTIO_BLK_T_DISCARD, 0, dz, 16, false, NULL), VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(hostile_rings_fail_device)
{
	struct tbuf s = tbuf_new(&g, 1, 1, 0);

	/* a data descriptor past the end of RAM */
	tvq_set_desc(&g, &q, 0, g.mem.size - 8, 16, VRING_DESC_F_NEXT, 1);
	tvq_set_desc(&g, &q, 1, s.gpa, 1, VRING_DESC_F_WRITE, 0);
	tvq_publish(&g, &q, 0);
	tvq_kick(v, &q);
	ck_assert_int_eq(errors, 1);
	ck_assert_int_eq(last_err, -EFAULT);
	ck_assert(mmio_r32(v, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	ck_assert_int_eq(tvq_used_idx(&g, &q), 0);

	/* after a reset: avail idx jumping past the queue size */
	open_blk(false, NULL);
	((uint16_t *)tguest_ptr(&g, q.avail))[1] = 100;
	tvq_kick(v, &q);
	ck_assert_int_eq(errors, 2);
	ck_assert_int_eq(last_err, -ERANGE);
}
END_TEST

START_TEST(save_restore)
{
	struct virtio_blk_state st;
	uint8_t buf[512];

	ck_assert_int_eq(blk_req(VIRTIO_BLK_T_FLUSH, 0, NULL, 0, false, NULL), VIRTIO_BLK_S_OK);
	virtio_blk_save(blk, &st);
	ck_assert_uint_eq(st.capacity, DISK_SECTORS);
	ck_assert_uint_eq(st.mmio.vq[0].used_idx, 1);
	{
		struct virtio_blk_params p = { .path = path };
		struct virtio_blk *b2;

		ck_assert_int_eq(virtio_blk_create(&p, &g.mem, &irq.irq, 0xd0000000, &b2), 0);
		ck_assert_int_eq(virtio_blk_restore(b2, &st), 0);
		blk = virtio_blk_free(blk);
		blk = b2;
		v = virtio_blk_mmio(b2);
	}
	/* the restored device answers on the same ring */
	ck_assert_int_eq(blk_req(VIRTIO_BLK_T_IN, 0, buf, sizeof(buf), true, NULL), VIRTIO_BLK_S_OK);
	ck_assert_int_eq(tvq_used_idx(&g, &q), 2);
	st.capacity++;
	ck_assert_int_eq(virtio_blk_restore(blk, &st), -EINVAL);
	st.capacity--;
	st.readonly = 1;
	ck_assert_int_eq(virtio_blk_restore(blk, &st), -EINVAL);
}
END_TEST

START_TEST(free_null)
{
	ck_assert_ptr_null(virtio_blk_free(NULL));
}
END_TEST

static TCase *tc(Suite *s, const char *name)
{
	TCase *t = tcase_create(name);

	tcase_add_checked_fixture(t, setup, teardown);
	suite_add_tcase(s, t);
	return t;
}

static Suite *blk_suite(void)
{
	Suite *s = suite_create("virtio-blk");
	TCase *t;

	t = tc(s, "virtio_blk_create");
	tcase_add_test(t, create_errors);
	tcase_add_test(t, create_config_and_features);
	t = tc(s, "requests");
	tcase_add_test(t, write_read_back);
	tcase_add_test(t, write_read_indirect);
	tcase_add_test(t, multi_segment_data);
	tcase_add_test(t, flush_and_get_id);
	tcase_add_test(t, readonly_refuses_writes);
	tcase_add_test(t, bad_requests_ioerr);
	tcase_add_test(t, malformed_requests);
	tcase_add_test(t, discard_and_write_zeroes);
	tcase_add_test(t, hostile_rings_fail_device);
	t = tc(s, "virtio_blk_save");
	tcase_add_test(t, save_restore);
	t = tc(s, "virtio_blk_free");
	tcase_add_test(t, free_null);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(blk_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

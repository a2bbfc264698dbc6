/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of daemon/disk-copy.c, run once in a tmpfs (/dev/shm) and once
 * in the temporary directory's filesystem: a sparse image with data at a
 * few offsets is copied byte for byte with its holes kept; an existing
 * destination is refused and left alone; cancelling stops the copy and
 * removes the partial destination; progress grows monotonically and ends
 * at the total it announced. A filesystem without SEEK_HOLE (or with
 * reflinks, where there is no chunked copy to observe) is reported on
 * stderr and only what still applies is asserted. One TCase per public
 * function.
 */

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk-copy.h"

#define MIB (1024 * 1024)

/* One directory per filesystem and run, made and removed by main() ("" if
 * it could not be made); dir: one per test inside it. The loop index of
 * a test picks the filesystem: 0 tmpfs, 1 the temporary directory's. */
static char bases[2][256];
static char dir[320];
static char src[352], dst[352];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Removes path and what is under it, also what failed tests left (their
 * teardown does not run). */
static void rm_rf(const char *path)
{
	if (path[0])
		nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static bool make_dir(int i)
{
	if (!bases[i][0]) {
		fprintf(stderr, "test-disk-copy: no directory on filesystem %d; skipped there\n", i);
		return false;
	}
	snprintf(dir, sizeof(dir), "%s/t-XXXXXX", bases[i]);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(src, sizeof(src), "%s/src.img", dir);
	snprintf(dst, sizeof(dst), "%s/dst.img", dir);
	return true;
}

static void remove_dir(void)
{
	rm_rf(dir);
}

/* Deterministic, non-zero filler so a misplaced extent shows up. */
static void fill(char *buf, size_t len, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (char)((x >> 16) | 1);
	}
}

static void write_at(int fd, off_t off, size_t len, unsigned seed)
{
	char *buf = malloc(len);

	ck_assert_ptr_nonnull(buf);
	fill(buf, len, seed);
	ck_assert_int_eq(pwrite(fd, buf, len, off), (ssize_t)len);
	free(buf);
}

/* A sparse image of size bytes with data at 0, 1 MiB, 20 MiB (9 MiB of it,
 * more than one copy chunk) and, when tail, in its last 100 bytes. */
static void make_sparse(const char *path, off_t size, bool tail)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, size), 0);
	write_at(fd, 0, 4096, 1);
	write_at(fd, 1 * MIB, 12288, 2);
	write_at(fd, 20 * MIB, 9 * MIB, 3);
	if (tail)
		write_at(fd, size - 100, 100, 4);
	ck_assert_int_eq(fsync(fd), 0);
	ck_assert_int_eq(close(fd), 0);
}

/* Whether the filesystem of path reports holes: path has a hole before its
 * end, and filesystems without SEEK_HOLE report the first one at the end. */
static bool holes_supported(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	off_t hole;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	hole = lseek(fd, 0, SEEK_HOLE);
	close(fd);
	if (hole < 0 || hole >= st.st_size) {
		fprintf(stderr, "test-disk-copy: %s: no SEEK_HOLE here; holes not checked\n", dir);
		return false;
	}
	return true;
}

/* Byte-for-byte comparison, like cmp(1). */
static void assert_same_content(const char *a, const char *b)
{
	int fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_RDONLY | O_CLOEXEC);
	char *ba = malloc(MIB), *bb = malloc(MIB);
	struct stat sa, sb;
	off_t off = 0;

	ck_assert_int_ge(fa, 0);
	ck_assert_int_ge(fb, 0);
	ck_assert_ptr_nonnull(ba);
	ck_assert_ptr_nonnull(bb);
	ck_assert_int_eq(fstat(fa, &sa), 0);
	ck_assert_int_eq(fstat(fb, &sb), 0);
	ck_assert_int_eq(sa.st_size, sb.st_size);
	for (;;) {
		ssize_t na = pread(fa, ba, MIB, off), nb = pread(fb, bb, MIB, off);

		ck_assert_int_eq(na, nb);
		if (na <= 0)
			break;
		ck_assert_msg(memcmp(ba, bb, (size_t)na) == 0, "%s and %s differ in the MiB at %lld",
			      a, b, (long long)off);
		off += na;
	}
	ck_assert_int_eq(off, sa.st_size);
	free(ba);
	free(bb);
	close(fa);
	close(fb);
}

static blkcnt_t blocks(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_blocks;
}

struct progress_log {
	int calls;
	uint64_t last_done;
	uint64_t total;
	bool monotonic;
	bool bounded;
	bool same_total;
	int cancel_after;   /* cancelled() answers true from this call on; < 0 never */
	int cancel_calls;
};

static void on_progress(void *ud, uint64_t done, uint64_t total)
{
	struct progress_log *p = ud;

	if (p->calls > 0) {
		if (done < p->last_done)
			p->monotonic = false;
		if (total != p->total)
			p->same_total = false;
	}
	if (done > total)
		p->bounded = false;
	p->calls++;
	p->last_done = done;
	p->total = total;
}

static bool on_cancelled(void *ud)
{
	struct progress_log *p = ud;

	return p->cancel_after >= 0 && p->cancel_calls++ >= p->cancel_after;
}

static struct progress_log progress_log(int cancel_after)
{
	struct progress_log p = {
		.monotonic = true, .bounded = true, .same_total = true,
		.cancel_after = cancel_after,
	};
	return p;
}

/* ---- disk_copy_sparse ---- */

START_TEST(test_copy_sparse_content_and_holes)
{
	struct progress_log p = progress_log(-1);
	struct disk_copy_cb cb = { on_cancelled, on_progress, &p };
	bool reflinked = true;

	if (!make_dir(_i))
		return;
	make_sparse(src, 64 * MIB, false);
	ck_assert_int_eq(disk_copy_sparse(src, dst, &cb, &reflinked), 0);
	assert_same_content(src, dst);
	if (holes_supported(src)) {
		/* the source holds ~9 MiB of its 64: so must the copy, give or
		 * take a few blocks of metadata */
		ck_assert_int_lt(blocks(src), 16 * MIB / 512);
		ck_assert_msg(blocks(dst) <= blocks(src) + 64, "holes filled: %lld blocks vs %lld",
			      (long long)blocks(dst), (long long)blocks(src));
	}
	ck_assert_int_eq(access(dst, F_OK), 0);
	{
		struct stat st;

		ck_assert_int_eq(stat(dst, &st), 0);
		ck_assert_uint_eq(st.st_mode & 0777, 0600); /* images are private */
	}
	remove_dir();
}
END_TEST

/* A file whose size is not a multiple of the block size and whose last
 * bytes are data (a raw image written by a tool that did not round). */
START_TEST(test_copy_unaligned_tail)
{
	if (!make_dir(_i))
		return;
	make_sparse(src, 32 * MIB + 100, true);
	ck_assert_int_eq(disk_copy_sparse(src, dst, NULL, NULL), 0);
	assert_same_content(src, dst);
	if (holes_supported(src))
		ck_assert_int_le(blocks(dst), blocks(src) + 64);
	remove_dir();
}
END_TEST

START_TEST(test_copy_dense_and_empty)
{
	int fd;

	if (!make_dir(_i))
		return;
	/* all data */
	fd = open(src, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	write_at(fd, 0, 3 * MIB, 7);
	close(fd);
	ck_assert_int_eq(disk_copy_sparse(src, dst, NULL, NULL), 0);
	assert_same_content(src, dst);
	unlink(dst);
	/* all hole */
	fd = open(src, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 100 * MIB), 0);
	close(fd);
	ck_assert_int_eq(disk_copy_sparse(src, dst, NULL, NULL), 0);
	assert_same_content(src, dst);
	ck_assert_int_le(blocks(dst), 64);
	unlink(dst);
	/* empty */
	fd = open(src, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(disk_copy_sparse(src, dst, NULL, NULL), 0);
	assert_same_content(src, dst);
	remove_dir();
}
END_TEST

START_TEST(test_copy_destination_exists)
{
	static const char precious[] = "do not overwrite me";
	char buf[64] = "";
	int fd;

	if (!make_dir(_i))
		return;
	make_sparse(src, 32 * MIB, false);
	fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, precious, sizeof(precious)), (ssize_t)sizeof(precious));
	close(fd);

	ck_assert_int_eq(disk_copy_sparse(src, dst, NULL, NULL), -EEXIST);
	fd = open(dst, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), (ssize_t)sizeof(precious));
	close(fd);
	ck_assert_str_eq(buf, precious);
	{
		struct stat st;

		ck_assert_int_eq(stat(dst, &st), 0);
		ck_assert_uint_eq(st.st_mode & 0777, 0640);
	}
	/* a dangling symlink is not followed either */
	unlink(dst);
	ck_assert_int_eq(symlink("elsewhere.img", dst), 0);
	ck_assert_int_eq(disk_copy_sparse(src, dst, NULL, NULL), -EEXIST);
	{
		char target[400];

		snprintf(target, sizeof(target), "%s/elsewhere.img", dir);
		ck_assert_int_eq(access(target, F_OK), -1);
	}
	remove_dir();
}
END_TEST

START_TEST(test_copy_bad_source)
{
	if (!make_dir(_i))
		return;
	ck_assert_int_eq(disk_copy_sparse(src, dst, NULL, NULL), -ENOENT);
	ck_assert_int_eq(access(dst, F_OK), -1);
	/* a directory is not an image */
	ck_assert_int_eq(disk_copy_sparse(dir, dst, NULL, NULL), -EINVAL);
	ck_assert_int_eq(access(dst, F_OK), -1);
	/* a destination in a missing directory */
	make_sparse(src, 32 * MIB, false);
	{
		char bad[400];

		snprintf(bad, sizeof(bad), "%s/missing/dst.img", dir);
		ck_assert_int_eq(disk_copy_sparse(src, bad, NULL, NULL), -ENOENT);
	}
	remove_dir();
}
END_TEST

static void cancel_after(int n, int loop)
{
	struct progress_log p = progress_log(n);
	struct disk_copy_cb cb = { on_cancelled, on_progress, &p };
	bool reflinked = false;
	int r;

	if (!make_dir(loop))
		return;
	make_sparse(src, 64 * MIB, false);
	r = disk_copy_sparse(src, dst, &cb, &reflinked);
	if (reflinked) {
		/* a reflink is one ioctl: there is nothing to cancel */
		fprintf(stderr, "test-disk-copy: %s reflinks; cancellation not checked\n", dir);
		ck_assert_int_eq(r, 0);
		remove_dir();
		return;
	}
	ck_assert_int_eq(r, -ECANCELED);
	ck_assert_msg(access(dst, F_OK) == -1 && errno == ENOENT, "the partial copy was left behind");
	ck_assert_int_gt(p.cancel_calls, n);
	/* the source is untouched */
	ck_assert_int_eq(access(src, F_OK), 0);
	remove_dir();
}

START_TEST(test_cancel_at_once)
{
	cancel_after(0, _i);
}
END_TEST

START_TEST(test_cancel_midway)
{
	/* the data extents are 4 KiB, 12 KiB and 9 MiB (two chunks): stop
	 * before the fourth piece, after something was written */
	cancel_after(3, _i);
}
END_TEST

START_TEST(test_progress_reaches_total)
{
	struct progress_log p = progress_log(-1);
	struct disk_copy_cb cb = { NULL, on_progress, &p };

	if (!make_dir(_i))
		return;
	make_sparse(src, 64 * MIB, false);
	ck_assert_int_eq(disk_copy_sparse(src, dst, &cb, NULL), 0);
	ck_assert_int_gt(p.calls, 0);
	ck_assert_msg(p.monotonic, "progress went backwards");
	ck_assert_msg(p.bounded, "progress beyond total");
	ck_assert_msg(p.same_total, "the total changed during the copy");
	ck_assert_uint_eq(p.total, (uint64_t)blocks(src) * 512);
	ck_assert_uint_eq(p.last_done, p.total);
	remove_dir();
}
END_TEST

/* The same with an image whose size is not block-aligned: the last report
 * must still say 100%, or a progress bar stops at 99%. */
START_TEST(test_progress_reaches_total_unaligned)
{
	struct progress_log p = progress_log(-1);
	struct disk_copy_cb cb = { NULL, on_progress, &p };

	if (!make_dir(_i))
		return;
	make_sparse(src, 32 * MIB + 100, true);
	ck_assert_int_eq(disk_copy_sparse(src, dst, &cb, NULL), 0);
	ck_assert_int_gt(p.calls, 0);
	ck_assert_msg(p.monotonic, "progress went backwards");
	ck_assert_msg(p.bounded, "progress beyond total");
	ck_assert_msg(p.last_done == p.total, "the copy finished at %llu of %llu bytes",
		      (unsigned long long)p.last_done, (unsigned long long)p.total);
	remove_dir();
}
END_TEST

/* ---- disk_allocated_bytes ---- */

START_TEST(test_allocated_bytes)
{
	uint64_t bytes = 1;

	if (!make_dir(_i))
		return;
	ck_assert_int_eq(disk_allocated_bytes(src, &bytes), -ENOENT);
	ck_assert_uint_eq(bytes, 1);
	make_sparse(src, 64 * MIB, false);
	ck_assert_int_eq(disk_allocated_bytes(src, &bytes), 0);
	ck_assert_uint_eq(bytes, (uint64_t)blocks(src) * 512);
	/* at least the data that was written */
	ck_assert_uint_ge(bytes, 4096 + 12288 + 9 * MIB);
	if (holes_supported(src))
		ck_assert_uint_lt(bytes, 16 * MIB);
	remove_dir();
}
END_TEST

static Suite *disk_copy_suite(void)
{
	Suite *s = suite_create("disk-copy");
	TCase *tc;

	tc = tcase_create("disk_copy_sparse");
	tcase_add_loop_test(tc, test_copy_sparse_content_and_holes, 0, 2);
	tcase_add_loop_test(tc, test_copy_unaligned_tail, 0, 2);
	tcase_add_loop_test(tc, test_copy_dense_and_empty, 0, 2);
	tcase_add_loop_test(tc, test_copy_destination_exists, 0, 2);
	tcase_add_loop_test(tc, test_copy_bad_source, 0, 2);
	tcase_add_loop_test(tc, test_cancel_at_once, 0, 2);
	tcase_add_loop_test(tc, test_cancel_midway, 0, 2);
	tcase_add_loop_test(tc, test_progress_reaches_total, 0, 2);
	tcase_add_loop_test(tc, test_progress_reaches_total_unaligned, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("disk_allocated_bytes");
	tcase_add_loop_test(tc, test_allocated_bytes, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	SRunner *sr;
	int failed;

	snprintf(bases[0], sizeof(bases[0]), "/dev/shm/hvd-test-disk-copy-XXXXXX");
	snprintf(bases[1], sizeof(bases[1]), "%s/hvd-test-disk-copy-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	for (int i = 0; i < 2; i++) {
		if (!mkdtemp(bases[i])) {
			fprintf(stderr, "test-disk-copy: %s: %s\n", bases[i], strerror(errno));
			bases[i][0] = '\0';
		}
	}
	if (!bases[0][0] && !bases[1][0])
		return 77;
	sr = srunner_create(disk_copy_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rm_rf(bases[0]);
	rm_rf(bases[1]);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

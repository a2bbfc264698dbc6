/* disk-copy.c - sparse-aware, cancellable copies of raw disk images.
 *
 * Holes stay holes: only extents SEEK_DATA reports are copied, and the
 * destination is sized with ftruncate first. A reflink is tried first
 * because on btrfs/xfs it makes the copy O(1). Runs on the thread pool;
 * never logs, returns -errno. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "disk-copy.h"

#define CHUNK (8ULL << 20)

int disk_free_bytes(const char *path, uint64_t *ret_bytes)
{
	struct statvfs sv;

	if (statvfs(path, &sv) < 0)
		return -errno;
	*ret_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
	return 0;
}

int disk_allocated_bytes(const char *path, uint64_t *ret_bytes)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	*ret_bytes = (uint64_t)st.st_blocks * 512;
	return 0;
}

static int copy_range(int in, int out, off_t off, uint64_t len)
{
	static __thread char *buf;
	off_t in_off = off, out_off = off;

	while (len > 0) {
		size_t n = len > CHUNK ? CHUNK : (size_t)len;
		ssize_t w = copy_file_range(in, &in_off, out, &out_off, n, 0);

		if (w < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
			/* no in-kernel copy here: fall back to read/write */
			ssize_t rd;

			if (!buf && !(buf = malloc(1 << 20)))
				return -ENOMEM;
			rd = pread(in, buf, n > (1 << 20) ? (1 << 20) : n, in_off);
			if (rd < 0)
				return -errno;
			if (rd == 0)
				return -EIO;
			if (pwrite(out, buf, (size_t)rd, out_off) != rd)
				return errno ? -errno : -EIO;
			in_off += rd;
			out_off += rd;
			len -= (uint64_t)rd;
			continue;
		}
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO; /* the source shrank under us */
		len -= (uint64_t)w;
	}
	return 0;
}

int disk_copy_sparse(const char *src, const char *dst, const struct disk_copy_cb *cb,
		     bool *ret_reflinked)
{
	struct stat st;
	uint64_t total, done = 0;
	off_t pos = 0;
	int in, out, r = 0;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	if (fstat(in, &st) < 0) {
		r = -errno;
		close(in);
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		close(in);
		return -EINVAL;
	}
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		r = -errno;
		close(in);
		return r;
	}
	total = (uint64_t)st.st_blocks * 512;
	if (ioctl(out, FICLONE, in) == 0) {
		if (ret_reflinked)
			*ret_reflinked = true;
		if (cb && cb->progress)
			cb->progress(cb->ud, total, total);
		goto sync;
	}
	if (ret_reflinked)
		*ret_reflinked = false;
	if (ftruncate(out, st.st_size) < 0) {
		r = -errno;
		goto fail;
	}
	while (pos < st.st_size) {
		off_t data = lseek(in, pos, SEEK_DATA), hole;

		if (data < 0) {
			if (errno == ENXIO)
				break; /* only a hole is left */
			r = -errno;
			goto fail;
		}
		hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0) {
			r = -errno;
			goto fail;
		}
		/* copy the extent in chunks so cancel and progress stay responsive */
		for (off_t o = data; o < hole; ) {
			uint64_t n = (uint64_t)(hole - o) > CHUNK ? CHUNK : (uint64_t)(hole - o);

			if (cb && cb->cancelled && cb->cancelled(cb->ud)) {
				r = -ECANCELED;
				goto fail;
			}
			r = copy_range(in, out, o, n);
			if (r < 0)
				goto fail;
			o += (off_t)n;
			done += n;
			if (cb && cb->progress)
				cb->progress(cb->ud, done > total ? total : done, total);
		}
		pos = hole;
	}
	/* extents end at st_size, blocks at a block boundary: say "all" */
	if (cb && cb->progress)
		cb->progress(cb->ud, total, total);
sync:
	if (fsync(out) < 0) {
		r = -errno;
		goto fail;
	}
	close(in);
	if (close(out) < 0) {
		r = -errno;
		unlink(dst);
		return r;
	}
	return 0;
fail:
	close(in);
	close(out);
	unlink(dst);
	return r;
}

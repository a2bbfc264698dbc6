/* disk-copy.h - copying raw disk images the way a clone needs them. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct disk_copy_cb {
	/* both optional; called from the copying thread */
	bool (*cancelled)(void *ud);
	void (*progress)(void *ud, uint64_t done, uint64_t total);
	void *ud;
};

/* Copies src to dst (which must not exist), preserving holes: a reflink
 * (FICLONE) when the filesystem can, else only the data extents found with
 * SEEK_DATA/SEEK_HOLE, via copy_file_range. dst is fsynced. On any error
 * or cancellation (-ECANCELED) dst is removed. ret_reflinked (may be NULL)
 * says whether a reflink was made. */
int disk_copy_sparse(const char *src, const char *dst, const struct disk_copy_cb *cb,
		     bool *ret_reflinked);

/* Bytes available to unprivileged writers on the filesystem of path. */
int disk_free_bytes(const char *path, uint64_t *ret_bytes);

/* Bytes src occupies on disk (st_blocks * 512): what a copy needs. */
int disk_allocated_bytes(const char *path, uint64_t *ret_bytes);

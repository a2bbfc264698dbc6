/* snapshot-file.h - the VM state file of a memory snapshot or live clone:
 * tagged plain-data sections between a header and a checksummed trailer.
 *
 * How snapshots and clones use it (guest RAM is never in this file):
 *  - Guest RAM lives in a memory file in the VM's runtime directory
 *    (today a memfd, memory.c), mapped MAP_SHARED by the VMM.
 *  - Freeze (snapshot --memory, or the source side of a live clone), on
 *    the device thread: pause every vCPU (no device work is then in
 *    flight: devices complete requests on that thread); save vm-state,
 *    each vcpu-state and each device's x_save() into a struct
 *    snapshot_image; remap the source's RAM MAP_PRIVATE from the same file
 *    at the same address (MAP_FIXED), so the source's later writes go to
 *    its private copy-on-write pages and the file stays the frozen image
 *    (KVM follows the new mapping through its MMU notifier; the memory
 *    slot does not change); resume. Then, outside the pause,
 *    snapshot_file_write() the image next to the memory file (temp file,
 *    fsync, rename: a crash leaves no state file or a whole one). The
 *    pause is the state save (about 0.25 ms per vCPU here) plus one mmap,
 *    flat in memory size.
 *  - Restore or clone: a new VMM process starts with `--restore STATE_FILE
 *    --memory-file FILE`, maps FILE MAP_PRIVATE (no read, no copy: pages
 *    fault in lazily, and writes stay private), creates KVM VM, RAM slot,
 *    vCPUs (CPUID set) and devices exactly as for a boot but without
 *    loading a kernel, then snapshot_file_read() + snapshot_image_check()
 *    against its own configuration, and only when everything validated:
 *    vmm_vm_state_restore, vcpu_state_restore for each vCPU, each device's
 *    x_restore, and it starts running. Restore is flat in memory size: the
 *    state file is tens of KiB whatever the RAM size.
 *  - Many clones map the same frozen file; each has only the pages it
 *    writes. The frozen file is deleted when no snapshot or VM uses it.
 *  - The state file does not identify its memory file: the two are made
 *    and kept together in one snapshot directory; the header's memory size
 *    must equal the memory file's size and the VM's RAM.
 *
 * Format, version 1 (little-endian, every offset 8-aligned):
 *   header   "HVDSNAP\0", u32 version, u32 header size (288), u32 vCPUs,
 *            u32 sections, u64 memory bytes, char config[256] (the
 *            machine's shape as one NUL-padded line, compared byte for
 *            byte: a readable digest that lets the error say what differs)
 *   sections u32 tag, u32 index, u64 size, payload, zeros to 8 bytes
 *   trailer  "HVDSEND\0", u32 CRC32C of every byte before it, u32 zero
 * Mandatory sections: one SNAPSHOT_TAG_VM (struct vmm_vm_state), one
 * SNAPSHOT_TAG_VCPU (struct vcpu_state) per vCPU with index 0..n-1. Other
 * tags are opaque device blobs whose owners define the payload (their
 * x_state struct); snapshot_image_check() matches them against what the
 * restoring VM has. A change to any section struct bumps the version. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define SNAPSHOT_VERSION      1u
#define SNAPSHOT_CONFIG_MAX   256u             /* config bytes, NUL included */
#define SNAPSHOT_MAX_VCPUS    1024u
#define SNAPSHOT_MAX_SECTIONS 4096u
#define SNAPSHOT_MAX_SECTION  (16u << 20)      /* one payload */
#define SNAPSHOT_MAX_FILE     (64u << 20)

enum snapshot_tag {
	SNAPSHOT_TAG_VM         = 0x01,   /* struct vmm_vm_state, index 0 */
	SNAPSHOT_TAG_VCPU       = 0x02,   /* struct vcpu_state, index = vCPU */
	SNAPSHOT_TAG_SERIAL     = 0x10,   /* struct vmm_serial_state */
	SNAPSHOT_TAG_I8042      = 0x11,
	SNAPSHOT_TAG_RTC        = 0x12,
	SNAPSHOT_TAG_VIRTIO_BLK = 0x20,   /* struct virtio_blk_state, index = disk */
	SNAPSHOT_TAG_VIRTIO_NET = 0x21,   /* struct virtio_net_state, index = nic */
	SNAPSHOT_TAG_VIRTIO_RNG = 0x22,   /* struct virtio_rng_state */
	SNAPSHOT_TAG_MACHINE    = 0x30,   /* VMM-level state (e.g. clone generation) */
};

struct snapshot_section {
	uint32_t tag;
	uint32_t index;
	uint64_t size;
	void *data;          /* size bytes, 8-aligned, owned by the image */
};

struct snapshot_image {
	uint32_t nvcpus;
	uint64_t memory_size;
	char config[SNAPSHOT_CONFIG_MAX];   /* NUL-terminated */
	uint32_t nsections;
	struct snapshot_section *sections;  /* in file order */
	uint32_t capacity;   /* private: room in sections[] */
};

/* A device kind the restoring VM has: count sections of this tag, with
 * indexes 0..count-1, each exactly size bytes. */
struct snapshot_device_spec {
	uint32_t tag;
	uint32_t count;
	uint64_t size;
};

/* An empty image for a VM of nvcpus vCPUs and memory_size bytes of RAM;
 * config (the machine's shape, see above) must be shorter than
 * SNAPSHOT_CONFIG_MAX. NULL when out of memory or an argument is out of
 * range. */
struct snapshot_image *snapshot_image_new(uint32_t nvcpus, uint64_t memory_size,
					  const char *config);

/* Appends a copy of data[0, size) as section (tag, index). Returns 0,
 * -EEXIST (that tag and index are there already), -EINVAL (tag 0), -E2BIG
 * (size or section count over the limits) or -ENOMEM; img unchanged on
 * error. */
int snapshot_image_add(struct snapshot_image *img, uint32_t tag, uint32_t index,
		       const void *data, uint64_t size);

/* The payload of section (tag, index) and its size, or NULL. */
const void *snapshot_image_find(const struct snapshot_image *img, uint32_t tag, uint32_t index,
				uint64_t *ret_size);

/* Accepts NULL; returns NULL. */
struct snapshot_image *snapshot_image_free(struct snapshot_image *img);

/* The file bytes for img into a malloc'd buffer. Refuses (-EINVAL) an
 * image the reader would refuse: VM section missing or not exactly one,
 * vCPU sections not exactly 0..nvcpus-1, wrong sizes, invalid VM or vCPU
 * state. Returns 0, -EINVAL or -ENOMEM; *ret_buf written only on success. */
int snapshot_file_encode(const struct snapshot_image *img, void **ret_buf, size_t *ret_len);

/* Writes img to path atomically: encode, write a temp file beside it
 * (path.tmp-PID-N, mode 0600, O_EXCL), fsync, rename over path, fsync the
 * directory. Returns 0 or
 * -errno (-EINVAL as snapshot_file_encode); on error path is untouched
 * and the temp file removed. */
int snapshot_file_write(const char *path, const struct snapshot_image *img);

/* The same with name relative to dirfd (AT_FDCWD: the current directory):
 * a sandboxed VMM keeps its runtime directory open and its seccomp filter
 * can then allow openat/renameat/unlinkat on that fd alone. */
int snapshot_file_write_at(int dirfd, const char *name, const struct snapshot_image *img);

/* Parses and validates len bytes of a state file: magic, version, size,
 * end marker, checksum, header fields, every section's bounds and
 * padding, duplicates, the mandatory sections, their sizes and contents
 * (vmm_vm_state_check, vcpu_state_check). Never reads outside buf.
 * Returns 0 and a new image (payloads copied out of buf), -ENOTSUP
 * (another format version), -EBADMSG (anything else wrong) or -ENOMEM,
 * with one line for the user in err ("snapshot: version 3, this hvd reads
 * version 1"). */
int snapshot_file_parse(const void *buf, size_t len, struct snapshot_image **ret, char *err,
			size_t errlen);

/* Reads path (a regular file of at most SNAPSHOT_MAX_FILE bytes) and
 * parses it as above. Returns 0, the errors of snapshot_file_parse, or
 * -errno of open/read (err says which file). */
int snapshot_file_read(const char *path, struct snapshot_image **ret, char *err, size_t errlen);

/* Checks a read image against the VM about to be restored: vCPU count,
 * memory size, config string, and for every device kind in specs exactly
 * count sections of exact size; a section of a tag neither mandatory nor
 * in specs is refused too. Call before touching the VM. Returns 0 or
 * -EINVAL with the reason in err ("snapshot: made for 2 vCPUs, this VM has
 * 1"). */
int snapshot_image_check(const struct snapshot_image *img, uint32_t nvcpus, uint64_t memory_size,
			 const char *config, const struct snapshot_device_spec *specs,
			 size_t nspecs, char *err, size_t errlen);

/* CRC32C (Castagnoli) of len bytes, continuing from crc (start with 0). */
uint32_t snapshot_crc32c(uint32_t crc, const void *data, size_t len);

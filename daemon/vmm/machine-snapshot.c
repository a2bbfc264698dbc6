/* machine-snapshot.c - freezing a running VM into an image (state file plus
 * frozen memory) and starting a VM from one: the engine side of memory
 * snapshots and live clones (snapshot-file.h has the whole design).
 *
 * Freeze runs on the device thread: every vCPU is paused (devices complete
 * requests on this thread or on a vCPU, so none is in flight), the VM, the
 * vCPUs and the devices are saved into a struct snapshot_image, guest RAM
 * becomes a frozen image (memory.c: a remap, no copy), and the vCPUs run
 * again unless the caller wants them left paused (a clone copies the disks
 * first). The state file is then encoded into a memfd. The answer names
 * both fds; the daemon opens them through /proc/PID/fd/N, which needs no
 * file system access from inside the sandbox.
 *
 * Restore runs in vmm_machine_create, before any vCPU thread exists: the
 * state file is read and checked against this machine's shape in full
 * before anything is written into KVM or a device. Devices without saved
 * state (i8042, CMOS RTC) start fresh: neither holds anything a running
 * guest depends on. A NIC whose MAC differs from the saved one (a clone
 * gets a new MAC) keeps the new one in its config space. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "machine.h"
#include "memory.h"
#include "snapshot-file.h"
#include "vcpu-state.h"
#include "virtio-blk.h"
#include "virtio-net.h"
#include "virtio-rng.h"
#include "vm-state.h"

/* SNAPSHOT_TAG_MACHINE: what the VMM itself keeps across a freeze. */
struct machine_snap_state {
	uint32_t generation;
	uint32_t reserved[7];   /* 0 */
};

/* The machine's shape, compared byte for byte on restore. */
static void machine_config(const struct vmm_machine *m, char *buf, size_t size)
{
	snprintf(buf, size, "hvd-vmm vcpus=%u memory_mib=%" PRIu64 " disks=%u nics=%u rng=%d "
		 "irqchip=%d", m->cfg.vcpus, m->cfg.memory_mib, m->cfg.ndisks, m->cfg.nnics,
		 m->cfg.rng ? 1 : 0, m->vm.irqchip ? 1 : 0);
}

static int add_devices(struct vmm_machine *m, struct snapshot_image *img)
{
	struct vmm_serial_state ser;
	struct machine_snap_state ms = {
		.generation = __atomic_load_n(&m->gen_port.generation, __ATOMIC_RELAXED) };
	int r;

	vmm_serial_save(&m->serial, &ser);
	if ((r = snapshot_image_add(img, SNAPSHOT_TAG_SERIAL, 0, &ser, sizeof(ser))) < 0 ||
	    (r = snapshot_image_add(img, SNAPSHOT_TAG_MACHINE, 0, &ms, sizeof(ms))) < 0)
		return r;
	for (unsigned i = 0; i < m->cfg.ndisks; i++) {
		struct virtio_blk_state st;

		virtio_blk_save(m->disks[i], &st);
		if ((r = snapshot_image_add(img, SNAPSHOT_TAG_VIRTIO_BLK, i, &st, sizeof(st))) < 0)
			return r;
	}
	for (unsigned i = 0; i < m->cfg.nnics; i++) {
		struct virtio_net_state st;

		virtio_net_save(m->nics[i].dev, &st);
		if ((r = snapshot_image_add(img, SNAPSHOT_TAG_VIRTIO_NET, i, &st, sizeof(st))) < 0)
			return r;
	}
	if (m->rng) {
		struct virtio_rng_state st;

		virtio_rng_save(m->rng, &st);
		if ((r = snapshot_image_add(img, SNAPSHOT_TAG_VIRTIO_RNG, 0, &st, sizeof(st))) < 0)
			return r;
	}
	return 0;
}

/* Everything but RAM, with every vCPU paused. */
static int save_image(struct vmm_machine *m, struct snapshot_image **ret)
{
	char config[SNAPSHOT_CONFIG_MAX];
	struct snapshot_image *img;
	struct vmm_vm_state *vs = malloc(sizeof(*vs));
	struct vcpu_state *cs = malloc(sizeof(*cs));
	int r;

	machine_config(m, config, sizeof(config));
	img = snapshot_image_new(m->nvcpus, m->mem.size, config);
	if (!img || !vs || !cs) {
		r = -ENOMEM;
		goto out;
	}
	r = vmm_vm_state_save(m->vm.fd, vs);
	if (r == 0)
		r = snapshot_image_add(img, SNAPSHOT_TAG_VM, 0, vs, sizeof(*vs));
	for (unsigned i = 0; r == 0 && i < m->nvcpus; i++) {
		r = vcpu_state_save(m->vm.fd, m->vcpus[i].fd, cs);
		if (r == 0)
			r = snapshot_image_add(img, SNAPSHOT_TAG_VCPU, i, cs, sizeof(*cs));
	}
	if (r == 0)
		r = add_devices(m, img);
out:
	free(vs);
	free(cs);
	if (r < 0)
		img = snapshot_image_free(img);
	*ret = img;
	return r;
}

/* The encoded state file in a new memfd; its fd in *ret_fd. */
static int encode_to_memfd(const struct snapshot_image *img, int *ret_fd, size_t *ret_len)
{
	void *buf = NULL;
	size_t len = 0, done = 0;
	int fd, r;

	r = snapshot_file_encode(img, &buf, &len);
	if (r < 0)
		return r;
	fd = memfd_create("hvd-vm-state", MFD_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		free(buf);
		return r;
	}
	while (done < len) {
		ssize_t w = write(fd, (const uint8_t *)buf + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			r = w < 0 ? -errno : -EIO;
			free(buf);
			close(fd);
			return r;
		}
		done += (size_t)w;
	}
	free(buf);
	*ret_fd = fd;
	*ret_len = len;
	return 0;
}

int vmm_machine_freeze(struct vmm_machine *m, bool resume, json_t **ret)
{
	struct snapshot_image *img = NULL;
	bool was_running = m->state == VMM_MACHINE_RUNNING;
	uint64_t t0, paused_ns;
	size_t state_len = 0;
	int r, state_fd = -1;

	if (m->state != VMM_MACHINE_RUNNING && m->state != VMM_MACHINE_PAUSED)
		return -EBUSY;
	if (m->mem.fd < 0 || m->cfg.hugepages)
		return -ENOTSUP;
	t0 = vmm_now_ns();
	if (was_running && vmm_machine_command_vcpus(m, VMM_VCPU_CMD_PAUSE))
		return -EBUSY;   /* a vCPU died: the stop is on its way */
	r = save_image(m, &img);
	if (r == 0) {
		r = vmm_memory_freeze(&m->mem, m->cfg.name ? m->cfg.name : "hvd-guest");
		if (r == -ENOTRECOVERABLE)
			vmm_machine_request_stop(m, VMM_STOP_CRASH, 0,
						 "guest RAM lost while freezing it");
	}
	if (was_running && (resume || r < 0)) {
		vmm_machine_command_vcpus(m, VMM_VCPU_CMD_RESUME);
	} else if (was_running) {
		/* left paused for the caller, who resumes it with "resume" */
		pthread_mutex_lock(&m->lock);
		m->state = VMM_MACHINE_PAUSED;
		pthread_mutex_unlock(&m->lock);
	}
	paused_ns = vmm_now_ns() - t0;
	/* what the guest wrote until the freeze is in console.log when the
	 * caller hears of it */
	vmm_machine_flush_console(m);
	if (r == 0)
		r = encode_to_memfd(img, &state_fd, &state_len);
	snapshot_image_free(img);
	if (r < 0)
		return r;
	if (m->state_fd >= 0)
		close(m->state_fd);   /* the previous freeze's: read by now */
	m->state_fd = state_fd;
	*ret = json_pack("{s:b, s:i, s:i, s:I, s:i, s:I, s:I, s:s}",
			 "ok", 1, "pid", (int)getpid(), "memory_fd", m->mem.fd,
			 "memory_bytes", (json_int_t)m->mem.size, "state_fd", state_fd,
			 "state_bytes", (json_int_t)state_len,
			 "paused_us", (json_int_t)(paused_ns / 1000),
			 "state", vmm_machine_state_name(m->state));
	json_object_set_new(*ret, "generation",
			    json_integer(__atomic_load_n(&m->gen_port.generation,
							 __ATOMIC_RELAXED)));
	return *ret ? 0 : -ENOMEM;
}

void vmm_machine_thaw(struct vmm_machine *m)
{
	if (m->state != VMM_MACHINE_PAUSED)
		return;
	vmm_machine_command_vcpus(m, VMM_VCPU_CMD_RESUME);
	pthread_mutex_lock(&m->lock);
	m->state = VMM_MACHINE_RUNNING;
	pthread_mutex_unlock(&m->lock);
}

static int restore_devices(struct vmm_machine *m, const struct snapshot_image *img)
{
	const struct machine_snap_state *ms =
		snapshot_image_find(img, SNAPSHOT_TAG_MACHINE, 0, NULL);
	int r = vmm_serial_restore(&m->serial,
				   snapshot_image_find(img, SNAPSHOT_TAG_SERIAL, 0, NULL));

	for (unsigned i = 0; r == 0 && i < m->cfg.ndisks; i++)
		r = virtio_blk_restore(m->disks[i],
				       snapshot_image_find(img, SNAPSHOT_TAG_VIRTIO_BLK, i, NULL));
	for (unsigned i = 0; r == 0 && i < m->cfg.nnics; i++) {
		struct virtio_net_state st;
		struct virtio_net_state now;

		memcpy(&st, snapshot_image_find(img, SNAPSHOT_TAG_VIRTIO_NET, i, NULL), sizeof(st));
		virtio_net_save(m->nics[i].dev, &now);
		/* a clone's new MAC stays; the driver reads it when it next
		 * asks (Linux reads it once, at probe) */
		memcpy(st.mac, now.mac, sizeof(st.mac));
		r = virtio_net_restore(m->nics[i].dev, &st);
	}
	if (r == 0 && m->rng)
		r = virtio_rng_restore(m->rng,
				       snapshot_image_find(img, SNAPSHOT_TAG_VIRTIO_RNG, 0, NULL));
	if (r == 0)
		__atomic_store_n(&m->gen_port.generation, ms->generation + 1, __ATOMIC_RELAXED);
	return r;
}

int vmm_machine_restore(struct vmm_machine *m, const char *path, char *err, size_t errlen)
{
	char config[SNAPSHOT_CONFIG_MAX];
	const struct snapshot_device_spec specs[] = {
		{ SNAPSHOT_TAG_SERIAL, 1, sizeof(struct vmm_serial_state) },
		{ SNAPSHOT_TAG_MACHINE, 1, sizeof(struct machine_snap_state) },
		{ SNAPSHOT_TAG_VIRTIO_BLK, m->cfg.ndisks, sizeof(struct virtio_blk_state) },
		{ SNAPSHOT_TAG_VIRTIO_NET, m->cfg.nnics, sizeof(struct virtio_net_state) },
		{ SNAPSHOT_TAG_VIRTIO_RNG, m->rng ? 1 : 0, sizeof(struct virtio_rng_state) },
	};
	struct snapshot_image *img = NULL;
	const struct machine_snap_state *ms;
	int r;

	r = snapshot_file_read(path, &img, err, errlen);
	if (r < 0)
		return r;
	machine_config(m, config, sizeof(config));
	r = snapshot_image_check(img, m->nvcpus, m->mem.size, config, specs,
				 sizeof(specs) / sizeof(specs[0]), err, errlen);
	if (r < 0)
		goto out;
	ms = snapshot_image_find(img, SNAPSHOT_TAG_MACHINE, 0, NULL);
	for (unsigned i = 0; i < sizeof(ms->reserved) / sizeof(ms->reserved[0]); i++)
		if (ms->reserved[i])
			r = -EBADMSG;
	if (r < 0 || ms->generation == UINT32_MAX) {
		snprintf(err, errlen, "snapshot: invalid machine section");
		r = -EBADMSG;
		goto out;
	}
	r = vmm_vm_state_restore(m->vm.fd, snapshot_image_find(img, SNAPSHOT_TAG_VM, 0, NULL));
	if (r < 0) {
		snprintf(err, errlen, "snapshot: restoring the interrupt controllers and clock: %s",
			 strerror(-r));
		goto out;
	}
	for (unsigned i = 0; i < m->nvcpus; i++) {
		r = vcpu_state_restore(m->vm.fd, m->vcpus[i].fd,
				       snapshot_image_find(img, SNAPSHOT_TAG_VCPU, i, NULL));
		if (r < 0) {
			snprintf(err, errlen, "snapshot: restoring vcpu %u: %s", i, strerror(-r));
			goto out;
		}
	}
	r = restore_devices(m, img);
	if (r < 0)
		snprintf(err, errlen, "snapshot: device state does not fit this VM: %s",
			 strerror(-r));
out:
	snapshot_image_free(img);
	return r;
}

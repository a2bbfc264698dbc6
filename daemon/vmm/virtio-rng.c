/* virtio-rng.c - virtio entropy device.
 *
 * Fills the writable buffers of each request with getrandom(2) bytes
 * (non-blocking: the kernel pool is initialised long before a VM runs).
 * At most RNG_MAX_REQUEST bytes are given per request, whatever the guest
 * offers, so a guest cannot make one notification cost much host time; the
 * used length tells the driver how much it got. */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>
#include <linux/virtio_ids.h>
#include "virtio-rng.h"

#define RNG_MAX_REQUEST 65536u

struct virtio_rng {
	struct virtio_mmio vdev;
	struct virtq_chain chain;   /* scratch, under vdev.lock */
};

static struct virtio_rng *to_rng(struct virtio_mmio *vdev)
{
	return container_of(vdev, struct virtio_rng, vdev);
}

/* Fills the writable segments of c, up to RNG_MAX_REQUEST bytes. */
static uint32_t rng_fill(const struct virtq_chain *c)
{
	uint32_t done = 0;

	for (unsigned i = c->nout; i < c->nseg && done < RNG_MAX_REQUEST; i++) {
		uint8_t *p = c->seg[i].ptr;
		uint32_t len = c->seg[i].len;

		if (len > RNG_MAX_REQUEST - done)
			len = RNG_MAX_REQUEST - done;
		while (len > 0) {
			ssize_t r = getrandom(p, len, GRND_NONBLOCK);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return done;
			p += r;
			len -= (uint32_t)r;
			done += (uint32_t)r;
		}
	}
	return done;
}

static int rng_notify(struct virtio_mmio *vdev, unsigned qi)
{
	struct virtio_rng *rng = to_rng(vdev);
	struct virtq *q = &vdev->vq[qi];
	int r;

	while ((r = virtq_pop(q, &rng->chain)) == 1)
		virtq_push(q, rng->chain.head, rng_fill(&rng->chain));
	virtio_mmio_signal_used(vdev, qi);
	return r;
}

static void rng_get_config(struct virtio_mmio *vdev, uint8_t *buf)
{
	(void)vdev;
	(void)buf;   /* no config space */
}

static const struct virtio_mmio_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.num_queues = 1,
	.config_size = 0,
	.get_config = rng_get_config,
	.notify = rng_notify,
};

int virtio_rng_create(const struct guest_mem *mem, struct vmm_irq *irq, uint64_t base,
		      struct virtio_rng **ret_rng)
{
	struct virtio_rng *rng;
	int r;

	rng = calloc(1, sizeof(*rng));
	if (!rng)
		return -ENOMEM;
	r = virtio_mmio_init(&rng->vdev, &rng_ops, mem, irq, base, 0, VIRTIO_RNG_QUEUE_SIZE);
	if (r < 0) {
		free(rng);
		return r;
	}
	*ret_rng = rng;
	return 0;
}

struct virtio_rng *virtio_rng_free(struct virtio_rng *rng)
{
	if (!rng)
		return NULL;
	virtio_mmio_destroy(&rng->vdev);
	free(rng);
	return NULL;
}

struct virtio_mmio *virtio_rng_mmio(struct virtio_rng *rng)
{
	return &rng->vdev;
}

void virtio_rng_save(const struct virtio_rng *rng, struct virtio_rng_state *st)
{
	virtio_mmio_save(&rng->vdev, &st->mmio);
}

int virtio_rng_restore(struct virtio_rng *rng, const struct virtio_rng_state *st)
{
	return virtio_mmio_restore(&rng->vdev, &st->mmio);
}

/* virtio-net.c - virtio network device on a TAP fd.
 *
 * The tap carries the same 12-byte virtio_net_hdr_v1 the guest uses (see
 * tap.c), so frames go between the tap and guest buffers with readv/writev
 * and no bounce buffer. No offload feature is offered, so:
 *  - TX: the guest's header is not passed on; a zeroed header (no checksum
 *    offload, no GSO) is written in its place, so a hostile header never
 *    reaches the kernel;
 *  - RX: the kernel writes a plain header; num_buffers is set to 1 here.
 * A chain that cannot hold a frame (readable RX buffers, shorter than the
 * header) is returned empty; a frame too big or a tap write error drops
 * that frame, as a NIC would. Malformed rings fail the device.
 * rx_stalled is true when the loop was told (-ENOBUFS) to stop polling the
 * tap; the next RX queue notification clears it and calls rx_resume. */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include "tap.h"
#include "virtio-net.h"

#define HDR_LEN VMM_TAP_VNET_HDR_LEN
#define MAX_FRAME 65550u           /* 64 KiB IP packet + Ethernet and VLAN header */
#define RX_BATCH 64u               /* frames per virtio_net_rx_ready call */
#define NET_CONFIG_SIZE offsetof(struct virtio_net_config, max_virtqueue_pairs)

struct virtio_net {
	struct virtio_mmio vdev;
	int tap;
	uint8_t mac[6];
	bool rx_stalled;
	void (*rx_resume)(void *opaque);
	void *opaque;
	/* scratch, under vdev.lock */
	struct virtq_chain chain;
	struct iovec iov[VIRTQ_MAX_SIZE + 1];
};

static struct virtio_net *to_net(struct virtio_mmio *vdev)
{
	return container_of(vdev, struct virtio_net, vdev);
}

/* Sends the frame of the popped chain to the tap; errors drop the frame. */
static void tx_one(struct virtio_net *net)
{
	static const uint8_t zero_hdr[HDR_LEN];
	const struct virtq_chain *c = &net->chain;
	ssize_t r;
	int n;

	if (c->out_len < HDR_LEN || c->out_len - HDR_LEN > MAX_FRAME)
		return;
	net->iov[0] = (struct iovec){ .iov_base = (void *)zero_hdr, .iov_len = HDR_LEN };
	n = virtq_chain_iov(c, false, HDR_LEN, c->out_len - HDR_LEN, net->iov + 1, VIRTQ_MAX_SIZE);
	if (n < 0)
		return;
	do
		r = writev(net->tap, net->iov, n + 1);
	while (r < 0 && errno == EINTR);
}

static int net_tx(struct virtio_net *net)
{
	struct virtq *q = &net->vdev.vq[VIRTIO_NET_TXQ];
	int r;

	while ((r = virtq_pop(q, &net->chain)) == 1) {
		tx_one(net);
		virtq_push(q, net->chain.head, 0);
	}
	virtio_mmio_signal_used(&net->vdev, VIRTIO_NET_TXQ);
	return r;
}

static int net_notify(struct virtio_mmio *vdev, unsigned q)
{
	struct virtio_net *net = to_net(vdev);

	if (q == VIRTIO_NET_TXQ)
		return net_tx(net);
	if (net->rx_stalled) {
		net->rx_stalled = false;
		if (net->rx_resume)
			net->rx_resume(net->opaque);
	}
	return 0;
}

/* Reads one frame into the popped chain. Returns 0 (chain used), or -errno
 * of readv (-EAGAIN: tap empty) with the chain untouched. */
static int rx_one(struct virtio_net *net)
{
	const struct virtq_chain *c = &net->chain;
	struct virtq *q = &net->vdev.vq[VIRTIO_NET_RXQ];
	uint16_t num_buffers = htole16(1);
	uint64_t len = c->in_len < HDR_LEN + MAX_FRAME ? c->in_len : HDR_LEN + MAX_FRAME;
	ssize_t r;
	int n;

	if (c->nout > 0 || c->in_len < HDR_LEN) {
		virtq_push(q, c->head, 0);
		return 0;
	}
	n = virtq_chain_iov(c, true, 0, len, net->iov, VIRTQ_MAX_SIZE);
	if (n < 0) {
		virtq_push(q, c->head, 0);
		return 0;
	}
	do
		r = readv(net->tap, net->iov, n);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r < HDR_LEN) {
		virtq_push(q, c->head, 0);
		return 0;
	}
	virtq_chain_write(c, offsetof(struct virtio_net_hdr_v1, num_buffers), &num_buffers,
			  sizeof(num_buffers));
	virtq_push(q, c->head, (uint32_t)r);
	return 0;
}

int virtio_net_rx_ready(struct virtio_net *net)
{
	struct virtio_mmio *vdev = &net->vdev;
	struct virtq *q = &vdev->vq[VIRTIO_NET_RXQ];
	int r = 0;

	pthread_mutex_lock(&vdev->lock);
	if (!virtio_mmio_running(vdev) || !q->ready) {
		net->rx_stalled = true;
		r = -ENOBUFS;
		goto out;
	}
	for (unsigned i = 0; i < RX_BATCH; i++) {
		r = virtq_pop(q, &net->chain);
		if (r < 0) {
			virtio_mmio_fail(vdev, r, virtq_strerror(r));
			r = -EIO;
			break;
		}
		if (r == 0) {
			net->rx_stalled = true;
			r = -ENOBUFS;
			break;
		}
		r = rx_one(net);
		if (r < 0) {
			virtq_unpop(q);
			if (r == -EAGAIN)
				r = 0;
			break;
		}
	}
	virtio_mmio_signal_used(vdev, VIRTIO_NET_RXQ);
out:
	pthread_mutex_unlock(&vdev->lock);
	return r;
}

static void net_get_config(struct virtio_mmio *vdev, uint8_t *buf)
{
	struct virtio_net *net = to_net(vdev);
	struct virtio_net_config cfg = { .status = htole16(VIRTIO_NET_S_LINK_UP) };

	memcpy(cfg.mac, net->mac, sizeof(cfg.mac));
	memcpy(buf, &cfg, NET_CONFIG_SIZE);
}

static const struct virtio_mmio_ops net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.num_queues = 2,
	.config_size = NET_CONFIG_SIZE,
	.get_config = net_get_config,
	.notify = net_notify,
};

int virtio_net_create(const struct virtio_net_params *p, const struct guest_mem *mem,
		      struct vmm_irq *irq, uint64_t base, struct virtio_net **ret_net)
{
	struct virtio_net *net;
	uint64_t features = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS);
	int r;

	if (p->tap_fd < 0)
		return -EINVAL;
	net = calloc(1, sizeof(*net));
	if (!net)
		return -ENOMEM;
	net->tap = p->tap_fd;
	memcpy(net->mac, p->mac, sizeof(net->mac));
	net->rx_resume = p->rx_resume;
	net->opaque = p->opaque;
	r = virtio_mmio_init(&net->vdev, &net_ops, mem, irq, base, features, VIRTIO_NET_QUEUE_SIZE);
	if (r < 0) {
		free(net);
		return r;
	}
	*ret_net = net;
	return 0;
}

struct virtio_net *virtio_net_free(struct virtio_net *net)
{
	if (!net)
		return NULL;
	virtio_mmio_destroy(&net->vdev);
	free(net);
	return NULL;
}

struct virtio_mmio *virtio_net_mmio(struct virtio_net *net)
{
	return &net->vdev;
}

void virtio_net_save(const struct virtio_net *net, struct virtio_net_state *st)
{
	*st = (struct virtio_net_state){ 0 };
	memcpy(st->mac, net->mac, sizeof(st->mac));
	virtio_mmio_save(&net->vdev, &st->mmio);
}

int virtio_net_restore(struct virtio_net *net, const struct virtio_net_state *st)
{
	int r;

	if (memcmp(st->mac, net->mac, sizeof(net->mac)) != 0)
		return -EINVAL;
	r = virtio_mmio_restore(&net->vdev, &st->mmio);
	if (r == 0) {
		pthread_mutex_lock(&net->vdev.lock);
		net->rx_stalled = false;
		pthread_mutex_unlock(&net->vdev.lock);
	}
	return r;
}

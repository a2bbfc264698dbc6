/* virtio-net.h - virtio network device on a TAP fd (see tap.h).
 *
 * Queue 0 receives (tap -> guest), queue 1 transmits (guest -> tap). TX runs
 * on the queue notification. RX is driven by the VMM's event loop: it polls
 * the tap fd for readability and calls virtio_net_rx_ready(). When the guest
 * has no receive buffers left, virtio_net_rx_ready() returns -ENOBUFS: the
 * loop stops polling the tap and waits for the rx_resume callback, which
 * the device calls once the guest posts new receive buffers. */
#pragma once
#include <stdint.h>
#include "virtio-mmio.h"

#define VIRTIO_NET_QUEUE_SIZE 256
#define VIRTIO_NET_RXQ 0
#define VIRTIO_NET_TXQ 1

struct virtio_net;

struct virtio_net_params {
	int tap_fd;          /* from vmm_tap_open; not owned, close it after free */
	uint8_t mac[6];      /* guest MAC (VIRTIO_NET_F_MAC) */
	/* Called with the device lock held, from whichever thread delivered
	 * the RX queue notification, after virtio_net_rx_ready returned
	 * -ENOBUFS and the guest has posted buffers again. It must only
	 * schedule polling of the tap (e.g. uv_async_send), not call into
	 * the device. May be NULL. */
	void (*rx_resume)(void *opaque);
	void *opaque;
};

/* Plain-data state for snapshots. */
struct virtio_net_state {
	struct virtio_mmio_state mmio;
	uint8_t mac[6];
	uint8_t pad[2];
};

/* Creates the device at MMIO address base with interrupt irq over guest
 * memory mem. Offers VIRTIO_NET_F_MAC and VIRTIO_NET_F_STATUS (link up), no
 * offloads. Returns 0 and *ret_net, or -EINVAL (bad fd) / -ENOMEM. */
int virtio_net_create(const struct virtio_net_params *p, const struct guest_mem *mem,
		      struct vmm_irq *irq, uint64_t base, struct virtio_net **ret_net);

/* Frees the device (not the tap fd). Accepts NULL; returns NULL. */
struct virtio_net *virtio_net_free(struct virtio_net *net);

/* The transport: register &virtio_net_mmio(net)->mmio on the bus. */
struct virtio_mmio *virtio_net_mmio(struct virtio_net *net);

/* The tap fd is readable: moves frames from the tap into guest receive
 * buffers (at most a bounded batch per call, so level-triggered polling
 * stays fair). Returns 0 when the tap is drained or the batch is done
 * (keep polling), -ENOBUFS when the guest has no receive buffers or the
 * device is not running (stop polling until rx_resume), -EIO when the ring
 * was malformed (the device is now failed), or the -errno of readv. */
int virtio_net_rx_ready(struct virtio_net *net);

void virtio_net_save(const struct virtio_net *net, struct virtio_net_state *st);

/* Restores the transport state; -EINVAL if the MAC differs or the
 * transport state is invalid (see virtio_mmio_restore). After a restore
 * the loop should poll the tap (call virtio_net_rx_ready). */
int virtio_net_restore(struct virtio_net *net, const struct virtio_net_state *st);

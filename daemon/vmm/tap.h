/* tap.h - TAP devices for virtio-net and their Linux bridge. */
#pragma once
#include <net/if.h>

/* Size of the virtio-net header hvd's taps carry (virtio_net_hdr_v1). */
#define VMM_TAP_VNET_HDR_LEN 12

/* Opens /dev/net/tun (O_RDWR | O_CLOEXEC | O_NONBLOCK) and creates TAP
 * interface name (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, 12-byte vnet header,
 * no offloads). name NULL or "" lets the kernel pick one ("tap%d"). The
 * interface lives as long as the fd. Returns 0, the interface name in
 * ret_name (IFNAMSIZ bytes) and the fd in *ret_fd; or -EINVAL (name too
 * long), or the -errno of open/ioctl (-EPERM without CAP_NET_ADMIN). */
int vmm_tap_open(const char *name, char ret_name[IFNAMSIZ], int *ret_fd);

/* Brings interface ifname up. Returns 0 or -errno. */
int vmm_tap_set_up(const char *ifname);

/* Attaches ifname to Linux bridge bridge, creating the bridge if it does
 * not exist, and brings both up. Returns 0 (also when ifname is already in
 * that bridge) or -errno. */
int vmm_tap_attach_bridge(const char *ifname, const char *bridge);

/* Deletes bridge bridge (it must be down or is brought down first).
 * Returns 0, -ENXIO/-ENODEV if it does not exist, or -errno. */
int vmm_tap_bridge_delete(const char *bridge);

/* vmm_tap_open + vmm_tap_set_up + vmm_tap_attach_bridge (bridge may be NULL
 * for none). On error nothing is left behind except a bridge that was
 * created. Returns 0 or -errno as those. */
int vmm_tap_create(const char *name, const char *bridge, char ret_name[IFNAMSIZ], int *ret_fd);

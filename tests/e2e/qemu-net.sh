#!/bin/sh
# Two QEMU microvm guests of the tiny image on one Linux bridge (taps) ping each other.
# Proves the testbed's bridge/tun networking and the image's hvd.ip/hvd.ping options,
# the same set-up the hvd e2e tests use with hvd's own VMM.
. "${TB_E2E:-$(dirname "$0")}/lib/e2e.sh"
need_kvm
need_cmd qemu-system-x86_64 ip

ip link add br-e2e type bridge || fail "cannot create bridge"
ip link set br-e2e up
for i in 1 2; do
	ip tuntap add dev tap-e2e$i mode tap || fail "cannot create tap"
	ip link set tap-e2e$i master br-e2e
	ip link set tap-e2e$i up
done

t0=$(now)
qemu_guest /tmp/net1.log -smp 1 -kernel "$KERNEL" -initrd "$INITRD" \
	-append "$GUEST_CMDLINE quiet hvd.disk=0 hvd.ip=10.0.0.1/24 hvd.ping=10.0.0.2 hvd.test=ping hvd.ping_timeout=120 hvd.end=wait" \
	-netdev tap,id=n0,ifname=tap-e2e1,script=no,downscript=no \
	-device virtio-net-device,netdev=n0,mac=52:54:00:e2:e0:01
P1=$QPID
qemu_guest /tmp/net2.log -smp 1 -kernel "$KERNEL" -initrd "$INITRD" \
	-append "$GUEST_CMDLINE quiet hvd.disk=0 hvd.ip=10.0.0.2/24 hvd.ping=10.0.0.1 hvd.test=ping hvd.ping_timeout=120 hvd.end=wait" \
	-netdev tap,id=n0,ifname=tap-e2e2,script=no,downscript=no \
	-device virtio-net-device,netdev=n0,mac=52:54:00:e2:e0:02
P2=$QPID

# each guest keeps running after its ping (hvd.end=wait) so the other can ping it too
wait_for /tmp/net1.log '^HVD-TEST name=ping' 180 $P1 >/dev/null
wait_for /tmp/net2.log '^HVD-TEST name=ping' 180 $P2 >/dev/null
kill $P1 $P2 2>/dev/null
wait
echo "TIMING qemu-microvm-net two_guests_boot_and_ping_s=$(elapsed "$t0")"
for i in 1 2; do tr -d '\r' < /tmp/net$i.log | grep -a '^HVD-' | sed "s/^/  [guest$i] /"; done
check "guest1 eth0 configured with its MAC" grep -aq '^HVD-NET eth0=10.0.0.1/24 mac=52:54:00:e2:e0:01' /tmp/net1.log
check "guest2 eth0 configured with its MAC" grep -aq '^HVD-NET eth0=10.0.0.2/24 mac=52:54:00:e2:e0:02' /tmp/net2.log
check "guest1 pings guest2" grep -aq '^HVD-TEST name=ping result=pass' /tmp/net1.log
check "guest2 pings guest1" grep -aq '^HVD-TEST name=ping result=pass' /tmp/net2.log
exit $FAILED

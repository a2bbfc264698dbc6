#!/bin/sh
# QEMU microvm inside the testbed (nested KVM) boots the mkimage "tiny" image:
#  1. bzImage + initrd + virtio-blk disk + virtio-net, 2 vCPUs: reaches the boot marker,
#     mounts the ext4 disk and reads the file mkimage wrote, sees 2 CPUs, powers off.
#  2. the ELF vmlinux through its PVH entry note: reaches the boot marker.
# Prints the time from QEMU start to the marker (testbed clock) and the guest's uptime.
. "${TB_E2E:-$(dirname "$0")}/lib/e2e.sh"
need_kvm
need_cmd qemu-system-x86_64

boot() {
	# boot NAME KERNEL EXTRA_CMDLINE [qemu args...]
	name=$1 kern=$2 extra=$3; shift 3
	log=/tmp/qemu-boot-$name.log
	t0=$(now)
	qemu_guest "$log" -kernel "$kern" -initrd "$INITRD" \
		-append "$GUEST_CMDLINE quiet hvd.end=poweroff $extra" "$@"
	if t1=$(wait_for "$log" '^HVD-BOOT-MARKER' 300 "$QPID"); then
		up=$(sed -n 's/^HVD-BOOT-MARKER uptime=\([0-9.]*\).*/\1/p' "$log" | tr -d '\r')
		echo "TIMING qemu-microvm-$name start_to_marker_s=$(elapsed "$t0" "$t1") guest_uptime_s=$up"
	else
		echo "FAIL - $name: no boot marker in 300 s"; FAILED=1
	fi
	# the guest powers off by itself (hvd.end=poweroff)
	i=0; while kill -0 "$QPID" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	kill -0 "$QPID" 2>/dev/null && { kill -9 "$QPID"; echo "FAIL - $name: guest did not power off"; FAILED=1; }
	wait "$QPID" 2>/dev/null
	echo "TIMING qemu-microvm-$name start_to_exit_s=$(elapsed "$t0")"
	tr -d '\r' < "$log" | grep -a '^HVD-' | sed "s/^/  [$name] /"
}

boot bzimage "$KERNEL" "hvd.test=disk,cpus,net hvd.cpus=2" -smp 2 \
	-drive "id=d0,file=$DISK,format=raw,if=none,snapshot=on" -device virtio-blk-device,drive=d0 \
	-netdev user,id=n0 -device virtio-net-device,netdev=n0
L=/tmp/qemu-boot-bzimage.log
check "bzImage: boot marker" grep -aq '^HVD-BOOT-MARKER uptime=' $L
check "bzImage: ext4 disk mounted" grep -aq '^HVD-DISK mounted dev=/dev/vda' $L
check "bzImage: file written by the host read back" grep -aq '^HVD-DISK-FILE HVD-DISK-HELLO image=tiny' $L
check "bzImage: /init-step ran from the disk's userland" grep -aq '^HVD-INIT-STEP exit=0' $L
check "bzImage: disk write/read back" grep -aq '^HVD-TEST name=disk result=pass' $L
check "bzImage: 2 vCPUs seen" grep -aq '^HVD-TEST name=cpus result=pass n=2' $L
check "bzImage: virtio-net eth0" grep -aq '^HVD-TEST name=net result=pass' $L
check "bzImage: clean poweroff" grep -aq '^HVD-SHUTDOWN' $L

boot pvh "$VMLINUX" "hvd.disk=0" -smp 1
check "vmlinux (PVH): boot marker" grep -aq '^HVD-BOOT-MARKER uptime=' /tmp/qemu-boot-pvh.log

exit $FAILED

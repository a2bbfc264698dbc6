#!/bin/sh
# hvd inside the testbed boots a real Debian-kernel guest from the mkimage image (issue 3):
# it reaches /init (boot marker), sees its 2 vCPUs, mounts its ext4 virtio disk and reads
# the file the host wrote, writes to it; `hvadm stop` shuts it down cleanly (ACPI power
# button -> the guest's acpid -> poweroff -> ACPI S5), without hvd forcing the stop.
# E2E_GUEST_QUIET= (empty) shows the guest kernel messages.
# Needs: scripts/testbed --bin build/daemon/hvd --bin build/cli/hvadm (run-all adds them).
. "${TB_E2E:-$(dirname "$0")}/lib/e2e.sh"
need_kvm
need_hvd
# the testbed may have fewer CPUs than the guest's 2 vCPUs: the operator allows it
[ "$(nproc)" -ge 2 ] || HVD_CONF="host_vcpus = 2"
hvd_start
trap 'hvd_stop' EXIT

cp "$DISK" /tmp/web01.img
check "hvadm create web01" $H create web01 --vcpus 2 --memory 256 --kernel "$KERNEL" \
	--initrd "$INITRD" --cmdline "$GUEST_CMDLINE ${E2E_GUEST_QUIET-quiet} hvd.test=disk,cpus hvd.cpus=2" \
	--disk /tmp/web01.img
t0=$(now)
check "hvadm start web01" $H start web01
hvd_alive || { show_hvd_log; fail "hvd died"; }
if t1=$(console_wait web01 '^HVD-READY' 240); then
	m=$(sed -n 's/^HVD-BOOT-MARKER uptime=\([0-9.]*\).*/\1/p' /tmp/console-web01.log)
	echo "TIMING hvd start_to_ready_s=$(elapsed "$t0" "$t1") guest_marker_uptime_s=$m"
else
	echo "--- no HVD-READY on web01's console after 240 s; state: $(vm_state web01); console tail:"
	tail -n 30 /tmp/console-web01.log
fi
grep -a '^HVD-' /tmp/console-web01.log | sed 's/^/  [web01] /'
L=/tmp/console-web01.log
check "boot marker" grep -aq '^HVD-BOOT-MARKER uptime=' $L
check "2 vCPUs seen" grep -aq '^HVD-TEST name=cpus result=pass n=2' $L
check "ext4 virtio disk mounted" grep -aq '^HVD-DISK mounted dev=/dev/vda' $L
check "file written by the host read back" grep -aq '^HVD-DISK-FILE HVD-DISK-HELLO image=tiny' $L
check "disk write/read back" grep -aq '^HVD-TEST name=disk result=pass' $L

check "hvadm stop web01" $H stop web01
check "state stopped after hvadm stop" wait_state web01 stopped 60
console_wait web01 'HVD-SHUTDOWN' 10 >/dev/null
check "guest shut down cleanly (HVD-SHUTDOWN on its console)" grep -aq 'HVD-SHUTDOWN' $L
grep -aq 'HVD-SHUTDOWN' $L || { echo "--- console tail after the stop"; tail -n 15 $L; }
check "it powered off by itself (ACPI S5, not forced)" grep -q 'ended: poweroff: ACPI S5' /tmp/hvd.log
[ "$FAILED" = 0 ] || show_hvd_log
exit $FAILED

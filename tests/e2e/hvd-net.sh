#!/bin/sh
# Two hvd guests on one bridge ping each other (issue 3). The bridge is named in the
# definitions and hvd creates it if missing.
. "${TB_E2E:-$(dirname "$0")}/lib/e2e.sh"
need_kvm
need_hvd
hvd_start
trap 'hvd_stop' EXIT

for i in 1 2; do
	peer=$((3 - i))
	check "hvadm create net$i" $H create net$i --vcpus 1 --memory 256 --kernel "$KERNEL" \
		--initrd "$INITRD" --nic network=br-e2e,mac=52:54:00:e2:e1:0$i \
		--cmdline "$GUEST_CMDLINE quiet hvd.disk=0 hvd.ip=10.0.1.$i/24 hvd.ping=10.0.1.$peer hvd.ping_timeout=180 hvd.test=ping hvd.end=wait"
done
t0=$(now)
check "start net1" $H start net1
check "start net2" $H start net2
hvd_alive || { show_hvd_log; fail "hvd died"; }
for i in 1 2; do
	# both boot in parallel: the second gets a shorter extra wait
	console_wait net$i '^HVD-TEST name=ping' $((i == 1 ? 240 : 90)) >/dev/null \
		|| { echo "--- net$i console tail:"; tail -n 20 /tmp/console-net$i.log; }
	grep -a '^HVD-' /tmp/console-net$i.log | sed "s/^/  [net$i] /"
done
echo "TIMING hvd two_guests_boot_and_ping_s=$(elapsed "$t0")"
check "bridge br-e2e exists" ip link show br-e2e
check "net1 has its MAC" grep -aq '^HVD-NET eth0=10.0.1.1/24 mac=52:54:00:e2:e1:01' /tmp/console-net1.log
check "net2 has its MAC" grep -aq '^HVD-NET eth0=10.0.1.2/24 mac=52:54:00:e2:e1:02' /tmp/console-net2.log
check "net1 pings net2" grep -aq '^HVD-TEST name=ping result=pass' /tmp/console-net1.log
check "net2 pings net1" grep -aq '^HVD-TEST name=ping result=pass' /tmp/console-net2.log
$H stop net1 --force >/dev/null 2>&1
$H stop net2 --force >/dev/null 2>&1
[ "$FAILED" = 0 ] || show_hvd_log
exit $FAILED

#!/bin/sh
# Live clone of a real Linux guest on hvd (issue 5): a shell loop in the guest prints a
# count on its console every second; `hvadm clone` of the running VM gives a clone in
# which the loop goes on from the same count, the source goes on too, the clone reads a
# new VM generation and its guest re-binds its NIC to the clone's new MAC.
. "${TB_E2E:-$(dirname "$0")}/lib/e2e.sh"
need_kvm
need_hvd
hvd_start
trap 'hvd_stop' EXIT

check "hvadm create web01" $H create web01 --vcpus 1 --memory 256 --kernel "$KERNEL" \
	--initrd "$INITRD" --nic network=br-clone,mac=52:54:00:c1:00:01 \
	--cmdline "$GUEST_CMDLINE quiet hvd.disk=0 hvd.count=1 hvd.end=wait"
check "hvadm start web01" $H start web01
console_wait web01 '^HVD-COUNT n=3 ' 300 >/dev/null || { tail -n 20 /tmp/console-web01.log; fail "no count on web01"; }
last() { grep -a "^HVD-COUNT" "/tmp/console-$1.log" | tail -n 1 | sed 's/^HVD-COUNT n=\([0-9]*\).*/\1/'; }
before=$(last web01)
t0=$(now)
check "hvadm clone web01 (running, with memory)" $H clone web01 web01-c
echo "TIMING clone_op_s=$(elapsed "$t0")"
check "clone running" wait_state web01-c running 120
console_wait web01-c '^HVD-COUNT' 120 >/dev/null || { tail -n 20 /tmp/console-web01-c.log; }
console_wait web01-c '^HVD-GEN changed gen=1' 60 >/dev/null
first=$(grep -a "^HVD-COUNT" /tmp/console-web01-c.log | head -n 1 | sed 's/^HVD-COUNT n=\([0-9]*\).*/\1/')
echo "source count before the clone: $before; clone's first count: ${first:-none}"
check "the clone continues the source's count (not from 0)" \
	sh -c "[ -n '$first' ] && [ '$first' -ge '$before' ] && [ '$first' -le \$(( $before + 60 )) ]"
console_wait web01 "^HVD-COUNT n=$((before + 3)) " 60 >/dev/null
check "the source counts on" grep -aq "^HVD-COUNT n=$((before + 3)) " /tmp/console-web01.log
check "the source reads generation 0" grep -aq "^HVD-COUNT n=$((before + 3)) gen=0 " /tmp/console-web01.log
check "the clone's guest saw a new generation" grep -aq '^HVD-GEN changed gen=1' /tmp/console-web01-c.log
src_mac=$($H -o json show web01 | tr ',' '\n' | sed -n 's/.*"mac": *"\([^"]*\)".*/\1/p' | head -n 1)
cl_mac=$($H -o json show web01-c | tr ',' '\n' | sed -n 's/.*"mac": *"\([^"]*\)".*/\1/p' | head -n 1)
echo "MACs: source $src_mac, clone $cl_mac"
check "the clone has a different MAC (definition)" sh -c "[ -n '$cl_mac' ] && [ '$cl_mac' != '$src_mac' ]"
[ -n "$cl_mac" ] && console_wait web01-c "mac=$cl_mac" 60 >/dev/null
check "the clone's guest uses its new MAC" sh -c "[ -n '$cl_mac' ] && grep -aq 'mac=$cl_mac' /tmp/console-web01-c.log"
grep -a '^HVD-' /tmp/console-web01-c.log | tail -n 5 | sed 's/^/  [web01-c] /'
[ "$FAILED" = 0 ] || show_hvd_log
exit $FAILED

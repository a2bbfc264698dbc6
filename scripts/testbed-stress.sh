#!/bin/sh
# scripts/testbed-stress.sh - boot pairs of Linux guests side by side, again and again, inside
# the nested testbed, and count those that did not reach /init: the tool that tells a flaky
# emulated machine from a VMM bug (it found that -smp 2 with multi-threaded TCG triple-faults
# and wedges now and then, with QEMU as the inner VMM too).
#
#   scripts/testbed --bin build/daemon/hvd --bin build/cli/hvadm [--smp N] \
#       --env ROUNDS=12 [--env MODE=qemu] --run scripts/testbed-stress.sh
#
# Environment: ROUNDS (12), MODE hvd|qemu (hvd), VCPUS per guest (1), WAIT seconds per guest
# for its boot marker (120), STANDBY (standby_vmms for hvd), SHMEM_THP / ANON_THP (written to
# /sys/kernel/mm/transparent_hugepage/{shmem_enabled,enabled}), XARGS (more guest kernel
# arguments), TRACE=shutdown (record the L1 kernel's kvm_exit of a shutdown, with the guest
# RIP, and print it when a guest crashed). Last line: "RESULT mode=M ok=N crash=N"; exit 1
# if any guest crashed.
. "$TB_E2E/lib/e2e.sh"
need_kvm
ROUNDS=${ROUNDS:-12} MODE=${MODE:-hvd} WAIT=${WAIT:-120}
ARGS="$GUEST_CMDLINE hvd.disk=0 hvd.end=wait nokaslr ${XARGS:-}"
ok=0 crash=0
T=/sys/kernel/tracing
[ -n "${SHMEM_THP:-}" ] && echo "$SHMEM_THP" > /sys/kernel/mm/transparent_hugepage/shmem_enabled
[ -n "${ANON_THP:-}" ] && echo "$ANON_THP" > /sys/kernel/mm/transparent_hugepage/enabled
if [ "${TRACE:-}" = shutdown ]; then
	mount -t tracefs tracefs $T 2>/dev/null
	echo 'exit_reason == 127' > $T/events/kvm/kvm_exit/filter &&
		echo 1 > $T/events/kvm/kvm_exit/enable && echo 1 > $T/tracing_on ||
		echo "note: no kvm_exit tracing here"
fi
echo "config: mode=$MODE cpus=$(nproc) standby=${STANDBY:-default}" \
	"shmem_thp=$(cat /sys/kernel/mm/transparent_hugepage/shmem_enabled)" \
	"thp=$(cat /sys/kernel/mm/transparent_hugepage/enabled) args=$ARGS"
crashed() {
	crash=$((crash + 1))
	echo "round $r $1: $2"
	tail -n 8 "$3"
	[ "${TRACE:-}" = shutdown ] && grep -a kvm_exit $T/trace | tail -n 4
}

r=0
if [ "$MODE" = hvd ]; then
	[ -n "${STANDBY:-}" ] && HVD_CONF="standby_vmms = $STANDBY"
	hvd_start
	trap 'hvd_stop' EXIT
	for i in 1 2; do
		$H create s$i --vcpus "${VCPUS:-1}" --memory 256 --kernel "$KERNEL" --initrd "$INITRD" \
			--cmdline "$ARGS" >/dev/null || fail "cannot define s$i"
	done
	while [ $r -lt "$ROUNDS" ]; do
		r=$((r + 1))
		$H start s1 >/dev/null; $H start s2 >/dev/null
		for i in 1 2; do
			console_wait s$i HVD-BOOT-MARKER "$WAIT" >/dev/null
			st=$(vm_state s$i)
			if [ "$st" = running ] && grep -aq HVD-BOOT-MARKER /tmp/console-s$i.log; then
				ok=$((ok + 1))
			else
				crashed s$i "state $st, $(grep -a "vm s$i: crashed" /tmp/hvd.log | tail -n 1)" \
					/tmp/console-s$i.log
			fi
		done
		$H stop s1 --force >/dev/null 2>&1; $H stop s2 --force >/dev/null 2>&1
		wait_state s1 stopped 20; wait_state s2 stopped 20
		echo "round $r: ok=$ok crash=$crash"
	done
else
	need_cmd qemu-system-x86_64
	while [ $r -lt "$ROUNDS" ]; do
		r=$((r + 1))
		qemu_guest /tmp/q1.log -smp "${VCPUS:-1}" -kernel "$KERNEL" -initrd "$INITRD" -append "$ARGS"
		P1=$QPID
		qemu_guest /tmp/q2.log -smp "${VCPUS:-1}" -kernel "$KERNEL" -initrd "$INITRD" -append "$ARGS"
		P2=$QPID
		for i in 1 2; do
			eval p=\$P$i
			if wait_for /tmp/q$i.log HVD-BOOT-MARKER "$WAIT" "$p" >/dev/null; then
				ok=$((ok + 1))
			else
				crashed q$i "no marker (QEMU $(kill -0 "$p" 2>/dev/null && echo running || echo exited))" \
					/tmp/q$i.log
			fi
		done
		kill $P1 $P2 2>/dev/null; wait
		echo "round $r: ok=$ok crash=$crash"
	done
fi
echo "RESULT mode=$MODE ok=$ok crash=$crash"
[ "$crash" = 0 ]

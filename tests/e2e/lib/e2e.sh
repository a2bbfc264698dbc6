# shellcheck shell=sh disable=SC2034
# tests/e2e/lib/e2e.sh — helpers for e2e scripts running inside the testbed (source it).
#   . "${TB_E2E:-$(dirname "$0")}/lib/e2e.sh"

now() { cut -d' ' -f1 /proc/uptime; }
# elapsed START [END]: seconds between two now() values, 2 decimals
elapsed() { awk -v a="$1" -v b="${2:-$(now)}" 'BEGIN{printf "%.2f", b - a}'; }

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
FAILED=0
check() {
	# check DESCRIPTION COMMAND...: run COMMAND, print ok/FAIL, remember failures
	d=$1; shift
	if "$@"; then echo "ok   - $d"; else echo "FAIL - $d"; FAILED=1; fi
}

need_kvm() { [ -c /dev/kvm ] || skip "no /dev/kvm (not in the testbed? run: scripts/testbed --run $0)"; }
need_cmd() { for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip "$c not available"; done; }

# The mkimage image "tiny" as carried by the testbed (or HVD_IMAGE_DIR on a host).
IMAGE_DIR=${HVD_IMAGE_DIR:-/tb/images}/tiny
KERNEL=$IMAGE_DIR/bzImage
VMLINUX=$IMAGE_DIR/vmlinux
INITRD=$IMAGE_DIR/initrd
DISK=$IMAGE_DIR/disk.img
# mkimage's suggested command line (skips the slow CMOS RTC probe, see scripts/mkimage)
GUEST_CMDLINE=$(cat "$IMAGE_DIR/cmdline" 2>/dev/null || echo "console=ttyS0 reboot=k panic=-1 i8042.noaux initcall_blacklist=cmos_init")

# wait_for FILE PATTERN TIMEOUT_S [PID]: wait until FILE has a line matching PATTERN
# (grep -E); prints the uptime at which it was seen. Fails on timeout or if PID exits.
wait_for() {
	_f=$1 _p=$2 _t=$3 _pid=${4:-}
	_end=$(awk -v a="$(now)" -v t="$_t" 'BEGIN{print a + t}')
	while :; do
		if grep -aqE "$_p" "$_f" 2>/dev/null; then now; return 0; fi
		if [ -n "$_pid" ] && ! kill -0 "$_pid" 2>/dev/null; then
			grep -aqE "$_p" "$_f" 2>/dev/null && { now; return 0; }
			return 1
		fi
		awk -v a="$(now)" -v e="$_end" 'BEGIN{exit !(a > e)}' && return 1
		sleep 0.05
	done
}

# qemu_guest LOG [qemu args...]: start QEMU microvm (KVM) in the background on the tiny
# image, serial console to LOG; sets QPID. Caller adds -kernel/-append/devices.
qemu_guest() {
	_log=$1; shift
	qemu-system-x86_64 -M microvm -accel kvm -cpu host -m 256 -nodefaults -no-user-config \
		-display none -no-reboot -serial stdio "$@" </dev/null >"$_log" 2>&1 &
	QPID=$!
}

# ---- hvd inside the testbed (binaries passed with scripts/testbed --bin) ----------------
need_hvd() { need_cmd hvd hvadm; }
# hvd_start: start hvd with fresh state/runtime dirs; sets HVD_SOCK, HVD_PID; H = hvadm cmd.
# HVD_CONF, if set, is its configuration file's text.
hvd_start() {
	HVD_STATE=${HVD_STATE:-/var/lib/hvd-e2e} HVD_RUN=${HVD_RUN:-/run/hvd-e2e}
	rm -rf "$HVD_STATE" "$HVD_RUN"; mkdir -p "$HVD_STATE" "$HVD_RUN"
	HVD_SOCK=$HVD_RUN/hvd.sock
	printf '%s\n' "${HVD_CONF:-}" > /tmp/hvd-e2e.conf
	hvd --config /tmp/hvd-e2e.conf --state-dir "$HVD_STATE" --runtime-dir "$HVD_RUN" \
		--listen "unix:$HVD_SOCK" --log-level info >/tmp/hvd.log 2>&1 &
	HVD_PID=$!
	i=0; while [ ! -S "$HVD_SOCK" ] && [ $i -lt 300 ]; do
		kill -0 $HVD_PID 2>/dev/null || { cat /tmp/hvd.log; fail "hvd exited at start"; }
		sleep 0.1; i=$((i + 1))
	done
	[ -S "$HVD_SOCK" ] || { cat /tmp/hvd.log; fail "hvd socket did not appear"; }
	export HVD_SOCKET=$HVD_SOCK
	H="hvadm --socket $HVD_SOCK"
}
hvd_stop() {
	[ -n "${HVD_PID:-}" ] || return 0
	kill "$HVD_PID" 2>/dev/null; i=0
	while kill -0 "$HVD_PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	kill -9 "$HVD_PID" 2>/dev/null; HVD_PID=
}
hvd_alive() { [ -n "${HVD_PID:-}" ] && kill -0 "$HVD_PID" 2>/dev/null; }
# wait_state VM STATE TIMEOUT_S
wait_state() {
	_end=$(awk -v a="$(now)" -v t="$3" 'BEGIN{print a + t}')
	while [ "$(vm_state "$1")" != "$2" ]; do
		hvd_alive || return 1
		awk -v a="$(now)" -v e="$_end" 'BEGIN{exit !(a > e)}' && return 1
		sleep 0.2
	done
}
show_hvd_log() { echo "--- hvd log (last 40 lines)"; tail -n 40 /tmp/hvd.log; }
# console_wait VM PATTERN TIMEOUT_S: poll `hvadm console VM` until PATTERN (grep -E) shows;
# prints the uptime when seen; the console text is left in /tmp/console-VM.log
console_wait() {
	_vm=$1 _p=$2 _t=$3
	_end=$(awk -v a="$(now)" -v t="$_t" 'BEGIN{print a + t}')
	while :; do
		hvd_alive || { echo "hvd is not running" >&2; return 1; }
		$H console "$_vm" 2>/dev/null | tr -d '\r' > "/tmp/console-$_vm.log"
		if grep -aqE "$_p" "/tmp/console-$_vm.log"; then now; return 0; fi
		awk -v a="$(now)" -v e="$_end" 'BEGIN{exit !(a > e)}' && return 1
		sleep 0.2
	done
}
# vm_state VM: the VM's state from the API
vm_state() { $H -o json show "$1" 2>/dev/null | sed -n 's/.*"state" *: *"\([a-z]*\)".*/\1/p' | head -n1; }

#!/bin/bash
# test-vmm-guest.sh HVD GUEST_ELF - runs the real `hvd vmm` on this host's
# /dev/kvm with the freestanding test guest: marker, power-off and reboot
# exit statuses, the dirty counter under pause/resume over the control
# socket, stop and SIGTERM, virtio-blk write/verify across boots and
# read-only disks, a guest writing garbage rings, ten VMs at once with
# isolated disks, graceful shutdown (Ctrl-Alt-Del on the i8042), the
# sandbox (a seccomp violation kills only its VM, limits, VM user), RAM above 4 GiB. Exits 77 (skipped) when /dev/kvm or python3 is missing.
set -u
HVD=${1:?usage: test-vmm-guest.sh HVD GUEST_ELF}
GUEST=${2:?usage: test-vmm-guest.sh HVD GUEST_ELF}
CTL="python3 $(dirname "$0")/vmm-ctl.py"

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "SKIP: /dev/kvm is missing or not read-writable by $(id -un)"
	exit 77
fi
if ! command -v python3 >/dev/null; then
	echo "SKIP: python3 (control socket client) is missing"
	exit 77
fi

WORK=$(mktemp -d /tmp/hvd-vmm-test.XXXXXX)
PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT
failures=0
passed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
bad() { echo "FAIL - $1"; failures=$((failures + 1)); }

# wait_for FILE REGEX [SECONDS]: true once a line of FILE matches.
wait_for() {
	local i
	for i in $(seq 1 $(( ${3:-10} * 20 ))); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
# Complete lines only: a pause may land in the middle of a line.
last_counter() {
	head -n "$(wc -l <"$1")" "$1" | grep -aoE '^counter=[0-9]+' | tail -1 | cut -d= -f2
}
# Foreground runs only: a function run with & would put a subshell between
# $! and hvd, so background runs call "$HVD" vmm directly.
vmm() { "$HVD" vmm --kernel "$GUEST" --memory-mib 64 "$@"; }

# 1. marker and power-off: exit status 0, output on stdout.
out=$(vmm --cmdline 'mode=exit' 2>"$WORK/err1"); st=$?
if [ $st -eq 0 ] && grep -q 'HVD-TEST-GUEST READY' <<<"$out" &&
   grep -q 'stopped: poweroff' "$WORK/err1"; then ok "poweroff, exit status 0"
else bad "poweroff: status $st, out: $out $(cat "$WORK/err1")"; fi

# 1b. HVD_VMM_TRACE=1: the steps of the start on stderr, times growing, up to
#     running, and at the end the exits by port (the power-off port among
#     them); without it, none.
HVD_VMM_TRACE=1 "$HVD" vmm --kernel "$GUEST" --memory-mib 64 --cmdline 'mode=exit' >/dev/null 2>"$WORK/err1b"
steps=$(grep -c '^hvd vmm: trace: +[0-9.]* ms (step [0-9.]*, on CPU [0-9.]*) ' "$WORK/err1b")
if [ "$steps" -ge 10 ] && grep -q 'ms (step [0-9.]*, on CPU [0-9.]*) running$' "$WORK/err1b" &&
   grep -q 'kernel, initrd and tables loaded$' "$WORK/err1b" &&
   grep -qE '^hvd vmm: trace: +[0-9]+ port 0xf4$' "$WORK/err1b" &&
   grep -oE '\+[0-9.]+ ms' "$WORK/err1b" | tr -d '+ms' | sort -c -g &&
   ! grep -q 'trace:' "$WORK/err1"; then ok "HVD_VMM_TRACE=1: $steps start steps traced, in order"
else bad "trace: $(cat "$WORK/err1b")"; fi

# 2. i8042 reset: exit status 3 (reboot).
vmm --cmdline 'mode=reboot' >/dev/null 2>"$WORK/err2"; st=$?
if [ $st -eq 3 ] && grep -q 'stopped: reboot' "$WORK/err2"; then ok "reboot, exit status 3"
else bad "reboot: status $st $(cat "$WORK/err2")"; fi

# 2b. a guest that triple-faults (ud2 with an empty IDT): crash, exit status 4,
#     and the reason names the last exit before it (the serial port)
"$HVD" vmm --kernel "$GUEST" --memory-mib 64 --cmdline 'mode=fault' >/dev/null 2>"$WORK/err2b"; st=$?
if [ $st -eq 4 ] && grep -q 'crash (vcpu0: triple fault' "$WORK/err2b" &&
   grep -qE 'after port (read|write) 0x3f[8d]' "$WORK/err2b"; then ok "triple fault: crash, exit status 4, last exit named"
else bad "triple fault: status $st $(cat "$WORK/err2b")"; fi

# 3. a file that is no kernel: setup error, exit status 1, one line why.
head -c 8192 /dev/zero >"$WORK/notakernel"
"$HVD" vmm --kernel "$WORK/notakernel" --memory-mib 64 >/dev/null 2>"$WORK/err3"; st=$?
if [ $st -eq 1 ] && grep -q 'loading kernel' "$WORK/err3"; then ok "bad kernel, exit status 1"
else bad "bad kernel: status $st $(cat "$WORK/err3")"; fi

# 4. dirty counter, pause/resume/stats/stop over the control socket.
RT="$WORK/rt4"; mkdir -p "$RT"
"$HVD" vmm --kernel "$GUEST" --memory-mib 64 --name t4 --runtime-dir "$RT" \
	--cmdline 'mode=dirty tick=50000000' >/dev/null 2>"$WORK/err4" &
VPID=$!; PIDS+=("$VPID")
$CTL "$RT/control.sock" wait 10 || bad "control socket did not appear"
$CTL "$RT/control.sock" events "$WORK/events4" 30 &
EPID=$!; PIDS+=("$EPID")
if wait_for "$RT/console.log" 'HVD-TEST-GUEST READY' && wait_for "$RT/console.log" 'counter=' ; then
	ok "marker and counter in console.log"
else bad "no marker/counter: $(cat "$RT/console.log" 2>/dev/null)"; fi
st_json=$($CTL "$RT/control.sock" call '{"cmd":"status","id":1}')
if grep -q '"state":"running"' <<<"$st_json" && grep -q '"id":1' <<<"$st_json"; then
	ok "status says running"
else bad "status: $st_json"; fi
c1=$(last_counter "$RT/console.log"); sleep 0.4; c2=$(last_counter "$RT/console.log")
if [ -n "$c1" ] && [ "$c2" -gt "$c1" ]; then ok "counter advances ($c1 -> $c2)"
else bad "counter does not advance ($c1 -> $c2)"; fi
p=$($CTL "$RT/control.sock" call '{"cmd":"pause"}')
sleep 0.2; c3=$(last_counter "$RT/console.log"); lines3=$(wc -l <"$RT/console.log")
sleep 0.6; c4=$(last_counter "$RT/console.log"); lines4=$(wc -l <"$RT/console.log")
if grep -q '"state":"paused"' <<<"$p" && [ "$c3" = "$c4" ] && [ "$lines3" = "$lines4" ]; then
	ok "pause stops the counter at $c3"
else bad "pause: $p, counter $c3 -> $c4, lines $lines3 -> $lines4"; fi
p2=$($CTL "$RT/control.sock" call '{"cmd":"pause"}'); st=$?
if [ $st -ne 0 ] && grep -q 'already paused' <<<"$p2"; then ok "second pause refused"
else bad "second pause: $p2"; fi
stats=$($CTL "$RT/control.sock" call '{"cmd":"stats"}')
if grep -q '"rss_bytes"' <<<"$stats" && grep -q '"state":"paused"' <<<"$stats"; then
	ok "stats while paused"
else bad "stats: $stats"; fi
r=$($CTL "$RT/control.sock" call '{"cmd":"resume"}')
if grep -q '"state":"running"' <<<"$r" && wait_for "$RT/console.log" "counter=" 5; then
	sleep 0.4; c5=$(last_counter "$RT/console.log")
	if [ "$c5" -gt "$c4" ]; then ok "resume continues the counter ($c4 -> $c5)"
	else bad "counter after resume: $c4 -> $c5"; fi
else bad "resume: $r"; fi
bogus=$($CTL "$RT/control.sock" call '{"cmd":"fly"}'); st=$?
if [ $st -ne 0 ] && grep -q 'unknown command' <<<"$bogus"; then ok "unknown command refused"
else bad "unknown command: $bogus"; fi
$CTL "$RT/control.sock" call '{"cmd":"stop"}' >/dev/null
wait "$VPID"; st=$?
wait "$EPID"
if [ $st -eq 5 ] && grep -q '"event":"stopped"' "$WORK/events4" &&
   grep -q '"reason":"killed"' "$WORK/events4" && grep -q '"event":"paused"' "$WORK/events4" &&
   grep -q '"event":"resumed"' "$WORK/events4" && ! $CTL "$RT/control.sock" wait 0.3; then
	ok "stop: exit status 5, stopped/killed event, socket closed"
else bad "stop: status $st, events: $(cat "$WORK/events4")"; fi

# 4b. serial output comes through KVM's coalesced I/O ring (no exit per byte),
#     whole and in order, even the prompt an idle guest writes just before it
#     halts with no exit to follow ("IDLE\nidle> ", no newline); with
#     --no-coalesced-io every byte exits and the console reads the same.
for how in ring exits; do
	RT="$WORK/rt4b-$how"; mkdir -p "$RT"
	extra=(); [ $how = exits ] && extra=(--no-coalesced-io)
	"$HVD" vmm --kernel "$GUEST" --memory-mib 64 --runtime-dir "$RT" --cmdline 'mode=idle' \
		${extra[@]+"${extra[@]}"} >/dev/null 2>"$WORK/err4b" &
	VPID=$!; PIDS+=("$VPID")
	$CTL "$RT/control.sock" wait 10
	prompt=no
	for i in $(seq 1 100); do
		[ "$(tail -c 12 "$RT/console.log" 2>/dev/null | tr -d '\r')" = $'IDLE\nidle> ' ] &&
			{ prompt=yes; break; }
		sleep 0.05
	done
	qstats=$($CTL "$RT/control.sock" call '{"cmd":"stats"}')
	queued=$(grep -oE '"queued_writes":[0-9]+' <<<"$qstats" | cut -d: -f2)
	bytes=$(grep -oE '"console":\{"bytes":[0-9]+' <<<"$qstats" | grep -oE '[0-9]+$')
	size=$(stat -c %s "$RT/console.log")
	$CTL "$RT/control.sock" call '{"cmd":"stop"}' >/dev/null
	wait "$VPID"
	if [ $prompt = yes ] && [ "$bytes" = "$size" ] && grep -q 'HVD-TEST-GUEST READY' "$RT/console.log" &&
	   { { [ $how = ring ] && [ "${queued:-0}" -gt 0 ]; } || { [ $how = exits ] && [ "$queued" = 0 ]; }; }; then
		ok "serial output via $how: whole ($size bytes), prompt before halt shown, queued writes ${queued:-?}"
	else bad "serial via $how: prompt $prompt, stats $qstats, log $size bytes: $(od -c "$RT/console.log" | tail -4)"; fi
done
cmp -s <(tr -d '\r' <"$WORK/rt4b-ring/console.log") <(tr -d '\r' <"$WORK/rt4b-exits/console.log") &&
	ok "same console output with and without the ring" ||
	bad "console output differs: $(diff "$WORK/rt4b-ring/console.log" "$WORK/rt4b-exits/console.log" | head)"
# a guest printing as fast as it can (mode=flood: ~100 KiB/s here, drained
# at its LSR reads and by the timer): every line arrives, in order (none
# lost unless the console log itself fell behind, which stats would count
# as dropped)
RT="$WORK/rt4c"; mkdir -p "$RT"
"$HVD" vmm --kernel "$GUEST" --memory-mib 64 --runtime-dir "$RT" --cmdline 'mode=flood' >/dev/null 2>&1 &
VPID=$!; PIDS+=("$VPID")
$CTL "$RT/control.sock" wait 10
wait_for "$RT/console.log" '^FLOOD 3000' 20
fstats=$($CTL "$RT/control.sock" call '{"cmd":"stats"}')
$CTL "$RT/control.sock" call '{"cmd":"stop"}' >/dev/null
wait "$VPID"
dropped=$(grep -oE '"dropped":[0-9]+' <<<"$fstats" | cut -d: -f2)
queued=$(grep -oE '"queued_writes":[0-9]+' <<<"$fstats" | cut -d: -f2)
# complete lines only; the last one may have been cut by the stop
flood=$(head -n "$(wc -l <"$RT/console.log")" "$RT/console.log" | tr -d '\r' | grep -aE '^FLOOD ' |
	awk -v gaps_ok="${dropped:-1}" '
	$0 !~ /^FLOOD [0-9]+$/ { bad++; next }
	{ n = $2 + 0; if (seen && (n <= last || (gaps_ok == 0 && n != last + 1))) bad++; last = n; seen++ }
	END { printf "%d %d", seen, bad + 0 }')
if [ "${flood% *}" -ge 3000 ] && [ "${flood#* }" = 0 ] && [ "${queued:-0}" -gt 0 ]; then
	ok "a flooding guest: ${flood% *} lines whole and in order (queued writes $queued, dropped ${dropped:-?})"
else bad "flood: lines/bad $flood, stats $fstats"; fi

# 5. SIGTERM: exit status 5 (killed).
"$HVD" vmm --kernel "$GUEST" --memory-mib 64 --cmdline 'mode=dirty' >/dev/null 2>"$WORK/err5" &
VPID=$!; PIDS+=("$VPID")
sleep 0.3; kill -TERM "$VPID"; wait "$VPID"; st=$?
if [ $st -eq 5 ] && grep -q 'stopped: killed (signal 15' "$WORK/err5"; then ok "SIGTERM, exit status 5"
else bad "SIGTERM: status $st $(cat "$WORK/err5")"; fi

# 6. virtio-blk: write and check, verify in a second boot, read-only disk.
truncate -s 4M "$WORK/disk6.img"
out=$(vmm --disk "$WORK/disk6.img" --cmdline 'mode=blk sectors=300 seed=42' 2>/dev/null); st=$?
sum=$(grep -oE 'BLK OK sectors=300 sum=0x[0-9a-f]+' <<<"$out" | sed 's/.*sum=//')
if [ $st -eq 0 ] && [ -n "$sum" ]; then ok "blk write/read-back ($sum)"
else bad "blk: status $st, $out"; fi
out=$(vmm --disk "$WORK/disk6.img" --cmdline 'mode=verify sectors=300 seed=42' 2>/dev/null)
if grep -q "BLK OK sectors=300 sum=$sum" <<<"$out" && ! grep -q ' ro' <<<"$out"; then
	ok "blk data persists across boots"
else bad "blk verify: $out"; fi
out=$(vmm --disk "$WORK/disk6.img,ro" --cmdline 'mode=blk sectors=300 seed=42' 2>/dev/null)
if grep -q "BLK OK sectors=300 sum=$sum ro" <<<"$out"; then ok "read-only disk is read, not written"
else bad "blk ro: $out"; fi

# virtio interrupts: an irqfd with a resample fd by default, KVM_IRQ_LINE
# with --no-irqfd; the disk works either way.
RT="$WORK/rt6"; mkdir -p "$RT"
"$HVD" vmm --kernel "$GUEST" --memory-mib 64 --runtime-dir "$RT" --start-paused \
	--disk "$WORK/disk6.img" --cmdline 'mode=verify sectors=300 seed=42' >/dev/null 2>&1 &
VPID=$!; PIDS+=("$VPID")
$CTL "$RT/control.sock" wait 10
irqstats=$($CTL "$RT/control.sock" call '{"cmd":"stats"}')
$CTL "$RT/control.sock" call '{"cmd":"resume"}' >/dev/null
wait "$VPID"
out=$(vmm --no-irqfd --disk "$WORK/disk6.img" --cmdline 'mode=verify sectors=300 seed=42' 2>/dev/null)
if grep -q '"virtio_irq":{"irqfd":1,"irq_line":0}' <<<"$irqstats" &&
   grep -q "BLK OK sectors=300 sum=$sum" "$RT/console.log" &&
   grep -q "BLK OK sectors=300 sum=$sum" <<<"$out"; then
	ok "virtio interrupts via irqfd (and KVM_IRQ_LINE with --no-irqfd)"
else bad "irqfd: $irqstats / $(cat "$RT/console.log") / $out"; fi

# 7. garbage rings: the VMM survives, reports device errors, the guest
#    finishes and powers off.
RT="$WORK/rt7"; mkdir -p "$RT"; truncate -s 1M "$WORK/disk7.img"
"$HVD" vmm --kernel "$GUEST" --memory-mib 64 --runtime-dir "$RT" --start-paused \
	--disk "$WORK/disk7.img" --cmdline 'mode=garbage,dirty loops=3 tick=10000000' \
	>/dev/null 2>"$WORK/err7" &
VPID=$!; PIDS+=("$VPID")
$CTL "$RT/control.sock" wait 10
$CTL "$RT/control.sock" events "$WORK/events7" 10 &
EPID=$!; PIDS+=("$EPID")
wait_for "$WORK/events7" connected 5
$CTL "$RT/control.sock" call '{"cmd":"resume"}' >/dev/null
wait "$VPID"; st=$?; wait "$EPID"
nerr=$(grep -c '"event":"device_error"' "$WORK/events7")
if [ $st -eq 0 ] && grep -q 'GARBAGE DONE' "$RT/console.log" && [ "$nerr" -ge 5 ] &&
   grep -q 'counter=' "$RT/console.log"; then
	ok "garbage rings: $nerr device_error events, VMM alive, guest powered off"
else bad "garbage: status $st, $nerr errors, $(cat "$RT/console.log") $(cat "$WORK/err7")"; fi

# 8. ten VMs at once, each with its own disk and seed.
for i in $(seq 1 10); do
	truncate -s 1M "$WORK/d8-$i.img"
	"$HVD" vmm --kernel "$GUEST" --memory-mib 64 --disk "$WORK/d8-$i.img" \
		--cmdline "mode=blk sectors=64 seed=$i" >"$WORK/out8-$i" 2>&1 &
	PIDS+=("$!")
done
wait_all_ok=1
for pid in "${PIDS[@]: -10}"; do wait "$pid" || wait_all_ok=0; done
sums=$(cat "$WORK"/out8-* | grep -oE 'BLK OK sectors=64 sum=0x[0-9a-f]+' | sort -u | wc -l)
if [ $wait_all_ok -eq 1 ] && [ "$sums" -eq 10 ]; then ok "10 concurrent VMs, 10 distinct disk checksums"
else bad "10 VMs: all ok=$wait_all_ok, distinct sums=$sums"; fi
if cmp -s "$WORK/d8-1.img" "$WORK/d8-2.img"; then bad "disks 1 and 2 are identical"
else ok "disks isolated"; fi

# 9. graceful shutdown: the control command types Ctrl-Alt-Del on the i8042,
#    the guest (dirty loop, then idle loop) prints its SHUTDOWN line and
#    powers off: exit status 0, stopped event with reason poweroff.
for mode in dirty idle; do
	RT="$WORK/rt9-$mode"; mkdir -p "$RT"
	"$HVD" vmm --kernel "$GUEST" --memory-mib 64 --runtime-dir "$RT" \
		--cmdline "mode=$mode tick=50000000" >/dev/null 2>"$WORK/err9-$mode" &
	VPID=$!; PIDS+=("$VPID")
	$CTL "$RT/control.sock" wait 10
	$CTL "$RT/control.sock" events "$WORK/events9-$mode" 30 &
	EPID=$!; PIDS+=("$EPID")
	wait_for "$RT/console.log" "${mode/dirty/counter=}|IDLE" 10
	wait_for "$WORK/events9-$mode" connected 5
	sd=$($CTL "$RT/control.sock" call '{"cmd":"shutdown","id":"sd"}'); sdst=$?
	wait "$VPID"; st=$?; wait "$EPID"
	if [ $sdst -eq 0 ] && grep -q '"state":"running"' <<<"$sd" && [ $st -eq 0 ] &&
	   grep -q 'HVD-TEST-GUEST SHUTDOWN' "$RT/console.log" &&
	   grep -q '"reason":"poweroff"' "$WORK/events9-$mode" &&
	   grep -q '"exit_code":0' "$WORK/events9-$mode"; then
		ok "shutdown ($mode): guest saw Ctrl-Alt-Del, exit status 0, stopped/poweroff"
	else bad "shutdown ($mode): reply $sd, status $st, events $(cat "$WORK/events9-$mode")"\
		" console $(tail -3 "$RT/console.log")"; fi
	shutdown_reply=$sd
done
# a line without its end (the idle guest's prompt) reaches console.log while
# the guest halts: the console is flushed after a short wait, not only at
# the next line end
RT="$WORK/rt9p"; mkdir -p "$RT"
"$HVD" vmm --kernel "$GUEST" --memory-mib 64 --runtime-dir "$RT" --cmdline 'mode=idle' >/dev/null 2>&1 &
VPID=$!; PIDS+=("$VPID")
if wait_for "$RT/console.log" 'idle> $' 10; then ok "a prompt without a line end shows in console.log"
else bad "prompt: console.log ends with $(tail -c 40 "$RT/console.log" | od -c | head -2)"; fi
kill "$VPID"; wait "$VPID"
# a shutdown request to a paused VM waits in the keyboard buffer for the resume
RT="$WORK/rt9b"; mkdir -p "$RT"
"$HVD" vmm --kernel "$GUEST" --memory-mib 64 --runtime-dir "$RT" --start-paused \
	--cmdline 'mode=idle' >/dev/null 2>&1 &
VPID=$!; PIDS+=("$VPID")
$CTL "$RT/control.sock" wait 10
sdp=$($CTL "$RT/control.sock" call '{"cmd":"shutdown"}')
$CTL "$RT/control.sock" call '{"cmd":"resume"}' >/dev/null
wait "$VPID"; st=$?
if grep -q '"state":"paused"' <<<"$sdp" && [ $st -eq 0 ] &&
   grep -q 'HVD-TEST-GUEST SHUTDOWN' "$RT/console.log"; then
	ok "shutdown while paused takes effect on resume"
else bad "shutdown while paused: $sdp, status $st"; fi

# 10. sandbox: a forbidden syscall on a vCPU thread (--debug-seccomp-probe,
#     guest mode seccomp-probe) kills that VMM with SIGSYS while another VM
#     keeps printing its counter; the survivor runs with its limits, filters
#     and without /dev/kvm; --no-seccomp lets the probe through.
RT="$WORK/rt10"; mkdir -p "$RT"
"$HVD" vmm --kernel "$GUEST" --memory-mib 64 --runtime-dir "$RT" \
	--cmdline 'mode=dirty tick=20000000' >/dev/null 2>"$WORK/err10" &
BPID=$!; PIDS+=("$BPID")
$CTL "$RT/control.sock" wait 10
wait_for "$RT/console.log" 'counter=' 10
"$HVD" vmm --kernel "$GUEST" --memory-mib 64 --debug-seccomp-probe \
	--cmdline 'mode=seccomp-probe,dirty' >"$WORK/out10p" 2>"$WORK/err10p"; st=$?
c1=$(last_counter "$RT/console.log"); sleep 0.5; c2=$(last_counter "$RT/console.log")
if [ $st -eq $((128 + 31)) ] && grep -q '^SECCOMP-PROBE' "$WORK/out10p" &&
   ! grep -q 'SURVIVED' "$WORK/out10p"; then
	ok "forbidden syscall on a vCPU thread: killed by SIGSYS (status $st)"
else bad "seccomp probe: status $st, $(cat "$WORK/out10p" "$WORK/err10p")"; fi
if kill -0 "$BPID" 2>/dev/null && [ -n "$c1" ] && [ "$c2" -gt "$c1" ]; then
	ok "the other VM keeps counting ($c1 -> $c2)"
else bad "the other VM: counter $c1 -> $c2"; fi
sb=$($CTL "$RT/control.sock" call '{"cmd":"status"}')
nv=$(grep -oE '"vcpu":[0-9]+' <<<"$sb" | cut -d: -f2)
nd=$(grep -oE '"device":[0-9]+' <<<"$sb" | cut -d: -f2)
if [ -n "$nv" ] && [ "$nv" -le 30 ] && [ -n "$nd" ]; then
	ok "seccomp on by default: $nv syscalls for vCPU threads, $nd for the device thread"
else bad "status sandbox: $sb"; fi
threads=$(ls /proc/"$BPID"/task | wc -l)
filtered=$(grep -l '^Seccomp:[[:space:]]*2' /proc/"$BPID"/task/*/status | wc -l)
lim=/proc/"$BPID"/limits
if [ "$threads" -ge 2 ] && [ "$filtered" -eq "$threads" ] &&
   grep -q '^NoNewPrivs:[[:space:]]*1' /proc/"$BPID"/status &&
   grep -qE '^Max core file size +0 +0' "$lim" &&
   { grep -qE '^Max processes +0 +0' "$lim" || [ "${HVD_SANITIZED:-}" = 1 ]; } &&
   [ "$(awk '/^Max open files/ {print $4}' "$lim")" -le 64 ] &&
   ! ls -l /proc/"$BPID"/fd | grep -q '/dev/kvm'; then
	ok "every thread filtered ($filtered/$threads), no_new_privs, rlimits, /dev/kvm closed"
else bad "sandbox of pid $BPID: $filtered/$threads filtered; $(grep -E 'core|processes|open files' "$lim");"\
	" fds: $(ls -l /proc/"$BPID"/fd | grep -c .)"; fi
$CTL "$RT/control.sock" call '{"cmd":"stop"}' >/dev/null; wait "$BPID"
"$HVD" vmm --kernel "$GUEST" --memory-mib 64 --debug-seccomp-probe --no-seccomp \
	--cmdline 'mode=seccomp-probe' >"$WORK/out10n" 2>&1; st=$?
if [ $st -eq 0 ] && grep -q 'SECCOMP-PROBE SURVIVED' "$WORK/out10n" &&
   grep -q 'code 1)' "$WORK/out10n"; then
	ok "--no-seccomp: the probe's socket(2) goes through"
else bad "--no-seccomp probe: status $st $(cat "$WORK/out10n")"; fi
# an unprivileged VM user: disks, console log and control socket still work;
# by name, or by numeric ids as the daemon passes them (4242 is in no user
# database: no lookup is made)
if [ "$(id -u)" -eq 0 ] && getent passwd nobody >/dev/null; then
	for user in nobody 4242:4242; do
		uid=${user%%:*}; [ "$user" = nobody ] && uid=$(id -u nobody)
		RT="$WORK/rt10u-$uid"; mkdir -p "$RT"; truncate -s 1M "$WORK/disk10u.img"
		"$HVD" vmm --kernel "$GUEST" --memory-mib 64 --runtime-dir "$RT" --user "$user" \
			--start-paused --disk "$WORK/disk10u.img" --cmdline 'mode=blk sectors=64 seed=9' \
			>/dev/null 2>"$WORK/err10u" &
		VPID=$!; PIDS+=("$VPID")
		$CTL "$RT/control.sock" wait 10
		su=$($CTL "$RT/control.sock" call '{"cmd":"status"}')
		gid=$(awk '/^Gid:/ {print $2}' /proc/"$VPID"/status)
		$CTL "$RT/control.sock" call '{"cmd":"resume"}' >/dev/null
		wait "$VPID"; st=$?
		if [ $st -eq 0 ] && grep -q "\"uid\":$uid" <<<"$su" &&
		   { [ "$user" = nobody ] || [ "$gid" = 4242 ]; } &&
		   grep -q 'BLK OK sectors=64' "$RT/console.log"; then
			ok "--user $user: uid $uid, disk and console log work"
		else bad "--user $user: status $st, gid $gid, $su, $(cat "$WORK/err10u")"; fi
	done
	sandbox_status=$su
else
	echo "skip - not root or no user nobody: privilege drop not tested"
fi

# 10b. RAM beyond 3 GiB continues at 4 GiB: a 4.5 GiB guest finds 1.5 GiB there
# (its e820 map) and reads back what it wrote across the first GiB of it.
"$HVD" vmm --memory-mib 4608 --kernel "$GUEST" --cmdline "mode=himem" \
	--console-log "$WORK/himem.log" >"$WORK/himem.out" 2>&1
st=$?
if [ $st -eq 0 ] && grep -q 'HIMEM total_kib=[0-9]* high_kib=1572864' "$WORK/himem.log" &&
   grep -q 'HIMEM OK checked_mib=1024' "$WORK/himem.log"; then
	ok "4.5 GiB of RAM: 1.5 GiB above 4 GiB, written and read back"
else bad "RAM above 4 GiB: status $st, $(grep HIMEM "$WORK/himem.log" | tr '\n' ' ') $(tail -1 "$WORK/himem.out")"; fi

# 11. every control line seen above matches schemas/vmm-control.schema.json.
SCHEMA="$(dirname "$0")/../../schemas/vmm-control.schema.json"
printf '%s\n' "$st_json" "$p" "$p2" "$stats" "$irqstats" "$r" "$bogus" "$shutdown_reply" "$sdp" "$sb" \
	${sandbox_status:+"$sandbox_status"} >"$WORK/responses"
grep -h '^{' "$WORK/events4" "$WORK/events7" "$WORK"/events9-* >>"$WORK/responses"
if python3 -c 'import jsonschema' 2>/dev/null; then
	if python3 - "$SCHEMA" "$WORK/responses" <<'PY'
import json, sys, jsonschema
v = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))
for line in open(sys.argv[2]):
    if line.strip():
        v.validate(json.loads(line))
PY
	then ok "control traffic matches vmm-control.schema.json ($(wc -l <"$WORK/responses") lines)"
	else bad "control traffic does not match the schema"; fi
else
	echo "skip - python3-jsonschema missing: control traffic not checked against the schema"
fi

echo "$passed passed, $failures failed"
[ $failures -eq 0 ]

#!/bin/bash
# bench/boot-inner.sh — runs INSIDE the nested testbed (started by bench/boot):
# time from VMM process start to the guest's "HVD-BOOT-MARKER" line on its serial
# console, for `hvd vmm` (started directly, as tests/e2e and the daemon's supervisor
# start it, without the control plane) and for `qemu-system-x86_64 -M microvm`, booting
# the same kernel + initrd with the same command line, RAM and vCPUs, no disk, no NIC.
#
#   boot-inner.sh [RUNS] [vmlinux|bzImage] [VCPUS] [MEMORY_MIB] [dmesg]
#
# Runs alternate hvd, QEMU, hvd, QEMU ... Each VMM writes its serial console to a fifo
# that this script reads line by line; the clock is bash's $EPOCHREALTIME (no fork), read
# just before the VMM is forked and again when the marker line arrives. The guest's own
# `uptime=` on the marker line is recorded too: wall minus uptime is roughly what the VMM
# spends before the guest kernel starts its clock (process start, loading the kernel and
# initrd, building the machine). Each VMM is killed (SIGTERM, then SIGKILL) after its
# marker. Output: one RUN line per boot (with the VMM's RSS at the marker and how much of it
# is backed by 2 MiB pages), then the table. With "dmesg", the guest also prints
# its kernel log after the marker (hvd.dmesg=1; the timing is unchanged, the VMM is killed
# later) and each RUN line is followed by the largest gaps between kernel log lines: where
# each guest kernel spends its boot.
set -u

RUNS=${1:-5}
KIND=${2:-vmlinux}
VCPUS=${3:-1}
MEM=${4:-256}
DMESG=0; [ "${5:-}" = dmesg ] && DMESG=1
IMG=${HVD_IMAGE_DIR:-/tb/images}/tiny
case $KIND in
vmlinux) KERNEL=$IMG/vmlinux ;;
bzImage|bzimage) KIND=bzImage; KERNEL=$IMG/bzImage ;;
*) echo "boot-inner: kernel kind must be vmlinux or bzImage, not $KIND"; exit 2 ;;
esac
INITRD=$IMG/initrd
# mkimage's command line (no CMOS RTC probe), quiet, no disk: the marker is all we wait for
CMDLINE="$(cat "$IMG/cmdline") quiet hvd.disk=0"
[ "$DMESG" = 1 ] && CMDLINE="$CMDLINE hvd.dmesg=1"
PER_BOOT_TIMEOUT=${BENCH_BOOT_TIMEOUT:-240}

[ -c /dev/kvm ] || { echo "SKIP: no /dev/kvm (run through bench/boot)"; exit 77; }
command -v hvd >/dev/null || { echo "SKIP: no hvd binary (bench/boot passes it with --bin)"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: no qemu-system-x86_64 in the testbed"; exit 77; }
[ -n "${EPOCHREALTIME:-}" ] || { echo "boot-inner: needs bash >= 5 (EPOCHREALTIME)"; exit 1; }

echo "BENCH boot: kernel=$KIND ($KERNEL) initrd=$INITRD vcpus=$VCPUS memory_mib=$MEM runs=$RUNS"
echo "BENCH cmdline: $CMDLINE"
echo "BENCH testbed: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), clock: bash EPOCHREALTIME," \
	"THP $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null), shmem THP $(cat /sys/kernel/mm/transparent_hugepage/shmem_enabled 2>/dev/null)"
# Both VMMs read the same files: put them in the page cache first, so that neither pays
# for the first read from the testbed's (emulated) virtio disk.
cat "$KERNEL" "$INITRD" > /dev/null

# BENCH_HVD_ARGS: extra `hvd vmm` options (bench/boot --hvd-arg); --hugepages gets its pages
# reserved here
read -r -a HVD_EXTRA <<<"${BENCH_HVD_ARGS:-}"
case " ${BENCH_HVD_ARGS:-} " in
*" --hugepages "*)
	echo $(( MEM / 2 + 8 )) > /proc/sys/vm/nr_hugepages
	echo "BENCH hugepages reserved: $(cat /proc/sys/vm/nr_hugepages) x 2 MiB" ;;
esac
HVD_CMD=(hvd vmm --name bench-boot --console-stdout --vcpus "$VCPUS" --memory-mib "$MEM"
	--kernel "$KERNEL" --initrd "$INITRD" --cmdline "$CMDLINE" ${HVD_EXTRA[@]+"${HVD_EXTRA[@]}"})
# as tests/e2e/qemu-boot.sh (lib/e2e.sh qemu_guest): the flags that work in the testbed
QEMU_CMD=(qemu-system-x86_64 -M microvm -accel kvm -cpu host -m "$MEM" -smp "$VCPUS"
	-nodefaults -no-user-config -display none -no-reboot -serial stdio
	-kernel "$KERNEL" -initrd "$INITRD" -append "$CMDLINE")
echo "BENCH hvd:  ${HVD_CMD[*]}"
echo "BENCH qemu: ${QEMU_CMD[*]}"

FIFO=/tmp/bench-boot.fifo
declare -a HVD_WALL=() HVD_UP=() QEMU_WALL=() QEMU_UP=()
FAILS=0

# stop_vmm PID: SIGTERM, up to 5 s, then SIGKILL and up to 5 s more; reaps it. Never waits
# on a process that will not go (one stuck in the kernel would hang the whole run).
stop_vmm() {
	local pid=$1 i=0
	kill -TERM "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	kill -KILL "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 "$pid" 2>/dev/null; then
		echo "BENCH warning: VMM pid $pid survives SIGKILL ($(cat /proc/"$pid"/wchan 2>/dev/null)); not waiting"
	else
		wait "$pid" 2>/dev/null
	fi
}

# vmm_state PID: "state S wchan X cpu_s N threads N" from /proc (diagnostics of slow boots)
vmm_state() {
	local p=$1 st
	st=$(cut -d' ' -f3,14,15,20 "/proc/$p/stat" 2>/dev/null) || { echo "gone"; return; }
	# shellcheck disable=SC2086  # the fields, split on purpose
	set -- $st
	echo "state $1 wchan $(cat "/proc/$p/wchan" 2>/dev/null) cpu_s $(( ($2 + $3) / 100 )) threads $4"
}

# vmm_mem PID: the VMM's resident memory at the marker and how much of it is in 2 MiB pages
# (transparent huge pages, anonymous or shmem/memfd, or hugetlbfs): nested paging under
# the testbed's emulation makes every 4 KiB guest page touched first costly
vmm_mem() {
	local k v _ rss=0 thp=0 shm=0 huge=0
	while read -r k v _; do
		case $k in
		Rss:) rss=$v ;; AnonHugePages:) thp=$v ;; ShmemPmdMapped:) shm=$v ;;
		Private_Hugetlb:|Shared_Hugetlb:) huge=$(( huge + v )) ;;
		esac
	done 2>/dev/null < "/proc/$1/smaps_rollup"
	echo "rss_mib=$(( rss / 1024 )) thp_mib=$(( (thp + shm) / 1024 )) hugetlb_mib=$(( huge / 1024 ))"
}

# dmesg_gaps LOG: the 6 largest gaps between consecutive guest kernel log lines, and the
# time of the last line
dmesg_gaps() {
	local k=/tmp/bench-boot-kmsg
	sed -n 's/^HVD-DMESG \[ *\([0-9.]*\)\] \(.*\)/\1 \2/p' "$1" > "$k"
	awk '{ t = $1; $1 = ""; if (NR > 1) printf "%.3f %.3f %s  ->  %s\n", t - pt, t, substr(prev, 2, 60), substr($0, 2, 60)
		prev = $0; pt = t }' "$k" | sort -rn | head -n 6 \
		| awk '{ gap = $1; at = $2; $1 = ""; $2 = ""; printf "    gap %7.3fs before t=%7.3fs: %s\n", gap, at, substr($0, 3) }'
	tail -n 1 "$k" | awk '{ t = $1; $1 = ""; printf "    last kernel log line t=%.3fs:%s\n", t, $0 }'
}

# boot_one hvd|qemu RUN: one timed boot; appends to the arrays
boot_one() {
	local which=$1 run=$2 log=/tmp/bench-boot-$1-$2.log err=/tmp/bench-boot-$1-$2.err
	local t0 t1='' line up='' pid deadline now mem=''
	rm -f "$FIFO" "$log"; mkfifo "$FIFO"
	t0=$EPOCHREALTIME
	if [ "$which" = hvd ]; then
		"${HVD_CMD[@]}" </dev/null >"$FIFO" 2>"$err" &
	else
		"${QEMU_CMD[@]}" </dev/null >"$FIFO" 2>"$err" &
	fi
	pid=$!
	# read-write: the open never blocks, whenever the VMM opens its end
	exec 3<>"$FIFO"
	deadline=$(( ${t0%.*} + PER_BOOT_TIMEOUT ))
	local part='' chunk next_note=30
	while :; do
		# a read that times out keeps what it got of a line in chunk: carry it over
		if IFS= read -r -t 5 chunk <&3; then
			line=${part}${chunk%$'\r'}; part=
			printf '%s\n' "$line" >> "$log"
			case $line in
			*HVD-BOOT-MARKER*)
				t1=$EPOCHREALTIME
				up=${line##*uptime=}; up=${up%%[!0-9.]*}
				mem=$(vmm_mem "$pid")
				break ;;
			esac
		else
			part=${part}${chunk}
			kill -0 "$pid" 2>/dev/null || break   # the VMM ended without the marker
		fi
		now=$EPOCHREALTIME
		[ "${now%.*}" -lt "$deadline" ] || break
		# a sign of life every 30 s of silence, with what the VMM is doing
		if [ $(( ${now%.*} - ${t0%.*} )) -ge $(( next_note )) ]; then
			echo "RUN $which $run waiting: $(( ${now%.*} - ${t0%.*} ))s, $(vmm_state "$pid"), $(wc -c 2>/dev/null <"$log" || echo 0) console bytes"
			next_note=$(( next_note + 30 ))
		fi
	done
	[ -n "$t1" ] || echo "RUN $which $run giving up: $(vmm_state "$pid")"
	if [ -n "$t1" ] && [ "$DMESG" = 1 ]; then
		# the kernel log follows the marker; HVD-READY ends it
		while IFS= read -r -t 60 chunk <&3; do
			printf '%s\n' "${chunk%$'\r'}" >> "$log"
			case $chunk in *HVD-READY*) break ;; esac
		done
	fi
	stop_vmm "$pid"
	exec 3<&-
	rm -f "$FIFO"
	if [ -z "$t1" ]; then
		echo "RUN $which $run FAILED: no HVD-BOOT-MARKER after $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.0f", b - a}')s (limit ${PER_BOOT_TIMEOUT}s); testbed kernel log tail:"
		dmesg | tail -n 8 | sed 's/^/    k /'
		echo "    console tail:"
		tail -n 15 "$log" 2>/dev/null | sed 's/^/    | /'
		echo "    stderr:"; tail -n 15 "$err" | sed 's/^/    ! /'
		FAILS=$((FAILS + 1))
		return 1
	fi
	local wall
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b - a}')
	printf 'RUN %-4s %d  start_to_marker_s=%s  guest_uptime_s=%s  before_guest_clock_s=%s  %s\n' \
		"$which" "$run" "$wall" "$up" "$(awk -v w="$wall" -v u="$up" 'BEGIN{printf "%.3f", w - u}')" "$mem"
	[ "$DMESG" = 1 ] && dmesg_gaps "$log"
	if [ "$which" = hvd ]; then HVD_WALL+=("$wall"); HVD_UP+=("$up"); else QEMU_WALL+=("$wall"); QEMU_UP+=("$up"); fi
}

for run in $(seq 1 "$RUNS"); do
	boot_one hvd "$run"
	boot_one qemu "$run"
done

# stats V...: "median min max n"
stats() {
	printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {
		if (NR == 0) { print "- - - 0"; exit }
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.3f %.3f %.3f %d\n", m, v[1], v[NR], NR }'
}
read -r hw_med hw_min hw_max hw_n <<<"$(stats ${HVD_WALL[@]+"${HVD_WALL[@]}"})"
read -r qw_med qw_min qw_max qw_n <<<"$(stats ${QEMU_WALL[@]+"${QEMU_WALL[@]}"})"
read -r hu_med hu_min hu_max _ <<<"$(stats ${HVD_UP[@]+"${HVD_UP[@]}"})"
read -r qu_med qu_min qu_max _ <<<"$(stats ${QEMU_UP[@]+"${QEMU_UP[@]}"})"

echo
echo "Boot to the guest's HVD-BOOT-MARKER (its /init), tiny image, kernel=$KIND, $VCPUS vCPU, $MEM MiB,"
echo "no disk/NIC; nested testbed, seconds; wall = VMM process start to the marker line (testbed clock)"
printf '%-32s %10s %10s %10s %5s   %s\n' "VMM" "median" "min" "max" "runs" "guest uptime at marker: median (min-max)"
printf '%-32s %10s %10s %10s %5s   %s (%s-%s)\n' "hvd vmm${BENCH_HVD_ARGS:+ $BENCH_HVD_ARGS} (direct)" "$hw_med" "$hw_min" "$hw_max" "$hw_n" "$hu_med" "$hu_min" "$hu_max"
printf '%-32s %10s %10s %10s %5s   %s (%s-%s)\n' "qemu-system-x86_64 -M microvm" "$qw_med" "$qw_min" "$qw_max" "$qw_n" "$qu_med" "$qu_min" "$qu_max"
if [ "$hw_n" -gt 0 ] && [ "$qw_n" -gt 0 ]; then
	ratio=$(awk -v h="$hw_med" -v q="$qw_med" 'BEGIN{printf "%.2f", h / q}')
	uratio=$(awk -v h="$hu_med" -v q="$qu_med" 'BEGIN{printf "%.2f", h / q}')
	met=$(awk -v r="$ratio" 'BEGIN{print (r <= 0.5) ? "met" : "NOT met"}')
	printf '%-32s %10s   (DESIGN.md target: <= 0.50 x QEMU: %s)\n' "ratio hvd/QEMU (medians, wall)" "$ratio" "$met"
	printf '%-32s %10s   (guest kernel start to /init only)\n' "ratio hvd/QEMU (guest uptime)" "$uratio"
fi
[ "$FAILS" = 0 ] || { echo "BENCH $FAILS boot(s) failed"; exit 1; }
exit 0

#!/bin/sh
# scripts/demo-testbed.sh — the Linux part of `make demo`: hvd runs web01, a real Linux guest
# (the mkimage "tiny" image: Debian cloud kernel + busybox initramfs + ext4 root disk).
# Each step is echoed as the command it is:
#   hvd (embedded defaults), install the image into hvd's state dir (images/tiny),
#   hvadm create web01 --image tiny, hvadm start web01, the console until the boot marker,
#   hvadm list, hvadm stop web01, hvadm list, hvadm delete web01.
#
# Two ways it runs (scripts/demo picks one):
#  - inside the nested testbed, where the CPU has no vmx/svm (this machine):
#      scripts/testbed --bin build/daemon/hvd --bin build/cli/hvadm --run scripts/demo-testbed.sh
#    It starts hvd with its embedded defaults (as root: state /var/lib/hvd, socket
#    /run/hvd/hvd.sock) and installs the testbed's /tb/images/tiny into /var/lib/hvd/images/tiny.
#  - on a host that runs Linux guests at speed, against the hvd scripts/demo started:
#      scripts/demo-testbed.sh --hvadm PATH --state-dir DIR --image-dir DIR [--hvd-log FILE]
#    (HVD_SOCKET set).
#    An images/tiny already in DIR is used as it is (and left); one installed here is removed.
# The installed cmdline is the image's plus "quiet hvd.end=wait": the console shows the guest's
# /init and no shell prompt (whose terminal queries would reach this terminal).
# Exit 0 when web01 reached its boot marker and everything else worked. The boot marker is
# waited for HVD_DEMO_BOOT_TIMEOUT seconds (default 300).
set -u

HVADM=
HVD_LOG=
STATE=
IMAGE_DIR=
VM=web01
while [ $# -gt 0 ]; do
	case $1 in
	--hvadm) HVADM=$2; shift 2 ;;
	--state-dir) STATE=$2; shift 2 ;;
	--image-dir) IMAGE_DIR=$2; shift 2 ;;
	--hvd-log) HVD_LOG=$2; shift 2 ;;
	--vm) VM=$2; shift 2 ;;
	*) echo "demo-testbed: unknown argument $1" >&2; exit 2 ;;
	esac
done

now() { cut -d' ' -f1 /proc/uptime; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b - a}'; }
say() { printf '%s\n' "$*"; }
FAILED=0
# run ARGS...: echo and run one hvadm command (stdin is not a terminal: `console` prints
# what the guest wrote so far instead of attaching)
run() {
	printf '\n$ hvadm %s\n' "$*"
	"$HVADM" "$@" </dev/null || { r=$?; say "(exit $r)"; FAILED=1; return $r; }
}
# shell COMMAND: echo a shell step and run it
shell() {
	printf '$ %s\n' "$*"
	sh -c "$*" || { say "(failed)"; FAILED=1; return 1; }
}

HVD_PID=
INSTALLED=
# shellcheck disable=SC2317  # runs from the trap
cleanup() {
	if [ -n "$INSTALLED" ]; then
		rm -rf "$INSTALLED"
		rmdir "$STATE/images" 2>/dev/null
	fi
	if [ -n "$HVD_PID" ]; then
		kill "$HVD_PID" 2>/dev/null
		i=0; while kill -0 "$HVD_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$HVD_PID" 2>/dev/null
	fi
}
trap cleanup EXIT

if [ -z "$HVADM" ]; then
	# inside the testbed: hvd and hvadm are on PATH (/tb/bin)
	HVADM=hvadm
	STATE=/var/lib/hvd
	IMAGE_DIR=${HVD_IMAGE_DIR:-/tb/images}/tiny
	command -v hvd >/dev/null && command -v hvadm >/dev/null \
		|| { say "demo-testbed: hvd/hvadm missing (scripts/testbed --bin build/daemon/hvd --bin build/cli/hvadm)"; exit 1; }
	[ -c /dev/kvm ] || { say "demo-testbed: no /dev/kvm here"; exit 1; }
	say "demo: inside the testbed: $(nproc) CPUs, $(awk '/MemTotal/{printf "%d MiB", $2 / 1024}' /proc/meminfo)," \
		"/dev/kvm from kvm-amd (nested SVM); kernel $(uname -r)"
	say "demo: starting hvd with its embedded defaults (state /var/lib/hvd, socket /run/hvd/hvd.sock)"
	printf '$ hvd &\n'
	hvd >/tmp/hvd.log 2>&1 &
	HVD_PID=$!
	HVD_LOG=/tmp/hvd.log
	i=0
	until "$HVADM" version >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 "$HVD_PID" 2>/dev/null; then
			say "demo: hvd did not come up:"; cat /tmp/hvd.log; exit 1
		fi
		sleep 0.1
	done
	run version
fi
[ -n "$STATE" ] && [ -n "$IMAGE_DIR" ] || { echo "demo-testbed: give --state-dir and --image-dir with --hvadm" >&2; exit 2; }

# ---- the image, where `--image tiny` finds it: STATE/images/tiny/{vmlinux,bzImage,initrd,disk.img,cmdline}
DEST=$STATE/images/tiny
if [ -e "$DEST/vmlinux" ] || [ -e "$DEST/bzImage" ]; then
	say "demo: using the image already installed in $DEST"
else
	printf '\ndemo: installing the mkimage "tiny" image (%s) into hvd'"'"'s state dir\n' "$IMAGE_DIR"
	INSTALLED=$DEST
	shell "mkdir -p $DEST" || exit 1
	shell "cp $IMAGE_DIR/vmlinux $IMAGE_DIR/bzImage $IMAGE_DIR/initrd $IMAGE_DIR/disk.img $DEST/" || exit 1
	shell "echo \"\$(cat $IMAGE_DIR/cmdline) quiet hvd.end=wait\" > $DEST/cmdline" || exit 1
	shell "ls -l $DEST; cat $DEST/cmdline"
fi

if "$HVADM" show "$VM" >/dev/null 2>&1 </dev/null; then
	say "demo: a VM named $VM exists already here: using demo-$VM"
	VM=demo-$VM
fi
run create "$VM" --image tiny --vcpus 2 --memory 256M --label role=web || exit 1
run show "$VM"
t0=$(now)
run start "$VM" || exit 1

# ---- the console until the guest's /init prints its boot marker (and, a little later, HVD-READY)
say ""
say "demo: waiting for $VM's console to show HVD-BOOT-MARKER (printed by the guest's /init) ..."
con=/tmp/demo-console-$VM.log
# one streaming reader (hvadm console --follow) rather than a request per poll: under the
# testbed's emulation every process started costs the guest CPU time
"$HVADM" console "$VM" --follow </dev/null >"$con" 2>/dev/null &
follow=$!
marker='' ready=''
deadline=${HVD_DEMO_BOOT_TIMEOUT:-300}
while :; do
	if [ -z "$marker" ] && grep -aq '^HVD-BOOT-MARKER' "$con"; then
		marker=$(elapsed "$t0")
		say "demo: boot marker after ${marker}s (guest uptime $(sed -n 's/^HVD-BOOT-MARKER uptime=\([0-9.]*\).*/\1/p' "$con" | tr -d '\r')s)"
		deadline=$(awk -v m="$marker" 'BEGIN{printf "%d", m + 60}')
	fi
	if grep -aq '^HVD-READY' "$con"; then ready=$(elapsed "$t0"); break; fi
	if ! kill -0 "$follow" 2>/dev/null; then
		say "demo: the console stream ended; $VM is $("$HVADM" -o json show "$VM" </dev/null 2>/dev/null \
			| sed -n 's/.*"state" *: *"\([a-z]*\)".*/\1/p' | head -n1)"
		break
	fi
	[ "$(elapsed "$t0" | cut -d. -f1)" -lt "$deadline" ] || break
	sleep 0.5
done
kill "$follow" 2>/dev/null; wait "$follow" 2>/dev/null
[ -n "$ready" ] && say "demo: HVD-READY (root disk mounted, its /init-step run) after ${ready}s"
run console "$VM"
if [ -z "$marker" ]; then
	say "demo: FAILED: no boot marker on $VM's console after ${deadline}s"
	[ -n "$HVD_LOG" ] && { say "--- hvd log:"; tail -n 30 "$HVD_LOG"; }
	FAILED=1
fi

run list
t1=$(now)
run stop "$VM"
say "demo: hvadm stop took $(elapsed "$t1")s"
run list
printf '\n$ hvadm console %s | tail -n 2    # the last lines the guest printed\n' "$VM"
"$HVADM" console "$VM" </dev/null | tr -d '\r' | grep -av '^$' | tail -n 2
if [ -n "$HVD_LOG" ]; then
	printf '\n$ grep "vm %s" %s    # hvd'"'"'s log of its life\n' "$VM" "$HVD_LOG"
	grep -a "vm $VM" "$HVD_LOG"
fi
run delete "$VM" --yes
[ "$FAILED" = 0 ] && say "demo: $VM booted Linux to its /init, was listed, stopped and deleted"
exit $FAILED

#!/bin/sh
# cli-basic.sh HVD HVADM - hvadm against a real hvd on a temporary state dir.
#
# Starts its own hvd on a Unix socket in a fresh temporary directory, waits until the socket
# answers, then checks definitions create/list/show/edit/delete, clone, -o json output (parsed
# with python3), the exit codes 0/1/2 and the error messages. Cleans up (hvd stopped, directory
# removed) on every exit. Prints one line per check and ends with "N passed, N failed".
set -u

HVD=${1:?usage: cli-basic.sh HVD HVADM}
HVADM=${2:?usage: cli-basic.sh HVD HVADM}
case $HVD in /*) ;; *) HVD=$(pwd)/$HVD ;; esac
case $HVADM in /*) ;; *) HVADM=$(pwd)/$HVADM ;; esac
for f in "$HVD" "$HVADM"; do
	[ -x "$f" ] || { echo "cli-basic: $f is not an executable" >&2; exit 1; }
done
command -v python3 >/dev/null || { echo "cli-basic: python3 missing" >&2; exit 77; }

# A short directory: the socket path must stay under 108 bytes.
D=$(mktemp -d /tmp/hvd-cli.XXXXXX) || exit 1
HVD_PID=
cleanup() {
	if [ -n "$HVD_PID" ]; then
		kill "$HVD_PID" 2>/dev/null
		# give it 5 s to stop in order, then make sure
		i=0
		while kill -0 "$HVD_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$HVD_PID" 2>/dev/null
		wait "$HVD_PID" 2>/dev/null
	fi
	rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$D/state" "$D/run"
SOCK=$D/run/hvd.sock
: > "$D/vmlinuz"
: > "$D/initrd.img"
: > "$D/disk.img"
# the test runs whether or not the caller has HVD_* set
unset HVD_URL HVD_TOKEN HVD_SOCKET

"$HVD" --state-dir "$D/state" --runtime-dir "$D/run" --listen "unix:$SOCK" \
	> "$D/hvd.log" 2>&1 &
HVD_PID=$!

# Wait until the socket answers (not merely exists), for up to 15 s.
i=0
until "$HVADM" --socket "$SOCK" version > /dev/null 2>&1; do
	if ! kill -0 "$HVD_PID" 2>/dev/null; then
		echo "cli-basic: hvd exited before answering; its log:" >&2
		cat "$D/hvd.log" >&2
		HVD_PID=
		exit 1
	fi
	i=$((i + 1))
	if [ $i -ge 150 ]; then
		echo "cli-basic: hvd did not answer on $SOCK within 15 s; its log:" >&2
		cat "$D/hvd.log" >&2
		exit 1
	fi
	sleep 0.1
done

PASS=0
FAIL=0
OUT=$D/out
ERR=$D/err

ok() { PASS=$((PASS + 1)); echo "ok - $1"; }
not_ok() {
	FAIL=$((FAIL + 1))
	echo "not ok - $1"
	echo "#   stdout: $(head -c 2000 "$OUT")"
	echo "#   stderr: $(head -c 2000 "$ERR")"
}

# hv ARGS...: hvadm on the test socket, output in $OUT and $ERR, status in $RC.
hv() {
	"$HVADM" --socket "$SOCK" "$@" > "$OUT" 2> "$ERR" < /dev/null
	RC=$?
}

# check NAME EXPECTED_RC [stdout|stderr PATTERN]...: the last hv's status and output.
check() {
	name=$1 want=$2
	shift 2
	if [ "$RC" -ne "$want" ]; then
		not_ok "$name (exit $RC, expected $want)"
		return
	fi
	while [ $# -ge 2 ]; do
		file=$OUT
		[ "$1" = stderr ] && file=$ERR
		if ! grep -q -e "$2" "$file"; then
			not_ok "$name ($1 lacks '$2')"
			return
		fi
		shift 2
	done
	ok "$name"
}

# json_check NAME PYTHON_EXPR: $OUT parses as JSON and the expression (over `j`) is true.
json_check() {
	if python3 -c 'import json,sys; j = json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
		"$OUT" "$2" 2> "$D/py.err"; then
		ok "$1"
	else
		cat "$D/py.err" >> "$ERR"
		not_ok "$1 (JSON: $2)"
	fi
}

# --- reaching the daemon ---------------------------------------------------------------------
hv version
check "version names client and server" 0 stdout "^client: hvadm" stdout "^server: hvd"

HVD_SOCKET=$SOCK "$HVADM" list > "$OUT" 2> "$ERR" < /dev/null; RC=$?
check "HVD_SOCKET is used" 0 stdout "^NAME"

"$HVADM" --socket "$D/nope.sock" list > "$OUT" 2> "$ERR" < /dev/null; RC=$?
check "unreachable socket: exit 1, says how it tried" 1 \
	stderr "cannot connect to $D/nope.sock: No such file or directory"

# --- usage errors: exit 2 with the usage --------------------------------------------------------
hv
check "no command" 2 stderr "usage: hvadm"
hv frobnicate
check "unknown command" 2 stderr "unknown command 'frobnicate'"
hv list --bogus
check "unknown option" 2 stderr "unknown option '--bogus'" stderr "usage: hvadm list"
hv show
check "missing operand" 2 stderr "usage: hvadm show VM"
hv create x --vcpus 1 --memory 0 --kernel "$D/vmlinuz"
check "--memory 0 refused" 2 stderr "zero"
hv create x --vcpus 1 --memory 2X --kernel "$D/vmlinuz"
check "--memory garbage refused" 2 stderr "unknown unit"
hv create x --vcpus 1 --memory 99999999999999999999T --kernel "$D/vmlinuz"
check "--memory overflow refused" 2 stderr "too large"
hv create x --vcpus 1 --memory -1G --kernel "$D/vmlinuz"
check "--memory negative refused" 2 stderr "negative"
hv create x --vcpus 1 --memory 64 --kernel "$D/vmlinuz" --disk "$D/disk.img,rx"
check "bad --disk refused" 2 stderr "unknown disk option 'rx'"
hv create x --vcpus 1 --memory 64 --kernel "$D/vmlinuz" --nic bridge=br0
check "bad --nic refused" 2 stderr "unknown NIC option"
hv -o yaml list
check "bad -o refused" 2 stderr "expected table or json"
hv edit nothing-to-do
check "edit without changes" 2 stderr "nothing to change"

# --- help ---------------------------------------------------------------------------------------
hv --help
check "--help lists commands" 0 stdout "^  clone " stdout "^  snapshot "
for cmd in list show create edit delete start stop reboot pause resume console clone \
	   snapshot migrate ops wait events hosts token version; do
	hv "$cmd" --help
	check "$cmd --help" 0 stdout "^usage: hvadm $cmd"
done
hv help snapshot create
check "help snapshot create" 0 stdout "^usage: hvadm snapshot create VM NAME"

# --- create / list / show -----------------------------------------------------------------------
hv list
check "empty list has a header" 0 stdout "^NAME  *STATE  *VCPUS  *MEMORY  *HOST"

hv create web01 --vcpus 1 --memory 64M --kernel "$D/vmlinuz" --initrd "$D/initrd.img" \
	--cmdline "console=ttyS0" --disk "$D/disk.img,ro" --nic network=br0 --label role=web
check "create from flags" 0 stdout "web01"

hv list
check "list shows the VM" 0 stdout "^web01  *stopped  *1  *64M .*role=web"

hv show web01
check "show" 0 stdout "^Name: *web01" stdout "^Memory: *64M" stdout "^Cmdline: *console=ttyS0" \
	stdout "disk0 *ro *$D/disk.img" stdout "net0 .*network=br0"

hv -o json show web01
json_check "show -o json is the VM" \
	"j['name'] == 'web01' and j['memory_mib'] == 64 and j['vcpus'] == 1 and j['disks'][0]['readonly'] and j['state'] == 'stopped'"
python3 -m json.tool "$OUT" > /dev/null 2>> "$ERR" && ok "show -o json: json.tool parses" || not_ok "show -o json: json.tool"

hv -o json list
json_check "list -o json" "[v['name'] for v in j['vms']] == ['web01']"

hv list --label role=web
check "list --label" 0 stdout "^web01"
hv list --label role=db
check "list --label, no match" 0
if grep -q web01 "$OUT"; then not_ok "list --label role=db shows web01"; else ok "list --label filters"; fi
hv list --label role=web --label role=db
if [ "$RC" -eq 0 ] && ! grep -q web01 "$OUT"; then ok "two --label must both match"; else not_ok "two --label must both match"; fi

cat > "$D/vm.json" <<EOF
{"name": "fromfile", "vcpus": 1, "memory_mib": 32, "boot": {"kernel": "$D/vmlinuz"}}
EOF
hv create -f "$D/vm.json"
check "create -f FILE" 0 stdout "fromfile"
"$HVADM" --socket "$SOCK" create stdin-vm -f - < "$D/vm.json" > "$OUT" 2> "$ERR"; RC=$?
check "create NAME -f - (stdin)" 0 stdout "stdin-vm"
echo '{"name": ' > "$D/broken.json"
hv create -f "$D/broken.json"
check "create -f with broken JSON" 1 stderr "broken.json:"

# --- refusals: exit 1 with hvd's message --------------------------------------------------------
hv show nope
check "show unknown VM" 1 stderr "not_found" stderr "nope"
hv create web01 --vcpus 1 --memory 64 --kernel "$D/vmlinuz"
check "duplicate name" 1 stderr "(conflict"
hv create small --vcpus 1 --memory 8 --kernel "$D/vmlinuz"
check "memory below the minimum" 1 stderr "validation_failed" stderr "memory_mib"
hv create Bad_Name --vcpus 1 --memory 64 --kernel "$D/vmlinuz"
check "invalid name" 1 stderr "validation_failed" stderr "name"
hv create rel --vcpus 1 --memory 64 --kernel vmlinuz
check "relative kernel path" 1 stderr "validation_failed"

# --- edit ---------------------------------------------------------------------------------------
hv edit web01 --memory 128 --label tier=prod --unlabel role
check "edit" 0 stdout "web01"
hv -o json show web01
json_check "edit applied" "j['memory_mib'] == 128 and j.get('labels') == {'tier': 'prod'}"
hv edit web01 --vcpus 1 --if-match 1
check "edit with a stale ETag" 1 stderr "precondition_failed"
hv edit web01 --on-crash restart --force
check "edit --force" 0
hv -o json edit web01 --label k=v
json_check "edit -o json prints the VM" "j['labels']['k'] == 'v' and j['on_crash'] == 'restart'"
hv edit nope --memory 64
check "edit unknown VM" 1 stderr "not_found"

# --- clone, operations, hosts -------------------------------------------------------------------
hv clone web01
check "clone prints the clone's name" 0 stdout "^web01-1$"
hv -o json ops
json_check "ops -o json" "j['operations'][0]['kind'] == 'clone' and j['operations'][0]['status'] == 'success'"
hv ops
check "ops table" 0 stdout "^ID  *KIND  *VM  *STATUS" stdout "clone  *web01  *success"
hv hosts
check "hosts lists the local host" 0 stdout "(local)"
hv -o json hosts
json_check "hosts -o json" "any(h['local'] for h in j['hosts'])"

# --- delete -------------------------------------------------------------------------------------
hv delete web01
check "delete without --yes and no terminal" 2 stderr "without --yes"
hv delete web01 --yes
check "delete" 0 stdout "deleted web01"
hv show web01
check "deleted VM is gone" 1 stderr "not_found"
hv delete web01 --yes
check "delete again" 1 stderr "not_found"
for vm in web01-1 fromfile stdin-vm; do
	hv delete "$vm" --yes
	check "delete $vm" 0
done
hv -o json list
json_check "all gone" "j['vms'] == []"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]

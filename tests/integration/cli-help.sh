#!/bin/sh
# cli-help.sh HVD HVADM - hvadm's help needs no daemon and covers every command, and the man
# page (docs/hvadm.1) documents every command and subcommand the binary knows.
#
# The commands are read from `hvadm --help` and the subcommands from `hvadm help CMD`, so a command
# added to the table without help or without a man page entry fails here. HVD is unused (the
# argument is there so every cli-*.sh is called the same way).
set -u

HVADM=${2:?usage: cli-help.sh HVD HVADM}
MAN=$(dirname "$0")/../../docs/hvadm.1
[ -x "$HVADM" ] || { echo "cli-help: $HVADM is not an executable" >&2; exit 1; }
[ -r "$MAN" ] || { echo "cli-help: $MAN missing" >&2; exit 1; }

# Point at a socket that cannot exist: help must not try to connect.
export HVD_SOCKET=/nonexistent/hvd.sock
unset HVD_URL HVD_TOKEN
PASS=0
FAIL=0
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT

ok() { PASS=$((PASS + 1)); echo "ok - $1"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $1"; }

"$HVADM" --help > "$T/main" 2>&1 && ok "hvadm --help" || not_ok "hvadm --help"
"$HVADM" --version | grep -q '^hvadm [0-9]' && ok "hvadm --version" || not_ok "hvadm --version"
cmds=$(sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p' "$T/main")
[ -n "$cmds" ] && ok "commands listed" || not_ok "commands listed"

# man page: every ".B hvadm CMD" entry, in a plain list
grep '^\.B hvadm ' "$MAN" | sed 's/\\f.//g; s/\\-/-/g' | awk '{print $3, $4}' > "$T/man"

for c in $cmds; do
	if "$HVADM" "$c" --help > "$T/out" 2>&1 && grep -q "^usage: hvadm $c" "$T/out" &&
	   grep -q "^Global options" "$T/out"; then
		ok "$c --help"
	else
		not_ok "$c --help: $(head -3 "$T/out")"
	fi
	"$HVADM" help "$c" > "$T/out2" 2>&1 && cmp -s "$T/out" "$T/out2" &&
		ok "help $c = $c --help" || not_ok "help $c differs from $c --help"
	[ "$c" = help ] || grep -q "^$c" "$T/man" && ok "man page documents $c" ||
		not_ok "man page lacks '.B hvadm $c'"
	subs=$(sed -n '/^Subcommands:/,/^$/s/^  \([a-z]*\) .*/\1/p' "$T/out")
	for s in $subs; do
		"$HVADM" help "$c" "$s" | grep -q "^usage: hvadm $c $s" &&
			ok "help $c $s" || not_ok "help $c $s"
		# "hosts list" is documented as "hosts [list]"
		grep -q "^$c \(\[\)\{0,1\}$s" "$T/man" && ok "man page documents $c $s" ||
			not_ok "man page lacks '.B hvadm $c $s'"
	done
done

# the global options and environment are documented
for opt in socket url token cacert insecure output help version; do
	grep -q "^\.B[IR]* \\\\-\\\\-$opt\|\\\\-\\\\-$opt" "$MAN" && ok "man page documents --$opt" ||
		not_ok "man page lacks --$opt"
done
for v in HVD_SOCKET HVD_URL HVD_TOKEN; do
	grep -q "^\.B $v" "$MAN" && ok "man page documents $v" || not_ok "man page lacks $v"
done

# the page formats without warnings, where man is installed
if command -v man > /dev/null; then
	w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$MAN" 2>&1 > /dev/null)
	[ -z "$w" ] && ok "man page formats cleanly" || not_ok "man warnings: $w"
fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]

#!/bin/sh
# The systemd units, sysusers.d and tmpfiles.d entries as installed by
# `meson install` are accepted by systemd's own tools without a warning.
# usage: systemd-units.sh BUILD_DIR
set -eu
build=$1
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze is not installed"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DESTDIR="$tmp/stage" meson install -C "$build" --no-rebuild --quiet >/dev/null
units=$(find "$tmp/stage" -path '*/systemd/system/*' -type f)
[ -n "$units" ] || { echo "FAIL: no units installed"; exit 1; }
hvd=$(find "$tmp/stage" -path '*/sbin/hvd' -type f)
mkdir "$tmp/units"
for u in $units; do
	# point ExecStart at the staged binary so verify can check it exists
	sed "s|^ExecStart=.*/hvd\$|ExecStart=$hvd|" "$u" >"$tmp/units/$(basename "$u")"
done
grep -q "^ExecStart=$hvd\$" "$tmp/units/hvd.service" || { echo "FAIL: ExecStart does not name sbin/hvd"; exit 1; }
out=$(cd "$tmp/units" && systemd-analyze verify --man=no "$tmp"/units/* 2>&1) || { echo "FAIL: $out"; exit 1; }
[ -z "$out" ] || { echo "FAIL: systemd-analyze verify warned: $out"; exit 1; }
echo "ok: systemd-analyze verify: $(ls "$tmp/units" | tr '\n' ' ')"

for key in Type=notify KillMode=process Restart=on-failure RuntimeDirectoryPreserve=yes; do
	grep -q "^$key\$" "$tmp/units/hvd.service" || { echo "FAIL: hvd.service lacks $key"; exit 1; }
done

sysusers=$(find "$tmp/stage" -path '*/sysusers.d/hvd.conf')
tmpfiles=$(find "$tmp/stage" -path '*/tmpfiles.d/hvd.conf')
mkdir -p "$tmp/root/etc"
: >"$tmp/root/etc/passwd"; : >"$tmp/root/etc/group"
systemd-sysusers --root="$tmp/root" "$sysusers" 2>"$tmp/err" || { echo "FAIL: sysusers: $(cat "$tmp/err")"; exit 1; }
grep -q '^hvd:' "$tmp/root/etc/group" || { echo "FAIL: sysusers made no group hvd"; exit 1; }
grep -q '^hvd-vm:' "$tmp/root/etc/passwd" || { echo "FAIL: sysusers made no user hvd-vm"; exit 1; }
echo "ok: systemd-sysusers creates group hvd and user hvd-vm"
systemd-tmpfiles --root="$tmp/root" --create "$tmpfiles" 2>"$tmp/err" || { echo "FAIL: tmpfiles: $(cat "$tmp/err")"; exit 1; }
[ "$(stat -c %a "$tmp/root/var/lib/hvd")" = 700 ] || { echo "FAIL: /var/lib/hvd is not 0700"; exit 1; }
[ -d "$tmp/root/run/hvd" ] || { echo "FAIL: tmpfiles made no /run/hvd"; exit 1; }
echo "ok: systemd-tmpfiles creates /var/lib/hvd (0700) and /run/hvd"

#!/bin/sh
# Starts a real hvd on a temporary state dir and runs openapi-check.py
# against it: the OpenAPI document is well-formed and every real response
# validates against the schema it names (python3-jsonschema).
# usage: openapi.sh HVD_BINARY SCHEMAS_DIR
set -eu
hvd=$1
schemas=$2
python3 -c 'import jsonschema' 2>/dev/null || { echo "SKIP: python3-jsonschema is not installed"; exit 77; }
tmp=$(mktemp -d)
"$hvd" --state-dir "$tmp/state" --runtime-dir "$tmp/run" --log-level warning 2>"$tmp/hvd.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
i=0
until [ -S "$tmp/run/hvd.sock" ]; do
	i=$((i + 1))
	[ $i -lt 200 ] || { echo "FAIL: hvd did not start"; cat "$tmp/hvd.log"; exit 1; }
	sleep 0.05
done
python3 "$(dirname "$0")/openapi-check.py" --schemas "$schemas" "unix:$tmp/run/hvd.sock"

#!/usr/bin/env python3
"""vmm-ctl.py - a minimal client of an `hvd vmm` control socket, for tests.

  vmm-ctl.py SOCKET wait [TIMEOUT]       wait until the socket accepts
  vmm-ctl.py SOCKET call JSON            send one request, print the answer
  vmm-ctl.py SOCKET events OUT [TIMEOUT] append every line received to OUT
                                         until the socket closes
Exit status: 0 ok, 1 the answer had "ok": false or timed out, 2 usage."""
import json
import socket
import sys
import time


def connect(path, timeout):
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                return None
            time.sleep(0.01)


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    path, op = sys.argv[1], sys.argv[2]
    if op == "wait":
        s = connect(path, float(sys.argv[3]) if len(sys.argv) > 3 else 10)
        return 0 if s else 1
    if op == "call":
        s = connect(path, 10)
        if not s:
            return 1
        s.settimeout(10)
        s.sendall(sys.argv[3].encode() + b"\n")
        f = s.makefile("r")
        for line in f:
            msg = json.loads(line)
            if "event" in msg:
                continue
            print(line.strip())
            return 0 if msg.get("ok") else 1
        return 1
    if op == "events":
        s = connect(path, float(sys.argv[4]) if len(sys.argv) > 4 else 10)
        if not s:
            return 1
        with open(sys.argv[3], "a") as out:
            print("connected", file=out, flush=True)
            for line in s.makefile("r"):
                out.write(line)
                out.flush()
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""bench/restart: how fast hvd comes back.

- start to API ready, with an empty state dir and with 1,000 VMs defined;
- after kill -9 with 20 running test-guest VMs: start to API ready, and to
  all 20 re-attached and controllable (each paused and resumed once).
Median (and min/max) of RUNS runs each. Figures only.
usage: bench/restart.py HVD_BINARY TEST_GUEST_ELF [RUNS=5]
"""
import os, signal, statistics, sys, tempfile, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from hvdtest import Daemon  # noqa: E402

HVD, GUEST = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
RUNS = int(sys.argv[3]) if len(sys.argv) > 3 else 5
CONF = "host_vcpus = 4096\nhost_memory_mib = 1048576\n"


def timed_start(h):
    t0 = time.time()
    h.start()
    return time.time() - t0


def row(what, xs, unit="ms"):
    xs = [x * 1000 for x in xs]
    print("%-52s median %8.1f %s   (min %.1f, max %.1f, %d runs)" % (what, statistics.median(xs), unit,
                                                                    min(xs), max(xs), len(xs)))


with tempfile.TemporaryDirectory() as d:
    h = Daemon(HVD, d, CONF)
    empty = []
    for _ in range(RUNS):
        empty.append(timed_start(h))
        h.stop()
    for i in range(1000):
        h_started = h.alive() or h.start()
        h.req("POST", "/v1/vms", {"name": "b%04d" % i, "vcpus": 1, "memory_mib": 16,
                                  "boot": {"kernel": "/boot/vmlinuz"}})
    h.stop()
    full = []
    for _ in range(RUNS):
        full.append(timed_start(h))
        h.stop()

with tempfile.TemporaryDirectory() as d:
    h = Daemon(HVD, d, CONF)
    h.start()
    names = ["r%02d" % i for i in range(20)]
    for n in names:
        h.req("POST", "/v1/vms", {"name": n, "vcpus": 1, "memory_mib": 32,
                                  "boot": {"kernel": GUEST, "cmdline": "mode=dirty pages=64"}})
        h.req("POST", "/v1/vms/%s/start" % n)
    ready, attached = [], []
    for _ in range(RUNS):
        h.stop(signal.SIGKILL)
        t0 = time.time()
        h.start()
        ready.append(time.time() - t0)
        while len(h.vms("running")) < 20:
            time.sleep(0.005)
        for n in names:
            h.req("POST", "/v1/vms/%s/pause" % n)
            h.req("POST", "/v1/vms/%s/resume" % n)
        attached.append(time.time() - t0)
    for n in names:
        h.req("POST", "/v1/vms/%s/stop" % n, {"force": True})
    h.stop()

print("hvd restart (this machine: %d CPUs; load average %.1f)" % (os.cpu_count(), os.getloadavg()[0]))
row("start to API ready, empty state", empty)
row("start to API ready, 1,000 VMs defined", full)
row("kill -9 with 20 VMs running: start to API ready", ready)
row("... to 20 re-attached, each paused+resumed", attached)
print("target (issue 4): all re-attached and controllable within 2 s")

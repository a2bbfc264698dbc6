#!/usr/bin/env python3
"""VMs through the REST API on this host's real /dev/kvm (the test guest).

- 10 VMs defined and started concurrently: each prints its marker, writes
  its own disk and prints the checksum of its seed; the disks are isolated
  (a second boot in verify mode finds each VM's own data, nobody else's).
- stop (graceful: the guest's Ctrl-Alt-Del path), stop --force, reboot.
- pause stops the counter, resume continues it.
- a guest writing garbage into its virtio rings does not crash its VMM and
  does not disturb the others (their counters keep moving).
- SIGKILL of one VMM process: the daemon records the crash with its reason,
  the others keep running; on_crash=restart brings a VM back.
- restart of the daemon re-attaches to running VMs, which stay controllable.
usage: vm-lifecycle.py HVD_BINARY TEST_GUEST_ELF
"""
import os, re, signal, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hvdtest import Daemon, check, finish, last_counter, need_kvm, wait_for  # noqa: E402

HVD, GUEST = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
need_kvm()


def define(h, name, cmdline, disk=None, **extra):
    body = {"name": name, "vcpus": 1, "memory_mib": 64,
            "boot": {"kernel": GUEST, "cmdline": cmdline}}
    if disk:
        body["disks"] = [{"id": "d0", "path": disk}]
    body.update(extra)
    st, vm = h.req("POST", "/v1/vms", body)
    check(st == 201, "define %s: %s" % (name, st if st == 201 else vm))
    return vm


with tempfile.TemporaryDirectory() as d:
    h = Daemon(HVD, d)
    h.start()
    try:
        # ---- 10 VMs, concurrently: markers, disks, isolation ----
        N = 10
        for i in range(N):
            disk = os.path.join(d, "disk%d.img" % i)
            with open(disk, "wb") as f:
                f.truncate(4 << 20)
            define(h, "g%d" % i, "mode=blk,dirty sectors=64 seed=%d tick=50000000" % (i + 1), disk)
        results = {}

        def start(name):
            results[name] = h.req("POST", "/v1/vms/%s/start" % name)

        threads = [threading.Thread(target=start, args=("g%d" % i,)) for i in range(N)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check(all(results["g%d" % i][0] == 200 and results["g%d" % i][1]["state"] == "running"
                  for i in range(N)), "10 concurrent starts answer 200 running: %s" %
              {k: v[0] for k, v in results.items()})
        sums = {}
        for i in range(N):
            # a whole line: the console log may end in the middle of one
            out = wait_for(lambda: (lambda t: t if re.search(r"BLK (OK sectors=\d+ sum=0x[0-9a-f]+|FAIL[^\n]*)\r?\n", t)
                                    else None)(h.console("g%d" % i)), 60)
            check(out and "HVD-TEST-GUEST READY" in out, "g%d printed its marker" % i)
            m = re.search(r"BLK OK sectors=64 sum=(0x[0-9a-f]+)", out or "")
            check(m is not None, "g%d wrote and read back its disk: %s" % (i, (out or "")[-200:]))
            sums[i] = m.group(1) if m else None
        check(len(set(sums.values())) == N, "10 different seeds give 10 different checksums")
        st, lst = h.req("GET", "/v1/vms?state=running")
        check(len(lst["vms"]) == N, "GET /v1/vms?state=running lists the 10")

        # ---- pause / resume: the counter stops and continues ----
        wait_for(lambda: last_counter(h, "g0") > 0, 30)
        st, vm = h.req("POST", "/v1/vms/g0/pause")
        check(st == 200 and vm["state"] == "paused", "pause answers 200 paused")
        c1 = last_counter(h, "g0")
        time.sleep(1.0)
        c2 = last_counter(h, "g0")
        check(c1 == c2, "the counter stands still while paused (%d, %d)" % (c1, c2))
        st, vm = h.req("POST", "/v1/vms/g0/pause")
        check(st == 409 and vm["error"]["code"] == "wrong_state", "pausing a paused VM is 409 wrong_state")
        st, vm = h.req("POST", "/v1/vms/g0/resume")
        check(st == 200 and vm["state"] == "running", "resume answers 200 running")
        check(wait_for(lambda: last_counter(h, "g0") > c2, 30), "the counter continues after resume")

        # ---- a hostile guest: garbage rings ----
        bad = os.path.join(d, "bad.img")
        with open(bad, "wb") as f:
            f.truncate(4 << 20)
        define(h, "evil", "mode=garbage,dirty tick=50000000", bad)
        before = {i: last_counter(h, "g%d" % i) for i in (1, 2, 3)}
        st, vm = h.req("POST", "/v1/vms/evil/start")
        check(st == 200, "the garbage-ring guest starts")
        out = wait_for(lambda: (lambda t: t if "GARBAGE DONE" in t else None)(h.console("evil")), 60)
        check(out is not None, "the garbage guest got through every malformed ring")
        check(h.vm("evil")["state"] == "running", "its VMM survived its garbage (state running)")
        check(wait_for(lambda: all(last_counter(h, "g%d" % i) > before[i] for i in (1, 2, 3)), 30),
              "the other VMs' counters keep moving")

        # ---- stop: graceful, forced ----
        st, vm = h.req("POST", "/v1/vms/g1/stop", {"timeout_s": 30})
        check(st == 200 and vm["state"] == "stopped", "graceful stop answers 200 stopped: %s" % vm)
        check("HVD-TEST-GUEST SHUTDOWN" in h.console("g1"), "the guest saw the shutdown request (Ctrl-Alt-Del)")
        st, vm = h.req("POST", "/v1/vms/g2/stop", {"force": True})
        check(st == 200 and vm["state"] == "stopped" and "forced" in vm["state_reason"],
              "forced stop answers 200 stopped (forced): %s" % (vm.get("state_reason") if isinstance(vm, dict) else vm))
        st, vm = h.req("POST", "/v1/vms/g2/stop")
        check(st == 409, "stopping a stopped VM is 409")

        # ---- the disks are isolated: verify boots find only their own data ----
        for i in (1, 2):
            name = "g%d" % i
            h.req("PATCH", "/v1/vms/" + name, {"boot": {"cmdline": "mode=verify sectors=64 seed=%d" % (i + 1)}})
            st, vm = h.req("POST", "/v1/vms/%s/start" % name)
            out = wait_for(lambda: (lambda t: t if "HVD-TEST-GUEST DONE" in t else None)(h.console(name)), 60)
            check(out and "BLK OK sectors=64 sum=%s" % sums[i] in out,
                  "%s's second boot reads back exactly its own data" % name)
            check(wait_for(lambda: h.vm(name)["state"] == "stopped", 30),
                  "%s: a guest that powers off is stopped" % name)
        h.req("PATCH", "/v1/vms/g1", {"boot": {"cmdline": "mode=verify sectors=64 seed=3"}})
        h.req("POST", "/v1/vms/g1/start")
        out = wait_for(lambda: (lambda t: t if "HVD-TEST-GUEST DONE" in t else None)(h.console("g1")), 60)
        check(out and "BLK FAIL" in out, "g1's disk does not hold g2's data (verify with g2's seed fails)")

        # ---- reboot: a fresh VMM process, running again ----
        pid_before = h.pid_of("g3")
        st, vm = h.req("POST", "/v1/vms/g3/reboot")
        pid_after = h.pid_of("g3")
        check(st == 200 and vm["state"] == "running" and pid_before != pid_after,
              "reboot answers 200 running with a new VMM process")

        # ---- kill one VMM: crash recorded, the others unaffected ----
        pid = h.pid_of("g4")
        before = {i: last_counter(h, "g%d" % i) for i in (5, 6)}
        os.kill(pid, signal.SIGKILL)
        vm = wait_for(lambda: (lambda v: v if v["state"] == "crashed" else None)(h.vm("g4")), 15)
        check(vm is not None and "signal 9" in vm["state_reason"],
              "SIGKILL of a VMM: the VM is crashed with the reason (%s)" % (vm or h.vm("g4"))["state_reason"])
        check(wait_for(lambda: all(last_counter(h, "g%d" % i) > before[i] for i in (5, 6)), 30),
              "the other VMs keep running")
        h.req("PATCH", "/v1/vms/g5", {"on_crash": "restart"})
        pid = h.pid_of("g5")
        os.kill(pid, signal.SIGKILL)
        check(wait_for(lambda: h.vm("g5")["state"] == "running" and h.pid_of("g5") != pid, 20),
              "on_crash=restart: a crashed VM runs again")

        # ---- the daemon restarts; VMs keep running and stay controllable ----
        running = sorted(v["name"] for v in h.req("GET", "/v1/vms?state=running")[1]["vms"])
        h.stop(signal.SIGKILL)
        h.start()
        # re-attach reconciles each VM as its VMM answers: wait until it settles
        again = wait_for(lambda: (lambda a: a if a == running else None)(
            sorted(v["name"] for v in h.req("GET", "/v1/vms?state=running")[1]["vms"])), 15) or \
            sorted(v["name"] for v in h.req("GET", "/v1/vms?state=running")[1]["vms"])
        check(running == again and len(again) >= 5, "after kill -9 of hvd, the same %d VMs run%s" % (
            len(again), "" if running == again else " (before %s, after %s; states %s)" % (
                running, again, {v["name"]: v["state"] for v in h.vms()})))
        st, vm = h.req("POST", "/v1/vms/g6/pause")
        st2, vm2 = h.req("POST", "/v1/vms/g6/resume")
        check(st == 200 and st2 == 200 and vm2["state"] == "running", "re-attached VMs pause and resume")
        st, vm = h.req("POST", "/v1/vms/g7/stop", {"force": True})
        check(st == 200 and vm["state"] == "stopped", "re-attached VMs stop")

        # ---- a bad kernel: start fails with the VMM's reason ----
        define(h, "nokernel", "mode=dirty")
        h.req("PATCH", "/v1/vms/nokernel", {"boot": {"kernel": "/nonexistent/kernel"}})
        st, body = h.req("POST", "/v1/vms/nokernel/start")
        check(st == 409 and body["error"]["code"] == "start_failed",
              "a missing kernel: 409 start_failed (%s)" % (body["error"]["message"] if isinstance(body, dict) else body))
        check(h.vm("nokernel")["state"] == "stopped", "and the VM stays stopped")
    finally:
        h.stop_all_vms()
        if h.alive():
            h.stop()

finish("VM lifecycle")

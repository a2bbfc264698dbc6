#!/usr/bin/env python3
"""kill -9 hvd with 20 running test-guest VMs, 20 times in a row.

Each time a new hvd starts on the same state and runtime dirs, it must
re-attach to all 20 VMM processes (the same pids: no VM lost or restarted),
and every VM must be controllable: pause stops its counter, resume continues
it. At the end every VM stops on request. Times are printed (bench/restart
measures them properly), never asserted.
usage: reattach-kill9.py HVD_BINARY TEST_GUEST_ELF [VMS=20] [ROUNDS=20]
"""
import os, signal, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hvdtest import Daemon, check, finish, need_kvm, pid_alive, wait_for  # noqa: E402

HVD, GUEST = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
VMS = int(sys.argv[3]) if len(sys.argv) > 3 else 20
ROUNDS = int(sys.argv[4]) if len(sys.argv) > 4 else 20
need_kvm()

with tempfile.TemporaryDirectory() as d:
    h = Daemon(HVD, d)
    h.start()
    try:
        names = ["k%02d" % i for i in range(VMS)]
        for n in names:
            st, _ = h.req("POST", "/v1/vms", {"name": n, "vcpus": 1, "memory_mib": 32,
                                              "boot": {"kernel": GUEST, "cmdline": "mode=dirty pages=64"}})
            assert st == 201
            st, vm = h.req("POST", "/v1/vms/%s/start" % n)
            assert st == 200 and vm["state"] == "running", vm
        pids = {n: h.pid_of(n) for n in names}
        lost = 0
        for rnd in range(1, ROUNDS + 1):
            h.stop(signal.SIGKILL)
            t0 = time.time()
            h.start()
            running = {v["name"] for v in h.vms("running")}
            t_ready = time.time() - t0
            ok_pids = all(h.pid_of(n) == pids[n] for n in names)
            lost += len(set(names) - running)
            controllable = 0
            for n in names:
                st1, v1 = h.req("POST", "/v1/vms/%s/pause" % n)
                st2, v2 = h.req("POST", "/v1/vms/%s/resume" % n)
                controllable += st1 == 200 and v1["state"] == "paused" and st2 == 200 and v2["state"] == "running"
            t_ctl = time.time() - t0
            check(running == set(names) and ok_pids and controllable == VMS,
                  "round %d: %d/%d running with the same VMM pids, %d controllable "
                  "(API ready after %.3f s, all paused+resumed after %.3f s)"
                  % (rnd, len(running), VMS, controllable, t_ready, t_ctl))
        check(lost == 0, "%d VMs lost over %d kill -9 rounds" % (lost, ROUNDS))
        for n in names:
            st, vm = h.req("POST", "/v1/vms/%s/stop" % n, {"force": True})
        check(all(v["state"] == "stopped" for v in h.vms()), "every VM stops on request afterwards")
        check(wait_for(lambda: not any(pid_alive(p) for p in pids.values()), 10),
              "and no VMM process is left")
    finally:
        h.stop_all_vms()
        if h.alive():
            h.stop()

finish("kill -9 re-attach")

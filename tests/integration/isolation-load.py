#!/usr/bin/env python3
"""Isolation under load (issue 4): with 20 VMs running, one guest flooding
its disk device with malformed rings and one spinning both its vCPUs, the
other VMs' console output and disk I/O continue at their normal rate.

18 "normal" VMs run the test guest's blkloop mode (a disk write + read-back
+ checksum pass, then a console line, forever). Their progress (passes per
second) is measured with only them running, then again once the flooder
and the 2-vCPU spinner run too. Each normal VM must keep at least 40% of
its baseline rate (the two attackers take a fair share of the 2 host CPUs:
18/20 of the baseline is what fairness gives), its checksums stay right,
and the attackers' VMMs and the daemon stay up. The rates are printed.
usage: isolation-load.py HVD_BINARY TEST_GUEST_ELF
"""
import os, re, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hvdtest import Daemon, check, finish, need_kvm, wait_for  # noqa: E402

HVD, GUEST = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
need_kvm()
NORMAL, WINDOW = 18, 8.0


def passes(h, name):
    text = h.console(name)
    fails = text.count("BLK FAIL")
    m = re.findall(r"BLKLOOP (\d+)\r?\n", text)   # whole lines: "BLKLOOP 1" may be "BLKLOOP 123" in the making
    return (int(m[-1]) if m else 0), fails


def rates(h, names):
    a = {n: passes(h, n)[0] for n in names}
    t0 = time.time()
    time.sleep(WINDOW)
    dt = time.time() - t0
    return {n: (passes(h, n)[0] - a[n]) / dt for n in names}


with tempfile.TemporaryDirectory() as d:
    h = Daemon(HVD, d)
    h.start()
    try:
        names = ["n%02d" % i for i in range(NORMAL)]
        for i, n in enumerate(names + ["flood"]):
            disk = os.path.join(d, n + ".img")
            with open(disk, "wb") as f:
                f.truncate(4 << 20)
            mode = "mode=flood" if n == "flood" else "mode=blkloop sectors=16 seed=%d" % (i + 1)
            st, _ = h.req("POST", "/v1/vms", {"name": n, "vcpus": 1, "memory_mib": 32,
                                              "boot": {"kernel": GUEST, "cmdline": mode},
                                              "disks": [{"id": "d0", "path": disk}]})
            assert st == 201
        h.req("POST", "/v1/vms", {"name": "spin", "vcpus": 2, "memory_mib": 32,
                                  "boot": {"kernel": GUEST, "cmdline": "mode=dirty pages=256"}})
        for n in names:
            st, vm = h.req("POST", "/v1/vms/%s/start" % n)
            assert st == 200 and vm["state"] == "running", vm
        check(wait_for(lambda: all(passes(h, n)[0] >= 2 for n in names), 60), "18 normal VMs make progress")
        base = rates(h, names)
        for n in ("flood", "spin"):
            st, vm = h.req("POST", "/v1/vms/%s/start" % n)
            check(st == 200 and vm["state"] == "running", "attacker %s runs" % n)
        check(wait_for(lambda: "FLOOD 2" in h.console("flood"), 60), "the flooder is flooding")
        under = rates(h, names)
        worst = min(under[n] / base[n] for n in names if base[n] > 0)
        print("normal VMs, disk passes/s: baseline median %.2f, under attack median %.2f, worst ratio %.2f"
              % (sorted(base.values())[NORMAL // 2], sorted(under.values())[NORMAL // 2], worst))
        check(all(base[n] > 0 for n in names), "every normal VM had a baseline rate")
        check(worst >= 0.4, "every normal VM keeps >= 40%% of its rate under attack (worst %.2f)" % worst)
        check(all(passes(h, n)[1] == 0 for n in names), "no normal VM saw a wrong checksum")
        states = {v["name"]: v["state"] for v in h.vms()}
        check(all(s == "running" for s in states.values()), "all 20 VMs still run (%s)" %
              {k: v for k, v in states.items() if v != "running"})
        check(h.alive(), "the daemon is up")
    finally:
        h.stop_all_vms()
        if h.alive():
            h.stop()

finish("isolation under load")

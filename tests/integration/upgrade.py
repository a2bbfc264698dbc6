#!/usr/bin/env python3
"""A package upgrade replaces hvd's binary while the daemon runs: VMs still
start (the VMM is the running daemon's own binary), and after a restart of
the daemon from the new file the running VM is re-attached and controllable.
usage: upgrade.py HVD_BINARY TEST_GUEST_ELF"""
import os, shutil, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hvdtest import Daemon, check, counters, finish, need_kvm, wait_for  # noqa: E402

HVD, GUEST = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
need_kvm()

# the executable and the daemon module it loads from beside itself, as a package installs them
MODULE = os.path.join(os.path.dirname(HVD), "hvd-daemon.so")

with tempfile.TemporaryDirectory() as d:
    exe = os.path.join(d, "hvd")
    shutil.copy2(HVD, exe)
    shutil.copy2(MODULE, os.path.join(d, "hvd-daemon.so"))
    h = Daemon(exe, d)
    h.start()
    try:
        st, _ = h.req("POST", "/v1/vms", {"name": "u1", "vcpus": 1, "memory_mib": 64,
                                          "boot": {"kernel": GUEST, "cmdline": "mode=dirty tick=20000000"}})
        check(st == 201, "define u1")
        # what dpkg does: write the new file beside, rename it over the old one
        for src, dst in ((HVD, exe), (MODULE, os.path.join(d, "hvd-daemon.so"))):
            shutil.copy2(src, dst + ".dpkg-new")
            os.rename(dst + ".dpkg-new", dst)
        st, body = h.req("POST", "/v1/vms/u1/start")
        check(st == 200 and body.get("state") == "running",
              "a VM starts after the binary was replaced under the daemon: %s %s" % (st, body))
        check(wait_for(lambda: len(counters(h.console("u1"))) >= 2, 30), "and runs")
        h.stop()
        h.start()
        check(wait_for(lambda: h.vm("u1").get("state") == "running", 10),
              "the new daemon re-attaches the running VM")
        st, body = h.req("POST", "/v1/vms/u1/pause")
        check(st == 200 and body.get("state") == "paused", "and controls it")
    finally:
        h.stop_all_vms()
        wait_for(lambda: all(v["state"] in ("stopped", "crashed") for v in h.vms()), 30)
        h.stop()
finish("upgrade")

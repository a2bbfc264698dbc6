#!/usr/bin/env python3
"""What happens to VMs when hvd stops and starts (issue 4, "Host shutdown").

- By default VMs keep running when hvd stops (SIGTERM), and the next hvd
  finds them running.
- With stop_vms_on_shutdown = yes, SIGTERM stops every VM gracefully (the
  guest sees the shutdown request) before hvd exits; they are stopped after.
- VMs with autostart start when hvd starts.
- A full runtime dir (ENOSPC) does not kill a VM: the daemon reports it and
  keeps serving; the VM stays controllable.
usage: host-shutdown.py HVD_BINARY TEST_GUEST_ELF
"""
import os, signal, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hvdtest import Daemon, check, finish, need_kvm, pid_alive as alive, wait_for  # noqa: E402

HVD, GUEST = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
need_kvm()
CONF = "host_vcpus = 64\nhost_memory_mib = 65536\n"


def define(h, name, **extra):
    body = {"name": name, "vcpus": 1, "memory_mib": 32,
            "boot": {"kernel": GUEST, "cmdline": "mode=dirty pages=64"}}
    body.update(extra)
    return h.req("POST", "/v1/vms", body)[0] == 201


with tempfile.TemporaryDirectory() as d:
    h = Daemon(HVD, d, CONF)
    h.start()
    try:
        define(h, "keep")
        define(h, "auto", autostart=True)
        h.req("POST", "/v1/vms/keep/start")
        pid = h.pid_of("keep")
        h.stop(signal.SIGTERM)
        check(alive(pid), "by default a VM keeps running when hvd stops")
        h.start()
        check(h.vm("keep")["state"] == "running" and h.pid_of("keep") == pid,
              "the next hvd finds it running (same VMM)")
        check(wait_for(lambda: h.vm("auto")["state"] == "running", 15), "an autostart VM started with hvd")

        h.conf = CONF + "stop_vms_on_shutdown = yes\nshutdown_timeout_s = 20\n"
        h.stop(signal.SIGTERM)
        h.start()  # picks up the new configuration
        pids = [h.pid_of("keep"), h.pid_of("auto")]
        h.stop(signal.SIGTERM)
        check(not any(alive(p) for p in pids), "with stop_vms_on_shutdown, SIGTERM stops every VM first")
        h.conf = CONF
        h.start()
        states = {n: h.vm(n)["state"] for n in ("keep",)}
        check(states["keep"] == "stopped", "and they are recorded stopped (%s)" % states)
        check("HVD-TEST-GUEST SHUTDOWN" in open(os.path.join(d, "run", "vms", h.vm("keep")["id"],
                                                           "console.log")).read(),
              "the guest saw a graceful shutdown request")
        h.req("POST", "/v1/vms/auto/stop", {"force": True})

        # a VMM SQLite does not know (its row removed behind hvd's back) is
        # reported and left running, never killed
        define(h, "stray")
        h.req("POST", "/v1/vms/stray/start")
        pid = h.pid_of("stray")
        vid = h.vm("stray")["id"]
        h.stop(signal.SIGKILL)
        import sqlite3
        db = sqlite3.connect(os.path.join(d, "state", "hvd.db"))
        db.execute("DELETE FROM vms WHERE id = ?", (vid,))
        db.commit()
        db.close()
        h.start()
        log = open(os.path.join(d, "hvd.log")).read()
        check("belongs to no VM hvd knows" in log and str(pid) in log, "an unknown VMM is logged with its pid")
        check(alive(pid), "and left running")
        os.kill(pid, signal.SIGKILL)
        # "auto" started again with this hvd (autostart): leave nothing running
        h.req("PATCH", "/v1/vms/auto", {"autostart": False})
        h.stop_all_vms()
        h.stop(signal.SIGTERM)
    finally:
        h.stop_all_vms()
        if h.alive():
            h.stop()

# a forbidden system call kills only that VM, and the daemon says why
with tempfile.TemporaryDirectory() as d:
    os.environ["HVD_TEST_VMM_ARGS"] = "--debug-seccomp-probe"
    h = Daemon(HVD, d, CONF)
    try:
        h.start()
        define(h, "probe", boot={"kernel": GUEST, "cmdline": "mode=seccomp-probe"})
        define(h, "bystander")
        h.req("POST", "/v1/vms/bystander/start")
        h.req("POST", "/v1/vms/probe/start")
        vm = wait_for(lambda: (lambda v: v if v["state"] == "crashed" else None)(h.vm("probe")), 30)
        check(vm is not None and "forbidden system call" in vm["state_reason"],
              "a seccomp violation crashes only that VM, reported as such (%s)" % (vm or h.vm("probe"))["state_reason"])
        check(h.vm("bystander")["state"] == "running", "the other VM keeps running")
    finally:
        del os.environ["HVD_TEST_VMM_ARGS"]
        h.stop_all_vms()
        if h.alive():
            h.stop()

# a full runtime dir: a small tmpfs, filled up
with tempfile.TemporaryDirectory() as d:
    run = os.path.join(d, "run")
    os.makedirs(run)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", run]).returncode != 0:
        print("note: cannot mount a tmpfs here: the ENOSPC case was not run")
        finish("host shutdown")
    h = Daemon(HVD, d, CONF)
    try:
        h.start()
        define(h, "v1")
        define(h, "v2")
        # created before v1 starts: v1's console log alone can fill 2 MiB within a second or
        # two on a busy machine, and then no new file could be made
        filler = open(os.path.join(run, "filler"), "wb", buffering=0)   # no buffer left to flush at close
        h.req("POST", "/v1/vms/v1/start")
        with filler as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        st, vm = h.req("POST", "/v1/vms/v2/start")
        check(st in (200, 409, 503), "starting a VM with a full runtime dir answers (%d)" % st)
        time.sleep(1)
        check(h.alive(), "the daemon keeps serving with a full runtime dir")
        check(h.vm("v1")["state"] == "running", "a running VM is not killed by a full runtime dir")
        st1, a = h.req("POST", "/v1/vms/v1/pause")
        st2, b = h.req("POST", "/v1/vms/v1/resume")
        check(st1 == 200 and st2 == 200 and b["state"] == "running", "and stays controllable")
        os.unlink(os.path.join(run, "filler"))
    finally:
        h.stop_all_vms()
        if h.alive():
            h.stop()
        subprocess.run(["umount", run])

finish("host shutdown")

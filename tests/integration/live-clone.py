#!/usr/bin/env python3
"""Live clone through the API on this host's /dev/kvm: a running test guest
is cloned with its memory; the clone continues the guest's counter from the
source's value (generation 1), the source continues too; memory and disk
are isolated between them; 20 clones of one running VM in one call all run;
a cold clone of a running VM (no memory) is a stopped copy; the source is
never left paused.
usage: live-clone.py HVD_BINARY TEST_GUEST_ELF"""
import os, signal, socket, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hvdtest import Daemon, check, counters, finish, gens, need_kvm, wait_for  # noqa: E402

HVD, GUEST = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
need_kvm()


def wait_op(h, op, timeout=300):
    return h.req("GET", "/v1/operations/%s/wait?timeout=%d" % (op["id"], timeout), timeout=timeout + 10)[1]


def read_at(path, off, n):
    with open(path, "rb") as f:
        f.seek(off)
        return f.read(n)


def write_at(path, off, data):
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


with tempfile.TemporaryDirectory() as d:
    h = Daemon(HVD, d)
    h.start()
    try:
        disk = os.path.join(d, "src.img")
        with open(disk, "wb") as f:
            f.truncate(8 << 20)
        write_at(disk, 4096, b"source disk, before the clone")
        st, _ = h.req("POST", "/v1/vms", {"name": "src", "vcpus": 1, "memory_mib": 64,
                                          "boot": {"kernel": GUEST,
                                                   "cmdline": "mode=dirty tick=20000000 pages=1024"},
                                          "disks": [{"id": "root", "path": disk}]})
        check(st == 201, "define src")
        check(h.req("POST", "/v1/vms/src/start")[0] == 200, "start src")
        check(wait_for(lambda: len(counters(h.console("src"))) >= 3, 30), "src counts")
        before = counters(h.console("src"))[-1]

        st, op = h.req("POST", "/v1/vms/src/clone", {"name": "c1"})
        check(st == 202, "clone of a running VM answers 202 (%s)" % st)
        done = wait_op(h, op)
        check(done.get("status") == "success", "live clone succeeds: %s" % done.get("error"))
        res = done.get("result", {})
        check(res.get("vms") == ["c1"] and "source_paused_ms" in res,
              "result names the clone and the source's pause (%s ms)" % res.get("source_paused_ms"))
        check(wait_for(lambda: h.vm("c1").get("state") == "running", 30), "c1 is running")

        def daemon_memfds():
            fds = os.path.join("/proc", str(h.p.pid), "fd")
            found = []
            for f in os.listdir(fds):
                try:
                    if "memfd:" in os.readlink(os.path.join(fds, f)):
                        found.append(f)
                except FileNotFoundError:
                    pass   # closed between the listing and the look (the daemon works meanwhile)
            return found
        check(wait_for(lambda: not daemon_memfds(), 10),
              "once the clone runs, hvd lets go of the frozen RAM image")
        check(not [f for f in os.listdir(os.path.join(d, "run")) if f.startswith("clone-")],
              "and of the clone's state file")
        check(wait_for(lambda: len(gens(h.console("c1"))) >= 3, 30), "c1 counts")
        cc = counters(h.console("c1"))
        check(cc and cc[0] >= before, "c1 continues the source's count (src %d before, c1 first %s)"
              % (before, cc[:1]))
        check(set(gens(h.console("c1"))[1:]) == {1}, "c1 reads generation 1")
        check(h.vm("src").get("state") == "running", "src is running, not left paused")
        n = counters(h.console("src"))[-1]
        check(wait_for(lambda: counters(h.console("src"))[-1] > n, 30), "src counts on")
        check(set(gens(h.console("src"))) == {0}, "src still reads generation 0")
        check("DIRTY MISMATCH" not in h.console("src") + h.console("c1"),
              "memory isolated: each reads back only its own writes")
        src_def, c1_def = h.vm("src"), h.vm("c1")
        c1disk = c1_def["disks"][0]["path"]
        check(c1disk != disk and read_at(c1disk, 4096, 29) == b"source disk, before the clone",
              "c1 has its own copy of the disk")
        write_at(disk, 4096, b"written in the source later..")
        check(read_at(c1disk, 4096, 29) == b"source disk, before the clone",
              "a write to the source's disk is invisible in the clone")

        # 20 clones of one running VM in one call, all running
        st, op = h.req("POST", "/v1/vms/src/clone", {"count": 20})
        done = wait_op(h, op, 600)
        names = done.get("result", {}).get("vms", [])
        check(done.get("status") == "success" and len(names) == 20,
              "20 clones in one call: %s %s" % (done.get("status"), done.get("error")))
        check(wait_for(lambda: all(h.vm(x).get("state") == "running" for x in names), 120),
              "all 20 clones are running")
        check(wait_for(lambda: all(len(gens(h.console(x))) >= 2 for x in names), 120),
              "all 20 clones count")
        check(all(set(gens(h.console(x))[1:]) == {1} for x in names), "all 20 read generation 1")

        # without memory: a cold copy, stopped, of a running VM
        st, op = h.req("POST", "/v1/vms/src/clone", {"name": "cold", "components": ["disks", "nics"]})
        done = wait_op(h, op)
        check(done.get("status") == "success" and h.vm("cold").get("state") == "stopped",
              "a clone without memory is a stopped copy")
        st, body = h.req("POST", "/v1/vms/src/clone", {"name": "x", "components": ["memory"]})
        check(st == 400 and body["error"]["field"] == "components",
              "memory without disks and nics is refused (400)")
        check(h.vm("src").get("state") == "running", "src still running at the end")

        # the VMM refusing a command is a 409, not a 200: a freeze that leaves the
        # vCPUs paused sends no event, so hvd still thinks src runs
        ctl = socket.socket(socket.AF_UNIX)
        ctl.connect(os.path.join(d, "run", "vms", h.vm("src")["id"], "control.sock"))
        ctl.sendall(b'{"cmd": "freeze", "resume": false}\n')
        check(b'"paused"' in ctl.recv(65536), "paused behind hvd's back")
        st, body = h.req("POST", "/v1/vms/src/pause")
        ctl.close()
        check(st == 200 and body.get("state") == "paused",
              "pausing a VM its VMM already paused answers paused (hvd's record follows): %s %s"
              % (st, body))
        st, body = h.req("POST", "/v1/vms/src/resume")
        check(st == 200 and body.get("state") == "running", "resume works")

        # a state file an interrupted live clone left in the runtime dir goes at restart
        left = os.path.join(d, "run", "clone-00000000-0000-0000-0000-000000000000.state")
        open(left, "w").close()
        h.stop(signal.SIGKILL)
        h.start()
        check(not os.path.exists(left), "a restarted hvd removes state files of interrupted clones")
        check(wait_for(lambda: h.vm("src").get("state") == "running", 10), "src still running after it")
    finally:
        h.stop_all_vms()
        wait_for(lambda: all(v["state"] in ("stopped", "crashed") for v in h.vms()), 60)
        h.stop()
finish("live-clone")

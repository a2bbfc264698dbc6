#!/usr/bin/env python3
"""The engine's freeze and restore, driven through `hvd vmm` and its control
socket on this host's /dev/kvm: a running test guest is frozen, a second
VMM resumes from the state file and the frozen memory, both go on counting
from the same value in their own memory; the generation counter tells the
copy apart; broken state files are refused with a clear message.

usage: vmm-freeze.py HVD TEST_GUEST"""
import json, os, shutil, socket, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hvdtest import check, counters, finish, gens, need_kvm, wait_for  # noqa: E402

HVD, GUEST = sys.argv[1], sys.argv[2]
need_kvm()
tmp = tempfile.mkdtemp(prefix="hvd-freeze-")
procs = []


def vmm(name, *args):
    rt = os.path.join(tmp, name)
    os.makedirs(rt, exist_ok=True)
    p = subprocess.Popen([HVD, "vmm", "--name", name, "--runtime-dir", rt, "--memory-mib", "64",
                          *args], stderr=subprocess.PIPE, text=True)
    procs.append(p)
    return p, rt


def connect(rt, timeout=30):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(os.path.join(rt, "control.sock"))
    return s


def ctl(rt, cmd, conn=None):
    """One request; on its own connection unless conn is given."""
    s = conn or connect(rt)
    s.sendall((json.dumps(cmd) + "\n").encode())
    buf = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return None
        buf += chunk
        for line in buf.split(b"\n")[:-1]:
            o = json.loads(line)
            if "event" not in o:
                if not conn:
                    s.close()
                return o


def console(rt):
    try:
        with open(os.path.join(rt, "console.log"), errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


try:
    a, art = vmm("src", "--kernel", GUEST, "--cmdline", "mode=dirty tick=20000000 pages=2048")
    check(wait_for(lambda: len(counters(console(art))) >= 3, 30), "source counts")
    check(set(gens(console(art))) == {0}, "a booted VM is generation 0")

    held = connect(art)   # the freezer's connection stays open while it works
    r = ctl(art, {"cmd": "freeze", "resume": False}, held)
    check(r and r.get("ok") and r.get("state") == "paused", "freeze leaves the VM paused on request")
    at_freeze = counters(console(art))[-1]
    pid = r["pid"]
    with open("/proc/%d/fd/%d" % (pid, r["state_fd"]), "rb") as f:
        state = f.read()
    check(len(state) == r["state_bytes"] and state[:8] == b"HVDSNAP\0", "state file readable via /proc")
    memfd = os.open("/proc/%d/fd/%d" % (pid, r["memory_fd"]), os.O_RDONLY)
    check(os.fstat(memfd).st_size == 64 << 20, "frozen memory image readable via /proc, 64 MiB")
    st = os.path.join(tmp, "state")
    with open(st, "wb") as f:
        f.write(state)
    time.sleep(0.3)
    check(counters(console(art))[-1] == at_freeze, "paused source does not count")
    check(ctl(art, {"cmd": "resume"}, held).get("ok"), "source resumed")
    held.close()

    memimg = "/proc/%d/fd/%d" % (os.getpid(), memfd)
    b, brt = vmm("clone", "--restore", st, "--memory-file", memimg)
    check(wait_for(lambda: len(counters(console(brt))) >= 3, 30), "restored VM counts")
    bc = counters(console(brt))
    check(bc[0] >= at_freeze and bc[0] < at_freeze + 1000,
          "restored VM continues from the frozen count (%d at freeze, first %d)" % (at_freeze, bc[0]))
    # the first line may have been half printed at the freeze, with the
    # generation read before it
    check(set(gens(console(brt))[1:]) == {1},
          "restored VM reads generation 1 (%s)" % gens(console(brt)))
    check(set(gens(console(art))) == {0}, "source still reads generation 0")
    check(wait_for(lambda: counters(console(art))[-1] > at_freeze, 30),
          "source counts on after the freeze")
    check("DIRTY MISMATCH" not in console(art) + console(brt),
          "each VM reads back only its own writes (memory isolated)")
    s = ctl(brt, {"cmd": "status"})
    check(s.get("generation") == 1 and s.get("state") == "running", "restored VM status")

    # a second freeze of the source (its RAM is copy-on-write now) works too
    r2 = ctl(art, {"cmd": "freeze"})
    check(r2 and r2.get("ok") and r2.get("state") == "running", "second freeze of the source")

    # a freezer that goes away without resuming (its daemon died) does not
    # leave the VM paused: the VMM resumes it by itself
    held = connect(art)
    r3 = ctl(art, {"cmd": "freeze", "resume": False}, held)
    check(r3.get("state") == "paused", "frozen and left paused")
    n = counters(console(art))[-1]
    held.close()
    check(wait_for(lambda: ctl(art, {"cmd": "status"}).get("state") == "running", 10),
          "the VM runs again once its freezer's connection closed")
    check(wait_for(lambda: counters(console(art))[-1] > n, 30), "and counts on")
    # a VM the user paused stays paused whatever a freezer does
    check(ctl(art, {"cmd": "pause"}).get("ok"), "paused by its owner")
    held = connect(art)
    ctl(art, {"cmd": "freeze", "resume": False}, held)
    held.close()
    time.sleep(0.5)
    check(ctl(art, {"cmd": "status"}).get("state") == "paused", "and stays paused after a freezer left")
    ctl(art, {"cmd": "resume"})

    # broken state files: refused, with a reason, exit 1, nothing started
    def refused(data, what, expect):
        bad = os.path.join(tmp, "bad.state")
        with open(bad, "wb") as f:
            f.write(data)
        p, rt = vmm("bad", "--restore", bad, "--memory-file", memimg)
        rc = p.wait(30)
        err = p.stderr.read()
        check(rc == 1 and expect in err, "%s refused (exit %s: %s)" % (what, rc, err.strip()))

    refused(state[:len(state) // 2], "truncated state file", "snapshot")
    flip = bytearray(state)
    flip[400] ^= 0xff
    refused(bytes(flip), "corrupted state file", "snapshot")
    ver = bytearray(state)
    ver[8] = 99
    refused(bytes(ver), "state file of another version", "version")
    p, rt = vmm("bad2", "--restore", st, "--memory-file", memimg, "--vcpus", "2")
    rc = p.wait(30)
    err = p.stderr.read()
    check(rc == 1 and "vCPU" in err, "state of another machine shape refused (%s)" % err.strip())
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(tmp, ignore_errors=True)
finish("vmm-freeze")

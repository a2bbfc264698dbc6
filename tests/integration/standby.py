#!/usr/bin/env python3
"""The pool of standby VMMs (`hvd vmm --standby=3`, config standby_vmms):
hvd keeps one waiting by default; a start hands the VM to it (the VM's
process is the former standby, and ps shows the VM's command line); a new
one takes its place; one killed while waiting is replaced; standby_vmms = 0
keeps none and VMs still start; SIGHUP applies a new count; the standbys end
with the daemon. Also `hvd vmm --standby` by hand: EOF ends it quietly, a
bad assignment fails with a message, the assignment's socket becomes a
control client (how hvd's supervisor talks to a VMM it got from the pool).
usage: standby.py HVD_BINARY TEST_GUEST_ELF"""
import json, os, signal, socket, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hvdtest import Daemon, check, finish, need_kvm, pid_alive, wait_for  # noqa: E402

HVD, GUEST = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
CONF = "host_vcpus = 64\nhost_memory_mib = 65536\n"
need_kvm()


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def standbys(h):
    """pids of the daemon's children that are waiting standby VMMs"""
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == h.p.pid and cmdline(int(p)).endswith("vmm --standby=3") and pid_alive(int(p)):
            out.append(int(p))
    return sorted(out)


def define_start(h, name):
    st, _ = h.req("POST", "/v1/vms", {"name": name, "vcpus": 1, "memory_mib": 64,
                                      "boot": {"kernel": GUEST, "cmdline": "mode=idle"}})
    check(st == 201, "define %s" % name)
    st, body = h.req("POST", "/v1/vms/%s/start" % name)
    check(st == 200 and body.get("state") == "running", "start %s: %s %s" % (name, st, body))


def by_hand():
    a, b = socket.socketpair()
    p = subprocess.Popen([HVD, "vmm", "--standby=%d" % b.fileno()], pass_fds=[b.fileno()],
                         stderr=subprocess.PIPE)
    b.close()
    a.close()
    _, err = p.communicate(timeout=30)
    check(p.returncode == 0 and not err, "hvd vmm --standby ends quietly when its socket closes: %s %r"
          % (p.returncode, err))
    a, b = socket.socketpair()
    p = subprocess.Popen([HVD, "vmm", "--standby=%d" % b.fileno()], pass_fds=[b.fileno()],
                         stderr=subprocess.PIPE)
    b.close()
    a.sendall(b'{"argv": ["hvd", "vmm"], "log": 5}\n')
    _, err = p.communicate(timeout=30)
    a.close()
    check(p.returncode == 1 and b"assignment needs argv" in err,
          "a bad assignment fails with a message: %s %r" % (p.returncode, err))
    # the assignment socket becomes a control client: a request sent right
    # behind the assignment line is answered on it, and events come on it
    with tempfile.TemporaryDirectory() as rt:
        a, b = socket.socketpair()
        p = subprocess.Popen([HVD, "vmm", "--standby=%d" % b.fileno()], pass_fds=[b.fileno()],
                             stderr=subprocess.DEVNULL)
        b.close()
        assign = {"argv": ["hvd", "vmm", "--name", "sb", "--runtime-dir", rt, "--memory-mib", "64",
                           "--kernel", GUEST, "--cmdline", "mode=idle"], "log": os.path.join(rt, "vmm.log")}
        a.sendall((json.dumps(assign) + "\n" + json.dumps({"cmd": "status"}) + "\n").encode())
        a.settimeout(30)
        lines, buf = [], b""
        try:
            while not (any("ok" in m for m in lines) and any(m.get("event") == "started" for m in lines)):
                chunk = a.recv(65536)
                if not chunk:
                    break
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    lines.append(json.loads(line))
        except OSError:
            pass
        status = [m for m in lines if "ok" in m]
        check(status and status[0].get("ok") is True and status[0].get("name") == "sb",
              "a request sent behind the assignment is answered on its socket: %s" % status[:1])
        check(any(m.get("event") == "started" for m in lines), "and the started event comes on it")
        check(os.path.exists(os.path.join(rt, "control.sock")), "the VM's control socket is there too")
        a.sendall(b"{\"cmd\": \"stop\"}\n")
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        a.close()


by_hand()
with tempfile.TemporaryDirectory() as d:
    h = Daemon(HVD, d, conf=CONF)
    h.start()
    try:
        sb = wait_for(lambda: standbys(h), 10)
        check(len(sb) == 1, "hvd keeps one standby VMM by default: %s" % sb)
        first = sb[0] if sb else -1
        define_start(h, "s1")
        pid = h.pid_of("s1")
        check(pid == first, "the VM's process is the standby VMM (%d, standby was %d)" % (pid, first))
        check("--name=s1" in cmdline(pid) and "--standby" not in cmdline(pid),
              "ps shows the VM's command line: %r" % cmdline(pid))
        check(wait_for(lambda: "IDLE" in h.console("s1"), 30), "the guest runs in it")
        sb = wait_for(lambda: [p for p in standbys(h) if p != first], 10)
        check(len(sb) == 1, "a new standby takes its place: %s" % sb)
        if sb:
            os.kill(sb[0], signal.SIGKILL)
            again = wait_for(lambda: [p for p in standbys(h) if p != sb[0]], 15)
            check(len(again) == 1, "one killed while waiting is replaced: %s" % again)
            with open(os.path.join(d, "hvd.log")) as f:
                check("ended before it was used" in f.read(), "and the daemon log says so")
        st, body = h.req("POST", "/v1/vms/s1/stop")
        check(st == 200 and body.get("state") == "stopped", "the VM stops gracefully: %s %s" % (st, body))
        with open(os.path.join(d, "hvd.conf"), "w") as f:
            f.write(CONF + "standby_vmms = 2\n")
        h.p.send_signal(signal.SIGHUP)
        check(len(wait_for(lambda: len(standbys(h)) == 2 and standbys(h), 15) or []) == 2,
              "SIGHUP with standby_vmms = 2: two wait")
        left = standbys(h)
        h.stop()
        check(wait_for(lambda: not any(pid_alive(p) for p in left), 10),
              "the standbys end with the daemon")
        h.conf = CONF + "standby_vmms = 0\n"
        h.start()
        define_start(h, "s2")
        check(standbys(h) == [], "standby_vmms = 0 keeps none, and a VM still starts")
        check(wait_for(lambda: "IDLE" in h.console("s2"), 30), "and runs")
    finally:
        h.stop_all_vms()
        wait_for(lambda: all(v["state"] in ("stopped", "crashed") for v in h.vms()), 30)
        h.stop()
finish("standby")

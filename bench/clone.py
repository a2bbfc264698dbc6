#!/usr/bin/env python3
"""bench/clone: how long a live clone pauses its source, and how long a disk clone takes.

(a) Live clone of a running test guest (mode=dirty, writing one word into every 4 KiB page of its
    RAM above 2 MiB on each pass, so RAM is really populated before anything is measured) of
    256 MiB, 1 GiB, 2 GiB and 4 GiB (the guest touches the 3 GiB below the device window). A
    fresh VM every run (a VM frozen once has its RAM copied, not remapped, by its next freeze).
    The VMs are booted in batches (up to 4 GiB of guest RAM; run after run, each of every size,
    so that the sizes share whatever load the machine has), paused once their RAM is populated,
    and each is resumed for its own measurement only.
    - engine level: a `hvd vmm` started here, frozen over its control socket as the daemon does it
      (status, then freeze {"resume": false}, then resume): the `paused_us` the VMM answers, the
      wall time from the freeze request to its answer, and to the answer of the resume (the whole
      pause of a source without disks); in the first run, up to 1 GiB, a second freeze of the
      same VM (it copies guest RAM, seconds per GiB);
    - through the API: POST /v1/vms/{vm}/clone of a running VM with a small disk: the operation's
      result.source_paused_ms, and the time from the request to the operation's end, to the
      clone's `running` (vm.state event) and to the clone's first counter line on its console.
      That line comes when the clone has finished the pass the source was frozen in (a random
      part of a pass, every page it writes a copy-on-write fault): it varies from run to run.
(b) Disk clone of a stopped VM whose sparse disk (1 GiB apparent) holds ~200 MiB of random data:
    the API operation (a sparse copy, fsync'ed, reflink when the file system has them) against
    `cp --sparse=always` of the same file (alone and followed by an fsync), and whether a reflink
    happened (`cp --reflink=always` where the file system supports it).
Median (min..max) of RUNS runs. Figures only, nothing is asserted. Every process started here is
stopped at the end, on error and on Ctrl-C too; only processes this script started (or the hvd it
started started for it) are ever signalled.
usage: bench/clone.py HVD_BINARY TEST_GUEST_ELF [--runs N] [--sizes 256,1024,2048]
exit status 77 (skipped) without a usable /dev/kvm.
"""
import argparse, http.client, json, os, pwd, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from hvdtest import Daemon, UnixHTTP, need_kvm, pid_alive  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import kill_leftovers, private_copy  # noqa: E402

def shmem_thp():
    try:
        with open("/sys/kernel/mm/transparent_hugepage/shmem_enabled") as f:
            w = f.read().split()
        return next((x[1:-1] for x in w if x.startswith("[")), " ".join(w))
    except OSError:
        return "unknown"


RAM_MAX_MIB = 262144          # daemon/vmm/memory.h VMM_RAM_MAX
NA_BIG = "n/a (over VMM_RAM_MAX)"
SIZES = (256, 1024, 2048, 4096)
# A counter line after every pass (tick=1), so that a frozen guest's first line after a restore
# comes when it has finished the pass it was frozen in; pages: all of RAM (the guest clamps it)
CMDLINE = "mode=dirty tick=1 pages=1048576"
CONF = "host_vcpus = 4096\nhost_memory_mib = 1048576\n"
COUNTER = re.compile(rb"counter=(\d+) gen=(\d+)\r?\n")
POPULATE_S = 60               # seconds per GiB allowed for the guest's first pass (nested KVM: slow)
BATCH_MAX_MIB = 4096          # guest RAM populated at once, at most (other work shares this machine)
SECOND_MAX_MIB = 1024         # a second freeze copies guest RAM (seconds per GiB): up to this size only


# ---- small helpers ----------------------------------------------------------------------------

def mono():
    return time.monotonic()


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def counters(path):
    """[(counter, generation)] of the complete counter lines in a console log."""
    return [(int(a), int(b)) for a, b in COUNTER.findall(read(path))]


def status_kb(pid, field):
    for line in read("/proc/%d/status" % pid).decode(errors="replace").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def sched(pid, tid=None):
    """(seconds on a CPU, seconds waiting for one) of thread tid of pid (default: its main thread,
    an `hvd vmm`'s device thread), from schedstat."""
    f = read("/proc/%d/task/%d/schedstat" % (pid, tid or pid)).split()
    return (int(f[0]) / 1e9, int(f[1]) / 1e9) if len(f) >= 2 else (0.0, 0.0)


def mem_available_mib():
    for line in read("/proc/meminfo").decode().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) // 1024
    return 0


def size_name(mib):
    return "%d GiB" % (mib // 1024) if mib % 1024 == 0 else "%d MiB" % mib


def ms(xs):
    """'median (min..max)' of seconds, in ms; '-' for none."""
    xs = [x * 1e3 for x in xs if x is not None]
    if not xs:
        return "-"
    if len(xs) == 1:
        return "%.1f" % xs[0]
    return "%.1f (%.1f..%.1f)" % (statistics.median(xs), min(xs), max(xs))


def secs(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    if len(xs) == 1:
        return "%.2f s" % xs[0]
    return "%.2f s (%.2f..%.2f)" % (statistics.median(xs), min(xs), max(xs))


def table(header, rows):
    """Columns of text; a row of two cells, when the header has more, is a size and a note that
    spans the row."""
    spans = lambda r: len(r) == 2 and len(header) > 2
    w = [max(len(r[i]) for r in [header] + rows if not spans(r)) for i in range(len(header))]
    for r in [header] + rows:
        if spans(r):
            print((r[0].ljust(w[0]) + "  " + r[1]).rstrip())
        else:
            print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip())


def wait_until(pred, deadline, what, step=0.001):
    while True:
        v = pred()
        if v:
            return v
        if mono() > deadline:
            raise RuntimeError("timed out waiting for " + what)
        time.sleep(step)


# ---- engine level -------------------------------------------------------------------------------

class Ctl:
    """One connection to a VMM's control socket (JSON lines; events skipped)."""

    def __init__(self, rt, timeout=120, sock=None):
        """sock: a socket already connected to the VMM (a standby's assignment socket, which the
        VMM takes as a control client once its control socket is up, as hvd's supervisor uses
        it); else the control socket in rt is connected to."""
        if sock is not None:
            self.s = sock
            self.s.settimeout(timeout)
            self.buf = b""
            return
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        self.s.settimeout(timeout)
        try:
            self.s.connect(os.path.join(rt, "control.sock"))
        except OSError:
            self.s.close()
            raise
        self.buf = b""

    def send(self, cmd, **kw):
        kw["cmd"] = cmd
        self.s.sendall((json.dumps(kw) + "\n").encode())

    def next(self):
        """The next line from the VMM, a reply or an event."""
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise RuntimeError("the VMM closed its control socket")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def req(self, cmd, **kw):
        self.send(cmd, **kw)
        while True:
            o = self.next()
            if "event" not in o:
                return o

    def wait_running(self):
        """Returns once the VM runs: at once if `status` says so, else at its started or resumed
        event, as hvd's supervisor hears it (no polling)."""
        self.send("status")
        while True:
            o = self.next()
            ev = o.get("event")
            if ev is None and o.get("state") == "running":
                return
            if ev in ("started", "resumed") and not o.get("paused"):
                return
            if ev == "stopped":
                raise RuntimeError("the VM stopped: %s" % o)

    def close(self):
        self.s.close()


def vm_user():
    """The VM user as hvd passes it to its VMM processes: hvd-vm's ids when it exists (and we are
    root), else our own (the VMM then stays as it is), as UID:GID (no name lookup in the VMM)."""
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("hvd-vm")
            return "%d:%d" % (pw.pw_uid, pw.pw_gid)
        except KeyError:
            pass
    return "%d:%d" % (os.geteuid(), os.getegid())


class Vmm:
    """A `hvd vmm` started here, in its own session (a Ctrl-C reaches this script only). With
    standby, started as hvd starts VMs: a `hvd vmm --standby=FD` spawned first, waited for until it
    has opened /dev/kvm and created its VM, then told its VM (one JSON line on FD, with the VM user
    as numeric ids as hvd passes them); t_spawn is when it is told, sched0 its main thread's
    schedstat then (zeros for a VMM started directly); sock is then our end of FD, which the VMM
    takes as a control client (for Ctl(sock=...))."""

    STANDBY_READY_S = 5       # a standby opens /dev/kvm and creates its VM within this (else: an error)

    def __init__(self, hvd, rt, name, mib, args, procs, standby=False):
        os.makedirs(rt)
        self.rt, self.mib = rt, mib
        self.console = os.path.join(rt, "console.log")
        self.standby = standby
        self.sock = None
        self.sched0 = (0.0, 0.0)
        argv = ["--name", name, "--runtime-dir", rt, "--vcpus", "1", "--memory-mib", str(mib),
                "--user", vm_user()] + args
        if standby:
            self._start_standby(hvd, argv, procs)
            return
        self.t_spawn = mono()
        with open(os.path.join(rt, "vmm.log"), "wb") as log:
            self.p = subprocess.Popen([hvd, "vmm"] + argv,
                                      stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        procs.append(self.p)

    def _start_standby(self, hvd, argv, procs):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            fd = theirs.fileno()
            self.p = subprocess.Popen([hvd, "vmm", "--standby=%d" % fd], pass_fds=[fd], stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            procs.append(self.p)
            theirs.close()
            fds = "/proc/%d/fd" % self.p.pid

            def prepared():
                if self.p.poll() is not None:
                    raise RuntimeError("standby hvd vmm exited with %s before it had created its VM"
                                       % self.p.returncode)
                try:
                    names = os.listdir(fds)
                except OSError:
                    return False
                for n in names:
                    try:
                        if os.readlink(os.path.join(fds, n)) == "anon_inode:kvm-vm":
                            return True
                    except OSError:
                        continue
                return False
            wait_until(prepared, mono() + self.STANDBY_READY_S,
                       "standby hvd vmm %d to create its KVM VM (no anon_inode:kvm-vm fd)" % self.p.pid, 0.0005)
            # the rest of its preparation (NSS, libseccomp) comes after the VM fd; a standby in
            # hvd's pool has waited far longer than this when it gets its VM
            time.sleep(0.2)
            line = json.dumps({"argv": ["hvd", "vmm"] + argv, "log": os.path.join(self.rt, "vmm.log")}) + "\n"
            self.sched0 = sched(self.p.pid)
            self.t_spawn = mono()
            try:
                ours.sendall(line.encode())
            except OSError as e:
                raise RuntimeError("standby hvd vmm %d did not take its assignment: %s (exit status %s)"
                                   % (self.p.pid, e, self.p.poll()))
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.sock = ours

    def why(self):
        log = read(os.path.join(self.rt, "vmm.log")).decode(errors="replace").strip()
        return log[-400:] or "(vmm.log empty or missing)"

    def check_alive(self):
        if self.p.poll() is not None:
            raise RuntimeError("hvd vmm%s exited with %s: %s"
                               % (" (from a standby)" if self.standby else "", self.p.returncode, self.why()))

    def wait_lines(self, n, deadline):
        def enough():
            self.check_alive()
            return len(counters(self.console)) >= n
        wait_until(enough, deadline, "%d counter line(s) of %s" % (n, self.rt), 0.005)

    def kill(self, procs):
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        procs.remove(self.p)


def populate_deadline(mib):
    """When guests of mib MiB in all, populating their RAM at once, should be done."""
    return mono() + 30 + POPULATE_S * mib / 1024


def batches(plan, keep):
    """plan ([(run, MiB)], run by run, so that the sizes share whatever load the machine has) cut
    into batches of guests to populate at once: up to BATCH_MAX_MIB of guest RAM, as memory allows,
    leaving room for keep more copies of the largest and 2 GiB for the rest of the machine
    (MemAvailable is read when a batch starts: RAM that clones or snapshots still hold counts)."""
    while plan:
        room = min(BATCH_MAX_MIB, mem_available_mib() - 2048 - keep * max(m for _, m in plan))
        n, total = 0, 0
        while n < len(plan) and (n == 0 or total + plan[n][1] <= room):
            total += plan[n][1]
            n += 1
        yield plan[:n]
        plan = plan[n:]


def engine_populate(hvd, guest, tmp, batch, procs):
    """Fresh VMs for batch ([(run, MiB)]), started at once, their RAM populated, then paused (so
    that they do not compete with the measurements)."""
    vs = [Vmm(hvd, os.path.join(tmp, "e%d-%d" % (mib, r)), "e%d-%d" % (mib, r), mib,
              ["--kernel", guest, "--cmdline", CMDLINE], procs) for r, mib in batch]
    deadline = populate_deadline(sum(mib for _, mib in batch))
    for v in vs:
        v.wait_lines(2, deadline)     # the first line comes after a whole pass
        c = Ctl(v.rt)
        try:
            if not c.req("pause").get("ok"):
                raise RuntimeError("pause refused")
        finally:
            c.close()
    return vs


def resume_and_count(c, v):
    """Resumes v (paused after populating) and waits until it has finished a pass since."""
    n = len(counters(v.console))
    if not c.req("resume").get("ok"):
        raise RuntimeError("resume refused")
    v.wait_lines(n + 1, mono() + 60)


def engine_freeze(v, procs, second):
    """Freezes v (populated, paused) once it runs again, like the daemon does (status, freeze
    without resuming, resume), and again if second; then ends it."""
    try:
        res = {"touched_mib": status_kb(v.p.pid, "RssShmem") / 1024}
        c = Ctl(v.rt)
        try:
            resume_and_count(c, v)
            if c.req("status").get("state") != "running":
                raise RuntimeError("the VM is not running before the freeze")
            cpu0, wait0 = sched(v.p.pid)
            t0 = mono()
            r = c.req("freeze", resume=False)
            t1 = mono()
            cpu1, wait1 = sched(v.p.pid)
            if not r.get("ok"):
                raise RuntimeError("freeze refused: %s" % r)
            r2 = c.req("resume")
            t2 = mono()
            if not r2.get("ok"):
                raise RuntimeError("resume refused: %s" % r2)
            res.update(paused=r["paused_us"] / 1e6, answer=t1 - t0, resumed=t2 - t0, cpu=cpu1 - cpu0,
                       wait=wait1 - wait0)
            if r.get("memory_bytes") != v.mib << 20:
                raise RuntimeError("freeze answered memory_bytes %s" % r.get("memory_bytes"))
            if second:
                t0 = mono()
                r = c.req("freeze", resume=True)
                t1 = mono()
                if not r.get("ok"):
                    raise RuntimeError("second freeze refused: %s" % r)
                res.update(second_paused=r["paused_us"] / 1e6, second_answer=t1 - t0)
        finally:
            c.close()
        return res
    finally:
        v.kill(procs)


# ---- the daemon -------------------------------------------------------------------------------------

class BenchDaemon(Daemon):
    """hvdtest's Daemon, started as in production (log level info) and in its own session, so that
    a Ctrl-C on the terminal reaches this script only and the clean-up runs in order."""

    def start(self, timeout=20):
        conf = os.path.join(self.d, "hvd.conf")
        with open(conf, "w") as f:
            f.write(self.conf)
        with open(os.path.join(self.d, "hvd.log"), "a") as log:
            self.p = subprocess.Popen([self.hvd, "--config", conf, "--state-dir", os.path.join(self.d, "state"),
                                       "--runtime-dir", os.path.join(self.d, "run"), "--log-level", "info"],
                                      stdin=subprocess.DEVNULL, stderr=log, start_new_session=True)
        end = mono() + timeout
        while mono() < end and self.p.poll() is None:
            try:
                if self.req("GET", "/v1", timeout=2)[0] == 200:
                    return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError("hvd did not start")

    def ok(self, method, path, body=None, want=(200,), timeout=600):
        st, b = self.req(method, path, body, timeout=timeout)
        if st not in want:
            raise RuntimeError("%s %s: HTTP %d %s" % (method, path, st, b))
        return b

    def vm_dir(self, vm_id):
        return os.path.join(self.d, "run", "vms", vm_id)

    def vmm_pid(self, vm_id):
        return int(read(os.path.join(self.vm_dir(vm_id), "vmm.pid")))

    def wait_op(self, op, timeout=600):
        done = self.ok("GET", "/v1/operations/%s/wait?timeout=%d" % (op["id"], timeout), timeout=timeout + 30)
        if done.get("status") != "success":
            raise RuntimeError("operation %s %s: %s %s" % (op["kind"], op["id"], done.get("status"),
                                                           done.get("error")))
        return done

    def stop_vm(self, name):
        st, b = self.req("POST", "/v1/vms/%s/stop" % name, {"force": True})
        if st != 200 and not (st == 409 and b.get("error", {}).get("code") == "wrong_state"):
            raise RuntimeError("stop %s: HTTP %d %s" % (name, st, b))
        wait_until(lambda: self.vm(name)["state"] in ("stopped", "crashed"), mono() + 60, "%s to stop" % name, 0.02)

    def delete_vm(self, name):
        self.stop_vm(name)
        self.ok("DELETE", "/v1/vms/" + name, want=(204,))


class Events(threading.Thread):
    """GET /v1/events in a thread: every event with the monotonic time it arrived here."""

    def __init__(self, sock):
        super().__init__(daemon=True)
        self.c = UnixHTTP(sock, timeout=None)
        self.c.request("GET", "/v1/events")
        self.r = self.c.getresponse()
        if self.r.status != 200:
            raise RuntimeError("GET /v1/events: HTTP %d" % self.r.status)
        self.cond = threading.Condition()
        self.got = []
        self.start()

    def run(self):
        try:
            while True:
                line = self.r.readline()
                if not line:
                    return
                if line.startswith(b"data:"):
                    t = mono()
                    o = json.loads(line[5:])
                    with self.cond:
                        self.got.append((t, o))
                        self.cond.notify_all()
        except Exception:     # the stream ends when close() shuts the socket down under it
            return

    def mark(self):
        with self.cond:
            return len(self.got)

    def wait(self, pred, since, timeout, what):
        """(time, event) of the first event from index since on that pred accepts."""
        end = mono() + timeout
        i = since
        with self.cond:
            while True:
                while i < len(self.got):
                    if pred(self.got[i][1]):
                        return self.got[i]
                    i += 1
                if mono() > end or not self.is_alive():
                    raise RuntimeError("no event: " + what)
                self.cond.wait(min(1.0, max(0.01, end - mono())))

    def close(self):
        try:
            self.c.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.c.close()


def vm_state_is(name, state):
    return lambda e: e.get("type") == "vm.state" and e.get("vm", {}).get("name") == name and e.get("state") == state


def op_done(op_id):
    return lambda e: e.get("type") == "operation.done" and e.get("operation", {}).get("id") == op_id


def sparse_file(path, size, data_bytes=0, chunk=4 << 20):
    """A sparse file of size bytes holding data_bytes of random data in chunks spread over it."""
    with open(path, "wb") as f:
        f.truncate(size)
        n = data_bytes // chunk
        for i in range(n):
            f.seek(i * (size // n))
            f.write(os.urandom(chunk))
        f.flush()
        os.fsync(f.fileno())


def define_start(h, name, mib, guest, tmp):
    """Defines and starts name, a test guest of mib MiB with an 8 MiB disk: (VM, console path)."""
    disk = os.path.join(tmp, name + ".img")
    sparse_file(disk, 8 << 20)
    vm = h.ok("POST", "/v1/vms", {"name": name, "vcpus": 1, "memory_mib": mib,
                                  "boot": {"kernel": guest, "cmdline": CMDLINE},
                                  "disks": [{"id": "root", "path": disk}]}, want=(201,))
    v = h.ok("POST", "/v1/vms/%s/start" % name)
    if v["state"] != "running":
        raise RuntimeError("%s is %s after start" % (name, v["state"]))
    return vm, os.path.join(h.vm_dir(vm["id"]), "console.log")


def wait_vm_lines(h, vm, console, n, deadline, what):
    pid = h.vmm_pid(vm["id"])

    def enough():
        if not pid_alive(pid):
            raise RuntimeError("the VMM of %s died: %s" % (vm["name"], read(os.path.join(h.vm_dir(vm["id"]),
                                                                                    "vmm.log"))[-400:]))
        return len(counters(console)) >= n
    wait_until(enough, deadline, what, 0.005)


def api_populate(h, guest, tmp, batch, prefix):
    """Defines and starts a VM (prefix<MiB>-<run>) for each of batch ([(run, MiB)]) at once, waits
    until each has populated its RAM, pauses them: [(VM, console path)]."""
    vms = [define_start(h, "%s%d-%d" % (prefix, mib, run), mib, guest, tmp) for run, mib in batch]
    deadline = populate_deadline(sum(mib for _, mib in batch))
    for vm, console in vms:
        wait_vm_lines(h, vm, console, 2, deadline, "%s to populate its RAM" % vm["name"])
        h.ok("POST", "/v1/vms/%s/pause" % vm["name"])
    return vms


def api_resume(h, vm, console):
    """Resumes vm (paused after populating) and waits until it has finished a pass since."""
    n = len(counters(console))
    h.ok("POST", "/v1/vms/%s/resume" % vm["name"])
    wait_vm_lines(h, vm, console, n + 1, mono() + 60, "%s to count" % vm["name"])


def api_clone(h, ev, vm, console, run):
    """Live clone of vm (populated, paused; resumed first), as in production; then both end."""
    src, mib = vm["name"], vm["memory_mib"]
    clone = "c%d-%d" % (mib, run)
    res = {"touched_mib": status_kb(h.vmm_pid(vm["id"]), "RssShmem") / 1024}
    api_resume(h, vm, console)
    since = ev.mark()
    t0 = mono()
    op = h.ok("POST", "/v1/vms/%s/clone" % src, {"name": clone}, want=(202,))
    done = h.wait_op(op)
    t_done = ev.wait(op_done(op["id"]), since, 60, "end of the clone operation")[0]
    t_run = ev.wait(vm_state_is(clone, "running"), since, 120, "%s running" % clone)[0]
    # the source goes on writing all its RAM, now copy-on-write: stop it so that it does not
    # compete with the clone for the CPUs
    h.stop_vm(src)
    cvm = h.vm(clone)
    cconsole = os.path.join(h.vm_dir(cvm["id"]), "console.log")
    wait_vm_lines(h, cvm, cconsole, 1, populate_deadline(mib) + 60, "the first counter line of %s" % clone)
    t_line = mono()
    res.update(source_paused=done["result"]["source_paused_ms"] / 1e3, op=t_done - t0, running=t_run - t0,
               line=t_line - t0, gen=counters(cconsole)[0][1])
    h.delete_vm(clone)
    h.delete_vm(src)
    return res


# ---- disk clone ---------------------------------------------------------------------------------

def fs_type(path):
    try:
        r = subprocess.run(["findmnt", "-n", "-o", "FSTYPE", "-T", path], capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip():
            return r.stdout.strip()
    except OSError:
        pass
    r = subprocess.run(["stat", "-f", "-c", "%T", path], capture_output=True, text=True)
    return r.stdout.strip() or "?"


def shared_extents(path):
    """True if filefrag shows extents shared with another file (a reflink), None if unknown."""
    try:
        r = subprocess.run(["filefrag", "-v", path], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    if r.returncode != 0:
        return None
    return "shared" in r.stdout


def allocated(path):
    return os.stat(path).st_blocks * 512


def disk_clone_runs(h, ev, guest, tmp, runs):
    src = os.path.join(tmp, "data.img")
    sparse_file(src, 1 << 30, 200 << 20)
    h.ok("POST", "/v1/vms", {"name": "disk", "vcpus": 1, "memory_mib": 64, "boot": {"kernel": guest},
                             "disks": [{"id": "root", "path": src}]}, want=(201,))
    probe = os.path.join(tmp, "reflink-probe.img")
    r = subprocess.run(["cp", "--reflink=always", src, probe], capture_output=True, text=True)
    reflink_ok = r.returncode == 0
    reflink_err = (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1].rsplit(": ", 1)[-1]
    if os.path.exists(probe):
        os.unlink(probe)
    res = {"api": [], "cp": [], "cp_fsync": [], "reflink": [], "api_alloc": [], "cp_alloc": [], "api_shared": []}
    for i in range(runs):
        name = "disk-%d" % i
        since = ev.mark()
        t0 = mono()
        op = h.ok("POST", "/v1/vms/disk/clone", {"name": name}, want=(202,))
        h.wait_op(op)
        res["api"].append(ev.wait(op_done(op["id"]), since, 60, "end of the disk clone")[0] - t0)
        path = h.vm(name)["disks"][0]["path"]
        res["api_alloc"].append(allocated(path))
        res["api_shared"].append(shared_extents(path) if reflink_ok else False)
        h.ok("DELETE", "/v1/vms/" + name, want=(204,))
        dst = os.path.join(tmp, "cp-%d.img" % i)
        t0 = mono()
        subprocess.run(["cp", "--sparse=always", src, dst], check=True)
        t1 = mono()
        fd = os.open(dst, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        t2 = mono()
        res["cp"].append(t1 - t0)
        res["cp_fsync"].append(t2 - t0)
        res["cp_alloc"].append(allocated(dst))
        os.unlink(dst)
        if reflink_ok:
            t0 = mono()
            subprocess.run(["cp", "--reflink=always", src, dst], check=True)
            res["reflink"].append(mono() - t0)
            os.unlink(dst)
    res.update(src_alloc=allocated(src), src_size=os.path.getsize(src), reflink_ok=reflink_ok,
               reflink_err=reflink_err, fs=fs_type(os.path.join(tmp, "state")))
    h.ok("DELETE", "/v1/vms/disk", want=(204,))
    return res


# ---- clean-up ---------------------------------------------------------------------------------------

def cleanup(h, ev, procs, tmp, quiet=False):
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()
    if ev is not None:
        ev.close()
    if h is not None and h.alive():
        try:
            h.stop_all_vms()
        except (OSError, RuntimeError, ValueError, KeyError, http.client.HTTPException):
            pass
        h.p.terminate()
        try:
            h.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            h.p.kill()
            h.p.wait()
    # hvd leaves its VMMs running when it stops: kill whatever VMM of ours is left
    kill_leftovers(tmp, quiet)
    shutil.rmtree(tmp, ignore_errors=True)


def install_signals():
    def on_signal(sig, frame):
        raise KeyboardInterrupt
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):   # SIGINT too: a background job inherits it ignored
        signal.signal(sig, on_signal)


def ignore_signals():
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # a second Ctrl-C must not cut the clean-up short
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def parse_args(doc):
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("hvd")
    ap.add_argument("guest")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sizes", default=",".join(str(s) for s in SIZES),
                    help="guest RAM sizes in MiB (above %d: reported n/a)" % RAM_MAX_MIB)
    a = ap.parse_args()
    try:
        a.sizes = [int(x) for x in a.sizes.split(",") if x]
    except ValueError:
        ap.error("--sizes: MiB numbers separated by commas")
    if a.runs < 1 or not a.sizes or any(s < 16 or s % 2 for s in a.sizes):
        ap.error("--runs must be at least 1, --sizes even numbers of MiB >= 16")
    return a


def fits(mib, copies):
    """Enough memory for copies populated guests of mib MiB, with 2 GiB to spare for the others?"""
    return mem_available_mib() > copies * mib + 2048


# ---- report -------------------------------------------------------------------------------------------

def report(a, eng, api, disk, skipped):
    big = [s for s in a.sizes if s > RAM_MAX_MIB]
    sizes = [s for s in a.sizes if s <= RAM_MAX_MIB]
    print()
    print("Live clone of a running VM: how long the source is paused, ms, median (min..max) of %d run(s)" % a.runs)
    print("engine level (`hvd vmm` frozen over its control socket, no disks):")
    rows = []
    for s in sizes:
        if s in skipped:
            rows.append([size_name(s), skipped[s]])
            continue
        e = eng[s]
        rows.append([size_name(s), "%.0f" % statistics.median(e["touched_mib"]), ms(e["paused"]), ms(e["answer"]),
                     ms(e["cpu"]), ms(e["resumed"]), ms(e["second_paused"]) if e["second_paused"] else "not measured"])
    rows += [[size_name(s), NA_BIG] for s in big]
    table(["guest RAM", "touched MiB", "paused_us (VMM)", "request->answer", "of it on CPU", "request->resumed",
           "2nd freeze of the same VM (1 run)"], rows)
    print("of it on CPU: the VMM's device thread, which does the freeze, on a CPU between request and answer "
          "(schedstat); the rest it waited for a CPU or for the vCPU to stop.")
    print("2nd freeze: the same VM frozen again, as a second live clone of one source (or a clone of a clone, or "
          "of a VM restored from a snapshot) does: its RAM is copied into a new image while the vCPUs are paused; "
          "measured up to %s." % size_name(SECOND_MAX_MIB))
    print("through the API (POST /v1/vms/{vm}/clone, running source with an 8 MiB disk):")
    rows = []
    for s in sizes:
        if s in skipped:
            rows.append([size_name(s), skipped[s]])
            continue
        r = api[s]
        rows.append([size_name(s), "%.0f" % statistics.median(r["touched_mib"]), ms(r["source_paused"]), ms(r["op"]),
                     ms(r["running"]), ms(r["line"])])
    rows += [[size_name(s), NA_BIG] for s in big]
    table(["guest RAM", "touched MiB", "source_paused_ms", "POST->op done", "POST->clone running",
           "POST->clone's 1st counter line"], rows)
    print()
    rows = [["source paused, running 1 GiB VM", "virt-clone requires shut-off", "< 50 ms, flat in memory size",
             ("engine %s / API %s" % (ms(eng[1024]["resumed"]), ms(api[1024]["source_paused"]))
              if 1024 in eng and 1024 in api else "-")]]
    done = [s for s in sizes if s in eng and s in api]
    if len(done) >= 2:
        lo, hi = done[0], done[-1]
        f = lambda d: statistics.median(d[hi]["source_paused" if d is api else "resumed"]) / \
            max(1e-9, statistics.median(d[lo]["source_paused" if d is api else "resumed"]))
        rows.append(["  %s vs %s (flat = 1.0x)" % (size_name(hi), size_name(lo)), "", "",
                     "engine %.1fx / API %.1fx" % (f(eng), f(api))])
    table(["figure (DESIGN.md)", "best known", "hvd target", "measured (median)"], rows)
    print()
    print("Disk clone of a stopped VM: %d MiB apparent, %d MiB allocated (random data), file system %s; "
          "median (min..max) of %d run(s), ms" % (disk["src_size"] >> 20, disk["src_alloc"] >> 20, disk["fs"], a.runs))
    rows = [["hvd API clone (operation: sparse copy + fsync)", ms(disk["api"]),
             "%d MiB" % (statistics.median(disk["api_alloc"]) / 2**20)],
            ["cp --sparse=always", ms(disk["cp"]), "%d MiB" % (statistics.median(disk["cp_alloc"]) / 2**20)],
            ["cp --sparse=always, then fsync of the copy", ms(disk["cp_fsync"]), ""]]
    if disk["reflink_ok"]:
        rows.append(["cp --reflink=always", ms(disk["reflink"]), ""])
    table(["copy", "time", "allocated"], rows)
    if disk["reflink_ok"]:
        print("reflink: supported here; hvd's copies %s extents with the source"
              % ("shared" if all(disk["api_shared"]) else "did NOT share (all)"))
    else:
        print("reflink: not supported on this file system (%s; cp --reflink=always: %s), so neither hvd "
              "(FICLONE first) nor cp could reflink: both copied the data" % (disk["fs"], disk["reflink_err"]))
    print("The source disk is in the page cache after the first run (warm cache for every copy).")


def main():
    a = parse_args(__doc__)
    hvd, guest = os.path.abspath(a.hvd), os.path.abspath(a.guest)
    need_kvm()
    install_signals()
    tmp = tempfile.mkdtemp(prefix="hvd-bench-clone-")
    h, ev, procs = None, None, []
    try:
        hvd = private_copy(hvd, os.path.join(tmp, "hvd"))
        guest = private_copy(guest, os.path.join(tmp, "guest.elf"))
        print("bench/clone: %d run(s), guest RAM %s (this machine: %d CPUs, %d MiB available; load average %.1f)"
              % (a.runs, ", ".join(size_name(s) for s in a.sizes), os.cpu_count(), mem_available_mib(),
                 os.getloadavg()[0]), flush=True)
        print("guest: test guest, %s (writes one word into every 4 KiB page above 2 MiB each pass and prints "
              "a counter line after each; a clone's first line comes when it has finished the pass the source "
              "was frozen in, every page it writes then a copy-on-write fault)" % CMDLINE)
        print("the test guest touches RAM below 3 GiB only (its pages past 4 GiB stay untouched)", flush=True)
        print("host: transparent_hugepage/shmem_enabled = %s (guest RAM gets 2 MiB pages only with 'advise' "
              "or 'always'; with 4 KiB pages a freeze's remap costs ~60 ms per GiB touched)" % shmem_thp(),
              flush=True)
        t_start = mono()
        eng, api, skipped = {}, {}, {}
        sizes = [s for s in a.sizes if s <= RAM_MAX_MIB]
        for s in sizes:
            if not fits(s, 3):
                skipped[s] = "skipped: %d MiB available, 3 x %d MiB + 2 GiB wanted" % (mem_available_mib(), s)
                print("%s: %s" % (size_name(s), skipped[s]), flush=True)
        sizes = [s for s in sizes if s not in skipped]
        for s in sizes:
            eng[s] = {k: [] for k in ("touched_mib", "paused", "answer", "resumed", "cpu", "wait", "second_paused",
                                      "second_answer")}
            api[s] = {k: [] for k in ("touched_mib", "source_paused", "op", "running", "line", "gen")}
        plan = [(run, s) for run in range(a.runs) for s in sizes]
        for batch in batches(plan, 3):
            t0 = mono()
            vs = engine_populate(hvd, guest, tmp, batch, procs)
            print("engine: %d VM(s) (%s) booted, RAM populated, in %.1f s"
                  % (len(vs), ", ".join(size_name(s) for _, s in batch), mono() - t0), flush=True)
            for (run, s), v in zip(batch, vs):
                r = engine_freeze(v, procs, second=(run == 0 and s <= SECOND_MAX_MIB))
                for k, x in r.items():
                    eng[s][k].append(x)
                print("engine %s run %d: %.0f MiB touched; freeze paused_us %.1f ms, answered %.1f ms (device "
                      "thread on CPU %.1f ms, waiting for one %.1f ms), resumed %.1f ms%s"
                      % (size_name(s), run + 1, r["touched_mib"], r["paused"] * 1e3, r["answer"] * 1e3,
                         r["cpu"] * 1e3, r["wait"] * 1e3, r["resumed"] * 1e3,
                         "; 2nd freeze of the same VM %.1f ms" % (r["second_paused"] * 1e3)
                         if "second_paused" in r else ""), flush=True)
        h = BenchDaemon(hvd, tmp, CONF)
        h.start()
        ev = Events(h.sock)
        for batch in batches(plan, 3):
            t0 = mono()
            vms = api_populate(h, guest, tmp, batch, "s")
            print("API: %d VM(s) (%s) defined, started, RAM populated, in %.1f s"
                  % (len(vms), ", ".join(size_name(s) for _, s in batch), mono() - t0), flush=True)
            for (run, s), (vm, console) in zip(batch, vms):
                r = api_clone(h, ev, vm, console, run)
                for k, x in r.items():
                    api[s][k].append(x)
                print("API %s run %d: %.0f MiB touched; source_paused_ms %.1f, op done %.1f ms, clone running "
                      "%.1f ms, first counter line %.1f ms (gen %d)"
                      % (size_name(s), run + 1, r["touched_mib"], r["source_paused"] * 1e3, r["op"] * 1e3,
                         r["running"] * 1e3, r["line"] * 1e3, r["gen"]), flush=True)
        disk = disk_clone_runs(h, ev, guest, tmp, a.runs)
        for s in sizes:
            if s not in skipped and 0 in api[s]["gen"]:
                print("note: a clone of %s printed its first counter line with generation 0 (read before "
                      "the freeze)" % size_name(s))
        report(a, eng, api, disk, skipped)
        print("total time %.0f s; load average at the end: %.1f" % (mono() - t_start, os.getloadavg()[0]))
        return 0
    except KeyboardInterrupt:
        print("interrupted; cleaning up", file=sys.stderr)
        return 130
    except (RuntimeError, OSError, ValueError, KeyError, subprocess.SubprocessError, http.client.HTTPException) as e:
        print("bench/clone: %s" % e, file=sys.stderr)
        tail = read(os.path.join(tmp, "hvd.log")).decode(errors="replace").splitlines()[-15:]
        if tail:
            print("last lines of hvd.log:\n  " + "\n  ".join(tail), file=sys.stderr)
        return 1
    finally:
        ignore_signals()
        cleanup(h, ev, procs, tmp)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""bench/density: what one VM costs, hvd against QEMU microvm, on this host's /dev/kvm.

For N test-guest VMs (mode=idle: it prints HVD-TEST-GUEST READY and stays alive), R runs:
- hvd: define+start all N through the REST API (8 concurrent clients over the Unix socket), time
  from the first request until all are `running` and until every guest printed its marker; CPU per
  VM = the daemon's CPU over the run + each VMM's CPU when its marker appeared;
- QEMU microvm: spawn N, time until every guest printed its marker; CPU per VM = each QEMU's CPU
  when its marker appeared;
- with all N up: per VMM process PSS (smaps_rollup) minus the PSS of its guest RAM mapping
  (hvd: the memfd; QEMU: the anonymous mapping of the RAM size), plus its own anonymous and
  private dirty memory (guest RAM excluded).
The idle guest halts until a key arrives (as an idle kernel does), so VMs already up leave the CPUs
to those still starting; its CPU at the marker counts guest time until the marker was seen.
Exact CPU per VM comes from N guests that print the marker and power off (mode=exit): each VM's
whole life, hvd's from the daemon's CPU plus that of the VMMs it reaped, QEMU's from
getrusage(RUSAGE_CHILDREN) (the way DESIGN.md's QEMU baseline was measured).
The daemon's CPU (and that of the VMMs it reaped) comes in whole clock ticks: +-10 ms per run, so
+-0.5 ms per VM with the default N of 20.
Rates and CPU: median of the R runs; memory: median and max over the N*R VMM processes.
Figures only: nothing is asserted. Every process started here is stopped at the end, on error and
on Ctrl-C too; only processes this script started (or hvd started for it) are ever signalled.
usage: bench/density.py HVD_BINARY TEST_GUEST_ELF [--vms N] [--runs R]
"""
import argparse, concurrent.futures, os, re, resource, shutil, signal, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from hvdtest import Daemon, need_kvm, pid_alive  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import kill_leftovers, private_copy  # noqa: E402

MEM_MIB = 64
CMDLINE = "mode=idle"
EXIT_CMDLINE = "mode=exit"     # prints its marker and powers off at once
MARKER = b"HVD-TEST-GUEST READY"
SETTLED = re.compile(rb"IDLE\r?\n")   # the guest's last line before its idle loop (hvd: CRLF)
CONF = "host_vcpus = 4096\nhost_memory_mib = 1048576\n"
CLIENTS = 8
TICK = os.sysconf("SC_CLK_TCK")
HDR = re.compile(r"^[0-9a-f]+-[0-9a-f]+ (\S+) \S+ \S+ \S+ *(.*)$")
FIELD = re.compile(r"^(\w+):\s+(\d+) kB")


class BenchDaemon(Daemon):
    """hvdtest's Daemon, started as in production (log level info) and in its own session, so that
    a Ctrl-C on the terminal reaches this script only and the clean-up below runs in order."""

    def start(self, timeout=10):
        conf = os.path.join(self.d, "hvd.conf")
        with open(conf, "w") as f:
            f.write(self.conf)
        with open(os.path.join(self.d, "hvd.log"), "a") as log:
            self.p = subprocess.Popen([self.hvd, "--config", conf, "--state-dir", os.path.join(self.d, "state"),
                                       "--runtime-dir", os.path.join(self.d, "run"), "--log-level", "info"],
                                      stdin=subprocess.DEVNULL, stderr=log, start_new_session=True)
        end = time.time() + timeout
        while time.time() < end:
            if self.p.poll() is not None:
                break
            try:
                if self.req("GET", "/v1", timeout=2)[0] == 200:
                    return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError("hvd did not start")


# ---- /proc ---------------------------------------------------------------------------------

def stat_fields(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()


def ticks_cpu(pid, reaped_children=False):
    """utime+stime of the whole process (exited threads included), in seconds, whole ticks; with
    reaped_children, plus that of the children it has waited for."""
    st = stat_fields(pid)
    return sum(int(x) for x in st[11:15 if reaped_children else 13]) / TICK


def is_standby(pid):
    """hvd's standby VMM waiting for a VM (`hvd vmm --standby=3`): not a VM's process."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().rstrip(b"\0").endswith(b"vmm\0--standby=3")
    except OSError:
        return False


def children(ppid):
    """pids whose parent is ppid, zombies included (this kernel has no /proc/PID/task/TID/children),
    hvd's waiting standby VMM not."""
    pids = []
    for e in os.listdir("/proc"):
        if e.isdigit():
            try:
                if int(stat_fields(int(e))[1]) == ppid and not is_standby(int(e)):
                    pids.append(int(e))
            except (OSError, ValueError, IndexError):
                pass
    return pids


def vmm_cpu(pid):
    """CPU time of a process that started during the run: its threads' exact run times (schedstat,
    ns) unless utime+stime says more (threads that exited are only there). Whole ticks alone would
    lose up to 10 ms per process, as much as the figure being measured."""
    ns = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                ns += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return max(ns / 1e9, ticks_cpu(pid))


def smaps(pid):
    """[(perms, name, {field: kB})] of every mapping of pid."""
    maps = []
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            m = HDR.match(line)
            if m:
                maps.append((m.group(1), m.group(2), {}))
                continue
            m = FIELD.match(line)
            if m and maps:
                maps[-1][2][m.group(1)] = int(m.group(2))
    return maps


def rollup(pid):
    with open("/proc/%d/smaps_rollup" % pid) as f:
        return {m.group(1): int(m.group(2)) for m in map(FIELD.match, f) if m}


def is_hvd_ram(perms, name, f):
    return name.startswith("/memfd:") and f.get("Size") == MEM_MIB * 1024


def is_qemu_ram(perms, name, f):
    return name == "" and perms.startswith("rw") and f.get("Size") == MEM_MIB * 1024


def vmm_memory(pid, is_ram):
    """kB of one VMM process: PSS, guest RAM PSS, and the VMM's own anonymous and private dirty."""
    tot, maps = rollup(pid), smaps(pid)
    ram = [f for perms, name, f in maps if is_ram(perms, name, f)]
    g = {k: sum(f.get(k, 0) for f in ram) for k in ("Pss", "Anonymous", "Private_Dirty")}
    return {"pss": tot["Pss"], "ram_pss": g["Pss"], "over": tot["Pss"] - g["Pss"], "ram_maps": len(ram),
            "anon": tot["Anonymous"] - g["Anonymous"], "pdirty": tot["Private_Dirty"] - g["Private_Dirty"],
            "top": top_mappings(maps, is_ram)}


def top_mappings(maps, is_ram):
    """[(PSS kB, name)] of the process's largest users of memory besides guest RAM, a file's
    mappings summed, anonymous ones as [anon]."""
    by = {}
    for perms, name, f in maps:
        if not is_ram(perms, name, f):
            name = name or "[anon]"
            by[name] = by.get(name, 0) + f.get("Pss", 0)
    return sorted(((pss, name) for name, pss in by.items()), reverse=True)[:8]


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def poll_markers(vms, what):
    """One pass over vms ({key: {"pid", "log", "why"}}; pid None until known): a guest whose log has
    the marker gets "t_marker" and "cpu" (its process's CPU then). Returns how many are left."""
    left = 0
    for k, v in vms.items():
        if "t_marker" in v:
            continue
        if v.get("pid") is not None and MARKER in read(v["log"]):
            v["t_marker"] = time.monotonic()
            v["cpu"] = vmm_cpu(v["pid"])
            continue
        if v.get("pid") is not None and not pid_alive(v["pid"]):
            raise RuntimeError("%s %s (pid %d) died before its marker: %s" % (what, k, v["pid"], v["why"]()))
        left += 1
    return left


def wait_markers(vms, deadline, what):
    while True:
        left = poll_markers(vms, what)
        if not left:
            return
        if time.monotonic() > deadline:
            raise RuntimeError("%s: %d guest(s) printed no marker in time" % (what, left))
        time.sleep(0.003)


def wait_settled(vms, deadline):
    while not all(SETTLED.search(read(v["log"])) for v in vms.values()):
        if time.monotonic() > deadline:
            raise RuntimeError("guests did not reach their idle loop in time")
        time.sleep(0.02)
    time.sleep(0.3)


# ---- hvd -------------------------------------------------------------------------------------

def define_start(h, name, guest, cmdline=CMDLINE, states=("running",)):
    st, body = h.req("POST", "/v1/vms", {"name": name, "vcpus": 1, "memory_mib": MEM_MIB,
                                         "boot": {"kernel": guest, "cmdline": cmdline}})
    if st != 201:
        raise RuntimeError("define %s: HTTP %d %s" % (name, st, body))
    vid = body["id"]
    st, body = h.req("POST", "/v1/vms/%s/start" % name)
    if st == 200 and body.get("state") in states:
        return time.monotonic(), vid
    # hvd answers a guest that powers off before its VMM reported it running with 409 start_failed,
    # though it booted (its marker is checked afterwards)
    if "stopped" in states and st == 409 and "powered off" in body.get("error", {}).get("message", ""):
        return time.monotonic(), vid
    raise RuntimeError("start %s: HTTP %d %s" % (name, st, body))


def stop_delete(h, name):
    st, body = h.req("POST", "/v1/vms/%s/stop" % name, {"force": True})
    if st != 200:
        raise RuntimeError("stop %s: HTTP %d %s" % (name, st, body))
    st, body = h.req("DELETE", "/v1/vms/" + name)
    if st != 204:
        raise RuntimeError("delete %s: HTTP %d %s" % (name, st, body))


def hvd_run(h, pool, run, n, guest, deadline):
    vmdir = os.path.join(h.d, "run", "vms")
    vms = {"d%d-%03d" % (run, i): {"pid": None} for i in range(n)}
    cpu0 = ticks_cpu(h.p.pid)
    t0 = time.monotonic()
    futs = {pool.submit(define_start, h, name, guest): name for name in vms}
    pending = set(futs)
    while pending:       # markers are watched while later VMs are still being started
        done, pending = concurrent.futures.wait(pending, timeout=0.003)
        for f in done:
            v = vms[futs[f]]
            v["t_running"], vid = f.result()
            v["log"] = os.path.join(vmdir, vid, "console.log")
            v["why"] = lambda vid=vid: read(os.path.join(vmdir, vid, "vmm.log")).decode(errors="replace")[-500:]
            with open(os.path.join(vmdir, vid, "vmm.pid")) as pf:
                v["pid"] = int(pf.read())
        poll_markers(vms, "hvd VM")
        if time.monotonic() > deadline:
            raise RuntimeError("hvd: %d VM(s) not running in time" % len(pending))
    wait_markers(vms, deadline, "hvd VM")
    t_end = max(v["t_marker"] for v in vms.values())
    daemon_cpu = ticks_cpu(h.p.pid) - cpu0
    res = {"running_s": max(v["t_running"] for v in vms.values()) - t0, "marker_s": t_end - t0,
           "daemon_cpu": daemon_cpu / n, "vmm_cpu": statistics.mean(v["cpu"] for v in vms.values())}
    res["cpu"] = res["daemon_cpu"] + res["vmm_cpu"]
    wait_settled(vms, deadline)
    res["mem"] = [vmm_memory(v["pid"], is_hvd_ram) for v in vms.values()]
    res["daemon_pss"] = rollup(h.p.pid)["Pss"]
    for f in [pool.submit(stop_delete, h, name) for name in vms]:
        f.result()
    # the next phase starts with none of these left, reaped too: a VMM reaped later would put
    # its whole life's CPU into the daemon's children time that hvd_exit_run counts
    while children(h.p.pid):
        if time.monotonic() > deadline:
            raise RuntimeError("hvd: VMMs still there after stop: %s" % children(h.p.pid))
        time.sleep(0.01)
    return res


def hvd_exit_run(h, pool, run, n, guest, deadline):
    """N guests that print the marker and power off: seconds until all are gone, CPU per VM."""
    names = ["e%d-%03d" % (run, i) for i in range(n)]
    cpu0, own0 = ticks_cpu(h.p.pid, True), ticks_cpu(h.p.pid)
    t0 = time.monotonic()
    for f in [pool.submit(define_start, h, name, guest, EXIT_CMDLINE, ("running", "stopped")) for name in names]:
        f.result()
    # every VMM has been spawned; once none is left, not even a zombie, all were reaped and counted
    while children(h.p.pid):
        if time.monotonic() > deadline:
            raise RuntimeError("hvd: VMMs of mode=exit guests still there")
        time.sleep(0.01)
    t_end = time.monotonic()
    cpu, own = ticks_cpu(h.p.pid, True) - cpu0, ticks_cpu(h.p.pid) - own0
    while True:
        vms = h.req("GET", "/v1/vms?name_prefix=e%d-" % run)[1]["vms"]
        if all(v["state"] == "stopped" for v in vms):
            break
        bad = [v for v in vms if v["state"] == "crashed"]
        if bad or time.monotonic() > deadline:
            raise RuntimeError("hvd: mode=exit guest not stopped: %s" % (bad or vms)[0])
        time.sleep(0.01)
    for name in names:
        if MARKER.decode() not in h.console(name):
            raise RuntimeError("hvd: mode=exit guest %s printed no marker" % name)
    for f in [pool.submit(h.req, "DELETE", "/v1/vms/" + name) for name in names]:
        if f.result()[0] != 204:
            raise RuntimeError("delete: HTTP %d %s" % f.result())
    return {"exit_s": t_end - t0, "exit_cpu": cpu / n, "exit_daemon_cpu": own / n}


# ---- QEMU ------------------------------------------------------------------------------------

def qemu_spawn(qemu, guest, d, key, cmdline, procs):
    log, err = os.path.join(d, key + ".serial"), os.path.join(d, key + ".err")
    with open(err, "wb") as ef:
        p = subprocess.Popen([qemu, "-M", "microvm", "-accel", "kvm", "-cpu", "host,-arch-capabilities",
                              "-m", str(MEM_MIB), "-smp", "1", "-kernel", guest, "-append", cmdline,
                              "-nodefaults", "-no-user-config", "-no-reboot", "-display", "none",
                              "-serial", "file:" + log, "-device", "isa-debug-exit,iobase=0xf4,iosize=4"],
                             stdin=subprocess.DEVNULL, stdout=ef, stderr=subprocess.STDOUT, start_new_session=True)
    procs.append(p)
    return {"pid": p.pid, "log": log, "p": p, "why": lambda: read(err).decode(errors="replace")[-500:]}


def qemu_exit_run(qemu, guest, d, run, n, procs, deadline):
    """As hvd_exit_run, for QEMU microvm (exit status 1: isa-debug-exit with code 0)."""
    os.makedirs(d, exist_ok=True)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    vms = [qemu_spawn(qemu, guest, d, "x%d-%03d" % (run, i), EXIT_CMDLINE, procs) for i in range(n)]
    for v in vms:
        rc = v["p"].wait(timeout=max(1, deadline - time.monotonic()))
        procs.remove(v["p"])
        if rc != 1 or MARKER not in read(v["log"]):
            raise RuntimeError("QEMU mode=exit guest: exit status %d: %s" % (rc, v["why"]()))
    t_end = time.monotonic()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime
    return {"exit_s": t_end - t0, "exit_cpu": cpu / n}


def qemu_run(qemu, guest, d, run, n, procs, deadline):
    os.makedirs(d, exist_ok=True)
    t0 = time.monotonic()
    vms = {i: qemu_spawn(qemu, guest, d, "q%d-%03d" % (run, i), CMDLINE, procs) for i in range(n)}
    wait_markers(vms, deadline, "QEMU")
    res = {"marker_s": max(v["t_marker"] for v in vms.values()) - t0,
           "cpu": statistics.mean(v["cpu"] for v in vms.values())}
    wait_settled(vms, deadline)
    res["mem"] = [vmm_memory(v["pid"], is_qemu_ram) for v in vms.values()]
    for v in vms.values():
        v["p"].terminate()
    for v in vms.values():
        try:
            v["p"].wait(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            v["p"].kill()
            v["p"].wait()
        procs.remove(v["p"])
    return res


# ---- clean-up --------------------------------------------------------------------------------

def cleanup(h, procs, tmp):
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()
    # hvd leaves its VMMs running when it stops (they are re-attached on its next start): stop it,
    # then kill whatever VMM of ours is left (normally none: every run stops and deletes its VMs).
    if h is not None and h.alive():
        h.p.terminate()
        try:
            h.p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            h.p.kill()
            h.p.wait()
    kill_leftovers(tmp)
    shutil.rmtree(tmp, ignore_errors=True)


# ---- report ----------------------------------------------------------------------------------

def mib(kb):
    return kb / 1024.0


def med_max(mems, key):
    xs = [mib(m[key]) for m in mems]
    return "%.2f (max %.2f)" % (statistics.median(xs), max(xs))


def report(n, runs, hv, qm, qemu_note):
    def both(f):
        return f(hv), (f(qm) if qm else "-")

    rows = [
        ("VMM memory overhead per VM: PSS - guest RAM PSS, MiB, median (max)",
         *both(lambda r: med_max(r["mem"], "over")), "<= 3"),
        ("  VMM's own anonymous memory, MiB, median (max)", *both(lambda r: med_max(r["mem"], "anon")), ""),
        ("  VMM's own private dirty memory, MiB, median (max)", *both(lambda r: med_max(r["mem"], "pdirty")), ""),
        ("  guest RAM touched (its PSS), MiB, median (max)", *both(lambda r: med_max(r["mem"], "ram_pss")), ""),
        ("VMs defined+started per second through the API (to `running`)",
         "%.1f" % hv["rate_running"], "-", ">= 100 (2 cores)"),
        ("VMs started per second, to every guest's marker", *both(lambda r: "%.1f" % r["rate_marker"]), ""),
        ("  same, guests that print the marker and exit (to all gone)",
         *both(lambda r: "%.1f" % r["exit_rate"]), ""),
        ("CPU per VM, guest that prints the marker and exits, ms",
         "%.1f (%.1f + %.1f)" % (hv["exit_cpu"] * 1e3, hv["exit_daemon_cpu"] * 1e3,
                                 (hv["exit_cpu"] - hv["exit_daemon_cpu"]) * 1e3),
         "%.1f" % (qm["exit_cpu"] * 1e3) if qm else "-", "<= 20 (implied)"),
        ("  idle guest, CPU until its marker was seen, ms (upper bound)",
         "%.1f (%.1f + %.1f)" % (hv["cpu"] * 1e3, hv["daemon_cpu"] * 1e3, hv["vmm_cpu"] * 1e3),
         "%.1f" % (qm["cpu"] * 1e3) if qm else "-", ""),
    ]
    w = [max(len(r[i]) for r in rows + [("figure", "hvd", "QEMU microvm", "target")]) for i in range(4)]
    print()
    for r in [("figure", "hvd", "QEMU microvm", "target")] + rows:
        print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip())
    print()
    print("%d VMs of %d MiB, 1 vCPU, test guest %s; rates and CPU: median of %d run(s); memory: over %d VMM "
          "processes (%d run(s) x %d)." % (n, MEM_MIB, CMDLINE, runs, len(hv["mem"]), runs, n))
    print("hvd daemon itself with %d VMs running: PSS %.1f MiB (%.2f MiB per VM if shared out)."
          % (n, mib(hv["daemon_pss"]), mib(hv["daemon_pss"]) / n))
    print("hvd CPU as total (daemon + VMM processes). Targets from DESIGN.md; the CPU one is implied by "
          ">= 100 VMs/s on 2 cores. DESIGN.md's QEMU baseline (a guest that prints and exits, one at a time): "
          "48 ms CPU per VM, ~14.5 MiB anonymous.")
    print("The idle guest halts once it printed IDLE (hvd and QEMU alike), so VMs already up leave the CPUs "
          "to those still starting; its CPU at the marker includes guest time until the marker was seen, which "
          "is late on a loaded machine.")
    if qemu_note:
        print(qemu_note)
    for what, r in (("hvd vmm", hv), ("QEMU", qm)):
        if r:
            m = sorted(r["mem"], key=lambda m: m["over"])[len(r["mem"]) // 2]
            print("largest PSS of one %s (the median one, %.2f MiB over guest RAM), kB: %s"
                  % (what, mib(m["over"]), ", ".join("%s %d" % (os.path.basename(name) or name, pss)
                                                     for pss, name in m["top"][:6])))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("hvd")
    ap.add_argument("guest")
    ap.add_argument("--vms", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    if a.vms < 1 or a.runs < 1:
        ap.error("--vms and --runs must be at least 1")
    hvd, guest = os.path.abspath(a.hvd), os.path.abspath(a.guest)
    need_kvm()
    qemu = shutil.which("qemu-system-x86_64")
    qemu_note = None if qemu else "note: qemu-system-x86_64 not found: QEMU microvm column skipped."

    def on_signal(sig, frame):
        raise KeyboardInterrupt
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):   # SIGINT too: a background job inherits it ignored
        signal.signal(sig, on_signal)

    tmp = tempfile.mkdtemp(prefix="hvd-density-")
    h, procs, pool = None, [], None
    try:
        # Private copies: hvd spawns its VMMs from readlink(/proc/self/exe), which a rebuild of the
        # build tree during the run (other work shares this machine) would leave pointing at a
        # deleted file. The binary has no RUNPATH, so the copy runs the same.
        hvd = private_copy(hvd, os.path.join(tmp, "hvd"))
        guest = private_copy(guest, os.path.join(tmp, "guest.elf"))
        print("bench/density: %d VMs x %d runs (this machine: %d CPUs; load average %.1f)"
              % (a.vms, a.runs, os.cpu_count(), os.getloadavg()[0]), flush=True)
        h = BenchDaemon(hvd, tmp, CONF)
        h.start()
        pool = concurrent.futures.ThreadPoolExecutor(CLIENTS)
        hv_runs, qm_runs = [], []
        for run in range(a.runs):
            deadline = time.monotonic() + 120 + 5 * a.vms
            r = hvd_run(h, pool, run, a.vms, guest, deadline)
            r.update(hvd_exit_run(h, pool, run, a.vms, guest, deadline))
            hv_runs.append(r)
            print("run %d hvd:  idle: all running %.3f s (%.1f VMs/s), all markers %.3f s, CPU/VM at marker "
                  "%.1f ms (daemon %.1f, VMM %.1f), overhead median %.2f MiB; exit: all gone %.3f s, "
                  "CPU/VM %.1f ms (daemon %.1f)"
                  % (run + 1, r["running_s"], a.vms / r["running_s"], r["marker_s"], r["cpu"] * 1e3,
                     r["daemon_cpu"] * 1e3, r["vmm_cpu"] * 1e3,
                     statistics.median(mib(m["over"]) for m in r["mem"]), r["exit_s"], r["exit_cpu"] * 1e3,
                     r["exit_daemon_cpu"] * 1e3), flush=True)
            if qemu:
                deadline = time.monotonic() + 120 + 5 * a.vms
                r = qemu_run(qemu, guest, os.path.join(tmp, "qemu"), run, a.vms, procs, deadline)
                r.update(qemu_exit_run(qemu, guest, os.path.join(tmp, "qemu"), run, a.vms, procs, deadline))
                qm_runs.append(r)
                print("run %d QEMU: idle: all markers %.3f s (%.1f VMs/s), CPU/VM at marker %.1f ms, overhead "
                      "median %.2f MiB; exit: all gone %.3f s, CPU/VM %.1f ms"
                      % (run + 1, r["marker_s"], a.vms / r["marker_s"], r["cpu"] * 1e3,
                         statistics.median(mib(m["over"]) for m in r["mem"]), r["exit_s"], r["exit_cpu"] * 1e3),
                      flush=True)
        for rs in (hv_runs, qm_runs):
            for r in rs:
                if any(m["ram_maps"] != 1 for m in r["mem"]):
                    print("note: a VMM process without exactly one guest RAM mapping of %d MiB; its guest "
                          "RAM was not (fully) subtracted" % MEM_MIB)
                    break
        hv = {"mem": [m for r in hv_runs for m in r["mem"]],
              "rate_running": statistics.median(a.vms / r["running_s"] for r in hv_runs),
              "rate_marker": statistics.median(a.vms / r["marker_s"] for r in hv_runs),
              "cpu": statistics.median(r["cpu"] for r in hv_runs),
              "daemon_cpu": statistics.median(r["daemon_cpu"] for r in hv_runs),
              "vmm_cpu": statistics.median(r["vmm_cpu"] for r in hv_runs),
              "exit_rate": statistics.median(a.vms / r["exit_s"] for r in hv_runs),
              "exit_cpu": statistics.median(r["exit_cpu"] for r in hv_runs),
              "exit_daemon_cpu": statistics.median(r["exit_daemon_cpu"] for r in hv_runs),
              "daemon_pss": hv_runs[-1]["daemon_pss"]}
        qm = None
        if qm_runs:
            qm = {"mem": [m for r in qm_runs for m in r["mem"]],
                  "rate_marker": statistics.median(a.vms / r["marker_s"] for r in qm_runs),
                  "cpu": statistics.median(r["cpu"] for r in qm_runs),
                  "exit_rate": statistics.median(a.vms / r["exit_s"] for r in qm_runs),
                  "exit_cpu": statistics.median(r["exit_cpu"] for r in qm_runs)}
        report(a.vms, a.runs, hv, qm, qemu_note)
        print("load average at the end: %.1f" % os.getloadavg()[0])
        return 0
    except KeyboardInterrupt:
        print("interrupted; cleaning up", file=sys.stderr)
        return 130
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        print("bench/density: %s" % e, file=sys.stderr)
        tail = read(os.path.join(tmp, "hvd.log")).decode(errors="replace").splitlines()[-15:]
        if tail:
            print("last lines of hvd.log:\n  " + "\n  ".join(tail), file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)   # a second Ctrl-C must not cut the clean-up short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        cleanup(h, procs, tmp)


if __name__ == "__main__":
    sys.exit(main())
